/*
 * contact.c - rules email-address and phone-number: contact details that
 * would let the buyer reach the seller off the marketplace.
 *
 * Both run over the visible text of the subject, text/plain and text/html
 * parts (NFKC-normalised UTF-8); email-address also reads the mailto:
 * links of HTML parts.  Quoted earlier messages are not skipped: a relay
 * address or phone number in a quote is still contact data in the message.
 *
 * Candidates come from the PCRE2 patterns RG_PAT_EMAIL, RG_PAT_EMAIL_WORDS
 * and RG_PAT_PHONE (patterns.c); the judgement that a candidate really is
 * an address or a phone number is made here, in C, where the context
 * around the match is easy to read.  Neither rule allocates per match,
 * except that for an HTML part with mailto: links the addresses found in
 * its text are kept (sorted once) to tell which links add a new one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

/* RFC 5321: a forward path is at most 256 octets, so an address 254. */
#define EMAIL_MAX 254
/* E.164: at most 15 digits, country code included. */
#define PHONE_MAX_DIGITS 15
/* A digit run with more groups or digits than this is never a phone
 * number, even after order ids are cut out of it. */
#define RUN_MAX_GROUPS 32
#define RUN_MAX_DIGITS 64
/* How far before a number a phone cue ("call", "Tel.") is looked for. */
#define CUE_WINDOW 40

/* next_char - offset of the character after the one at s[i] */
static size_t
next_char(const char *s, size_t len, size_t i)
{
	if (i >= len)
		return len + 1;
	i++;
	while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

/* word_eq - s[0..len) equals the ASCII word w, ignoring ASCII case */
static int
word_eq(const char *s, size_t len, const char *w)
{
	size_t i;

	for (i = 0; i < len && w[i] != '\0'; i++)
		if ((unsigned char)g_ascii_tolower(s[i]) != (unsigned char)w[i])
			return 0;
	return i == len && w[i] == '\0';
}

/* word_in - s[0..len) is one of the NULL-terminated words */
static int
word_in(const char *s, size_t len, const char *const *words)
{
	for (size_t i = 0; words[i] != NULL; i++)
		if (word_eq(s, len, words[i]))
			return 1;
	return 0;
}

/*
 * ---------------------------------------------------------------------
 * email-address
 * ---------------------------------------------------------------------
 */

/*
 * "name at domain dot com" is only an address when it reads like one:
 * the top-level domain is a common one, and neither the name nor the
 * domain is an everyday word ("look at the dot com bubble", "find us at
 * Acme dot com" is a web site, not an address).
 */
static const char *const words_tlds[] = {
	"com", "net", "org", "info", "biz", "io", "co", "uk", "de", "fr",
	"es", "it", "nl", "be", "at", "ch", "se", "pl", "eu", "us", "ca",
	"mx", "jp", "in", "au", "br", "tr", "ae", "sa", "sg", "eg", "ie",
	"pt", "dk", "no", "fi", "cz", "shop", "store", "email", "online",
	NULL
};
static const char *const words_stop_local[] = {
	"us", "me", "you", "him", "her", "them", "it", "we", "i", "one",
	"look", "looking", "find", "found", "visit", "meet", "available",
	"online", "shop", "store", "buy", "sold", "sale", "here", "there",
	"is", "are", "be", "was", "were", "stay", "live", "only", "now",
	"also", "directly", "arrive", "arrives", "arrived", "delivered",
	"exclusively", "and", "or", "but", "not", "just", NULL
};
static const char *const words_stop_domain[] = {
	"the", "a", "an", "our", "your", "my", "his", "her", "their", "its",
	"this", "that", "these", "those", "home", "work", "least", "most",
	"all", "once", "first", "last", "any", "some", "no", "one", "which",
	"what", "checkout", "amazon", NULL
};

/*
 * email_canonical - the address a match spells, lower case:
 * "John (at) Example [dot] com" -> "john@example.com".  The match is split
 * at blanks and brackets; the first token is the local part as written,
 * later tokens "at"/"@" become '@' and "dot"/"." become '.'.  Writes at
 * most size-1 bytes and a NUL into out; returns the length, or 0 when the
 * address does not fit.
 */
static size_t
email_canonical(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0, i = 0;
	int first = 1;

	while (i < len) {
		size_t start;
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '(' || c == ')' ||
		    c == '[' || c == ']' || c == '{' || c == '}' ||
		    c == '<' || c == '>') {
			i++;
			continue;
		}
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t' &&
		       strchr("()[]{}<>", s[i]) == NULL)
			i++;
		if (!first && (word_eq(s + start, i - start, "at") ||
		               word_eq(s + start, i - start, "@"))) {
			if (o + 1 >= size)
				return 0;
			out[o++] = '@';
		} else if (!first && (word_eq(s + start, i - start, "dot") ||
		                      word_eq(s + start, i - start, "."))) {
			if (o + 1 >= size)
				return 0;
			out[o++] = '.';
		} else {
			if (o + (i - start) >= size)
				return 0;
			for (size_t k = start; k < i; k++)
				out[o++] = (char)g_ascii_tolower(
					(unsigned char)s[k]);
		}
		first = 0;
	}
	out[o] = '\0';
	return o;
}

