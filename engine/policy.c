/*
 * policy.c - settings with named defaults, and the compiled policy built
 * from them: immutable, reference counted, shared by every thread.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <libxml/parser.h>
#include <gmime/gmime.h>

#include "internal.h"

/* The marketplace's country suffixes (POLICY.md): relay domains are
 * "marketplace.amazon" + suffix, allowed link domains "amazon" + suffix. */
static const char *const marketplace_suffixes[] = {
	".com", ".co.uk", ".de", ".fr", ".it", ".es", ".ca", ".com.mx",
	".co.jp", ".in", ".com.au", ".com.br", ".nl", ".se", ".pl",
	".com.tr", ".ae", ".sa", ".sg", ".com.be", ".eg",
};

static const char *const default_attachment_purposes[] = {
	"invoice", "receipt", "manual", "instructions", "guide", "warranty",
	"guarantee", "rechnung", "facture", "factura", "fattura",
	"anleitung", "garantie", "notice", "garanzia", "manuale",
	"istruzioni", "manual de instrucciones", "mode d'emploi",
	"bedienungsanleitung",
};

static const char *const default_attachment_types[] = {
	"application/pdf", "image/jpeg", "image/png", "text/plain",
};

void
rg_settings_init(struct rg_settings *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < RG_RULE_COUNT; i++)
		s->actions[i] = RG_ACTION_REJECT;
	s->actions[RG_RULE_UNCHECKABLE] = RG_ACTION_QUARANTINE;
	/* a spelling mistake is worth a header, not a bounce */
	s->actions[RG_RULE_SPELLING] = RG_ACTION_WARN;
	/* an order missing from the store: say so, do not bounce the mail
	 * (the last import may be a day old) */
	s->actions[RG_RULE_UNKNOWN_ORDER] = RG_ACTION_WARN;

	for (size_t i = 0; i < G_N_ELEMENTS(marketplace_suffixes); i++) {
		char *relay = g_strconcat("marketplace.amazon",
		                          marketplace_suffixes[i], NULL);
		char *site = g_strconcat("amazon", marketplace_suffixes[i],
		                         NULL);
		rg_strlist_add(&s->relay_domains, relay);
		rg_strlist_add(&s->allowed_link_domains, site);
		g_free(relay);
		g_free(site);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(default_attachment_purposes); i++)
		rg_strlist_add(&s->attachment_names,
		               default_attachment_purposes[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(default_attachment_types); i++)
		rg_strlist_add(&s->attachment_types, default_attachment_types[i]);

	s->max_attachment_bytes = RG_DEFAULT_MAX_ATTACHMENT_BYTES;
	s->max_attachments = RG_DEFAULT_MAX_ATTACHMENTS;
	s->max_message_bytes = RG_DEFAULT_MAX_MESSAGE_BYTES;
	s->memory_spool_bytes = RG_DEFAULT_MEMORY_SPOOL_BYTES;
	s->max_mime_parts = RG_DEFAULT_MAX_MIME_PARTS;
	s->max_mime_depth = RG_DEFAULT_MAX_MIME_DEPTH;
	s->max_header_bytes = RG_DEFAULT_MAX_HEADER_BYTES;
	s->max_header_fields = RG_DEFAULT_MAX_HEADER_FIELDS;
	s->max_text_bytes = RG_DEFAULT_MAX_TEXT_BYTES;
	s->max_html_elements = RG_DEFAULT_MAX_HTML_ELEMENTS;
	s->max_html_depth = RG_DEFAULT_MAX_HTML_DEPTH;
	s->match_limit = RG_DEFAULT_MATCH_LIMIT;
	s->depth_limit = RG_DEFAULT_DEPTH_LIMIT;
	s->cpu_budget_ms = RG_DEFAULT_CPU_BUDGET_MS;
	s->excerpt_chars = RG_DEFAULT_EXCERPT_CHARS;
	s->message_window_days = RG_DEFAULT_MESSAGE_WINDOW_DAYS;
	s->window_from_delivery = 0;
	s->review_min_days = RG_DEFAULT_REVIEW_MIN_DAYS;
	s->review_max_days = RG_DEFAULT_REVIEW_MAX_DAYS;
	s->delivery_estimate_days = RG_DEFAULT_DELIVERY_ESTIMATE_DAYS;
}

/* Every list member of struct rg_settings, for copy and clear. */
static const size_t list_offsets[] = {
	offsetof(struct rg_settings, relay_domains),
	offsetof(struct rg_settings, allowed_link_domains),
	offsetof(struct rg_settings, allowed_emails),
	offsetof(struct rg_settings, allowed_phones),
	offsetof(struct rg_settings, approved_senders),
	offsetof(struct rg_settings, attachment_types),
	offsetof(struct rg_settings, attachment_names),
	offsetof(struct rg_settings, language_accepted),
	offsetof(struct rg_settings, spelling_dictionaries),
	offsetof(struct rg_settings, spelling_words),
};
#define SETTINGS_LIST(s, i) \
	((struct rg_strlist *)((char *)(s) + list_offsets[i]))

void
rg_settings_clear(struct rg_settings *s)
{
	for (size_t i = 0; i < G_N_ELEMENTS(list_offsets); i++)
		rg_strlist_clear(SETTINGS_LIST(s, i));
	rg_phrases_clear(&s->phrases);
}

