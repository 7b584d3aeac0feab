/*
 * html.c - reduce an HTML part to its visible text, its links and the
 * facts of its markup.
 *
 * libxml2's HTML parser builds the tree (entities decoded, unclosed tags
 * closed the way browsers close them); one walk over the tree writes the
 * text by the layout rules of html.h, collects every URL the buyer can
 * click or whose content a mail client loads, and records what the
 * structure rules judge: images, active content, formatting and hidden
 * text (struct rg_html_facts).
 *
 * Styles: each element's style is its presentational attributes (align=,
 * bgcolor=, <font color= face= size=>, hidden), then the rules of the
 * document's <style> elements whose selector is simple (tag, .class,
 * tag.class, #id, tag#id or *; in the order * < tag < class < id, a
 * stand-in for specificity), then its style attribute.  Declarations are
 * read by a small tolerant parser: comments, CSS escapes ("dis\70 lay")
 * and !important are understood; anything it cannot read is ignored.
 * Inheritance is followed where hiding depends on it: display:none,
 * opacity:0 and the like hide everything inside for good,
 * visibility:hidden until a descendant says visible, and a tiny font or a
 * text colour equal to the background until a descendant sets its own.
 *
 * Input is hostile: the walk follows parent/next pointers instead of
 * recursing, so nesting depth costs no stack (the per-element state is a
 * heap array), and the parser runs with XML_PARSE_HUGE because without it
 * libxml2 stops at depth 256 and drops the rest of the document (whatever
 * follows 256 <div>s would never be judged).  Style sheets keep only rules
 * whose class, id or tag the document uses, and each rule is parsed once,
 * so styles cost time and memory linear in the input.  Each call has its
 * own parser context: nothing here is shared between threads.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "html.h"
#include "normalize.h"

#define HTML_PARSE_OPTIONS (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | \
                            HTML_PARSE_NOWARNING | HTML_PARSE_NONET | \
                            XML_PARSE_HUGE)

/* What an element does to the text. */
#define EL_BLOCK   0x01u  /* starts and ends on a line of its own */
#define EL_CELL    0x02u  /* td, th: a space after the previous cell */
#define EL_BREAK   0x04u  /* br: always a newline */
#define EL_HIDDEN  0x08u  /* nothing inside is visible */
#define EL_PRE     0x10u  /* whitespace inside is kept */
#define EL_RAW     0x20u  /* raw text inside (script, style): not walked */
#define EL_CSS     0x40u  /* style: its text is CSS */
/* What it is to the structure rules. */
#define EL_ACTIVE  0x100u /* active content: scripts, frames, forms, ... */
#define EL_HOLDER  0x200u /* active, and its active children are its own */
#define EL_NOALIGN 0x400u /* align= is not about text (img, hr, table) */

struct html_element {
	const char *name;
	unsigned flags;
};

/* Sorted by name (bsearch); elements not listed are inline. */
static const struct html_element html_elements[] = {
	{ "address", EL_BLOCK },
	{ "applet", EL_ACTIVE | EL_HOLDER },
	{ "article", EL_BLOCK },
	{ "aside", EL_BLOCK },
	{ "audio", EL_ACTIVE | EL_HOLDER },
	{ "blockquote", EL_BLOCK },
	{ "br", EL_BREAK },
	{ "button", EL_ACTIVE },
	{ "caption", EL_BLOCK },
	{ "center", EL_BLOCK },
	{ "dd", EL_BLOCK },
	{ "details", EL_BLOCK },
	{ "dialog", EL_BLOCK },
	{ "dir", EL_BLOCK },
	{ "div", EL_BLOCK },
	{ "dl", EL_BLOCK },
	{ "dt", EL_BLOCK },
	{ "embed", EL_ACTIVE | EL_HOLDER | EL_NOALIGN },
	{ "fieldset", EL_BLOCK },
	{ "figcaption", EL_BLOCK },
	{ "figure", EL_BLOCK },
	{ "footer", EL_BLOCK },
	{ "form", EL_BLOCK | EL_ACTIVE | EL_HOLDER },
	{ "frame", EL_ACTIVE | EL_NOALIGN },
	{ "frameset", EL_ACTIVE | EL_HOLDER },
	{ "h1", EL_BLOCK },
	{ "h2", EL_BLOCK },
	{ "h3", EL_BLOCK },
	{ "h4", EL_BLOCK },
	{ "h5", EL_BLOCK },
	{ "h6", EL_BLOCK },
	{ "head", EL_HIDDEN },
	{ "header", EL_BLOCK },
	{ "hgroup", EL_BLOCK },
	{ "hr", EL_BLOCK | EL_NOALIGN },
	{ "iframe", EL_HIDDEN | EL_ACTIVE | EL_NOALIGN },
	{ "img", EL_NOALIGN },
	{ "input", EL_ACTIVE | EL_NOALIGN },
	{ "isindex", EL_ACTIVE },
	{ "keygen", EL_ACTIVE },
	{ "legend", EL_BLOCK },
	{ "li", EL_BLOCK },
	{ "listing", EL_BLOCK | EL_PRE },
	{ "main", EL_BLOCK },
	{ "menu", EL_BLOCK },
	{ "nav", EL_BLOCK },
	{ "noscript", EL_HIDDEN },
	{ "object", EL_ACTIVE | EL_HOLDER | EL_NOALIGN },
	{ "ol", EL_BLOCK },
	{ "p", EL_BLOCK },
	{ "plaintext", EL_BLOCK | EL_PRE },
	{ "portal", EL_ACTIVE },
	{ "pre", EL_BLOCK | EL_PRE },
	{ "script", EL_HIDDEN | EL_RAW | EL_ACTIVE },
	{ "section", EL_BLOCK },
	{ "select", EL_ACTIVE | EL_HOLDER },
	{ "style", EL_HIDDEN | EL_RAW | EL_CSS },
	{ "summary", EL_BLOCK },
	{ "table", EL_BLOCK | EL_NOALIGN },
	{ "td", EL_CELL },
	{ "template", EL_HIDDEN },
	{ "textarea", EL_PRE | EL_ACTIVE },
	{ "th", EL_CELL },
	{ "title", EL_HIDDEN },
	{ "tr", EL_BLOCK },
	{ "ul", EL_BLOCK },
	{ "video", EL_ACTIVE | EL_HOLDER },
	{ "xmp", EL_BLOCK | EL_PRE },
};

/* How an attribute's value holds URLs. */
enum html_url_kind {
	URL_PLAIN,        /* the whole value */
	URL_INPUT_IMAGE,  /* the whole value, on <input type=image> only */
	URL_SRCSET,       /* "url 1x, url 2x" */
	URL_CSS,          /* url(...) in a style attribute */
};

struct html_link_attr {
	const char *attr;
	const char *element;  /* NULL: on any element */
	enum rg_link_origin origin;
	enum html_url_kind kind;
};

/* Checked in order; the first row naming the attribute and element wins. */
static const struct html_link_attr html_link_attrs[] = {
	{ "href", "a", RG_LINK_HREF, URL_PLAIN },
	{ "href", "area", RG_LINK_HREF, URL_PLAIN },
	{ "href", "base", RG_LINK_HREF, URL_PLAIN },
	{ "href", "link", RG_LINK_SRC, URL_PLAIN },      /* stylesheets */
	{ "href", "image", RG_LINK_SRC, URL_PLAIN },     /* SVG */
	{ "xlink:href", "a", RG_LINK_HREF, URL_PLAIN },
	{ "xlink:href", NULL, RG_LINK_SRC, URL_PLAIN },
	{ "src", "img", RG_LINK_SRC, URL_PLAIN },
	{ "src", "iframe", RG_LINK_SRC, URL_PLAIN },
	{ "src", "frame", RG_LINK_SRC, URL_PLAIN },
	{ "src", "embed", RG_LINK_SRC, URL_PLAIN },
	{ "src", "script", RG_LINK_SRC, URL_PLAIN },
	{ "src", "source", RG_LINK_SRC, URL_PLAIN },
	{ "src", "video", RG_LINK_SRC, URL_PLAIN },
	{ "src", "audio", RG_LINK_SRC, URL_PLAIN },
	{ "src", "track", RG_LINK_SRC, URL_PLAIN },
	{ "src", "input", RG_LINK_SRC, URL_INPUT_IMAGE },
	{ "lowsrc", "img", RG_LINK_SRC, URL_PLAIN },
	{ "dynsrc", "img", RG_LINK_SRC, URL_PLAIN },
	{ "srcset", "img", RG_LINK_SRC, URL_SRCSET },
	{ "srcset", "source", RG_LINK_SRC, URL_SRCSET },
	{ "poster", "video", RG_LINK_SRC, URL_PLAIN },
	{ "data", "object", RG_LINK_SRC, URL_PLAIN },
	{ "background", NULL, RG_LINK_SRC, URL_PLAIN },
	{ "action", "form", RG_LINK_HREF, URL_PLAIN },
	{ "formaction", NULL, RG_LINK_HREF, URL_PLAIN },
	{ "style", NULL, RG_LINK_CSS, URL_CSS },
};

/* Attributes whose URL runs script when it is javascript: and the like. */
static const char *const html_script_url_attrs[] = {
	"action", "background", "data", "dynsrc", "formaction", "href",
	"lowsrc", "poster", "src", "srcset", "xlink:href",
};

/* Limits on what one excerpt or recorded string copies. */
#define EXCERPT_URL_BYTES    48   /* a URL in an excerpt, then "..." */
#define EXCERPT_VALUE_BYTES  40   /* another attribute value */
#define EXCERPT_TEXT_BYTES   80   /* hidden text after its element */
#define IMAGE_SRC_BYTES      2048
#define IMAGE_ALT_BYTES      512
#define CSS_FAMILY_BYTES     48
#define CSS_RAW_BYTES        24
#define CSS_SPACING_BYTES    40
#define CSS_KEY_BYTES        200  /* longer selectors are never looked up */

/* NFKC is applied to text in pieces of about this size (see stage_put). */
#define STAGE_SOFT_BYTES     4096
#define STAGE_HARD_BYTES     65536
#define STAGE_MAX_BYTES      (1024 * 1024)

/* Hiding thresholds. */
#define TINY_FONT_PX100      200     /* font-size 2px or less */
#define OFFSCREEN_PX100      (-20000L) /* -200px or further */
#define COLLAPSED_PX100      100     /* height:1px or less, overflow:hidden */
#define TRANSPARENT_ALPHA    26      /* of 255: opacity 0.1 or less */
#define SAME_COLOUR_DELTA    48      /* |dR|+|dG|+|dB| */
#define NEAR_BLACK           0x33    /* every channel: default text */
#define NEAR_WHITE           0xF0    /* every channel: default background */
/* A 600px-wide body and a 16px font, to turn % and em into pixels. */
#define BODY_WIDTH_PX        600
#define BODY_FONT_PX100      1600

/* ------------------------------------------------------------------ */
/* Small string helpers                                                 */

/* html_is_space - HTML's ASCII whitespace */
static int
html_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
html_element_cmp(const void *key, const void *member)
{
	const struct html_element *element = member;

	return g_ascii_strcasecmp(key, element->name);
}

/* html_element_flags - EL_* of an element by name; 0 when inline */
static unsigned
html_element_flags(const xmlChar *name)
{
	const struct html_element *element;

	if (name == NULL)
		return 0;
	element = bsearch(name, html_elements, G_N_ELEMENTS(html_elements),
	                  sizeof(html_elements[0]), html_element_cmp);
	return element != NULL ? element->flags : 0;
}

/* is_name - the node's element name is name (ASCII case ignored) */
static int
is_name(xmlNodePtr node, const char *name)
{
	return node->name != NULL &&
	       g_ascii_strcasecmp((const char *)node->name, name) == 0;
}

/*
 * utf8_seq - length of the well-formed UTF-8 sequence at s (NUL-terminated),
 * or 0 when it is not one.
 */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* utf8_cut - the longest prefix of s[0..n) of at most max bytes that ends
 * at a character boundary (s is valid UTF-8) */
static size_t
utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* set_raw - s[0..n) into dst[size], cut at a character boundary */
static void
set_raw(char *dst, size_t size, const char *s, size_t n)
{
	n = utf8_cut(s, n, size - 1);
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/*
 * append_clean - s[0..n) (valid UTF-8) to out with whitespace and control
 * runs made one space, cut to max bytes at a character boundary with
 * "..." when cut.
 */
static void
append_clean(GString *out, const char *s, size_t n, size_t max)
{
	size_t keep = utf8_cut(s, n, max);
	int space = 0;

	for (size_t i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7F) {
			space = 1;
			continue;
		}
		if (c == ' ') {
			space = 1;
			continue;
		}
		if (space && out->len > 0 && out->str[out->len - 1] != ' ' &&
		    out->str[out->len - 1] != '"' &&
		    out->str[out->len - 1] != '>')
			g_string_append_c(out, ' ');
		space = 0;
		g_string_append_c(out, (char)c);
	}
	if (keep < n)
		g_string_append(out, "...");
}

/* dup_clean - a cleaned, bounded copy of s (see append_clean) */
static char *
dup_clean(const char *s, size_t max)
{
	GString *out = g_string_new(NULL);

	append_clean(out, s, strlen(s), max);
	return g_string_free(out, FALSE);
}

/* trim - s[0..*n) without ASCII spaces and controls at either end */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && (unsigned char)s[0] <= 0x20) {
		s++;
		(*n)--;
	}
	while (*n > 0 && (unsigned char)s[*n - 1] <= 0x20)
		(*n)--;
	return s;
}

/* has_class - the class attribute value lists name (ASCII case ignored) */
static int
has_class(const char *classes, const char *name)
{
	size_t n = strlen(name);
	const char *s = classes;

	if (s == NULL)
		return 0;
	for (;;) {
		const char *start;

		while (*s != '\0' && html_is_space((unsigned char)*s))
			s++;
		if (*s == '\0')
			return 0;
		start = s;
		while (*s != '\0' && !html_is_space((unsigned char)*s))
			s++;
		if ((size_t)(s - start) == n &&
		    g_ascii_strncasecmp(start, name, n) == 0)
			return 1;
	}
}

/* ------------------------------------------------------------------ */
/* CSS values                                                           */

enum css_unit { LEN_PX, LEN_PCT, LEN_EM, LEN_REM };

/* A CSS length: v is the number x 100 (saturated) in unit. */
struct css_len {
	long v;
	unsigned char unit;
};

#define CSS_NUM_MAX 1000000000L

/*
 * css_number - an optional sign, digits and decimals at s[*i..n): x 100,
 * saturated at +-CSS_NUM_MAX; 1 and *i past it when there is one.
 */
