/*
 * orders_pg.c - the order store in PostgreSQL (libpq), for a seller with
 * several outbound mail servers that must share one record of which
 * orders already had a review request.
 *
 * Each struct rg_store is one connection, used by one thread at a time.
 * Recording a review request is one autocommitted INSERT ... ON CONFLICT
 * (order_id) DO NOTHING: PostgreSQL's unique index decides between any
 * number of concurrent inserts from any number of hosts, and the command
 * tag's row count ("INSERT 0 1" or "INSERT 0 0") says whether this one
 * won.  Never read-then-write.
 *
 * Imports COPY each batch into a temporary table and merge it with one
 * INSERT ... SELECT ... ON CONFLICT DO UPDATE in the same transaction:
 * one round trip per batch, not per row.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/orders-internal.h"

/* Queries wait at most this long (the milter has an MTA waiting). */
#define PG_STATEMENT_TIMEOUT "30s"
#define PG_CONNECT_TIMEOUT "10"
/* COPY data is sent in pieces of about this size */
#define PG_COPY_CHUNK (64 * 1024)

enum stmt {
	ST_GET,
	ST_CLAIM,
	ST_RELEASE,
	ST_RELEASE_ANY,
	ST_COUNT
};

static const struct {
	const char *name;
	const char *sql;
	int nparams;
} stmts[ST_COUNT] = {
	[ST_GET] = { "relaygate_get",
		"SELECT o.purchase_date, o.delivery_date, o.estimated_arrival,"
		" o.shipment_date, o.buyer_locale, o.order_status,"
		" o.sales_channel, o.updated, r.requested_at, r.claim"
		" FROM relaygate_orders o LEFT JOIN relaygate_review_requests r"
		" ON r.order_id = o.order_id WHERE o.order_id = $1", 1 },
	[ST_CLAIM] = { "relaygate_claim",
		"INSERT INTO relaygate_review_requests (order_id, requested_at,"
		" claim) VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING",
		3 },
	[ST_RELEASE] = { "relaygate_release",
		"DELETE FROM relaygate_review_requests"
		" WHERE order_id = $1 AND claim = $2", 2 },
	[ST_RELEASE_ANY] = { "relaygate_release_any",
		"DELETE FROM relaygate_review_requests WHERE order_id = $1", 1 },
};

static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS relaygate_meta ("
	" key text PRIMARY KEY, value text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS relaygate_orders ("
	" order_id text PRIMARY KEY,"
	" purchase_date bigint, delivery_date bigint,"
	" estimated_arrival bigint, shipment_date bigint,"
	" buyer_locale text, order_status text, sales_channel text,"
	" updated bigint NOT NULL);"
	"CREATE TABLE IF NOT EXISTS relaygate_review_requests ("
	" order_id text PRIMARY KEY,"
	" requested_at bigint NOT NULL,"
	" claim text NOT NULL);"
	"INSERT INTO relaygate_meta (key, value) VALUES ('schema_version', '1')"
	" ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;";

struct pg {
	PGconn *conn;
	unsigned prepared;          /* bit per enum stmt */
	int staging;                /* the import temp table exists */
};

/* pg_message - libpq's last error on one line */
static char *
pg_error(struct rg_store *store, const char *what, const PGresult *res)
{
	struct pg *pg = store->impl;
	const char *msg = res != NULL ? PQresultErrorMessage(res) : "";
	char buf[512];
	size_t n;

	if (msg == NULL || msg[0] == '\0')
		msg = pg->conn != NULL ? PQerrorMessage(pg->conn) : "no connection";
	snprintf(buf, sizeof(buf), "%s", msg);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\t')
			buf[i] = ' ';
	return rg_store_error("%s: %s: %s", store->description, what, buf);
}

/* command - run SQL without results; 0 or -1 */
static int
command(struct rg_store *store, const char *sql, char **error_r)
{
	struct pg *pg = store->impl;
	PGresult *res = PQexec(pg->conn, sql);
	int ok = res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	                         PQresultStatus(res) == PGRES_TUPLES_OK);

	if (!ok)
		*error_r = pg_error(store, "query", res);
	PQclear(res);
	return ok ? 0 : -1;
}

static void
rollback(struct rg_store *store)
{
	char *ignored = NULL;

	(void)command(store, "ROLLBACK", &ignored);
	free(ignored);
}

static void
pg_close(struct rg_store *store)
{
	struct pg *pg = store->impl;

	if (pg == NULL)
		return;
	PQfinish(pg->conn);
	free(pg);
	store->impl = NULL;
}

