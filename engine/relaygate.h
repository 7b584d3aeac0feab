/*
 * relaygate.h - public API of the relaygate policy engine
 *
 * The engine turns the raw bytes of one message into findings: which policy
 * rule (ids as in POLICY.md) a message breaks, where (MIME part, line and
 * column in the decoded text) and the offending excerpt.  It has no
 * libmilter in it and never decides SMTP codes, writes files or sends mail;
 * the fronts (milter, CLI, tests) turn findings into actions.
 *
 * Ownership: an rg_policy is immutable once built and shared by every
 * thread (reference counted); an rg_scan belongs to one thread at a time
 * and holds the per-message match state.
 */
#ifndef RELAYGATE_H
#define RELAYGATE_H

#include <stddef.h>
#include <stdint.h>

/* Actions in increasing strength: the strongest finding wins. */
typedef enum rg_action {
	RG_ACTION_OFF = 0,
	RG_ACTION_WARN,
	RG_ACTION_QUARANTINE,
	RG_ACTION_REJECT,
} rg_action;

typedef enum rg_rule {
	RG_RULE_ORDER_ID = 0,
	RG_RULE_EXTERNAL_LINK,
	RG_RULE_INSECURE_LINK,
	RG_RULE_EMAIL_ADDRESS,
	RG_RULE_PHONE_NUMBER,
	RG_RULE_EMOJI,
	RG_RULE_ATTACHMENT,
	RG_RULE_LINE_BREAKS,
	/* sender */
	RG_RULE_UNAPPROVED_SENDER,
	/* HTML and structure */
	RG_RULE_IMAGE,
	RG_RULE_TRACKING_PIXEL,
	RG_RULE_ACTIVE_CONTENT,
	RG_RULE_FORMATTING,
	RG_RULE_HIDDEN_CONTENT,
	RG_RULE_ACCESSIBILITY,
	/* phrases */
	RG_RULE_SOCIAL_HANDLE,
	RG_RULE_OFF_PLATFORM,
	RG_RULE_PROMOTIONAL,
	RG_RULE_REVIEW_INCENTIVE,
	RG_RULE_REVIEW_MANIPULATION,
	RG_RULE_THANK_YOU_ONLY,
	RG_RULE_ORDER_CONFIRMATION,
	RG_RULE_OPT_OUT,
	RG_RULE_SUBJECT_MISUSE,
	RG_RULE_SENSITIVE_CONTENT,
	/* language */
	RG_RULE_LANGUAGE,
	RG_RULE_SPELLING,
	/* not a policy rule: the message exceeds a limit or cannot be judged */
	RG_RULE_UNCHECKABLE,
	RG_RULE_COUNT
} rg_rule;

/* rg_action_name - "off", "warn", "quarantine", "reject" */
const char *rg_action_name(rg_action action);
/* rg_verdict_name - like rg_action_name, but "pass" for RG_ACTION_OFF */
const char *rg_verdict_name(rg_action verdict);
/* rg_action_parse - name to action; returns 0, or -1 for an unknown name */
int rg_action_parse(const char *name, rg_action *action_r);

/* rg_rule_name - the rule's stable id, e.g. "order-id" */
const char *rg_rule_name(rg_rule rule);
/* rg_rule_lookup - id to rule; returns 0, or -1 for an unknown id */
int rg_rule_lookup(const char *name, rg_rule *rule_r);
/* rg_rule_citation - the policy text the rule implements, and its source */
const char *rg_rule_citation(rg_rule rule);
/* rg_rule_guidance - one line telling the sender how to fix a finding */
const char *rg_rule_guidance(rg_rule rule);

/* A list of owned strings. */
struct rg_strlist {
	char **items;
	size_t count;
};
/* rg_strlist_add - append a copy of s */
void rg_strlist_add(struct rg_strlist *list, const char *s);
/* rg_strlist_clear - free every item and the array; the list is reusable */
void rg_strlist_clear(struct rg_strlist *list);
/* rg_strlist_contains_nocase - 1 when an item equals s ignoring ASCII case */
int rg_strlist_contains_nocase(const struct rg_strlist *list, const char *s);

/* Limits with named defaults; 0 is never "unlimited". */
#define RG_DEFAULT_MAX_MESSAGE_BYTES     (25u * 1024 * 1024)
#define RG_DEFAULT_MEMORY_SPOOL_BYTES    (1024u * 1024)
#define RG_DEFAULT_MAX_ATTACHMENT_BYTES  (10u * 1024 * 1024)
#define RG_DEFAULT_MAX_ATTACHMENTS       5
#define RG_DEFAULT_MAX_MIME_PARTS        500
#define RG_DEFAULT_MAX_MIME_DEPTH        20
#define RG_DEFAULT_MAX_TEXT_BYTES        (4u * 1024 * 1024)
#define RG_DEFAULT_MATCH_LIMIT           1000000
#define RG_DEFAULT_DEPTH_LIMIT           10000
#define RG_DEFAULT_EXCERPT_CHARS         60

