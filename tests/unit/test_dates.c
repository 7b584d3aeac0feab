/*
 * test_dates.c - the date arithmetic of the order rules: report dates with
 * their time zones, calendar and month ends, Date: header forms, the send
 * time when Date: is missing or implausible, day numbers and the delivery
 * reference.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"
#include "store/import.h"
#include "testutil.h"

#define DAY RG_DAY_SECONDS
/* 2024-03-01T00:00:00Z */
#define MAR1 ((time_t)1709251200)

static void
test_days_from_civil(void **state)
{
	static const struct {
		int y;
		unsigned m, d;
		long long want;
	} cases[] = {
		{ 1970, 1, 1, 0 },
		{ 1969, 12, 31, -1 },
		{ 2000, 3, 1, 11017 },
		{ 2024, 2, 29, 19782 },
		{ 2100, 2, 28, 47540 },
		{ 9999, 12, 31, 2932896 },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_int_equal(rg_days_from_civil(cases[i].y, cases[i].m,
		                                    cases[i].d), cases[i].want);
	/* month ends: February has 29 days in 2024 and 2000, 28 in 2023
	 * and 2100 (a century not divisible by 400) */
	assert_int_equal(rg_days_from_civil(2024, 3, 1) -
	                 rg_days_from_civil(2024, 2, 28), 2);
	assert_int_equal(rg_days_from_civil(2023, 3, 1) -
	                 rg_days_from_civil(2023, 2, 28), 1);
	assert_int_equal(rg_days_from_civil(2000, 3, 1) -
	                 rg_days_from_civil(2000, 2, 28), 2);
	assert_int_equal(rg_days_from_civil(2100, 3, 1) -
	                 rg_days_from_civil(2100, 2, 28), 1);
	assert_int_equal(rg_days_from_civil(2024, 5, 1) -
	                 rg_days_from_civil(2024, 4, 30), 1);
	assert_int_equal(rg_days_from_civil(2025, 1, 1) -
	                 rg_days_from_civil(2024, 12, 31), 1);
}

static void
test_report_dates(void **state)
{
	static const struct {
		const char *in;
		time_t want;
	} good[] = {
		{ "2024-03-01", MAR1 },
		{ " 2024-03-01 ", MAR1 },
		{ "2024/03/01", MAR1 },
		{ "2024-03-01T10:00:00Z", 1709287200 },
		{ "2024-03-01T10:00:00+00:00", 1709287200 },
		{ "2024-03-01T10:00:00.123Z", 1709287200 },
		{ "2024-03-01 10:00:00", 1709287200 },
		{ "2024-03-01 10:00:00 UTC", 1709287200 },
		{ "2024-03-01t10:00:00z", 1709287200 },
		/* the all-orders report of amazon.com: Pacific time */
		{ "2024-03-01T10:00:00-08:00", 1709316000 },
		{ "2024-03-01T02:00:00-08:00", 1709287200 },
		{ "2024-03-01 10:00:00 PST", 1709316000 },
		{ "2024-03-01 10:00:00 PDT", 1709312400 },
		{ "2024-03-01T10:00+0100", 1709283600 },
		{ "2024-03-01T10:00:00+01", 1709283600 },
		{ "2024-03-01T10:00:00 CET", 1709283600 },
		{ "2024-03-01T10:00:00+05:30", 1709267400 },
		/* across a month end, a leap day, a year end */
		{ "2024-03-01T00:30:00+01:00", 1709249400 },
		{ "2024-02-29T23:30:00Z", 1709249400 },
		{ "2024-12-31T23:30:00-01:00", 1735691400 },
		{ "2000-02-29", 951782400 },
		{ "2100-02-28", 4107456000LL },
	};
	static const char *const bad[] = {
		"", " ", "2024-02-30", "2023-02-29", "2100-02-29", "2024-04-31",
		"2024-13-01", "2024-00-10", "2024-03-00", "24-03-01", "2024-3-1",
		"01.03.2024", "03/01/2024", "2024-03/01", "1969-12-31",
		"2024-03-01T25:00:00", "2024-03-01T10:60", "2024-03-01T10",
		"2024-03-01T10:00:61", "2024-03-01T10:00:00+15:00",
		"2024-03-01T10:00:00+01:60", "2024-03-01 10:00:00 XYZ",
		"2024-03-01T10:00:00Zjunk", "2024-03-01T10:00:00.Z",
		"yesterday", "2024-03-01T10:00:00+0100 extra",
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		time_t t = 0;

		if (rg_parse_date(good[i].in, &t) < 0)
			fail_msg("\"%s\" not parsed", good[i].in);
		if (t != good[i].want)
			fail_msg("\"%s\": got %lld, want %lld", good[i].in,
			         (long long)t, (long long)good[i].want);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		time_t t = 0;

		if (rg_parse_date(bad[i], &t) == 0)
			fail_msg("\"%s\" parsed as %lld", bad[i], (long long)t);
	}
}

static void
test_locales(void **state)
{
	static const struct {
		const char *in, *want;
	} good[] = {
		{ "de_DE", "de_DE" }, { "de-de", "de_DE" }, { "DE", "de" },
		{ " fr_FR ", "fr_FR" }, { "ja-JP", "ja_JP" }, { "es", "es" },
		{ "pt_BR", "pt_BR" }, { "fil_PH", "fil_PH" },
	};
	static const char *const bad[] = {
		"", "d", "deutsch", "de_", "de__DE", "1e_DE", "de DE",
		"de_DE.UTF-8", "de_DE_toolongsubtag", "en_GB-oxendict-extra-long",
	};
	char out[RG_LOCALE_SIZE];

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		if (rg_locale_normalize(good[i].in, out) < 0)
			fail_msg("\"%s\" refused", good[i].in);
		assert_string_equal(out, good[i].want);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		if (rg_locale_normalize(bad[i], out) == 0)
			fail_msg("\"%s\" taken as \"%s\"", bad[i], out);
}

static void
test_day_numbers(void **state)
{
	static const struct {
		time_t offset;
		long day;
	} cases[] = {
		{ 0, 0 },
		{ DAY - 1, 0 },
		{ DAY, 1 },
		{ -1, -1 },
		{ -DAY, -1 },
		{ -DAY - 1, -2 },
		/* the rules' boundaries */
		{ 4 * DAY + DAY - 1, 4 },
		{ 5 * DAY, 5 },
		{ 30 * DAY + DAY - 1, 30 },
		{ 31 * DAY, 31 },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_int_equal(rg_order_day(MAR1, MAR1 + cases[i].offset),
		                 cases[i].day);
	/* across February of a leap year: 2024-02-01 to 2024-03-02 */
	assert_int_equal(rg_order_day(MAR1 - 29 * DAY, MAR1 + DAY), 30);
}

static void
test_send_time(void **state)
{
	static const struct {
		const char *name;
		time_t date, arrival, now, want;
	} cases[] = {
		{ "Date: close to arrival", MAR1, MAR1 + 3600, 0, MAR1 },
		{ "Date: a day before arrival", MAR1, MAR1 + DAY, 0, MAR1 },
		{ "Date: a day and a second before", MAR1, MAR1 + DAY + 1, 0,
		  MAR1 + DAY + 1 },
		{ "Date: two days after arrival", MAR1 + 2 * DAY, MAR1, 0,
		  MAR1 },
		{ "Date: missing", 0, MAR1, 0, MAR1 },
		{ "no arrival: Date: in the past", MAR1, 0, MAR1 + 90 * DAY,
		  MAR1 },
		{ "no arrival: Date: in the future", MAR1 + 9 * DAY, 0, MAR1,
		  MAR1 },
		{ "neither", 0, 0, MAR1 + 7, MAR1 + 7 },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		if (rg_send_time(cases[i].date, cases[i].arrival,
		                 cases[i].now) != cases[i].want)
			fail_msg("%s", cases[i].name);
}

static void
test_delivery_reference(void **state)
{
	struct rg_order_info info;
	int estimated = -1;

	(void)state;
	memset(&info, 0, sizeof(info));
	assert_int_equal(rg_delivery_reference(&info, 3, &estimated), 0);
	info.purchase = MAR1;
	assert_int_equal(rg_delivery_reference(&info, 3, &estimated),
	                 MAR1 + 3 * DAY);
	assert_true(estimated);
	info.estimated_arrival = MAR1 + 6 * DAY;
	assert_int_equal(rg_delivery_reference(&info, 3, &estimated),
	                 MAR1 + 6 * DAY);
	assert_true(estimated);
	info.delivery = MAR1 + 4 * DAY;
	assert_int_equal(rg_delivery_reference(&info, 3, &estimated),
	                 MAR1 + 4 * DAY);
	assert_false(estimated);
}

/* date_of - the view's Date: for a message with the given header line */
static time_t
date_of(rg_policy *policy, const char *date_line)
{
	char *message = g_strdup_printf(
		"From: seller@shop.example\n"
		"To: x@marketplace.amazon.de\n"
		"%s"
		"Subject: Order 111-2222222-3333333\n"
		"\n"
		"Hello\n", date_line);
	rg_scan *scan = rg_scan_new(policy);
	struct rg_view view;
	time_t t;

	assert_int_equal(rg_view_from_message(scan, (unsigned char *)message,
	                                      strlen(message), &view), 0);
	t = view.date;
	rg_view_clear(&view);
	rg_scan_free(&scan);
	g_free(message);
	return t;
}

static void
test_date_header_forms(void **state)
{
	static const struct {
		const char *line;
		time_t want;
	} cases[] = {
		/* 2024-03-05T09:00:00Z in its RFC 5322 spellings */
		{ "Date: Tue, 05 Mar 2024 10:00:00 +0100\n", 1709629200 },
		{ "Date: Tue, 5 Mar 2024 10:00:00 +0100\n", 1709629200 },
		{ "Date: 5 Mar 2024 10:00:00 +0100\n", 1709629200 },
		{ "Date: Tue, 05 Mar 2024 10:00 +0100\n", 1709629200 },
		{ "Date: Tue, 05 Mar 2024 10:00:00 +0100 (CET)\n", 1709629200 },
		{ "Date: Tue, 05 Mar 2024 09:00:00 GMT\n", 1709629200 },
		{ "Date: Tue, 05 Mar 2024 09:00:00 +0000\n", 1709629200 },
		{ "Date: Tue, 05 Mar 2024 04:00:00 EST\n", 1709629200 },
		{ "Date: Tue, 05 Mar 2024 01:00:00 -0800\n", 1709629200 },
		{ "Date: Tue,\n 05 Mar 2024 10:00:00 +0100\n", 1709629200 },
		/* obsolete two-digit year */
		{ "Date: Tue, 05 Mar 24 09:00:00 +0000\n", 1709629200 },
		/* across a month end: 2024-03-01T00:30:00Z */
		{ "Date: Thu, 29 Feb 2024 23:30:00 -0100\n", 1709253000 },
		/* missing or unparseable: 0, the arrival time is used */
		{ "", 0 },
		{ "Date: sometime last week\n", 0 },
		{ "Date: \n", 0 },
	};
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		time_t got = date_of(policy, cases[i].line);

		if (got != cases[i].want)
			fail_msg("%s: got %lld, want %lld", cases[i].line,
			         (long long)got, (long long)cases[i].want);
	}
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days_from_civil),
		cmocka_unit_test(test_report_dates),
		cmocka_unit_test(test_locales),
		cmocka_unit_test(test_day_numbers),
		cmocka_unit_test(test_send_time),
		cmocka_unit_test(test_delivery_reference),
		cmocka_unit_test(test_date_header_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
