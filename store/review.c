/*
 * review.c - what a reviewer does to held messages: release, drop, purge;
 * and the notice queue (sent now, retried later, never lost silently).
 *
 * Release delivers exactly once.  The steps, and what a crash between
 * them leaves:
 *   1. held -> releasing (UPDATE ... WHERE state = 'held': of two
 *      reviewers, one wins).  Crash after it: the record stays
 *      "releasing", nothing was sent; `release --resume ID` sends it.
 *   2. the stored bytes go to the MTA with a release marker (digest.c).
 *   3. the milter verifies the marker and moves releasing -> released
 *      before it lets the message in: a second copy of the same marker
 *      (a retry, a replay) is judged like any other message, so whatever
 *      happens to this process, the MTA accepts the release at most once.
 *   4. on the MTA's 250 the record is marked released (also when the
 *      milter did not see it: sendmail delivery without non_smtpd_milters)
 *      and the sender is told.
 * A definite refusal (4xx/5xx, sendmail's exit status) puts the record
 * back to held, whatever step 3 did: the MTA does not have the message.
 * When the answer to the end of data is lost, the MTA may or may not have
 * it: the record is left as it is and the reviewer is told to look at the
 * MTA's log before `--resume` (which the milter refuses once it has
 * claimed the marker).  We chose "at most once, and say so when unsure"
 * over "at least once": a buyer getting a message twice is the harm the
 * marketplace punishes, a stuck record is visible in `list`.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "store/quarantine.h"
#include "store/quarantine-internal.h"

/* Stray files (a crash between writing and indexing) older than this go. */
#define STRAY_AGE (60 * 60)
/* Notices: the first retry after a minute, doubling up to an hour. */
#define NOTICE_RETRY_MIN 60
#define NOTICE_RETRY_MAX 3600
/* How long one flusher owns a notice it is sending. */
#define NOTICE_LEASE 600

/*
 * set_state - state to `to` from any of the states in from[] (n of them),
 * with actor and reason and an audit event; 1 changed, 0 not, -1 error
 */
static int
set_state(rgq_store *s, const char *id, const enum rgq_state *from, size_t n,
          enum rgq_state to, const char *event, const char *actor,
          const char *reason, char **error_r)
{
	sqlite3_stmt *st = NULL;
	GString *sql = g_string_new("UPDATE message SET state = ?, state_time"
	                            " = ?, actor = ?, reason = ? WHERE id = ? "
	                            "AND state IN (");
	int r = -1;

	for (size_t i = 0; i < n; i++)
		g_string_append_printf(sql, "%s'%s'", i ? ", " : "",
		                       rgq_state_name(from[i]));
	g_string_append_c(sql, ')');
	pthread_mutex_lock(&s->lock);
	if (rgq_store_exec(s, "BEGIN IMMEDIATE", error_r) < 0)
		goto out;
	st = rgq_store_prepare(s, sql->str, error_r);
	if (st == NULL)
		goto rollback;
	sqlite3_bind_text(st, 1, rgq_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, actor ? actor : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, reason ? reason : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, id, -1, SQLITE_TRANSIENT);
	if (rgq_step_done(s, st, error_r) < 0)
		goto rollback;
	r = sqlite3_changes(s->db) > 0;
	sqlite3_finalize(st);
	st = NULL;
	if (r == 1) {
		st = rgq_store_prepare(s, "INSERT INTO event (message_id, time,"
		                       " action, actor, reason) VALUES (?, ?, "
		                       "?, ?, ?)", error_r);
		if (st == NULL)
			goto rollback;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(st, 3, event, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, actor ? actor : "", -1,
		                  SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, reason ? reason : "", -1,
		                  SQLITE_TRANSIENT);
		if (rgq_step_done(s, st, error_r) < 0)
			goto rollback;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rgq_store_exec(s, "COMMIT", error_r) < 0)
		goto rollback;
	goto out;
rollback:
	r = -1;
	sqlite3_finalize(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&s->lock);
	g_string_free(sql, TRUE);
	return r;
}