/*
 * email_words_plausible - for an address spelled with the words "at" and
 * "dot" only: 1 when it reads like an address (see words_tlds above).
 */
static int
email_words_plausible(const char *address)
{
	const char *at = strchr(address, '@');
	const char *dot, *tld, *local;
	size_t local_len;

	if (at == NULL)
		return 0;
	/* the last word of the local part ("john.smith" -> "smith") */
	local = at;
	while (local > address && local[-1] != '.')
		local--;
	local_len = (size_t)(at - local);
	if (word_in(local, local_len, words_stop_local))
		return 0;
	dot = strchr(at + 1, '.');
	if (dot == NULL)
		return 0;
	if (word_in(at + 1, (size_t)(dot - at - 1), words_stop_domain))
		return 0;
	tld = strrchr(at, '.') + 1;
	return word_in(tld, strlen(tld), words_tlds);
}

/* The addresses seen in one part's text, to tell which mailto: links
 * were already reported from the text. */
struct email_set {
	GPtrArray *items;          /* char *, sorted once filled */
};

static int
email_set_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
email_set_has(const struct email_set *set, const char *address)
{
	if (set->items == NULL || set->items->len == 0)
		return 0;
	return bsearch(&address, set->items->pdata, set->items->len,
	               sizeof(char *), email_set_cmp) != NULL;
}

static int
email_allowed(const rg_scan *scan, const char *address)
{
	return rg_strlist_contains_nocase(
		&scan->policy->settings.allowed_emails, address);
}

/*
 * email_scan_pattern - report the matches of one e-mail pattern in a
 * part's text; words: the pattern spells "at" and "dot" as words and its
 * matches must pass email_words_plausible.  Adds every address seen to
 * seen (when not NULL).
 */
static void
email_scan_pattern(rg_scan *scan, const struct rg_part *part,
                   enum rg_pattern pattern, int words, struct email_set *seen)
{
	char address[EMAIL_MAX + 1];
	size_t pos = 0, ms, me;

	while (rg_match(scan, pattern, part->text, part->text_len, pos,
	                &ms, &me) == 1) {
		size_t alen = email_canonical(part->text + ms, me - ms,
		                              address, sizeof(address));

		if (words && (alen == 0 || !email_words_plausible(address))) {
			/* not an address here; one may start inside it */
			pos = next_char(part->text, part->text_len, ms);
			continue;
		}
		pos = me > ms ? me : next_char(part->text, part->text_len, ms);
		if (alen > 0 && seen != NULL)
			g_ptr_array_add(seen->items, g_strdup(address));
		if (alen > 0 && email_allowed(scan, address))
			continue;
		rg_report(scan, RG_RULE_EMAIL_ADDRESS, part, ms, me - ms);
	}
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)g_ascii_tolower((gchar)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * mailto_address - the address in s[0..len) (one recipient of a mailto:
 * URL): percent escapes of printable ASCII decoded, control characters
 * dropped, blanks trimmed, "Name <a@b>" reduced to a@b.  Writes a NUL-
 * terminated, valid UTF-8 string of at most size-1 bytes to out (longer
 * input is cut at a character boundary) and returns its length.
 */
static size_t
mailto_address(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0, i = 0;
	char *lt, *gt;

	while (i < len && o + 1 < size) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 &&
		    hex_value(s[i + 2]) >= 0) {
			int v = hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]);

			if (v >= 0x20 && v < 0x7f) {
				out[o++] = (char)v;
				i += 3;
				continue;
			}
		}
		if (c < 0x20 || c == 0x7f) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			/* copy a whole UTF-8 sequence or stop */
			size_t n = (size_t)(g_utf8_next_char(s + i) - (s + i));

			if (i + n > len || o + n >= size)
				break;
			if (!g_utf8_validate(s + i, (gssize)n, NULL)) {
				i++;
				continue;
			}
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		out[o++] = (char)c;
		i++;
	}
	out[o] = '\0';
	lt = strchr(out, '<');
	gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (lt != NULL && gt != NULL) {
		o = (size_t)(gt - lt - 1);
		memmove(out, lt + 1, o);
		out[o] = '\0';
	}
	/* trim blanks */
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		out[--o] = '\0';
	i = 0;
	while (out[i] == ' ' || out[i] == '\t')
		i++;
	if (i > 0) {
		o -= i;
		memmove(out, out + i, o + 1);
	}
	return o;
}

/* is_mailto - the link is an <a href> (or like) to a mailto: URL */
static int
is_mailto(const struct rg_link *link)
{
	return link->origin == RG_LINK_HREF &&
	       g_ascii_strncasecmp(link->url, "mailto:", 7) == 0;
}

/*
 * email_scan_mailto - report the addresses of the part's mailto: links
 * that are neither allowed nor already reported from the visible text
 * (the usual <a href="mailto:x@y">x@y</a>).  They have no place in the
 * text: the finding names the part only.
 */
