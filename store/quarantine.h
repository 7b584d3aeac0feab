/*
 * quarantine.h - relaygate's quarantine: a store that loses nothing (held
 * messages with their findings), the release marker that lets a reviewed
 * message through the milter exactly once, notices to the sending agent,
 * and delivery to the local MTA.
 *
 * The store is a library shared by the milter (which holds messages and
 * verifies release markers) and `relaygate quarantine` (which reviews
 * them).  Like the engine it has no libmilter in it.  See quarantine.c for the
 * design and its reasons, review.c for release, drop and purge.
 *
 * Conventions: functions return 0 (or a count) on success and -1 with
 * *error_r set (g_free() it) on failure; strings in records are owned by
 * the record (rgq_record_clear); times are Unix seconds.
 */
#ifndef RG_QUARANTINE_H
#define RG_QUARANTINE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "relaygate.h"

/* A record id: 16 lowercase hex digits (64 random bits). */
#define RGQ_ID_LEN 16
/* The shortest id prefix the review commands accept. */
#define RGQ_ID_MIN_PREFIX 6

/* The header a release carries; the milter verifies and removes it. */
#define RGQ_MARKER_HEADER "X-Relaygate-Release"
/* The header every notice carries: "held; id=..." (for help-desk tools). */
#define RGQ_NOTICE_HEADER "X-Relaygate-Notice"

/* The original headers quoted in a notice are cut at this size. */
#define RGQ_NOTICE_HEADERS_MAX (64u * 1024)

enum rgq_state {
	RGQ_HELD = 0,      /* waiting for review */
	RGQ_RELEASING,     /* a reviewer is sending it to the MTA */
	RGQ_RELEASED,      /* delivered to the MTA after review */
	RGQ_DROPPED,       /* deleted after review (or retention); no bytes */
};

/* rgq_state_name - "held", "releasing", "released", "dropped" */
const char *rgq_state_name(enum rgq_state state);
/* rgq_state_parse - name to state; 0, or -1 for an unknown name */
int rgq_state_parse(const char *name, enum rgq_state *state_r);

/* One held message: everything the issue asks a record to keep. */
struct rgq_record {
	char id[RGQ_ID_LEN + 1];
	int64_t created;             /* when it was held */
	char *queue_id;              /* the MTA's, or "" */
	char *sender;                /* envelope sender, "" for <> */
	struct rg_strlist recipients; /* every envelope recipient */
	char *auth_user;             /* SASL user, or "" */
	char *subject;               /* decoded, or "" */
	uint64_t size;               /* bytes of the stored message */
	char sha256[65];             /* of the stored bytes, hex */
	rg_action verdict;
	struct rg_finding *findings; /* every finding */
	size_t n_findings;
	enum rgq_state state;
	int64_t state_time;          /* of the last state change */
	char *actor;                 /* who changed it last, or "" */
	char *reason;                /* why, or "" */
};

/* rgq_record_clear - free what the record owns; it is reusable */
void rgq_record_clear(struct rgq_record *rec);
/* rgq_record_set_findings - copy res's findings and verdict into rec */
void rgq_record_set_findings(struct rgq_record *rec,
                             const struct rg_result *res);

/*
 * Logging: the store logs what it does on its own (notice failures,
 * purges) through one function the front sets; the default is syslog.
 */
typedef void rgq_log_fn(int priority, const char *fmt, va_list ap);
void rgq_set_logger(rgq_log_fn *fn);
void rgq_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------- store */

typedef struct rgq_store rgq_store;

/*
 * rgq_store_open - open (and with create, make) the store in dir: the
 * directories (0700), the SQLite index (0600, WAL) and the release key
 * (0600, 32 random bytes, made once).  Thread-safe: every call takes the
 * store's lock.  Returns the store, or NULL with *error_r set.
 */
rgq_store *rgq_store_open(const char *dir, int create, char **error_r);
/* rgq_store_close - close and free, NULL *store */
void rgq_store_close(rgq_store **store);
const char *rgq_store_dir(const rgq_store *store);

/* rgq_new_id - a fresh random record id into id[RGQ_ID_LEN + 1] */
void rgq_new_id(char id[RGQ_ID_LEN + 1]);

/*
 * A notice waiting to be sent: the composed message and its one
 * recipient (the envelope sender of the message it is about).
 */
struct rgq_notice_job {
	const char *kind;            /* "held", "released", "dropped" */
	const char *recipient;
	const unsigned char *data;
	size_t len;
};

/*
 * rgq_store_put - hold a message: its bytes (data/len, or when data is
 * NULL, everything readable from fd) are written to a temporary file,
 * fsync'd, renamed into place and the directory fsync'd; then the record
 * (rec->id must be set, see rgq_new_id), its recipients and findings, and
 * the notice when one is given, are indexed in one transaction.  Fills
 * rec->size, rec->sha256, rec->state (held) and rec->created when 0.
 * Nothing is left behind on failure: the caller must then not accept the
 * message.
 */
