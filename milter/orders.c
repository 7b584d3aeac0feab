/*
 * orders.c - the milter's side of the order rules: a pool of order store
 * connections (store/orders.h), the lookup the engine calls while it
 * judges, and recording review requests when a message is delivered.
 *
 * review-repeat, and why the record is a claim taken before answering.
 * Judging reads "has this order had a review request?".  Two requests for
 * one order judged at the same time (two SMTP sessions here, or on two
 * mail servers sharing a PostgreSQL store) both read "no".  So the read
 * only catches earlier requests; the decision is a claim, one atomic
 * INSERT ... ON CONFLICT DO NOTHING on the order id (the table's key),
 * made at end of message before the milter answers:
 *
 *   1. rgm_orders_begin: the scan gets the lookup (and the arrival time);
 *      the engine lists in res->review_orders each order the message asks
 *      a review for that has no request recorded.
 *   2. rgm_orders_claim: only if the message is going to be delivered
 *      (verdict pass or warn, or monitor mode), claim each of them.  A
 *      claim that loses means a concurrent or newer request won: it
 *      becomes a review-repeat finding, with that rule's action, and the
 *      verdict follows (a rejected message is never recorded).
 *   3. rgm_reply_result answers the MTA.
 *   4. rgm_orders_settle: delivered (accept, and pass/warn or monitor):
 *      the claims stand.  Anything else (a lost claim made it reject, the
 *      header could not be added and it tempfails, ...): this message's
 *      claims are released, deleted only where they are still its own
 *      (the claim token names host, process, message and queue id).
 *   5. rgm_orders_msg_end, from the message cleanup: claims never settled
 *      (an error path) are released too; the connection goes back to the
 *      pool, or is closed after an error.
 *
 * Of any number of concurrent requests for one order at most one is
 * delivered.  What is left: the MTA may still lose a message after the
 * milter accepted it (a later milter rejects, the queue file cannot be
 * written); its claim then stands and a new request is refused until
 * "relaygate orders forget-review ORDER-ID".  Failing that way keeps the
 * marketplace's rule; the other way would break it.  A store error while
 * claiming tempfails the message (451), like every internal error.
 *
 * A message released from quarantine was judged when it was held, and not
 * recorded then (held is not delivered): rgm_orders_record_release
 * records its requests when the release passes through.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "milter.h"
#include "store/orders.h"

/* Idle connections kept per configuration. */
#define RGM_ORDERS_POOL_MAX 16
/* Connections open at once per configuration (a message holds one from
 * its first lookup to its end); more messages wait for one.  Keeps a
 * PostgreSQL server's max_connections out of reach of a burst. */
#define RGM_ORDERS_OPEN_MAX 32
#define RGM_ORDERS_WAIT_SECONDS 30

struct rgm_orders {
	char *backend;
	char *target;
	pthread_mutex_t lock;
	pthread_cond_t freed;       /* a connection was returned or closed */
	struct rg_store *idle[RGM_ORDERS_POOL_MAX];
	size_t n_idle;
	size_t n_open;              /* idle and in use */
	atomic_int warned_missing;  /* logged that the SQLite file is absent */
};

struct rgm_orders_msg {
	struct rg_store *store;     /* this message's connection, or NULL */
	int broken;                 /* an error on it: close, do not reuse */
	char claim[RG_CLAIM_SIZE];  /* this message's claim token */
	struct rg_strlist claimed;  /* claims taken, not settled yet */
};

static char hostname[128];
static atomic_ulong claim_seq;
static pthread_once_t hostname_once = PTHREAD_ONCE_INIT;

static void
hostname_init(void)
{
	if (gethostname(hostname, sizeof(hostname)) < 0)
		snprintf(hostname, sizeof(hostname), "localhost");
	hostname[sizeof(hostname) - 1] = '\0';
}

/* ---------------------------------------------------------------- pool */

/*
 * pool_get - an idle connection, or a new one (schema checked).  NULL
 * with *error_r set, or with *missing_r when the SQLite file is absent.
 */
