/*
 * orders.c - the rules that need the seller's order data:
 *
 *   message-window  a proactive message sent more than N days (30) after
 *                   the purchase (or the delivery, where configured)
 *   review-timing   a review or feedback request sent before day 5 or
 *                   after day 30 from delivery
 *   review-repeat   a review request for an order that already had one
 *   unknown-order   an order id the order store does not know: the order
 *                   rules are skipped for it, never guessed
 *
 * The engine does no I/O of its own: the front hands in a lookup function
 * (rg_scan_set_order_lookup, backed by store/orders.h in the milter and
 * the CLI) and the arrival time (rg_scan_set_arrival).  Without a lookup
 * these rules are skipped.
 *
 * Days.  "Day N" is N whole 24-hour periods after the reference instant,
 * rounded down (rg_order_day); a report date without a time of day is
 * midnight UTC.  message-window fires from day message_window_days + 1
 * (31), review-timing before day review_min_days (4 fires, 5 passes) and
 * after day review_max_days (30 passes, 31 fires).  The send time is the
 * Date: header, or the arrival time when Date: is missing or more than a
 * day away from it (rg_send_time).  Delivery is the delivery date, else
 * the estimated arrival, else purchase + delivery_estimate_days.
 *
 * Review requests.  RG_PAT_REVIEW_REQUEST (patterns.c, six languages)
 * over the subject and the seller's own text; quoted text is the buyer's.
 * An order the message asks a review for and that has no request recorded
 * yet goes into result->review_orders.  The scan only reads; recording is
 * the front's job, done atomically when it delivers the message, with a
 * lost race turned into review-repeat (milter/orders.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

/* Order ids judged per message; more is reported as uncheckable. */
#define RG_MAX_ORDERS 32
/* "NNN-NNNNNNN-NNNNNNN" and its NUL */
#define ORDER_ID_SIZE 20

/* Where the message names an order first. */
struct order_ref {
	char id[ORDER_ID_SIZE];
	const struct rg_part *part;
	size_t offset;
};

void
rg_scan_set_order_lookup(rg_scan *scan, rg_order_lookup_fn lookup, void *ctx)
{
	scan->order_lookup = lookup;
	scan->order_ctx = lookup != NULL ? ctx : NULL;
}

void
rg_scan_set_arrival(rg_scan *scan, time_t arrival)
{
	scan->arrival = arrival;
}

long
rg_order_day(time_t ref, time_t t)
{
	long long d = (long long)t - (long long)ref;
	long long q = d / RG_DAY_SECONDS;

	/* C division truncates toward zero: round down before ref */
	if (d % RG_DAY_SECONDS != 0 && d < 0)
		q--;
	return (long)q;
}

time_t
rg_send_time(time_t date, time_t arrival, time_t now)
{
	if (arrival != 0) {
		if (date != 0 && date - arrival <= RG_DATE_SLACK_SECONDS &&
		    arrival - date <= RG_DATE_SLACK_SECONDS)
			return date;
		return arrival;
	}
	/* no arrival (a file judged by hand): believe Date: unless it is
	 * in the future */
	if (date != 0 && date - now <= RG_DATE_SLACK_SECONDS)
		return date;
	return now;
}

time_t
rg_delivery_reference(const struct rg_order_info *info,
                      unsigned estimate_days, int *estimated_r)
{
	*estimated_r = 1;
	if (info->delivery != 0) {
		*estimated_r = 0;
		return info->delivery;
	}
	if (info->estimated_arrival != 0)
		return info->estimated_arrival;
	if (info->purchase != 0)
		return info->purchase + (time_t)estimate_days * RG_DAY_SECONDS;
	return 0;
}

/*
 * collect_orders - the distinct order ids of the subject and the text
 * parts, in order, each with its first place.  Returns how many (at most
 * RG_MAX_ORDERS; *more set when there were others), or -1 when a pattern
 * hit its limit (already reported as uncheckable).
 */
static int
collect_orders(rg_scan *scan, const struct rg_view *view,
               struct order_ref *refs, int *more)
{
	int n = 0;

