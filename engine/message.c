/*
 * message.c - raw bytes to a view: GMime parses the message, every part is
 * decoded to what the buyer sees (transfer encoding, charset, HTML to
 * visible text, NFKC), and the rules run over the result.
 *
 * Input is capped before it reaches GMime: GLib aborts the process when an
 * allocation fails, so the size is checked first and prescan.c measures
 * header blocks, header fields, parts and depth on the raw bytes; a
 * message over a limit is not parsed at all.  What GMime then parses may
 * still be impossible to judge: ambiguous MIME (prescan.c, and GMime's
 * parser warnings for conflicting headers and parameters), encrypted
 * parts, message/partial, text in a charset that cannot be decoded.  Each
 * is an "uncheckable" finding saying why; the rest is judged as usual.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "html.h"
#include "internal.h"
#include "normalize.h"

/* Attachments keep this much decoded content for sniffing their type. */
#define ATTACHMENT_SNIFF_BYTES (64 * 1024)

struct walk {
	rg_scan *scan;
	struct rg_view *view;
	const struct rg_settings *settings;
	unsigned parts;
	int stopped;            /* a limit was hit: the rest is not judged */
};

/* Parser warnings that make MIME ambiguous (GMime 3.2 codes 10, 11, 12,
 * 15, 17): the first of each kind, collected while GMime parses. */
#define AMBIGUOUS_KINDS 5
#define ITEM_MAX 40

struct warnings {
	int seen[AMBIGUOUS_KINDS];
	char item[AMBIGUOUS_KINDS][ITEM_MAX + 1];
};

static const struct {
	GMimeParserWarning code;
	const char *why;        /* and the item (a header or parameter) */
	const char *after;      /* after the item; NULL: no item shown */
} ambiguous_warnings[AMBIGUOUS_KINDS] = {
	{ GMIME_CRIT_CONFLICTING_HEADER,
	  "ambiguous MIME: two different ", " headers" },
	{ GMIME_CRIT_CONFLICTING_PARAMETER,
	  "ambiguous MIME: two different ", " parameters" },
	{ GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY,
	  "ambiguous MIME: a multipart without a boundary", NULL },
	{ GMIME_CRIT_NESTING_OVERFLOW,
	  "ambiguous MIME: parts nested too deep for the parser", NULL },
	{ GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT,
	  "ambiguous MIME: a part with neither headers nor content", NULL },
};

/* on_warning - GMime's parser warning callback: cheap, it may be called
 * once per header line */
static void
on_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
           gpointer data)
{
	struct warnings *w = data;

	(void)offset;
	for (int i = 0; i < AMBIGUOUS_KINDS; i++) {
		if (ambiguous_warnings[i].code != code || w->seen[i])
			continue;
		w->seen[i] = 1;
		g_strlcpy(w->item[i], item != NULL ? item : "", ITEM_MAX + 1);
		/* a header or parameter name: printable ASCII */
		for (char *c = w->item[i]; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
	}
}

/* report_warnings - one finding per kind of ambiguity GMime saw */
static void
report_warnings(struct walk *w, const struct warnings *warnings)
{
	for (int i = 0; i < AMBIGUOUS_KINDS; i++) {
		char *why;

		if (!warnings->seen[i])
			continue;
		why = ambiguous_warnings[i].after != NULL
		      ? rg_strdup_printf("%s%s%s", ambiguous_warnings[i].why,
		                         warnings->item[i],
		                         ambiguous_warnings[i].after)
		      : g_strdup(ambiguous_warnings[i].why);
		rg_report_at(w->scan, RG_RULE_UNCHECKABLE, "message", 0, 0, why);
		g_free(why);
	}
}

static void walk_object(struct walk *w, GMimeObject *object,
                        const char *path, unsigned depth);

/* uncheckable - the message (or a part) cannot be judged completely */
static void
uncheckable(struct walk *w, const char *path, const char *why)
{
	rg_report_at(w->scan, RG_RULE_UNCHECKABLE, path, 0, 0, why);
}

/* one_line_ends - CRLF and lone CR to LF, NUL to space, in place */
static size_t
one_line_ends(char *s, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r') {
			s[out++] = '\n';
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		} else {
			s[out++] = s[i] == '\0' ? ' ' : s[i];
		}
	}
	s[out] = '\0';
	return out;
}

