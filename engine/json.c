/*
 * json.c - findings as JSON.
 */
#include "config.h"

#include "json.h"

void
rg_json_string(GString *out, const char *s)
{
	char *valid = g_utf8_make_valid(s != NULL ? s : "", -1);

	g_string_append_c(out, '"');
	for (const unsigned char *p = (const unsigned char *)valid; *p; p++) {
		switch (*p) {
		case '"': g_string_append(out, "\\\""); break;
		case '\\': g_string_append(out, "\\\\"); break;
		case '\n': g_string_append(out, "\\n"); break;
		case '\r': g_string_append(out, "\\r"); break;
		case '\t': g_string_append(out, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
	g_string_append_c(out, '"');
	g_free(valid);
}

void
rg_json_finding(GString *out, const struct rg_finding *f, int explain)
{
	g_string_append(out, "{\"rule\":");
	rg_json_string(out, rg_rule_name(f->rule));
	g_string_append(out, ",\"action\":");
	rg_json_string(out, rg_action_name(f->action));
	g_string_append(out, ",\"part\":");
	rg_json_string(out, f->part);
	g_string_append_printf(out, ",\"line\":%u,\"column\":%u,\"excerpt\":",
	                       f->line, f->column);
	rg_json_string(out, f->excerpt);
	if (explain) {
		g_string_append(out, ",\"guidance\":");
		rg_json_string(out, rg_rule_guidance(f->rule));
		g_string_append(out, ",\"citation\":");
		rg_json_string(out, rg_rule_citation(f->rule));
	}
	g_string_append_c(out, '}');
}
