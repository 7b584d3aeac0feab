/*
 * test_notice.c - the notice to the sending agent, composed and parsed
 * back with GMime: a multipart/report with three parts (text for people
 * with every finding, its excerpt and one line of guidance per rule;
 * application/json with the same findings; the original headers), the
 * loop-safety headers, no notice to a null sender or a relay address, and
 * the JSON escaping it relies on.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "store/quarantine.h"
#include "json.h"
#include "testutil.h"

/* ------------------------------------------------------------- JSON */

/* A small validating JSON reader: enough to say the part is JSON. */
static const char *json_value(const char *p);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *
json_str(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!g_ascii_isxdigit(p[i]))
						return NULL;
				p += 4;
			} else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0') {
				return NULL;
			}
		}
		p++;
	}
	return p + 1;
}

static const char *
json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '"')
		return json_str(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = json_str(json_ws(p));
				if (p == NULL || *(p = json_ws(p)) != ':')
					return NULL;
				p++;
			}
			p = json_value(p);
			if (p == NULL)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p != ',')
				return NULL;
			p++;
		}
	}
	if (strncmp(p, "null", 4) == 0 || strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (*p == '-' || g_ascii_isdigit(*p)) {
		p++;
		while (g_ascii_isdigit(*p))
			p++;
		return p;
	}
	return NULL;
}

static int
json_valid(const char *s)
{
	const char *end = json_value(s);

	return end != NULL && *json_ws(end) == '\0';
}

/* ------------------------------------------------------------- fixtures */

static const char original_headers[] =
	"From: Northwind Garden <orders@northwind-garden.example>\r\n"
	"To: 2m7kq9xw4p1rz8d@marketplace.amazon.de\r\n"
	"Subject: =?utf-8?q?Ihre_Bestellung_=E2=80=93_Lieferung?=\r\n"
	"X-Note: caf\xc3\xa9 (8-bit)\r\n"
	"\r\n";

static void
make_record(struct rgq_record *rec)
{
	struct rg_finding findings[3];
	struct rg_result res;

	memset(rec, 0, sizeof(*rec));
	g_strlcpy(rec->id, "00c0ffee12345678", sizeof(rec->id));
	rec->created = 1772443200;           /* 2026-03-02 09:20:00 UTC */
	rec->queue_id = g_strdup("4ABC");
	rec->sender = g_strdup("orders@northwind-garden.example");
	rec->auth_user = g_strdup("");
	rec->subject = g_strdup("Ihre Bestellung \xe2\x80\x93 Lieferung");
	rec->size = 1234;
	rg_strlist_add(&rec->recipients, "2m7kq9xw4p1rz8d@marketplace.amazon.de");
	rg_strlist_add(&rec->recipients, "archive@northwind-garden.example");
	memset(findings, 0, sizeof(findings));
	findings[0].rule = RG_RULE_EMOJI;
	findings[0].action = RG_ACTION_QUARANTINE;
	findings[0].part = (char *)"1";
	findings[0].line = 3;
	findings[0].column = 12;
	findings[0].excerpt = (char *)"\xf0\x9f\x98\x80";
	findings[1].rule = RG_RULE_PHONE_NUMBER;
	findings[1].action = RG_ACTION_QUARANTINE;
	findings[1].part = (char *)"1";
	findings[1].line = 5;
	findings[1].column = 30;
	findings[1].excerpt = (char *)"+44 20 7946 0958";
	findings[2].rule = RG_RULE_EMOJI;
	findings[2].action = RG_ACTION_QUARANTINE;
	findings[2].part = (char *)"subject";
	findings[2].line = 1;
	findings[2].column = 4;
	findings[2].excerpt = (char *)"say \"hi\" :)";
	memset(&res, 0, sizeof(res));
	res.verdict = RG_ACTION_QUARANTINE;
	res.findings = findings;
	res.count = 3;
	rgq_record_set_findings(rec, &res);
}

static const struct rgq_notice_params params = {
	"relaygate <postmaster@mx.example>",
	"Call the mail desk, extension 42.",
	"mx.example",
	1772446800,
};

/* part_text - a leaf part's decoded content (g_free) */
static char *
part_text(GMimeObject *obj)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes;
	char *s;

	g_mime_data_wrapper_write_to_stream(w, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	s = g_strndup((const char *)bytes->data, bytes->len);
	g_object_unref(mem);
	return s;
}

static GMimeMessage *
parse(const unsigned char *data, size_t len)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)data,
	                                                   len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(s);
	assert_non_null(m);
	return m;
}

static size_t
count(const char *haystack, const char *needle)
{
	size_t n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)) != NULL;
	     p += strlen(needle))
		n++;
	return n;
}

