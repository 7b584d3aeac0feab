/*
 * structure.c - rules image, tracking-pixel, active-content, formatting,
 * hidden-content and accessibility, judged from the facts html.c records
 * while it renders an HTML part (html.h), never from text patterns.
 *
 * tracking-pixel: a remote image (not cid:, not data:) that is hidden
 * (display:none, visibility:hidden, opacity:0, off-screen, inside a hidden
 * element), or 2 pixels or less wide or high by its attributes or CSS, or
 * whose URL carries tracking: a path word such as open, track, pixel or
 * beacon; a parameter such as utm_*, mc_eid, _hsenc, rcpt; or an identity
 * parameter (id, e, u, uid, email, ...) holding an order id, an e-mail
 * address, a hex id or a long token.  CSS background images count too.
 * A tracking pixel is reported once, as tracking-pixel only.
 *
 * image: every other image - <img>, <input type=image>, a background
 * image, an inline (cid:) image part no <img> shows - is a finding.  The
 * marketplace allows only images "needed to complete the order" and
 * relaygate cannot know what is needed, so it reports them all and the
 * rule's action (configurable) decides: a seller who sends photos of
 * custom work sets it to warn.  A logo wrapped in a link is an image like
 * any other (the excerpt shows the <a>); GIFs are images too.
 *
 * accessibility: an <img> or <input type=image> (not a tracking pixel)
 * without alt text or with blank alt text, or whose alt text carries
 * promotion (the words of promo_words below, or "N% off" / "-N%").
 *
 * active-content: script, iframe, frame, form and its controls, object,
 * embed, applet, audio, video, <meta http-equiv=refresh>, on* handler
 * attributes, javascript:/vbscript:/data: URLs in href, src, action and
 * the like (a data: image where an image belongs is an image), and CSS
 * expression()/behavior.  One finding per element; the controls of a form
 * (and what an object or video holds) are the form's.
 *
 * formatting: text-align or align= center, right or justify; <center>;
 * font-family or <font face>; line-height other than normal; a text
 * colour other than black or a background other than white (not on
 * links); margin or padding over 20% of a 600px body (120px); an image
 * wider than 80% (width over 80% or over 480px); more than three font
 * sizes (reported once, at the fourth).  Only for elements with visible
 * text in them, once per distinct declaration; Outlook's own style sheet
 * classes (Mso*, EmailStyle*) are the client's defaults, not the sender's.
 *
 * hidden-content: text hidden by display:none, visibility:hidden, the
 * hidden attribute, mso-hide:all, opacity:0, a font of 2px or less, a
 * colour equal (or nearly) to the background or transparent, an
 * off-screen position or text-indent (-200px or further), or a zero
 * height/width with overflow:hidden.  The hidden text stays in the part's
 * text, so every text rule still reads it.
 *
 * In a reply, what sits inside quoted text (html.h) is the buyer's or the
 * marketplace's markup: only active-content is judged there.
 *
 * At most MAX_FINDINGS_PER_PART findings per rule and part.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "internal.h"
#include "html.h"

#define MAX_FINDINGS_PER_PART 50
#define TINY_IMAGE_PX 2
#define WIDE_IMAGE_PCT 80
#define WIDE_IMAGE_PX 480          /* 80% of a 600px body */
#define MAX_FONT_SIZES 3
#define MIN_TOKEN_CHARS 20         /* an opaque token in a URL */
#define MIN_HEX_ID_CHARS 6

/* Words in an alt text that make it promotion (case folded, NFKC).
 * ASCII words must stand alone; others match anywhere. */
