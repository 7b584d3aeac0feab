/*
 * orders.h - the order store: what the seller's order reports say about
 * each order, and which orders already had a review request.
 *
 * Two backends behind one API: SQLite (the default: one file, WAL mode, no
 * server) and PostgreSQL (libpq: one store for several mail servers).  The
 * milter and the CLI use it; the engine never does (it sees order data
 * through rg_scan_set_order_lookup).
 *
 * Tables (created or migrated by rg_store_init, "relaygate orders init"):
 *
 *   relaygate_orders           one row per order id: purchase, delivery,
 *                              estimated arrival and shipment (Unix
 *                              seconds, NULL unknown), buyer locale, order
 *                              status, sales channel, last import
 *   relaygate_review_requests  one row per order that had a review request
 *                              delivered: the primary key is the order id,
 *                              so recording is one atomic INSERT ... ON
 *                              CONFLICT DO NOTHING that only one of any
 *                              number of concurrent senders can win
 *   relaygate_meta             schema version, last import
 *
 * Thread safety: a struct rg_store is one database connection, used by
 * one thread at a time (the milter keeps a pool, milter/orders.c).
 * Functions return 0 (or 1/0 where a yes/no is asked), or -1 with
 * *error_r set (malloc'd; free()).
 */
#ifndef RG_STORE_ORDERS_H
#define RG_STORE_ORDERS_H

#include <stddef.h>
#include <time.h>

#include "relaygate.h"

#define RG_STORE_SCHEMA_VERSION 1

/* "NNN-NNNNNNN-NNNNNNN" and its NUL */
#define RG_ORDER_ID_SIZE 20
#define RG_LOCALE_SIZE 16
#define RG_STATUS_SIZE 48
#define RG_CHANNEL_SIZE 48
#define RG_CLAIM_SIZE 128

/* Open flags. */
#define RG_STORE_CREATE   0x01   /* SQLite: create the file if missing */
#define RG_STORE_READONLY 0x02   /* only lookups (relaygate check) */
#define RG_STORE_BULK     0x04   /* imports: relaxed syncing, big batches */

/* Busy time a SQLite writer waits for another (import, other threads). */
#define RG_STORE_BUSY_TIMEOUT_MS 10000

struct rg_store;

/* One order as imported: every field optional but the id (0/"" unknown). */
struct rg_order_row {
	char order_id[RG_ORDER_ID_SIZE];
	time_t purchase;
	time_t delivery;
	time_t estimated_arrival;
	time_t shipment;
	char locale[RG_LOCALE_SIZE];
	char status[RG_STATUS_SIZE];
	char channel[RG_CHANNEL_SIZE];
};

/* One order as stored, with its review request. */
struct rg_order_record {
	struct rg_order_row row;
	time_t updated;              /* last import that touched it */
	int review_requested;
	time_t review_time;          /* when it was recorded */
	char review_claim[RG_CLAIM_SIZE]; /* who recorded it */
};

struct rg_store_stats {
	unsigned long long orders;
	unsigned long long with_purchase;
	unsigned long long with_delivery;
	unsigned long long with_arrival;
	unsigned long long with_locale;
	unsigned long long review_requests;
	time_t first_purchase, last_purchase;   /* 0: none */
	time_t last_import;                     /* 0: never */
	int schema_version;
};

/*
 * rg_store_open - connect to the store.  backend is "sqlite" (target: the
 * database file) or "postgresql" (target: a libpq connection string).
 * Without RG_STORE_CREATE a missing SQLite file is an error that
 * rg_store_missing tells apart.  The schema is not checked here (see
 * rg_store_init and rg_store_check).
 */
int rg_store_open(const char *backend, const char *target, int flags,
                  struct rg_store **store_r, char **error_r);
/* rg_store_close - disconnect, free, NULL *store */
void rg_store_close(struct rg_store **store);
/* rg_store_missing - 1 when a SQLite store file does not exist (yet) */
int rg_store_missing(const char *backend, const char *target);
/* rg_store_describe - "sqlite /var/lib/relaygate/orders.sqlite" or
 * "postgresql host=db dbname=relaygate" (the password left out) */
const char *rg_store_describe(const struct rg_store *store);

/* rg_store_init - create the tables, or migrate an older schema; WAL mode
 * for SQLite.  Idempotent. */
int rg_store_init(struct rg_store *store, char **error_r);
/* rg_store_check - 0 when the schema is there and this version reads it */
int rg_store_check(struct rg_store *store, char **error_r);

/* rg_store_get - the order: 1 with *record filled, 0 unknown, -1 error */
int rg_store_get(struct rg_store *store, const char *order_id,
                 struct rg_order_record *record, char **error_r);
/* rg_store_lookup - the same as the engine wants it (rg_order_lookup_fn
 * with a struct rg_store * as ctx) */
int rg_store_lookup(void *store, const char *order_id,
                    struct rg_order_info *out, char **error_r);

/*
 * rg_store_claim_review - record a review request for order_id, as claim
 * (a token naming this message), at time now: one atomic INSERT ... ON
 * CONFLICT DO NOTHING.  Returns 1 when this call recorded it, 0 when the
 * order already had one (a concurrent or earlier request won), -1 error.
 */
int rg_store_claim_review(struct rg_store *store, const char *order_id,
                          const char *claim, time_t now, char **error_r);
/*
 * rg_store_release_review - undo this message's claim (the message was
 * not delivered after all): deletes the record only if it is still
 * claim's.  claim NULL deletes whoever's it is ("relaygate orders
 * forget-review").  Returns 1 deleted, 0 nothing to delete, -1 error.
 */
int rg_store_release_review(struct rg_store *store, const char *order_id,
                            const char *claim, char **error_r);

/*
 * Imports go in batches: rg_store_upsert writes rows (distinct ids) in one
 * transaction.  A field that is 0 or "" keeps the stored value; any other
 * replaces it, so a later report adds to what an earlier one said.
 */
int rg_store_upsert(struct rg_store *store, const struct rg_order_row *rows,
                    size_t n, time_t now, char **error_r);
/* rg_store_note_import - remember when the last import ran */
int rg_store_note_import(struct rg_store *store, time_t now,
                         char **error_r);

int rg_store_stats(struct rg_store *store, struct rg_store_stats *stats,
                   char **error_r);

/* rg_order_id_valid - 1 for "NNN-NNNNNNN-NNNNNNN" exactly */
int rg_order_id_valid(const char *s);

#endif
