/*
 * test_attachments.c - rule attachment: judged by content first, then
 * name; invoices, manuals and warranty documents of allowed types pass;
 * programs and archives never; count and total size limits.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "testutil.h"

struct attachment {
	const char *filename;      /* NULL: none */
	const char *type;
	const char *disposition;   /* "attachment", "inline" */
	const char *content_id;    /* NULL: none */
	const char *content;
	size_t len;                /* 0: strlen(content) */
};

#define PDF_INVOICE "%PDF-1.4\n1 0 obj << /Title (Invoice 4711) >> endobj\n"
#define PDF_PLAIN "%PDF-1.4\n1 0 obj << /Length 20 >> endobj\n"
#define PE "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
#define ZIP "PK\x03\x04\x14\x00\x00\x00\x08\x00"
#define PNG "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"

static char *
message_with(const struct attachment *list, size_t n)
{
	GString *m = g_string_new(
		"From: s@shop.example\nTo: b@marketplace.amazon.com\n"
		"Subject: Order 111-2222222-3333333\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\n\n"
		"--BOUNDARY\nContent-Type: text/plain\n\nPlease find it attached.\n");

	for (size_t i = 0; i < n; i++) {
		const struct attachment *a = &list[i];
		size_t len = a->len ? a->len : strlen(a->content);
		char *b64 = g_base64_encode((const guchar *)a->content, len);

		g_string_append_printf(m, "--BOUNDARY\nContent-Type: %s\n",
		                       a->type);
		g_string_append_printf(m, "Content-Disposition: %s", a->disposition);
		if (a->filename)
			g_string_append_printf(m, "; filename=\"%s\"", a->filename);
		g_string_append(m, "\n");
		if (a->content_id)
			g_string_append_printf(m, "Content-ID: <%s>\n", a->content_id);
		g_string_append_printf(m, "Content-Transfer-Encoding: base64\n\n"
		                       "%s\n", b64);
		g_free(b64);
	}
	g_string_append(m, "--BOUNDARY--\n");
	return g_string_free(m, FALSE);
}

static const struct {
	const char *name;
	struct attachment a;
	size_t want;
	const char *why;     /* in the excerpt */
} cases[] = {
	{ "invoice pdf by name", { "Rechnung-4711.pdf", "application/pdf",
	  "attachment", NULL, PDF_PLAIN, 0 }, 0, NULL },
	{ "invoice pdf by content", { "4711.pdf", "application/pdf",
	  "attachment", NULL, PDF_INVOICE, 0 }, 0, NULL },
	{ "warranty pdf", { "Warranty_card.pdf", "application/octet-stream",
	  "attachment", NULL, PDF_PLAIN, 0 }, 0, NULL },
	{ "manual as text", { "setup-instructions.txt", "text/plain",
	  "attachment", NULL, "Step 1: open the lid.\n", 0 }, 0, NULL },
	{ "pdf with no purpose", { "catalogue.pdf", "application/pdf",
	  "attachment", NULL, PDF_PLAIN, 0 }, 1, "not an invoice" },
	{ "exe", { "AmpereUpdate_1.3.exe", "application/x-msdownload",
	  "attachment", NULL, PE, 14 }, 1, "a program" },
	{ "program named as an invoice", { "invoice.pdf", "application/pdf",
	  "attachment", NULL, PE, 14 }, 1, "a program" },
	{ "double extension", { "invoice.pdf.exe", "application/pdf",
	  "attachment", NULL, PDF_INVOICE, 0 }, 1, "by its name" },
	{ "zip manual", { "manual.zip", "application/zip", "attachment", NULL,
	  ZIP, 10 }, 1, "an archive" },
	{ "zip named pdf", { "manual.pdf", "application/pdf", "attachment",
	  NULL, ZIP, 10 }, 1, "an archive" },
	{ "script", { "warranty.txt", "text/plain", "attachment", NULL,
	  "#!/bin/sh\nrm -rf /\n", 0 }, 1, "a program" },
	{ "declared pdf, unknown bytes", { "invoice.pdf", "application/pdf",
	  "attachment", NULL, "\x01\x02\x03\x00\x05\x06", 6 }, 1,
	  "does not match" },
	{ "disallowed type", { "invoice.docx", "application/msword",
	  "attachment", NULL, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", 9 }, 1,
	  "not allowed" },
	{ "png of an invoice", { "invoice-scan.png", "image/png", "attachment",
	  NULL, PNG, 16 }, 0, NULL },
	{ "inline cid image is the image rule's", { "photo.png", "image/png",
	  "inline", "photo@shop", PNG, 16 }, 0, NULL },
	{ "gif attachment", { "invoice.gif", "image/gif", "attachment", NULL,
	  "GIF89a\x01\x00\x01\x00", 10 }, 1, "image/gif" },
};

static void
test_cases(void **state)
{
	rg_policy *policy = tu_policy();

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *msg = message_with(&cases[i].a, 1);
		struct rg_result result;
		const struct rg_finding *f;

		tu_scan(policy, msg, &result);
		if (tu_count(&result, RG_RULE_ATTACHMENT) != cases[i].want) {
			tu_dump(&result);
			fail_msg("%s: want %zu attachment findings", cases[i].name,
			         cases[i].want);
		}
		f = tu_first(&result, RG_RULE_ATTACHMENT);
		if (f != NULL && strstr(f->excerpt, cases[i].why) == NULL)
			fail_msg("%s: excerpt \"%s\" lacks \"%s\"", cases[i].name,
			         f->excerpt, cases[i].why);
		if (f != NULL)
			assert_string_equal(f->part, "2");
		rg_result_clear(&result);
		g_free(msg);
	}
	rg_policy_unref(&policy);
}

static void
test_count_and_size_limits(void **state)
{
	struct rg_settings settings;
	struct attachment six[6];
	struct rg_result result;
	rg_policy *policy;
	char *msg;

	(void)state;
	for (size_t i = 0; i < 6; i++)
		six[i] = (struct attachment){ "invoice.pdf", "application/pdf",
		                              "attachment", NULL, PDF_PLAIN, 0 };
	rg_settings_init(&settings);
	settings.max_attachment_bytes = 200;
	policy = tu_policy_from(&settings);
	rg_settings_clear(&settings);

	msg = message_with(six, 6);
	tu_scan(policy, msg, &result);
	/* one finding for the count, one for the size (6 x 40 bytes) */
	assert_int_equal(tu_count(&result, RG_RULE_ATTACHMENT), 2);
	assert_string_equal(tu_first(&result, RG_RULE_ATTACHMENT)->part,
	                    "message");
	rg_result_clear(&result);
	g_free(msg);

	msg = message_with(six, 5);
	tu_scan(policy, msg, &result);
	assert_int_equal(tu_count(&result, RG_RULE_ATTACHMENT), 1);
	assert_non_null(strstr(tu_first(&result, RG_RULE_ATTACHMENT)->excerpt,
	                       "bytes in all"));
	rg_result_clear(&result);
	g_free(msg);
	rg_policy_unref(&policy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_count_and_size_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
