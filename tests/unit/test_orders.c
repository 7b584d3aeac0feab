/*
 * test_orders.c - the order rules (message-window, review-timing,
 * review-repeat, unknown-order) over a fake order lookup, with each
 * rule's day boundaries; review requests in every shipped language; and
 * the order store itself: schema, merging imports, and the atomic
 * once-per-order claim under concurrent connections.  SQLite always;
 * PostgreSQL too when RG_TEST_PG_CONNINFO names a scratch database
 * (tests/e2e/orders.sh sets it for its private server).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <sqlite3.h>

#include "internal.h"
#include "store/orders.h"
#include "testutil.h"

#define DAY RG_DAY_SECONDS
#define MAR1 ((time_t)1709251200)       /* 2024-03-01T00:00:00Z */
#define ORDER_A "111-2222222-3333333"
#define ORDER_B "222-3333333-4444444"
#define REVIEW "If you have a moment, please leave a review of your purchase."

/* ---------------------------------------------------------------- fake */

struct fake_order {
	const char *id;
	struct rg_order_info info;
};

struct fake {
	struct fake_order orders[4];
	size_t n;
	int fail;
	unsigned calls;
};

static int
fake_lookup(void *ctx, const char *order_id, struct rg_order_info *out,
            char **error_r)
{
	struct fake *f = ctx;

	f->calls++;
	if (f->fail) {
		*error_r = strdup("database is locked");
		return -1;
	}
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->orders[i].id, order_id) == 0) {
			*out = f->orders[i].info;
			return 1;
		}
	}
	return 0;
}

static void
fake_add(struct fake *f, const char *id, time_t purchase, time_t delivery,
         time_t arrival, const char *locale, int requested)
{
	struct fake_order *o = &f->orders[f->n++];

	memset(o, 0, sizeof(*o));
	o->id = id;
	o->info.purchase = purchase;
	o->info.delivery = delivery;
	o->info.estimated_arrival = arrival;
	if (locale != NULL)
		snprintf(o->info.locale, sizeof(o->info.locale), "%s", locale);
	o->info.review_requested = requested;
}

/*
 * judge - scan a message sent at `sent` (its Date: and the arrival time)
 * with the fake store; headers (may be "") go before the body
 */
