/*
 * test_spelling.c - rule spelling: misspelt lower-case words in the
 * seller's text, one finding each; no false alarms on names, brands,
 * URLs, ASINs, units, British spellings, German nouns and compounds,
 * French and Italian elisions; the buyer's quoted words; the settings.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "testutil.h"

static void
scan_to(rg_policy *policy, const char *marketplace, const char *subject,
        const char *body, struct rg_result *result)
{
	char *msg = g_strdup_printf(
		"From: Seller <seller@shop.example>\n"
		"To: x7bq2@marketplace.%s\n"
		"Subject: %s\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: 8bit\n"
		"\n%s\n",
		marketplace, subject ? subject : "Order 203-2258804-6691127",
		body);

	tu_scan(policy, msg, result);
	g_free(msg);
}

/* words - the excerpts of the spelling findings, blank separated */
static char *
words(const struct rg_result *r)
{
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < r->count; i++) {
		if (r->findings[i].rule != RG_RULE_SPELLING)
			continue;
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, r->findings[i].excerpt);
	}
	return g_string_free(out, FALSE);
}

static const struct {
	const char *name;
	const char *marketplace;
	const char *body;
	const char *want;        /* misspelt words in order, "" for none */
} cases[] = {
	/* corpus 038 */
	{ "british apology", "amazon.co.uk",
	  "Dear Keith,\n\nWe apologise for the inconvinience. The parcle with "
	  "your trellis panels from order 203-2258804-6691127 was damadged by "
	  "the courier, so we have sent a new one wich should arive on "
	  "Thursday.\n\nYours sincerely,\nRowan Pike\nThornbury Garden "
	  "Supplies",
	  "inconvinience parcle damadged wich arive" },
	{ "american and british", "amazon.com",
	  "We apologize for the delay; we apologise for the colour and the "
	  "color of the aluminium and aluminum organiser.", "" },
	{ "one finding per word", "amazon.com",
	  "The parcle is late, the parcle is lost, and a new parcle is on its "
	  "way.", "parcle" },
	{ "common typos", "amazon.com",
	  "We will definately recieve the seperate parcel tommorow, untill "
	  "then please keep the box.",
	  "definately recieve seperate tommorow untill" },

	/* never checked */
	{ "names, brands, shop", "amazon.com",
	  "Hi Siobhan,\n\nThe Dyson filter from Thornbury and the Bosch "
	  "drill ship with DPD. Best, Rowan Pike, Quillcrest Paper Co.", "" },
	{ "urls, asin, sku", "amazon.com",
	  "See https://www.amazon.com/dp/B07XYZ1234/ref=cm_sw_r_cp_abcdefgh "
	  "or ASIN B07XYZ1234, sku xk-2000b, model hx2000qz.", "" },
	{ "address, handle, domain, tag", "amazon.com",
	  "Write to helpdsk@shoppe.example, not @tidewateryarnz or "
	  "tidewateryarnz.example, and skip #gardeninspo please.", "" },
	{ "units after numbers", "amazon.com",
	  "The paper is 120 gsm, the cable 2 mtr, the battery 3000 mah.", "" },
	{ "capitalised and capitals", "amazon.com",
	  "Plug in the USB cable. We ship Monday. THANKS AGAIN.", "" },
	{ "lower-case acronym and weekday", "amazon.com",
	  "plug in the usb cable on monday.", "" },
	{ "hyphenated", "amazon.com",
	  "Turn it counter-clockwise; the acid-free, fingering-weight yarn is "
	  "well-knwon.", "knwon" },
	{ "apostrophes", "amazon.com",
	  "We don\xe2\x80\x99t know, but the buyer's box and the buyers' "
	  "notes we\xe2\x80\x99ll check; it's fine.", "" },
	{ "soft hyphen inside", "amazon.com",
	  "The deliv\xc2\xad" "ery is late.", "" },
	{ "short words", "amazon.com", "An ox is ok at it.", "" },
	{ "excerpt is the word", "amazon.com",
	  "The adress is wrong.", "adress" },

	/* German: nouns capitalised, compounds */
	{ "german nouns and compounds", "amazon.de",
	  "Die Akkuschrauber-Ladestation und der Ersatzakku sind "
	  "spülmaschinenfest, wasserdicht und kinderleicht zu reinigen. "
	  "Die Sendungsverfolgung zeigt die Zustellung für morgen.", "" },
	{ "german lower-case noun", "amazon.de",
	  "die lieferung kommt morgen mit der spedition.", "" },
	{ "german typos", "amazon.de",
	  "Die Lieferung wurde leider gelifert, vieleicht können Sie "
	  "nähmlich die standart Größe nehmen.",
	  "gelifert vieleicht nähmlich standart" },

	/* French, Spanish, Italian */
	{ "french elisions", "amazon.fr",
	  "L'armoire de votre commande sera livrée aujourd'hui au "
	  "rez-de-chaussée, jusqu'à midi ; pourriez-vous confirmer qu'il y "
	  "a un accès ?", "" },
	{ "french typos", "amazon.fr",
	  "Le livreur vous apelera demain, nous somes désolés.",
	  "apelera somes" },
	{ "spanish", "amazon.es",
	  "Hemos recibido la sartén antiadherente; la bolsita con los "
	  "tornillos está dentro de la caja.", "" },
	{ "spanish typos", "amazon.es",
	  "Hemos recivido su mensaje, disculpe las mollestias.",
	  "recivido mollestias" },
	{ "italian elisions", "amazon.it",
	  "Dell'ordine abbiamo spedito un'altra parte; c'è anche "
	  "quest'anno la garanzia dell'articolo.", "" },
	{ "italian typos", "amazon.it",
	  "Abbiamo ricevuto il suo messagio e spediremo il pachetto domani.",
	  "messagio pachetto" },

	/* languages without a dictionary are not judged */
	{ "japanese", "amazon.co.jp",
	  "ご注文の檜のまな板について、名入れの表記を確認させてください。",
	  "" },
	{ "portuguese", "amazon.com.br",
	  "Seu pacote atrasou por causa da transportadora, pedimos "
	  "desculpas pela esperra.", "" },
};