static void
email_scan_mailto(rg_scan *scan, const struct rg_part *part,
                  const struct email_set *seen)
{
	char address[EMAIL_MAX + 1];
	char canonical[EMAIL_MAX + 1];

	for (size_t l = 0; l < part->n_links; l++) {
		const char *p, *end;

		if (!is_mailto(&part->links[l]))
			continue;
		p = part->links[l].url + 7;
		end = p + strcspn(p, "?#");
		while (p < end) {
			const char *sep = p;
			size_t alen, k;
			const char *at;

			while (sep < end && *sep != ',' && *sep != ';')
				sep++;
			alen = mailto_address(p, (size_t)(sep - p), address,
			                      sizeof(address));
			p = sep < end ? sep + 1 : end;
			at = strchr(address, '@');
			if (alen == 0 || at == NULL || at == address ||
			    at[1] == '\0')
				continue;
			for (k = 0; k <= alen; k++)
				canonical[k] = (char)g_ascii_tolower(
					(unsigned char)address[k]);
			if (email_allowed(scan, canonical) ||
			    email_set_has(seen, canonical))
				continue;
			rg_report_at(scan, RG_RULE_EMAIL_ADDRESS, part->path,
			             0, 0, address);
		}
	}
}

static void
email_scan_part(rg_scan *scan, const struct rg_part *part)
{
	struct email_set seen = { NULL };
	int mailto = 0;

	for (size_t l = 0; l < part->n_links && !mailto; l++)
		mailto = is_mailto(&part->links[l]);
	if (mailto)
		seen.items = g_ptr_array_new_with_free_func(g_free);

	email_scan_pattern(scan, part, RG_PAT_EMAIL, 0,
	                   mailto ? &seen : NULL);
	email_scan_pattern(scan, part, RG_PAT_EMAIL_WORDS, 1,
	                   mailto ? &seen : NULL);
	if (mailto) {
		if (seen.items->len > 1)
			qsort(seen.items->pdata, seen.items->len,
			      sizeof(char *), email_set_cmp);
		email_scan_mailto(scan, part, &seen);
		g_ptr_array_free(seen.items, TRUE);
	}
}

/*
 * ---------------------------------------------------------------------
 * phone-number
 *
 * RG_PAT_PHONE takes a maximal run of digits joined by single separators
 * (blank, '-', '.', '/', a parenthesised group, a leading '+'), starting
 * at a token boundary.  The run is cut into groups and judged here:
 *
 *  - order ids (NNN-NNNNNNN-NNNNNNN) are cut out of the run, and a run of
 *    more than 15 digits is cut at " / " and " - "; each piece is judged
 *    on its own;
 *  - 7 to 15 digits (E.164), not counting a leading 00; with a leading
 *    + or 00 (international) 8 to 15, and such a number is a phone number
 *    unless a price, time or decimal is next to it;
 *  - not a date (28.01.2026, 2026-01-28, 01/28/2026, also followed by a
 *    time), a time or ratio (followed by ":5"), a decimal or price
 *    (followed by ",99" or ".99", next to a currency sign or code), a
 *    measure (followed by a unit or a letter: "120x60", "25 mm"), a
 *    number with thousands dots (1.299.000), ZIP+4 (12345-6789), a
 *    version or IP address (a one-digit group: 10.0.19045.2965), the
 *    tail of an IBAN or other mixed letter-digit code ("BE68 5390 0754");
 *  - not within three words after a reference word (order, invoice, lot,
 *    SKU, ISBN, tracking, VAT, "#", ...) unless a phone cue is near;
 *  - not a range of two equally long numbers (2016-2019, 1000/2000);
 *  - a single unseparated run needs a phone cue (tel, phone, call,
 *    WhatsApp, 電話, ☎ ... within 40 bytes before it on the same line)
 *    or else the shape of a national number: 9-12 digits after a trunk
 *    0, ten digits starting 2-9 (North America) or eleven starting 1;
 *  - blanks alone as separators with fewer than 9 digits ("10 20 30 40")
 *    need a phone cue too.
 * A number whose digits equal an allowed phone (digits only, country code
 * included) is excepted; a national number matches an allowed one when
 * it equals its tail after a 1-3 digit country code (trunk 0 dropped).
 * ---------------------------------------------------------------------
 */

/* separators seen before a group */
#define SEP_BLANK  0x01
#define SEP_DASH   0x02
#define SEP_DOT    0x04
#define SEP_SLASH  0x08
#define SEP_SPACED 0x10   /* a '-' or '/' with blanks around: " / " */

struct group {
	size_t beg, end;     /* bytes in the text; parentheses included */
	unsigned first;      /* index of the first digit in run.digits */
	unsigned ndigits;
	unsigned sep;        /* SEP_* between the previous group and this */
	int paren;           /* "(030)" */
};

struct run {
	size_t plus;         /* offset of a leading '+', or (size_t)-1 */
	char digits[RUN_MAX_DIGITS];
	unsigned ndigits;
	struct group groups[RUN_MAX_GROUPS];
	unsigned ngroups;
};

