/*
 * spelling.c - the "spelling" rule (default action: warn): misspelt words
 * in the seller's own text, checked with Hunspell and the system's
 * dictionaries.
 *
 * False alarms cost more than misses here, so only plain lower-case words
 * of at least RG_SPELL_MIN_CHARS letters are checked: names, brands, shop
 * names, acronyms and sentence starts are capitalised; URLs, addresses,
 * domains, handles, quoted text and tokens with digits (ASINs, sizes) never
 * reach the checker (rg_view_words), and a short word right after a number
 * is taken for a unit ("120 gsm").  A word is right when any dictionary of
 * the language accepts it (en_US or en_GB), written as is, capitalised or
 * in capitals ("usb", "monday"); a hyphenated word when its parts are.
 * German writes nouns capitalised and joins words freely: its lower-case
 * compounds are accepted when they split into known words (with a linking
 * "s"), as in "spülmaschinenfest".
 *
 * Which language: the one the text is written in (rg_view_language), plus
 * those of the buyer's marketplace; a language without a dictionary is not
 * checked.  One finding per misspelt word, RG_SPELL_MAX_FINDINGS at most.
 *
 * Threads: a Hunspell object is not safe for concurrent use (its affix
 * manager keeps state between calls) and Hunspell 1.7.1 initialises a
 * global table unguarded on creation.  Each language's dictionaries are
 * loaded on first use and used under that language's mutex, one word at
 * a time; creation and destruction are serialised process-wide.  A
 * dictionary takes tens of megabytes: one copy per policy, not per thread.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <hunspell/hunspell.h>

#include "internal.h"

#define RG_SPELL_MAX_FINDINGS 20
/* words checked per message at most: bounded time on a huge text */
#define RG_SPELL_MAX_WORDS    10000
#define RG_SPELL_MIN_CHARS    3
/* a word this short right after a number may be a unit ("120 gsm") */
#define RG_SPELL_UNIT_CHARS   4
/* longer is not a word (and would make compound splitting slow) */
#define RG_SPELL_MAX_BYTES    100
#define RG_SPELL_MAX_COMPOUND 40   /* characters */
/* characters of a word after a prefix or a compound's noun at least */
#define RG_SPELL_MIN_STEM     4

/* Debian's file names; a built-in dictionary that is not installed is
 * skipped, a configured one is an error.  Symbolic links to the same
 * dictionary (fr_FR -> fr, es_MX -> es_ES) are loaded once. */
static const struct {
	const char *language, *dictionaries;
} builtin_dictionaries[] = {
	{ "en", "en_US,en_GB" },
	{ "de", "de_DE,de_AT,de_CH" },
	{ "fr", "fr_FR,fr" },
	{ "es", "es_ES,es_MX" },
	{ "it", "it_IT" },
	{ "pt", "pt_PT,pt_BR" },
	{ "nl", "nl_NL,nl" },
	{ "sv", "sv_SE,sv" },
	{ "pl", "pl_PL" },
	{ "tr", "tr_TR" },
};

/* Hunspell_create/destroy touch process-wide state (see the top).  POSIX
 * mutexes, not GMutex: helgrind and TSan see them. */
static pthread_mutex_t hunspell_global = PTHREAD_MUTEX_INITIALIZER;

struct dictionary {
	Hunhandle *handle;
	char *encoding;        /* NULL for UTF-8 */
};

struct dictset {
	char *language;
	char **names;          /* NULL-terminated */
	int configured;        /* from the settings: must exist */
	pthread_mutex_t lock;  /* guards everything below */
	int loaded;
	struct dictionary *dicts;
	size_t n_dicts;
};

struct rg_speller {
	struct dictset *sets;
	size_t n_sets;
	GHashTable *words;     /* spelling.words, lower case */
};

/* ---- settings ----------------------------------------------------------- */

