/*
 * internal.h - what the engine's own files share: the view of a message
 * (what the buyer sees, part by part), the scan state, compiled patterns,
 * and the one way to report a finding.
 */
#ifndef RG_INTERNAL_H
#define RG_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <libpsl.h>

#include "relaygate.h"

enum rg_part_kind {
	RG_PART_SUBJECT,     /* the decoded Subject: header */
	RG_PART_PLAIN,       /* text/plain, decoded */
	RG_PART_HTML,        /* text/html reduced to its visible text */
	RG_PART_ATTACHMENT,  /* anything else, or a named/attached part */
};

enum rg_link_origin {
	RG_LINK_TEXT,        /* written out in the visible text */
	RG_LINK_HREF,        /* <a href>, <area href> */
	RG_LINK_SRC,         /* <img src>, and other src attributes */
	RG_LINK_CSS,         /* url(...) in a style */
};

struct rg_link {
	char *url;           /* as written, entities decoded, trimmed */
	enum rg_link_origin origin;
};

struct rg_range {
	size_t start, end;   /* bytes [start, end) of part->text */
};

struct rg_part {
	char *path;          /* "1", "1.2", "subject" */
	enum rg_part_kind kind;
	char *content_type;  /* lower case, "text/html" */
	char *filename;      /* attachments; NULL if none */
	char *text;          /* visible text, valid UTF-8, NUL-terminated */
	size_t text_len;
	struct rg_link *links;
	size_t n_links;
	unsigned char *data; /* attachments: first bytes of decoded content */
	size_t data_len;     /* attachments: whole decoded size */
	int embedded;        /* inline with a Content-ID (a cid: image) */
	/* byte ranges of text quoted from an earlier message ("> " lines,
	 * <blockquote type=cite>): checked for links and contact data, not
	 * for wording, which is the buyer's own */
	struct rg_range *quoted;
	size_t n_quoted;
	/* text/html: images, active content, formatting and hidden text
	 * found while rendering (html.h); NULL for other parts */
	struct rg_html_facts *html;
	char *content_id;    /* attachments: Content-ID without <>, or NULL */
};

struct rg_view {
	struct rg_part *parts;
	size_t count;
	size_t capacity;
	unsigned attachments;
	size_t attachment_bytes;
	/* who: the envelope when the front gave one, else the headers */
	char *sender;              /* envelope sender or From: address */
	char *from;                /* the From: header's address, or NULL */
	struct rg_strlist recipients;
	/* the buyer's marketplace from the first relay recipient: the part
	 * after the relay domain's "marketplace." label, e.g. "amazon.de";
	 * NULL when no recipient is at a relay domain */
	char *marketplace;
	int is_reply;              /* In-Reply-To/References or "Re:" */
	time_t date;               /* the Date: header; 0 absent or bad */
};

/* rg_view_add_part - a new zeroed part at the end; the view owns it.
 * The pointer is valid until the next part is added. */
struct rg_part *rg_view_add_part(struct rg_view *view, const char *path,
                                 enum rg_part_kind kind);
/* rg_part_add_link - append a copy of url to the part's links */
void rg_part_add_link(struct rg_part *part, const char *url, size_t len,
                      enum rg_link_origin origin);
void rg_view_clear(struct rg_view *view);
/* rg_part_is_text - subject, plain text or HTML: what text rules read */
int rg_part_is_text(const struct rg_part *part);
/* rg_part_add_quoted - mark text[start, end) as quoted */
void rg_part_add_quoted(struct rg_part *part, size_t start, size_t end);
/* rg_part_is_quoted - 1 when byte offset lies in a quoted range */
int rg_part_is_quoted(const struct rg_part *part, size_t offset);
/* rg_html_facts_free - free *facts and set it NULL (html.c) */
void rg_html_facts_free(struct rg_html_facts **facts);

/* Compiled patterns, shared read-only by every thread. */
enum rg_pattern {
	RG_PAT_ORDER_ID,
	RG_PAT_EMAIL,
	RG_PAT_EMAIL_WORDS,  /* "name at domain dot com" (rules/contact.c) */
	RG_PAT_PHONE,
	RG_PAT_EMOJI,
	RG_PAT_EMOTICON,
	RG_PAT_URL,
	RG_PAT_BARE_DOMAIN,
	RG_PAT_REVIEW_REQUEST,   /* rules/orders.c: en de fr es it ja */
	RG_PAT_COUNT
};

struct rg_policy {
	int refcount;              /* atomic */
	struct rg_settings settings;
	pcre2_code *patterns[RG_PAT_COUNT];
	psl_ctx_t *psl;            /* public suffix list */
	struct rg_langid *langid;  /* rules/language.c */
	struct rg_speller *speller; /* rules/spelling.c */
	struct rg_phrase_code *phrase_code; /* rules/phrases.c */
};

/* Where the last finding's line count stopped (see rg_part_position). */
struct rg_position_cache {
	const struct rg_part *part;
	size_t offset, line_start;
	unsigned line;
	size_t chars;        /* code points from line_start to offset */
};