/* visible - make text valid UTF-8 and NFKC with LF line ends; takes s */
static char *
visible(char *s, size_t *len_r)
{
	char *valid, *nfkc;
	size_t len = one_line_ends(s, strlen(s));

	valid = g_utf8_make_valid(s, (gssize)len);
	g_free(s);
	nfkc = rg_nfkc(valid, strlen(valid));
	g_free(valid);
	if (nfkc == NULL)
		nfkc = g_strdup("");
	/* "serv<U+200B>ice@example.com" is an address to the buyer's eye */
	*len_r = rg_strip_invisible(nfkc, strlen(nfkc), 1);
	return nfkc;
}

/* part_bytes - the part's content with its transfer encoding decoded */
static GByteArray *
part_bytes(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	GByteArray *bytes = g_byte_array_new();
	GMimeStream *out;

	if (content == NULL)
		return bytes;
	out = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
	g_mime_data_wrapper_write_to_stream(content, out);
	g_object_unref(out);
	return bytes;
}

/* bytes_to_string - n bytes as a NUL-terminated string, inner NULs made
 * spaces so nothing after one is lost to a C string function */
static char *
bytes_to_string(const char *data, gsize n)
{
	char *s = g_malloc(n + 1);

	for (gsize i = 0; i < n; i++)
		s[i] = data[i] == '\0' ? ' ' : data[i];
	s[n] = '\0';
	return s;
}

/* all_ascii - no byte of data[0..n) has the high bit set */
static int
all_ascii(const char *data, gsize n)
{
	for (gsize i = 0; i < n; i++)
		if ((unsigned char)data[i] >= 0x80)
			return 0;
	return 1;
}

/* charset_known - iconv can convert from charset */
static int
charset_known(const char *iconv_name)
{
	GIConv cd = g_iconv_open("UTF-8", iconv_name);

	if (cd == (GIConv)-1)
		return 0;
	g_iconv_close(cd);
	return 1;
}

/* shown - a charset name for a finding: printable ASCII, cut short */
static char *
shown(const char *s)
{
	char *out = g_strndup(s, ITEM_MAX);

	for (char *c = out; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	return out;
}

/*
 * decode_text - a text part's content as UTF-8, falling back from a
 * broken or unknown charset to Latin-1 rather than failing; when the
 * declared charset is unknown (and the text not plain ASCII) or the
 * bytes are not in it, *why_r says so (g_free): what the buyer's mail
 * program shows cannot be known
 */
static char *
decode_text(GMimePart *part, char **why_r)
{
	const char *charset =
		g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
		                                         "charset");
	GByteArray *bytes = part_bytes(part);
	const char *data = (const char *)bytes->data;
	gsize n = bytes->len, written = 0;
	char *converted = NULL, *text;

	*why_r = NULL;
	if (n == 0) {
		g_byte_array_free(bytes, TRUE);
		return g_strdup("");
	}
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		const char *iconv_name = g_mime_charset_iconv_name(charset);
		GError *error = NULL;

		converted = g_convert_with_fallback(data, n, "UTF-8",
		                                    iconv_name, "?", NULL,
		                                    &written, &error);
		if (converted == NULL && !all_ascii(data, n)) {
			char *name = shown(charset);

			if (!charset_known(iconv_name))
				*why_r = rg_strdup_printf("text in the unknown "
				                          "charset \"%s\" cannot "
				                          "be decoded", name);
			else
				*why_r = rg_strdup_printf("text declared as "
				                          "\"%s\" is not valid in "
				                          "it and cannot be "
				                          "decoded", name);
			g_free(name);
		}
		if (error != NULL)
			g_error_free(error);
	}
	if (converted == NULL && g_utf8_validate_len(data, n, NULL))
		text = bytes_to_string(data, n);
	else if (converted == NULL &&
	         (converted = g_convert(data, n, "UTF-8", "ISO-8859-1", NULL,
	                                &written, NULL)) == NULL)
		text = bytes_to_string(data, n); /* made valid later */
	else
		text = bytes_to_string(converted, written);
	g_free(converted);
	g_byte_array_free(bytes, TRUE);
	return text;
}

static int
is_disposition_attachment(GMimeObject *object)
{
	const char *disposition = g_mime_object_get_disposition(object);

	return disposition != NULL &&
	       g_ascii_strcasecmp(disposition,
	                          GMIME_DISPOSITION_ATTACHMENT) == 0;
}

