/*
 * normalize.c - fold a part's visible text for the word rules, keeping a
 * map back to the original bytes (see normalize.h).
 *
 * Two passes, both linear:
 *  1. character by character: invisible characters dropped, lower case,
 *     look-alikes and typographic punctuation folded, blank runs made one
 *     space (or "\n" for a blank line); the result is an array of code
 *     points, each with the offset of the original character.
 *  2. word by word: single letters spaced out are joined, and digits,
 *     '@' and '$' inside Latin words read as letters; the result is UTF-8
 *     with a byte map.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "normalize.h"

/* Look-alike letters, after lower-casing, and the Latin letter they pass
 * for.  Sorted by code point (binary search).  Diacritics stay: ё is ë. */
static const struct homoglyph {
	uint32_t from, to;
} homoglyphs[] = {
	{ 0x0131, 'i' },    /* dotless i */
	{ 0x0251, 'a' },    /* Latin alpha */
	{ 0x0261, 'g' },    /* script g */
	{ 0x0269, 'i' },    /* Latin iota */
	{ 0x03AC, 0xE1 },   /* ά */
	{ 0x03AD, 0xE9 },   /* έ */
	{ 0x03AF, 0xED },   /* ί */
	{ 0x03B1, 'a' },    /* α */
	{ 0x03B2, 'b' },    /* β (Β) */
	{ 0x03B3, 'y' },    /* γ */
	{ 0x03B5, 'e' },    /* ε (Ε) */
	{ 0x03B6, 'z' },    /* ζ (Ζ) */
	{ 0x03B7, 'n' },    /* η */
	{ 0x03B9, 'i' },    /* ι (Ι) */
	{ 0x03BA, 'k' },    /* κ (Κ) */
	{ 0x03BC, 'm' },    /* μ (Μ) */
	{ 0x03BD, 'v' },    /* ν */
	{ 0x03BF, 'o' },    /* ο (Ο) */
	{ 0x03C1, 'p' },    /* ρ (Ρ) */
	{ 0x03C4, 't' },    /* τ (Τ) */
	{ 0x03C5, 'u' },    /* υ */
	{ 0x03C7, 'x' },    /* χ (Χ) */
	{ 0x03C9, 'w' },    /* ω */
	{ 0x03CC, 0xF3 },   /* ό */
	{ 0x03CD, 0xFA },   /* ύ */
	{ 0x03F2, 'c' },    /* lunate sigma */
	{ 0x03F3, 'j' },    /* ϳ */
	{ 0x0430, 'a' },    /* а */
	{ 0x0432, 'b' },    /* в (В) */
	{ 0x0435, 'e' },    /* е */
	{ 0x043A, 'k' },    /* к (К) */
	{ 0x043C, 'm' },    /* м (М) */
	{ 0x043D, 'h' },    /* н (Н) */
	{ 0x043E, 'o' },    /* о */
	{ 0x0440, 'p' },    /* р */
	{ 0x0441, 'c' },    /* с */
	{ 0x0442, 't' },    /* т (Т) */
	{ 0x0443, 'y' },    /* у */
	{ 0x0445, 'x' },    /* х */
	{ 0x0450, 0xE8 },   /* ѐ */
	{ 0x0451, 0xEB },   /* ё */
	{ 0x0455, 's' },    /* ѕ */
	{ 0x0456, 'i' },    /* і */
	{ 0x0457, 0xEF },   /* ї */
	{ 0x0458, 'j' },    /* ј */
	{ 0x04BB, 'h' },    /* һ */
	{ 0x04CF, 'l' },    /* ӏ */
	{ 0x0501, 'd' },    /* ԁ */
	{ 0x051B, 'q' },    /* ԛ */
	{ 0x051D, 'w' },    /* ԝ */
	{ 0x0566, 'q' },    /* Armenian za */
	{ 0x0570, 'h' },    /* Armenian ho */
	{ 0x0578, 'n' },    /* Armenian vo */
	{ 0x057D, 'u' },    /* Armenian se */
	{ 0x0585, 'o' },    /* Armenian oh */
};