static int
valid_dictionary(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

char *
rg_spelling_entry_error(const char *entry)
{
	const char *colon, *p;
	size_t lang_len;

	if (entry == NULL)
		return g_strdup("must be a string \"LANG:DICTIONARY,...\"");
	colon = strchr(entry, ':');
	lang_len = colon ? (size_t)(colon - entry) : 0;
	if (colon == NULL || lang_len < 2 || lang_len > 3 ||
	    strspn(entry, "abcdefghijklmnopqrstuvwxyz") != lang_len)
		return rg_strdup_printf("\"%s\" is not \"LANG:DICTIONARY,...\" "
		                        "such as \"en:en_US,en_GB\"", entry);
	p = colon + 1;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (!valid_dictionary(p, len))
			return rg_strdup_printf("\"%s\": \"%.*s\" is not a "
			                        "Hunspell dictionary name such "
			                        "as \"en_US\"", entry, (int)len,
			                        p);
		if (p[len] == '\0')
			return NULL;
		p += len + 1;
	}
}

static char *
dictionary_path(const char *name, const char *suffix)
{
	return g_strdup_printf("%s/%s.%s", RG_HUNSPELL_DIR, name, suffix);
}

static int
dictionary_installed(const char *name)
{
	char *aff = dictionary_path(name, "aff");
	char *dic = dictionary_path(name, "dic");
	int ok = access(aff, R_OK) == 0 && access(dic, R_OK) == 0;

	g_free(aff);
	g_free(dic);
	return ok;
}

static void
set_dictionaries(struct rg_speller *sp, const char *language, size_t len,
                 const char *names, int configured)
{
	struct dictset *set = NULL;

	for (size_t i = 0; i < sp->n_sets; i++) {
		if (strlen(sp->sets[i].language) == len &&
		    strncmp(sp->sets[i].language, language, len) == 0) {
			set = &sp->sets[i];
			g_free(set->language);
			g_strfreev(set->names);
			break;
		}
	}
	if (set == NULL) {
		sp->sets = g_renew(struct dictset, sp->sets, sp->n_sets + 1);
		set = &sp->sets[sp->n_sets++];
	}
	memset(set, 0, sizeof(*set));
	set->language = g_strndup(language, len);
	set->names = g_strsplit(names, ",", -1);
	set->configured = configured;
}

int
rg_speller_new(const struct rg_settings *settings,
               struct rg_speller **sp_r, char **error_r)
{
	struct rg_speller *sp = g_new0(struct rg_speller, 1);

	*sp_r = NULL;
	for (size_t i = 0; i < G_N_ELEMENTS(builtin_dictionaries); i++)
		set_dictionaries(sp, builtin_dictionaries[i].language,
		                 strlen(builtin_dictionaries[i].language),
		                 builtin_dictionaries[i].dictionaries, 0);
	for (size_t i = 0; i < settings->spelling_dictionaries.count; i++) {
		const char *entry = settings->spelling_dictionaries.items[i];
		char *why = rg_spelling_entry_error(entry);
		const char *colon;

		if (why != NULL) {
			*error_r = rg_strdup_printf(
				"spelling: dictionaries: %s", why);
			g_free(why);
			goto fail;
		}
		colon = strchr(entry, ':');
		set_dictionaries(sp, entry, (size_t)(colon - entry), colon + 1,
		                 1);
	}
	/* dictionaries load on first use; a configured one must be there,
	 * a built-in language without any is dropped (not checked) */
	for (size_t i = 0; i < sp->n_sets;) {
		struct dictset *set = &sp->sets[i];
		int installed = 0;

		for (char **n = set->names; *n != NULL && !set->configured; n++)
			installed |= dictionary_installed(*n);
		if (!set->configured && !installed) {
			g_free(set->language);
			g_strfreev(set->names);
			*set = sp->sets[--sp->n_sets];
			continue;
		}
		i++;
		for (char **n = set->names; *n != NULL; n++) {
			if (set->configured && !dictionary_installed(*n)) {
				*error_r = rg_strdup_printf(
					"spelling: dictionary \"%s\" for "
					"\"%s\" is not installed "
					"(%s/%s.aff and .dic)", *n,
					set->language, RG_HUNSPELL_DIR, *n);
				goto fail;
			}
		}
	}
	for (size_t i = 0; i < sp->n_sets; i++)
		pthread_mutex_init(&sp->sets[i].lock, NULL);
	sp->words = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                  NULL);
	for (size_t i = 0; i < settings->spelling_words.count; i++) {
		char *w = g_utf8_strdown(settings->spelling_words.items[i], -1);

		g_hash_table_add(sp->words, w);
	}
	*sp_r = sp;
	return 0;