static int
is_attachment(GMimeObject *object, GMimeContentType *type)
{
	if (is_disposition_attachment(object))
		return 1;
	if (g_mime_part_get_filename(GMIME_PART(object)) != NULL)
		return 1;
	return !(g_mime_content_type_is_type(type, "text", "plain") ||
	         g_mime_content_type_is_type(type, "text", "html"));
}

static void
add_attachment(struct walk *w, GMimeObject *object, const char *path)
{
	GMimePart *mime_part = GMIME_PART(object);
	GMimeContentType *type = g_mime_object_get_content_type(object);
	const char *filename = g_mime_part_get_filename(mime_part);
	GByteArray *bytes = part_bytes(mime_part);
	struct rg_part *part = rg_view_add_part(w->view, path,
	                                        RG_PART_ATTACHMENT);
	char *mime = g_mime_content_type_get_mime_type(type);

	part->content_type = g_ascii_strdown(mime, -1);
	g_free(mime);
	part->content_id = g_strdup(g_mime_object_get_content_id(object));
	part->embedded = g_mime_object_get_content_id(object) != NULL &&
		!is_disposition_attachment(object);
	if (filename != NULL)
		part->filename = g_utf8_make_valid(filename, -1);
	part->data_len = bytes->len;
	part->data = g_memdup2(bytes->data, MIN(bytes->len,
	                                        ATTACHMENT_SNIFF_BYTES));
	g_byte_array_free(bytes, TRUE);
	w->view->attachments++;
	w->view->attachment_bytes += part->data_len;
}

/* starts_quote_block - an Outlook-style header of a quoted message */
static int
starts_quote_block(const char *line, size_t len)
{
	static const char *const markers[] = {
		"-----original message-----", "-----ursprüngliche nachricht-----",
		"-----message d'origine-----", "-----mensaje original-----",
		"-----messaggio originale-----",
	};
	char *lower = g_utf8_strdown(line, (gssize)len);
	int found = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(markers) && !found; i++)
		found = strstr(lower, markers[i]) != NULL;
	g_free(lower);
	return found;
}

/* mark_quoted_lines - "> " lines, the attribution line just before them
 * ("On ... wrote:"), and everything after an "Original Message" marker */
static void
mark_quoted_lines(struct rg_part *part)
{
	const char *t = part->text;
	size_t len = part->text_len, prev_start = 0, prev_end = 0;
	int prev_quoted = 0, have_prev = 0;

	for (size_t start = 0; start < len;) {
		const char *nl = memchr(t + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - t) : len;
		size_t i = start;

		while (i < end && (t[i] == ' ' || t[i] == '\t'))
			i++;
		if (starts_quote_block(t + start, end - start)) {
			rg_part_add_quoted(part, start, len);
			return;
		}
		if (i < end && t[i] == '>') {
			/* the attribution line ends with ':' */
			if (!prev_quoted && have_prev && prev_end > prev_start &&
			    t[prev_end - 1] == ':')
				rg_part_add_quoted(part, prev_start, prev_end + 1);
			rg_part_add_quoted(part, start, nl ? end + 1 : end);
			prev_quoted = 1;
		} else {
			prev_quoted = 0;
		}
		if (end > start) {
			prev_start = start;
			prev_end = end;
			have_prev = 1;
		}
		start = end + 1;
	}
}

/* html_stop - the HTML walk asks whether the CPU budget is spent */
static int
html_stop(void *ctx)
{
	return rg_budget_spent(ctx);
}

static void
add_text(struct walk *w, const char *path, enum rg_part_kind kind,
         const char *content_type, char *raw)
{
	size_t max = w->settings->max_text_bytes;
	size_t raw_len = strlen(raw);
	struct rg_part *part;
	size_t len;

	if (raw_len > max) {
		char *why = rg_strdup_printf("limits.max_text_size: decoded "
		                             "text of %zu bytes is over %zu",
		                             raw_len, max);
		uncheckable(w, path, why);
		g_free(why);
		raw[max] = '\0';
	}
	part = rg_view_add_part(w->view, path, kind);
	part->content_type = g_strdup(content_type);
	if (kind == RG_PART_HTML) {
		char *error = NULL, *limit = NULL;
		char *valid = g_utf8_make_valid(raw, -1);
		struct rg_html_limits limits = {
			max, w->settings->max_html_elements,
			w->settings->max_html_depth, html_stop, w->scan
		};

		g_free(raw);
		if (rg_html_render_limited(valid, strlen(valid), &limits, part,
		                           &limit, &error) < 0) {
			uncheckable(w, path, error);
			g_free(error);
			part->text = g_strdup("");
		} else if (limit != NULL) {
			uncheckable(w, path, limit);
			g_free(limit);
		}
		g_free(valid);
		/* rendered text is already NFKC and invisible-free, and
		 * its hidden and quoted ranges are offsets into it */
		if (part->text == NULL)
			part->text = g_strdup("");
		part->text_len = strlen(part->text);
		return;
	}
	/* part->text is freed with free(); GLib allocates with malloc */
	part->text = visible(raw, &len);
	part->text_len = len;
	if (kind == RG_PART_PLAIN) {
		mark_quoted_lines(part);
		/* inline OpenPGP: the buyer reads only what decrypts */
		if (strstr(part->text, "-----BEGIN PGP MESSAGE-----") != NULL)
			uncheckable(w, path, "PGP-encrypted text cannot be "
			            "judged");
	}
}