/*
 * not_in_state - the error for a record that is not where an action needs
 * it
 */
static char *
not_in_state(const struct rgq_record *rec, const char *action)
{
	char *when;
	GDateTime *dt = g_date_time_new_from_unix_local(rec->state_time);
	char *msg;

	when = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("?");
	if (dt)
		g_date_time_unref(dt);
	if (rec->state == RGQ_RELEASING)
		msg = g_strdup_printf("%s: cannot %s: being released by %s since"
		                      " %s (if that release died, check the "
		                      "MTA's log, then use release --resume)",
		                      rec->id, action, rec->actor[0]
		                      ? rec->actor : "?", when);
	else
		msg = g_strdup_printf("%s: cannot %s: not held, %s by %s at %s",
		                      rec->id, action,
		                      rgq_state_name(rec->state),
		                      rec->actor[0] ? rec->actor : "?", when);
	g_free(when);
	return msg;
}

/*
 * notify - compose, queue and try to send the notice of kind about rec;
 * failures are logged (the notice stays queued), never returned
 */
static void
notify(const struct rgq_review *rv, const struct rgq_record *rec,
       const char *kind, const char *reason, const unsigned char *data,
       size_t len)
{
	struct rgq_notice_job job;
	const char *skip;
	unsigned char *notice;
	size_t notice_len;
	char *error = NULL;

	if (!rv->notify)
		return;
	skip = rgq_notice_skip(rv->policy, rec->sender);
	if (skip != NULL) {
		rgq_log(LOG_INFO, "%s: no %s notice: the sender is %s", rec->id,
		        kind, skip);
		return;
	}
	notice = rgq_notice_compose(rec, kind, reason, data,
	                            data ? rgq_header_section(data, len) : 0,
	                            rv->notice, &notice_len);
	job.kind = kind;
	job.recipient = rec->sender;
	job.data = notice;
	job.len = notice_len;
	if (rgq_store_enqueue_notice(rv->store, rec->id, &job, &error) < 0) {
		rgq_log(LOG_ERR, "%s: cannot queue the %s notice to <%s>: %s",
		        rec->id, kind, rec->sender, error);
		g_free(error);
		g_free(notice);
		return;
	}
	g_free(notice);
	if (rgq_flush_notices(rv->store, rv->delivery, 0, 0, &error) < 0) {
		rgq_log(LOG_ERR, "notices: %s", error);
		g_free(error);
	}
}

