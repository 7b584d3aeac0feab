/*
 * test_language.c - rule language: the seller's text against the
 * languages of the buyer's marketplace; too little text, the subject, the
 * buyer's quoted text, links and addresses are not judged; a message in
 * two languages passes when one is accepted; configured marketplaces; the
 * shared language profiles from several threads.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <glib.h>

#include "testutil.h"
#include "internal.h"

/* message - a UTF-8 message to a buyer at marketplace ("amazon.it"), or
 * to a plain address when marketplace is NULL */
static char *
message(const char *marketplace, const char *subject, const char *type,
        const char *body)
{
	return g_strdup_printf(
		"From: Seller <seller@shop.example>\n"
		"To: %s%s\n"
		"Subject: %s\n"
		"MIME-Version: 1.0\n"
		"Content-Type: %s; charset=utf-8\n"
		"Content-Transfer-Encoding: 8bit\n"
		"\n%s\n",
		marketplace ? "x7bq2@marketplace." : "friend@example.",
		marketplace ? marketplace : "org",
		subject ? subject : "Order 111-2222222-3333333", type, body);
}

static void
scan_to(rg_policy *policy, const char *marketplace, const char *subject,
        const char *type, const char *body, struct rg_result *result)
{
	char *msg = message(marketplace, subject, type, body);

	tu_scan(policy, msg, result);
	g_free(msg);
}

#define EN "The charging dock in your order was packed with a UK plug by " \
	"mistake. Before shipping, we will add an adapter so that it fits " \
	"your wall sockets without any extra parts."
#define IT "Buongiorno Marco, stiamo per tagliare su misura la mensola in " \
	"vetro del suo ordine. Può confermarci la profondità corretta " \
	"rispondendo a questo messaggio?"
#define DE "Sehr geehrter Herr Zimmermann, wie besprochen senden wir Ihnen " \
	"die Rechnung für den Akkuschrauber als PDF-Datei. Die Rechnung ist " \
	"auf Ihre Firma ausgestellt."
#define FR "Bonjour Madame Dubois, l'armoire de votre commande sera " \
	"livrée par un transporteur spécialisé, qui a besoin d'un " \
	"rendez-vous pour la livraison."
#define ES "Hola, Alba: el mensaje para la tarjeta de regalo de su pedido " \
	"se ha cortado en el sistema. ¿Podría enviarnos el texto completo " \
	"respondiendo a este mensaje?"
#define JA "ひのき工房の森と申します。ご注文の檜のまな板について、名入れの" \
	"表記を確認させてください。ご返信をいただき次第、製作を始めます。"
#define ZH "您好，您订购的商品已经发货，预计三天内送达，请注意查收。如有问题" \
	"请随时联系我们。"
#define AR "مرحبا، تم شحن طلبك اليوم وسيصل خلال ثلاثة أيام. " \
	"يرجى التأكد من العنوان قبل التسليم."
#define RU "Здравствуйте, ваш заказ отправлен сегодня и прибудет " \
	"через три дня. Пожалуйста, проверьте адрес доставки."