static void
test_cases(void **state)
{
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_result r;
		char *got;

		scan_to(policy, cases[i].marketplace, NULL, cases[i].body, &r);
		got = words(&r);
		if (strcmp(got, cases[i].want) != 0) {
			tu_dump(&r);
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			         got, cases[i].want);
		}
		for (size_t j = 0; j < r.count; j++)
			if (r.findings[j].rule == RG_RULE_SPELLING)
				assert_int_equal(r.findings[j].action,
				                 RG_ACTION_WARN);
		g_free(got);
		rg_result_clear(&r);
	}
	rg_policy_unref(&policy);
}

/* The finding points at the word. */
static void
test_position(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result r;
	const struct rg_finding *f;

	(void)state;
	scan_to(policy, "amazon.co.uk", NULL,
	        "Dear Keith,\n\nWe apologise for the inconvinience.", &r);
	f = tu_first(&r, RG_RULE_SPELLING);
	assert_non_null(f);
	assert_string_equal(f->part, "1");
	assert_int_equal(f->line, 3);
	assert_int_equal(f->column, 22);
	assert_string_equal(f->excerpt, "inconvinience");
	assert_int_equal(r.verdict, RG_ACTION_WARN);
	rg_result_clear(&r);
	rg_policy_unref(&policy);
}

/* The subject is the seller's, unless the message is a reply. */
static void
test_subject(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result r;
	const struct rg_finding *f;
	char *msg;

	(void)state;
	scan_to(policy, "amazon.co.uk", "Your parcle from order "
	        "203-2258804-6691127", "Dear Keith, it is on its way.", &r);
	f = tu_first(&r, RG_RULE_SPELLING);
	assert_non_null(f);
	assert_string_equal(f->part, "subject");
	assert_string_equal(f->excerpt, "parcle");
	rg_result_clear(&r);

	msg = g_strdup(
		"From: Seller <seller@shop.example>\n"
		"To: x@marketplace.amazon.co.uk\n"
		"Subject: Re: my parcle 203-2258804-6691127\n"
		"In-Reply-To: <q1@example.net>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: text/plain; charset=utf-8\n"
		"\n"
		"Dear Keith, it is on its way.\n"
		"\n"
		"On 2 Feb 2026, Keith wrote:\n"
		"> wher is my parcle? i recieved nothing\n");
	tu_scan(policy, msg, &r);
	assert_int_equal(tu_count(&r, RG_RULE_SPELLING), 0);
	rg_result_clear(&r);
	g_free(msg);
	rg_policy_unref(&policy);
}

