/*
 * scan.c - per-thread scanning state, pattern matching under limits,
 * findings and the verdict.
 */
#include "config.h"

#include <string.h>

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
	/* the view's text is valid UTF-8 (checked when it was built) */
	rc = pcre2_match(re, (PCRE2_SPTR)subject, len, start,
	                 PCRE2_NO_UTF_CHECK, scan->match_data,
	                 scan->match_context);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
		if (!scan->limit_hit && scan->result != NULL) {
			PCRE2_UCHAR message[128];

			pcre2_get_error_message(rc, message, sizeof(message));
			scan->limit_hit = 1;
			rg_report_at(scan, RG_RULE_UNCHECKABLE, "message", 0, 0,
			             (const char *)message);
		}
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
rg_report_at(rg_scan *scan, rg_rule rule, const char *part_path,
             unsigned line, unsigned column, const char *text)
{
	struct rg_result *result = scan->result;
	struct rg_finding *f;
	rg_action action = scan->policy->settings.actions[rule];

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
	f->excerpt = excerpt(text, strlen(text),
	                     scan->policy->settings.excerpt_chars);
	if (action > result->verdict)
		result->verdict = action;
}

void
rg_part_position(rg_scan *scan, const struct rg_part *part, size_t offset,
                 unsigned *line_r, unsigned *column_r)
{
	struct rg_position_cache *c = &scan->position;
	unsigned line = 1;
	size_t line_start = 0, i = 0;

	if (offset > part->text_len)
		offset = part->text_len;
	/* findings mostly come in text order: carry on from the last one
	 * in the same part instead of counting lines from the start again */
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
	c->part = part;
	c->offset = offset;
	c->line = line;
	c->line_start = line_start;
	*line_r = line;
	*column_r = (unsigned)rg_utf8_chars(part->text + line_start,
	                                    offset - line_start) + 1;
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

int
rg_scan_view(rg_scan *scan, const struct rg_view *view,
             struct rg_result *result, char **error_r)
{
	memset(result, 0, sizeof(*result));
	memset(&scan->position, 0, sizeof(scan->position));
	scan->result = result;
	scan->limit_hit = 0;

	rg_rules_order_id(scan, view);
	/* before language: it may learn the buyer's locale */
	if (rg_rules_orders(scan, view, error_r) < 0) {
		scan->result = NULL;
		rg_result_clear(result);
		return -1;
	}
	rg_rules_links(scan, view);
	rg_rules_contact(scan, view);
	rg_rules_emoji(scan, view);
	rg_rules_attachments(scan, view);
	rg_rules_layout(scan, view);
	rg_rules_structure(scan, view);
	rg_rules_phrases(scan, view);
	rg_rules_language(scan, view);
	rg_rules_spelling(scan, view);
	rg_rules_sender(scan, view);

	for (size_t i = 0; i < view->count; i++) {
		if (view->parts[i].kind == RG_PART_SUBJECT) {
			result->subject = g_strdup(view->parts[i].text);
			break;
		}
	}
	scan->result = NULL;
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
