/*
 * test_phrases.c - the phrase rules with the shipped phrase lists: the
 * policy is built from conf/relaygate.conf by the real loader (with its
 * @included conf/rules/LANG.conf), so the data that ships is what is
 * tested.  Each rule breaks and nearly breaks in English and German;
 * evasions (spaced letters, leet, look-alikes, zero-width characters,
 * soft hyphens, markup) are caught; quoted buyer text is not judged.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "conf/config.h"
#include "normalize.h"
#include "testutil.h"

#define ORDER_SUBJECT "Your order 111-2222222-3333333"

static rg_policy *shipped;

static char *
shipped_path(void)
{
	const char *top = getenv("top_srcdir");

	return g_strdup_printf("%s/conf/relaygate.conf", top ? top : RG_SRCDIR);
}

static int
setup(void **state)
{
	struct rg_config config;
	char *path = shipped_path();
	char *error = NULL;

	(void)state;
	rg_engine_init();
	if (rg_config_load(path, &config, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		free(error);
		g_free(path);
		return -1;
	}
	g_free(path);
	shipped = rg_policy_build(&config.settings, &error);
	rg_config_clear(&config);
	if (shipped == NULL) {
		fprintf(stderr, "%s\n", error);
		free(error);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rg_policy_unref(&shipped);
	return 0;
}

static size_t
phrase_findings(const struct rg_result *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->count; i++)
		if (r->findings[i].rule >= RG_RULE_SOCIAL_HANDLE &&
		    r->findings[i].rule <= RG_RULE_SENSITIVE_CONTENT)
			n++;
	return n;
}

/*
 * A case breaks rule (BREAK), or is a near miss that no phrase rule may
 * object to (PASS).  html: the body is text/html.
 */
enum { PASS, BREAK };

