/*
 * phrases.c - the "phrases" group: phrase lists per language, usually
 * @included from rules/LANG.conf (the format is documented at the top of
 * conf/rules/en.conf):
 *
 *   phrases: {
 *     en: {
 *       opt-out = [ "unsubscribe", "opt[- ]?out" ];
 *       review-incentive: {
 *         phrases = [ "in exchange for (?:a|your) review" ];
 *         together = ( ( [ "refund\\w*", "gift cards?" ],
 *                        [ "reviews?", "feedback" ] ) );
 *       };
 *       thank-you-only: { when = [ "thanks?" ]; unless = [ "deliver\\w*" ]; };
 *     };
 *     ja: { word_boundaries = false; ... };
 *   };
 *
 * Every fragment is compiled here on its own, so that a bad one is
 * reported with its file and line (an included file's own name).
 */
#include <stdarg.h>
#include <string.h>

#include <glib.h>
#include <libconfig.h>

#include "conf/config.h"
#include "conf/loader.h"

/* fail - like rg_loader_fail, but naming the file the setting is in
 * (an @included rules file, not only the main one) */
static void
fail(struct loader *l, const config_setting_t *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
fail(struct loader *l, const config_setting_t *where, const char *fmt, ...)
{
	const char *file = where ? config_setting_source_file(where) : NULL;
	char *what, *path;
	va_list ap;

	if (l->error != NULL)
		return;
	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (file == NULL || strcmp(file, l->path) == 0 ||
	    g_path_is_absolute(file)) {
		path = g_strdup(file ? file : l->path);
	} else {
		/* libconfig names an included file as written, relative to
		 * the include directory: the main file's */
		char *dir = g_path_get_dirname(l->path);

		path = g_build_filename(dir, file, NULL);
		g_free(dir);
	}
	l->error = g_strdup_printf("%s:%u: %s", path,
	                           where ? config_setting_source_line(where)
	                                 : 0,
	                           what);
	g_free(path);
	g_free(what);
}

/* valid_language - "en", "de", "pt_br", "zh-hant": lower-case letters,
 * '-' and '_', 2 to 16 of them */
static int
valid_language(const char *name)
{
	size_t len = strlen(name);

	if (len < 2 || len > 16)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '-' ||
		      name[i] == '_'))
			return 0;
	return 1;
}

/* load_list - an array of fragments, each checked, appended to list */
static void
load_list(struct loader *l, config_setting_t *s, const char *where,
          struct rg_strlist *list)
{
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		fail(l, s, "%s must be a list of phrases [ \"...\", ... ]", where);
		return;
	}
	for (int i = 0; i < config_setting_length(s) && !l->error; i++) {
		config_setting_t *item = config_setting_get_elem(s, i);
		const char *v = config_setting_get_string(item);
		char *why;

		if (v == NULL) {
			fail(l, item, "%s: item %d must be a string", where, i + 1);
			return;
		}
		why = rg_phrase_check(v);
		if (why != NULL) {
			fail(l, item, "%s: item %d \"%s\": %s", where, i + 1, v,
			     why);
			g_free(why);
			return;
		}
		rg_strlist_add(list, v);
	}
}

/* load_groups - together/nearby: a list of groups, each a list of 2 to
 * RG_PHRASE_GROUP_LISTS lists of fragments */
static void
load_groups(struct loader *l, config_setting_t *s, const char *where,
            struct rg_phrase_rule *rule, unsigned sentences)
{
	if (config_setting_type(s) != CONFIG_TYPE_LIST) {
		fail(l, s, "%s must be a list of groups "
		     "( ( [ \"...\" ], [ \"...\" ] ), ... )", where);
		return;
	}
	for (int g = 0; g < config_setting_length(s) && !l->error; g++) {
		config_setting_t *gs = config_setting_get_elem(s, g);
		struct rg_phrase_group *group;
		int n = config_setting_length(gs);

		if (config_setting_type(gs) != CONFIG_TYPE_LIST ||
		    n < 2 || n > RG_PHRASE_GROUP_LISTS) {
			fail(l, gs, "%s: group %d must be a list of 2 to %d "
			     "lists ( [ \"...\" ], [ \"...\" ] )", where, g + 1,
			     RG_PHRASE_GROUP_LISTS);
			return;
		}
		group = rg_phrase_group_add(rule, sentences);
		group->n_lists = (unsigned)n;
		for (int j = 0; j < n && !l->error; j++) {
			char *what = g_strdup_printf("%s: group %d, list %d",
			                             where, g + 1, j + 1);

			load_list(l, config_setting_get_elem(gs, j), what,
			          &group->lists[j]);
			g_free(what);
		}
	}
}