/* Characters nobody sees: dropped (a word split by them is one word). */
static int
invisible(uint32_t c)
{
	if (c < 0x20)
		return c != '\t' && c != '\n' && c != '\r' && c != '\v' &&
		       c != '\f';
	if (c < 0x7F)
		return 0;
	if (c <= 0x9F)
		return 1;                       /* DEL, C1 controls */
	switch (c) {
	case 0x00AD:                            /* soft hyphen */
	case 0x034F:                            /* grapheme joiner */
	case 0x061C:                            /* Arabic letter mark */
	case 0x115F: case 0x1160:               /* Hangul fillers */
	case 0x17B4: case 0x17B5:               /* Khmer inherent vowels */
	case 0x3164: case 0xFFA0:               /* Hangul fillers */
	case 0xFEFF:                            /* BOM, zero-width no-break */
		return 1;
	default:
		break;
	}
	return (c >= 0x180B && c <= 0x180F) ||  /* Mongolian selectors */
	       (c >= 0x200B && c <= 0x200F) ||  /* zero-width, LRM, RLM */
	       (c >= 0x202A && c <= 0x202E) ||  /* bidi embeddings */
	       (c >= 0x2060 && c <= 0x206F) ||  /* word joiner, isolates */
	       (c >= 0xFE00 && c <= 0xFE0F) ||  /* variation selectors */
	       (c >= 0xE0000 && c <= 0xE0FFF);  /* tags, selectors */
}

size_t
rg_strip_invisible(char *s, size_t len, int keep_emoji)
{
	size_t in = 0, out = 0;

	while (in < len) {
		gunichar c = g_utf8_get_char_validated(s + in,
		                                       (gssize)(len - in));
		size_t n;

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			/* not UTF-8 after all: keep the byte */
			s[out++] = s[in++];
			continue;
		}
		n = c == 0 ? 1 : (size_t)(g_utf8_next_char(s + in) - (s + in));
		if (!invisible(c) ||
		    (keep_emoji && (c == 0x200D || c == 0xFE0E || c == 0xFE0F ||
		                    (c >= 0xE0020 && c <= 0xE007F)))) {
			memmove(s + out, s + in, n);
			out += n;
		}
		in += n;
	}
	if (out < len || len == 0)
		s[out] = '\0';
	return out;
}

