/*
 * testutil.c - helpers shared by the cmocka tests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "testutil.h"

/* built with AddressSanitizer (scripts/test runs the units so) */
#if defined(__SANITIZE_ADDRESS__)
#define TU_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_SANITIZED 1
#endif
#endif

rg_policy *
tu_policy_from(const struct rg_settings *settings)
{
	struct rg_settings s = *settings;   /* shallow: build copies it */
	char *error = NULL;
	rg_policy *policy;

#ifdef TU_SANITIZED
	/* the sanitizers make the engine 5 to 20 times slower: the default
	 * CPU budget would stop the tests of hostile input half way (a
	 * smaller budget a test sets stays) */
	if (s.cpu_budget_ms >= RG_DEFAULT_CPU_BUDGET_MS)
		s.cpu_budget_ms = 20 * RG_DEFAULT_CPU_BUDGET_MS;
#endif
	rg_engine_init();
	policy = rg_policy_build(&s, &error);
	if (policy == NULL)
		fail_msg("policy: %s", error);
	return policy;
}

rg_policy *
tu_policy(void)
{
	struct rg_settings settings;
	rg_policy *policy;

	rg_settings_init(&settings);
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	return policy;
}

void
tu_scan(rg_policy *policy, const char *message, struct rg_result *out)
{
	rg_scan *scan = rg_scan_new(policy);
	char *error = NULL;

	if (rg_scan_message(scan, (const unsigned char *)message,
	                    strlen(message), out, &error) < 0)
		fail_msg("scan: %s", error);
	rg_scan_free(&scan);
}

static void
scan_body(rg_policy *policy, const char *subject, const char *type,
          const char *body, struct rg_result *out)
{
	char *message = g_strdup_printf(
		"From: Seller <seller@shop.example>\n"
		"To: buyer@marketplace.amazon.com\n"
		"Subject: %s\n"
		"MIME-Version: 1.0\n"
		"Content-Type: %s; charset=utf-8\n"
		"Content-Transfer-Encoding: 8bit\n"
		"\n%s",
		subject ? subject : "Your order 111-2222222-3333333", type,
		body);

	tu_scan(policy, message, out);
	g_free(message);
}

void
tu_scan_plain(rg_policy *policy, const char *subject, const char *body,
              struct rg_result *out)
{
	scan_body(policy, subject, "text/plain", body, out);
}

void
tu_scan_html(rg_policy *policy, const char *subject, const char *html,
             struct rg_result *out)
{
	scan_body(policy, subject, "text/html", html, out);
}

size_t
tu_count(const struct rg_result *result, rg_rule rule)
{
	size_t n = 0;

	for (size_t i = 0; i < result->count; i++)
		if (result->findings[i].rule == rule)
			n++;
	return n;
}

const struct rg_finding *
tu_first(const struct rg_result *result, rg_rule rule)
{
	for (size_t i = 0; i < result->count; i++)
		if (result->findings[i].rule == rule)
			return &result->findings[i];
	return NULL;
}

void
tu_dump(const struct rg_result *result)
{
	print_message("verdict %s, %zu findings\n",
	              rg_verdict_name(result->verdict), result->count);
	for (size_t i = 0; i < result->count; i++) {
		char *line = rg_finding_describe(&result->findings[i], 0);

		print_message("  %s\n", line);
		g_free(line);
	}
}

char *
tu_shared(const char *relative)
{
	const char *shared = getenv("RG_SHARED_DIR");
	const char *top = getenv("top_srcdir");
	char *path = shared ? g_strdup_printf("%s/%s", shared, relative)
	                    : g_strdup_printf("%s/../shared/%s",
	                                      top ? top : RG_SRCDIR, relative);

	if (access(path, R_OK) != 0) {
		g_free(path);
		return NULL;
	}
	return path;
}

unsigned char *
tu_read_file(const char *path, size_t *len_r)
{
	gchar *data = NULL;
	gsize len = 0;
	GError *error = NULL;

	if (!g_file_get_contents(path, &data, &len, &error))
		fail_msg("%s: %s", path, error->message);
	*len_r = len;
	return (unsigned char *)data;
}
