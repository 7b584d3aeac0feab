/*
 * language.c - the "language" rule: the seller's own text must be in a
 * language the buyer reads: the language of the buyer's locale when the
 * order data has one (rules/orders.c, scan->buyer_locale), else the
 * marketplace's (.de German, .co.jp Japanese, .ca English or French, ...,
 * and settings.language_accepted).
 *
 * What is judged: the words of the plain-text parts (the HTML parts when
 * there is no plain text), without the subject, the buyer's quoted text,
 * URLs, addresses, domains, handles and tokens with digits.  Too little
 * text (under RG_LANG_MIN_WORDS words or RG_LANG_MIN_LETTERS letters, or
 * RG_LANG_MIN_CJK Japanese/Chinese/Korean characters) is no finding: no
 * identifier is reliable below about five words.
 *
 * How: scripts first (kana means Japanese, Hangul Korean, Arabic letters
 * Arabic, ...), because n-gram profiles of CJK text are unreliable; Latin
 * text goes to libexttextcat restricted to the candidate languages: the
 * marketplaces' ten Latin-script ones plus any configured (the shipped
 * set of 160 mistakes short English for Scots or Catalan; restricted, it
 * named 94 of 96 one-sentence texts right first and the other two
 * second).  Every language textcat finds about as likely as the best
 * counts, and the message passes when one of them is accepted; so does a
 * message in two languages when the accepted one carries a third of the
 * text (by paragraph, or by script: CJK characters weigh three letters).
 * The benefit of the doubt goes to the sender: a wrong block costs more
 * than a missed one.
 *
 * Threads: one textcat handle per policy.  textcat_Classify writes to the
 * handle (its output buffer), textcat_ClassifyFull with a caller's
 * candidate array only reads it, so every scan uses ClassifyFull with a
 * candidate array on its own stack and no lock is needed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <libexttextcat/textcat.h>

#include "internal.h"

/* Below these, the text is too short to judge. */
#define RG_LANG_MIN_WORDS    5
#define RG_LANG_MIN_LETTERS  20
#define RG_LANG_MIN_CJK      10
/* Latin-script text handed to textcat: more adds time, not accuracy. */
#define RG_LANG_MAX_SAMPLE   (8 * 1024)
/* a paragraph counts on its own from this many words */
#define RG_LANG_PARA_WORDS   8
/* candidate languages (profiles) at most */
#define RG_LANG_MAX_PROFILES 64
/* detected languages kept per message */
#define RG_LANG_MAX_GUESSES  6
/* CJK characters carry about three Latin letters' worth of text */
#define RG_LANG_CJK_WEIGHT   3

/* Languages textcat chooses between even when no marketplace lists them:
 * the marketplaces' own Latin-script languages. */
static const char *const base_candidates[] = {
	"en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "tr",
};

/* The languages a marketplace's buyers read (POLICY.md). */
static const struct {
	const char *marketplace;
	const char *languages;
} builtin_markets[] = {
	{ "amazon.com", "en" },       { "amazon.co.uk", "en" },
	{ "amazon.de", "de" },        { "amazon.fr", "fr" },
	{ "amazon.it", "it" },        { "amazon.es", "es" },
	{ "amazon.ca", "en,fr" },     { "amazon.com.mx", "es" },
	{ "amazon.co.jp", "ja" },     { "amazon.in", "en" },
	{ "amazon.com.au", "en" },    { "amazon.com.br", "pt" },
	{ "amazon.nl", "nl" },        { "amazon.se", "sv" },
	{ "amazon.pl", "pl" },        { "amazon.com.tr", "tr" },
	{ "amazon.ae", "en,ar" },     { "amazon.sa", "ar" },
	{ "amazon.sg", "en" },        { "amazon.com.be", "fr,nl,de" },
	{ "amazon.eg", "ar,en" },
};

static const struct {
	const char *code, *name;
} language_names[] = {
	{ "en", "English" },   { "de", "German" },    { "fr", "French" },
	{ "es", "Spanish" },   { "it", "Italian" },   { "pt", "Portuguese" },
	{ "nl", "Dutch" },     { "sv", "Swedish" },   { "pl", "Polish" },
	{ "tr", "Turkish" },   { "ar", "Arabic" },    { "ja", "Japanese" },
	{ "zh", "Chinese" },   { "ko", "Korean" },    { "he", "Hebrew" },
	{ "el", "Greek" },     { "th", "Thai" },      { "hi", "Hindi" },
	{ "da", "Danish" },    { "nb", "Norwegian" }, { "fi", "Finnish" },
	{ "cs", "Czech" },     { "ro", "Romanian" },  { "hu", "Hungarian" },
	{ "ru", "Russian" },   { "uk", "Ukrainian" }, { "ca", "Catalan" },
};