static void
judge(rg_policy *policy, struct fake *f, time_t sent, const char *subject,
      const char *headers, const char *body, struct rg_result *out)
{
	char date[64];
	struct tm tm;
	rg_scan *scan = rg_scan_new(policy);
	char *error = NULL, *message;

	gmtime_r(&sent, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	message = g_strdup_printf(
		"From: Seller <seller@shop.example>\n"
		"To: buyer@marketplace.amazon.com\n"
		"Date: %s\n"
		"Subject: %s\n%s"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"\n%s\n", date, subject, headers, body);
	if (f != NULL)
		rg_scan_set_order_lookup(scan, fake_lookup, f);
	rg_scan_set_arrival(scan, sent);
	if (rg_scan_message(scan, (const unsigned char *)message,
	                    strlen(message), out, &error) < 0)
		fail_msg("scan: %s", error);
	rg_scan_free(&scan);
	g_free(message);
}

static rg_policy *
policy_with(void (*adjust)(struct rg_settings *))
{
	struct rg_settings settings;
	rg_policy *policy;

	rg_settings_init(&settings);
	if (adjust != NULL)
		adjust(&settings);
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	return policy;
}

/* ---------------------------------------------------------------- rules */

static void
test_message_window_boundaries(void **state)
{
	static const struct {
		long day;
		size_t findings;
	} cases[] = {
		{ 0, 0 }, { 29, 0 }, { 30, 0 }, { 31, 1 }, { 90, 1 },
	};
	rg_policy *policy = tu_policy();
	struct fake f = { 0 };

	(void)state;
	fake_add(&f, ORDER_A, MAR1, 0, 0, NULL, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_result res;
		/* late on that day: day N lasts until N+1 days after */
		time_t sent = MAR1 + cases[i].day * DAY + DAY - 60;

		judge(policy, &f, sent, "Order " ORDER_A, "",
		      "Which colour would you like?", &res);
		if (tu_count(&res, RG_RULE_MESSAGE_WINDOW) != cases[i].findings) {
			tu_dump(&res);
			fail_msg("day %ld: %zu message-window findings", cases[i].day,
			         tu_count(&res, RG_RULE_MESSAGE_WINDOW));
		}
		if (cases[i].day == 31) {
			const struct rg_finding *fi =
				tu_first(&res, RG_RULE_MESSAGE_WINDOW);

			assert_string_equal(fi->excerpt, ORDER_A " day 31 from "
			                    "purchase, limit 30");
			assert_string_equal(fi->part, "subject");
			assert_int_equal(fi->line, 1);
			assert_int_equal(fi->column, 7);
			assert_int_equal(fi->action, RG_ACTION_REJECT);
		}
		rg_result_clear(&res);
	}
	rg_policy_unref(&policy);
}

static void
from_delivery(struct rg_settings *s)
{
	s->window_from_delivery = 1;
}

static void
test_message_window_variants(void **state)
{
	rg_policy *policy = tu_policy(), *delivery = policy_with(from_delivery);
	struct fake f = { 0 };
	struct rg_result res;

	(void)state;
	fake_add(&f, ORDER_A, MAR1, MAR1 + 10 * DAY, 0, NULL, 0);
	fake_add(&f, ORDER_B, 0, 0, 0, NULL, 0);

	/* a reply to the buyer is not bound by the 30 days */
	judge(policy, &f, MAR1 + 60 * DAY, "Re: Order " ORDER_A,
	      "In-Reply-To: <q1@marketplace.amazon.com>\n",
	      "The spare part is in the post.", &res);
	assert_int_equal(tu_count(&res, RG_RULE_MESSAGE_WINDOW), 0);
	rg_result_clear(&res);

	/* counted from delivery where configured */
	judge(delivery, &f, MAR1 + 40 * DAY + 3600, "Order " ORDER_A, "",
	      "Which colour would you like?", &res);
	assert_int_equal(tu_count(&res, RG_RULE_MESSAGE_WINDOW), 0);
	rg_result_clear(&res);
	judge(delivery, &f, MAR1 + 41 * DAY + 3600, "Order " ORDER_A, "",
	      "Which colour would you like?", &res);
	assert_int_equal(tu_count(&res, RG_RULE_MESSAGE_WINDOW), 1);
	assert_string_equal(tu_first(&res, RG_RULE_MESSAGE_WINDOW)->excerpt,
	                    ORDER_A " day 31 from delivery, limit 30");
	rg_result_clear(&res);

	/* no purchase date: not guessed */
	judge(policy, &f, MAR1 + 400 * DAY, "Order " ORDER_B, "",
	      "Which colour would you like?", &res);
	assert_int_equal(tu_count(&res, RG_RULE_MESSAGE_WINDOW), 0);
	assert_int_equal(tu_count(&res, RG_RULE_UNKNOWN_ORDER), 0);
	rg_result_clear(&res);

	rg_policy_unref(&policy);
	rg_policy_unref(&delivery);
}

static void
test_review_timing_boundaries(void **state)
{
	static const struct {
		long day;
		size_t findings;
	} cases[] = {
		{ -1, 1 }, { 0, 1 }, { 4, 1 }, { 5, 0 }, { 6, 0 }, { 29, 0 },
		{ 30, 0 }, { 31, 1 },
	};
	rg_policy *policy = tu_policy();
	struct fake f = { 0 };

	(void)state;
	/* bought in February, delivered 2024-03-01 (the window spans the
	 * month end of a leap year) */
	fake_add(&f, ORDER_A, MAR1 - 9 * DAY, MAR1, 0, NULL, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_result res;
		time_t sent = MAR1 + cases[i].day * DAY + 60;

		judge(policy, &f, sent, "Order " ORDER_A, "", REVIEW, &res);
		if (tu_count(&res, RG_RULE_REVIEW_TIMING) != cases[i].findings) {
			tu_dump(&res);
			fail_msg("day %ld: %zu review-timing findings",
			         cases[i].day, tu_count(&res, RG_RULE_REVIEW_TIMING));
		}
		if (cases[i].day == 4) {
			const struct rg_finding *fi =
				tu_first(&res, RG_RULE_REVIEW_TIMING);

			assert_string_equal(fi->excerpt, ORDER_A " day 4 from "
			                    "delivery, allowed 5-30");
			assert_string_equal(fi->part, "1");
			assert_int_equal(fi->line, 1);
			assert_int_equal(fi->column, 30);
		}
		/* the request is listed for recording either way */
		assert_int_equal(res.review_orders.count, 1);
		assert_string_equal(res.review_orders.items[0], ORDER_A);
		rg_result_clear(&res);
	}
	rg_policy_unref(&policy);
}

static void
test_review_timing_estimates(void **state)
{
	rg_policy *policy = tu_policy();
	struct fake f = { 0 };
	struct rg_result res;

	(void)state;
	/* the estimated arrival when there is no delivery date */
	fake_add(&f, ORDER_A, MAR1, 0, MAR1 + 6 * DAY, NULL, 0);
	/* purchase + 3 days (delivery_estimate_days) when there is neither */
	fake_add(&f, ORDER_B, MAR1, 0, 0, NULL, 0);

	judge(policy, &f, MAR1 + 10 * DAY, "Order " ORDER_A, "", REVIEW, &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_TIMING), 1);
	assert_string_equal(tu_first(&res, RG_RULE_REVIEW_TIMING)->excerpt,
	                    ORDER_A " day 4 from est. delivery, allowed 5-30");
	rg_result_clear(&res);
	judge(policy, &f, MAR1 + 11 * DAY, "Order " ORDER_A, "", REVIEW, &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_TIMING), 0);
	rg_result_clear(&res);

	judge(policy, &f, MAR1 + 7 * DAY, "Order " ORDER_B, "", REVIEW, &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_TIMING), 1);
	rg_result_clear(&res);
	judge(policy, &f, MAR1 + 8 * DAY, "Order " ORDER_B, "", REVIEW, &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_TIMING), 0);
	rg_result_clear(&res);

	/* not a review request: no timing, nothing to record */
	judge(policy, &f, MAR1 + DAY, "Order " ORDER_B, "",
	      "Your parcel needs a signature; is Tuesday fine?", &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_TIMING), 0);
	assert_int_equal(res.review_orders.count, 0);
	rg_result_clear(&res);
	rg_policy_unref(&policy);
}