static int
css_number(const char *s, size_t n, size_t *i, long *v_r)
{
	size_t j = *i;
	long ip = 0, fp = 0;
	int neg = 0, digits = 0, fd = 0;

	if (j < n && (s[j] == '+' || s[j] == '-'))
		neg = s[j++] == '-';
	while (j < n && g_ascii_isdigit(s[j])) {
		if (ip < CSS_NUM_MAX / 100)
			ip = ip * 10 + (s[j] - '0');
		j++;
		digits++;
	}
	if (j < n && s[j] == '.' && j + 1 < n && g_ascii_isdigit(s[j + 1])) {
		j++;
		while (j < n && g_ascii_isdigit(s[j])) {
			if (fd < 2) {
				fp = fp * 10 + (s[j] - '0');
				fd++;
			}
			j++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	while (fd < 2) {
		fp *= 10;
		fd++;
	}
	if (ip > CSS_NUM_MAX / 100)
		ip = CSS_NUM_MAX / 100;
	*v_r = neg ? -(ip * 100 + fp) : ip * 100 + fp;
	*i = j;
	return 1;
}

/* css_scale - v * num / den, saturated */
static long
css_scale(long v, long num, long den)
{
	long long r = (long long)v * num / den;

	if (r > CSS_NUM_MAX)
		return CSS_NUM_MAX;
	if (r < -CSS_NUM_MAX)
		return -CSS_NUM_MAX;
	return (long)r;
}

/*
 * css_length - a lower-case token "12px", "1.5em", "80%", "0" (unitless
 * is taken as px, as mail clients in quirks mode do); absolute units
 * become px.  Returns 0 for anything else.
 */
static int
css_length(const char *s, size_t n, struct css_len *len)
{
	static const struct {
		const char *unit;
		unsigned char kind;
		long num, den;
	} units[] = {
		{ "", LEN_PX, 1, 1 },      { "px", LEN_PX, 1, 1 },
		{ "pt", LEN_PX, 4, 3 },    { "pc", LEN_PX, 16, 1 },
		{ "in", LEN_PX, 96, 1 },   { "cm", LEN_PX, 378, 10 },
		{ "mm", LEN_PX, 378, 100 }, { "q", LEN_PX, 945, 1000 },
		{ "em", LEN_EM, 1, 1 },    { "rem", LEN_REM, 1, 1 },
		{ "ex", LEN_EM, 1, 2 },    { "ch", LEN_EM, 1, 2 },
		{ "%", LEN_PCT, 1, 1 },    { "vw", LEN_PX, 6, 1 },
		{ "vmin", LEN_PX, 6, 1 },  { "vh", LEN_PX, 8, 1 },
		{ "vmax", LEN_PX, 8, 1 },
	};
	size_t i = 0;
	long v;

	if (!css_number(s, n, &i, &v))
		return 0;
	for (size_t u = 0; u < G_N_ELEMENTS(units); u++) {
		if (strlen(units[u].unit) == n - i &&
		    memcmp(s + i, units[u].unit, n - i) == 0) {
			len->v = css_scale(v, units[u].num, units[u].den);
			len->unit = units[u].kind;
			return 1;
		}
	}
	return 0;
}

/* css_px - a length in px x 100, % of the 600px body width */
static long
css_px(const struct css_len *len)
{
	switch (len->unit) {
	case LEN_PCT:
		return css_scale(len->v, BODY_WIDTH_PX, 100);
	case LEN_EM:
	case LEN_REM:
		return css_scale(len->v, BODY_FONT_PX100, 100);
	default:
		return len->v;
	}
}

/* append_number - v / 100 with up to two decimals */
static void
append_number(GString *out, long v)
{
	long a = v < 0 ? -v : v;

	g_string_append_printf(out, "%s%ld", v < 0 ? "-" : "", a / 100);
	if (a % 100 != 0) {
		if (a % 10 == 0)
			g_string_append_printf(out, ".%ld", (a % 100) / 10);
		else
			g_string_append_printf(out, ".%02ld", a % 100);
	}
}

static void
append_length(GString *out, const struct css_len *len)
{
	static const char *const names[] = { "px", "%", "em", "rem" };

	append_number(out, len->v);
	g_string_append(out, names[len->unit]);
}

enum css_color_kind {
	COLOR_NONE = 0,       /* not set */
	COLOR_RGB,            /* rgb is the colour */
	COLOR_TRANSPARENT,    /* alpha (nearly) zero */
	COLOR_DEFAULT,        /* currentcolor, inherit, windowtext, ... */
	COLOR_UNKNOWN,        /* a value not understood */
};

struct css_color {
	unsigned char kind;
	uint32_t rgb;                 /* 0xRRGGBB */
	char raw[CSS_RAW_BYTES];      /* as written, lower case, cut */
};

static const struct {
	const char *name;
	uint32_t rgb;
} css_named_colors[] = {   /* sorted */
	{ "aliceblue", 0xF0F8FF }, { "aqua", 0x00FFFF },
	{ "azure", 0xF0FFFF }, { "beige", 0xF5F5DC },
	{ "black", 0x000000 }, { "blue", 0x0000FF },
	{ "brown", 0xA52A2A }, { "canvas", 0xFFFFFF },
	{ "cornsilk", 0xFFF8DC }, { "cyan", 0x00FFFF },
	{ "darkblue", 0x00008B }, { "darkgray", 0xA9A9A9 },
	{ "darkgreen", 0x006400 }, { "darkgrey", 0xA9A9A9 },
	{ "darkred", 0x8B0000 }, { "floralwhite", 0xFFFAF0 },
	{ "fuchsia", 0xFF00FF }, { "gainsboro", 0xDCDCDC },
	{ "ghostwhite", 0xF8F8FF }, { "gold", 0xFFD700 },
	{ "gray", 0x808080 }, { "green", 0x008000 },
	{ "grey", 0x808080 }, { "honeydew", 0xF0FFF0 },
	{ "ivory", 0xFFFFF0 }, { "lavenderblush", 0xFFF0F5 },
	{ "lightgray", 0xD3D3D3 }, { "lightgrey", 0xD3D3D3 },
	{ "lightyellow", 0xFFFFE0 }, { "lime", 0x00FF00 },
	{ "linen", 0xFAF0E6 }, { "magenta", 0xFF00FF },
	{ "maroon", 0x800000 }, { "mintcream", 0xF5FFFA },
	{ "navy", 0x000080 }, { "oldlace", 0xFDF5E6 },
	{ "olive", 0x808000 }, { "orange", 0xFFA500 },
	{ "pink", 0xFFC0CB }, { "purple", 0x800080 },
	{ "red", 0xFF0000 }, { "seashell", 0xFFF5EE },
	{ "silver", 0xC0C0C0 }, { "snow", 0xFFFAFA },
	{ "teal", 0x008080 }, { "white", 0xFFFFFF },
	{ "whitesmoke", 0xF5F5F5 }, { "window", 0xFFFFFF },
	{ "yellow", 0xFFFF00 },
};

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* css_hex - "rgb", "rgba", "rrggbb", "rrggbbaa" (lower case) */
static int
css_hex(const char *s, size_t n, struct css_color *c)
{
	unsigned v[8];
	unsigned alpha = 255;

	if (n != 3 && n != 4 && n != 6 && n != 8)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(s[i]);

		if (d < 0)
			return 0;
		v[i] = (unsigned)d;
	}
	if (n <= 4) {
		c->rgb = (v[0] * 17u) << 16 | (v[1] * 17u) << 8 | v[2] * 17u;
		if (n == 4)
			alpha = v[3] * 17u;
	} else {
		c->rgb = (v[0] << 4 | v[1]) << 16 | (v[2] << 4 | v[3]) << 8 |
		         (v[4] << 4 | v[5]);
		if (n == 8)
			alpha = v[6] << 4 | v[7];
	}
	c->kind = alpha <= TRANSPARENT_ALPHA ? COLOR_TRANSPARENT : COLOR_RGB;
	return 1;
}

static uint32_t
clamp_channel(long v100)
{
	if (v100 < 0)
		return 0;
	if (v100 > 25500)
		return 255;
	return (uint32_t)((v100 + 50) / 100);
}

/* hsl_channel - one channel of hsl(), all x 100 of [0, 1] ranges */
static long
hsl_channel(long p, long q, long t)
{
	if (t < 0)
		t += 600;
	if (t > 600)
		t -= 600;
	if (t < 100)
		return p + (q - p) * t / 100;
	if (t < 300)
		return q;
	if (t < 400)
		return p + (q - p) * (400 - t) / 100;
	return p;
}

/*
 * css_function_color - rgb()/rgba()/hsl()/hsla() arguments s[0..n) (lower
 * case, without the name and parentheses).
 */
static int
css_function_color(const char *s, size_t n, int hsl, struct css_color *c)
{
	long v[4] = { 0, 0, 0, 100 };
	int pct[4] = { 0, 0, 0, 0 };
	size_t i = 0;
	int count = 0;

	while (count < 4) {
		while (i < n && (html_is_space((unsigned char)s[i]) ||
		                 s[i] == ',' || s[i] == '/'))
			i++;
		if (i >= n || !css_number(s, n, &i, &v[count]))
			break;
		if (i < n && s[i] == '%') {
			pct[count] = 1;
			i++;
		} else if (i + 3 <= n && memcmp(s + i, "deg", 3) == 0) {
			i += 3;
		}
		count++;
	}
	if (count < 3)
		return 0;
	if (count == 4 && pct[3])
		v[3] /= 100;
	if (hsl) {
		/* h in degrees, s and l in percent; work in x 100 of [0,1] */
		long h = (v[0] / 100) % 360, sat = v[1] / 100, l = v[2] / 100;
		long q, p;

		if (h < 0)
			h += 360;
		q = l < 50 ? l * (100 + sat) / 100 : l + sat - l * sat / 100;
		p = 2 * l - q;
		h = h * 600 / 360;
		c->rgb = clamp_channel(hsl_channel(p, q, h + 200) * 255) << 16 |
		         clamp_channel(hsl_channel(p, q, h) * 255) << 8 |
		         clamp_channel(hsl_channel(p, q, h - 200) * 255);
	} else {
		uint32_t ch[3];

		for (int k = 0; k < 3; k++)
			ch[k] = clamp_channel(pct[k] ? v[k] * 255 / 100 : v[k]);
		c->rgb = ch[0] << 16 | ch[1] << 8 | ch[2];
	}
	c->kind = v[3] * 255 / 100 <= TRANSPARENT_ALPHA ? COLOR_TRANSPARENT
	                                                : COLOR_RGB;
	return 1;
}

/*
 * css_color - parse one lower-case colour token s[0..n).  With any_word,
 * an unknown word is a colour of kind COLOR_UNKNOWN (a colour property's
 * value); without, only what is surely a colour is (a background
 * shorthand's tokens).  legacy: bgcolor="ffffff" without the '#'.
 */
static int
css_color(const char *s, size_t n, int any_word, int legacy,
          struct css_color *c)
{
	static const char *const defaults[] = {
		"auto", "canvastext", "currentcolor", "inherit", "initial",
		"revert", "unset", "windowtext",
	};

	memset(c, 0, sizeof(*c));
	if (n == 0)
		return 0;
	set_raw(c->raw, sizeof(c->raw), s, n);
	if (s[0] == '#') {
		if (css_hex(s + 1, n - 1, c))
			return 1;
		goto unknown;
	}
	if (legacy && css_hex(s, n, c))
		return 1;
	if (n > 4 && (memcmp(s, "rgb(", 4) == 0 ||
	              memcmp(s, "hsl(", 4) == 0) && s[n - 1] == ')') {
		if (css_function_color(s + 4, n - 5, s[0] == 'h', c))
			return 1;
		goto unknown;
	}
	if (n > 5 && (memcmp(s, "rgba(", 5) == 0 ||
	              memcmp(s, "hsla(", 5) == 0) && s[n - 1] == ')') {
		if (css_function_color(s + 5, n - 6, s[0] == 'h', c))
			return 1;
		goto unknown;
	}
	if (n == 11 && memcmp(s, "transparent", 11) == 0) {
		c->kind = COLOR_TRANSPARENT;
		return 1;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(defaults); i++) {
		if (strlen(defaults[i]) == n && memcmp(s, defaults[i], n) == 0) {
			c->kind = COLOR_DEFAULT;
			return 1;
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(css_named_colors); i++) {
		if (strlen(css_named_colors[i].name) == n &&
		    memcmp(s, css_named_colors[i].name, n) == 0) {
			c->kind = COLOR_RGB;
			c->rgb = css_named_colors[i].rgb;
			return 1;
		}
	}
unknown:
	if (any_word) {
		c->kind = COLOR_UNKNOWN;
		return 1;
	}
	return 0;
}

static unsigned
channel(uint32_t rgb, int shift)
{
	return (rgb >> shift) & 0xFFu;
}

/* text_color_override - a text colour other than (near) black */
static int
text_color_override(const struct css_color *c)
{
	if (c->kind == COLOR_UNKNOWN || c->kind == COLOR_TRANSPARENT)
		return 1;
	if (c->kind != COLOR_RGB)
		return 0;
	return channel(c->rgb, 16) > NEAR_BLACK ||
	       channel(c->rgb, 8) > NEAR_BLACK || channel(c->rgb, 0) > NEAR_BLACK;
}

/* bg_color_override - a background other than (near) white */
static int
bg_color_override(const struct css_color *c)
{
	if (c->kind == COLOR_UNKNOWN)
		return 1;
	if (c->kind != COLOR_RGB)
		return 0;
	return channel(c->rgb, 16) < NEAR_WHITE ||
	       channel(c->rgb, 8) < NEAR_WHITE || channel(c->rgb, 0) < NEAR_WHITE;
}

static int
colors_close(uint32_t a, uint32_t b)
{
	unsigned d = 0;

	for (int shift = 0; shift <= 16; shift += 8) {
		unsigned x = channel(a, shift), y = channel(b, shift);

		d += x > y ? x - y : y - x;
	}
	return d <= SAME_COLOUR_DELTA;
}

/* ------------------------------------------------------------------ */
/* CSS declarations                                                     */

enum css_field {
	CF_DISPLAY, CF_VISIBILITY, CF_OPACITY, CF_MSO_HIDE, CF_FONT_SIZE,
	CF_COLOR, CF_BG, CF_BG_IMAGE, CF_ALIGN, CF_FONT_FAMILY,
	CF_LINE_HEIGHT, CF_MARGIN, CF_PADDING, CF_POSITION, CF_LEFT, CF_TOP,
	CF_RIGHT, CF_BOTTOM, CF_TEXT_INDENT, CF_OVERFLOW, CF_WIDTH, CF_HEIGHT,
	CF_MAX_WIDTH, CF_MAX_HEIGHT, CF_ACTIVE,
	CF_COUNT
};

#define CF_BIT(f) (1u << (f))
/* Fields that are formatting (a mail client's defaults excepted). */
#define CF_FORMATTING (CF_BIT(CF_FONT_SIZE) | CF_BIT(CF_COLOR) | \
                       CF_BIT(CF_BG) | CF_BIT(CF_ALIGN) | \
                       CF_BIT(CF_FONT_FAMILY) | CF_BIT(CF_LINE_HEIGHT) | \
                       CF_BIT(CF_MARGIN) | CF_BIT(CF_PADDING))

enum css_align { ALIGN_PLAIN, ALIGN_CENTER, ALIGN_RIGHT, ALIGN_JUSTIFY };

static const char *const css_align_names[] = {
	"left", "center", "right", "justify",
};

/* The declarations of one style attribute, rule or element. */
struct css_props {
	uint32_t set;                /* CF_BIT: which fields are given */
	unsigned char display_none, vis_hidden, opacity_zero, mso_hide;
	unsigned char positioned, overflow_hidden, align;
	char line_height[CSS_RAW_BYTES];   /* "" for normal */
	char font_raw[CSS_RAW_BYTES];
	struct css_len font, left, top, right, bottom, text_indent;
	struct css_len width, height, max_width, max_height;
	struct css_color color, bg;
	long margin_max, margin_min, padding_max;   /* px x 100 */
	char margin[CSS_SPACING_BYTES], padding[CSS_SPACING_BYTES];
	char *font_family;           /* owned in rules and inline styles */
	char *bg_url;                /* owned likewise; "" for none */
	const char *active;          /* static: what makes it active */
};

static void
css_props_clear(struct css_props *p)
{
	g_free(p->font_family);
	g_free(p->bg_url);
	memset(p, 0, sizeof(*p));
}

/*
 * css_copy_field - field f of src into dst; strings are borrowed (the
 * element's view) or stolen from src (merging rules: steal).
 */
static void
css_copy_field(struct css_props *dst, struct css_props *src,
               enum css_field f, int steal)
{
	dst->set |= CF_BIT(f);
	switch (f) {
	case CF_DISPLAY:
		dst->display_none = src->display_none;
		break;
	case CF_VISIBILITY:
		dst->vis_hidden = src->vis_hidden;
		break;
	case CF_OPACITY:
		dst->opacity_zero = src->opacity_zero;
		break;
	case CF_MSO_HIDE:
		dst->mso_hide = src->mso_hide;
		break;
	case CF_FONT_SIZE:
		dst->font = src->font;
		memcpy(dst->font_raw, src->font_raw, sizeof(dst->font_raw));
		break;
	case CF_COLOR:
		dst->color = src->color;
		break;
	case CF_BG:
		dst->bg = src->bg;
		break;
	case CF_BG_IMAGE:
		if (steal) {
			g_free(dst->bg_url);
			dst->bg_url = src->bg_url;
			src->bg_url = NULL;
		} else {
			dst->bg_url = src->bg_url;
		}
		break;
	case CF_ALIGN:
		dst->align = src->align;
		break;
	case CF_FONT_FAMILY:
		if (steal) {
			g_free(dst->font_family);
			dst->font_family = src->font_family;
			src->font_family = NULL;
		} else {
			dst->font_family = src->font_family;
		}
		break;
	case CF_LINE_HEIGHT:
		memcpy(dst->line_height, src->line_height,
		       sizeof(dst->line_height));
		break;
	case CF_MARGIN:
		dst->margin_max = src->margin_max;
		dst->margin_min = src->margin_min;
		memcpy(dst->margin, src->margin, sizeof(dst->margin));
		break;
	case CF_PADDING:
		dst->padding_max = src->padding_max;
		memcpy(dst->padding, src->padding, sizeof(dst->padding));
		break;
	case CF_POSITION:
		dst->positioned = src->positioned;
		break;
	case CF_LEFT:
		dst->left = src->left;
		break;
	case CF_TOP:
		dst->top = src->top;
		break;
	case CF_RIGHT:
		dst->right = src->right;
		break;
	case CF_BOTTOM:
		dst->bottom = src->bottom;
		break;
	case CF_TEXT_INDENT:
		dst->text_indent = src->text_indent;
		break;
	case CF_OVERFLOW:
		dst->overflow_hidden = src->overflow_hidden;
		break;
	case CF_WIDTH:
		dst->width = src->width;
		break;
	case CF_HEIGHT:
		dst->height = src->height;
		break;
	case CF_MAX_WIDTH:
		dst->max_width = src->max_width;
		break;
	case CF_MAX_HEIGHT:
		dst->max_height = src->max_height;
		break;
	case CF_ACTIVE:
		dst->active = src->active;
		break;
	case CF_COUNT:
		break;
	}
}

/*
 * css_unescape - s[0..n) with CSS escapes resolved ("\70" is "p", "\:" is
 * ":"), appended to out; a code point that is NUL, a surrogate or too big
 * becomes U+FFFD.
 */
static void
css_unescape(GString *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		gunichar cp = 0;
		size_t k = 0;

		if (s[i] != '\\' || i + 1 >= n) {
			g_string_append_c(out, s[i]);
			continue;
		}
		i++;
		while (k < 6 && i + k < n && g_ascii_isxdigit(s[i + k])) {
			cp = cp * 16 + (gunichar)g_ascii_xdigit_value(s[i + k]);
			k++;
		}
		if (k == 0) {
			if (s[i] != '\n')
				g_string_append_c(out, s[i]);
			continue;
		}
		i += k;
		if (i < n && html_is_space((unsigned char)s[i])) {
			if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
		} else {
			i--;
		}
		if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			cp = 0xFFFD;
		g_string_append_unichar(out, cp);
	}
}