/* encrypted_type - the content type when it is encrypted (or opaque
 * S/MIME), else NULL */
static const char *
encrypted_type(GMimeObject *object)
{
	static const char *const types[][2] = {
		{ "multipart", "encrypted" },
		{ "application", "pkcs7-mime" },
		{ "application", "x-pkcs7-mime" },
		{ "application", "pgp-encrypted" },
	};
	GMimeContentType *type = g_mime_object_get_content_type(object);

	for (size_t i = 0; type != NULL && i < G_N_ELEMENTS(types); i++)
		if (g_mime_content_type_is_type(type, types[i][0],
		                                types[i][1]))
			return i == 0 ? "multipart/encrypted"
			              : i == 3 ? "application/pgp-encrypted"
			                       : "S/MIME application/pkcs7-mime";
	return NULL;
}

static void
walk_leaf(struct walk *w, GMimeObject *object, const char *path)
{
	GMimeContentType *type = g_mime_object_get_content_type(object);
	char *text, *why = NULL;

	if (is_attachment(object, type)) {
		add_attachment(w, object, path);
		return;
	}
	text = decode_text(GMIME_PART(object), &why);
	if (why != NULL) {
		uncheckable(w, path, why);
		g_free(why);
	}
	if (g_mime_content_type_is_type(type, "text", "html"))
		add_text(w, path, RG_PART_HTML, "text/html", text);
	else
		add_text(w, path, RG_PART_PLAIN, "text/plain", text);
}

static void
walk_multipart(struct walk *w, GMimeMultipart *multipart, const char *path,
               unsigned depth)
{
	int n = g_mime_multipart_get_count(multipart);

	if (n == 0) {
		/* GMime leaves the whole body in the prologue when the
		 * boundary is missing or broken: judge it as text */
		const char *prologue = g_mime_multipart_get_prologue(multipart);
		const char *p = prologue;

		while (p != NULL && g_ascii_isspace(*p))
			p++;
		if (p != NULL && *p != '\0') {
			char *child = *path ? g_strconcat(path, ".prologue", NULL)
			                    : g_strdup("prologue");

			/* with a boundary that never comes, other parsers
			 * may split the body where GMime did not (a
			 * missing boundary is GMime's warning already) */
			if (g_mime_object_get_content_type_parameter(
				    GMIME_OBJECT(multipart), "boundary") != NULL)
				uncheckable(w, *path ? path : "1",
				            "ambiguous MIME: a multipart whose "
				            "boundary never occurs");
			add_text(w, child, RG_PART_PLAIN, "text/plain",
			         g_strdup(prologue));
			g_free(child);
		}
		return;
	}
	for (int i = 0; i < n && !w->stopped; i++) {
		char *child = *path ? rg_strdup_printf("%s.%d", path, i + 1)
		                    : rg_strdup_printf("%d", i + 1);

		walk_object(w, g_mime_multipart_get_part(multipart, i), child,
		            depth + 1);
		g_free(child);
	}
}

