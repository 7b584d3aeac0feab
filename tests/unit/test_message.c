/*
 * test_message.c - from raw bytes to what the buyer sees: transfer
 * encodings, charsets (broken ones fall back), RFC 2047 subjects, NFKC,
 * part paths, limits, and the file and buffer entry points agreeing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "internal.h"
#include "testutil.h"

#define HEAD "From: s@shop.example\nTo: b@marketplace.amazon.com\n" \
	"MIME-Version: 1.0\n"

static rg_policy *policy;

static int
setup(void **state)
{
	(void)state;
	policy = tu_policy();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rg_policy_unref(&policy);
	return 0;
}

/* Each case: a message, and whether order-id must be satisfied (the
 * order id is only visible once the part is decoded correctly). */
static const struct decode_case {
	const char *name;
	const char *message;
} decode_cases[] = {
	{ "quoted-printable soft break",
	  HEAD "Subject: hi\nContent-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: quoted-printable\n\n"
	  "order 111-22222=\n22-3333333 ok\n" },
	{ "base64",
	  HEAD "Subject: hi\nContent-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: base64\n\n"
	  "b3JkZXIgMTExLTIyMjIyMjItMzMzMzMzMw==\n" },
	{ "RFC 2047 subject",
	  HEAD "Subject: =?UTF-8?B?QmVzdGVsbHVuZyAxMTEtMjIyMjIyMi0zMzMzMzMz?=\n"
	  "Content-Type: text/plain\n\nHallo\n" },
	{ "ISO-2022-JP subject",
	  HEAD "Subject: =?ISO-2022-JP?B?GyRCQ21KOBsoQiAxMTEtMjIyMjIyMi0zMzMzMzMz?=\n"
	  "Content-Type: text/plain\n\nx\n" },
	{ "fullwidth digits (NFKC)",
	  HEAD "Subject: x\nContent-Type: text/plain; charset=utf-8\n\n"
	  "\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91-2222222-3333333\n" },
	{ "latin-1 body",
	  HEAD "Subject: x\nContent-Type: text/plain; charset=iso-8859-1\n"
	  "Content-Transfer-Encoding: 8bit\n\nBestellung \xfc 111-2222222-3333333\n" },
	{ "unknown charset with 8-bit bytes",
	  HEAD "Subject: x\nContent-Type: text/plain; charset=x-no-such\n"
	  "Content-Transfer-Encoding: 8bit\n\n\xff\xfe 111-2222222-3333333\n" },
	{ "invalid utf-8 declared utf-8",
	  HEAD "Subject: x\nContent-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: 8bit\n\n\xc3\x28 111-2222222-3333333\n" },
	{ "missing boundary: text in the prologue",
	  HEAD "Subject: x\nContent-Type: multipart/mixed\n\n"
	  "order 111-2222222-3333333\n" },
	{ "forwarded message",
	  HEAD "Subject: x\nContent-Type: message/rfc822\n\n"
	  "Subject: inner\nContent-Type: text/plain\n\n111-2222222-3333333\n" },
	{ "mbox From_ line",
	  "From seller@shop.example Thu Jan  1 00:00:00 2026\n"
	  HEAD "Subject: 111-2222222-3333333\nContent-Type: text/plain\n\nx\n" },
};

static void
test_decoding(void **state)
{
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(decode_cases); i++) {
		struct rg_result result;

		tu_scan(policy, decode_cases[i].message, &result);
		if (tu_count(&result, RG_RULE_ORDER_ID) != 0) {
			tu_dump(&result);
			fail_msg("%s: order id not seen", decode_cases[i].name);
		}
		rg_result_clear(&result);
	}
}

/* a NUL byte must not hide what follows it */
static void
test_nul_bytes(void **state)
{
	static const char msg[] = HEAD "Subject: x\nContent-Type: text/plain; "
		"charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
		"A\0B 111-2222222-3333333\n";
	rg_scan *scan = rg_scan_new(policy);
	struct rg_result result;
	char *error = NULL;

	(void)state;
	assert_int_equal(rg_scan_message(scan, (const unsigned char *)msg,
	                                 sizeof(msg) - 1, &result, &error), 0);
	assert_int_equal(tu_count(&result, RG_RULE_ORDER_ID), 0);
	rg_result_clear(&result);
	rg_scan_free(&scan);
}