int rgq_store_put(rgq_store *store, struct rgq_record *rec,
                  const unsigned char *data, size_t len, int fd,
                  const struct rgq_notice_job *notice, char **error_r);

/*
 * rgq_store_get - the record whose id is id, or the only one that starts
 * with it (at least RGQ_ID_MIN_PREFIX characters).  Returns 1 found, 0 not
 * found or ambiguous (*error_r says which), -1 error.
 */
int rgq_store_get(rgq_store *store, const char *id, struct rgq_record *rec,
                  char **error_r);

/* rgq_store_message_path - the file of a record's bytes (g_free it) */
char *rgq_store_message_path(const rgq_store *store, const char *id);
/* rgq_store_read_message - the bytes of a record; g_free *data_r */
int rgq_store_read_message(rgq_store *store, const char *id,
                           unsigned char **data_r, size_t *len_r,
                           char **error_r);

/* What `list` and `stats` select.  Zero/NULL members do not filter. */
struct rgq_filter {
	int any_state;               /* else only state */
	enum rgq_state state;
	const char *rule;            /* a finding of this rule id */
	const char *sender;          /* envelope sender, ignoring case */
	const char *auth_user;
	int64_t since;               /* created at or after */
	int64_t before;              /* created before */
	unsigned limit;
};

/* rgq_store_list - records, newest first; fills *recs_r (free each with
 * rgq_record_clear, then g_free the array) and *n_r */
int rgq_store_list(rgq_store *store, const struct rgq_filter *filter,
                   struct rgq_record **recs_r, size_t *n_r, char **error_r);

/*
 * rgq_store_transition - move a record from state `from` to `to` in one
 * UPDATE ... WHERE state = from: of two reviewers, one wins.  Records an
 * event (actor, reason).  Returns 1 moved, 0 not in state from, -1 error.
 */
int rgq_store_transition(rgq_store *store, const char *id,
                         enum rgq_state from, enum rgq_state to,
                         const char *actor, const char *reason,
                         char **error_r);

/* rgq_store_event - an audit line: who did what to which record, why */
int rgq_store_event(rgq_store *store, const char *id, const char *action,
                    const char *actor, const char *reason, char **error_r);

/* rgq_store_enqueue_notice - a notice to send (state pending) */
int rgq_store_enqueue_notice(rgq_store *store, const char *id,
                             const struct rgq_notice_job *job,
                             char **error_r);

/* Counts for `stats`. */
struct rgq_count {
	char *key;                   /* rule id or sender */
	unsigned long n;
};
struct rgq_stats {
	unsigned long by_state[RGQ_DROPPED + 1];
	struct rgq_count *by_rule;   /* messages with a finding of the rule */
	size_t n_rules;
	struct rgq_count *by_sender; /* most first */
	size_t n_senders;
	unsigned long notices_pending, notices_sent, notices_failed;
};
int rgq_store_stats(rgq_store *store, int64_t since, unsigned top,
                    struct rgq_stats *stats, char **error_r);
void rgq_stats_clear(struct rgq_stats *stats);

/* ------------------------------------------------------------- release marker */

/*
 * The digest a release marker binds: SHA-256 over the message with trace
 * headers (Received, Return-Path), relaygate's own headers (X-Relaygate,
 * X-Relaygate-Release) left out, the other header fields in relaxed form
 * (name lower-cased, folding and runs of white space made one space) and
 * the body as it is, trailing empty lines ignored.  What the MTA adds on
 * the way back in does not change it; any change to the content does.
 * Streaming: feed the message in pieces of any size.
 */
typedef struct rgq_digest rgq_digest;
rgq_digest *rgq_digest_new(void);
void rgq_digest_update(rgq_digest *d, const unsigned char *data, size_t len);
/* rgq_digest_finish - the hex digest into out; frees d and NULLs it */
void rgq_digest_finish(rgq_digest **d, char out[65]);
/* rgq_digest_buffer - the same over one buffer */
void rgq_digest_buffer(const unsigned char *data, size_t len, char out[65]);

/*
 * rgq_marker_make - the value of the release marker header for record id
 * and message digest: "ID MAC" with MAC = HMAC-SHA256(store key,
 * "relaygate-release-1\n" ID "\n" DIGEST) in hex.  g_free it.
 */
char *rgq_marker_make(rgq_store *store, const char *id, const char *digest);
/*
 * rgq_marker_verify - whether a marker value is genuine for a message
 * with this digest: 0 with the record id in id_r, or -1 with *why_r set
 * (a forged or mangled marker).  Does not look at the record's state.
 */
int rgq_marker_verify(rgq_store *store, const char *value,
                      const char *digest, char id_r[RGQ_ID_LEN + 1],
                      char **why_r);