/* load_rule - a rule's phrases: a list (its "phrases"), or a group */
static void
load_rule(struct loader *l, config_setting_t *s, const char *lang,
          struct rg_phrase_rule *rule)
{
	const char *name = config_setting_name(s);
	char *where = g_strdup_printf("phrases: %s: %s", lang, name);

	if (config_setting_type(s) == CONFIG_TYPE_ARRAY ||
	    config_setting_type(s) == CONFIG_TYPE_LIST) {
		load_list(l, s, where, &rule->phrases);
	} else if (!config_setting_is_group(s)) {
		fail(l, s, "%s must be a list of phrases or a group { ... }",
		     where);
	} else {
		for (int i = 0; i < config_setting_length(s) && !l->error;
		     i++) {
			config_setting_t *m = config_setting_get_elem(s, i);
			const char *key = config_setting_name(m);
			char *what = g_strdup_printf("%s: %s", where, key);

			if (strcmp(key, "phrases") == 0)
				load_list(l, m, what, &rule->phrases);
			else if (strcmp(key, "when") == 0)
				load_list(l, m, what, &rule->when);
			else if (strcmp(key, "unless") == 0)
				load_list(l, m, what, &rule->unless);
			else if (strcmp(key, "together") == 0)
				load_groups(l, m, what, rule, 1);
			else if (strcmp(key, "nearby") == 0)
				load_groups(l, m, what, rule, 2);
			else
				fail(l, m, "unknown setting \"%s\" in %s (phrases, "
				     "together, nearby, when, unless)", key, where);
			g_free(what);
		}
		if (!l->error && rule->unless.count > 0 &&
		    rule->when.count == 0)
			fail(l, s, "%s: \"unless\" needs \"when\"", where);
	}
	g_free(where);
}

static void
load_language(struct loader *l, config_setting_t *s)
{
	const char *name = config_setting_name(s);
	struct rg_phrases *phrases = &l->config->settings.phrases;
	struct rg_phrase_lang *lang;

	if (!valid_language(name)) {
		fail(l, s, "phrases: \"%s\" is not a language name (\"en\", "
		     "\"de\", ...)", name);
		return;
	}
	if (!config_setting_is_group(s)) {
		fail(l, s, "phrases: %s must be a group { ... }", name);
		return;
	}
	for (size_t i = 0; i < phrases->count; i++) {
		if (strcmp(phrases->langs[i].name, name) == 0) {
			fail(l, s, "phrases: %s is given twice", name);
			return;
		}
	}
	lang = rg_phrases_add_lang(phrases, name);
	for (int i = 0; i < config_setting_length(s) && !l->error; i++) {
		config_setting_t *m = config_setting_get_elem(s, i);
		const char *key = config_setting_name(m);
		rg_rule rule;

		if (strcmp(key, "word_boundaries") == 0) {
			if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
				fail(l, m, "phrases: %s: word_boundaries must be "
				     "true or false", name);
				return;
			}
			lang->word_boundaries = config_setting_get_bool(m);
		} else if (rg_rule_lookup(key, &rule) < 0 ||
		           !rg_phrase_is_rule(rule)) {
			fail(l, m, "phrases: %s: \"%s\" is not a phrase rule",
			     name, key);
		} else {
			load_rule(l, m, name, &lang->rules[rule]);
		}
	}
}

void
rg_conf_load_phrases(struct loader *l, config_setting_t *group)
{
	if (!config_setting_is_group(group)) {
		fail(l, group, "phrases must be a group { en: { ... }; ... }");
		return;
	}
	/* a second "phrases" group (libconfig allows none) replaces */
	rg_phrases_clear(&l->config->settings.phrases);
	for (int i = 0; i < config_setting_length(group) && !l->error; i++)
		load_language(l, config_setting_get_elem(group, i));
}