static void
repeat_off(struct rg_settings *s)
{
	s->actions[RG_RULE_REVIEW_REPEAT] = RG_ACTION_OFF;
}

static void
test_review_repeat(void **state)
{
	rg_policy *policy = tu_policy(), *off = policy_with(repeat_off);
	struct fake f = { 0 };
	struct rg_result res;

	(void)state;
	fake_add(&f, ORDER_A, MAR1, MAR1 + 2 * DAY, 0, NULL, 1);
	fake_add(&f, ORDER_B, MAR1, MAR1 + 2 * DAY, 0, NULL, 0);

	judge(policy, &f, MAR1 + 10 * DAY, "Order " ORDER_A, "", REVIEW, &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_REPEAT), 1);
	assert_string_equal(tu_first(&res, RG_RULE_REVIEW_REPEAT)->excerpt,
	                    ORDER_A " already had a review request");
	assert_int_equal(res.verdict, RG_ACTION_REJECT);
	assert_int_equal(res.review_orders.count, 0);
	rg_result_clear(&res);

	judge(policy, &f, MAR1 + 10 * DAY, "Order " ORDER_B, "", REVIEW, &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_REPEAT), 0);
	assert_int_equal(res.review_orders.count, 1);
	assert_string_equal(res.review_orders.items[0], ORDER_B);
	rg_result_clear(&res);

	/* the rule off: nothing found, nothing to record */
	judge(off, &f, MAR1 + 10 * DAY, "Order " ORDER_A, "", REVIEW, &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_REPEAT), 0);
	assert_int_equal(res.review_orders.count, 0);
	rg_result_clear(&res);

	rg_policy_unref(&policy);
	rg_policy_unref(&off);
}

