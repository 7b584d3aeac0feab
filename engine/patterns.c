/*
 * patterns.c - the PCRE2 sources of the engine's built-in patterns.
 *
 * Each is compiled once per policy with PCRE2_UTF | PCRE2_UCP and JIT, and
 * shared read-only by every scanning thread.
 */
#include "config.h"

#include "internal.h"

static const char *const pattern_sources[RG_PAT_COUNT] = {
	/* 17-digit marketplace order id, NNN-NNNNNNN-NNNNNNN */
	[RG_PAT_ORDER_ID] = "(?<![0-9])[0-9]{3}-[0-9]{7}-[0-9]{7}(?![0-9])",
	/* owned by rules/contact.c */
	[RG_PAT_EMAIL] = "(?!)",
	[RG_PAT_PHONE] = "(?!)",
	/* owned by rules/emoji.c */
	[RG_PAT_EMOJI] = "(?!)",
	[RG_PAT_EMOTICON] = "(?!)",
	/* owned by rules/links.c */
	[RG_PAT_URL] = "(?!)",
	[RG_PAT_BARE_DOMAIN] = "(?!)",
};

const char *
rg_pattern_source(enum rg_pattern pattern)
{
	return pattern_sources[pattern];
}
