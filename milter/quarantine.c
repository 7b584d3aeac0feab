/*
 * quarantine.c - the milter's side of the quarantine: holding a message in
 * relaygate's store before the client hears 250, letting a reviewed
 * message through once on a genuine release marker, and the thread that
 * sends queued notices and purges expired records.  The store itself, the
 * marker and the notices are in store/ (shared with the CLI).
 */
#include "config.h"

#include <errno.h>
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

/* The notice thread wakes at least this often to retry notices. */
#define NOTIFIER_PERIOD 30
/* and purges expired records this often */
#define PURGE_PERIOD 3600

void
rgm_store_logger(int priority, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	rgm_log(NULL, priority, "quarantine: %s", buf);
}

/*
 * spool_head - the message's header section (at most
 * RGQ_NOTICE_HEADERS_MAX bytes) from the spool, malloc'd; NULL if
 * unreadable
 */
static unsigned char *
spool_head(struct rgm_spool *spool, size_t *len_r)
{
	unsigned char *buf;
	ssize_t n;

	if (spool->fd < 0) {
		*len_r = rgq_header_section(spool->buf, spool->len);
		return g_memdup2(spool->buf ? spool->buf : (unsigned char *)"",
		                 *len_r ? *len_r : 1);
	}
	buf = g_malloc(RGQ_NOTICE_HEADERS_MAX);
	do
		n = pread(spool->fd, buf, RGQ_NOTICE_HEADERS_MAX, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		g_free(buf);
		return NULL;
	}
	*len_r = rgq_header_section(buf, (size_t)n);
	return buf;
}

/*
 * bare_address - an SMTP path without its angle brackets (g_strdup'd)
 */
static char *
bare_address(const char *path)
{
	size_t len;

	if (*path == '<')
		path++;
	len = strlen(path);
	if (len > 0 && path[len - 1] == '>')
		len--;
	return g_strndup(path, len);
}

int
rgm_quarantine_hold(struct rgm_conn *conn, const struct rg_result *res,
                    char id_r[RGQ_ID_LEN + 1])
{
	struct rgm_msg *msg = conn->msg;
	struct rgm_runtime *rt = msg->rt;
	struct rgq_record rec;
	struct rgq_notice_job job, *jobp = NULL;
	unsigned char *notice = NULL, *head;
	const char *skip;
	char *error = NULL;
	size_t head_len = 0;
	int r;

	if (rt->store == NULL) {
		rgm_log(conn, LOG_ERR, "no quarantine store");
		return -1;
	}
	memset(&rec, 0, sizeof(rec));
	rgq_new_id(rec.id);
	rec.created = (int64_t)time(NULL);
	rec.queue_id = g_strdup(conn->qid);
	rec.sender = g_strdup(msg->sender);
	rec.auth_user = g_strdup(conn->user);
	rec.subject = g_strdup(res->subject ? res->subject : "");
	for (size_t i = 0; i < msg->recipients.count; i++) {
		char *a = bare_address(msg->recipients.items[i]);

		rg_strlist_add(&rec.recipients, a);
		g_free(a);
	}
	rgq_record_set_findings(&rec, res);
	rec.size = msg->spool.fd >= 0 ? msg->spool.total : msg->spool.len;

	skip = rgq_notice_skip(rt->policy, rec.sender);
	if (rt->quarantine.notify && skip == NULL) {
		head = spool_head(&msg->spool, &head_len);
		notice = rgq_notice_compose(&rec, "held", NULL, head, head_len,
		                            &rt->notice, &job.len);
		g_free(head);
		job.kind = "held";
		job.recipient = rec.sender;
		job.data = notice;
		jobp = &job;
	}
	if (rgm_spool_rewind(&msg->spool) < 0) {
		rgm_log(conn, LOG_ERR, "quarantine: cannot rewind the spool: %s",
		        strerror(errno));
		r = -1;
	} else {
		r = rgq_store_put(rt->store, &rec, msg->spool.fd >= 0 ? NULL
		                  : (msg->spool.buf ? msg->spool.buf
		                                    : (unsigned char *)""),
		                  msg->spool.len, msg->spool.fd, jobp, &error);
		if (r < 0)
			rgm_log(conn, LOG_ERR, "quarantine: %s", error);
	}
	if (r == 0) {
		memcpy(id_r, rec.id, sizeof(rec.id));
		rgm_log(conn, LOG_INFO, "held as %s (%llu bytes, %zu "
		        "recipient%s); %s%s", rec.id,
		        (unsigned long long)rec.size, rec.recipients.count,
		        rec.recipients.count == 1 ? "" : "s",
		        jobp ? "notice queued for the sender" :
		        !rt->quarantine.notify ? "notices are off" :
		        "no notice: the sender is ", jobp ||
		        !rt->quarantine.notify ? "" : skip);
		if (jobp != NULL)
			rgm_notifier_wake();
	}
	g_free(error);
	g_free(notice);
	rgq_record_clear(&rec);
	return r;
}

/*
 * spool_digest - the release digest of the collected message
 */
