/*
 * patterns.c - the PCRE2 sources of the engine's built-in patterns.
 *
 * Each is compiled once per policy with PCRE2_UTF | PCRE2_UCP and JIT, and
 * shared read-only by every scanning thread.
 */
#include "config.h"

#include "internal.h"

static const char *const pattern_sources[RG_PAT_COUNT] = {
	/* 17-digit marketplace order id, NNN-NNNNNNN-NNNNNNN */
	[RG_PAT_ORDER_ID] = "(?<![0-9])[0-9]{3}-[0-9]{7}-[0-9]{7}(?![0-9])",
	/*
	 * owned by rules/contact.c: e-mail addresses, plain or obfuscated
	 * with brackets ("name (at) domain [dot] com", "name @ domain.com");
	 * at most 64 characters a local-part piece, 63 a label; a match only
	 * starts at a token boundary, so no start inside a word is retried.
	 */
#define EM_CHAR "[\\p{L}\\p{N}_%+\\-]"
#define EM_LOCAL "(?<![\\p{L}\\p{N}_%+\\-.@])" EM_CHAR "{1,64}"
#define EM_OPEN "[ \\t]*[(\\[{<][ \\t]*"
#define EM_CLOSE "[ \\t]*[)\\]}>][ \\t]*"
#define EM_LABEL "[\\p{L}\\p{N}](?:[\\p{L}\\p{N}\\-]{0,61}[\\p{L}\\p{N}])?"
#define EM_WORD_DOT "[ \\t]+(?i:dot)[ \\t]+"
#define EM_BRACKET_DOT EM_OPEN "(?i:dot|\\.)" EM_CLOSE
#define EM_TLD "(?:\\p{L}{2,63}|(?i:xn--)[A-Za-z0-9\\-]{1,59})"
#define EM_END "(?![\\p{L}\\p{N}_@]|-[\\p{L}\\p{N}])"
	[RG_PAT_EMAIL] =
		EM_LOCAL "(?:\\." EM_CHAR "{1,64}){0,16}"
		"(?:@|[ \\t]+@[ \\t]+|" EM_OPEN "(?i:at|@)" EM_CLOSE ")"
		EM_LABEL "(?:(?:\\.|" EM_BRACKET_DOT "|" EM_WORD_DOT ")"
		EM_LABEL "){0,8}"
		"(?:\\.|" EM_BRACKET_DOT "|" EM_WORD_DOT ")" EM_TLD EM_END,
	/* owned by rules/contact.c: "name at domain dot com", "at" a word;
	 * contact.c keeps only those that read like an address */
	[RG_PAT_EMAIL_WORDS] =
		EM_LOCAL "(?:(?:\\.|" EM_WORD_DOT ")" EM_CHAR "{1,64}){0,3}"
		"[ \\t]+(?i:at)[ \\t]+"
		EM_LABEL "(?:(?:" EM_WORD_DOT "|" EM_BRACKET_DOT ")"
		EM_LABEL "){0,4}"
		"(?:" EM_WORD_DOT "|" EM_BRACKET_DOT ")" EM_TLD EM_END,
#undef EM_CHAR
#undef EM_LOCAL
#undef EM_OPEN
#undef EM_CLOSE
#undef EM_LABEL
#undef EM_WORD_DOT
#undef EM_BRACKET_DOT
#undef EM_TLD
#undef EM_END
	/*
	 * owned by rules/contact.c: a phone number candidate, the maximal
	 * run of digits joined by one separator each (a blank, '-', '/' or
	 * a dash with blanks around, a '.'), parenthesised groups "(030)"
	 * and a leading '+', not inside a word, decimal, time or path.
	 * At most 64 elements (bounded backtracking); contact.c follows a
	 * longer run to its end itself.
	 * Digits: ASCII (NFKC folds full-width ones), Arabic-Indic,
	 * Extended Arabic-Indic and Devanagari, as contact.c decodes them.
	 */
#define PH_DIGIT "[0-9\\x{660}-\\x{669}\\x{6F0}-\\x{6F9}\\x{966}-\\x{96F}]"
#define PH_ELEM "(?:\\(" PH_DIGIT "{1,5}\\)|" PH_DIGIT ")"
	[RG_PAT_PHONE] =
		"(?<![\\p{L}\\p{N}\\p{M}_+])(?<!\\p{N}[.,/:\\-])"
		"\\+?" PH_ELEM
		"(?:(?:[ \\t]?[\\-/\\x{2010}-\\x{2013}][ \\t]?|[ \\t]|\\.)?"
		PH_ELEM "){0,63}",
#undef PH_DIGIT
#undef PH_ELEM
	/*
	 * owned by rules/emoji.c (which explains the choices): a keycap, a
	 * flag, or a pictograph with its variation selector, skin tones,
	 * tags and up to 7 ZWJ-joined pictographs (the longest RGI sequence
	 * has 3; a longer chain is reported in pieces).  EJ_TEXT: text
	 * symbols that are not emoji unless followed by U+FE0F.
	 */
#define EJ_TEXT \
	"[\\x{A9}\\x{AE}\\x{203C}\\x{2049}\\x{2122}\\x{2139}\\x{24C2}" \
	"\\x{2194}-\\x{2199}\\x{21A9}\\x{21AA}\\x{2934}\\x{2935}\\x{27A1}" \
	"\\x{2B05}-\\x{2B07}" \
	"\\x{2328}\\x{23CF}\\x{23ED}-\\x{23EF}\\x{23F1}\\x{23F2}" \
	"\\x{23F8}-\\x{23FA}\\x{25B6}\\x{25C0}" \
	"\\x{25AA}\\x{25AB}\\x{25FB}\\x{25FC}" \
	"\\x{2611}\\x{2714}\\x{2716}\\x{2733}\\x{2734}" \
	"\\x{2640}\\x{2642}\\x{26A7}\\x{2660}\\x{2663}\\x{2666}" \
	"\\x{26A0}\\x{267B}\\x{267E}\\x{2622}\\x{2623}\\x{2695}\\x{2699}" \
	"\\x{2702}\\x{271D}\\x{2721}\\x{2626}\\x{262A}\\x{262E}\\x{262F}" \
	"\\x{2638}\\x{269C}\\x{3030}\\x{303D}]"
#define EJ_MOD "[\\x{FE0F}\\x{1F3FB}-\\x{1F3FF}\\x{E0020}-\\x{E007F}]"
	[RG_PAT_EMOJI] =
		"[0-9#*]\\x{FE0F}?\\x{20E3}"
		"|[\\x{1F1E6}-\\x{1F1FF}]{1,2}"
		"|(?:\\p{Extended_Pictographic}(?=\\x{FE0F})"
		"|(?!" EJ_TEXT ")(?=\\p{Emoji}|[\\x{10000}-\\x{10FFFF}])"
		"\\p{Extended_Pictographic}"
		"|[\\x{1F3FB}-\\x{1F3FF}])" EJ_MOD "*"
		"(?:\\x{200D}\\p{Extended_Pictographic}" EJ_MOD "*){0,7}",
#undef EJ_TEXT
#undef EJ_MOD
	/* owned by rules/emoji.c: ASCII emoticons (see emoji.c) */
	[RG_PAT_EMOTICON] =
		"(?<![\\p{L}\\p{N}\\p{M}_:;=<>^/\\\\@'\\[({])"
		"(?:[:;]['\\x{2019}]?-?(?:\\)+|\\(+|[DPpOo/\\\\|\\]\\[])"
		"|:-\\*|=[)(D])"
		"(?![\\p{L}\\p{N}_/\\\\@=\\-])"
		"|(?<=[\\p{L}\\p{M}])(?::-?\\)+|:-?\\(+|:-[DPp])"
		"(?![\\p{L}\\p{N}_/\\\\@=\\-])"
		"|(?<![\\p{L}\\p{N}\\p{M}<=])<\\/?3(?![\\p{N}])"
		"|(?<![\\p{L}\\p{N}\\p{M}_^/.\\-])"
		"(?:\\^[_.o\\-]?\\^|-_-|[oO]_[oO]|>_<|T_T|;_;|[xX]D+)"
		"(?![\\p{L}\\p{N}_^])",
	/* owned by rules/links.c: a scheme URL or www. host and the rest of
	 * the URL, up to 2 KiB; the URL ends before CJK text that follows it
	 * without a space, unless the host starts with CJK letters */
	[RG_PAT_URL] =
		"(?i)(?:(?:https?|ftp):[/\\\\]{1,8}"
		"|(?<![^\\W\\p{Han}\\p{Hiragana}\\p{Katakana}]"
		"|[\\p{M}.@/\\\\-])www\\.)"
		"(?:[^\\s<>\"`{}|^\\p{Han}\\p{Hiragana}\\p{Katakana}"
		"\\x{3000}-\\x{303F}]{1,2048}"
		"|[^\\s<>\"`{}|^]{1,2048})",
	/* owned by rules/links.c: a bare domain candidate, not inside a word,
	 * path, address or longer name: two or more labels of letters and
	 * digits joined by "-" or "_" (not CJK: Japanese runs words
	 * together), then an optional port and path.  Every quantifier over
	 * the labels is possessive: the candidate is the longest dotted run
	 * and a failed attempt never backtracks.  rules/links.c checks the
	 * last label against the public suffix list. */
	[RG_PAT_BARE_DOMAIN] =
		"(?<![^\\W\\p{Han}\\p{Hiragana}\\p{Katakana}]|[\\p{M}@/\\\\]|\\S-"
		"|[^\\W\\p{Han}\\p{Hiragana}\\p{Katakana}]\\.|[\\p{M}-]\\.)"
		"[^\\W_\\p{Han}\\p{Hiragana}\\p{Katakana}]"
		"(?:[\\p{M}_-]*+[^\\W_\\p{Han}\\p{Hiragana}\\p{Katakana}])*+"
		"\\p{M}*+"
		"(?:\\.[^\\W_\\p{Han}\\p{Hiragana}\\p{Katakana}]"
		"(?:[\\p{M}_-]*+[^\\W_\\p{Han}\\p{Hiragana}\\p{Katakana}])*+"
		"\\p{M}*+)++"
		"(?![^\\W\\p{Han}\\p{Hiragana}\\p{Katakana}]|[\\p{M}@-])"
		"(?::[0-9]{1,5}(?![0-9]))?"
		"(?:[/?#][^\\s<>\"`{}|^\\p{Han}\\p{Hiragana}\\p{Katakana}"
		"\\x{3000}-\\x{303F}]{0,2048})?",
	/*
	 * owned by rules/orders.c: a request for a review or for seller
	 * feedback, one alternation per shipped language (the text is NFKC,
	 * matched caselessly).  Verb and noun within a few words, so that
	 * "review your order details" or "leave the parcel" do not count.
	 * Could move into the phrase lists (conf/rules/LANG.conf) later.
	 */
#define RV_GAP "(?:\\S+\\s+){0,3}?"
#define RV_EN \
	"\\b(?:leave|leaving|write|writing|post|posting|submit|give|giving" \
	"|share|add|drop)\\s+(?:us\\s+|me\\s+)?(?:an?|your|some|the)?\\s*" \
	"(?:(?:quick|short|brief|honest|product|seller|customer|5-star" \
	"|five-star)\\s+){0,2}(?:review|feedback|rating)s?\\b" \
	"|\\b(?:rate|rating)\\s+(?:your|the|this|our)\\s+(?:recent\\s+)?" \
	"(?:product|item|purchase|order|experience|seller)\\b" \
	"|\\b(?:review|rate)\\s+us\\b" \
	"|\\b(?:product|seller)\\s+(?:review|feedback|rating)\\b" \
	"|\\bhow\\s+many\\s+stars\\b" \
	"|\\bappreciate\\s+(?:a|an|your)\\s+(?:\\S+\\s+)?(?:review" \
	"|feedback|rating)\\b" \
	"|\\bshare\\s+your\\s+(?:experience|thoughts|opinion)\\b" \
	"|\\bhear\\s+(?:what\\s+you\\s+think|your\\s+(?:thoughts|opinion" \
	"|feedback))\\b"
#define RV_DE \
	"\\b(?:produkt|verkäufer|kunden)?(?:bewertung|rezension|feedback" \
	"|rückmeldung)(?:en)?\\s+" RV_GAP "(?:abgeben|abzugeben|schreiben" \
	"|zu\\s+schreiben|hinterlassen|zu\\s+hinterlassen|geben|verfassen)\\b" \
	"|\\b(?:geben|schreiben|hinterlassen|verfassen)\\s+(?:sie|du)\\s+" \
	RV_GAP "(?:bewertung|rezension|feedback)" \
	"|\\b(?:bewerten|rezensieren)\\s+sie\\b" \
	"|\\b(?:sie|du)\\s+" RV_GAP "(?:bewerten|rezensieren)\\b" \
	"|\\bwie\\s+viele\\s+sterne\\b" \
	"|\\b(?:über|auf)\\s+(?:eine|ihre|deine|ihr|dein)\\s+(?:\\S+\\s+)?" \
	"(?:produkt|verkäufer|kunden)?(?:bewertung|rezension|rückmeldung" \
	"|feedback)\\b" \
	"|\\b(?:ihre|deine)\\s+(?:meinung|erfahrung(?:en)?)\\s+" RV_GAP \
	"(?:teilen|mitteilen|interessiert|wissen)\\b"
#define RV_FR \
	"\\b(?:laisser|laissez|donner|donnez|partager|partagez|écrire" \
	"|écrivez|rédiger|rédigez|publier)(?:-nous|\\s+nous)?\\s+" \
	"(?:un|une|votre|vos|ton|ta)?\\s*(?:petit\\s+|court\\s+)?" \
	"(?:avis|commentaire|évaluation|retour|expérience)s?\\b" \
	"|\\b(?:noter|notez|évaluer|évaluez)\\s+(?:votre|le|ce|cet|cette" \
	"|notre|l['’]\\s*)\\s*(?:achat|produit|article|commande|vendeur" \
	"|expérience)\\b" \
	"|\\bcombien\\s+d['’]\\s*étoiles\\b" \
	"|\\bvotre\\s+avis\\s+" RV_GAP "(?:compte|intéresse|importe|aide)\\b"
#define RV_ES \
	"\\b(?:dejar|deje|deja|dejarnos|déjanos|déjenos|escribir|escriba" \
	"|escribe|escribiera|compartir|comparta|comparte|compartiera" \
	"|dejara|publicar|dar|danos|denos|diera)" \
	"\\s+(?:nos\\s+)?(?:una|un|su|tu|sus|tus)?\\s*(?:breve\\s+" \
	"|pequeña\\s+)?(?:reseña|opinión|valoración|comentario|calificación" \
	"|experiencia)(?:es|s)?\\b" \
	"|\\b(?:valorar|valore|valora|calificar|califique|califica|evaluar" \
	"|evalúe|evalúa|reseñar)\\s+(?:el|su|tu|este|esta|nuestro|nuestra" \
	"|la)\\s+(?:producto|artículo|pedido|compra|vendedor|experiencia)\\b" \
	"|\\bcuántas\\s+estrellas\\b" \
	"|\\b(?:tu|su)\\s+opinión\\s+" RV_GAP \
	"(?:importa|interesa|ayuda|cuenta)\\b"
#define RV_IT \
	"\\b(?:lasciare|lasci|lascia|lasciarci|lasciateci|scrivere|scriva" \
	"|scrivi|condividere|condivida|condividi|pubblicare|dare|dia|dai)" \
	"\\s+(?:ci\\s+)?(?:una\\s+|un\\s+|un['’]\\s*|la\\s+sua\\s+" \
	"|la\\s+tua\\s+|il\\s+suo\\s+|il\\s+tuo\\s+|sua\\s+|tua\\s+)?" \
	"(?:breve\\s+)?(?:recension[ei]|feedback|valutazion[ei]" \
	"|opinion[ei]|comment[oi]|esperienza)\\b" \
	"|\\b(?:valutare|valuti|valuta|recensire|recensisca)\\s+" \
	"(?:il\\s+|lo\\s+|la\\s+|l['’]\\s*|questo\\s+|questa\\s+" \
	"|il\\s+nostro\\s+|la\\s+nostra\\s+)(?:prodotto|articolo|ordine" \
	"|acquisto|venditore|esperienza)\\b" \
	"|\\bquante\\s+stelle\\b" \
	"|\\b(?:la\\s+)?(?:sua|tua)\\s+opinione\\s+" RV_GAP \
	"(?:conta|importa|interessa|aiuta)\\b"
#define RV_JA \
	"(?:レビュー|評価|ご感想|感想|口コミ|クチコミ|フィードバック)" \
	"[^\\n。]{0,12}?(?:お願い|いただけ|頂け|下さい|ください" \
	"|お聞かせ|投稿|書いて|お寄せ|残して)"
	[RG_PAT_REVIEW_REQUEST] =
		"(?i)" RV_EN "|" RV_DE "|" RV_FR "|" RV_ES "|" RV_IT "|" RV_JA,
#undef RV_GAP
#undef RV_EN
#undef RV_DE
#undef RV_FR
#undef RV_ES
#undef RV_IT
#undef RV_JA
};

const char *
rg_pattern_source(enum rg_pattern pattern)
{
	return pattern_sources[pattern];
}

static const char *const pattern_names[RG_PAT_COUNT] = {
	[RG_PAT_ORDER_ID] = "order id",
	[RG_PAT_EMAIL] = "e-mail address",
	[RG_PAT_EMAIL_WORDS] = "e-mail address in words",
	[RG_PAT_PHONE] = "phone number",
	[RG_PAT_EMOJI] = "emoji",
	[RG_PAT_EMOTICON] = "emoticon",
	[RG_PAT_URL] = "URL",
	[RG_PAT_BARE_DOMAIN] = "domain",
	[RG_PAT_REVIEW_REQUEST] = "review request",
};

const char *
rg_pattern_name(enum rg_pattern pattern)
{
	return (unsigned)pattern < RG_PAT_COUNT ? pattern_names[pattern] : "?";
}