static void
test_unknown_order(void **state)
{
	rg_policy *policy = tu_policy();
	struct fake f = { 0 };
	struct rg_result res;

	(void)state;
	judge(policy, &f, MAR1, "Order " ORDER_A, "", REVIEW, &res);
	assert_int_equal(tu_count(&res, RG_RULE_UNKNOWN_ORDER), 1);
	assert_string_equal(tu_first(&res, RG_RULE_UNKNOWN_ORDER)->excerpt,
	                    ORDER_A " not in the order store");
	assert_int_equal(tu_first(&res, RG_RULE_UNKNOWN_ORDER)->action,
	                 RG_ACTION_WARN);
	/* the order rules are skipped, not guessed */
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_TIMING), 0);
	assert_int_equal(tu_count(&res, RG_RULE_MESSAGE_WINDOW), 0);
	assert_int_equal(res.review_orders.count, 0);
	rg_result_clear(&res);
	rg_policy_unref(&policy);
}

static void
test_several_orders(void **state)
{
	rg_policy *policy = tu_policy();
	struct fake f = { 0 };
	struct rg_result res;

	(void)state;
	fake_add(&f, ORDER_A, MAR1 - 40 * DAY, 0, 0, NULL, 0);
	fake_add(&f, ORDER_B, MAR1 - 3 * DAY, 0, 0, NULL, 0);
	judge(policy, &f, MAR1, "Orders " ORDER_A " and " ORDER_B, "",
	      "About " ORDER_B ", " ORDER_A " and 333-4444444-5555555.", &res);
	/* each distinct id looked up once: A, B, and the unknown one */
	assert_int_equal(f.calls, 3);
	assert_int_equal(tu_count(&res, RG_RULE_MESSAGE_WINDOW), 1);
	assert_true(strncmp(tu_first(&res, RG_RULE_MESSAGE_WINDOW)->excerpt,
	                    ORDER_A, strlen(ORDER_A)) == 0);
	assert_int_equal(tu_count(&res, RG_RULE_UNKNOWN_ORDER), 1);
	rg_result_clear(&res);
	rg_policy_unref(&policy);
}

static void
test_too_many_orders(void **state)
{
	rg_policy *policy = tu_policy();
	struct fake f = { 0 };
	struct rg_result res;
	GString *body = g_string_new("Orders:\n");

	(void)state;
	for (int i = 0; i < 40; i++)
		g_string_append_printf(body, "111-2222222-%07d\n", i);
	judge(policy, &f, MAR1, "Your orders", "", body->str, &res);
	assert_int_equal(f.calls, 32);
	assert_int_equal(tu_count(&res, RG_RULE_UNCHECKABLE), 1);
	rg_result_clear(&res);
	g_string_free(body, TRUE);
	rg_policy_unref(&policy);
}

static void
test_quoted_request_is_the_buyers(void **state)
{
	rg_policy *policy = tu_policy();
	struct fake f = { 0 };
	struct rg_result res;

	(void)state;
	fake_add(&f, ORDER_A, MAR1, MAR1 + DAY, 0, NULL, 1);
	judge(policy, &f, MAR1 + 2 * DAY, "Re: Order " ORDER_A,
	      "In-Reply-To: <q1@marketplace.amazon.com>\n",
	      "The replacement ships today.\n\n"
	      "> Thanks, I will leave a review once it works.\n", &res);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_TIMING), 0);
	assert_int_equal(tu_count(&res, RG_RULE_REVIEW_REPEAT), 0);
	assert_int_equal(res.review_orders.count, 0);
	rg_result_clear(&res);
	rg_policy_unref(&policy);
}

static void
test_lookup_failure_fails_the_scan(void **state)
{
	rg_policy *policy = tu_policy();
	rg_scan *scan = rg_scan_new(policy);
	struct fake f = { .fail = 1 };
	struct rg_result res;
	const char *msg = "Subject: Order " ORDER_A "\n\n" REVIEW "\n";
	char *error = NULL;

	(void)state;
	rg_scan_set_order_lookup(scan, fake_lookup, &f);
	assert_int_equal(rg_scan_message(scan, (const unsigned char *)msg,
	                                 strlen(msg), &res, &error), -1);
	assert_non_null(strstr(error, ORDER_A));
	assert_non_null(strstr(error, "database is locked"));
	assert_int_equal(res.count, 0);
	free(error);
	/* without a lookup the order rules are skipped */
	rg_scan_set_order_lookup(scan, NULL, &f);
	assert_int_equal(rg_scan_message(scan, (const unsigned char *)msg,
	                                 strlen(msg), &res, &error), 0);
	assert_int_equal(tu_count(&res, RG_RULE_UNKNOWN_ORDER), 0);
	assert_int_equal(res.review_orders.count, 0);
	rg_result_clear(&res);
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
}