static void
test_held_notice(void **state)
{
	struct rgq_record rec;
	unsigned char *data;
	size_t len;
	GMimeMessage *m;
	GMimeObject *top;
	GMimeMultipart *mp;
	GMimeContentType *ct;
	InternetAddressList *to;
	char *text, *json, *headers;

	(void)state;
	make_record(&rec);
	data = rgq_notice_compose(&rec, "held", NULL,
	                          (const unsigned char *)original_headers,
	                          strlen(original_headers), &params, &len);
	/* every line ends CRLF */
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			fail_msg("bare LF at byte %zu", i);
	m = parse(data, len);

	/* loop safety and addressing */
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m),
	                                             "Auto-Submitted"),
	                    "auto-replied");
	to = g_mime_message_get_to(m);
	assert_int_equal(internet_address_list_length(to), 1);
	assert_string_equal(internet_address_mailbox_get_addr(
	        INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(to,
	                                                                   0))),
	        "orders@northwind-garden.example");
	assert_string_equal(internet_address_mailbox_get_addr(
	        INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(
	                g_mime_message_get_from(m), 0))),
	        "postmaster@mx.example");
	assert_string_equal(g_mime_message_get_subject(m), "Held for review: "
	                    "Ihre Bestellung \xe2\x80\x93 Lieferung");
	assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m),
	                                             RGQ_NOTICE_HEADER),
	                    "held; id=00c0ffee12345678");
	assert_non_null(g_mime_message_get_message_id(m));
	assert_non_null(g_mime_message_get_date(m));

	/* multipart/report, report-type, three parts in order */
	top = g_mime_message_get_mime_part(m);
	ct = g_mime_object_get_content_type(top);
	assert_true(g_mime_content_type_is_type(ct, "multipart", "report"));
	assert_string_equal(g_mime_content_type_get_parameter(ct,
	                                                      "report-type"),
	                    "relaygate-findings");
	mp = GMIME_MULTIPART(top);
	assert_int_equal(g_mime_multipart_get_count(mp), 3);
	assert_true(g_mime_content_type_is_type(
	        g_mime_object_get_content_type(g_mime_multipart_get_part(mp, 0)),
	        "text", "plain"));
	assert_string_equal(g_mime_content_type_get_parameter(
	        g_mime_object_get_content_type(g_mime_multipart_get_part(mp, 0)),
	        "charset"), "utf-8");
	assert_true(g_mime_content_type_is_type(
	        g_mime_object_get_content_type(g_mime_multipart_get_part(mp, 1)),
	        "application", "json"));
	assert_true(g_mime_content_type_is_type(
	        g_mime_object_get_content_type(g_mime_multipart_get_part(mp, 2)),
	        "text", "rfc822-headers"));

	/* for people: the message, what happened, every finding with its
	 * excerpt, one guidance line per rule, whom to contact */
	text = part_text(g_mime_multipart_get_part(mp, 0));
	assert_non_null(strstr(text, "held for review"));
	assert_non_null(strstr(text, "Ihre Bestellung \xe2\x80\x93 Lieferung"));
	assert_non_null(strstr(text, "2m7kq9xw4p1rz8d@marketplace.amazon.de, "
	                       "archive@northwind-garden.example"));
	assert_non_null(strstr(text, "2026-03-02 09:20:00 UTC"));
	assert_non_null(strstr(text, "00c0ffee12345678"));
	assert_non_null(strstr(text, "1. emoji in part 1 at 3:12: "
	                       "\"\xf0\x9f\x98\x80\""));
	assert_non_null(strstr(text, "2. phone-number in part 1 at 5:30: "
	                       "\"+44 20 7946 0958\""));
	assert_non_null(strstr(text, "3. emoji in the subject"));
	assert_int_equal(count(text, rg_rule_guidance(RG_RULE_EMOJI)), 1);
	assert_int_equal(count(text,
	                       rg_rule_guidance(RG_RULE_PHONE_NUMBER)), 1);
	assert_non_null(strstr(text, "Call the mail desk, extension 42."));
	g_free(text);

	/* for software: valid JSON with the same findings */
	json = part_text(g_mime_multipart_get_part(mp, 1));
	if (!json_valid(json))
		fail_msg("not JSON: %s", json);
	assert_non_null(strstr(json, "\"notice\":\"held\""));
	assert_non_null(strstr(json, "\"id\":\"00c0ffee12345678\""));
	assert_non_null(strstr(json, "\"recipients\":[\"2m7kq9xw4p1rz8d@"
	                       "marketplace.amazon.de\",\"archive@northwind-"
	                       "garden.example\"]"));
	assert_int_equal(count(json, "\"rule\":"), 3);
	assert_int_equal(count(json, "\"rule\":\"emoji\""), 2);
	assert_non_null(strstr(json, "\"line\":5,\"column\":30,\"excerpt\":"
	                       "\"+44 20 7946 0958\""));
	assert_non_null(strstr(json, "\"excerpt\":\"say \\\"hi\\\" :)\""));
	assert_non_null(strstr(json, "\"received\":\"2026-03-02T09:20:00Z\""));
	assert_non_null(strstr(json, "\"reason\":null"));
	g_free(json);

	/* the original headers, whole (8-bit kept through the encoding) */
	headers = part_text(g_mime_multipart_get_part(mp, 2));
	assert_string_equal(headers, original_headers);
	g_free(headers);

	g_object_unref(m);
	g_free(data);
	rgq_record_clear(&rec);
}