static struct rg_store *
pool_get(struct rgm_orders *o, int *missing_r, char **error_r)
{
	struct rg_store *store = NULL;
	struct timespec deadline;
	int timed_out = 0;

	*missing_r = 0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += RGM_ORDERS_WAIT_SECONDS;
	pthread_mutex_lock(&o->lock);
	while (o->n_idle == 0 && o->n_open >= RGM_ORDERS_OPEN_MAX &&
	       !timed_out)
		timed_out = pthread_cond_timedwait(&o->freed, &o->lock,
		                                   &deadline) != 0;
	if (o->n_idle > 0)
		store = o->idle[--o->n_idle];
	else if (!timed_out)
		o->n_open++;            /* ours to open */
	pthread_mutex_unlock(&o->lock);
	if (store != NULL)
		return store;
	if (timed_out) {
		*error_r = strdup("all order store connections busy");
		return NULL;
	}
	if (rg_store_missing(o->backend, o->target))
		*missing_r = 1;
	else if (rg_store_open(o->backend, o->target, 0, &store,
	                       error_r) == 0 &&
	         rg_store_check(store, error_r) < 0)
		rg_store_close(&store);
	if (store == NULL) {
		pthread_mutex_lock(&o->lock);
		o->n_open--;
		pthread_cond_signal(&o->freed);
		pthread_mutex_unlock(&o->lock);
	}
	return store;
}

/* pool_put - back to the pool, or closed when broken or the pool is full */
static void
pool_put(struct rgm_orders *o, struct rg_store **store, int broken)
{
	int close_it = 1;

	if (*store == NULL)
		return;
	pthread_mutex_lock(&o->lock);
	if (!broken && o->n_idle < RGM_ORDERS_POOL_MAX) {
		o->idle[o->n_idle++] = *store;
		*store = NULL;
		close_it = 0;
	} else {
		o->n_open--;
	}
	pthread_cond_signal(&o->freed);
	pthread_mutex_unlock(&o->lock);
	if (close_it)
		rg_store_close(store);
}

struct rgm_orders *
rgm_orders_new(const struct rg_orders_config *config, int check)
{
	const char *target = rg_orders_target(config);
	struct rgm_orders *o;

	pthread_once(&hostname_once, hostname_init);
	if (target == NULL)
		return NULL;            /* backend "none": order rules off */
	o = g_new0(struct rgm_orders, 1);
	o->backend = g_strdup(config->backend);
	o->target = g_strdup(target);
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->freed, NULL);
	if (check)
		rgm_orders_check(o);
	return o;
}

void
rgm_orders_check(struct rgm_orders *o)
{
	/* say at startup what the order rules will see */
	struct rg_store *store;
	char *error = NULL;
	int missing;

	if (o == NULL)
		return;
	store = pool_get(o, &missing, &error);
	if (store != NULL) {
		rgm_log(NULL, LOG_INFO, "order store: %s",
		        rg_store_describe(store));
		pool_put(o, &store, 0);
	} else if (missing) {
		rgm_log(NULL, LOG_WARNING, "order store %s does not "
		        "exist yet: order rules skipped until \"relaygate "
		        "orders init\" or an import creates it",
		        o->target);
		atomic_store(&o->warned_missing, 1);
	} else {
		rgm_log(NULL, LOG_WARNING, "order store: %s (messages "
		        "naming an order get 451 until it works)",
		        error != NULL ? error : "cannot open");
	}
	free(error);
}

void
rgm_orders_free(struct rgm_orders **op)
{
	struct rgm_orders *o = *op;

	if (o == NULL)
		return;
	*op = NULL;
	while (o->n_idle > 0)
		rg_store_close(&o->idle[--o->n_idle]);
	pthread_cond_destroy(&o->freed);
	pthread_mutex_destroy(&o->lock);
	g_free(o->backend);
	g_free(o->target);
	g_free(o);
}

/* ---------------------------------------------------------------- message */

/* msg_orders - the message's order state, made on first use */
static struct rgm_orders_msg *
msg_orders(struct rgm_conn *conn)
{
	if (conn->msg->orders == NULL)
		conn->msg->orders = g_new0(struct rgm_orders_msg, 1);
	return conn->msg->orders;
}

