/*
 * test_limits.c - every limit at its boundary (at the limit the message
 * is judged, one over it is "uncheckable" with a finding naming the
 * limit), messages that cannot be judged (ambiguous MIME, encrypted
 * bodies, undecodable text), a configured phrase that backtracks without
 * end stopped by the match limit, and the CPU budget.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "conf/config.h"
#include "internal.h"
#include "testutil.h"

#define HEAD "From: s@shop.example\nTo: b@marketplace.amazon.com\n" \
	"MIME-Version: 1.0\nSubject: Order 111-2222222-3333333\n"

/* ------------------------------------------------------------ helpers */

/* scan_with - message scanned under settings changed by set */
static void
scan_with(void (*set)(struct rg_settings *s, unsigned v), unsigned v,
          const char *message, size_t len, struct rg_result *result)
{
	struct rg_settings settings;
	rg_policy *policy;
	rg_scan *scan;
	char *error = NULL;

	rg_settings_init(&settings);
	set(&settings, v);
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	scan = rg_scan_new(policy);
	if (rg_scan_message(scan, (const unsigned char *)message, len, result,
	                    &error) != 0)
		fail_msg("rg_scan_message: %s", error);
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
}

/* uncheckable_with - the first uncheckable finding whose excerpt has
 * what, or NULL */
static const struct rg_finding *
uncheckable_with(const struct rg_result *result, const char *what)
{
	for (size_t i = 0; i < result->count; i++)
		if (result->findings[i].rule == RG_RULE_UNCHECKABLE &&
		    strstr(result->findings[i].excerpt, what) != NULL)
			return &result->findings[i];
	return NULL;
}

/*
 * One limit: build(n) is a message of size n in the limit's own measure;
 * at the limit it is judged (no uncheckable finding at all), one over it
 * gets an uncheckable finding naming the limit and the action
 * quarantine.
 */
struct boundary_case {
	const char *name;           /* the setting, "limits.NAME" */
	void (*set)(struct rg_settings *s, unsigned v);
	unsigned limit;
	GString *(*build)(unsigned n);
};

static void
check_boundary(const struct boundary_case *c)
{
	struct rg_result result;
	GString *at = c->build(c->limit), *over = c->build(c->limit + 1);

	scan_with(c->set, c->limit, at->str, at->len, &result);
	if (tu_count(&result, RG_RULE_UNCHECKABLE) != 0) {
		tu_dump(&result);
		fail_msg("%s: at the limit (%u) the message is uncheckable",
		         c->name, c->limit);
	}
	rg_result_clear(&result);

	scan_with(c->set, c->limit, over->str, over->len, &result);
	if (uncheckable_with(&result, c->name) == NULL) {
		tu_dump(&result);
		fail_msg("%s: one over the limit (%u) gives no finding naming "
		         "it", c->name, c->limit);
	}
	assert_true(result.verdict >= RG_ACTION_QUARANTINE);
	rg_result_clear(&result);
	g_string_free(at, TRUE);
	g_string_free(over, TRUE);
}

/* ------------------------------------------------------ the limits */

static void
set_message_bytes(struct rg_settings *s, unsigned v)
{
	s->max_message_bytes = v;
}

/* a message of exactly n bytes */
static GString *
message_of(unsigned n)
{
	GString *m = g_string_new(HEAD "Content-Type: text/plain\n\n");

	while (m->len < n)
		g_string_append_c(m, m->len % 64 == 63 ? '\n' : 'x');
	return m;
}

static void
set_header_bytes(struct rg_settings *s, unsigned v)
{
	s->max_header_bytes = v;
}

/* a header block of exactly n bytes (up to the blank line) */
static GString *
header_of(unsigned n)
{
	GString *m = g_string_new(HEAD "Content-Type: text/plain\nX-Pad: ");

	while (m->len < n - 1)
		g_string_append_c(m, 'p');
	g_string_append(m, "\n\nhello\n");
	return m;
}

static void
set_header_fields(struct rg_settings *s, unsigned v)
{
	s->max_header_fields = v;
}

/* n header fields in all: 5 of the message, 1 per part, the rest
 * X-N fields in the last part's header (continuation lines are not
 * fields) */
