/*
 * quarantine.c - the quarantine store: held messages and their records.
 *
 * Design: relaygate keeps held messages in a store of its own rather than
 * in the MTA's hold queue (smfi_quarantine; Postfix "postsuper -H").
 *   - It works the same behind Sendmail and Postfix, and the milter's
 *     answer depends on it: the message is written and fsync'd before the
 *     milter says anything, so when it cannot be held (disk full, store
 *     unwritable) the client gets 451 4.7.1 and still has the message;
 *     with the hold queue the milter could only ask, and the MTA would
 *     answer 250 whatever happened to the request.
 *   - The record keeps the findings beside the exact bytes, so a reviewer
 *     sees what was wrong without re-running a policy that may have
 *     changed since, and a notice can be composed from it at any time.
 *   - Review needs no root: the store belongs to the relaygate user (the
 *     hold queue to root, postsuper needs root), reviewers run
 *     `sudo -u relaygate relaygate quarantine ...` and are logged by name.
 *   - A released message goes back through the MTA and the milter, which
 *     lets it pass once on a release marker only relaygate can make
 *     (digest.c), so nothing a sender puts in a message skips review.
 * The milter answers the client with SMFIS_DISCARD (250, nothing queued)
 * once the message is held here.
 *
 * Layout (directories 0700, files 0600, owned by the milter's user):
 *   DIR/index.sqlite   records, recipients, findings, audit events and the
 *                      notice queue (SQLite, WAL, synchronous=FULL)
 *   DIR/release.key    32 random bytes: the HMAC key of release markers
 *   DIR/tmp/ID         a message being written
 *   DIR/msg/ID         a held message, the exact bytes the MTA passed
 * Holding a message: write DIR/tmp/ID, fsync it, rename it to DIR/msg/ID,
 * fsync DIR/msg, then index it in one transaction (the notice with it).
 * A crash before the commit leaves a file without a record and no answer
 * to the client, which keeps its copy and retries: nothing is lost, and
 * rgq_purge removes the stray file later.  Deleting goes the other way:
 * the record first, then the file.
 *
 * State: held -> releasing -> released, or held -> dropped, each one
 * UPDATE ... WHERE id = ? AND state = ?, so of two reviewers acting on one
 * message at the same time exactly one wins.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <sqlite3.h>

#include "store/quarantine.h"
#include "store/quarantine-internal.h"

static const char *const state_names[] = {
	[RGQ_HELD] = "held",
	[RGQ_RELEASING] = "releasing",
	[RGQ_RELEASED] = "released",
	[RGQ_DROPPED] = "dropped",
};

const char *
rgq_state_name(enum rgq_state state)
{
	return (unsigned)state <= RGQ_DROPPED ? state_names[state] : "?";
}

int
rgq_state_parse(const char *name, enum rgq_state *state_r)
{
	for (unsigned i = 0; i <= RGQ_DROPPED; i++) {
		if (strcmp(state_names[i], name) == 0) {
			*state_r = (enum rgq_state)i;
			return 0;
		}
	}
	return -1;
}

/* ------------------------------------------------------------- logging */

static void
log_syslog(int priority, const char *fmt, va_list ap)
{
	vsyslog(LOG_MAIL | priority, fmt, ap);
}

static rgq_log_fn *logger = log_syslog;

void
rgq_set_logger(rgq_log_fn *fn)
{
	logger = fn != NULL ? fn : log_syslog;
}