fail:
	for (size_t i = 0; i < sp->n_sets; i++) {
		g_free(sp->sets[i].language);
		g_strfreev(sp->sets[i].names);
	}
	g_free(sp->sets);
	g_free(sp);
	return -1;
}

void
rg_speller_free(struct rg_speller **sp_p)
{
	struct rg_speller *sp = *sp_p;

	if (sp == NULL)
		return;
	pthread_mutex_lock(&hunspell_global);
	for (size_t i = 0; i < sp->n_sets; i++) {
		struct dictset *set = &sp->sets[i];

		for (size_t j = 0; j < set->n_dicts; j++) {
			Hunspell_destroy(set->dicts[j].handle);
			g_free(set->dicts[j].encoding);
		}
		g_free(set->dicts);
		g_free(set->language);
		g_strfreev(set->names);
		pthread_mutex_destroy(&set->lock);
	}
	pthread_mutex_unlock(&hunspell_global);
	g_free(sp->sets);
	if (sp->words != NULL)
		g_hash_table_destroy(sp->words);
	g_free(sp);
	*sp_p = NULL;
}

/* load - the set's dictionaries, once; called with set->lock held */
static void
load(struct dictset *set)
{
	GPtrArray *seen = g_ptr_array_new_with_free_func(free);

	set->loaded = 1;
	for (char **n = set->names; *n != NULL; n++) {
		char *aff = dictionary_path(*n, "aff");
		char *dic = dictionary_path(*n, "dic");
		char *real = realpath(dic, NULL);
		int duplicate = 0;

		for (unsigned i = 0; real != NULL && i < seen->len; i++)
			duplicate |= strcmp(g_ptr_array_index(seen, i),
			                    real) == 0;
		if (real != NULL && !duplicate && access(aff, R_OK) == 0) {
			struct dictionary *d;
			const char *enc;

			g_ptr_array_add(seen, real);
			real = NULL;
			set->dicts = g_renew(struct dictionary, set->dicts,
			                     set->n_dicts + 1);
			d = &set->dicts[set->n_dicts++];
			d->encoding = NULL;
			pthread_mutex_lock(&hunspell_global);
			d->handle = Hunspell_create(aff, dic);
			pthread_mutex_unlock(&hunspell_global);
			if (d->handle == NULL)
				g_error("relaygate: out of memory loading %s",
				        dic);
			enc = Hunspell_get_dic_encoding(d->handle);
			if (enc != NULL &&
			    g_ascii_strcasecmp(enc, "UTF-8") != 0)
				d->encoding = g_strdup(enc);
		}
		free(real);
		g_free(aff);
		g_free(dic);
	}
	g_ptr_array_free(seen, TRUE);
}

/* ---- checking ------------------------------------------------------------ */

/* spell - 1 when a dictionary of the set accepts word (UTF-8); a set
 * whose dictionaries vanished since the policy was built accepts all */
static int
spell(const struct dictset *set, const char *word)
{
	if (set->n_dicts == 0)
		return 1;
	for (size_t i = 0; i < set->n_dicts; i++) {
		const struct dictionary *d = &set->dicts[i];
		int ok;

		if (d->encoding == NULL) {
			ok = Hunspell_spell(d->handle, word);
		} else {
			/* a letter its charset lacks: not its word */
			char *w = g_convert(word, -1, d->encoding, "UTF-8",
			                    NULL, NULL, NULL);

			ok = w != NULL && Hunspell_spell(d->handle, w);
			g_free(w);
		}
		if (ok)
			return 1;
	}
	return 0;
}

