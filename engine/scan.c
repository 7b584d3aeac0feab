/*
 * scan.c - per-thread scanning state, pattern matching under limits,
 * findings and the verdict.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <glib.h>

#include "internal.h"

/* Enough ovector pairs for every built-in pattern's groups. */
#define MATCH_PAIRS 32
/* JIT stack per scan: the 32 KiB default on the machine stack is too small
 * for long texts; the depth limit still bounds it. */
#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

rg_scan *
rg_scan_new(rg_policy *policy)
{
	rg_scan *scan = g_new0(rg_scan, 1);

	scan->policy = rg_policy_ref(policy);
	scan->match_data = pcre2_match_data_create(MATCH_PAIRS, NULL);
	scan->match_context = pcre2_match_context_create(NULL);
	scan->jit_stack = pcre2_jit_stack_create(JIT_STACK_START,
	                                         JIT_STACK_MAX, NULL);
	if (scan->match_data == NULL || scan->match_context == NULL)
		g_error("relaygate: out of memory for PCRE2 match data");
	/* without a JIT stack (JIT unavailable), the interpreter runs */
	if (scan->jit_stack != NULL)
		pcre2_jit_stack_assign(scan->match_context, NULL,
		                       scan->jit_stack);
	pcre2_set_match_limit(scan->match_context,
	                      policy->settings.match_limit);
	pcre2_set_depth_limit(scan->match_context,
	                      policy->settings.depth_limit);
	return scan;
}

void
rg_scan_free(rg_scan **scan)
{
	if (*scan == NULL)
		return;
	pcre2_match_data_free((*scan)->match_data);
	pcre2_match_context_free((*scan)->match_context);
	pcre2_jit_stack_free((*scan)->jit_stack);
	rg_scan_clear_envelope(*scan);
	rg_policy_unref(&(*scan)->policy);
	g_free(*scan);
	*scan = NULL;
}

void
rg_scan_set_envelope(rg_scan *scan, const char *sender,
                     const char *const *recipients, size_t n)
{
	rg_scan_clear_envelope(scan);
	scan->has_envelope = 1;
	scan->envelope_sender = g_strdup(sender);
	for (size_t i = 0; i < n; i++)
		rg_strlist_add(&scan->envelope_recipients, recipients[i]);
}

void
rg_scan_clear_envelope(rg_scan *scan)
{
	g_free(scan->envelope_sender);
	scan->envelope_sender = NULL;
	rg_strlist_clear(&scan->envelope_recipients);
	scan->has_envelope = 0;
}

/* ---------------------------------------------------------- CPU budget */

/* calls of rg_budget_tick per look at the clock */
#define BUDGET_TICKS 32

static int64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
rg_budget_start(rg_scan *scan)
{
	scan->cpu_start = thread_cpu_ns();
	scan->cpu_credit = 0;
	scan->budget_armed = 1;
	scan->over_budget = 0;
	scan->budget_reported = 0;
	scan->budget_ticks = 0;
}

void
rg_budget_stop(rg_scan *scan)
{
	scan->budget_armed = 0;
}

int
rg_budget_spent(rg_scan *scan)
{
	int64_t budget, used;

	if (!scan->budget_armed)
		return 0;
	if (!scan->over_budget) {
		budget = (int64_t)scan->policy->settings.cpu_budget_ms *
		         1000000;
		used = thread_cpu_ns() - scan->cpu_start - scan->cpu_credit;
		if (used <= budget)
			return 0;
		scan->over_budget = 1;
	}
	if (!scan->budget_reported && scan->result != NULL) {
		unsigned ms = scan->policy->settings.cpu_budget_ms;
		char *why = ms % 1000 == 0
		            ? rg_strdup_printf("limits.cpu_budget: judging took "
		                               "more than %us of CPU time and "
		                               "was stopped", ms / 1000)
		            : rg_strdup_printf("limits.cpu_budget: judging took "
		                               "more than %ums of CPU time and "
		                               "was stopped", ms);

		scan->budget_reported = 1;
		rg_report_at(scan, RG_RULE_UNCHECKABLE, "message", 0, 0, why);
		g_free(why);
	}
	return 1;
}

int
rg_budget_tick(rg_scan *scan)
{
	if (scan->over_budget)
		return 1;
	if (++scan->budget_ticks % BUDGET_TICKS != 0)
		return 0;
	return rg_budget_spent(scan);
}

int64_t
rg_budget_pause(rg_scan *scan)
{
	(void)scan;
	return thread_cpu_ns();
}