static const struct {
	const char *name;
	const char *marketplace;
	const char *body;
	const char *want;        /* excerpt, or NULL for no finding */
} cases[] = {
	{ "english to .it", "amazon.it", EN,
	  "written in English (en); amazon.it buyers read Italian (it)" },
	{ "italian to .it", "amazon.it", IT, NULL },
	{ "german to .de", "amazon.de", DE, NULL },
	{ "french to .fr", "amazon.fr", FR, NULL },
	{ "spanish to .es", "amazon.es", ES, NULL },
	{ "spanish to .com.mx", "amazon.com.mx", ES, NULL },
	{ "english to .com", "amazon.com", EN, NULL },
	{ "english to .co.uk", "amazon.co.uk", EN, NULL },
	{ "french to .ca", "amazon.ca", FR, NULL },
	{ "english to .ca", "amazon.ca", EN, NULL },
	{ "german to .com.be", "amazon.com.be", DE, NULL },
	{ "english to .com.be", "amazon.com.be", EN,
	  "English (en); amazon.com.be buyers: fr, nl or de" },
	{ "spanish to .de", "amazon.de", ES,
	  "written in Spanish (es); amazon.de buyers read German (de)" },
	{ "german to .fr", "amazon.fr", DE,
	  "written in German (de); amazon.fr buyers read French (fr)" },
	{ "japanese to .co.jp", "amazon.co.jp", JA, NULL },
	{ "english to .co.jp", "amazon.co.jp", EN,
	  "English (en); amazon.co.jp buyers read Japanese (ja)" },
	{ "japanese to .de", "amazon.de", JA,
	  "written in Japanese (ja); amazon.de buyers read German (de)" },
	{ "chinese to .co.jp", "amazon.co.jp", ZH,
	  "Chinese (zh); amazon.co.jp buyers read Japanese (ja)" },
	{ "arabic to .ae", "amazon.ae", AR, NULL },
	{ "english to .ae", "amazon.ae", EN, NULL },
	{ "arabic to .de", "amazon.de", AR,
	  "written in Arabic (ar); amazon.de buyers read German (de)" },
	{ "russian to .de", "amazon.de", RU,
	  "written in Cyrl script; amazon.de buyers read German (de)" },

	/* too little to judge */
	{ "thanks", "amazon.it", "Thanks!", NULL },
	{ "four words", "amazon.it", "Thank you very much.", NULL },
	{ "short japanese", "amazon.de", "ありがとう", NULL },
	{ "only a link", "amazon.it",
	  "https://www.amazon.it/gp/your-account/order-details?orderID=1",
	  NULL },
	{ "english in links and addresses", "amazon.it",
	  "Buongiorno, può seguire il pacco qui: "
	  "https://www.amazon.it/gp/your-account/order-history/track-your-"
	  "package-and-delivery-status-for-this-shipment e risponderci a "
	  "customer.service.help.team@shop.example", NULL },
	{ "empty", "amazon.it", "", NULL },

	/* two languages: passes when one is the buyer's */
	{ "german then english", "amazon.de",
	  DE "\n\n" EN, NULL },
	{ "english then italian", "amazon.it",
	  EN "\n\n" IT, NULL },
	{ "japanese with english product line", "amazon.co.jp",
	  JA "\n\nProduct: Hinoki cutting board, large, with engraving.",
	  NULL },
	{ "english with a japanese greeting", "amazon.co.jp",
	  "いつも大変お世話になっております。\n\n" EN,
	  "English (en); amazon.co.jp buyers read Japanese (ja)" },
	{ "japanese with an english paragraph", "amazon.co.jp",
	  JA "\n\n" EN, NULL },
	{ "english with japanese shop name", "amazon.co.jp",
	  EN "\n\nひのき工房",
	  "English (en); amazon.co.jp buyers read Japanese (ja)" },

	/* no buyer: not judged */
	{ "no relay recipient", NULL, EN, NULL },
};

static void
test_cases(void **state)
{
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_result r;
		const struct rg_finding *f;

		scan_to(policy, cases[i].marketplace, NULL, "text/plain",
		        cases[i].body, &r);
		f = tu_first(&r, RG_RULE_LANGUAGE);
		if ((f == NULL) != (cases[i].want == NULL) ||
		    tu_count(&r, RG_RULE_LANGUAGE) > 1 ||
		    (f != NULL && strcmp(f->excerpt, cases[i].want) != 0)) {
			tu_dump(&r);
			fail_msg("%s: want %s", cases[i].name,
			         cases[i].want ? cases[i].want : "no finding");
		}
		if (f != NULL) {
			assert_int_equal(f->action, RG_ACTION_REJECT);
			assert_string_equal(f->part, "1");
			assert_int_equal(f->line, 1);
			assert_int_equal(f->column, 1);
		}
		rg_result_clear(&r);
	}
	rg_policy_unref(&policy);
}

/* The subject is not the body: an English subject on an Italian body
 * passes, an Italian subject does not save an English body. */
static void
test_subject(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result r;

	(void)state;
	scan_to(policy, "amazon.it", "Plug adapter for your order, shipping "
	        "next week as agreed", "text/plain", IT, &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 0);
	rg_result_clear(&r);
	scan_to(policy, "amazon.it", "Adattatore per il suo ordine, la "
	        "spedizione partirà la prossima settimana", "text/plain", EN,
	        &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 1);
	rg_result_clear(&r);
	rg_policy_unref(&policy);
}

