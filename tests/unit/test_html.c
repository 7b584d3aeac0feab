/*
 * test_html.c - rg_html_render: visible text by the layout rules of html.h
 * (NFKC-normalised), links from attributes and CSS, the facts of the
 * markup (hidden text, quoted text, images), and hostile input (depth, bad
 * bytes, the text cap).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "testutil.h"
#include "internal.h"
#include "html.h"

/* render - html into a fresh part of view; fails the test on an error */
static struct rg_part *
render(struct rg_view *view, const char *html, size_t len, size_t max_text)
{
	struct rg_part *part = rg_view_add_part(view, "1", RG_PART_HTML);
	char *error = NULL;

	if (rg_html_render(html, len, max_text, part, &error) != 0)
		fail_msg("rg_html_render: %s", error != NULL ? error : "?");
	assert_null(error);
	assert_non_null(part->text);
	assert_int_equal(strlen(part->text), part->text_len);
	assert_true(part->text_len <= max_text);
	assert_true(g_utf8_validate(part->text, (gssize)part->text_len,
	                            NULL));
	return part;
}

/* check_text - 1 when got equals want, else both printed and 0 */
static int
check_text(const char *name, const char *got, const char *want)
{
	gchar *g, *w;

	if (strcmp(got, want) == 0)
		return 1;
	g = g_strescape(got, NULL);
	w = g_strescape(want, NULL);
	print_error("%s: got \"%s\", want \"%s\"\n", name, g, w);
	g_free(g);
	g_free(w);
	return 0;
}

struct text_case {
	const char *name;
	const char *html;
	const char *want;
};

static const struct text_case text_cases[] = {
	{ "empty", "", "" },
	{ "blanks only", " \n\t ", "" },
	{ "plain words", "Hello world", "Hello world" },
	{ "entities",
	  "<p>Fish &amp; chips, &eacute;t&eacute; &#x1F381; &lt;b&gt;</p>",
	  "Fish & chips, \xC3\xA9t\xC3\xA9 \xF0\x9F\x8E\x81 <b>" },
	/* the text is NFKC: &nbsp; (not collapsed) becomes a space */
	{ "html.h: nbsp paragraph",
	  "<p>a</p><p>&nbsp;</p><p>b</p>", "a\n \nb" },
	{ "html.h: empty div with br",
	  "a<div><br></div><div>b</div>", "a\n\nb" },
	{ "gmail div/br blocks",
	  "<div dir=\"ltr\">Hello,<div><br></div><div>your order shipped."
	  "</div><div><br></div><div>Regards</div></div>",
	  "Hello,\n\nyour order shipped.\n\nRegards" },
	{ "br at the end of a block adds no line",
	  "<div>a<br></div><div>b</div>", "a\nb" },
	{ "outlook MsoNormal",
	  "<p class=MsoNormal>Hello<o:p></o:p></p>\n"
	  "<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n"
	  "<p class=MsoNormal>Bye<o:p></o:p></p>\n",
	  "Hello\n \nBye" },
	{ "three nbsp paragraphs in a row",
	  "<p>a</p><p>&nbsp;</p><p>&nbsp;</p><p>&nbsp;</p><p>b</p>",
	  "a\n \n \n \nb" },
	{ "empty paragraphs take no line",
	  "<p>a</p><p></p><p> </p><p>b</p>", "a\nb" },
	{ "br run", "a<br><br><br>b", "a\n\n\nb" },
	{ "br after a block", "<p>a</p><br>b", "a\n\nb" },
	{ "no leading newlines", "<br><br>\n<p>a</p>", "a" },
	{ "trailing br kept", "a<br><br>", "a\n\n" },
	{ "whitespace collapses", "  a \n\t b   c  ", "a b c" },
	{ "whitespace vanishes at line start", "<p>a</p>   <p>  b</p>",
	  "a\nb" },
	{ "space before br dropped", "a <br> b", "a\nb" },
	{ "nbsp not collapsed", "a&nbsp;&nbsp; &nbsp;b", "a    b" },
	{ "pre keeps whitespace",
	  "<p>x</p><pre>\n  a  b\n\nc</pre>d", "x\n  a  b\n\nc\nd" },
	{ "pre line ends", "<pre>a\r\nb\rc</pre>", "a\nb\nc" },
	{ "nested inline adds no breaks",
	  "<p>Your <b>order <i>has <span>shipped</span></i></b>.</p>",
	  "Your order has shipped." },
	{ "inline neighbours", "<b>a</b> <i>b</i><u>c</u>", "a bc" },
	{ "table cells",
	  "<table><tr><td>Order</td><td>123</td></tr>\n"
	  "<tr><th>Total</th>\n<td>5</td></tr></table>",
	  "Order 123\nTotal 5" },
	{ "list", "<ul><li>one</li><li>two</li></ul>after",
	  "one\ntwo\nafter" },
	{ "headings and hr", "<h1>T</h1>x<hr>y", "T\nx\ny" },
	{ "blockquote", "a<blockquote>q</blockquote>b", "a\nq\nb" },
	{ "head invisible",
	  "<html><head><title>T</title><style>p{color:red}</style>"
	  "<meta name=x content=y></head><body>x</body></html>", "x" },
	{ "script invisible", "a<script>document.write('b')</script>c",
	  "ac" },
	{ "noscript and template invisible",
	  "a<noscript>n</noscript><template>t</template>b", "ab" },
	{ "comments invisible",
	  "a<!-- hidden -->b<!--[if mso]>mso<![endif]-->c", "abc" },
	{ "image alt is not text", "a<img src=\"x.png\" alt=\"ALT\">b",
	  "ab" },
	{ "unclosed tags",
	  "<p>unclosed <b>bold <i>italic<p>next", "unclosed bold italic\nnext" },
	{ "stray end tags", "a</div></span>b</b>c", "abc" },
	{ "unterminated tag", "a <b", "a" },
	{ "meta charset ignored",
	  "<meta charset=\"iso-8859-1\"><p>caf\xC3\xA9</p>", "caf\xC3\xA9" },
	{ "meta http-equiv ignored",
	  "<meta http-equiv=\"Content-Type\" content=\"text/html; "
	  "charset=windows-1252\"><p>\xE2\x82\xAC 5</p>", "\xE2\x82\xAC 5" },
	{ "byte order mark", "\xEF\xBB\xBFhello", "hello" },
	{ "xmlns attributes",
	  "<html xmlns:v=\"urn:schemas-microsoft-com:vml\" "
	  "xmlns=\"http://www.w3.org/1999/xhtml\"><body>x</body></html>",
	  "x" },
};

