/*
 * load.c - read relaygate.conf with libconfig and validate it against a
 * table of known keys: every error names the file, the line and what is
 * wrong, and an unknown key is an error (a typo must not silently fall
 * back to a default).
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libconfig.h>

#include "conf/config.h"
#include "conf/loader.h"




static const struct key milter_keys[] = {
	{ "socket", T_STRING, CFG(socket) },
	{ "spool_dir", T_STRING, CFG(spool_dir) },
	{ "user", T_STRING, CFG(user) },
	{ "group", T_STRING, CFG(group) },
	{ NULL, 0, 0 },
};

static const struct key limit_keys[] = {
	{ "max_message_size", T_SIZE, SET(max_message_bytes) },
	{ "memory_spool", T_SIZE, SET(memory_spool_bytes) },
	{ "max_mime_parts", T_UINT, SET(max_mime_parts) },
	{ "max_mime_depth", T_UINT, SET(max_mime_depth) },
	{ "max_header_size", T_SIZE, SET(max_header_bytes) },
	{ "max_header_fields", T_UINT, SET(max_header_fields) },
	{ "max_text_size", T_SIZE, SET(max_text_bytes) },
	{ "max_html_elements", T_UINT, SET(max_html_elements) },
	{ "max_html_depth", T_UINT, SET(max_html_depth) },
	{ "match_limit", T_UINT, SET(match_limit) },
	{ "depth_limit", T_UINT, SET(depth_limit) },
	{ "cpu_budget", T_MSEC, SET(cpu_budget_ms) },
	{ "excerpt_chars", T_UINT, SET(excerpt_chars) },
	{ NULL, 0, 0 },
};

/* Parameters a rule takes besides "action". */
static const struct rule_keys {
	rg_rule rule;
	struct key keys[5];
} rule_params[] = {
	{ RG_RULE_EXTERNAL_LINK,
	  { { "allowed_domains", T_LIST, SET(allowed_link_domains) },
	    { NULL, 0, 0 } } },
	{ RG_RULE_EMAIL_ADDRESS,
	  { { "allowed", T_LIST, SET(allowed_emails) }, { NULL, 0, 0 } } },
	{ RG_RULE_PHONE_NUMBER,
	  { { "allowed", T_LIST, SET(allowed_phones) }, { NULL, 0, 0 } } },
	{ RG_RULE_UNAPPROVED_SENDER,
	  { { "approved", T_LIST, SET(approved_senders) }, { NULL, 0, 0 } } },
	{ RG_RULE_LANGUAGE,
	  { { "accepted", T_LIST, SET(language_accepted) }, { NULL, 0, 0 } } },
	{ RG_RULE_SPELLING,
	  { { "dictionaries", T_LIST, SET(spelling_dictionaries) },
	    { "words", T_LIST, SET(spelling_words) },
	    { NULL, 0, 0 } } },
	{ RG_RULE_ATTACHMENT,
	  { { "purposes", T_LIST, SET(attachment_names) },
	    { "types", T_LIST, SET(attachment_types) },
	    { "max_count", T_UINT, SET(max_attachments) },
	    { "max_total_size", T_SIZE, SET(max_attachment_bytes) },
	    { NULL, 0, 0 } } },
};

static const struct key no_keys[] = { { NULL, 0, 0 } };

void
rg_loader_fail(struct loader *l, const config_setting_t *where, const char *fmt, ...)
{
	va_list ap;
	char *what;

	if (l->error != NULL)
		return;
	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	l->error = g_strdup_printf("%s:%u: %s", l->path,
	                           where ? config_setting_source_line(where)
	                                 : 0,
	                           what);
	g_free(what);
}

int
rg_parse_size(const char *s, size_t *size_r)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'K': case 'k': n <<= 10; end++; break;
	case 'M': case 'm': n <<= 20; end++; break;
	case 'G': case 'g': n <<= 30; end++; break;
	default: break;
	}
	if (*end != '\0' || n > SIZE_MAX / 2)
		return -1;
	*size_r = (size_t)n;
	return 0;
}

int
rg_parse_msec(const char *s, unsigned *ms_r)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-' || *s == '+')
		return -1;
	if (strcmp(end, "s") == 0) {
		if (n > UINT32_MAX / 1000)
			return -1;
		n *= 1000;
	} else if (strcmp(end, "ms") != 0) {
		return -1;
	}
	if (n == 0 || n > UINT32_MAX)
		return -1;
	*ms_r = (unsigned)n;
	return 0;
}

