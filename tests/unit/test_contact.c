/*
 * test_contact.c - rules email-address and phone-number: addresses plain
 * and obfuscated, mailto: links, phone numbers in national and
 * international formats, and the numbers that are not phone numbers
 * (order ids, dates, prices, quantities, tracking numbers, codes).
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "testutil.h"

struct contact_case {
	const char *name;
	const char *body;
	size_t want_email;
	size_t want_phone;
};

static const struct contact_case cases[] = {
	/* from the corpus */
	{ "signature", "service@ampereaudio.com | +1 (555) 014-3386", 1, 1 },
	{ "whatsapp es",
	  "Escr\xc3\xad" "banos por WhatsApp al +34 600 000 123 y se lo "
	  "resolvemos en un momento.", 0, 1 },
	{ "dye lots",
	  "We have 6 skeins from dye lot 44718 and 4 from dye lot 44721.",
	  0, 0 },
	{ "usps tracking", "Tracking: 9400 1118 9922 3033 4455 61", 0, 0 },
	{ "order id", "Order 702-8840316-2275519", 0, 0 },
	{ "quoted attribution", "Am 22.01.2026 um 08:47 schrieb Uwe:", 0, 0 },

	/* e-mail addresses */
	{ "plain", "Write to help@shop.example.com today.", 1, 0 },
	{ "upper case", "JOHN@EXAMPLE.COM", 1, 0 },
	{ "plus and dots", "j.doe+orders@mail.example.org", 1, 0 },
	{ "two-label tld", "name@domain.co.uk.", 1, 0 },
	{ "unicode local part", "m\xc3\xbcller@beispiel.de", 1, 0 },
	{ "idn a-label", "info@xn--bcher-kva.de", 1, 0 },
	{ "fullwidth at (NFKC)", "name\xef\xbc\xa0" "domain.com", 1, 0 },
	{ "(at) (dot)", "name (at) domain (dot) com", 1, 0 },
	{ "[at]", "name [at] domain.com", 1, 0 },
	{ "{at} [dot]", "name{at}domain[dot]com", 1, 0 },
	{ "spaced @", "Email: sales @ acme.de", 1, 0 },
	{ "at dot words", "name at domain dot com", 1, 0 },
	{ "AT DOT upper", "Write SALES AT ACME DOT DE", 1, 0 },
	{ "dotted name words", "john dot smith at gmail dot com", 1, 0 },
	{ "relay in a quote",
	  "> On 5 Jan, Buyer <ab12cd@marketplace.amazon.com> wrote:", 1, 0 },
	{ "two addresses", "a@shop.example.com or b@shop.example.com", 2, 0 },
	{ "handle", "Follow @acme_shop", 0, 0 },
	{ "no tld", "user@localhost", 0, 0 },
	{ "price at", "2 @ 5.99 each", 0, 0 },
	{ "url with @", "https://medium.com/@acme/post", 0, 0 },
	{ "at the dot com", "Look at the dot com bubble.", 0, 0 },
	{ "us at web site", "Find us at acme dot com", 0, 0 },
	{ "at unknown tld words", "info at acme dot zzz", 0, 0 },
	{ "meet at", "We meet at 5 at the shop.", 0, 0 },

	/* phone numbers */
	{ "nanp intl", "+1 (555) 014-3386", 0, 1 },
	{ "00 prefix", "0049 30 1234567", 0, 1 },
	{ "de area parens", "(030) 123 45 67", 0, 1 },
	{ "us dashes", "555-014-3386", 0, 1 },
	{ "us dots", "555.014.3386", 0, 1 },
	{ "uk national", "020 7946 0958", 0, 1 },
	{ "uk intl", "+44 20 7946 0958", 0, 1 },
	{ "uk intl (0)", "+44 (0)20 7946 0958", 0, 1 },
	{ "japan", "03-1234-5678", 0, 1 },
	{ "fr unseparated", "0612345678", 0, 1 },
	{ "fr blanks", "06 12 34 56 78", 0, 1 },
	{ "fr dots", "06.12.34.56.78", 0, 1 },
	{ "fr at sentence end", "Appelez le 06 12 34 56 78.", 0, 1 },
	{ "us 1-800", "1-800-555-0199", 0, 1 },
	{ "us local 7 digits", "Call us on 555-0143", 0, 1 },
	{ "cue, 7 digits", "Tel: 1234567", 0, 1 },
	{ "cue ja", "\xe9\x9b\xbb\xe8\xa9\xb1\xef\xbc\x9a" "1234567", 0, 1 },
	{ "cue whatsapp", "WhatsApp 612345678", 0, 1 },
	{ "cue beats number word", "phone number 612345678", 0, 1 },
	{ "intl unseparated", "+34600000123", 0, 1 },
	{ "arabic-indic digits",
	  "\xd9\xa0\xd9\xa5\xd9\xa0\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5"
	  "\xd9\xa6\xd9\xa7", 0, 1 },
	{ "two numbers, spaced slash", "Call 0612345678 / 0698765432", 0, 2 },
	{ "after an order id", "702-8840316-2275519 555 014 3386", 0, 1 },
	{ "en dashes", "555\xe2\x80\x93" "014\xe2\x80\x93" "3386", 0, 1 },
	{ "freephone after a time", "Call before 17:00: 0800 123 4567", 0, 1 },
	{ "00 and (0)", "Phone: 0049 (0)30 1234 5678", 0, 1 },
	{ "ja with cue", "\xe9\x9b\xbb\xe8\xa9\xb1 03-1234-5678", 0, 1 },
	{ "compound cue", "Telefonnummer: 1234567", 0, 1 },
	{ "cue, blanks", "Contact: 555 0143", 0, 1 },
	{ "cue beats a mixed token", "Hotline 24h 0800 123 4567", 0, 1 },

	/* not phone numbers */
	{ "iso date", "Delivered 2026-01-28.", 0, 0 },
	{ "de date", "am 28.01.2026", 0, 0 },
	{ "us date", "on 01/28/2026", 0, 0 },
	{ "uk date", "on 28/01/2026", 0, 0 },
	{ "date and time", "2026-01-28 10:30", 0, 0 },
	{ "short date", "28.01.26", 0, 0 },
	{ "time", "between 10:30 and 12:30", 0, 0 },
	{ "time range", "10:30-12:30", 0, 0 },
	{ "euro price", "\xe2\x82\xac" "12.99", 0, 0 },
	{ "dollar price", "$1,299.00", 0, 0 },
	{ "eur suffix", "12,99 EUR", 0, 0 },
	{ "de price", "1.299,00 \xe2\x82\xac", 0, 0 },
	{ "big price", "1.299.000,00 \xe2\x82\xac", 0, 0 },
	{ "thousands dots", "EUR 1.299.000", 0, 0 },
	{ "blank thousands", "1 299 000 units", 0, 0 },
	{ "currency after", "1234567 \xe2\x82\xac", 0, 0 },
	{ "postcode", "75008 Paris", 0, 0 },
	{ "uk postcode", "London SW1A 1AA", 0, 0 },
	{ "zip+4", "Beverly Hills, CA 90210-1234", 0, 0 },
	{ "quantity", "10 skeins", 0, 0 },
	{ "asin", "ASIN B0C1234567", 0, 0 },
	{ "asin bare", "B07XJ8C8F5", 0, 0 },
	{ "mm", "The 25 mm plate", 0, 0 },
	{ "dimensions", "120x60 cm", 0, 0 },
	{ "dimensions spaced", "1200 x 600 x 450 mm", 0, 0 },
	{ "version", "firmware 1.3.0", 0, 0 },
	{ "build number", "Windows 10.0.19045.2965", 0, 0 },
	{ "ip address", "192.168.100.254", 0, 0 },
	{ "ups", "1Z999AA10123456784", 0, 0 },
	{ "ups spaced", "1Z 999 AA1 01 2345 6784", 0, 0 },
	{ "iban de", "DE89 3704 0044 0532 0130 00", 0, 0 },
	{ "iban gb", "GB33 BUKB 2020 1555 5555 55", 0, 0 },
	{ "iban be", "BE68 5390 0754 7034", 0, 0 },
	{ "long number", "123456789012345", 0, 0 },
	{ "card number", "4111 1111 1111 1111", 0, 0 },
	{ "invoice", "Invoice 123456789", 0, 0 },
	{ "invoice no", "Invoice no. 0612345678", 0, 0 },
	{ "hash", "Ticket #12345678901", 0, 0 },
	{ "ean", "EAN 4006381333931", 0, 0 },
	{ "isbn", "ISBN 978-3-16-148410-0", 0, 0 },
	{ "sizes", "sizes 36 38 40 42", 0, 0 },
	{ "8 digits", "ref 20260128", 0, 0 },
	{ "8 digits bare", "batch 20260128 ok", 0, 0 },
	{ "ratio", "The 3:2 ratio", 0, 0 },
	{ "percent", "12345678%", 0, 0 },
	{ "vat number", "Our VAT number GB 123 4567 89.", 0, 0 },
	{ "year range", "Fits models 2016-2019 and 2020/2024.", 0, 0 },
	{ "number range", "between 1000-2000 units", 0, 0 },
	{ "ja postcode", "\xe3\x80\x92" "100-0001", 0, 0 },
	{ "de invoice", "Die Rechnung Nr. 2026-004711 vom 28.01.2026", 0, 0 },
	{ "fr tracking",
	  "Num\xc3\xa9ro de suivi : 1Z 999 AA1 01 2345 6784", 0, 0 },
	{ "barcode", "Barcode 5012345678900.", 0, 0 },
	{ "opening hours", "Monday to Friday 9:00-17:30", 0, 0 },
	{ "dated ticket", "Ticket 20260128-0042", 0, 0 },
	{ "two order ids", "Order 702-8840316-2275519 / 702-8840317-2275520", 0,
	  0 },
	{ "coordinates", "51.5074, -0.1278", 0, 0 },
	{ "serial", "Serial number: 4012 8888 8888 1881", 0, 0 },
	{ "tell is no cue", "Please tell us the code 12345678", 0, 0 },
};

