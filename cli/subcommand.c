/*
 * subcommand.c - the shape shared by "relaygate orders" and "relaygate
 * quarantine": GROUP [-c CONFIG] COMMAND [ARGS], where -c and --help may
 * also follow the command.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int
rg_cli_subcommand(const char *group, const void *table, size_t stride,
                  size_t count, void (*usage)(FILE *out), int *argc_p,
                  char ***argv_p, const char **config_path_r,
                  int *status_r)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int argc = *argc_p, opt, found = -1;
	char **argv = *argv_p;

	/* options before the command ("+": stop at the command) */
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': *config_path_r = optarg; break;
		case 'h': usage(stdout); *status_r = RG_EXIT_PASS; return -1;
		default: usage(stderr); *status_r = RG_EXIT_ERROR; return -1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		*status_r = RG_EXIT_ERROR;
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		/* each table entry starts with its name */
		const char *name =
			*(const char *const *)((const char *)table + i * stride);

		if (strcmp(argv[optind], name) == 0)
			found = (int)i;
	}
	if (found < 0) {
		if (strcmp(argv[optind], "help") == 0) {
			usage(stdout);
			*status_r = RG_EXIT_PASS;
			return -1;
		}
		fprintf(stderr, "relaygate %s: unknown command \"%s\"\n", group,
		        argv[optind]);
		usage(stderr);
		*status_r = RG_EXIT_ERROR;
		return -1;
	}
	argc -= optind;
	argv += optind;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			*status_r = RG_EXIT_PASS;
			return -1;
		}
		if ((strcmp(argv[i], "-c") == 0 ||
		     strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			*config_path_r = argv[i + 1];
			memmove(&argv[i], &argv[i + 2],
			        (size_t)(argc - i - 2) * sizeof(*argv));
			argc -= 2;
			i--;
		}
	}
	optind = 0;                  /* the command parses its own options */
	*argc_p = argc;
	*argv_p = argv;
	return found;
}
