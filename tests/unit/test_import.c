/*
 * test_import.c - order reports into the order store: the marketplace's
 * tab-separated reports and plain CSV, found by their header row, with
 * byte order marks, CRLF and CR line ends, quoting, missing and unknown
 * columns, duplicate rows, bad dates and ids (reported with their line,
 * skipped whole), re-imports that add to what is stored, and batches.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "store/import.h"
#include "store/orders.h"
#include "testutil.h"

#define MAR1 ((time_t)1709251200)       /* 2024-03-01T00:00:00Z */
#define DAY 86400

struct bad {
	unsigned long line;
	char what[256];
};

struct env {
	char *dir;
	char *db;
	struct rg_store *store;
	struct bad bad[64];
	size_t n_bad;
	struct rg_import_stats stats;
	char *error;
};

static void
on_bad(void *ctx, const char *name, unsigned long line, const char *what)
{
	struct env *e = ctx;

	(void)name;
	if (e->n_bad < G_N_ELEMENTS(e->bad)) {
		e->bad[e->n_bad].line = line;
		snprintf(e->bad[e->n_bad].what, sizeof(e->bad[0].what), "%s",
		         what);
		e->n_bad++;
	}
}

static int
setup(void **state)
{
	struct env *e = g_new0(struct env, 1);
	char *error = NULL;

	e->dir = g_dir_make_tmp("rg-import-XXXXXX", NULL);
	e->db = g_build_filename(e->dir, "orders.sqlite", NULL);
	if (rg_store_open("sqlite", e->db, RG_STORE_CREATE | RG_STORE_BULK,
	                  &e->store, &error) < 0 ||
	    rg_store_init(e->store, &error) < 0)
		fail_msg("store: %s", error);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char *cmd = g_strdup_printf("rm -rf '%s'", e->dir);

	rg_store_close(&e->store);
	assert_int_equal(system(cmd), 0);
	g_free(cmd);
	g_free(e->db);
	g_free(e->dir);
	free(e->error);
	g_free(e);
	return 0;
}

/* import_bytes - data (len bytes) as one report; the rc of rg_import_fd */
static int
import_bytes(struct env *e, const char *data, size_t len)
{
	char *path = g_build_filename(e->dir, "report.txt", NULL);
	int fd, rc;

	assert_true(g_file_set_contents(path, data, (gssize)len, NULL));
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	e->n_bad = 0;
	free(e->error);
	e->error = NULL;
	rc = rg_import_fd(e->store, fd, "report.txt", MAR1 + 90 * DAY, on_bad,
	                  e, &e->stats, &e->error);
	close(fd);
	unlink(path);
	g_free(path);
	return rc;
}

static int
import_text(struct env *e, const char *text)
{
	return import_bytes(e, text, strlen(text));
}

static void
get(struct env *e, const char *id, struct rg_order_record *rec)
{
	char *error = NULL;

	if (rg_store_get(e->store, id, rec, &error) != 1)
		fail_msg("order %s not found%s%s", id, error ? ": " : "",
		         error ? error : "");
}

static int
known(struct env *e, const char *id)
{
	struct rg_order_record rec;
	char *error = NULL;

	return rg_store_get(e->store, id, &rec, &error) == 1;
}

static void
test_all_orders_report(void **state)
{
	struct env *e = *state;
	struct rg_order_record rec;
	/* BOM, CRLF, more columns than we read, two items of one order */
	const char *report =
		"\xef\xbb\xbf" "amazon-order-id\tmerchant-order-id\t"
		"purchase-date\tlast-updated-date\torder-status\t"
		"fulfillment-channel\tsales-channel\tproduct-name\r\n"
		"302-1234567-7654321\t\t2024-03-01T10:00:00+00:00\t"
		"2024-03-02T08:00:00+00:00\tShipped\tMerchant\tAmazon.de\t"
		"Cedar planter 12\" \"XL\"\r\n"
		"302-1234567-7654321\t\t2024-03-01T10:00:00+00:00\t"
		"2024-03-02T08:00:00+00:00\tShipped\tMerchant\tAmazon.de\t"
		"Liner\r\n"
		"171-7654321-1234567\t\t2024-02-28T23:30:00-08:00\t\t"
		"Pending\tAmazon\tAmazon.com\tSeeds\r\n";

	assert_int_equal(import_text(e, report), 0);
	assert_string_equal(e->stats.kind, "all-orders report");
	assert_int_equal(e->stats.rows, 3);
	assert_int_equal(e->stats.imported, 3);
	assert_int_equal(e->stats.orders, 2);
	assert_int_equal(e->stats.skipped, 0);
	get(e, "302-1234567-7654321", &rec);
	assert_int_equal(rec.row.purchase, MAR1 + 10 * 3600);
	assert_string_equal(rec.row.status, "Shipped");
	assert_string_equal(rec.row.channel, "Amazon.de");
	assert_int_equal(rec.row.delivery, 0);
	/* Pacific time across the leap day */
	get(e, "171-7654321-1234567", &rec);
	assert_int_equal(rec.row.purchase, MAR1 - DAY + 7 * 3600 + 1800);
}