static const struct phrase_case {
	const char *name;
	int want;
	rg_rule rule;
	const char *subject;   /* NULL: ORDER_SUBJECT */
	const char *body;
	int html;
} cases[] = {
	/* social-handle */
	{ "en handle", BREAK, RG_RULE_SOCIAL_HANDLE, NULL,
	  "When the shawl is done, tag us on Instagram @tidewateryarns!", 0 },
	{ "en profile link", BREAK, RG_RULE_SOCIAL_HANDLE, NULL,
	  "Photos of the pattern: instagram.com/tidewateryarns", 0 },
	{ "en messenger", BREAK, RG_RULE_SOCIAL_HANDLE, NULL,
	  "Our Telegram channel has the pattern updates.", 0 },
	{ "en line id", BREAK, RG_RULE_SOCIAL_HANDLE, NULL,
	  "Our LINE ID is lanternshop.", 0 },
	{ "en spaced out", BREAK, RG_RULE_SOCIAL_HANDLE, NULL,
	  "For photos use W h a t s A p p and we will answer.", 0 },
	{ "de follow", BREAK, RG_RULE_SOCIAL_HANDLE, NULL,
	  "Folgen Sie uns auf Instagram, dort zeigen wir neue Muster.", 0 },
	{ "en signal strength", PASS, RG_RULE_SOCIAL_HANDLE, NULL,
	  "The Wi-Fi signal must be strong for the firmware update.", 0 },
	{ "en line as a word", PASS, RG_RULE_SOCIAL_HANDLE, NULL,
	  "Draw a line on the wall where the bracket goes.", 0 },
	{ "en messenger bag", PASS, RG_RULE_SOCIAL_HANDLE, NULL,
	  "The messenger bag in your order is lined with cotton.", 0 },
	{ "de signal", PASS, RG_RULE_SOCIAL_HANDLE, NULL,
	  "Das Signal des Empfängers ist schwach, bitte prüfen Sie die "
	  "Antenne.", 0 },

	/* off-platform */
	{ "en call us", BREAK, RG_RULE_OFF_PLATFORM, NULL,
	  "For a faster answer, call us on our mobile.", 0 },
	{ "en paypal", BREAK, RG_RULE_OFF_PLATFORM, NULL,
	  "You can pay us directly by PayPal to save time.", 0 },
	{ "en own website", BREAK, RG_RULE_OFF_PLATFORM, NULL,
	  "Next time, order directly from our website and skip the Amazon "
	  "fees.", 0 },
	{ "en spaced paypal", BREAK, RG_RULE_OFF_PLATFORM, NULL,
	  "Send the balance by P a y P a l please.", 0 },
	{ "de call", BREAK, RG_RULE_OFF_PLATFORM, NULL,
	  "Rufen Sie uns gerne unter unserer Handynummer an.", 0 },
	{ "de own shop", BREAK, RG_RULE_OFF_PLATFORM, NULL,
	  "Bestellen Sie das nächste Mal direkt in unserem Onlineshop.", 0 },
	{ "de transfer", BREAK, RG_RULE_OFF_PLATFORM, NULL,
	  "Bitte zahlen Sie den Rest per Überweisung.", 0 },
	{ "en courier calls", PASS, RG_RULE_OFF_PLATFORM, NULL,
	  "The courier will call you before the delivery.", 0 },
	{ "en return via amazon", PASS, RG_RULE_OFF_PLATFORM, NULL,
	  "Please request a return in Your Orders; the refund goes through "
	  "Amazon.", 0 },
	{ "de courier calls", PASS, RG_RULE_OFF_PLATFORM, NULL,
	  "Der Paketdienst ruft Sie vor der Zustellung an.", 0 },

	/* promotional */
	{ "en percent off", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Use code SAVE10 for 10% off your next order.", 0 },
	{ "en other products", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Check out our other products in our brand store.", 0 },
	{ "en newsletter", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Sign up to our newsletter for early access.", 0 },
	{ "en leet coupon", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Here is a c0upon for you.", 0 },
	{ "en Cyrillic o", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Here is a c\u043Eupon for you.", 0 },
	{ "en zero-width", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Here is a cou\u200Bpon for you.", 0 },
	{ "en soft hyphen", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Here is a cou\u00ADpon for you.", 0 },
	{ "en spaced free gift", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Your f r e e gift is in the box, and a F R E E sample.", 0 },
	{ "en markup split", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "<p>A fr<b>ee</b> gift is in the box.</p>", 1 },
	{ "en hidden text", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "<p>Your lantern ships on Monday.</p>"
	  "<p style=\"display:none\">coupon code SAVE10</p>", 1 },
	{ "en not a reply: quote marks are the seller's", BREAK,
	  RG_RULE_PROMOTIONAL, NULL,
	  "Your lantern ships on Monday.\n\n> Use coupon SAVE10\n", 0 },
	{ "de voucher", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Mit dem Gutscheincode SOMMER sparen Sie beim nächsten Kauf.", 0 },
	{ "de shop", BREAK, RG_RULE_PROMOTIONAL, NULL,
	  "Entdecken Sie unser Sortiment in unserem Markenshop.", 0 },
	{ "en free returns label", PASS, RG_RULE_PROMOTIONAL, NULL,
	  "You get a free returns label in Your Orders.", 0 },
	{ "en acid-free", PASS, RG_RULE_PROMOTIONAL, NULL,
	  "The sketchbook paper is acid-free and takes light washes.", 0 },
	{ "de free return", PASS, RG_RULE_PROMOTIONAL, NULL,
	  "Die Rücksendung ist für Sie kostenlos.", 0 },

	/* review-incentive */
	{ "en refund for review", BREAK, RG_RULE_REVIEW_INCENTIVE, NULL,
	  "We'll refund your postage in full once your review is live.", 0 },
	{ "en gift card", BREAK, RG_RULE_REVIEW_INCENTIVE, NULL,
	  "Leave a review and we will send you a $10 gift card.", 0 },
	{ "en exchange", BREAK, RG_RULE_REVIEW_INCENTIVE, NULL,
	  "You get a free product in exchange for an honest review.", 0 },
	{ "de thank-you voucher", BREAK, RG_RULE_REVIEW_INCENTIVE, NULL,
	  "Als Dankeschön für Ihre Bewertung erhalten Sie einen Gutschein.",
	  0 },
	{ "de refund", BREAK, RG_RULE_REVIEW_INCENTIVE, NULL,
	  "Nach Ihrer Bewertung erstatten wir Ihnen die Versandkosten.", 0 },
	{ "en refund, then a review", PASS, RG_RULE_REVIEW_INCENTIVE, NULL,
	  "Your refund is on the way through Amazon. If you have a moment, "
	  "we would welcome a review.", 0 },
	{ "es gift card is the gift message", PASS, RG_RULE_REVIEW_INCENTIVE,
	  NULL, "Imprimiremos la tarjeta de regalo en cuanto recibamos el "
	  "texto.", 0 },
	{ "de refund, then a review", PASS, RG_RULE_REVIEW_INCENTIVE, NULL,
	  "Die Rückerstattung erfolgt über Amazon. Über eine ehrliche "
	  "Bewertung würden wir uns freuen.", 0 },

	/* review-manipulation */
	{ "en five stars", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "Please leave us a 5-star review!", 0 },
	{ "en happy and review", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "If you are happy with the lamp, please leave a review.", 0 },
	{ "en unhappy first", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "If something is wrong, contact us before leaving feedback.", 0 },
	{ "en remove it", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "We saw your 1-star review. Could you remove it?", 0 },
	{ "en updating", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "Would you consider updating your review now?", 0 },
	{ "en look-alike five stars", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "Five st\u0430rs would help us a lot.", 0 },
	{ "de happy and review", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "Wenn Sie zufrieden sind, hinterlassen Sie bitte eine Bewertung.",
	  0 },
	{ "de change it", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "Könnten Sie Ihre Bewertung bitte ändern?", 0 },
	{ "it remove it", BREAK, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "Abbiamo letto la sua recensione negativa. Le chiediamo di "
	  "rimuoverla.", 0 },
	{ "en neutral request", PASS, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "If you have time, we would welcome a review of the notebook set.",
	  0 },
	{ "en happy to ship", PASS, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "Are you happy for us to ship it by ground?", 0 },
	{ "en happy to help", PASS, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "We are happy to help with the fitting. Reviews can be written in "
	  "Your Orders.", 0 },
	{ "de honest review", PASS, RG_RULE_REVIEW_MANIPULATION, NULL,
	  "Über eine ehrliche Bewertung würden wir uns freuen.", 0 },

	/* thank-you-only */
	{ "en thanks only", BREAK, RG_RULE_THANK_YOU_ONLY, "Thanks!",
	  "Thanks so much for picking our notebooks! Enjoy them, and give us "
	  "a shout if anything comes up.", 0 },
	{ "en generic help", BREAK, RG_RULE_THANK_YOU_ONLY, NULL,
	  "Thank you for your order. If you have any questions about your "
	  "order, please let us know.", 0 },
	{ "en zero-width thanks", BREAK, RG_RULE_THANK_YOU_ONLY, NULL,
	  "Th\u200Banks for shopping with us!", 0 },
	{ "de thanks only", BREAK, RG_RULE_THANK_YOU_ONLY, NULL,
	  "Vielen Dank für Ihren Einkauf! Bei Fragen stehen wir Ihnen "
	  "jederzeit gerne zur Verfügung.", 0 },
	{ "ja thanks only", BREAK, RG_RULE_THANK_YOU_ONLY, NULL,
	  "このたびはお買い上げいただき、誠にありがとうございました。"
	  "何かございましたら、お気軽にご連絡ください。", 0 },
	{ "en thanks and a question", PASS, RG_RULE_THANK_YOU_ONLY, NULL,
	  "Thank you for your order. Which colour would you like for the "
	  "engraving?", 0 },
	{ "en thanks and a replacement", PASS, RG_RULE_THANK_YOU_ONLY, NULL,
	  "Thanks for your patience: the replacement lid was posted today.",
	  0 },
	{ "de thanks and a question", PASS, RG_RULE_THANK_YOU_ONLY, NULL,
	  "Vielen Dank für Ihre Bestellung. Welche Größe benötigen Sie?", 0 },
	{ "ja thanks and a purpose", PASS, RG_RULE_THANK_YOU_ONLY, NULL,
	  "ありがとうございます。名入れの表記を確認させてください。", 0 },

	/* order-confirmation */
	{ "en on its way", BREAK, RG_RULE_ORDER_CONFIRMATION, NULL,
	  "Your order 111-2222222-3333333 is on its way!", 0 },
	{ "en dispatched", BREAK, RG_RULE_ORDER_CONFIRMATION, NULL,
	  "We have dispatched your order today.", 0 },
	{ "en confirmation", BREAK, RG_RULE_ORDER_CONFIRMATION, NULL,
	  "This is your shipping confirmation.", 0 },
	{ "de shipped", BREAK, RG_RULE_ORDER_CONFIRMATION, NULL,
	  "Ihre Bestellung wurde soeben versandt.", 0 },
	{ "de confirmation", BREAK, RG_RULE_ORDER_CONFIRMATION, NULL,
	  "Hier ist Ihre Versandbestätigung.", 0 },
	{ "en partial delay", PASS, RG_RULE_ORDER_CONFIRMATION, NULL,
	  "Part of your order is delayed. Shall we send the seed tin now and "
	  "the labels later?", 0 },
	{ "en order note", PASS, RG_RULE_ORDER_CONFIRMATION, NULL,
	  "We received your order note about the gift wrap: which paper "
	  "would you like?", 0 },
	{ "de will be shipped", PASS, RG_RULE_ORDER_CONFIRMATION, NULL,
	  "Ihre Bestellung wird versandt, sobald der Akku eintrifft. Ist das "
	  "in Ordnung?", 0 },

	/* opt-out */
	{ "en reply stop", BREAK, RG_RULE_OPT_OUT, NULL,
	  "Don't want to hear from us? Reply STOP.", 0 },
	{ "en unsubscribe", BREAK, RG_RULE_OPT_OUT, NULL,
	  "To unsubscribe from these messages, click below.", 0 },
	{ "en spaced opt out", BREAK, RG_RULE_OPT_OUT, NULL,
	  "Reply to o p t out of messages.", 0 },
	{ "de no more mail", BREAK, RG_RULE_OPT_OUT, NULL,
	  "Wenn Sie keine E-Mails mehr erhalten möchten, antworten Sie bitte.",
	  0 },
	{ "de unsubscribe", BREAK, RG_RULE_OPT_OUT, NULL,
	  "Den Newsletter können Sie jederzeit abbestellen.", 0 },
	{ "en stop the machine", PASS, RG_RULE_OPT_OUT, NULL,
	  "Please stop the pump before you change the filter.", 0 },
	{ "de melden", PASS, RG_RULE_OPT_OUT, NULL,
	  "Bitte melden Sie sich, wenn das Paket ankommt.", 0 },

	/* subject-misuse */
	{ "en important", BREAK, RG_RULE_SUBJECT_MISUSE,
	  "[Important] Delivery of order 111-2222222-3333333",
	  "Is the driveway suitable for the pallet?", 0 },
	{ "en leet important", BREAK, RG_RULE_SUBJECT_MISUSE,
	  "[ Imp0rtant ] order 111-2222222-3333333",
	  "Is the driveway suitable for the pallet?", 0 },
	{ "en nothing asked", BREAK, RG_RULE_SUBJECT_MISUSE,
	  "Additional Information Required - order 111-2222222-3333333",
	  "The lantern leaves our workshop on Monday.", 0 },
	{ "de important", BREAK, RG_RULE_SUBJECT_MISUSE,
	  "[Wichtig] Lieferung zu Bestellung 111-2222222-3333333",
	  "Passt die Palette in Ihre Einfahrt?", 0 },
	{ "de nothing asked", BREAK, RG_RULE_SUBJECT_MISUSE,
	  "Zusätzliche Informationen erforderlich - 111-2222222-3333333",
	  "Die Lampe wird am Montag verpackt.", 0 },
	{ "en something asked", PASS, RG_RULE_SUBJECT_MISUSE,
	  "Additional Information Required - order 111-2222222-3333333",
	  "Which height do you need: 30 cm or 45 cm", 0 },
	{ "en asked without a question mark", PASS, RG_RULE_SUBJECT_MISUSE,
	  "Additional Information Required - order 111-2222222-3333333",
	  "Please confirm the height of the lantern.", 0 },
	{ "en ticket tag", PASS, RG_RULE_SUBJECT_MISUSE,
	  "Re: [#20431] Lantern glass - order 111-2222222-3333333",
	  "Please confirm the height: 30 cm or 45 cm.", 0 },
	{ "en important in the body", PASS, RG_RULE_SUBJECT_MISUSE, NULL,
	  "[Important] The box is heavy: lift it with care.", 0 },
	{ "de something asked", PASS, RG_RULE_SUBJECT_MISUSE,
	  "Zusätzliche Informationen erforderlich - 111-2222222-3333333",
	  "Welche Farbe möchten Sie?", 0 },

	/* sensitive-content */
	{ "en profanity", BREAK, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "The binding glue from our supplier was shit.", 0 },
	{ "en starred", BREAK, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "What the f*ck happened to the box?", 0 },
	{ "en leet", BREAK, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "The courier was sh1t again.", 0 },
	{ "en dotted", BREAK, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "F.U.C.K. the courier.", 0 },
	{ "de profanity", BREAK, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "Der Kleber war Scheiße.", 0 },
	{ "en birds", PASS, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "The 25 mm plate suits blue tits and coal tits; the 32 mm plate "
	  "suits great tits and sparrows.", 0 },
	{ "en near misses", PASS, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "It comes from Scunthorpe, with a cocktail shaker and a Dickens "
	  "novel.", 0 },
	{ "en assess", PASS, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "Please assess the damage and send us a photo; we sell in Sussex "
	  "and Essex.", 0 },
	{ "en mist", PASS, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "The glass may mist up in the morning.", 0 },
	{ "de near misses", PASS, RG_RULE_SENSITIVE_CONTENT, NULL,
	  "Die Scheibe passt in den Rahmen, das Gerät ist idiotensicher.", 0 },
};

static void
test_cases(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct phrase_case *c = &cases[i];
		const char *subject = c->subject ? c->subject : ORDER_SUBJECT;
		struct rg_result r;
		int ok;

		if (c->html)
			tu_scan_html(shipped, subject, c->body, &r);
		else
			tu_scan_plain(shipped, subject, c->body, &r);
		ok = c->want == BREAK ? tu_count(&r, c->rule) > 0
		                      : phrase_findings(&r) == 0;
		if (!ok) {
			fprintf(stderr, "FAIL %s (%s, want %s)\n", c->name,
			        rg_rule_name(c->rule),
			        c->want == BREAK ? "a finding" : "no phrase finding");
			tu_dump(&r);
			failed++;
		}
		rg_result_clear(&r);
	}
	if (failed > 0)
		fail_msg("%d of %zu cases failed", failed, G_N_ELEMENTS(cases));
}

/* A reply quoting the buyer: the buyer's words are not the seller's. */
static void
test_quoted_buyer_text(void **state)
{
	struct rg_result r;

	(void)state;
	tu_scan_plain(shipped, "Re: " ORDER_SUBJECT,
	              "Hi Rahul,\n\nThe paper weight is 120 gsm.\n\n"
	              "On 19 Jan 2026, Rahul wrote:\n"
	              "> This is shit. Give me a coupon, and I will leave a "
	              "5-star review!\n"
	              "> Follow me on Instagram @rahul\n", &r);
	if (phrase_findings(&r) != 0) {
		tu_dump(&r);
		fail_msg("quoted buyer text was judged");
	}
	rg_result_clear(&r);
	/* the same words in the seller's own text are */
	tu_scan_plain(shipped, "Re: " ORDER_SUBJECT,
	              "Hi Rahul,\n\nGive us a 5-star review and get a coupon.\n",
	              &r);
	assert_true(tu_count(&r, RG_RULE_REVIEW_MANIPULATION) > 0);
	assert_true(tu_count(&r, RG_RULE_PROMOTIONAL) > 0);
	rg_result_clear(&r);
}

/* Findings point at the original text: line, column and excerpt. */
static void
test_positions(void **state)
{
	static const struct {
		const char *name;
		const char *body;
		rg_rule rule;
		unsigned line, column;
		const char *excerpt;
	} pos[] = {
		{ "leet", "Hello,\n\nHere is a c0upon.", RG_RULE_PROMOTIONAL, 3, 11,
		  "c0upon" },
		{ "Cyrillic", "Hi,\nA c\u043Eupon!", RG_RULE_PROMOTIONAL, 2, 3,
		  "c\u043Eupon" },
		{ "spaced", "Hi, get it f r e e gift", RG_RULE_PROMOTIONAL, 1, 12,
		  "f r e e gift" },
		{ "zero-width", "Tag us on Insta\u200Bgram today",
		  RG_RULE_SOCIAL_HANDLE, 1, 1, "Tag us on Insta\u200Bgram" },
	};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(pos); i++) {
		const struct rg_finding *f;
		struct rg_result r;
		char *excerpt, *want;

		tu_scan_plain(shipped, NULL, pos[i].body, &r);
		f = tu_first(&r, pos[i].rule);
		if (f == NULL) {
			tu_dump(&r);
			fail_msg("%s: no finding", pos[i].name);
		}
		/* the view may drop the invisible characters itself */
		excerpt = g_strdup(f->excerpt);
		want = g_strdup(pos[i].excerpt);
		rg_strip_invisible(excerpt, strlen(excerpt), 1);
		rg_strip_invisible(want, strlen(want), 1);
		if (f->line != pos[i].line || f->column != pos[i].column ||
		    strcmp(excerpt, want) != 0)
			fail_msg("%s: got %u:%u \"%s\", want %u:%u \"%s\"",
			         pos[i].name, f->line, f->column, f->excerpt,
			         pos[i].line, pos[i].column, pos[i].excerpt);
		g_free(excerpt);
		g_free(want);
		rg_result_clear(&r);
	}
}

/* An action of off silences a phrase rule. */
static void
test_rule_off(void **state)
{
	struct rg_config config;
	char *path = shipped_path();
	char *error = NULL;
	rg_policy *policy;
	struct rg_result r;

	(void)state;
	if (rg_config_load(path, &config, &error) < 0)
		fail_msg("%s", error);
	config.settings.actions[RG_RULE_PROMOTIONAL] = RG_ACTION_OFF;
	policy = tu_policy_from(&config.settings);
	rg_config_clear(&config);
	tu_scan_plain(policy, NULL, "Here is a coupon code.", &r);
	assert_int_equal(tu_count(&r, RG_RULE_PROMOTIONAL), 0);
	rg_result_clear(&r);
	rg_policy_unref(&policy);
	g_free(path);
}

/* Without phrases (the built-in defaults), the phrase rules find
 * nothing; the shipped configuration is what gives them words. */
static void
test_defaults_have_no_phrases(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result r;

	(void)state;
	tu_scan_plain(policy, NULL, "Here is a coupon code. Reply STOP.", &r);
	assert_int_equal(phrase_findings(&r), 0);
	rg_result_clear(&r);
	rg_policy_unref(&policy);
}

/* write_file - text into dir/name */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	if (!g_file_set_contents(path, text, -1, NULL))
		fail_msg("cannot write %s", path);
	g_free(path);
}

/* A bad phrase in an included file is reported with that file's name,
 * its line, and the PCRE2 error offset; other mistakes likewise. */
static void
test_config_errors(void **state)
{
	static const struct {
		const char *name;
		const char *rules;     /* rules/xx.conf */
		unsigned line;
		const char *what;
	} errs[] = {
		{ "PCRE2 error", "xx: {\n  promotional = [ \"ok\",\n"
		  "    \"(?:open\" ];\n};\n", 3, "PCRE2 error at offset 7" },
		{ "capturing name", "xx: { opt-out = [ \"(?<n>stop)\" ]; };\n", 1,
		  "named groups are not allowed" },
		{ "empty match", "xx: {\n opt-out = [ \"a?\" ];\n};\n", 2,
		  "can match empty text" },
		{ "verb", "xx: { opt-out = [ \"(*ACCEPT)a\" ]; };\n", 1,
		  "backtracking verbs" },
		{ "comment eats the group", "xx: { opt-out = [ \"a(?x)b#c\" ]; };\n",
		  1, "PCRE2 error" },
		{ "unbalanced when joined", "xx: {\n opt-out = [ \"a)(?:b\" ]; };\n",
		  2, "PCRE2 error at offset 1" },
		{ "not a phrase rule", "xx: {\n emoji = [ \"x\" ];\n};\n", 2,
		  "\"emoji\" is not a phrase rule" },
		{ "unknown key", "xx: { promotional: { phrase = [ \"x\" ]; }; };\n",
		  1, "unknown setting \"phrase\"" },
		{ "one list is no group",
		  "xx: { promotional: {\n together = ( ( [ \"a\" ] ) ); }; };\n",
		  2, "must be a list of 2 to 4 lists" },
		{ "unless without when",
		  "xx: { thank-you-only: {\n unless = [ \"a\" ]; }; };\n", 1,
		  "\"unless\" needs \"when\"" },
		{ "boundaries", "xx: {\n\n word_boundaries = 1;\n};\n", 3,
		  "word_boundaries must be true or false" },
		{ "language name", "XX: { };\n", 1, "is not a language name" },
	};
	char *dir = g_dir_make_tmp("rg-phrases-XXXXXX", NULL);
	char *sub = g_build_filename(dir, "rules", NULL);
	char *main_path = g_build_filename(dir, "main.conf", NULL);

	(void)state;
	assert_non_null(dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "main.conf",
	           "limits: { excerpt_chars = 60; };\n"
	           "phrases: {\n  @include \"rules/xx.conf\"\n};\n");
	for (size_t i = 0; i < G_N_ELEMENTS(errs); i++) {
		struct rg_config config;
		char *error = NULL, *want;

		write_file(sub, "xx.conf", errs[i].rules);
		if (rg_config_load(main_path, &config, &error) == 0) {
			rg_config_clear(&config);
			fail_msg("%s: loaded", errs[i].name);
		}
		want = g_strdup_printf("%s/rules/xx.conf:%u: ", dir,
		                       errs[i].line);
		if (strstr(error, want) != error ||
		    strstr(error, errs[i].what) == NULL)
			fail_msg("%s: got \"%s\", want \"%s...%s\"", errs[i].name,
			         error, want, errs[i].what);
		g_free(want);
		free(error);
	}
	/* a good one loads, and the rule works */
	write_file(sub, "xx.conf",
	           "# comment\nxx: {\n  word_boundaries = false;\n"
	           "  promotional = [ \"zzsale\" ];\n};\n");
	{
		struct rg_config config;
		char *error = NULL;
		rg_policy *policy;
		struct rg_result r;

		if (rg_config_load(main_path, &config, &error) < 0)
			fail_msg("%s", error);
		assert_int_equal(config.settings.phrases.count, 1);
		assert_false(config.settings.phrases.langs[0].word_boundaries);
		policy = tu_policy_from(&config.settings);
		rg_config_clear(&config);
		/* no word boundaries: inside a word too */
		tu_scan_plain(policy, NULL, "abczzsaleabc", &r);
		assert_int_equal(tu_count(&r, RG_RULE_PROMOTIONAL), 1);
		rg_result_clear(&r);
		rg_policy_unref(&policy);
	}
	{
		char *p = g_build_filename(sub, "xx.conf", NULL);

		unlink(p);
		g_free(p);
	}
	unlink(main_path);
	rmdir(sub);
	rmdir(dir);
	g_free(main_path);
	g_free(sub);
	g_free(dir);
}

/* Settings built without the loader are checked when the policy is
 * built: the error names the language, rule, list, item and offset. */
static void
test_build_errors(void **state)
{
	struct rg_settings s;
	struct rg_phrase_lang *lang;
	struct rg_phrase_group *g;
	char *error = NULL;
	rg_policy *policy;

	(void)state;
	rg_settings_init(&s);
	lang = rg_phrases_add_lang(&s.phrases, "en");
	rg_strlist_add(&lang->rules[RG_RULE_PROMOTIONAL].phrases, "coupon");
	g = rg_phrase_group_add(&lang->rules[RG_RULE_REVIEW_INCENTIVE], 1);
	g->n_lists = 2;
	rg_strlist_add(&g->lists[0], "refund");
	rg_strlist_add(&g->lists[1], "review[");
	policy = rg_policy_build(&s, &error);
	assert_null(policy);
	if (strstr(error, "en: review-incentive: together 1, list 2, item 1") ==
	    NULL || strstr(error, "offset 7") == NULL)
		fail_msg("got \"%s\"", error);
	free(error);
	/* a phrase for a rule that takes none */
	rg_strlist_clear(&g->lists[1]);
	rg_strlist_add(&g->lists[1], "review");
	rg_strlist_add(&lang->rules[RG_RULE_EMOJI].phrases, "smile");
	policy = rg_policy_build(&s, &error);
	assert_null(policy);
	assert_non_null(strstr(error, "emoji takes no phrases"));
	free(error);
	rg_settings_clear(&s);
}

/* rules_wrong - every rule named in a comma-separated list is (want 1) or is
 * not (want 0) among the findings; names the first that is wrong */
static const char *
rules_wrong(const struct rg_result *r, const char *list, int want)
{
	static char name[64];
	gchar **names = g_strsplit(list, ",", -1);
	const char *wrong = NULL;

	for (gchar **n = names; *n != NULL && wrong == NULL; n++) {
		rg_rule rule;

		if (**n == '\0')
			continue;
		if (rg_rule_lookup(*n, &rule) < 0)
			fail_msg("manifest: unknown rule %s", *n);
		if ((tu_count(r, rule) > 0) != want) {
			g_strlcpy(name, *n, sizeof(name));
			wrong = name;
		}
	}
	g_strfreev(names);
	return wrong;
}

/* tests/data/phrases: whole messages (HTML, base64, RFC 2047, replies)
 * listed in manifest.tsv as file, verdict, rules, forbid, note; a "pass"
 * message has no phrase finding at all */
static void
test_messages(void **state)
{
	const char *top = getenv("top_srcdir");
	char *dir = g_strdup_printf("%s/tests/data/phrases",
	                            top ? top : RG_SRCDIR);
	char *manifest = g_build_filename(dir, "manifest.tsv", NULL);
	gchar *text = NULL, **lines;
	int failed = 0, run = 0;

	(void)state;
	if (!g_file_get_contents(manifest, &text, NULL, NULL))
		fail_msg("cannot read %s", manifest);
	lines = g_strsplit(text, "\n", -1);
	for (gchar **l = lines + 1; *l != NULL; l++) {
		gchar **f = g_strsplit(*l, "\t", -1);
		const char *wrong = NULL, *why = "";

		if (g_strv_length(f) >= 4) {
			char *path = g_build_filename(dir, f[0], NULL);
			unsigned char *data;
			size_t len;
			struct rg_result r;
			rg_scan *scan = rg_scan_new(shipped);
			char *error = NULL;

			data = tu_read_file(path, &len);
			if (rg_scan_message(scan, data, len, &r, &error) < 0)
				fail_msg("%s: %s", f[0], error);
			if ((wrong = rules_wrong(&r, f[2], 1)) != NULL)
				why = "missing";
			else if ((wrong = rules_wrong(&r, f[3], 0)) != NULL)
				why = "forbidden";
			else if (strcmp(f[1], "pass") == 0 &&
			         phrase_findings(&r) > 0) {
				why = "a phrase finding in a pass message";
				wrong = "";
			}
			if (wrong != NULL) {
				fprintf(stderr, "FAIL %s: %s %s\n", f[0], why, wrong);
				tu_dump(&r);
				failed++;
			}
			run++;
			rg_result_clear(&r);
			rg_scan_free(&scan);
			g_free(data);
			g_free(path);
		}
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_free(text);
	g_free(manifest);
	g_free(dir);
	assert_true(run > 0);
	if (failed > 0)
		fail_msg("%d of %d messages failed", failed, run);
}

/* At most 50 findings per rule and part; a phrase that backtracks
 * without end stops at the match limit with an "uncheckable" finding. */
static void
test_limits(void **state)
{
	struct rg_settings s;
	struct rg_phrase_lang *lang;
	GString *body = g_string_new(NULL);
	rg_policy *policy;
	struct rg_result r;

	(void)state;
	rg_settings_init(&s);
	lang = rg_phrases_add_lang(&s.phrases, "en");
	rg_strlist_add(&lang->rules[RG_RULE_PROMOTIONAL].phrases, "coupon");
	rg_strlist_add(&lang->rules[RG_RULE_OPT_OUT].phrases, "(?:a+)+b");
	policy = tu_policy_from(&s);
	for (int i = 0; i < 80; i++)
		g_string_append(body, "coupon ");
	tu_scan_plain(policy, NULL, body->str, &r);
	assert_int_equal(tu_count(&r, RG_RULE_PROMOTIONAL), 50);
	assert_int_equal(tu_count(&r, RG_RULE_UNCHECKABLE), 0);
	rg_result_clear(&r);
	g_string_assign(body, "");
	for (int i = 0; i < 60; i++)
		g_string_append_c(body, 'a');
	g_string_append(body, "c xb");
	tu_scan_plain(policy, NULL, body->str, &r);
	assert_int_equal(tu_count(&r, RG_RULE_OPT_OUT), 0);
	assert_int_equal(tu_count(&r, RG_RULE_UNCHECKABLE), 1);
	rg_result_clear(&r);
	rg_policy_unref(&policy);
	rg_settings_clear(&s);
	g_string_free(body, TRUE);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Thousands of phrases in one rule: still found, compiled once into few
 * patterns, and the time per message does not grow with the list.
 * Prints the measurements.
 */
static void
test_many_phrases(void **state)
{
	const unsigned n = 5000;
	struct rg_settings s;
	struct rg_phrase_lang *lang;
	GString *body = g_string_new(NULL);
	rg_policy *policy;
	struct rg_result r;
	char *error = NULL;
	double t0, t_build, t_scan, t_base;
	GRand *rand = g_rand_new_with_seed(42);

	(void)state;
	rg_settings_init(&s);
	lang = rg_phrases_add_lang(&s.phrases, "en");
	for (unsigned i = 0; i < n; i++) {
		char word[24];
		unsigned len = 6 + (unsigned)g_rand_int_range(rand, 0, 8);

		for (unsigned j = 0; j < len; j++)
			word[j] = (char)('a' + g_rand_int_range(rand, 0, 26));
		word[len] = '\0';
		/* some with a regex tail, as real lists have */
		if (i % 4 == 0) {
			char *f = g_strdup_printf("%s (?:codes?|offers?)", word);

			rg_strlist_add(&lang->rules[RG_RULE_PROMOTIONAL].phrases, f);
			g_free(f);
		} else {
			rg_strlist_add(&lang->rules[RG_RULE_PROMOTIONAL].phrases,
			               word);
		}
	}
	rg_strlist_add(&lang->rules[RG_RULE_PROMOTIONAL].phrases,
	               "zzlast phrase");
	t0 = seconds();
	policy = rg_policy_build(&s, &error);
	t_build = seconds() - t0;
	if (policy == NULL)
		fail_msg("%s", error);
	/* about 5 KB of ordinary text, the phrase at the end */
	while (body->len < 5000)
		g_string_append(body, "The lantern in your order ships on "
		                "Monday with a spare wick and a new glass. ");
	g_string_append(body, "Zzlast phrase.");
	tu_scan_plain(policy, NULL, body->str, &r);
	assert_int_equal(tu_count(&r, RG_RULE_PROMOTIONAL), 1);
	rg_result_clear(&r);
	t0 = seconds();
	for (int k = 0; k < 20; k++) {
		tu_scan_plain(policy, NULL, body->str, &r);
		rg_result_clear(&r);
	}
	t_scan = (seconds() - t0) / 20;
	rg_policy_unref(&policy);
	/* the same message without phrases: what the phrase rules cost */
	policy = tu_policy();
	tu_scan_plain(policy, NULL, body->str, &r);    /* loads dictionaries */
	rg_result_clear(&r);
	t0 = seconds();
	for (int k = 0; k < 20; k++) {
		tu_scan_plain(policy, NULL, body->str, &r);
		rg_result_clear(&r);
	}
	t_base = (seconds() - t0) / 20;
	printf("# %u phrases in one rule: policy built in %.1f ms; a %zu-byte "
	       "message scanned in %.2f ms (%.2f ms without phrases)\n", n + 1,
	       t_build * 1e3, body->len, t_scan * 1e3, t_base * 1e3);
	rg_policy_unref(&policy);
	rg_settings_clear(&s);
	g_string_free(body, TRUE);
	g_rand_free(rand);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_quoted_buyer_text),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_rule_off),
		cmocka_unit_test(test_defaults_have_no_phrases),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_many_phrases),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