void
rg_budget_resume(rg_scan *scan, int64_t paused)
{
	scan->cpu_credit += thread_cpu_ns() - paused;
}

/* ------------------------------------------------------------ matching */

int
rg_match(rg_scan *scan, enum rg_pattern pattern, const char *subject,
         size_t len, size_t start, size_t *match_start_r,
         size_t *match_end_r)
{
	const pcre2_code *re = scan->policy->patterns[pattern];
	PCRE2_SIZE *ovector;
	int rc;

	if (start > len)
		return 0;
	/* the budget is spent: stop the caller's loop as a limit does */
	if (rg_budget_tick(scan))
		return -1;
	/* the view's text is valid UTF-8 (checked when it was built) */
	rc = pcre2_match(re, (PCRE2_SPTR)subject, len, start,
	                 PCRE2_NO_UTF_CHECK, scan->match_data,
	                 scan->match_context);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
		rg_report_match_error(scan, rc, rg_pattern_name(pattern));
		return -1;
	}
	ovector = pcre2_get_ovector_pointer(scan->match_data);
	*match_start_r = ovector[0];
	*match_end_r = ovector[1];
	return 1;
}

int
rg_rule_active(const rg_scan *scan, rg_rule rule)
{
	return scan->policy->settings.actions[rule] != RG_ACTION_OFF;
}

/* excerpt - at most max characters of s[0..len), whitespace runs and
 * control characters made single spaces, "..." when cut */
static char *
excerpt(const char *s, size_t len, unsigned max)
{
	GString *out = g_string_sized_new(len < 256 ? len + 4 : 256);
	unsigned chars = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = 1;

		if (c >= 0x80)
			n = (size_t)(g_utf8_next_char(s + i) - (s + i));
		if (i + n > len)
			break;
		if (chars == max) {
			g_string_append(out, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			if (out->len == 0 || out->str[out->len - 1] != ' ') {
				g_string_append_c(out, ' ');
				chars++;
			}
		} else {
			g_string_append_len(out, s + i, (gssize)n);
			chars++;
		}
		i += n;
	}
	return g_string_free(out, FALSE);
}

void
rg_report_match_error(rg_scan *scan, int rc, const char *what)
{
	const struct rg_settings *s = &scan->policy->settings;
	char *why;

	if (scan->limit_hit || scan->result == NULL)
		return;
	scan->limit_hit = 1;
	if (rc == PCRE2_ERROR_MATCHLIMIT) {
		why = rg_strdup_printf("limits.match_limit: a pattern (%s) "
		                       "gave up after %u steps", what,
		                       (unsigned)s->match_limit);
	} else if (rc == PCRE2_ERROR_DEPTHLIMIT) {
		why = rg_strdup_printf("limits.depth_limit: a pattern (%s) "
		                       "backtracked deeper than %u", what,
		                       (unsigned)s->depth_limit);
	} else {
		PCRE2_UCHAR message[128];

		pcre2_get_error_message(rc, message, sizeof(message));
		why = rg_strdup_printf("a pattern (%s) failed: %s", what,
		                       (const char *)message);
	}
	rg_report_at(scan, RG_RULE_UNCHECKABLE, "message", 0, 0, why);
	g_free(why);
}

void
rg_report_at(rg_scan *scan, rg_rule rule, const char *part_path,
             unsigned line, unsigned column, const char *text)
{
	struct rg_result *result = scan->result;
	struct rg_finding *f;
	rg_action action = scan->policy->settings.actions[rule];
	unsigned max = scan->policy->settings.excerpt_chars;

	if (result == NULL || action == RG_ACTION_OFF)
		return;
	result->findings = g_realloc_n(result->findings, result->count + 1,
	                               sizeof(*result->findings));
	f = &result->findings[result->count++];
	f->rule = rule;
	f->action = action;
	f->part = g_strdup(part_path);
	f->line = line;
	f->column = column;
	if (rule == RG_RULE_UNCHECKABLE && max < RG_REASON_CHARS)
		max = RG_REASON_CHARS;
	f->excerpt = excerpt(text, strlen(text), max);
	if (action > result->verdict)
		result->verdict = action;
}