static int
spool_digest(struct rgm_spool *spool, char out[65])
{
	rgq_digest *d = rgq_digest_new();
	unsigned char buf[65536];

	if (spool->fd < 0) {
		rgq_digest_update(d, spool->buf, spool->len);
	} else {
		ssize_t n;

		if (rgm_spool_rewind(spool) < 0) {
			rgq_digest_finish(&d, out);
			return -1;
		}
		while ((n = read(spool->fd, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rgq_digest_finish(&d, out);
				return -1;
			}
			rgq_digest_update(d, buf, (size_t)n);
		}
	}
	rgq_digest_finish(&d, out);
	return 0;
}

int
rgm_release_check(struct rgm_conn *conn, sfsistat *status_r)
{
	struct rgm_msg *msg = conn->msg;
	rgq_store *store = msg->rt->store;
	char digest[65], id[RGQ_ID_LEN + 1], *why = NULL, *value;
	int r;

	if (msg->marker == NULL)
		return 0;
	/* an oversize message is kept whole only when it is to be held
	 * (collect in callbacks.c): then it can be checked, and released */
	if (store == NULL || (msg->oversize && !msg->keep_oversize)) {
		rgm_log(conn, LOG_WARNING, "release marker ignored (%s): "
		        "judged like any other message", store == NULL
		        ? "no store" : "message over the size limit");
		return 0;
	}
	if (spool_digest(&msg->spool, digest) < 0) {
		*status_r = rgm_reply_tempfail(conn, "cannot read the spool");
		return 1;
	}
	if (msg->markers > 1)
		rgm_log(conn, LOG_WARNING, "%u release markers: only the first "
		        "counts", msg->markers);
	if (rgq_marker_verify(store, msg->marker, digest, id, &why) < 0) {
		rgm_log(conn, LOG_WARNING, "forged or invalid release marker "
		        "(%s): judged like any other message", why);
		g_free(why);
		return 0;
	}
	r = rgq_store_claim_release(store, id, &why);
	if (r < 0) {
		rgm_log(conn, LOG_ERR, "%s: cannot record the release: %s", id,
		        why);
		g_free(why);
		*status_r = rgm_reply_tempfail(conn, "cannot record a release");
		return 1;
	}
	if (r == 0) {
		rgm_log(conn, LOG_WARNING, "%s: release marker replayed (the "
		        "record is not being released): judged like any other "
		        "message", id);
		return 0;
	}
	value = g_strdup_printf("released; id=%s", id);
	if (rgm_reply_header(conn, value) < 0) {
		/* the reviewer sees the refusal and the record is put back
		 * to held (store/review.c) */
		*status_r = rgm_reply_tempfail(conn, "cannot change headers of "
		                               "a released message");
	} else {
		rgm_log(conn, LOG_INFO, "%s: release marker verified: "
		        "delivered as reviewed, not judged again", id);
		*status_r = SMFIS_ACCEPT;
	}
	g_free(value);
	return 1;
}

/* ------------------------------------------------------------- notifier */

static pthread_mutex_t notifier_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notifier_cond = PTHREAD_COND_INITIALIZER;
static pthread_t notifier_thread;
static int notifier_running, notifier_stop, notifier_kick;

/*
 * notifier_round - send due notices; purge expired records once an hour.
 * Returns how many notices were sent: the store hands them out in
 * batches, so a round that sent some is followed by another at once.
 */
static int
notifier_round(time_t *last_purge)
{
	struct rgm_runtime *rt = rgm_runtime_acquire();
	char *error = NULL;
	int sent;

	if (rt == NULL || rt->store == NULL) {
		rgm_runtime_release(&rt);
		return 0;
	}
	sent = rgq_flush_notices(rt->store, &rt->delivery, 0,
	                         rt->quarantine.retention, &error);
	if (sent < 0) {
		rgm_log(NULL, LOG_ERR, "quarantine: notices: %s", error);
		g_free(error);
		error = NULL;
		sent = 0;
	}
	if (time(NULL) - *last_purge >= PURGE_PERIOD) {
		struct rgq_review rv;
		unsigned long dropped, deleted;

		*last_purge = time(NULL);
		memset(&rv, 0, sizeof(rv));
		rv.store = rt->store;
		rv.delivery = &rt->delivery;
		rv.notice = &rt->notice;
		rv.policy = rt->policy;
		rv.notify = rt->quarantine.notify;
		rv.actor = "retention";
		if (rgq_purge(&rv, (int64_t)time(NULL) -
		              rt->quarantine.retention, 0, &dropped, &deleted,
		              &error) < 0) {
			rgm_log(NULL, LOG_ERR, "quarantine: purge: %s", error);
			g_free(error);
		}
	}
	rgm_runtime_release(&rt);
	return sent;
}

static void *
notifier(void *arg)
{
	time_t last_purge = 0;

	(void)arg;
	pthread_mutex_lock(&notifier_lock);
	while (!notifier_stop) {
		struct timespec until;
		int sent;

		pthread_mutex_unlock(&notifier_lock);
		sent = notifier_round(&last_purge);
		pthread_mutex_lock(&notifier_lock);
		if (sent > 0)
			continue;       /* more may be due: no pause */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += NOTIFIER_PERIOD;
		while (!notifier_stop && !notifier_kick)
			if (pthread_cond_timedwait(&notifier_cond,
			                           &notifier_lock,
			                           &until) != 0)
				break;
		notifier_kick = 0;
	}
	pthread_mutex_unlock(&notifier_lock);
	return NULL;
}

int
rgm_notifier_start(void)
{
	int r;

	rgq_set_logger(rgm_store_logger);
	r = pthread_create(&notifier_thread, NULL, notifier, NULL);
	if (r != 0) {
		rgm_log(NULL, LOG_ERR, "cannot start the notice thread: %s",
		        strerror(r));
		return -1;
	}
	notifier_running = 1;
	return 0;
}

void
rgm_notifier_wake(void)
{
	pthread_mutex_lock(&notifier_lock);
	notifier_kick = 1;
	pthread_cond_signal(&notifier_cond);
	pthread_mutex_unlock(&notifier_lock);
}

void
rgm_notifier_stop(void)
{
	if (!notifier_running)
		return;
	pthread_mutex_lock(&notifier_lock);
	notifier_stop = 1;
	pthread_cond_signal(&notifier_cond);
	pthread_mutex_unlock(&notifier_lock);
	(void)pthread_join(notifier_thread, NULL);
	notifier_running = 0;
}
