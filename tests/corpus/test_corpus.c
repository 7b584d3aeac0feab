/*
 * test_corpus.c - the labelled corpus (../shared/corpus/manifest.tsv):
 * every must-rule the engine knows is reported, no forbid-rule is, and a
 * message labelled "pass" has no finding at all.  The public MIME-parser
 * samples (../shared/mime-samples) must scan without an engine error.
 * ../shared is read in place; without it these cases are skipped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "conf/config.h"
#include "testutil.h"

struct row {
	char *file;
	char *verdict;     /* "pass" or "block" */
	char **must;
	char **forbid;
};

static rg_policy *policy;

static void
check_row(void **state)
{
	const struct row *row = *state;
	char *relative = g_strdup_printf("corpus/%s", row->file);
	char *path = tu_shared(relative);
	struct rg_result result;
	unsigned char *data;
	size_t len;
	int failed = 0;

	g_free(relative);
	if (path == NULL)
		fail_msg("%s listed in the manifest but missing", row->file);
	data = tu_read_file(path, &len);
	{
		rg_scan *scan = rg_scan_new(policy);
		char *error = NULL;

		if (rg_scan_message(scan, data, len, &result, &error) < 0)
			fail_msg("%s: %s", row->file, error);
		rg_scan_free(&scan);
	}
	for (char **r = row->must; *r; r++) {
		rg_rule rule;

		if (rg_rule_lookup(*r, &rule) < 0)
			continue; /* a rule of a later issue */
		if (tu_count(&result, rule) == 0) {
			print_error("%s: must report %s, did not\n", row->file, *r);
			failed = 1;
		}
	}
	for (char **r = row->forbid; *r; r++) {
		rg_rule rule;

		if (rg_rule_lookup(*r, &rule) < 0)
			continue;
		if (tu_count(&result, rule) != 0) {
			print_error("%s: must not report %s, did\n", row->file, *r);
			failed = 1;
		}
	}
	if (strcmp(row->verdict, "pass") == 0 && result.count != 0) {
		print_error("%s: labelled pass, has findings\n", row->file);
		failed = 1;
	}
	if (failed)
		tu_dump(&result);
	rg_result_clear(&result);
	g_free(data);
	g_free(path);
	if (failed)
		fail();
}

static void
check_sample(void **state)
{
	const char *file = *state;
	char *relative = g_strdup_printf("mime-samples/%s", file);
	char *path = tu_shared(relative);
	rg_scan *scan = rg_scan_new(policy);
	struct rg_result result;
	unsigned char *data;
	char *error = NULL;
	size_t len;

	g_free(relative);
	assert_non_null(path);
	data = tu_read_file(path, &len);
	if (rg_scan_message(scan, data, len, &result, &error) < 0)
		fail_msg("%s: engine error %s", file, error);
	/* whatever the findings, each names a rule and a place */
	for (size_t i = 0; i < result.count; i++) {
		assert_non_null(result.findings[i].part);
		assert_non_null(result.findings[i].excerpt);
	}
	rg_result_clear(&result);
	rg_scan_free(&scan);
	g_free(data);
	g_free(path);
}

/* shipped_policy - the policy of conf/relaygate.conf, as installed */
static rg_policy *
shipped_policy(void)
{
	const char *top = getenv("top_srcdir");
	char *path = g_strdup_printf("%s/conf/relaygate.conf",
	                             top ? top : RG_SRCDIR);
	struct rg_config config;
	char *error = NULL;
	rg_policy *p;

	rg_engine_init();
	if (rg_config_load(path, &config, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		exit(1);
	}
	p = tu_policy_from(&config.settings);
	rg_config_clear(&config);
	g_free(path);
	return p;
}

static char **
split_rules(const char *field)
{
	return *field ? g_strsplit(field, ",", -1) : g_new0(char *, 1);
}

static void
skip_all(void **state)
{
	(void)state;
	print_message("../shared is absent: corpus cases skipped\n");
	skip();
}

int
main(void)
{
	char *manifest = tu_shared("corpus/manifest.tsv");
	char *samples_dir = tu_shared("mime-samples");
	GPtrArray *tests = g_ptr_array_new();
	GPtrArray *rows = g_ptr_array_new();
	GPtrArray *samples = g_ptr_array_new_with_free_func(g_free);
	struct CMUnitTest *list;
	int rc;

	policy = shipped_policy();
	if (manifest != NULL) {
		gchar *text = NULL;
		gchar **lines;

		g_file_get_contents(manifest, &text, NULL, NULL);
		lines = g_strsplit(text ? text : "", "\n", -1);
		for (gchar **l = lines + 1; *l; l++) {
			gchar **f = g_strsplit(*l, "\t", -1);
			struct row *row;

			if (g_strv_length(f) < 4) {
				g_strfreev(f);
				continue;
			}
			row = g_new0(struct row, 1);
			row->file = g_strdup(f[0]);
			row->verdict = g_strdup(f[1]);
			row->must = split_rules(f[2]);
			row->forbid = split_rules(f[3]);
			g_ptr_array_add(rows, row);
			g_strfreev(f);
		}
		g_strfreev(lines);
		g_free(text);
	}
	if (samples_dir != NULL) {
		GDir *dir = g_dir_open(samples_dir, 0, NULL);
		const char *name;

		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL)
			if (g_str_has_suffix(name, ".eml"))
				g_ptr_array_add(samples, g_strdup(name));
		if (dir != NULL)
			g_dir_close(dir);
		g_ptr_array_sort(samples, (GCompareFunc)g_strcmp0);
	}

	list = g_new0(struct CMUnitTest, rows->len + samples->len + 1);
	for (guint i = 0; i < rows->len; i++) {
		struct row *row = g_ptr_array_index(rows, i);

		list[i].name = row->file;
		list[i].test_func = check_row;
		list[i].initial_state = row;
	}
	for (guint i = 0; i < samples->len; i++) {
		struct CMUnitTest *t = &list[rows->len + i];

		t->name = g_ptr_array_index(samples, i);
		t->test_func = check_sample;
		t->initial_state = g_ptr_array_index(samples, i);
	}
	if (rows->len + samples->len == 0) {
		list[0].name = "shared corpus";
		list[0].test_func = skip_all;
		rc = _cmocka_run_group_tests("corpus", list, 1, NULL, NULL);
	} else {
		rc = _cmocka_run_group_tests("corpus", list,
		                             rows->len + samples->len, NULL,
		                             NULL);
	}

	for (guint i = 0; i < rows->len; i++) {
		struct row *row = g_ptr_array_index(rows, i);

		g_free(row->file);
		g_free(row->verdict);
		g_strfreev(row->must);
		g_strfreev(row->forbid);
		g_free(row);
	}
	g_ptr_array_free(rows, TRUE);
	g_ptr_array_free(samples, TRUE);
	g_ptr_array_free(tests, TRUE);
	g_free(list);
	g_free(manifest);
	g_free(samples_dir);
	rg_policy_unref(&policy);
	rg_engine_shutdown();
	return rc;
}