	*more = 0;
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];
		size_t pos = 0, start, end;
		int r;

		if (part->kind == RG_PART_ATTACHMENT || part->text == NULL)
			continue;
		while ((r = rg_match(scan, RG_PAT_ORDER_ID, part->text,
		                     part->text_len, pos, &start,
		                     &end)) == 1) {
			int seen = 0;

			pos = end;
			if (end - start != ORDER_ID_SIZE - 1)
				continue;
			for (int j = 0; j < n && !seen; j++)
				seen = memcmp(refs[j].id, part->text + start,
				              ORDER_ID_SIZE - 1) == 0;
			if (seen)
				continue;
			if (n == RG_MAX_ORDERS) {
				*more = 1;
				return n;
			}
			memcpy(refs[n].id, part->text + start,
			       ORDER_ID_SIZE - 1);
			refs[n].id[ORDER_ID_SIZE - 1] = '\0';
			refs[n].part = part;
			refs[n].offset = start;
			n++;
		}
		if (r < 0)
			return -1;
	}
	return n;
}

/*
 * find_review_request - the first review or feedback request in the
 * subject or the seller's own text: its part and offset, or NULL
 */
static const struct rg_part *
find_review_request(rg_scan *scan, const struct rg_view *view,
                    size_t *offset_r)
{
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];
		size_t pos = 0, start, end;

		if (part->kind == RG_PART_ATTACHMENT || part->text == NULL)
			continue;
		while (rg_match(scan, RG_PAT_REVIEW_REQUEST, part->text,
		                part->text_len, pos, &start, &end) == 1) {
			if (!rg_part_is_quoted(part, start)) {
				*offset_r = start;
				return part;
			}
			pos = end > start ? end : start + 1;
		}
	}
	return NULL;
}

/* report_place - a finding of rule at part/offset with our own excerpt */
static void
report_place(rg_scan *scan, rg_rule rule, const struct rg_part *part,
             size_t offset, const char *text)
{
	unsigned line, column;

	rg_part_position(scan, part, offset, &line, &column);
	rg_report_at(scan, rule, part->path, line, column, text);
}

/* judge_window - message-window for one known order */
static void
judge_window(rg_scan *scan, const struct rg_view *view,
             const struct order_ref *ref, const struct rg_order_info *info,
             time_t send)
{
	const struct rg_settings *set = &scan->policy->settings;
	const char *from = "purchase";
	time_t start = info->purchase;
	char text[128];
	long day;

	/* the 30 days bound proactive messages; a reply answers the buyer */
	if (view->is_reply || !rg_rule_active(scan, RG_RULE_MESSAGE_WINDOW))
		return;
	if (set->window_from_delivery) {
		int estimated;

		start = rg_delivery_reference(info, set->delivery_estimate_days,
		                              &estimated);
		from = estimated ? "est. delivery" : "delivery";
	}
	if (start == 0)
		return;                 /* not known: not guessed */
	day = rg_order_day(start, send);
	if (day <= (long)set->message_window_days)
		return;
	snprintf(text, sizeof(text), "%.19s day %ld from %s, limit %u", ref->id,
	         day, from, set->message_window_days);
	report_place(scan, RG_RULE_MESSAGE_WINDOW, ref->part, ref->offset,
	             text);
}

/* judge_review - review-timing and review-repeat for one known order
 * the message asks a review for */
static void
judge_review(rg_scan *scan, const struct order_ref *ref,
             const struct rg_order_info *info, time_t send,
             const struct rg_part *part, size_t offset)
{
	const struct rg_settings *set = &scan->policy->settings;
	char text[128];
	time_t delivery;
	int estimated;

	delivery = rg_delivery_reference(info, set->delivery_estimate_days,
	                                 &estimated);
	if (delivery != 0 && rg_rule_active(scan, RG_RULE_REVIEW_TIMING)) {
		long day = rg_order_day(delivery, send);

		if (day < (long)set->review_min_days ||
		    day > (long)set->review_max_days) {
			snprintf(text, sizeof(text), "%.19s day %ld from %s, "
			         "allowed %u-%u", ref->id, day,
			         estimated ? "est. delivery" : "delivery",
			         set->review_min_days, set->review_max_days);
			report_place(scan, RG_RULE_REVIEW_TIMING, part, offset,
			             text);
		}
	}
	if (!rg_rule_active(scan, RG_RULE_REVIEW_REPEAT))
		return;
	if (info->review_requested) {
		snprintf(text, sizeof(text), "%.19s already had a review request",
		         ref->id);
		report_place(scan, RG_RULE_REVIEW_REPEAT, part, offset, text);
	} else {
		/* the front records it when it delivers the message */
		rg_strlist_add(&scan->result->review_orders, ref->id);
	}
}

