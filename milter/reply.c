/*
 * reply.c - everything relaygate says to the MTA: the libmilter calls
 * behind struct rgm_mta_ops, and the one function that maps a judged
 * message to an SMTP outcome (OpenDKIM's dkimf_libstatus plays this part
 * there).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <glib.h>

#include "milter.h"

/* libmilter's prototypes take char *; it does not write through them. */
#define UNCONST(s) ((char *)(s))

static const char *
mta_getsymval(void *h, const char *name)
{
	return smfi_getsymval(h, UNCONST(name));
}

static int
mta_setreply(void *h, const char *rcode, const char *xcode, const char *text)
{
	return smfi_setreply(h, UNCONST(rcode), UNCONST(xcode),
	                     UNCONST(text)) == MI_SUCCESS ? 0 : -1;
}

static int
mta_setmlreply(void *h, const char *rcode, const char *xcode,
               char *const *lines, size_t n)
{
	char *l[RGM_REPLY_MAX_LINES] = { NULL };

	if (n == 0 || n > RGM_REPLY_MAX_LINES)
		return -1;
	memcpy(l, lines, n * sizeof(*l));
	/* libmilter reads up to the first NULL; the rest are padding */
	return smfi_setmlreply(h, rcode, xcode, l[0], l[1], l[2], l[3], l[4],
	                       l[5], l[6], l[7], l[8], l[9], l[10], l[11],
	                       l[12], l[13], l[14], l[15], l[16], l[17], l[18],
	                       l[19], l[20], l[21], l[22], l[23], l[24], l[25],
	                       l[26], l[27], l[28], l[29], l[30], l[31],
	                       (char *)NULL) == MI_SUCCESS ? 0 : -1;
}

static int
mta_addheader(void *h, const char *name, const char *value)
{
	return smfi_addheader(h, UNCONST(name), UNCONST(value)) == MI_SUCCESS
	       ? 0 : -1;
}

static int
mta_chgheader(void *h, const char *name, int index, const char *value)
{
	return smfi_chgheader(h, UNCONST(name), index, UNCONST(value)) ==
	       MI_SUCCESS ? 0 : -1;
}

const struct rgm_mta_ops rgm_libmilter_ops = {
	.getsymval = mta_getsymval,
	.setreply = mta_setreply,
	.setmlreply = mta_setmlreply,
	.addheader = mta_addheader,
	.chgheader = mta_chgheader,
};

/*
 * listed - whether a finding is reported (reply, header): every finding
 * whose rule is on, and "uncheckable" always (even with action off the
 * header must not claim the message was judged)
 */
static int
listed(const struct rg_finding *f)
{
	return f->action != RG_ACTION_OFF || f->rule == RG_RULE_UNCHECKABLE;
}

/*
 * reply_line - an SMTP reply line from text: printable ASCII only, '%'
 * doubled (libmilter and Postfix read replies as format strings), cut
 * with "..." to at most RGM_REPLY_LINE_MAX bytes.  malloc'd, or NULL.
 */
static char *
reply_line(const char *text)
{
	char out[RGM_REPLY_LINE_MAX + 1];
	size_t o = 0, cut = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		size_t need = *p == '%' ? 2 : 1;

		if (o + need <= RGM_REPLY_LINE_MAX - 3)
			cut = o + need;        /* room for "..." after this */
		if (o + need > RGM_REPLY_LINE_MAX) {
			memcpy(out + cut, "...", 3);
			o = cut + 3;
			break;
		}
		if (*p == '%')
			out[o++] = '%';
		out[o++] = *p < 0x20 || *p >= 0x7f ? '?' : (char)*p;
	}
	out[o] = '\0';
	return strdup(out);
}

/* what a reply line costs on the wire: "550-5.7.1 " + text + CRLF */
#define LINE_COST(text) (strlen(text) + 12)

