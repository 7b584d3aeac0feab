/*
 * config.h - the relaygate configuration file (libconfig syntax).
 *
 * One file configures the engine (relay domains, allowed link domains,
 * limits, each rule's action and parameters) and the milter (socket,
 * spool directory).  Errors name the file, the line and what is wrong.
 */
#ifndef RG_CONF_CONFIG_H
#define RG_CONF_CONFIG_H

#include "relaygate.h"

/* mode: "enforce" acts on verdicts; "monitor" logs them, adds the
 * header and delivers everything (nothing held or rejected) */
enum rg_mode { RG_MODE_ENFORCE = 0, RG_MODE_MONITOR };

/* The quarantine group (conf/quarantine.c). */
struct rg_quarantine_config {
	char *store_dir;       /* held messages and their index */
	int64_t retention;     /* seconds a record is kept */
	char *retention_text;  /* as written, "30d" */
	int notify;            /* notices to the envelope sender */
	char *notice_from;     /* From: of notices */
	char *contact;         /* whom the sender may ask, one line */
	char *delivery;        /* "smtp:HOST:PORT" or "sendmail:PATH" */
	int delivery_smtp;     /* parsed from delivery: 1 SMTP, 0 sendmail */
	char *smtp_host;
	unsigned smtp_port;
	char *sendmail;
	char *review_group;    /* Unix group allowed to review; "" none */
};

/* The orders group (conf/orders.c): where the order store is. */
struct rg_orders_config {
	char *backend;         /* "sqlite" (default), "postgresql" or "none" */
	char *path;            /* sqlite: the database file */
	char *conninfo;        /* postgresql: a libpq connection string */
};

struct rg_config {
	char *path;            /* the file it came from */
	char *socket;          /* libmilter socket spec, "inet:8891@127.0.0.1" */
	char *spool_dir;       /* private temp files for big bodies */
	char *user;            /* started as root: run as this user */
	char *group;           /* and group; "" the user's login group */
	enum rg_mode mode;
	struct rg_quarantine_config quarantine;
	struct rg_orders_config orders;
	struct rg_settings settings;
};

/*
 * rg_config_load - read and validate path into *config.
 * Returns 0, or -1 with *error_r set ("FILE:LINE: what is wrong"; free()).
 * On failure *config holds nothing to free.
 */
int rg_config_load(const char *path, struct rg_config *config,
                   char **error_r);
void rg_config_clear(struct rg_config *config);

/* rg_orders_target - the store's path (sqlite) or conninfo (postgresql);
 * NULL for backend "none" */
const char *rg_orders_target(const struct rg_orders_config *orders);

/*
 * rg_parse_duration - "30d", "12h", "90m", "45s", "2w" into seconds;
 * 0, or -1 for anything else (a unit is required)
 */
int rg_parse_duration(const char *s, int64_t *seconds_r);
/* rg_quarantine_defaults - the quarantine group's built-in defaults (those
 * of the sample file); rg_quarantine_clear frees its strings (the milter
 * keeps the group beyond the rest of the configuration) */
void rg_quarantine_defaults(struct rg_quarantine_config *q);
void rg_quarantine_clear(struct rg_quarantine_config *q);

#endif