uint32_t
rg_norm_fold_char(uint32_t c)
{
	size_t lo = 0, hi = G_N_ELEMENTS(homoglyphs);

	if (invisible(c))
		return 0;
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
	switch (c) {
	case 0x2018: case 0x2019: case 0x201A: case 0x201B:
	case 0x2032: case 0x02BC: case 0x00B4:
		return '\'';
	case 0x201C: case 0x201D: case 0x201E: case 0x201F:
	case 0x2033: case 0x00AB: case 0x00BB:
		return '"';
	case 0x2010: case 0x2011: case 0x2012: case 0x2013:
	case 0x2014: case 0x2015: case 0x2212: case 0xFE58:
		return '-';
	case 0x00B7: case 0x2027: case 0x2219: case 0x22C5:
		return '.';
	default:
		break;
	}
	c = g_unichar_tolower(c);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (homoglyphs[mid].from == c)
			return homoglyphs[mid].to;
		if (homoglyphs[mid].from < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c;
}

/* One character after pass 1. */
struct unit {
	uint32_t c;
	uint32_t src;        /* offset of the original character */
};

/* Pass 2's output: UTF-8 and its byte map. */
struct out {
	char *text;
	uint32_t *map;
	size_t len, cap;
};

static void
out_char(struct out *o, uint32_t c, uint32_t src)
{
	char buf[6];
	int n = g_unichar_to_utf8(c, buf);

	if (o->len + (size_t)n + 1 > o->cap) {
		o->cap = o->cap * 2 + (size_t)n + 16;
		o->text = g_realloc(o->text, o->cap);
		o->map = g_realloc_n(o->map, o->cap, sizeof(*o->map));
	}
	for (int i = 0; i < n; i++) {
		o->text[o->len] = buf[i];
		o->map[o->len] = src;
		o->len++;
	}
}

/* a letter or a mark of one (part of a word) */
static int
is_letter(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	return g_unichar_isalpha(c) || g_unichar_ismark(c);
}

static int
is_digit(uint32_t c)
{
	return c >= '0' && c <= '9';
}

static int
is_latin(uint32_t c)
{
	GUnicodeScript script;

	if (c < 0x80)
		return 1;
	script = g_unichar_get_script(c);
	return script == G_UNICODE_SCRIPT_LATIN ||
	       script == G_UNICODE_SCRIPT_INHERITED ||
	       script == G_UNICODE_SCRIPT_COMMON;
}

/* leet - the letter a digit stands for inside a word, or 0 */
static uint32_t
leet(uint32_t c)
{
	switch (c) {
	case '0': return 'o';
	case '1': return 'i';
	case '3': return 'e';
	case '4': return 'a';
	case '5': return 's';
	case '7': return 't';
	case '@': return 'a';
	case '$': return 's';
	default: return 0;
	}
}

/* separators between spaced-out letters: "f r e e", "f.r.e.e" */
static int
is_spacer(uint32_t c)
{
	return c == ' ' || c == '.' || c == '-' || c == '_' || c == '*';
}

/* a character that can be a spaced-out letter */
static int
is_single(uint32_t c)
{
	return is_letter(c) || (is_digit(c) && leet(c) != 0);
}

/* '@' or '$' between two letters joins them into one word ("c@rd") */
static int
is_joiner(const struct unit *u, size_t n, size_t i)
{
	return (u[i].c == '@' || u[i].c == '$') && i > 0 && i + 1 < n &&
	       is_letter(u[i - 1].c) && is_letter(u[i + 1].c);
}

static int
is_word(const struct unit *u, size_t n, size_t i)
{
	return is_letter(u[i].c) || is_digit(u[i].c) || is_joiner(u, n, i);
}

/*
 * emit_word - the word u[start..end): when it mixes Latin letters with
 * digits (or has '@'/'$' inside), read those as letters.  A leading digit
 * is read as a letter only when one digit starts at least three letters
 * ("5tar"), so "4mm", "1st" and "10th" keep their numbers ("3pcs" does
 * not: "epcs", which no phrase is).
 */
static void
emit_word(struct out *o, const struct unit *u, size_t n, size_t start,
          size_t end)
{
	int letters = 0, digits = 0, latin = 1;

	for (size_t i = start; i < end; i++) {
		if (is_digit(u[i].c) || is_joiner(u, n, i))
			digits++;
		else if (is_letter(u[i].c)) {
			letters++;
			if (!is_latin(u[i].c))
				latin = 0;
		}
	}
	if (letters == 0 || digits == 0 || !latin) {
		for (size_t i = start; i < end; i++)
			out_char(o, u[i].c, u[i].src);
		return;
	}
	for (size_t i = start; i < end;) {
		size_t run_end = i;
		int fold;

		if (!is_digit(u[i].c)) {
			/* a letter, or '@'/'$' between letters */
			out_char(o, leet(u[i].c) != 0 ? leet(u[i].c) : u[i].c,
			         u[i].src);
			i++;
			continue;
		}
		while (run_end < end && is_digit(u[run_end].c))
			run_end++;
		/* after a letter; or one leading digit, then three letters */
		fold = i > start ||
		       (run_end == start + 1 && end - start >= 4 &&
		        is_letter(u[start + 1].c) && is_letter(u[start + 2].c) &&
		        is_letter(u[start + 3].c));
		for (; i < run_end; i++) {
			uint32_t as = fold ? leet(u[i].c) : 0;

			out_char(o, as != 0 ? as : u[i].c, u[i].src);
		}
	}
}

/*
 * spaced_run - from a single letter at u[i], the end of a run of single
 * letters each followed by one spacer: "f r e e" -> returns the index
 * after the last letter and sets *count_r, *letters_r.
 */
static size_t
spaced_run(const struct unit *u, size_t n, size_t i, size_t *count_r,
           size_t *letters_r)
{
	size_t count = 0, letters = 0, end = i;

	for (;;) {
		/* u[i] is a single character word */
		count++;
		if (is_letter(u[i].c))
			letters++;
		end = i + 1;
		if (i + 3 > n || !is_spacer(u[i + 1].c) || !is_single(u[i + 2].c))
			break;
		if (i + 3 < n && is_word(u, n, i + 3))
			break;
		i += 2;
	}
	*count_r = count;
	*letters_r = letters;
	return end;
}

/* case_of - 1 upper case, -1 lower case, 0 neither: the original
 * character behind a unit */
static int
case_of(const char *text, size_t len, const struct unit *u)
{
	gunichar c = g_utf8_get_char_validated(text + u->src,
	                                       (gssize)(len - u->src));

	if (c == (gunichar)-1 || c == (gunichar)-2)
		return 0;
	return g_unichar_isupper(c) ? 1 : g_unichar_islower(c) ? -1 : 0;
}

/* article_first - "a F R E E": a lower-case letter before upper-case
 * spaced letters is a word of its own */
static int
article_first(const char *text, size_t len, const struct unit *u,
              size_t start, size_t end)
{
	if (case_of(text, len, &u[start]) != -1)
		return 0;
	for (size_t j = start + 2; j < end; j += 2)
		if (case_of(text, len, &u[j]) != 1)
			return 0;
	return 1;
}

/* pass 1: one unit per visible character */
static struct unit *
fold_chars(const char *text, size_t len, size_t *n_r)
{
	struct unit *u = g_new(struct unit, len + 1);
	size_t n = 0, i = 0;
	/* a run of blanks: where it started, and its line breaks */
	int in_blank = 0;
	unsigned breaks = 0;
	uint32_t blank_src = 0;

	while (i < len) {
		const char *p = text + i;
		gunichar c = g_utf8_get_char_validated(p, (gssize)(len - i));
		size_t step;

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			c = 0xFFFD;
			step = 1;
		} else {
			step = (size_t)(g_utf8_next_char(p) - p);
			if (c == 0)
				step = 1;
		}
		if (c == 0 || invisible(c)) {
			i += step;
			continue;
		}
		if (g_unichar_isspace(c)) {
			if (!in_blank) {
				in_blank = 1;
				breaks = 0;
				blank_src = (uint32_t)i;
			}
			if (c == '\n' || c == 0x2028)
				breaks++;
			else if (c == 0x2029)
				breaks += 2;
			i += step;
			continue;
		}
		if (in_blank) {
			u[n].c = breaks >= 2 ? '\n' : ' ';
			u[n].src = blank_src;
			n++;
			in_blank = 0;
		}
		u[n].c = rg_norm_fold_char(c);
		u[n].src = (uint32_t)i;
		n++;
		i += step;
	}
	if (in_blank) {
		u[n].c = breaks >= 2 ? '\n' : ' ';
		u[n].src = blank_src;
		n++;
	}
	*n_r = n;
	return u;
}