/*
 * digit_at - the value of the decimal digit at s[i] (ASCII, Arabic-Indic,
 * Extended Arabic-Indic, Devanagari; the same set as RG_PAT_PHONE) and
 * its length in *n, or -1.
 */
static int
digit_at(const char *s, size_t len, size_t i, size_t *n)
{
	unsigned char c = (unsigned char)s[i];
	gunichar cp;

	*n = 1;
	if (g_ascii_isdigit(c))
		return c - '0';
	if (c < 0x80)
		return -1;
	*n = (size_t)(g_utf8_next_char(s + i) - (s + i));
	if (i + *n > len)
		return -1;
	cp = g_utf8_get_char(s + i);
	if (cp >= 0x0660 && cp <= 0x0669)
		return (int)(cp - 0x0660);
	if (cp >= 0x06f0 && cp <= 0x06f9)
		return (int)(cp - 0x06f0);
	if (cp >= 0x0966 && cp <= 0x096f)
		return (int)(cp - 0x0966);
	return -1;
}

/* elem_len - length of a run element at s[i]: a digit, or "(" and one to
 * five digits and ")"; 0 if there is none */
static size_t
elem_len(const char *s, size_t len, size_t i)
{
	size_t n, j;
	unsigned digits = 0;

	if (i >= len)
		return 0;
	if (digit_at(s, len, i, &n) >= 0)
		return n;
	if (s[i] != '(')
		return 0;
	for (j = i + 1; j < len && digits < 5 && digit_at(s, len, j, &n) >= 0;
	     j += n)
		digits++;
	return digits > 0 && j < len && s[j] == ')' ? j + 1 - i : 0;
}

/* dash_len - length of a '-', '/' or U+2010..U+2013 at s[i], or 0 */
static size_t
dash_len(const char *s, size_t len, size_t i)
{
	if (i < len && (s[i] == '-' || s[i] == '/'))
		return 1;
	if (i + 2 < len && (unsigned char)s[i] == 0xe2 &&
	    (unsigned char)s[i + 1] == 0x80 &&
	    (unsigned char)s[i + 2] >= 0x90 && (unsigned char)s[i + 2] <= 0x93)
		return 3;
	return 0;
}

static int
is_blank(const char *s, size_t len, size_t i)
{
	return i < len && (s[i] == ' ' || s[i] == '\t');
}

/*
 * run_end - where the digit run that RG_PAT_PHONE matched up to end
 * really ends.  The pattern stops after 64 elements to bound its
 * backtracking; this follows the same grammar (a separator, then an
 * element) to the end of a longer run, in linear time.
 */
static size_t
run_end(const char *s, size_t len, size_t end)
{
	for (;;) {
		size_t seps[5], nseps = 0, d, e = 0;
		int b1 = is_blank(s, len, end);

		/* the pattern's separators, in the order it tries them */
		d = dash_len(s, len, end + (size_t)b1);
		if (d > 0) {
			if (is_blank(s, len, end + (size_t)b1 + d))
				seps[nseps++] = (size_t)b1 + d + 1;
			seps[nseps++] = (size_t)b1 + d;
		}
		if (b1)
			seps[nseps++] = 1;
		if (end < len && s[end] == '.')
			seps[nseps++] = 1;
		seps[nseps++] = 0;
		for (size_t k = 0; k < nseps && e == 0; k++) {
			e = elem_len(s, len, end + seps[k]);
			if (e > 0)
				end += seps[k] + e;
		}
		if (e == 0)
			return end;
	}
}

/* run_parse - cut the match s[ms..me) into groups; 0, or -1 when the
 * run has more groups or digits than any phone number could */
static int
run_parse(const char *s, size_t ms, size_t me, struct run *run)
{
	unsigned sep = 0;
	int open = 0, in_group = 0;
	size_t i = ms;

	run->plus = (size_t)-1;
	run->ndigits = 0;
	run->ngroups = 0;
	while (i < me) {
		unsigned char c = (unsigned char)s[i];
		struct group *g;
		size_t n;
		int v = digit_at(s, me, i, &n);

		if (v >= 0) {
			if (!in_group) {
				if (run->ngroups == RUN_MAX_GROUPS)
					return -1;
				g = &run->groups[run->ngroups++];
				g->beg = open ? i - 1 : i;
				g->first = run->ndigits;
				g->ndigits = 0;
				g->sep = sep;
				g->paren = open;
				in_group = 1;
				sep = 0;
			}
			g = &run->groups[run->ngroups - 1];
			if (run->ndigits == RUN_MAX_DIGITS)
				return -1;
			run->digits[run->ndigits++] = (char)('0' + v);
			g->ndigits++;
			g->end = i + n;
			i += n;
			continue;
		}
		if (c == ')' && in_group && open) {
			run->groups[run->ngroups - 1].end = i + 1;
			open = 0;
			in_group = 0;
			i++;
			continue;
		}
		in_group = 0;
		if (c == '+' && i == ms)
			run->plus = i;
		else if (c == '(')
			open = 1;
		else if (c == ' ' || c == '\t')
			sep |= SEP_BLANK;
		else if (c == '-' || c == 0xe2) /* U+2010..U+2013 */
			sep |= SEP_DASH;
		else if (c == '.')
			sep |= SEP_DOT;
		else if (c == '/')
			sep |= SEP_SLASH;
		if ((sep & SEP_BLANK) && (sep & (SEP_DASH | SEP_SLASH)))
			sep |= SEP_SPACED;
		i = c >= 0x80 ? (size_t)(g_utf8_next_char(s + i) - s) : i + 1;
	}
	return 0;
}

