/*
 * test_policy.c - rule and action names, relay-address matching, policy
 * lifetime.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void
test_rule_names_round_trip(void **state)
{
	(void)state;
	for (unsigned i = 0; i < RG_RULE_COUNT; i++) {
		rg_rule rule;

		assert_int_equal(rg_rule_lookup(rg_rule_name(i), &rule), 0);
		assert_int_equal(rule, i);
		assert_true(strlen(rg_rule_citation(i)) > 10);
		assert_true(strlen(rg_rule_guidance(i)) > 10);
	}
	assert_int_equal(rg_rule_lookup("no-such-rule", &(rg_rule){ 0 }), -1);
	assert_string_equal(rg_rule_name(RG_RULE_PHONE_NUMBER),
	                    "phone-number");
}

static void
test_action_names(void **state)
{
	static const struct {
		const char *name;
		int rc;
		rg_action want;
	} cases[] = {
		{ "off", 0, RG_ACTION_OFF },
		{ "warn", 0, RG_ACTION_WARN },
		{ "quarantine", 0, RG_ACTION_QUARANTINE },
		{ "reject", 0, RG_ACTION_REJECT },
		{ "Reject", -1, 0 },
		{ "tempfail", -1, 0 },
		{ "", -1, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rg_action got = RG_ACTION_OFF;

		assert_int_equal(rg_action_parse(cases[i].name, &got),
		                 cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(got, cases[i].want);
	}
	assert_string_equal(rg_verdict_name(RG_ACTION_OFF), "pass");
	assert_string_equal(rg_verdict_name(RG_ACTION_REJECT), "reject");
}

static void
test_relay_addresses(void **state)
{
	static const struct {
		const char *address;
		int want;
	} cases[] = {
		{ "h26xgg4rdg7i452@marketplace.amazon.com", 1 },
		{ "<h26xgg4rdg7i452@marketplace.amazon.com>", 1 },
		{ "x@MARKETPLACE.AMAZON.DE", 1 },
		{ "x@marketplace.amazon.co.jp", 1 },
		{ "x@marketplace.amazon.com.", 1 },         /* root dot */
		{ "x@eu.marketplace.amazon.de", 1 },        /* subdomain */
		{ "x@marketplace.amazon.de.evil.example", 0 },
		{ "x@notmarketplace.amazon.com", 0 },
		{ "x@amazon.com", 0 },
		{ "x@marketplace.amazon.zz", 0 },
		{ "marketplace.amazon.com", 0 },            /* no @ */
		{ "<>", 0 },
		{ "", 0 },
		{ "x@", 0 },
	};
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (rg_is_relay_address(policy, cases[i].address) !=
		    cases[i].want)
			fail_msg("%s: want %d", cases[i].address, cases[i].want);
	}
	rg_policy_unref(&policy);
	assert_null(policy);
}

static void
test_configured_relay_domain(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;

	(void)state;
	rg_settings_init(&settings);
	rg_strlist_clear(&settings.relay_domains);
	rg_strlist_add(&settings.relay_domains, "members.ebay.com");
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	assert_true(rg_is_relay_address(policy, "a@members.ebay.com"));
	assert_false(rg_is_relay_address(policy,
	                                 "a@marketplace.amazon.com"));
	rg_policy_unref(&policy);
}

static void
test_policy_outlives_settings_and_refs(void **state)
{
	struct rg_settings settings;
	rg_policy *policy, *second;

	(void)state;
	rg_settings_init(&settings);
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);      /* the policy holds a copy */
	second = rg_policy_ref(policy);
	rg_policy_unref(&policy);
	assert_null(policy);
	assert_int_equal(rg_policy_settings(second)->relay_domains.count, 21);
	assert_true(rg_is_relay_address(second, "a@marketplace.amazon.se"));
	rg_policy_unref(&second);
	rg_policy_unref(&second);          /* NULL: harmless */
}

static void
test_zero_limits_refused(void **state)
{
	struct rg_settings settings;
	char *error = NULL;

	(void)state;
	rg_settings_init(&settings);
	settings.match_limit = 0;
	assert_null(rg_policy_build(&settings, &error));
	assert_non_null(strstr(error, "match_limit"));
	free(error);
	rg_settings_clear(&settings);
}

static void
test_finding_describe(void **state)
{
	struct rg_finding f = { RG_RULE_EMOJI, RG_ACTION_REJECT, "1.2", 3, 7,
	                        "Merci \xf0\x9f\x8e\x81" };
	char *human, *ascii;

	(void)state;
	human = rg_finding_describe(&f, 0);
	ascii = rg_finding_describe(&f, 1);
	assert_string_equal(human,
	                    "emoji in part 1.2 at 3:7: \"Merci \xf0\x9f\x8e\x81\"");
	assert_string_equal(ascii, "emoji in part 1.2 at 3:7: \"Merci U+1F381\"");
	free(human);
	free(ascii);
	f.part = "subject";
	f.line = 0;
	human = rg_finding_describe(&f, 1);
	assert_string_equal(human, "emoji in the subject: \"Merci U+1F381\"");
	free(human);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_names_round_trip),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_relay_addresses),
		cmocka_unit_test(test_configured_relay_domain),
		cmocka_unit_test(test_policy_outlives_settings_and_refs),
		cmocka_unit_test(test_zero_limits_refused),
		cmocka_unit_test(test_finding_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