static void
test_part_paths_and_positions(void **state)
{
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	tu_scan(policy,
	        HEAD "Subject: 111-2222222-3333333\n"
	        "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
	        "--b1\nContent-Type: multipart/alternative; boundary=\"b2\"\n\n"
	        "--b2\nContent-Type: text/plain\n\nfine\n--b2\n"
	        "Content-Type: text/plain\n\nline one\nline two\n\n\n\nafter\n"
	        "--b2--\n--b1\nContent-Type: application/x-msdownload\n"
	        "Content-Disposition: attachment; filename=\"tool.exe\"\n"
	        "Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--b1--\n",
	        &result);
	f = tu_first(&result, RG_RULE_LINE_BREAKS);
	assert_non_null(f);
	assert_string_equal(f->part, "1.2");
	assert_int_equal(f->line, 3);
	assert_int_equal(f->column, 1);
	f = tu_first(&result, RG_RULE_ATTACHMENT);
	assert_non_null(f);
	assert_string_equal(f->part, "2");
	assert_non_null(strstr(f->excerpt, "tool.exe"));
	assert_int_equal(result.verdict, RG_ACTION_REJECT);
	rg_result_clear(&result);
}

static void
test_subject_decoded_in_result(void **state)
{
	struct rg_result result;

	(void)state;
	tu_scan(policy, decode_cases[3].message, &result);
	assert_non_null(result.subject);
	assert_non_null(strstr(result.subject, "\xe6\xb3\xa8\xe6\x96\x87"));
	rg_result_clear(&result);
}

static void
test_unparseable_is_uncheckable(void **state)
{
	static const char *const inputs[] = {
		"", "\n\n\n", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
	};
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
		rg_scan *scan = rg_scan_new(policy);
		struct rg_result result;
		char *error = NULL;

		assert_int_equal(rg_scan_message(scan,
		                                 (const unsigned char *)inputs[i],
		                                 strlen(inputs[i]), &result,
		                                 &error), 0);
		assert_true(tu_count(&result, RG_RULE_UNCHECKABLE) >= 1);
		assert_int_equal(result.verdict, RG_ACTION_REJECT); /* order-id */
		rg_result_clear(&result);
		rg_scan_free(&scan);
	}
}

static void
test_message_partial_is_uncheckable(void **state)
{
	struct rg_result result;

	(void)state;
	tu_scan(policy,
	        HEAD "Subject: 111-2222222-3333333\n"
	        "Content-Type: message/partial; id=\"abc@x\"; number=1; total=2\n\n"
	        "Subject: x\n\nhidden\n", &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 1);
	assert_int_equal(result.verdict, RG_ACTION_QUARANTINE);
	rg_result_clear(&result);
}

/* limits: size, part count, depth, decoded text; none is a crash and
 * each is an "uncheckable" finding */
static void
test_limits(void **state)
{
	struct rg_settings settings;
	rg_policy *small;
	struct rg_result result;
	GString *msg = g_string_new(HEAD "Subject: 111-2222222-3333333\n"
	                            "Content-Type: multipart/mixed; "
	                            "boundary=\"b\"\n\n");
	GString *deep = g_string_new(HEAD "Subject: 111-2222222-3333333\n");
	GString *big = g_string_new(HEAD "Subject: 111-2222222-3333333\n"
	                            "Content-Type: text/plain\n\n");

	(void)state;
	rg_settings_init(&settings);
	settings.max_mime_parts = 10;
	settings.max_mime_depth = 5;
	settings.max_text_bytes = 1000;
	settings.max_message_bytes = 100000;
	small = tu_policy_from(&settings);
	rg_settings_clear(&settings);

	for (int i = 0; i < 20; i++)
		g_string_append(msg, "--b\nContent-Type: text/plain\n\nx\n");
	g_string_append(msg, "--b--\n");
	tu_scan(small, msg->str, &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 1);
	assert_non_null(strstr(tu_first(&result, RG_RULE_UNCHECKABLE)->excerpt,
	                       "more than 10 MIME parts"));
	rg_result_clear(&result);

	for (int i = 0; i < 8; i++)
		g_string_append_printf(deep, "Content-Type: multipart/mixed; "
		                       "boundary=\"d%d\"\n\n--d%d\n", i, i);
	g_string_append(deep, "Content-Type: text/plain\n\nx\n");
	tu_scan(small, deep->str, &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 1);
	assert_non_null(strstr(tu_first(&result, RG_RULE_UNCHECKABLE)->excerpt,
	                       "nesting deeper than 5"));
	rg_result_clear(&result);

	for (int i = 0; i < 300; i++)
		g_string_append(big, "word ");
	g_string_append(big, "\n");
	tu_scan(small, big->str, &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNCHECKABLE), 1);
	rg_result_clear(&result);

	while (big->len <= 100000)
		g_string_append(big, "0123456789abcdef\n");
	tu_scan(small, big->str, &result);
	assert_int_equal(result.count, 1);
	assert_non_null(strstr(result.findings[0].excerpt,
	                       "limits.max_message_size"));
	assert_int_equal(result.verdict, RG_ACTION_QUARANTINE);
	rg_result_clear(&result);

	g_string_free(msg, TRUE);
	g_string_free(deep, TRUE);
	g_string_free(big, TRUE);
	rg_policy_unref(&small);
}