void
rgq_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	logger(priority, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------- records */

void
rgq_record_clear(struct rgq_record *rec)
{
	g_free(rec->queue_id);
	g_free(rec->sender);
	rg_strlist_clear(&rec->recipients);
	g_free(rec->auth_user);
	g_free(rec->subject);
	for (size_t i = 0; i < rec->n_findings; i++) {
		g_free(rec->findings[i].part);
		g_free(rec->findings[i].excerpt);
	}
	g_free(rec->findings);
	g_free(rec->actor);
	g_free(rec->reason);
	memset(rec, 0, sizeof(*rec));
}

void
rgq_record_set_findings(struct rgq_record *rec, const struct rg_result *res)
{
	rec->verdict = res->verdict;
	rec->findings = g_new0(struct rg_finding, res->count ? res->count : 1);
	rec->n_findings = res->count;
	for (size_t i = 0; i < res->count; i++) {
		rec->findings[i] = res->findings[i];
		rec->findings[i].part = g_strdup(res->findings[i].part
		                                 ? res->findings[i].part : "");
		rec->findings[i].excerpt = g_strdup(res->findings[i].excerpt
		                                    ? res->findings[i].excerpt
		                                    : "");
	}
}

void
rgq_new_id(char id[RGQ_ID_LEN + 1])
{
	unsigned char bytes[RGQ_ID_LEN / 2];
	size_t got = 0;

	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* no getrandom: GLib's generator is good enough for
			 * names (the key never takes this path) */
			for (; got < sizeof(bytes); got++)
				bytes[got] = (unsigned char)g_random_int();
			break;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		snprintf(id + 2 * i, 3, "%02x", bytes[i]);
	id[RGQ_ID_LEN] = '\0';
}

int
rgq_id_valid(const char *id, int prefix)
{
	size_t n = strlen(id);

	if (n > RGQ_ID_LEN || n < (prefix ? RGQ_ID_MIN_PREFIX : RGQ_ID_LEN))
		return 0;
	for (const char *p = id; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/* ------------------------------------------------------------- open */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS message ("
	" id TEXT PRIMARY KEY,"
	" created INTEGER NOT NULL,"
	" queue_id TEXT NOT NULL DEFAULT '',"
	" sender TEXT NOT NULL,"
	" auth_user TEXT NOT NULL DEFAULT '',"
	" subject TEXT NOT NULL DEFAULT '',"
	" size INTEGER NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" verdict TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN"
	"  ('held', 'releasing', 'released', 'dropped')),"
	" state_time INTEGER NOT NULL,"
	" actor TEXT NOT NULL DEFAULT '',"
	" reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS message_created ON message(created);"
	"CREATE TABLE IF NOT EXISTS recipient ("
	" message_id TEXT NOT NULL REFERENCES message(id) ON DELETE CASCADE,"
	" pos INTEGER NOT NULL,"
	" address TEXT NOT NULL,"
	" PRIMARY KEY (message_id, pos));"
	"CREATE TABLE IF NOT EXISTS finding ("
	" message_id TEXT NOT NULL REFERENCES message(id) ON DELETE CASCADE,"
	" pos INTEGER NOT NULL,"
	" rule TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" part TEXT NOT NULL,"
	" line INTEGER NOT NULL,"
	" col INTEGER NOT NULL,"
	" excerpt TEXT NOT NULL,"
	" PRIMARY KEY (message_id, pos));"
	"CREATE INDEX IF NOT EXISTS finding_rule ON finding(rule);"
	"CREATE TABLE IF NOT EXISTS event ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" message_id TEXT NOT NULL,"
	" time INTEGER NOT NULL,"
	" action TEXT NOT NULL,"
	" actor TEXT NOT NULL,"
	" reason TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS notice ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" message_id TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" recipient TEXT NOT NULL,"
	" data BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
	"  ('pending', 'sent', 'failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt INTEGER NOT NULL,"
	" last_error TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS notice_due ON notice(state, next_attempt);"
	"PRAGMA user_version = 1;";

/*
 * make_dir - dir exists as a directory (made 0700 when create); 0 or -1
 */
static int
make_dir(const char *dir, int create, char **error_r)
{
	struct stat st;

	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*error_r = g_strdup_printf("cannot create %s: %s", dir,
		                           g_strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0) {
		*error_r = g_strdup_printf("%s: %s", dir, g_strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*error_r = g_strdup_printf("%s: not a directory", dir);
		return -1;
	}
	return 0;
}

int
rgq_store_exec(rgq_store *s, const char *sql, char **error_r)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		*error_r = g_strdup_printf("%s: %s", s->db_path,
		                           msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

char *
rgq_store_db_error(rgq_store *s)
{
	return g_strdup_printf("%s: %s", s->db_path, sqlite3_errmsg(s->db));
}

sqlite3_stmt *
rgq_store_prepare(rgq_store *s, const char *sql, char **error_r)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		*error_r = rgq_store_db_error(s);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

rgq_store *
rgq_store_open(const char *dir, int create, char **error_r)
{
	rgq_store *s;
	char *sub;
	int fd, r;

	*error_r = NULL;
	if (dir == NULL || dir[0] != '/') {
		*error_r = g_strdup_printf("quarantine store \"%s\": not an "
		                           "absolute path", dir ? dir : "");
		return NULL;
	}
	if (make_dir(dir, create, error_r) < 0)
		return NULL;
	sub = g_build_filename(dir, "tmp", NULL);
	r = make_dir(sub, create, error_r);
	g_free(sub);
	if (r < 0)
		return NULL;
	sub = g_build_filename(dir, "msg", NULL);
	r = make_dir(sub, create, error_r);
	g_free(sub);
	if (r < 0)
		return NULL;

	s = g_new0(rgq_store, 1);
	pthread_mutex_init(&s->lock, NULL);
	s->dir = g_strdup(dir);
	s->db_path = g_build_filename(dir, "index.sqlite", NULL);
	/* made 0600 here: SQLite would use 0644 less the umask, and gives
	 * its -wal and -shm files the database file's mode.  Only when it
	 * does not exist yet: closing any descriptor of the file drops every
	 * POSIX lock this process holds on it, SQLite's included, and the
	 * milter opens the store again on reload while the running
	 * configuration's connection is live.  Without its shared lock,
	 * another process (relaygate quarantine) closing the index takes it
	 * for the last user, checkpoints and deletes the -wal file the milter
	 * still writes to: held messages vanish from the index. */
	fd = open(s->db_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	          O_NOFOLLOW, 0600);
	if (fd < 0 && errno != EEXIST) {
		*error_r = g_strdup_printf("%s: %s", s->db_path,
		                           g_strerror(errno));
		rgq_store_close(&s);
		return NULL;
	}
	if (fd >= 0)
		(void)close(fd);
	if (sqlite3_open_v2(s->db_path, &s->db, SQLITE_OPEN_READWRITE |
	                    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		*error_r = g_strdup_printf("%s: %s", s->db_path,
		                           s->db ? sqlite3_errmsg(s->db)
		                                 : "cannot open");
		rgq_store_close(&s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (rgq_store_exec(s, "PRAGMA journal_mode = WAL;"
	                   "PRAGMA synchronous = FULL;"
	                   "PRAGMA foreign_keys = ON;", error_r) < 0 ||
	    rgq_store_exec(s, schema, error_r) < 0 ||
	    rgq_key_load(s, create, error_r) < 0) {
		rgq_store_close(&s);
		return NULL;
	}
	return s;
}

void
rgq_store_close(rgq_store **sp)
{
	rgq_store *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->db != NULL)
		sqlite3_close(s->db);
	explicit_bzero(s->key, sizeof(s->key));
	pthread_mutex_destroy(&s->lock);
	g_free(s->dir);
	g_free(s->db_path);
	g_free(s);
}

const char *
rgq_store_dir(const rgq_store *s)
{
	return s->dir;
}

char *
rgq_store_message_path(const rgq_store *s, const char *id)
{
	return g_strdup_printf("%s/msg/%s", s->dir, id);
}

/* ------------------------------------------------------------- files */

int
rgq_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	(void)close(fd);
	return r;
}

/*
 * write_all - len bytes to fd, retrying short writes; 0 or -1 (errno)
 */
static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * write_message - the bytes into a new file at path (0600), fsync'd;
 * size and SHA-256 into the record.  0, or -1 with the file removed.
 */
static int
write_message(const char *path, struct rgq_record *rec,
              const unsigned char *data, size_t len, int in_fd,
              char **error_r)
{
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	unsigned char buf[65536];
	uint64_t total = 0;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0) {
		*error_r = g_strdup_printf("cannot create %s: %s", path,
		                           g_strerror(errno));
		g_checksum_free(sum);
		return -1;
	}
	if (data != NULL) {
		if (write_all(fd, data, len) < 0)
			err = errno;
		g_checksum_update(sum, data, (gssize)len);
		total = len;
	} else {
		for (;;) {
			ssize_t n = read(in_fd, buf, sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				err = errno;
				break;
			}
			if (n == 0)
				break;
			if (write_all(fd, buf, (size_t)n) < 0) {
				err = errno;
				break;
			}
			g_checksum_update(sum, buf, n);
			total += (uint64_t)n;
		}
	}
	if (err == 0 && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && err == 0)
		err = errno;
	if (err != 0) {
		*error_r = g_strdup_printf("cannot write %s: %s", path,
		                           g_strerror(err));
		(void)unlink(path);
		g_checksum_free(sum);
		return -1;
	}
	rec->size = total;
	g_strlcpy(rec->sha256, g_checksum_get_string(sum), sizeof(rec->sha256));
	g_checksum_free(sum);
	return 0;
}

int
rgq_store_read_message(rgq_store *s, const char *id, unsigned char **data_r,
                       size_t *len_r, char **error_r)
{
	char *path = rgq_store_message_path(s, id);
	GError *error = NULL;
	gchar *data;
	gsize len;

	if (!g_file_get_contents(path, &data, &len, &error)) {
		*error_r = g_strdup(error->message);
		g_error_free(error);
		g_free(path);
		return -1;
	}
	g_free(path);
	*data_r = (unsigned char *)data;
	*len_r = len;
	return 0;
}

/* ------------------------------------------------------------- put */

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_TRANSIENT);
}

/*
 * step_done - run a statement that returns no rows; 0 or -1 (error set)
 */
int
rgq_step_done(rgq_store *s, sqlite3_stmt *st, char **error_r)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		*error_r = rgq_store_db_error(s);
		return -1;
	}
	return 0;
}

/*
 * insert_notice - a pending notice row (inside the caller's transaction)
 */
static int
insert_notice(rgq_store *s, const char *id, const struct rgq_notice_job *job,
              int64_t now, char **error_r)
{
	sqlite3_stmt *st;
	int r;

	st = rgq_store_prepare(s, "INSERT INTO notice (message_id, kind, "
	                       "recipient, data, created, next_attempt) "
	                       "VALUES (?, ?, ?, ?, ?, ?)", error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, id);
	bind_text(st, 2, job->kind);
	bind_text(st, 3, job->recipient);
	sqlite3_bind_blob64(st, 4, job->data, job->len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	r = rgq_step_done(s, st, error_r);
	sqlite3_finalize(st);
	return r;
}

/*
 * index_record - the record's rows, in one transaction
 */
static int
index_record(rgq_store *s, const struct rgq_record *rec,
             const struct rgq_notice_job *notice, char **error_r)
{
	sqlite3_stmt *st = NULL;

	if (rgq_store_exec(s, "BEGIN IMMEDIATE", error_r) < 0)
		return -1;
	st = rgq_store_prepare(s, "INSERT INTO message (id, created, queue_id,"
	                       " sender, auth_user, subject, size, sha256, "
	                       "verdict, state, state_time) VALUES (?, ?, ?, "
	                       "?, ?, ?, ?, ?, ?, 'held', ?)", error_r);
	if (st == NULL)
		goto fail;
	bind_text(st, 1, rec->id);
	sqlite3_bind_int64(st, 2, rec->created);
	bind_text(st, 3, rec->queue_id);
	bind_text(st, 4, rec->sender);
	bind_text(st, 5, rec->auth_user);
	bind_text(st, 6, rec->subject);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)rec->size);
	bind_text(st, 8, rec->sha256);
	bind_text(st, 9, rg_verdict_name(rec->verdict));
	sqlite3_bind_int64(st, 10, rec->created);
	if (rgq_step_done(s, st, error_r) < 0)
		goto fail;
	sqlite3_finalize(st);

	st = rgq_store_prepare(s, "INSERT INTO recipient (message_id, pos, "
	                       "address) VALUES (?, ?, ?)", error_r);
	if (st == NULL)
		goto fail;
	for (size_t i = 0; i < rec->recipients.count; i++) {
		sqlite3_reset(st);
		bind_text(st, 1, rec->id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, rec->recipients.items[i]);
		if (rgq_step_done(s, st, error_r) < 0)
			goto fail;
	}
	sqlite3_finalize(st);

	st = rgq_store_prepare(s, "INSERT INTO finding (message_id, pos, rule,"
	                       " action, part, line, col, excerpt) VALUES "
	                       "(?, ?, ?, ?, ?, ?, ?, ?)", error_r);
	if (st == NULL)
		goto fail;
	for (size_t i = 0; i < rec->n_findings; i++) {
		const struct rg_finding *f = &rec->findings[i];

		sqlite3_reset(st);
		bind_text(st, 1, rec->id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, rg_rule_name(f->rule));
		bind_text(st, 4, rg_action_name(f->action));
		bind_text(st, 5, f->part);
		sqlite3_bind_int64(st, 6, f->line);
		sqlite3_bind_int64(st, 7, f->column);
		bind_text(st, 8, f->excerpt);
		if (rgq_step_done(s, st, error_r) < 0)
			goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;

	if (notice != NULL &&
	    insert_notice(s, rec->id, notice, rec->created, error_r) < 0)
		goto fail;
	if (rgq_store_exec(s, "COMMIT", error_r) < 0)
		goto fail;
	return 0;

fail:
	sqlite3_finalize(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
rgq_store_put(rgq_store *s, struct rgq_record *rec, const unsigned char *data,
              size_t len, int fd, const struct rgq_notice_job *notice,
              char **error_r)
{
	char *tmp, *path, *msgdir;
	int r = -1;

	*error_r = NULL;
	if (!rgq_id_valid(rec->id, 0)) {
		*error_r = g_strdup("invalid record id");
		return -1;
	}
	if (rec->created == 0)
		rec->created = (int64_t)time(NULL);
	rec->state = RGQ_HELD;
	rec->state_time = rec->created;
	tmp = g_strdup_printf("%s/tmp/%s", s->dir, rec->id);
	path = rgq_store_message_path(s, rec->id);
	msgdir = g_strdup_printf("%s/msg", s->dir);

	if (write_message(tmp, rec, data, len, fd, error_r) < 0)
		goto out;
	if (rename(tmp, path) < 0) {
		*error_r = g_strdup_printf("cannot rename %s to %s: %s", tmp,
		                           path, g_strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	if (rgq_fsync_dir(msgdir) < 0) {
		*error_r = g_strdup_printf("cannot fsync %s: %s", msgdir,
		                           g_strerror(errno));
		(void)unlink(path);
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	r = index_record(s, rec, notice, error_r);
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		(void)unlink(path);
		(void)rgq_fsync_dir(msgdir);
	}
out:
	g_free(tmp);
	g_free(path);
	g_free(msgdir);
	return r;
}

/* ------------------------------------------------------------- read */

#define RECORD_COLUMNS \
	"id, created, queue_id, sender, auth_user, subject, size, sha256, " \
	"verdict, state, state_time, actor, reason"

static char *
column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return g_strdup(t != NULL ? (const char *)t : "");
}

/*
 * load_record - a row of RECORD_COLUMNS, then its recipients and findings
 */
static int
load_record(rgq_store *s, sqlite3_stmt *row, struct rgq_record *rec,
            char **error_r)
{
	sqlite3_stmt *st;
	char *text;
	size_t cap = 0;
	int rc;

	memset(rec, 0, sizeof(*rec));
	text = column_text(row, 0);
	g_strlcpy(rec->id, text, sizeof(rec->id));
	g_free(text);
	rec->created = sqlite3_column_int64(row, 1);
	rec->queue_id = column_text(row, 2);
	rec->sender = column_text(row, 3);
	rec->auth_user = column_text(row, 4);
	rec->subject = column_text(row, 5);
	rec->size = (uint64_t)sqlite3_column_int64(row, 6);
	text = column_text(row, 7);
	g_strlcpy(rec->sha256, text, sizeof(rec->sha256));
	g_free(text);
	text = column_text(row, 8);
	if (strcmp(text, "pass") == 0 ||
	    rg_action_parse(text, &rec->verdict) < 0)
		rec->verdict = RG_ACTION_OFF;
	g_free(text);
	text = column_text(row, 9);
	(void)rgq_state_parse(text, &rec->state);
	g_free(text);
	rec->state_time = sqlite3_column_int64(row, 10);
	rec->actor = column_text(row, 11);
	rec->reason = column_text(row, 12);

	st = rgq_store_prepare(s, "SELECT address FROM recipient WHERE "
	                       "message_id = ? ORDER BY pos", error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, rec->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rg_strlist_add(&rec->recipients,
		               (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*error_r = rgq_store_db_error(s);
		return -1;
	}

	st = rgq_store_prepare(s, "SELECT rule, action, part, line, col, "
	                       "excerpt FROM finding WHERE message_id = ? "
	                       "ORDER BY pos", error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, rec->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rg_finding *f;

		if (rec->n_findings == cap) {
			cap = cap ? 2 * cap : 8;
			rec->findings = g_renew(struct rg_finding,
			                        rec->findings, cap);
		}
		f = &rec->findings[rec->n_findings++];
		memset(f, 0, sizeof(*f));
		if (rg_rule_lookup((const char *)sqlite3_column_text(st, 0),
		                   &f->rule) < 0)
			f->rule = RG_RULE_UNCHECKABLE;
		if (rg_action_parse((const char *)sqlite3_column_text(st, 1),
		                    &f->action) < 0)
			f->action = RG_ACTION_QUARANTINE;
		f->part = column_text(st, 2);
		f->line = (unsigned)sqlite3_column_int64(st, 3);
		f->column = (unsigned)sqlite3_column_int64(st, 4);
		f->excerpt = column_text(st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		*error_r = rgq_store_db_error(s);
		return -1;
	}
	return 0;
}

int
rgq_store_get(rgq_store *s, const char *id, struct rgq_record *rec,
              char **error_r)
{
	sqlite3_stmt *st;
	char *lower = g_ascii_strdown(id, -1);
	int rc, r = -1;

	*error_r = NULL;
	memset(rec, 0, sizeof(*rec));
	if (!rgq_id_valid(lower, 1)) {
		*error_r = g_strdup_printf("\"%s\" is not a record id (%d hex "
		                           "digits, or at least the first %d)",
		                           id, RGQ_ID_LEN, RGQ_ID_MIN_PREFIX);
		g_free(lower);
		return 0;
	}
	pthread_mutex_lock(&s->lock);
	st = rgq_store_prepare(s, "SELECT " RECORD_COLUMNS " FROM message "
	                       "WHERE substr(id, 1, ?2) = ?1 LIMIT 2",
	                       error_r);
	if (st == NULL)
		goto out;
	bind_text(st, 1, lower);
	sqlite3_bind_int(st, 2, (int)strlen(lower));
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*error_r = g_strdup_printf("%s: no such record", id);
		r = 0;
	} else if (rc != SQLITE_ROW) {
		*error_r = rgq_store_db_error(s);
	} else if (load_record(s, st, rec, error_r) < 0) {
		rgq_record_clear(rec);
	} else if (sqlite3_step(st) == SQLITE_ROW) {
		*error_r = g_strdup_printf("%s: more than one record starts "
		                           "with it; give more digits", id);
		rgq_record_clear(rec);
		r = 0;
	} else {
		r = 1;
	}
	sqlite3_finalize(st);
out:
	pthread_mutex_unlock(&s->lock);
	g_free(lower);
	return r;
}

int
rgq_store_list(rgq_store *s, const struct rgq_filter *f,
               struct rgq_record **recs_r, size_t *n_r, char **error_r)
{
	GString *sql = g_string_new("SELECT " RECORD_COLUMNS " FROM message "
	                            "WHERE 1");
	struct rgq_record *recs = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, i = 1, r = -1;

	*error_r = NULL;
	if (!f->any_state)
		g_string_append(sql, " AND state = ?");
	if (f->rule != NULL)
		g_string_append(sql, " AND id IN (SELECT message_id FROM "
		                "finding WHERE rule = ?)");
	if (f->sender != NULL)
		g_string_append(sql, " AND lower(sender) = lower(?)");
	if (f->auth_user != NULL)
		g_string_append(sql, " AND auth_user = ?");
	if (f->since != 0)
		g_string_append(sql, " AND created >= ?");
	if (f->before != 0)
		g_string_append(sql, " AND created < ?");
	g_string_append(sql, " ORDER BY created DESC, rowid DESC");
	if (f->limit != 0)
		g_string_append_printf(sql, " LIMIT %u", f->limit);

	pthread_mutex_lock(&s->lock);
	st = rgq_store_prepare(s, sql->str, error_r);
	if (st == NULL)
		goto out;
	if (!f->any_state)
		bind_text(st, i++, rgq_state_name(f->state));
	if (f->rule != NULL)
		bind_text(st, i++, f->rule);
	if (f->sender != NULL)
		bind_text(st, i++, f->sender);
	if (f->auth_user != NULL)
		bind_text(st, i++, f->auth_user);
	if (f->since != 0)
		sqlite3_bind_int64(st, i++, f->since);
	if (f->before != 0)
		sqlite3_bind_int64(st, i++, f->before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			recs = g_renew(struct rgq_record, recs, cap);
		}
		if (load_record(s, st, &recs[n], error_r) < 0) {
			rgq_record_clear(&recs[n]);
			break;
		}
		n++;
	}
	if (*error_r == NULL && rc != SQLITE_DONE)
		*error_r = rgq_store_db_error(s);
	sqlite3_finalize(st);
	if (*error_r == NULL)
		r = 0;
out:
	pthread_mutex_unlock(&s->lock);
	g_string_free(sql, TRUE);
	if (r < 0) {
		for (size_t j = 0; j < n; j++)
			rgq_record_clear(&recs[j]);
		g_free(recs);
		recs = NULL;
		n = 0;
	}
	*recs_r = recs;
	*n_r = n;
	return r;
}

/* ------------------------------------------------------------- state */

/* event_locked - an audit row; the caller holds the lock */
static int
event_locked(rgq_store *s, const char *id, const char *action,
             const char *actor, const char *reason, char **error_r)
{
	sqlite3_stmt *st;
	int r;

	st = rgq_store_prepare(s, "INSERT INTO event (message_id, time, "
	                       "action, actor, reason) VALUES (?, ?, ?, ?, ?)",
	                       error_r);
	if (st == NULL)
		return -1;
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	bind_text(st, 3, action);
	bind_text(st, 4, actor);
	bind_text(st, 5, reason);
	r = rgq_step_done(s, st, error_r);
	sqlite3_finalize(st);
	return r;
}

int
rgq_store_event(rgq_store *s, const char *id, const char *action,
                const char *actor, const char *reason, char **error_r)
{
	int r;

	*error_r = NULL;
	pthread_mutex_lock(&s->lock);
	r = event_locked(s, id, action, actor, reason, error_r);
	pthread_mutex_unlock(&s->lock);
	return r;
}

int
rgq_store_transition(rgq_store *s, const char *id, enum rgq_state from,
                     enum rgq_state to, const char *actor,
                     const char *reason, char **error_r)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	*error_r = NULL;
	pthread_mutex_lock(&s->lock);
	if (rgq_store_exec(s, "BEGIN IMMEDIATE", error_r) < 0)
		goto out;
	st = rgq_store_prepare(s, "UPDATE message SET state = ?, state_time "
	                       "= ?, actor = ?, reason = ? WHERE id = ? AND "
	                       "state = ?", error_r);
	if (st == NULL)
		goto rollback;
	bind_text(st, 1, rgq_state_name(to));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	bind_text(st, 3, actor);
	bind_text(st, 4, reason);
	bind_text(st, 5, id);
	bind_text(st, 6, rgq_state_name(from));
	if (rgq_step_done(s, st, error_r) < 0)
		goto rollback;
	r = sqlite3_changes(s->db) == 1 ? 1 : 0;
	if (r == 1 && event_locked(s, id, rgq_state_name(to), actor, reason,
	                           error_r) < 0)
		goto rollback;
	sqlite3_finalize(st);
	st = NULL;
	if (rgq_store_exec(s, "COMMIT", error_r) < 0)
		goto rollback;
	goto out;
rollback:
	r = -1;
	sqlite3_finalize(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

int
rgq_store_claim_release(rgq_store *s, const char *id, char **error_r)
{
	return rgq_store_transition(s, id, RGQ_RELEASING, RGQ_RELEASED,
	                            "relaygate-milter", "release marker "
	                            "verified", error_r);
}

int
rgq_store_enqueue_notice(rgq_store *s, const char *id,
                         const struct rgq_notice_job *job, char **error_r)
{
	int r;

	*error_r = NULL;
	pthread_mutex_lock(&s->lock);
	r = insert_notice(s, id, job, (int64_t)time(NULL), error_r);
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* ------------------------------------------------------------- stats */

static int
count_rows(rgq_store *s, const char *sql, int64_t since,
           struct rgq_count **out, size_t *n_out, char **error_r)
{
	sqlite3_stmt *st = rgq_store_prepare(s, sql, error_r);
	size_t n = 0, cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = g_renew(struct rgq_count, *out, cap);
		}
		(*out)[n].key = column_text(st, 0);
		(*out)[n].n = (unsigned long)sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	*n_out = n;
	if (rc != SQLITE_DONE) {
		*error_r = rgq_store_db_error(s);
		return -1;
	}
	return 0;
}

int
rgq_store_stats(rgq_store *s, int64_t since, unsigned top,
                struct rgq_stats *stats, char **error_r)
{
	struct rgq_count *c = NULL;
	size_t n = 0;
	char *sql;
	int r = -1;

	*error_r = NULL;
	memset(stats, 0, sizeof(*stats));
	pthread_mutex_lock(&s->lock);
	if (count_rows(s, "SELECT state, count(*) FROM message WHERE created "
	               ">= ? GROUP BY state", since, &c, &n, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		enum rgq_state st;

		if (rgq_state_parse(c[i].key, &st) == 0)
			stats->by_state[st] = c[i].n;
		g_free(c[i].key);
	}
	g_free(c);
	c = NULL;
	if (count_rows(s, "SELECT f.rule, count(DISTINCT f.message_id) FROM "
	               "finding f JOIN message m ON m.id = f.message_id "
	               "WHERE m.created >= ? GROUP BY f.rule ORDER BY 2 DESC, "
	               "1", since, &stats->by_rule, &stats->n_rules,
	               error_r) < 0)
		goto out;
	sql = g_strdup_printf("SELECT sender, count(*) FROM message WHERE "
	                      "created >= ? GROUP BY sender ORDER BY 2 DESC, "
	                      "1 LIMIT %u", top ? top : 10);
	r = count_rows(s, sql, since, &stats->by_sender, &stats->n_senders,
	               error_r);
	g_free(sql);
	if (r < 0)
		goto out;
	r = -1;
	if (count_rows(s, "SELECT state, count(*) FROM notice WHERE created "
	               ">= ? GROUP BY state", since, &c, &n, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].key, "pending") == 0)
			stats->notices_pending = c[i].n;
		else if (strcmp(c[i].key, "sent") == 0)
			stats->notices_sent = c[i].n;
		else if (strcmp(c[i].key, "failed") == 0)
			stats->notices_failed = c[i].n;
		g_free(c[i].key);
	}
	r = 0;
out:
	g_free(c);
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		rgq_stats_clear(stats);
	return r;
}

void
rgq_stats_clear(struct rgq_stats *stats)
{
	for (size_t i = 0; i < stats->n_rules; i++)
		g_free(stats->by_rule[i].key);
	g_free(stats->by_rule);
	for (size_t i = 0; i < stats->n_senders; i++)
		g_free(stats->by_sender[i].key);
	g_free(stats->by_sender);
	memset(stats, 0, sizeof(*stats));
}