/* group_value - the number a group spells (at most 4 digits used) */
static unsigned
group_value(const struct run *run, const struct group *g)
{
	unsigned v = 0;

	for (unsigned k = 0; k < g->ndigits && k < 4; k++)
		v = v * 10 + (unsigned)(run->digits[g->first + k] - '0');
	return v;
}

static int
plausible_day_month(unsigned a, unsigned b)
{
	return a >= 1 && b >= 1 && a <= 31 && b <= 31 && (a <= 12 || b <= 12);
}

static int
plausible_year(unsigned y)
{
	return y >= 1900 && y <= 2099;
}

/*
 * has_date - groups [a, b) contain a date: three groups joined by the same
 * unspaced '.', '/' or '-': d.m.yyyy, m/d/yyyy, yyyy-mm-dd; or, when they
 * are the whole piece, d.m.yy.
 */
static int
has_date(const struct run *run, unsigned a, unsigned b)
{
	for (unsigned i = a; i + 2 < b; i++) {
		const struct group *x = &run->groups[i];
		const struct group *y = &run->groups[i + 1];
		const struct group *z = &run->groups[i + 2];
		unsigned s = y->sep;

		if (s != z->sep || (s != SEP_DOT && s != SEP_SLASH &&
		                    s != SEP_DASH))
			continue;
		if (x->paren || y->paren || z->paren)
			continue;
		if (x->ndigits <= 2 && y->ndigits <= 2 && z->ndigits == 4 &&
		    plausible_day_month(group_value(run, x),
		                        group_value(run, y)) &&
		    plausible_year(group_value(run, z)))
			return 1;
		if (x->ndigits == 4 && y->ndigits <= 2 && z->ndigits <= 2 &&
		    plausible_year(group_value(run, x)) &&
		    plausible_day_month(group_value(run, y),
		                        group_value(run, z)))
			return 1;
		if (b - a == 3 && x->ndigits <= 2 && y->ndigits <= 2 &&
		    z->ndigits == 2 &&
		    plausible_day_month(group_value(run, x),
		                        group_value(run, y)))
			return 1;
	}
	return 0;
}

/* is_order_id - groups i..i+2 are NNN-NNNNNNN-NNNNNNN */
static int
is_order_id(const struct run *run, unsigned i)
{
	const struct group *g = &run->groups[i];

	return i + 2 < run->ngroups && !g[0].paren && !g[1].paren &&
	       !g[2].paren && g[0].ndigits == 3 && g[1].ndigits == 7 &&
	       g[2].ndigits == 7 && g[1].sep == SEP_DASH &&
	       g[2].sep == SEP_DASH;
}

/* Words after which a number is a reference, not a phone number. */
static const char *const reference_words[] = {
	"order", "orders", "invoice", "inv", "ref", "reference", "lot",
	"batch", "serial", "sn", "sku", "model", "item", "part", "art",
	"asin", "isbn", "ean", "upc", "gtin", "tracking", "track",
	"shipment", "parcel", "package", "account", "acct", "iban", "bic",
	"swift", "ticket", "case", "customer", "po", "rma", "id", "code",
	"pin", "zip", "postcode", "plz", "cp", "vat", "tax", "ust", "siret",
	"siren", "receipt", "transaction", "bestellung", "bestellnummer",
	"auftrag", "rechnung", "rechnungsnummer", "kundennummer", "artikel",
	"artikelnummer", "sendungsnummer", "commande", "facture", "colis",
	"pedido", "factura", "ordine", "fattura", "lote", "lotto",
	"spedizione", "envio", "n\xc2\xb0",
	"\xe6\xb3\xa8\xe6\x96\x87",                 /* 注文 (order) */
	"\xe6\xb3\xa8\xe6\x96\x87\xe7\x95\xaa\xe5\x8f\xb7", /* 注文番号 */
	"\xe3\x80\x92",                         /* 〒 (postcode) */
	"\xe9\x83\xb5\xe4\xbe\xbf\xe7\x95\xaa\xe5\x8f\xb7", /* 郵便番号 */
	NULL
};

/*
 * Phone cues, matched at a word start, ASCII case ignored; a cue ending
 * in '*' may go on with letters ("Telefonnummer", "calling"), the others
 * are whole words ("tel", but not "tell").
 */
