/*
 * phrases.c - the phrase rules: social-handle, off-platform, promotional,
 * review-incentive, review-manipulation, thank-you-only,
 * order-confirmation, opt-out, subject-misuse and sensitive-content.
 *
 * The phrases are data (settings.phrases, from conf/rules/LANG.conf; the
 * format is documented at the top of conf/rules/en.conf).  Per rule there
 * are four kinds of list:
 *   phrases   each match breaks the rule;
 *   together  groups of lists: a sentence with a match of every list of a
 *             group breaks the rule ("refund" and "review"); nearby: the
 *             same within a sentence and the next ("your negative review.
 *             Please remove it");
 *   when      the rule is broken once per message when one of these
 *             appears and none of
 *   unless    appears anywhere in the message (thank-you-only: thanks, and
 *             no order purpose).  An "unless" match inside a "when" match
 *             does not count ("if you have any questions" is no purpose).
 * subject-misuse reads phrases and when in the subject only, and any '?'
 * counts as an "unless" match (the message asks something).
 *
 * All languages are matched together: one PCRE2 alternation per rule and
 * kind of list (a group's lists one each, per language).  The alternation
 * is factored on the fragments' literal prefixes (a trie: "coupon",
 * "coupon code" and "coupons" share "coupon"), which keeps it small and
 * makes a failed attempt at a position cost about one branch per letter
 * instead of one per phrase.  PCRE2 as built by Debian (link size 2)
 * caps a compiled pattern at 64 KiB, so a very long list is split into as
 * few chunks as fit, matched side by side.
 *
 * Matching is on the normalised text (normalize.h): lower case, invisible
 * characters gone, look-alikes folded, spaced-out and leet-spelt words
 * joined.  Findings point at the original text.  Quoted text of an
 * earlier message in a reply (rg_part_is_quoted) is the buyer's wording:
 * no match starting in it counts, for any kind of list.  A message that
 * is not a reply quotes no buyer: its "> " lines are judged like the rest.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"
#include "normalize.h"

/* At most this many findings per rule and part. */
#define MAX_FINDINGS_PER_PART 50
/* Literal prefix characters shared in the trie; deeper ones stay in the
 * fragment (bounds the nesting of groups in the pattern). */
#define TRIE_DEPTH_MAX 24
/* Fragment bytes per compiled chunk before trying it; a chunk PCRE2 finds
 * too large is halved until it fits. */
#define CHUNK_SOURCE_MAX (40 * 1024)

#define PHRASE_FLAGS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | \
                      PCRE2_NO_AUTO_CAPTURE | PCRE2_NEVER_BACKSLASH_C)
/* "not inside a word": at a start or end of a word, or between two
 * non-word characters (so "[important]" and "?" work as phrases too) */
#define NOT_IN_WORD "(?:(?<!\\w)|(?!\\w))"

static const char *const list_names[] = { "phrases", "when", "unless" };

/*
 * ---------------------------------------------------------------------
 * Settings: the phrase lists as configured
 * ---------------------------------------------------------------------
 */

int
rg_phrase_is_rule(rg_rule rule)
{
	return rule >= RG_RULE_SOCIAL_HANDLE &&
	       rule <= RG_RULE_SENSITIVE_CONTENT;
}

struct rg_phrase_lang *
rg_phrases_add_lang(struct rg_phrases *phrases, const char *name)
{
	struct rg_phrase_lang *lang;

	phrases->langs = g_realloc_n(phrases->langs, phrases->count + 1,
	                             sizeof(*phrases->langs));
	lang = &phrases->langs[phrases->count++];
	memset(lang, 0, sizeof(*lang));
	lang->name = g_strdup(name);
	lang->word_boundaries = 1;
	return lang;
}

struct rg_phrase_group *
rg_phrase_group_add(struct rg_phrase_rule *rule, unsigned sentences)
{
	struct rg_phrase_group *group;

	rule->groups = g_realloc_n(rule->groups, rule->n_groups + 1,
	                           sizeof(*rule->groups));
	group = &rule->groups[rule->n_groups++];
	memset(group, 0, sizeof(*group));
	group->sentences = sentences;
	return group;
}

static void
rule_clear(struct rg_phrase_rule *rule)
{
	rg_strlist_clear(&rule->phrases);
	rg_strlist_clear(&rule->when);
	rg_strlist_clear(&rule->unless);
	for (size_t i = 0; i < rule->n_groups; i++)
		for (unsigned j = 0; j < RG_PHRASE_GROUP_LISTS; j++)
			rg_strlist_clear(&rule->groups[i].lists[j]);
	g_free(rule->groups);
	memset(rule, 0, sizeof(*rule));
}

void
rg_phrases_clear(struct rg_phrases *phrases)
{
	for (size_t i = 0; i < phrases->count; i++) {
		struct rg_phrase_lang *lang = &phrases->langs[i];

		for (unsigned r = 0; r < RG_RULE_COUNT; r++)
			rule_clear(&lang->rules[r]);
		g_free(lang->name);
	}
	g_free(phrases->langs);
	memset(phrases, 0, sizeof(*phrases));
}

static void
list_copy(struct rg_strlist *dst, const struct rg_strlist *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->count; i++)
		rg_strlist_add(dst, src->items[i]);
}

void
rg_phrases_copy(struct rg_phrases *dst, const struct rg_phrases *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->count; i++) {
		const struct rg_phrase_lang *from = &src->langs[i];
		struct rg_phrase_lang *to = rg_phrases_add_lang(dst, from->name);

		to->word_boundaries = from->word_boundaries;
		for (unsigned r = 0; r < RG_RULE_COUNT; r++) {
			const struct rg_phrase_rule *fr = &from->rules[r];
			struct rg_phrase_rule *tr = &to->rules[r];

			list_copy(&tr->phrases, &fr->phrases);
			list_copy(&tr->when, &fr->when);
			list_copy(&tr->unless, &fr->unless);
			for (size_t g = 0; g < fr->n_groups; g++) {
				const struct rg_phrase_group *fg = &fr->groups[g];
				struct rg_phrase_group *tg =
					rg_phrase_group_add(tr, fg->sentences);

				tg->n_lists = fg->n_lists;
				for (unsigned j = 0; j < RG_PHRASE_GROUP_LISTS; j++)
					list_copy(&tg->lists[j], &fg->lists[j]);
			}
		}
	}
}

