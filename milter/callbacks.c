/*
 * callbacks.c - the milter protocol, step by step.
 *
 * negotiate/connect  the connection context (client, negotiated options)
 * envfrom            a new message context pinned to the live policy
 * envrcpt            a recipient at a relay domain makes the message ours
 * data/eoh           not ours: accept untouched, before headers or body
 * header/eoh/body    ours: collect the message (spool.c) up to the limit
 * eom                a genuine release marker: accept once, unjudged
 *                    (quarantine.c); else judge it and answer (reply.c)
 * abort/close        the one message cleanup; close frees the connection
 *
 * Every internal error answers 451 4.7.1 (never accept unchecked mail) and
 * cleans the message before that early final answer.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>

#include "milter.h"

/* Actions relaygate needs the MTA to allow: without them it cannot do its
 * job, and the connection is refused (the MTA's default action applies).
 * Held messages go to relaygate's own store, not the MTA's hold queue. */
#define RGM_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS)

/*
 * The macros relaygate reads, per stage (smfi_setsymlist): the queue id
 * wherever the MTA may have assigned it, the SASL user at MAIL FROM.
 */
static const struct {
	int stage;
	const char *macros;
} symlists[] = {
	{ SMFIM_ENVFROM, "i {auth_authen}" },
	{ SMFIM_ENVRCPT, "i" },
	{ SMFIM_DATA, "i" },
	{ SMFIM_EOH, "i" },
	{ SMFIM_EOM, "i" },
};

/*
 * fail - an early final answer after an internal error: clean the message
 * and tempfail
 */
static sfsistat
fail(struct rgm_conn *conn, const char *why)
{
	sfsistat status = rgm_reply_tempfail(conn, why);

	rgm_msg_cleanup(conn);
	return status;
}

/*
 * no_message - a message step without a message context (the MTA skipped
 * MAIL FROM, or it failed): tempfail without a context to log with
 */
static sfsistat
no_message(SMFICTX *ctx, struct rgm_conn *conn)
{
	if (conn != NULL)
		return rgm_reply_tempfail(conn, "message step without MAIL FROM");
	rgm_log(NULL, LOG_ERR, "temporary failure: no connection context");
	(void)smfi_setreply(ctx, RGM_TEMPFAIL_RCODE, RGM_TEMPFAIL_XCODE,
	                    RGM_TEMPFAIL_TEXT);
	return SMFIS_TEMPFAIL;
}

/*
 * not_ours - once all recipients are known: a message with no recipient at
 * a relay domain is accepted untouched and never parsed.  Returns
 * SMFIS_ACCEPT (message cleaned) or SMFIS_CONTINUE.
 */
static sfsistat
not_ours(struct rgm_conn *conn)
{
	struct rgm_msg *msg = conn->msg;

	msg->decided = 1;
	if (msg->relay_rcpts > 0)
		return SMFIS_CONTINUE;
	rgm_msg_cleanup(conn);
	return SMFIS_ACCEPT;
}

/*
 * collect - add bytes of the message; past max_message_bytes stop
 * collecting (and free what was kept): eom gives the "uncheckable" action.
 * When that action is quarantine the bytes are kept (in the spool file,
 * not scanned) so the message can be held whole.
 * Returns 0, or -1 after a spool failure (logged).
 */
static int
collect(struct rgm_conn *conn, const void *data, size_t len)
{
	struct rgm_msg *msg = conn->msg;
	const struct rg_settings *set = rg_policy_settings(msg->rt->policy);
	char *error = NULL;

	if (!msg->oversize && (len > set->max_message_bytes - msg->size ||
	                       msg->size > set->max_message_bytes)) {
		msg->oversize = 1;
		msg->keep_oversize = !msg->rt->monitor &&
		        set->actions[RG_RULE_UNCHECKABLE] == RG_ACTION_QUARANTINE;
		if (!msg->keep_oversize)
			rgm_spool_clear(&msg->spool);
		rgm_log(conn, LOG_INFO, "message exceeds the size limit of "
		        "%zu bytes: %s", set->max_message_bytes,
		        msg->keep_oversize ? "kept unscanned, to be held"
		                           : "not collected further");
	}
	if (msg->oversize && !msg->keep_oversize) {
		msg->size = len > (size_t)-1 - msg->size ? (size_t)-1
		                                         : msg->size + len;
		return 0;
	}
	if (rgm_spool_append(&msg->spool, msg->rt->spool_dir, data, len,
	                     &error) < 0) {
		rgm_log(conn, LOG_ERR, "spool: %s",
		        error != NULL ? error : "out of memory");
		free(error);
		return -1;
	}
	msg->size += len;
	return 0;
}

