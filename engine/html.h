/*
 * html.h - reduce an HTML part to what the buyer sees.
 *
 * Parses with libxml2's HTML parser (never regular expressions over markup)
 * and walks the tree: visible text with entities decoded, links from
 * href/src/CSS url(), line structure kept so the layout rules can judge
 * runs of empty lines.
 */
#ifndef RG_HTML_H
#define RG_HTML_H

#include <stddef.h>

#include "internal.h"

/*
 * rg_html_render - render html[0..len) (UTF-8) into part->text/text_len
 * (visible text, UTF-8, NUL-terminated, at most max_text bytes, cut at a
 * character boundary) and append its links to part->links.
 *
 * Text layout: a block element (p, div, li, tr, h1-h6, blockquote, ...)
 * starts and ends on a line of its own, but adds no newline when the output
 * is already at the start of a line; <br> always adds one; whitespace runs
 * collapse to one space and vanish at the start of a line; U+00A0 (&nbsp;)
 * is kept as a character.  So "<p>a</p><p>&nbsp;</p><p>b</p>" renders as
 * "a\n\u00a0\nb" and "a<div><br></div><div>b</div>" as "a\n\nb".
 * Text of <head>, <script>, <style>, <template> and comments is not visible.
 *
 * Returns 0, or -1 with *error_r set (free()) when the HTML cannot be
 * parsed at all.
 */
int rg_html_render(const char *html, size_t len, size_t max_text,
                   struct rg_part *part, char **error_r);

#endif