static GString *
fields_of(unsigned n)
{
	GString *m = g_string_new(HEAD "Content-Type: multipart/mixed; "
	                          "boundary=\"b\"\n\n");
	unsigned fields = 5;

	g_string_append(m, "--b\nContent-Type: text/plain\n\nhello\n");
	g_string_append(m, "--b\nContent-Type: text/plain\n");
	fields += 2;
	for (; fields < n; fields++)
		g_string_append_printf(m, "X-N%u: value\n continued\n", fields);
	g_string_append(m, "\nworld\n--b--\n");
	return m;
}

static void
set_mime_parts(struct rg_settings *s, unsigned v)
{
	s->max_mime_parts = v;
}

/* n MIME objects: the multipart and n - 1 parts, one an attached
 * message (two objects: the part and its message's body) */
static GString *
parts_of(unsigned n)
{
	GString *m = g_string_new(HEAD "Content-Type: multipart/mixed; "
	                          "boundary=\"b\"\n\n");

	g_string_append(m, "--b\nContent-Type: message/rfc822\n\n"
	                "Subject: inner\nContent-Type: text/plain\n\n"
	                "inner text\n");
	for (unsigned i = 3; i < n; i++)
		g_string_append_printf(m, "--b\nContent-Type: text/plain\n\n"
		                       "part %u\n", i);
	g_string_append(m, "--b--\n");
	return m;
}

static void
set_mime_depth(struct rg_settings *s, unsigned v)
{
	s->max_mime_depth = v;
}

/* a text part nested n deep (the message's own body is depth 0) */
static GString *
depth_of(unsigned n)
{
	GString *m = g_string_new(HEAD);

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(m, "Content-Type: multipart/mixed; "
		                       "boundary=\"level%u\"\n\n--level%u\n",
		                       i, i);
	g_string_append(m, "Content-Type: text/plain\n\ndeep\n");
	for (unsigned i = n; i-- > 0;)
		g_string_append_printf(m, "--level%u--\n", i);
	return m;
}

static void
set_text_bytes(struct rg_settings *s, unsigned v)
{
	s->max_text_bytes = v;
}

/* a text part of n bytes, base64 so the decoded size is exact */
static GString *
text_of(unsigned n)
{
	GString *m = g_string_new(HEAD "Content-Type: text/plain; "
	                          "charset=utf-8\n"
	                          "Content-Transfer-Encoding: base64\n\n");
	char *text = g_malloc(n);
	gchar *b64;

	for (unsigned i = 0; i < n; i++)
		text[i] = i % 50 == 49 ? '\n' : 'a' + (char)(i % 26);
	b64 = g_base64_encode((const guchar *)text, n);
	for (size_t i = 0, len = strlen(b64); i < len; i += 76)
		g_string_append_printf(m, "%.76s\n", b64 + i);
	g_free(b64);
	g_free(text);
	return m;
}

static void
set_html_elements(struct rg_settings *s, unsigned v)
{
	s->max_html_elements = v;
}

/* HTML of n start tags */
static GString *
elements_of(unsigned n)
{
	GString *m = g_string_new(HEAD "Content-Type: text/html; "
	                          "charset=utf-8\n\n<html><body>");

	for (unsigned i = 2; i < n; i++)
		g_string_append_printf(m, "<p>paragraph %u</p>\n", i);
	g_string_append(m, "</body></html>\n");
	return m;
}

static void
set_html_depth(struct rg_settings *s, unsigned v)
{
	s->max_html_depth = v;
}

/* text in an element nested n deep (<html> is 1, <body> 2) */
static GString *
html_depth_of(unsigned n)
{
	GString *m = g_string_new(HEAD "Content-Type: text/html; "
	                          "charset=utf-8\n\n<html><body>");

	for (unsigned i = 2; i < n; i++)
		g_string_append(m, "<div>");
	g_string_append(m, "deep");
	for (unsigned i = 2; i < n; i++)
		g_string_append(m, "</div>");
	g_string_append(m, "</body></html>\n");
	return m;
}

