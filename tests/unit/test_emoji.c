/*
 * test_emoji.c - rule emoji: pictographs and emoji sequences (one finding
 * each), ASCII emoticons, and the text symbols and punctuation that are
 * not emoji.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "testutil.h"

static const struct {
	const char *name;
	const char *body;
	size_t want;
} cases[] = {
	/* from the corpus */
	{ "gift fr", "Vous avez choisi l'emballage cadeau pour la commande "
	  "402-9938014-6621570 \xf0\x9f\x8e\x81 Souhaitez-vous ...", 1 },
	{ "smiley", "Thanks so much :)", 1 },
	{ "signature marks", "\xc2\xa9 2026 Acme\xe2\x84\xa2", 0 },
	{ "curly quotes", "a \xe2\x80\x9cWildflower Meadow\xe2\x80\x9d tin "
	  "won\xe2\x80\x99t arrive", 0 },
	{ "japanese", "\xe3\x81\x94\xe6\xb3\xa8\xe6\x96\x87\xe7\x95\xaa\xe5"
	  "\x8f\xb7 249-6603128-9915740 \xe3\x81\xae\xe4\xbb\xb6", 0 },

	/* pictographs and sequences */
	{ "thumbs up", "\xf0\x9f\x91\x8d", 1 },
	{ "two in a row", "\xf0\x9f\x99\x82\xf0\x9f\x99\x82", 2 },
	{ "heart, text default", "\xe2\x9d\xa4", 1 },
	{ "heart with VS16", "\xe2\x9d\xa4\xef\xb8\x8f", 1 },
	{ "smiling face", "\xe2\x98\xba", 1 },
	{ "check mark button", "\xe2\x9c\x85", 1 },
	{ "watch", "\xe2\x8c\x9a", 1 },
	{ "skin tone", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 1 },
	{ "zwj family", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80"
	  "\x8d\xf0\x9f\x91\xa7", 1 },
	{ "zwj with text symbol", "\xf0\x9f\xa7\x91\xe2\x80\x8d\xe2\x9a\x95"
	  "\xef\xb8\x8f", 1 },
	{ "transgender flag", "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xe2"
	  "\x9a\xa7\xef\xb8\x8f", 1 },
	{ "flag", "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7", 1 },
	{ "two flags", "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7\xf0\x9f\x87\xa9\xf0"
	  "\x9f\x87\xaa", 2 },
	{ "lone regional indicator", "\xf0\x9f\x87\xab", 1 },
	{ "england flag (tags)", "\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81"
	  "\xa2\xf3\xa0\x81\xa5\xf3\xa0\x81\xae\xf3\xa0\x81\xa7\xf3\xa0\x81"
	  "\xbf", 1 },
	{ "keycap", "Press 1\xef\xb8\x8f\xe2\x83\xa3", 1 },
	{ "keycap without VS16", "#\xe2\x83\xa3", 1 },
	{ "copyright as emoji", "\xc2\xa9\xef\xb8\x8f", 1 },
	{ "warning as emoji", "\xe2\x9a\xa0\xef\xb8\x8f", 1 },
	{ "mixed", "a \xf0\x9f\x8e\x81 and :) and <3", 3 },

	/* text symbols that are not emoji */
	{ "registered", "Acme\xc2\xae", 0 },
	{ "double exclamation", "Now \xe2\x80\xbc", 0 },
	{ "warning sign", "\xe2\x9a\xa0 Warning: \xe2\x99\xbb recyclable", 0 },
	{ "check mark", "\xe2\x9c\x94 Waterproof \xe2\x9c\x96 Dishwasher", 0 },
	{ "arrows", "\xe2\x86\x94 30 cm \xe2\x86\x95 40 cm \xe2\x9e\xa1", 0 },
	{ "device controls", "press \xe2\x8f\x8f then \xe2\x96\xb6", 0 },
	{ "stars", "\xe2\x98\x85\xe2\x98\x85\xe2\x98\x85\xe2\x98\x86", 0 },
	{ "music and chess", "\xe2\x99\xaa \xe2\x99\xaf \xe2\x99\x9e", 0 },
	{ "ballot box", "\xe2\x98\x90 yes \xe2\x98\x91 no", 0 },
	{ "sex symbols", "\xe2\x99\x80 \xe2\x99\x82", 0 },
	{ "arrow", "\xe2\x86\x92 next", 0 },
	{ "digits, # and *", "Item #3 * 10", 0 },

	/* emoticons */
	{ ":-)", "ok :-)", 1 },
	{ ";)", "ok ;)", 1 },
	{ ";-)", "ok ;-)", 1 },
	{ ":D", "ok :D", 1 },
	{ ":-D", "ok :-D", 1 },
	{ ":(", "sorry :(", 1 },
	{ ":-(", "sorry :-(", 1 },
	{ ":P", "ha :P", 1 },
	{ ":-P", "ha :-P", 1 },
	{ ";P", "ha ;P", 1 },
	{ ":/", "hmm :/", 1 },
	{ ":-/", "hmm :-/", 1 },
	{ "<3", "we <3 you", 1 },
	{ "</3", "oh </3", 1 },
	{ ":o", "wow :o", 1 },
	{ "XD", "haha XD", 1 },
	{ "XD!", "haha XD!", 1 },
	{ "^_^", "thanks ^_^", 1 },
	{ ":'(", "sad :'(", 1 },
	{ "=)", "ok =)", 1 },
	{ ":|", "meh :|", 1 },
	{ "o_O", "what o_O", 1 },
	{ "-_-", "sigh -_-", 1 },
	{ ":))", "great :))", 1 },
	{ "touching a word", "great:)", 1 },
	{ "line start", ":)\nbye", 1 },
	{ "at the end of a sentence", "Enjoy :).", 1 },

	/* near misses */
	{ "time", "at 10:30", 0 },
	{ "note colon", "Note: (see below)", 0 },
	{ "ratio", "a 3:2 ratio", 0 },
	{ "one to one", "1:1 copy", 0 },
	{ "url", "https://www.amazon.com/", 0 },
	{ "path", "C:\\Users\\me", 0 },
	{ "list markers", "a) first b) second", 0 },
	{ "reversed smiley", "(: foo)", 0 },
	{ "less than 3 days", "ships in <3 days", 0 },
	{ "less than 3 weeks", "<3 weeks", 0 },
	{ "less than 3 mm", "<3 mm", 0 },
	{ "less than 3 percent", "<3%", 0 },
	{ "less than 3.5", "<3.5", 0 },
	{ "less than 30", "<30", 0 },
	{ "comparison", "x<3", 0 },
	{ "size", "Size:S Grade:D Class:P", 0 },
	{ "subject reply", "Re:(no subject)", 0 },
	{ "product code", "XD card", 0 },
	{ "xD picture card", "xD-Picture card", 0 },
	{ "model", "Model:P-100", 0 },
	{ "list number", "list:(1)", 0 },
	{ "code", "for(;;) x[:]", 0 },
	{ "emphasis", "the ^ sign and a_b", 0 },
};