/* lower_copy - an ASCII-lower-case copy of s[0..n) into out (replaced) */
static void
lower_copy(GString *out, const char *s, size_t n)
{
	g_string_truncate(out, 0);
	g_string_append_len(out, s, (gssize)n);
	for (size_t i = 0; i < out->len; i++)
		out->str[i] = g_ascii_tolower(out->str[i]);
}

/* Scratch strings for the declaration parser. */
struct css_scratch {
	GString *name, *value, *lower;
};

static int
word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/*
 * next_token - the next whitespace-separated token of s[*i..n), not split
 * inside parentheses or quotes; 0 at the end.
 */
static int
next_token(const char *s, size_t n, size_t *i, size_t *start_r,
           size_t *len_r)
{
	size_t j = *i;
	int depth = 0;
	char quote = 0;

	while (j < n && (html_is_space((unsigned char)s[j]) || s[j] == ','))
		j++;
	if (j >= n)
		return 0;
	*start_r = j;
	while (j < n) {
		char c = s[j];

		if (quote != 0) {
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (depth > 0)
				depth--;
		} else if (depth == 0 && (html_is_space((unsigned char)c) ||
		                          c == ',')) {
			break;
		}
		j++;
	}
	*len_r = j - *start_r;
	*i = j;
	return 1;
}

/* css_url_value - the URL of a "url(...)" token (quotes dropped) */
static char *
css_url_value(const char *s, size_t n)
{
	size_t m;
	const char *u;

	if (n < 5 || g_ascii_strncasecmp(s, "url(", 4) != 0)
		return NULL;
	u = s + 4;
	m = n - 4;
	if (m > 0 && u[m - 1] == ')')
		m--;
	u = trim(u, &m);
	if (m >= 2 && (u[0] == '"' || u[0] == '\'') && u[m - 1] == u[0]) {
		u++;
		m -= 2;
	} else if (m >= 1 && (u[0] == '"' || u[0] == '\'')) {
		u++;
		m--;
	}
	u = trim(u, &m);
	return g_strndup(u, utf8_cut(u, m, IMAGE_SRC_BYTES));
}

/* css_spacing - margin or padding values: widest and most negative */
static void
css_spacing(const char *lv, size_t n, long *max_r, long *min_r)
{
	size_t i = 0, start, len;

	*max_r = 0;
	*min_r = 0;
	while (next_token(lv, n, &i, &start, &len)) {
		struct css_len l;
		long px;

		if (!css_length(lv + start, len, &l))
			continue;
		px = css_px(&l);
		if (px > *max_r)
			*max_r = px;
		if (px < *min_r)
			*min_r = px;
	}
}

/* css_font_size - a font-size value; 1 when understood */
static int
css_font_size(const char *lv, size_t n, struct css_len *len)
{
	static const struct {
		const char *word;
		long v;
		unsigned char unit;
	} words[] = {
		{ "xx-small", 900, LEN_PX }, { "x-small", 1000, LEN_PX },
		{ "small", 1300, LEN_PX }, { "medium", 1600, LEN_PX },
		{ "large", 1800, LEN_PX }, { "x-large", 2400, LEN_PX },
		{ "xx-large", 3200, LEN_PX }, { "xxx-large", 4800, LEN_PX },
		{ "smaller", 83, LEN_EM }, { "larger", 120, LEN_EM },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
		if (word_is(lv, n, words[i].word)) {
			len->v = words[i].v;
			len->unit = words[i].unit;
			return 1;
		}
	}
	return css_length(lv, n, len) && len->v >= 0;
}

/* set_decl - a declaration as written, trimmed and cut, for excerpts */
static void
set_decl(char *dst, size_t size, const char *s, size_t n)
{
	s = trim(s, &n);
	set_raw(dst, size, s, n);
}

static void
set_family(struct css_props *p, const char *v, size_t n)
{
	GString *out = g_string_new(NULL);

	append_clean(out, v, n, CSS_FAMILY_BYTES);
	g_free(p->font_family);
	p->font_family = g_string_free(out, FALSE);
	p->set |= CF_BIT(CF_FONT_FAMILY);
}

static void
set_line_height(struct css_props *p, const char *lv, size_t n)
{
	if (word_is(lv, n, "normal"))
		n = 0;
	set_raw(p->line_height, sizeof(p->line_height), lv, n);
	p->set |= CF_BIT(CF_LINE_HEIGHT);
}

/* css_font_shorthand - "font: italic bold 12px/1.5 Arial, sans-serif" */
static void
css_font_shorthand(struct css_props *p, const char *v, const char *lv,
                   size_t n)
{
	size_t i = 0, start, len;

	while (next_token(lv, n, &i, &start, &len)) {
		const char *slash = memchr(lv + start, '/', len);
		size_t size_len = slash != NULL ? (size_t)(slash - (lv + start))
		                                : len;
		struct css_len size;

		if (!css_font_size(lv + start, size_len, &size))
			continue;
		p->font = size;
		set_raw(p->font_raw, sizeof(p->font_raw), lv + start, size_len);
		p->set |= CF_BIT(CF_FONT_SIZE);
		if (slash != NULL)
			set_line_height(p, slash + 1, len - size_len - 1);
		while (i < n && html_is_space((unsigned char)lv[i]))
			i++;
		if (i < n)
			set_family(p, v + i, n - i);
		return;
	}
}

/* css_background - "background: #fff url(x.png) no-repeat" */
static void
css_background(struct css_props *p, const char *v, const char *lv, size_t n)
{
	size_t i = 0, start, len;

	while (next_token(lv, n, &i, &start, &len)) {
		struct css_color c;

		if (len >= 4 && memcmp(lv + start, "url(", 4) == 0) {
			g_free(p->bg_url);
			p->bg_url = css_url_value(v + start, len);
			p->set |= CF_BIT(CF_BG_IMAGE);
		} else if (css_color(lv + start, len, 0, 0, &c)) {
			p->bg = c;
			p->set |= CF_BIT(CF_BG);
		}
	}
}

static void
set_length(struct css_props *p, enum css_field f, struct css_len *dst,
           const char *lv, size_t n)
{
	if (css_length(lv, n, dst))
		p->set |= CF_BIT(f);
}

/* css_script - a value that runs script: expression(), javascript: */
static const char *
css_script(const char *lv)
{
	if (strstr(lv, "expression(") != NULL)
		return "expression()";
	if (strstr(lv, "javascript:") != NULL)
		return "javascript:";
	if (strstr(lv, "vbscript:") != NULL)
		return "vbscript:";
	return NULL;
}

/*
 * css_declaration - one "name: value" (comments already removed) into p.
 */
static void
css_declaration(struct css_props *p, const char *s, size_t n,
                struct css_scratch *t)
{
	const char *colon = memchr(s, ':', n);
	const char *name, *v, *lv, *script;
	size_t name_len, vn, ln;

	if (colon == NULL)
		return;
	name_len = (size_t)(colon - s);
	name = trim(s, &name_len);
	g_string_truncate(t->value, 0);
	css_unescape(t->value, name, name_len);
	lower_copy(t->name, t->value->str, t->value->len);

	vn = n - (size_t)(colon - s) - 1;
	v = trim(colon + 1, &vn);
	g_string_truncate(t->value, 0);
	css_unescape(t->value, v, vn);
	/* "!important", "! important" */
	{
		char *bang = strrchr(t->value->str, '!');

		if (bang != NULL) {
			const char *w = bang + 1;

			while (html_is_space((unsigned char)*w))
				w++;
			if (g_ascii_strncasecmp(w, "important", 9) == 0)
				g_string_truncate(t->value,
				                  (gsize)(bang - t->value->str));
		}
	}
	vn = t->value->len;
	v = trim(t->value->str, &vn);
	lower_copy(t->lower, v, vn);
	lv = t->lower->str;
	ln = t->lower->len;
	name = t->name->str;

	script = css_script(lv);
	if (script != NULL) {
		p->active = script;
		p->set |= CF_BIT(CF_ACTIVE);
	}
	if (strcmp(name, "display") == 0) {
		p->display_none = word_is(lv, ln, "none");
		p->set |= CF_BIT(CF_DISPLAY);
	} else if (strcmp(name, "visibility") == 0) {
		if (word_is(lv, ln, "hidden") || word_is(lv, ln, "collapse"))
			p->vis_hidden = 1;
		else if (word_is(lv, ln, "visible"))
			p->vis_hidden = 0;
		else
			return;
		p->set |= CF_BIT(CF_VISIBILITY);
	} else if (strcmp(name, "opacity") == 0) {
		size_t i = 0;
		long o;

		if (!css_number(lv, ln, &i, &o))
			return;
		if (i < ln && lv[i] == '%')
			o /= 100;
		p->opacity_zero = o * 255 / 100 <= TRANSPARENT_ALPHA;
		p->set |= CF_BIT(CF_OPACITY);
	} else if (strcmp(name, "mso-hide") == 0) {
		p->mso_hide = word_is(lv, ln, "all");
		p->set |= CF_BIT(CF_MSO_HIDE);
	} else if (strcmp(name, "font-size") == 0) {
		if (css_font_size(lv, ln, &p->font)) {
			set_raw(p->font_raw, sizeof(p->font_raw), lv, ln);
			p->set |= CF_BIT(CF_FONT_SIZE);
		}
	} else if (strcmp(name, "font") == 0) {
		css_font_shorthand(p, v, lv, ln);
	} else if (strcmp(name, "font-family") == 0) {
		if (ln > 0 && !word_is(lv, ln, "inherit") &&
		    !word_is(lv, ln, "initial") && !word_is(lv, ln, "unset") &&
		    !word_is(lv, ln, "revert"))
			set_family(p, v, vn);
	} else if (strcmp(name, "line-height") == 0) {
		if (!word_is(lv, ln, "inherit") && !word_is(lv, ln, "initial") &&
		    !word_is(lv, ln, "unset"))
			set_line_height(p, lv, ln);
	} else if (strcmp(name, "color") == 0 ||
	           strcmp(name, "-webkit-text-fill-color") == 0) {
		if (css_color(lv, ln, 1, 0, &p->color)) {
			/* as written, for the excerpt */
			set_raw(p->color.raw, sizeof(p->color.raw), v, vn);
			p->set |= CF_BIT(CF_COLOR);
		}
	} else if (strcmp(name, "background-color") == 0) {
		if (css_color(lv, ln, 1, 0, &p->bg)) {
			set_raw(p->bg.raw, sizeof(p->bg.raw), v, vn);
			p->set |= CF_BIT(CF_BG);
		}
	} else if (strcmp(name, "background") == 0) {
		css_background(p, v, lv, ln);
	} else if (strcmp(name, "background-image") == 0) {
		g_free(p->bg_url);
		p->bg_url = css_url_value(v, vn);
		if (p->bg_url == NULL)
			p->bg_url = g_strdup("");
		p->set |= CF_BIT(CF_BG_IMAGE);
	} else if (strcmp(name, "text-align") == 0) {
		if (strstr(lv, "center") != NULL)
			p->align = ALIGN_CENTER;
		else if (strstr(lv, "right") != NULL ||
		         word_is(lv, ln, "end"))
			p->align = ALIGN_RIGHT;
		else if (strstr(lv, "justify") != NULL)
			p->align = ALIGN_JUSTIFY;
		else
			p->align = ALIGN_PLAIN;
		p->set |= CF_BIT(CF_ALIGN);
	} else if (strncmp(name, "margin", 6) == 0) {
		long max, min;

		css_spacing(lv, ln, &max, &min);
		if (!(p->set & CF_BIT(CF_MARGIN)) || name[6] == '\0') {
			p->margin_max = max;
			p->margin_min = min;
		} else {
			p->margin_max = MAX(p->margin_max, max);
			p->margin_min = MIN(p->margin_min, min);
		}
		if (max >= p->margin_max)
			set_decl(p->margin, sizeof(p->margin), s, n);
		p->set |= CF_BIT(CF_MARGIN);
	} else if (strncmp(name, "padding", 7) == 0) {
		long max, min;

		css_spacing(lv, ln, &max, &min);
		if (!(p->set & CF_BIT(CF_PADDING)) || name[7] == '\0')
			p->padding_max = max;
		else
			p->padding_max = MAX(p->padding_max, max);
		if (max >= p->padding_max)
			set_decl(p->padding, sizeof(p->padding), s, n);
		p->set |= CF_BIT(CF_PADDING);
	} else if (strcmp(name, "position") == 0) {
		p->positioned = word_is(lv, ln, "absolute") ||
		                word_is(lv, ln, "fixed") ||
		                word_is(lv, ln, "relative");
		p->set |= CF_BIT(CF_POSITION);
	} else if (strcmp(name, "left") == 0) {
		set_length(p, CF_LEFT, &p->left, lv, ln);
	} else if (strcmp(name, "top") == 0) {
		set_length(p, CF_TOP, &p->top, lv, ln);
	} else if (strcmp(name, "right") == 0) {
		set_length(p, CF_RIGHT, &p->right, lv, ln);
	} else if (strcmp(name, "bottom") == 0) {
		set_length(p, CF_BOTTOM, &p->bottom, lv, ln);
	} else if (strcmp(name, "text-indent") == 0) {
		set_length(p, CF_TEXT_INDENT, &p->text_indent, lv, ln);
	} else if (strcmp(name, "overflow") == 0 ||
	           strcmp(name, "overflow-x") == 0 ||
	           strcmp(name, "overflow-y") == 0) {
		p->overflow_hidden = strstr(lv, "hidden") != NULL ||
		                     strstr(lv, "clip") != NULL;
		p->set |= CF_BIT(CF_OVERFLOW);
	} else if (strcmp(name, "width") == 0) {
		set_length(p, CF_WIDTH, &p->width, lv, ln);
	} else if (strcmp(name, "height") == 0) {
		set_length(p, CF_HEIGHT, &p->height, lv, ln);
	} else if (strcmp(name, "max-width") == 0) {
		set_length(p, CF_MAX_WIDTH, &p->max_width, lv, ln);
	} else if (strcmp(name, "max-height") == 0) {
		set_length(p, CF_MAX_HEIGHT, &p->max_height, lv, ln);
	} else if (strcmp(name, "behavior") == 0 ||
	           strcmp(name, "-moz-binding") == 0) {
		p->active = strcmp(name, "behavior") == 0 ? "behavior"
		                                          : "-moz-binding";
		p->set |= CF_BIT(CF_ACTIVE);
	}
}

/*
 * css_strip - css[0..n) without comments (each made a space, as it
 * separates tokens) and without the HTML comment tokens "<!--" "-->",
 * into out (replaced).  Quoted strings are kept as they are.
 */
static void
css_strip(GString *out, const char *css, size_t n)
{
	char quote = 0;

	g_string_truncate(out, 0);
	for (size_t i = 0; i < n; i++) {
		char c = css[i];

		if (quote != 0) {
			if (c == '\\' && i + 1 < n) {
				g_string_append_c(out, c);
				c = css[++i];
			} else if (c == quote || c == '\n') {
				quote = 0;
			}
			g_string_append_c(out, c);
			continue;
		}
		if (c == '/' && i + 1 < n && css[i + 1] == '*') {
			const char *end = g_strstr_len(css + i + 2,
			                               (gssize)(n - i - 2), "*/");

			g_string_append_c(out, ' ');
			if (end == NULL)
				return;
			i = (size_t)(end - css) + 1;
			continue;
		}
		if (c == '<' && n - i >= 4 && memcmp(css + i, "<!--", 4) == 0) {
			g_string_append_c(out, ' ');
			i += 3;
			continue;
		}
		if (c == '-' && n - i >= 3 && memcmp(css + i, "-->", 3) == 0) {
			g_string_append_c(out, ' ');
			i += 2;
			continue;
		}
		if (c == '\\' && i + 1 < n) {
			g_string_append_c(out, c);
			c = css[++i];
		} else if (c == '"' || c == '\'') {
			quote = c;
		}
		g_string_append_c(out, c);
	}
}

/*
 * css_scan_to - index of the first of the stop characters in s[i..n) that
 * is outside quotes and parentheses (and, for '}', outside nested
 * braces), or n.
 */