/*
 * rgq_store_claim_release - the milter's half of "valid once": the record
 * moves from releasing to released atomically.  1 claimed, 0 not being
 * released (a replay, or a marker for a held or dropped record), -1 error.
 */
int rgq_store_claim_release(rgq_store *store, const char *id,
                            char **error_r);

/* ------------------------------------------------------------- delivery */

enum rgq_method { RGQ_SMTP, RGQ_SENDMAIL };

/* How notices and released messages reach the local MTA. */
struct rgq_delivery {
	enum rgq_method method;
	const char *host;            /* SMTP: loopback host */
	unsigned port;
	const char *sendmail;        /* program path, run via argv */
	unsigned timeout;            /* seconds per SMTP step; 0: 120 */
};

/*
 * rgq_deliver - one message to the MTA: envelope sender ("" for <>),
 * recipients, then the data (head, then body; either may be empty; CRLF
 * or LF line ends).  Returns 0 when the MTA took it (250 / exit 0), or -1
 * with *error_r set and *permanent_r: 1 when the MTA refused it for good
 * (5xx, or sendmail's EX_NOUSER and friends), 0 when it refused it for
 * now (worth retrying), -1 when the outcome is unknown (the data was sent
 * and the answer lost: the MTA may have it).
 */
int rgq_deliver(const struct rgq_delivery *d, const char *sender,
                const char *const *rcpts, size_t n_rcpts,
                const unsigned char *head, size_t head_len,
                const unsigned char *body, size_t body_len,
                int *permanent_r, char **error_r);

/* ------------------------------------------------------------- notices */

/* What a notice says besides the record. */
struct rgq_notice_params {
	const char *from;            /* From: address (configured) */
	const char *contact;         /* whom to contact, one line */
	const char *hostname;        /* for the Message-ID */
	int64_t now;                 /* Date:; 0 for the current time */
};

/*
 * rgq_notice_skip - why no notice may go to this envelope sender (a null
 * sender, or an address at a relay domain: no loops, never to a buyer),
 * or NULL when one may.
 */
const char *rgq_notice_skip(const rg_policy *policy, const char *sender);

/*
 * rgq_notice_compose - the notice about rec, as a complete message
 * (CRLF): multipart/report (RFC 6522) with a text/plain part for people
 * (which message, what happened, every finding with its excerpt, one line
 * of guidance per rule, whom to contact), an application/json part with
 * the same findings, and the original headers as text/rfc822-headers;
 * Auto-Submitted: auto-replied (RFC 3834).  kind is "held", "released"
 * or "dropped"; reason may be NULL.  headers/headers_len: the original
 * header section.  Returns the bytes (g_free them) and their length.
 */
unsigned char *rgq_notice_compose(const struct rgq_record *rec,
                                  const char *kind, const char *reason,
                                  const unsigned char *headers,
                                  size_t headers_len,
                                  const struct rgq_notice_params *params,
                                  size_t *len_r);

/* rgq_header_section - the length of data's header section (up to and
 * including the empty line), at most RGQ_NOTICE_HEADERS_MAX */
size_t rgq_header_section(const unsigned char *data, size_t len);


/* ------------------------------------------------------------- review */

/* Everything review actions need besides the store. */
struct rgq_review {
	rgq_store *store;
	const struct rgq_delivery *delivery;
	const struct rgq_notice_params *notice;
	const rg_policy *policy;     /* relay domains: who gets no notice */
	int notify;                  /* send notices at all */
	const char *actor;           /* the Unix user, for the log */
};

/*
 * rgq_release - deliver a held message to its original recipients once:
 * held -> releasing, send the exact stored bytes with a release marker,
 * -> released when the MTA has it (the milter claims it on the way), then
 * the notice.  Returns 0, or -1 with *error_r (the record is held again
 * when the MTA refused it; left "releasing" when the outcome is unknown).
 * resume: take over a record left "releasing" by a review that died.
 */
int rgq_release(const struct rgq_review *rv, const char *id,
                const char *reason, int resume, char **error_r);
/* rgq_drop - held -> dropped: the bytes removed, the sender told */
int rgq_drop(const struct rgq_review *rv, const char *id,
             const char *reason, char **error_r);
/*
 * rgq_purge - records held before `before` are dropped (the sender is
 * told: retention), and every record created before it is deleted with
 * its bytes; stray temporary files are removed.  Counts into *dropped_r
 * and *deleted_r; with dry_run nothing changes.
 */
int rgq_purge(const struct rgq_review *rv, int64_t before, int dry_run,
              unsigned long *dropped_r, unsigned long *deleted_r,
              char **error_r);
/*
 * rgq_flush_notices - try every pending notice that is due (all of them
 * with force); failures are logged and retried later with backoff; after
 * give_up seconds a notice is marked failed (logged as an error).
 * Returns the number sent, or -1.
 */
int rgq_flush_notices(rgq_store *store, const struct rgq_delivery *d,
                      int force, int64_t give_up, char **error_r);

#endif