/* forbidden - a construct that would reach outside the fragment in the
 * joined alternation: backtracking verbs and option settings "(*...)",
 * recursion and subroutine calls */
static const char *
forbidden(const char *fragment)
{
	static const struct {
		const char *token, *why;
	} tokens[] = {
		{ "(*", "backtracking verbs and (*...) options are not allowed" },
		{ "(?R", "recursion is not allowed" },
		{ "(?0", "recursion is not allowed" },
		{ "(?&", "subroutine calls are not allowed" },
		{ "(?P>", "subroutine calls are not allowed" },
		{ "(?C", "callouts are not allowed" },
		{ "\\g<", "subroutine calls are not allowed" },
		{ "\\g'", "subroutine calls are not allowed" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(tokens); i++)
		if (strstr(fragment, tokens[i].token) != NULL)
			return tokens[i].why;
	return NULL;
}

char *
rg_phrase_check(const char *fragment)
{
	PCRE2_SIZE offset;
	uint32_t captures = 0, min_length = 0;
	const char *why;
	pcre2_code *re;
	int code;

	if (fragment == NULL || fragment[0] == '\0')
		return g_strdup("a phrase must not be empty");
	if (strlen(fragment) > RG_PHRASE_FRAGMENT_MAX)
		return rg_strdup_printf("a phrase must be at most %u bytes",
		                        (unsigned)RG_PHRASE_FRAGMENT_MAX);
	if ((why = forbidden(fragment)) != NULL)
		return g_strdup(why);
	/* on its own, and as it is joined: in a group.  A fragment that
	 * compiles only one way would change its neighbours: "a)|(b" in a
	 * group, or an extended-mode "#" comment eating the closing ")". */
	for (int wrapped = 0; wrapped <= 1; wrapped++) {
		char *source = wrapped ? g_strconcat("(?:", fragment, ")", NULL)
		                       : g_strdup(fragment);
		size_t len = strlen(fragment);

		re = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
		                   PHRASE_FLAGS, &code, &offset, NULL);
		g_free(source);
		if (re == NULL) {
			PCRE2_UCHAR message[256];

			pcre2_get_error_message(code, message, sizeof(message));
			if (wrapped)
				offset = offset >= 3 ? offset - 3 : 0;
			return rg_strdup_printf("PCRE2 error at offset %zu: %s",
			                        (size_t)offset < len ? (size_t)offset
			                                              : len,
			                        (const char *)message);
		}
		if (!wrapped) {
			(void)pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT,
			                         &captures);
			(void)pcre2_pattern_info(re, PCRE2_INFO_MINLENGTH,
			                         &min_length);
		}
		pcre2_code_free(re);
	}
	if (captures > 0)
		return g_strdup("named groups are not allowed (use (?:...))");
	if (min_length == 0)
		return g_strdup("the phrase can match empty text");
	return NULL;
}

/*
 * ---------------------------------------------------------------------
 * Compiling: fragments into factored alternations
 * ---------------------------------------------------------------------
 */

/* One or more compiled chunks that together are one alternation. */
struct regex_set {
	pcre2_code **chunks;
	size_t n;
};

struct group_code {
	struct regex_set lists[RG_PHRASE_GROUP_LISTS];
	unsigned n_lists;
	unsigned sentences;
};

struct rule_code {
	struct regex_set lists[3];          /* phrases, when, unless */
	struct group_code *groups;
	size_t n_groups;
};

enum { L_PHRASES, L_WHEN, L_UNLESS };

struct rg_phrase_code {
	struct rule_code rules[RG_RULE_COUNT];
	int any;                            /* at least one pattern */
};

/* A fragment on its way into an alternation. */
struct entry {
	const char *fragment;
	int bounded;                        /* word boundaries around it */
	char *key;                          /* literal prefix, lower case */
	const char *rest;                   /* the fragment after the prefix */
};

static int
is_meta(char c)
{
	return c != '\0' && strchr("\\^$.[]|()?*+{}", c) != NULL;
}

static int
is_quantifier(char c)
{
	return c == '?' || c == '*' || c == '+' || c == '{';
}

/* top_level_bar - the fragment has an alternation outside any group, or
 * quoting (\Q) that the prefix scan does not follow */
static int
top_level_bar(const char *s)
{
	int depth = 0;

	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\\') {
			if (s[i + 1] == 'Q')
				return 1;
			if (s[i + 1] != '\0')
				i++;
		} else if (s[i] == '[') {
			/* a class: "]" first is literal; skip [:name:] */
			i++;
			if (s[i] == '^')
				i++;
			if (s[i] == ']')
				i++;
			while (s[i] != '\0' && s[i] != ']') {
				if (s[i] == '\\' && s[i + 1] != '\0')
					i++;
				else if (s[i] == '[' && s[i + 1] == ':') {
					const char *end = strstr(s + i, ":]");

					if (end != NULL)
						i = (size_t)(end - s) + 1;
				}
				i++;
			}
			if (s[i] == '\0')
				return 1;
		} else if (s[i] == '(') {
			if (s[i + 1] == '?' && s[i + 2] == '#') {
				/* a comment runs to the next ')' */
				const char *end = strchr(s + i, ')');

				if (end == NULL)
					return 1;
				i = (size_t)(end - s);
			} else {
				depth++;
			}
		} else if (s[i] == ')') {
			depth--;
		} else if (s[i] == '|' && depth == 0) {
			return 1;
		}
	}
	return 0;
}