int
rgq_release(const struct rgq_review *rv, const char *id, const char *reason,
            int resume, char **error_r)
{
	static const enum rgq_state back[] = { RGQ_RELEASING, RGQ_RELEASED };
	struct rgq_record rec;
	unsigned char *data = NULL;
	char digest[65], *marker = NULL, *head = NULL, *error = NULL;
	size_t len = 0;
	int r, permanent;

	*error_r = NULL;
	r = rgq_store_get(rv->store, id, &rec, error_r);
	if (r <= 0)
		return -1;
	r = resume ? rgq_store_transition(rv->store, rec.id, RGQ_RELEASING,
	                                  RGQ_RELEASING, rv->actor, reason,
	                                  error_r)
	           : rgq_store_transition(rv->store, rec.id, RGQ_HELD,
	                                  RGQ_RELEASING, rv->actor, reason,
	                                  error_r);
	if (r < 0)
		goto fail;
	if (r == 0) {
		/* someone else acted first: say who, from the fresh record */
		struct rgq_record now;
		char *e2 = NULL;

		if (rgq_store_get(rv->store, rec.id, &now, &e2) == 1) {
			*error_r = now.state == RGQ_RELEASING && resume
			           ? g_strdup_printf("%s: not being released",
			                             rec.id)
			           : not_in_state(&now, "release");
			rgq_record_clear(&now);
		} else {
			*error_r = e2;
			e2 = NULL;
		}
		g_free(e2);
		goto fail;
	}
	if (rgq_store_read_message(rv->store, rec.id, &data, &len,
	                           error_r) < 0)
		goto put_back;
	rgq_digest_buffer(data, len, digest);
	marker = rgq_marker_make(rv->store, rec.id, digest);
	if (marker == NULL) {
		*error_r = g_strdup("no release key in the store");
		goto put_back;
	}
	head = g_strdup_printf("%s: %s\r\n", RGQ_MARKER_HEADER, marker);
	if (rgq_deliver(rv->delivery, rec.sender,
	                (const char *const *)rec.recipients.items,
	                rec.recipients.count, (const unsigned char *)head,
	                strlen(head), data, len, &permanent, &error) < 0) {
		if (permanent < 0) {
			*error_r = g_strdup_printf("%s: the MTA's answer was "
			        "lost (%s): it may or may not have the message. "
			        "The record stays \"releasing\"; check the "
			        "MTA's and relaygate-milter's logs for %s before "
			        "release --resume", rec.id, error, rec.id);
			rgq_log(LOG_ERR, "%s: release by %s: outcome unknown: %s",
			        rec.id, rv->actor, error);
			g_free(error);
			goto fail;
		}
		*error_r = g_strdup_printf("%s: the MTA refused it: %s", rec.id,
		                           error);
		g_free(error);
		goto put_back;
	}
	if (set_state(rv->store, rec.id, back, G_N_ELEMENTS(back),
	              RGQ_RELEASED, "released", rv->actor, reason,
	              &error) < 0) {
		/* delivered: say so, the record is fixed by hand */
		rgq_log(LOG_ERR, "%s: released, but cannot record it: %s",
		        rec.id, error);
		g_free(error);
	}
	rgq_log(LOG_INFO, "%s: released by %s to %zu recipient%s%s%s", rec.id,
	        rv->actor, rec.recipients.count,
	        rec.recipients.count == 1 ? "" : "s",
	        reason && reason[0] ? ": " : "", reason ? reason : "");
	notify(rv, &rec, "released", reason, data, len);
	g_free(marker);
	g_free(head);
	g_free(data);
	rgq_record_clear(&rec);
	return 0;

put_back:
	if (set_state(rv->store, rec.id, back, G_N_ELEMENTS(back), RGQ_HELD,
	              "release-failed", rv->actor, *error_r, &error) < 0) {
		rgq_log(LOG_ERR, "%s: cannot put the record back to held: %s",
		        rec.id, error);
		g_free(error);
	}
	rgq_log(LOG_WARNING, "%s: release by %s failed, held again: %s",
	        rec.id, rv->actor, *error_r);
fail:
	g_free(marker);
	g_free(head);
	g_free(data);
	rgq_record_clear(&rec);
	return -1;
}

int
rgq_drop(const struct rgq_review *rv, const char *id, const char *reason,
         char **error_r)
{
	struct rgq_record rec;
	unsigned char *data = NULL;
	char *path, *dir, *error = NULL;
	size_t len = 0;
	int r;

	*error_r = NULL;
	r = rgq_store_get(rv->store, id, &rec, error_r);
	if (r <= 0)
		return -1;
	/* the headers for the notice, before the bytes go */
	if (rgq_store_read_message(rv->store, rec.id, &data, &len, &error) < 0) {
		rgq_log(LOG_WARNING, "%s: %s", rec.id, error);
		g_free(error);
		error = NULL;
	}
	r = rgq_store_transition(rv->store, rec.id, RGQ_HELD, RGQ_DROPPED,
	                         rv->actor, reason, error_r);
	if (r <= 0) {
		if (r == 0) {
			struct rgq_record now;

			if (rgq_store_get(rv->store, rec.id, &now, error_r) == 1) {
				*error_r = not_in_state(&now, "drop");
				rgq_record_clear(&now);
			}
		}
		g_free(data);
		rgq_record_clear(&rec);
		return -1;
	}
	path = rgq_store_message_path(rv->store, rec.id);
	dir = g_strdup_printf("%s/msg", rgq_store_dir(rv->store));
	if (unlink(path) < 0 && errno != ENOENT)
		rgq_log(LOG_ERR, "%s: dropped, but cannot remove %s: %s",
		        rec.id, path, g_strerror(errno));
	(void)rgq_fsync_dir(dir);
	g_free(path);
	g_free(dir);
	rgq_log(LOG_INFO, "%s: dropped by %s%s%s", rec.id, rv->actor,
	        reason && reason[0] ? ": " : "", reason ? reason : "");
	notify(rv, &rec, "dropped", reason, data, len);
	g_free(data);
	rgq_record_clear(&rec);
	return 0;
}

