/*
 * html.c - reduce an HTML part to its visible text and its links.
 *
 * libxml2's HTML parser builds the tree (entities decoded, unclosed tags
 * closed the way browsers close them); one walk over the tree writes the
 * text by the layout rules of html.h and collects every URL the buyer can
 * click or whose content a mail client loads.
 *
 * Input is hostile: the walk follows parent/next pointers instead of
 * recursing, so nesting depth costs no stack, and the parser runs with
 * XML_PARSE_HUGE because without it libxml2 stops at depth 256 and drops
 * the rest of the document (whatever follows 256 <div>s would never be
 * judged).  Each call has its own parser context: nothing here is shared
 * between threads.
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

struct html_element {
	const char *name;
	unsigned flags;
};

/* Sorted by name (bsearch); elements not listed are inline. */
static const struct html_element html_elements[] = {
	{ "address", EL_BLOCK },
	{ "article", EL_BLOCK },
	{ "aside", EL_BLOCK },
	{ "blockquote", EL_BLOCK },
	{ "br", EL_BREAK },
	{ "caption", EL_BLOCK },
	{ "center", EL_BLOCK },
	{ "dd", EL_BLOCK },
	{ "details", EL_BLOCK },
	{ "dialog", EL_BLOCK },
	{ "dir", EL_BLOCK },
	{ "div", EL_BLOCK },
	{ "dl", EL_BLOCK },
	{ "dt", EL_BLOCK },
	{ "fieldset", EL_BLOCK },
	{ "figcaption", EL_BLOCK },
	{ "figure", EL_BLOCK },
	{ "footer", EL_BLOCK },
	{ "form", EL_BLOCK },
	{ "h1", EL_BLOCK },
	{ "h2", EL_BLOCK },
	{ "h3", EL_BLOCK },
	{ "h4", EL_BLOCK },
	{ "h5", EL_BLOCK },
	{ "h6", EL_BLOCK },
	{ "head", EL_HIDDEN },
	{ "header", EL_BLOCK },
	{ "hgroup", EL_BLOCK },
	{ "hr", EL_BLOCK },
	{ "iframe", EL_HIDDEN },
	{ "legend", EL_BLOCK },
	{ "li", EL_BLOCK },
	{ "listing", EL_BLOCK | EL_PRE },
	{ "main", EL_BLOCK },
	{ "menu", EL_BLOCK },
	{ "nav", EL_BLOCK },
	{ "noscript", EL_HIDDEN },
	{ "ol", EL_BLOCK },
	{ "p", EL_BLOCK },
	{ "plaintext", EL_BLOCK | EL_PRE },
	{ "pre", EL_BLOCK | EL_PRE },
	{ "script", EL_HIDDEN | EL_RAW },
	{ "section", EL_BLOCK },
	{ "style", EL_HIDDEN | EL_RAW | EL_CSS },
	{ "summary", EL_BLOCK },
	{ "table", EL_BLOCK },
	{ "td", EL_CELL },
	{ "template", EL_HIDDEN },
	{ "textarea", EL_PRE },
	{ "th", EL_CELL },
	{ "title", EL_HIDDEN },
	{ "tr", EL_BLOCK },
	{ "ul", EL_BLOCK },
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

/* The text being written, and where the walk is. */
struct html_render {
	struct rg_part *part;
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
};

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

/* render_put - append n bytes; stops the text for good when they don't fit */
static void
render_put(struct html_render *r, const char *s, size_t n)
{
	if (r->full)
		return;
	if (n > r->max - r->len) {
		r->full = 1;
		return;
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
			return;
		}
		r->buf = buf;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
}

static int
render_at_line_start(const struct html_render *r)
{
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
	if (r->len == 0) {
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

/* render_text - a text node's content, by the whitespace rules */
static void
render_text(struct html_render *r, const xmlChar *text, int pre_start)
{
	const unsigned char *s = text;

	if (text == NULL || r->hidden > 0 || r->full)
		return;
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
		n = utf8_seq(s);
		if (n == 0) {
			/* libxml2 gives UTF-8; never pass on anything else */
			render_put(r, "\xEF\xBF\xBD", 3);
			s++;
		} else {
			render_put(r, (const char *)s, n);
			s += n;
		}
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
}

/*
 * render_walk - every node under top in document order, without recursion:
 * down to the first child, else on to the next sibling, else up.
 */
static void
render_walk(struct html_render *r, xmlNodePtr top)
{
	xmlNodePtr node = top->children;

	while (node != NULL) {
		if (render_enter(r, node) && node->type == XML_ELEMENT_NODE &&
		    node->children != NULL) {
			node = node->children;
			continue;
		}
		for (;;) {
			render_leave(r, node);
			if (node->next != NULL) {
				node = node->next;
				break;
			}
			node = node->parent;
			if (node == NULL || node == top) {
				node = NULL;
				break;
			}
		}
	}
}

int
rg_html_render(const char *html, size_t len, size_t max_text,
               struct rg_part *part, char **error_r)
{
	struct html_render r;
	htmlParserCtxtPtr ctxt;
	htmlDocPtr doc;
	gchar *valid = NULL;
	int halted;

	memset(&r, 0, sizeof(r));
	r.part = part;
	/* room for the NUL */
	r.max = max_text < SIZE_MAX ? max_text : SIZE_MAX - 1;

	if (len > 0) {
		/* libxml2 passes invalid bytes through and stops at NUL */
		if (!g_utf8_validate_len(html, len, NULL)) {
			valid = g_utf8_make_valid(html, (gssize)len);
			html = valid;
			len = strlen(valid);
		}
		if (len > INT_MAX) {
			g_free(valid);
			*error_r = rg_strdup_printf("HTML of %zu bytes is too "
			                            "large to parse", len);
			return -1;
		}
		ctxt = htmlNewParserCtxt();
		if (ctxt == NULL) {
			g_free(valid);
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
			return -1;
		}
		render_walk(&r, (xmlNodePtr)doc);
		xmlFreeDoc(doc);
		htmlFreeParserCtxt(ctxt);
		g_free(valid);
	}

	if (r.oom) {
		free(r.buf);
		*error_r = rg_strdup_printf("out of memory rendering HTML");
		return -1;
	}
	if (r.buf == NULL) {
		r.buf = malloc(1);
		if (r.buf == NULL) {
			*error_r = rg_strdup_printf("out of memory rendering "
			                            "HTML");
			return -1;
		}
	}
	r.buf[r.len] = '\0';
	part->text = r.buf;
	part->text_len = r.len;
	return 0;
}
