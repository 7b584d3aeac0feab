/*
 * milter.h - what the files of relaygate-milter share.
 *
 * Two lifetimes (see STYLE.md): a connection context lives from the MTA's
 * connect to its close and owns at most one message context, which lives
 * from MAIL FROM to the end of that message and is freed by one idempotent
 * cleanup (rgm_msg_cleanup).  A message pins the live configuration (a
 * reference on struct rgm_runtime) for its whole life, so a reload never
 * changes the rules under a message in flight.
 *
 * Every libmilter call that talks to the MTA goes through struct
 * rgm_mta_ops (reply.c), so the callbacks can be driven by a test with a
 * fake MTA.
 */
#ifndef RGM_MILTER_H
#define RGM_MILTER_H

#include <stddef.h>
#include <sys/types.h>

#include <libmilter/mfapi.h>

#include "relaygate.h"
#include "conf/config.h"
#include "store/quarantine.h"

#define RGM_NAME "relaygate-milter"

/* The header relaygate adds; one the sender supplied is removed. */
#define RGM_HEADER "X-Relaygate"

/* The one temporary failure every internal error gives. */
#define RGM_TEMPFAIL_RCODE "451"
#define RGM_TEMPFAIL_XCODE "4.7.1"
#define RGM_TEMPFAIL_TEXT \
	"relaygate: temporary failure checking message, try again later"

/* SMTP reply limits: libmilter takes at most 32 lines (smfi_setmlreply);
 * "550-5.7.1 " plus a line stays well under SMTP's 512 bytes. */
#define RGM_REPLY_MAX_LINES 32
#define RGM_REPLY_LINE_MAX  399   /* bytes, after '%' escaping */
#define RGM_REPLY_MAX_GUIDANCE 15 /* "fix RULE: ..." lines in a reply */
/* The whole reply on the wire: SMTP clients quote it in bounces, and some
 * milter tools (miltertest) cannot take more than 1 KB.  The log has
 * every finding; quarantine notices have them all too. */
#define RGM_REPLY_MAX_BYTES 1000

/* Protocol maxima for what we copy from the MTA (truncated, never
 * overflowed). */
#define RGM_HOST_MAX   256        /* a DNS name */
#define RGM_ADDR_MAX   64         /* a printable IPv6 address */
#define RGM_QID_MAX    64         /* a Postfix long queue id is ~20 */
#define RGM_USER_MAX   256        /* a SASL user name */
#define RGM_SENDER_MAX 512        /* an RFC 5321 path is at most 256 */

/*
 * The live configuration: the compiled policy and the milter's own
 * settings, swapped whole on reload.  Reference counted under one mutex
 * (context.c); read-only once installed.
 */
struct rgm_runtime {
	unsigned refs;
	rg_policy *policy;
	char *config_path;
	char *socket;           /* as configured; a change needs a restart */
	char *spool_dir;
	char *user;             /* milter.user, milter.group: whom to run as */
	char *group;            /* when started as root; a change needs a restart */
	int monitor;            /* mode = "monitor" */
	/* the quarantine group, and what it means for the store */
	struct rg_quarantine_config quarantine;
	rgq_store *store;       /* NULL when checking the file only (-t) */
	struct rgq_delivery delivery;
	struct rgq_notice_params notice;
	char hostname[256];
	struct rgm_orders *orders;  /* order store pool; NULL: none */
};

/*
 * rgm_runtime_new - build a runtime from a configuration file.  Returns a
 * runtime with one reference, or NULL with *error_r set ("FILE:LINE: ...",
 * malloc'd).  Checks that the spool directory is usable when check_dirs.
 */
struct rgm_runtime *rgm_runtime_new(const char *path, int check_dirs,
                                    char **error_r);
/*
 * rgm_runtime_open - what check_dirs does, for a runtime built without:
 * the spool directory checked, the quarantine store opened (made 0700 if
 * missing), the order store tried.  At startup this runs after the
 * privileges are dropped, so whatever it creates is the milter user's.
 * 0, or -1 with *error_r set (malloc'd).
 */
int rgm_runtime_open(struct rgm_runtime *rt, char **error_r);
/* rgm_runtime_install - make rt the live runtime (takes over the caller's
 * reference) and drop the previous one. */
void rgm_runtime_install(struct rgm_runtime *rt);
/* rgm_runtime_acquire - a new reference on the live runtime, or NULL */
struct rgm_runtime *rgm_runtime_acquire(void);
/* rgm_runtime_release - drop one reference, free on the last, NULL *rt */
void rgm_runtime_release(struct rgm_runtime **rt);

/*
 * A message body being collected: in memory up to mem_limit bytes, then in
 * a private unlinked temp file (0600) in the spool directory.
 */
struct rgm_spool {
	unsigned char *buf;
	size_t len;
	size_t cap;
	size_t mem_limit;
	int fd;                 /* -1 while in memory */
	size_t total;           /* bytes appended, memory or file */
};