/* ------------------------------------------------------------- purge */

/*
 * delete_record - the rows of a released or dropped record, then its file
 */
static int
delete_record(rgq_store *s, const char *id, char **error_r)
{
	sqlite3_stmt *st;
	char *path;
	int r;

	pthread_mutex_lock(&s->lock);
	st = rgq_store_prepare(s, "DELETE FROM message WHERE id = ? AND "
	                       "state IN ('released', 'dropped')", error_r);
	if (st == NULL) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	r = rgq_step_done(s, st, error_r);
	if (r == 0)
		r = sqlite3_changes(s->db) > 0;
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	if (r == 1) {
		path = rgq_store_message_path(s, id);
		if (unlink(path) < 0 && errno != ENOENT)
			rgq_log(LOG_ERR, "%s: cannot remove %s: %s", id, path,
			        g_strerror(errno));
		g_free(path);
	}
	return r;
}

/*
 * record_exists - 1 when a record has this id (stray file check)
 */
static int
record_exists(rgq_store *s, const char *id)
{
	sqlite3_stmt *st;
	char *error = NULL;
	int r = 1;                   /* when unsure, keep the file */

	pthread_mutex_lock(&s->lock);
	st = rgq_store_prepare(s, "SELECT 1 FROM message WHERE id = ?", &error);
	if (st != NULL) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_DONE)
			r = 0;
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	g_free(error);
	return r;
}

/*
 * remove_strays - files in tmp/ and msg/ that no record owns, older than
 * STRAY_AGE (a crash between writing and indexing, or a removal that
 * failed); the release key's temporary files too
 */
static unsigned long
remove_strays(rgq_store *s, const char *sub, int64_t now, int dry_run)
{
	char *dir = g_strdup_printf("%s/%s", rgq_store_dir(s), sub);
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned long n = 0;

	if (d == NULL) {
		g_free(dir);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		char *path;

		if (e->d_name[0] == '.')
			continue;
		path = g_strdup_printf("%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - (int64_t)st.st_mtime > STRAY_AGE &&
		    (strcmp(sub, "tmp") == 0 || !rgq_id_valid(e->d_name, 0) ||
		     !record_exists(s, e->d_name))) {
			if (!dry_run) {
				rgq_log(LOG_WARNING, "purge: removing stray "
				        "file %s", path);
				if (unlink(path) < 0)
					rgq_log(LOG_ERR, "cannot remove %s: %s",
					        path, g_strerror(errno));
			}
			n++;
		}
		g_free(path);
	}
	closedir(d);
	g_free(dir);
	return n;
}