struct rg_scan {
	rg_policy *policy;
	char *envelope_sender;     /* NULL: read the headers */
	struct rg_strlist envelope_recipients;
	int has_envelope;
	pcre2_match_data *match_data;
	pcre2_match_context *match_context;
	pcre2_jit_stack *jit_stack;
	struct rg_result *result;  /* being filled by rg_scan_view */
	int limit_hit;             /* a pattern hit the match/depth limit */
	struct rg_position_cache position;
	/* order data (rules/orders.c) */
	rg_order_lookup_fn order_lookup; /* NULL: order rules skipped */
	void *order_ctx;
	time_t arrival;            /* 0: unknown */
	/* the buyer's locale ("de_DE") from the order data of the first
	 * known order the message names, "" when unknown; rules/orders.c,
	 * run before rules/language.c, sets it for every view: where set,
	 * it replaces the marketplace's default language */
	char buyer_locale[16];
	/* rg_view_language's answer for lang_view; rg_rules_language, run
	 * first on every view, forgets it */
	const struct rg_view *lang_view;
	const char *lang;
	/* the CPU budget of the message being judged (scan.c) */
	int64_t cpu_start;         /* thread CPU time at the start, ns */
	int64_t cpu_credit;        /* not counted: dictionaries loaded */
	int budget_armed;          /* a message is being judged */
	int over_budget;           /* spent: judging stops */
	int budget_reported;
	unsigned budget_ticks;
};

/*
 * The CPU budget (limits.cpu_budget): thread CPU time from the start of
 * rg_scan_message/rg_scan_fd (or of rg_scan_view when called alone).
 * rg_budget_spent reads the clock and, the first time the budget is
 * over, reports an "uncheckable" finding; from then on judging stops
 * (rg_match fails, the rule families left are skipped, walks end).
 * rg_budget_tick reads the clock only every few dozen calls, for inner
 * loops.  rg_budget_pause/resume leave out work that is not the
 * message's (loading a dictionary on first use).
 */
void rg_budget_start(rg_scan *scan);
void rg_budget_stop(rg_scan *scan);
int rg_budget_spent(rg_scan *scan);
int rg_budget_tick(rg_scan *scan);
int64_t rg_budget_pause(rg_scan *scan);
void rg_budget_resume(rg_scan *scan, int64_t paused);

/* What rg_prescan measured of a message's raw bytes (prescan.c). */
struct rg_prescan {
	size_t largest_header;     /* bytes of the largest header block */
	unsigned long header_fields; /* of all header blocks */
	unsigned long parts;       /* MIME objects GMime will make */
	size_t depth;              /* multipart nesting */
	/* the ceiling: lines that start with "--" (GMime makes a part
	 * only after one) and lines where GMime could read a header field
	 * (a superset of its header blocks; see prescan.c) */
	unsigned long field_lines;
	unsigned long dash_lines;
	char *limit;               /* a limit exceeded: GMime must not see
	                              the message (why, naming the limit) */
	char *ambiguous;           /* the first ambiguity found: judged, but
	                              uncheckable */
};
/* The ceiling: at most these times the limits on fields and parts. */
#define RG_PRESCAN_FIELD_SLACK 16
#define RG_PRESCAN_PART_SLACK 16
/* rg_prescan - measure data[0..len) (after any mbox From_ line) against
 * the settings' limits; clear *out with rg_prescan_clear */
void rg_prescan(const struct rg_settings *settings,
                const unsigned char *data, size_t len,
                struct rg_prescan *out);
void rg_prescan_clear(struct rg_prescan *out);

/* Uncheckable findings say why, and may be longer than excerpt_chars
 * (the text is relaygate's, with at most a few words of the message). */
#define RG_REASON_CHARS 160

/* The source of each pattern (patterns.c), compiled with UTF and UCP. */
const char *rg_pattern_source(enum rg_pattern pattern);
/* rg_pattern_name - what the pattern finds, for messages: "phone" */
const char *rg_pattern_name(enum rg_pattern pattern);

/*
 * rg_report_match_error - a pattern (what: "phone", "phrases of opt-out")
 * failed with PCRE2 error rc (the match or depth limit): one
 * "uncheckable" finding per scan, naming the limit.
 */
void rg_report_match_error(rg_scan *scan, int rc, const char *what);

/*
 * rg_match - find the next match of a policy pattern in subject[start..len).
 * Returns 1 with *match_start_r and *match_end_r (byte offsets), 0 for none,
 * -1 when the match or depth limit stopped it (reported once per scan as an
 * "uncheckable" finding).
 */
int rg_match(rg_scan *scan, enum rg_pattern pattern, const char *subject,
             size_t len, size_t start, size_t *match_start_r,
             size_t *match_end_r);

/* rg_rule_active - 1 when the rule's action is not off */
int rg_rule_active(const rg_scan *scan, rg_rule rule);

/*
 * rg_report - add a finding for rule at bytes [offset, offset+len) of the
 * part's text: line and column computed, excerpt cut to excerpt_chars.
 */
void rg_report(rg_scan *scan, rg_rule rule, const struct rg_part *part,
               size_t offset, size_t len);