void rgm_spool_init(struct rgm_spool *spool, size_t mem_limit);
/*
 * rgm_spool_append - add data; spills to a temp file in dir when the
 * memory limit would be passed.  Returns 0, or -1 with *error_r set
 * (malloc'd, or NULL when even that failed).
 */
int rgm_spool_append(struct rgm_spool *spool, const char *dir,
                     const void *data, size_t len, char **error_r);
/* rgm_spool_rewind - file-backed spool: seek to the start; 0 or -1 */
int rgm_spool_rewind(struct rgm_spool *spool);
/* rgm_spool_clear - free memory, close the file; reusable afterwards */
void rgm_spool_clear(struct rgm_spool *spool);

/* One message, MAIL FROM to end of message. */
struct rgm_msg {
	struct rgm_runtime *rt;     /* pinned for the message's life */
	char sender[RGM_SENDER_MAX];
	unsigned rcpts;             /* recipients seen */
	unsigned relay_rcpts;       /* of them at a relay domain */
	struct rg_strlist recipients; /* for the engine (marketplace, ...) */
	int decided;                /* not-ours decision taken (data/eoh) */
	int in_body;                /* end of headers seen */
	struct rgm_spool spool;
	size_t size;                /* header + body bytes seen */
	int oversize;               /* over max_message_bytes: stopped */
	const char *failure;        /* internal error: tempfail at eom */
	unsigned forged_headers;    /* X-Relaygate headers from the sender */
	unsigned markers;           /* X-Relaygate-Release headers */
	char *marker;               /* the first one's value (malloc'd) */
	int keep_oversize;          /* over the size limit, kept to be held */
	struct rgm_orders_msg *orders; /* order lookups and review claims */
};

struct rgm_mta_ops;

/* One SMTP connection (one milter session). */
struct rgm_conn {
	const struct rgm_mta_ops *mta;
	void *mta_handle;           /* SMFICTX * for libmilter */
	char host[RGM_HOST_MAX];
	char addr[RGM_ADDR_MAX];
	char qid[RGM_QID_MAX];      /* {i}; "" until the MTA tells */
	char user[RGM_USER_MAX];    /* {auth_authen}; "" if none */
	int leadspc;                /* header values keep their leading space */
	int can_skip;               /* the MTA understands SMFIS_SKIP */
	unsigned long messages;     /* messages started on this connection */
	rg_scan *scan;              /* cached per connection, per policy */
	rg_policy *scan_policy;     /* the policy scan was made for */
	struct rgm_msg *msg;        /* at most one */
};

/* context.c: the two lifetimes */
struct rgm_conn *rgm_conn_new(const struct rgm_mta_ops *mta, void *handle);
/* rgm_conn_free - clean the message, free the connection, NULL *conn */
void rgm_conn_free(struct rgm_conn **conn);
/* rgm_msg_start - clean any previous message, start one pinned to the live
 * runtime; 0, or -1 (no memory, no runtime) */
int rgm_msg_start(struct rgm_conn *conn);
/* rgm_msg_cleanup - free the message, if any; idempotent */
void rgm_msg_cleanup(struct rgm_conn *conn);
/* rgm_conn_scan - the connection's scan state for the message's policy */
rg_scan *rgm_conn_scan(struct rgm_conn *conn);
/* rgm_conn_macros - refresh queue id and user from the MTA's macros */
void rgm_conn_macros(struct rgm_conn *conn);

/*
 * The MTA side of a connection.  Strings are not modified (libmilter's
 * prototypes lack const).  Each returns 0, or -1 on failure.
 */
struct rgm_mta_ops {
	const char *(*getsymval)(void *h, const char *name);
	int (*setreply)(void *h, const char *rcode, const char *xcode,
	                const char *text);
	/* lines: 1 to RGM_REPLY_MAX_LINES, already '%'-escaped */
	int (*setmlreply)(void *h, const char *rcode, const char *xcode,
	                  char *const *lines, size_t n);
	int (*addheader)(void *h, const char *name, const char *value);
	/* index: 1-based among headers of that name; value NULL deletes */
	int (*chgheader)(void *h, const char *name, int index,
	                 const char *value);
};

/* reply.c: libmilter behind rgm_mta_ops, and the verdict mapping */
extern const struct rgm_mta_ops rgm_libmilter_ops;

/*
 * rgm_reply_result - the one mapping from a judged message to the MTA:
 * reject (550 5.7.1, multi-line, with guidance), quarantine (held in the
 * store, then discarded: the client gets 250; 451 when it cannot be
 * held), warn/pass (header, accept), monitor mode (log, header, accept).
 * Logs the verdict and every finding.  Returns the sfsistat for end of
 * message.
 */