static size_t
css_scan_to(const char *s, size_t n, size_t i, const char *stops)
{
	int parens = 0, braces = 0;
	char quote = 0;

	for (; i < n; i++) {
		char c = s[i];

		if (quote != 0) {
			if (c == '\\')
				i++;
			else if (c == quote || c == '\n')
				quote = 0;
			continue;
		}
		if (c == '\\') {
			i++;
			continue;
		}
		if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '(') {
			parens++;
		} else if (c == ')') {
			if (parens > 0)
				parens--;
		} else if (parens == 0 && c == '{' && strchr(stops, '{') == NULL) {
			braces++;
		} else if (parens == 0 && c == '}' && braces > 0) {
			braces--;
		} else if (parens == 0 && braces == 0 && strchr(stops, c) != NULL) {
			return i;
		}
	}
	return n;
}

/* css_declarations - a block "a: b; c: d" (comments removed) into p */
static void
css_declarations(struct css_props *p, const char *s, size_t n,
                 struct css_scratch *t)
{
	size_t i = 0;

	while (i < n) {
		size_t end = css_scan_to(s, n, i, ";");

		css_declaration(p, s + i, end - i, t);
		i = end + 1;
	}
}

/* css_parse_style - a style attribute's value into p (zeroed first) */
static void
css_parse_style(struct css_props *p, const char *style, GString *strip,
                struct css_scratch *t)
{
	memset(p, 0, sizeof(*p));
	css_strip(strip, style, strlen(style));
	css_declarations(p, strip->str, strip->len, t);
}

/* ------------------------------------------------------------------ */
/* Style sheets                                                         */

/* One selector's merged declarations. */
struct css_rule {
	struct css_props props;
	int client_default;   /* Outlook's Mso/EmailStyle classes */
};

struct css_sheet {
	GHashTable *rules;    /* "p", ".x", "p.x", "#y", "p#y", "*" */
	GHashTable *used;     /* "p", ".x", "#y": what the document uses */
};

static void
css_rule_free(gpointer data)
{
	struct css_rule *rule = data;

	css_props_clear(&rule->props);
	g_free(rule);
}

/* ident_ok - [A-Za-z0-9_-] and non-ASCII, at least one */
static int
ident_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c < 0x80)
			return 0;
	}
	return 1;
}

/*
 * simple_selector - a lower-case key for a simple selector s[0..n)
 * (tag, .class, tag.class, #id, tag#id, *), and in *name_r the part the
 * document must use for the rule to matter; NULL for any other selector.
 */
static char *
simple_selector(const char *s, size_t n, const char **used_r)
{
	size_t tag_len = 0;
	char *key;

	s = trim(s, &n);
	if (n == 0 || n > CSS_KEY_BYTES)
		return NULL;
	if (n == 1 && s[0] == '*') {
		*used_r = NULL;
		return g_strdup("*");
	}
	while (tag_len < n && s[tag_len] != '.' && s[tag_len] != '#')
		tag_len++;
	if (tag_len > 0 && !ident_ok(s, tag_len))
		return NULL;
	if (tag_len < n && !ident_ok(s + tag_len + 1, n - tag_len - 1))
		return NULL;
	key = g_ascii_strdown(s, (gssize)n);
	*used_r = tag_len < n ? key + tag_len : key;
	return key;
}

static int
client_default_key(const char *key)
{
	const char *dot = strchr(key, '.');

	return dot != NULL && (g_str_has_prefix(dot + 1, "mso") ||
	                       g_str_has_prefix(dot + 1, "emailstyle") ||
	                       g_str_has_prefix(dot + 1, "wordsection"));
}

/* css_sheet_add - the declarations of "sel, sel { block }" */
static void
css_sheet_add(struct css_sheet *sheet, const char *sel, size_t sel_len,
              const char *block, size_t block_len, struct css_scratch *t)
{
	struct css_props props;
	GString *unescaped = g_string_new(NULL);
	size_t i = 0;

	/* ".h\69 d" is ".hid" */
	css_unescape(unescaped, sel, sel_len);
	sel = unescaped->str;
	sel_len = unescaped->len;
	memset(&props, 0, sizeof(props));
	while (i <= sel_len) {
		size_t end = css_scan_to(sel, sel_len, i, ",");
		const char *used = NULL;
		char *key = simple_selector(sel + i, end - i, &used);
		struct css_rule *rule;

		i = end + 1;
		if (key == NULL)
			continue;
		if (used != NULL && !g_hash_table_contains(sheet->used, used)) {
			g_free(key);
			continue;
		}
		if (props.set == 0) {
			css_declarations(&props, block, block_len, t);
			if (props.set == 0) {
				g_free(key);
				break;
			}
		}
		rule = g_hash_table_lookup(sheet->rules, key);
		if (rule == NULL) {
			rule = g_new0(struct css_rule, 1);
			rule->client_default = client_default_key(key);
			g_hash_table_insert(sheet->rules, key, rule);
		} else {
			g_free(key);
		}
		/* later rules win; each selector gets its own copy */
		for (int f = 0; f < CF_COUNT; f++) {
			if (!(props.set & CF_BIT(f)))
				continue;
			if (f == CF_FONT_FAMILY || f == CF_BG_IMAGE) {
				struct css_props copy = props;

				copy.font_family = g_strdup(props.font_family);
				copy.bg_url = g_strdup(props.bg_url);
				css_copy_field(&rule->props, &copy,
				               (enum css_field)f, 1);
				g_free(copy.font_family);
				g_free(copy.bg_url);
			} else {
				css_copy_field(&rule->props, &props,
				               (enum css_field)f, 1);
			}
		}
	}
	css_props_clear(&props);
	g_string_free(unescaped, TRUE);
}

/* media_applies - an @media prelude without conditions for screens */
static int
media_applies(const char *s, size_t n)
{
	gchar *lower = g_ascii_strdown(s, (gssize)n);
	int ok = strchr(lower, '(') == NULL && strstr(lower, "print") == NULL &&
	         strstr(lower, "not") == NULL;

	g_free(lower);
	return ok;
}

/*
 * css_sheet_parse - rules of css[0..n) (comments removed).  Rules inside
 * an unconditional @media block count; other at-rules are skipped.
 */