/* literal_prefix - the fragment's leading literal characters that no
 * quantifier applies to, lower-cased, into e->key; e->rest after them */
static void
literal_prefix(struct entry *e)
{
	const char *s = e->fragment;
	GString *key = g_string_new(NULL);
	size_t i = 0;
	unsigned chars = 0;

	if (!top_level_bar(s)) {
		while (s[i] != '\0' && chars < TRIE_DEPTH_MAX) {
			gunichar c;
			size_t n;

			if (s[i] == '\\') {
				/* an escaped punctuation character */
				if (s[i + 1] == '\0' || g_ascii_isalnum(s[i + 1]) ||
				    (unsigned char)s[i + 1] >= 0x80)
					break;
				c = (gunichar)(unsigned char)s[i + 1];
				n = 2;
			} else if (is_meta(s[i])) {
				break;
			} else {
				c = g_utf8_get_char(s + i);
				n = (size_t)(g_utf8_next_char(s + i) - (s + i));
			}
			if (is_quantifier(s[i + n]))
				break;
			g_string_append_unichar(key, g_unichar_tolower(c));
			i += n;
			chars++;
		}
	}
	e->key = g_string_free(key, FALSE);
	e->rest = s + i;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if (x->bounded != y->bounded)
		return y->bounded - x->bounded;
	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	return strcmp(x->rest, y->rest);
}

static void
append_literal(GString *out, const char *s, size_t n)
{
	if (n == 1 && !g_ascii_isalnum(s[0]))
		g_string_append_c(out, '\\');
	g_string_append_len(out, s, (gssize)n);
}

/* utf8_len - bytes of the character at s */
static size_t
utf8_len(const char *s)
{
	return (size_t)(g_utf8_next_char(s) - s);
}

/*
 * emit_trie - the alternation of entries e[lo..hi), which share the
 * first depth bytes of their keys: the branches for each next character
 * (longest first), then the fragments' rests, then the empty rest.
 */
static void
emit_trie(GString *out, const struct entry *e, size_t lo, size_t hi,
          size_t depth)
{
	size_t alternatives = 0, i = lo;
	int empty = 0;
	gsize open = out->len;

	g_string_append(out, "(?:");
	/* entries whose key ends here sort first */
	while (i < hi && e[i].key[depth] == '\0')
		i++;
	/* a branch per next character */
	for (size_t j = i; j < hi;) {
		size_t n = utf8_len(e[j].key + depth), k = j + 1;

		while (k < hi && strncmp(e[k].key + depth, e[j].key + depth,
		                         n) == 0)
			k++;
		if (alternatives++ > 0)
			g_string_append_c(out, '|');
		append_literal(out, e[j].key + depth, n);
		emit_trie(out, e, j, k, depth + n);
		j = k;
	}
	/* the rests of fragments whose prefix ends here */
	for (size_t j = lo; j < i; j++) {
		if (j > lo && strcmp(e[j].rest, e[j - 1].rest) == 0)
			continue;           /* the same fragment twice */
		if (e[j].rest[0] == '\0') {
			empty = 1;
			continue;
		}
		if (alternatives++ > 0)
			g_string_append_c(out, '|');
		g_string_append_printf(out, "(?:%s)", e[j].rest);
	}
	if (empty && alternatives > 0)
		g_string_append_c(out, '|');
	if (alternatives + (size_t)empty <= 1) {
		/* one alternative: no group needed around it */
		g_string_erase(out, (gssize)open, 3);
		return;
	}
	g_string_append_c(out, ')');
}

/* source - the pattern for e[lo..hi): the word-bounded entries (sorted
 * first) inside boundary assertions, then the others */
static char *
source(const struct entry *e, size_t lo, size_t hi)
{
	GString *out = g_string_new(NULL);
	size_t mid = lo;

	while (mid < hi && e[mid].bounded)
		mid++;
	if (mid > lo) {
		g_string_append(out, NOT_IN_WORD "(?:");
		emit_trie(out, e, lo, mid, 0);
		g_string_append(out, ")" NOT_IN_WORD);
	}
	if (hi > mid) {
		if (mid > lo)
			g_string_append_c(out, '|');
		g_string_append(out, "(?:");
		emit_trie(out, e, mid, hi, 0);
		g_string_append_c(out, ')');
	}
	return g_string_free(out, FALSE);
}

static void
set_add_chunk(struct regex_set *set, pcre2_code *re)
{
	set->chunks = g_realloc_n(set->chunks, set->n + 1,
	                          sizeof(*set->chunks));
	set->chunks[set->n++] = re;
}

/* compile_range - e[lo..hi) into one chunk, or halves of it when PCRE2
 * finds it too large; -1 with *error_r on any other error */
static int
compile_range(struct regex_set *set, const struct entry *e, size_t lo,
              size_t hi, const char *what, char **error_r)
{
	char *src = source(e, lo, hi);
	PCRE2_SIZE offset;
	pcre2_code *re;
	int code;

	re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
	                   PHRASE_FLAGS, &code, &offset, NULL);
	g_free(src);
	if (re == NULL && code == PCRE2_ERROR_PATTERN_TOO_LARGE &&
	    hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		return compile_range(set, e, lo, mid, what, error_r) < 0 ||
		       compile_range(set, e, mid, hi, what, error_r) < 0
		       ? -1 : 0;
	}
	if (re == NULL) {
		PCRE2_UCHAR message[256];

		pcre2_get_error_message(code, message, sizeof(message));
		*error_r = rg_strdup_printf("phrases: %s: PCRE2 error at "
		                            "offset %zu of the joined pattern: "
		                            "%s", what, (size_t)offset,
		                            (const char *)message);
		return -1;
	}
	/* JIT is an optimisation; RELAYGATE_NO_JIT=1 for valgrind */
	if (getenv("RELAYGATE_NO_JIT") == NULL)
		(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	set_add_chunk(set, re);
	return 0;
}