static int
pg_open(struct rg_store *store, const char *conninfo, int flags,
        char **error_r)
{
	static const char *const keys[] = {
		"connect_timeout", "dbname", "fallback_application_name", NULL
	};
	const char *values[] = {
		PG_CONNECT_TIMEOUT, conninfo, "relaygate", NULL
	};
	struct pg *pg = calloc(1, sizeof(*pg));

	if (pg == NULL) {
		*error_r = rg_store_error("out of memory");
		return -1;
	}
	store->impl = pg;
	/* the conninfo string overrides the connect timeout given first */
	pg->conn = PQconnectdbParams(keys, values, 1);
	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
		*error_r = pg_error(store, "connect", NULL);
		pg_close(store);
		return -1;
	}
	if (command(store, "SET statement_timeout = '"
	            PG_STATEMENT_TIMEOUT "'", error_r) < 0 ||
	    ((flags & RG_STORE_READONLY) &&
	     command(store, "SET default_transaction_read_only = on",
	             error_r) < 0) ||
	    ((flags & RG_STORE_BULK) &&
	     command(store, "SET synchronous_commit = off", error_r) < 0)) {
		pg_close(store);
		return -1;
	}
	return 0;
}

static int
pg_schema_version(struct rg_store *store, int *version_r, char **error_r)
{
	struct pg *pg = store->impl;
	PGresult *res;
	int ok, missing;

	*version_r = 0;
	/* to_regclass: NULL, not an error, when the table does not exist */
	res = PQexec(pg->conn, "SELECT to_regclass('relaygate_meta') IS NULL");
	ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK &&
	     PQntuples(res) == 1;
	if (!ok) {
		*error_r = pg_error(store, "schema version", res);
		PQclear(res);
		return -1;
	}
	missing = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (missing)
		return 0;
	res = PQexec(pg->conn, "SELECT value FROM relaygate_meta"
	             " WHERE key = 'schema_version'");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		*error_r = pg_error(store, "schema version", res);
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		*version_r = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static int
pg_init(struct rg_store *store, char **error_r)
{
	/* one host at a time: CREATE TABLE IF NOT EXISTS can race */
	if (command(store, "BEGIN", error_r) < 0)
		return -1;
	if (command(store, "SELECT pg_advisory_xact_lock(7421330)",
	            error_r) < 0 ||
	    command(store, schema_v1, error_r) < 0) {
		rollback(store);
		return -1;
	}
	return command(store, "COMMIT", error_r);
}

/* prepared - the statement's name, prepared on this connection first */
static const char *
prepared(struct rg_store *store, enum stmt which, char **error_r)
{
	struct pg *pg = store->impl;
	PGresult *res;

	if (pg->prepared & (1u << which))
		return stmts[which].name;
	res = PQprepare(pg->conn, stmts[which].name, stmts[which].sql,
	                stmts[which].nparams, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		*error_r = pg_error(store, "prepare", res);
		PQclear(res);
		return NULL;
	}
	PQclear(res);
	pg->prepared |= 1u << which;
	return stmts[which].name;
}

static time_t
value_time(const PGresult *res, int col)
{
	if (PQgetisnull(res, 0, col))
		return 0;
	return (time_t)strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static int
pg_get(struct rg_store *store, const char *order_id,
       struct rg_order_record *rec, char **error_r)
{
	struct pg *pg = store->impl;
	const char *name = prepared(store, ST_GET, error_r);
	const char *params[1] = { order_id };
	struct rg_order_row *row = &rec->row;
	PGresult *res;

	if (name == NULL)
		return -1;
	res = PQexecPrepared(pg->conn, name, 1, params, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		*error_r = pg_error(store, "lookup", res);
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	snprintf(row->order_id, sizeof(row->order_id), "%s", order_id);
	row->purchase = value_time(res, 0);
	row->delivery = value_time(res, 1);
	row->estimated_arrival = value_time(res, 2);
	row->shipment = value_time(res, 3);
	rg_store_copy_text(row->locale, sizeof(row->locale),
	                   PQgetvalue(res, 0, 4));
	rg_store_copy_text(row->status, sizeof(row->status),
	                   PQgetvalue(res, 0, 5));
	rg_store_copy_text(row->channel, sizeof(row->channel),
	                   PQgetvalue(res, 0, 6));
	rec->updated = value_time(res, 7);
	if (!PQgetisnull(res, 0, 8)) {
		rec->review_requested = 1;
		rec->review_time = value_time(res, 8);
		rg_store_copy_text(rec->review_claim, sizeof(rec->review_claim),
		                   PQgetvalue(res, 0, 9));
	}
	PQclear(res);
	return 1;
}

/* run_changes - a prepared write; the rows it changed, or -1 */
static int
run_changes(struct rg_store *store, enum stmt which, int n,
            const char *const *params, const char *what, char **error_r)
{
	struct pg *pg = store->impl;
	const char *name = prepared(store, which, error_r);
	PGresult *res;
	int changes;

	if (name == NULL)
		return -1;
	res = PQexecPrepared(pg->conn, name, n, params, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		*error_r = pg_error(store, what, res);
		PQclear(res);
		return -1;
	}
	changes = atoi(PQcmdTuples(res));
	PQclear(res);
	return changes;
}

static int
pg_claim(struct rg_store *store, const char *order_id, const char *claim,
         time_t now, char **error_r)
{
	char when[24];
	const char *params[3] = { order_id, when, claim };
	int changes;

	snprintf(when, sizeof(when), "%lld", (long long)now);
	changes = run_changes(store, ST_CLAIM, 3, params,
	                      "record review request", error_r);
	return changes < 0 ? -1 : changes > 0;
}

static int
pg_release(struct rg_store *store, const char *order_id, const char *claim,
           char **error_r)
{
	const char *params[2] = { order_id, claim };
	int changes;

	changes = run_changes(store, claim != NULL ? ST_RELEASE
	                                           : ST_RELEASE_ANY,
	                      claim != NULL ? 2 : 1, params,
	                      "release review request", error_r);
	return changes < 0 ? -1 : changes > 0;
}

/* copy_buf - COPY text format into a growable buffer */
struct copy_buf {
	char *data;
	size_t len, cap;
};

static int
copy_put(struct copy_buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 2 * PG_COPY_CHUNK;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

/* copy_text - one field: \N for unknown, backslash escaped (tabs and
 * control characters cannot occur: rg_store_copy_text made them '?') */
static int
copy_text(struct copy_buf *b, const char *s, int last)
{
	if (s[0] == '\0') {
		if (copy_put(b, "\\N", 2) < 0)
			return -1;
	} else {
		for (; *s != '\0'; s++) {
			if (*s == '\\' && copy_put(b, "\\", 1) < 0)
				return -1;
			if (copy_put(b, s, 1) < 0)
				return -1;
		}
	}
	return copy_put(b, last ? "\n" : "\t", 1);
}

static int
copy_time(struct copy_buf *b, time_t t)
{
	char num[24];
	int n;

	if (t == 0)
		return copy_put(b, "\\N\t", 3);
	n = snprintf(num, sizeof(num), "%lld\t", (long long)t);
	return copy_put(b, num, (size_t)n);
}

/* send_copy - the buffered rows to the server; 0 or -1 */
static int
send_copy(struct rg_store *store, struct copy_buf *b, char **error_r)
{
	struct pg *pg = store->impl;

	if (b->len > 0 && PQputCopyData(pg->conn, b->data, (int)b->len) != 1) {
		*error_r = pg_error(store, "import (COPY)", NULL);
		return -1;
	}
	b->len = 0;
	return 0;
}

static int
pg_upsert(struct rg_store *store, const struct rg_order_row *rows, size_t n,
          time_t now, char **error_r)
{
	struct pg *pg = store->impl;
	struct copy_buf b = { NULL, 0, 0 };
	char merge[2048];
	PGresult *res;
	int ok, failed = 0;

	if (command(store, "BEGIN", error_r) < 0)
		return -1;
	if (!pg->staging) {
		if (command(store, "CREATE TEMP TABLE IF NOT EXISTS"
		            " relaygate_import (order_id text,"
		            " purchase_date bigint, delivery_date bigint,"
		            " estimated_arrival bigint, shipment_date bigint,"
		            " buyer_locale text, order_status text,"
		            " sales_channel text) ON COMMIT DELETE ROWS",
		            error_r) < 0) {
			rollback(store);
			return -1;
		}
	}
	res = PQexec(pg->conn, "COPY relaygate_import FROM STDIN");
	ok = res != NULL && PQresultStatus(res) == PGRES_COPY_IN;
	if (!ok) {
		*error_r = pg_error(store, "import (COPY)", res);
		PQclear(res);
		rollback(store);
		return -1;
	}
	PQclear(res);
	for (size_t i = 0; i < n && !failed; i++) {
		const struct rg_order_row *row = &rows[i];

		if (copy_text(&b, row->order_id, 0) < 0 ||
		    copy_time(&b, row->purchase) < 0 ||
		    copy_time(&b, row->delivery) < 0 ||
		    copy_time(&b, row->estimated_arrival) < 0 ||
		    copy_time(&b, row->shipment) < 0 ||
		    copy_text(&b, row->locale, 0) < 0 ||
		    copy_text(&b, row->status, 0) < 0 ||
		    copy_text(&b, row->channel, 1) < 0) {
			*error_r = rg_store_error("out of memory");
			failed = 1;
		} else if (b.len >= PG_COPY_CHUNK &&
		           send_copy(store, &b, error_r) < 0) {
			failed = 1;
		}
	}
	if (!failed && send_copy(store, &b, error_r) < 0)
		failed = 1;
	free(b.data);
	if (PQputCopyEnd(pg->conn, failed ? "relaygate: import failed"
	                                  : NULL) != 1 && !failed) {
		*error_r = pg_error(store, "import (COPY)", NULL);
		failed = 1;
	}
	while ((res = PQgetResult(pg->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && !failed) {
			*error_r = pg_error(store, "import (COPY)", res);
			failed = 1;
		}
		PQclear(res);
	}
	if (failed) {
		rollback(store);
		return -1;
	}
	pg->staging = 1;
	snprintf(merge, sizeof(merge),
	         "INSERT INTO relaygate_orders AS o (order_id, purchase_date,"
	         " delivery_date, estimated_arrival, shipment_date,"
	         " buyer_locale, order_status, sales_channel, updated)"
	         " SELECT order_id, purchase_date, delivery_date,"
	         " estimated_arrival, shipment_date, buyer_locale,"
	         " order_status, sales_channel, %lld FROM relaygate_import"
	         " ON CONFLICT (order_id) DO UPDATE SET"
	         " purchase_date = coalesce(EXCLUDED.purchase_date,"
	         "  o.purchase_date),"
	         " delivery_date = coalesce(EXCLUDED.delivery_date,"
	         "  o.delivery_date),"
	         " estimated_arrival = coalesce(EXCLUDED.estimated_arrival,"
	         "  o.estimated_arrival),"
	         " shipment_date = coalesce(EXCLUDED.shipment_date,"
	         "  o.shipment_date),"
	         " buyer_locale = coalesce(EXCLUDED.buyer_locale,"
	         "  o.buyer_locale),"
	         " order_status = coalesce(EXCLUDED.order_status,"
	         "  o.order_status),"
	         " sales_channel = coalesce(EXCLUDED.sales_channel,"
	         "  o.sales_channel),"
	         " updated = EXCLUDED.updated", (long long)now);
	if (command(store, merge, error_r) < 0) {
		rollback(store);
		return -1;
	}
	return command(store, "COMMIT", error_r);
}

static int
pg_set_meta(struct rg_store *store, const char *key, long long value,
            char **error_r)
{
	struct pg *pg = store->impl;
	char num[24];
	const char *params[2] = { key, num };
	PGresult *res;
	int ok;

	snprintf(num, sizeof(num), "%lld", value);
	res = PQexecParams(pg->conn, "INSERT INTO relaygate_meta (key, value)"
	                   " VALUES ($1, $2) ON CONFLICT (key) DO UPDATE"
	                   " SET value = EXCLUDED.value", 2, NULL, params,
	                   NULL, NULL, 0);
	ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		*error_r = pg_error(store, "meta", res);
	PQclear(res);
	return ok ? 0 : -1;
}

static unsigned long long
value_count(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? 0
	       : strtoull(PQgetvalue(res, 0, col), NULL, 10);
}

static int
pg_stats(struct rg_store *store, struct rg_store_stats *stats,
         char **error_r)
{
	struct pg *pg = store->impl;
	PGresult *res;

	res = PQexec(pg->conn,
	    "SELECT count(*), count(purchase_date), count(delivery_date),"
	    " count(estimated_arrival), count(buyer_locale),"
	    " min(purchase_date), max(purchase_date),"
	    " (SELECT count(*) FROM relaygate_review_requests),"
	    " (SELECT value FROM relaygate_meta WHERE key = 'last_import')"
	    " FROM relaygate_orders");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		*error_r = pg_error(store, "stats", res);
		PQclear(res);
		return -1;
	}
	stats->orders = value_count(res, 0);
	stats->with_purchase = value_count(res, 1);
	stats->with_delivery = value_count(res, 2);
	stats->with_arrival = value_count(res, 3);
	stats->with_locale = value_count(res, 4);
	stats->first_purchase = value_time(res, 5);
	stats->last_purchase = value_time(res, 6);
	stats->review_requests = value_count(res, 7);
	stats->last_import = value_time(res, 8);
	PQclear(res);
	return 0;
}

const struct rg_store_ops rg_store_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.init = pg_init,
	.schema_version = pg_schema_version,
	.get = pg_get,
	.claim = pg_claim,
	.release = pg_release,
	.upsert = pg_upsert,
	.set_meta = pg_set_meta,
	.stats = pg_stats,
};