static const char *const promo_words[] = {
	/* English */
	"sale", "sales", "discount", "discounts", "discounted", "buy",
	"buy now", "shop now", "order now", "free", "coupon", "coupons",
	"voucher", "best", "bestseller", "best-seller", "deal", "deals",
	"offer", "offers", "special offer", "promo", "promotion", "bargain",
	"clearance", "save", "limited time", "cheap", "cheapest",
	/* German */
	"angebot", "angebote", "rabatt", "gutschein", "gratis", "kostenlos",
	"sparen", "jetzt kaufen", "reduziert", "schnäppchen", "aktion",
	/* French */
	"soldes", "réduction", "offre", "offert", "offerte", "gratuit",
	"gratuite", "achetez", "remise",
	/* Spanish */
	"oferta", "ofertas", "descuento", "rebajas", "cupón", "promoción",
	"compra ya",
	/* Italian */
	"offerta", "offerte", "sconto", "saldi", "acquista", "promozione",
	/* Japanese */
	"セール", "割引", "無料", "クーポン", "特価", "お得",
};

/* URL query parameters that exist to track the reader. */
static const char *const tracking_params[] = {
	"__hsfp", "__hssc", "__hstc", "_hsenc", "_hsmi", "_ke", "dm_i",
	"ecid", "elqtrack", "elqtrackid", "hsctatracking", "mc_cid", "mc_eid",
	"mkt_tok", "oly_anon_id", "oly_enc_id", "open_id", "rcpt",
	"recipient", "recipient_id", "s_cid", "sc_cid", "subscriber",
	"subscriber_id", "tracking_id", "trackingid", "trk", "trk_id",
	"trkid", "upn", "vero_conv", "vero_id",
};

/* Parameters that identify the reader when their value is an id. */
static const char *const identity_params[] = {
	"cid", "e", "email", "id", "m", "mid", "r", "sid", "t", "token", "u",
	"uid", "user", "user_id", "userid",
};

/* Words of a URL path that name a tracker. */
static const char *const tracking_path_words[] = {
	"1x1", "beacon", "imp", "impression", "open", "opened", "pixel",
	"track", "tracker", "tracking", "trk",
};

struct structure_ctx {
	rg_scan *scan;
	const struct rg_view *view;
	const struct rg_part *part;
	unsigned count[RG_RULE_COUNT];
};

static int
want(const struct structure_ctx *ctx, rg_rule rule)
{
	return rg_rule_active(ctx->scan, rule) &&
	       ctx->count[rule] < MAX_FINDINGS_PER_PART;
}

/* report - a finding of rule at a text offset of the part */
static void
report(struct structure_ctx *ctx, rg_rule rule, size_t offset,
       const char *excerpt)
{
	unsigned line, column;

	if (!want(ctx, rule))
		return;
	ctx->count[rule]++;
	rg_part_position(ctx->scan, ctx->part, offset, &line, &column);
	rg_report_at(ctx->scan, rule, ctx->part->path, line, column, excerpt);
}

static int
in_list(const char *s, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == n && g_ascii_strncasecmp(s, list[i], n) == 0)
			return 1;
	return 0;
}

/* is_order_id - NNN-NNNNNNN-NNNNNNN */
static int
is_order_id(const char *s, size_t n)
{
	if (n != 19)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 3 || i == 11) {
			if (s[i] != '-')
				return 0;
		} else if (!g_ascii_isdigit(s[i])) {
			return 0;
		}
	}
	return 1;
}

/* is_id_value - a value that identifies someone: an order id, an e-mail
 * address, a hex id with letters and digits, or a long opaque token */
static int
is_id_value(const char *s, size_t n)
{
	int hex = 1, digit = 0, letter = 0, token = 1;

	if (is_order_id(s, n))
		return 1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '@' || (c == '%' && i + 2 < n && s[i + 1] == '4' &&
		                 s[i + 2] == '0'))
			return 1;
		if (g_ascii_isdigit(c))
			digit = 1;
		else if (g_ascii_isxdigit(c))
			letter = 1;
		else
			hex = 0;
		if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '=' &&
		    c != '.' && c != '%')
			token = 0;
	}
	if (hex && digit && letter && n >= MIN_HEX_ID_CHARS)
		return 1;
	return token && n >= MIN_TOKEN_CHARS;
}

