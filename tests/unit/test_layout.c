/*
 * test_layout.c - rule line-breaks: more than two line breaks in a row in
 * plain text and in HTML, and the gaps that are fine.
 */
#include "config.h"

#include <glib.h>

#include "testutil.h"

static const struct {
	const char *name;
	int html;
	const char *body;
	size_t want;
	unsigned line;         /* of the first finding, when want > 0 */
} cases[] = {
	{ "one blank line", 0, "Hi,\n\nThe parcel left.\n\nBye\n", 0, 0 },
	{ "two blank lines", 0, "Hi,\n\n\nThe parcel left.\n", 1, 2 },
	{ "blank lines with spaces", 0, "Hi,\n \n\t\nThe parcel.\n", 1, 2 },
	{ "CRLF single blank lines", 0, "Hi,\r\n\r\nThe parcel.\r\n\r\nBye\r\n",
	  0, 0 },
	{ "CRLF two blank lines", 0, "Hi,\r\n\r\n\r\nThe parcel.\r\n", 1, 2 },
	{ "trailing blank lines", 0, "Hi,\nThe parcel.\n\n\n\n\n", 0, 0 },
	{ "leading blank lines", 0, "\n\n\n\nHi,\nThe parcel.\n", 0, 0 },
	{ "two runs", 0, "a\n\n\nb\nc\n\n\n\nd\n", 2, 2 },
	{ "nbsp-only lines", 0, "a\n\xc2\xa0\n\xc2\xa0\nb\n", 1, 2 },
	{ "html paragraphs", 1, "<p>a</p><p>b</p><p>c</p>", 0, 0 },
	{ "html one empty paragraph", 1, "<p>a</p><p>&nbsp;</p><p>b</p>", 0, 0 },
	{ "html three empty paragraphs", 1,
	  "<p>a</p><p>&nbsp;</p><p>&nbsp;</p><p>&nbsp;</p><p>b</p>", 1, 2 },
	{ "html gmail blank div", 1, "a<div><br></div><div>b</div>", 0, 0 },
	{ "html br br br", 1, "a<br><br><br>b", 1, 2 },
	{ "html br br", 1, "a<br><br>b", 0, 0 },
};

static void
test_cases(void **state)
{
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_result result;
		const struct rg_finding *f;

		if (cases[i].html)
			tu_scan_html(policy, NULL, cases[i].body, &result);
		else
			tu_scan_plain(policy, NULL, cases[i].body, &result);
		if (tu_count(&result, RG_RULE_LINE_BREAKS) != cases[i].want) {
			tu_dump(&result);
			fail_msg("%s: want %zu line-breaks findings", cases[i].name,
			         cases[i].want);
		}
		f = tu_first(&result, RG_RULE_LINE_BREAKS);
		if (f != NULL && f->line != cases[i].line)
			fail_msg("%s: line %u, want %u", cases[i].name, f->line,
			         cases[i].line);
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