static void
test_limit_boundaries(void **state)
{
	static const struct boundary_case cases[] = {
		{ "limits.max_message_size", set_message_bytes, 4096,
		  message_of },
		{ "limits.max_header_size", set_header_bytes, 1024, header_of },
		{ "limits.max_header_fields", set_header_fields, 40,
		  fields_of },
		{ "limits.max_mime_parts", set_mime_parts, 12, parts_of },
		{ "limits.max_mime_depth", set_mime_depth, 6, depth_of },
		{ "limits.max_text_size", set_text_bytes, 1000, text_of },
		{ "limits.max_html_elements", set_html_elements, 30,
		  elements_of },
		{ "limits.max_html_depth", set_html_depth, 12, html_depth_of },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		check_boundary(&cases[i]);
}

/* The defaults judge ordinary messages, and the big ones within them. */
static void
test_defaults_judge_big_messages(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	GString *m;

	(void)state;
	m = parts_of(RG_DEFAULT_MAX_MIME_PARTS);
	tu_scan(policy, m->str, &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 0);
	rg_result_clear(&result);
	g_string_free(m, TRUE);
	m = elements_of(RG_DEFAULT_MAX_HTML_ELEMENTS);
	tu_scan(policy, m->str, &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 0);
	rg_result_clear(&result);
	g_string_free(m, TRUE);
	rg_policy_unref(&policy);
}

/* A message over a prescan limit is not parsed: one finding, from
 * rg_scan_message and rg_scan_fd alike, and no view. */
static void
test_refused_before_parsing(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;
	rg_scan *scan;
	struct rg_result a, b;
	struct rg_view view;
	GString *m = fields_of(2000);
	char path[] = "/tmp/rg-limits-XXXXXX";
	char *error = NULL;
	int fd;

	(void)state;
	rg_settings_init(&settings);
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	scan = rg_scan_new(policy);
	assert_int_equal(rg_scan_message(scan, (const unsigned char *)m->str,
	                                 m->len, &a, &error), 0);
	assert_int_equal(a.count, 1);
	assert_non_null(uncheckable_with(&a, "limits.max_header_fields: "
	                                     "more than 1000"));
	assert_int_equal(a.verdict, RG_ACTION_QUARANTINE);
	assert_null(a.subject);

	fd = g_mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, m->str, m->len), (ssize_t)m->len);
	assert_int_equal(rg_scan_fd(scan, fd, &b, &error), 0);
	close(fd);
	assert_int_equal(b.count, 1);
	assert_string_equal(a.findings[0].excerpt, b.findings[0].excerpt);
	assert_int_equal(rg_view_from_message(scan,
	                                      (const unsigned char *)m->str,
	                                      m->len, &view), -1);
	rg_result_clear(&a);
	rg_result_clear(&b);
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
	g_string_free(m, TRUE);
}

/* A memory bomb within the size limit: 2 MB of four-byte header lines
 * (GMime would spend hundreds of megabytes) or of empty parts is
 * refused at once. */
static void
test_bombs_refused(void **state)
{
	GString *headers = g_string_new("From: a@shop.example\n");
	GString *parts = g_string_new(HEAD "Content-Type: multipart/mixed; "
	                              "boundary=\"b\"\n\n");
	rg_policy *policy = tu_policy();
	struct rg_result result;

	(void)state;
	while (headers->len < 2 * 1024 * 1024)
		g_string_append(headers, "a:b\n");
	g_string_append(headers, "\nbody\n");
	while (parts->len < 2 * 1024 * 1024)
		g_string_append(parts, "--b\n\n");
	g_string_append(parts, "--b--\n");

	tu_scan(policy, headers->str, &result);
	assert_int_equal(result.count, 1);
	assert_non_null(uncheckable_with(&result, "limits.max_header_fields"));
	rg_result_clear(&result);
	tu_scan(policy, parts->str, &result);
	assert_int_equal(result.count, 1);
	assert_non_null(uncheckable_with(&result, "limits.max_mime_parts"));
	rg_result_clear(&result);

	/* GMime decodes an RFC 2047 boundary, which the prescan's model
	 * does not: the ceiling on lines that start with "--" holds */
	g_string_assign(parts, HEAD "Content-Type: multipart/mixed; "
	                "boundary=\"=?us-ascii?q?b?=\"\n\n");
	while (parts->len < 2 * 1024 * 1024)
		g_string_append(parts, "--b\n\n");
	tu_scan(policy, parts->str, &result);
	assert_int_equal(result.count, 1);
	assert_non_null(uncheckable_with(&result, "limits.max_mime_parts: "
	                                 "more than 8000 lines that could "
	                                 "start a MIME part"));
	rg_result_clear(&result);
	rg_policy_unref(&policy);
	g_string_free(headers, TRUE);
	g_string_free(parts, TRUE);
}

/* ------------------------------------------------- cannot be judged */

#define MP(b) "Content-Type: multipart/mixed; boundary=\"" b "\"\n\n"
#define TEXT(t) "Content-Type: text/plain\n\n" t "\n"

