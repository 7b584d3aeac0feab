/*
 * emoji.c - rule emoji: Unicode emoji and pictographs, and ASCII
 * emoticons, in the subject, text/plain and text/html parts.
 *
 * What counts as an emoji (RG_PAT_EMOJI, patterns.c):
 *  - a keycap sequence: 0-9, # or * with an optional U+FE0F and U+20E3;
 *  - a regional-indicator pair (a flag), or a lone regional indicator;
 *  - a pictograph with everything that belongs to it: variation selector
 *    U+FE0F, skin-tone modifiers, tag characters (subdivision flags) and
 *    U+200D (ZWJ) joined pictographs.  One sequence is one finding, its
 *    excerpt the whole sequence.
 * A pictograph is \p{Extended_Pictographic} that is also \p{Emoji} or
 * outside the BMP (emoji blocks, including code points reserved for
 * future emoji).  BMP pictographs that Unicode does not call emoji at all
 * (★ ☐ ♪ ♭ chess and dice symbols, fleurons) are ordinary typography.
 * \p{Emoji} alone is not used: it includes the digits, '#' and '*'.
 *
 * Not emoji unless followed by U+FE0F (explicit emoji presentation), as
 * they are text symbols legitimately found in product and service text
 * (list EJ_TEXT in patterns.c):
 *  - letter-like and punctuation: © ® ™ ℹ Ⓜ ‼ ⁉ (NFKC already turns
 *    ™ ℹ Ⓜ ‼ ⁉ into letters and punctuation);
 *  - arrows: ↔ ↕ ↖ ↗ ↘ ↙ ↩ ↪ ⤴ ⤵ ➡ ⬅ ⬆ ⬇ (directions in instructions);
 *  - device controls from manuals: ⌨ ⏏ ⏭ ⏮ ⏯ ⏱ ⏲ ⏸ ⏹ ⏺ ▶ ◀;
 *  - bullets and marks in lists: ▪ ▫ ◻ ◼ ☑ ✔ ✖ ✳ ✴;
 *  - product labelling: ⚠ ♻ ☢ ☣ ⚕ ⚙ ✂ ♾ (permanent paper) and the sex
 *    symbols ♀ ♂ ⚧ (sizes, animals);
 *  - card suits ♠ ♣ ♦ (games; ♥ is used as a heart and fires);
 *  - religious and other motifs of jewellery and decor: ✝ ✡ ☦ ☪ ☮ ☯ ☸ ⚜;
 *  - CJK punctuation 〰 〽.
 * U+FE0E (text presentation) does not excuse a pictograph that is emoji
 * by default; it is ignored.
 *
 * ASCII emoticons (RG_PAT_EMOTICON): eyes ':' or ';' with an optional
 * tear and nose and a mouth ) ( D P p O o / \ | ] [, also =) =( =D :-*,
 * hearts <3 </3, and ^_^ ^^ -_- o_O >_< T_T ;_; XD.  Near misses that do
 * not fire: times and ratios (10:30, 3:2, 1:1: no digit before the eyes),
 * slices and code ("x[:]", "for(;;)": no bracket before the eyes),
 * "Note: (see below)" (no blank inside an emoticon), URLs and paths
 * (https://, C:\: ':/' and ':\' only with no letter before and nothing
 * word-like after), "Size:S", "Grade:D" (only ':)' and ':(' may touch a
 * preceding word, as in "great:)"), list markers "a)", "<3 days" ("less
 * than 3": see below), "XD card" (a product code).  Reversed emoticons
 * such as "(:" are not matched: they are rare in mail, and "(:" is common
 * in parenthesised labels and code ("(:foo)").
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "internal.h"

/* After "<3 " these words make it "less than 3". */
static const char *const quantity_words[] = {
	"day", "days", "week", "weeks", "month", "months", "year", "years",
	"hour", "hours", "hr", "hrs", "h", "min", "mins", "minute",
	"minutes", "sec", "secs", "second", "seconds", "s", "business",
	"working", "items", "item", "pcs", "pieces", "units", "times",
	"percent", "mm", "cm", "m", "km", "kg", "g", "lb", "lbs", "oz", "ml",
	"l", "in", "inch", "inches", "ft", "or", "and", "to", "of", "x",
	"tage", "wochen", "jours", "semaines", "d\xc3\xad" "as", "semanas",
	"giorni", "settimane", NULL
};

