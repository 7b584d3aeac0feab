/*
 * notice.c - the notice to the sending agent when a message is held,
 * released or dropped.
 *
 * A notice is a multipart/report (RFC 6522) so that software can read it
 * as well as people:
 *   1. text/plain: which message (subject, recipients, time), what
 *      happened, every finding with its excerpt, one line of guidance per
 *      rule broken, and whom to contact;
 *   2. application/json: the same, for a help-desk tool to show next to
 *      the agent's draft (report-type "relaygate-findings": RFC 6522 wants
 *      a machine-readable second part, and no registered report type fits
 *      policy findings);
 *   3. text/rfc822-headers: the original message's headers.
 * It goes out with a null envelope sender (MAIL FROM:<>) and
 * "Auto-Submitted: auto-replied" (RFC 3834), never to a relay address and
 * never in reply to a null sender, so it can neither loop nor reach a
 * buyer.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "json.h"
#include "store/quarantine.h"

const char *
rgq_notice_skip(const rg_policy *policy, const char *sender)
{
	char *addr;
	const char *at, *why = NULL;
	size_t len;

	if (sender == NULL)
		return "null sender";
	while (*sender == ' ')
		sender++;
	if (*sender == '<')
		sender++;
	len = strlen(sender);
	if (len > 0 && sender[len - 1] == '>')
		len--;
	if (len == 0)
		return "null sender";
	addr = g_strndup(sender, len);
	at = strrchr(addr, '@');
	if (policy != NULL && rg_is_relay_address(policy, addr))
		why = "a relay address";
	else if (g_ascii_strncasecmp(addr, "mailer-daemon",
	                             at ? (size_t)(at - addr) : len) == 0 &&
	         (at ? (size_t)(at - addr) : len) == 13)
		why = "MAILER-DAEMON";
	g_free(addr);
	return why;
}

size_t
rgq_header_section(const unsigned char *data, size_t len)
{
	size_t n = len < RGQ_NOTICE_HEADERS_MAX ? len : RGQ_NOTICE_HEADERS_MAX;

	for (size_t i = 0; i < n; i++) {
		if (data[i] != '\n')
			continue;
		if (i + 1 < len && data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	return n;
}

/* ------------------------------------------------------------- texts */

static char *
format_time(int64_t t, int iso)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(t);
	char *s;

	if (dt == NULL)
		return g_strdup("?");
	s = iso ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ")
	        : g_date_time_format(dt, "%Y-%m-%d %H:%M:%S UTC");
	g_date_time_unref(dt);
	return s;
}

static const char *
what_happened(const char *kind)
{
	if (strcmp(kind, "released") == 0)
		return "After review, your message was released and delivered "
		       "to its recipients.  The findings below were accepted "
		       "this time; please avoid them in future messages.";
	if (strcmp(kind, "dropped") == 0)
		return "After review, your message was deleted: it will not "
		       "be delivered.  Please correct it as described below "
		       "and send it again.";
	return "Your message has not been delivered: it is held for review "
	       "because it breaks the marketplace's messaging policy.  A "
	       "reviewer will release it or delete it, and you will get "
	       "another notice either way.  You may also correct it as "
	       "described below and send it again.";
}

static const char *
subject_prefix(const char *kind)
{
	if (strcmp(kind, "released") == 0)
		return "Released after review";
	if (strcmp(kind, "dropped") == 0)
		return "Not delivered, deleted after review";
	return "Held for review";
}

/* human_text - the text/plain part */
static char *
human_text(const struct rgq_record *rec, const char *kind,
           const char *reason, const struct rgq_notice_params *params)
{
	GString *t = g_string_new(NULL);
	int seen[RG_RULE_COUNT] = { 0 };
	char *when = format_time(rec->created, 0);
	GString *rcpts = g_string_new(NULL);

	for (size_t i = 0; i < rec->recipients.count; i++)
		g_string_append_printf(rcpts, "%s%s", i ? ", " : "",
		                       rec->recipients.items[i]);

	g_string_append_printf(t, "%s\n\n", what_happened(kind));
	g_string_append_printf(t, "  Subject:    %s\n",
	                       rec->subject && rec->subject[0]
	                       ? rec->subject : "(none)");
	g_string_append_printf(t, "  To:         %s\n", rcpts->str);
	g_string_append_printf(t, "  Sent:       %s\n", when);
	g_string_append_printf(t, "  Reference:  %s\n", rec->id);
	if (reason != NULL && reason[0] != '\0')
		g_string_append_printf(t, "  Reviewer:   %s\n", reason);
	g_string_append_printf(t, "\nWhat relaygate found (%zu):\n",
	                       rec->n_findings);
	for (size_t i = 0; i < rec->n_findings; i++) {
		char *line = rg_finding_describe(&rec->findings[i], 0);

		g_string_append_printf(t, "  %zu. %s\n", i + 1, line);
		g_free(line);
	}
	g_string_append(t, "\nHow to fix it:\n");
	for (size_t i = 0; i < rec->n_findings; i++) {
		rg_rule rule = rec->findings[i].rule;

		if ((unsigned)rule >= RG_RULE_COUNT || seen[rule]++)
			continue;
		g_string_append_printf(t, "  - %s: %s\n", rg_rule_name(rule),
		                       rg_rule_guidance(rule));
	}
	if (params->contact != NULL && params->contact[0] != '\0')
		g_string_append_printf(t, "\nQuestions: %s\n", params->contact);
	g_string_append(t, "\nThe findings are attached as JSON, with the "
	                "headers of your message.\n");
	g_free(when);
	g_string_free(rcpts, TRUE);
	return g_string_free(t, FALSE);
}