static void
test_buyer_locale(void **state)
{
	rg_policy *policy = tu_policy();
	rg_scan *scan = rg_scan_new(policy);
	struct fake f = { 0 };
	struct rg_result res;
	const char *known = "Subject: Bestellung " ORDER_A "\n\nHallo\n";
	const char *unknown = "Subject: Bestellung " ORDER_B "\n\nHallo\n";
	char *error = NULL;

	(void)state;
	fake_add(&f, ORDER_A, MAR1, 0, 0, "de_DE", 0);
	rg_scan_set_order_lookup(scan, fake_lookup, &f);
	rg_scan_set_arrival(scan, MAR1 + DAY);
	assert_int_equal(rg_scan_message(scan, (const unsigned char *)known,
	                                 strlen(known), &res, &error), 0);
	assert_string_equal(scan->buyer_locale, "de_DE");
	rg_result_clear(&res);
	/* forgotten for the next message */
	assert_int_equal(rg_scan_message(scan, (const unsigned char *)unknown,
	                                 strlen(unknown), &res, &error), 0);
	assert_string_equal(scan->buyer_locale, "");
	rg_result_clear(&res);
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
}

/* review_request - 1 when the pattern finds a request in text */
static int
review_request(rg_scan *scan, const char *text)
{
	size_t start, end;
	char *nfkc = g_utf8_normalize(text, -1, G_NORMALIZE_NFKC);
	int r = rg_match(scan, RG_PAT_REVIEW_REQUEST, nfkc, strlen(nfkc), 0,
	                 &start, &end);

	g_free(nfkc);
	return r == 1;
}

static void
test_review_request_languages(void **state)
{
	static const char *const requests[] = {
		/* en */
		"If you have a moment, please leave a review of your purchase.",
		"Would you mind writing a short review?",
		"We would appreciate it if you could leave us feedback.",
		"We would appreciate your honest feedback.",
		"Please rate your experience with our shop.",
		"Your product review helps other buyers.",
		"We'd love to hear what you think.",
		"How many stars would you give it?",
		/* de */
		"Wir würden uns freuen, wenn Sie eine Bewertung abgeben.",
		"Hinterlassen Sie uns gerne eine Rezension.",
		"Bitte bewerten Sie Ihren Kauf.",
		"Wir würden uns über eine kurze Produktbewertung freuen.",
		"Wir freuen uns auf Ihr Feedback.",
		"Wir würden gerne Ihre Meinung zum Artikel wissen.",
		/* fr */
		"N'hésitez pas à laisser un avis sur votre achat.",
		"Pourriez-vous donner votre avis ?",
		"Laissez-nous un commentaire sur le produit.",
		"Merci d'évaluer votre commande.",
		"Votre avis nous intéresse.",
		/* es */
		"¿Podría dejar una reseña de su compra?",
		"Nos encantaría que compartiera su opinión.",
		"Por favor, valore el producto.",
		"Su opinión nos importa mucho.",
		/* it */
		"Potrebbe lasciare una recensione del prodotto?",
		"Ci lasci un feedback, grazie.",
		"Le chiediamo di valutare il prodotto.",
		"La sua opinione conta molto per noi.",
		/* ja: full-width and half-width katakana (NFKC) alike */
		"商品のレビューをお願いいたします。",
		"ご感想をお聞かせください。",
		"評価していただけると幸いです。",
		"ﾚﾋﾞｭｰをお願いします。",
	};
	static const char *const not_requests[] = {
		"Please review your order details before we ship.",
		"We will review your return request today.",
		"The courier will leave the parcel at the door.",
		"Thank you for your review last year.",
		"Die Bewertung des Schadens dauert zwei Tage.",
		"Votre retour a été accepté.",
		"Su pedido está en camino.",
		"La spedizione è partita oggi.",
		"ご注文の商品を発送しました。",
	};
	rg_policy *policy = tu_policy();
	rg_scan *scan = rg_scan_new(policy);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(requests); i++)
		if (!review_request(scan, requests[i]))
			fail_msg("not seen as a review request: %s", requests[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(not_requests); i++)
		if (review_request(scan, not_requests[i]))
			fail_msg("taken for a review request: %s",
			         not_requests[i]);
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
}