/* is_local_src - an image that loads nothing: cid:, data: or none */
static int
is_local_src(const char *src)
{
	if (src == NULL)
		return 1;
	while (*src != '\0' && (unsigned char)*src <= 0x20)
		src++;
	return g_ascii_strncasecmp(src, "cid:", 4) == 0 ||
	       g_ascii_strncasecmp(src, "data:", 5) == 0 || *src == '\0';
}

/* tracking_url - the URL carries tracking (see the file comment) */
static int
tracking_url(const char *url)
{
	const char *p = strstr(url, "://");
	const char *path, *query;
	size_t path_len;

	p = p != NULL ? p + 3 : (g_str_has_prefix(url, "//") ? url + 2 : url);
	path = p + strcspn(p, "/?#");
	path_len = strcspn(path, "?#");
	query = path[path_len] == '?' ? path + path_len + 1 : NULL;

	/* path words, split at / . - _ */
	for (size_t i = 0; i < path_len;) {
		size_t n = 0;

		while (i + n < path_len && g_ascii_isalnum(path[i + n]))
			n++;
		if (n > 0 && in_list(path + i, n, tracking_path_words,
		                     G_N_ELEMENTS(tracking_path_words)))
			return 1;
		i += n + 1;
	}
	if (query == NULL)
		return 0;
	while (*query != '\0' && *query != '#') {
		size_t n = strcspn(query, "&;#");
		const char *eq = memchr(query, '=', n);
		size_t name_len = eq != NULL ? (size_t)(eq - query) : n;
		const char *value = eq != NULL ? eq + 1 : query + n;
		size_t value_len = (size_t)(query + n - value);

		if (name_len >= 4 && g_ascii_strncasecmp(query, "utm_", 4) == 0)
			return 1;
		if (in_list(query, name_len, tracking_params,
		            G_N_ELEMENTS(tracking_params)))
			return 1;
		if (in_list(query, name_len, identity_params,
		            G_N_ELEMENTS(identity_params)) &&
		    is_id_value(value, value_len))
			return 1;
		query += n;
		if (*query == '&' || *query == ';')
			query++;
	}
	return 0;
}

/* is_tracking - the image is a tracking pixel */
static int
is_tracking(const struct rg_html_image *img)
{
	if (is_local_src(img->src))
		return 0;
	if (img->flags & RG_HTML_IMG_HIDDEN)
		return 1;
	if ((img->width != RG_HTML_SIZE_UNKNOWN &&
	     img->width <= TINY_IMAGE_PX) ||
	    (img->height != RG_HTML_SIZE_UNKNOWN &&
	     img->height <= TINY_IMAGE_PX))
		return 1;
	return tracking_url(img->src);
}

static int
word_char_before(const char *text, const char *at)
{
	const char *prev;

	if (at == text)
		return 0;
	prev = g_utf8_find_prev_char(text, at);
	return prev != NULL && g_unichar_isalnum(g_utf8_get_char(prev));
}

static int
word_char_at(const char *at)
{
	return *at != '\0' && g_unichar_isalnum(g_utf8_get_char(at));
}

/* percent_off - "20% off", "20 %", "-20%" style discounts */
static int
percent_off(const char *alt)
{
	for (const char *s = strchr(alt, '%'); s != NULL;
	     s = strchr(s + 1, '%')) {
		const char *d = s, *after = s + 1;

		while (d > alt && d[-1] == ' ')
			d--;
		if (d == alt || !g_ascii_isdigit(d[-1]))
			continue;
		while (d > alt && (g_ascii_isdigit(d[-1]) || d[-1] == '.' ||
		                   d[-1] == ','))
			d--;
		if (d > alt && d[-1] == '-')
			return 1;
		while (*after == ' ')
			after++;
		if (g_str_has_prefix(after, "off") && !word_char_at(after + 3))
			return 1;
	}
	return 0;
}

