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
};

/* rg_view_add_part - a new zeroed part at the end; the view owns it.
 * The pointer is valid until the next part is added. */
struct rg_part *rg_view_add_part(struct rg_view *view, const char *path,
                                 enum rg_part_kind kind);
/* rg_part_add_link - append a copy of url to the part's links */
void rg_part_add_link(struct rg_part *part, const char *url, size_t len,
                      enum rg_link_origin origin);
void rg_view_clear(struct rg_view *view);
/* rg_part_add_quoted - mark text[start, end) as quoted */
void rg_part_add_quoted(struct rg_part *part, size_t start, size_t end);
/* rg_part_is_quoted - 1 when byte offset lies in a quoted range */
int rg_part_is_quoted(const struct rg_part *part, size_t offset);

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
	RG_PAT_COUNT
};

struct rg_policy {
	int refcount;              /* atomic */
	struct rg_settings settings;
	pcre2_code *patterns[RG_PAT_COUNT];
	psl_ctx_t *psl;            /* public suffix list */
};

/* Where the last finding's line count stopped (see rg_part_position). */
struct rg_position_cache {
	const struct rg_part *part;
	size_t offset, line_start;
	unsigned line;
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
};

/* The source of each pattern (patterns.c), compiled with UTF and UCP. */
const char *rg_pattern_source(enum rg_pattern pattern);

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

/* Small helpers (util.c). */
char *rg_strdup_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* rg_utf8_chars - number of code points in s[0..len) */
size_t rg_utf8_chars(const char *s, size_t len);

#endif
