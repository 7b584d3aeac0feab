/*
 * orders.c - the order store's API over its two backends (orders_sqlite.c,
 * orders_pg.c): opening by name, the schema version check, and the
 * helpers both share.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/orders-internal.h"

char *
rg_store_error(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	char *s;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s = strdup(buf);
	return s != NULL ? s : strdup("out of memory");
}

void
rg_store_copy_text(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	if (size == 0)
		return;
	for (; src != NULL && src[i] != '\0' && i + 1 < size; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	dst[i] = '\0';
}

int
rg_order_id_valid(const char *s)
{
	/* NNN-NNNNNNN-NNNNNNN */
	for (int i = 0; i < RG_ORDER_ID_SIZE - 1; i++) {
		if (i == 3 || i == 11) {
			if (s[i] != '-')
				return 0;
		} else if (s[i] < '0' || s[i] > '9') {
			return 0;
		}
	}
	return s[RG_ORDER_ID_SIZE - 1] == '\0';
}

/* ops_for - the backend called name, or NULL */
static const struct rg_store_ops *
ops_for(const char *name)
{
	if (name != NULL && strcmp(name, "sqlite") == 0)
		return &rg_store_sqlite_ops;
	if (name != NULL && strcmp(name, "postgresql") == 0)
		return &rg_store_pg_ops;
	return NULL;
}

/*
 * describe - how logs and the CLI name a store: the SQLite path, or the
 * connection string without its password (keyword "password=...", or a
 * URI's "user:secret@" and query)
 */
static char *
describe(const char *backend, const char *target)
{
	char buf[512];
	size_t o, n = strlen(target);
	const char *p = target, *end = target + n;

	o = (size_t)snprintf(buf, sizeof(buf), "%s ", backend);
	if (strcmp(backend, "postgresql") == 0 &&
	    (strncmp(target, "postgresql://", 13) == 0 ||
	     strncmp(target, "postgres://", 11) == 0)) {
		const char *auth = strstr(target, "//") + 2;
		const char *at = strchr(auth, '@');
		const char *path = strchr(auth, '/');
		const char *query = strchr(auth, '?');

		if (query != NULL)
			end = query;
		if (at != NULL && at < end && (path == NULL || at < path)) {
			const char *colon = memchr(auth, ':',
			                           (size_t)(at - auth));

			if (colon != NULL) {
				snprintf(buf + o, sizeof(buf) - o, "%.*s%.*s",
				         (int)(colon - target), target,
				         (int)(end - at), at);
				return strdup(buf);
			}
		}
		snprintf(buf + o, sizeof(buf) - o, "%.*s",
		         (int)(end - target), target);
		return strdup(buf);
	}
	if (strcmp(backend, "postgresql") != 0) {
		snprintf(buf + o, sizeof(buf) - o, "%s", target);
		return strdup(buf);
	}
	/* keyword = value pairs, values maybe 'quoted' */
	while (p < end && o + 1 < sizeof(buf)) {
		const char *key = p, *v;
		int secret;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		key = p;
		while (p < end && *p != '=' && *p != ' ' && *p != '\t')
			p++;
		secret = (size_t)(p - key) == 8 && strncmp(key, "password", 8)
		         == 0;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == '=')
			p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		v = p;
		if (p < end && *p == '\'') {
			for (p++; p < end && *p != '\''; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p < end)
				p++;
		} else {
			while (p < end && *p != ' ' && *p != '\t')
				p++;
		}
		if (secret || key == v)
			continue;
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%.*s",
		                      o > strlen(backend) + 1 ? " " : "",
		                      (int)(p - key), key);
		if (o >= sizeof(buf))
			o = sizeof(buf) - 1;
	}
	buf[o] = '\0';
	return strdup(buf);
}

int
rg_store_missing(const char *backend, const char *target)
{
	struct stat st;

	if (backend == NULL || strcmp(backend, "sqlite") != 0 ||
	    target == NULL)
		return 0;
	return stat(target, &st) < 0 && errno == ENOENT;
}

int
rg_store_open(const char *backend, const char *target, int flags,
              struct rg_store **store_r, char **error_r)
{
	const struct rg_store_ops *ops = ops_for(backend);
	struct rg_store *store;