/* Scripts that name their language; other non-Latin scripts are "und". */
enum script {
	SC_LATIN, SC_KANA, SC_HAN, SC_HANGUL, SC_ARABIC, SC_HEBREW, SC_GREEK,
	SC_THAI, SC_DEVANAGARI, SC_OTHER, SC_COUNT
};
static const char *const script_language[SC_COUNT] = {
	[SC_LATIN] = NULL,   [SC_KANA] = "ja",   [SC_HAN] = "zh",
	[SC_HANGUL] = "ko",  [SC_ARABIC] = "ar", [SC_HEBREW] = "he",
	[SC_GREEK] = "el",   [SC_THAI] = "th",   [SC_DEVANAGARI] = "hi",
	[SC_OTHER] = "und",
};

struct market {
	char *name;            /* "amazon.ca" */
	char **languages;      /* NULL-terminated */
};

struct rg_langid {
	void *textcat;         /* shared, read only (see the top) */
	unsigned n_profiles;
	char **profiles;       /* the candidates' codes, NULL-terminated */
	struct market *markets;
	size_t n_markets;
};

/* Everything learnt about the text of one view. */
struct paragraph {
	size_t start, words;   /* into sample */
};

struct detection {
	GString *sample;       /* Latin-script words, blank separated */
	GArray *paragraphs;    /* struct paragraph */
	const struct rg_part *last_part;
	size_t last_end;       /* end of the previous word in last_part */
	const struct rg_part *first_part;
	size_t first_offset;   /* the first word: where a finding points */
	unsigned latin_words, latin_letters;
	unsigned script_chars[SC_COUNT];
	unsigned total;        /* all letters, CJK weighted */
	GUnicodeScript other;  /* the most recent SC_OTHER script */
	/* the verdict: languages, most text first */
	const char *guesses[RG_LANG_MAX_GUESSES];
	unsigned weights[RG_LANG_MAX_GUESSES];
	size_t n_guesses;
};

/* ---- names, codes and the map ---------------------------------------- */

static const char *
language_name(const char *code)
{
	for (size_t i = 0; i < G_N_ELEMENTS(language_names); i++)
		if (strcmp(language_names[i].code, code) == 0)
			return language_names[i].name;
	return code;
}

static int
script_detected(const char *code)
{
	for (unsigned i = 0; i < SC_COUNT; i++)
		if (script_language[i] != NULL &&
		    strcmp(script_language[i], code) == 0)
			return 1;
	return 0;
}

/* valid_language - "en", "fil", "sr-Latn": lower-case ISO 639 and an
 * optional subtag, as libexttextcat names its profiles */
static int
valid_language(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return 0;
	if (i == len)
		return 1;
	if (s[i] != '-' || len - i - 1 < 2 || len - i - 1 > 8)
		return 0;
	for (i++; i < len; i++)
		if (!g_ascii_isalnum(s[i]))
			return 0;
	return 1;
}

/* valid_marketplace - "amazon.co.uk": DNS labels, lower case, a dot */
static int
valid_marketplace(const char *s, size_t len)
{
	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-' ||
	    s[len - 1] == '.' || memchr(s, '.', len) == NULL)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return 0;
		if (c == '.' && s[i + 1] == '.')
			return 0;
	}
	return 1;
}

char *
rg_language_entry_error(const char *entry)
{
	const char *colon, *p;

	if (entry == NULL)
		return g_strdup("must be a string \"MARKETPLACE:LANG,LANG\"");
	colon = strchr(entry, ':');
	if (colon == NULL || !valid_marketplace(entry, (size_t)(colon - entry)))
		return rg_strdup_printf("\"%s\" is not \"MARKETPLACE:LANG,...\""
		                        " such as \"amazon.ca:en,fr\"", entry);
	p = colon + 1;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (!valid_language(p, len))
			return rg_strdup_printf("\"%s\": \"%.*s\" is not a "
			                        "language code such as \"en\" "
			                        "or \"fr\"", entry, (int)len,
			                        p);
		if (p[len] == '\0')
			return NULL;
		p += len + 1;
	}
}

static void
market_free(struct market *m)
{
	g_free(m->name);
	g_strfreev(m->languages);
}