/* spell_any_case - as written, capitalised ("monday") or in capitals
 * ("usb"): a lower-case word is never wrong for its case alone */
static int
spell_any_case(const struct dictset *set, const char *word)
{
	char *variant;
	int ok;

	if (spell(set, word))
		return 1;
	{
		gunichar first = g_unichar_totitle(g_utf8_get_char(word));
		const char *rest = g_utf8_next_char(word);
		char buf[8];
		int n = g_unichar_to_utf8(first, buf);

		variant = g_strdup_printf("%.*s%s", n, buf, rest);
	}
	ok = spell(set, variant);
	g_free(variant);
	if (ok)
		return 1;
	variant = g_utf8_strup(word, -1);
	ok = spell(set, variant);
	g_free(variant);
	return ok;
}

/* noun - German: known capitalised only ("Wasser", not "wasser") */
static int
noun(const struct dictset *set, const char *word)
{
	gunichar first = g_unichar_totitle(g_utf8_get_char(word));
	char buf[8];
	int n = g_unichar_to_utf8(first, buf);
	char *capital = g_strdup_printf("%.*s%s", n, buf,
	                                g_utf8_next_char(word));
	int ok = !spell(set, word) && spell(set, capital);

	g_free(capital);
	return ok;
}

/*
 * compound - German writes a noun and an adjective as one lower-case word
 * ("wasser" + "dicht", "spülmaschinen" + "fest", "zahlung" + "s" +
 * "pflichtig") that the dictionary may not list.  Accepted when it splits
 * into a noun (perhaps with a linking "s") and a known lower-case word of
 * RG_SPELL_MIN_STEM characters or more, or another such compound.  Only
 * a noun on the left: "viel" + "eicht" or "stand" + "art" must stay
 * misspellings.
 */
static int
compound(const struct dictset *set, const char *word, int depth)
{
	glong chars = g_utf8_strlen(word, -1);
	const char *split;

	if (depth > 2 || chars < 3 + RG_SPELL_MIN_STEM ||
	    chars > RG_SPELL_MAX_COMPOUND)
		return 0;
	split = g_utf8_offset_to_pointer(word, 3);
	for (glong i = 3; i <= chars - RG_SPELL_MIN_STEM;
	     i++, split = g_utf8_next_char(split)) {
		size_t left_len = (size_t)(split - word);
		char *left = g_strndup(word, left_len);
		int ok = noun(set, left);

		if (!ok && i > 3 && left[left_len - 1] == 's') {
			left[left_len - 1] = '\0';
			ok = noun(set, left);
		}
		g_free(left);
		if (ok && (spell(set, split) ||
		           compound(set, split, depth + 1)))
			return 1;
	}
	return 0;
}

/* Prefixes the other languages join to words their dictionaries may not
 * list joined ("antiadherente", "multiuso", "supereinfach").  Not for
 * English, whose dictionaries list them and where "pre" + "from" would
 * hide the typo "prefrom". */
static const char *const free_prefixes[] = {
	"anti", "auto", "contra", "eco", "extra", "hiper", "hyper", "inter",
	"maxi", "mega", "micro", "mini", "multi", "post", "pre", "pro",
	"semi", "sobre", "sub", "super", "tele", "ultra",
};

/* affixed - a known word with a free prefix, or a Spanish diminutive
 * ("bolsita" from "bolsa"); called with set->lock held */
