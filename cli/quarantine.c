/*
 * quarantine.c - relaygate quarantine: review held messages.
 *
 *   relaygate quarantine [-c CONFIG] COMMAND [OPTIONS] ...
 *     list [--json] [--all | --state S] [--rule R] [--sender A]
 *          [--user U] [--since AGE] [--older-than AGE] [--limit N]
 *     show [--raw] ID
 *     release [--reason TEXT] [--resume] ID...
 *     drop [--reason TEXT] ID...
 *     purge [--older-than AGE] [--dry-run]
 *     stats [--since AGE] [--json]
 *     flush
 *
 * The store belongs to the user relaygate-milter runs as; reviewers run
 * this through sudo as that user (or as root, which acts as the store's
 * owner), and only root and members of quarantine.review_group may.
 * Every release, drop and purge is logged (syslog, mail facility, and the
 * store's audit table) with the Unix user who did it and the reason.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "cli.h"
#include "conf/config.h"
#include "internal.h"
#include "relaygate.h"
#include "json.h"
#include "store/quarantine.h"

struct qctx {
	const char *config_path;
	struct rg_config config;
	int have_config;
	rg_policy *policy;
	rgq_store *store;
	struct rgq_delivery delivery;
	struct rgq_notice_params notice;
	char hostname[256];
	char *actor;                 /* for the log: "alice (as relaygate)" */
	struct rgq_review review;
};

static void
usage(FILE *out)
{
	fprintf(out,
"usage: relaygate quarantine [-c CONFIG] COMMAND [OPTIONS] ...\n"
"  Review the messages relaygate-milter held for review.\n"
"\n"
"  list [--json] [--all | --state STATE] [--rule RULE] [--sender ADDRESS]\n"
"       [--user SASL-USER] [--since AGE] [--older-than AGE] [--limit N]\n"
"      held messages, newest first (--all: every state; STATE: held,\n"
"      releasing, released, dropped); --json prints one object a line\n"
"  show [--raw] ID\n"
"      headers, findings with each excerpt marked in its line, the\n"
"      decoded visible text; --raw: the original bytes\n"
"  release [--reason TEXT] [--resume] ID...\n"
"      deliver to the original recipients, once; the sender is told\n"
"      (--resume: a release that died with the record \"releasing\")\n"
"  drop [--reason TEXT] ID...\n"
"      delete the message; the sender is told\n"
"  purge [--older-than AGE] [--dry-run]\n"
"      drop held messages and delete records older than AGE (default:\n"
"      quarantine.retention; relaygate-milter does this hourly)\n"
"  stats [--since AGE] [--json]\n"
"      held, released, dropped; by rule and by sender (default: 7d)\n"
"  flush\n"
"      send queued notices now (relaygate-milter retries them anyway)\n"
"\n"
"  AGE: a number and a unit: 90m, 12h, 30d, 2w.  ID: the record id, or\n"
"  its first %d or more digits.  Without -c: %s.\n"
"  Run it as root or through sudo as the store's owner, e.g.\n"
"    sudo -u relaygate relaygate quarantine list\n"
"  Only root and members of quarantine.review_group may.\n"
"  Exit: 0 done, 1 an action could not be done, 2 error.\n",
	        RGQ_ID_MIN_PREFIX, RG_DEFAULT_CONFIG);
}

/* ------------------------------------------------------------- output */

/*
 * put_safe - text for a terminal: control characters (but tab and, with
 * newlines, LF) as '?', so a message cannot drive the reviewer's terminal
 */
static void
put_safe(FILE *out, const char *s, int newlines)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && *p != '\t' && !(newlines && *p == '\n')) ||
		    *p == 0x7f)
			fputc('?', out);
		else
			fputc(*p, out);
	}
}