/* market_set - the languages of a marketplace, replacing earlier ones */
static void
market_set(struct rg_langid *id, const char *name, size_t name_len,
           const char *languages)
{
	struct market *m = NULL;

	for (size_t i = 0; i < id->n_markets; i++) {
		if (strlen(id->markets[i].name) == name_len &&
		    strncmp(id->markets[i].name, name, name_len) == 0) {
			m = &id->markets[i];
			market_free(m);
			break;
		}
	}
	if (m == NULL) {
		id->markets = g_renew(struct market, id->markets,
		                      id->n_markets + 1);
		m = &id->markets[id->n_markets++];
	}
	m->name = g_strndup(name, name_len);
	m->languages = g_strsplit(languages, ",", -1);
}

const char *const *
rg_marketplace_languages(const rg_policy *policy, const char *marketplace)
{
	const struct rg_langid *id = policy->langid;

	if (id == NULL || marketplace == NULL)
		return NULL;
	for (size_t i = 0; i < id->n_markets; i++)
		if (g_ascii_strcasecmp(id->markets[i].name, marketplace) == 0)
			return (const char *const *)id->markets[i].languages;
	return NULL;
}

/* knows - 1 when the detector can name the language at all */
static int
knows(const struct rg_langid *id, const char *code)
{
	if (script_detected(code))
		return 1;
	for (char **p = id->profiles; p != NULL && *p != NULL; p++)
		if (strcmp(*p, code) == 0)
			return 1;
	return 0;
}

/*
 * buyer_language - the language of the buyer's locale from the order data
 * ("de_DE", "pt-BR": "de", "pt") into code[0..size), or 0 when there is
 * none or it is not a language code
 */
static int
buyer_language(const rg_scan *scan, char *code, size_t size)
{
	const char *locale = scan->buyer_locale;
	size_t len = strcspn(locale, "_-.@");

	if (len < 2 || len > 3 || len >= size)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isalpha(locale[i]))
			return 0;
		code[i] = g_ascii_tolower(locale[i]);
	}
	code[len] = '\0';
	return 1;
}

/* ---- the textcat handle ------------------------------------------------ */

static void
add_candidate(GPtrArray *candidates, const char *code)
{
	if (script_detected(code))
		return;
	for (unsigned i = 0; i < candidates->len; i++)
		if (strcmp(g_ptr_array_index(candidates, i), code) == 0)
			return;
	g_ptr_array_add(candidates, (gpointer)code);
}

/*
 * open_textcat - a handle for exactly these profiles.  textcat reads its
 * list of profiles from a file; a pipe read through /dev/fd gives it one
 * without writing anything to disk.
 */
static void *
open_textcat(GPtrArray *candidates, char **error_r)
{
	GString *conf = g_string_new(NULL);
	GError *gerror = NULL;
	char *prefix = g_strconcat(RG_TEXTCAT_DATADIR, "/", NULL);
	char *path;
	void *handle = NULL;
	int fds[2];

	for (unsigned i = 0; i < candidates->len; i++) {
		const char *code = g_ptr_array_index(candidates, i);
		char *file = g_strdup_printf("%s%s.lm", prefix, code);
		int readable = access(file, R_OK) == 0;

		g_free(file);
		if (!readable) {
			*error_r = rg_strdup_printf(
				"language: no profile for \"%s\" (%s%s.lm): %s",
				code, prefix, code, g_strerror(errno));
			goto out;
		}
		g_string_append_printf(conf, "%s.lm %s\n", code, code);
	}
	/* a few hundred bytes: far below the pipe's capacity */
	if (!g_unix_open_pipe(fds, FD_CLOEXEC, &gerror)) {
		*error_r = rg_strdup_printf("language: pipe: %s",
		                            gerror->message);
		g_error_free(gerror);
		goto out;
	}
	for (size_t done = 0; done < conf->len;) {
		ssize_t n = write(fds[1], conf->str + done, conf->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = rg_strdup_printf("language: pipe: %s",
			                            g_strerror(errno));
			close(fds[0]);
			close(fds[1]);
			goto out;
		}
		done += (size_t)n;
	}
	close(fds[1]);
	path = g_strdup_printf("/dev/fd/%d", fds[0]);
	handle = special_textcat_Init(path, prefix);
	g_free(path);
	close(fds[0]);
	if (handle == NULL)
		*error_r = rg_strdup_printf(
			"language: libexttextcat cannot read the profiles "
			"in %s (is /dev/fd there?)", RG_TEXTCAT_DATADIR);
out:
	g_string_free(conf, TRUE);
	g_free(prefix);
	return handle;
}