/* promo_alt - alt text that carries promotion */
static int
promo_alt(const char *alt)
{
	gchar *folded = g_utf8_casefold(alt, -1);
	int found = percent_off(folded);

	for (size_t i = 0; i < G_N_ELEMENTS(promo_words) && !found; i++) {
		const char *w = promo_words[i];
		size_t n = strlen(w);
		int ascii = (unsigned char)w[0] < 0x80;

		for (const char *s = strstr(folded, w); s != NULL && !found;
		     s = strstr(s + 1, w))
			found = !ascii || (!word_char_before(folded, s) &&
			                   !word_char_at(s + n));
	}
	g_free(folded);
	return found;
}

/* blank - only spaces */
static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ')
			return 0;
	return 1;
}

static void
check_images(struct structure_ctx *ctx, const struct rg_html_facts *facts)
{
	for (size_t i = 0; i < facts->n_images; i++) {
		const struct rg_html_image *img = &facts->images[i];

		if ((img->flags & RG_HTML_IMG_QUOTED) && ctx->view->is_reply)
			continue;
		if (is_tracking(img)) {
			report(ctx, RG_RULE_TRACKING_PIXEL, img->offset,
			       img->excerpt);
			continue;
		}
		report(ctx, RG_RULE_IMAGE, img->offset, img->excerpt);
		if (img->kind != RG_HTML_IMG_BACKGROUND &&
		    want(ctx, RG_RULE_ACCESSIBILITY)) {
			if (img->alt == NULL || blank(img->alt)) {
				report(ctx, RG_RULE_ACCESSIBILITY, img->offset,
				       img->excerpt);
			} else if (promo_alt(img->alt)) {
				gchar *e = g_strdup_printf("<img alt=\"%s\">",
				                           img->alt);

				report(ctx, RG_RULE_ACCESSIBILITY, img->offset,
				       e);
				g_free(e);
			}
		}
		if (img->kind != RG_HTML_IMG_BACKGROUND &&
		    !(img->flags & RG_HTML_IMG_HIDDEN) &&
		    (img->width_pct > WIDE_IMAGE_PCT ||
		     img->width > WIDE_IMAGE_PX))
			report(ctx, RG_RULE_FORMATTING, img->offset,
			       img->excerpt);
	}
	if (facts->images_seen > facts->n_images) {
		gchar *e = g_strdup_printf("%zu more images not examined",
		                           facts->images_seen -
		                           facts->n_images);

		report(ctx, RG_RULE_IMAGE, ctx->part->text_len, e);
		g_free(e);
	}
}

static void
check_facts(struct structure_ctx *ctx, const struct rg_html_facts *facts)
{
	long sizes[MAX_FONT_SIZES];
	size_t n_sizes = 0;
	int sizes_reported = 0;

	for (size_t i = 0; i < facts->n_facts; i++) {
		const struct rg_html_fact *f = &facts->facts[i];
		int skip = f->quoted && ctx->view->is_reply;

		switch (f->kind) {
		case RG_HTML_ACTIVE:
			report(ctx, RG_RULE_ACTIVE_CONTENT, f->start, f->excerpt);
			break;
		case RG_HTML_HIDDEN:
			if (!skip)
				report(ctx, RG_RULE_HIDDEN_CONTENT, f->start,
				       f->excerpt);
			break;
		case RG_HTML_ALIGN:
		case RG_HTML_FONT_FAMILY:
		case RG_HTML_LINE_HEIGHT:
		case RG_HTML_COLOR:
		case RG_HTML_SPACING:
			if (!skip)
				report(ctx, RG_RULE_FORMATTING, f->start,
				       f->excerpt);
			break;
		case RG_HTML_FONT_SIZE: {
			int known = 0;

			if (skip || sizes_reported)
				break;
			for (size_t k = 0; k < n_sizes; k++)
				known |= sizes[k] == f->value;
			if (known)
				break;
			if (n_sizes == MAX_FONT_SIZES) {
				gchar *e = g_strdup_printf("%s (more than %d "
				                           "font sizes)",
				                           f->excerpt,
				                           MAX_FONT_SIZES);

				report(ctx, RG_RULE_FORMATTING, f->start, e);
				g_free(e);
				sizes_reported = 1;
				break;
			}
			sizes[n_sizes++] = f->value;
			break;
		}
		case RG_HTML_FACT_KINDS:
			break;
		}
	}
}