static void
test_cases(void **state)
{
	rg_policy *policy = tu_policy();
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_result result;
		size_t got;

		tu_scan_plain(policy, NULL, cases[i].body, &result);
		got = tu_count(&result, RG_RULE_EMOJI);
		if (got != cases[i].want) {
			print_message("FAIL %s: emoji %zu (want %zu)\n",
			              cases[i].name, got, cases[i].want);
			tu_dump(&result);
			failed++;
		}
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
	if (failed > 0)
		fail_msg("%d of %zu cases failed", failed, G_N_ELEMENTS(cases));
}

/* one finding per sequence, its excerpt the whole sequence, in text
 * order, at the right line and column */
static void
test_excerpts(void **state)
{
	static const char family[] = "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f"
		"\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7";
	static const char keycap[] = "1\xef\xb8\x8f\xe2\x83\xa3";
	rg_policy *policy = tu_policy();
	struct rg_result result;
	const struct rg_finding *f[4];
	size_t n = 0;
	char *body = g_strdup_printf("Hi,\nthanks :) %s\n\xc3\xa9t\xc3\xa9 %s "
	                             "<3", family, keycap);

	(void)state;
	tu_scan_plain(policy, NULL, body, &result);
	for (size_t i = 0; i < result.count && n < 4; i++)
		if (result.findings[i].rule == RG_RULE_EMOJI)
			f[n++] = &result.findings[i];
	if (n != 4) {
		tu_dump(&result);
		fail_msg("want 4 emoji findings, got %zu", n);
	}
	assert_string_equal(f[0]->excerpt, ":)");
	assert_int_equal(f[0]->line, 2);
	assert_int_equal(f[0]->column, 8);
	assert_string_equal(f[1]->excerpt, family);
	assert_int_equal(f[1]->line, 2);
	assert_int_equal(f[1]->column, 11);
	assert_string_equal(f[2]->excerpt, keycap);
	assert_int_equal(f[2]->line, 3);
	assert_int_equal(f[2]->column, 5);
	assert_string_equal(f[3]->excerpt, "<3");
	assert_int_equal(f[3]->column, 9);
	assert_string_equal(f[3]->part, "1");
	rg_result_clear(&result);
	g_free(body);
	rg_policy_unref(&policy);
}