static char *
format_time(int64_t t, int iso)
{
	GDateTime *dt = iso ? g_date_time_new_from_unix_utc(t)
	                    : g_date_time_new_from_unix_local(t);
	char *s;

	if (dt == NULL)
		return g_strdup("?");
	s = g_date_time_format(dt, iso ? "%Y-%m-%dT%H:%M:%SZ"
	                               : "%Y-%m-%d %H:%M:%S");
	g_date_time_unref(dt);
	return s;
}

/* rules_of - the distinct rule ids of a record, comma-separated */
static char *
rules_of(const struct rgq_record *rec)
{
	GString *s = g_string_new(NULL);
	int seen[RG_RULE_COUNT] = { 0 };

	for (size_t i = 0; i < rec->n_findings; i++) {
		rg_rule r = rec->findings[i].rule;

		if ((unsigned)r >= RG_RULE_COUNT || seen[r]++)
			continue;
		if (s->len > 0)
			g_string_append_c(s, ',');
		g_string_append(s, rg_rule_name(r));
	}
	return g_string_free(s, FALSE);
}

static void
json_record(GString *j, const struct rgq_record *rec)
{
	char *t = format_time(rec->created, 1);
	int seen[RG_RULE_COUNT] = { 0 }, first = 1;

	g_string_append(j, "{\"id\":");
	rg_json_string(j, rec->id);
	g_string_append(j, ",\"created\":");
	rg_json_string(j, t);
	g_free(t);
	g_string_append(j, ",\"state\":");
	rg_json_string(j, rgq_state_name(rec->state));
	t = format_time(rec->state_time, 1);
	g_string_append(j, ",\"state_time\":");
	rg_json_string(j, t);
	g_free(t);
	g_string_append(j, ",\"actor\":");
	rg_json_string(j, rec->actor);
	g_string_append(j, ",\"reason\":");
	rg_json_string(j, rec->reason);
	g_string_append(j, ",\"queue_id\":");
	rg_json_string(j, rec->queue_id);
	g_string_append(j, ",\"sender\":");
	rg_json_string(j, rec->sender);
	g_string_append(j, ",\"recipients\":[");
	for (size_t i = 0; i < rec->recipients.count; i++) {
		if (i > 0)
			g_string_append_c(j, ',');
		rg_json_string(j, rec->recipients.items[i]);
	}
	g_string_append(j, "],\"auth_user\":");
	rg_json_string(j, rec->auth_user);
	g_string_append(j, ",\"subject\":");
	rg_json_string(j, rec->subject);
	g_string_append_printf(j, ",\"size\":%llu,\"verdict\":",
	                       (unsigned long long)rec->size);
	rg_json_string(j, rg_verdict_name(rec->verdict));
	g_string_append(j, ",\"rules\":[");
	for (size_t i = 0; i < rec->n_findings; i++) {
		rg_rule r = rec->findings[i].rule;

		if ((unsigned)r >= RG_RULE_COUNT || seen[r]++)
			continue;
		if (!first)
			g_string_append_c(j, ',');
		first = 0;
		rg_json_string(j, rg_rule_name(r));
	}
	g_string_append(j, "],\"findings\":[");
	for (size_t i = 0; i < rec->n_findings; i++) {
		if (i > 0)
			g_string_append_c(j, ',');
		rg_json_finding(j, &rec->findings[i], 0);
	}
	g_string_append(j, "]}");
}

/* ------------------------------------------------------------- setup */