static void
walk_object(struct walk *w, GMimeObject *object, const char *path,
            unsigned depth)
{
	const char *encrypted;

	if (object == NULL || w->stopped)
		return;
	if (rg_budget_spent(w->scan)) {
		w->stopped = 1;
		return;
	}
	if (++w->parts > w->settings->max_mime_parts) {
		char *why = rg_strdup_printf("limits.max_mime_parts: more than "
		                             "%u MIME parts",
		                             w->settings->max_mime_parts);
		uncheckable(w, "message", why);
		g_free(why);
		w->stopped = 1;
		return;
	}
	if (depth > w->settings->max_mime_depth) {
		char *why = rg_strdup_printf("limits.max_mime_depth: MIME "
		                             "nesting deeper than %u",
		                             w->settings->max_mime_depth);
		uncheckable(w, path, why);
		g_free(why);
		w->stopped = 1;
		return;
	}
	if ((encrypted = encrypted_type(object)) != NULL) {
		/* nothing inside can be read: not even walked */
		char *why = rg_strdup_printf("encrypted content (%s) cannot "
		                             "be judged", encrypted);

		uncheckable(w, *path ? path : "1", why);
		g_free(why);
		return;
	}
	if (GMIME_IS_MULTIPART(object)) {
		walk_multipart(w, GMIME_MULTIPART(object), path, depth);
		return;
	}
	/* a single-part body is part "1", as in IMAP */
	if (*path == '\0')
		path = "1";
	if (GMIME_IS_MESSAGE_PARTIAL(object)) {
		uncheckable(w, path, "message/partial (one fragment of a "
		            "message) cannot be judged");
	} else if (GMIME_IS_MESSAGE_PART(object)) {
		/* a forwarded message: an attachment, and its text is read */
		GMimeMessage *inner =
			g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
		struct rg_part *part = rg_view_add_part(w->view, path,
		                                        RG_PART_ATTACHMENT);

		part->content_type = g_strdup("message/rfc822");
		part->data = (unsigned char *)g_strdup("");
		w->view->attachments++;
		if (inner != NULL) {
			char *child = rg_strdup_printf("%s.1", path);

			walk_object(w, g_mime_message_get_mime_part(inner), child,
			            depth + 1);
			g_free(child);
		}
	} else if (GMIME_IS_PART(object)) {
		walk_leaf(w, object, path);
	}
}

/* skip_mbox_line - a leading mbox "From " line is not a header */
static size_t
skip_mbox_line(const unsigned char *data, size_t len)
{
	const unsigned char *nl;

	if (len < 5 || memcmp(data, "From ", 5) != 0)
		return 0;
	nl = memchr(data, '\n', len);
	return nl != NULL ? (size_t)(nl - data) + 1 : 0;
}

/* first_address - the first mailbox address of a header, or NULL */
static char *
first_address(InternetAddressList *list)
{
	for (int i = 0; list != NULL && i < internet_address_list_length(list);
	     i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return g_strdup(internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(a)));
	}
	return NULL;
}

static void
add_addresses(struct rg_strlist *out, InternetAddressList *list)
{
	for (int i = 0; list != NULL && i < internet_address_list_length(list);
	     i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			rg_strlist_add(out, internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(a)));
	}
}

/* bare_address - without the angle brackets of an SMTP path */
static char *
bare_address(const char *address)
{
	size_t len;

	if (address == NULL)
		return NULL;
	while (*address == '<' || *address == ' ')
		address++;
	len = strcspn(address, ">");
	return g_strndup(address, len);
}

/* marketplace_of - "amazon.de" for a recipient at marketplace.amazon.de */
static char *
marketplace_of(const char *recipient)
{
	const char *domain = strrchr(recipient, '@');
	char *lower;

	if (domain == NULL)
		return NULL;
	lower = g_ascii_strdown(domain + 1, -1);
	g_strchomp(lower);
	if (g_str_has_prefix(lower, "marketplace.")) {
		char *rest = g_strdup(lower + strlen("marketplace."));

		g_free(lower);
		return rest;
	}
	return lower;
}

/* describe_envelope - who sends to whom: the front's envelope when it
 * gave one, else the headers; the buyer's marketplace; reply or not */