static void
test_subject_and_html(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	tu_scan_plain(policy, "Your gift \xf0\x9f\x8e\x81 111-2222222-3333333",
	              "Hello", &result);
	f = tu_first(&result, RG_RULE_EMOJI);
	assert_non_null(f);
	assert_string_equal(f->part, "subject");
	assert_string_equal(f->excerpt, "\xf0\x9f\x8e\x81");
	rg_result_clear(&result);

	/* a numeric character reference is an emoji once decoded */
	tu_scan_html(policy, NULL, "<p>Merci &#x1F381; !</p>", &result);
	assert_int_equal(tu_count(&result, RG_RULE_EMOJI), 1);
	rg_result_clear(&result);
	/* "&lt;3" is what the buyer sees as <3 */
	tu_scan_html(policy, NULL, "<p>We &lt;3 you</p>", &result);
	assert_int_equal(tu_count(&result, RG_RULE_EMOJI), 1);
	rg_result_clear(&result);
	tu_scan_html(policy, NULL, "<p>Ships in &lt;3 days</p>", &result);
	assert_int_equal(tu_count(&result, RG_RULE_EMOJI), 0);
	rg_result_clear(&result);
	/* markup is not text */
	tu_scan_html(policy, NULL, "<p title=\":)\">Hello</p>", &result);
	assert_int_equal(tu_count(&result, RG_RULE_EMOJI), 0);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

static void
test_rule_off(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;
	struct rg_result result;

	(void)state;
	rg_settings_init(&settings);
	settings.actions[RG_RULE_EMOJI] = RG_ACTION_OFF;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	tu_scan_plain(policy, NULL, "Thanks :) \xf0\x9f\x8e\x81", &result);
	assert_int_equal(tu_count(&result, RG_RULE_EMOJI), 0);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

static char *
repeat(const char *unit, size_t times)
{
	size_t n = strlen(unit);
	char *s = g_malloc(n * times + 1);

	for (size_t i = 0; i < times; i++)
		memcpy(s + i * n, unit, n);
	s[n * times] = '\0';
	return s;
}

/* Long hostile texts: no limit hit, linear time. */
static void
test_long_inputs(void **state)
{
	static const struct {
		const char *unit;
		size_t times;
		size_t want;
	} inputs[] = {
		{ ":", 300000, 0 },
		{ ":-", 200000, 0 },
		{ "\xef\xb8\x8f", 100000, 0 },              /* lone VS16 */
		{ "\xe2\x80\x8d", 100000, 0 },              /* lone ZWJ */
		{ "^", 300000, 0 },
		/* a 10,000-pictograph ZWJ chain: 8 per finding */
		{ "\xf0\x9f\x91\xa8\xe2\x80\x8d", 10000, 1250 },
	};
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
		char *body = repeat(inputs[i].unit, inputs[i].times);
		struct rg_result result;

		tu_scan_plain(policy, NULL, body, &result);
		if (tu_count(&result, RG_RULE_UNCHECKABLE) != 0 ||
		    tu_count(&result, RG_RULE_EMOJI) != inputs[i].want) {
			print_message("%zu emoji findings\n",
			              tu_count(&result, RG_RULE_EMOJI));
			fail_msg("\"%s\" x %zu", inputs[i].unit,
			         inputs[i].times);
		}
		rg_result_clear(&result);
		g_free(body);
	}
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_excerpts),
		cmocka_unit_test(test_subject_and_html),
		cmocka_unit_test(test_rule_off),
		cmocka_unit_test(test_long_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