static int
affixed(const struct dictset *set, const char *word)
{
	static const char *const diminutives[] = {
		"itos", "itas", "ito", "ita", "illos", "illas", "illo", "illa",
	};
	static const char *const endings[] = { "o", "a", "e", "" };
	size_t len = strlen(word);

	for (size_t i = 0; i < G_N_ELEMENTS(free_prefixes) &&
	                   strcmp(set->language, "en") != 0; i++) {
		size_t n = strlen(free_prefixes[i]);
		const char *stem = word + n;

		if (strncmp(word, free_prefixes[i], n) == 0 &&
		    g_utf8_strlen(stem, -1) >= RG_SPELL_MIN_STEM &&
		    spell_any_case(set, *stem == '-' ? stem + 1 : stem))
			return 1;
	}
	if (strcmp(set->language, "es") != 0)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(diminutives); i++) {
		size_t n = strlen(diminutives[i]);

		if (len < n + 3 || strcmp(word + len - n, diminutives[i]) != 0)
			continue;
		for (size_t j = 0; j < G_N_ELEMENTS(endings); j++) {
			char *base = g_strdup_printf("%.*s%s", (int)(len - n),
			                             word, endings[j]);
			int ok = spell_any_case(set, base);

			g_free(base);
			if (ok)
				return 1;
		}
		break;
	}
	return 0;
}

struct check {
	rg_scan *scan;
	const struct rg_speller *speller;
	struct dictset *sets[8];
	size_t n_sets;
	GHashTable *reported;
	unsigned findings;
	unsigned words;
};

/* known - 1 when a language of the message accepts word */
static int
known(struct check *c, const char *word)
{
	if (g_hash_table_contains(c->speller->words, word))
		return 1;
	for (size_t i = 0; i < c->n_sets; i++) {
		struct dictset *set = c->sets[i];
		int ok;

		pthread_mutex_lock(&set->lock);
		if (!set->loaded) {
			/* once per policy: not this message's CPU time */
			int64_t paused = rg_budget_pause(c->scan);

			load(set);
			rg_budget_resume(c->scan, paused);
		}
		ok = spell_any_case(set, word) || affixed(set, word) ||
		     (strcmp(set->language, "de") == 0 &&
		      compound(set, word, 0));
		pthread_mutex_unlock(&set->lock);
		if (ok)
			return 1;
	}
	return 0;
}

/*
 * clean - text[start, end) as the dictionary spells it: typographic
 * apostrophes made ASCII, invisible characters dropped.  NULL when it is
 * no word to check: not all lower case, not Latin script, too short.
 */
static char *
clean(const char *text, size_t start, size_t end, int after_number)
{
	GString *w = g_string_sized_new(end - start);
	unsigned letters = 0;

	for (const char *p = text + start; p < text + end;
	     p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (g_unichar_type(c) == G_UNICODE_FORMAT)
			continue;
		if (c == 0x2019 || c == 0x02BC) {
			g_string_append_c(w, '\'');
			continue;
		}
		if (c == 0x2010 || c == 0x2011) {
			g_string_append_c(w, '-');
			continue;
		}
		if (g_unichar_isalpha(c)) {
			if (!g_unichar_islower(c) ||
			    g_unichar_get_script(c) != G_UNICODE_SCRIPT_LATIN)
				goto no;
			letters++;
		}
		g_string_append_unichar(w, c);
	}
	if (letters < RG_SPELL_MIN_CHARS || w->len > RG_SPELL_MAX_BYTES ||
	    (after_number && letters <= RG_SPELL_UNIT_CHARS))
		goto no;
	return g_string_free(w, FALSE);
no:
	g_string_free(w, TRUE);
	return NULL;
}

static void
report(struct check *c, const struct rg_part *part, size_t start,
       size_t end, char *word)
{
	if (c->findings >= RG_SPELL_MAX_FINDINGS ||
	    g_hash_table_contains(c->reported, word)) {
		g_free(word);
		return;
	}
	g_hash_table_add(c->reported, word);
	c->findings++;
	rg_report(c->scan, RG_RULE_SPELLING, part, start, end - start);
}

/* check_range - one word, or one part of a hyphenated word: reported
 * when no dictionary of the message's languages knows it */