/* rg_scan_fd and rg_scan_message give the same findings */
static void
test_fd_equals_buffer(void **state)
{
	const char *msg = HEAD "Subject: hello\nContent-Type: text/plain\n\n"
	                  "a\n\n\n\nb\n";
	char path[] = "/tmp/rg-msg-XXXXXX";
	int fd = g_mkstemp(path);
	rg_scan *scan = rg_scan_new(policy);
	struct rg_result a, b;
	char *error = NULL;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
	assert_int_equal(rg_scan_fd(scan, fd, &a, &error), 0);
	assert_int_equal(rg_scan_message(scan, (const unsigned char *)msg,
	                                 strlen(msg), &b, &error), 0);
	close(fd);
	assert_int_equal(a.count, 2);
	assert_int_equal(a.count, b.count);
	for (size_t i = 0; i < a.count; i++) {
		assert_int_equal(a.findings[i].rule, b.findings[i].rule);
		assert_string_equal(a.findings[i].part, b.findings[i].part);
		assert_int_equal(a.findings[i].line, b.findings[i].line);
		assert_string_equal(a.findings[i].excerpt, b.findings[i].excerpt);
	}
	rg_result_clear(&a);
	rg_result_clear(&b);
	rg_scan_free(&scan);
}

static void
test_rule_off_gives_no_finding(void **state)
{
	struct rg_settings settings;
	struct rg_result result;
	rg_policy *p;

	(void)state;
	rg_settings_init(&settings);
	settings.actions[RG_RULE_ORDER_ID] = RG_ACTION_OFF;
	settings.actions[RG_RULE_LINE_BREAKS] = RG_ACTION_WARN;
	p = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	tu_scan_plain(p, "no id here", "a\n\n\n\nb\n", &result);
	assert_int_equal(tu_count(&result, RG_RULE_ORDER_ID), 0);
	assert_int_equal(tu_count(&result, RG_RULE_LINE_BREAKS), 1);
	assert_int_equal(result.verdict, RG_ACTION_WARN);
	rg_result_clear(&result);
	rg_policy_unref(&p);
}

static struct rg_part *
find_part(struct rg_view *view, const char *path)
{
	for (size_t i = 0; i < view->count; i++)
		if (strcmp(view->parts[i].path, path) == 0)
			return &view->parts[i];
	fail_msg("no part %s", path);
	return NULL;
}

static void
test_quoted_reply_lines(void **state)
{
	const char *msg =
		"From: Shop <care@shop.example>\nTo: b@marketplace.amazon.de\n"
		"Subject: Re: Frage zu 111-2222222-3333333\n"
		"In-Reply-To: <q@marketplace.amazon.de>\n"
		"Content-Type: text/plain; charset=utf-8\n\n"
		"Hallo,\nja, gerne.\n\nAm 3. Feb. 2026 schrieb Käufer:\n"
		"> Kann ich es umtauschen?\n>\n> Danke\nGruss\n";
	rg_scan *scan = rg_scan_new(policy);
	struct rg_view view;
	struct rg_part *part;
	const char *t;

	(void)state;
	assert_int_equal(rg_view_from_message(scan, (const unsigned char *)msg,
	                                      strlen(msg), &view), 0);
	part = find_part(&view, "1");
	t = part->text;
	assert_false(rg_part_is_quoted(part, 0));
	assert_true(rg_part_is_quoted(part, (size_t)(strstr(t, "Am 3.") - t)));
	assert_true(rg_part_is_quoted(part,
	                              (size_t)(strstr(t, "umtauschen") - t)));
	assert_true(rg_part_is_quoted(part, (size_t)(strstr(t, "Danke") - t)));
	assert_false(rg_part_is_quoted(part, (size_t)(strstr(t, "Gruss") - t)));
	assert_int_equal(part->n_quoted, 1);
	assert_true(view.is_reply);
	assert_string_equal(view.marketplace, "amazon.de");
	assert_string_equal(view.sender, "care@shop.example");
	rg_view_clear(&view);

	msg = "From: a@b.example\nTo: x@y.example\nSubject: hi\n\n"
	      "New text\n-----Original Message-----\nFrom: buyer\nold text\n";
	assert_int_equal(rg_view_from_message(scan, (const unsigned char *)msg,
	                                      strlen(msg), &view), 0);
	part = find_part(&view, "1");
	assert_false(rg_part_is_quoted(part, 0));
	assert_true(rg_part_is_quoted(part,
	                              (size_t)(strstr(part->text, "old") -
	                                       part->text)));
	assert_null(view.marketplace);
	assert_false(view.is_reply);
	rg_view_clear(&view);
	rg_scan_free(&scan);
}