static const struct judge_case {
	const char *name;
	const char *message;
	const char *want;       /* in an uncheckable finding; NULL: none */
} judge_cases[] = {
	/* ambiguous MIME */
	{ "two Content-Type headers",
	  HEAD "Content-Type: text/plain\nContent-Type: text/html\n\n"
	  "<p>hi</p>\n",
	  "two different Content-Type headers" },
	{ "two Content-Type headers in a part",
	  HEAD MP("b") "--b\nContent-Type: text/plain\n"
	  "Content-Type: text/html\n\nx\n--b--\n",
	  "two different Content-Type headers" },
	{ "two different boundary parameters",
	  HEAD "Content-Type: multipart/mixed; boundary=\"a\"; "
	  "boundary=\"b\"\n\n--a\n" TEXT("A") "--b\n" TEXT("B") "--b--\n"
	  "--a--\n",
	  "two different boundary parameters" },
	{ "two different charset parameters",
	  HEAD "Content-Type: text/plain; charset=utf-8; "
	  "charset=iso-8859-1\n\nhi\n",
	  "two different charset parameters" },
	{ "two Subject headers",
	  HEAD "Subject: something else\nContent-Type: text/plain\n\nhi\n",
	  "two different Subject headers" },
	{ "boundary reused one level down",
	  HEAD MP("x") "--x\n" MP("x") "--x\n" TEXT("inner") "--x--\n"
	  "--x\n" TEXT("outer") "--x--\n",
	  "boundary reused inside its own multipart: \"x\"" },
	{ "boundary nested in one it starts with",
	  HEAD MP("x") "--x\n" MP("xy") "--xy\n" TEXT("inner") "--xy--\n"
	  "--x--\n",
	  "shares a prefix with: \"xy\"" },
	{ "a line that starts with the boundary",
	  HEAD MP("b") "--b\n" TEXT("A") "--bogus\n" TEXT("B") "--b--\n",
	  "a line starts with the boundary but is not one: \"b\"" },
	{ "empty boundary",
	  HEAD MP("") "--\n" TEXT("A") "----\n",
	  "empty boundary" },
	{ "encoded boundary",
	  HEAD MP("=?us-ascii?q?b?=") "--b\n" TEXT("A") "--b--\n",
	  "boundary in encoded form" },
	{ "boundary over 70 characters",
	  HEAD MP("0123456789012345678901234567890123456789"
	          "012345678901234567890123456789x")
	  "--0123456789012345678901234567890123456789"
	  "012345678901234567890123456789x\n" TEXT("A")
	  "--0123456789012345678901234567890123456789"
	  "012345678901234567890123456789x--\n",
	  "boundary longer than 70 characters" },
	{ "multipart without a boundary",
	  HEAD "Content-Type: multipart/mixed\n\n--b\n" TEXT("A") "--b--\n",
	  "a multipart without a boundary" },
	{ "boundary that never comes",
	  HEAD MP("b") "--c\n" TEXT("A") "--c--\n",
	  "a multipart whose boundary never occurs" },
	{ "a part with neither headers nor content",
	  HEAD MP("b") "--b\n--b\n" TEXT("A") "--b--\n",
	  "a part with neither headers nor content" },
	/* encrypted */
	{ "PGP/MIME",
	  HEAD "Content-Type: multipart/encrypted; "
	  "protocol=\"application/pgp-encrypted\"; boundary=\"e\"\n\n"
	  "--e\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
	  "--e\nContent-Type: application/octet-stream\n\n"
	  "-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n"
	  "--e--\n",
	  "encrypted content (multipart/encrypted)" },
	{ "S/MIME",
	  HEAD "Content-Type: application/pkcs7-mime; "
	  "smime-type=enveloped-data; name=smime.p7m\n"
	  "Content-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\n",
	  "encrypted content (S/MIME application/pkcs7-mime)" },
	{ "S/MIME in a part",
	  HEAD MP("b") "--b\n" TEXT("see attached") "--b\n"
	  "Content-Type: application/x-pkcs7-mime; name=smime.p7m\n"
	  "Content-Disposition: attachment; filename=smime.p7m\n\nMIAG\n"
	  "--b--\n",
	  "encrypted content (S/MIME application/pkcs7-mime)" },
	{ "inline PGP",
	  HEAD TEXT("Hello,\n-----BEGIN PGP MESSAGE-----\nhQEMA5\n"
	            "-----END PGP MESSAGE-----"),
	  "PGP-encrypted text" },
	/* undecodable text */
	{ "unknown charset, 8-bit text",
	  HEAD "Content-Type: text/plain; charset=x-no-such-charset\n"
	  "Content-Transfer-Encoding: 8bit\n\n\xa4\xb3\xa4\xf3 0301 234 567\n",
	  "text in the unknown charset \"x-no-such-charset\"" },
	{ "bytes not in the declared charset",
	  HEAD "Content-Type: text/plain; charset=shift_jis\n"
	  "Content-Transfer-Encoding: 8bit\n\n\x82\xa0\x82\n",
	  "declared as \"shift_jis\" is not valid in it" },
	/* and what is fine */
	{ "unknown charset, ASCII text",
	  HEAD "Content-Type: text/plain; charset=x-no-such-charset\n\n"
	  "plain words\n", NULL },
	{ "two identical Content-Type headers",
	  HEAD "Content-Type: text/plain\nContent-Type: text/plain\n\nhi\n",
	  NULL },
	{ "nested multiparts with their own boundaries",
	  HEAD MP("outer-1") "--outer-1\n" MP("inner-2") "--inner-2\n"
	  TEXT("text") "--inner-2\nContent-Type: text/html\n\n<p>html</p>\n"
	  "--inner-2--\n--outer-1--\n", NULL },
	{ "boundary with trailing blanks",
	  HEAD MP("b") "--b  \n" TEXT("A") "--b-- \t\n", NULL },
	{ "multipart/signed",
	  HEAD "Content-Type: multipart/signed; protocol=\"application/"
	  "pgp-signature\"; micalg=pgp-sha256; boundary=\"s\"\n\n"
	  "--s\n" TEXT("signed text") "--s\nContent-Type: application/"
	  "pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\niQE\n"
	  "-----END PGP SIGNATURE-----\n--s--\n", NULL },
	{ "latin-1 text", HEAD "Content-Type: text/plain; charset=iso-8859-1\n"
	  "Content-Transfer-Encoding: 8bit\n\nGr\xfc\xdf" "e\n", NULL },
};