static void
css_sheet_parse(struct css_sheet *sheet, const char *css, size_t n,
                int nested, struct css_scratch *t)
{
	size_t i = 0;

	while (i < n) {
		size_t open, close;

		while (i < n && (html_is_space((unsigned char)css[i]) ||
		                 css[i] == '}' || css[i] == ';'))
			i++;
		if (i >= n)
			return;
		if (css[i] == '@') {
			size_t name = i + 1, name_end = name;

			while (name_end < n &&
			       (g_ascii_isalnum(css[name_end]) ||
			        css[name_end] == '-'))
				name_end++;
			open = css_scan_to(css, n, name_end, "{;");
			if (open >= n)
				return;
			if (css[open] == ';') {
				i = open + 1;
				continue;
			}
			close = css_scan_to(css, n, open + 1, "}");
			if (!nested && name_end - name == 5 &&
			    g_ascii_strncasecmp(css + name, "media", 5) == 0 &&
			    media_applies(css + name_end, open - name_end))
				css_sheet_parse(sheet, css + open + 1,
				                close - open - 1, 1, t);
			i = close + 1;
			continue;
		}
		open = css_scan_to(css, n, i, "{");
		if (open >= n)
			return;
		close = css_scan_to(css, n, open + 1, "}");
		css_sheet_add(sheet, css + i, open - i, css + open + 1,
		              close - open - 1, t);
		i = close + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Facts                                                                */

static struct rg_html_facts *
facts_new(void)
{
	return g_new0(struct rg_html_facts, 1);
}

void
rg_html_facts_free(struct rg_html_facts **facts_p)
{
	struct rg_html_facts *facts = *facts_p;

	if (facts == NULL)
		return;
	for (size_t i = 0; i < facts->n_facts; i++)
		g_free(facts->facts[i].excerpt);
	for (size_t i = 0; i < facts->n_images; i++) {
		g_free(facts->images[i].src);
		g_free(facts->images[i].alt);
		g_free(facts->images[i].excerpt);
	}
	g_free(facts->facts);
	g_free(facts->images);
	g_free(facts);
	*facts_p = NULL;
}

/*
 * fact_add - a new fact taking excerpt (g_free'd if the kind is full);
 * NULL when over RG_HTML_MAX_FACTS.
 */
static struct rg_html_fact *
fact_add(struct rg_html_facts *facts, enum rg_html_fact_kind kind,
         size_t start, int quoted, char *excerpt)
{
	struct rg_html_fact *f;

	if (facts->kind_count[kind] >= RG_HTML_MAX_FACTS) {
		facts->facts_dropped++;
		g_free(excerpt);
		return NULL;
	}
	if (facts->n_facts == facts->cap_facts) {
		facts->cap_facts = facts->cap_facts ? facts->cap_facts * 2 : 16;
		facts->facts = g_realloc_n(facts->facts, facts->cap_facts,
		                           sizeof(*facts->facts));
	}
	facts->kind_count[kind]++;
	f = &facts->facts[facts->n_facts++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->start = f->end = start;
	f->quoted = quoted;
	f->excerpt = excerpt;
	return f;
}

/* ------------------------------------------------------------------ */
/* The walk                                                             */

enum css_origin { ORIGIN_NONE, ORIGIN_ATTR, ORIGIN_SHEET, ORIGIN_INLINE };

/* An element's style: what each field is and where it came from. */
struct css_view {
	struct css_props p;             /* strings borrowed */
	unsigned char origin[CF_COUNT];
	const char *key[CF_COUNT];      /* sheet: selector; attr: its name */
	uint32_t client;                /* CF_BIT: from a client default */
};

/* Per open element: what it inherits to its content. */
struct html_frame {
	xmlNodePtr node;
	/* text is hidden for good (display:none, opacity:0, off-screen...) */
	xmlNodePtr hide_node;
	const char *hide_why;
	/* visibility:hidden; hide_vis NULL when visible */
	xmlNodePtr vis_node;
	const char *vis_why;
	/* font size in px x 100 and who set it */
	long font;
	xmlNodePtr font_node;
	const char *font_why;
	/* text and background colour, and who set them */
	struct css_color color, bg;
	xmlNodePtr color_node, bg_node;
	const char *color_why, *bg_why;
	unsigned char bg_image;      /* a background image: colours unknown */
	unsigned char in_link, quoted, holder, quote_root;
	char *own[5];                /* why strings this element owns */
	size_t vis_chars;            /* r->vis_chars when entered */
	size_t fact_first, fact_count;  /* its own formatting facts */
	size_t quote_start;
};

/* The text being written, and where the walk is. */
struct html_render {
	struct rg_part *part;
	struct rg_html_facts *facts;
	char *buf;
	size_t len;
	size_t cap;
	size_t max;          /* bytes of text at most, without the NUL */
	int full;            /* max reached (or out of memory): no more text */
	int oom;
	int need_break;      /* a block boundary since the last character */
	int space;           /* collapsed whitespace since the last character */
	size_t hidden;       /* open invisible elements */
	size_t pre;          /* open elements keeping whitespace */
	/* text not yet NFKC-normalised and written to buf */
	GString *stage;
	/* visible characters (not space, not hidden) written so far */
	size_t vis_chars;
	/* open elements */
	struct html_frame *frames;
	size_t depth, frames_cap;
	/* styles */
	struct css_sheet sheet;
	struct css_scratch scratch;
	GString *strip, *key, *tmp;
	GHashTable *seen;    /* formatting facts already kept: kind + decl */
	GPtrArray *fact_keys; /* facts index -> its key in seen, or NULL */
	/* the last hidden-text fact, to extend with the next text node */
	struct {
		size_t index;
		xmlNodePtr node;
		const char *why;
		int valid;
	} last_hidden;
	/* quoted text */
	size_t quote_depth;
	int quote_rest;      /* from Outlook's reply marker to the end */
	size_t quote_rest_start;
	/* limits (rg_html_render_limited) */
	size_t max_depth;    /* deeper elements are not walked into */
	int too_deep;        /* one was */
	int (*stop)(void *ctx);
	void *stop_ctx;
	int stopped;
};

/* stage_commit - the staged text, NFKC-normalised, onto the text; the
 * part that does not fit is cut at a character boundary */
static void
stage_commit(struct html_render *r)
{
	GString *st = r->stage;
	gchar *norm = NULL;
	const char *s = st->str;
	size_t n = st->len;
	int ascii = 1;

	if (n == 0)
		return;
	for (size_t i = 0; i < n && ascii; i++)
		ascii = (unsigned char)s[i] < 0x80;
	if (!ascii) {
		norm = rg_nfkc(s, n);
		if (norm != NULL) {
			/* zero-width and bidi characters hide nothing from
			 * the rules: gone before any offset is recorded */
			n = rg_strip_invisible(norm, strlen(norm), 1);
			s = norm;
		}
	}
	if (!r->full) {
		if (n > r->max - r->len) {
			n = utf8_cut(s, n, r->max - r->len);
			r->full = 1;
		}
		if (r->len + n + 1 > r->cap) {
			size_t cap = r->cap != 0 ? r->cap : 256;
			char *buf;

			while (cap < r->len + n + 1 && cap <= r->max / 2)
				cap *= 2;
			if (cap < r->len + n + 1 || cap > r->max + 1)
				cap = r->max + 1;
			buf = realloc(r->buf, cap);
			if (buf == NULL) {
				r->full = 1;
				r->oom = 1;
				n = 0;
			} else {
				r->buf = buf;
				r->cap = cap;
			}
		}
		if (n > 0)
			memcpy(r->buf + r->len, s, n);
		r->len += n;
	}
	g_free(norm);
	g_string_truncate(st, 0);
}

/* render_offset - where the next text goes (the stage committed) */
static size_t
render_offset(struct html_render *r)
{
	stage_commit(r);
	return r->len;
}

/* render_put - append n bytes (whole characters) to the stage */
static void
render_put(struct html_render *r, const char *s, size_t n)
{
	if (r->full)
		return;
	g_string_append_len(r->stage, s, (gssize)n);
}

static int
render_at_line_start(const struct html_render *r)
{
	if (r->stage->len > 0)
		return r->stage->str[r->stage->len - 1] == '\n';
	return r->len == 0 || r->buf[r->len - 1] == '\n';
}

/* render_flush - the pending line break or space before a character */
static void
render_flush(struct html_render *r)
{
	if (r->need_break) {
		r->need_break = 0;
		if (!render_at_line_start(r)) {
			r->space = 0;
			render_put(r, "\n", 1);
		}
	}
	if (r->space) {
		r->space = 0;
		if (!render_at_line_start(r))
			render_put(r, " ", 1);
	}
}

/* render_newline - <br> or a newline in <pre>: never at the very start */
static void
render_newline(struct html_render *r)
{
	r->space = 0;
	if (r->len == 0 && r->stage->len == 0) {
		r->need_break = 0;
		return;
	}
	if (r->need_break) {
		r->need_break = 0;
		if (!render_at_line_start(r))
			render_put(r, "\n", 1);
	}
	render_put(r, "\n", 1);
}

static struct html_frame *
top_frame(struct html_render *r)
{
	return r->depth > 0 ? &r->frames[r->depth - 1] : NULL;
}

/* is_blank_char - a character that shows nothing: spaces, zero-width */
static int
is_blank_char(gunichar c)
{
	return g_unichar_isspace(c) || c == 0x00A0 || c == 0x200B ||
	       c == 0x200C || c == 0x200D || c == 0x2060 || c == 0xFEFF ||
	       c == 0x00AD || c == 0x034F || c == 0x180E ||
	       (c >= 0x2000 && c <= 0x200A) || c == 0x3000;
}

/* text_shows - text has a character that is not blank */
static int
text_shows(const unsigned char *s)
{
	while (*s != '\0') {
		size_t n = utf8_seq(s);

		if (n == 0)
			return 1;  /* becomes U+FFFD */
		if (!is_blank_char(g_utf8_get_char((const char *)s)))
			return 1;
		s += n;
	}
	return 0;
}

/*
 * text_hidden - 1 when text at the current frame cannot be seen, with the
 * element that hides it and how.
 */
static int
text_hidden(const struct html_frame *f, xmlNodePtr *node_r,
            const char **why_r)
{
	uint32_t fg, bg;

	if (f == NULL)
		return 0;
	if (f->hide_why != NULL) {
		*node_r = f->hide_node;
		*why_r = f->hide_why;
		return 1;
	}
	if (f->vis_why != NULL) {
		*node_r = f->vis_node;
		*why_r = f->vis_why;
		return 1;
	}
	if (f->font <= TINY_FONT_PX100 && f->font_why != NULL) {
		*node_r = f->font_node;
		*why_r = f->font_why;
		return 1;
	}
	if (f->color.kind == COLOR_TRANSPARENT && f->color_why != NULL) {
		*node_r = f->color_node;
		*why_r = f->color_why;
		return 1;
	}
	if (f->bg_image || (f->color_why == NULL && f->bg_why == NULL))
		return 0;
	if (f->color.kind == COLOR_UNKNOWN || f->bg.kind == COLOR_UNKNOWN)
		return 0;
	fg = f->color.kind == COLOR_RGB ? f->color.rgb : 0x000000;
	bg = f->bg.kind == COLOR_RGB ? f->bg.rgb : 0xFFFFFF;
	if (!colors_close(fg, bg))
		return 0;
	if (f->color_why != NULL) {
		*node_r = f->color_node;
		*why_r = f->color_why;
	} else {
		*node_r = f->bg_node;
		*why_r = f->bg_why;
	}
	return 1;
}

/* hidden_text - text[start, end) is hidden by node (why) */
static void
hidden_text(struct html_render *r, xmlNodePtr node, const char *why,
            size_t start, size_t end)
{
	struct rg_html_facts *facts = r->facts;
	struct rg_html_fact *f;
	const struct html_frame *top = top_frame(r);
	GString *excerpt;

	if (r->last_hidden.valid && r->last_hidden.node == node &&
	    r->last_hidden.why == why &&
	    r->last_hidden.index < facts->n_facts) {
		f = &facts->facts[r->last_hidden.index];
		if (end > f->end)
			f->end = end;
		return;
	}
	excerpt = g_string_new(why);
	g_string_append_c(excerpt, ' ');
	if (start < end && r->buf != NULL)
		append_clean(excerpt, r->buf + start, end - start,
		             EXCERPT_TEXT_BYTES);
	f = fact_add(facts, RG_HTML_HIDDEN, start,
	             top != NULL && top->quoted,
	             g_string_free(excerpt, FALSE));
	if (f == NULL)
		return;
	f->end = end;
	r->last_hidden.index = (size_t)(f - facts->facts);
	r->last_hidden.node = node;
	r->last_hidden.why = why;
	r->last_hidden.valid = 1;
}

/*
 * stage_cut_before - NFKC runs over the stage in pieces; a piece may end
 * before s when s does not combine with what precedes it: ASCII never
 * does; past STAGE_HARD_BYTES any starter (combining class 0) will do;
 * past STAGE_MAX_BYTES anything (a run of a million combining marks).
 */
static int
stage_cut_before(const struct html_render *r, const unsigned char *s,
                 size_t n)
{
	if (*s < 0x80 || r->stage->len >= STAGE_MAX_BYTES)
		return 1;
	return r->stage->len >= STAGE_HARD_BYTES &&
	       (n == 0 ||
	        g_unichar_combining_class(g_utf8_get_char((const char *)s)) ==
	        0);
}

/* render_text - a text node's content, by the whitespace rules */
static void
render_text(struct html_render *r, const xmlChar *text, int pre_start)
{
	const unsigned char *s = text;
	size_t start = SIZE_MAX;
	xmlNodePtr hider = NULL;
	const char *why = NULL;
	int shows, hidden = 0;

	if (text == NULL || r->hidden > 0)
		return;
	shows = text_shows(s);
	if (shows) {
		hidden = text_hidden(top_frame(r), &hider, &why);
		if (!hidden)
			r->vis_chars++;
	}
	/* browsers drop one newline right after <pre> */
	if (pre_start && r->pre > 0) {
		if (s[0] == '\r')
			s++;
		if (s[0] == '\n')
			s++;
	}
	while (*s != '\0' && !r->full) {
		size_t n;

		if (r->pre == 0 && html_is_space(*s)) {
			r->space = 1;
			s++;
			continue;
		}
		if (r->pre > 0 && (*s == '\r' || *s == '\n')) {
			if (s[0] == '\r' && s[1] == '\n')
				s++;
			s++;
			render_newline(r);
			continue;
		}
		render_flush(r);
		if (start == SIZE_MAX)
			start = render_offset(r);
		n = utf8_seq(s);
		if (r->stage->len >= STAGE_SOFT_BYTES && stage_cut_before(r, s, n))
			stage_commit(r);
		if (n == 0) {
			/* libxml2 gives UTF-8; never pass on anything else */
			render_put(r, "\xEF\xBF\xBD", 3);
			s++;
		} else {
			render_put(r, (const char *)s, n);
			s += n;
		}
	}
	stage_commit(r);
	if (hidden) {
		if (start == SIZE_MAX)
			start = r->len;
		hidden_text(r, hider, why, start, r->len);
	} else if (shows) {
		r->last_hidden.valid = 0;
	}
}

/* add_link - trim spaces and controls around url; skip an empty one */
static void
add_link(struct rg_part *part, const char *url, size_t len,
         enum rg_link_origin origin)
{
	while (len > 0 && (unsigned char)url[0] <= 0x20) {
		url++;
		len--;
	}
	while (len > 0 && (unsigned char)url[len - 1] <= 0x20)
		len--;
	if (len > 0)
		rg_part_add_link(part, url, len, origin);
}

static int
css_ident_char(unsigned char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_' || c >= 0x80;
}

/* css_word_at - css[i..] starts with word (ASCII case ignored) */
static int
css_word_at(const char *css, size_t len, size_t i, const char *word)
{
	size_t n = strlen(word);

	if (n > len - i || g_ascii_strncasecmp(css + i, word, n) != 0)
		return 0;
	/* "url(" is a function name only when not the end of another word */
	return word[0] == '@' || i == 0 ||
	       !css_ident_char((unsigned char)css[i - 1]);
}

static int
css_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/*
 * css_string - the quoted string at css[i] (a quote) up to its closing
 * quote, a newline or the end, as a link; returns the index after it.
 */
static size_t
css_string(struct rg_part *part, const char *css, size_t len, size_t i)
{
	char quote = css[i];
	size_t start = ++i;

	while (i < len && css[i] != quote && css[i] != '\n') {
		if (css[i] == '\\' && i + 1 < len)
			i++;
		i++;
	}
	add_link(part, css + start, (i < len ? i : len) - start, RG_LINK_CSS);
	return i < len ? i + 1 : len;
}

/* css_url - the argument of url( starting at css[i]; returns the index after */
static size_t
css_url(struct rg_part *part, const char *css, size_t len, size_t i)
{
	size_t start;

	while (i < len && css_space((unsigned char)css[i]))
		i++;
	if (i < len && (css[i] == '"' || css[i] == '\''))
		return css_string(part, css, len, i);
	start = i;
	while (i < len && css[i] != ')')
		i++;
	add_link(part, css + start, i - start, RG_LINK_CSS);
	return i;
}

/*
 * css_links - url(x), url('x'), url("x") and @import "x" in CSS text, by
 * hand and tolerant: anything unterminated runs to the end, comments are
 * skipped as browsers skip them.
 */
static void
css_links(struct rg_part *part, const char *css, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (css[i] == '/' && i + 1 < len && css[i + 1] == '*') {
			const char *end = g_strstr_len(css + i + 2,
			                               (gssize)(len - i - 2), "*/");

			if (end == NULL)
				return;
			i = (size_t)(end - css) + 2;
		} else if (css_word_at(css, len, i, "url(")) {
			i = css_url(part, css, len, i + 4);
		} else if (css_word_at(css, len, i, "@import")) {
			i += 7;
			while (i < len && css_space((unsigned char)css[i]))
				i++;
			if (i < len && (css[i] == '"' || css[i] == '\''))
				i = css_string(part, css, len, i);
		} else {
			i++;
		}
	}
}

/* srcset_links - "a.png 1x, b.png 2x": each candidate's URL */
static void
srcset_links(struct rg_part *part, const char *value)
{
	const char *s = value;

	for (;;) {
		const char *start;
		size_t n;

		while (*s != '\0' && (html_is_space((unsigned char)*s) ||
		                      *s == ','))
			s++;
		if (*s == '\0')
			return;
		start = s;
		while (*s != '\0' && !html_is_space((unsigned char)*s))
			s++;
		n = (size_t)(s - start);
		if (n > 0 && start[n - 1] == ',') {
			/* "a.png,b.png": no descriptors */
			while (n > 0 && start[n - 1] == ',')
				n--;
		} else {
			while (*s != '\0' && *s != ',')
				s++;
		}
		add_link(part, start, n, RG_LINK_SRC);
	}
}

/* attr_value - the attribute's value (xmlFree), "" when it has none */
static xmlChar *
attr_value(xmlAttrPtr attr)
{
	xmlChar *value = xmlNodeGetContent((xmlNodePtr)attr);

	return value != NULL ? value : xmlStrdup(BAD_CAST "");
}

/* input_is_image - <input type=image> */
static int
input_is_image(xmlNodePtr node)
{
	for (xmlAttrPtr attr = node->properties; attr != NULL;
	     attr = attr->next) {
		if (g_ascii_strcasecmp((const char *)attr->name, "type") == 0) {
			xmlChar *value = attr_value(attr);
			gchar *type;
			int image;

			if (value == NULL)
				return 0;
			type = g_strstrip(g_strdup((const char *)value));
			image = g_ascii_strcasecmp(type, "image") == 0;
			g_free(type);
			xmlFree(value);
			return image;
		}
	}
	return 0;
}

/* element_links - the URLs in an element's attributes */
static void
element_links(struct rg_part *part, xmlNodePtr node)
{
	const char *element = (const char *)node->name;

	for (xmlAttrPtr attr = node->properties; attr != NULL;
	     attr = attr->next) {
		const char *name = (const char *)attr->name;
		const struct html_link_attr *row = NULL;
		xmlChar *value;

		if (name == NULL)
			continue;
		for (size_t i = 0; i < G_N_ELEMENTS(html_link_attrs); i++) {
			const struct html_link_attr *a = &html_link_attrs[i];

			if (g_ascii_strcasecmp(name, a->attr) == 0 &&
			    (a->element == NULL ||
			     g_ascii_strcasecmp(element, a->element) == 0)) {
				row = a;
				break;
			}
		}
		if (row == NULL)
			continue;
		if (row->kind == URL_INPUT_IMAGE && !input_is_image(node))
			continue;
		value = attr_value(attr);
		if (value == NULL)
			continue;
		switch (row->kind) {
		case URL_PLAIN:
		case URL_INPUT_IMAGE:
			add_link(part, (const char *)value,
			         strlen((const char *)value), row->origin);
			break;
		case URL_SRCSET:
			srcset_links(part, (const char *)value);
			break;
		case URL_CSS:
			css_links(part, (const char *)value,
			          strlen((const char *)value));
			break;
		}
		xmlFree(value);
	}
}

/* style_links - url() in the text of a <style> element */
static void
style_links(struct rg_part *part, xmlNodePtr style)
{
	for (xmlNodePtr child = style->children; child != NULL;
	     child = child->next)
		if ((child->type == XML_TEXT_NODE ||
		     child->type == XML_CDATA_SECTION_NODE) &&
		    child->content != NULL)
			css_links(part, (const char *)child->content,
			          strlen((const char *)child->content));
}

/* ------------------------------------------------------------------ */
/* Elements: attributes, style, facts                                   */

/* The attributes the structure facts read, values owned (xmlFree). */
struct elem_attrs {
	xmlChar *style, *klass, *id, *align, *bgcolor, *background, *color;
	xmlChar *face, *size, *text, *width, *height, *src, *srcset, *alt;
	xmlChar *type, *href, *http_equiv;
	int hidden;
	const char *on_name;          /* the first on* attribute */
	xmlChar *on_value;
	const char *script_name;      /* an attribute with a script URL */
	xmlChar *script_value;
};

static void
elem_attrs_clear(struct elem_attrs *a)
{
	xmlChar **values[] = {
		&a->style, &a->klass, &a->id, &a->align, &a->bgcolor,
		&a->background, &a->color, &a->face, &a->size, &a->text,
		&a->width, &a->height, &a->src, &a->srcset, &a->alt, &a->type,
		&a->href, &a->http_equiv, &a->on_value, &a->script_value,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(values); i++)
		if (*values[i] != NULL)
			xmlFree(*values[i]);
	memset(a, 0, sizeof(*a));
}

/*
 * url_scheme_lower - the first bytes of a URL as a browser reads its
 * scheme: leading spaces and controls dropped, tabs and newlines inside
 * ignored, lower case; into buf (size bytes).
 */
static void
url_scheme_lower(const char *url, char *buf, size_t size)
{
	size_t n = 0;

	while (*url != '\0' && (unsigned char)*url <= 0x20)
		url++;
	for (; *url != '\0' && n + 1 < size; url++) {
		if (*url == '\t' || *url == '\n' || *url == '\r')
			continue;
		buf[n++] = g_ascii_tolower(*url);
	}
	buf[n] = '\0';
}

/*
 * script_url - the URL runs script or carries a document: javascript:,
 * vbscript:, livescript:, mocha:, data: (a data: image is allowed where an
 * image belongs: image_ok).
 */
static int
script_url(const char *url, int image_ok)
{
	static const char *const schemes[] = {
		"javascript:", "vbscript:", "livescript:", "mocha:",
	};
	char head[32];

	url_scheme_lower(url, head, sizeof(head));
	for (size_t i = 0; i < G_N_ELEMENTS(schemes); i++)
		if (g_str_has_prefix(head, schemes[i]))
			return 1;
	if (!g_str_has_prefix(head, "data:"))
		return 0;
	if (!image_ok)
		return 1;
	return !(g_str_has_prefix(head, "data:image/") &&
	         !g_str_has_prefix(head, "data:image/svg"));
}

/* srcset_script - a srcset candidate with a script URL */
static int
srcset_script(const char *value)
{
	const char *s = value;

	for (;;) {
		while (*s != '\0' && (html_is_space((unsigned char)*s) ||
		                      *s == ','))
			s++;
		if (*s == '\0')
			return 0;
		if (script_url(s, 1))
			return 1;
		while (*s != '\0' && *s != ',')
			s++;
	}
}

/* on_attribute - an event handler attribute: on + letters, the shortest
 * handler name ("oncut") long; "one=" is not one */
static int
on_attribute(const char *name)
{
	if (g_ascii_strncasecmp(name, "on", 2) != 0 || strlen(name) < 5)
		return 0;
	for (const char *s = name + 2; *s != '\0'; s++)
		if (!g_ascii_isalpha(*s))
			return 0;
	return 1;
}

/* elem_attrs_read - the attributes of node the facts need */
static void
elem_attrs_read(struct elem_attrs *a, xmlNodePtr node)
{
	static const struct {
		const char *name;
		size_t offset;
	} wanted[] = {
		{ "style", offsetof(struct elem_attrs, style) },
		{ "class", offsetof(struct elem_attrs, klass) },
		{ "id", offsetof(struct elem_attrs, id) },
		{ "align", offsetof(struct elem_attrs, align) },
		{ "bgcolor", offsetof(struct elem_attrs, bgcolor) },
		{ "background", offsetof(struct elem_attrs, background) },
		{ "color", offsetof(struct elem_attrs, color) },
		{ "face", offsetof(struct elem_attrs, face) },
		{ "size", offsetof(struct elem_attrs, size) },
		{ "text", offsetof(struct elem_attrs, text) },
		{ "width", offsetof(struct elem_attrs, width) },
		{ "height", offsetof(struct elem_attrs, height) },
		{ "src", offsetof(struct elem_attrs, src) },
		{ "srcset", offsetof(struct elem_attrs, srcset) },
		{ "alt", offsetof(struct elem_attrs, alt) },
		{ "type", offsetof(struct elem_attrs, type) },
		{ "href", offsetof(struct elem_attrs, href) },
		{ "http-equiv", offsetof(struct elem_attrs, http_equiv) },
	};
	int image_ok = is_name(node, "img") || is_name(node, "input") ||
	               is_name(node, "source");

	memset(a, 0, sizeof(*a));
	for (xmlAttrPtr attr = node->properties; attr != NULL;
	     attr = attr->next) {
		const char *name = (const char *)attr->name;
		xmlChar **slot = NULL;
		xmlChar *value;

		if (name == NULL)
			continue;
		if (g_ascii_strcasecmp(name, "hidden") == 0) {
			a->hidden = 1;
			continue;
		}
		for (size_t i = 0; i < G_N_ELEMENTS(wanted); i++) {
			if (g_ascii_strcasecmp(name, wanted[i].name) == 0) {
				slot = (xmlChar **)(void *)((char *)a +
				                            wanted[i].offset);
				break;
			}
		}
		if (on_attribute(name) && a->on_name == NULL) {
			a->on_name = name;
			a->on_value = attr_value(attr);
			continue;
		}
		if (a->script_name == NULL) {
			for (size_t i = 0; i < G_N_ELEMENTS(html_script_url_attrs);
			     i++) {
				int bad;

				if (g_ascii_strcasecmp(name,
				                       html_script_url_attrs[i]) != 0)
					continue;
				value = attr_value(attr);
				bad = g_ascii_strcasecmp(name, "srcset") == 0
				      ? srcset_script((const char *)value)
				      : script_url((const char *)value,
				                   image_ok ||
				                   g_ascii_strcasecmp(name,
				                           "background") == 0);
				if (bad) {
					a->script_name = name;
					a->script_value = value;
				} else {
					xmlFree(value);
				}
				break;
			}
		}
		if (slot != NULL && *slot == NULL)
			*slot = attr_value(attr);
	}
}

/* attr_length - width="1", "1px", "90%": 1 when understood */
static int
attr_length(const xmlChar *value, struct css_len *len)
{
	const char *s = (const char *)value;
	size_t i = 0, n;
	long v;

	if (s == NULL)
		return 0;
	n = strlen(s);
	s = trim(s, &n);
	if (!css_number(s, n, &i, &v) || v < 0)
		return 0;
	len->v = v;
	len->unit = i < n && s[i] == '%' ? LEN_PCT : LEN_PX;
	return 1;
}

/* font_size_attr - <font size=N>: 1..7 or +-n from 3, in px x 100 */
static int
font_size_attr(const xmlChar *value, struct css_len *len)
{
	static const long px[] = { 1000, 1300, 1600, 1800, 2400, 3200, 4800 };
	const char *s = (const char *)value;
	size_t i = 0, n;
	long v;
	int rel;

	if (s == NULL)
		return 0;
	n = strlen(s);
	s = trim(s, &n);
	rel = n > 0 && (s[0] == '+' || s[0] == '-');
	if (!css_number(s, n, &i, &v))
		return 0;
	v /= 100;
	if (rel)
		v += 3;
	if (v < 1)
		v = 1;
	if (v > 7)
		v = 7;
	len->v = px[v - 1];
	len->unit = LEN_PX;
	return 1;
}

/* view_set - field f of view from src, with where it came from */
static void
view_set(struct css_view *view, struct css_props *src, enum css_field f,
         enum css_origin origin, const char *key, int client)
{
	css_copy_field(&view->p, src, f, 0);
	view->origin[f] = (unsigned char)origin;
	view->key[f] = key;
	if (client)
		view->client |= CF_BIT(f);
	else
		view->client &= ~CF_BIT(f);
}

static void
view_overlay(struct css_view *view, struct css_props *src,
             enum css_origin origin, const char *key, int client)
{
	for (int f = 0; f < CF_COUNT; f++)
		if (src->set & CF_BIT(f))
			view_set(view, src, (enum css_field)f, origin, key,
			         client);
}

/*
 * view_attrs - presentational attributes as CSS (lowest priority); the
 * strings they need are kept in attr_props (freed by the caller).
 */
static void
view_attrs(struct css_view *view, struct css_props *ap, xmlNodePtr node,
           const struct elem_attrs *a, unsigned flags)
{
	int font = is_name(node, "font") || is_name(node, "basefont");

	memset(ap, 0, sizeof(*ap));
	if (a->hidden) {
		ap->display_none = 1;
		ap->set = CF_BIT(CF_DISPLAY);
		view_set(view, ap, CF_DISPLAY, ORIGIN_ATTR, "hidden", 0);
	}
	if (a->align != NULL && !(flags & EL_NOALIGN)) {
		const char *v = (const char *)a->align;

		while (html_is_space((unsigned char)*v))
			v++;
		if (g_ascii_strncasecmp(v, "center", 6) == 0 ||
		    g_ascii_strncasecmp(v, "middle", 6) == 0)
			ap->align = ALIGN_CENTER;
		else if (g_ascii_strncasecmp(v, "right", 5) == 0)
			ap->align = ALIGN_RIGHT;
		else if (g_ascii_strncasecmp(v, "justify", 7) == 0)
			ap->align = ALIGN_JUSTIFY;
		else
			ap->align = ALIGN_PLAIN;
		view_set(view, ap, CF_ALIGN, ORIGIN_ATTR, "align", 0);
	}
	if (is_name(node, "center")) {
		ap->align = ALIGN_CENTER;
		view_set(view, ap, CF_ALIGN, ORIGIN_ATTR, NULL, 0);
	}
	if (a->bgcolor != NULL) {
		const char *v = (const char *)a->bgcolor;
		size_t n = strlen(v);
		gchar *lv;

		v = trim(v, &n);
		lv = g_ascii_strdown(v, (gssize)n);
		if (css_color(lv, n, 1, 1, &ap->bg)) {
			set_raw(ap->bg.raw, sizeof(ap->bg.raw), v, n);
			view_set(view, ap, CF_BG, ORIGIN_ATTR, "bgcolor", 0);
		}
		g_free(lv);
	}
	if (a->background != NULL) {
		size_t n = strlen((const char *)a->background);
		const char *v = trim((const char *)a->background, &n);

		if (n > 0) {
			ap->bg_url = g_strndup(v, utf8_cut(v, n,
			                                   IMAGE_SRC_BYTES));
			view_set(view, ap, CF_BG_IMAGE, ORIGIN_ATTR,
			         "background", 0);
		}
	}
	if ((font && a->color != NULL) ||
	    (is_name(node, "body") && a->text != NULL)) {
		const char *v = (const char *)(font ? a->color : a->text);
		size_t n = strlen(v);
		gchar *lv;

		v = trim(v, &n);
		lv = g_ascii_strdown(v, (gssize)n);
		if (css_color(lv, n, 1, 1, &ap->color)) {
			set_raw(ap->color.raw, sizeof(ap->color.raw), v, n);
			view_set(view, ap, CF_COLOR, ORIGIN_ATTR,
			         font ? "color" : "text", 0);
		}
		g_free(lv);
	}
	if (font && a->face != NULL && a->face[0] != '\0') {
		const char *v = (const char *)a->face;

		set_family(ap, v, strlen(v));
		view_set(view, ap, CF_FONT_FAMILY, ORIGIN_ATTR, "face", 0);
	}
	if (font && font_size_attr(a->size, &ap->font)) {
		set_raw(ap->font_raw, sizeof(ap->font_raw),
		        (const char *)a->size, strlen((const char *)a->size));
		view_set(view, ap, CF_FONT_SIZE, ORIGIN_ATTR, "size", 0);
	}
	if (attr_length(a->width, &ap->width))
		view_set(view, ap, CF_WIDTH, ORIGIN_ATTR, "width", 0);
	if (attr_length(a->height, &ap->height))
		view_set(view, ap, CF_HEIGHT, ORIGIN_ATTR, "height", 0);
}

/* sheet_apply - the style sheet's rule for key, if any */
static void
sheet_apply(struct html_render *r, struct css_view *view)
{
	struct css_rule *rule;

	if (r->key->len > CSS_KEY_BYTES)
		return;
	for (size_t i = 0; i < r->key->len; i++)
		r->key->str[i] = g_ascii_tolower(r->key->str[i]);
	rule = g_hash_table_lookup(r->sheet.rules, r->key->str);
	if (rule == NULL)
		return;
	/* the key lives in the hash table as long as the rule */
	{
		gpointer orig_key = NULL;

		g_hash_table_lookup_extended(r->sheet.rules, r->key->str,
		                             &orig_key, NULL);
		view_overlay(view, &rule->props, ORIGIN_SHEET, orig_key,
		             rule->client_default);
	}
}

/* view_sheet - the style sheet's rules for node: *, tag, .class,
 * tag.class, #id, tag#id */
static void
view_sheet(struct html_render *r, struct css_view *view, xmlNodePtr node,
           const struct elem_attrs *a)
{
	const char *tag = (const char *)node->name;

	if (g_hash_table_size(r->sheet.rules) == 0)
		return;
	g_string_assign(r->key, "*");
	sheet_apply(r, view);
	g_string_assign(r->key, tag);
	sheet_apply(r, view);
	for (int with_tag = 0; with_tag < 2 && a->klass != NULL; with_tag++) {
		const char *s = (const char *)a->klass;

		for (;;) {
			const char *start;

			while (*s != '\0' && html_is_space((unsigned char)*s))
				s++;
			if (*s == '\0')
				break;
			start = s;
			while (*s != '\0' && !html_is_space((unsigned char)*s))
				s++;
			g_string_assign(r->key, with_tag ? tag : "");
			g_string_append_c(r->key, '.');
			g_string_append_len(r->key, start, s - start);
			sheet_apply(r, view);
		}
	}
	if (a->id != NULL) {
		size_t n = strlen((const char *)a->id);
		const char *id = trim((const char *)a->id, &n);

		for (int with_tag = 0; with_tag < 2; with_tag++) {
			g_string_assign(r->key, with_tag ? tag : "");
			g_string_append_c(r->key, '#');
			g_string_append_len(r->key, id, (gssize)n);
			sheet_apply(r, view);
		}
	}
}

/* append_field_value - the value of field f as CSS would write it */
static void
append_field_value(GString *out, const struct css_props *p, enum css_field f)
{
	switch (f) {
	case CF_DISPLAY:
		g_string_append(out, p->display_none ? "none" : "block");
		break;
	case CF_VISIBILITY:
		g_string_append(out, p->vis_hidden ? "hidden" : "visible");
		break;
	case CF_OPACITY:
		g_string_append(out, p->opacity_zero ? "0" : "1");
		break;
	case CF_MSO_HIDE:
		g_string_append(out, p->mso_hide ? "all" : "none");
		break;
	case CF_FONT_SIZE:
		append_clean(out, p->font_raw, strlen(p->font_raw),
		             CSS_RAW_BYTES);
		break;
	case CF_COLOR:
		append_clean(out, p->color.raw, strlen(p->color.raw),
		             CSS_RAW_BYTES);
		break;
	case CF_BG:
		append_clean(out, p->bg.raw, strlen(p->bg.raw), CSS_RAW_BYTES);
		break;
	case CF_BG_IMAGE:
		g_string_append(out, "url(");
		if (p->bg_url != NULL)
			append_clean(out, p->bg_url, strlen(p->bg_url),
			             EXCERPT_URL_BYTES);
		g_string_append_c(out, ')');
		break;
	case CF_ALIGN:
		g_string_append(out, css_align_names[p->align]);
		break;
	case CF_FONT_FAMILY:
		if (p->font_family != NULL)
			append_clean(out, p->font_family,
			             strlen(p->font_family), CSS_FAMILY_BYTES);
		break;
	case CF_LINE_HEIGHT:
		append_clean(out, p->line_height, strlen(p->line_height),
		             CSS_RAW_BYTES);
		break;
	case CF_POSITION:
		g_string_append(out, p->positioned ? "absolute" : "static");
		break;
	case CF_LEFT:
		append_length(out, &p->left);
		break;
	case CF_TOP:
		append_length(out, &p->top);
		break;
	case CF_RIGHT:
		append_length(out, &p->right);
		break;
	case CF_BOTTOM:
		append_length(out, &p->bottom);
		break;
	case CF_TEXT_INDENT:
		append_length(out, &p->text_indent);
		break;
	case CF_OVERFLOW:
		g_string_append(out, p->overflow_hidden ? "hidden" : "visible");
		break;
	case CF_WIDTH:
		append_length(out, &p->width);
		break;
	case CF_HEIGHT:
		append_length(out, &p->height);
		break;
	case CF_MAX_WIDTH:
		append_length(out, &p->max_width);
		break;
	case CF_MAX_HEIGHT:
		append_length(out, &p->max_height);
		break;
	case CF_ACTIVE:
		g_string_append(out, p->active != NULL ? p->active : "");
		break;
	case CF_MARGIN:
	case CF_PADDING:
	case CF_COUNT:
		break;
	}
}

static const char *const css_field_names[CF_COUNT] = {
	[CF_DISPLAY] = "display", [CF_VISIBILITY] = "visibility",
	[CF_OPACITY] = "opacity", [CF_MSO_HIDE] = "mso-hide",
	[CF_FONT_SIZE] = "font-size", [CF_COLOR] = "color",
	[CF_BG] = "background-color", [CF_BG_IMAGE] = "background-image",
	[CF_ALIGN] = "text-align", [CF_FONT_FAMILY] = "font-family",
	[CF_LINE_HEIGHT] = "line-height", [CF_MARGIN] = "margin",
	[CF_PADDING] = "padding", [CF_POSITION] = "position",
	[CF_LEFT] = "left", [CF_TOP] = "top", [CF_RIGHT] = "right",
	[CF_BOTTOM] = "bottom", [CF_TEXT_INDENT] = "text-indent",
	[CF_OVERFLOW] = "overflow", [CF_WIDTH] = "width",
	[CF_HEIGHT] = "height", [CF_MAX_WIDTH] = "max-width",
	[CF_MAX_HEIGHT] = "max-height", [CF_ACTIVE] = "behavior",
};

/* append_decl - "name:value" of field f */
static void
append_decl(GString *out, const struct css_props *p, enum css_field f)
{
	if (f == CF_MARGIN || f == CF_PADDING) {
		const char *decl = f == CF_MARGIN ? p->margin : p->padding;

		append_clean(out, decl, strlen(decl), CSS_SPACING_BYTES);
		return;
	}
	if (f == CF_ACTIVE && p->active != NULL &&
	    strcmp(p->active, "-moz-binding") != 0 &&
	    strcmp(p->active, "behavior") != 0) {
		g_string_append(out, p->active);
		return;
	}
	g_string_append(out, css_field_names[f]);
	g_string_append_c(out, ':');
	append_field_value(out, p, f);
}

/*
 * describe - an excerpt naming the element and what field f of its style
 * does: <span style="color:#f00">, .x {display:none}, <font color="red">,
 * <div hidden>, <center>.
 */
static char *
describe(xmlNodePtr node, const struct css_view *view, enum css_field f)
{
	GString *out = g_string_new(NULL);
	const char *tag = (const char *)node->name;

	switch (view->origin[f]) {
	case ORIGIN_SHEET:
		append_clean(out, view->key[f], strlen(view->key[f]),
		             EXCERPT_VALUE_BYTES);
		g_string_append(out, " {");
		append_decl(out, &view->p, f);
		g_string_append_c(out, '}');
		break;
	case ORIGIN_ATTR:
		g_string_append_printf(out, "<%s", tag);
		if (view->key[f] != NULL && strcmp(view->key[f], "hidden") == 0) {
			g_string_append(out, " hidden");
		} else if (view->key[f] != NULL) {
			g_string_append_printf(out, " %s=\"", view->key[f]);
			if (f == CF_ALIGN)
				g_string_append(out,
				                css_align_names[view->p.align]);
			else
				append_field_value(out, &view->p, f);
			g_string_append_c(out, '"');
		}
		g_string_append_c(out, '>');
		break;
	default:
		g_string_append_printf(out, "<%s style=\"", tag);
		append_decl(out, &view->p, f);
		g_string_append(out, "\">");
		break;
	}
	return g_string_free(out, FALSE);
}

/* frame_own - keep s for the frame's lifetime; returns s */
static const char *
frame_own(struct html_frame *frame, char *s)
{
	for (size_t i = 0; i < G_N_ELEMENTS(frame->own); i++) {
		if (frame->own[i] == NULL) {
			frame->own[i] = s;
			return s;
		}
	}
	/* cannot happen: at most one string per slot kind */
	g_free(s);
	return "";
}

/* offscreen - a position that moves the element out of sight */
static int
offscreen(const struct css_props *p, enum css_field *field_r)
{
	static const enum css_field offsets[] = {
		CF_LEFT, CF_TOP, CF_RIGHT, CF_BOTTOM,
	};
	const struct css_len *lens[] = { &p->left, &p->top, &p->right,
	                                 &p->bottom };

	if ((p->set & CF_BIT(CF_TEXT_INDENT)) &&
	    css_px(&p->text_indent) <= OFFSCREEN_PX100) {
		*field_r = CF_TEXT_INDENT;
		return 1;
	}
	if ((p->set & CF_BIT(CF_MARGIN)) && p->margin_min <= OFFSCREEN_PX100) {
		*field_r = CF_MARGIN;
		return 1;
	}
	if (!(p->set & CF_BIT(CF_POSITION)) || !p->positioned)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(offsets); i++) {
		if ((p->set & CF_BIT(offsets[i])) &&
		    css_px(lens[i]) <= OFFSCREEN_PX100) {
			*field_r = offsets[i];
			return 1;
		}
	}
	return 0;
}

/* collapsed - zero height or width with overflow hidden */
static int
collapsed(const struct css_props *p, enum css_field *field_r)
{
	static const enum css_field sizes[] = {
		CF_MAX_HEIGHT, CF_HEIGHT, CF_MAX_WIDTH, CF_WIDTH,
	};
	const struct css_len *lens[] = { &p->max_height, &p->height,
	                                 &p->max_width, &p->width };

	if (!(p->set & CF_BIT(CF_OVERFLOW)) || !p->overflow_hidden)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		if ((p->set & CF_BIT(sizes[i])) && lens[i]->unit != LEN_PCT &&
		    css_px(lens[i]) <= COLLAPSED_PX100) {
			*field_r = sizes[i];
			return 1;
		}
	}
	return 0;
}