static int
quantity_word(const char *s, size_t len)
{
	for (size_t i = 0; quantity_words[i] != NULL; i++) {
		const char *w = quantity_words[i];
		size_t k;

		for (k = 0; k < len && w[k] != '\0'; k++)
			if ((unsigned char)g_ascii_tolower(s[k]) !=
			    (unsigned char)w[k])
				break;
		if (k == len && w[k] == '\0')
			return 1;
	}
	return 0;
}

/*
 * emoticon_ok - second look at an emoticon match text[ms..me):
 *  - "<3" followed by a number or a unit or quantity word ("<3 days",
 *    "<3 mm", "<3 or 4") reads "less than 3";
 *  - "XD" followed by a word ("XD card", "xD-Picture") is a product name;
 *    as an emoticon it closes a sentence or a line.
 */
static int
emoticon_ok(const char *text, size_t len, size_t ms, size_t me)
{
	size_t i = me, w;

	if (text[ms] == '<' && text[me - 1] == '3') {
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i < len && text[i] >= '0' && text[i] <= '9')
			return 0;
		if (i < len && text[i] == '%')
			return 0;
		if (i < len && (text[i] == '.' || text[i] == ','))
			return i + 1 >= len || text[i + 1] == ' ' ||
			       text[i + 1] == '\n';
		w = i;
		while (i < len && (g_ascii_isalnum((unsigned char)text[i]) ||
		                   (unsigned char)text[i] >= 0x80))
			i++;
		return !(i > w && quantity_word(text + w, i - w));
	}
	if (text[me - 1] == 'D' && (text[ms] == 'X' || text[ms] == 'x')) {
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		return i >= len || !(g_ascii_isalnum((unsigned char)text[i]) ||
		                     (unsigned char)text[i] >= 0x80 ||
		                     text[i] == '-');
	}
	return 1;
}

/*
 * next_emoticon - the next acceptable emoticon at or after *pos; 1 with
 * [*ms, *me), 0 when there is none (or the match limit stopped it).
 */
static int
next_emoticon(rg_scan *scan, const struct rg_part *part, size_t *pos,
              size_t *ms, size_t *me)
{
	while (rg_match(scan, RG_PAT_EMOTICON, part->text, part->text_len,
	                *pos, ms, me) == 1) {
		*pos = *me > *ms ? *me : *ms + 1;
		if (emoticon_ok(part->text, part->text_len, *ms, *me))
			return 1;
	}
	return 0;
}

static int
next_emoji(rg_scan *scan, const struct rg_part *part, size_t *pos,
           size_t *ms, size_t *me)
{
	if (rg_match(scan, RG_PAT_EMOJI, part->text, part->text_len, *pos,
	             ms, me) != 1)
		return 0;
	/* never empty; keep to character boundaries regardless */
	*pos = *me > *ms ? *me : *ms + 1;
	while (*pos < part->text_len &&
	       ((unsigned char)part->text[*pos] & 0xc0) == 0x80)
		(*pos)++;
	return 1;
}

/* emoji_scan_part - report emoji and emoticons in text order */
static void
emoji_scan_part(rg_scan *scan, const struct rg_part *part)
{
	size_t epos = 0, opos = 0, es = 0, ee = 0, os = 0, oe = 0;
	int have_e = next_emoji(scan, part, &epos, &es, &ee);
	int have_o = next_emoticon(scan, part, &opos, &os, &oe);

	while (have_e || have_o) {
		if (have_e && (!have_o || es <= os)) {
			rg_report(scan, RG_RULE_EMOJI, part, es, ee - es);
			have_e = next_emoji(scan, part, &epos, &es, &ee);
		} else {
			rg_report(scan, RG_RULE_EMOJI, part, os, oe - os);
			have_o = next_emoticon(scan, part, &opos, &os, &oe);
		}
	}
}

void
rg_rules_emoji(rg_scan *scan, const struct rg_view *view)
{
	if (!rg_rule_active(scan, RG_RULE_EMOJI))
		return;
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];

		if (rg_part_is_text(part) && part->text != NULL)
			emoji_scan_part(scan, part);
	}
}