static void
test_text(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(text_cases); i++) {
		const struct text_case *c = &text_cases[i];
		struct rg_view view = { 0 };
		struct rg_part *part;

		part = render(&view, c->html, strlen(c->html),
		              RG_DEFAULT_MAX_TEXT_BYTES);
		if (!check_text(c->name, part->text, c->want))
			failures++;
		rg_view_clear(&view);
	}
	assert_int_equal(failures, 0);
}

struct link_want {
	const char *url;
	enum rg_link_origin origin;
};

struct link_case {
	const char *name;
	const char *html;
	struct link_want want[6];  /* up to the first { NULL } */
};

static const struct link_case link_cases[] = {
	{ "a and area href, trimmed",
	  "<a href=\" https://www.amazon.de/gp/your-account/order-details \">"
	  "x</a><map><area href=\"https://example.com/a\"></map>",
	  { { "https://www.amazon.de/gp/your-account/order-details",
	      RG_LINK_HREF },
	    { "https://example.com/a", RG_LINK_HREF } } },
	{ "entities in href",
	  "<a href=\"https://a.example/?a=1&amp;b=2\">x</a>",
	  { { "https://a.example/?a=1&b=2", RG_LINK_HREF } } },
	{ "src attributes",
	  "<img src=\"http://t.example/p.gif\"><iframe src=\"https://f.example/"
	  "\"></iframe><embed src=\"e.swf\"><script src=\"s.js\"></script>"
	  "<video poster=\"p.png\"><source src=\"v.mp4\"></video>",
	  { { "http://t.example/p.gif", RG_LINK_SRC },
	    { "https://f.example/", RG_LINK_SRC },
	    { "e.swf", RG_LINK_SRC },
	    { "s.js", RG_LINK_SRC },
	    { "p.png", RG_LINK_SRC },
	    { "v.mp4", RG_LINK_SRC } } },
	{ "input src only for type=image",
	  "<input src=\"no.png\"><input type=\" IMAGE\" src=\"yes.png\">",
	  { { "yes.png", RG_LINK_SRC } } },
	{ "srcset",
	  "<img srcset=\"https://a.example/1.png 1x, "
	  "https://a.example/2.png 2x,c.png\">",
	  { { "https://a.example/1.png", RG_LINK_SRC },
	    { "https://a.example/2.png", RG_LINK_SRC },
	    { "c.png", RG_LINK_SRC } } },
	{ "background attribute",
	  "<table background=\"https://a.example/bg.png\"><tr>"
	  "<td background=\"bg2.png\">x</td></tr></table>",
	  { { "https://a.example/bg.png", RG_LINK_SRC },
	    { "bg2.png", RG_LINK_SRC } } },
	{ "style attribute url() forms",
	  "<div style=\"background:url( 'https://a.example/1.png' ); "
	  "b: URL(&quot;https://a.example/2.png&quot;);"
	  "c:url(https://a.example/3.png)\">x</div>",
	  { { "https://a.example/1.png", RG_LINK_CSS },
	    { "https://a.example/2.png", RG_LINK_CSS },
	    { "https://a.example/3.png", RG_LINK_CSS } } },
	{ "style element",
	  "<head><style>@import \"https://a.example/i.css\";\n"
	  ".x { background: url(https://a.example/4.png) }\n"
	  "/* url(https://a.example/comment.png) */</style></head>",
	  { { "https://a.example/i.css", RG_LINK_CSS },
	    { "https://a.example/4.png", RG_LINK_CSS } } },
	{ "unterminated url()",
	  "<div style=\"background:url(https://a.example/x.png\">x</div>",
	  { { "https://a.example/x.png", RG_LINK_CSS } } },
	{ "url( only as a function name",
	  "<div style=\"x: myurl(https://no.example/)\">x</div>", { { 0 } } },
	{ "stylesheet link",
	  "<head><link rel=\"stylesheet\" href=\"https://a.example/s.css\">"
	  "</head>", { { "https://a.example/s.css", RG_LINK_SRC } } },
	{ "links inside invisible elements",
	  "<noscript><img src=\"https://t.example/p.gif\"></noscript>",
	  { { "https://t.example/p.gif", RG_LINK_SRC } } },
	{ "empty URLs skipped",
	  "<a href=\"\">x</a><a href=\"  \">y</a><a href>z</a><img src=\"\">"
	  "<div style=\"background:url()\">w</div>", { { 0 } } },
	{ "xmlns not collected",
	  "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
	  "xmlns:o=\"urn:schemas-microsoft-com:office:office\"><body>x"
	  "</body></html>", { { 0 } } },
	{ "href only where clickable",
	  "<div href=\"https://no.example/\">x</div><a name=\"n\">y</a>",
	  { { 0 } } },
	{ "document order",
	  "<p style=\"background:url(1.png)\"><a href=\"2\"><img src=\"3\">"
	  "</a></p><a href=\"4\">x</a>",
	  { { "1.png", RG_LINK_CSS },
	    { "2", RG_LINK_HREF },
	    { "3", RG_LINK_SRC },
	    { "4", RG_LINK_HREF } } },
};