int
rgm_reply_lines(const struct rg_result *res, char *lines[RGM_REPLY_MAX_LINES])
{
	size_t n = 0, shown = 0, i, g = 0, ng = 0, budget, gcost = 0;
	int all_uncheckable = 1, k = 0;
	int seen[RG_RULE_COUNT] = { 0 };
	char *guide[RGM_REPLY_MAX_GUIDANCE] = { NULL };
	char *more = NULL;
	char buf[256];

	for (i = 0; i < res->count; i++) {
		rg_rule rule = res->findings[i].rule;

		if (!listed(&res->findings[i]))
			continue;
		n++;
		if (rule != RG_RULE_UNCHECKABLE)
			all_uncheckable = 0;
		/* one line of guidance per rule broken, in order */
		if ((unsigned)rule < RG_RULE_COUNT && !seen[rule]++ &&
		    g < RGM_REPLY_MAX_GUIDANCE) {
			char *text = g_strdup_printf("fix %s: %s",
			                             rg_rule_name(rule),
			                             rg_rule_guidance(rule));

			guide[g] = reply_line(text);
			g_free(text);
			if (guide[g] == NULL)
				goto fail;
			g++;
		}
	}
	if (n > 0 && all_uncheckable)
		snprintf(buf, sizeof(buf), "relaygate: message cannot be "
		         "checked against the marketplace's messaging policy");
	else
		snprintf(buf, sizeof(buf), "relaygate: message breaks the "
		         "marketplace's messaging policy (%zu finding%s)", n,
		         n == 1 ? "" : "s");
	if ((lines[k++] = reply_line(buf)) == NULL)
		goto fail;
	budget = RGM_REPLY_MAX_BYTES - LINE_COST(lines[0]);

	/* guidance takes at most half of what is left, so findings show */
	for (ng = 0; ng < g && gcost + LINE_COST(guide[ng]) <= budget / 2;
	     ng++)
		gcost += LINE_COST(guide[ng]);
	if (ng == 0 && g > 0 && LINE_COST(guide[0]) <= budget) {
		gcost = LINE_COST(guide[0]);
		ng = 1;
	}
	budget -= gcost;
	/* room for "... and K more" unless every finding fits */
	budget = budget > 40 ? budget - 40 : 0;

	for (i = 0; i < res->count; i++) {
		char *text, *line;

		if (!listed(&res->findings[i]))
			continue;
		text = rg_finding_describe(&res->findings[i], 1);
		if (text == NULL)
			goto fail;
		line = reply_line(text);
		free(text);
		if (line == NULL)
			goto fail;
		/* the last finding may use the "... more" room */
		if ((size_t)k + 1 + ng >= RGM_REPLY_MAX_LINES ||
		    LINE_COST(line) > budget + (shown + 1 == n ? 40 : 0)) {
			free(line);
			break;
		}
		budget = LINE_COST(line) > budget ? 0
		                                  : budget - LINE_COST(line);
		lines[k++] = line;
		shown++;
	}
	if (shown < n) {
		snprintf(buf, sizeof(buf), "... and %zu more (relaygate's log "
		         "has them all)", n - shown);
		if ((more = reply_line(buf)) == NULL)
			goto fail;
		lines[k++] = more;
	}
	for (i = 0; i < g; i++) {
		if (i < ng)
			lines[k++] = guide[i];
		else
			free(guide[i]);
		guide[i] = NULL;
	}
	return k;

fail:
	for (i = 0; i < g; i++)
		free(guide[i]);
	while (k > 0) {
		k--;
		free(lines[k]);
		lines[k] = NULL;
	}
	return -1;
}

char *
rgm_header_value(const struct rg_result *res, int monitor)
{
	char buf[1024];
	size_t o;
	int seen[RG_RULE_COUNT] = { 0 };
	int any = 0;

	o = (size_t)snprintf(buf, sizeof(buf), "%s",
	                     rg_verdict_name(res->verdict));
	for (size_t i = 0; i < res->count; i++) {
		const struct rg_finding *f = &res->findings[i];
		const char *name;

		if (!listed(f) || (unsigned)f->rule >= RG_RULE_COUNT ||
		    seen[f->rule])
			continue;
		seen[f->rule] = 1;
		name = rg_rule_name(f->rule);
		/* RG_RULE_COUNT short ids always fit; stay safe anyway */
		if (o + strlen(name) + 10 >= sizeof(buf))
			break;
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
		                      any ? "," : "; rules=", name);
		any = 1;
	}
	if (monitor && o + 16 < sizeof(buf))
		snprintf(buf + o, sizeof(buf) - o, "; mode=monitor");
	return strdup(buf);
}

sfsistat
rgm_reply_tempfail(struct rgm_conn *conn, const char *why)
{
	rgm_log(conn, LOG_ERR, "temporary failure: %s", why);
	(void)conn->mta->setreply(conn->mta_handle, RGM_TEMPFAIL_RCODE,
	                          RGM_TEMPFAIL_XCODE, RGM_TEMPFAIL_TEXT);
	return SMFIS_TEMPFAIL;
}

/*
 * remove_forged - delete every X-Relaygate header the sender supplied and
 * every release marker (a genuine one has done its work, any other must
 * not reach the buyer), last first so the indexes stay valid; 0 or -1
 */