static void
test_cannot_be_judged(void **state)
{
	rg_policy *policy = tu_policy();
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(judge_cases); i++) {
		const struct judge_case *c = &judge_cases[i];
		struct rg_result result;

		tu_scan(policy, c->message, &result);
		if (c->want == NULL
		    ? tu_count(&result, RG_RULE_UNCHECKABLE) != 0
		    : uncheckable_with(&result, c->want) == NULL ||
		      result.verdict < RG_ACTION_QUARANTINE) {
			print_error("%s: want %s%s\n", c->name,
			            c->want ? "uncheckable: " : "none",
			            c->want ? c->want : "");
			tu_dump(&result);
			failures++;
		}
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
	assert_int_equal(failures, 0);
}

/* What can still be read of an ambiguous message is judged too. */
static void
test_ambiguous_still_judged(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;

	(void)state;
	tu_scan(policy, HEAD "Content-Type: text/plain\nContent-Type: "
	        "text/plain; charset=utf-8\n\nCall +44 20 7946 0958\n",
	        &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 1);
	assert_int_equal(tu_count(&result, RG_RULE_PHONE_NUMBER), 1);
	assert_int_equal(result.verdict, RG_ACTION_REJECT);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* A reason longer than excerpt_chars is kept whole. */
static void
test_reason_not_cut(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	rg_settings_init(&settings);
	settings.excerpt_chars = 10;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	tu_scan(policy, judge_cases[0].message, &result);
	f = uncheckable_with(&result, "two different Content-Type headers");
	assert_non_null(f);
	assert_null(strstr(f->excerpt, "..."));
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* ------------------------------------------- match limit, CPU budget */

/* write_file - text into a new file in dir */
static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

/*
 * A phrase that backtracks without end, configured in relaygate.conf,
 * is stopped by limits.match_limit: one uncheckable finding naming it,
 * quickly, and the phrase's rule is not broken; an ordinary text with
 * the same phrase list is judged as usual.
 */
static void
test_configured_phrase_match_limit(void **state)
{
	char *dir = g_dir_make_tmp("rg-limits-XXXXXX", NULL);
	char *path = write_file(dir, "relaygate.conf",
		"limits: { match_limit = 100000; };\n"
		"phrases: {\n"
		"  en: {\n"
		"    opt-out = [ \"(?:a|aa)+b\", \"unsubscribe\" ];\n"
		"  };\n"
		"};\n");
	struct rg_config config;
	char *error = NULL;
	rg_policy *policy;
	GString *body = g_string_new("Hello ");
	struct rg_result result;
	const struct rg_finding *f;
	struct timespec t0, t1;

	(void)state;
	if (rg_config_load(path, &config, &error) < 0)
		fail_msg("%s", error);
	policy = tu_policy_from(&config.settings);
	rg_config_clear(&config);

	for (int i = 0; i < 40; i++)
		g_string_append_c(body, 'a');
	g_string_append(body, "c xb done.\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tu_scan_plain(policy, NULL, body->str, &result);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f = uncheckable_with(&result, "limits.match_limit");
	if (f == NULL) {
		tu_dump(&result);
		fail_msg("no finding naming limits.match_limit");
	}
	assert_non_null(strstr(f->excerpt, "a configured phrase"));
	assert_non_null(strstr(f->excerpt, "100000"));
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 1);
	assert_int_equal(tu_count(&result, RG_RULE_OPT_OUT), 0);
	assert_int_equal(result.verdict, RG_ACTION_QUARANTINE);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	rg_result_clear(&result);

	tu_scan_plain(policy, NULL, "Reply to unsubscribe. aab\n", &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 0);
	assert_int_equal(tu_count(&result, RG_RULE_OPT_OUT), 2);
	rg_result_clear(&result);

	rg_policy_unref(&policy);
	g_string_free(body, TRUE);
	unlink(path);
	g_free(path);
	rmdir(dir);
	g_free(dir);
}

/* A built-in pattern under a tiny match limit: stopped and reported
 * once, naming the limit and what the pattern looks for. */
static void
test_builtin_pattern_match_limit(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;
	struct rg_result result;

	(void)state;
	rg_settings_init(&settings);
	settings.match_limit = 5;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	tu_scan_plain(policy, NULL, "Call 030 1234 5678 or 040 9876 5432.\n",
	              &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 1);
	assert_non_null(uncheckable_with(&result, "limits.match_limit: a "
	                                          "pattern ("));
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

static void
set_cpu_budget(struct rg_settings *s, unsigned v)
{
	s->cpu_budget_ms = v;
}

/*
 * The CPU budget: a message that needs more is stopped with a finding
 * naming limits.cpu_budget; no rule judges it on half the work (the
 * order id is in the subject, but order-id never looked); the default
 * budget judges the same message whole.
 */
static void
test_cpu_budget(void **state)
{
	GString *m = g_string_new(HEAD "Content-Type: text/html; "
	                          "charset=utf-8\n\n<html><body>");
	struct rg_result result;

	(void)state;
	for (int i = 0; i < 3000; i++)
		g_string_append_printf(m, "<p style=\"color:#%06x\">Line %d "
		                       "of the parcel text, see "
		                       "https://www.amazon.com/x%d</p>\n",
		                       i * 97, i, i);
	g_string_append(m, "</body></html>\n");

	scan_with(set_cpu_budget, 1, m->str, m->len, &result);
	if (uncheckable_with(&result, "limits.cpu_budget: judging took more "
	                              "than 1ms") == NULL) {
		tu_dump(&result);
		fail_msg("no finding naming limits.cpu_budget");
	}
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 1);
	assert_true(result.verdict >= RG_ACTION_QUARANTINE);
	rg_result_clear(&result);

	scan_with(set_cpu_budget, RG_DEFAULT_CPU_BUDGET_MS, m->str, m->len,
	          &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 0);
	assert_true(tu_count(&result, RG_RULE_FORMATTING) > 0);
	rg_result_clear(&result);
	g_string_free(m, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit_boundaries),
		cmocka_unit_test(test_defaults_judge_big_messages),
		cmocka_unit_test(test_refused_before_parsing),
		cmocka_unit_test(test_bombs_refused),
		cmocka_unit_test(test_cannot_be_judged),
		cmocka_unit_test(test_ambiguous_still_judged),
		cmocka_unit_test(test_reason_not_cut),
		cmocka_unit_test(test_configured_phrase_match_limit),
		cmocka_unit_test(test_builtin_pattern_match_limit),
		cmocka_unit_test(test_cpu_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