static void
test_links(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(link_cases); i++) {
		const struct link_case *c = &link_cases[i];
		struct rg_view view = { 0 };
		struct rg_part *part;
		size_t n = 0;

		part = render(&view, c->html, strlen(c->html),
		              RG_DEFAULT_MAX_TEXT_BYTES);
		while (n < G_N_ELEMENTS(c->want) && c->want[n].url != NULL)
			n++;
		if (part->n_links != n) {
			print_error("%s: got %zu links, want %zu\n", c->name,
			            part->n_links, n);
			for (size_t j = 0; j < part->n_links; j++)
				print_error("  %d \"%s\"\n",
				            (int)part->links[j].origin,
				            part->links[j].url);
			failures++;
		} else {
			for (size_t j = 0; j < n; j++) {
				const struct rg_link *got = &part->links[j];

				if (!check_text(c->name, got->url,
				                c->want[j].url) ||
				    got->origin != c->want[j].origin) {
					print_error("%s: link %zu origin %d, "
					            "want %d\n", c->name, j,
					            (int)got->origin,
					            (int)c->want[j].origin);
					failures++;
				}
			}
		}
		rg_view_clear(&view);
	}
	assert_int_equal(failures, 0);
}

/* nest - open repeated n times, then inner, then close repeated n times */
static char *
nest(const char *open, size_t n, const char *inner, const char *close,
     const char *after)
{
	GString *s = g_string_new(NULL);

	for (size_t i = 0; i < n; i++)
		g_string_append(s, open);
	g_string_append(s, inner);
	for (size_t i = 0; close != NULL && i < n; i++)
		g_string_append(s, close);
	g_string_append(s, after);
	return g_string_free(s, FALSE);
}

