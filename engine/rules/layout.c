/*
 * layout.c - rule line-breaks: more than two line breaks in a row, in
 * plain text or in HTML (<br> and empty-paragraph runs: the HTML view
 * renders each as a line, see html.h).  Lines holding only white space
 * (NFKC made &nbsp; a space) count as empty.  Runs before the first or
 * after the last text are not gaps the buyer sees.
 */
#include "config.h"

#include <glib.h>

#include "internal.h"

/* Three line breaks in a row is "more than two". */
#define MAX_LINE_BREAKS 2

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
check_part(rg_scan *scan, const struct rg_part *part)
{
	const char *t = part->text;
	size_t len = part->text_len;
	size_t first = 0, last = len;

	while (first < len && (is_blank(t[first]) || t[first] == '\n'))
		first++;
	while (last > first && (is_blank(t[last - 1]) || t[last - 1] == '\n'))
		last--;

	for (size_t i = first; i < last; i++) {
		unsigned breaks = 0;
		size_t run = i;

		if (t[i] != '\n')
			continue;
		while (run < last && (t[run] == '\n' || is_blank(t[run]))) {
			if (t[run] == '\n')
				breaks++;
			run++;
		}
		if (breaks > MAX_LINE_BREAKS) {
			unsigned line, column;
			char *note = rg_strdup_printf("%u line breaks in a row",
			                              breaks);

			/* at the first empty line */
			rg_part_position(scan, part, i + 1, &line, &column);
			rg_report_at(scan, RG_RULE_LINE_BREAKS, part->path, line,
			             column, note);
			g_free(note);
		}
		i = run - 1;
	}
}

void
rg_rules_layout(rg_scan *scan, const struct rg_view *view)
{
	if (!rg_rule_active(scan, RG_RULE_LINE_BREAKS))
		return;
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];

		if (part->kind == RG_PART_PLAIN || part->kind == RG_PART_HTML)
			check_part(scan, part);
	}
}
