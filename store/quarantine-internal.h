/*
 * quarantine-internal.h - what the quarantine store's own files share.
 */
#ifndef RG_QUARANTINE_INTERNAL_H
#define RG_QUARANTINE_INTERNAL_H

#include <pthread.h>

#include <sqlite3.h>

#include "store/quarantine.h"

#define RGQ_KEY_BYTES 32

struct rgq_store {
	pthread_mutex_t lock;        /* one statement sequence at a time */
	sqlite3 *db;
	char *dir;
	char *db_path;
	unsigned char key[RGQ_KEY_BYTES];
	int has_key;
};

/* rgq_id_valid - 1 when id is RGQ_ID_LEN lowercase hex digits (or, with
 * prefix, at least RGQ_ID_MIN_PREFIX of them) */
int rgq_id_valid(const char *id, int prefix);

/* SQLite helpers; the caller holds the lock.  Errors name the file. */
int rgq_store_exec(rgq_store *s, const char *sql, char **error_r);
sqlite3_stmt *rgq_store_prepare(rgq_store *s, const char *sql,
                                char **error_r);
int rgq_step_done(rgq_store *s, sqlite3_stmt *st, char **error_r);
char *rgq_store_db_error(rgq_store *s);

/* rgq_fsync_dir - fsync a directory; 0 or -1 (errno) */
int rgq_fsync_dir(const char *dir);

/*
 * rgq_key_load - the release key from DIR/release.key; with create, made
 * (32 bytes from getrandom, 0600) when missing.  A key readable by others
 * is refused.  0 or -1.
 */
int rgq_key_load(rgq_store *s, int create, char **error_r);

#endif