int
rg_langid_new(const struct rg_settings *settings, struct rg_langid **id_r,
              char **error_r)
{
	struct rg_langid *id = g_new0(struct rg_langid, 1);
	GPtrArray *candidates = g_ptr_array_new();

	*id_r = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(builtin_markets); i++)
		market_set(id, builtin_markets[i].marketplace,
		           strlen(builtin_markets[i].marketplace),
		           builtin_markets[i].languages);
	for (size_t i = 0; i < settings->language_accepted.count; i++) {
		const char *entry = settings->language_accepted.items[i];
		char *why = rg_language_entry_error(entry);

		if (why != NULL) {
			*error_r = rg_strdup_printf("language: accepted: %s",
			                            why);
			g_free(why);
			goto fail;
		}
		market_set(id, entry, (size_t)(strchr(entry, ':') - entry),
		           strchr(entry, ':') + 1);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(base_candidates); i++)
		add_candidate(candidates, base_candidates[i]);
	for (size_t i = 0; i < id->n_markets; i++)
		for (char **l = id->markets[i].languages; *l != NULL; l++)
			add_candidate(candidates, *l);
	if (candidates->len > RG_LANG_MAX_PROFILES) {
		*error_r = rg_strdup_printf("language: more than %d languages",
		                            RG_LANG_MAX_PROFILES);
		goto fail;
	}
	id->n_profiles = candidates->len;
	id->profiles = g_new0(char *, candidates->len + 1);
	for (unsigned i = 0; i < candidates->len; i++)
		id->profiles[i] = g_strdup(g_ptr_array_index(candidates, i));
	id->textcat = open_textcat(candidates, error_r);
	if (id->textcat == NULL)
		goto fail;
	g_ptr_array_free(candidates, TRUE);
	*id_r = id;
	return 0;
fail:
	g_ptr_array_free(candidates, TRUE);
	rg_langid_free(&id);
	return -1;
}

void
rg_langid_free(struct rg_langid **id_p)
{
	struct rg_langid *id = *id_p;

	if (id == NULL)
		return;
	if (id->textcat != NULL)
		textcat_Done(id->textcat);
	g_strfreev(id->profiles);
	for (size_t i = 0; i < id->n_markets; i++)
		market_free(&id->markets[i]);
	g_free(id->markets);
	g_free(id);
	*id_p = NULL;
}

/* ---- the seller's words ------------------------------------------------ */

struct range {
	size_t start, end;
};

static gint
range_cmp(gconstpointer a, gconstpointer b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* link_ranges - URLs, addresses and bare domains in the part, by start */
static GArray *
link_ranges(rg_scan *scan, const struct rg_part *part)
{
	static const enum rg_pattern patterns[] = {
		RG_PAT_URL, RG_PAT_EMAIL, RG_PAT_BARE_DOMAIN,
	};
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(struct range));

	for (size_t i = 0; i < G_N_ELEMENTS(patterns); i++) {
		size_t at = 0, s, e;

		while (at < part->text_len &&
		       rg_match(scan, patterns[i], part->text, part->text_len,
		                at, &s, &e) == 1) {
			struct range r = { s, e };

			g_array_append_val(ranges, r);
			/* never restart inside a character */
			at = e > s ? e
			           : (size_t)(g_utf8_next_char(part->text + s) -
			                      part->text);
		}
	}
	g_array_sort(ranges, range_cmp);
	return ranges;
}

static int
in_ranges(const GArray *ranges, size_t *next, size_t start, size_t end)
{
	/* words come in order: ranges ending before them are done */
	while (*next < ranges->len &&
	       g_array_index(ranges, struct range, *next).end <= start)
		(*next)++;
	for (size_t i = *next; i < ranges->len; i++) {
		const struct range *r = &g_array_index(ranges, struct range, i);

		if (r->start >= end)
			break;
		if (r->end > start)
			return 1;
	}
	return 0;
}

static int
is_apostrophe(gunichar c)
{
	return c == '\'' || c == 0x2019 || c == 0x02BC;
}

static int
is_hyphen(gunichar c)
{
	return c == '-' || c == 0x2010 || c == 0x2011;
}

/* word_char - letters, marks and invisible format characters (a soft
 * hyphen inside a word does not split it) */
