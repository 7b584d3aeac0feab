/*
 * test_links.c - rules external-link and insecure-link: links in the
 * visible text (scheme URLs, www. hosts, bare domains) and in the markup
 * (href, src, CSS url()), look-alike hosts, marketplace pages the order
 * does not need, and near-misses that are not links.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "testutil.h"

struct link_case {
	const char *name;
	const char *body;
	size_t external;       /* external-link findings */
	size_t insecure;       /* insecure-link findings */
};

#define ORDER_PAGE "https://www.amazon.co.uk/gp/your-account/order-details" \
	"?orderID=111-2222222-3333333"

static const struct link_case plain_cases[] = {
	/* the marketplace's own pages the order needs */
	{ "order details", "See " ORDER_PAGE " for details.", 0, 0 },
	{ "order details, dots", "See " ORDER_PAGE "...", 0, 0 },
	{ "order history", "https://www.amazon.co.uk/gp/css/order-history",
	  0, 0 },
	{ "review page", "https://www.amazon.com/review/create-review?asin="
	  "B0CM2T9Q4H", 0, 0 },
	{ "bare marketplace", "Your orders are on amazon.de.", 0, 0 },
	{ "www marketplace", "Go to www.amazon.fr please", 0, 0 },
	{ "subdomain", "https://smile.amazon.com/gp/css/order-history", 0, 0 },
	{ "port", "https://www.amazon.com:443/gp/css/order-history", 0, 0 },
	{ "upper case", "HTTPS://WWW.AMAZON.COM/gp/css/order-history", 0, 0 },
	{ "trailing dot host", "https://www.amazon.com./gp/css/returns", 0, 0 },
	/* http is insecure, even to the marketplace */
	{ "http marketplace", "http://www.amazon.de/gp/css/order-history",
	  0, 1 },
	{ "HTTP upper case", "HTTP://WWW.AMAZON.DE/gp/css/order-history",
	  0, 1 },
	{ "http external", "Visit http://evil.example/x now", 1, 1 },
	/* marketplace pages the order does not need */
	{ "product page", "https://www.amazon.com/dp/B0CM2T9Q4H", 1, 0 },
	{ "product with slug", "https://www.amazon.com/Dot-Grid-Notebook/dp/"
	  "B0CM2T9Q4H/ref=sr_1_1", 1, 0 },
	{ "gp product", "https://www.amazon.de/gp/product/B0CM2T9Q4H", 1, 0 },
	{ "language prefix", "https://www.amazon.de/-/en/dp/B0CM2T9Q4H", 1, 0 },
	{ "brand store", "https://www.amazon.com/stores/Quillcrest/page/1234",
	  1, 0 },
	{ "storefront", "https://www.amazon.com/s?me=A1B2C3D4E5", 1, 0 },
	{ "search", "https://www.amazon.co.uk/s?k=notebook", 1, 0 },
	{ "bare product page", "amazon.com/dp/B0CM2T9Q4H", 1, 0 },
	{ "backslash path", "https://www.amazon.com\\dp\\B0CM2T9Q4H", 1, 0 },
	{ "http product page", "http://www.amazon.com/dp/B0CM2T9Q4H", 1, 1 },
	/* look-alikes and tricks */
	{ "suffix host", "https://amazon.com.evil.example/x", 1, 0 },
	{ "bare suffix host", "Log in at amazon.com.evil.example today",
	  1, 0 },
	{ "digit for letter", "Log in at amaz0n.com", 1, 0 },
	{ "hyphenated", "https://amazon-support.com/help", 1, 0 },
	{ "label suffix", "https://evilamazon.com/", 1, 0 },
	{ "userinfo", "https://amazon.com@evil.example/", 1, 0 },
	{ "userinfo and port", "https://www.amazon.de:443@evil.example:8080/",
	  1, 0 },
	{ "backslash userinfo", "https://evil.example\\@amazon.com/", 1, 0 },
	{ "cyrillic a", "https://\xd0\xb0mazon.com/gp/css/order-history",
	  1, 0 },
	{ "cyrillic a bare", "\xd0\xb0mazon.com", 1, 0 },
	{ "a-label", "https://xn--amzon-8qa.com/", 1, 0 },
	{ "a-label bare", "xn--amzon-8qa.com", 1, 0 },
	{ "IPv4 literal", "https://192.0.2.1/login", 1, 0 },
	{ "IPv6 literal", "http://[2001:db8::1]/login", 1, 1 },
	{ "ftp", "ftp://files.example.net/manual.pdf", 1, 0 },
	{ "many slashes", "https:////evil.example/", 1, 0 },
	/* the seller's own site */
	{ "www host", "Visit www.ourshop.com for more.", 1, 0 },
	{ "bare domain", "Order directly from ourshop.com and save.", 1, 0 },
	{ "bare with path", "Refills at ourshop.co.uk/refills.", 1, 0 },
	{ "bare subdomain path", "shop.example.co.uk/refills", 1, 0 },
	{ "bare in parentheses", "(see ourshop.com)", 1, 0 },
	{ "URL in parentheses", "(see https://ourshop.com/x).", 1, 0 },
	{ "bare with port", "ourshop.com:8080", 1, 0 },
	{ "after a dash", "-ourshop.com", 1, 0 },
	{ "in a list", "Sites:ourshop.com,ourshop.de;ourshop.fr", 3, 0 },
	{ "two occurrences", "ourshop.com or ourshop.com", 2, 0 },
	{ "URL then sentence", "see ourshop.com.Thanks again", 1, 0 },
	{ "IDN", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80."
	  "\xd1\x80\xd1\x84", 1, 0 },
	{ "file tld with path", "ourshop.zip/refills", 1, 0 },
	{ "file tld with www", "www.photo.mov", 1, 0 },
	{ "co.uk site", "thornburygarden.co.uk", 1, 0 },
	{ "japanese around URL",
	  "\xe8\xa9\xb3\xe3\x81\x97\xe3\x81\x8f\xe3\x81\xaf"
	  "https://www.amazon.co.jp/gp/css/order-history"
	  "\xe3\x82\x92\xe3\x81\x94\xe8\xa6\xa7\xe3\x81\x8f\xe3\x81\xa0"
	  "\xe3\x81\x95\xe3\x81\x84", 0, 0 },
	{ "japanese around bare", "\xe8\xa9\xb3\xe3\x81\x97\xe3\x81\x8f"
	  "ourshop.com\xe3\x82\x92\xe3\x81\x94\xe8\xa6\xa7", 1, 0 },
	{ "fullwidth URL (NFKC)",
	  "\xef\xbd\x88\xef\xbd\x94\xef\xbd\x94\xef\xbd\x90\xef\xbc\x9a"
	  "\xef\xbc\x8f\xef\xbc\x8f" "evil.example", 1, 1 },
	{ "redirector", "https://www.amazon.com/gp/redirect.html?location="
	  "https://evil.example", 1, 0 },
	/* not links */
	{ "e.g.", "Use a soft cloth, e.g. microfibre.", 0, 0 },
	{ "i.e.", "the lid (i.e. the top part)", 0, 0 },
	{ "file name", "Please see manual.pdf attached.", 0, 0 },
	{ "zip file", "I attached manual.zip for you.", 0, 0 },
	{ "mov file", "Here is photo.mov of the fault.", 0, 0 },
	{ "artwork file", "Send your logo.ai file please.", 0, 0 },
	{ "version", "Firmware 1.3.5 fixes it, v1.3 did not.", 0, 0 },
	{ "decimal", "The gap is 4.5 mm wide.", 0, 0 },
	{ "time", "Delivery at 10.30am.", 0, 0 },
	{ "sentence run together", "It arrived.Thanks for waiting.", 0, 0 },
	{ "run together with TLD", "It fits the box.It is fine.", 0, 0 },
	{ "name", "Mr.Smith will call.", 0, 0 },
	{ "legal form", "Shenzhen Trading Co.Ltd", 0, 0 },
	{ "legal form KG", "Muster GmbH & Co.KG", 0, 0 },
	{ "public suffix alone", "the co.uk registry", 0, 0 },
	{ "abbreviation", "U.S.A. and a.m. and p.m.", 0, 0 },
	{ "email address", "Write to help@ourshop.com please.", 0, 0 },
	{ "email dotted local", "john.design@ourshop.com", 0, 0 },
	{ "email plus local", "john.design+shop@ourshop.com", 0, 0 },
	{ "email www host", "info@www.ourshop.com", 0, 0 },
	{ "email hyphenated host", "info@our-shop.com", 0, 0 },
	{ "xmlns-like text", "xmlns:o=\"urn:schemas-microsoft-com:office:"
	  "office\"", 0, 0 },
	{ "mailto", "mailto:help@ourshop.com", 0, 0 },
	{ "tel", "tel:+15550143386", 0, 0 },
	{ "empty scheme URL", "http:// and https://", 0, 0 },
	{ "ellipsis", "Wait... ok", 0, 0 },
};

