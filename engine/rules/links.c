/*
 * links.c - rules external-link and insecure-link.
 *
 * A link is what a buyer's mail client would follow or load: a scheme URL
 * (http, https, ftp), a www. host or a bare domain written in the visible
 * text, and every href, src and CSS url() an HTML part carries (collected
 * by html.c).  mailto:, tel:, cid:, javascript:, data: and other schemes,
 * "#" anchors and relative references are not links here: addresses and
 * active content belong to other rules.
 *
 * external-link: the link's host is not an allowed link domain (equal or a
 * subdomain), or it is a marketplace page the order does not need (product
 * pages, storefronts, search; the table needless_paths below).
 * insecure-link: the link is http:// (not https), wherever it points.
 *
 * Hosts are compared as a browser would find them: lower case, without
 * userinfo ("https://amazon.com@evil.example/" is evil.example), port and
 * trailing dots.  A host with non-ASCII letters, an A-label ("xn--") or an
 * IP literal never equals an ASCII allowed domain, so look-alikes are
 * external.  Nothing is decoded to make a host allowed (percent-escapes,
 * UTS 46 mapping): an unusual spelling of an allowed host is reported,
 * which fails closed.
 *
 * A bare domain in the text counts only when its last label is a
 * top-level domain the public suffix list names (an explicit rule, not its
 * "*" default) or a special-use name, so "e.g.", "v1.3", "file.pdf" and
 * "Mr.Smith" are not links; bare_link_end also sets aside address local
 * parts, sentences run together ("arrived.It"), file names under TLDs
 * such as .zip and .mov, and legal forms ("Co.Ltd").
 *
 * Each link occurrence in the text gives one finding per rule that
 * applies (at most MAX_FINDINGS_PER_PART); a link from the markup is
 * reported only if the same link (host and path, any scheme) was not
 * already reported for that rule in that part, so <a href="X">X</a> gives
 * one finding, not two.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "internal.h"

/*
 * Marketplace pages the order does not need: product pages, storefronts,
 * search and redirectors.  Checked on hosts whose registrable domain is a
 * relay domain's (amazon.de for marketplace.amazon.de), after a language
 * prefix "/-/xx/" is skipped; lower case, "\" read as "/".  Order details,
 * order history, returns, reviews and feedback are none of these.
 */
static const struct needless_path {
	const char *path;
	int anywhere;     /* 1: anywhere in the path ("/Slug/dp/ASIN") */
} needless_paths[] = {
	{ "/dp/", 1 },                  /* product detail page */
	{ "/gp/product/", 1 },          /* product detail page */
	{ "/gp/aw/d/", 1 },             /* product detail page, mobile */
	{ "/gp/offer-listing/", 0 },    /* other offers for a product */
	{ "/exec/obidos/", 0 },         /* legacy product links */
	{ "/stores/", 0 },              /* brand stores */
	{ "/shops/", 0 },               /* seller storefronts */
	{ "/shop/", 0 },                /* influencer storefronts */
	{ "/s?", 0 },                   /* search; "?me=" is a storefront */
	{ "/s/", 0 },                   /* search */
	{ "/gp/redirect.html", 0 },     /* redirects anywhere */
};

/*
 * Top-level domains that are also common file extensions.  A bare
 * "manual.zip" or "photo.mov" (no scheme, www., port or path) is read as a
 * file name: sellers name attachments and files far more often than they
 * write a bare domain under these TLDs, and the attachment rule judges
 * files.  With a scheme, www. or a path it is a link.  .pl, .in, .rs and
 * the like stay out: they are marketplace and shop countries.
 */
static const char *const file_name_tlds[] = {
	"zip", "mov", "ai", "mobi",
};

/*
 * Special-use names (RFC 2606, RFC 6761) that the public suffix list does
 * not carry but that stand for real domains in examples and tests.
 */
static const char *const special_tlds[] = {
	"example", "invalid", "test",
};

/*
 * Company legal forms written without a space, which would otherwise read
 * as a domain under a real TLD (.ltd, .kg, .inc, .llc, .gmbh).
 */
static const char *const legal_forms[] = {
	"co.ltd", "co.kg", "co.inc", "co.llc", "co.gmbh", "co.limited",
	"pvt.ltd", "pte.ltd",
};

/* The local part of an e-mail address is at most 64 octets. */
#define LOCAL_PART_MAX 64

/*
 * Findings of one rule in one part, at most: enough to show the sender
 * what to fix, and a bound on the work and the reply for a message made
 * of links.  Scanning a part stops once every active rule has its fill.
 */
#define MAX_FINDINGS_PER_PART 50