static void
test_deep_nesting(void **state)
{
	static const struct {
		const char *name;
		const char *open;
		const char *close;  /* NULL: left unclosed */
		const char *want;
	} cases[] = {
		{ "closed divs", "<div>", "</div>", "deep\ntail link" },
		{ "unclosed spans", "<span>", NULL, "deep\ntail link" },
		{ "unclosed b", "<b>", NULL, "deep\ntail link" },
		{ "nested tables", "<table><tr><td>", "</td></tr></table>",
		  "deep\ntail link" },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		/* libxml2 stops at depth 256 unless told otherwise */
		size_t depth = i == 3 ? 30000 : 100000;
		char *html = nest(cases[i].open, depth, "deep", cases[i].close,
		                  "<p>tail <a href=\"https://a.example/t\">"
		                  "link</a></p>");
		struct rg_view view = { 0 };
		struct rg_part *part;

		part = render(&view, html, strlen(html),
		              RG_DEFAULT_MAX_TEXT_BYTES);
		if (!check_text(cases[i].name, part->text, cases[i].want))
			failures++;
		if (part->n_links != 1 ||
		    strcmp(part->links[0].url, "https://a.example/t") != 0) {
			print_error("%s: link after the nesting lost\n",
			            cases[i].name);
			failures++;
		}
		rg_view_clear(&view);
		g_free(html);
	}
	assert_int_equal(failures, 0);
}

static void
test_truncation(void **state)
{
	/* "a" 1 byte, e-acute 2, U+1F381 4, "b" 1 */
	static const char html[] = "<p>a&eacute;&#x1F381;b</p>";
	static const char *want[] = {
		"", "a", "a", "a\xC3\xA9", "a\xC3\xA9", "a\xC3\xA9",
		"a\xC3\xA9", "a\xC3\xA9\xF0\x9F\x8E\x81",
		"a\xC3\xA9\xF0\x9F\x8E\x81" "b",
		"a\xC3\xA9\xF0\x9F\x8E\x81" "b",
	};
	int failures = 0;

	(void)state;
	for (size_t max = 0; max < G_N_ELEMENTS(want); max++) {
		struct rg_view view = { 0 };
		struct rg_part *part;
		char name[32];

		part = render(&view, html, strlen(html), max);
		snprintf(name, sizeof(name), "max_text %zu", max);
		if (!check_text(name, part->text, want[max]))
			failures++;
		rg_view_clear(&view);
	}
	assert_int_equal(failures, 0);
}

static void
test_truncation_keeps_links(void **state)
{
	static const char html[] =
		"<p>a long paragraph</p><a href=\"https://a.example/\">x</a>";
	struct rg_view view = { 0 };
	struct rg_part *part;

	(void)state;
	part = render(&view, html, strlen(html), 6);
	assert_string_equal(part->text, "a long");
	assert_int_equal(part->n_links, 1);
	assert_string_equal(part->links[0].url, "https://a.example/");
	rg_view_clear(&view);
}

static void
test_big_text(void **state)
{
	/* growth of the buffer past its first size, then the cap */
	char *html = nest("<p>0123456789</p>", 10000, "", NULL, "");
	struct rg_view view = { 0 };
	struct rg_part *part;

	(void)state;
	part = render(&view, html, strlen(html), RG_DEFAULT_MAX_TEXT_BYTES);
	assert_int_equal(part->text_len, 10000 * 11 - 1);
	rg_view_clear(&view);
	part = render(&view, html, strlen(html), 5000);
	assert_int_equal(part->text_len, 5000);
	rg_view_clear(&view);
	g_free(html);
}