int
rgq_purge(const struct rgq_review *rv, int64_t before, int dry_run,
          unsigned long *dropped_r, unsigned long *deleted_r,
          char **error_r)
{
	struct rgq_filter filter;
	struct rgq_record *recs;
	size_t n;
	int64_t now = (int64_t)time(NULL);
	sqlite3_stmt *st;
	char *reason;

	*error_r = NULL;
	*dropped_r = *deleted_r = 0;
	memset(&filter, 0, sizeof(filter));
	filter.state = RGQ_HELD;
	filter.before = before;
	if (rgq_store_list(rv->store, &filter, &recs, &n, error_r) < 0)
		return -1;
	reason = g_strdup("not reviewed within the retention period");
	for (size_t i = 0; i < n; i++) {
		char *error = NULL;

		if (dry_run) {
			(*dropped_r)++;
		} else if (rgq_drop(rv, recs[i].id, reason, &error) == 0) {
			(*dropped_r)++;
		} else {
			rgq_log(LOG_WARNING, "purge: %s", error);
			g_free(error);
		}
		rgq_record_clear(&recs[i]);
	}
	g_free(recs);
	g_free(reason);

	filter.any_state = 1;
	if (rgq_store_list(rv->store, &filter, &recs, &n, error_r) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (recs[i].state == RGQ_RELEASED ||
		    recs[i].state == RGQ_DROPPED || (dry_run &&
		                                     recs[i].state == RGQ_HELD)) {
			char *error = NULL;
			int r = dry_run ? 1 : delete_record(rv->store,
			                                    recs[i].id, &error);

			if (r < 0) {
				rgq_log(LOG_ERR, "purge: %s", error);
				g_free(error);
			} else if (r == 1) {
				(*deleted_r)++;
			}
		}
		rgq_record_clear(&recs[i]);
	}
	g_free(recs);
	if (!dry_run) {
		pthread_mutex_lock(&rv->store->lock);
		st = rgq_store_prepare(rv->store, "DELETE FROM notice WHERE "
		                       "created < ? AND state != 'pending'",
		                       error_r);
		if (st != NULL) {
			sqlite3_bind_int64(st, 1, before);
			(void)rgq_step_done(rv->store, st, error_r);
			sqlite3_finalize(st);
		}
		pthread_mutex_unlock(&rv->store->lock);
		if (*error_r != NULL)
			return -1;
		if (*dropped_r + *deleted_r > 0)
			rgq_log(LOG_INFO, "purge by %s: %lu held dropped, %lu "
			        "records deleted", rv->actor, *dropped_r,
			        *deleted_r);
	}
	(void)remove_strays(rv->store, "tmp", now, dry_run);
	(void)remove_strays(rv->store, "msg", now, dry_run);
	return 0;
}

/* ------------------------------------------------------------- notices */

struct due_notice {
	int64_t seq;
	char *id, *kind, *recipient;
	unsigned char *data;
	size_t len;
	int64_t created, next_attempt;
	unsigned attempts;
};

/*
 * load_due - pending notices that are due (or all of them with force)
 */
static int
load_due(rgq_store *s, int force, int64_t now, GArray *out, char **error_r)
{
	sqlite3_stmt *st;
	int rc;

	pthread_mutex_lock(&s->lock);
	st = rgq_store_prepare(s, "SELECT seq, message_id, kind, recipient, "
	                       "data, created, next_attempt, attempts FROM "
	                       "notice WHERE state = 'pending' AND (? OR "
	                       "next_attempt <= ?) ORDER BY seq LIMIT 100",
	                       error_r);
	if (st == NULL) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	sqlite3_bind_int(st, 1, force);
	sqlite3_bind_int64(st, 2, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct due_notice n;

		n.seq = sqlite3_column_int64(st, 0);
		n.id = g_strdup((const char *)sqlite3_column_text(st, 1));
		n.kind = g_strdup((const char *)sqlite3_column_text(st, 2));
		n.recipient = g_strdup((const char *)sqlite3_column_text(st, 3));
		n.len = (size_t)sqlite3_column_bytes(st, 4);
		n.data = g_memdup2(sqlite3_column_blob(st, 4), n.len ? n.len : 1);
		n.created = sqlite3_column_int64(st, 5);
		n.next_attempt = sqlite3_column_int64(st, 6);
		n.attempts = (unsigned)sqlite3_column_int64(st, 7);
		g_array_append_val(out, n);
	}
	if (rc != SQLITE_DONE)
		*error_r = rgq_store_db_error(s);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * notice_update - run one UPDATE on a notice row: sql names its values
 * ?1 (a), ?2 (b), ?3 (text), ?4 (seq); the number of rows changed, or -1
 */
static int
notice_update(rgq_store *s, const char *sql, int64_t a, int64_t b,
              const char *text, int64_t seq)
{
	sqlite3_stmt *st;
	char *error = NULL;
	int r = -1;

	pthread_mutex_lock(&s->lock);
	st = rgq_store_prepare(s, sql, &error);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, a);
		sqlite3_bind_int64(st, 2, b);
		sqlite3_bind_text(st, 3, text ? text : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, seq);
		if (rgq_step_done(s, st, &error) == 0)
			r = sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		rgq_log(LOG_ERR, "notice %lld: %s", (long long)seq, error);
		g_free(error);
	}
	return r;
}