struct links_ctx {
	rg_scan *scan;
	const psl_ctx_t *psl;
	const struct rg_settings *settings;
	int external_on;
	int insecure_on;
	/* per part */
	GHashTable *seen;          /* rule + link key reported */
	unsigned n_external;
	unsigned n_insecure;
};

/* What one link is. */
struct link_facts {
	int external;
	int insecure;
	char *key;                 /* host and path, lower case; g_free */
};

/* is_one_of - c is one of the characters of set (never NUL) */
static int
is_one_of(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

static int
in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* lower_host - a lower-case copy of s[0..len) (g_free) */
static char *
lower_host(const char *s, size_t len)
{
	if (g_utf8_validate_len(s, len, NULL))
		return g_utf8_strdown(s, (gssize)len);
	return g_ascii_strdown(s, (gssize)len);
}

/*
 * domain_matches - 1 when host (lower case) is domain or a subdomain of it
 * ("www.amazon.de" of "amazon.de"), never a suffix inside a label
 * ("evilamazon.de").  A leading "*." or "." and trailing dots of the
 * configured domain are ignored.
 */
static int
domain_matches(const char *host, size_t hlen, const char *domain)
{
	size_t dlen;

	if (strncmp(domain, "*.", 2) == 0)
		domain += 2;
	else if (domain[0] == '.')
		domain++;
	dlen = strlen(domain);
	while (dlen > 0 && domain[dlen - 1] == '.')
		dlen--;
	if (dlen == 0 || hlen < dlen)
		return 0;
	if (g_ascii_strncasecmp(host + hlen - dlen, domain, dlen) != 0)
		return 0;
	return hlen == dlen || host[hlen - dlen - 1] == '.';
}

static int
host_allowed(const struct links_ctx *ctx, const char *host)
{
	const struct rg_strlist *allowed = &ctx->settings->allowed_link_domains;
	size_t hlen = strlen(host);

	for (size_t i = 0; i < allowed->count; i++)
		if (domain_matches(host, hlen, allowed->items[i]))
			return 1;
	return 0;
}

/* host_is_marketplace - host's registrable domain is a relay domain's */
static int
host_is_marketplace(const struct links_ctx *ctx, const char *host)
{
	const struct rg_strlist *relays = &ctx->settings->relay_domains;
	const char *reg = psl_registrable_domain(ctx->psl, host);

	if (reg == NULL)
		return 0;
	for (size_t i = 0; i < relays->count; i++) {
		char *relay = g_ascii_strdown(relays->items[i], -1);
		const char *relay_reg = psl_registrable_domain(ctx->psl, relay);
		int same = relay_reg != NULL && strcmp(relay_reg, reg) == 0;

		g_free(relay);
		if (same)
			return 1;
	}
	return 0;
}

/*
 * path_is_needless - rest (what follows the host: path, query, fragment)
 * is a marketplace page the order does not need (needless_paths).
 */
static int
path_is_needless(const char *rest, size_t len)
{
	char *path = g_ascii_strdown(rest, (gssize)len);
	const char *p = path;
	size_t plen, before_query;
	int needless = 0;

	for (char *c = path; *c != '\0'; c++)
		if (*c == '\\')
			*c = '/';
	/* a language prefix: "/-/de/dp/..." */
	if (strncmp(p, "/-/", 3) == 0) {
		const char *next = strchr(p + 3, '/');

		p = next != NULL ? next : p + strlen(p);
	}
	plen = strlen(p);
	before_query = strcspn(p, "?#");
	for (size_t i = 0; i < G_N_ELEMENTS(needless_paths) && !needless;
	     i++) {
		const struct needless_path *n = &needless_paths[i];
		size_t nlen = strlen(n->path);

		if (n->anywhere)
			needless = g_strstr_len(p, (gssize)before_query,
			                        n->path) != NULL;
		else
			needless = plen >= nlen &&
			           strncmp(p, n->path, nlen) == 0;
	}
	g_free(path);
	return needless;
}

/*
 * bare_host_is_domain - a host written without scheme or www. (lower case)
 * is a domain: at least two labels, the last one a top-level domain the
 * public suffix list knows (not its "*" default rule) or a special-use
 * name, the host not itself a public suffix ("co.uk"), and not a file name
 * or legal form when nothing follows it (has_rest 0).
 */
static int
bare_host_is_domain(const psl_ctx_t *psl, const char *host, int has_rest)
{
	const char *tld = strrchr(host, '.');

	if (tld == NULL || tld == host || tld[1] == '\0')
		return 0;
	tld++;
	if (!has_rest) {
		if (in_list(file_name_tlds, G_N_ELEMENTS(file_name_tlds), tld))
			return 0;
		if (in_list(legal_forms, G_N_ELEMENTS(legal_forms), host))
			return 0;
	}
	if (!in_list(special_tlds, G_N_ELEMENTS(special_tlds), tld) &&
	    !psl_is_public_suffix2(psl, tld,
	                           PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
		return 0;
	return !psl_is_public_suffix2(psl, host,
	                              PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE);
}

/*
 * classify - judge one link url[0..len) (written in the text, or from the
 * markup with from_markup set).  Returns 1 with *facts filled (free
 * facts->key), or 0 when it is not a link these rules judge: another
 * scheme, a relative reference, an empty host.
 */
static int
classify(const struct links_ctx *ctx, const char *url, size_t len,
         int from_markup, struct link_facts *facts)
{
	size_t i = 0, auth_end, host_start, host_end, scheme_len = 0;
	int insecure = 0, have_scheme = 0;
	char *host;

	memset(facts, 0, sizeof(*facts));
	/* scheme: letters, digits, "+", "-" (not ".": "www.x.com:8080") */
	if (len > 0 && g_ascii_isalpha(url[0])) {
		size_t j = 1;

		while (j < len && (g_ascii_isalnum(url[j]) || url[j] == '+' ||
		                   url[j] == '-'))
			j++;
		if (j < len && url[j] == ':') {
			have_scheme = 1;
			scheme_len = j;
		}
	}
	if (have_scheme) {
		if (scheme_len == 4 && g_ascii_strncasecmp(url, "http", 4) == 0)
			insecure = 1;
		else if (!(scheme_len == 5 &&
		           g_ascii_strncasecmp(url, "https", 5) == 0) &&
		         !(scheme_len == 3 &&
		           g_ascii_strncasecmp(url, "ftp", 3) == 0))
			return 0;
		/* like a browser: any run of "/" and "\", even none */
		i = scheme_len + 1;
		while (i < len && (url[i] == '/' || url[i] == '\\'))
			i++;
	} else if (len >= 2 && (url[0] == '/' || url[0] == '\\') &&
	           (url[1] == '/' || url[1] == '\\')) {
		/* scheme-relative "//host/path" */
		while (i < len && (url[i] == '/' || url[i] == '\\'))
			i++;
	} else if (from_markup &&
	           (len == 0 || is_one_of(url[0], "/\\#?."))) {
		return 0;             /* relative reference or anchor */
	}

	auth_end = i;
	while (auth_end < len && !is_one_of(url[auth_end], "/\\?#"))
		auth_end++;
	/* userinfo: up to the last "@" of the authority */
	host_start = i;
	for (size_t j = i; j < auth_end; j++)
		if (url[j] == '@')
			host_start = j + 1;
	host_end = host_start;
	if (host_start < auth_end && url[host_start] == '[') {
		while (host_end < auth_end && url[host_end] != ']')
			host_end++;
		if (host_end < auth_end)
			host_end++;
	} else {
		while (host_end < auth_end && url[host_end] != ':')
			host_end++;
	}
	while (host_end > host_start && url[host_end - 1] == '.')
		host_end--;
	if (host_end == host_start)
		return 0;
	host = lower_host(url + host_start, host_end - host_start);

	/* markup without a scheme: a link only if it reads as a domain */
	if (from_markup && !have_scheme && url[0] != '/' && url[0] != '\\' &&
	    strncmp(host, "www.", 4) != 0 &&
	    !bare_host_is_domain(ctx->psl, host, auth_end < len)) {
		g_free(host);
		return 0;
	}

	facts->insecure = insecure;
	if (!host_allowed(ctx, host))
		facts->external = 1;
	else if (host_is_marketplace(ctx, host) &&
	         path_is_needless(url + auth_end, len - auth_end))
		facts->external = 1;

	/* key: host and what follows the authority, no trailing "/" */
	{
		size_t rest_len = len - auth_end;
		char *rest;

		while (rest_len > 0 && url[auth_end + rest_len - 1] == '/')
			rest_len--;
		rest = g_ascii_strdown(url + auth_end, (gssize)rest_len);
		facts->key = g_strconcat(host, rest, NULL);
		g_free(rest);
	}
	g_free(host);
	return 1;
}

/* seen_add - remember that rule was reported for key in this part */
static void
seen_add(struct links_ctx *ctx, rg_rule rule, const char *key)
{
	g_hash_table_add(ctx->seen, g_strdup_printf("%d %s", (int)rule, key));
}

static int
seen_has(const struct links_ctx *ctx, rg_rule rule, const char *key)
{
	char *k = g_strdup_printf("%d %s", (int)rule, key);
	int has = g_hash_table_contains(ctx->seen, k);

	g_free(k);
	return has;
}

static int
want_external(const struct links_ctx *ctx)
{
	return ctx->external_on && ctx->n_external < MAX_FINDINGS_PER_PART;
}

static int
want_insecure(const struct links_ctx *ctx)
{
	return ctx->insecure_on && ctx->n_insecure < MAX_FINDINGS_PER_PART;
}

/* report_text - the link at text[start..end) of part */
static void
report_text(struct links_ctx *ctx, const struct rg_part *part, size_t start,
            size_t end)
{
	struct link_facts facts;

	if (end <= start ||
	    !classify(ctx, part->text + start, end - start, 0, &facts))
		return;
	if (facts.external && want_external(ctx)) {
		rg_report(ctx->scan, RG_RULE_EXTERNAL_LINK, part, start,
		          end - start);
		seen_add(ctx, RG_RULE_EXTERNAL_LINK, facts.key);
		ctx->n_external++;
	}
	if (facts.insecure && want_insecure(ctx)) {
		rg_report(ctx->scan, RG_RULE_INSECURE_LINK, part, start,
		          end - start);
		seen_add(ctx, RG_RULE_INSECURE_LINK, facts.key);
		ctx->n_insecure++;
	}
	g_free(facts.key);
}

/*
 * trim_end - drop punctuation that ends a sentence or encloses the link
 * from text[start..end): ".,;:!?'\"*", and ")" / "]" without their
 * opening partner inside.  Returns the new end.
 */
static size_t
trim_end(const char *text, size_t start, size_t end)
{
	long parens = 0, brackets = 0;

	for (size_t i = start; i < end; i++) {
		if (text[i] == '(')
			parens++;
		else if (text[i] == ')')
			parens--;
		else if (text[i] == '[')
			brackets++;
		else if (text[i] == ']')
			brackets--;
	}
	while (end > start) {
		char c = text[end - 1];

		if (is_one_of(c, ".,;:!?'\"*")) {
			end--;
		} else if (c == ')' && parens < 0) {
			parens++;
			end--;
		} else if (c == ']' && brackets < 0) {
			brackets++;
			end--;
		} else {
			break;
		}
	}
	return end;
}

/* is_capitalised - s[0..len) is one capitalised word: "Thanks", "It" */
static int
is_capitalised(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	if (len == 0 || !g_unichar_isupper(g_utf8_get_char(p)))
		return 0;
	for (p = g_utf8_next_char(p); p < end; p = g_utf8_next_char(p))
		if (!g_unichar_islower(g_utf8_get_char(p)))
			return 0;
	return len > 1;
}

static int
has_upper(const char *s, size_t len)
{
	for (const char *p = s; p < s + len; p = g_utf8_next_char(p))
		if (g_unichar_isupper(g_utf8_get_char(p)))
			return 1;
	return 0;
}

/*
 * bare_link_end - judge the bare-domain candidate text[start..end).
 * Returns the end of the link (after trimming), or 0 when it is not one:
 * an e-mail address's local part, a sentence run together
 * ("arrived.It" - a capitalised word after an all-lower-case one), a file
 * name, a legal form, or no real top-level domain.
 */
static size_t
bare_link_end(const struct links_ctx *ctx, const char *text, size_t len,
              size_t start, size_t end)
{
	size_t host_end = start, dot;
	char *host;
	int ok;

	while (host_end < end && !is_one_of(text[host_end], ":/?#"))
		host_end++;
	end = trim_end(text, start, end);
	if (end < host_end)
		host_end = end;
	if (host_end == end) {
		/* "first.last+tag@example.com": the local part of an address */
		for (size_t i = end; i < len && i - end <= LOCAL_PART_MAX; i++) {
			if (text[i] == '@')
				return 0;
			if (!g_ascii_isalnum(text[i]) &&
			    !is_one_of(text[i], "!#$%&'*+-/=?^_`{|}~."))
				break;
		}
		/* a sentence run together: drop the capitalised word */
		for (;;) {
			dot = host_end;
			while (dot > start && text[dot - 1] != '.')
				dot--;
			if (dot <= start + 1 ||
			    !is_capitalised(text + dot, host_end - dot) ||
			    has_upper(text + start, dot - 1 - start))
				break;
			host_end = end = dot - 1;
		}
	}
	host = lower_host(text + start, host_end - start);
	ok = bare_host_is_domain(ctx->psl, host, host_end < end);
	g_free(host);
	return ok ? end : 0;
}

/*
 * scan_text - every link written in the part's visible text.  The URL and
 * bare-domain patterns are searched independently and their next matches
 * cached, so the text is walked once; a URL wins over a bare domain that
 * starts at or after it, and cuts one that runs into it.
 */
static void
scan_text(struct links_ctx *ctx, const struct rg_part *part)
{
	const char *text = part->text;
	size_t len = part->text_len, pos = 0;
	size_t us = 0, ue = 0, bs = 0, be = 0;
	int have_url = 0, have_bare = 0;   /* 1 cached, 0 stale, -1 none */
	int rc;

	if (text == NULL)
		return;
	while (pos < len && (want_external(ctx) || want_insecure(ctx))) {
		if (have_url == 0 || (have_url == 1 && us < pos)) {
			rc = rg_match(ctx->scan, RG_PAT_URL, text, len, pos, &us,
			              &ue);
			if (rc < 0)
				return;
			have_url = rc == 1 ? 1 : -1;
		}
		if (have_bare == 0 || (have_bare == 1 && bs < pos)) {
			rc = rg_match(ctx->scan, RG_PAT_BARE_DOMAIN, text, len,
			              pos, &bs, &be);
			if (rc < 0)
				return;
			have_bare = rc == 1 ? 1 : -1;
		}
		if (have_url < 0 && have_bare < 0)
			break;
		if (have_url == 1 && (have_bare < 0 || us <= bs)) {
			report_text(ctx, part, us, trim_end(text, us, ue));
			pos = ue > us ? ue : us + 1;
		} else {
			size_t end = be, link_end;

			if (have_url == 1 && us < end)
				end = us;
			link_end = bare_link_end(ctx, text, len, bs, end);
			if (link_end > bs)
				report_text(ctx, part, bs, link_end);
			pos = end > bs ? end : bs + 1;
		}
	}
}

/* strip_markup_url - url without leading/trailing spaces and controls and
 * without tabs and line breaks inside, as a browser reads it (g_free) */
static char *
strip_markup_url(const char *url)
{
	size_t start = 0, end = strlen(url);
	GString *out;

	while (start < end && (unsigned char)url[start] <= 0x20)
		start++;
	while (end > start && (unsigned char)url[end - 1] <= 0x20)
		end--;
	out = g_string_sized_new(end - start);
	for (size_t i = start; i < end; i++)
		if (url[i] != '\t' && url[i] != '\n' && url[i] != '\r')
			g_string_append_c(out, url[i]);
	return g_string_free(out, FALSE);
}

/* scan_markup - every href, src and CSS url() of the part */
static void
scan_markup(struct links_ctx *ctx, const struct rg_part *part)
{
	for (size_t i = 0; i < part->n_links &&
	     (want_external(ctx) || want_insecure(ctx)); i++) {
		char *url = strip_markup_url(part->links[i].url);
		struct link_facts facts;

		if (classify(ctx, url, strlen(url), 1, &facts)) {
			if (facts.external && want_external(ctx) &&
			    !seen_has(ctx, RG_RULE_EXTERNAL_LINK, facts.key)) {
				rg_report_at(ctx->scan, RG_RULE_EXTERNAL_LINK,
				             part->path, 0, 0, url);
				seen_add(ctx, RG_RULE_EXTERNAL_LINK, facts.key);
				ctx->n_external++;
			}
			if (facts.insecure && want_insecure(ctx) &&
			    !seen_has(ctx, RG_RULE_INSECURE_LINK, facts.key)) {
				rg_report_at(ctx->scan, RG_RULE_INSECURE_LINK,
				             part->path, 0, 0, url);
				seen_add(ctx, RG_RULE_INSECURE_LINK, facts.key);
				ctx->n_insecure++;
			}
			g_free(facts.key);
		}
		g_free(url);
	}
}

void
rg_rules_links(rg_scan *scan, const struct rg_view *view)
{
	struct links_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.scan = scan;
	ctx.psl = scan->policy->psl;
	ctx.settings = &scan->policy->settings;
	ctx.external_on = rg_rule_active(scan, RG_RULE_EXTERNAL_LINK);
	ctx.insecure_on = rg_rule_active(scan, RG_RULE_INSECURE_LINK);
	if (!ctx.external_on && !ctx.insecure_on)
		return;

	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];

		if (part->kind == RG_PART_ATTACHMENT)
			continue;
		ctx.seen = g_hash_table_new_full(g_str_hash, g_str_equal,
		                                 g_free, NULL);
		ctx.n_external = 0;
		ctx.n_insecure = 0;
		scan_text(&ctx, part);
		scan_markup(&ctx, part);
		g_hash_table_destroy(ctx.seen);
		ctx.seen = NULL;
	}
}