static void
test_cases(void **state)
{
	rg_policy *policy = tu_policy();
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_result result;
		size_t email, phone;

		tu_scan_plain(policy, NULL, cases[i].body, &result);
		email = tu_count(&result, RG_RULE_EMAIL_ADDRESS);
		phone = tu_count(&result, RG_RULE_PHONE_NUMBER);
		if (email != cases[i].want_email ||
		    phone != cases[i].want_phone) {
			print_message("FAIL %s: email-address %zu (want %zu), "
			              "phone-number %zu (want %zu)\n",
			              cases[i].name, email, cases[i].want_email,
			              phone, cases[i].want_phone);
			tu_dump(&result);
			failed++;
		}
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
	if (failed > 0)
		fail_msg("%d of %zu cases failed", failed, G_N_ELEMENTS(cases));
}

/* the finding names the part, line, column and the whole excerpt */
static void
test_position_and_excerpt(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	tu_scan_plain(policy, NULL,
	              "Hi R\xc3\xbc" "diger,\n\nRing us: +1 (555) 014-3386 or "
	              "write to r\xc3\xa9" "my (at) shop (dot) com.\n",
	              &result);
	f = tu_first(&result, RG_RULE_PHONE_NUMBER);
	assert_non_null(f);
	assert_string_equal(f->part, "1");
	assert_int_equal(f->line, 3);
	assert_int_equal(f->column, 10);
	assert_string_equal(f->excerpt, "+1 (555) 014-3386");
	f = tu_first(&result, RG_RULE_EMAIL_ADDRESS);
	assert_non_null(f);
	assert_int_equal(f->line, 3);
	assert_int_equal(f->column, 40);
	assert_string_equal(f->excerpt, "r\xc3\xa9my (at) shop (dot) com");
	rg_result_clear(&result);

	/* a column counts characters, not bytes */
	tu_scan_plain(policy, NULL, "\xc3\xa9\xc3\xa9 0612345678", &result);
	f = tu_first(&result, RG_RULE_PHONE_NUMBER);
	assert_non_null(f);
	assert_int_equal(f->line, 1);
	assert_int_equal(f->column, 4);
	assert_string_equal(f->excerpt, "0612345678");
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

static void
test_subject(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	tu_scan_plain(policy, "Order 111-2222222-3333333: call 0612345678",
	              "Hello", &result);
	assert_int_equal(tu_count(&result, RG_RULE_PHONE_NUMBER), 1);
	f = tu_first(&result, RG_RULE_PHONE_NUMBER);
	assert_string_equal(f->part, "subject");
	assert_string_equal(f->excerpt, "0612345678");
	assert_int_equal(tu_count(&result, RG_RULE_EMAIL_ADDRESS), 0);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

static const struct {
	const char *name;
	const char *html;
	size_t want;
	const char *excerpt;   /* of the first finding, or NULL */
	int in_text;           /* the first finding has a line */
} html_cases[] = {
	{ "mailto and the same text",
	  "<p><a href=\"mailto:service@ampereaudio.com\">"
	  "service@ampereaudio.com</a> | +1 (555) 014-3386</p>",
	  1, "service@ampereaudio.com", 1 },
	{ "mailto behind words",
	  "<p>Please <a href=\"MAILTO:Service%40AmpereAudio.com?subject=Hi\">"
	  "write to us</a>.</p>", 1, "Service@AmpereAudio.com", 0 },
	{ "mailto, text differs in case",
	  "<p><a href=\"mailto:Sales@Shop.example.com\">"
	  "sales@shop.example.com</a></p>", 1, "sales@shop.example.com", 1 },
	{ "two recipients",
	  "<a href=\"mailto:a@x.example.com,b@y.example.com\">mail us</a>",
	  2, "a@x.example.com", 0 },
	{ "empty mailto", "<a href=\"mailto:?subject=hello\">mail</a>", 0,
	  NULL, 0 },
	{ "allowed address", "<a href=\"mailto:warranty@maker.example.com\">"
	  "our warranty desk</a>", 0, NULL, 0 },
	{ "allowed in text, any case",
	  "<p>Write to Warranty@Maker.Example.com</p>", 0, NULL, 0 },
	{ "hidden text", "<div style=\"display:none\">Write to "
	  "sales@ampereaudio.com</div><p>Hi</p>", 1,
	  "sales@ampereaudio.com", 1 },
	{ "entity-encoded at", "<p>sales&#64;ampereaudio.com</p>", 1,
	  "sales@ampereaudio.com", 1 },
	/* escapes of control characters are not decoded into the excerpt */
	{ "control characters in mailto",
	  "<a href=\"mailto:x%0a%0d@y.example.com\">x</a>", 1,
	  "x%0a%0d@y.example.com", 0 },
};

static void
test_html_mailto(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;

	(void)state;
	rg_settings_init(&settings);
	rg_strlist_add(&settings.allowed_emails, "warranty@maker.example.com");
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	for (size_t i = 0; i < G_N_ELEMENTS(html_cases); i++) {
		struct rg_result result;
		const struct rg_finding *f;

		tu_scan_html(policy, NULL, html_cases[i].html, &result);
		f = tu_first(&result, RG_RULE_EMAIL_ADDRESS);
		if (tu_count(&result, RG_RULE_EMAIL_ADDRESS) !=
		    html_cases[i].want ||
		    (html_cases[i].excerpt != NULL &&
		     (f == NULL ||
		      strcmp(f->excerpt, html_cases[i].excerpt) != 0 ||
		      (f->line > 0) != html_cases[i].in_text))) {
			tu_dump(&result);
			fail_msg("%s: want %zu email-address findings",
			         html_cases[i].name, html_cases[i].want);
		}
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
}

static const struct {
	const char *body;
	size_t want;
} allowed_phone_cases[] = {
	{ "+1 (555) 014-3386", 0 },
	{ "001 555 014 3386", 0 },
	{ "(555) 014-3386", 0 },         /* national form of the same */
	{ "555-014-3387", 1 },
	{ "+44 (0)20 7946 0958", 0 },
	{ "020 7946 0958", 0 },
	{ "020 7946 0959", 1 },
	{ "+49 30 1234567", 1 },
};

static void
test_allowed_phones(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;

	(void)state;
	rg_settings_init(&settings);
	rg_strlist_add(&settings.allowed_phones, "15550143386");
	rg_strlist_add(&settings.allowed_phones, "+44 20 7946 0958");
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	for (size_t i = 0; i < G_N_ELEMENTS(allowed_phone_cases); i++) {
		struct rg_result result;

		tu_scan_plain(policy, NULL, allowed_phone_cases[i].body,
		              &result);
		if (tu_count(&result, RG_RULE_PHONE_NUMBER) !=
		    allowed_phone_cases[i].want) {
			tu_dump(&result);
			fail_msg("\"%s\": want %zu phone-number findings",
			         allowed_phone_cases[i].body,
			         allowed_phone_cases[i].want);
		}
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
}

static void
test_rules_off(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;
	struct rg_result result;

	(void)state;
	rg_settings_init(&settings);
	settings.actions[RG_RULE_EMAIL_ADDRESS] = RG_ACTION_OFF;
	policy = tu_policy_from(&settings);
	tu_scan_plain(policy, NULL, "a@shop.example.com +1 (555) 014-3386",
	              &result);
	assert_int_equal(tu_count(&result, RG_RULE_EMAIL_ADDRESS), 0);
	assert_int_equal(tu_count(&result, RG_RULE_PHONE_NUMBER), 1);
	rg_result_clear(&result);
	rg_policy_unref(&policy);

	settings.actions[RG_RULE_EMAIL_ADDRESS] = RG_ACTION_WARN;
	settings.actions[RG_RULE_PHONE_NUMBER] = RG_ACTION_OFF;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	tu_scan_plain(policy, NULL, "a@shop.example.com +1 (555) 014-3386",
	              &result);
	assert_int_equal(tu_count(&result, RG_RULE_EMAIL_ADDRESS), 1);
	assert_int_equal(tu_first(&result, RG_RULE_EMAIL_ADDRESS)->action,
	                 RG_ACTION_WARN);
	assert_int_equal(tu_count(&result, RG_RULE_PHONE_NUMBER), 0);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* Long hostile texts: linear time, no findings, no limit hit. */
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

static void
test_long_inputs(void **state)
{
	static const struct {
		const char *unit;
		size_t times;
	} inputs[] = {
		{ "1 ", 200000 },            /* one endless digit run */
		{ "12-", 100000 },
		{ "(1)", 100000 },
		{ "a.", 200000 },            /* an endless local part */
		{ "a at ", 80000 },
		{ "a (at) b ", 40000 },
		{ "x@y.", 100000 },          /* an endless domain */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 10000 },
	};
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
		char *body = repeat(inputs[i].unit, inputs[i].times);
		struct rg_result result;
		gint64 start = g_get_monotonic_time();

		tu_scan_plain(policy, NULL, body, &result);
		if (tu_count(&result, RG_RULE_UNCHECKABLE) != 0 ||
		    tu_count(&result, RG_RULE_PHONE_NUMBER) != 0 ||
		    g_get_monotonic_time() - start > 10 * G_USEC_PER_SEC) {
			tu_dump(&result);
			fail_msg("\"%s\" x %zu", inputs[i].unit,
			         inputs[i].times);
		}
		rg_result_clear(&result);
		g_free(body);
	}
	/* the run is followed to its end: its tail is not a phone number,
	 * what comes after it is judged */
	{
		char *run = repeat("1 ", 100000);
		char *body = g_strconcat(run, "0612345678 call 0698765432",
		                         NULL);
		struct rg_result result;

		tu_scan_plain(policy, NULL, body, &result);
		assert_int_equal(tu_count(&result, RG_RULE_PHONE_NUMBER), 1);
		assert_string_equal(
			tu_first(&result, RG_RULE_PHONE_NUMBER)->excerpt,
			"0698765432");
		rg_result_clear(&result);
		g_free(body);
		g_free(run);
	}
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_position_and_excerpt),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_html_mailto),
		cmocka_unit_test(test_allowed_phones),
		cmocka_unit_test(test_rules_off),
		cmocka_unit_test(test_long_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