/* cid_matches - src is "cid:" + id (percent-escapes decoded, case
 * ignored as Content-IDs are compared by mail clients) */
static int
cid_matches(const char *src, const char *id)
{
	gchar *decoded;
	int same;

	if (src == NULL || g_ascii_strncasecmp(src, "cid:", 4) != 0)
		return 0;
	decoded = g_uri_unescape_string(src + 4, NULL);
	same = g_ascii_strcasecmp(decoded != NULL ? decoded : src + 4, id) == 0;
	g_free(decoded);
	return same;
}

/* cid_refs - how many <img src="cid:..."> the HTML parts hold, and
 * whether one of them names id (when id is not NULL) */
static size_t
cid_refs(const struct rg_view *view, const char *id, int *found_r)
{
	size_t refs = 0;

	*found_r = 0;
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_html_facts *facts = view->parts[i].html;

		if (view->parts[i].kind != RG_PART_HTML || facts == NULL)
			continue;
		for (size_t k = 0; k < facts->n_images; k++) {
			const char *src = facts->images[k].src;

			if (src == NULL || g_ascii_strncasecmp(src, "cid:", 4) != 0)
				continue;
			refs++;
			if (id != NULL && cid_matches(src, id))
				*found_r = 1;
		}
	}
	return refs;
}

/*
 * check_inline_images - inline image parts that no <img> shows: each is
 * an image the mail client shows below the text.  Without the part's
 * Content-ID, the first parts are taken as the ones the cid: references
 * show.
 */
static void
check_inline_images(struct structure_ctx *ctx)
{
	const struct rg_view *view = ctx->view;
	size_t unnamed_refs = (size_t)-1, seen = 0;

	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];
		int found = 0;
		gchar *e;

		if (part->kind != RG_PART_ATTACHMENT || !part->embedded ||
		    part->content_type == NULL ||
		    !g_str_has_prefix(part->content_type, "image/"))
			continue;
		if (part->content_id != NULL) {
			cid_refs(view, part->content_id, &found);
			if (found)
				continue;
		} else {
			if (unnamed_refs == (size_t)-1)
				unnamed_refs = cid_refs(view, NULL, &found);
			if (seen++ < unnamed_refs)
				continue;
		}
		e = g_strdup_printf("inline image %s%s%s", part->content_type,
		                    part->filename != NULL ? " " : "",
		                    part->filename != NULL ? part->filename
		                                           : "");
		/* one finding per part: no position in a binary part */
		rg_report_at(ctx->scan, RG_RULE_IMAGE, part->path, 0, 0, e);
		g_free(e);
	}
}

void
rg_rules_structure(rg_scan *scan, const struct rg_view *view)
{
	static const rg_rule rules[] = {
		RG_RULE_IMAGE, RG_RULE_TRACKING_PIXEL, RG_RULE_ACTIVE_CONTENT,
		RG_RULE_FORMATTING, RG_RULE_HIDDEN_CONTENT,
		RG_RULE_ACCESSIBILITY,
	};
	struct structure_ctx ctx;
	int any = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
		any |= rg_rule_active(scan, rules[i]);
	if (!any)
		return;
	memset(&ctx, 0, sizeof(ctx));
	ctx.scan = scan;
	ctx.view = view;
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];

		if (part->kind != RG_PART_HTML || part->html == NULL)
			continue;
		memset(ctx.count, 0, sizeof(ctx.count));
		ctx.part = part;
		check_images(&ctx, part->html);
		check_facts(&ctx, part->html);
	}
	if (rg_rule_active(scan, RG_RULE_IMAGE))
		check_inline_images(&ctx);
}