static void
test_envelope_wins_over_headers(void **state)
{
	const char *msg = "From: Shop <care@shop.example>\n"
	                  "To: buyer@marketplace.amazon.fr\nSubject: x\n\nhi\n";
	const char *rcpts[] = { "<other@example.com>",
	                        "<Q1@MARKETPLACE.AMAZON.CO.JP>" };
	rg_scan *scan = rg_scan_new(policy);
	struct rg_view view;

	(void)state;
	rg_scan_set_envelope(scan, "<bounce@shop.example>", rcpts, 2);
	assert_int_equal(rg_view_from_message(scan, (const unsigned char *)msg,
	                                      strlen(msg), &view), 0);
	assert_string_equal(view.sender, "bounce@shop.example");
	assert_string_equal(view.from, "care@shop.example");
	assert_int_equal(view.recipients.count, 2);
	assert_string_equal(view.marketplace, "amazon.co.jp");
	rg_view_clear(&view);

	rg_scan_clear_envelope(scan);
	assert_int_equal(rg_view_from_message(scan, (const unsigned char *)msg,
	                                      strlen(msg), &view), 0);
	assert_string_equal(view.sender, "care@shop.example");
	assert_string_equal(view.marketplace, "amazon.fr");
	rg_view_clear(&view);
	rg_scan_free(&scan);
}

/* one policy shared by threads, each with its own rg_scan: the same
 * findings every time */
#define THREADS 4
#define ROUNDS 40

static gpointer
scan_rounds(gpointer data)
{
	const char *msg = data;
	rg_scan *scan = rg_scan_new(policy);
	size_t bad = 0;

	for (int i = 0; i < ROUNDS; i++) {
		struct rg_result result;
		char *error = NULL;

		if (rg_scan_message(scan, (const unsigned char *)msg, strlen(msg),
		                    &result, &error) < 0) {
			free(error);
			bad++;
			continue;
		}
		if (result.count != 2 ||
		    tu_count(&result, RG_RULE_LINE_BREAKS) != 1 ||
		    tu_count(&result, RG_RULE_ATTACHMENT) != 1)
			bad++;
		rg_result_clear(&result);
	}
	rg_scan_free(&scan);
	return GSIZE_TO_POINTER(bad);
}

static void
test_threads_share_policy(void **state)
{
	const char *msg =
		HEAD "Subject: 111-2222222-3333333\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
		"Content-Type: text/html; charset=utf-8\n\n"
		"<p>a</p><p>&nbsp;</p><p>&nbsp;</p><p>&nbsp;</p><p>b</p>\n--b\n"
		"Content-Type: application/zip; name=x.zip\n"
		"Content-Transfer-Encoding: base64\n\nUEsDBBQAAAAIAA==\n--b--\n";
	GThread *threads[THREADS];
	size_t bad = 0;

	(void)state;
	for (int i = 0; i < THREADS; i++)
		threads[i] = g_thread_new("scan", scan_rounds, (gpointer)msg);
	for (int i = 0; i < THREADS; i++)
		bad += GPOINTER_TO_SIZE(g_thread_join(threads[i]));
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_part_paths_and_positions),
		cmocka_unit_test(test_subject_decoded_in_result),
		cmocka_unit_test(test_unparseable_is_uncheckable),
		cmocka_unit_test(test_message_partial_is_uncheckable),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_fd_equals_buffer),
		cmocka_unit_test(test_rule_off_gives_no_finding),
		cmocka_unit_test(test_threads_share_policy),
		cmocka_unit_test(test_quoted_reply_lines),
		cmocka_unit_test(test_envelope_wins_over_headers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