/* The buyer's quoted words are theirs: neither judged nor counted. */
static void
test_quoted(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result r;
	char *msg;

	(void)state;
	msg = g_strdup_printf(
		"From: Seller <seller@shop.example>\n"
		"To: x@marketplace.amazon.de\n"
		"Subject: Re: Akku 302-1178843-2269051\n"
		"In-Reply-To: <q1@example.net>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: 8bit\n"
		"\n%s\n\nOn 22 Jan 2026, Uwe wrote:\n> %s\n> %s\n", DE, EN, EN);
	tu_scan(policy, msg, &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 0);
	rg_result_clear(&r);
	g_free(msg);

	/* an English answer under German quoted text is still English */
	msg = g_strdup_printf(
		"From: Seller <seller@shop.example>\n"
		"To: x@marketplace.amazon.de\n"
		"Subject: Re: Akku 302-1178843-2269051\n"
		"In-Reply-To: <q1@example.net>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: 8bit\n"
		"\n%s\n\nAm 22.01.2026 schrieb Uwe:\n> %s\n> %s\n", EN, DE, DE);
	tu_scan(policy, msg, &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 1);
	rg_result_clear(&r);
	g_free(msg);
	rg_policy_unref(&policy);
}

/* Without a plain part the HTML's visible text is judged. */
static void
test_html(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result r;

	(void)state;
	scan_to(policy, "amazon.it", NULL, "text/html",
	        "<html><body><p>" IT "</p></body></html>", &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 0);
	rg_result_clear(&r);
	scan_to(policy, "amazon.it", NULL, "text/html",
	        "<html><body><p>" EN "</p></body></html>", &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 1);
	rg_result_clear(&r);
	rg_policy_unref(&policy);
}

/* accepted = [ "amazon.com:en,es" ] replaces .com's languages only. */
static void
test_configured(void **state)
{
	struct rg_settings s;
	rg_policy *policy;
	struct rg_result r;

	(void)state;
	policy = tu_policy();
	scan_to(policy, "amazon.com", NULL, "text/plain", ES, &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 1);
	rg_result_clear(&r);
	rg_policy_unref(&policy);

	rg_settings_init(&s);
	rg_strlist_add(&s.language_accepted, "amazon.com:en,es");
	rg_strlist_add(&s.language_accepted, "amazon.example:de");
	policy = tu_policy_from(&s);
	rg_settings_clear(&s);
	scan_to(policy, "amazon.com", NULL, "text/plain", ES, &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 0);
	rg_result_clear(&r);
	scan_to(policy, "amazon.com", NULL, "text/plain", EN, &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 0);
	rg_result_clear(&r);
	scan_to(policy, "amazon.it", NULL, "text/plain", EN, &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 1);
	rg_result_clear(&r);
	rg_policy_unref(&policy);

	/* off */
	rg_settings_init(&s);
	s.actions[RG_RULE_LANGUAGE] = RG_ACTION_OFF;
	policy = tu_policy_from(&s);
	rg_settings_clear(&s);
	scan_to(policy, "amazon.it", NULL, "text/plain", EN, &r);
	assert_int_equal(tu_count(&r, RG_RULE_LANGUAGE), 0);
	rg_result_clear(&r);
	rg_policy_unref(&policy);
}

