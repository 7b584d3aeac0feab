/*
 * test_sender.c - rule unapproved-sender: envelope sender and From: must
 * be approved; an empty list checks nothing.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "testutil.h"

static const struct {
	const char *name;
	const char *from;            /* From: header address */
	const char *envelope;        /* NULL: no envelope, headers only */
	size_t want;
} cases[] = {
	{ "approved address", "care@shop.example", NULL, 0 },
	{ "case does not matter", "Care@Shop.Example", NULL, 0 },
	{ "approved domain", "anna@helpdesk.example", NULL, 0 },
	{ "other address", "sales@shop.example", NULL, 1 },
	{ "look-alike domain", "x@helpdesk.example.evil", NULL, 1 },
	{ "subdomain is not the domain", "x@eu.helpdesk.example", NULL, 1 },
	{ "envelope approved, From not", "sales@shop.example",
	  "<care@shop.example>", 1 },
	{ "both unapproved", "sales@shop.example", "<bulk@mailer.example>", 2 },
	{ "null envelope sender: From judged", "care@shop.example", "<>", 0 },
};

static void
test_cases(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;

	(void)state;
	rg_settings_init(&settings);
	rg_strlist_add(&settings.approved_senders, "care@shop.example");
	rg_strlist_add(&settings.approved_senders, "@helpdesk.example");
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *msg = g_strdup_printf(
			"From: Shop <%s>\nTo: b@marketplace.amazon.com\n"
			"Subject: Order 111-2222222-3333333\n\nHello.\n",
			cases[i].from);
		rg_scan *scan = rg_scan_new(policy);
		const char *rcpt = "<b@marketplace.amazon.com>";
		struct rg_result result;
		char *error = NULL;

		if (cases[i].envelope != NULL)
			rg_scan_set_envelope(scan, cases[i].envelope, &rcpt, 1);
		assert_int_equal(rg_scan_message(scan, (unsigned char *)msg,
		                                 strlen(msg), &result, &error), 0);
		if (tu_count(&result, RG_RULE_UNAPPROVED_SENDER) != cases[i].want) {
			tu_dump(&result);
			fail_msg("%s: want %zu", cases[i].name, cases[i].want);
		}
		rg_result_clear(&result);
		rg_scan_free(&scan);
		g_free(msg);
	}
	rg_policy_unref(&policy);
}

static void
test_empty_list_checks_nothing(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;

	(void)state;
	tu_scan_plain(policy, NULL, "Hello.", &result);
	assert_int_equal(tu_count(&result, RG_RULE_UNAPPROVED_SENDER), 0);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_empty_list_checks_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