static void
describe_envelope(rg_scan *scan, GMimeMessage *message, struct rg_view *view)
{
	InternetAddressList *from = g_mime_message_get_from(message);
	GMimeObject *object = GMIME_OBJECT(message);
	const char *subject = g_mime_message_get_subject(message);
	GDateTime *date;

	view->from = first_address(from);
	if (scan->has_envelope) {
		view->sender = bare_address(scan->envelope_sender);
		for (size_t i = 0; i < scan->envelope_recipients.count; i++) {
			char *r = bare_address(scan->envelope_recipients.items[i]);

			rg_strlist_add(&view->recipients, r);
			g_free(r);
		}
	} else {
		view->sender = g_strdup(view->from);
		add_addresses(&view->recipients,
		              g_mime_message_get_addresses(message,
		                                           GMIME_ADDRESS_TYPE_TO));
		add_addresses(&view->recipients,
		              g_mime_message_get_addresses(message,
		                                           GMIME_ADDRESS_TYPE_CC));
	}
	for (size_t i = 0; i < view->recipients.count; i++) {
		if (rg_is_relay_address(scan->policy,
		                        view->recipients.items[i])) {
			view->marketplace =
				marketplace_of(view->recipients.items[i]);
			break;
		}
	}
	/* the Date: header for the order rules; 0 when absent or unparsed */
	date = g_mime_message_get_date(message);
	view->date = date != NULL && g_date_time_to_unix(date) > 0
	             ? (time_t)g_date_time_to_unix(date) : 0;
	view->is_reply =
		g_mime_object_get_header(object, "In-Reply-To") != NULL ||
		g_mime_object_get_header(object, "References") != NULL ||
		(subject != NULL &&
		 (g_ascii_strncasecmp(subject, "re:", 3) == 0 ||
		  g_ascii_strncasecmp(subject, "aw:", 3) == 0 ||
		  g_ascii_strncasecmp(subject, "sv:", 3) == 0));
}

/* build_view - parse the stream into view; findings of the walk itself
 * (limits, unparseable parts, ambiguous MIME: the prescan's, ambiguous,
 * first) go into *walk_findings */
static void
build_view(rg_scan *scan, GMimeStream *stream, struct rg_view *view,
           struct rg_result *walk_findings, const char *ambiguous)
{
	struct walk w = { scan, view, &scan->policy->settings, 0, 0 };
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeParserOptions *options = g_mime_parser_options_new();
	struct warnings warnings;
	GMimeMessage *message;

	memset(&warnings, 0, sizeof(warnings));
	g_mime_parser_options_set_warning_callback(options, on_warning,
	                                           &warnings);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	message = g_mime_parser_construct_message(parser, options);
	g_object_unref(parser);
	g_mime_parser_options_free(options);

	memset(walk_findings, 0, sizeof(*walk_findings));
	scan->result = walk_findings;
	if (ambiguous != NULL)
		uncheckable(&w, "message", ambiguous);
	report_warnings(&w, &warnings);
	if (message != NULL &&
	    g_mime_header_list_get_count(
		    g_mime_object_get_header_list(GMIME_OBJECT(message))) == 0) {
		g_object_unref(message);
		message = NULL;
	}
	if (message == NULL) {
		uncheckable(&w, "message", "not a MIME message: no headers");
	} else {
		const char *subject = g_mime_message_get_subject(message);

		describe_envelope(scan, message, view);
		if (subject != NULL)
			add_text(&w, "subject", RG_PART_SUBJECT, "text/plain",
			         g_strdup(subject));
		walk_object(&w, g_mime_message_get_mime_part(message), "", 0);
		g_object_unref(message);
	}
	scan->result = NULL;
}

/* refused - the result of a message not parsed at all: one
 * "uncheckable" finding saying why */
static void
refused(rg_scan *scan, const char *why, struct rg_result *result)
{
	memset(result, 0, sizeof(*result));
	scan->result = result;
	rg_report_at(scan, RG_RULE_UNCHECKABLE, "message", 0, 0, why);
	scan->result = NULL;
}

static int
scan_stream(rg_scan *scan, GMimeStream *stream, const char *ambiguous,
            struct rg_result *result, char **error_r)
{
	struct rg_view view = { 0 };
	struct rg_result walk_findings;
	int rc;

	build_view(scan, stream, &view, &walk_findings, ambiguous);
	rc = rg_scan_view(scan, &view, result, error_r);
	if (rc == 0) {
		/* the walk's findings join the rules' */
		for (size_t i = 0; i < walk_findings.count; i++) {
			struct rg_finding *f = &walk_findings.findings[i];

			result->findings = g_realloc_n(result->findings,
			                               result->count + 1,
			                               sizeof(*f));
			result->findings[result->count++] = *f;
			if (f->action > result->verdict)
				result->verdict = f->action;
		}
		g_free(walk_findings.findings);
	} else {
		rg_result_clear(&walk_findings);
		memset(result, 0, sizeof(*result));
	}
	rg_view_clear(&view);
	return rc;
}