/*
 * collect_value - a header value, bare LF (the MTA's folding) made CRLF so
 * the message the engine parses has one line ending
 */
static int
collect_value(struct rgm_conn *conn, const char *value)
{
	const char *p = value, *lf;

	while ((lf = strchr(p, '\n')) != NULL) {
		size_t n = (size_t)(lf - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (collect(conn, p, n) < 0 || collect(conn, "\r\n", 2) < 0)
			return -1;
		p = lf + 1;
	}
	return collect(conn, p, strlen(p));
}

static sfsistat
rgm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
              unsigned long f2, unsigned long f3, unsigned long *pf0,
              unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct rgm_conn *conn;

	(void)f2;
	(void)f3;
	if ((f0 & RGM_ACTIONS) != RGM_ACTIONS) {
		rgm_log(NULL, LOG_ERR, "the MTA does not allow adding and "
		        "changing headers (offers 0x%lx): connection refused",
		        f0);
		return SMFIS_REJECT;
	}
	conn = smfi_getpriv(ctx);
	if (conn == NULL) {
		conn = rgm_conn_new(&rgm_libmilter_ops, ctx);
		if (conn == NULL) {
			rgm_log(NULL, LOG_ERR, "out of memory: connection "
			        "refused");
			return SMFIS_REJECT;
		}
		(void)smfi_setpriv(ctx, conn);
	}
	*pf0 = RGM_ACTIONS;
	*pf1 = 0;
	*pf2 = 0;
	*pf3 = 0;
	/*
	 * No HELO step skipped: the MTA would still send that step's
	 * macros, unanswered, and on TCP that stalls the next command for
	 * the peer's delayed ACK (40 ms).  Unknown commands are rare.
	 */
	if (f1 & SMFIP_NOUNKNOWN)
		*pf1 |= SMFIP_NOUNKNOWN;
	if (f1 & SMFIP_HDR_LEADSPC) {
		*pf1 |= SMFIP_HDR_LEADSPC;
		conn->leadspc = 1;
	}
	if (f1 & SMFIP_SKIP) {
		*pf1 |= SMFIP_SKIP;
		conn->can_skip = 1;
	}
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		for (size_t i = 0; i < sizeof(symlists) / sizeof(symlists[0]);
		     i++)
			if (smfi_setsymlist(ctx, symlists[i].stage,
			                    (char *)symlists[i].macros) !=
			    MI_SUCCESS)
				rgm_log(conn, LOG_WARNING, "cannot ask for "
				        "macros \"%s\"", symlists[i].macros);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
rgm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);

	if (conn == NULL) {
		/* an MTA older than milter protocol 6 does not negotiate */
		conn = rgm_conn_new(&rgm_libmilter_ops, ctx);
		if (conn == NULL)
			return no_message(ctx, NULL);
		(void)smfi_setpriv(ctx, conn);
	}
	snprintf(conn->host, sizeof(conn->host), "%s",
	         host != NULL ? host : "unknown");
	snprintf(conn->addr, sizeof(conn->addr), "local");
	if (sa != NULL && sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET,
		                &((struct sockaddr_in *)(void *)sa)->sin_addr,
		                conn->addr, sizeof(conn->addr));
	else if (sa != NULL && sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
		                &((struct sockaddr_in6 *)(void *)sa)->sin6_addr,
		                conn->addr, sizeof(conn->addr));
	return SMFIS_CONTINUE;
}

static sfsistat
rgm_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	(void)helo;
	return SMFIS_CONTINUE;
}

