/*
 * loader.h - what the configuration loader's files share: one table of
 * keys per group drives parsing and validation, and the first error is
 * kept as "FILE:LINE: what is wrong".  A group with settings of its own
 * (phrases, quarantine, ...) gets a file of its own under conf/ and a line
 * in load_root (load.c).
 */
#ifndef RG_CONF_LOADER_H
#define RG_CONF_LOADER_H

#include <stddef.h>

#include <libconfig.h>

#include "conf/config.h"

/* T_MSEC: a duration "2s" or "500ms" into an unsigned of milliseconds */
enum value_type { T_STRING, T_BOOL, T_UINT, T_SIZE, T_LIST, T_GROUP,
                  T_MSEC };

/* Where a value goes; one table per group drives parse and validation. */
struct key {
	const char *name;
	enum value_type type;
	size_t offset;        /* into struct rg_config */
};

#define CFG(member) offsetof(struct rg_config, member)
#define SET(member) (CFG(settings) + offsetof(struct rg_settings, member))

struct loader {
	const char *path;
	struct rg_config *config;
	char *error;           /* first error, "FILE:LINE: ..." */
};

/* rg_loader_fail - keep the first error, at the setting's line */
void rg_loader_fail(struct loader *l, const config_setting_t *where,
                    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* rg_loader_set - one value of key's type into the config */
void rg_loader_set(struct loader *l, const struct key *key,
                   config_setting_t *setting);
/* rg_loader_group - every member of group must be one of keys (or the
 * name also_allowed, handled by the caller) */
void rg_loader_group(struct loader *l, config_setting_t *group,
                     const struct key *keys, const char *also_allowed);
/* rg_parse_size - "25M", "512K", "1G" or a plain number of bytes */
int rg_parse_size(const char *s, size_t *size_r);
/* rg_parse_msec - "2s", "1500ms" into milliseconds (1 .. UINT32_MAX);
 * 0, or -1 for anything else */
int rg_parse_msec(const char *s, unsigned *ms_r);
/* rg_conf_load_phrases - the "phrases" group (conf/phrases.c) */
void rg_conf_load_phrases(struct loader *l, config_setting_t *group);

/* conf/quarantine.c: the quarantine group */
void rg_load_quarantine(struct loader *l, config_setting_t *group);

/* conf/orders.c: the orders group (store and order rule days), its
 * defaults, and freeing */
void rg_orders_defaults(struct rg_orders_config *o);
void rg_load_orders(struct loader *l, config_setting_t *group);
void rg_orders_clear(struct rg_orders_config *o);

#endif