static void
test_bad_bytes(void **state)
{
	/* the caller gives UTF-8, but a NUL or a stray byte must neither
	 * cut the document short nor reach the text */
	static const char html[] = "<p>a\xFF" "b\xC3</p>\0<p>c</p>";
	struct rg_view view = { 0 };
	struct rg_part *part;

	(void)state;
	part = render(&view, html, sizeof(html) - 1,
	              RG_DEFAULT_MAX_TEXT_BYTES);
	assert_string_equal(part->text,
	                    "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\n\xEF\xBF\xBD\nc");
	rg_view_clear(&view);
}

static void
test_empty_input(void **state)
{
	struct rg_view view = { 0 };
	struct rg_part *part;

	(void)state;
	part = render(&view, "", 0, RG_DEFAULT_MAX_TEXT_BYTES);
	assert_string_equal(part->text, "");
	assert_int_equal(part->text_len, 0);
	assert_int_equal(part->n_links, 0);
	rg_view_clear(&view);
}

/* The text is NFKC as it is written (html.h). */
static void
test_nfkc(void **state)
{
	static const struct text_case cases[] = {
		{ "fullwidth letters",
		  "<p>\xEF\xBC\xA6\xEF\xBC\xB2\xEF\xBC\xA5\xEF\xBC\xA5</p>",
		  "FREE" },
		{ "ligature", "<p>\xEF\xAC\x81ne</p>", "fine" },
		{ "combining mark composed", "<p>cafe&#x301;</p>",
		  "caf\xC3\xA9" },
		{ "entity then text", "<b>&#xFF21;</b>b", "Ab" },
		{ "mark split from its base by a tag stays",
		  "e<b>&#x301;</b>", "e\xCC\x81" },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_view view = { 0 };
		struct rg_part *part = render(&view, cases[i].html,
		                              strlen(cases[i].html),
		                              RG_DEFAULT_MAX_TEXT_BYTES);

		if (!check_text(cases[i].name, part->text, cases[i].want))
			failures++;
		rg_view_clear(&view);
	}
	assert_int_equal(failures, 0);
}

/* A long text node is normalised in pieces without splitting a mark
 * from its base. */
static void
test_nfkc_long(void **state)
{
	/* "e" + U+0301, 100000 times: composes to U+00E9 each */
	char *html = nest("e\xCC\x81", 100000, "", NULL, "");
	struct rg_view view = { 0 };
	struct rg_part *part;

	(void)state;
	part = render(&view, html, strlen(html), RG_DEFAULT_MAX_TEXT_BYTES);
	assert_int_equal(part->text_len, 200000);
	assert_null(strstr(part->text, "\xCC\x81"));
	rg_view_clear(&view);
	g_free(html);
}

/* hidden - the text of the hidden-text facts, joined by "|" */
static char *
hidden(const struct rg_part *part)
{
	GString *out = g_string_new(NULL);

	for (size_t i = 0; part->html != NULL && i < part->html->n_facts; i++) {
		const struct rg_html_fact *f = &part->html->facts[i];

		if (f->kind != RG_HTML_HIDDEN)
			continue;
		assert_true(f->start <= f->end && f->end <= part->text_len);
		if (out->len > 0)
			g_string_append_c(out, '|');
		g_string_append_len(out, part->text + f->start,
		                    (gssize)(f->end - f->start));
	}
	return g_string_free(out, FALSE);
}