static void
test_result_add(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;
	struct rg_result res;

	(void)state;
	rg_settings_init(&settings);
	settings.excerpt_chars = 10;
	settings.actions[RG_RULE_UNKNOWN_ORDER] = RG_ACTION_OFF;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	memset(&res, 0, sizeof(res));
	rg_result_add(&res, policy, RG_RULE_UNKNOWN_ORDER, "off: nothing");
	assert_int_equal(res.count, 0);
	rg_result_add(&res, policy, RG_RULE_REVIEW_REPEAT,
	              ORDER_A " already had a review request");
	assert_int_equal(res.count, 1);
	assert_int_equal(res.verdict, RG_ACTION_REJECT);
	assert_string_equal(res.findings[0].part, "message");
	assert_string_equal(res.findings[0].excerpt, "111-222222...");
	rg_result_clear(&res);
	rg_policy_unref(&policy);
}

/* ---------------------------------------------------------------- store */

struct store_env {
	const char *backend;
	char *target;
	char *dir;                  /* sqlite: temp directory */
	char prefix[4];             /* order ids of this run: PPP-... */
};

static void
order_id(const struct store_env *env, unsigned n, char out[RG_ORDER_ID_SIZE])
{
	snprintf(out, RG_ORDER_ID_SIZE, "%.3s-%07u-%07u", env->prefix,
	         n % 10000000u, (unsigned)(getpid() % 10000000));
}

static struct rg_store *
store_open(const struct store_env *env, int flags)
{
	struct rg_store *store = NULL;
	char *error = NULL;

	if (rg_store_open(env->backend, env->target, flags, &store,
	                  &error) < 0)
		fail_msg("open %s: %s", env->target, error);
	return store;
}

static void
store_env_init(struct store_env *env, const char *backend,
               const char *target)
{
	memset(env, 0, sizeof(*env));
	env->backend = backend;
	snprintf(env->prefix, sizeof(env->prefix), "%03u",
	         (unsigned)(g_random_int() % 1000));
	if (strcmp(backend, "sqlite") == 0) {
		env->dir = g_dir_make_tmp("rg-orders-XXXXXX", NULL);
		assert_non_null(env->dir);
		env->target = g_build_filename(env->dir, "orders.sqlite", NULL);
	} else {
		env->target = g_strdup(target);
	}
}

static void
store_env_clear(struct store_env *env)
{
	if (env->dir != NULL) {
		char *cmd = g_strdup_printf("rm -rf '%s'", env->dir);

		assert_int_equal(system(cmd), 0);
		g_free(cmd);
		g_free(env->dir);
	}
	g_free(env->target);
}

static void
store_schema(const struct store_env *env)
{
	struct rg_store *store;
	char *error = NULL;

	if (strcmp(env->backend, "sqlite") == 0) {
		/* missing: told apart, and not created without asking */
		assert_true(rg_store_missing(env->backend, env->target));
		assert_int_equal(rg_store_open(env->backend, env->target, 0,
		                               &store, &error), -1);
		free(error);
		error = NULL;
		store = store_open(env, RG_STORE_CREATE);
		assert_int_equal(rg_store_check(store, &error), -1);
		assert_non_null(strstr(error, "relaygate orders init"));
		free(error);
		error = NULL;
		assert_false(rg_store_missing(env->backend, env->target));
	} else {
		store = store_open(env, 0);
	}
	if (rg_store_init(store, &error) < 0 ||
	    rg_store_init(store, &error) < 0 ||
	    rg_store_check(store, &error) < 0)
		fail_msg("init: %s", error);
	rg_store_close(&store);
	assert_null(store);

	if (strcmp(env->backend, "sqlite") == 0) {
		sqlite3 *db;
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_open(env->target, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode",
		                                    -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0),
		                    "wal");
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
}

