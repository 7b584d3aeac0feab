/*
 * orders-internal.h - what store/orders.c needs from each backend
 * (orders_sqlite.c, orders_pg.c).  Private to the store library.
 */
#ifndef RG_STORE_ORDERS_INTERNAL_H
#define RG_STORE_ORDERS_INTERNAL_H

#include "store/orders.h"

struct rg_store_ops {
	const char *name;
	/* open: connect to target, set store->impl; -1 with *error_r */
	int (*open)(struct rg_store *store, const char *target, int flags,
	            char **error_r);
	void (*close)(struct rg_store *store);
	int (*init)(struct rg_store *store, char **error_r);
	/* schema_version: 0 when there is no schema yet */
	int (*schema_version)(struct rg_store *store, int *version_r,
	                      char **error_r);
	int (*get)(struct rg_store *store, const char *order_id,
	           struct rg_order_record *record, char **error_r);
	int (*claim)(struct rg_store *store, const char *order_id,
	             const char *claim, time_t now, char **error_r);
	int (*release)(struct rg_store *store, const char *order_id,
	               const char *claim, char **error_r);
	int (*upsert)(struct rg_store *store, const struct rg_order_row *rows,
	              size_t n, time_t now, char **error_r);
	int (*set_meta)(struct rg_store *store, const char *key,
	                long long value, char **error_r);
	int (*stats)(struct rg_store *store, struct rg_store_stats *stats,
	             char **error_r);
};

struct rg_store {
	const struct rg_store_ops *ops;
	void *impl;
	int flags;
	char *description;     /* rg_store_describe */
};

extern const struct rg_store_ops rg_store_sqlite_ops;
extern const struct rg_store_ops rg_store_pg_ops;

/* rg_store_error - a malloc'd message ("out of memory" if even that
 * fails, never NULL) */
char *rg_store_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Copy a text column into a fixed field, truncated, control characters
 * and non-ASCII made '?' (status and channel are for people only). */
void rg_store_copy_text(char *dst, size_t size, const char *src);

#endif