static void
test_shipments_report_adds(void **state)
{
	struct env *e = *state;
	struct rg_order_record rec;

	assert_int_equal(import_text(e,
		"amazon-order-id\tpurchase-date\n"
		"302-1234567-7654321\t2024-03-01T10:00:00Z\n"), 0);
	/* the shipments report: arrival and shipment added, purchase kept;
	 * an empty cell never erases a stored value */
	assert_int_equal(import_text(e,
		"amazon-order-id\tmerchant-order-id\tshipment-id\t"
		"purchase-date\tpayments-date\tshipment-date\t"
		"estimated-arrival-date\tship-service-level\n"
		"302-1234567-7654321\t\tDkq1\t\t2024-03-01T10:05:00Z\t"
		"2024-03-02T16:00:00Z\t2024-03-06T20:00:00Z\tStandard\n"), 0);
	assert_string_equal(e->stats.kind, "fulfilled-shipments report");
	get(e, "302-1234567-7654321", &rec);
	assert_int_equal(rec.row.purchase, MAR1 + 10 * 3600);
	assert_int_equal(rec.row.shipment, MAR1 + DAY + 16 * 3600);
	assert_int_equal(rec.row.estimated_arrival, MAR1 + 5 * DAY + 20 * 3600);
	/* importing the first again changes nothing it did not say */
	assert_int_equal(import_text(e,
		"amazon-order-id\tpurchase-date\n"
		"302-1234567-7654321\t2024-03-01T10:00:00Z\n"), 0);
	get(e, "302-1234567-7654321", &rec);
	assert_int_equal(rec.row.estimated_arrival, MAR1 + 5 * DAY + 20 * 3600);
}

static void
test_csv_quoting(void **state)
{
	struct env *e = *state;
	struct rg_order_record rec;
	/* quoted ids and dates, a comma and doubled quotes and a line break
	 * inside a quoted note; line numbers count physical lines */
	const char *csv =
		"order_id,purchase_date,delivery_date,buyer_locale,note\n"
		"\"111-2222222-3333333\",\"2024-03-01\",2024-03-04,de-DE,"
		"\"Garden, \"\"XL\"\"\nsecond line\"\n"
		"111-2222222-4444444,2024-03-01,,\"fr_FR\",plain\n"
		"111-2222222-5555555,2024-31-01,,,bad date\n";

	assert_int_equal(import_text(e, csv), 0);
	assert_string_equal(e->stats.kind, "CSV");
	assert_int_equal(e->stats.imported, 2);
	assert_int_equal(e->stats.skipped, 1);
	assert_int_equal(e->n_bad, 1);
	assert_int_equal(e->bad[0].line, 5);
	assert_non_null(strstr(e->bad[0].what, "purchase-date \"2024-31-01\" "
	                                       "is not a date"));
	get(e, "111-2222222-3333333", &rec);
	assert_int_equal(rec.row.delivery, MAR1 + 3 * DAY);
	assert_string_equal(rec.row.locale, "de_DE");
	get(e, "111-2222222-4444444", &rec);
	assert_string_equal(rec.row.locale, "fr_FR");
	assert_false(known(e, "111-2222222-5555555"));
}