static void
test_hidden_ranges(void **state)
{
	static const struct {
		const char *name, *html, *text, *hidden;
	} cases[] = {
		{ "inline span", "a<span style=\"display:none\">bb</span>c",
		  "abbc", "bb" },
		{ "after NFKC shrank the text",
		  "\xEF\xBC\xA1\xEF\xBC\xA2<span style=\"display:none\">"
		  "\xEF\xBC\xA3</span>d", "ABCd", "C" },
		{ "block with markup inside",
		  "<p>x</p><div style=\"display:none\">a <b>b</b> c</div><p>y</p>",
		  "x\na b c\ny", "a b c" },
		{ "visible again inside",
		  "<div style=\"visibility:hidden\">a<span style=\"visibility:"
		  "visible\">b</span>c</div>", "abc", "a|c" },
		{ "two hiders", "<span hidden>a</span><span style=\"font-size:0"
		  "\">b</span>", "ab", "a|b" },
		{ "head and script are not text",
		  "<head><title>t</title></head><script>s</script>x", "x", "" },
		{ "tiny font sized again",
		  "<div style=\"font-size:1px\">a<span style=\"font-size:12px\">b"
		  "</span></div>", "ab", "a" },
		{ "white on white, white on black",
		  "<font color=\"white\">a</font><div bgcolor=\"black\" style=\""
		  "background:black\"><font color=\"white\">b</font></div>",
		  "a\nb", "a" },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_view view = { 0 };
		struct rg_part *part = render(&view, cases[i].html,
		                              strlen(cases[i].html),
		                              RG_DEFAULT_MAX_TEXT_BYTES);
		char *got = hidden(part);

		if (!check_text(cases[i].name, part->text, cases[i].text) ||
		    !check_text(cases[i].name, got, cases[i].hidden))
			failures++;
		g_free(got);
		rg_view_clear(&view);
	}
	assert_int_equal(failures, 0);
}

/* quoted - the quoted text, ranges joined by "|" */
static char *
quoted(const struct rg_part *part)
{
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < part->n_quoted; i++) {
		const struct rg_range *q = &part->quoted[i];

		assert_true(q->start < q->end && q->end <= part->text_len);
		if (i > 0) {
			assert_true(part->quoted[i - 1].end < q->start);
			g_string_append_c(out, '|');
		}
		g_string_append_len(out, part->text + q->start,
		                    (gssize)(q->end - q->start));
	}
	return g_string_free(out, FALSE);
}

static void
test_quoted_ranges(void **state)
{
	static const struct {
		const char *name, *html, *quoted;
	} cases[] = {
		{ "Thunderbird",
		  "<p>Answer</p><div class=\"moz-cite-prefix\">On Mon, B wrote:"
		  "<br></div><blockquote type=\"cite\"><p>Question?</p>"
		  "</blockquote><p>PS</p>",
		  "On Mon, B wrote:\nQuestion?" },
		{ "Gmail",
		  "<div>Answer</div><div class=\"gmail_quote\"><div class="
		  "\"gmail_attr\">On Mon, B wrote:<br></div><blockquote class="
		  "\"gmail_quote\">Question?<blockquote type=\"cite\">Older"
		  "</blockquote></blockquote></div>",
		  "On Mon, B wrote:\nQuestion?\nOlder" },
		{ "Outlook on the web: to the end",
		  "<div>Answer</div><hr><div id=\"divRplyFwdMsg\">From: B</div>"
		  "<div>Question?</div>", "From: B\nQuestion?" },
		{ "not cite", "<p>a</p><blockquote>b</blockquote>", "" },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_view view = { 0 };
		struct rg_part *part = render(&view, cases[i].html,
		                              strlen(cases[i].html),
		                              RG_DEFAULT_MAX_TEXT_BYTES);
		char *got = quoted(part);

		if (!check_text(cases[i].name, got, cases[i].quoted))
			failures++;
		g_free(got);
		rg_view_clear(&view);
	}
	assert_int_equal(failures, 0);
}

