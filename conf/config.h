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

struct rg_config {
	char *path;            /* the file it came from */
	char *socket;          /* libmilter socket spec, "inet:8891@127.0.0.1" */
	char *spool_dir;       /* private temp files for big bodies */
	int monitor;           /* log what would happen, deliver everything */
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

#endif
