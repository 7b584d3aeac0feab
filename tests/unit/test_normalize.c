/*
 * test_normalize.c - the folded text word rules match on, and its map
 * back to the original bytes.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <glib.h>

#include "normalize.h"
#include "testutil.h"

static const struct fold_case {
	const char *name;
	const char *in;
	const char *want;
} fold_cases[] = {
	{ "empty", "", "" },
	{ "lower case", "Hello WORLD", "hello world" },
	{ "zero-width space", "fr\u200Bee", "free" },
	{ "zero-width joiner and BOM", "c\u200Doup\uFEFFon", "coupon" },
	{ "soft hyphen", "dis\u00ADcount", "discount" },
	{ "word joiner", "re\u2060view", "review" },
	{ "bidi controls", "\u202Efree\u202C \u2066sale\u2069 \u200Eok\u200F",
	  "free sale ok" },
	{ "variation selector", "star\uFE0F", "star" },
	{ "C0 control inside a word", "fr\x01" "ee", "free" },
	{ "Cyrillic o", "c\u043Eupon", "coupon" },
	{ "Cyrillic capitals", "\u0421\u041EUPON", "coupon" },
	{ "Cyrillic a e p c x y", "\u0430\u0435\u0440\u0441\u0445\u0443",
	  "aepcxy" },
	{ "Cyrillic i j s", "\u0456\u0458\u0455", "ijs" },
	{ "Greek capitals", "\u0395\u03A7\u03A4RA", "extra" },
	{ "Greek omicron alpha", "\u03BFff\u03B1", "offa" },
	{ "Armenian o n", "c\u0585u\u0578t", "count" },
	{ "diacritics kept", "Größe Straße ÉTÉ", "größe straße été" },
	{ "Cyrillic yo keeps its dots", "\u0451", "\u00EB" },
	{ "typographic apostrophe", "don\u2019t", "don't" },
	{ "typographic quotes", "\u201Cfree\u201D \u00ABgift\u00BB",
	  "\"free\" \"gift\"" },
	{ "dashes", "5\u2013star 5\u2014star", "5-star 5-star" },
	{ "blank runs", "ab \t  cd\n ef", "ab cd ef" },
	{ "blank line", "one\n\ntwo\n \n\nthree", "one\ntwo\nthree" },
	{ "leading and trailing blanks", "  x  ", " x " },
	{ "leet zero", "c0upon", "coupon" },
	{ "leet three", "fr33", "free" },
	{ "leet leading digit", "5tar", "star" },
	{ "leet five star", "5star", "sstar" },
	{ "leet one", "g1ft", "gift" },
	{ "leet four seven", "4ffili47e", "affiliate" },
	{ "leet at", "c@rd", "card" },
	{ "leet dollar", "ca$h", "cash" },
	{ "handle keeps its at", "@tidewateryarns", "@tidewateryarns" },
	{ "price keeps its dollar", "$5 off", "$5 off" },
	{ "unit", "4mm", "4mm" },
	{ "ordinals", "1st 2nd 3rd 10th", "1st 2nd 3rd 10th" },
	{ "pieces", "10pcs 3pcs", "10pcs epcs" },
	{ "numbers alone", "111-2222222-3333333 2026", "111-2222222-3333333 2026" },
	{ "not Latin", "\u7B2C1\u7248", "\u7B2C1\u7248" },
	{ "spaced letters", "f r e e", "free" },
	{ "dotted letters", "f.r.e.e.", "free." },
	{ "dashed letters", "F-R-E-E gift", "free gift" },
	{ "starred letters", "s*a*l*e", "sale" },
	{ "spaced with leet", "f r 3 3", "free" },
	{ "spaced inside a sentence", "get it f r e e today",
	  "get it free today" },
	{ "article before capitals", "a F R E E gift", "a free gift" },
	{ "capital first letter", "I n s t a", "insta" },
	{ "two letters stay", "e.g. a b", "e.g. a b" },
	{ "initials stay", "J. R. R. Tolkien", "j. r. r. tolkien" },
	{ "spaced digits stay", "1 2 3 4", "1 2 3 4" },
	{ "Japanese untouched", "\u3042\u308A\u304C\u3068\u3046",
	  "\u3042\u308A\u304C\u3068\u3046" },
	{ "invalid UTF-8", "a\xff" "b", "a\uFFFDb" },
};

static void
test_fold(void **state)
{
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(fold_cases); i++) {
		const struct fold_case *c = &fold_cases[i];
		struct rg_norm norm;

		assert_int_equal(rg_normalize(c->in, strlen(c->in), &norm), 0);
		if (strcmp(norm.text, c->want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name, norm.text,
			         c->want);
		assert_int_equal(norm.len, strlen(c->want));
		assert_int_equal(norm.map[norm.len], strlen(c->in));
		/* the map never goes backwards */
		for (size_t j = 1; j < norm.len; j++)
			assert_true(norm.map[j] >= norm.map[j - 1]);
		rg_norm_clear(&norm);
	}
}

