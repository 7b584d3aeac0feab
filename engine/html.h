/*
 * html.h - reduce an HTML part to what the buyer sees, and the facts of
 * its markup the structure rules judge.
 *
 * Parses with libxml2's HTML parser (never regular expressions over markup)
 * and walks the tree: visible text with entities decoded, links from
 * href/src/CSS url(), line structure kept so the layout rules can judge
 * runs of empty lines; images, active content, formatting and hidden text
 * from the elements, their attributes, inline styles and simple <style>
 * rules (rules/structure.c turns them into findings).
 */
#ifndef RG_HTML_H
#define RG_HTML_H

#include <stddef.h>

#include "internal.h"

/*
 * What rg_html_render records beyond text and links (part->html).
 * Offsets are bytes of part->text.  Strings are UTF-8 without control
 * characters, each at most a few hundred bytes (an excerpt, not a copy).
 */
enum rg_html_fact_kind {
	RG_HTML_ACTIVE,       /* script, iframe, form, object, on*=, ... */
	RG_HTML_ALIGN,        /* centred or re-aligned text */
	RG_HTML_FONT_FAMILY,  /* font-family, font face= */
	RG_HTML_LINE_HEIGHT,  /* line-height other than normal */
	RG_HTML_COLOR,        /* text or background colour override */
	RG_HTML_SPACING,      /* margin or padding wider than 20% */
	RG_HTML_FONT_SIZE,    /* a font size; value: px x 100 */
	RG_HTML_HIDDEN,       /* text [start, end) the buyer cannot see */
	RG_HTML_FACT_KINDS
};

/*
 * Formatting facts (ALIGN .. FONT_SIZE) are kept only for elements with
 * visible text in them, once per distinct declaration, and never for links
 * (<a> and what is inside) or for a mail client's own defaults (Outlook's
 * Mso and EmailStyle classes, the compose font new Outlook writes on its
 * elementToProof paragraphs, black text, white background).  Spacing
 * counts a 600-pixel-wide body: over 120px, or 20%, is "over 20%".
 */
#define RG_HTML_WIDE_SPACING_PX 120

struct rg_html_fact {
	enum rg_html_fact_kind kind;
	size_t start, end;       /* text the element holds */
	long value;              /* RG_HTML_FONT_SIZE: px x 100 */
	int quoted;              /* inside quoted text of an earlier message */
	char *excerpt;           /* names the element: <span style="..."> */
};

/* Where an image came from. */
enum rg_html_image_kind {
	RG_HTML_IMG,             /* <img> */
	RG_HTML_IMG_INPUT,       /* <input type=image> */
	RG_HTML_IMG_BACKGROUND,  /* background= attribute, CSS background */
};

#define RG_HTML_IMG_HIDDEN  0x01u  /* display:none, in a hidden element */
#define RG_HTML_IMG_LINKED  0x02u  /* inside <a href> */
#define RG_HTML_IMG_QUOTED  0x04u  /* inside quoted text */

/* No size given. */
#define RG_HTML_SIZE_UNKNOWN (-1L)

struct rg_html_image {
	enum rg_html_image_kind kind;
	unsigned flags;          /* RG_HTML_IMG_* */
	size_t offset;           /* where it sits in the text */
	long width, height;      /* CSS pixels from attributes or CSS (CSS
	                          * wins); RG_HTML_SIZE_UNKNOWN */
	long width_pct;          /* width="90%" or width:90%; else unknown */
	char *src;               /* trimmed URL (at most 2 KiB), or NULL */
	char *alt;               /* alt text, NULL when there is no alt=;
	                          * NFKC, at most 512 bytes */
	char *excerpt;           /* <img src="..." width="1" height="1"> */
};

/* At most this many images are recorded per part; more are counted. */
#define RG_HTML_MAX_IMAGES 10000
/* At most this many facts of one kind are recorded per part. */
#define RG_HTML_MAX_FACTS 1000

struct rg_html_facts {
	struct rg_html_fact *facts;
	size_t n_facts;
	struct rg_html_image *images;
	size_t n_images;
	size_t images_seen;      /* all images, recorded or not */
	size_t facts_dropped;    /* over RG_HTML_MAX_FACTS */
	/* private to html.c */
	size_t cap_facts, cap_images;
	size_t kind_count[RG_HTML_FACT_KINDS];
};

/*
 * rg_html_render - render html[0..len) (UTF-8) into part->text/text_len
 * (visible text, UTF-8, NUL-terminated, at most max_text bytes, cut at a
 * character boundary), append its links to part->links, set part->html to
 * the facts of its markup (freed by rg_view_clear) and mark quoted text of
 * an earlier message with rg_part_add_quoted.
 *
 * The text is already NFKC-normalised: each run of text between two tags
 * is normalised as it is written, so the ranges recorded (hidden text,
 * quoted text) are offsets of the final text and the caller must not
 * normalise it again.  (A combining mark split from its base by a tag is
 * not composed with it.)  Line ends are "\n".
 *
 * Text layout: a block element (p, div, li, tr, h1-h6, blockquote, ...)
 * starts and ends on a line of its own, but adds no newline when the output
 * is already at the start of a line; <br> always adds one; whitespace runs
 * collapse to one space and vanish at the start of a line; U+00A0 (&nbsp;)
 * is not collapsed, and NFKC makes it a space.  So
 * "<p>a</p><p>&nbsp;</p><p>b</p>" renders as "a\n \nb" and
 * "a<div><br></div><div>b</div>" as "a\n\nb".
 * Text of <head>, <script>, <style>, <template> and comments is not visible.
 * Text hidden by CSS (display:none, a tiny font, ...) IS written, so every
 * text rule still reads it; its range is an RG_HTML_HIDDEN fact.
 *
 * Quoted text: <blockquote type="cite">, Gmail's gmail_quote, Thunderbird's
 * moz-cite-prefix line, Yahoo's and Proton's quote blocks, and everything
 * from Outlook's divRplyFwdMsg / appendonsend marker, or Outlook for
 * Windows' bordered "From:" header box, to the end.
 *
 * Returns 0, or -1 with *error_r set (free()) when the HTML cannot be
 * parsed at all.
 */
int rg_html_render(const char *html, size_t len, size_t max_text,
                   struct rg_part *part, char **error_r);

/* The limits of one HTML part (limits group of relaygate.conf);
 * rg_html_render has none but max_text. */
struct rg_html_limits {
	size_t max_text;         /* bytes of rendered text */
	unsigned max_elements;   /* start tags ("<" and a letter) in the
	                          * source: the rest is not parsed; 0 none */
	unsigned max_depth;      /* element nesting: what an element deeper
	                          * than this holds is not rendered; 0 none */
	/* asked every few thousand nodes; nonzero stops the walk (the CPU
	 * budget of the message is spent); NULL: never */
	int (*stop)(void *ctx);
	void *stop_ctx;
};

/*
 * rg_html_render_limited - rg_html_render under limits.  When one was
 * exceeded, the text of what was within it is rendered and *limit_r
 * names the limit (malloc'd, free(); else NULL): the caller reports the
 * part as uncheckable.  A stop by limits->stop sets no *limit_r.
 */
int rg_html_render_limited(const char *html, size_t len,
                           const struct rg_html_limits *limits,
                           struct rg_part *part, char **limit_r,
                           char **error_r);

/* rg_html_count_elements - start tags in html[0..len), counting stops at
 * max + 1; *cut_r is where the (max + 1)-th starts (len when within) */
unsigned rg_html_count_elements(const char *html, size_t len, unsigned max,
                                size_t *cut_r);

#endif