/* At most 20 findings a message. */
static void
test_cap(void **state)
{
	rg_policy *policy = tu_policy();
	GString *body = g_string_new("We ");
	struct rg_result r;

	(void)state;
	for (int i = 0; i < 30; i++)
		g_string_append_printf(body, "wrongword%c%c ", 'a' + i % 26,
		                       'a' + i / 26);
	scan_to(policy, "amazon.com", NULL, body->str, &r);
	assert_int_equal(tu_count(&r, RG_RULE_SPELLING), 20);
	rg_result_clear(&r);
	g_string_free(body, TRUE);
	rg_policy_unref(&policy);
}

/* words, dictionaries and the action come from the settings */
static void
test_settings(void **state)
{
	struct rg_settings s;
	rg_policy *policy;
	struct rg_result r;
	char *error = NULL;
	char *got;

	(void)state;
	rg_settings_init(&s);
	assert_int_equal(s.actions[RG_RULE_SPELLING], RG_ACTION_WARN);
	rg_strlist_add(&s.spelling_words, "Paellera");
	rg_strlist_add(&s.spelling_dictionaries, "en:en_GB");
	policy = tu_policy_from(&s);
	rg_settings_clear(&s);
	scan_to(policy, "amazon.es", NULL,
	        "Para preparar la paellera necesitamos saber si su cocina es "
	        "de inducción o de gas.", &r);
	assert_int_equal(tu_count(&r, RG_RULE_SPELLING), 0);
	rg_result_clear(&r);
	/* British only: the American spelling is now wrong */
	scan_to(policy, "amazon.co.uk", NULL,
	        "We can send the lamp in another color if you like.", &r);
	got = words(&r);
	assert_string_equal(got, "color");
	g_free(got);
	rg_result_clear(&r);
	rg_policy_unref(&policy);

	/* default: both */
	policy = tu_policy();
	scan_to(policy, "amazon.co.uk", NULL,
	        "We can send the lamp in another color if you like.", &r);
	assert_int_equal(tu_count(&r, RG_RULE_SPELLING), 0);
	rg_result_clear(&r);
	rg_policy_unref(&policy);

	/* off */
	rg_settings_init(&s);
	s.actions[RG_RULE_SPELLING] = RG_ACTION_OFF;
	policy = tu_policy_from(&s);
	rg_settings_clear(&s);
	scan_to(policy, "amazon.co.uk", NULL, "The parcle is late.", &r);
	assert_int_equal(tu_count(&r, RG_RULE_SPELLING), 0);
	rg_result_clear(&r);
	rg_policy_unref(&policy);

	/* a configured dictionary must be installed */
	rg_settings_init(&s);
	rg_strlist_add(&s.spelling_dictionaries, "en:xx_NOPE");
	policy = rg_policy_build(&s, &error);
	assert_null(policy);
	assert_non_null(strstr(error, "xx_NOPE"));
	g_free(error);
	rg_settings_clear(&s);
}