void
rg_loader_set(struct loader *l, const struct key *key, config_setting_t *s)
{
	void *target = (char *)l->config + key->offset;
	int type = config_setting_type(s);

	switch (key->type) {
	case T_STRING:
		if (type != CONFIG_TYPE_STRING) {
			rg_loader_fail(l, s, "%s must be a string", key->name);
			return;
		}
		g_free(*(char **)target);
		*(char **)target = g_strdup(config_setting_get_string(s));
		return;
	case T_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			rg_loader_fail(l, s, "%s must be true or false", key->name);
			return;
		}
		*(int *)target = config_setting_get_bool(s);
		return;
	case T_UINT: {
		long long n;

		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			rg_loader_fail(l, s, "%s must be a number", key->name);
			return;
		}
		n = config_setting_get_int64(s);
		if (n <= 0 || n > UINT32_MAX) {
			rg_loader_fail(l, s, "%s must be between 1 and %u", key->name,
			     UINT32_MAX);
			return;
		}
		/* every T_UINT member is unsigned or uint32_t */
		*(uint32_t *)target = (uint32_t)n;
		return;
	}
	case T_SIZE: {
		size_t n;

		if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
			long long v = config_setting_get_int64(s);

			if (v <= 0) {
				rg_loader_fail(l, s, "%s must be positive", key->name);
				return;
			}
			n = (size_t)v;
		} else if (type != CONFIG_TYPE_STRING ||
		           rg_parse_size(config_setting_get_string(s), &n) < 0 ||
		           n == 0) {
			rg_loader_fail(l, s, "%s must be a size such as 1048576 or \"1M\"",
			     key->name);
			return;
		}
		*(size_t *)target = n;
		return;
	}
	case T_LIST: {
		struct rg_strlist *list = target;

		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
			rg_loader_fail(l, s, "%s must be a list of strings [ \"...\" ]",
			     key->name);
			return;
		}
		rg_strlist_clear(list);
		for (int i = 0; i < config_setting_length(s); i++) {
			config_setting_t *item = config_setting_get_elem(s, i);
			const char *v = config_setting_get_string(item);

			if (v == NULL || *v == '\0') {
				rg_loader_fail(l, item, "%s: item %d must be a non-empty "
				     "string", key->name, i + 1);
				return;
			}
			rg_strlist_add(list, v);
		}
		return;
	}
	case T_MSEC:
		/* every T_MSEC member is unsigned */
		if (type != CONFIG_TYPE_STRING ||
		    rg_parse_msec(config_setting_get_string(s),
		                  (unsigned *)target) < 0)
			rg_loader_fail(l, s, "%s must be a duration such as \"2s\" "
			               "or \"500ms\"", key->name);
		return;
	case T_GROUP:
		return;
	}
}

/* load_group - every member of group must be a known key */
void
rg_loader_group(struct loader *l, config_setting_t *group,
           const struct key *keys, const char *also_allowed)
{
	if (!config_setting_is_group(group)) {
		rg_loader_fail(l, group, "%s must be a group { ... }",
		     config_setting_name(group));
		return;
	}
	for (int i = 0; i < config_setting_length(group); i++) {
		config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		const struct key *key = keys;

		while (key->name != NULL && strcmp(key->name, name) != 0)
			key++;
		if (key->name != NULL)
			rg_loader_set(l, key, s);
		else if (also_allowed == NULL || strcmp(also_allowed, name) != 0)
			rg_loader_fail(l, s, "unknown setting \"%s\" in %s", name,
			     config_setting_name(group) ? config_setting_name(group)
			                                : "the file");
	}
}

/* List parameters whose items have a shape the engine checks, so that a
 * bad item is reported at its own line. */
static const struct item_check {
	rg_rule rule;
	const char *key;
	char *(*check)(const char *item);
} item_checks[] = {
	{ RG_RULE_LANGUAGE, "accepted", rg_language_entry_error },
	{ RG_RULE_SPELLING, "dictionaries", rg_spelling_entry_error },
};

static void
check_items(struct loader *l, rg_rule rule, config_setting_t *group)
{
	for (size_t i = 0; i < G_N_ELEMENTS(item_checks) && !l->error; i++) {
		config_setting_t *list;

		if (item_checks[i].rule != rule)
			continue;
		list = config_setting_get_member(group, item_checks[i].key);
		for (int j = 0; list != NULL && !l->error &&
		                j < config_setting_length(list); j++) {
			config_setting_t *item = config_setting_get_elem(list, j);
			char *why = item_checks[i].check(
				config_setting_get_string(item));

			if (why != NULL) {
				rg_loader_fail(l, item, "rule %s: %s: %s",
				               rg_rule_name(rule), item_checks[i].key,
				               why);
				free(why);
			}
		}
	}
}