int
rg_normalize(const char *text, size_t len, struct rg_norm *norm)
{
	struct out o = { NULL, NULL, 0, 0 };
	struct unit *u;
	size_t n, i = 0;

	memset(norm, 0, sizeof(*norm));
	if (len > RG_NORM_MAX_INPUT)
		return -1;
	u = fold_chars(text, len, &n);
	o.cap = n + n / 4 + 16;
	o.text = g_malloc(o.cap);
	o.map = g_new(uint32_t, o.cap);

	while (i < n) {
		size_t end;

		if (!is_word(u, n, i)) {
			out_char(&o, u[i].c, u[i].src);
			i++;
			continue;
		}
		end = i;
		while (end < n && is_word(u, n, end))
			end++;
		if (end == i + 1 && is_single(u[i].c)) {
			size_t count, letters, run_end;

			run_end = spaced_run(u, n, i, &count, &letters);
			if (count >= 4 && letters >= 3 &&
			    article_first(text, len, u, i, run_end)) {
				/* the article and its spacer as they are */
				out_char(&o, u[i].c, u[i].src);
				out_char(&o, u[i + 1].c, u[i + 1].src);
				i += 2;
				count--;
				letters--;
			}
			if (count >= 3 && letters >= 2) {
				/* "f r e e": the letters as one word */
				struct unit *w = g_new(struct unit, count);
				size_t k = 0;

				for (size_t j = i; j < run_end; j += 2)
					w[k++] = u[j];
				emit_word(&o, w, k, 0, k);
				g_free(w);
				i = run_end;
				continue;
			}
			if (count >= 3) {
				/* "1 2 3": as it is, and not looked at again */
				for (; i < run_end; i++)
					out_char(&o, u[i].c, u[i].src);
				continue;
			}
		}
		emit_word(&o, u, n, i, end);
		i = end;
	}
	g_free(u);
	/* the terminating NUL and map[len] */
	if (o.len + 1 > o.cap) {
		o.cap = o.len + 1;
		o.text = g_realloc(o.text, o.cap);
		o.map = g_realloc_n(o.map, o.cap, sizeof(*o.map));
	}
	o.text[o.len] = '\0';
	o.map[o.len] = (uint32_t)len;
	norm->text = o.text;
	norm->map = o.map;
	norm->len = o.len;
	return 0;
}