int
rg_rules_orders(rg_scan *scan, const struct rg_view *view, char **error_r)
{
	struct order_ref refs[RG_MAX_ORDERS];
	const struct rg_part *review_part;
	size_t review_offset = 0;
	time_t send;
	int n, more;

	scan->buyer_locale[0] = '\0';
	if (scan->order_lookup == NULL || scan->result == NULL ||
	    (!rg_rule_active(scan, RG_RULE_MESSAGE_WINDOW) &&
	     !rg_rule_active(scan, RG_RULE_REVIEW_TIMING) &&
	     !rg_rule_active(scan, RG_RULE_REVIEW_REPEAT) &&
	     !rg_rule_active(scan, RG_RULE_UNKNOWN_ORDER)))
		return 0;
	n = collect_orders(scan, view, refs, &more);
	if (n <= 0)
		return 0;
	if (more) {
		char why[96];

		snprintf(why, sizeof(why), "more than %d order ids: order "
		         "rules judged the first %d", RG_MAX_ORDERS,
		         RG_MAX_ORDERS);
		rg_report_at(scan, RG_RULE_UNCHECKABLE, "message", 0, 0, why);
	}
	review_part = find_review_request(scan, view, &review_offset);
	send = rg_send_time(view->date, scan->arrival, time(NULL));

	for (int i = 0; i < n; i++) {
		struct rg_order_info info;
		char *error = NULL;
		int r;

		memset(&info, 0, sizeof(info));
		r = scan->order_lookup(scan->order_ctx, refs[i].id, &info,
		                       &error);
		if (r < 0) {
			if (error_r != NULL)
				*error_r = rg_strdup_printf("order %s: %s",
				                            refs[i].id,
				                            error != NULL ? error
				                            : "lookup failed");
			free(error);
			return -1;
		}
		if (r == 0) {
			char text[96];

			snprintf(text, sizeof(text), "%.19s not in the order "
			         "store", refs[i].id);
			report_place(scan, RG_RULE_UNKNOWN_ORDER, refs[i].part,
			             refs[i].offset, text);
			continue;
		}
		info.locale[sizeof(info.locale) - 1] = '\0';
		if (scan->buyer_locale[0] == '\0' && info.locale[0] != '\0')
			g_strlcpy(scan->buyer_locale, info.locale,
			          sizeof(scan->buyer_locale));
		judge_window(scan, view, &refs[i], &info, send);
		if (review_part != NULL)
			judge_review(scan, &refs[i], &info, send, review_part,
			             review_offset);
	}
	return 0;
}

void
rg_result_add(struct rg_result *result, const rg_policy *policy,
              rg_rule rule, const char *excerpt)
{
	rg_action action = policy->settings.actions[rule];
	unsigned max = policy->settings.excerpt_chars;
	struct rg_finding *f;

	if (action == RG_ACTION_OFF)
		return;
	result->findings = g_realloc_n(result->findings, result->count + 1,
	                               sizeof(*result->findings));
	f = &result->findings[result->count++];
	memset(f, 0, sizeof(*f));
	f->rule = rule;
	f->action = action;
	f->part = g_strdup("message");
	if (g_utf8_strlen(excerpt, -1) > (glong)max) {
		char *cut = g_utf8_substring(excerpt, 0, max);

		f->excerpt = g_strconcat(cut, "...", NULL);
		g_free(cut);
	} else {
		f->excerpt = g_strdup(excerpt);
	}
	if (action > result->verdict)
		result->verdict = action;
}