/* class_end - the index after the character class that starts at s[i]
 * ('['), or 0 when it does not end */
static size_t
class_end(const char *s, size_t i)
{
	i++;
	if (s[i] == '^')
		i++;
	if (s[i] == ']')
		i++;
	while (s[i] != '\0' && s[i] != ']') {
		if (s[i] == '\\' && s[i + 1] != '\0') {
			i++;
		} else if (s[i] == '[' && s[i + 1] == ':') {
			const char *end = strstr(s + i, ":]");

			if (end != NULL)
				i = (size_t)(end - s) + 1;
		}
		i++;
	}
	return s[i] == ']' ? i + 1 : 0;
}

/*
 * expand - the fragment with its leading group distributed over the rest:
 * "(?:discount|promo) codes?" is "discount codes?" and "promo codes?",
 * "(?:our )?range" is "our range" and "range" (the group's alternatives
 * in their order, the empty one last, as PCRE2 tries them).  They match
 * what the fragment matches, and the trie can factor their literal
 * beginnings: a fragment that starts with a group is otherwise tried
 * alternative by alternative at every position of the text, which made
 * up most of the phrase rules' time.  Groups with options, lookarounds,
 * \Q or a quantifier other than a plain "?" stay as they are; so does a
 * fragment that would become more than EXPAND_MAX.  Adds malloc'd
 * strings to out; returns how many.
 */
#define EXPAND_DEPTH_MAX 3
#define EXPAND_MAX 64

static size_t
expand(const char *frag, GPtrArray *out, unsigned depth)
{
	size_t bars[EXPAND_MAX], n_bars = 0, close = 0, start = 3, added = 0;
	int nesting = 0, optional;

	if (depth > EXPAND_DEPTH_MAX || strncmp(frag, "(?:", 3) != 0 ||
	    top_level_bar(frag))
		goto keep;
	for (size_t i = 3; frag[i] != '\0' && close == 0; i++) {
		switch (frag[i]) {
		case '\\':
			if (frag[i + 1] == 'Q' || frag[i + 1] == '\0')
				goto keep;
			i++;
			break;
		case '[': {
			size_t end = class_end(frag, i);

			if (end == 0)
				goto keep;
			i = end - 1;
			break;
		}
		case '(':
			if (frag[i + 1] == '?' && frag[i + 2] != ':')
				goto keep;
			nesting++;
			break;
		case ')':
			if (nesting-- == 0)
				close = i;
			break;
		case '|':
			if (nesting == 0) {
				if (n_bars == EXPAND_MAX - 1)
					goto keep;
				bars[n_bars++] = i;
			}
			break;
		default:
			break;
		}
	}
	if (close == 0)
		goto keep;
	/* "?" (greedy): the group or nothing; any other quantifier: keep */
	optional = frag[close + 1] == '?' && frag[close + 2] != '?' &&
	           frag[close + 2] != '+';
	if ((!optional && is_quantifier(frag[close + 1])) ||
	    (!optional && n_bars == 0))
		goto keep;
	{
		const char *rest = frag + close + 1 + (optional ? 1 : 0);
		GPtrArray *mine = g_ptr_array_new_with_free_func(g_free);

		for (size_t k = 0; k <= n_bars; k++) {
			size_t end = k < n_bars ? bars[k] : close;
			char *alt = g_strdup_printf("%.*s%s", (int)(end - start),
			                            frag + start, rest);

			start = end + 1;
			if (alt[0] != '\0')
				added += expand(alt, mine, depth + 1);
			g_free(alt);
		}
		if (optional && rest[0] != '\0')
			added += expand(rest, mine, depth + 1);
		if (added == 0 || added > EXPAND_MAX) {
			g_ptr_array_free(mine, TRUE);
			goto keep;
		}
		for (guint k = 0; k < mine->len; k++)
			g_ptr_array_add(out, g_strdup(mine->pdata[k]));
		g_ptr_array_free(mine, TRUE);
		return added;
	}
keep:
	g_ptr_array_add(out, g_strdup(frag));
	return 1;
}

/*
 * digit_lookahead - frag with each "\d" outside a class that must match
 * a character written "(?=(?-i:[0-9\x{80}-\x{10ffff}]))\d": the same
 * match (every Unicode decimal digit is 0-9 or beyond ASCII), but PCRE2
 * can then list the bytes a match may start with and skip the others,
 * which it cannot for a Unicode property (\d under PCRE2_UCP).  Without
 * "(?-i:" PCRE2 would fold the case of every character of the range,
 * a million of them, at each use.  A "\d" that may match nothing (\d?,
 * \d*, \d{0,...}) and fragments with \Q or a lookbehind stay as they
 * are.  Returns a malloc'd string.
 */
static char *
digit_lookahead(const char *frag)
{
	GString *out;

	if (strstr(frag, "\\d") == NULL || strstr(frag, "\\Q") != NULL ||
	    strstr(frag, "(?<") != NULL)
		return g_strdup(frag);
	out = g_string_new(NULL);
	for (size_t i = 0; frag[i] != '\0'; i++) {
		if (frag[i] == '[') {
			size_t end = class_end(frag, i);

			if (end == 0) {
				g_string_append(out, frag + i);
				break;
			}
			g_string_append_len(out, frag + i, (gssize)(end - i));
			i = end - 1;
		} else if (frag[i] == '\\' && frag[i + 1] != '\0') {
			const char *q = frag + i + 2;

			if (frag[i + 1] == 'd' && *q != '?' && *q != '*' &&
			    !(q[0] == '{' && (q[1] == '0' || q[1] == ',')))
				g_string_append(out, "(?=(?-i:[0-9\\x{80}-"
				                "\\x{10ffff}]))");
			g_string_append_len(out, frag + i, 2);
			i++;
		} else {
			g_string_append_c(out, frag[i]);
		}
	}
	return g_string_free(out, FALSE);
}