static void
settings_copy(struct rg_settings *dst, const struct rg_settings *src)
{
	*dst = *src;
	for (size_t i = 0; i < G_N_ELEMENTS(list_offsets); i++) {
		const struct rg_strlist *from = SETTINGS_LIST(src, i);
		struct rg_strlist *to = SETTINGS_LIST(dst, i);

		memset(to, 0, sizeof(*to));
		for (size_t j = 0; j < from->count; j++)
			rg_strlist_add(to, from->items[j]);
	}
	rg_phrases_copy(&dst->phrases, &src->phrases);
}

static pcre2_code *
compile_pattern(enum rg_pattern which, char **error_r)
{
	const char *source = rg_pattern_source(which);
	PCRE2_SIZE offset;
	int code;
	pcre2_code *re;

	re = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
	                   PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &code,
	                   &offset, NULL);
	if (re == NULL) {
		PCRE2_UCHAR message[256];

		pcre2_get_error_message(code, message, sizeof(message));
		*error_r = rg_strdup_printf("built-in pattern %d at offset %zu: "
		                            "%s", (int)which, (size_t)offset,
		                            (const char *)message);
		return NULL;
	}
	/* JIT is an optimisation: without it (no W+X memory) we interpret.
	 * RELAYGATE_NO_JIT=1 turns it off for valgrind, which cannot follow
	 * JIT-generated code and reports false uninitialised reads. */
	if (getenv("RELAYGATE_NO_JIT") == NULL)
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static void
policy_free(rg_policy *policy)
{
	for (unsigned i = 0; i < RG_PAT_COUNT; i++)
		pcre2_code_free(policy->patterns[i]);
	if (policy->psl != NULL && policy->psl != psl_builtin())
		psl_free(policy->psl);
	rg_langid_free(&policy->langid);
	rg_speller_free(&policy->speller);
	rg_phrases_code_free(&policy->phrase_code);
	rg_settings_clear(&policy->settings);
	g_free(policy);
}

rg_policy *
rg_policy_build(const struct rg_settings *settings, char **error_r)
{
	rg_policy *policy = g_new0(rg_policy, 1);

	policy->refcount = 1;
	settings_copy(&policy->settings, settings);
	if (settings->match_limit == 0 || settings->depth_limit == 0) {
		*error_r = g_strdup("match_limit and depth_limit must be > 0");
		policy_free(policy);
		return NULL;
	}
	/* 0 is never "unlimited" */
	if (settings->max_message_bytes == 0 ||
	    settings->max_mime_parts == 0 || settings->max_mime_depth == 0 ||
	    settings->max_header_bytes == 0 ||
	    settings->max_header_fields == 0 ||
	    settings->max_text_bytes == 0 ||
	    settings->max_html_elements == 0 ||
	    settings->max_html_depth == 0 || settings->cpu_budget_ms == 0) {
		*error_r = g_strdup("every limit must be > 0");
		policy_free(policy);
		return NULL;
	}
	if (settings->review_min_days > settings->review_max_days) {
		*error_r = g_strdup("review_min_days must not be after "
		                    "review_max_days");
		policy_free(policy);
		return NULL;
	}
	for (unsigned i = 0; i < RG_PAT_COUNT; i++) {
		policy->patterns[i] = compile_pattern((enum rg_pattern)i,
		                                      error_r);
		if (policy->patterns[i] == NULL) {
			policy_free(policy);
			return NULL;
		}
	}
	if (rg_phrases_compile(policy, error_r) < 0) {
		policy_free(policy);
		return NULL;
	}
	/* language profiles now; dictionaries on first use (they are big) */
	if (rg_langid_new(&policy->settings, &policy->langid, error_r) < 0 ||
	    rg_speller_new(&policy->settings, &policy->speller, error_r) < 0) {
		policy_free(policy);
		return NULL;
	}
	/* the system list (Debian publicsuffix) first, else built in */
	policy->psl = psl_latest(NULL);
	if (policy->psl == NULL)
		policy->psl = (psl_ctx_t *)psl_builtin();
	if (policy->psl == NULL) {
		*error_r = g_strdup("no public suffix list available");
		policy_free(policy);
		return NULL;
	}
	return policy;
}

rg_policy *
rg_policy_ref(rg_policy *policy)
{
	g_atomic_int_inc(&policy->refcount);
	return policy;
}

void
rg_policy_unref(rg_policy **policy)
{
	if (*policy == NULL)
		return;
	if (g_atomic_int_dec_and_test(&(*policy)->refcount))
		policy_free(*policy);
	*policy = NULL;
}

const struct rg_settings *
rg_policy_settings(const rg_policy *policy)
{
	return &policy->settings;
}

int
rg_is_relay_address(const rg_policy *policy, const char *address)
{
	const struct rg_strlist *domains = &policy->settings.relay_domains;
	const char *at = strrchr(address, '@');
	size_t len;

	if (at == NULL)
		return 0;
	at++;
	len = strcspn(at, ">");
	while (len > 0 && at[len - 1] == '.')
		len--;
	for (size_t i = 0; i < domains->count; i++) {
		const char *domain = domains->items[i];
		size_t dlen = strlen(domain);

		if (len == dlen && strncasecmp(at, domain, len) == 0)
			return 1;
		/* subdomain-exact: "x.marketplace.amazon.de", never a suffix
		 * inside a label ("evilmarketplace.amazon.de") */
		if (len > dlen && at[len - dlen - 1] == '.' &&
		    strncasecmp(at + len - dlen, domain, dlen) == 0)
			return 1;
	}
	return 0;
}

void
rg_engine_init(void)
{
	g_mime_init();
	xmlInitParser();
}

void
rg_engine_shutdown(void)
{
	xmlCleanupParser();
	g_mime_shutdown();
}