static int
word_char(gunichar c)
{
	switch (g_unichar_type(c)) {
	case G_UNICODE_LOWERCASE_LETTER:
	case G_UNICODE_UPPERCASE_LETTER:
	case G_UNICODE_TITLECASE_LETTER:
	case G_UNICODE_MODIFIER_LETTER:
	case G_UNICODE_OTHER_LETTER:
	case G_UNICODE_NON_SPACING_MARK:
	case G_UNICODE_SPACING_MARK:
	case G_UNICODE_ENCLOSING_MARK:
	case G_UNICODE_FORMAT:
		return 1;
	default:
		return 0;
	}
}

/* Characters that make a token a path, handle, tag, address or markup. */
static int
technical_char(gunichar c)
{
	return c < 0x80 && strchr("@#/\\_=&%+<>|~^*$`", (int)c) != NULL;
}

static int
is_space(gunichar c)
{
	return g_unichar_isspace(c) || c == 0xA0 || c == 0x200B ||
	       c == 0x3000;
}

struct walk {
	rg_scan *scan;
	int (*fn)(const struct rg_word *word, void *data);
	void *data;
	size_t words;
	int stop;
};

/*
 * chunk_words - the words of one blank-delimited token text[s, e): split
 * at characters that are neither letters nor inner apostrophes or
 * hyphens; a piece with digits is skipped (and marks what follows as a
 * possible unit).
 */
static void
chunk_words(struct walk *w, const struct rg_part *part, size_t s, size_t e,
            int *after_number)
{
	const char *text = part->text;
	size_t i = s;

	while (i < e && !w->stop) {
		size_t ps, pe, last_word = 0;
		int digits = 0, letters = 0;

		/* skip separators */
		while (i < e) {
			gunichar c = g_utf8_get_char(text + i);

			if (word_char(c) || g_unichar_isdigit(c))
				break;
			i = (size_t)(g_utf8_next_char(text + i) - text);
		}
		ps = i;
		/* a piece: letters, digits, apostrophes and hyphens inside */
		while (i < e) {
			gunichar c = g_utf8_get_char(text + i);
			size_t next =
				(size_t)(g_utf8_next_char(text + i) - text);

			if (word_char(c)) {
				letters += g_unichar_isalpha(c) != 0;
				last_word = next;
			} else if (g_unichar_isdigit(c)) {
				digits = 1;
				last_word = next;
			} else if (!is_apostrophe(c) && !is_hyphen(c)) {
				break;
			}
			i = next;
		}
		pe = last_word;   /* no trailing apostrophe or hyphen */
		if (pe <= ps) {
			if (i == ps && i < e)   /* not a word character */
				i = (size_t)(g_utf8_next_char(text + i) - text);
			continue;
		}
		if (digits) {
			*after_number = 1;
			continue;
		}
		if (letters > 0) {
			struct rg_word word = { part, ps, pe, *after_number };

			w->words++;
			/* the CPU budget spent: no more words */
			if (rg_budget_tick(w->scan) || w->fn(&word, w->data) != 0)
				w->stop = 1;
		}
		*after_number = 0;
	}
}

static void
part_words(struct walk *w, const struct rg_part *part)
{
	const char *text = part->text;
	GArray *links;
	size_t i = 0, next_range = 0;
	int after_number = 0;

	if (text == NULL || part->text_len == 0)
		return;
	links = link_ranges(w->scan, part);
	while (i < part->text_len && !w->stop) {
		size_t s, e;
		int skip = 0, inner_dot = 0;

		while (i < part->text_len &&
		       is_space(g_utf8_get_char(text + i)))
			i = (size_t)(g_utf8_next_char(text + i) - text);
		if (i >= part->text_len)
			break;
		s = i;
		while (i < part->text_len) {
			gunichar c = g_utf8_get_char(text + i);
			size_t next =
				(size_t)(g_utf8_next_char(text + i) - text);

			if (is_space(c))
				break;
			if (technical_char(c))
				skip = 1;
			/* "e.g.", "co.uk", "file.pdf": a dot between letters */
			if (c == '.' && i > s && next < part->text_len &&
			    g_unichar_isalnum(g_utf8_get_char(
			        g_utf8_prev_char(text + i))) &&
			    g_unichar_isalnum(g_utf8_get_char(text + next)))
				inner_dot = 1;
			i = next;
		}
		e = i;
		if (skip || inner_dot || rg_part_is_quoted(part, s) ||
		    in_ranges(links, &next_range, s, e)) {
			after_number = 0;
			continue;
		}
		chunk_words(w, part, s, e, &after_number);
	}
	g_array_free(links, TRUE);
}