/*
 * admit - what comes before GMime: the size limit, then the prescan of
 * the bytes (data, len: the message after any mbox From_ line; size: the
 * whole).  0 when the message may be parsed (*prescan filled: its
 * ambiguity is reported with the walk's findings), else 1 with *result
 * the refusal.
 */
static int
admit(rg_scan *scan, const unsigned char *data, size_t len, size_t size,
      struct rg_prescan *prescan, struct rg_result *result)
{
	const struct rg_settings *s = &scan->policy->settings;

	memset(prescan, 0, sizeof(*prescan));
	if (size > s->max_message_bytes) {
		char *why = rg_strdup_printf("limits.max_message_size: message "
		                             "of %zu bytes is over %zu", size,
		                             s->max_message_bytes);

		refused(scan, why, result);
		g_free(why);
		return 1;
	}
	rg_prescan(s, data, len, prescan);
	if (prescan->limit != NULL) {
		refused(scan, prescan->limit, result);
		rg_prescan_clear(prescan);
		return 1;
	}
	return 0;
}

int
rg_view_from_message(rg_scan *scan, const unsigned char *data, size_t len,
                     struct rg_view *view)
{
	size_t skip = skip_mbox_line(data, len);
	GMimeStream *stream;
	struct rg_result walk_findings, refusal;
	struct rg_prescan prescan;

	memset(view, 0, sizeof(*view));
	if (admit(scan, data + skip, len - skip, len, &prescan,
	          &refusal) != 0) {
		rg_result_clear(&refusal);
		return -1;
	}
	rg_budget_start(scan);
	stream = g_mime_stream_mem_new_with_buffer((const char *)data + skip,
	                                           len - skip);
	build_view(scan, stream, view, &walk_findings, prescan.ambiguous);
	g_object_unref(stream);
	rg_budget_stop(scan);
	rg_result_clear(&walk_findings);
	rg_prescan_clear(&prescan);
	return 0;
}

int
rg_scan_message(rg_scan *scan, const unsigned char *data, size_t len,
                struct rg_result *result, char **error_r)
{
	GMimeStream *stream;
	struct rg_prescan prescan;
	size_t skip = skip_mbox_line(data, len);
	int rc;

	rg_budget_start(scan);
	if (admit(scan, data + skip, len - skip, len, &prescan, result) != 0) {
		rg_budget_stop(scan);
		return 0;
	}
	stream = g_mime_stream_mem_new_with_buffer((const char *)data + skip,
	                                           len - skip);
	rc = scan_stream(scan, stream, prescan.ambiguous, result, error_r);
	g_object_unref(stream);
	rg_prescan_clear(&prescan);
	rg_budget_stop(scan);
	return rc;
}

int
rg_scan_fd(rg_scan *scan, int fd, struct rg_result *result, char **error_r)
{
	GMimeStream *stream;
	struct stat st;
	struct rg_prescan prescan;
	void *map = NULL;
	size_t size, skip = 0;
	int copy, rc, refuse;

	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		*error_r = rg_strdup_printf("message file: %s", strerror(errno));
		return -1;
	}
	size = (size_t)st.st_size;
	rg_budget_start(scan);
	if (size > scan->policy->settings.max_message_bytes) {
		refuse = admit(scan, NULL, 0, size, &prescan, result);
	} else {
		/* the prescan reads the bytes where they are */
		if (size > 0) {
			map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (map == MAP_FAILED) {
				*error_r = rg_strdup_printf("message file: %s",
				                            strerror(errno));
				rg_budget_stop(scan);
				return -1;
			}
		}
		skip = skip_mbox_line(map, size);
		refuse = admit(scan, (const unsigned char *)map + skip,
		               size - skip, size, &prescan, result);
		if (map != NULL)
			munmap(map, size);
	}
	if (refuse) {
		rg_budget_stop(scan);
		return 0;
	}
	copy = dup(fd);
	if (copy < 0) {
		*error_r = rg_strdup_printf("message file: %s", strerror(errno));
		rg_prescan_clear(&prescan);
		rg_budget_stop(scan);
		return -1;
	}
	/* GMime takes a leading mbox From_ line for no headers at all */
	stream = g_mime_stream_fs_new_with_bounds(copy, (gint64)skip, -1);
	rc = scan_stream(scan, stream, prescan.ambiguous, result, error_r);
	g_object_unref(stream);
	rg_prescan_clear(&prescan);
	rg_budget_stop(scan);
	return rc;
}