/* build_set - the entries as one alternation (in chunks) */
static int
build_set(struct regex_set *set, struct entry *given, size_t n_given,
          const char *what, char **error_r)
{
	GArray *all = g_array_new(FALSE, FALSE, sizeof(struct entry));
	GPtrArray *owned = g_ptr_array_new_with_free_func(g_free);
	size_t lo = 0, bytes = 0, n;
	struct entry *e;
	int rc = 0;

	for (size_t i = 0; i < n_given; i++) {
		guint first = owned->len;

		expand(given[i].fragment, owned, 0);
		for (guint k = first; k < owned->len; k++) {
			struct entry x = given[i];
			char *f = digit_lookahead(owned->pdata[k]);

			g_free(owned->pdata[k]);
			owned->pdata[k] = f;
			x.fragment = f;
			g_array_append_val(all, x);
		}
	}
	e = (struct entry *)(void *)all->data;
	n = all->len;
	if (n == 0) {
		g_array_free(all, TRUE);
		g_ptr_array_free(owned, TRUE);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		literal_prefix(&e[i]);
	qsort(e, n, sizeof(*e), entry_cmp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		bytes += strlen(e[i].fragment) + 8;
		if (bytes > CHUNK_SOURCE_MAX && i > lo) {
			rc = compile_range(set, e, lo, i, what, error_r);
			lo = i;
			bytes = strlen(e[i].fragment) + 8;
		}
	}
	if (rc == 0)
		rc = compile_range(set, e, lo, n, what, error_r);
	for (size_t i = 0; i < n; i++)
		g_free(e[i].key);
	g_array_free(all, TRUE);
	g_ptr_array_free(owned, TRUE);
	return rc;
}

static void
set_free(struct regex_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		pcre2_code_free(set->chunks[i]);
	g_free(set->chunks);
	memset(set, 0, sizeof(*set));
}

void
rg_phrases_code_free(struct rg_phrase_code **code)
{
	if (*code == NULL)
		return;
	for (unsigned r = 0; r < RG_RULE_COUNT; r++) {
		struct rule_code *rc = &(*code)->rules[r];

		for (unsigned k = 0; k < G_N_ELEMENTS(rc->lists); k++)
			set_free(&rc->lists[k]);
		for (size_t g = 0; g < rc->n_groups; g++)
			for (unsigned j = 0; j < RG_PHRASE_GROUP_LISTS; j++)
				set_free(&rc->groups[g].lists[j]);
		g_free(rc->groups);
	}
	g_free(*code);
	*code = NULL;
}

/* check_list - every fragment of one configured list */
static int
check_list(const struct rg_strlist *list, const char *where,
           char **error_r)
{
	for (size_t i = 0; i < list->count; i++) {
		char *why = rg_phrase_check(list->items[i]);

		if (why != NULL) {
			*error_r = rg_strdup_printf("phrases: %s, item %zu "
			                            "\"%s\": %s", where, i + 1,
			                            list->items[i], why);
			g_free(why);
			return -1;
		}
	}
	return 0;
}

/* check_all - every fragment, so that an error names its place */
static int
check_all(const struct rg_phrases *phrases, char **error_r)
{
	for (size_t l = 0; l < phrases->count; l++) {
		const struct rg_phrase_lang *lang = &phrases->langs[l];

		for (unsigned r = 0; r < RG_RULE_COUNT; r++) {
			const struct rg_phrase_rule *pr = &lang->rules[r];
			const struct rg_strlist *lists[3] = {
				&pr->phrases, &pr->when, &pr->unless
			};
			int bad = 0;

			if (!rg_phrase_is_rule((rg_rule)r) &&
			    (pr->phrases.count || pr->when.count ||
			     pr->unless.count || pr->n_groups)) {
				*error_r = rg_strdup_printf(
					"phrases: %s: %s takes no phrases",
					lang->name, rg_rule_name((rg_rule)r));
				return -1;
			}
			for (unsigned k = 0; k < 3 && !bad; k++) {
				char *where = rg_strdup_printf(
					"%s: %s: %s", lang->name,
					rg_rule_name((rg_rule)r), list_names[k]);

				bad = check_list(lists[k], where, error_r) < 0;
				g_free(where);
			}
			for (size_t g = 0; g < pr->n_groups && !bad; g++) {
				const struct rg_phrase_group *grp = &pr->groups[g];

				if (grp->n_lists < 2 ||
				    grp->n_lists > RG_PHRASE_GROUP_LISTS ||
				    grp->sentences < 1 || grp->sentences > 2) {
					*error_r = rg_strdup_printf(
						"phrases: %s: %s: group %zu must "
						"have 2 to %d lists", lang->name,
						rg_rule_name((rg_rule)r), g + 1,
						RG_PHRASE_GROUP_LISTS);
					return -1;
				}
				for (unsigned j = 0; j < grp->n_lists && !bad; j++) {
					char *where = rg_strdup_printf(
						"%s: %s: %s %zu, list %u",
						lang->name, rg_rule_name((rg_rule)r),
						grp->sentences == 1 ? "together"
						                    : "nearby",
						g + 1, j + 1);

					bad = check_list(&grp->lists[j], where,
					                 error_r) < 0;
					g_free(where);
				}
			}
			if (bad)
				return -1;
		}
	}
	return 0;
}

static void
add_entries(GArray *entries, const struct rg_strlist *list, int bounded)
{
	for (size_t i = 0; i < list->count; i++) {
		struct entry e = { list->items[i], bounded, NULL, NULL };

		g_array_append_val(entries, e);
	}
}

int
rg_phrases_compile(rg_policy *policy, char **error_r)
{
	const struct rg_phrases *phrases = &policy->settings.phrases;
	struct rg_phrase_code *code;
	GArray *entries;
	int rc = 0;

	if (phrases->count == 0)
		return 0;
	if (check_all(phrases, error_r) < 0)
		return -1;
	code = g_new0(struct rg_phrase_code, 1);
	entries = g_array_new(FALSE, FALSE, sizeof(struct entry));
	for (unsigned r = 0; r < RG_RULE_COUNT && rc == 0; r++) {
		struct rule_code *rcode = &code->rules[r];

		if (!rg_phrase_is_rule((rg_rule)r))
			continue;
		/* phrases, when, unless: every language in one */
		for (unsigned k = 0; k < 3 && rc == 0; k++) {
			char *what;

			g_array_set_size(entries, 0);
			for (size_t l = 0; l < phrases->count; l++) {
				const struct rg_phrase_rule *pr =
					&phrases->langs[l].rules[r];
				const struct rg_strlist *list =
					k == L_PHRASES ? &pr->phrases
					: k == L_WHEN ? &pr->when : &pr->unless;

				add_entries(entries, list,
				            phrases->langs[l].word_boundaries);
			}
			what = rg_strdup_printf("%s: %s",
			                        rg_rule_name((rg_rule)r),
			                        list_names[k]);
			rc = build_set(&rcode->lists[k],
			               (struct entry *)(void *)entries->data,
			               entries->len, what, error_r);
			g_free(what);
		}
		/* groups: each language's own */
		for (size_t l = 0; l < phrases->count && rc == 0; l++) {
			const struct rg_phrase_lang *lang = &phrases->langs[l];
			const struct rg_phrase_rule *pr = &lang->rules[r];

			for (size_t g = 0; g < pr->n_groups && rc == 0; g++) {
				const struct rg_phrase_group *grp = &pr->groups[g];
				struct group_code *gc;

				rcode->groups = g_realloc_n(rcode->groups,
				                            rcode->n_groups + 1,
				                            sizeof(*rcode->groups));
				gc = &rcode->groups[rcode->n_groups++];
				memset(gc, 0, sizeof(*gc));
				gc->n_lists = grp->n_lists;
				gc->sentences = grp->sentences;
				for (unsigned j = 0; j < grp->n_lists && rc == 0;
				     j++) {
					char *what = rg_strdup_printf(
						"%s: %s: group %zu, list %u",
						lang->name,
						rg_rule_name((rg_rule)r), g + 1,
						j + 1);

					g_array_set_size(entries, 0);
					add_entries(entries, &grp->lists[j],
					            lang->word_boundaries);
					rc = build_set(&gc->lists[j],
					               (struct entry *)(void *)
					               entries->data,
					               entries->len, what, error_r);
					g_free(what);
				}
			}
		}
		for (unsigned k = 0; k < 3; k++)
			if (rcode->lists[k].n > 0)
				code->any = 1;
		if (rcode->n_groups > 0)
			code->any = 1;
	}
	g_array_free(entries, TRUE);
	if (rc < 0) {
		rg_phrases_code_free(&code);
		return -1;
	}
	policy->phrase_code = code;
	return 0;
}

/*
 * ---------------------------------------------------------------------
 * Scanning
 * ---------------------------------------------------------------------
 */

/* A text part and its normalised text. */
struct text {
	const struct rg_part *part;
	int honour_quotes;       /* a reply: quoted text is the buyer's */
	struct rg_norm norm;
	uint32_t *sentences;     /* starts of sentences in norm.text */
	size_t n_sentences;
};

/* A match in normalised text. */
struct hit {
	size_t start, end;
	size_t sentence;
};

/* Walks the matches of one regex_set in order, chunks side by side. */
struct walk {
	rg_scan *scan;
	const struct regex_set *set;
	const struct text *t;
	size_t pos;
	struct chunk_state {
		int state;           /* 0: search, 1: have a match, 2: done */
		size_t start, end;
	} *chunks;
};

static void
walk_init(struct walk *w, rg_scan *scan, const struct regex_set *set,
          const struct text *t)
{
	w->scan = scan;
	w->set = set;
	w->t = t;
	w->pos = 0;
	w->chunks = g_new0(struct chunk_state, set->n);
}

static void
walk_done(struct walk *w)
{
	g_free(w->chunks);
	w->chunks = NULL;
}

/* chunk_search - the next match of one chunk at or after pos */
static void
chunk_search(struct walk *w, size_t k)
{
	struct chunk_state *c = &w->chunks[k];
	rg_scan *scan = w->scan;
	PCRE2_SIZE *ovector;
	int rc;

	/* past the end, or the CPU budget spent */
	if (w->pos >= w->t->norm.len || rg_budget_tick(scan)) {
		c->state = 2;
		return;
	}
	rc = pcre2_match(w->set->chunks[k], (PCRE2_SPTR)w->t->norm.text,
	                 w->t->norm.len, w->pos, PCRE2_NO_UTF_CHECK,
	                 scan->match_data, scan->match_context);
	if (rc == PCRE2_ERROR_NOMATCH) {
		c->state = 2;
		return;
	}
	if (rc < 0) {
		/* the match or depth limit: reported once per scan */
		rg_report_match_error(scan, rc, "a configured phrase");
		c->state = 2;
		return;
	}
	ovector = pcre2_get_ovector_pointer(scan->match_data);
	c->start = ovector[0];
	c->end = ovector[1];
	c->state = 1;
}

/* walk_next - the leftmost (then longest) next match of any chunk,
 * not overlapping the previous one; 0 when there is none */
static int
walk_next(struct walk *w, size_t *start_r, size_t *end_r)
{
	size_t best = SIZE_MAX;

	for (size_t k = 0; k < w->set->n; k++) {
		struct chunk_state *c = &w->chunks[k];

		if (c->state == 1 && c->start < w->pos)
			c->state = 0;
		if (c->state == 0)
			chunk_search(w, k);
		if (c->state != 1)
			continue;
		if (best == SIZE_MAX || c->start < w->chunks[best].start ||
		    (c->start == w->chunks[best].start &&
		     c->end > w->chunks[best].end))
			best = k;
	}
	if (best == SIZE_MAX)
		return 0;
	*start_r = w->chunks[best].start;
	*end_r = w->chunks[best].end;
	/* no fragment matches empty text (rg_phrase_check); still never
	 * stand still */
	if (*end_r > *start_r)
		w->pos = *end_r;
	else
		w->pos = *start_r + utf8_len(w->t->norm.text + *start_r);
	return 1;
}

/* orig_span - the original bytes of a match */
static void
orig_span(const struct text *t, size_t start, size_t end, size_t *s_r,
          size_t *e_r)
{
	rg_norm_span(&t->norm, t->part->text, t->part->text_len, start, end,
	             s_r, e_r);
}

static int
quoted(const struct text *t, size_t start)
{
	return t->honour_quotes && t->part->n_quoted > 0 &&
	       rg_part_is_quoted(t->part, t->norm.map[start]);
}

/* walk_next_own - the next match that is not in quoted text */
static int
walk_next_own(struct walk *w, size_t *start_r, size_t *end_r)
{
	while (walk_next(w, start_r, end_r))
		if (!quoted(w->t, *start_r))
			return 1;
	return 0;
}

static void
report(rg_scan *scan, rg_rule rule, const struct text *t, size_t start,
       size_t end)
{
	size_t s, e;

	orig_span(t, start, end, &s, &e);
	rg_report(scan, rule, t->part, s, e - s);
}

/* sentences - where sentences start: after . ! ? followed by a blank, a
 * closing quote or the end; after 。; after a blank line */
static void
find_sentences(struct text *t)
{
	const char *s = t->norm.text;
	size_t len = t->norm.len, n = 1, cap = 16;

	if (t->sentences != NULL)
		return;
	t->sentences = g_new(uint32_t, cap);
	t->sentences[0] = 0;
	for (size_t i = 0; i < len; i++) {
		size_t next = 0;

		if (s[i] == '\n') {
			next = i + 1;
		} else if (s[i] == '.' || s[i] == '!' || s[i] == '?') {
			size_t j = i + 1;

			while (j < len && (s[j] == '"' || s[j] == '\'' ||
			                   s[j] == ')'))
				j++;
			if (j == len || s[j] == ' ' || s[j] == '\n')
				next = j;
		} else if ((unsigned char)s[i] == 0xE3 && i + 2 < len &&
		           (unsigned char)s[i + 1] == 0x80 &&
		           (unsigned char)s[i + 2] == 0x82) {
			next = i + 3;             /* U+3002 。 */
		}
		if (next == 0 || next >= len || next <= t->sentences[n - 1])
			continue;
		if (n == cap) {
			cap *= 2;
			t->sentences = g_realloc_n(t->sentences, cap,
			                           sizeof(*t->sentences));
		}
		t->sentences[n++] = (uint32_t)next;
	}
	t->n_sentences = n;
}

/* sentence_of - the index of the sentence that offset is in */
static size_t
sentence_of(const struct text *t, size_t offset)
{
	size_t lo = 0, hi = t->n_sentences;

	/* the last start <= offset */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->sentences[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* rule_phrases - every match of the phrases list */
static void
rule_phrases(rg_scan *scan, rg_rule rule, const struct regex_set *set,
             const struct text *t, size_t *found)
{
	struct walk w;
	size_t start, end;

	if (set->n == 0)
		return;
	walk_init(&w, scan, set, t);
	while (*found < MAX_FINDINGS_PER_PART &&
	       walk_next_own(&w, &start, &end)) {
		report(scan, rule, t, start, end);
		(*found)++;
	}
	walk_done(&w);
}

/* collect - the own matches of a set in a text, with their sentences */
static GArray *
collect(rg_scan *scan, const struct regex_set *set, struct text *t)
{
	GArray *hits = g_array_new(FALSE, FALSE, sizeof(struct hit));
	struct walk w;
	struct hit h;

	walk_init(&w, scan, set, t);
	while (walk_next_own(&w, &h.start, &h.end)) {
		h.sentence = sentence_of(t, h.start);
		g_array_append_val(hits, h);
	}
	walk_done(&w);
	return hits;
}

/*
 * rule_group - a finding for each window of g->sentences sentences that
 * holds a match of every list; windows do not overlap.
 */
static void
rule_group(rg_scan *scan, rg_rule rule, const struct group_code *g,
           struct text *t, size_t *found)
{
	GArray *hits[RG_PHRASE_GROUP_LISTS] = { NULL };
	size_t at[RG_PHRASE_GROUP_LISTS] = { 0 };
	size_t next_window = 0;
	int empty = 0;

	find_sentences(t);
	for (unsigned j = 0; j < g->n_lists && !empty; j++) {
		hits[j] = collect(scan, &g->lists[j], t);
		empty = hits[j]->len == 0;
	}
	while (!empty && *found < MAX_FINDINGS_PER_PART) {
		/* the earliest sentence with a match not yet passed */
		size_t window = SIZE_MAX, first = SIZE_MAX, last = 0;
		int all = 1;

		for (unsigned j = 0; j < g->n_lists; j++) {
			GArray *h = hits[j];

			while (at[j] < h->len &&
			       g_array_index(h, struct hit, at[j]).sentence <
			       next_window)
				at[j]++;
			if (at[j] == h->len) {
				empty = 1;
				break;
			}
			if (g_array_index(h, struct hit, at[j]).sentence < window)
				window = g_array_index(h, struct hit,
				                       at[j]).sentence;
		}
		if (empty)
			break;
		for (unsigned j = 0; j < g->n_lists; j++) {
			const struct hit *h = &g_array_index(hits[j], struct hit,
			                                     at[j]);

			if (h->sentence >= window + g->sentences) {
				all = 0;
				break;
			}
			if (h->start < first)
				first = h->start;
			if (h->end > last)
				last = h->end;
		}
		if (all) {
			report(scan, rule, t, first, last);
			(*found)++;
			next_window = window + g->sentences;
		} else {
			next_window = window + 1;
		}
	}
	for (unsigned j = 0; j < g->n_lists; j++)
		if (hits[j] != NULL)
			g_array_free(hits[j], TRUE);
}

/* overlaps - [start, end) overlaps one of the sorted hits; *at moves on */
static int
overlaps(const GArray *hits, size_t *at, size_t start, size_t end)
{
	while (*at < hits->len &&
	       g_array_index(hits, struct hit, *at).end <= start)
		(*at)++;
	return *at < hits->len &&
	       g_array_index(hits, struct hit, *at).start < end;
}

/* asks - a '?' in the text outside quotes and outside the when hits */
static int
asks(const struct text *t, const GArray *when)
{
	size_t at = 0;

	for (const char *q = strchr(t->norm.text, '?'); q != NULL;
	     q = strchr(q + 1, '?')) {
		size_t off = (size_t)(q - t->norm.text);

		if (!quoted(t, off) && !overlaps(when, &at, off, off + 1))
			return 1;
	}
	return 0;
}

/*
 * rule_when - once per message: a "when" match (in the subject only for
 * subject-misuse) and no "unless" match anywhere outside the "when"
 * matches (for subject-misuse, no '?' either).
 */
static void
rule_when(rg_scan *scan, rg_rule rule, const struct rule_code *rc,
          struct text *texts, size_t n_texts)
{
	int subject_only = rule == RG_RULE_SUBJECT_MISUSE;
	const struct text *first_text = NULL;
	struct hit first = { 0, 0, 0 };
	int cancelled = 0;

	for (size_t i = 0; i < n_texts && !cancelled; i++) {
		struct text *t = &texts[i];
		GArray *when = g_array_new(FALSE, FALSE, sizeof(struct hit));
		struct walk w;
		struct hit h = { 0, 0, 0 };

		if (!subject_only || t->part->kind == RG_PART_SUBJECT) {
			walk_init(&w, scan, &rc->lists[L_WHEN], t);
			while (walk_next_own(&w, &h.start, &h.end))
				g_array_append_val(when, h);
			walk_done(&w);
		}
		/* point at the body rather than the subject */
		if (when->len > 0 && (first_text == NULL ||
		                      (first_text->part->kind == RG_PART_SUBJECT &&
		                       t->part->kind != RG_PART_SUBJECT))) {
			first_text = t;
			first = g_array_index(when, struct hit, 0);
		}
		if (rc->lists[L_UNLESS].n > 0) {
			size_t at = 0;

			walk_init(&w, scan, &rc->lists[L_UNLESS], t);
			while (!cancelled &&
			       walk_next_own(&w, &h.start, &h.end))
				if (!overlaps(when, &at, h.start, h.end))
					cancelled = 1;
			walk_done(&w);
		}
		if (!cancelled && rule == RG_RULE_SUBJECT_MISUSE &&
		    asks(t, when))
			cancelled = 1;
		g_array_free(when, TRUE);
	}
	if (first_text != NULL && !cancelled)
		report(scan, rule, first_text, first.start, first.end);
}

static int
is_text(const struct rg_part *part)
{
	return part->kind == RG_PART_SUBJECT || part->kind == RG_PART_PLAIN ||
	       part->kind == RG_PART_HTML;
}

void
rg_rules_phrases(rg_scan *scan, const struct rg_view *view)
{
	const struct rg_phrase_code *code = scan->policy->phrase_code;
	struct text *texts;
	size_t n = 0;
	int active = 0;

	if (code == NULL || !code->any)
		return;
	for (unsigned r = 0; r < RG_RULE_COUNT; r++)
		if (rg_phrase_is_rule((rg_rule)r) &&
		    rg_rule_active(scan, (rg_rule)r))
			active = 1;
	if (!active)
		return;

	texts = g_new0(struct text, view->count + 1);
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];

		if (!is_text(part))
			continue;
		if (rg_normalize(part->text, part->text_len,
		                 &texts[n].norm) < 0) {
			rg_report_at(scan, RG_RULE_UNCHECKABLE, part->path, 0, 0,
			             "text too long for the phrase rules");
			continue;
		}
		texts[n].part = part;
		/* only a reply quotes the buyer: elsewhere "> " lines are
		 * the seller's own text */
		texts[n].honour_quotes = view->is_reply;
		n++;
	}

	for (unsigned r = 0; r < RG_RULE_COUNT; r++) {
		rg_rule rule = (rg_rule)r;
		const struct rule_code *rc = &code->rules[r];

		if (!rg_phrase_is_rule(rule) || !rg_rule_active(scan, rule))
			continue;
		for (size_t i = 0; i < n; i++) {
			size_t found = 0;

			if (rule == RG_RULE_SUBJECT_MISUSE &&
			    texts[i].part->kind != RG_PART_SUBJECT)
				continue;
			rule_phrases(scan, rule, &rc->lists[L_PHRASES], &texts[i],
			             &found);
			for (size_t g = 0; g < rc->n_groups; g++)
				rule_group(scan, rule, &rc->groups[g], &texts[i],
				           &found);
		}
		if (rc->lists[L_WHEN].n > 0)
			rule_when(scan, rule, rc, texts, n);
	}

	for (size_t i = 0; i < n; i++) {
		rg_norm_clear(&texts[i].norm);
		g_free(texts[i].sentences);
	}
	g_free(texts);
}