static sfsistat
rgm_envfrom(SMFICTX *ctx, char **argv)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);
	const char *from;
	size_t len;

	if (conn == NULL)
		return no_message(ctx, NULL);
	if (rgm_msg_start(conn) < 0)
		return fail(conn, "cannot start a message: out of memory");
	rgm_conn_macros(conn);
	/* the sender for logs, without its angle brackets */
	from = argv != NULL && argv[0] != NULL ? argv[0] : "";
	if (from[0] == '<')
		from++;
	len = strlen(from);
	if (len > 0 && from[len - 1] == '>')
		len--;
	if (len >= sizeof(conn->msg->sender))
		len = sizeof(conn->msg->sender) - 1;
	memcpy(conn->msg->sender, from, len);
	conn->msg->sender[len] = '\0';
	return SMFIS_CONTINUE;
}

static sfsistat
rgm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);
	struct rgm_msg *msg;

	if (conn == NULL || (msg = conn->msg) == NULL)
		return no_message(ctx, conn);
	rgm_conn_macros(conn);
	msg->rcpts++;
	if (argv != NULL && argv[0] != NULL)
		rg_strlist_add(&msg->recipients, argv[0]);
	if (argv != NULL && argv[0] != NULL &&
	    rg_is_relay_address(msg->rt->policy, argv[0]))
		msg->relay_rcpts++;
	return SMFIS_CONTINUE;
}

static sfsistat
rgm_data(SMFICTX *ctx)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);

	if (conn == NULL || conn->msg == NULL)
		return no_message(ctx, conn);
	rgm_conn_macros(conn);
	return not_ours(conn);
}

static sfsistat
rgm_header(SMFICTX *ctx, char *name, char *value)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);
	struct rgm_msg *msg;

	if (conn == NULL || (msg = conn->msg) == NULL)
		return no_message(ctx, conn);
	if (!msg->decided && not_ours(conn) == SMFIS_ACCEPT)
		return SMFIS_ACCEPT;
	if (name == NULL || value == NULL)
		return fail(conn, "header without name or value");
	if (strcasecmp(name, RGM_HEADER) == 0)
		msg->forged_headers++;
	if (strcasecmp(name, RGQ_MARKER_HEADER) == 0 && msg->markers++ == 0)
		msg->marker = strdup(value);
	if (collect(conn, name, strlen(name)) < 0 ||
	    collect(conn, conn->leadspc ? ":" : ": ",
	            conn->leadspc ? 1 : 2) < 0 ||
	    collect_value(conn, value) < 0 ||
	    collect(conn, "\r\n", 2) < 0)
		return fail(conn, "cannot keep the message");
	return SMFIS_CONTINUE;
}

static sfsistat
rgm_eoh(SMFICTX *ctx)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);
	struct rgm_msg *msg;

	if (conn == NULL || (msg = conn->msg) == NULL)
		return no_message(ctx, conn);
	rgm_conn_macros(conn);
	if (!msg->decided && not_ours(conn) == SMFIS_ACCEPT)
		return SMFIS_ACCEPT;
	msg->in_body = 1;
	if (collect(conn, "\r\n", 2) < 0)
		return fail(conn, "cannot keep the message");
	return SMFIS_CONTINUE;
}

static sfsistat
rgm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);
	struct rgm_msg *msg;

	if (conn == NULL || (msg = conn->msg) == NULL)
		return no_message(ctx, conn);
	if (!msg->decided && not_ours(conn) == SMFIS_ACCEPT)
		return SMFIS_ACCEPT;
	if (!msg->in_body) {
		/* the MTA sent no end of headers: the blank line is ours */
		msg->in_body = 1;
		if (collect(conn, "\r\n", 2) < 0)
			return fail(conn, "cannot keep the message");
	}
	if (collect(conn, chunk, len) < 0)
		return fail(conn, "cannot keep the message");
	if (msg->oversize && !msg->keep_oversize && conn->can_skip)
		return SMFIS_SKIP;
	return SMFIS_CONTINUE;
}

/*
 * judge_oversize - the answer for a message over max_message_bytes: one
 * "uncheckable" finding with the configured action, never a prefix scan
 */
static sfsistat
judge_oversize(struct rgm_conn *conn)
{
	const struct rg_settings *set =
	        rg_policy_settings(conn->msg->rt->policy);
	char part[] = "message";
	char excerpt[128];
	struct rg_finding finding;
	struct rg_result res;

	snprintf(excerpt, sizeof(excerpt), "message exceeds the size limit "
	         "of %zu bytes", set->max_message_bytes);
	memset(&finding, 0, sizeof(finding));
	finding.rule = RG_RULE_UNCHECKABLE;
	finding.action = set->actions[RG_RULE_UNCHECKABLE];
	finding.part = part;
	finding.excerpt = excerpt;
	memset(&res, 0, sizeof(res));
	res.verdict = finding.action;
	res.findings = &finding;
	res.count = 1;
	return rgm_reply_result(conn, &res);
}