static int
remove_forged(struct rgm_conn *conn)
{
	for (unsigned i = conn->msg->forged_headers; i > 0; i--)
		if (conn->mta->chgheader(conn->mta_handle, RGM_HEADER, (int)i,
		                         NULL) < 0)
			return -1;
	for (unsigned i = conn->msg->markers; i > 0; i--)
		if (conn->mta->chgheader(conn->mta_handle, RGQ_MARKER_HEADER,
		                         (int)i, NULL) < 0)
			return -1;
	return 0;
}

/*
 * add_header - remove forged copies, add ours (with the leading space the
 * MTA expects when header values are passed verbatim); 0 or -1
 */
static int
add_header(struct rgm_conn *conn, const char *value)
{
	char buf[1100];

	if (remove_forged(conn) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s%s", conn->leadspc ? " " : "", value);
	return conn->mta->addheader(conn->mta_handle, RGM_HEADER, buf);
}

int
rgm_reply_header(struct rgm_conn *conn, const char *value)
{
	return add_header(conn, value);
}

/* a hostile message must not flood the log */
#define RGM_LOG_MAX_FINDINGS 200

/*
 * log_result - the verdict, then each finding's rule and place
 */
static void
log_result(struct rgm_conn *conn, const struct rg_result *res,
           const char *header)
{
	const struct rgm_msg *msg = conn->msg;

	rgm_log(conn, LOG_INFO, "client=%s[%s] from=<%s> relay_rcpts=%u/%u "
	        "size=%zu%s verdict=%s%s findings=%zu header=\"%s\"",
	        conn->host[0] ? conn->host : "unknown",
	        conn->addr[0] ? conn->addr : "unknown", msg->sender,
	        msg->relay_rcpts, msg->rcpts, msg->size,
	        msg->oversize ? "+" : "",
	        rg_verdict_name(res->verdict),
	        msg->rt->monitor ? " (monitor: delivered)" : "", res->count,
	        header);
	for (size_t i = 0; i < res->count; i++) {
		char *text;

		if (i == RGM_LOG_MAX_FINDINGS) {
			rgm_log(conn, LOG_INFO, "... and %zu more findings",
			        res->count - i);
			break;
		}
		text = rg_finding_describe(&res->findings[i], 0);

		rgm_log(conn, LOG_INFO, "finding %zu/%zu: %s: %s", i + 1,
		        res->count, rg_action_name(res->findings[i].action),
		        text != NULL ? text : rg_rule_name(res->findings[i].rule));
		free(text);
	}
}

sfsistat
rgm_reply_result(struct rgm_conn *conn, const struct rg_result *res)
{
	char *lines[RGM_REPLY_MAX_LINES] = { NULL };
	char *value, id[RGQ_ID_LEN + 1];
	rg_action verdict = res->verdict;
	sfsistat status = SMFIS_ACCEPT;
	int n;

	value = rgm_header_value(res, conn->msg->rt->monitor);
	if (value == NULL)
		return rgm_reply_tempfail(conn, "out of memory");
	log_result(conn, res, value);

	if (conn->msg->rt->monitor)
		verdict = RG_ACTION_WARN;     /* deliver, with the header */

	switch (verdict) {
	case RG_ACTION_REJECT:
		n = rgm_reply_lines(res, lines);
		if (n < 0) {
			status = rgm_reply_tempfail(conn, "out of memory");
			break;
		}
		if (conn->mta->setmlreply(conn->mta_handle, "550", "5.7.1",
		                          lines, (size_t)n) < 0) {
			/* keep the reject, with the summary only */
			rgm_log(conn, LOG_WARNING, "multi-line reply refused "
			        "by libmilter; sending the summary only");
			(void)conn->mta->setreply(conn->mta_handle, "550",
			                          "5.7.1", lines[0]);
		}
		while (n > 0)
			free(lines[--n]);
		status = SMFIS_REJECT;
		break;
	case RG_ACTION_QUARANTINE:
		/* held in relaygate's store before the client hears 250;
		 * the MTA's copy is discarded (see store/quarantine.c) */
		if (rgm_quarantine_hold(conn, res, id) < 0) {
			rgm_log(conn, LOG_ERR, "temporary failure: cannot hold "
			        "the message");
			(void)conn->mta->setreply(conn->mta_handle,
			                          RGM_TEMPFAIL_RCODE,
			                          RGM_TEMPFAIL_XCODE,
			                          RGM_HOLD_FAIL_TEXT);
			status = SMFIS_TEMPFAIL;
			break;
		}
		status = SMFIS_DISCARD;
		break;
	case RG_ACTION_WARN:
	case RG_ACTION_OFF:
	default:
		if (add_header(conn, value) < 0)
			status = rgm_reply_tempfail(conn, "cannot add header");
		break;
	}
	free(value);
	return status;
}