static void
test_line_ends(void **state)
{
	static const char *const variants[] = {
		"order_id,purchase_date\r111-2222222-3333333,2024-03-01\r"
		"bad,2024-03-01\r111-2222222-4444444,2024-03-02\r",
		"order_id,purchase_date\r\n111-2222222-3333333,2024-03-01\r\n"
		"bad,2024-03-01\r\n111-2222222-4444444,2024-03-02",
		"\xef\xbb\xbforder_id,purchase_date\n\n111-2222222-3333333,"
		"2024-03-01\nbad,2024-03-01\n111-2222222-4444444,2024-03-02\n",
	};
	struct env *e = *state;

	for (size_t i = 0; i < G_N_ELEMENTS(variants); i++) {
		assert_int_equal(import_text(e, variants[i]), 0);
		assert_int_equal(e->stats.imported, 2);
		assert_int_equal(e->n_bad, 1);
		/* the blank line of the third variant counts as a line */
		assert_int_equal(e->bad[0].line, i == 2 ? 4 : 3);
	}
	assert_true(known(e, "111-2222222-4444444"));
}

static void
test_bad_rows(void **state)
{
	static const struct {
		const char *row;
		const char *what;
	} cases[] = {
		{ ",2024-03-01,de_DE", "no order id" },
		{ "111-2222222-333333,2024-03-01,de_DE", "is not NNN-NNNNNNN" },
		{ "111-2222222-33333333,2024-03-01,de_DE", "is not NNN-NNNNNNN" },
		{ "111 2222222 3333333,2024-03-01,de_DE", "is not NNN-NNNNNNN" },
		{ "111-2222222-3333333,2023-02-29,de_DE", "is not a date" },
		{ "111-2222222-3333333,01/03/2024,de_DE", "is not a date" },
		{ "111-2222222-3333333,2024-03-01,german", "is not a locale" },
		{ "111-2222222-3333333,2024-03-01,de_DE,extra",
		  "4 fields, the header has 3" },
	};
	struct env *e = *state;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *csv = g_strdup_printf("order_id,purchase_date,buyer_locale\n"
		                            "%s\n", cases[i].row);

		assert_int_equal(import_text(e, csv), 0);
		if (e->n_bad != 1 || e->bad[0].line != 2 ||
		    strstr(e->bad[0].what, cases[i].what) == NULL)
			fail_msg("%s: got %zu bad rows (%s), want line 2: %s",
			         cases[i].row, e->n_bad,
			         e->n_bad ? e->bad[0].what : "", cases[i].what);
		assert_int_equal(e->stats.imported, 0);
		g_free(csv);
	}
	/* never half imported */
	assert_false(known(e, "111-2222222-3333333"));
}

static void
test_short_rows_and_trailing_commas(void **state)
{
	struct env *e = *state;
	struct rg_order_record rec;

	assert_int_equal(import_text(e,
		"order_id,purchase_date,delivery_date,buyer_locale\n"
		"111-2222222-3333333,2024-03-01\n"
		"111-2222222-4444444,2024-03-01,2024-03-03,es,,,\n"
		",,,\n"
		"buyer_locale_only\n"), 0);
	assert_int_equal(e->stats.imported, 2);
	/* the empty row is a blank line; the one-field row has a bad id */
	assert_int_equal(e->stats.skipped, 1);
	assert_int_equal(e->bad[0].line, 5);
	get(e, "111-2222222-4444444", &rec);
	assert_string_equal(rec.row.locale, "es");
	assert_int_equal(rec.row.delivery, MAR1 + 2 * DAY);
}

static void
test_duplicate_rows(void **state)
{
	struct env *e = *state;
	struct rg_order_record rec;

	/* later non-empty values win, empty ones do not erase */
	assert_int_equal(import_text(e,
		"order_id,purchase_date,delivery_date,buyer_locale\n"
		"111-2222222-3333333,2024-03-01,,de_DE\n"
		"111-2222222-3333333,,2024-03-05,\n"
		"111-2222222-3333333,2024-03-01,2024-03-06,de_AT\n"), 0);
	assert_int_equal(e->stats.imported, 3);
	assert_int_equal(e->stats.orders, 1);
	get(e, "111-2222222-3333333", &rec);
	assert_int_equal(rec.row.purchase, MAR1);
	assert_int_equal(rec.row.delivery, MAR1 + 5 * DAY);
	assert_string_equal(rec.row.locale, "de_AT");
}