static const struct link_case html_cases[] = {
	{ "href same as text",
	  "<p><a href=\"https://x.example\">https://x.example</a></p>", 1, 0 },
	{ "href slash differs",
	  "<p><a href=\"https://x.example/\">https://x.example</a></p>",
	  1, 0 },
	{ "href http same as text",
	  "<p><a href=\"http://x.example/a\">http://x.example/a</a></p>",
	  1, 1 },
	{ "href differs from text",
	  "<p><a href=\"https://evil.example\">https://www.amazon.com</a></p>",
	  1, 0 },
	{ "autolinked www",
	  "<p><a href=\"http://www.ourshop.com\">www.ourshop.com</a></p>",
	  1, 1 },
	{ "order page link", "<p><a href=\"" ORDER_PAGE "\">your order</a>"
	  "</p>", 0, 0 },
	{ "product page link", "<p><a href=\"https://www.amazon.com/dp/"
	  "B0CM2T9Q4H\">the notebook</a></p>", 1, 0 },
	{ "img over http", "<p>Hi<img src=\"http://www.amazon.com/logo.png\" "
	  "alt=\"logo\"></p>", 0, 1 },
	{ "img external https", "<p>Hi<img src=\"https://cdn.example/a.png\" "
	  "alt=\"a\"></p>", 1, 0 },
	{ "css url http",
	  "<div style=\"background:url(http://cdn.example/bg.png)\">Hi</div>",
	  1, 1 },
	{ "xmlns", "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\" "
	  "xmlns=\"http://www.w3.org/TR/REC-html40\"><body><p>Hi</p></body>"
	  "</html>", 0, 0 },
	{ "mailto", "<p><a href=\"mailto:help@ourshop.com\">write</a></p>",
	  0, 0 },
	{ "tel", "<p><a href=\"tel:+15550143386\">call</a></p>", 0, 0 },
	{ "cid", "<p><img src=\"cid:logo@ourshop\" alt=\"x\"></p>", 0, 0 },
	{ "anchor", "<p><a href=\"#top\">top</a></p>", 0, 0 },
	{ "javascript", "<p><a href=\"javascript:void(0)\">x</a></p>", 0, 0 },
	{ "data", "<p><img src=\"data:image/png;base64,AAAA\" alt=\"x\"></p>",
	  0, 0 },
	{ "relative", "<p><a href=\"page.html\">x</a><img src=\"images/a.png\""
	  " alt=\"a\"></p>", 0, 0 },
	{ "scheme-relative", "<p><a href=\"//evil.example/x\">x</a></p>",
	  1, 0 },
	{ "bare domain href", "<p><a href=\"ourshop.com/refills\">x</a></p>",
	  1, 0 },
	{ "www href", "<p><a href=\"www.ourshop.com\">x</a></p>", 1, 0 },
	{ "spaces and tab in href",
	  "<p><a href=\" ht&#9;tps://evil.example \">x</a></p>", 1, 0 },
	{ "two hrefs one URL",
	  "<p><a href=\"https://x.example\">a</a> <a href=\"https://x.example"
	  "\">b</a></p>", 1, 0 },
	{ "userinfo href",
	  "<p><a href=\"https://amazon.com@evil.example/\">amazon</a></p>",
	  1, 0 },
};