static void
test_entries(void **state)
{
	static const struct {
		const char *entry;
		int ok;
	} entries[] = {
		{ "amazon.ca:en,fr", 1 },
		{ "amazon.com.be:fr,nl,de", 1 },
		{ "members.ebay.com:en", 1 },
		{ "amazon.in:en,hi,fil", 1 },
		{ "amazon.rs:sr-Latn", 1 },
		{ "amazon.ca", 0 },
		{ "amazon.ca:", 0 },
		{ ":en", 0 },
		{ "amazon.ca:EN", 0 },
		{ "Amazon.ca:en", 0 },
		{ "amazon.ca:en,,fr", 0 },
		{ "amazon.ca:en,", 0 },
		{ "amazon..ca:en", 0 },
		{ ".amazon.ca:en", 0 },
		{ "amazon:en", 0 },
		{ "amazon.ca:english", 0 },
		{ "amazon.ca:en fr", 0 },
		{ "amazon.ca:e", 0 },
		{ "amazon.ca:../../etc", 0 },
		{ "", 0 },
	};
	struct rg_settings s;
	char *error = NULL;
	rg_policy *policy;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(entries); i++) {
		char *why = rg_language_entry_error(entries[i].entry);

		if ((why == NULL) != entries[i].ok)
			fail_msg("%s: want %s, got %s", entries[i].entry,
			         entries[i].ok ? "ok" : "an error",
			         why ? why : "ok");
		g_free(why);
	}
	{
		char *why = rg_language_entry_error(NULL);

		assert_non_null(why);
		g_free(why);
	}

	/* the engine checks settings that did not come through the loader */
	rg_settings_init(&s);
	rg_strlist_add(&s.language_accepted, "amazon.ca:en,,fr");
	policy = rg_policy_build(&s, &error);
	assert_null(policy);
	assert_non_null(strstr(error, "amazon.ca:en,,fr"));
	g_free(error);
	error = NULL;
	rg_settings_clear(&s);

	/* a language without a profile cannot be told apart */
	rg_settings_init(&s);
	rg_strlist_add(&s.language_accepted, "amazon.xx:qqq");
	policy = rg_policy_build(&s, &error);
	assert_null(policy);
	assert_non_null(strstr(error, "qqq"));
	g_free(error);
	rg_settings_clear(&s);
}

/* rg_view_language is shared with the spelling rule */
static void
test_view_language(void **state)
{
	static const struct {
		const char *body, *want;
	} langs[] = {
		{ EN, "en" }, { DE, "de" }, { FR, "fr" }, { ES, "es" },
		{ IT, "it" }, { JA, "ja" }, { "Thanks!", NULL },
	};
	rg_policy *policy = tu_policy();
	rg_scan *scan = rg_scan_new(policy);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(langs); i++) {
		char *msg = message("amazon.de", NULL, "text/plain",
		                    langs[i].body);
		struct rg_view view;
		const char *got;

		memset(&view, 0, sizeof(view));
		assert_int_equal(rg_view_from_message(scan,
		                     (const unsigned char *)msg, strlen(msg),
		                     &view), 0);
		got = rg_view_language(scan, &view);
		if (langs[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, langs[i].want);
		/* cached: the same answer */
		assert_ptr_equal(rg_view_language(scan, &view), got);
		rg_view_clear(&view);
		scan->lang_view = NULL;
		g_free(msg);
	}
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
}

/* The buyer's locale from the order data replaces the marketplace's
 * languages. */
static int
lookup_locale(void *ctx, const char *order_id, struct rg_order_info *out,
              char **error_r)
{
	(void)order_id;
	(void)error_r;
	memset(out, 0, sizeof(*out));
	out->purchase = time(NULL) - RG_DAY_SECONDS;
	g_strlcpy(out->locale, ctx, sizeof(out->locale));
	return 1;
}

static void
test_buyer_locale(void **state)
{
	static const struct {
		const char *locale, *marketplace, *body, *want;
	} locales[] = {
		{ "de_DE", "amazon.co.uk", EN,
		  "written in English (en); the buyer reads German (de)" },
		{ "de_DE", "amazon.co.uk", DE, NULL },
		{ "en_GB", "amazon.de", EN, NULL },
		{ "en_GB", "amazon.de", DE,
		  "written in German (de); the buyer reads English (en)" },
		{ "fr-CA", "amazon.ca", FR, NULL },
		/* a language the detector cannot name: not judged */
		{ "da_DK", "amazon.de", EN, NULL },
		/* no usable locale: the marketplace's languages */
		{ "", "amazon.it", EN,
		  "written in English (en); amazon.it buyers read Italian (it)" },
		{ "C", "amazon.it", IT, NULL },
	};
	rg_policy *policy = tu_policy();
	rg_scan *scan = rg_scan_new(policy);

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(locales); i++) {
		char *msg = message(locales[i].marketplace, NULL, "text/plain",
		                    locales[i].body);
		const struct rg_finding *f;
		struct rg_result r;
		char *error = NULL;

		rg_scan_set_order_lookup(scan, lookup_locale,
		                         (void *)locales[i].locale);
		assert_int_equal(rg_scan_message(scan,
		                     (const unsigned char *)msg, strlen(msg),
		                     &r, &error), 0);
		f = tu_first(&r, RG_RULE_LANGUAGE);
		if ((f == NULL) != (locales[i].want == NULL) ||
		    (f != NULL && strcmp(f->excerpt, locales[i].want) != 0)) {
			tu_dump(&r);
			fail_msg("%s to %s: want %s", locales[i].locale,
			         locales[i].marketplace,
			         locales[i].want ? locales[i].want : "nothing");
		}
		rg_result_clear(&r);
		g_free(msg);
	}
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
}