static void
test_image_facts(void **state)
{
	static const char html[] =
		"<p>a</p><img src=\" https://x.example/1.png \" alt=\"One\" "
		"width=\"120\" height=\"90\">"
		"<a href=\"https://x.example/\"><img srcset=\"2.png 1x\" "
		"style=\"width:1px;height:0.1em\"></a>"
		"<div style=\"display:none\"><img src=\"3.gif\" width=\"90%\" "
		"alt=\"\"></div>"
		"<table><tr><td background=\"4.png\">b</td></tr></table>"
		"<style>.hero{background-image:url('5.png')}</style>"
		"<blockquote type=\"cite\"><div class=\"hero\">c</div>"
		"</blockquote>";
	static const struct {
		enum rg_html_image_kind kind;
		unsigned flags;
		long width, height, width_pct;
		const char *src, *alt;
	} want[] = {
		{ RG_HTML_IMG, 0, 120, 90, RG_HTML_SIZE_UNKNOWN,
		  "https://x.example/1.png", "One" },
		{ RG_HTML_IMG, RG_HTML_IMG_LINKED, 1, 2, RG_HTML_SIZE_UNKNOWN,
		  "2.png", NULL },
		{ RG_HTML_IMG, RG_HTML_IMG_HIDDEN, RG_HTML_SIZE_UNKNOWN,
		  RG_HTML_SIZE_UNKNOWN, 90, "3.gif", "" },
		{ RG_HTML_IMG_BACKGROUND, 0, RG_HTML_SIZE_UNKNOWN,
		  RG_HTML_SIZE_UNKNOWN, RG_HTML_SIZE_UNKNOWN, "4.png", NULL },
		{ RG_HTML_IMG_BACKGROUND, RG_HTML_IMG_QUOTED,
		  RG_HTML_SIZE_UNKNOWN, RG_HTML_SIZE_UNKNOWN,
		  RG_HTML_SIZE_UNKNOWN, "5.png", NULL },
	};
	struct rg_view view = { 0 };
	struct rg_part *part;
	const struct rg_html_facts *facts;

	(void)state;
	part = render(&view, html, strlen(html), RG_DEFAULT_MAX_TEXT_BYTES);
	facts = part->html;
	assert_non_null(facts);
	assert_int_equal(facts->n_images, G_N_ELEMENTS(want));
	assert_int_equal(facts->images_seen, G_N_ELEMENTS(want));
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		const struct rg_html_image *img = &facts->images[i];

		if (img->kind != want[i].kind || img->flags != want[i].flags ||
		    img->width != want[i].width ||
		    img->height != want[i].height ||
		    img->width_pct != want[i].width_pct ||
		    strcmp(img->src, want[i].src) != 0 ||
		    (want[i].alt == NULL) != (img->alt == NULL) ||
		    (img->alt != NULL && strcmp(img->alt, want[i].alt) != 0))
			fail_msg("image %zu: kind %d flags %u %ldx%ld %ld%% "
			         "\"%s\" alt \"%s\"", i, (int)img->kind,
			         img->flags, img->width, img->height,
			         img->width_pct, img->src,
			         img->alt != NULL ? img->alt : "(none)");
		assert_non_null(img->excerpt);
		assert_true(img->offset <= part->text_len);
	}
	assert_true(g_str_has_prefix(facts->images[1].excerpt,
	                             "<a href=\"https://x.example/\"><img"));
	rg_view_clear(&view);
}

/* The facts survive the text cap: what lies beyond is still judged. */
static void
test_facts_past_the_cap(void **state)
{
	static const char html[] =
		"<p>0123456789</p><div style=\"display:none\">hidden</div>"
		"<script>x</script><img src=\"https://t.example/p.gif\">";
	struct rg_view view = { 0 };
	struct rg_part *part;
	size_t hidden_n = 0, active_n = 0;

	(void)state;
	part = render(&view, html, strlen(html), 5);
	assert_string_equal(part->text, "01234");
	for (size_t i = 0; i < part->html->n_facts; i++) {
		const struct rg_html_fact *f = &part->html->facts[i];

		assert_true(f->start <= f->end && f->end <= part->text_len);
		hidden_n += f->kind == RG_HTML_HIDDEN;
		active_n += f->kind == RG_HTML_ACTIVE;
	}
	assert_int_equal(hidden_n, 1);
	assert_int_equal(active_n, 1);
	assert_int_equal(part->html->n_images, 1);
	rg_view_clear(&view);
}

static int
setup(void **state)
{
	(void)state;
	rg_engine_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rg_engine_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_truncation_keeps_links),
		cmocka_unit_test(test_big_text),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_nfkc),
		cmocka_unit_test(test_nfkc_long),
		cmocka_unit_test(test_hidden_ranges),
		cmocka_unit_test(test_quoted_ranges),
		cmocka_unit_test(test_image_facts),
		cmocka_unit_test(test_facts_past_the_cap),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