/* check_case - 0 when the case gives the findings it wants, else 1 with
 * the findings printed */
static int
check_case(rg_policy *policy, const struct link_case *c, int html)
{
	struct rg_result result;
	size_t external, insecure;
	int failed = 0;

	if (html)
		tu_scan_html(policy, NULL, c->body, &result);
	else
		tu_scan_plain(policy, NULL, c->body, &result);
	external = tu_count(&result, RG_RULE_EXTERNAL_LINK);
	insecure = tu_count(&result, RG_RULE_INSECURE_LINK);
	if (external != c->external || insecure != c->insecure) {
		print_message("%s: %s: got external %zu insecure %zu, "
		              "want %zu %zu\n", html ? "html" : "plain", c->name,
		              external, insecure, c->external, c->insecure);
		tu_dump(&result);
		failed = 1;
	}
	if (tu_count(&result, RG_RULE_UNCHECKABLE) != 0) {
		print_message("%s: a pattern hit a limit\n", c->name);
		tu_dump(&result);
		failed = 1;
	}
	rg_result_clear(&result);
	return failed;
}

/* check_cases - every case of a table; fails the test if any failed */
static void
check_cases(rg_policy *policy, const struct link_case *cases, size_t n,
            int html)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += (size_t)check_case(policy, &cases[i], html);
	if (failed > 0)
		fail_msg("%zu of %zu cases failed", failed, n);
}