static const char *const phone_cues[] = {
	"tel", "t\xc3\xa9l", "phone*", "call*", "fax*", "mobil*", "cell*",
	"whatsapp*", "telef*", "tel\xc3\xa9" "f*", "t\xc3\xa9l\xc3\xa9phon*",
	"telephon*", "portable", "handy*", "hotline*", "rufnummer*", "sms",
	"text us", "text me", "ring us", "ring me", "give us a ring",
	"contact", "reach us", "reach me", "anrufen", "rufen sie", "appel*",
	"llam*", "ll\xc3\xa1m*", "chiam*", "viber", "telegram", "signal",
	"\xe9\x9b\xbb\xe8\xa9\xb1",             /* 電話 */
	"\xe6\x90\xba\xe5\xb8\xaf",             /* 携帯 */
	"\xe2\x98\x8e",                         /* ☎ */
	"\xe2\x98\x8f",                         /* ☏ */
	"\xf0\x9f\x93\x9e",                     /* 📞 */
	"\xf0\x9f\x93\xb1",                     /* 📱 */
	"\xe2\x84\xa1",                         /* ℡ (NFKC makes it TEL) */
	NULL
};

/* Currency codes and units that make a number a price or a measure. */
static const char *const unit_words[] = {
	"eur", "euro", "euros", "usd", "gbp", "chf", "jpy", "cad", "aud",
	"inr", "sek", "pln", "try", "aed", "sar", "sgd", "egp", "mxn", "brl",
	"dkk", "nok", "czk", "dollar", "dollars", "pounds", "yen", "kr",
	"z\xc5\x82", "mm", "cm", "m", "km", "kg", "g", "mg", "lb", "lbs",
	"oz", "ml", "l", "inch", "inches", "ft", "gsm", "x", "pcs",
	"pieces", "units", "items", "mah", "wh", "kwh", "w", "v", "hz",
	"khz", "mhz", "ghz", "gb", "mb", "tb", "px", "dpi", NULL
};

/* has_cue - a phone cue in the CUE_WINDOW bytes before offset, on the
 * same line */
static int
has_cue(const char *s, size_t offset)
{
	size_t from = offset > CUE_WINDOW ? offset - CUE_WINDOW : 0;

	for (size_t i = offset; i > from; i--) {
		if (s[i - 1] == '\n') {
			from = i;
			break;
		}
	}
	for (size_t i = from; i < offset; i++) {
		if (i > 0 && g_ascii_isalpha((unsigned char)s[i - 1]))
			continue;
		for (size_t c = 0; phone_cues[c] != NULL; c++) {
			const char *cue = phone_cues[c];
			size_t k;

			for (k = 0; cue[k] != '\0' && cue[k] != '*' &&
			            i + k < offset; k++)
				if ((unsigned char)g_ascii_tolower(s[i + k]) !=
				    (unsigned char)cue[k])
					break;
			if (cue[k] == '*' ||
			    (cue[k] == '\0' && ((unsigned char)cue[0] >= 0x80 ||
			                        !g_ascii_isalpha((unsigned char)
			                                     s[i + k]))))
				return 1;
		}
	}
	return 0;
}

/* is_word_byte - part of a word for the reference check: ASCII letters
 * and digits, and any byte of a non-ASCII character */
static int
is_word_byte(unsigned char c)
{
	return g_ascii_isalpha(c) || g_ascii_isdigit(c) || c >= 0x80;
}

/* prev_word - the word before s[offset], skipping at most a few blanks
 * and ":#.-=" between; *hash_r is set when '#' is among them.  Returns
 * the word's start and its length in *len_r (0 if none). */
static size_t
prev_word(const char *s, size_t offset, size_t *len_r, int *hash_r)
{
	size_t i = offset, skipped = 0, end;

	*len_r = 0;
	while (i > 0 && skipped < 6 && strchr(" \t:#.-=", s[i - 1]) != NULL &&
	       s[i - 1] != '\0') {
		if (s[i - 1] == '#')
			*hash_r = 1;
		i--;
		skipped++;
	}
	end = i;
	while (i > 0 && end - i < 32 && is_word_byte((unsigned char)s[i - 1]))
		i--;
	*len_r = end - i;
	return i;
}

/* after_reference - the number at offset follows a reference word
 * among the three words before it, without punctuation between ("Invoice
 * 123", "order no. 123", "VAT number GB 123", "#123") */
static int
after_reference(const char *s, size_t offset)
{
	size_t w = offset;

	for (int words = 0; words < 3; words++) {
		int hash = 0;
		size_t len;

		w = prev_word(s, w, &len, &hash);
		if (hash)
			return 1;
		if (len == 0)
			return 0;
		if (word_in(s + w, len, reference_words))
			return 1;
	}
	return 0;
}

/* is_currency - a currency sign at s[i] */
static int
is_currency(const char *s, size_t len, size_t i)
{
	gunichar cp;

	if (i >= len)
		return 0;
	if (s[i] == '$')
		return 1;
	if ((unsigned char)s[i] < 0x80)
		return 0;
	cp = g_utf8_get_char_validated(s + i, (gssize)(len - i));
	return g_unichar_type(cp) == G_UNICODE_CURRENCY_SYMBOL;
}

/* currency_before - a currency sign just before offset (one blank
 * allowed between) */