int
rgq_flush_notices(rgq_store *s, const struct rgq_delivery *d, int force,
                  int64_t give_up, char **error_r)
{
	GArray *due = g_array_new(FALSE, FALSE, sizeof(struct due_notice));
	int64_t now = (int64_t)time(NULL);
	int sent = 0;

	*error_r = NULL;
	if (load_due(s, force, now, due, error_r) < 0) {
		g_array_free(due, TRUE);
		return -1;
	}
	for (guint i = 0; i < due->len; i++) {
		struct due_notice *n = &g_array_index(due, struct due_notice, i);
		const char *rcpt[1] = { n->recipient };
		char *error = NULL;
		int permanent;

		/* claim it for NOTICE_LEASE seconds: another flusher (the
		 * milter's thread, a review command) leaves it alone */
		if (notice_update(s, "UPDATE notice SET next_attempt = ?1, "
		                  "attempts = attempts + 1 WHERE next_attempt = "
		                  "?2 AND seq = ?4 AND state = 'pending'",
		                  now + NOTICE_LEASE,
		                  n->next_attempt, "", n->seq) != 1)
			goto next;
		if (rgq_deliver(d, "", rcpt, 1, NULL, 0, n->data, n->len,
		                &permanent, &error) == 0) {
			(void)notice_update(s, "UPDATE notice SET state = 'sent',"
			                    " next_attempt = ?1, last_error = '' "
			                    "WHERE seq = ?4", now, 0, NULL, n->seq);
			rgq_log(LOG_INFO, "%s: %s notice sent to <%s>", n->id,
			        n->kind, n->recipient);
			sent++;
		} else if (permanent > 0 ||
		           (give_up > 0 && now - n->created > give_up)) {
			(void)notice_update(s, "UPDATE notice SET state = "
			                    "'failed', next_attempt = ?1, "
			                    "last_error = ?3 WHERE seq = ?4", now, 0,
			                    error, n->seq);
			rgq_log(LOG_ERR, "%s: %s notice to <%s> failed for good "
			        "after %u attempt%s, not retried: %s", n->id,
			        n->kind, n->recipient, n->attempts + 1,
			        n->attempts ? "s" : "", error);
		} else {
			int64_t wait = NOTICE_RETRY_MIN;

			for (unsigned k = 0; k < n->attempts &&
			     wait < NOTICE_RETRY_MAX; k++)
				wait *= 2;
			if (wait > NOTICE_RETRY_MAX)
				wait = NOTICE_RETRY_MAX;
			(void)notice_update(s, "UPDATE notice SET next_attempt = "
			                    "?1, last_error = ?3 WHERE seq = ?4",
			                    now + wait, 0, error, n->seq);
			rgq_log(LOG_WARNING, "%s: %s notice to <%s> not sent "
			        "(attempt %u), retrying in %lld s: %s", n->id,
			        n->kind, n->recipient, n->attempts + 1,
			        (long long)wait, error);
		}
		g_free(error);
next:
		g_free(n->id);
		g_free(n->kind);
		g_free(n->recipient);
		g_free(n->data);
	}
	g_array_free(due, TRUE);
	return sent;
}
