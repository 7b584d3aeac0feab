/*
 * check.c - relaygate check: the engine over message files.
 *
 *   relaygate check [-c CONFIG] [--json] FILE.eml... ('-' is stdin)
 *
 * Exit 0 when every file passes or only warns, 1 when any would be
 * quarantined or rejected, 2 on an error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "cli.h"
#include "conf/config.h"
#include "output.h"
#include "relaygate.h"
#include "store/orders.h"

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: relaygate check [-c CONFIG] [--json] FILE.eml...\n"
	        "       relaygate check [-c CONFIG] --explain RULE|all\n"
	        "  Judge messages against the marketplace messaging policy.\n"
	        "  FILE '-' reads standard input.  Without -c, %s is read\n"
	        "  if it exists, else the sample relaygate.conf of the source\n"
	        "  tree this program was built from.\n"
	        "  Exit: 0 pass or warn, 1 quarantine or reject, 2 error.\n",
	        RG_DEFAULT_CONFIG);
}

rg_policy *
rg_cli_load_policy(const char *path)
{
	struct rg_config config;
	rg_policy *policy;
	char *error = NULL;

	/* the installed file, else the sample beside a build tree (which
	 * brings the phrase lists), else the built-in settings */
	if (path == NULL && access(RG_DEFAULT_CONFIG, F_OK) == 0)
		path = RG_DEFAULT_CONFIG;
	if (path == NULL && access(RG_SRCDIR "/conf/relaygate.conf", F_OK) == 0)
		path = RG_SRCDIR "/conf/relaygate.conf";
	if (path == NULL)
		fprintf(stderr, "relaygate: no configuration found (%s): built-in "
		        "settings, without phrase lists\n", RG_DEFAULT_CONFIG);
	if (path != NULL) {
		if (rg_config_load(path, &config, &error) < 0) {
			fprintf(stderr, "relaygate: %s\n", error);
			free(error);
			return NULL;
		}
	} else {
		memset(&config, 0, sizeof(config));
		rg_settings_init(&config.settings);
	}
	policy = rg_policy_build(&config.settings, &error);
	if (policy == NULL) {
		fprintf(stderr, "relaygate: %s: %s\n", path ? path : "defaults",
		        error);
		free(error);
	}
	rg_config_clear(&config);
	return policy;
}

static unsigned char *
read_all(int fd, size_t *len_r)
{
	GByteArray *bytes = g_byte_array_new();
	unsigned char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			g_byte_array_free(bytes, TRUE);
			return NULL;
		}
		g_byte_array_append(bytes, buf, (guint)n);
	}
	*len_r = bytes->len;
	return g_byte_array_free(bytes, FALSE);
}

/* check_file - judge one file; returns its exit status */
static int
check_file(rg_scan *scan, const char *file, int json)
{
	struct rg_result result;
	char *error = NULL;
	int rc, fd;

	if (strcmp(file, "-") == 0) {
		size_t len;
		unsigned char *data = read_all(STDIN_FILENO, &len);

		if (data == NULL) {
			error = g_strdup_printf("stdin: %s", strerror(errno));
			rc = -1;
		} else {
			rc = rg_scan_message(scan, data, len, &result, &error);
			g_free(data);
		}
	} else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		error = g_strdup(strerror(errno));
		rc = -1;
	} else {
		rc = rg_scan_fd(scan, fd, &result, &error);
		close(fd);
	}
	if (rc < 0) {
		if (json)
			rg_print_json_error(stdout, file, error);
		fprintf(stderr, "relaygate: %s: %s\n", file, error);
		g_free(error);
		return RG_EXIT_ERROR;
	}
	if (json)
		rg_print_json(stdout, file, &result);
	else
		rg_print_human(stdout, file, &result);
	rc = result.verdict >= RG_ACTION_QUARANTINE ? RG_EXIT_BLOCKED : RG_EXIT_PASS;
	rg_result_clear(&result);
	return rc;
}

static void
explain_one(const rg_policy *policy, rg_rule rule)
{
	const struct rg_settings *s = rg_policy_settings(policy);

	printf("%s\n", rg_rule_name(rule));
	printf("  action:  %s\n", rg_action_name(s->actions[rule]));
	printf("  policy:  %s\n", rg_rule_citation(rule));
	printf("  fix:     %s\n", rg_rule_guidance(rule));
	printf("  passes:  %s\n", rg_rule_example(rule, 0));
	printf("  breaks:  %s\n", rg_rule_example(rule, 1));
}

/* explain - what a rule checks, its action here, and examples */
static int
explain(const rg_policy *policy, const char *name)
{
	rg_rule rule;

	if (strcmp(name, "all") == 0) {
		for (unsigned i = 0; i < RG_RULE_COUNT; i++) {
			explain_one(policy, (rg_rule)i);
			if (i + 1 < RG_RULE_COUNT)
				putchar('\n');
		}
		return RG_EXIT_PASS;
	}
	if (rg_rule_lookup(name, &rule) < 0) {
		fprintf(stderr, "relaygate: no rule \"%s\"; the rules are:", name);
		for (unsigned i = 0; i < RG_RULE_COUNT; i++)
			fprintf(stderr, " %s", rg_rule_name((rg_rule)i));
		fputc('\n', stderr);
		return RG_EXIT_ERROR;
	}
	explain_one(policy, rule);
	return RG_EXIT_PASS;
}

int
rg_cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "explain", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *explain_rule = NULL;
	int json = 0, status = RG_EXIT_PASS, opt;
	rg_policy *policy;
	rg_scan *scan;
	struct rg_store *orders;

	while ((opt = getopt_long(argc, argv, "c:jh", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'j': json = 1; break;
		case 'e': explain_rule = optarg; break;
		case 'h': usage(stdout); return RG_EXIT_PASS;
		default: usage(stderr); return RG_EXIT_ERROR;
		}
	}
	if (optind >= argc && explain_rule == NULL) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	policy = rg_cli_load_policy(config_path);
	if (policy == NULL)
		return RG_EXIT_ERROR;
	if (explain_rule != NULL) {
		status = explain(policy, explain_rule);
		rg_policy_unref(&policy);
		return status;
	}
	scan = rg_scan_new(policy);
	/* the order rules read the order store, if there is one (orders.c) */
	orders = rg_cli_orders_attach(scan, config_path);
	for (int i = optind; i < argc; i++) {
		int rc = check_file(scan, argv[i], json);

		if (rc > status)
			status = rc;
	}
	fflush(stdout);
	rg_scan_free(&scan);
	rg_store_close(&orders);
	rg_policy_unref(&policy);
	return status;
}

