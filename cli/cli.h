/*
 * cli.h - the subcommands of the relaygate command line, one file each.
 */
#ifndef RG_CLI_H
#define RG_CLI_H

#include <stdio.h>

#include "relaygate.h"

#define RG_EXIT_PASS 0
#define RG_EXIT_BLOCKED 1
#define RG_EXIT_ERROR 2

#define RG_DEFAULT_CONFIG RG_SYSCONFDIR "/relaygate/relaygate.conf"

/*
 * rg_cli_load_policy - the policy from path, else the installed
 * configuration if it exists, else the built-in defaults.  NULL after
 * printing the error on stderr.
 */
rg_policy *rg_cli_load_policy(const char *path);

/*
 * rg_cli_subcommand - parse "GROUP [-c CONFIG] COMMAND [ARGS]" (-c and
 * --help may follow the command too) against a table whose entries each
 * start with their name (const char *).  Returns the entry's index with
 * the argument vector starting at COMMAND, or -1 with *status_r set after
 * printing usage or an error.
 */
int rg_cli_subcommand(const char *group, const void *table, size_t stride,
                      size_t count, void (*usage)(FILE *out), int *argc_p,
                      char ***argv_p, const char **config_path_r,
                      int *status_r);

/* Each takes argv from the subcommand's name on; returns the exit status. */
int rg_cmd_check(int argc, char **argv);
int rg_cmd_quarantine(int argc, char **argv);
int rg_cmd_corpus_report(int argc, char **argv);
int rg_cmd_orders(int argc, char **argv);

/*
 * rg_cli_orders_attach - the configuration's order store (read-only) as
 * the scan's order lookup, for check; NULL when there is none (the order
 * rules are skipped).  Close it with rg_store_close after the scan.
 */
struct rg_store;
struct rg_store *rg_cli_orders_attach(rg_scan *scan, const char *config_path);

#endif
