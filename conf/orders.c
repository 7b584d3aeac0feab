/*
 * orders.c - the configuration's orders group: where the order store is,
 * and the days the order rules count.
 *
 *   orders: {
 *     backend = "sqlite";                  # or "postgresql", "none"
 *     path = "/var/lib/relaygate/orders.sqlite";
 *     # conninfo = "host=db.example dbname=relaygate user=relaygate";
 *     message_window_days = 30;
 *     window_from_delivery = false;
 *     review_min_days = 5;
 *     review_max_days = 30;
 *     delivery_estimate_days = 3;
 *   };
 *
 * The days go into the engine's settings; backend, path and conninfo are
 * for the fronts, which open the store (store/orders.h).
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "conf/config.h"
#include "conf/loader.h"

#define O(member) (CFG(orders) + offsetof(struct rg_orders_config, member))

#define RG_DEFAULT_ORDERS_PATH "/var/lib/relaygate/orders.sqlite"

static const struct key orders_keys[] = {
	{ "backend", T_STRING, O(backend) },
	{ "path", T_STRING, O(path) },
	{ "conninfo", T_STRING, O(conninfo) },
	{ "message_window_days", T_UINT, SET(message_window_days) },
	{ "window_from_delivery", T_BOOL, SET(window_from_delivery) },
	{ "review_min_days", T_UINT, SET(review_min_days) },
	{ "review_max_days", T_UINT, SET(review_max_days) },
	{ "delivery_estimate_days", T_UINT, SET(delivery_estimate_days) },
	{ NULL, 0, 0 },
};

/* Days beyond this are a typo, not a policy. */
#define RG_ORDERS_MAX_DAYS 3650

void
rg_orders_defaults(struct rg_orders_config *o)
{
	o->backend = g_strdup("sqlite");
	o->path = g_strdup(RG_DEFAULT_ORDERS_PATH);
	o->conninfo = NULL;
}

void
rg_orders_clear(struct rg_orders_config *o)
{
	g_free(o->backend);
	g_free(o->path);
	g_free(o->conninfo);
	memset(o, 0, sizeof(*o));
}

const char *
rg_orders_target(const struct rg_orders_config *o)
{
	if (o->backend == NULL || strcmp(o->backend, "none") == 0)
		return NULL;
	if (strcmp(o->backend, "postgresql") == 0)
		return o->conninfo;
	return o->path;
}

/* member - the group's setting called name, for an error's line */
static const config_setting_t *
member(config_setting_t *group, const char *name)
{
	config_setting_t *s = config_setting_get_member(group, name);

	return s != NULL ? s : group;
}

void
rg_load_orders(struct loader *l, config_setting_t *group)
{
	const struct rg_orders_config *o;
	const struct rg_settings *set;
	static const char *const day_keys[] = {
		"message_window_days", "review_min_days", "review_max_days",
		"delivery_estimate_days",
	};

	rg_loader_group(l, group, orders_keys, NULL);
	if (l->error != NULL)
		return;
	o = &l->config->orders;
	set = &l->config->settings;
	if (strcmp(o->backend, "sqlite") != 0 &&
	    strcmp(o->backend, "postgresql") != 0 &&
	    strcmp(o->backend, "none") != 0) {
		rg_loader_fail(l, member(group, "backend"), "orders.backend "
		               "\"%s\" is not sqlite, postgresql or none",
		               o->backend);
		return;
	}
	if (strcmp(o->backend, "sqlite") == 0 &&
	    (o->path == NULL || o->path[0] != '/')) {
		rg_loader_fail(l, member(group, "path"), "orders.path must be "
		               "an absolute path");
		return;
	}
	if (strcmp(o->backend, "postgresql") == 0 &&
	    (o->conninfo == NULL || o->conninfo[0] == '\0')) {
		rg_loader_fail(l, member(group, "conninfo"), "orders.backend "
		               "\"postgresql\" needs orders.conninfo (a libpq "
		               "connection string)");
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(day_keys); i++) {
		config_setting_t *s = config_setting_get_member(group,
		                                                day_keys[i]);

		if (s != NULL && config_setting_get_int64(s) >
		    RG_ORDERS_MAX_DAYS) {
			rg_loader_fail(l, s, "orders.%s must be at most %d days",
			               day_keys[i], RG_ORDERS_MAX_DAYS);
			return;
		}
	}
	if (set->review_min_days > set->review_max_days)
		rg_loader_fail(l, member(group, "review_min_days"),
		               "orders.review_min_days (%u) is after "
		               "review_max_days (%u)", set->review_min_days,
		               set->review_max_days);
}
