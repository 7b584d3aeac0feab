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
#include <time.h>

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
	/* order data (rules/orders.c; needs an order lookup, see below) */
	RG_RULE_MESSAGE_WINDOW,
	RG_RULE_REVIEW_TIMING,
	RG_RULE_REVIEW_REPEAT,
	/* not a policy rule: an order id the order store does not know */
	RG_RULE_UNKNOWN_ORDER,
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
/* rg_rule_example - a short example that passes (breaks = 0) or breaks
 * the rule, for people reading --explain */
const char *rg_rule_example(rg_rule rule, int breaks);

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
/* one header block: the message's own, or a part's or attached
 * message's; and the header fields of all blocks together (GMime spends
 * about 600 bytes a field: measured on the raw bytes before parsing) */
#define RG_DEFAULT_MAX_HEADER_BYTES      (256u * 1024)
#define RG_DEFAULT_MAX_HEADER_FIELDS     1000
/* one HTML part: start tags (counted before libxml2 parses it) and how
 * deep elements nest */
#define RG_DEFAULT_MAX_HTML_ELEMENTS     50000
#define RG_DEFAULT_MAX_HTML_DEPTH        256
/* CPU time of the scanning thread to judge one message (milliseconds);
 * a 4 MB text part takes under 2 s on a 2020s server */
#define RG_DEFAULT_CPU_BUDGET_MS         5000
#define RG_DEFAULT_EXCERPT_CHARS         60
/* order rules, in days (POLICY.md: 30 days after the order; reviews 5 to
 * 30 days after delivery).  The estimate is short on purpose: one later
 * than the real delivery would refuse a request on day 5. */
#define RG_DEFAULT_MESSAGE_WINDOW_DAYS    30
#define RG_DEFAULT_REVIEW_MIN_DAYS        5
#define RG_DEFAULT_REVIEW_MAX_DAYS        30
#define RG_DEFAULT_DELIVERY_ESTIMATE_DAYS 3

/*
 * Phrase rules as data (rules/phrases.c; the format is documented at the
 * top of conf/rules/en.conf).  Each entry is a PCRE2 fragment, matched
 * case-insensitively on the normalised text (normalize.h), as a whole
 * word unless the language turns word boundaries off (Japanese).  Every
 * language is matched against every message.
 */
#define RG_PHRASE_GROUP_LISTS 4        /* lists in one together group */
#define RG_PHRASE_FRAGMENT_MAX 1024    /* bytes in one fragment */

/* together/nearby: a sentence (nearby: or the next one) with a match of
 * every list breaks the rule */
struct rg_phrase_group {
	struct rg_strlist lists[RG_PHRASE_GROUP_LISTS];
	unsigned n_lists;                  /* 2 .. RG_PHRASE_GROUP_LISTS */
	unsigned sentences;                /* 1: together, 2: nearby */
};

/* One rule's phrases in one language. */
struct rg_phrase_rule {
	struct rg_strlist phrases;         /* each match breaks the rule */
	struct rg_strlist when;            /* break it once per message ... */
	struct rg_strlist unless;          /* ... unless one of these is there */
	struct rg_phrase_group *groups;
	size_t n_groups;
};

struct rg_phrase_lang {
	char *name;                        /* "en", "de", ... */
	int word_boundaries;               /* 0 for Japanese: no \b in CJK */
	struct rg_phrase_rule rules[RG_RULE_COUNT];  /* phrase rules only */
};

struct rg_phrases {
	struct rg_phrase_lang *langs;
	size_t count;
};

/* rg_phrases_add_lang - a new, empty language (word boundaries on) at
 * the end; valid until the next one is added */
struct rg_phrase_lang *rg_phrases_add_lang(struct rg_phrases *phrases,
                                           const char *name);
/* rg_phrase_group_add - a new, empty group of rule in lang */
struct rg_phrase_group *rg_phrase_group_add(struct rg_phrase_rule *rule,
                                            unsigned sentences);
/* rg_phrases_clear - free everything; *phrases is reusable */
void rg_phrases_clear(struct rg_phrases *phrases);
/* rg_phrases_copy - a deep copy into *dst (whose contents are ignored) */
void rg_phrases_copy(struct rg_phrases *dst, const struct rg_phrases *src);
/* rg_phrase_is_rule - 1 for the rules that take phrases */
int rg_phrase_is_rule(rg_rule rule);
/*
 * rg_phrase_check - NULL when fragment is a usable phrase, else why not
 * (malloc'd, free()): a PCRE2 error with its offset, a capturing group,
 * a backtracking verb, a fragment that can match empty text or is longer
 * than RG_PHRASE_FRAGMENT_MAX.  The loader calls it to report the line.
 */