/*
 * frame_hide - the field of the element's own style that hides it and
 * all its content for good, or CF_COUNT.
 */
static enum css_field
frame_hide(const struct css_view *view)
{
	const struct css_props *p = &view->p;
	enum css_field f;

	if ((p->set & CF_BIT(CF_DISPLAY)) && p->display_none)
		return CF_DISPLAY;
	if ((p->set & CF_BIT(CF_OPACITY)) && p->opacity_zero)
		return CF_OPACITY;
	if ((p->set & CF_BIT(CF_MSO_HIDE)) && p->mso_hide)
		return CF_MSO_HIDE;
	if (offscreen(p, &f))
		return f;
	if (collapsed(p, &f))
		return f;
	return CF_COUNT;
}

/* frame_push - the frame of node from its parent's and its own style */
static struct html_frame *
frame_push(struct html_render *r, xmlNodePtr node, const struct css_view *view)
{
	struct html_frame *parent, *f;
	const struct css_props *p = &view->p;
	enum css_field hide;

	if (r->depth == r->frames_cap) {
		r->frames_cap = r->frames_cap ? r->frames_cap * 2 : 64;
		r->frames = g_realloc_n(r->frames, r->frames_cap,
		                        sizeof(*r->frames));
	}
	parent = top_frame(r);
	f = &r->frames[r->depth++];
	if (parent != NULL) {
		*f = *parent;
	} else {
		memset(f, 0, sizeof(*f));
		f->font = BODY_FONT_PX100;
	}
	memset(f->own, 0, sizeof(f->own));
	f->node = node;
	f->quote_root = 0;
	f->vis_chars = r->vis_chars;
	f->fact_first = r->facts->n_facts;
	f->fact_count = 0;

	hide = frame_hide(view);
	if (f->hide_why == NULL && hide != CF_COUNT) {
		f->hide_node = node;
		f->hide_why = frame_own(f, describe(node, view, hide));
	}
	if (p->set & CF_BIT(CF_VISIBILITY)) {
		if (p->vis_hidden) {
			f->vis_node = node;
			f->vis_why = frame_own(f, describe(node, view,
			                                   CF_VISIBILITY));
		} else {
			f->vis_node = NULL;
			f->vis_why = NULL;
		}
	}
	if (p->set & CF_BIT(CF_FONT_SIZE)) {
		long parent_font = f->font;

		switch (p->font.unit) {
		case LEN_PCT:
			f->font = css_scale(parent_font, p->font.v, 10000);
			break;
		case LEN_EM:
			f->font = css_scale(parent_font, p->font.v, 100);
			break;
		case LEN_REM:
			f->font = css_scale(BODY_FONT_PX100, p->font.v, 100);
			break;
		default:
			f->font = p->font.v;
			break;
		}
		f->font_node = node;
		f->font_why = f->font <= TINY_FONT_PX100
		              ? frame_own(f, describe(node, view, CF_FONT_SIZE))
		              : NULL;
	}
	/* currentcolor, inherit, windowtext: the colour stays as it was */
	if ((p->set & CF_BIT(CF_COLOR)) && p->color.kind != COLOR_NONE &&
	    p->color.kind != COLOR_DEFAULT) {
		f->color = p->color;
		f->color_node = node;
		f->color_why = frame_own(f, describe(node, view, CF_COLOR));
	}
	if ((p->set & CF_BIT(CF_BG)) && p->bg.kind != COLOR_NONE &&
	    p->bg.kind != COLOR_TRANSPARENT && p->bg.kind != COLOR_DEFAULT) {
		f->bg = p->bg;
		f->bg_node = node;
		f->bg_why = frame_own(f, describe(node, view, CF_BG));
		f->bg_image = 0;
	}
	if ((p->set & CF_BIT(CF_BG_IMAGE)) && p->bg_url != NULL &&
	    p->bg_url[0] != '\0')
		f->bg_image = 1;
	return f;
}