void
rg_norm_clear(struct rg_norm *norm)
{
	g_free(norm->text);
	g_free(norm->map);
	memset(norm, 0, sizeof(*norm));
}

void
rg_norm_span(const struct rg_norm *norm, const char *orig, size_t orig_len,
             size_t start, size_t end, size_t *start_r, size_t *end_r)
{
	size_t s, e;

	if (end > norm->len)
		end = norm->len;
	if (start >= end) {
		s = start < norm->len ? norm->map[start] : orig_len;
		*start_r = *end_r = s;
		return;
	}
	s = norm->map[start];
	/* the end of the original character behind the last byte */
	e = norm->map[end - 1];
	if (e < orig_len) {
		const char *p = orig + e;

		if ((unsigned char)*p < 0x80)
			e++;
		else {
			e++;
			while (e < orig_len &&
			       ((unsigned char)orig[e] & 0xC0) == 0x80)
				e++;
		}
	}
	if (e > orig_len)
		e = orig_len;
	*start_r = s;
	*end_r = e;
}

/*
 * GLib composes a normalised string in place, moving the rest of its
 * buffer down for every pair it joins: one call on a long text with many
 * accented letters takes time quadratic in its length (4 MB of German:
 * seconds).  rg_nfkc hands it pieces of about this many bytes.
 */
#define NFKC_PIECE (16 * 1024)

char *
rg_nfkc(const char *s, size_t len)
{
	GString *out;
	size_t at = 0;

	if (len <= NFKC_PIECE)
		return g_utf8_normalize(s, (gssize)len, G_NORMALIZE_NFKC);
	out = g_string_sized_new(len + len / 16);
	while (at < len) {
		size_t end = at + NFKC_PIECE;
		char *piece;

		/*
		 * Cut before an ASCII character: it has combining class 0
		 * and composes with nothing before it, so no character
		 * after it can join one before it, and the forms of the
		 * pieces joined are the form of the whole (a normalisation
		 * boundary, UAX #15).
		 */
		if (end >= len)
			end = len;
		else
			while (end < len && (unsigned char)s[end] >= 0x80)
				end++;
		piece = g_utf8_normalize(s + at, (gssize)(end - at),
		                         G_NORMALIZE_NFKC);
		if (piece == NULL) {
			g_string_free(out, TRUE);
			return NULL;
		}
		g_string_append(out, piece);
		g_free(piece);
		at = end;
	}
	return g_string_free(out, FALSE);
}