char *rg_phrase_check(const char *fragment);

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
	struct rg_strlist approved_senders;  /* addresses, or "@domain"; empty:
	                                        unapproved-sender not checked */
	struct rg_strlist attachment_types;  /* allowed content types */
	struct rg_strlist attachment_names;  /* allowed purposes: invoice, ... */
	/* language: "amazon.ca:en,fr" entries replace the built-in languages
	 * of that marketplace (or add one); empty: the built-in map only */
	struct rg_strlist language_accepted;
	/* spelling: "en:en_US,en_GB" entries replace the built-in Hunspell
	 * dictionaries of a language; words accepted in every language */
	struct rg_strlist spelling_dictionaries;
	struct rg_strlist spelling_words;
	size_t max_attachment_bytes;         /* all attachments together */
	unsigned max_attachments;
	size_t max_message_bytes;
	size_t memory_spool_bytes;
	unsigned max_mime_parts;
	unsigned max_mime_depth;
	size_t max_header_bytes;             /* one header block */
	unsigned max_header_fields;          /* all header blocks together */
	size_t max_text_bytes;               /* decoded text per part */
	unsigned max_html_elements;          /* start tags in one HTML part */
	unsigned max_html_depth;             /* HTML element nesting */
	uint32_t match_limit;                /* PCRE2 */
	uint32_t depth_limit;                /* PCRE2 */
	unsigned cpu_budget_ms;              /* CPU time per message */
	unsigned excerpt_chars;
	struct rg_phrases phrases;           /* phrase rules; none by default */
	/* order rules (rules/orders.c), in days */
	unsigned message_window_days;        /* message-window: after day N */
	int window_from_delivery;            /* count from delivery, not
	                                        from purchase */
	unsigned review_min_days;            /* review-timing: from day N */
	unsigned review_max_days;            /* ... to day N after delivery */
	unsigned delivery_estimate_days;     /* delivery = purchase + N when
	                                        the order data has no date */
};

/* rg_settings_init - defaults; release with rg_settings_clear */
void rg_settings_init(struct rg_settings *settings);
void rg_settings_clear(struct rg_settings *settings);

/*
 * rg_language_entry_error, rg_spelling_entry_error - NULL when an item of
 * language.accepted ("amazon.ca:en,fr") or spelling.dictionaries
 * ("en:en_US,en_GB") is well formed, else why not (malloc'd, free()).
 * The loader calls them to report the item's file and line.
 */
char *rg_language_entry_error(const char *entry);
char *rg_spelling_entry_error(const char *entry);

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
	/* order ids the message asks a review for that have no review
	 * request recorded yet (rules/orders.c): the front records each one
	 * when it delivers the message, atomically (review-repeat) */
	struct rg_strlist review_orders;
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

/*
 * What the seller's order data says about one order (the fronts read it
 * from the order store, store/orders.h).  Times are absolute (time_t);
 * 0 is unknown.
 */
struct rg_order_info {
	time_t purchase;
	time_t delivery;
	time_t estimated_arrival;
	char locale[16];            /* the buyer's, "de_DE"; "" unknown */
	int review_requested;       /* a review request is recorded */
};

#define RG_DAY_SECONDS 86400
/* rg_delivery_reference - when the order rules take the order as
 * delivered: the delivery date, else the estimated arrival, else the
 * purchase + estimate_days; 0 when unknown.  *estimated_r: not a
 * delivery date */
time_t rg_delivery_reference(const struct rg_order_info *info,
                             unsigned estimate_days, int *estimated_r);

/*
 * rg_order_lookup_fn - find order_id ("NNN-NNNNNNN-NNNNNNN").  Returns 1
 * with *out filled, 0 when the order is not known, -1 on an error with
 * *error_r set (malloc'd; the scan fails, the front tempfails).
 */
typedef int (*rg_order_lookup_fn)(void *ctx, const char *order_id,
                                  struct rg_order_info *out, char **error_r);

/*
 * rg_scan_set_order_lookup - where the order rules (message-window,
 * review-timing, review-repeat, unknown-order) get order data; kept until
 * changed.  Without one (lookup NULL) those rules are skipped.  The engine
 * calls it only from rg_scan_message/rg_scan_fd, in the scanning thread.
 */
void rg_scan_set_order_lookup(rg_scan *scan, rg_order_lookup_fn lookup,
                              void *ctx);
/*
 * rg_scan_set_arrival - when the next message arrived (0: unknown).  The
 * send time is the Date: header, or the arrival time when Date: is absent
 * or more than a day away from it; with neither, the current time.
 */
void rg_scan_set_arrival(rg_scan *scan, time_t arrival);

/*
 * rg_result_add - a finding of rule at the whole message, with the
 * policy's action for it (nothing when the rule is off); the verdict
 * follows.  For fronts that learn something after the scan (a review
 * request that lost the race to record it).
 */
void rg_result_add(struct rg_result *result, const rg_policy *policy,
                   rg_rule rule, const char *excerpt);

/* rg_scan_fd - the same, reading the message from an open file */
int rg_scan_fd(rg_scan *scan, int fd, struct rg_result *result,
               char **error_r);

/* rg_engine_init - once per process before any thread scans */
void rg_engine_init(void);
void rg_engine_shutdown(void);

#endif
