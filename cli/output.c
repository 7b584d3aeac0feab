/*
 * output.c - printing results of `relaygate check`.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "json.h"
#include "output.h"

/* json_string - s as a JSON string; s need not be valid UTF-8 */
static void
json_string(FILE *out, const char *s)
{
	GString *j = g_string_new(NULL);

	rg_json_string(j, s);
	fputs(j->str, out);
	g_string_free(j, TRUE);
}

void
rg_print_json(FILE *out, const char *file, const struct rg_result *result)
{
	fputs("{\"file\":", out);
	json_string(out, file);
	fprintf(out, ",\"verdict\":\"%s\",\"findings\":[",
	        rg_verdict_name(result->verdict));
	for (size_t i = 0; i < result->count; i++) {
		GString *j = g_string_new(i ? "," : "");

		rg_json_finding(j, &result->findings[i], 0);
		fputs(j->str, out);
		g_string_free(j, TRUE);
	}
	fputs("]}\n", out);
}

void
rg_print_json_error(FILE *out, const char *file, const char *error)
{
	fputs("{\"file\":", out);
	json_string(out, file);
	fputs(",\"error\":", out);
	json_string(out, error);
	fputs("}\n", out);
}

void
rg_print_human(FILE *out, const char *file, const struct rg_result *result)
{
	int shown[RG_RULE_COUNT] = { 0 };

	fprintf(out, "%s: %s", file, rg_verdict_name(result->verdict));
	if (result->count > 0)
		fprintf(out, " (%zu finding%s)", result->count,
		        result->count == 1 ? "" : "s");
	fputc('\n', out);
	for (size_t i = 0; i < result->count; i++) {
		char *line = rg_finding_describe(&result->findings[i], 0);

		fprintf(out, "  %s [%s]\n", line,
		        rg_action_name(result->findings[i].action));
		g_free(line);
	}
	/* one line of guidance per rule broken */
	for (size_t i = 0; i < result->count; i++) {
		rg_rule rule = result->findings[i].rule;

		if (shown[rule]++)
			continue;
		fprintf(out, "  fix %s: %s\n", rg_rule_name(rule),
		        rg_rule_guidance(rule));
	}
}