	*store_r = NULL;
	if (ops == NULL) {
		*error_r = rg_store_error("unknown order store backend \"%s\" "
		                          "(sqlite or postgresql)",
		                          backend != NULL ? backend : "");
		return -1;
	}
	if (target == NULL || target[0] == '\0') {
		*error_r = rg_store_error("%s order store: no %s configured",
		                          backend, ops == &rg_store_sqlite_ops
		                          ? "path" : "conninfo");
		return -1;
	}
	store = calloc(1, sizeof(*store));
	if (store == NULL || (store->description = describe(backend, target))
	    == NULL) {
		free(store);
		*error_r = rg_store_error("out of memory");
		return -1;
	}
	store->ops = ops;
	store->flags = flags;
	if (ops->open(store, target, flags, error_r) < 0) {
		free(store->description);
		free(store);
		return -1;
	}
	*store_r = store;
	return 0;
}

void
rg_store_close(struct rg_store **storep)
{
	struct rg_store *store = *storep;

	if (store == NULL)
		return;
	*storep = NULL;
	store->ops->close(store);
	free(store->description);
	free(store);
}

const char *
rg_store_describe(const struct rg_store *store)
{
	return store->description;
}

int
rg_store_init(struct rg_store *store, char **error_r)
{
	int version;

	if (store->ops->schema_version(store, &version, error_r) < 0)
		return -1;
	if (version > RG_STORE_SCHEMA_VERSION) {
		*error_r = rg_store_error("%s: schema version %d is newer than "
		                          "this relaygate's (%d)",
		                          store->description, version,
		                          RG_STORE_SCHEMA_VERSION);
		return -1;
	}
	return store->ops->init(store, error_r);
}

int
rg_store_check(struct rg_store *store, char **error_r)
{
	int version;

	if (store->ops->schema_version(store, &version, error_r) < 0)
		return -1;
	if (version == 0) {
		*error_r = rg_store_error("%s: no order store schema (run "
		                          "\"relaygate orders init\")",
		                          store->description);
		return -1;
	}
	if (version != RG_STORE_SCHEMA_VERSION) {
		*error_r = rg_store_error("%s: schema version %d, this relaygate "
		                          "reads %d (run \"relaygate orders "
		                          "init\")", store->description,
		                          version, RG_STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

int
rg_store_get(struct rg_store *store, const char *order_id,
             struct rg_order_record *record, char **error_r)
{
	memset(record, 0, sizeof(*record));
	if (!rg_order_id_valid(order_id))
		return 0;
	return store->ops->get(store, order_id, record, error_r);
}

int
rg_store_lookup(void *ctx, const char *order_id, struct rg_order_info *out,
                char **error_r)
{
	struct rg_order_record record;
	int r;

	r = rg_store_get(ctx, order_id, &record, error_r);
	memset(out, 0, sizeof(*out));
	if (r != 1)
		return r;
	out->purchase = record.row.purchase;
	out->delivery = record.row.delivery;
	out->estimated_arrival = record.row.estimated_arrival;
	memcpy(out->locale, record.row.locale, sizeof(out->locale));
	out->locale[sizeof(out->locale) - 1] = '\0';
	out->review_requested = record.review_requested;
	return 1;
}

int
rg_store_claim_review(struct rg_store *store, const char *order_id,
                      const char *claim, time_t now, char **error_r)
{
	if (store->flags & RG_STORE_READONLY) {
		*error_r = rg_store_error("%s: opened read-only",
		                          store->description);
		return -1;
	}
	if (!rg_order_id_valid(order_id)) {
		*error_r = rg_store_error("\"%s\" is not an order id", order_id);
		return -1;
	}
	return store->ops->claim(store, order_id, claim, now, error_r);
}

int
rg_store_release_review(struct rg_store *store, const char *order_id,
                        const char *claim, char **error_r)
{
	if (store->flags & RG_STORE_READONLY) {
		*error_r = rg_store_error("%s: opened read-only",
		                          store->description);
		return -1;
	}
	if (!rg_order_id_valid(order_id))
		return 0;
	return store->ops->release(store, order_id, claim, error_r);
}

int
rg_store_upsert(struct rg_store *store, const struct rg_order_row *rows,
                size_t n, time_t now, char **error_r)
{
	if (n == 0)
		return 0;
	return store->ops->upsert(store, rows, n, now, error_r);
}

int
rg_store_note_import(struct rg_store *store, time_t now, char **error_r)
{
	return store->ops->set_meta(store, "last_import", (long long)now,
	                            error_r);
}

int
rg_store_stats(struct rg_store *store, struct rg_store_stats *stats,
               char **error_r)
{
	memset(stats, 0, sizeof(*stats));
	if (store->ops->schema_version(store, &stats->schema_version,
	                               error_r) < 0)
		return -1;
	if (stats->schema_version == 0)
		return 0;
	return store->ops->stats(store, stats, error_r);
}