/* json_report - the application/json part */
static char *
json_report(const struct rgq_record *rec, const char *kind,
            const char *reason, const struct rgq_notice_params *params)
{
	GString *j = g_string_new("{\"notice\":");
	char *when = format_time(rec->created, 1);

	rg_json_string(j, kind);
	g_string_append(j, ",\"id\":");
	rg_json_string(j, rec->id);
	g_string_append(j, ",\"message\":{\"subject\":");
	rg_json_string(j, rec->subject);
	g_string_append(j, ",\"sender\":");
	rg_json_string(j, rec->sender);
	g_string_append(j, ",\"recipients\":[");
	for (size_t i = 0; i < rec->recipients.count; i++) {
		if (i > 0)
			g_string_append_c(j, ',');
		rg_json_string(j, rec->recipients.items[i]);
	}
	g_string_append(j, "],\"received\":");
	rg_json_string(j, when);
	g_string_append(j, ",\"queue_id\":");
	rg_json_string(j, rec->queue_id);
	g_string_append_printf(j, ",\"size\":%llu},\"verdict\":",
	                       (unsigned long long)rec->size);
	rg_json_string(j, rg_verdict_name(rec->verdict));
	g_string_append(j, ",\"reason\":");
	if (reason != NULL && reason[0] != '\0')
		rg_json_string(j, reason);
	else
		g_string_append(j, "null");
	g_string_append(j, ",\"findings\":[");
	for (size_t i = 0; i < rec->n_findings; i++) {
		if (i > 0)
			g_string_append_c(j, ',');
		rg_json_finding(j, &rec->findings[i], 1);
	}
	g_string_append(j, "],\"contact\":");
	rg_json_string(j, params->contact);
	g_string_append(j, "}\n");
	g_free(when);
	return g_string_free(j, FALSE);
}

/* ------------------------------------------------------------- MIME */

/*
 * part_with - a leaf part of type/subtype holding data, in the encoding
 * that keeps it 7-bit clean
 */
static GMimePart *
part_with(const char *type, const char *subtype, const char *charset,
          const void *data, size_t len)
{
	GMimePart *part = g_mime_part_new_with_type(type, subtype);
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeDataWrapper *wrapper =
	        g_mime_data_wrapper_new_with_stream(stream,
	                                            GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(part, wrapper);
	if (charset != NULL)
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part),
		                                         "charset", charset);
	g_mime_part_set_content_encoding(part,
	        g_mime_part_get_best_content_encoding(part,
	                GMIME_ENCODING_CONSTRAINT_7BIT));
	g_object_unref(wrapper);
	g_object_unref(stream);
	return part;
}

unsigned char *
rgq_notice_compose(const struct rgq_record *rec, const char *kind,
                   const char *reason, const unsigned char *headers,
                   size_t headers_len, const struct rgq_notice_params *params,
                   size_t *len_r)
{
	GMimeMessage *msg = g_mime_message_new(TRUE);
	GMimeMultipart *report = g_mime_multipart_new_with_subtype("report");
	GMimeFormatOptions *fo = g_mime_format_options_new();
	InternetAddressList *from;
	GMimeStream *out;
	GByteArray *bytes;
	GDateTime *date;
	GMimePart *part;
	char *text, *subject, *value, *msgid;
	const char *host = params->hostname && params->hostname[0]
	                   ? params->hostname : "localhost";
	int64_t now = params->now ? params->now : (int64_t)time(NULL);
	unsigned char *result;

	/* the envelope of the notice: From the configured address, To the
	 * original envelope sender */
	from = internet_address_list_parse(NULL, params->from);
	if (from != NULL) {
		internet_address_list_append(g_mime_message_get_from(msg), from);
		g_object_unref(from);
	}
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, NULL,
	                           rec->sender);
	subject = g_strdup_printf("%s: %s", subject_prefix(kind),
	                          rec->subject && rec->subject[0]
	                          ? rec->subject : "(no subject)");
	g_mime_message_set_subject(msg, subject, "utf-8");
	g_free(subject);
	date = g_date_time_new_from_unix_utc(now);
	g_mime_message_set_date(msg, date);
	g_date_time_unref(date);
	msgid = g_strdup_printf("relaygate.%s.%s.%lld@%s", rec->id, kind,
	                        (long long)now, host);
	g_mime_message_set_message_id(msg, msgid);
	g_free(msgid);
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted",
	                         "auto-replied", NULL);
	value = g_strdup_printf("%s; id=%s", kind, rec->id);
	g_mime_object_set_header(GMIME_OBJECT(msg), RGQ_NOTICE_HEADER, value,
	                         NULL);
	g_free(value);

	g_mime_object_set_content_type_parameter(GMIME_OBJECT(report),
	                                         "report-type",
	                                         "relaygate-findings");
	text = human_text(rec, kind, reason, params);
	part = part_with("text", "plain", "utf-8", text, strlen(text));
	g_mime_multipart_add(report, GMIME_OBJECT(part));
	g_object_unref(part);
	g_free(text);
	text = json_report(rec, kind, reason, params);
	part = part_with("application", "json", "utf-8", text, strlen(text));
	g_mime_multipart_add(report, GMIME_OBJECT(part));
	g_object_unref(part);
	g_free(text);
	part = part_with("text", "rfc822-headers", NULL,
	                 headers != NULL ? (const void *)headers : "",
	                 headers != NULL ? headers_len : 0);
	g_mime_multipart_add(report, GMIME_OBJECT(part));
	g_object_unref(part);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(report));
	g_object_unref(report);

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	out = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, out);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	*len_r = bytes->len;
	result = g_memdup2(bytes->data, bytes->len ? bytes->len : 1);
	g_object_unref(out);
	g_mime_format_options_free(fo);
	g_object_unref(msg);
	return result;
}