static int
currency_before(const char *s, size_t offset)
{
	size_t i = offset;

	if (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	if (i == 0)
		return 0;
	if (s[i - 1] == '$')
		return 1;
	/* step back to the start of the previous character */
	do {
		i--;
	} while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80);
	return (unsigned char)s[i] >= 0x80 && is_currency(s, offset, i);
}

/* mixed_token_before - the token before offset (one blank between) mixes
 * letters and digits, or is a run of such tokens led by an IBAN country
 * and check digits ("BE68 5390 ...", "GB33 BUKB 2020 ...", "1Z 999 AA1") */
static int
mixed_token_before(const char *s, size_t offset)
{
	size_t i = offset;

	for (int tokens = 0; tokens < 3; tokens++) {
		size_t end;
		int letters = 0, digits = 0, upper = 1;

		if (i == 0 || s[i - 1] != ' ')
			return 0;
		end = --i;
		while (i > 0 && (g_ascii_isalpha((unsigned char)s[i - 1]) ||
		                 g_ascii_isdigit((unsigned char)s[i - 1]))) {
			if (g_ascii_isdigit((unsigned char)s[i - 1]))
				digits++;
			else {
				letters++;
				if (s[i - 1] >= 'a')
					upper = 0;
			}
			i--;
		}
		if (end - i == 0 || end - i > 5)
			return 0;
		if (letters > 0 && digits > 0)
			return 1;
		/* "BUKB" in an IBAN: keep looking back, upper case only */
		if (!upper || digits > 0)
			return 0;
	}
	return 0;
}

/* after_blocks - what follows the number at s[end]: 1 when it makes the
 * number a time, decimal, price or measure */
static int
after_blocks(const char *s, size_t len, size_t end)
{
	size_t i = end, w;

	if (i >= len)
		return 0;
	/* "10:30", "3:2", "1.299,00", "12.99" */
	if ((s[i] == ':' || s[i] == ',' || s[i] == '.') && i + 1 < len &&
	    g_ascii_isdigit((unsigned char)s[i + 1]))
		return 1;
	/* "120x60", "25mm", "90%" */
	if (g_ascii_isalpha((unsigned char)s[i]) || s[i] == '%')
		return 1;
	if (s[i] == ' ' || s[i] == '\t')
		i++;
	if (is_currency(s, len, i) || (i < len && s[i] == '%'))
		return 1;
	w = i;
	while (i < len && is_word_byte((unsigned char)s[i]))
		i++;
	return i > w && word_in(s + w, i - w, unit_words);
}

/* digits_norm - digits only, leading "00" dropped; 0 if too long */
static size_t
digits_norm(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		if (!g_ascii_isdigit((unsigned char)*s))
			continue;
		if (o + 1 >= size)
			return 0;
		out[o++] = *s;
	}
	out[o] = '\0';
	if (o > 2 && out[0] == '0' && out[1] == '0') {
		memmove(out, out + 2, o - 1);
		o -= 2;
	}
	return o;
}

/* phone_allowed - digits d[0..n) (international prefix dropped; intl
 * says there was one) match a configured phone number */
static int
phone_allowed(const rg_scan *scan, const char *d, size_t n, int intl)
{
	const struct rg_strlist *list = &scan->policy->settings.allowed_phones;
	char allowed[RUN_MAX_DIGITS];

	for (size_t i = 0; i < list->count; i++) {
		size_t an = digits_norm(list->items[i], allowed,
		                        sizeof(allowed));
		const char *nd = d;
		size_t nn = n;

		if (an == 0)
			continue;
		if (an == n && memcmp(allowed, d, n) == 0)
			return 1;
		if (intl)
			continue;
		/* national: drop a trunk 0, then compare with the tail
		 * after a 1-3 digit country code */
		if (nd[0] == '0') {
			nd++;
			nn--;
		}
		if (nn > 0 && an > nn && an - nn <= 3 &&
		    memcmp(allowed + (an - nn), nd, nn) == 0)
			return 1;
	}
	return 0;
}

/*
 * phone_piece - judge groups [a, b) of a run; report them when they are a
 * phone number.
 */
