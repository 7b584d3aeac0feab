/*
 * test_structure.c - rules image, tracking-pixel, active-content,
 * formatting, hidden-content and accessibility: breaks, near misses and
 * evasions in a table; inline cid: parts; quoted text of replies; hidden
 * text still read by the text rules; hostile markup.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "testutil.h"

/* Findings wanted per rule, in this order. */
enum { W_IMG, W_TRK, W_ACT, W_FMT, W_HID, W_ACC, W_COUNT };

static const rg_rule want_rules[W_COUNT] = {
	RG_RULE_IMAGE, RG_RULE_TRACKING_PIXEL, RG_RULE_ACTIVE_CONTENT,
	RG_RULE_FORMATTING, RG_RULE_HIDDEN_CONTENT, RG_RULE_ACCESSIBILITY,
};

struct structure_case {
	const char *name;
	const char *html;
	unsigned want[W_COUNT];   /* image, tracking, active, format, hidden,
	                           * accessibility */
};

#define IMG "<img src=\"https://cdn.shop.example/"

static const struct structure_case cases[] = {
	/* nothing to find */
	{ "plain paragraphs", "<p>Hello</p><p>Your order shipped.</p>",
	  { 0, 0, 0, 0, 0, 0 } },
	{ "bold, italic and a numbered list",
	  "<div dir=\"ltr\">Hi,<div><ol><li style=\"margin-left:15px\"><b>"
	  "Standard</b> (most adults)</li><li style=\"margin-left:15px\"><i>"
	  "Compact</i></li></ol></div></div>", { 0, 0, 0, 0, 0, 0 } },
	{ "Apple Mail body style",
	  "<html><body style=\"overflow-wrap: break-word; -webkit-nbsp-mode: "
	  "space; line-break: after-white-space;\">Hello<div><br></div>"
	  "<div>Bye</div></body></html>", { 0, 0, 0, 0, 0, 0 } },
	{ "help-desk template with classes",
	  "<div class=\"fd-reply\"><div>Hi,</div><div class=\"fd-gap\">&nbsp;"
	  "</div><div>Text</div></div><hr><div class=\"fd-footer\">Ticket"
	  "</div>", { 0, 0, 0, 0, 0, 0 } },
	{ "Outlook style sheet defaults",
	  "<html><head><style><!--\n@font-face {font-family:Aptos;}\n"
	  "p.MsoNormal, li.MsoNormal {margin:0cm; font-size:12.0pt; "
	  "font-family:\"Aptos\",sans-serif;}\na:link, span.MsoHyperlink "
	  "{color:#467886;}\nspan.EmailStyle17 {font-family:\"Aptos\"; "
	  "color:windowtext;}\n@page WordSection1 {margin:72pt 72pt;}\n"
	  "div.WordSection1 {page:WordSection1;}\n--></style></head>"
	  "<body link=\"#467886\" vlink=\"#96607D\" style=\"word-wrap:"
	  "break-word\"><div class=\"WordSection1\"><p class=\"MsoNormal\">"
	  "Hello<o:p></o:p></p><p class=\"MsoNormal\"><span class="
	  "\"EmailStyle17\">Bye</span></p></div></body></html>",
	  { 0, 0, 0, 0, 0, 0 } },
	{ "black text and white background are defaults",
	  "<div style=\"color:#000000;background-color:#ffffff\">a</div>"
	  "<p style=\"color:rgb(34,34,34)\">b</p><td bgcolor=\"white\">c</td>",
	  { 0, 0, 0, 0, 0, 0 } },
	{ "link colour", "<a href=\"https://www.amazon.com/gp/css/order-"
	  "history\" style=\"color:#1a73e8\"><span style=\"color:#1a73e8\">"
	  "orders</span></a>", { 0, 0, 0, 0, 0, 0 } },
	{ "styles on empty elements",
	  "<div style=\"color:red;font-family:Arial;text-align:center\">"
	  "</div><hr style=\"color:#ccc\"><p>x</p>", { 0, 0, 0, 0, 0, 0 } },
	{ "text-align left", "<p style=\"text-align:left\">x</p>"
	  "<p align=\"left\">y</p>", { 0, 0, 0, 0, 0, 0 } },
	{ "small margin and padding",
	  "<p style=\"margin:0 0 0 40px;padding:1em\">x</p>",
	  { 0, 0, 0, 0, 0, 0 } },
	{ "three font sizes", "<p style=\"font-size:12px\">a</p>"
	  "<p style=\"font-size:14px\">b</p><p style=\"font-size:10.5pt\">"
	  "c</p><p style=\"font-size:14px\">d</p>", { 0, 0, 0, 0, 0, 0 } },
	{ "unused style sheet class",
	  "<style>.promo{color:red;display:none}</style><p>x</p>",
	  { 0, 0, 0, 0, 0, 0 } },
	{ "selectors not understood",
	  "<style>div p{display:none} a:hover{color:red} .a .b{color:red}"
	  "</style><div><p class=\"b\">x</p></div>", { 0, 0, 0, 0, 0, 0 } },
	{ "conditional media query",
	  "<style>@media (max-width:600px){.m{display:none}}</style>"
	  "<div class=\"m\">desktop</div>", { 0, 0, 0, 0, 0, 0 } },
	{ "hidden element without text",
	  "<div style=\"display:none\"></div><span style=\"display:none\">"
	  "&nbsp; &#8203;</span><p>x</p>", { 0, 0, 0, 0, 0, 0 } },
	{ "font-size 0 wrapper, text sized again",
	  "<div style=\"font-size:0\"> <span style=\"font-size:14px\">"
	  "visible</span> </div>", { 0, 0, 0, 0, 0, 0 } },
	{ "white text on a dark background",
	  "<div style=\"background:#000\"><span style=\"color:#fff\">x"
	  "</span></div>", { 0, 0, 0, 2, 0, 0 } },
	{ "white text on a background image",
	  "<td background=\"https://cdn.shop.example/bg.png\"><font color="
	  "\"#ffffff\">x</font></td>", { 1, 0, 0, 1, 0, 0 } },
	{ "new Outlook compose font",
	  "<div class=\"elementToProof\" style=\"font-family: Aptos, "
	  "Aptos_EmbeddedFont, Calibri, Helvetica, sans-serif; font-size: "
	  "12pt; color: rgb(0, 0, 0);\">Hello</div>", { 0, 0, 0, 0, 0, 0 } },
	{ "xmlns attributes",
	  "<html xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns=\"http://"
	  "www.w3.org/TR/REC-html40\"><body>x</body></html>",
	  { 0, 0, 0, 0, 0, 0 } },
	{ "attribute that only starts with on",
	  "<div one=\"1\" data-onclick=\"x\">x</div>", { 0, 0, 0, 0, 0, 0 } },

	/* image and accessibility */
	{ "image with alt", IMG "lantern.png\" alt=\"Lantern, side view\">",
	  { 1, 0, 0, 0, 0, 0 } },
	{ "image without alt", IMG "lantern.png\">", { 1, 0, 0, 0, 0, 1 } },
	{ "image with blank alt", IMG "lantern.png\" alt=\"  \">",
	  { 1, 0, 0, 0, 0, 1 } },
	{ "alt: percent off", IMG "l.png\" alt=\"Now 50% OFF all lanterns\">",
	  { 1, 0, 0, 0, 0, 1 } },
	{ "alt: shop now", IMG "l.png\" alt=\"Shop now!\">",
	  { 1, 0, 0, 0, 0, 1 } },
	{ "alt: free", IMG "l.png\" alt=\"Free gift inside\">",
	  { 1, 0, 0, 0, 0, 1 } },
	{ "alt: German discount", IMG "l.png\" alt=\"Jetzt -20% auf alles\">",
	  { 1, 0, 0, 0, 0, 1 } },
	{ "alt: German word", IMG "l.png\" alt=\"Gutschein\">",
	  { 1, 0, 0, 0, 0, 1 } },
	{ "alt: French", IMG "l.png\" alt=\"Soldes d'hiver\">",
	  { 1, 0, 0, 0, 0, 1 } },
	{ "alt: Japanese", IMG "l.png\" alt=\"\xE3\x82\xBB\xE3\x83\xBC"
	  "\xE3\x83\xAB\xE4\xB8\xAD\">", { 1, 0, 0, 0, 0, 1 } },
	{ "alt: fullwidth letters", IMG "l.png\" alt=\"\xEF\xBC\xA6\xEF\xBC"
	  "\xB2\xEF\xBC\xA5\xEF\xBC\xA5 gift\">", { 1, 0, 0, 0, 0, 1 } },
	{ "alt: plain description", IMG "l.png\" alt=\"Happy New Year "
	  "animation\">", { 1, 0, 0, 0, 0, 0 } },
	{ "alt: word inside another word",
	  IMG "l.png\" alt=\"Wholesale carton, 100% cotton\">",
	  { 1, 0, 0, 0, 0, 0 } },
	{ "logo wrapped in a link",
	  "<a href=\"https://www.amazon.com/sp?seller=X\">" IMG
	  "logo.png\" alt=\"Logo\"></a>", { 1, 0, 0, 0, 0, 0 } },
	{ "animated gif", IMG "divider.gif\" alt=\"divider\">",
	  { 1, 0, 0, 0, 0, 0 } },
	{ "cid image", "<img src=\"cid:ii_1\" alt=\"photo\">",
	  { 1, 0, 0, 0, 0, 0 } },
	{ "data: png image",
	  "<img src=\"data:image/png;base64,iVBORw0K\" alt=\"photo\">",
	  { 1, 0, 0, 0, 0, 0 } },
	{ "css background image",
	  "<div style=\"background-image:url('https://cdn.shop.example/b."
	  "png')\">Text</div>", { 1, 0, 0, 0, 0, 0 } },
	{ "background attribute",
	  "<table background=\"https://cdn.shop.example/b.png\"><tr><td>x"
	  "</td></tr></table>", { 1, 0, 0, 0, 0, 0 } },
	{ "style sheet background image",
	  "<style>.hero{background:#fff url(https://cdn.shop.example/h.jpg)"
	  "}</style><div class=\"hero\">x</div>", { 1, 0, 0, 0, 0, 0 } },
	{ "image 100% wide", IMG "banner.png\" width=\"100%\" alt=\"b\">",
	  { 1, 0, 0, 1, 0, 0 } },
	{ "image 600px wide", IMG "banner.png\" style=\"width:600px\" "
	  "alt=\"b\">", { 1, 0, 0, 1, 0, 0 } },
	{ "image 80% wide", IMG "banner.png\" width=\"80%\" alt=\"b\">",
	  { 1, 0, 0, 0, 0, 0 } },
	{ "image align right", IMG "p.png\" align=\"right\" alt=\"p\">",
	  { 1, 0, 0, 0, 0, 0 } },
	{ "numeric id is no tracking",
	  IMG "img.php?id=12345\" alt=\"photo\">", { 1, 0, 0, 0, 0, 0 } },
	{ "cid image 1x1 loads nothing",
	  "<img src=\"cid:ii_1\" width=\"1\" height=\"1\" alt=\"x\">",
	  { 1, 0, 0, 0, 0, 0 } },

	/* tracking-pixel */
	{ "open-tracking pixel",
	  "<p>Hello</p><img src=\"https://mail.shop.example/o.php?id=7a91c3"
	  "&amp;rcpt=204-7704418-2296635\" width=\"1\" height=\"1\" alt=\"\" "
	  "style=\"border:0\">", { 0, 1, 0, 0, 0, 0 } },
	{ "pixel sized by CSS",
	  IMG "x.png\" style=\"width:1px;height:1px\" alt=\"\">",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "zero-sized image", IMG "x.png\" width=\"0\" height=\"0\">",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "one dimension tiny", IMG "x.png\" width=\"1\" alt=\"x\">",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "hidden image", IMG "x.png\" style=\"display:none\" alt=\"x\">",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "image in a hidden element",
	  "<div style=\"visibility:hidden\">" IMG "x.png\" alt=\"x\"></div>",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "utm parameters", IMG "logo.png?utm_source=mail&amp;utm_medium=x\" "
	  "alt=\"logo\">", { 0, 1, 0, 0, 0, 0 } },
	{ "tracker path word",
	  "<img src=\"https://u1.ct.sendgrid.net/wf/open?upn=abc\" alt=\"\">",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "mailchimp open",
	  "<img src=\"https://x.us1.list-manage.com/track/open.php?u=1&amp;"
	  "id=2&amp;e=3\" alt=\"\">", { 0, 1, 0, 0, 0, 0 } },
	{ "order id parameter",
	  IMG "p.gif?id=111-2222222-3333333\" alt=\"x\">",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "e-mail address parameter",
	  IMG "p.gif?e=buyer%40example.com\" alt=\"x\">",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "hubspot parameter", IMG "p.png?_hsenc=p2ANqtz\" alt=\"x\">",
	  { 0, 1, 0, 0, 0, 0 } },
	{ "1x1 css background",
	  "<div style=\"background:url(https://t.example/p.gif);width:1px;"
	  "height:1px\"></div>", { 0, 1, 0, 0, 0, 0 } },
	{ "pixel in a link",
	  "<a href=\"https://www.amazon.com/\">" IMG "x.gif\" width=\"1\" "
	  "height=\"1\"></a>", { 0, 1, 0, 0, 0, 0 } },

	/* active-content */
	{ "script", "<p>x</p><script>alert(1)</script>", { 0, 0, 1, 0, 0, 0 } },
	{ "script in head",
	  "<html><head><script src=\"https://x.example/a.js\"></script>"
	  "</head><body>x</body></html>", { 0, 0, 1, 0, 0, 0 } },
	{ "iframe",
	  "<iframe src=\"https://player.vimeo.com/video/1\" width=\"480\">"
	  "</iframe>", { 0, 0, 1, 0, 0, 0 } },
	{ "form and its controls",
	  "<form action=\"https://shop.example/f\"><input name=\"a\">"
	  "<select><option>1</option></select><button>Go</button></form>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "input outside a form", "<input type=\"text\" value=\"x\">",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "onclick", "<a href=\"#\" onclick=\"go()\">x</a>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "onerror on an image",
	  IMG "x.png\" alt=\"x\" onerror=\"go()\">", { 1, 0, 1, 0, 0, 0 } },
	{ "svg onload", "<svg onload=\"go()\"></svg>", { 0, 0, 1, 0, 0, 0 } },
	{ "javascript: link", "<a href=\"javascript:go()\">x</a>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "javascript: with case and a tab",
	  "<a href=\" JaVa&#9;ScRiPt:go()\">x</a>", { 0, 0, 1, 0, 0, 0 } },
	{ "vbscript: link", "<a href=\"vbscript:msgbox(1)\">x</a>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "data: document link",
	  "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "data: svg image",
	  "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\" alt=\"x\">",
	  { 1, 0, 1, 0, 0, 0 } },
	{ "object and embed",
	  "<object data=\"x.swf\"><embed src=\"x.swf\"></object>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "embed alone", "<embed src=\"x.swf\">", { 0, 0, 1, 0, 0, 0 } },
	{ "applet", "<applet code=\"A.class\"></applet>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "video", "<video src=\"https://x.example/v.mp4\"></video>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "meta refresh",
	  "<meta http-equiv=\"Refresh\" content=\"0; url=https://x.example/"
	  "\"><p>x</p>", { 0, 0, 1, 0, 0, 0 } },
	{ "css expression", "<div style=\"width:expression(alert(1))\">x"
	  "</div>", { 0, 0, 1, 0, 0, 0 } },
	{ "css behavior", "<div style=\"behavior:url(x.htc)\">x</div>",
	  { 0, 0, 1, 0, 0, 0 } },
	{ "input type image",
	  "<input type=\"image\" src=\"https://cdn.shop.example/b.png\" "
	  "alt=\"Go\">", { 1, 0, 1, 0, 0, 0 } },

	/* formatting */
	{ "center element", "<center>Hello</center>", { 0, 0, 0, 1, 0, 0 } },
	{ "align center", "<p align=\"center\">Hello</p>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "text-align center", "<p style=\"text-align: center\">Hello</p>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "text-align justify and right",
	  "<p style=\"text-align:justify\">a</p><td align=\"right\">5</td>",
	  { 0, 0, 0, 2, 0, 0 } },
	{ "font-family", "<p style=\"font-family:Arial, sans-serif\">x</p>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "font face", "<font face=\"Comic Sans MS\">x</font>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "font shorthand",
	  "<p style=\"font: italic 12px/1.5 Georgia, serif\">x</p>",
	  { 0, 0, 0, 2, 0, 0 } },
	{ "line-height", "<p style=\"line-height:1.5\">x</p>"
	  "<p style=\"line-height:normal\">y</p>", { 0, 0, 0, 1, 0, 0 } },
	{ "text colour", "<p style=\"color:#1F3864\">x</p>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "Outlook signature colour",
	  "<p class=\"MsoNormal\"><span style=\"font-size:10.0pt;color:"
	  "#1F3864\">Ella Fraser<o:p></o:p></span></p>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "same colour twice is one finding",
	  "<span style=\"color:red\">a</span> <b style=\"color: red\">b</b>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "font color", "<font color=\"red\">x</font>", { 0, 0, 0, 1, 0, 0 } },
	{ "bgcolor", "<table><tr><td bgcolor=\"#ffff00\">x</td></tr></table>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "body text colour", "<body text=\"#336699\">x</body>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "wide left margin", "<p style=\"margin-left:200px\">x</p>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "padding in percent", "<div style=\"padding:0 25%\">x</div>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "four font sizes", "<p style=\"font-size:12px\">a</p>"
	  "<p style=\"font-size:14px\">b</p><p style=\"font-size:18px\">c</p>"
	  "<p><font size=\"7\">d</font></p>", { 0, 0, 0, 1, 0, 0 } },
	{ "style sheet colour",
	  "<style>.x{color:#f00}</style><p class=\"x\">a</p>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "style sheet tag rule",
	  "<style>p{text-align:center}</style><p>a</p>",
	  { 0, 0, 0, 1, 0, 0 } },
	{ "important and comments",
	  "<p style=\"color:/* x */blue !important\">a</p>",
	  { 0, 0, 0, 1, 0, 0 } },

	/* hidden-content */
	{ "display:none",
	  "<p>Hi</p><div style=\"display:none\">Write to sales@shop.example"
	  "</div>", { 0, 0, 0, 0, 1, 0 } },
	{ "display:none nested markup is one range",
	  "<div style=\"display:none\">a <b>b</b> <i>c</i></div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "two hidden blocks",
	  "<div style=\"display:none\">a</div><p>x</p>"
	  "<div style=\"display:none\">b</div>", { 0, 0, 0, 0, 2, 0 } },
	{ "visibility hidden, a child visible again",
	  "<div style=\"visibility:hidden\">a<span style=\"visibility:"
	  "visible\">b</span></div>", { 0, 0, 0, 0, 1, 0 } },
	{ "hidden attribute", "<div hidden>secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "mso-hide", "<div style=\"mso-hide:all\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "font-size 0", "<span style=\"font-size:0\">secret</span>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "font-size 1px", "<span style=\"font-size:1px\">secret</span>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "font-size 0.1em", "<span style=\"font-size:0.1em\">secret</span>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "white on white", "<span style=\"color:#ffffff\">secret</span>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "nearly white on white",
	  "<span style=\"color:rgb(250, 250, 250)\">secret</span>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "hsl white", "<span style=\"color:hsl(0, 0%, 100%)\">secret</span>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "colour equal to bgcolor",
	  "<table><tr><td bgcolor=\"#336699\"><font color=\"#336699\">secret"
	  "</font></td></tr></table>", { 0, 0, 0, 0, 1, 0 } },
	{ "transparent text",
	  "<span style=\"color:transparent\">secret</span>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "rgba alpha 0", "<span style=\"color:rgba(0,0,0,0)\">secret</span>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "opacity 0", "<div style=\"opacity:0\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "off-screen position",
	  "<div style=\"position:absolute;left:-9999px\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "negative text-indent",
	  "<div style=\"text-indent:-5000px\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "collapsed box",
	  "<div style=\"max-height:0;overflow:hidden\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "style sheet class",
	  "<style>.pre{display:none}</style><div class=\"pre\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "style sheet after the text",
	  "<div class=\"h\">secret</div><style>.h{display:none}</style>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "style sheet id in a media block",
	  "<style>@media screen{#p{display:none}}</style>"
	  "<div id=\"p\">secret</div>", { 0, 0, 0, 0, 1, 0 } },
	{ "css escapes in the selector",
	  "<style>.h\\69 d{display:none}</style><div class=\"hid\">secret"
	  "</div>", { 0, 0, 0, 0, 1, 0 } },
	{ "css escapes in the property",
	  "<div style=\"dis\\70 lay:n\\one\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "important and upper case",
	  "<div style=\"DISPLAY: NONE !important\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
	{ "comment inside the value",
	  "<div style=\"display:/**/none\">secret</div>",
	  { 0, 0, 0, 0, 1, 0 } },
};

static void
test_cases(void **state)
{
	rg_policy *policy = tu_policy();
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct structure_case *c = &cases[i];
		struct rg_result result;
		int bad = 0;

		tu_scan_html(policy, NULL, c->html, &result);
		for (int w = 0; w < W_COUNT; w++) {
			size_t got = tu_count(&result, want_rules[w]);

			if (got != c->want[w]) {
				print_error("%s: %s: got %zu, want %u\n", c->name,
				            rg_rule_name(want_rules[w]), got,
				            c->want[w]);
				bad = 1;
			}
		}
		if (bad) {
			tu_dump(&result);
			failures++;
		}
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
	assert_int_equal(failures, 0);
}

/* Excerpts name the element; positions point into the text. */
static void
test_excerpts(void **state)
{
	static const struct {
		const char *html;
		rg_rule rule;
		const char *prefix;
		unsigned line, column;
	} excerpt_cases[] = {
		{ "<p>Hello</p><p>Bye</p><img src=\"https://mail.shop.example/"
		  "o.php?id=7a91c3\" width=\"1\" height=\"1\">",
		  RG_RULE_TRACKING_PIXEL,
		  "<img width=\"1\" height=\"1\" src=\"https://mail.shop."
		  "example/o.p", 2, 4 },
		{ "<p>Hi</p><iframe src=\"https://player.vimeo.com/video/1\">"
		  "</iframe>", RG_RULE_ACTIVE_CONTENT,
		  "<iframe src=\"https://player.vimeo.com/video/1\">", 1, 3 },
		{ "<p>Hi</p><div style=\"display:none\">Write to us</div>",
		  RG_RULE_HIDDEN_CONTENT,
		  "<div style=\"display:none\"> Write to us", 2, 1 },
		{ "<p>a</p><p>b <span style=\"color:#1F3864\">c</span></p>",
		  RG_RULE_FORMATTING, "<span style=\"color:#1F3864\">", 2, 3 },
		{ "<style>.x{font-family:Arial}</style><p class=\"x\">a</p>",
		  RG_RULE_FORMATTING, ".x {font-family:Arial}", 1, 1 },
		{ "<a href=\"https://www.amazon.com/\"><img src=\"https://cdn."
		  "shop.example/logo.png\" alt=\"Logo\"></a>", RG_RULE_IMAGE,
		  "<a href=\"https://www.amazon.com/\"><img src=", 1, 1 },
		{ "<img src=\"https://cdn.shop.example/l.png\" alt=\"20% off\">",
		  RG_RULE_ACCESSIBILITY, "<img alt=\"20% off\">", 1, 1 },
		{ "<font face=\"Arial\">x</font>", RG_RULE_FORMATTING,
		  "<font face=\"Arial\">", 1, 1 },
		{ "<div hidden>x</div>", RG_RULE_HIDDEN_CONTENT,
		  "<div hidden> x", 1, 1 },
	};
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(excerpt_cases); i++) {
		struct rg_result result;
		const struct rg_finding *f;

		tu_scan_html(policy, NULL, excerpt_cases[i].html, &result);
		f = tu_first(&result, excerpt_cases[i].rule);
		if (f == NULL || !g_str_has_prefix(f->excerpt, excerpt_cases[i].prefix) ||
		    f->line != excerpt_cases[i].line || f->column != excerpt_cases[i].column) {
			tu_dump(&result);
			fail_msg("case %zu: want %s at %u:%u \"%s...\"", i,
			         rg_rule_name(excerpt_cases[i].rule), excerpt_cases[i].line,
			         excerpt_cases[i].column, excerpt_cases[i].prefix);
		}
		if (strcmp(f->part, "1") != 0)
			fail_msg("case %zu: part %s", i, f->part);
		rg_result_clear(&result);
	}
	rg_policy_unref(&policy);
}

