/*
 * corpus.c - relaygate corpus-report: the engine over a labelled corpus.
 *
 *   relaygate corpus-report [-c CONFIG] MANIFEST.tsv
 *
 * The manifest has a header row and tab-separated columns: file (relative
 * to the manifest), verdict (pass or block), rules that must be reported,
 * rules that must not be (comma-separated), a note.  Prints per rule how
 * many required findings were reported and how many forbidden ones
 * appeared, then false blocks (compliant messages blocked) and missed
 * blocks.  Exit 0 when nothing was missed, nothing forbidden appeared and
 * no compliant message was blocked; 1 otherwise; 2 on an error.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cli.h"
#include "relaygate.h"

struct tally {
	unsigned required, reported, forbidden, appeared;
};

static int
has_rule(const struct rg_result *result, rg_rule rule)
{
	for (size_t i = 0; i < result->count; i++)
		if (result->findings[i].rule == rule)
			return 1;
	return 0;
}

/* count - tally one column's rules; unknown ids go to *unknown */
static void
count(struct tally *tally, GHashTable *unknown, const char *field,
      const struct rg_result *result, int forbidden, const char *file)
{
	gchar **ids = g_strsplit(field, ",", -1);

	for (gchar **id = ids; *id != NULL; id++) {
		rg_rule rule;

		g_strstrip(*id);
		if (**id == '\0')
			continue;
		if (rg_rule_lookup(*id, &rule) < 0) {
			g_hash_table_add(unknown, g_strdup(*id));
			continue;
		}
		if (forbidden) {
			tally[rule].forbidden++;
			if (has_rule(result, rule)) {
				tally[rule].appeared++;
				printf("  forbidden %s reported in %s\n", *id, file);
			}
		} else {
			tally[rule].required++;
			if (has_rule(result, rule))
				tally[rule].reported++;
			else
				printf("  required %s missed in %s\n", *id, file);
		}
	}
	g_strfreev(ids);
}

static int
report(rg_scan *scan, const char *manifest)
{
	struct tally tally[RG_RULE_COUNT] = { { 0 } };
	GHashTable *unknown = g_hash_table_new_full(g_str_hash, g_str_equal,
	                                            g_free, NULL);
	char *dir = g_path_get_dirname(manifest);
	unsigned messages = 0, compliant = 0, false_blocks = 0,
	         missed_blocks = 0, missed = 0, appeared = 0, errors = 0;
	gchar *text = NULL, **lines;
	GError *error = NULL;

	if (!g_file_get_contents(manifest, &text, NULL, &error)) {
		fprintf(stderr, "relaygate: %s\n", error->message);
		g_error_free(error);
		g_free(dir);
		g_hash_table_destroy(unknown);
		return RG_EXIT_ERROR;
	}
	lines = g_strsplit(text, "\n", -1);
	for (gchar **line = lines + 1; *line != NULL; line++) {
		gchar **f = g_strsplit(*line, "\t", -1);
		struct rg_result result;
		char *path, *scan_error = NULL;
		gchar *data = NULL;
		gsize len = 0;

		if (g_strv_length(f) < 4) {
			g_strfreev(f);
			continue;
		}
		path = g_build_filename(dir, f[0], NULL);
		if (!g_file_get_contents(path, &data, &len, NULL) ||
		    rg_scan_message(scan, (const unsigned char *)data, len,
		                    &result, &scan_error) < 0) {
			printf("  cannot judge %s%s%s\n", f[0],
			       scan_error ? ": " : "", scan_error ? scan_error : "");
			g_free(scan_error);
			errors++;
		} else {
			int blocked = result.verdict >= RG_ACTION_QUARANTINE;

			messages++;
			if (strcmp(f[1], "pass") == 0) {
				compliant++;
				if (blocked) {
					false_blocks++;
					printf("  false block: %s (%s)\n", f[0],
					       rg_verdict_name(result.verdict));
				}
			} else if (!blocked) {
				missed_blocks++;
				printf("  missed block: %s\n", f[0]);
			}
			count(tally, unknown, f[2], &result, 0, f[0]);
			count(tally, unknown, f[3], &result, 1, f[0]);
			rg_result_clear(&result);
		}
		g_free(data);
		g_free(path);
		g_strfreev(f);
	}

	printf("\n%-22s %9s %9s %10s %9s\n", "rule", "required", "reported",
	       "forbidden", "appeared");
	for (unsigned i = 0; i < RG_RULE_COUNT; i++) {
		if (tally[i].required == 0 && tally[i].forbidden == 0)
			continue;
		printf("%-22s %9u %9u %10u %9u\n", rg_rule_name((rg_rule)i),
		       tally[i].required, tally[i].reported, tally[i].forbidden,
		       tally[i].appeared);
		missed += tally[i].required - tally[i].reported;
		appeared += tally[i].appeared;
	}
	if (g_hash_table_size(unknown) > 0) {
		GList *keys = g_hash_table_get_keys(unknown);

		keys = g_list_sort(keys, (GCompareFunc)strcmp);
		printf("rules this relaygate does not know:");
		for (GList *k = keys; k != NULL; k = k->next)
			printf(" %s", (const char *)k->data);
		putchar('\n');
		g_list_free(keys);
	}
	printf("\nmessages judged: %u (%u labelled pass), unreadable: %u\n",
	       messages, compliant, errors);
	printf("required findings missed: %u; forbidden findings: %u\n",
	       missed, appeared);
	printf("false blocks: %u; missed blocks: %u\n", false_blocks,
	       missed_blocks);

	g_strfreev(lines);
	g_free(text);
	g_free(dir);
	g_hash_table_destroy(unknown);
	if (errors > 0)
		return RG_EXIT_ERROR;
	return missed || appeared || false_blocks ? RG_EXIT_BLOCKED
	                                          : RG_EXIT_PASS;
}

int
rg_cmd_corpus_report(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	rg_policy *policy;
	rg_scan *scan;
	int opt, status;

	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'h':
			printf("usage: relaygate corpus-report [-c CONFIG] "
			       "MANIFEST.tsv\n");
			return RG_EXIT_PASS;
		default: return RG_EXIT_ERROR;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: relaygate corpus-report [-c CONFIG] "
		        "MANIFEST.tsv\n");
		return RG_EXIT_ERROR;
	}
	policy = rg_cli_load_policy(config_path);
	if (policy == NULL)
		return RG_EXIT_ERROR;
	scan = rg_scan_new(policy);
	status = report(scan, argv[optind]);
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
	return status;
}