static void
test_entries(void **state)
{
	static const struct {
		const char *entry;
		int ok;
	} entries[] = {
		{ "en:en_US,en_GB", 1 },
		{ "de:de_DE", 1 },
		{ "fil:fil_PH", 1 },
		{ "pt:pt-BR", 1 },
		{ "en", 0 },
		{ "en:", 0 },
		{ ":en_US", 0 },
		{ "EN:en_US", 0 },
		{ "english:en_US", 0 },
		{ "en:en_US,", 0 },
		{ "en:../../etc/passwd", 0 },
		{ "en:/usr/share/hunspell/en_US", 0 },
		{ "en:en US", 0 },
		{ "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(entries); i++) {
		char *why = rg_spelling_entry_error(entries[i].entry);

		if ((why == NULL) != entries[i].ok)
			fail_msg("%s: want %s, got %s", entries[i].entry,
			         entries[i].ok ? "ok" : "an error",
			         why ? why : "ok");
		g_free(why);
	}
	g_free(rg_spelling_entry_error(NULL));
}

/* Dictionaries are shared by the threads of one policy: loaded once by
 * whichever thread needs them first, used under their lock. */
#define THREADS 4
#define ROUNDS 25

static gpointer
scan_thread(gpointer data)
{
	static const struct {
		const char *marketplace, *body;
		size_t want;
	} work[] = {
		{ "amazon.co.uk", "We apologise for the inconvinience, the "
		  "parcle was damadged.", 3 },
		{ "amazon.de", "Die Lieferung wurde leider gelifert, wir "
		  "entschuldigen uns.", 1 },
		{ "amazon.fr", "Le livreur vous apelera demain matin.", 1 },
		{ "amazon.it", "Abbiamo ricevuto il suo messagio.", 1 },
		{ "amazon.es", "Hemos recivido su mensaje, gracias.", 1 },
	};
	rg_policy *policy = data;
	rg_scan *scan = rg_scan_new(policy);
	gintptr bad = 0;

	for (int round = 0; round < ROUNDS; round++) {
		for (size_t i = 0; i < G_N_ELEMENTS(work); i++) {
			char *msg = g_strdup_printf(
				"From: s@shop.example\n"
				"To: x@marketplace.%s\n"
				"Subject: Order 111-2222222-3333333\n"
				"MIME-Version: 1.0\n"
				"Content-Type: text/plain; charset=utf-8\n"
				"\n%s\n",
				work[i].marketplace, work[i].body);
			struct rg_result r;
			char *error = NULL;

			if (rg_scan_message(scan, (const unsigned char *)msg,
			                    strlen(msg), &r, &error) < 0) {
				g_free(error);
				bad++;
			} else if (tu_count(&r, RG_RULE_SPELLING) !=
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

/* The corpus: 038 has five misspellings; the compliant messages none. */
static void
test_corpus(void **state)
{
	static const char *const pass[] = {
		"001-ca-buzzer-code.eml", "002-de-invoice-pdf.eml",
		"003-jp-name-print-romaji.eml",
		"004-uk-return-via-your-orders.eml",
		"005-neutral-review-flowed.eml",
		"006-reply-quoted-paper-weight.eml", "007-yarn-dye-lots.eml",
		"008-it-glass-shelf-crlf.eml",
		"009-fr-wardrobe-delivery-appointment.eml",
		"010-es-gift-note-text.eml", "011-uk-guarantee-pdf.eml",
		"012-apple-battery-ground-shipping.eml",
		"013-de-thunderbird-reply-battery.eml",
		"014-gmail-bold-numbered-options.eml",
		"015-uk-partial-delay-cp1252.eml",
		"016-helpdesk-ticket-tag-subject.eml",
		"017-uk-nest-box-blue-tits.eml",
	};
	rg_policy *policy = tu_policy();
	rg_scan *scan = rg_scan_new(policy);

	(void)state;
	for (size_t i = 0; i <= G_N_ELEMENTS(pass); i++) {
		const char *file = i < G_N_ELEMENTS(pass)
			? pass[i] : "038-uk-misspelt-apology.eml";
		char *rel = g_strconcat("corpus/", file, NULL);
		char *path = tu_shared(rel);
		unsigned char *data;
		size_t len;
		struct rg_result r;
		char *error = NULL;

		g_free(rel);
		if (path == NULL) {
			print_message("corpus not found, skipped\n");
			break;
		}
		data = tu_read_file(path, &len);
		assert_int_equal(rg_scan_message(scan, data, len, &r, &error),
		                 0);
		if (tu_count(&r, RG_RULE_SPELLING) !=
		    (i < G_N_ELEMENTS(pass) ? 0 : 5)) {
			tu_dump(&r);
			fail_msg("%s: wrong number of spelling findings", file);
		}
		rg_result_clear(&r);
		g_free(data);
		g_free(path);
	}
	rg_scan_free(&scan);
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_position),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