static void
load_rules(struct loader *l, config_setting_t *rules)
{
	if (!config_setting_is_group(rules)) {
		rg_loader_fail(l, rules, "rules must be a group { ... }");
		return;
	}
	for (int i = 0; i < config_setting_length(rules); i++) {
		config_setting_t *s = config_setting_get_elem(rules, i);
		const char *name = config_setting_name(s);
		const struct key *keys = no_keys;
		const char *action_name;
		rg_rule rule;
		rg_action action;

		if (rg_rule_lookup(name, &rule) < 0) {
			rg_loader_fail(l, s, "unknown rule \"%s\"", name);
			return;
		}
		if (!config_setting_is_group(s)) {
			rg_loader_fail(l, s, "rule %s must be a group { action = ...; }",
			     name);
			return;
		}
		if (config_setting_lookup_string(s, "action", &action_name)) {
			if (rg_action_parse(action_name, &action) < 0) {
				rg_loader_fail(l, config_setting_get_member(s, "action"),
				     "rule %s: action \"%s\" is not reject, "
				     "quarantine, warn or off", name, action_name);
				return;
			}
			l->config->settings.actions[rule] = action;
		} else if (config_setting_get_member(s, "action") != NULL) {
			rg_loader_fail(l, config_setting_get_member(s, "action"),
			     "rule %s: action must be a string", name);
			return;
		}
		for (size_t j = 0; j < G_N_ELEMENTS(rule_params); j++)
			if (rule_params[j].rule == rule)
				keys = rule_params[j].keys;
		rg_loader_group(l, s, keys, "action");
		check_items(l, rule, s);
	}
}

static void
load_root(struct loader *l, config_t *cfg)
{
	config_setting_t *root = config_root_setting(cfg);

	for (int i = 0; i < config_setting_length(root) && !l->error; i++) {
		config_setting_t *s = config_setting_get_elem(root, i);
		const char *name = config_setting_name(s);

		if (strcmp(name, "milter") == 0) {
			rg_loader_group(l, s, milter_keys, NULL);
		} else if (strcmp(name, "limits") == 0) {
			rg_loader_group(l, s, limit_keys, NULL);
		} else if (strcmp(name, "rules") == 0) {
			load_rules(l, s);
		} else if (strcmp(name, "phrases") == 0) {
			rg_conf_load_phrases(l, s);
		} else if (strcmp(name, "quarantine") == 0) {
			rg_load_quarantine(l, s);
		} else if (strcmp(name, "orders") == 0) {
			rg_load_orders(l, s);
		} else if (strcmp(name, "mode") == 0) {
			const char *mode = config_setting_get_string(s);

			if (mode != NULL && strcmp(mode, "enforce") == 0)
				l->config->mode = RG_MODE_ENFORCE;
			else if (mode != NULL && strcmp(mode, "monitor") == 0)
				l->config->mode = RG_MODE_MONITOR;
			else
				rg_loader_fail(l, s, "mode must be \"enforce\" or "
				               "\"monitor\"");
		} else if (strcmp(name, "relay_domains") == 0) {
			static const struct key relay = {
				"relay_domains", T_LIST, SET(relay_domains)
			};

			rg_loader_set(l, &relay, s);
			if (!l->error &&
			    l->config->settings.relay_domains.count == 0)
				rg_loader_fail(l, s, "relay_domains must not be empty");
		} else {
			rg_loader_fail(l, s, "unknown setting \"%s\"", name);
		}
	}
}

static void
config_defaults(struct rg_config *config)
{
	memset(config, 0, sizeof(*config));
	config->socket = g_strdup("unix:/run/relaygate/milter.sock");
	config->spool_dir = g_strdup("/var/spool/relaygate");
	config->user = g_strdup("relaygate");
	config->group = g_strdup("");
	rg_settings_init(&config->settings);
	rg_quarantine_defaults(&config->quarantine);
	rg_orders_defaults(&config->orders);
}

int
rg_config_load(const char *path, struct rg_config *config, char **error_r)
{
	struct loader l = { path, config, NULL };
	config_t cfg;
	char *dir;

	config_defaults(config);
	config->path = g_strdup(path);
	config_init(&cfg);
	/* @include "rules/en.conf" is relative to the main file */
	dir = g_path_get_dirname(path);
	config_set_include_dir(&cfg, dir);
	if (!config_read_file(&cfg, path)) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			l.error = g_strdup_printf("%s: cannot read: %s", path,
			                          strerror(errno ? errno
			                                         : ENOENT));
		else
			l.error = g_strdup_printf("%s:%d: %s",
			                          config_error_file(&cfg)
			                              ? config_error_file(&cfg)
			                              : path,
			                          config_error_line(&cfg),
			                          config_error_text(&cfg));
	} else {
		load_root(&l, &cfg);
	}
	config_destroy(&cfg);
	g_free(dir);
	if (l.error != NULL) {
		rg_config_clear(config);
		*error_r = l.error;
		return -1;
	}
	return 0;
}

void
rg_config_clear(struct rg_config *config)
{
	g_free(config->path);
	g_free(config->socket);
	g_free(config->spool_dir);
	g_free(config->user);
	g_free(config->group);
	rg_quarantine_clear(&config->quarantine);
	rg_orders_clear(&config->orders);
	rg_settings_clear(&config->settings);
	memset(config, 0, sizeof(*config));
}