static void
frame_pop(struct html_render *r)
{
	struct html_frame *f = &r->frames[--r->depth];

	for (size_t i = 0; i < G_N_ELEMENTS(f->own); i++)
		g_free(f->own[i]);
}

/* formatting_fact - one formatting fact of node, once per declaration */
static void
formatting_fact(struct html_render *r, struct html_frame *frame,
                xmlNodePtr node, const struct css_view *view,
                enum css_field f, enum rg_html_fact_kind kind, long value)
{
	char *excerpt;
	gchar *key;
	struct rg_html_fact *fact;

	if (view->client & CF_BIT(f))
		return;
	if (view->origin[f] == ORIGIN_ATTR && f == CF_ALIGN &&
	    is_name(node, "center"))
		excerpt = g_strdup("<center>");
	else
		excerpt = describe(node, view, f);
	if (kind == RG_HTML_FONT_SIZE)
		key = g_strdup_printf("%d:%ld", (int)kind, value);
	else
		key = g_strdup_printf("%d:%s", (int)kind,
		                      strchr(excerpt, '<') == excerpt &&
		                      strchr(excerpt, ' ') != NULL
		                      ? strchr(excerpt, ' ') : excerpt);
	if (g_hash_table_contains(r->seen, key)) {
		g_free(key);
		g_free(excerpt);
		return;
	}
	fact = fact_add(r->facts, kind, render_offset(r), frame->quoted,
	                excerpt);
	if (fact == NULL) {
		g_free(key);
		return;
	}
	fact->value = value;
	g_hash_table_add(r->seen, key);
	/* the key of fact i is fact_keys[i] (the table owns it) */
	while (r->fact_keys->len + 1 < r->facts->n_facts)
		g_ptr_array_add(r->fact_keys, NULL);
	g_ptr_array_add(r->fact_keys, key);
	frame->fact_count++;
}

/* formatting_facts - what the element's own style changes in its text */
static void
formatting_facts(struct html_render *r, struct html_frame *frame,
                 xmlNodePtr node, const struct css_view *view)
{
	const struct css_props *p = &view->p;
	int link = frame->in_link;

	if ((p->set & CF_BIT(CF_ALIGN)) && p->align != ALIGN_PLAIN)
		formatting_fact(r, frame, node, view, CF_ALIGN, RG_HTML_ALIGN,
		                0);
	if ((p->set & CF_BIT(CF_FONT_FAMILY)) && p->font_family != NULL &&
	    p->font_family[0] != '\0')
		formatting_fact(r, frame, node, view, CF_FONT_FAMILY,
		                RG_HTML_FONT_FAMILY, 0);
	if ((p->set & CF_BIT(CF_LINE_HEIGHT)) && p->line_height[0] != '\0')
		formatting_fact(r, frame, node, view, CF_LINE_HEIGHT,
		                RG_HTML_LINE_HEIGHT, 0);
	if (!link && (p->set & CF_BIT(CF_COLOR)) &&
	    text_color_override(&p->color))
		formatting_fact(r, frame, node, view, CF_COLOR, RG_HTML_COLOR,
		                0);
	if (!link && (p->set & CF_BIT(CF_BG)) && bg_color_override(&p->bg))
		formatting_fact(r, frame, node, view, CF_BG, RG_HTML_COLOR, 0);
	if ((p->set & CF_BIT(CF_MARGIN)) &&
	    p->margin_max > RG_HTML_WIDE_SPACING_PX * 100)
		formatting_fact(r, frame, node, view, CF_MARGIN,
		                RG_HTML_SPACING, p->margin_max);
	if ((p->set & CF_BIT(CF_PADDING)) &&
	    p->padding_max > RG_HTML_WIDE_SPACING_PX * 100)
		formatting_fact(r, frame, node, view, CF_PADDING,
		                RG_HTML_SPACING, p->padding_max);
	if ((p->set & CF_BIT(CF_FONT_SIZE)) && frame->font > TINY_FONT_PX100)
		formatting_fact(r, frame, node, view, CF_FONT_SIZE,
		                RG_HTML_FONT_SIZE, (frame->font + 25) / 50 * 50);
}

/* append_attr - ' name="value"' with value cut */
static void
append_attr(GString *out, const char *name, const xmlChar *value,
            size_t max)
{
	const char *v = value != NULL ? (const char *)value : "";

	g_string_append_printf(out, " %s=\"", name);
	append_clean(out, v, strlen(v), max);
	g_string_append_c(out, '"');
}

/* active_fact - script, frame, form, object, handler or script URL */
static void
active_fact(struct html_render *r, struct html_frame *frame,
            xmlNodePtr node, const struct elem_attrs *a,
            const struct css_view *view, unsigned flags, int in_holder)
{
	const char *tag = (const char *)node->name;
	GString *out = g_string_new(NULL);
	int refresh = is_name(node, "meta") && a->http_equiv != NULL &&
	              g_ascii_strcasecmp(g_strstrip((char *)a->http_equiv),
	                                 "refresh") == 0;

	if (((flags & EL_ACTIVE) && !in_holder) || refresh) {
		g_string_append_printf(out, "<%s", tag);
		if (refresh)
			g_string_append(out, " http-equiv=\"refresh\"");
		else if (a->type != NULL && is_name(node, "input"))
			append_attr(out, "type", a->type, EXCERPT_VALUE_BYTES);
		if (a->src != NULL)
			append_attr(out, "src", a->src, EXCERPT_URL_BYTES);
		else if (a->on_name != NULL)
			append_attr(out, a->on_name, a->on_value,
			            EXCERPT_VALUE_BYTES);
		else if (a->script_name != NULL)
			append_attr(out, a->script_name, a->script_value,
			            EXCERPT_URL_BYTES);
		g_string_append_c(out, '>');
	} else if (a->on_name != NULL) {
		g_string_append_printf(out, "<%s", tag);
		append_attr(out, a->on_name, a->on_value, EXCERPT_VALUE_BYTES);
		g_string_append_c(out, '>');
	} else if (a->script_name != NULL) {
		g_string_append_printf(out, "<%s", tag);
		append_attr(out, a->script_name, a->script_value,
		            EXCERPT_URL_BYTES);
		g_string_append_c(out, '>');
	} else if ((view->p.set & CF_BIT(CF_ACTIVE)) ||
	           ((view->p.set & CF_BIT(CF_BG_IMAGE)) &&
	            view->p.bg_url != NULL &&
	            script_url(view->p.bg_url, 1))) {
		gchar *d = describe(node, view,
		                    (view->p.set & CF_BIT(CF_ACTIVE))
		                    ? CF_ACTIVE : CF_BG_IMAGE);

		g_string_append(out, d);
		g_free(d);
	} else {
		g_string_free(out, TRUE);
		return;
	}
	fact_add(r->facts, RG_HTML_ACTIVE, render_offset(r), frame->quoted,
	         g_string_free(out, FALSE));
}

/* image_size - px x 1 from a length, or RG_HTML_SIZE_UNKNOWN */
static long
image_px(const struct css_len *len)
{
	if (len->unit == LEN_PCT)
		return RG_HTML_SIZE_UNKNOWN;
	return (css_px(len) + 50) / 100;
}

/* image_add - record an image; takes src (may be NULL) */
static void
image_add(struct html_render *r, const struct html_frame *frame,
          enum rg_html_image_kind kind, const struct css_view *view,
          char *src, const xmlChar *alt, char *excerpt)
{
	struct rg_html_facts *facts = r->facts;
	struct rg_html_image *img;
	const struct css_props *p = &view->p;

	facts->images_seen++;
	if (facts->n_images >= RG_HTML_MAX_IMAGES) {
		g_free(src);
		g_free(excerpt);
		return;
	}
	if (facts->n_images == facts->cap_images) {
		facts->cap_images = facts->cap_images ? facts->cap_images * 2
		                                      : 8;
		facts->images = g_realloc_n(facts->images, facts->cap_images,
		                            sizeof(*facts->images));
	}
	img = &facts->images[facts->n_images++];
	memset(img, 0, sizeof(*img));
	img->kind = kind;
	img->offset = render_offset(r);
	img->src = src;
	img->excerpt = excerpt;
	img->width = img->height = img->width_pct = RG_HTML_SIZE_UNKNOWN;
	if (p->set & CF_BIT(CF_WIDTH)) {
		if (p->width.unit == LEN_PCT)
			img->width_pct = p->width.v / 100;
		else
			img->width = image_px(&p->width);
	}
	if (p->set & CF_BIT(CF_HEIGHT))
		img->height = image_px(&p->height);
	if ((p->set & CF_BIT(CF_MAX_WIDTH)) && p->max_width.unit != LEN_PCT) {
		long m = image_px(&p->max_width);

		if (img->width == RG_HTML_SIZE_UNKNOWN || m < img->width)
			img->width = m;
	}
	if ((p->set & CF_BIT(CF_MAX_HEIGHT)) &&
	    p->max_height.unit != LEN_PCT) {
		long m = image_px(&p->max_height);

		if (img->height == RG_HTML_SIZE_UNKNOWN || m < img->height)
			img->height = m;
	}
	if (frame->hide_why != NULL || frame->vis_why != NULL)
		img->flags |= RG_HTML_IMG_HIDDEN;
	if (frame->in_link)
		img->flags |= RG_HTML_IMG_LINKED;
	if (frame->quoted)
		img->flags |= RG_HTML_IMG_QUOTED;
	if (alt != NULL) {
		gchar *nfkc = g_utf8_normalize((const char *)alt, -1,
		                               G_NORMALIZE_NFKC);

		img->alt = dup_clean(nfkc != NULL ? nfkc : "", IMAGE_ALT_BYTES);
		g_free(nfkc);
	}
}

/* first_srcset - the first candidate URL of a srcset */
static char *
first_srcset(const char *s)
{
	const char *start;

	while (*s != '\0' && (html_is_space((unsigned char)*s) || *s == ','))
		s++;
	start = s;
	while (*s != '\0' && !html_is_space((unsigned char)*s) && *s != ',')
		s++;
	return s > start ? g_strndup(start, (gsize)(s - start)) : NULL;
}

/* bounded_url - a trimmed copy of url of at most IMAGE_SRC_BYTES */
static char *
bounded_url(const char *url)
{
	size_t n = strlen(url);
	const char *u = trim(url, &n);

	return n > 0 ? g_strndup(u, utf8_cut(u, n, IMAGE_SRC_BYTES)) : NULL;
}

/* image_facts - <img>, <input type=image>, background images */
static void
image_facts(struct html_render *r, const struct html_frame *frame,
            xmlNodePtr node, const struct elem_attrs *a,
            const struct css_view *view)
{
	const struct html_frame *parent = r->depth > 1
	                                  ? &r->frames[r->depth - 2] : NULL;
	int img = is_name(node, "img");
	int input = is_name(node, "input") && a->type != NULL &&
	            g_ascii_strcasecmp(g_strstrip((char *)a->type),
	                               "image") == 0;

	if (img || input) {
		GString *out = g_string_new(NULL);
		char *src = NULL;

		if (a->src != NULL)
			src = bounded_url((const char *)a->src);
		if (src == NULL && a->srcset != NULL)
			src = first_srcset((const char *)a->srcset);
		if (frame->in_link && parent != NULL && parent->in_link &&
		    node->parent != NULL &&
		    node->parent->type == XML_ELEMENT_NODE &&
		    is_name(node->parent, "a")) {
			g_string_append(out, "<a");
			for (xmlAttrPtr at = node->parent->properties; at != NULL;
			     at = at->next) {
				if (at->name != NULL &&
				    g_ascii_strcasecmp((const char *)at->name,
				                       "href") == 0) {
					xmlChar *href = attr_value(at);

					append_attr(out, "href", href,
					            EXCERPT_URL_BYTES);
					xmlFree(href);
					break;
				}
			}
			g_string_append(out, ">");
		} else if (frame->in_link) {
			g_string_append(out, "<a>");
		}
		g_string_append_printf(out, "<%s", (const char *)node->name);
		if (input)
			g_string_append(out, " type=\"image\"");
		/* the size first: excerpts are cut, and a 1x1 says most */
		if (a->width != NULL)
			append_attr(out, "width", a->width, 12);
		if (a->height != NULL)
			append_attr(out, "height", a->height, 12);
		append_attr(out, "src", BAD_CAST (src != NULL ? src : ""),
		            EXCERPT_URL_BYTES);
		if (a->style != NULL)
			append_attr(out, "style", a->style,
			            EXCERPT_VALUE_BYTES);
		g_string_append_c(out, '>');
		image_add(r, frame, input ? RG_HTML_IMG_INPUT : RG_HTML_IMG,
		          view, src, a->alt, g_string_free(out, FALSE));
	}
	if ((view->p.set & CF_BIT(CF_BG_IMAGE)) && view->p.bg_url != NULL &&
	    view->p.bg_url[0] != '\0') {
		char *src = bounded_url(view->p.bg_url);

		if (src != NULL)
			image_add(r, frame, RG_HTML_IMG_BACKGROUND, view, src,
			          NULL, describe(node, view, CF_BG_IMAGE));
	}
}

/* quote_kind - 1: node starts quoted text; 2: it and all after it */
static int
quote_kind(xmlNodePtr node, const struct elem_attrs *a)
{
	static const char *const classes[] = {
		"gmail_quote", "moz-cite-prefix", "yahoo_quoted",
		"protonmail_quote",
	};
	static const char *const rest_ids[] = {
		"divRplyFwdMsg", "appendonsend",
		"mail-editor-reference-message-container",
	};

	if (is_name(node, "blockquote") && a->type != NULL &&
	    g_ascii_strcasecmp(g_strstrip((char *)a->type), "cite") == 0)
		return 1;
	for (size_t i = 0; i < G_N_ELEMENTS(classes); i++)
		if (has_class((const char *)a->klass, classes[i]))
			return 1;
	/* Outlook for Windows: the "From: ... Sent:" header of the quoted
	 * message sits in a box with this top border */
	if (a->style != NULL) {
		gchar *style = g_ascii_strdown((const char *)a->style, -1);
		int outlook = strstr(style, "border-top:solid #e1e1e1 1.0pt") !=
		              NULL ||
		              strstr(style, "border-top:solid #b5c4df 1.0pt") !=
		              NULL;

		g_free(style);
		if (outlook)
			return 2;
	}
	if (a->id != NULL) {
		gchar *id = g_strstrip(g_strdup((const char *)a->id));

		for (size_t i = 0; i < G_N_ELEMENTS(rest_ids); i++) {
			if (g_ascii_strcasecmp(id, rest_ids[i]) == 0) {
				g_free(id);
				return 2;
			}
		}
		g_free(id);
	}
	return 0;
}

