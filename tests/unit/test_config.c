/*
 * test_config.c - the configuration loader: the shipped sample equals the
 * built-in defaults, and every kind of mistake is a FILE:LINE error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "conf/config.h"
#include "testutil.h"

static char *
sample_path(void)
{
	const char *top = getenv("top_srcdir");

	return g_strdup_printf("%s/conf/relaygate.conf", top ? top : RG_SRCDIR);
}

/* write_temp - text into a new temp file; returns its path */
static char *
write_temp(const char *text)
{
	char *path = g_strdup("/tmp/rg-conf-XXXXXX");
	int fd = g_mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
assert_lists_equal(const struct rg_strlist *a, const struct rg_strlist *b)
{
	assert_int_equal(a->count, b->count);
	for (size_t i = 0; i < a->count; i++)
		assert_string_equal(a->items[i], b->items[i]);
}

static void
test_sample_equals_defaults(void **state)
{
	struct rg_settings defaults;
	struct rg_config config;
	char *path = sample_path();
	char *error = NULL;
	const struct rg_settings *s = &config.settings;

	(void)state;
	rg_settings_init(&defaults);
	if (rg_config_load(path, &config, &error) < 0)
		fail_msg("%s", error);
	for (unsigned i = 0; i < RG_RULE_COUNT; i++)
		assert_int_equal(s->actions[i], defaults.actions[i]);
	assert_lists_equal(&s->relay_domains, &defaults.relay_domains);
	assert_lists_equal(&s->allowed_link_domains,
	                   &defaults.allowed_link_domains);
	assert_lists_equal(&s->allowed_emails, &defaults.allowed_emails);
	assert_lists_equal(&s->allowed_phones, &defaults.allowed_phones);
	assert_lists_equal(&s->approved_senders, &defaults.approved_senders);
	/* the one deliberate difference: phrase lists are data shipped in
	 * conf/rules/, @included by the sample; built in there are none */
	assert_int_equal(defaults.phrases.count, 0);
	assert_int_equal(s->phrases.count, 6);
	assert_lists_equal(&s->attachment_types, &defaults.attachment_types);
	assert_lists_equal(&s->attachment_names, &defaults.attachment_names);
	assert_int_equal(s->max_attachment_bytes, defaults.max_attachment_bytes);
	assert_int_equal(s->max_attachments, defaults.max_attachments);
	assert_int_equal(s->max_message_bytes, defaults.max_message_bytes);
	assert_int_equal(s->memory_spool_bytes, defaults.memory_spool_bytes);
	assert_int_equal(s->max_mime_parts, defaults.max_mime_parts);
	assert_int_equal(s->max_mime_depth, defaults.max_mime_depth);
	assert_int_equal(s->max_text_bytes, defaults.max_text_bytes);
	assert_int_equal(s->max_header_bytes, defaults.max_header_bytes);
	assert_int_equal(s->max_header_fields, defaults.max_header_fields);
	assert_int_equal(s->max_html_elements, defaults.max_html_elements);
	assert_int_equal(s->max_html_depth, defaults.max_html_depth);
	assert_int_equal(s->cpu_budget_ms, defaults.cpu_budget_ms);
	assert_int_equal(s->match_limit, defaults.match_limit);
	assert_int_equal(s->depth_limit, defaults.depth_limit);
	assert_int_equal(s->excerpt_chars, defaults.excerpt_chars);
	/* the orders group (conf/orders.c) */
	assert_int_equal(s->message_window_days, defaults.message_window_days);
	assert_int_equal(s->window_from_delivery,
	                 defaults.window_from_delivery);
	assert_int_equal(s->review_min_days, defaults.review_min_days);
	assert_int_equal(s->review_max_days, defaults.review_max_days);
	assert_int_equal(s->delivery_estimate_days,
	                 defaults.delivery_estimate_days);
	assert_string_equal(config.orders.backend, "sqlite");
	assert_string_equal(config.orders.path,
	                    "/var/lib/relaygate/orders.sqlite");
	assert_null(config.orders.conninfo);
	assert_string_equal(config.socket, "unix:/run/relaygate/milter.sock");
	assert_int_equal(config.mode, RG_MODE_ENFORCE);
	/* the quarantine group (conf/quarantine.c) */
	{
		struct rg_quarantine_config q;

		rg_quarantine_defaults(&q);
		assert_string_equal(config.quarantine.store_dir, q.store_dir);
		assert_string_equal(config.quarantine.store_dir,
		                    "/var/lib/relaygate/quarantine");
		assert_int_equal(config.quarantine.retention, q.retention);
		assert_int_equal(config.quarantine.retention, 30 * 86400);
		assert_int_equal(config.quarantine.notify, q.notify);
		assert_string_equal(config.quarantine.notice_from, q.notice_from);
		assert_string_equal(config.quarantine.contact, q.contact);
		assert_string_equal(config.quarantine.delivery, q.delivery);
		assert_true(config.quarantine.delivery_smtp);
		assert_string_equal(config.quarantine.smtp_host, "127.0.0.1");
		assert_int_equal(config.quarantine.smtp_port, 25);
		assert_string_equal(config.quarantine.review_group,
		                    q.review_group);
		rg_quarantine_clear(&q);
	}
	rg_config_clear(&config);
	rg_settings_clear(&defaults);
	g_free(path);
}

static void
test_values_override(void **state)
{
	struct rg_config config;
	char *error = NULL;
	char *path = write_temp(
		"mode = \"monitor\";\n"
		"milter: { socket = \"inet:9999@127.0.0.1\"; };\n"
		"quarantine: { store_dir = \"/srv/held\"; retention = \"2w\";\n"
		"  notify = false; delivery = \"sendmail:/usr/sbin/sendmail\";\n"
		"  review_group = \"\"; };\n"
		"relay_domains = [ \"members.ebay.com\" ];\n"
		"limits: { max_message_size = \"64K\"; memory_spool = 4096; };\n"
		"rules: {\n"
		"  emoji = { action = \"warn\"; };\n"
		"  phone-number = { action = \"off\"; allowed = [ \"+18005550100\" ]; };\n"
		"  attachment = { max_count = 2; max_total_size = \"1M\"; };\n"
		"};\n");

	(void)state;
	if (rg_config_load(path, &config, &error) < 0)
		fail_msg("%s", error);
	assert_string_equal(config.socket, "inet:9999@127.0.0.1");
	assert_int_equal(config.mode, RG_MODE_MONITOR);
	assert_string_equal(config.quarantine.store_dir, "/srv/held");
	assert_int_equal(config.quarantine.retention, 14 * 86400);
	assert_false(config.quarantine.notify);
	assert_false(config.quarantine.delivery_smtp);
	assert_string_equal(config.quarantine.sendmail, "/usr/sbin/sendmail");
	assert_string_equal(config.quarantine.review_group, "");
	assert_int_equal(config.settings.relay_domains.count, 1);
	assert_int_equal(config.settings.max_message_bytes, 64 * 1024);
	assert_int_equal(config.settings.memory_spool_bytes, 4096);
	assert_int_equal(config.settings.actions[RG_RULE_EMOJI], RG_ACTION_WARN);
	assert_int_equal(config.settings.actions[RG_RULE_PHONE_NUMBER],
	                 RG_ACTION_OFF);
	assert_int_equal(config.settings.actions[RG_RULE_ORDER_ID],
	                 RG_ACTION_REJECT);
	assert_string_equal(config.settings.allowed_phones.items[0],
	                    "+18005550100");
	assert_int_equal(config.settings.max_attachments, 2);
	assert_int_equal(config.settings.max_attachment_bytes, 1024 * 1024);
	rg_config_clear(&config);
	unlink(path);
	g_free(path);
}

static void
test_orders_override(void **state)
{
	struct rg_config config;
	char *error = NULL;
	char *path = write_temp(
		"orders: {\n"
		"  backend = \"postgresql\";\n"
		"  conninfo = \"host=127.0.0.1 dbname=relaygate\";\n"
		"  message_window_days = 45;\n"
		"  window_from_delivery = true;\n"
		"  review_min_days = 7;\n"
		"  review_max_days = 21;\n"
		"  delivery_estimate_days = 6;\n"
		"};\n"
		"rules: {\n"
		"  unknown-order = { action = \"off\"; };\n"
		"  review-repeat = { action = \"quarantine\"; };\n"
		"};\n");

	(void)state;
	if (rg_config_load(path, &config, &error) < 0)
		fail_msg("%s", error);
	assert_string_equal(config.orders.backend, "postgresql");
	assert_string_equal(rg_orders_target(&config.orders),
	                    "host=127.0.0.1 dbname=relaygate");
	assert_int_equal(config.settings.message_window_days, 45);
	assert_true(config.settings.window_from_delivery);
	assert_int_equal(config.settings.review_min_days, 7);
	assert_int_equal(config.settings.review_max_days, 21);
	assert_int_equal(config.settings.delivery_estimate_days, 6);
	assert_int_equal(config.settings.actions[RG_RULE_UNKNOWN_ORDER],
	                 RG_ACTION_OFF);
	assert_int_equal(config.settings.actions[RG_RULE_REVIEW_REPEAT],
	                 RG_ACTION_QUARANTINE);
	assert_int_equal(config.settings.actions[RG_RULE_MESSAGE_WINDOW],
	                 RG_ACTION_REJECT);
	rg_config_clear(&config);
	unlink(path);
	g_free(path);
}

static void
test_errors_name_file_and_line(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		unsigned line;
		const char *what;
	} cases[] = {
		{ "syntax", "milter: {\n socket = ;\n};\n", 2, "syntax error" },
		{ "unknown top key", "\n\nrelay_domain = [ \"a.example\" ];\n", 3,
		  "unknown setting \"relay_domain\"" },
		{ "unknown milter key", "milter: {\n  sockt = \"x\";\n};\n", 2,
		  "unknown setting \"sockt\"" },
		{ "unknown rule", "rules: {\n  emojis = { action = \"warn\"; };\n};\n",
		  2, "unknown rule \"emojis\"" },
		{ "bad action", "rules: {\n emoji = {\n action = \"block\"; };\n};\n",
		  3, "action \"block\"" },
		{ "param of another rule",
		  "rules: {\n emoji = { allowed = [ \"x\" ]; };\n};\n", 2,
		  "unknown setting \"allowed\"" },
		{ "bad size", "limits: {\n\n max_message_size = \"lots\";\n};\n", 3,
		  "max_message_size must be a size" },
		{ "zero limit", "limits: { match_limit = 0; };\n", 1,
		  "match_limit must be between" },
		{ "budget without unit", "limits: {\n cpu_budget = \"2\";\n};\n",
		  2, "cpu_budget must be a duration" },
		{ "budget as a number", "limits: { cpu_budget = 2; };\n", 1,
		  "cpu_budget must be a duration" },
		{ "zero budget", "limits: { cpu_budget = \"0ms\"; };\n", 1,
		  "cpu_budget must be a duration" },
		{ "wrong type", "quarantine: { notify = \"yes\"; };\n", 1,
		  "notify must be true or false" },
		{ "bad mode", "\nmode = \"watch\";\n", 2,
		  "mode must be \"enforce\" or \"monitor\"" },
		{ "monitor is now mode", "milter: { monitor = true; };\n", 1,
		  "unknown setting \"monitor\"" },
		{ "remote delivery",
		  "quarantine: {\n delivery = \"smtp:mail.example.com:25\";\n};\n",
		  2, "loopback HOST" },
		{ "delivery port", "quarantine: {\n delivery = \"smtp:127.0.0.1:0\";\n};\n",
		  2, "quarantine.delivery must be" },
		{ "delivery sendmail relative",
		  "quarantine: { delivery = \"sendmail:sendmail\"; };\n", 1,
		  "quarantine.delivery must be" },
		{ "retention without unit",
		  "quarantine: {\n\n retention = \"30\";\n};\n", 3,
		  "quarantine.retention must be a duration" },
		{ "relative store", "quarantine: { store_dir = \"held\"; };\n", 1,
		  "quarantine.store_dir must be an absolute path" },
		{ "quarantine unknown key", "quarantine: { keep = \"30d\"; };\n", 1,
		  "unknown setting \"keep\"" },
		{ "empty relay list", "relay_domains = [ ];\n", 1,
		  "relay_domains must not be empty" },
		{ "empty item", "rules: { email-address = { allowed = [ \"\" ]; }; };\n",
		  1, "must be a non-empty string" },
		{ "orders backend", "orders: {\n backend = \"mysql\";\n};\n", 2,
		  "orders.backend \"mysql\" is not" },
		{ "orders without conninfo",
		  "orders: {\n backend = \"postgresql\";\n};\n", 1,
		  "needs orders.conninfo" },
		{ "orders relative path", "orders: {\n\n path = \"orders.db\";\n};\n",
		  3, "orders.path must be an absolute path" },
		{ "review window upside down",
		  "orders: {\n review_min_days = 10;\n review_max_days = 7;\n};\n",
		  2, "review_min_days (10) is after review_max_days (7)" },
		{ "orders unknown key", "orders: { window_days = 30; };\n", 1,
		  "unknown setting \"window_days\"" },
		{ "orders huge window",
		  "orders: {\n message_window_days = 40000;\n};\n", 2,
		  "at most 3650 days" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rg_config config;
		char *path = write_temp(cases[i].text);
		char *error = NULL;
		char *prefix = g_strdup_printf("%s:%u: ", path, cases[i].line);

		if (rg_config_load(path, &config, &error) == 0)
			fail_msg("%s: loaded", cases[i].name);
		if (strncmp(error, prefix, strlen(prefix)) != 0 ||
		    strstr(error, cases[i].what) == NULL)
			fail_msg("%s: got \"%s\", want \"%s...%s\"", cases[i].name,
			         error, prefix, cases[i].what);
		free(error);
		g_free(prefix);
		unlink(path);
		g_free(path);
	}
}

static void
test_missing_file(void **state)
{
	struct rg_config config;
	char *error = NULL;

	(void)state;
	assert_int_equal(rg_config_load("/nonexistent/relaygate.conf", &config,
	                                &error), -1);
	assert_non_null(strstr(error, "/nonexistent/relaygate.conf"));
	free(error);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_equals_defaults),
		cmocka_unit_test(test_values_override),
		cmocka_unit_test(test_orders_override),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