static void
store_merging(const struct store_env *env)
{
	struct rg_store *store = store_open(env, RG_STORE_BULK);
	struct rg_order_row rows[2];
	struct rg_order_record rec;
	struct rg_order_info info;
	char *error = NULL;
	char a[RG_ORDER_ID_SIZE], b[RG_ORDER_ID_SIZE];

	order_id(env, 1, a);
	order_id(env, 2, b);
	memset(rows, 0, sizeof(rows));
	memcpy(rows[0].order_id, a, sizeof(a));
	rows[0].purchase = MAR1;
	snprintf(rows[0].status, sizeof(rows[0].status), "Shipped");
	snprintf(rows[0].channel, sizeof(rows[0].channel), "Amazon.de");
	memcpy(rows[1].order_id, b, sizeof(b));
	rows[1].purchase = MAR1 + DAY;
	if (rg_store_upsert(store, rows, 2, MAR1, &error) < 0)
		fail_msg("upsert: %s", error);
	/* a second report adds the delivery and locale, keeps the rest */
	memset(rows, 0, sizeof(rows));
	memcpy(rows[0].order_id, a, sizeof(a));
	rows[0].delivery = MAR1 + 4 * DAY;
	rows[0].estimated_arrival = MAR1 + 5 * DAY;
	snprintf(rows[0].locale, sizeof(rows[0].locale), "de_DE");
	if (rg_store_upsert(store, rows, 1, MAR1 + DAY, &error) < 0)
		fail_msg("upsert: %s", error);
	assert_int_equal(rg_store_get(store, a, &rec, &error), 1);
	assert_int_equal(rec.row.purchase, MAR1);
	assert_int_equal(rec.row.delivery, MAR1 + 4 * DAY);
	assert_int_equal(rec.row.estimated_arrival, MAR1 + 5 * DAY);
	assert_string_equal(rec.row.locale, "de_DE");
	assert_string_equal(rec.row.status, "Shipped");
	assert_string_equal(rec.row.channel, "Amazon.de");
	assert_int_equal(rec.updated, MAR1 + DAY);
	assert_false(rec.review_requested);
	assert_int_equal(rg_store_lookup(store, b, &info, &error), 1);
	assert_int_equal(info.purchase, MAR1 + DAY);
	assert_int_equal(info.delivery, 0);
	assert_string_equal(info.locale, "");
	/* unknown, and not an order id at all */
	assert_int_equal(rg_store_get(store, "999-9999999-9999999", &rec,
	                              &error), 0);
	assert_int_equal(rg_store_get(store, "x' OR '1'='1", &rec, &error), 0);
	if (rg_store_note_import(store, MAR1 + 2 * DAY, &error) < 0)
		fail_msg("note import: %s", error);
	rg_store_close(&store);
}

static void
store_claims(const struct store_env *env)
{
	struct rg_store *store = store_open(env, 0), *ro;
	struct rg_order_record rec;
	struct rg_order_row row;
	struct rg_store_stats st;
	char *error = NULL;
	char a[RG_ORDER_ID_SIZE];

	order_id(env, 1, a);
	/* first claim wins, a second loses; only the holder releases */
	assert_int_equal(rg_store_claim_review(store, a, "mx1 1.1 Q1", MAR1,
	                                       &error), 1);
	assert_int_equal(rg_store_claim_review(store, a, "mx2 2.1 Q2", MAR1,
	                                       &error), 0);
	assert_int_equal(rg_store_get(store, a, &rec, &error), 1);
	assert_true(rec.review_requested);
	assert_int_equal(rec.review_time, MAR1);
	assert_string_equal(rec.review_claim, "mx1 1.1 Q1");
	assert_int_equal(rg_store_release_review(store, a, "mx2 2.1 Q2",
	                                         &error), 0);
	assert_int_equal(rg_store_release_review(store, a, "mx1 1.1 Q1",
	                                         &error), 1);
	assert_int_equal(rg_store_claim_review(store, a, "mx2 2.1 Q2", MAR1,
	                                       &error), 1);
	/* forget-review: whoever holds it */
	assert_int_equal(rg_store_release_review(store, a, NULL, &error), 1);
	assert_int_equal(rg_store_release_review(store, a, NULL, &error), 0);
	assert_int_equal(rg_store_claim_review(store, a, "mx1 1.2 Q3", MAR1,
	                                       &error), 1);
	/* a claim needs a real order id */
	assert_int_equal(rg_store_claim_review(store, "1-2-3", "x", MAR1,
	                                       &error), -1);
	free(error);
	error = NULL;

	ro = store_open(env, RG_STORE_READONLY);
	assert_int_equal(rg_store_claim_review(ro, a, "x", MAR1, &error), -1);
	free(error);
	error = NULL;
	memset(&row, 0, sizeof(row));
	assert_int_equal(rg_store_get(ro, a, &rec, &error), 1);
	assert_true(rec.review_requested);
	rg_store_close(&ro);

	if (rg_store_stats(store, &st, &error) < 0)
		fail_msg("stats: %s", error);
	assert_int_equal(st.schema_version, RG_STORE_SCHEMA_VERSION);
	assert_true(st.orders >= 2);
	assert_true(st.review_requests >= 1);
	assert_true(st.last_import != 0);
	rg_store_close(&store);
}