static void
test_not_a_report(void **state)
{
	static const struct {
		const char *name;
		const char *data;
		size_t len;
		const char *what;
	} cases[] = {
		{ "empty", "", 0, "empty file" },
		{ "blank lines", "\n\r\n\n", 4, "empty file" },
		{ "no id column", "sku\tpurchase-date\nA1\t2024-03-01\n", 0,
		  "report.txt:1: not an order report" },
		{ "no useful column", "order_id,price\n111-2222222-3333333,9\n",
		  0, "no purchase-date" },
		{ "UTF-16", "\xff\xfeo\0r\0d\0", 8, "UTF-16" },
		{ "header after blank lines", "\n\nsku,qty\n", 0,
		  "report.txt:3: not an order report" },
	};
	struct env *e = *state;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].data);

		if (import_bytes(e, cases[i].data, len) != -1)
			fail_msg("%s: imported", cases[i].name);
		if (strstr(e->error, cases[i].what) == NULL)
			fail_msg("%s: \"%s\", want \"%s\"", cases[i].name, e->error,
			         cases[i].what);
	}
	/* a header and nothing else is a report with no rows */
	assert_int_equal(import_text(e, "order_id,purchase_date\n"), 0);
	assert_int_equal(e->stats.rows, 0);
}

static void
test_unclosed_quote(void **state)
{
	struct env *e = *state;

	/* the runaway quote costs its own line, not the rest of the file */
	assert_int_equal(import_text(e,
		"order_id,purchase_date,note\n"
		"111-2222222-3333333,2024-03-01,\"unclosed\n"
		"111-2222222-4444444,2024-03-02,fine\n"
		"111-2222222-5555555,2024-03-03,fine\n"), 0);
	assert_int_equal(e->n_bad, 1);
	assert_int_equal(e->bad[0].line, 2);
	assert_non_null(strstr(e->bad[0].what, "unclosed quote"));
	assert_false(known(e, "111-2222222-3333333"));
	assert_true(known(e, "111-2222222-4444444"));
	assert_true(known(e, "111-2222222-5555555"));
}

static void
test_batches(void **state)
{
	struct env *e = *state;
	GString *csv = g_string_new("order_id,purchase_date,delivery_date\n");
	struct rg_order_record rec;
	struct rg_store_stats st;
	char *error = NULL;
	unsigned n = RG_IMPORT_BATCH * 2 + 500;

	/* every order twice, the second row far from the first: they meet
	 * in different batches and merge in the store */
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(csv, "222-0000000-%07u,2024-03-01,\n", i);
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(csv, "222-0000000-%07u,,2024-03-0%u\n", i,
		                       2 + i % 7);
	assert_int_equal(import_text(e, csv->str), 0);
	assert_int_equal(e->stats.rows, 2 * n);
	assert_int_equal(e->stats.imported, 2 * n);
	assert_true(e->stats.batches >= 4);
	if (rg_store_stats(e->store, &st, &error) < 0)
		fail_msg("%s", error);
	assert_int_equal(st.orders, n);
	assert_int_equal(st.with_delivery, n);
	get(e, "222-0000000-0000009", &rec);
	assert_int_equal(rec.row.purchase, MAR1);
	assert_int_equal(rec.row.delivery, MAR1 + 3 * DAY);
	g_string_free(csv, TRUE);
}

static void
test_long_record(void **state)
{
	struct env *e = *state;
	GString *csv = g_string_new("order_id,purchase_date,note\n");

	/* a field longer than the record limit: that row only */
	g_string_append(csv, "111-2222222-3333333,2024-03-01,");
	for (size_t i = 0; i < RG_IMPORT_MAX_RECORD + 10; i++)
		g_string_append_c(csv, 'x');
	g_string_append(csv, "\n111-2222222-4444444,2024-03-01,ok\n");
	assert_int_equal(import_text(e, csv->str), 0);
	assert_int_equal(e->n_bad, 1);
	assert_int_equal(e->bad[0].line, 2);
	assert_false(known(e, "111-2222222-3333333"));
	assert_true(known(e, "111-2222222-4444444"));
	g_string_free(csv, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_orders_report, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_shipments_report_adds,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_quoting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_short_rows_and_trailing_commas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_rows, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_not_a_report, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_unclosed_quote, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_record, setup,
		                                teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