static void
cli_logger(int priority, const char *fmt, va_list ap)
{
	va_list copy;

	va_copy(copy, ap);
	vsyslog(LOG_MAIL | priority, fmt, copy);
	va_end(copy);
	if (priority <= LOG_WARNING) {
		fputs("relaygate: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

/*
 * who - the Unix user behind this command: the real user, or with sudo
 * the user who ran sudo.  *name_r is the name the review group is checked
 * for; the result is what the log says.  SUDO_USER is believed only where
 * sudo can have set it: for root, or for the owner of the store (the
 * sudoers line runs the command as that user).  Anyone else could name a
 * reviewer in it.
 */
static char *
who(const char *store_dir, char **name_r)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");
	char *self = pw != NULL ? g_strdup(pw->pw_name)
	                        : g_strdup_printf("uid %ld", (long)getuid());
	char *actor;
	struct stat st;
	int trusted = getuid() == 0 ||
	              (stat(store_dir, &st) == 0 && st.st_uid == getuid());

	if (trusted && sudo != NULL && sudo[0] != '\0' &&
	    strcmp(sudo, self) != 0) {
		*name_r = g_strdup(sudo);
		actor = g_strdup_printf("%s (as %s)", sudo, self);
	} else {
		*name_r = g_strdup(self);
		actor = g_strdup(self);
	}
	g_free(self);
	return actor;
}

/*
 * in_review_group - 0 when name may review (root, or a member of group),
 * else -1 after saying why
 */
static int
in_review_group(const char *name, const char *group)
{
	struct passwd *pw;
	struct group *gr;
	gid_t groups[256];
	int n = (int)G_N_ELEMENTS(groups);

	if (group == NULL || group[0] == '\0' || strcmp(name, "root") == 0)
		return 0;
	gr = getgrnam(group);
	if (gr == NULL) {
		fprintf(stderr, "relaygate: the review group \"%s\" "
		        "(quarantine.review_group) does not exist\n", group);
		return -1;
	}
	pw = getpwnam(name);
	if (pw != NULL &&
	    getgrouplist(name, pw->pw_gid, groups, &n) >= 0) {
		for (int i = 0; i < n; i++)
			if (groups[i] == gr->gr_gid)
				return 0;
	}
	for (char **m = gr->gr_mem; m != NULL && *m != NULL; m++)
		if (strcmp(*m, name) == 0)
			return 0;
	fprintf(stderr, "relaygate: %s is not in the review group \"%s\" "
	        "(quarantine.review_group)\n", name, group);
	return -1;
}

/*
 * become_owner - run as root: act as the store's owner, so that what
 * this command creates (the index's journal, the key) stays usable by
 * relaygate-milter.  0 or -1.
 */
static int
become_owner(const char *dir)
{
	struct stat st;

	if (geteuid() != 0 || stat(dir, &st) < 0 || st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 ||
	    setuid(st.st_uid) < 0 || setuid(0) == 0) {
		fprintf(stderr, "relaygate: cannot become the owner (uid %ld) "
		        "of %s: %s\n", (long)st.st_uid, dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void
ctx_clear(struct qctx *c)
{
	rgq_store_close(&c->store);
	rg_policy_unref(&c->policy);
	if (c->have_config)
		rg_config_clear(&c->config);
	g_free(c->actor);
}

/*
 * ctx_open - configuration, who, the group check, the store, the policy
 */
static int
ctx_open(struct qctx *c)
{
	const struct rg_quarantine_config *q;
	const char *sudo_uid = getenv("SUDO_UID");
	char *error = NULL, *name = NULL;

	if (c->config_path != NULL && sudo_uid != NULL && getuid() != 0 &&
	    strcmp(sudo_uid, "0") != 0 &&
	    strcmp(c->config_path, RG_DEFAULT_CONFIG) != 0) {
		/* another file could name another store, or a program to
		 * run as the store's owner */
		fprintf(stderr, "relaygate: -c is not allowed through sudo "
		        "(the review uses %s)\n", RG_DEFAULT_CONFIG);
		return -1;
	}
	if (c->config_path == NULL)
		c->config_path = RG_DEFAULT_CONFIG;
	if (rg_config_load(c->config_path, &c->config, &error) < 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		free(error);
		return -1;
	}
	c->have_config = 1;
	q = &c->config.quarantine;
	c->actor = who(q->store_dir, &name);
	if (in_review_group(name, q->review_group) < 0) {
		g_free(name);
		return -1;
	}
	g_free(name);
	if (become_owner(q->store_dir) < 0)
		return -1;
	c->store = rgq_store_open(q->store_dir, 0, &error);
	if (c->store == NULL) {
		fprintf(stderr, "relaygate: quarantine store: %s%s\n", error,
		        g_file_test(q->store_dir, G_FILE_TEST_EXISTS) ? ""
		        : " (relaygate-milter makes it when it starts)");
		g_free(error);
		return -1;
	}
	c->policy = rg_policy_build(&c->config.settings, &error);
	if (c->policy == NULL) {
		fprintf(stderr, "relaygate: %s: %s\n", c->config_path, error);
		free(error);
		return -1;
	}
	c->delivery.method = q->delivery_smtp ? RGQ_SMTP : RGQ_SENDMAIL;
	c->delivery.host = q->smtp_host;
	c->delivery.port = q->smtp_port;
	c->delivery.sendmail = q->sendmail;
	c->delivery.timeout = 120;
	if (gethostname(c->hostname, sizeof(c->hostname)) < 0)
		g_strlcpy(c->hostname, "localhost", sizeof(c->hostname));
	c->hostname[sizeof(c->hostname) - 1] = '\0';
	c->notice.from = q->notice_from;
	c->notice.contact = q->contact;
	c->notice.hostname = c->hostname;
	c->review.store = c->store;
	c->review.delivery = &c->delivery;
	c->review.notice = &c->notice;
	c->review.policy = c->policy;
	c->review.notify = q->notify;
	c->review.actor = c->actor;
	return 0;
}

/* age - a duration option; exits the command on a bad one */
static int
age(const char *opt, const char *value, int64_t *seconds_r)
{
	if (rg_parse_duration(value, seconds_r) < 0) {
		fprintf(stderr, "relaygate: %s \"%s\": give a number and a "
		        "unit, e.g. 90m, 12h, 30d, 2w\n", opt, value);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- list */

static void
print_record_line(const struct rgq_record *rec)
{
	char *t = format_time(rec->created, 0), *rules = rules_of(rec);

	printf("%s  %s  %-9s ", rec->id, t, rgq_state_name(rec->state));
	put_safe(stdout, rec->sender[0] ? rec->sender : "<>", 0);
	fputs(" -> ", stdout);
	put_safe(stdout, rec->recipients.count ? rec->recipients.items[0]
	                                       : "?", 0);
	if (rec->recipients.count > 1)
		printf(" (+%zu)", rec->recipients.count - 1);
	printf("\n    %s; \"", rules[0] ? rules : "no findings");
	put_safe(stdout, rec->subject, 0);
	fputs("\"", stdout);
	if (rec->auth_user[0]) {
		fputs("; user ", stdout);
		put_safe(stdout, rec->auth_user, 0);
	}
	fputc('\n', stdout);
	g_free(t);
	g_free(rules);
}

static int
cmd_list(struct qctx *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "state", required_argument, NULL, 's' },
		{ "rule", required_argument, NULL, 'r' },
		{ "sender", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 'S' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct rgq_filter f;
	struct rgq_record *recs;
	int64_t secs, now = (int64_t)time(NULL);
	size_t n;
	char *error = NULL;
	int json = 0, opt;
	rg_rule rule;

	memset(&f, 0, sizeof(f));
	f.state = RGQ_HELD;
	while ((opt = getopt_long(argc, argv, "jas:r:f:u:S:o:n:", options,
	                          NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'a': f.any_state = 1; break;
		case 's':
			if (rgq_state_parse(optarg, &f.state) < 0) {
				fprintf(stderr, "relaygate: --state: held, "
				        "releasing, released or dropped\n");
				return RG_EXIT_ERROR;
			}
			break;
		case 'r':
			if (rg_rule_lookup(optarg, &rule) < 0) {
				fprintf(stderr, "relaygate: --rule: unknown rule "
				        "\"%s\"\n", optarg);
				return RG_EXIT_ERROR;
			}
			f.rule = optarg;
			break;
		case 'f': f.sender = optarg; break;
		case 'u': f.auth_user = optarg; break;
		case 'S':
			if (age("--since", optarg, &secs) < 0)
				return RG_EXIT_ERROR;
			f.since = now - secs;
			break;
		case 'o':
			if (age("--older-than", optarg, &secs) < 0)
				return RG_EXIT_ERROR;
			f.before = now - secs;
			break;
		case 'n': f.limit = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage(stderr); return RG_EXIT_ERROR;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	if (rgq_store_list(c->store, &f, &recs, &n, &error) < 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		g_free(error);
		return RG_EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++) {
		if (json) {
			GString *j = g_string_new(NULL);

			json_record(j, &recs[i]);
			puts(j->str);
			g_string_free(j, TRUE);
		} else {
			print_record_line(&recs[i]);
		}
		rgq_record_clear(&recs[i]);
	}
	if (!json)
		printf("%zu %s\n", n, f.any_state ? "records" :
		       rgq_state_name(f.state));
	g_free(recs);
	return RG_EXIT_PASS;
}

/* ------------------------------------------------------------- show */

/* The context shown around an excerpt, in characters each side. */
#define CONTEXT_CHARS 40

/*
 * show_in_context - the finding's line from the visible text with the
 * excerpt between » and «, cut to CONTEXT_CHARS either side
 */
static void
show_in_context(const struct rg_view *view, const struct rg_finding *f)
{
	const struct rg_part *part = NULL;
	const char *line, *end, *at, *stop, *from, *to;
	size_t ex_len = f->excerpt ? strlen(f->excerpt) : 0;

	for (size_t i = 0; i < view->count; i++)
		if (strcmp(view->parts[i].path, f->part) == 0)
			part = &view->parts[i];
	if (part == NULL || part->text == NULL || f->line == 0)
		return;
	line = part->text;
	for (unsigned l = 1; l < f->line; l++) {
		line = strchr(line, '\n');
		if (line == NULL)
			return;
		line++;
	}
	end = strchr(line, '\n');
	if (end == NULL)
		end = line + strlen(line);
	at = line;
	for (unsigned col = 1; col < f->column && at < end; col++)
		at = g_utf8_next_char(at);
	if (at > end)
		at = end;
	stop = at;
	if (ex_len > 0 && (size_t)(end - at) >= ex_len &&
	    memcmp(at, f->excerpt, ex_len) == 0)
		stop = at + ex_len;
	from = at;
	for (int k = 0; k < CONTEXT_CHARS && from > line; k++)
		from = g_utf8_prev_char(from);
	to = stop;
	for (int k = 0; k < CONTEXT_CHARS && to < end; k++)
		to = g_utf8_next_char(to);
	if (to > end)
		to = end;

	{
		char *before = g_strndup(from, at - from);
		char *match = g_strndup(at, stop - at);
		char *after = g_strndup(stop, to - stop);

		fputs("     | ", stdout);
		if (from > line)
			fputs("...", stdout);
		put_safe(stdout, before, 0);
		fputs("\u00bb", stdout);
		put_safe(stdout, match, 0);
		fputs("\u00ab", stdout);
		put_safe(stdout, after, 0);
		if (to < end)
			fputs("...", stdout);
		fputc('\n', stdout);
		g_free(before);
		g_free(match);
		g_free(after);
	}
}

static int
cmd_show(struct qctx *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct rgq_record rec;
	struct rg_view view;
	unsigned char *data = NULL;
	size_t len = 0, head;
	char *error = NULL, *t;
	int raw = 0, opt, have_data, seen[RG_RULE_COUNT] = { 0 };
	rg_scan *scan;

	while ((opt = getopt_long(argc, argv, "r", options, NULL)) != -1) {
		switch (opt) {
		case 'r': raw = 1; break;
		default: usage(stderr); return RG_EXIT_ERROR;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	if (rgq_store_get(c->store, argv[optind], &rec, &error) <= 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		g_free(error);
		return RG_EXIT_BLOCKED;
	}
	have_data = rgq_store_read_message(c->store, rec.id, &data, &len,
	                                   &error) == 0;
	if (raw) {
		int rc = RG_EXIT_PASS;

		if (!have_data) {
			fprintf(stderr, "relaygate: %s: %s\n", rec.id,
			        rec.state == RGQ_DROPPED ? "dropped: the "
			        "message is gone" : error);
			rc = RG_EXIT_BLOCKED;
		} else if (fwrite(data, 1, len, stdout) != len) {
			rc = RG_EXIT_ERROR;
		}
		g_free(error);
		g_free(data);
		rgq_record_clear(&rec);
		return rc;
	}

	t = format_time(rec.created, 0);
	printf("Record %s (%s), held at %s\n", rec.id,
	       rgq_state_name(rec.state), t);
	g_free(t);
	if (rec.state != RGQ_HELD) {
		t = format_time(rec.state_time, 0);
		printf("  %s by ", rgq_state_name(rec.state));
		put_safe(stdout, rec.actor[0] ? rec.actor : "?", 0);
		printf(" at %s", t);
		if (rec.reason[0]) {
			fputs(": ", stdout);
			put_safe(stdout, rec.reason, 0);
		}
		fputc('\n', stdout);
		g_free(t);
	}
	fputs("  Sender:      ", stdout);
	put_safe(stdout, rec.sender[0] ? rec.sender : "<>", 0);
	fputs("\n  Recipients:  ", stdout);
	for (size_t i = 0; i < rec.recipients.count; i++) {
		if (i > 0)
			fputs(", ", stdout);
		put_safe(stdout, rec.recipients.items[i], 0);
	}
	fputs("\n  Subject:     ", stdout);
	put_safe(stdout, rec.subject, 0);
	printf("\n  Auth user:   ");
	put_safe(stdout, rec.auth_user[0] ? rec.auth_user : "(none)", 0);
	printf("\n  Queue id:    ");
	put_safe(stdout, rec.queue_id[0] ? rec.queue_id : "(none)", 0);
	printf("\n  Size:        %llu bytes, SHA-256 %s\n",
	       (unsigned long long)rec.size, rec.sha256);
	printf("  Verdict:     %s\n", rg_verdict_name(rec.verdict));

	if (have_data) {
		char *h, *o;

		head = rgq_header_section(data, len);
		h = g_strndup((const char *)data, head);
		for (o = h; *o != '\0'; o++)     /* CRLF shown as LF */
			if (o[0] == '\r' && o[1] == '\n')
				memmove(o, o + 1, strlen(o + 1) + 1);
		printf("\nHeaders:\n");
		put_safe(stdout, h, 1);
		g_free(h);
	} else {
		printf("\n(message bytes: %s)\n", rec.state == RGQ_DROPPED
		       ? "removed when dropped" : error);
		g_free(error);
		error = NULL;
	}

	memset(&view, 0, sizeof(view));
	scan = rg_scan_new(c->policy);
	if (have_data)
		(void)rg_view_from_message(scan, data, len, &view);
	printf("\nFindings (%zu):\n", rec.n_findings);
	for (size_t i = 0; i < rec.n_findings; i++) {
		const struct rg_finding *f = &rec.findings[i];
		char *d = rg_finding_describe(f, 0);

		printf("  %zu. [%s] ", i + 1, rg_action_name(f->action));
		put_safe(stdout, d, 0);
		fputc('\n', stdout);
		g_free(d);
		show_in_context(&view, f);
		if ((unsigned)f->rule < RG_RULE_COUNT && !seen[f->rule]++) {
			printf("     fix: %s\n", rg_rule_guidance(f->rule));
			printf("     policy: %s\n", rg_rule_citation(f->rule));
		}
	}
	if (view.count > 0)
		printf("\nVisible text (what the buyer sees):\n");
	for (size_t i = 0; i < view.count; i++) {
		const struct rg_part *p = &view.parts[i];

		printf("--- part %s (%s)%s%s ---\n", p->path,
		       p->content_type ? p->content_type : "text",
		       p->filename ? " " : "", p->filename ? p->filename : "");
		if (p->kind == RG_PART_ATTACHMENT) {
			printf("(attachment, %zu bytes)\n", p->data_len);
			continue;
		}
		if (p->text != NULL) {
			put_safe(stdout, p->text, 1);
			if (p->text_len == 0 || p->text[p->text_len - 1] != '\n')
				fputc('\n', stdout);
		}
	}
	rg_view_clear(&view);
	rg_scan_free(&scan);
	g_free(data);
	rgq_record_clear(&rec);
	return RG_EXIT_PASS;
}

/* ------------------------------------------------------------- act */

/*
 * cmd_act - release or drop each ID
 */
static int
cmd_act(struct qctx *c, int argc, char **argv, int release)
{
	static const struct option options[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "resume", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = "";
	int resume = 0, opt, status = RG_EXIT_PASS;

	while ((opt = getopt_long(argc, argv, "r:", options, NULL)) != -1) {
		switch (opt) {
		case 'r': reason = optarg; break;
		case 'R':
			if (!release) {
				usage(stderr);
				return RG_EXIT_ERROR;
			}
			resume = 1;
			break;
		default: usage(stderr); return RG_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	for (int i = optind; i < argc; i++) {
		char *error = NULL;
		int r = release ? rgq_release(&c->review, argv[i], reason,
		                              resume, &error)
		                : rgq_drop(&c->review, argv[i], reason, &error);

		if (r == 0) {
			printf("%s: %s\n", argv[i],
			       release ? "released" : "dropped");
		} else {
			fprintf(stderr, "relaygate: %s\n", error);
			status = RG_EXIT_BLOCKED;
		}
		g_free(error);
	}
	return status;
}

static int
cmd_purge(struct qctx *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t secs = c->config.quarantine.retention;
	unsigned long dropped, deleted;
	char *error = NULL;
	int dry = 0, opt;

	while ((opt = getopt_long(argc, argv, "o:n", options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			if (age("--older-than", optarg, &secs) < 0)
				return RG_EXIT_ERROR;
			break;
		case 'n': dry = 1; break;
		default: usage(stderr); return RG_EXIT_ERROR;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	if (rgq_purge(&c->review, (int64_t)time(NULL) - secs, dry, &dropped,
	              &deleted, &error) < 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		g_free(error);
		return RG_EXIT_ERROR;
	}
	printf("%s%lu held message%s dropped, %lu record%s deleted\n",
	       dry ? "would be: " : "", dropped, dropped == 1 ? "" : "s",
	       deleted, deleted == 1 ? "" : "s");
	return RG_EXIT_PASS;
}

static int
cmd_stats(struct qctx *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "since", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t secs = 7 * 86400, since;
	struct rgq_stats st;
	const char *period = "7d";
	char *error = NULL, *t;
	int json = 0, opt;

	while ((opt = getopt_long(argc, argv, "S:j", options, NULL)) != -1) {
		switch (opt) {
		case 'S':
			if (age("--since", optarg, &secs) < 0)
				return RG_EXIT_ERROR;
			period = optarg;
			break;
		case 'j': json = 1; break;
		default: usage(stderr); return RG_EXIT_ERROR;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	since = (int64_t)time(NULL) - secs;
	if (rgq_store_stats(c->store, since, 10, &st, &error) < 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		g_free(error);
		return RG_EXIT_ERROR;
	}
	if (json) {
		GString *j = g_string_new("{\"since\":");

		t = format_time(since, 1);
		rg_json_string(j, t);
		g_free(t);
		for (unsigned s = 0; s <= RGQ_DROPPED; s++)
			g_string_append_printf(j, ",\"%s\":%lu",
			                       rgq_state_name((enum rgq_state)s),
			                       st.by_state[s]);
		g_string_append(j, ",\"by_rule\":{");
		for (size_t i = 0; i < st.n_rules; i++) {
			if (i > 0)
				g_string_append_c(j, ',');
			rg_json_string(j, st.by_rule[i].key);
			g_string_append_printf(j, ":%lu", st.by_rule[i].n);
		}
		g_string_append(j, "},\"by_sender\":{");
		for (size_t i = 0; i < st.n_senders; i++) {
			if (i > 0)
				g_string_append_c(j, ',');
			rg_json_string(j, st.by_sender[i].key);
			g_string_append_printf(j, ":%lu", st.by_sender[i].n);
		}
		g_string_append_printf(j, "},\"notices\":{\"sent\":%lu,"
		                       "\"pending\":%lu,\"failed\":%lu}}",
		                       st.notices_sent, st.notices_pending,
		                       st.notices_failed);
		puts(j->str);
		g_string_free(j, TRUE);
	} else {
		t = format_time(since, 0);
		printf("Since %s (%s):\n", t, period);
		g_free(t);
		printf("  held %lu, releasing %lu, released %lu, dropped %lu\n",
		       st.by_state[RGQ_HELD], st.by_state[RGQ_RELEASING],
		       st.by_state[RGQ_RELEASED], st.by_state[RGQ_DROPPED]);
		printf("By rule (messages):\n");
		for (size_t i = 0; i < st.n_rules; i++)
			printf("  %-22s %lu\n", st.by_rule[i].key,
			       st.by_rule[i].n);
		printf("By sender (top %zu):\n", st.n_senders);
		for (size_t i = 0; i < st.n_senders; i++) {
			fputs("  ", stdout);
			put_safe(stdout, st.by_sender[i].key[0]
			         ? st.by_sender[i].key : "<>", 0);
			printf("  %lu\n", st.by_sender[i].n);
		}
		printf("Notices: %lu sent, %lu pending, %lu failed\n",
		       st.notices_sent, st.notices_pending, st.notices_failed);
	}
	rgq_stats_clear(&st);
	return RG_EXIT_PASS;
}

static int
cmd_flush(struct qctx *c, int argc, char **argv)
{
	char *error = NULL;
	int n;

	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	n = rgq_flush_notices(c->store, &c->delivery, 1,
	                      c->config.quarantine.retention, &error);
	if (n < 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		g_free(error);
		return RG_EXIT_ERROR;
	}
	printf("%d notice%s sent\n", n, n == 1 ? "" : "s");
	return RG_EXIT_PASS;
}

/* ------------------------------------------------------------- main */

static int
cmd_release(struct qctx *c, int argc, char **argv)
{
	return cmd_act(c, argc, argv, 1);
}

static int
cmd_drop(struct qctx *c, int argc, char **argv)
{
	return cmd_act(c, argc, argv, 0);
}

static const struct subcommand {
	const char *name;
	int (*run)(struct qctx *c, int argc, char **argv);
} subcommands[] = {
	{ "list", cmd_list },
	{ "show", cmd_show },
	{ "release", cmd_release },
	{ "drop", cmd_drop },
	{ "purge", cmd_purge },
	{ "stats", cmd_stats },
	{ "flush", cmd_flush },
};

int
rg_cmd_quarantine(int argc, char **argv)
{
	const struct subcommand *sub;
	struct qctx c;
	int index, status;

	memset(&c, 0, sizeof(c));
	index = rg_cli_subcommand("quarantine", subcommands, sizeof(subcommands[0]),
	                          G_N_ELEMENTS(subcommands), usage, &argc,
	                          &argv, &c.config_path, &status);
	if (index < 0)
		return status;
	sub = &subcommands[index];
	(void)signal(SIGPIPE, SIG_IGN);
	openlog("relaygate", LOG_PID, LOG_MAIL);
	rgq_set_logger(cli_logger);
	if (ctx_open(&c) < 0) {
		ctx_clear(&c);
		return RG_EXIT_ERROR;
	}
	optind = 0;                  /* reset getopt for the command */
	status = sub->run(&c, argc, argv);
	fflush(stdout);
	ctx_clear(&c);
	closelog();
	return status;
}