void
rg_part_position(rg_scan *scan, const struct rg_part *part, size_t offset,
                 unsigned *line_r, unsigned *column_r)
{
	struct rg_position_cache *c = &scan->position;
	unsigned line = 1;
	size_t line_start = 0, i = 0, chars;

	if (offset > part->text_len)
		offset = part->text_len;
	/* findings mostly come in text order: carry on from the last one
	 * in the same part instead of counting lines (and, on the same
	 * line, characters: one long line must not cost a pass per
	 * finding) from the start again */
	if (part == c->part && offset >= c->offset) {
		line = c->line;
		line_start = c->line_start;
		i = c->offset;
	}
	for (; i < offset; i++) {
		if (part->text[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	if (part == c->part && offset >= c->offset &&
	    line_start == c->line_start)
		chars = c->chars + rg_utf8_chars(part->text + c->offset,
		                                 offset - c->offset);
	else
		chars = rg_utf8_chars(part->text + line_start,
		                      offset - line_start);
	c->part = part;
	c->offset = offset;
	c->line = line;
	c->line_start = line_start;
	c->chars = chars;
	*line_r = line;
	*column_r = (unsigned)chars + 1;
}

void
rg_report(rg_scan *scan, rg_rule rule, const struct rg_part *part,
          size_t offset, size_t len)
{
	unsigned line, column;
	char *text;

	if (offset > part->text_len)
		offset = part->text_len;
	if (len > part->text_len - offset)
		len = part->text_len - offset;
	rg_part_position(scan, part, offset, &line, &column);
	text = g_strndup(part->text + offset, len);
	rg_report_at(scan, rule, part->path, line, column, text);
	g_free(text);
}

/* The rule families after the order rules, in order; the CPU budget is
 * looked at before each. */
static void (*const families[])(rg_scan *scan, const struct rg_view *view) = {
	rg_rules_links, rg_rules_contact, rg_rules_emoji,
	rg_rules_attachments, rg_rules_layout, rg_rules_structure,
	rg_rules_phrases, rg_rules_language, rg_rules_spelling,
	rg_rules_sender,
};

int
rg_scan_view(rg_scan *scan, const struct rg_view *view,
             struct rg_result *result, char **error_r)
{
	int own_budget = !scan->budget_armed;

	memset(result, 0, sizeof(*result));
	memset(&scan->position, 0, sizeof(scan->position));
	scan->result = result;
	scan->limit_hit = 0;
	if (own_budget)
		rg_budget_start(scan);

	/* spent while the message was parsed: no rule runs (order-id would
	 * miss an id it never looked for) */
	if (!rg_budget_spent(scan))
		rg_rules_order_id(scan, view);
	/* before language: it may learn the buyer's locale */
	if (!rg_budget_spent(scan) &&
	    rg_rules_orders(scan, view, error_r) < 0) {
		scan->result = NULL;
		if (own_budget)
			rg_budget_stop(scan);
		rg_result_clear(result);
		return -1;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(families); i++) {
		if (rg_budget_spent(scan))
			break;
		families[i](scan, view);
	}

	for (size_t i = 0; i < view->count; i++) {
		if (view->parts[i].kind == RG_PART_SUBJECT) {
			result->subject = g_strdup(view->parts[i].text);
			break;
		}
	}
	scan->result = NULL;
	if (own_budget)
		rg_budget_stop(scan);
	return 0;
}

void
rg_result_clear(struct rg_result *result)
{
	for (size_t i = 0; i < result->count; i++) {
		g_free(result->findings[i].part);
		g_free(result->findings[i].excerpt);
	}
	g_free(result->findings);
	g_free(result->subject);
	rg_strlist_clear(&result->review_orders);
	memset(result, 0, sizeof(*result));
}

static void
append_text(GString *out, const char *text, int ascii_only)
{
	char *s = g_utf8_make_valid(text, -1);

	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c < 0x20 || c == 0x7f)
			g_string_append_c(out, ' ');
		else if (c < 0x80 || !ascii_only)
			g_string_append_unichar(out, c);
		else
			g_string_append_printf(out, "U+%04X", (unsigned)c);
	}
	g_free(s);
}

char *
rg_finding_describe(const struct rg_finding *f, int ascii_only)
{
	GString *out = g_string_new(rg_rule_name(f->rule));

	if (strcmp(f->part, "subject") == 0)
		g_string_append(out, " in the subject");
	else if (strcmp(f->part, "message") == 0)
		g_string_append(out, " in the message");
	else
		g_string_append_printf(out, " in part %s", f->part);
	if (f->line > 0)
		g_string_append_printf(out, " at %u:%u", f->line, f->column);
	if (f->excerpt != NULL && f->excerpt[0] != '\0') {
		g_string_append(out, ": \"");
		append_text(out, f->excerpt, ascii_only);
		g_string_append_c(out, '"');
	}
	return g_string_free(out, FALSE);
}