/* Hidden text is still read by every text rule. */
static void
test_hidden_text_checked(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	const struct rg_finding *f;

	(void)state;
	tu_scan_html(policy, NULL,
	             "<div>Hi Rachel,</div><div>Cushions are posted.</div>"
	             "<div style=\"display:none\">Questions? Write to "
	             "sales@ampereaudio.com</div>", &result);
	assert_int_equal(tu_count(&result, RG_RULE_HIDDEN_CONTENT), 1);
	f = tu_first(&result, RG_RULE_EMAIL_ADDRESS);
	if (f == NULL) {
		tu_dump(&result);
		fail_msg("the hidden address must still be found");
	}
	assert_int_equal(f->line, 3);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

static const char related_head[] =
	"From: Seller <seller@shop.example>\n"
	"To: buyer@marketplace.amazon.com\n"
	"Subject: Order 111-2222222-3333333\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/related; boundary=\"b\"\n"
	"\n"
	"--b\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n";

static const char related_gif[] =
	"--b\n"
	"Content-Type: image/gif\n"
	"Content-ID: <%s>\n"
	"Content-Disposition: inline; filename=\"%s\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"R0lGODlhAQABAAAAACw=\n";

/* An inline image an <img> shows is one finding, not two; one no <img>
 * shows is its own. */
static void
test_inline_parts(void **state)
{
	rg_policy *policy = tu_policy();
	struct rg_result result;
	GString *msg = g_string_new(related_head);

	(void)state;
	g_string_append(msg, "<p>Order note</p><img src=\"cid:a@x\" "
	                "alt=\"Happy New Year animation\">\n");
	g_string_append_printf(msg, related_gif, "a@x", "a.gif");
	g_string_append(msg, "--b--\n");
	tu_scan(policy, msg->str, &result);
	if (tu_count(&result, RG_RULE_IMAGE) != 1 ||
	    tu_count(&result, RG_RULE_ACCESSIBILITY) != 0) {
		tu_dump(&result);
		fail_msg("referenced inline image: want one image finding");
	}
	rg_result_clear(&result);

	g_string_assign(msg, related_head);
	g_string_append(msg, "<p>Order note</p><img src=\"cid:a@x\" "
	                "alt=\"photo\">\n");
	g_string_append_printf(msg, related_gif, "a@x", "a.gif");
	g_string_append_printf(msg, related_gif, "b@x", "b.gif");
	g_string_append(msg, "--b--\n");
	tu_scan(policy, msg->str, &result);
	if (tu_count(&result, RG_RULE_IMAGE) != 2) {
		tu_dump(&result);
		fail_msg("an inline image no <img> shows is an image too");
	}
	rg_result_clear(&result);
	g_string_free(msg, TRUE);
	rg_policy_unref(&policy);
}

/* In a reply, quoted markup is the buyer's: only active-content counts. */
static void
test_quoted(void **state)
{
	static const char html[] =
		"<p>Yes, the 18V battery fits.</p>"
		"<div class=\"moz-cite-prefix\">On Monday Uwe wrote:</div>"
		"<blockquote type=\"cite\"><p style=\"color:#c00;font-family:"
		"Arial\">Does it fit?</p><img src=\"https://images.amazon.com/"
		"logo.png\"><img src=\"https://t.example/open?x=1\" width=\"1\" "
		"height=\"1\"><div style=\"display:none\">preheader</div>"
		"<script>x()</script></blockquote>";
	rg_policy *policy = tu_policy();
	struct rg_result result;

	(void)state;
	tu_scan_html(policy, "Re: Order 111-2222222-3333333", html, &result);
	if (tu_count(&result, RG_RULE_FORMATTING) != 0 ||
	    tu_count(&result, RG_RULE_IMAGE) != 0 ||
	    tu_count(&result, RG_RULE_TRACKING_PIXEL) != 0 ||
	    tu_count(&result, RG_RULE_HIDDEN_CONTENT) != 0 ||
	    tu_count(&result, RG_RULE_ACCESSIBILITY) != 0 ||
	    tu_count(&result, RG_RULE_ACTIVE_CONTENT) != 1) {
		tu_dump(&result);
		fail_msg("reply: quoted markup judged");
	}
	rg_result_clear(&result);

	/* not a reply: a fake quote hides nothing */
	tu_scan_html(policy, "Order 111-2222222-3333333", html, &result);
	if (tu_count(&result, RG_RULE_FORMATTING) != 2 ||
	    tu_count(&result, RG_RULE_IMAGE) != 1 ||
	    tu_count(&result, RG_RULE_TRACKING_PIXEL) != 1 ||
	    tu_count(&result, RG_RULE_HIDDEN_CONTENT) != 1 ||
	    tu_count(&result, RG_RULE_ACCESSIBILITY) != 1) {
		tu_dump(&result);
		fail_msg("not a reply: quoted markup must be judged");
	}
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* Outlook for Windows marks the quoted message only by its header box. */
static void
test_quoted_outlook(void **state)
{
	static const char html[] =
		"<div class=\"WordSection1\"><p class=\"MsoNormal\">Yes, it "
		"fits.</p><div><div style=\"border:none;border-top:solid #E1E1E1 "
		"1.0pt;padding:3.0pt 0cm 0cm 0cm\"><p class=\"MsoNormal\"><b>"
		"<span style=\"font-size:11.0pt;font-family:&quot;Calibri&quot;,"
		"sans-serif\">From:</span></b> Buyer</p></div></div>"
		"<p class=\"MsoNormal\"><span style=\"color:#333399\">Does it "
		"fit?</span></p></div>";
	rg_policy *policy = tu_policy();
	struct rg_result result;

	(void)state;
	tu_scan_html(policy, "RE: Order 111-2222222-3333333", html, &result);
	if (tu_count(&result, RG_RULE_FORMATTING) != 0) {
		tu_dump(&result);
		fail_msg("Outlook reply: quoted header judged");
	}
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* A rule set to off gives nothing; the others still run. */
static void
test_rule_off(void **state)
{
	struct rg_settings settings;
	rg_policy *policy;
	struct rg_result result;

	(void)state;
	rg_settings_init(&settings);
	settings.actions[RG_RULE_IMAGE] = RG_ACTION_OFF;
	settings.actions[RG_RULE_ACCESSIBILITY] = RG_ACTION_WARN;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	tu_scan_html(policy, NULL, IMG "a.png\"><center>x</center>", &result);
	assert_int_equal(tu_count(&result, RG_RULE_IMAGE), 0);
	assert_int_equal(tu_count(&result, RG_RULE_ACCESSIBILITY), 1);
	assert_int_equal(tu_first(&result, RG_RULE_ACCESSIBILITY)->action,
	                 RG_ACTION_WARN);
	assert_int_equal(tu_count(&result, RG_RULE_FORMATTING), 1);
	rg_result_clear(&result);
	rg_policy_unref(&policy);
}

/* seconds - CPU time of scanning html */
static double
seconds(rg_policy *policy, const char *html, struct rg_result *result)
{
	clock_t t0 = clock();

	tu_scan_html(policy, NULL, html, result);
	return (double)(clock() - t0) / CLOCKS_PER_SEC;
}

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	GString *s = g_string_new(head);

	for (size_t i = 0; i < n; i++)
		g_string_append(s, unit);
	g_string_append(s, tail);
	return g_string_free(s, FALSE);
}

/*
 * Hostile markup: many images, deep styled nesting, huge style attributes
 * and sheets.  Findings stay capped; time grows linearly (twice the input
 * within four times the time, with slack for a busy machine).
 */
static void
test_hostile(void **state)
{
	static const struct {
		const char *name, *head, *unit, *tail;
		size_t n;
		rg_rule rule;
		size_t want;
	} hostile_cases[] = {
		{ "100k images", "<p>x</p>",
		  "<img src=\"https://cdn.shop.example/a.png\">", "", 100000,
		  RG_RULE_IMAGE, 50 },
		{ "100k pixels", "<p>x</p>",
		  "<img src=\"https://t.example/a.gif\" width=1 height=1>", "",
		  100000, RG_RULE_TRACKING_PIXEL, 50 },
		/* nested past limits.max_html_depth: what is deeper is
		 * not rendered, and the part is uncheckable */
		{ "deep styled nesting", "",
		  "<div style=\"color:red;display:none\">", "deep", 50000,
		  RG_RULE_UNCHECKABLE, 1 },
		{ "deep unclosed font", "", "<font color=\"#f00\" size=\"+1\">",
		  "deep", 50000, RG_RULE_UNCHECKABLE, 1 },
		{ "huge style attribute", "<p style=\"",
		  "color:red;margin:1px 2px 3px 4px;font-family:a,b,c;",
		  "\">x</p>", 50000, RG_RULE_FORMATTING, 2 },
		{ "huge style sheet", "<style>",
		  ".a{display:none;color:red}\n.b:hover{x:y}\n@media print{p{}}\n",
		  "</style><p class=\"a\">x</p>", 50000,
		  RG_RULE_HIDDEN_CONTENT, 1 },
		{ "many classes", "<style>.a{color:#00f}</style>",
		  "<span class=\"a a a a a a a a a a\">x</span>", "", 50000,
		  RG_RULE_FORMATTING, 1 },
		{ "many hidden spans", "",
		  "<span style=\"display:none\">x</span>y", "", 100000,
		  RG_RULE_HIDDEN_CONTENT, 50 },
	};
	struct rg_settings settings;
	rg_policy *policy;

	(void)state;
	/* this measures growth, not the CPU budget (test_limits has that):
	 * a sanitizer build is slow enough to spend the default budget */
	rg_settings_init(&settings);
	settings.cpu_budget_ms = 600000;
	/* nor the pre-parse ceiling on field-like lines (a huge sheet has
	 * thousands of "name: value" lines) */
	settings.max_header_fields = 100000;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);
	for (size_t i = 0; i < G_N_ELEMENTS(hostile_cases); i++) {
		char *half = repeat(hostile_cases[i].head, hostile_cases[i].unit,
		                    hostile_cases[i].n / 2, hostile_cases[i].tail);
		char *full = repeat(hostile_cases[i].head, hostile_cases[i].unit, hostile_cases[i].n,
		                    hostile_cases[i].tail);
		struct rg_result result;
		double t_half, t_full;

		t_half = seconds(policy, half, &result);
		rg_result_clear(&result);
		t_full = seconds(policy, full, &result);
		if (tu_count(&result, hostile_cases[i].rule) != hostile_cases[i].want) {
			print_error("%s: %zu findings\n", hostile_cases[i].name,
			            tu_count(&result, hostile_cases[i].rule));
			tu_dump(&result);
			fail_msg("%s: want %zu %s findings", hostile_cases[i].name,
			         hostile_cases[i].want, rg_rule_name(hostile_cases[i].rule));
		}
		if (t_full > 4 * t_half + 0.5)
			fail_msg("%s: %.2fs for n, %.2fs for n/2: not linear",
			         hostile_cases[i].name, t_full, t_half);
		print_message("%s: %.3fs / %.3fs\n", hostile_cases[i].name, t_half,
		              t_full);
		rg_result_clear(&result);
		g_free(half);
		g_free(full);
	}
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_excerpts),
		cmocka_unit_test(test_hidden_text_checked),
		cmocka_unit_test(test_inline_parts),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_quoted_outlook),
		cmocka_unit_test(test_rule_off),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