size_t
rg_view_words(rg_scan *scan, const struct rg_view *view, int with_subject,
              int (*fn)(const struct rg_word *word, void *data), void *data)
{
	struct walk w = { scan, fn, data, 0, 0 };
	size_t body_words;

	if (with_subject) {
		for (size_t i = 0; i < view->count && !w.stop; i++)
			if (view->parts[i].kind == RG_PART_SUBJECT)
				part_words(&w, &view->parts[i]);
	}
	body_words = w.words;
	/* the plain text, else the HTML: the same words twice would count
	 * twice */
	for (size_t i = 0; i < view->count && !w.stop; i++)
		if (view->parts[i].kind == RG_PART_PLAIN)
			part_words(&w, &view->parts[i]);
	if (w.words == body_words) {
		for (size_t i = 0; i < view->count && !w.stop; i++)
			if (view->parts[i].kind == RG_PART_HTML)
				part_words(&w, &view->parts[i]);
	}
	return w.words;
}

/* ---- detection ---------------------------------------------------------- */

static enum script
script_of(gunichar c)
{
	switch (g_unichar_get_script(c)) {
	case G_UNICODE_SCRIPT_LATIN:      return SC_LATIN;
	case G_UNICODE_SCRIPT_HIRAGANA:
	case G_UNICODE_SCRIPT_KATAKANA:   return SC_KANA;
	case G_UNICODE_SCRIPT_HAN:        return SC_HAN;
	case G_UNICODE_SCRIPT_HANGUL:     return SC_HANGUL;
	case G_UNICODE_SCRIPT_ARABIC:     return SC_ARABIC;
	case G_UNICODE_SCRIPT_HEBREW:     return SC_HEBREW;
	case G_UNICODE_SCRIPT_GREEK:      return SC_GREEK;
	case G_UNICODE_SCRIPT_THAI:       return SC_THAI;
	case G_UNICODE_SCRIPT_DEVANAGARI: return SC_DEVANAGARI;
	default:                          return SC_OTHER;
	}
}

static unsigned
cjk_and_others(const struct detection *d)
{
	unsigned n = 0;

	for (unsigned sc = SC_KANA; sc < SC_COUNT; sc++)
		n += d->script_chars[sc];
	return n;
}

static int
collect_word(const struct rg_word *word, void *data)
{
	struct detection *d = data;
	const char *text = word->part->text;
	unsigned latin = 0;

	if (d->first_part == NULL) {
		d->first_part = word->part;
		d->first_offset = word->start;
	}
	for (const char *p = text + word->start; p < text + word->end;
	     p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		enum script sc;

		if (!g_unichar_isalpha(c))
			continue;
		sc = script_of(c);
		d->script_chars[sc]++;
		if (sc == SC_LATIN)
			latin++;
		else if (sc == SC_OTHER)
			d->other = g_unichar_get_script(c);
	}
	if (latin > 0 && d->sample->len < RG_LANG_MAX_SAMPLE) {
		struct paragraph *para = NULL;
		int new_para = d->paragraphs->len == 0 ||
		               word->part != d->last_part;

		/* a blank line between two words starts a paragraph */
		if (!new_para) {
			const char *gap = text + d->last_end;
			const char *nl = memchr(gap, '\n',
			                        word->start - d->last_end);

			new_para = nl != NULL &&
			           memchr(nl + 1, '\n',
			                  (size_t)(text + word->start - nl - 1))
			               != NULL;
		}
		if (new_para) {
			struct paragraph p = { d->sample->len, 0 };

			if (d->sample->len > 0)
				g_string_append_c(d->sample, '\n');
			p.start = d->sample->len;
			g_array_append_val(d->paragraphs, p);
		} else {
			g_string_append_c(d->sample, ' ');
		}
		para = &g_array_index(d->paragraphs, struct paragraph,
		                      d->paragraphs->len - 1);
		para->words++;
		g_string_append_len(d->sample, text + word->start,
		                    (gssize)(word->end - word->start));
		d->latin_words++;
		d->latin_letters += latin;
	}
	d->last_part = word->part;
	d->last_end = word->end;
	/* enough to judge: stop walking a long text */
	return d->sample->len >= RG_LANG_MAX_SAMPLE ||
	       d->script_chars[SC_LATIN] + cjk_and_others(d) >=
	           4 * RG_LANG_MAX_SAMPLE;
}