/*
 * judge - scan the collected message and answer
 */
static sfsistat
judge(struct rgm_conn *conn)
{
	struct rgm_msg *msg = conn->msg;
	struct rg_result res;
	char *error = NULL;
	sfsistat status;
	rg_scan *scan;
	int r;

	scan = rgm_conn_scan(conn);
	if (scan == NULL)
		return rgm_reply_tempfail(conn, "cannot create scan state");
	memset(&res, 0, sizeof(res));
	rg_scan_set_envelope(scan, msg->sender,
	                     (const char *const *)msg->recipients.items,
	                     msg->recipients.count);
	rgm_orders_begin(conn, scan);   /* order data for the order rules */
	if (msg->spool.fd >= 0) {
		if (rgm_spool_rewind(&msg->spool) < 0)
			return rgm_reply_tempfail(conn, "cannot rewind spool");
		r = rg_scan_fd(scan, msg->spool.fd, &res, &error);
	} else {
		static const unsigned char empty[1];

		r = rg_scan_message(scan, msg->spool.buf != NULL
		                    ? msg->spool.buf : empty,
		                    msg->spool.len, &res, &error);
	}
	if (r < 0) {
		char why[512];

		snprintf(why, sizeof(why), "engine: %s",
		         error != NULL ? error : "unknown error");
		free(error);
		rg_result_clear(&res);
		return rgm_reply_tempfail(conn, why);
	}
	/* review requests (orders.c): claimed atomically before answering,
	 * kept only if the answer delivers the message */
	if (rgm_orders_claim(conn, &res) < 0) {
		rg_result_clear(&res);
		return rgm_reply_tempfail(conn, "order store: cannot record "
		                          "a review request");
	}
	status = rgm_reply_result(conn, &res);
	rgm_orders_settle(conn, &res, status);
	rg_result_clear(&res);
	return status;
}

static sfsistat
rgm_eom(SMFICTX *ctx)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);
	struct rgm_msg *msg;
	sfsistat status;

	if (conn == NULL || (msg = conn->msg) == NULL)
		return no_message(ctx, conn);
	rgm_conn_macros(conn);          /* the queue id, surely known now */
	if (!msg->decided && not_ours(conn) == SMFIS_ACCEPT)
		return SMFIS_ACCEPT;
	if (!msg->in_body) {
		msg->in_body = 1;
		if (collect(conn, "\r\n", 2) < 0)
			return fail(conn, "cannot keep the message");
	}
	if (rgm_release_check(conn, &status)) {
		/* a reviewed message, released: now it is delivered */
		if (status == SMFIS_ACCEPT)
			rgm_orders_record_release(conn);
	} else if (msg->oversize)
		status = judge_oversize(conn);
	else
		status = judge(conn);
	rgm_msg_cleanup(conn);
	return status;
}

static sfsistat
rgm_abort(SMFICTX *ctx)
{
	rgm_msg_cleanup(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat
rgm_close(SMFICTX *ctx)
{
	struct rgm_conn *conn = smfi_getpriv(ctx);

	rgm_conn_free(&conn);
	(void)smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

struct smfiDesc rgm_filter = {
	.xxfi_name = RGM_NAME,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = RGM_ACTIONS | SMFIF_SETSYMLIST,
	.xxfi_connect = rgm_connect,
	.xxfi_helo = rgm_helo,
	.xxfi_envfrom = rgm_envfrom,
	.xxfi_envrcpt = rgm_envrcpt,
	.xxfi_header = rgm_header,
	.xxfi_eoh = rgm_eoh,
	.xxfi_body = rgm_body,
	.xxfi_eom = rgm_eom,
	.xxfi_abort = rgm_abort,
	.xxfi_close = rgm_close,
	.xxfi_unknown = NULL,
	.xxfi_data = rgm_data,
	.xxfi_negotiate = rgm_negotiate,
};
