/*
 * output.c - printing results of `relaygate check`.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "output.h"

/* json_string - s as a JSON string; s need not be valid UTF-8 */
static void
json_string(FILE *out, const char *s)
{
	char *valid = g_utf8_make_valid(s, -1);

	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)valid; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
	g_free(valid);
}

void
rg_print_json(FILE *out, const char *file, const struct rg_result *result)
{
	fputs("{\"file\":", out);
	json_string(out, file);
	fprintf(out, ",\"verdict\":\"%s\",\"findings\":[",
	        rg_verdict_name(result->verdict));
	for (size_t i = 0; i < result->count; i++) {
		const struct rg_finding *f = &result->findings[i];

		fprintf(out, "%s{\"rule\":\"%s\",\"action\":\"%s\",\"part\":",
		        i ? "," : "", rg_rule_name(f->rule),
		        rg_action_name(f->action));
		json_string(out, f->part);
		fprintf(out, ",\"line\":%u,\"column\":%u,\"excerpt\":", f->line,
		        f->column);
		json_string(out, f->excerpt);
		fputc('}', out);
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