/*
 * lookup - the engine's order lookup (rg_order_lookup_fn), on the
 * message's pooled connection
 */
static int
lookup(void *ctx, const char *order_id, struct rg_order_info *out,
       char **error_r)
{
	struct rgm_conn *conn = ctx;
	struct rgm_orders *o = conn->msg->rt->orders;
	struct rgm_orders_msg *om = msg_orders(conn);
	int missing, r;

	if (om->store == NULL) {
		om->store = pool_get(o, &missing, error_r);
		if (om->store == NULL) {
			if (missing)
				*error_r = strdup("the order store file "
				                  "disappeared");
			return -1;
		}
	}
	r = rg_store_lookup(om->store, order_id, out, error_r);
	if (r < 0)
		om->broken = 1;
	return r;
}

void
rgm_orders_begin(struct rgm_conn *conn, rg_scan *scan)
{
	struct rgm_orders *o = conn->msg->rt->orders;

	rg_scan_set_arrival(scan, time(NULL));
	if (o == NULL) {
		rg_scan_set_order_lookup(scan, NULL, NULL);
		return;
	}
	if (rg_store_missing(o->backend, o->target)) {
		if (atomic_exchange(&o->warned_missing, 1) == 0)
			rgm_log(conn, LOG_WARNING, "order store %s does not "
			        "exist: order rules skipped until \"relaygate "
			        "orders init\" or an import creates it",
			        o->target);
		rg_scan_set_order_lookup(scan, NULL, NULL);
		return;
	}
	rg_scan_set_order_lookup(scan, lookup, conn);
}

/* release_all - undo this message's unsettled claims */
static void
release_all(struct rgm_conn *conn, struct rgm_orders_msg *om)
{
	for (size_t i = 0; i < om->claimed.count; i++) {
		const char *id = om->claimed.items[i];
		char *error = NULL;
		int r = -1;

		if (om->store != NULL && !om->broken)
			r = rg_store_release_review(om->store, id, om->claim,
			                            &error);
		if (r < 0) {
			om->broken = 1;
			rgm_log(conn, LOG_ERR, "order %s: cannot release this "
			        "message's review request record: %s; a new "
			        "request is refused until \"relaygate orders "
			        "forget-review %s\"", id,
			        error != NULL ? error : "no store connection",
			        id);
		} else {
			rgm_log(conn, LOG_INFO, "order %s: review request not "
			        "delivered, record released", id);
		}
		free(error);
	}
	rg_strlist_clear(&om->claimed);
}

/* keep_all - the message is delivered: its claims stand */
static void
keep_all(struct rgm_conn *conn, struct rgm_orders_msg *om)
{
	for (size_t i = 0; i < om->claimed.count; i++)
		rgm_log(conn, LOG_INFO, "order %s: review request recorded "
		        "(%s)", om->claimed.items[i], om->claim);
	rg_strlist_clear(&om->claimed);
}

/* delivered - the answer delivers the message to the buyer */
static int
delivered(const struct rgm_conn *conn, const struct rg_result *res,
          sfsistat status)
{
	if (status != SMFIS_ACCEPT && status != SMFIS_CONTINUE)
		return 0;
	return conn->msg->rt->monitor || res->verdict <= RG_ACTION_WARN;
}

/*
 * claim_orders - record each review order for this message; a lost
 * claim becomes a review-repeat finding when add_findings.  0, or -1 on a
 * store error (claims taken are released).
 */
static int
claim_orders(struct rgm_conn *conn, struct rgm_orders_msg *om,
             struct rg_result *res, int add_findings)
{
	const rg_policy *policy = conn->msg->rt->policy;
	time_t now = time(NULL);