/* element_enter - the structure facts of an element on the way down */
static void
element_enter(struct html_render *r, xmlNodePtr node, unsigned flags)
{
	struct elem_attrs a;
	struct css_view view;
	struct css_props attr_props, inline_props;
	struct html_frame *frame, *parent = top_frame(r);
	int in_holder = parent != NULL && parent->holder;
	int quote;

	elem_attrs_read(&a, node);
	memset(&view, 0, sizeof(view));
	memset(&inline_props, 0, sizeof(inline_props));
	view_attrs(&view, &attr_props, node, &a, flags);
	view_sheet(r, &view, node, &a);
	if (a.style != NULL) {
		css_parse_style(&inline_props, (const char *)a.style, r->strip,
		                &r->scratch);
		view_overlay(&view, &inline_props, ORIGIN_INLINE, NULL, 0);
		/* new Outlook and Outlook on the web write the compose font
		 * on every paragraph it marks elementToProof: the client's
		 * default, as Outlook's Mso classes are */
		if (has_class((const char *)a.klass, "elementToProof"))
			view.client |= (CF_BIT(CF_FONT_FAMILY) |
			                CF_BIT(CF_FONT_SIZE)) & inline_props.set;
	}

	frame = frame_push(r, node, &view);
	if (is_name(node, "a") && a.href != NULL)
		frame->in_link = 1;
	if (flags & EL_HOLDER)
		frame->holder = 1;
	quote = quote_kind(node, &a);
	if (quote != 0 && !frame->quoted) {
		frame->quote_root = 1;
		frame->quote_start = render_offset(r);
		r->quote_depth++;
	}
	if (quote != 0)
		frame->quoted = 1;
	if (quote == 2 && !r->quote_rest) {
		r->quote_rest = 1;
		/* from the start of an enclosing quote, if any */
		r->quote_rest_start = render_offset(r);
		for (size_t i = 0; i < r->depth; i++) {
			if (r->frames[i].quote_root) {
				r->quote_rest_start = r->frames[i].quote_start;
				break;
			}
		}
	}
	if (r->quote_rest)
		frame->quoted = 1;

	active_fact(r, frame, node, &a, &view, flags, in_holder);
	formatting_facts(r, frame, node, &view);
	image_facts(r, frame, node, &a, &view);

	css_props_clear(&attr_props);
	css_props_clear(&inline_props);
	elem_attrs_clear(&a);
}

/* add_quoted - text[start, end) is quoted, from its first character */
static void
add_quoted(struct html_render *r, size_t start, size_t end)
{
	while (start < end && (r->buf[start] == ' ' || r->buf[start] == '\n'))
		start++;
	rg_part_add_quoted(r->part, start, end);
}

/* element_leave - drop formatting facts of an element without text */
static void
element_leave(struct html_render *r)
{
	struct html_frame *f = top_frame(r);
	struct rg_html_facts *facts = r->facts;

	if (f == NULL)
		return;
	if (f->fact_count > 0) {
		int shows = r->vis_chars != f->vis_chars;
		size_t end = render_offset(r);

		for (size_t i = f->fact_first;
		     i < f->fact_first + f->fact_count; i++) {
			struct rg_html_fact *fact = &facts->facts[i];

			if (shows) {
				/* from its first character, not the break or
				 * space written before it (whitespace runs are
				 * collapsed: this skips a few bytes) */
				while (fact->start < end &&
				       (r->buf[fact->start] == ' ' ||
				        r->buf[fact->start] == '\n'))
					fact->start++;
				fact->end = end;
				continue;
			}
			/* marked for removal; compacted at the end */
			facts->kind_count[fact->kind]--;
			fact->kind = RG_HTML_FACT_KINDS;
		}
		if (!shows) {
			/* their keys go too: a later element may need them */
			for (size_t i = f->fact_first;
			     i < f->fact_first + f->fact_count &&
			     i < r->fact_keys->len; i++) {
				gpointer key = g_ptr_array_index(r->fact_keys, i);

				if (key != NULL)
					g_hash_table_remove(r->seen, key);
				g_ptr_array_index(r->fact_keys, i) = NULL;
			}
		}
	}
	if (f->quote_root) {
		r->quote_depth--;
		if (r->quote_depth == 0 && !r->quote_rest)
			add_quoted(r, f->quote_start, render_offset(r));
	}
	frame_pop(r);
}

/* render_enter - a node on the way down; 1 when its children are walked */
static int
render_enter(struct html_render *r, xmlNodePtr node)
{
	unsigned flags;

	switch (node->type) {
	case XML_ELEMENT_NODE:
		break;
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		render_text(r, node->content,
		            node->prev == NULL && node->parent != NULL &&
		            (html_element_flags(node->parent->name) & EL_PRE));
		return 0;
	default:
		/* comments, processing instructions, DTD, entity refs */
		return 0;
	}

	flags = html_element_flags(node->name);
	element_links(r->part, node);
	if (flags & EL_CSS)
		style_links(r->part, node);
	if (r->hidden == 0) {
		if (flags & EL_BLOCK)
			r->need_break = 1;
		if ((flags & EL_CELL) && !render_at_line_start(r))
			r->space = 1;
		if (flags & EL_BREAK)
			render_newline(r);
	}
	element_enter(r, node, flags);
	if (flags & EL_HIDDEN)
		r->hidden++;
	if (flags & EL_PRE)
		r->pre++;
	return (flags & EL_RAW) == 0;
}

/* render_leave - a node on the way up, children done (or skipped) */
static void
render_leave(struct html_render *r, xmlNodePtr node)
{
	unsigned flags;

	if (node->type != XML_ELEMENT_NODE)
		return;
	flags = html_element_flags(node->name);
	if (flags & EL_HIDDEN)
		r->hidden--;
	if (flags & EL_PRE)
		r->pre--;
	if ((flags & EL_BLOCK) && r->hidden == 0)
		r->need_break = 1;
	element_leave(r);
}

/*
 * walk_next - the node after node in document order below top, without
 * recursion: down to the first child (when descend), else on to the next
 * sibling, else up; leave is called for each node left.
 */
typedef void (*leave_fn)(struct html_render *r, xmlNodePtr node);

static xmlNodePtr
walk_next(struct html_render *r, xmlNodePtr top, xmlNodePtr node,
          int descend, leave_fn leave)
{
	if (descend && node->type == XML_ELEMENT_NODE &&
	    node->children != NULL)
		return node->children;
	for (;;) {
		if (leave != NULL)
			leave(r, node);
		if (node->next != NULL)
			return node->next;
		node = node->parent;
		if (node == NULL || node == top)
			return NULL;
	}
}

/* Nodes walked between two questions to r->stop. */
#define STOP_EVERY 4096

/* render_walk - every node under top in document order; not into an
 * element nested deeper than r->max_depth, and not on once r->stop says
 * so */
static void
render_walk(struct html_render *r, xmlNodePtr top)
{
	xmlNodePtr node = top->children;
	size_t walked = 0;

	while (node != NULL) {
		int descend = render_enter(r, node);

		/* r->depth: open elements, node's own frame included */
		if (descend && node->type == XML_ELEMENT_NODE &&
		    r->depth > r->max_depth) {
			descend = 0;
			r->too_deep = 1;
		}
		if (r->stop != NULL && ++walked % STOP_EVERY == 0 &&
		    r->stop(r->stop_ctx)) {
			r->stopped = 1;
			break;
		}
		node = walk_next(r, top, node, descend, render_leave);
	}
}

/* used_add - "." or "#" and name, lower case, into the used set */
static void
used_add(GHashTable *used, char prefix, const char *name, size_t n)
{
	gchar *key;

	if (n == 0 || n > CSS_KEY_BYTES)
		return;
	key = g_strdup_printf("%c%.*s", prefix, (int)n, name);
	for (char *k = key; *k != '\0'; k++)
		*k = g_ascii_tolower(*k);
	g_hash_table_add(used, key);
}

/* note_used - the tag, classes and id of an element, for the sheet */
static void
note_used(GHashTable *used, xmlNodePtr node)
{
	g_hash_table_add(used, g_ascii_strdown((const char *)node->name, -1));
	for (xmlAttrPtr attr = node->properties; attr != NULL;
	     attr = attr->next) {
		const char *name = (const char *)attr->name;
		xmlChar *value;
		const char *s;

		if (name == NULL)
			continue;
		if (g_ascii_strcasecmp(name, "id") == 0) {
			size_t n;

			value = attr_value(attr);
			n = strlen((const char *)value);
			s = trim((const char *)value, &n);
			used_add(used, '#', s, n);
			xmlFree(value);
			continue;
		}
		if (g_ascii_strcasecmp(name, "class") != 0)
			continue;
		value = attr_value(attr);
		s = (const char *)value;
		for (;;) {
			const char *start;

			while (*s != '\0' && html_is_space((unsigned char)*s))
				s++;
			if (*s == '\0')
				break;
			start = s;
			while (*s != '\0' && !html_is_space((unsigned char)*s))
				s++;
			used_add(used, '.', start, (size_t)(s - start));
		}
		xmlFree(value);
	}
}

/*
 * read_styles - first pass: what the document uses, then the rules of
 * every <style> element (wherever it is, as mail clients apply them).
 */
static void
read_styles(struct html_render *r, xmlNodePtr top)
{
	xmlNodePtr node = top->children;
	GPtrArray *styles = g_ptr_array_new();

	while (node != NULL) {
		if (node->type == XML_ELEMENT_NODE && node->name != NULL) {
			note_used(r->sheet.used, node);
			if (html_element_flags(node->name) & EL_CSS)
				g_ptr_array_add(styles, node);
		}
		node = walk_next(r, top, node, 1, NULL);
	}
	for (guint i = 0; i < styles->len; i++) {
		xmlNodePtr style = g_ptr_array_index(styles, i);

		for (xmlNodePtr child = style->children; child != NULL;
		     child = child->next) {
			if ((child->type != XML_TEXT_NODE &&
			     child->type != XML_CDATA_SECTION_NODE) ||
			    child->content == NULL)
				continue;
			css_strip(r->strip, (const char *)child->content,
			          strlen((const char *)child->content));
			css_sheet_parse(&r->sheet, r->strip->str, r->strip->len,
			                0, &r->scratch);
		}
	}
	g_ptr_array_free(styles, TRUE);
}

/* facts_compact - drop the facts marked for removal */
static void
facts_compact(struct rg_html_facts *facts)
{
	size_t out = 0;

	for (size_t i = 0; i < facts->n_facts; i++) {
		if (facts->facts[i].kind == RG_HTML_FACT_KINDS) {
			g_free(facts->facts[i].excerpt);
			continue;
		}
		facts->facts[out++] = facts->facts[i];
	}
	facts->n_facts = out;
}

static void
render_init(struct html_render *r, struct rg_part *part, size_t max_text)
{
	memset(r, 0, sizeof(*r));
	r->part = part;
	r->max_depth = SIZE_MAX;
	/* room for the NUL */
	r->max = max_text < SIZE_MAX ? max_text : SIZE_MAX - 1;
	r->facts = facts_new();
	r->stage = g_string_new(NULL);
	r->strip = g_string_new(NULL);
	r->key = g_string_new(NULL);
	r->tmp = g_string_new(NULL);
	r->scratch.name = g_string_new(NULL);
	r->scratch.value = g_string_new(NULL);
	r->scratch.lower = g_string_new(NULL);
	r->sheet.rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                       css_rule_free);
	r->sheet.used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                      NULL);
	r->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	r->fact_keys = g_ptr_array_new();
}

static void
render_done(struct html_render *r)
{
	while (r->depth > 0)
		frame_pop(r);
	g_free(r->frames);
	g_string_free(r->stage, TRUE);
	g_string_free(r->strip, TRUE);
	g_string_free(r->key, TRUE);
	g_string_free(r->tmp, TRUE);
	g_string_free(r->scratch.name, TRUE);
	g_string_free(r->scratch.value, TRUE);
	g_string_free(r->scratch.lower, TRUE);
	g_hash_table_destroy(r->sheet.rules);
	g_hash_table_destroy(r->sheet.used);
	g_hash_table_destroy(r->seen);
	g_ptr_array_free(r->fact_keys, TRUE);
	rg_html_facts_free(&r->facts);
}

unsigned
rg_html_count_elements(const char *html, size_t len, unsigned max,
                       size_t *cut_r)
{
	const char *p = html, *end = html + len;
	unsigned n = 0;

	*cut_r = len;
	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if (p + 1 < end && g_ascii_isalpha(p[1]) && ++n > max) {
			*cut_r = (size_t)(p - html);
			break;
		}
		p++;
	}
	return n;
}

int
rg_html_render(const char *html, size_t len, size_t max_text,
               struct rg_part *part, char **error_r)
{
	struct rg_html_limits limits = { max_text, 0, 0, NULL, NULL };
	char *limit = NULL;
	int rc = rg_html_render_limited(html, len, &limits, part, &limit,
	                                error_r);

	free(limit);
	return rc;
}

static int
render_limited(const char *html, size_t len,
               const struct rg_html_limits *limits, struct rg_part *part,
               char **limit_r, char **error_r)
{
	struct html_render r;
	htmlParserCtxtPtr ctxt;
	htmlDocPtr doc;
	gchar *valid = NULL;
	int halted;
	size_t cut;

	*limit_r = NULL;
	render_init(&r, part, limits->max_text);
	if (limits->max_depth > 0)
		r.max_depth = limits->max_depth;
	r.stop = limits->stop;
	r.stop_ctx = limits->stop_ctx;
	/* libxml2 spends a node (120 bytes and more) per element: the
	 * elements past the limit are not parsed at all */
	if (limits->max_elements > 0 &&
	    rg_html_count_elements(html, len, limits->max_elements, &cut) >
	    limits->max_elements) {
		len = cut;
		*limit_r = rg_strdup_printf("limits.max_html_elements: more "
		                            "than %u HTML elements",
		                            limits->max_elements);
	}

	if (len > 0) {
		/* libxml2 passes invalid bytes through and stops at NUL */
		if (!g_utf8_validate_len(html, len, NULL)) {
			valid = g_utf8_make_valid(html, (gssize)len);
			html = valid;
			len = strlen(valid);
		}
		if (len > INT_MAX) {
			g_free(valid);
			render_done(&r);
			*error_r = rg_strdup_printf("HTML of %zu bytes is too "
			                            "large to parse", len);
			return -1;
		}
		ctxt = htmlNewParserCtxt();
		if (ctxt == NULL) {
			g_free(valid);
			render_done(&r);
			*error_r = rg_strdup_printf("cannot create an HTML "
			                            "parser");
			return -1;
		}
		/* the caller converted the part: <meta charset> is ignored */
		doc = htmlCtxtReadMemory(ctxt, html, (int)len, NULL, "UTF-8",
		                         HTML_PARSE_OPTIONS);
		/* a halted parser dropped the rest of the document */
		halted = ctxt->disableSAX != 0;
		if (doc == NULL || halted) {
			const char *why = ctxt->lastError.message != NULL ?
			                  ctxt->lastError.message : "no document";

			*error_r = rg_strdup_printf("HTML cannot be parsed: %s",
			                            why);
			g_strchomp(*error_r);
			if (doc != NULL)
				xmlFreeDoc(doc);
			htmlFreeParserCtxt(ctxt);
			g_free(valid);
			free(r.buf);
			render_done(&r);
			return -1;
		}
		read_styles(&r, (xmlNodePtr)doc);
		render_walk(&r, (xmlNodePtr)doc);
		stage_commit(&r);
		xmlFreeDoc(doc);
		htmlFreeParserCtxt(ctxt);
		g_free(valid);
	}
	if (r.quote_rest)
		add_quoted(&r, r.quote_rest_start, r.len);
	if (r.too_deep && *limit_r == NULL)
		*limit_r = rg_strdup_printf("limits.max_html_depth: HTML "
		                            "elements nested deeper than %zu",
		                            r.max_depth);

	if (r.oom) {
		free(r.buf);
		render_done(&r);
		free(*limit_r);
		*limit_r = NULL;
		*error_r = rg_strdup_printf("out of memory rendering HTML");
		return -1;
	}
	if (r.buf == NULL) {
		r.buf = malloc(1);
		if (r.buf == NULL) {
			render_done(&r);
			*error_r = rg_strdup_printf("out of memory rendering "
			                            "HTML");
			return -1;
		}
	}
	r.buf[r.len] = '\0';
	part->text = r.buf;
	part->text_len = r.len;
	facts_compact(r.facts);
	rg_html_facts_free(&part->html);
	part->html = r.facts;
	r.facts = NULL;
	render_done(&r);
	return 0;
}

int
rg_html_render_limited(const char *html, size_t len,
                       const struct rg_html_limits *limits,
                       struct rg_part *part, char **limit_r,
                       char **error_r)
{
	int rc = render_limited(html, len, limits, part, limit_r, error_r);

	if (rc < 0) {
		free(*limit_r);
		*limit_r = NULL;
	}
	return rc;
}