/* Every scan thread shares the policy's profiles. */
#define THREADS 4
#define ROUNDS 50

static gpointer
scan_thread(gpointer data)
{
	rg_policy *policy = data;
	static const struct {
		const char *marketplace, *body;
		size_t want;
	} work[] = {
		{ "amazon.it", EN, 1 }, { "amazon.it", IT, 0 },
		{ "amazon.de", DE, 0 }, { "amazon.fr", ES, 1 },
		{ "amazon.co.jp", JA, 0 }, { "amazon.es", ES, 0 },
	};
	rg_scan *scan = rg_scan_new(policy);
	gintptr bad = 0;

	for (int round = 0; round < ROUNDS; round++) {
		for (size_t i = 0; i < G_N_ELEMENTS(work); i++) {
			char *msg = message(work[i].marketplace, NULL,
			                    "text/plain", work[i].body);
			struct rg_result r;
			char *error = NULL;

			if (rg_scan_message(scan, (const unsigned char *)msg,
			                    strlen(msg), &r, &error) < 0) {
				g_free(error);
				bad++;
			} else if (tu_count(&r, RG_RULE_LANGUAGE) !=
			           work[i].want) {
				bad++;
			}
			rg_result_clear(&r);
			g_free(msg);
		}
	}
	rg_scan_free(&scan);
	return (gpointer)bad;
}

static void
test_threads(void **state)
{
	rg_policy *policy = tu_policy();
	GThread *threads[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++)
		threads[i] = g_thread_new("scan", scan_thread, policy);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal((gintptr)g_thread_join(threads[i]), 0);
	rg_policy_unref(&policy);
}

/* The corpus: 036 is English to .it; the other languages are right. */
static void
test_corpus(void **state)
{
	static const struct {
		const char *file;
		size_t want;
	} files[] = {
		{ "036-english-to-it.eml", 1 },
		{ "002-de-invoice-pdf.eml", 0 },
		{ "003-jp-name-print-romaji.eml", 0 },
		{ "008-it-glass-shelf-crlf.eml", 0 },
		{ "009-fr-wardrobe-delivery-appointment.eml", 0 },
		{ "010-es-gift-note-text.eml", 0 },
		{ "013-de-thunderbird-reply-battery.eml", 0 },
		{ "020-de-http-order-page.eml", 0 },
		{ "023-es-whatsapp-contact.eml", 0 },
		{ "024-fr-gift-wrap-emoji.eml", 0 },
		{ "032-it-remove-negative-review.eml", 0 },
		{ "042-jp-thanks-only.eml", 0 },
		{ "001-ca-buzzer-code.eml", 0 },
		{ "038-uk-misspelt-apology.eml", 0 },
	};
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		char *rel = g_strconcat("corpus/", files[i].file, NULL);
		char *path = tu_shared(rel);
		unsigned char *data;
		size_t len;
		struct rg_result r;
		rg_scan *scan;
		char *error = NULL;

		g_free(rel);
		if (path == NULL) {
			print_message("corpus not found, skipped\n");
			break;
		}
		data = tu_read_file(path, &len);
		scan = rg_scan_new(policy);
		assert_int_equal(rg_scan_message(scan, data, len, &r, &error),
		                 0);
		if (tu_count(&r, RG_RULE_LANGUAGE) != files[i].want) {
			tu_dump(&r);
			fail_msg("%s: want %zu language findings",
			         files[i].file, files[i].want);
		}
		rg_result_clear(&r);
		rg_scan_free(&scan);
		g_free(data);
		g_free(path);
	}
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_configured),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_view_language),
		cmocka_unit_test(test_buyer_locale),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