sfsistat rgm_reply_result(struct rgm_conn *conn, const struct rg_result *res);
/* rgm_reply_tempfail - log why, set 451 4.7.1; returns SMFIS_TEMPFAIL */
sfsistat rgm_reply_tempfail(struct rgm_conn *conn, const char *why);
/*
 * rgm_reply_lines - the reject reply text: a summary, one line per finding,
 * "... and K more" past the limit, then one line of guidance per rule
 * ("fix RULE: ...", at most RGM_REPLY_MAX_GUIDANCE, at most half the
 * room); each '%'-escaped and under RGM_REPLY_LINE_MAX bytes, all of them
 * within RGM_REPLY_MAX_BYTES.  Fills lines[] (malloc'd each) and returns
 * how many, or -1 on allocation failure (nothing to free).
 */
int rgm_reply_lines(const struct rg_result *res,
                    char *lines[RGM_REPLY_MAX_LINES]);
/* rgm_header_value - "reject; rules=a,b[; mode=monitor]" (malloc'd) */
char *rgm_header_value(const struct rg_result *res, int monitor);
/*
 * rgm_reply_header - remove the sender's X-Relaygate and release marker
 * headers and add ours with value; 0 or -1
 */
int rgm_reply_header(struct rgm_conn *conn, const char *value);

/* quarantine.c: holding messages, release markers, the notice thread */
/* The answer when a message cannot be held (never a 250). */
#define RGM_HOLD_FAIL_TEXT \
	"relaygate: cannot hold the message for review, try again later"
/*
 * rgm_quarantine_hold - write the message (the spool) and its record to
 * the store, with the notice to its sender; the record id into id_r.
 * 0, or -1 (logged): the message must not be accepted.
 */
int rgm_quarantine_hold(struct rgm_conn *conn, const struct rg_result *res,
                        char id_r[RGQ_ID_LEN + 1]);
/*
 * rgm_release_check - a message with a release marker: when the marker is
 * genuine and its record is being released, claim it (released), strip
 * the marker and accept it unjudged: returns 1 with *status_r.  A forged,
 * mangled or replayed marker is logged and returns 0: judge the message
 * like any other.  1 with a tempfail status on an internal error.
 */
int rgm_release_check(struct rgm_conn *conn, sfsistat *status_r);
/* rgm_notifier_start - the thread that sends queued notices and purges
 * expired records; 0 or -1 */
int rgm_notifier_start(void);
/* rgm_notifier_wake - send queued notices now */
void rgm_notifier_wake(void);
/* rgm_notifier_stop - stop the thread and wait for it */
void rgm_notifier_stop(void);
/* rgm_store_logger - the store's log lines into rgm_log */
void rgm_store_logger(int priority, const char *fmt, va_list ap);

/*
 * orders.c: the order store behind the order rules, and review requests
 * recorded when a message is delivered (the claim protocol is described
 * there).  In judge(): begin before the scan, claim after it and before
 * answering, settle after answering; the message cleanup ends it.
 */
struct rgm_orders;
struct rgm_orders_msg;
/* rgm_orders_new - a connection pool for the configured order store
 * (connects on first use; with check, tries now and logs the outcome);
 * NULL for backend "none" */
struct rgm_orders *rgm_orders_new(const struct rg_orders_config *config,
                                  int check);
/* rgm_orders_check - try the store now and log what the order rules will
 * see (orders may be NULL) */
void rgm_orders_check(struct rgm_orders *orders);
void rgm_orders_free(struct rgm_orders **orders);
/* rgm_orders_begin - the scan's order lookup and arrival time */
void rgm_orders_begin(struct rgm_conn *conn, rg_scan *scan);
/* rgm_orders_claim - record the review requests of a message about to be
 * delivered; a lost claim adds review-repeat to res.  0, or -1: store
 * error (tempfail) */
int rgm_orders_claim(struct rgm_conn *conn, struct rg_result *res);
/* rgm_orders_settle - after answering: claims stand when delivered,
 * else they are released */
void rgm_orders_settle(struct rgm_conn *conn, const struct rg_result *res,
                       sfsistat status);
/* rgm_orders_record_release - a message released from quarantine passes:
 * record its review requests */
void rgm_orders_record_release(struct rgm_conn *conn);
/* rgm_orders_msg_end - message cleanup: release unsettled claims, return
 * the store connection */
void rgm_orders_msg_end(struct rgm_conn *conn);

/* log.c */
void rgm_log_init(int foreground);
/* rgm_log_reaches_stderr - 1 when log lines already appear on stderr (or
 * in the same journal), so startup errors need not be printed twice */
int rgm_log_reaches_stderr(void);
/*
 * rgm_log - one line to syslog (LOG_MAIL) and, in foreground mode, stderr;
 * prefixed with the queue id and authenticated user of conn (may be NULL).
 * Control characters are replaced.
 */
void rgm_log(const struct rgm_conn *conn, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* callbacks.c: the libmilter registration */
extern struct smfiDesc rgm_filter;

#endif
