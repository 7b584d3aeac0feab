/*
 * orders_sqlite.c - the order store in one SQLite file (the default).
 *
 * WAL mode: the milter's threads read while an import writes, and each
 * writer waits up to RG_STORE_BUSY_TIMEOUT_MS for the other.  Each
 * struct rg_store is one connection (SQLITE_OPEN_NOMUTEX: one thread at
 * a time, the milter's pool sees to that) with its statements prepared
 * once.  Review requests are recorded with INSERT ... ON CONFLICT DO
 * NOTHING on the order id, the table's primary key: sqlite3_changes()
 * tells whether this connection's insert is the one that happened, and
 * SQLite's single writer makes it atomic across every connection,
 * thread and process on the host.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/orders-internal.h"

enum stmt {
	ST_GET,
	ST_CLAIM,
	ST_RELEASE,
	ST_RELEASE_ANY,
	ST_UPSERT,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_GET] =
		"SELECT o.purchase_date, o.delivery_date, o.estimated_arrival,"
		" o.shipment_date, o.buyer_locale, o.order_status,"
		" o.sales_channel, o.updated, r.requested_at, r.claim"
		" FROM relaygate_orders o LEFT JOIN relaygate_review_requests r"
		" ON r.order_id = o.order_id WHERE o.order_id = ?1",
	[ST_CLAIM] =
		"INSERT INTO relaygate_review_requests (order_id, requested_at,"
		" claim) VALUES (?1, ?2, ?3) ON CONFLICT (order_id) DO NOTHING",
	[ST_RELEASE] =
		"DELETE FROM relaygate_review_requests"
		" WHERE order_id = ?1 AND claim = ?2",
	[ST_RELEASE_ANY] =
		"DELETE FROM relaygate_review_requests WHERE order_id = ?1",
	[ST_UPSERT] =
		"INSERT INTO relaygate_orders (order_id, purchase_date,"
		" delivery_date, estimated_arrival, shipment_date, buyer_locale,"
		" order_status, sales_channel, updated)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		" ON CONFLICT (order_id) DO UPDATE SET"
		" purchase_date = coalesce(excluded.purchase_date, purchase_date),"
		" delivery_date = coalesce(excluded.delivery_date, delivery_date),"
		" estimated_arrival = coalesce(excluded.estimated_arrival,"
		"  estimated_arrival),"
		" shipment_date = coalesce(excluded.shipment_date, shipment_date),"
		" buyer_locale = coalesce(excluded.buyer_locale, buyer_locale),"
		" order_status = coalesce(excluded.order_status, order_status),"
		" sales_channel = coalesce(excluded.sales_channel, sales_channel),"
		" updated = excluded.updated",
};

/* Schema version 1.  Times are Unix seconds, NULL when unknown. */
static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS relaygate_meta ("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS relaygate_orders ("
	" order_id TEXT PRIMARY KEY,"
	" purchase_date INTEGER, delivery_date INTEGER,"
	" estimated_arrival INTEGER, shipment_date INTEGER,"
	" buyer_locale TEXT, order_status TEXT, sales_channel TEXT,"
	" updated INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS relaygate_review_requests ("
	" order_id TEXT PRIMARY KEY,"
	" requested_at INTEGER NOT NULL,"
	" claim TEXT NOT NULL) WITHOUT ROWID;"
	"INSERT INTO relaygate_meta (key, value) VALUES ('schema_version', '1')"
	" ON CONFLICT (key) DO UPDATE SET value = excluded.value;";

struct sq {
	sqlite3 *db;
	sqlite3_stmt *stmts[ST_COUNT];
};

static char *
db_error(struct rg_store *store, const char *what)
{
	struct sq *sq = store->impl;

	return rg_store_error("%s: %s: %s", store->description, what,
	                      sq->db != NULL ? sqlite3_errmsg(sq->db)
	                                     : "no database");
}

/* exec - run SQL without results */
static int
exec(struct rg_store *store, const char *sql, char **error_r)
{
	struct sq *sq = store->impl;
	char *msg = NULL;

	if (sqlite3_exec(sq->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		*error_r = rg_store_error("%s: %s", store->description,
		                          msg != NULL ? msg
		                          : sqlite3_errmsg(sq->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* stmt - the prepared statement, prepared on first use (the tables may
 * not exist when the store is opened for "init") */
static sqlite3_stmt *
stmt(struct rg_store *store, enum stmt which, char **error_r)
{
	struct sq *sq = store->impl;

	if (sq->stmts[which] == NULL &&
	    sqlite3_prepare_v3(sq->db, stmt_sql[which], -1,
	                       SQLITE_PREPARE_PERSISTENT, &sq->stmts[which],
	                       NULL) != SQLITE_OK) {
		*error_r = db_error(store, "prepare");
		return NULL;
	}
	return sq->stmts[which];
}

static void
sq_close(struct rg_store *store)
{
	struct sq *sq = store->impl;

	if (sq == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(sq->stmts[i]);
	sqlite3_close_v2(sq->db);
	free(sq);
	store->impl = NULL;
}

static int
sq_open(struct rg_store *store, const char *path, int flags, char **error_r)
{
	struct sq *sq = calloc(1, sizeof(*sq));
	int oflags = SQLITE_OPEN_NOMUTEX;

	if (sq == NULL) {
		*error_r = rg_store_error("out of memory");
		return -1;
	}
	store->impl = sq;
	if (flags & RG_STORE_READONLY)
		oflags |= SQLITE_OPEN_READONLY;
	else
		oflags |= SQLITE_OPEN_READWRITE;
	if ((flags & RG_STORE_CREATE) && !(flags & RG_STORE_READONLY))
		oflags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &sq->db, oflags, NULL) != SQLITE_OK) {
		*error_r = db_error(store, "open");
		sq_close(store);
		return -1;
	}
	sqlite3_extended_result_codes(sq->db, 1);
	sqlite3_busy_timeout(sq->db, RG_STORE_BUSY_TIMEOUT_MS);
	/*
	 * A recorded review request must survive a power cut (FULL); an
	 * import can be run again, so it syncs only at checkpoints.
	 */
	if (exec(store, flags & RG_STORE_BULK
	                ? "PRAGMA synchronous = NORMAL"
	                : "PRAGMA synchronous = FULL", error_r) < 0) {
		sq_close(store);
		return -1;
	}
	return 0;
}

static int
sq_schema_version(struct rg_store *store, int *version_r, char **error_r)
{
	struct sq *sq = store->impl;
	sqlite3_stmt *st = NULL;
	int rc;

	*version_r = 0;
	rc = sqlite3_prepare_v2(sq->db, "SELECT value FROM relaygate_meta "
	                        "WHERE key = 'schema_version'", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		/* no such table: no schema yet */
		if (strstr(sqlite3_errmsg(sq->db), "no such table") != NULL)
			return 0;
		*error_r = db_error(store, "schema version");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_r = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		*error_r = db_error(store, "schema version");
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
sq_init(struct rg_store *store, char **error_r)
{
	struct sq *sq = store->impl;
	sqlite3_stmt *st = NULL;
	int wal = 0;

	/* WAL is a property of the file: set once, kept */
	if (sqlite3_prepare_v2(sq->db, "PRAGMA journal_mode = WAL", -1, &st,
	                       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0),
		                      "wal") == 0;
	sqlite3_finalize(st);
	if (!wal) {
		*error_r = rg_store_error("%s: cannot switch to WAL mode: %s",
		                          store->description,
		                          sqlite3_errmsg(sq->db));
		return -1;
	}
	if (exec(store, "BEGIN IMMEDIATE", error_r) < 0)
		return -1;
	if (exec(store, schema_v1, error_r) < 0) {
		char *ignored = NULL;

		(void)exec(store, "ROLLBACK", &ignored);
		free(ignored);
		return -1;
	}
	return exec(store, "COMMIT", error_r);
}

/* bind_time - a time, or NULL for 0 (unknown) */
static int
bind_time(sqlite3_stmt *st, int i, time_t t)
{
	return t != 0 ? sqlite3_bind_int64(st, i, (sqlite3_int64)t)
	              : sqlite3_bind_null(st, i);
}

/* bind_text - a string, or NULL for "" (unknown) */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s[0] != '\0' ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC)
	                    : sqlite3_bind_null(st, i);
}

static time_t
column_time(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL
	       ? 0 : (time_t)sqlite3_column_int64(st, i);
}

static int
sq_get(struct rg_store *store, const char *order_id,
       struct rg_order_record *rec, char **error_r)
{
	sqlite3_stmt *st = stmt(store, ST_GET, error_r);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct rg_order_row *row = &rec->row;

		snprintf(row->order_id, sizeof(row->order_id), "%s", order_id);
		row->purchase = column_time(st, 0);
		row->delivery = column_time(st, 1);
		row->estimated_arrival = column_time(st, 2);
		row->shipment = column_time(st, 3);
		rg_store_copy_text(row->locale, sizeof(row->locale),
		                   (const char *)sqlite3_column_text(st, 4));
		rg_store_copy_text(row->status, sizeof(row->status),
		                   (const char *)sqlite3_column_text(st, 5));
		rg_store_copy_text(row->channel, sizeof(row->channel),
		                   (const char *)sqlite3_column_text(st, 6));
		rec->updated = column_time(st, 7);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
			rec->review_requested = 1;
			rec->review_time = column_time(st, 8);
			rg_store_copy_text(rec->review_claim,
			                   sizeof(rec->review_claim),
			                   (const char *)sqlite3_column_text(st,
			                                                     9));
		}
	} else if (rc != SQLITE_DONE) {
		*error_r = db_error(store, "lookup");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* step_changes - run a write statement; the rows it changed, or -1 */
static int
step_changes(struct rg_store *store, sqlite3_stmt *st, const char *what,
             char **error_r)
{
	struct sq *sq = store->impl;
	int rc = sqlite3_step(st), changes = -1;

	if (rc == SQLITE_DONE)
		changes = sqlite3_changes(sq->db);
	else
		*error_r = db_error(store, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return changes;
}

static int
sq_claim(struct rg_store *store, const char *order_id, const char *claim,
         time_t now, char **error_r)
{
	sqlite3_stmt *st = stmt(store, ST_CLAIM, error_r);
	int changes;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	sqlite3_bind_text(st, 3, claim, -1, SQLITE_STATIC);
	changes = step_changes(store, st, "record review request", error_r);
	return changes < 0 ? -1 : changes > 0;
}

static int
sq_release(struct rg_store *store, const char *order_id, const char *claim,
           char **error_r)
{
	sqlite3_stmt *st = stmt(store, claim != NULL ? ST_RELEASE
	                                             : ST_RELEASE_ANY, error_r);
	int changes;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
	if (claim != NULL)
		sqlite3_bind_text(st, 2, claim, -1, SQLITE_STATIC);
	changes = step_changes(store, st, "release review request", error_r);
	return changes < 0 ? -1 : changes > 0;
}

static int
sq_upsert(struct rg_store *store, const struct rg_order_row *rows, size_t n,
          time_t now, char **error_r)
{
	sqlite3_stmt *st = stmt(store, ST_UPSERT, error_r);
	char *ignored = NULL;

	if (st == NULL)
		return -1;
	/* IMMEDIATE: take the write lock now (waiting for it), not midway */
	if (exec(store, "BEGIN IMMEDIATE", error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct rg_order_row *row = &rows[i];

		sqlite3_bind_text(st, 1, row->order_id, -1, SQLITE_STATIC);
		bind_time(st, 2, row->purchase);
		bind_time(st, 3, row->delivery);
		bind_time(st, 4, row->estimated_arrival);
		bind_time(st, 5, row->shipment);
		bind_text(st, 6, row->locale);
		bind_text(st, 7, row->status);
		bind_text(st, 8, row->channel);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)now);
		if (step_changes(store, st, "import", error_r) < 0) {
			(void)exec(store, "ROLLBACK", &ignored);
			free(ignored);
			return -1;
		}
	}
	if (exec(store, "COMMIT", error_r) < 0) {
		(void)exec(store, "ROLLBACK", &ignored);
		free(ignored);
		return -1;
	}
	return 0;
}

static int
sq_set_meta(struct rg_store *store, const char *key, long long value,
            char **error_r)
{
	struct sq *sq = store->impl;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(sq->db, "INSERT INTO relaygate_meta (key, value)"
	                       " VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE"
	                       " SET value = excluded.value", -1, &st,
	                       NULL) != SQLITE_OK) {
		*error_r = db_error(store, "meta");
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, value);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		*error_r = db_error(store, "meta");
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
sq_stats(struct rg_store *store, struct rg_store_stats *stats,
         char **error_r)
{
	struct sq *sq = store->impl;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(sq->db,
	    "SELECT count(*), count(purchase_date), count(delivery_date),"
	    " count(estimated_arrival), count(buyer_locale),"
	    " min(purchase_date), max(purchase_date),"
	    " (SELECT count(*) FROM relaygate_review_requests),"
	    " (SELECT value FROM relaygate_meta WHERE key = 'last_import')"
	    " FROM relaygate_orders", -1, &st, NULL) != SQLITE_OK) {
		*error_r = db_error(store, "stats");
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		stats->orders = (unsigned long long)sqlite3_column_int64(st, 0);
		stats->with_purchase =
			(unsigned long long)sqlite3_column_int64(st, 1);
		stats->with_delivery =
			(unsigned long long)sqlite3_column_int64(st, 2);
		stats->with_arrival =
			(unsigned long long)sqlite3_column_int64(st, 3);
		stats->with_locale =
			(unsigned long long)sqlite3_column_int64(st, 4);
		stats->first_purchase = column_time(st, 5);
		stats->last_purchase = column_time(st, 6);
		stats->review_requests =
			(unsigned long long)sqlite3_column_int64(st, 7);
		stats->last_import = column_time(st, 8);
	} else {
		*error_r = db_error(store, "stats");
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

const struct rg_store_ops rg_store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.init = sq_init,
	.schema_version = sq_schema_version,
	.get = sq_get,
	.claim = sq_claim,
	.release = sq_release,
	.upsert = sq_upsert,
	.set_meta = sq_set_meta,
	.stats = sq_stats,
};