static void
test_plain_cases(void **state)
{
	rg_policy *policy = tu_policy();

	(void)state;
	check_cases(policy, plain_cases, G_N_ELEMENTS(plain_cases), 0);
	rg_policy_unref(&policy);
}

static void
test_html_cases(void **state)
{
	rg_policy *policy = tu_policy();

	(void)state;
	check_cases(policy, html_cases, G_N_ELEMENTS(html_cases), 1);
	rg_policy_unref(&policy);
}

/* The finding names the link, its line and column. */
static void
test_finding_place(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	tu_scan_plain(policy, NULL, "Hello,\nsee (https://evil.example/a?b=1).",
	              &result);
	f = tu_first(&result, RG_RULE_EXTERNAL_LINK);
	assert_non_null(f);
	assert_string_equal(f->excerpt, "https://evil.example/a?b=1");
	assert_int_equal(f->line, 2);
	assert_int_equal(f->column, 6);
	rg_result_clear(&result);

	tu_scan_plain(policy, NULL, "Buy at ourshop.com.", &result);
	f = tu_first(&result, RG_RULE_EXTERNAL_LINK);
	assert_non_null(f);
	assert_string_equal(f->excerpt, "ourshop.com");
	rg_result_clear(&result);

	/* a link only in the markup: its URL, no line */
	tu_scan_html(policy, NULL,
	             "<p><a href=\"http://evil.example/\">here</a></p>", &result);
	f = tu_first(&result, RG_RULE_INSECURE_LINK);
	assert_non_null(f);
	assert_string_equal(f->excerpt, "http://evil.example/");
	assert_int_equal(f->line, 0);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* A link in the subject is a link. */
static void
test_subject(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	tu_scan_plain(policy, "Order 111-2222222-3333333 - see ourshop.com",
	              "Hello", &result);
	f = tu_first(&result, RG_RULE_EXTERNAL_LINK);
	assert_non_null(f);
	assert_string_equal(f->part, "subject");
	assert_int_equal(tu_count(&result, RG_RULE_EXTERNAL_LINK), 1);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* A configured domain is allowed with its subdomains, and only there
 * product-page paths are not judged (it is not a marketplace). */
static void
test_custom_allowed_domain(void **state)
{
	static const struct link_case cases[] = {
		{ "allowed", "https://seller-help.example/warranty", 0, 0 },
		{ "allowed subdomain", "https://kb.seller-help.example/x", 0, 0 },
		{ "allowed bare", "seller-help.example/warranty", 0, 0 },
		{ "allowed, dp path", "https://seller-help.example/dp/x", 0, 0 },
		{ "allowed over http", "http://seller-help.example/", 0, 1 },
		{ "suffix trick", "https://seller-help.example.evil.example/",
		  1, 0 },
		{ "prefix trick", "https://myseller-help.example/", 1, 0 },
		{ "marketplace still", "https://www.amazon.com/gp/css/returns",
		  0, 0 },
		{ "others still", "https://ourshop.com/", 1, 0 },
	};
	struct rg_settings settings;
	rg_policy *policy;

	(void)state;
	rg_settings_init(&settings);
	rg_strlist_add(&settings.allowed_link_domains, "seller-help.example");
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	check_cases(policy, cases, G_N_ELEMENTS(cases), 0);
	rg_policy_unref(&policy);
}

/* Each rule can be turned off alone. */
static void
test_rule_off(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;
	struct rg_result result;

	(void)state;
	rg_settings_init(&settings);
	settings.actions[RG_RULE_EXTERNAL_LINK] = RG_ACTION_OFF;
	policy = tu_policy_from(&settings);
	tu_scan_plain(policy, NULL, "http://evil.example/", &result);
	assert_int_equal(tu_count(&result, RG_RULE_EXTERNAL_LINK), 0);
	assert_int_equal(tu_count(&result, RG_RULE_INSECURE_LINK), 1);
	rg_result_clear(&result);
	rg_policy_unref(&policy);

	settings.actions[RG_RULE_EXTERNAL_LINK] = RG_ACTION_WARN;
	settings.actions[RG_RULE_INSECURE_LINK] = RG_ACTION_OFF;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	tu_scan_plain(policy, NULL, "http://evil.example/", &result);
	assert_int_equal(tu_count(&result, RG_RULE_EXTERNAL_LINK), 1);
	assert_int_equal(tu_count(&result, RG_RULE_INSECURE_LINK), 0);
	assert_int_equal(tu_first(&result, RG_RULE_EXTERNAL_LINK)->action,
	                 RG_ACTION_WARN);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* repeat - s n times (g_free) */
static char *
repeat(const char *s, size_t n)
{
	GString *out = g_string_sized_new(strlen(s) * n);

	for (size_t i = 0; i < n; i++)
		g_string_append(out, s);
	return g_string_free(out, FALSE);
}

/*
 * Adversarial text: long runs that look almost like domains or URLs must
 * be judged in about linear time without hitting the match limit, and a
 * link after them is still found.
 */
static void
test_adversarial(void **state)
{
	static const struct {
		const char *unit;
		size_t n;
		size_t external;      /* want; the final link counts */
	} cases[] = {
		{ "a.", 200000, 1 },
		{ "a.pdf?", 50000, 1 },
		{ "aa-", 100000, 1 },
		{ "1.2.", 100000, 1 },
		{ "1.2 ", 100000, 1 },
		{ "Mr.Smith ", 50000, 1 },
		{ "https://www.amazon.com/", 10000, 1 },
		{ "www.", 50000, 2 },      /* "www.www.www..." is a host */
		{ "x@a.", 50000, 1 },
		{ "(", 100000, 1 },
		{ "\xe3\x81\x82.", 50000, 1 },
		/* findings stop at 50 a rule and part */
		{ "ourshop.com ", 100000, 50 },
	};
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *run = repeat(cases[i].unit, cases[i].n);
		char *body = g_strconcat(run, " https://evil.example/\n", NULL);
		struct rg_result result;
		gint64 t0 = g_get_monotonic_time();
		size_t want = cases[i].external;

		tu_scan_plain(policy, NULL, body, &result);
		if (tu_count(&result, RG_RULE_UNCHECKABLE) != 0 ||
		    tu_count(&result, RG_RULE_EXTERNAL_LINK) != want) {
			print_message("external %zu, want %zu\n",
			              tu_count(&result, RG_RULE_EXTERNAL_LINK),
			              want);
			fail_msg("adversarial '%s' x %zu", cases[i].unit,
			         cases[i].n);
		}
		print_message("'%s' x %zu: %.3f s\n", cases[i].unit, cases[i].n,
		              (double)(g_get_monotonic_time() - t0) / 1e6);
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
		cmocka_unit_test(test_plain_cases),
		cmocka_unit_test(test_html_cases),
		cmocka_unit_test(test_finding_place),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_custom_allowed_domain),
		cmocka_unit_test(test_rule_off),
		cmocka_unit_test(test_adversarial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
