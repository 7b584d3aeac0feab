/*
 * test_order_id.c - rule order-id: a 17-digit order id in the subject or
 * the visible text, and near-misses that are not one.
 */
#include "config.h"

#include <glib.h>

#include "testutil.h"

static const struct {
	const char *name;
	const char *subject;
	const char *body;
	size_t want;           /* order-id findings */
} cases[] = {
	{ "in the subject", "Order 111-2222222-3333333", "Hello", 0 },
	{ "in the body", "Your parcel", "Order 702-8840316-2275519 left.", 0 },
	{ "reply subject", "Re: Question about 402-1234567-7654321", "Yes.", 0 },
	{ "fullwidth digits", "Parcel",
	  "\xef\xbc\x97\xef\xbc\x90\xef\xbc\x92-8840316-2275519", 0 },
	{ "at the end of a line", "Parcel", "order:\n111-2222222-3333333", 0 },
	{ "absent", "Thanks!", "Thank you for your purchase.", 1 },
	{ "too few digits", "Parcel", "Order 111-222222-3333333", 1 },
	{ "four-digit prefix", "Parcel", "Order 1111-2222222-3333333", 1 },
	{ "inside a longer number", "Parcel", "ref 111-2222222-33333334", 1 },
	{ "spaces for dashes", "Parcel", "Order 111 2222222 3333333", 1 },
	{ "17 digits unbroken", "Parcel", "Order 11122222223333333", 1 },
};

static void
test_cases(void **state)
{
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_result result;

		tu_scan_plain(policy, cases[i].subject, cases[i].body, &result);
		if (tu_count(&result, RG_RULE_ORDER_ID) != cases[i].want) {
			tu_dump(&result);
			fail_msg("%s: want %zu order-id findings", cases[i].name,
			         cases[i].want);
		}
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
}

static void
test_in_html_only(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;

	(void)state;
	tu_scan_html(policy, "Parcel",
	             "<p>Your order <b>111-2222222-3333333</b> shipped.</p>",
	             &result);
	assert_int_equal(tu_count(&result, RG_RULE_ORDER_ID), 0);
	rg_result_clear(&result);
	/* markup is not text: an id in an attribute is not seen by buyers */
	tu_scan_html(policy, "Parcel",
	             "<p title=\"111-2222222-3333333\">Your order shipped.</p>",
	             &result);
	assert_int_equal(tu_count(&result, RG_RULE_ORDER_ID), 1);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

static void
test_finding_names_rule_and_fix(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	tu_scan_plain(policy, "Thanks", "Enjoy!", &result);
	f = tu_first(&result, RG_RULE_ORDER_ID);
	assert_non_null(f);
	assert_string_equal(f->part, "message");
	assert_int_equal(f->action, RG_ACTION_REJECT);
	assert_int_equal(result.verdict, RG_ACTION_REJECT);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_in_html_only),
		cmocka_unit_test(test_finding_names_rule_and_fix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