static void
phone_piece(rg_scan *scan, const struct rg_part *part,
            const struct run *run, unsigned a, unsigned b)
{
	const char *s = part->text;
	const struct group *first = &run->groups[a];
	const struct group *last = &run->groups[b - 1];
	const char *d = run->digits + first->first;
	size_t n = (last->first + last->ndigits) - first->first;
	size_t beg = first->beg, end = last->end;
	int intl = 0, cue, blank_only = 1;
	unsigned seps = 0;
	char dialled[RUN_MAX_DIGITS];

	if (a == 0 && run->plus != (size_t)-1) {
		intl = 1;
		beg = run->plus;
	} else if (!first->paren && n > 2 && d[0] == '0' && d[1] == '0' &&
	           d[2] != '0') {
		intl = 1;
		d += 2;
		n -= 2;
	}
	if (intl) {
		/* the digits dialled: "+44 (0)20" has no trunk 0 */
		size_t k = 0;

		for (unsigned g = a; g < b; g++) {
			const struct group *gr = &run->groups[g];

			if (g > a && gr->paren && gr->ndigits == 1 &&
			    run->digits[gr->first] == '0')
				continue;
			for (unsigned j = 0; j < gr->ndigits; j++) {
				const char *p = run->digits + gr->first + j;

				if (p >= d)
					dialled[k++] = *p;
			}
		}
		d = dialled;
		n = k;
	}
	if (n > PHONE_MAX_DIGITS || n < (intl ? 8u : 7u))
		return;
	for (unsigned g = a + 1; g < b; g++) {
		seps |= run->groups[g].sep;
		if (run->groups[g].sep != SEP_BLANK || run->groups[g].paren)
			blank_only = 0;
	}
	if (first->paren)
		blank_only = 0;

	/* context: prices, times, decimals, measures, codes */
	if (after_blocks(s, part->text_len, end) || currency_before(s, beg))
		return;
	if (beg > 0 && strchr("@#$", s[beg - 1]) != NULL)
		return;
	if (has_date(run, a, b))
		return;
	cue = has_cue(s, beg);
	if (!intl) {
		if (!cue && (after_reference(s, beg) ||
		             mixed_token_before(s, beg)))
			return;
	}

	if (b - a == 1 && !first->paren) {
		/* one unseparated run of digits */
		if (!intl && !cue &&
		    !(d[0] == '0' && n >= 9 && n <= 12) &&
		    !(n == 10 && d[0] >= '2') &&
		    !(n == 11 && d[0] == '1'))
			return;
	} else if (!intl) {
		/* the groups must look like a phone number's */
		if (first->ndigits == 1 && !first->paren && !cue &&
		    !(d[0] == '1' && n == 11))
			return;
		for (unsigned g = a + 1; g < b; g++)
			if (run->groups[g].ndigits < 2 && !run->groups[g].paren)
				return;
		/* thousands separators: 1.299.000 */
		if (seps == SEP_DOT && first->ndigits <= 3) {
			unsigned g;

			for (g = a + 1; g < b; g++)
				if (run->groups[g].ndigits != 3)
					break;
			if (g == b)
				return;
		}
		/* a range: 2016-2019, 1000/2000 */
		if (b - a == 2 && !cue &&
		    (seps == SEP_DASH || seps == SEP_SLASH) &&
		    first->ndigits == run->groups[a + 1].ndigits &&
		    first->ndigits <= 4 &&
		    group_value(run, &run->groups[a + 1]) >
		    group_value(run, first))
			return;
		/* ZIP+4 */
		if (b - a == 2 && first->ndigits == 5 &&
		    run->groups[a + 1].ndigits == 4 && seps == SEP_DASH &&
		    !cue)
			return;
		if (blank_only && n < 9 && !cue)
			return;
	}
	if (phone_allowed(scan, d, n, intl))
		return;
	rg_report(scan, RG_RULE_PHONE_NUMBER, part, beg, end - beg);
}

/*
 * phone_run - judge one candidate run: cut out order ids and, in an
 * over-long run, cut at spaced dashes and slashes; judge each piece.
 */
static void
phone_run(rg_scan *scan, const struct rg_part *part, const struct run *run)
{
	unsigned a = 0;

	while (a < run->ngroups) {
		unsigned b = a, total = 0;

		/* the piece ends before the next order id */
		while (b < run->ngroups && !is_order_id(run, b))
			b++;
		for (unsigned g = a; g < b; g++)
			total += run->groups[g].ndigits;
		if (total > PHONE_MAX_DIGITS) {
			unsigned from = a;

			for (unsigned g = a + 1; g <= b; g++) {
				if (g < b &&
				    !(run->groups[g].sep & SEP_SPACED))
					continue;
				phone_piece(scan, part, run, from, g);
				from = g;
			}
		} else if (b > a) {
			phone_piece(scan, part, run, a, b);
		}
		a = b < run->ngroups ? b + 3 : b;
	}
}

static void
phone_scan_part(rg_scan *scan, const struct rg_part *part)
{
	struct run run;
	size_t pos = 0, ms, me;

	while (rg_match(scan, RG_PAT_PHONE, part->text, part->text_len, pos,
	                &ms, &me) == 1) {
		me = run_end(part->text, part->text_len, me);
		pos = me > ms ? me : next_char(part->text, part->text_len, ms);
		if (run_parse(part->text, ms, me, &run) < 0 ||
		    run.ngroups == 0)
			continue;
		phone_run(scan, part, &run);
	}
}

void
rg_rules_contact(rg_scan *scan, const struct rg_view *view)
{
	int email = rg_rule_active(scan, RG_RULE_EMAIL_ADDRESS);
	int phone = rg_rule_active(scan, RG_RULE_PHONE_NUMBER);

	if (!email && !phone)
		return;
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];

		if (!rg_part_is_text(part) || part->text == NULL)
			continue;
		if (email)
			email_scan_part(scan, part);
		if (phone)
			phone_scan_part(scan, part);
	}
}