static void
add_guess(struct detection *d, const char *code, unsigned weight)
{
	size_t at;

	for (size_t i = 0; i < d->n_guesses; i++)
		if (strcmp(d->guesses[i], code) == 0)
			return;
	if (d->n_guesses == RG_LANG_MAX_GUESSES)
		return;
	/* by weight, stable: textcat's order within the same weight */
	at = d->n_guesses;
	while (at > 0 && d->weights[at - 1] < weight) {
		d->guesses[at] = d->guesses[at - 1];
		d->weights[at] = d->weights[at - 1];
		at--;
	}
	d->guesses[at] = code;
	d->weights[at] = weight;
	d->n_guesses++;
}

/* classify - textcat's best languages for text, best first; 0 when it
 * cannot tell */
static int
classify(const struct rg_langid *id, const char *text, size_t len,
         const char **codes, int max)
{
	candidate_t candidates[RG_LANG_MAX_PROFILES];
	int n;

	n = textcat_ClassifyFull(id->textcat, text, len, candidates);
	if (n <= 0)
		return 0;
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++)
		codes[i] = candidates[i].name;   /* owned by the handle */
	return n;
}

static void
detect(rg_scan *scan, const struct rg_view *view, struct detection *d)
{
	const struct rg_langid *id = scan->policy->langid;
	unsigned cjk;

	memset(d, 0, sizeof(*d));
	d->sample = g_string_new(NULL);
	d->paragraphs = g_array_new(FALSE, FALSE, sizeof(struct paragraph));
	rg_view_words(scan, view, 0, collect_word, d);

	/* Japanese writes kana between its kanji; Chinese has none */
	cjk = d->script_chars[SC_KANA] + d->script_chars[SC_HAN];
	d->total = d->script_chars[SC_LATIN] +
	           (cjk + d->script_chars[SC_HANGUL]) * RG_LANG_CJK_WEIGHT;
	for (unsigned sc = SC_ARABIC; sc < SC_COUNT; sc++)
		d->total += d->script_chars[sc];
	if (cjk >= RG_LANG_MIN_CJK) {
		add_guess(d, d->script_chars[SC_KANA] * 10 >= cjk ? "ja" : "zh",
		          cjk * RG_LANG_CJK_WEIGHT);
	}
	for (unsigned sc = SC_HANGUL; sc < SC_COUNT; sc++) {
		unsigned n = d->script_chars[sc];

		if (n >= (sc == SC_HANGUL ? RG_LANG_MIN_CJK
		                          : RG_LANG_MIN_LETTERS))
			add_guess(d, script_language[sc],
			          sc == SC_HANGUL ? n * RG_LANG_CJK_WEIGHT : n);
	}
	if (d->latin_words >= RG_LANG_MIN_WORDS &&
	    d->latin_letters >= RG_LANG_MIN_LETTERS && id != NULL) {
		const char *codes[RG_LANG_MAX_GUESSES];
		int n = classify(id, d->sample->str, d->sample->len, codes,
		                 RG_LANG_MAX_GUESSES);

		for (int i = 0; i < n; i++)
			add_guess(d, codes[i], d->latin_letters);
	}
}

static void
detection_clear(struct detection *d)
{
	g_string_free(d->sample, TRUE);
	g_array_free(d->paragraphs, TRUE);
}

const char *
rg_view_language(rg_scan *scan, const struct rg_view *view)
{
	struct detection d;

	if (scan->lang_view == view)
		return scan->lang;
	detect(scan, view, &d);
	scan->lang_view = view;
	scan->lang = d.n_guesses > 0 ? d.guesses[0] : NULL;
	detection_clear(&d);
	return scan->lang;
}

/* ---- the rule ----------------------------------------------------------- */

static int
accepted(const char *const *languages, const char *code)
{
	for (size_t i = 0; languages[i] != NULL; i++)
		if (strcmp(languages[i], code) == 0)
			return 1;
	return 0;
}

/*
 * mostly_accepted - a message in two languages: each paragraph of enough
 * words on its own; 1 when the accepted ones hold a third of the words
 */
static int
mostly_accepted(const struct rg_langid *id, const struct detection *d,
                const char *const *languages)
{
	unsigned judged = 0, good = 0;

	if (d->paragraphs->len < 2)
		return 0;
	for (unsigned i = 0; i < d->paragraphs->len; i++) {
		const struct paragraph *p =
			&g_array_index(d->paragraphs, struct paragraph, i);
		size_t end = i + 1 < d->paragraphs->len
			? g_array_index(d->paragraphs, struct paragraph,
			                i + 1).start - 1
			: d->sample->len;
		const char *codes[RG_LANG_MAX_GUESSES];
		int n;

		if (p->words < RG_LANG_PARA_WORDS)
			continue;
		judged += (unsigned)p->words;
		n = classify(id, d->sample->str + p->start, end - p->start,
		             codes, RG_LANG_MAX_GUESSES);
		for (int j = 0; j < n; j++) {
			if (accepted(languages, codes[j])) {
				good += (unsigned)p->words;
				break;
			}
		}
	}
	return judged > 0 && good * 3 >= d->latin_words;
}