static void
test_outcome_notices(void **state)
{
	static const struct {
		const char *kind;
		const char *subject;
		const char *says;
	} cases[] = {
		{ "released", "Released after review: ", "released and delivered" },
		{ "dropped", "Not delivered, deleted after review: ",
		  "will not be delivered" },
	};
	struct rgq_record rec;

	(void)state;
	make_record(&rec);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t len;
		unsigned char *data = rgq_notice_compose(&rec, cases[i].kind,
		        "links to the shop", (const unsigned char *)
		        original_headers, strlen(original_headers), &params,
		        &len);
		GMimeMessage *m = parse(data, len);
		GMimeMultipart *mp =
		        GMIME_MULTIPART(g_mime_message_get_mime_part(m));
		char *text = part_text(g_mime_multipart_get_part(mp, 0));
		char *json = part_text(g_mime_multipart_get_part(mp, 1));
		char *want = g_strdup_printf("\"notice\":\"%s\"", cases[i].kind);

		assert_true(g_str_has_prefix(g_mime_message_get_subject(m),
		                             cases[i].subject));
		assert_non_null(strstr(text, cases[i].says));
		assert_non_null(strstr(text, "links to the shop"));
		assert_true(json_valid(json));
		assert_non_null(strstr(json, want));
		assert_non_null(strstr(json, "\"reason\":\"links to the "
		                       "shop\""));
		assert_string_equal(g_mime_object_get_header(GMIME_OBJECT(m),
		                                             "Auto-Submitted"),
		                    "auto-replied");
		g_free(want);
		g_free(text);
		g_free(json);
		g_object_unref(m);
		g_free(data);
	}
	rgq_record_clear(&rec);
}

static void
test_no_headers(void **state)
{
	struct rgq_record rec;
	unsigned char *data;
	size_t len;
	GMimeMessage *m;

	(void)state;
	make_record(&rec);
	data = rgq_notice_compose(&rec, "held", NULL, NULL, 0, &params, &len);
	m = parse(data, len);
	assert_int_equal(g_mime_multipart_get_count(
	        GMIME_MULTIPART(g_mime_message_get_mime_part(m))), 3);
	g_object_unref(m);
	g_free(data);
	rgq_record_clear(&rec);
}

static void
test_who_gets_a_notice(void **state)
{
	static const struct {
		const char *sender;
		const char *why;             /* NULL: a notice may go */
	} cases[] = {
		{ NULL, "null sender" },
		{ "", "null sender" },
		{ "<>", "null sender" },
		{ "orders@northwind-garden.example", NULL },
		{ "<orders@northwind-garden.example>", NULL },
		{ "x@marketplace.amazon.de", "a relay address" },
		{ "X@MARKETPLACE.AMAZON.DE", "a relay address" },
		{ "<x@eu.marketplace.amazon.com>", "a relay address" },
		{ "x@marketplace.amazon.de.evil.example", NULL },
		{ "MAILER-DAEMON@mx.example", "MAILER-DAEMON" },
		{ "mailer-daemon", "MAILER-DAEMON" },
		{ "mailer-daemons@mx.example", NULL },
	};
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *got = rgq_notice_skip(policy, cases[i].sender);

		if ((got == NULL) != (cases[i].why == NULL) ||
		    (got != NULL && strcmp(got, cases[i].why) != 0))
			fail_msg("%s: got %s, want %s", cases[i].sender
			         ? cases[i].sender : "(null)",
			         got ? got : "a notice",
			         cases[i].why ? cases[i].why : "a notice");
	}
	rg_policy_unref(&policy);
}

static void
test_header_section(void **state)
{
	static const struct {
		const char *message;
		size_t want;
	} cases[] = {
		{ "A: b\r\n\r\nbody", 8 },
		{ "A: b\n\nbody", 6 },
		{ "A: b\r\nC: d\r\n", 12 },    /* no body: all of it */
		{ "", 0 },
	};
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_int_equal(rgq_header_section(
		        (const unsigned char *)cases[i].message,
		        strlen(cases[i].message)), cases[i].want);
}

static void
test_json_string(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "tab\tnl\ncr\r", "\"tab\\tnl\\ncr\\r\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "bad \xff utf-8", "\"bad \xef\xbf\xbd utf-8\"" },
	};
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		GString *s = g_string_new(NULL);

		rg_json_string(s, cases[i].in);
		assert_string_equal(s->str, cases[i].want);
		assert_true(json_valid(s->str));
		g_string_free(s, TRUE);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_notice),
		cmocka_unit_test(test_outcome_notices),
		cmocka_unit_test(test_no_headers),
		cmocka_unit_test(test_who_gets_a_notice),
		cmocka_unit_test(test_header_section),
		cmocka_unit_test(test_json_string),
	};

	rg_engine_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