/*
 * Everything a policy is built from.  rg_settings_init fills the defaults
 * (the marketplace's relay and link domains, every rule's default action);
 * the configuration loader overrides them; rg_policy_build copies them.
 */
struct rg_settings {
	rg_action actions[RG_RULE_COUNT];
	struct rg_strlist relay_domains;     /* "marketplace.amazon.de", ... */
	struct rg_strlist allowed_link_domains; /* registrable or exact hosts */
	struct rg_strlist allowed_emails;    /* warranty, carrier, ... */
	struct rg_strlist allowed_phones;    /* digits only, with country code */
	struct rg_strlist attachment_types;  /* allowed content types */
	struct rg_strlist attachment_names;  /* allowed purposes: invoice, ... */
	size_t max_attachment_bytes;         /* all attachments together */
	unsigned max_attachments;
	size_t max_message_bytes;
	size_t memory_spool_bytes;
	unsigned max_mime_parts;
	unsigned max_mime_depth;
	size_t max_text_bytes;               /* decoded text per part */
	uint32_t match_limit;                /* PCRE2 */
	uint32_t depth_limit;                /* PCRE2 */
	unsigned excerpt_chars;
};

/* rg_settings_init - defaults; release with rg_settings_clear */
void rg_settings_init(struct rg_settings *settings);
void rg_settings_clear(struct rg_settings *settings);

typedef struct rg_policy rg_policy;

/*
 * rg_policy_build - compile settings into an immutable, shareable policy.
 * Returns a policy with one reference, or NULL with *error_r set (caller
 * frees it with free()).
 */
rg_policy *rg_policy_build(const struct rg_settings *settings, char **error_r);
rg_policy *rg_policy_ref(rg_policy *policy);
/* rg_policy_unref - drop one reference, free on the last, NULL *policy */
void rg_policy_unref(rg_policy **policy);
const struct rg_settings *rg_policy_settings(const rg_policy *policy);

/*
 * rg_is_relay_address - 1 when the address (with or without <>) is at a
 * relay domain of the policy, exactly or as the domain's subdomain
 * ("x@marketplace.amazon.de"), ignoring case; 0 otherwise.
 */
int rg_is_relay_address(const rg_policy *policy, const char *address);

struct rg_finding {
	rg_rule rule;
	rg_action action;
	char *part;         /* MIME part path ("1.2"), "subject" or "message" */
	unsigned line;      /* 1-based, in the decoded text; 0 if none */
	unsigned column;    /* 1-based, in characters */
	char *excerpt;      /* UTF-8, at most excerpt_chars characters */
};

struct rg_result {
	rg_action verdict;  /* strongest action of all findings */
	struct rg_finding *findings;
	size_t count;
	char *subject;      /* decoded, or NULL */
};

/*
 * rg_finding_describe - one line for people: 'phone-number in part 1.1 at
 * 12:34: "+1 (555) 014-3386"' (malloc'd).  With ascii_only, characters
 * outside printable ASCII are written as U+XXXX (for SMTP replies and
 * headers); control characters never appear.
 */
char *rg_finding_describe(const struct rg_finding *finding, int ascii_only);

/* rg_result_clear - free the findings; the result is reusable */
void rg_result_clear(struct rg_result *result);

typedef struct rg_scan rg_scan;

/*
 * rg_scan_new - per-thread scanning state (PCRE2 match data, limits) for a
 * policy; takes a reference on it.  Never returns NULL (GLib aborts on OOM).
 */
rg_scan *rg_scan_new(rg_policy *policy);
void rg_scan_free(rg_scan **scan);

/*
 * rg_scan_message - judge one complete message (headers and body).
 * Returns 0 with *result filled (clear it with rg_result_clear), or -1 with
 * *error_r set (an internal error: the caller must not accept the
 * message unchecked).  A message the engine cannot judge is not an error:
 * it gives an "uncheckable" finding.
 */
int rg_scan_message(rg_scan *scan, const unsigned char *data, size_t len,
                    struct rg_result *result, char **error_r);
/*
 * rg_scan_set_envelope - the SMTP envelope of the next message scanned:
 * sender and recipients (copied; kept until changed).  Without one, the
 * engine takes the From: address and the To:/Cc: addresses instead.
 */
void rg_scan_set_envelope(rg_scan *scan, const char *sender,
                          const char *const *recipients, size_t n);
/* rg_scan_clear_envelope - back to reading the headers */
void rg_scan_clear_envelope(rg_scan *scan);

/* rg_scan_fd - the same, reading the message from an open file */
int rg_scan_fd(rg_scan *scan, int fd, struct rg_result *result,
               char **error_r);

/* rg_engine_init - once per process before any thread scans */
void rg_engine_init(void);
void rg_engine_shutdown(void);

#endif