/* rg_part_position - 1-based line and column of a byte offset in text */
void rg_part_position(rg_scan *scan, const struct rg_part *part,
                      size_t offset, unsigned *line_r, unsigned *column_r);
/* rg_report_at - add a finding with an explicit place and excerpt */
void rg_report_at(rg_scan *scan, rg_rule rule, const char *part_path,
                  unsigned line, unsigned column, const char *excerpt);

/*
 * rg_view_from_message - the view of a message without running the rules
 * (tests, and showing ops what the buyer sees).  -1 when it is over the
 * size limit; clear the view with rg_view_clear.
 */
int rg_view_from_message(rg_scan *scan, const unsigned char *data,
                         size_t len, struct rg_view *view);

/* rg_scan_view - run every active rule over a view into *result */
int rg_scan_view(rg_scan *scan, const struct rg_view *view,
                 struct rg_result *result, char **error_r);

/* Rule families, one file each under engine/rules/. */
void rg_rules_order_id(rg_scan *scan, const struct rg_view *view);
void rg_rules_links(rg_scan *scan, const struct rg_view *view);
void rg_rules_contact(rg_scan *scan, const struct rg_view *view);
void rg_rules_emoji(rg_scan *scan, const struct rg_view *view);
void rg_rules_attachments(rg_scan *scan, const struct rg_view *view);
void rg_rules_layout(rg_scan *scan, const struct rg_view *view);
/* rg_rules_orders - the order rules; -1 with *error_r when the order
 * lookup failed (the scan fails: never judged on half the data) */
int rg_rules_orders(rg_scan *scan, const struct rg_view *view,
                    char **error_r);
/* Date arithmetic of the order rules (rules/orders.c, test_dates.c). */
/* the Date: header is believed within this much of the arrival time */
#define RG_DATE_SLACK_SECONDS RG_DAY_SECONDS
/* rg_order_day - whole days from ref to t, rounded down (negative before
 * ref): day 0 is the first 24 hours after ref */
long rg_order_day(time_t ref, time_t t);
/* rg_send_time - the Date: header, or arrival when Date: is absent or
 * more than RG_DATE_SLACK_SECONDS from it, else now */
time_t rg_send_time(time_t date, time_t arrival, time_t now);
void rg_rules_structure(rg_scan *scan, const struct rg_view *view);
void rg_rules_phrases(rg_scan *scan, const struct rg_view *view);
void rg_rules_language(rg_scan *scan, const struct rg_view *view);
void rg_rules_spelling(rg_scan *scan, const struct rg_view *view);
void rg_rules_sender(rg_scan *scan, const struct rg_view *view);

/*
 * rg_phrases_compile - the policy's phrase lists (settings.phrases) into
 * policy->phrase_code: one alternation per rule and kind of list, all
 * languages together.  Returns 0, or -1 with *error_r naming the
 * language, rule, list, item and PCRE2 error offset.
 */
int rg_phrases_compile(rg_policy *policy, char **error_r);
/* rg_phrases_code_free - free compiled phrases and NULL *code */
void rg_phrases_code_free(struct rg_phrase_code **code);

/* Small helpers (util.c). */
char *rg_strdup_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* rg_utf8_chars - number of code points in s[0..len) */
size_t rg_utf8_chars(const char *s, size_t len);

/*
 * Language and spelling (rules/language.c, rules/spelling.c).  The
 * language profiles are read when the policy is built, the dictionaries
 * on first use; both are freed with the policy.
 */
struct rg_langid;
struct rg_speller;
int rg_langid_new(const struct rg_settings *settings,
                  struct rg_langid **langid_r, char **error_r);
void rg_langid_free(struct rg_langid **langid);
int rg_speller_new(const struct rg_settings *settings,
                   struct rg_speller **speller_r, char **error_r);
void rg_speller_free(struct rg_speller **speller);
/* rg_marketplace_languages - the languages a marketplace's buyers read,
 * NULL-terminated ({"it", NULL} for "amazon.it"); NULL when unknown */
const char *const *rg_marketplace_languages(const rg_policy *policy,
                                            const char *marketplace);
/* rg_view_language - the language ("en", "ja") of the seller's own text:
 * plain parts (else HTML), without subject, quoted text, links and
 * addresses; NULL when there is too little text to tell.  Cached in the
 * scan for this view. */
const char *rg_view_language(rg_scan *scan, const struct rg_view *view);

/* A word of the seller's own prose (rg_view_words). */
struct rg_word {
	const struct rg_part *part;
	size_t start, end;         /* bytes [start, end) of part->text */
	int after_number;          /* right after a number: maybe a unit */
};
/* rg_view_words - call fn for every word of the text rg_view_language
 * judges (and the subject first when with_subject), skipping URLs,
 * addresses, domains, handles, quoted text and tokens with digits; stop
 * when fn returns nonzero.  Returns the number of words visited. */
size_t rg_view_words(rg_scan *scan, const struct rg_view *view,
                     int with_subject,
                     int (*fn)(const struct rg_word *word, void *data),
                     void *data);

#endif