static void
check_range(struct check *c, const struct rg_part *part, size_t start,
            size_t end, int after_number)
{
	char *word = clean(part->text, start, end, after_number);
	size_t len;

	if (word == NULL)
		return;
	if (known(c, word)) {
		g_free(word);
		return;
	}
	/* a possessive the dictionary does not list: "client's" */
	len = strlen(word);
	if (len > 2 && strcmp(word + len - 2, "'s") == 0) {
		word[len - 2] = '\0';
		if (known(c, word)) {
			g_free(word);
			return;
		}
		word[len - 2] = '\'';
	}
	report(c, part, start, end, word);
}

static int
is_hyphen_at(const char *p)
{
	gunichar ch = g_utf8_get_char(p);

	return ch == '-' || ch == 0x2010 || ch == 0x2011;
}

static int
check_word(const struct rg_word *wd, void *data)
{
	struct check *c = data;
	const char *text = wd->part->text;
	const char *p, *end = text + wd->end;
	char *whole;
	size_t s;
	int ok;

	if (c->findings >= RG_SPELL_MAX_FINDINGS ||
	    ++c->words > RG_SPELL_MAX_WORDS)
		return 1;
	for (p = text + wd->start; p < end && !is_hyphen_at(p);
	     p = g_utf8_next_char(p))
		;
	if (p == end) {
		check_range(c, wd->part, wd->start, wd->end, wd->after_number);
		return 0;
	}
	/* hyphenated: the whole as a dictionary may list it ("acid-free"),
	 * else each part ("fingering-weight") */
	whole = clean(text, wd->start, wd->end, 0);
	if (whole == NULL)
		return 0;
	ok = known(c, whole);
	g_free(whole);
	if (ok)
		return 0;
	s = wd->start;
	for (p = text + wd->start;; p = g_utf8_next_char(p)) {
		if (p == end || is_hyphen_at(p)) {
			size_t e = (size_t)(p - text);

			if (e > s)
				check_range(c, wd->part, s, e,
				            s == wd->start && wd->after_number);
			if (p == end)
				break;
			s = (size_t)(g_utf8_next_char(p) - text);
		}
	}
	return 0;
}

static void
add_set(struct check *c, const char *language)
{
	const struct rg_speller *sp = c->speller;

	for (size_t i = 0; i < c->n_sets; i++)
		if (strcmp(c->sets[i]->language, language) == 0)
			return;
	for (size_t i = 0; i < sp->n_sets; i++) {
		if (strcmp(sp->sets[i].language, language) == 0 &&
		    c->n_sets < G_N_ELEMENTS(c->sets)) {
			c->sets[c->n_sets++] = &sp->sets[i];
			return;
		}
	}
}

void
rg_rules_spelling(rg_scan *scan, const struct rg_view *view)
{
	struct check c;
	const char *language;
	const char *const *market;
	size_t locale_len;

	if (!rg_rule_active(scan, RG_RULE_SPELLING) ||
	    scan->policy->speller == NULL)
		return;
	memset(&c, 0, sizeof(c));
	c.scan = scan;
	c.speller = scan->policy->speller;
	language = rg_view_language(scan, view);
	market = rg_marketplace_languages(scan->policy, view->marketplace);
	if (language != NULL) {
		add_set(&c, language);
		if (c.n_sets == 0)   /* no dictionary: cannot judge */
			return;
	}
	for (size_t i = 0; market != NULL && market[i] != NULL; i++)
		add_set(&c, market[i]);
	/* the buyer's own language, from the order data ("pt_BR") */
	locale_len = strcspn(scan->buyer_locale, "_-.@");
	if (locale_len == 2 || locale_len == 3) {
		char code[4] = { 0 };

		for (size_t i = 0; i < locale_len; i++)
			code[i] = g_ascii_tolower(scan->buyer_locale[i]);
		add_set(&c, code);
	}
	if (c.n_sets == 0)
		return;
	c.reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
	                                   NULL);
	/* the subject is the seller's too, unless it repeats the buyer's */
	rg_view_words(scan, view, !view->is_reply, check_word, &c);
	g_hash_table_destroy(c.reported);
}