	snprintf(om->claim, sizeof(om->claim), "%.48s %ld.%lu %.32s", hostname,
	         (long)getpid(), atomic_fetch_add(&claim_seq, 1) + 1,
	         conn->qid[0] != '\0' ? conn->qid : "-");
	for (size_t i = 0; i < res->review_orders.count; i++) {
		const char *id = res->review_orders.items[i];
		char *error = NULL;
		int r;

		if (om->store == NULL) {
			int missing;

			om->store = pool_get(conn->msg->rt->orders, &missing,
			                     &error);
		}
		r = om->store != NULL
		    ? rg_store_claim_review(om->store, id, om->claim, now,
		                            &error)
		    : -1;
		if (r < 0) {
			rgm_log(conn, LOG_ERR, "order %s: cannot record the "
			        "review request: %s", id,
			        error != NULL ? error : "no order store");
			free(error);
			om->broken = 1;
			release_all(conn, om);
			return -1;
		}
		if (r == 1) {
			rg_strlist_add(&om->claimed, id);
			continue;
		}
		/* another message recorded one first */
		rgm_log(conn, LOG_INFO, "order %s: a concurrent review "
		        "request was recorded first", id);
		if (add_findings) {
			char text[96];

			snprintf(text, sizeof(text), "%s already had a review "
			         "request", id);
			rg_result_add(res, policy, RG_RULE_REVIEW_REPEAT, text);
		}
	}
	return 0;
}

int
rgm_orders_claim(struct rgm_conn *conn, struct rg_result *res)
{
	struct rgm_orders_msg *om;

	if (conn->msg->rt->orders == NULL || res->review_orders.count == 0)
		return 0;
	/* only a message about to be delivered records its request */
	if (!conn->msg->rt->monitor && res->verdict > RG_ACTION_WARN)
		return 0;
	om = msg_orders(conn);
	return claim_orders(conn, om, res, 1);
}

void
rgm_orders_settle(struct rgm_conn *conn, const struct rg_result *res,
                  sfsistat status)
{
	struct rgm_orders_msg *om = conn->msg != NULL ? conn->msg->orders
	                                              : NULL;

	if (om == NULL || om->claimed.count == 0)
		return;
	if (!delivered(conn, res, status)) {
		release_all(conn, om);
		return;
	}
	keep_all(conn, om);
}

void
rgm_orders_record_release(struct rgm_conn *conn)
{
	struct rgm_msg *msg = conn->msg;
	struct rgm_orders_msg *om;
	struct rg_result res;
	char *error = NULL;
	rg_scan *scan;
	int r;

	if (msg->rt->orders == NULL || msg->oversize ||
	    (scan = rgm_conn_scan(conn)) == NULL)
		return;
	rgm_orders_begin(conn, scan);
	rg_scan_set_envelope(scan, msg->sender,
	                     (const char *const *)msg->recipients.items,
	                     msg->recipients.count);
	memset(&res, 0, sizeof(res));
	if (msg->spool.fd >= 0)
		r = rgm_spool_rewind(&msg->spool) < 0 ? -1
		    : rg_scan_fd(scan, msg->spool.fd, &res, &error);
	else
		r = rg_scan_message(scan, msg->spool.buf != NULL
		                    ? msg->spool.buf
		                    : (const unsigned char *)"",
		                    msg->spool.len, &res, &error);
	if (r == 0 && res.review_orders.count > 0) {
		om = msg_orders(conn);
		/* a reviewer released it: record, never refuse it here */
		if (claim_orders(conn, om, &res, 0) == 0)
			keep_all(conn, om);
	} else if (r < 0) {
		rgm_log(conn, LOG_ERR, "released message: review requests not "
		        "recorded: %s", error != NULL ? error : "engine error");
	}
	free(error);
	rg_result_clear(&res);
}

void
rgm_orders_msg_end(struct rgm_conn *conn)
{
	struct rgm_orders_msg *om;

	if (conn == NULL || conn->msg == NULL ||
	    (om = conn->msg->orders) == NULL)
		return;
	conn->msg->orders = NULL;
	release_all(conn, om);
	if (conn->msg->rt != NULL && conn->msg->rt->orders != NULL)
		pool_put(conn->msg->rt->orders, &om->store, om->broken);
	else
		rg_store_close(&om->store);
	g_free(om);
}
