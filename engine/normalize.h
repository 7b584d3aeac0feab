/*
 * normalize.h - the text that word rules match on.
 *
 * A part's visible text (valid UTF-8, already NFKC) is folded so that a
 * phrase cannot be smuggled past a word list: lower case; zero-width, bidi
 * and other invisible characters removed; Cyrillic and Greek look-alike
 * letters read as Latin ones; typographic quotes and dashes made ASCII;
 * every run of blanks made one space (a blank line one "\n"); digits and
 * '@'/'$' inside Latin words read as letters ("c0upon", "fr33", "5tar",
 * "c@rd"); and single letters spaced out by one blank, '.', '-', '_' or
 * '*' joined into a word ("f r e e", "f.r.e.e"; a lower-case letter
 * before capitals stays a word: "a F R E E").  Diacritics are kept:
 * German and French words need them.
 *
 * Every byte of the folded text maps back to the original character it
 * came from, so findings keep their line:column and show the original
 * excerpt.  Linear time and memory (about five bytes per input byte).
 */
#ifndef RG_NORMALIZE_H
#define RG_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

/* Longest text folded: offsets are 32-bit. */
#define RG_NORM_MAX_INPUT ((size_t)1 << 30)

struct rg_norm {
	char *text;          /* folded, valid UTF-8, NUL-terminated */
	size_t len;          /* bytes of text */
	/* len + 1 entries: map[i] is the offset in the original of the
	 * character that produced byte i; map[len] is the original length */
	uint32_t *map;
};

/*
 * rg_normalize - fold text[0..len) into *norm (free with rg_norm_clear).
 * Invalid UTF-8 is read as U+FFFD, byte by byte.  Returns 0, or -1 (and
 * an empty *norm) when len exceeds RG_NORM_MAX_INPUT.
 */
int rg_normalize(const char *text, size_t len, struct rg_norm *norm);

/* rg_norm_clear - free the folded text and the map; *norm is reusable */
void rg_norm_clear(struct rg_norm *norm);

/*
 * rg_norm_span - the original bytes [*start_r, *end_r) behind the folded
 * bytes [start, end) (start < end <= norm->len); orig is the text that
 * was folded.
 */
void rg_norm_span(const struct rg_norm *norm, const char *orig,
                  size_t orig_len, size_t start, size_t end,
                  size_t *start_r, size_t *end_r);

/*
 * rg_strip_invisible - remove from s[0..len) in place the characters
 * nobody sees (zero-width spaces, soft hyphens, bidi controls, word
 * joiners, BOM, C0/C1 controls other than blanks), so that no rule can be
 * dodged by them ("serv<U+200B>ice@example.com").  With keep_emoji, the
 * zero-width joiner, variation selectors and tag characters that emoji
 * sequences are made of stay.  s must be valid UTF-8; returns the new
 * length and NUL-terminates.  For the view's text (message.c).
 */
size_t rg_strip_invisible(char *s, size_t len, int keep_emoji);

/*
 * rg_nfkc - s[0..len) (valid UTF-8) in Unicode NFKC, as
 * g_utf8_normalize(s, len, G_NORMALIZE_NFKC) gives it, in time linear
 * in len.  Returns a g_malloc'd string, or NULL for invalid UTF-8.
 */
char *rg_nfkc(const char *s, size_t len);

/*
 * rg_norm_fold_char - how one character is folded: lower case, look-alike
 * letters to Latin, typographic punctuation to ASCII.  Returns 0 for a
 * character that is dropped (zero-width, bidi control, soft hyphen).
 * Blanks, digits and words are handled by rg_normalize, not here.
 */
uint32_t rg_norm_fold_char(uint32_t c);

#endif