#define RACERS 16
#define RACES 10

struct racer {
	const struct store_env *env;
	pthread_barrier_t *start;
	char order[RG_ORDER_ID_SIZE];
	int id;
	int won;
	char *error;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct rg_store *store = NULL;
	char claim[32];

	if (rg_store_open(r->env->backend, r->env->target, 0, &store,
	                  &r->error) < 0) {
		pthread_barrier_wait(r->start);
		r->won = -1;
		return NULL;
	}
	snprintf(claim, sizeof(claim), "racer %d", r->id);
	pthread_barrier_wait(r->start);
	r->won = rg_store_claim_review(store, r->order, claim, MAR1,
	                               &r->error);
	rg_store_close(&store);
	return NULL;
}

/* store_race - RACERS connections claim one order at once, RACES times:
 * exactly one wins each time */
static void
store_race(const struct store_env *env)
{
	for (unsigned round = 0; round < RACES; round++) {
		pthread_barrier_t start;
		pthread_t threads[RACERS];
		struct racer racers[RACERS];
		int wins = 0;

		pthread_barrier_init(&start, NULL, RACERS);
		for (int i = 0; i < RACERS; i++) {
			memset(&racers[i], 0, sizeof(racers[i]));
			racers[i].env = env;
			racers[i].start = &start;
			racers[i].id = i;
			order_id(env, 100 + round, racers[i].order);
			assert_int_equal(pthread_create(&threads[i], NULL, race,
			                                &racers[i]), 0);
		}
		for (int i = 0; i < RACERS; i++) {
			pthread_join(threads[i], NULL);
			if (racers[i].won < 0)
				fail_msg("racer %d: %s", i, racers[i].error);
			wins += racers[i].won;
		}
		pthread_barrier_destroy(&start);
		assert_int_equal(wins, 1);
	}
}

static void
store_suite(const char *backend, const char *target)
{
	struct store_env env;

	store_env_init(&env, backend, target);
	store_schema(&env);
	store_merging(&env);
	store_claims(&env);
	store_race(&env);
	store_env_clear(&env);
}

static void
test_store_sqlite(void **state)
{
	(void)state;
	store_suite("sqlite", NULL);
}

static void
test_store_postgresql(void **state)
{
	const char *conninfo = getenv("RG_TEST_PG_CONNINFO");

	(void)state;
	if (conninfo == NULL || conninfo[0] == '\0') {
		print_message("skipped: set RG_TEST_PG_CONNINFO to a scratch "
		              "PostgreSQL database (tests/e2e/orders.sh does)\n");
		skip();
	}
	store_suite("postgresql", conninfo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_window_boundaries),
		cmocka_unit_test(test_message_window_variants),
		cmocka_unit_test(test_review_timing_boundaries),
		cmocka_unit_test(test_review_timing_estimates),
		cmocka_unit_test(test_review_repeat),
		cmocka_unit_test(test_unknown_order),
		cmocka_unit_test(test_several_orders),
		cmocka_unit_test(test_too_many_orders),
		cmocka_unit_test(test_quoted_request_is_the_buyers),
		cmocka_unit_test(test_lookup_failure_fails_the_scan),
		cmocka_unit_test(test_buyer_locale),
		cmocka_unit_test(test_review_request_languages),
		cmocka_unit_test(test_result_add),
		cmocka_unit_test(test_store_sqlite),
		cmocka_unit_test(test_store_postgresql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