/* append_language - "English (en)", or "Cyrl script" for a script
 * without a language of its own */
static void
append_language(GString *out, const struct detection *d, const char *code)
{
	if (strcmp(code, "und") == 0) {
		guint32 iso = g_unicode_script_to_iso15924(d->other);

		if (iso == 0)
			iso = 0x5A797979;   /* "Zyyy" */
		g_string_append_printf(out, "%c%c%c%c script",
		                       (char)(iso >> 24), (char)(iso >> 16),
		                       (char)(iso >> 8), (char)iso);
	} else {
		g_string_append_printf(out, "%s (%s)", language_name(code),
		                       code);
	}
}

/*
 * describe - "written in English (en); amazon.it buyers read Italian
 * (it)" (who: "amazon.it buyers", or "the buyer" for the order's
 * locale), shortened until it fits the excerpt: "English (en); amazon.it
 * buyers read ...", then "English (en); amazon.com.be buyers: fr, nl or
 * de"
 */
static char *
describe(const struct detection *d, const char *who, const char *verb,
         const char *const *languages, unsigned max_chars)
{
	GString *out = g_string_new(NULL);

	for (int form = 0; form < 3; form++) {
		g_string_truncate(out, 0);
		if (form == 0)
			g_string_append(out, "written in ");
		append_language(out, d, d->guesses[0]);
		if (form < 2)
			g_string_append_printf(out, "; %s %s ", who, verb);
		else
			g_string_append_printf(out, "; %s: ", who);
		for (size_t i = 0; languages[i] != NULL; i++) {
			const char *code = languages[i];

			if (i > 0)
				g_string_append(out, languages[i + 1] == NULL
				                         ? " or " : ", ");
			if (form < 2)
				g_string_append_printf(out, "%s (%s)",
				                       language_name(code),
				                       code);
			else
				g_string_append(out, code);
		}
		if (g_utf8_strlen(out->str, -1) <= (glong)max_chars)
			break;
	}
	return g_string_free(out, FALSE);
}

void
rg_rules_language(rg_scan *scan, const struct rg_view *view)
{
	const struct rg_langid *id = scan->policy->langid;
	const char *const *languages;
	const char *buyer[2] = { NULL, NULL };
	char buyer_code[4];
	char *who;
	const char *verb;
	struct detection d;
	unsigned line, column;
	char *text;

	/* a new view: forget the last one's language */
	scan->lang_view = NULL;
	scan->lang = NULL;
	if (!rg_rule_active(scan, RG_RULE_LANGUAGE) || id == NULL)
		return;
	if (view->marketplace == NULL)   /* not to a buyer */
		return;
	if (buyer_language(scan, buyer_code, sizeof(buyer_code))) {
		/* the order's locale replaces the marketplace's languages;
		 * one the detector cannot name cannot be judged */
		if (!knows(id, buyer_code))
			return;
		buyer[0] = buyer_code;
		languages = buyer;
		who = g_strdup("the buyer");
		verb = "reads";
	} else {
		languages = rg_marketplace_languages(scan->policy,
		                                     view->marketplace);
		if (languages == NULL)   /* a marketplace not in the map */
			return;
		who = g_strconcat(view->marketplace, " buyers", NULL);
		verb = "read";
	}
	detect(scan, view, &d);
	scan->lang_view = view;
	scan->lang = d.n_guesses > 0 ? d.guesses[0] : NULL;
	/* an accepted language must carry a third of the text: a Japanese
	 * greeting does not make an English message Japanese */
	for (size_t i = 0; i < d.n_guesses; i++)
		if (accepted(languages, d.guesses[i]) &&
		    (i == 0 || (uint64_t)d.weights[i] * 3 >= d.total))
			goto done;
	if (d.n_guesses == 0 || mostly_accepted(id, &d, languages))
		goto done;
	text = describe(&d, who, verb, languages,
	                scan->policy->settings.excerpt_chars);
	rg_part_position(scan, d.first_part, d.first_offset, &line, &column);
	rg_report_at(scan, RG_RULE_LANGUAGE, d.first_part->path, line, column,
	             text);
	g_free(text);
done:
	detection_clear(&d);
	g_free(who);
}
