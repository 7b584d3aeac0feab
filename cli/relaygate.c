/*
 * relaygate.c - the command-line front of the engine: one subcommand per
 * file (check.c, ...), dispatched from the table below.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "relaygate.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "check", rg_cmd_check, "judge message files against the policy" },
	{ "quarantine", rg_cmd_quarantine,
	  "review held messages: list, show, release, drop, purge, stats" },
	{ "orders", rg_cmd_orders,
	  "the order store: init, import, show, stats, forget-review" },
	{ "corpus-report", rg_cmd_corpus_report,
	  "recall and false blocks over a labelled corpus" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: relaygate COMMAND [OPTIONS] ...\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "Run \"relaygate COMMAND --help\" for its options.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return RG_EXIT_PASS;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			int status;

			rg_engine_init();
			status = commands[i].run(argc - 1, argv + 1);
			rg_engine_shutdown();
			return status;
		}
	}
	fprintf(stderr, "relaygate: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return RG_EXIT_ERROR;
}