/* Folded bytes [start, end) of want_text come from the original bytes
 * [ostart, oend). */
static const struct span_case {
	const char *name;
	const char *in;
	const char *find;      /* in the folded text */
	const char *orig;      /* the original bytes behind it */
} span_cases[] = {
	{ "Cyrillic inside", "a c\u043Eupon!", "coupon", "c\u043Eupon" },
	{ "zero-width inside", "x fr\u200Bee y", "free", "fr\u200Bee" },
	{ "spaced letters", "get f r e e now", "free", "f r e e" },
	{ "leet", "use c0de", "code", "c0de" },
	{ "capitals and umlaut", "Die GRÖSSE passt", "grösse", "GRÖSSE" },
	{ "after a blank run", "a  \n  b", "b", "b" },
	{ "typographic", "don\u2019t stop", "don't", "don\u2019t" },
};

static void
test_span(void **state)
{
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(span_cases); i++) {
		const struct span_case *c = &span_cases[i];
		struct rg_norm norm;
		const char *at;
		size_t s, e, len = strlen(c->in);

		assert_int_equal(rg_normalize(c->in, len, &norm), 0);
		at = strstr(norm.text, c->find);
		if (at == NULL)
			fail_msg("%s: \"%s\" not in \"%s\"", c->name, c->find,
			         norm.text);
		rg_norm_span(&norm, c->in, len, (size_t)(at - norm.text),
		             (size_t)(at - norm.text) + strlen(c->find), &s, &e);
		if (e - s != strlen(c->orig) ||
		    memcmp(c->in + s, c->orig, e - s) != 0)
			fail_msg("%s: got \"%.*s\", want \"%s\"", c->name,
			         (int)(e - s), c->in + s, c->orig);
		rg_norm_clear(&norm);
	}
}

static void
test_fold_char(void **state)
{
	(void)state;
	assert_int_equal(rg_norm_fold_char('A'), 'a');
	assert_int_equal(rg_norm_fold_char(0x200B), 0);
	assert_int_equal(rg_norm_fold_char(0x00AD), 0);
	assert_int_equal(rg_norm_fold_char(0x202E), 0);
	assert_int_equal(rg_norm_fold_char(0x0410), 'a');   /* А */
	assert_int_equal(rg_norm_fold_char(0x00DF), 0x00DF); /* ß stays */
	assert_int_equal(rg_norm_fold_char(0x2019), '\'');
}

static void
test_strip_invisible(void **state)
{
	static const struct {
		const char *in;
		int keep_emoji;
		const char *want;
	} cases[] = {
		{ "serv\u200Bice@exam\u00ADple.com", 1, "service@example.com" },
		{ "\u202Egift\u202C\uFEFF \u2066x\u2069", 1, "gift x" },
		{ "a\x01" "b\tc\n", 1, "ab\tc\n" },
		/* a family emoji and a heart with VS16 keep their pieces */
		{ "\U0001F468\u200D\U0001F469 \u2764\uFE0F", 1,
		  "\U0001F468\u200D\U0001F469 \u2764\uFE0F" },
		{ "\U0001F468\u200D\U0001F469 \u2764\uFE0F", 0,
		  "\U0001F468\U0001F469 \u2764" },
		{ "", 1, "" },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *s = g_strdup(cases[i].in);
		size_t n = rg_strip_invisible(s, strlen(s), cases[i].keep_emoji);

		assert_int_equal(n, strlen(cases[i].want));
		assert_string_equal(s, cases[i].want);
		g_free(s);
	}
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Linear time on the inputs that would make a careless fold quadratic:
 * one long spaced-out run, long runs of spaced digits, a long mixed
 * word, a long run of invisible characters. */
static void
test_linear(void **state)
{
	static const char *const units[] = {
		"f ", "1 ", "a1", "\u200B", "x.", "\u043E",
	};
	const size_t size = 2u * 1024 * 1024;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
		GString *in = g_string_sized_new(size + 8);
		struct rg_norm norm;
		double t0;

		while (in->len < size)
			g_string_append(in, units[i]);
		t0 = seconds();
		assert_int_equal(rg_normalize(in->str, in->len, &norm), 0);
		/* generous: about 0.1 s on a laptop, 10 s under valgrind */
		if (seconds() - t0 > 30.0)
			fail_msg("unit \"%s\": %.1f s for 2 MiB", units[i],
			         seconds() - t0);
		rg_norm_clear(&norm);
		g_string_free(in, TRUE);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_fold_char),
		cmocka_unit_test(test_strip_invisible),
		cmocka_unit_test(test_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
