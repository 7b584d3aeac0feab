/*
 * attachments.c - rule attachment: only invoices, manuals/instructions and
 * warranty documents of an allowed type; executables and archives never;
 * at most max_attachments and max_attachment_bytes in all.
 *
 * An attachment is judged by its content first: the type is sniffed from
 * its leading bytes, and a declared type or a name that disagrees with the
 * content does not help it pass.  Inline images with a Content-ID (cid:)
 * belong to the image rules, not to this one.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <glib.h>

#include "internal.h"

enum sniffed {
	SNIFF_UNKNOWN,
	SNIFF_EXECUTABLE,
	SNIFF_ARCHIVE,
	SNIFF_PDF,
	SNIFF_PNG,
	SNIFF_JPEG,
	SNIFF_GIF,
	SNIFF_TEXT,
};

static const struct magic {
	size_t offset;
	const char *bytes;
	size_t len;
	enum sniffed type;
} magics[] = {
	{ 0, "MZ", 2, SNIFF_EXECUTABLE },                /* DOS/Windows PE */
	{ 0, "\x7f" "ELF", 4, SNIFF_EXECUTABLE },
	{ 0, "\xfe\xed\xfa\xce", 4, SNIFF_EXECUTABLE },  /* Mach-O */
	{ 0, "\xfe\xed\xfa\xcf", 4, SNIFF_EXECUTABLE },
	{ 0, "\xce\xfa\xed\xfe", 4, SNIFF_EXECUTABLE },
	{ 0, "\xcf\xfa\xed\xfe", 4, SNIFF_EXECUTABLE },
	{ 0, "\xca\xfe\xba\xbe", 4, SNIFF_EXECUTABLE },  /* fat / class */
	{ 0, "#!", 2, SNIFF_EXECUTABLE },                /* script */
	{ 0, "PK\x03\x04", 4, SNIFF_ARCHIVE },           /* zip, jar, docx */
	{ 0, "PK\x05\x06", 4, SNIFF_ARCHIVE },
	{ 0, "Rar!\x1a\x07", 6, SNIFF_ARCHIVE },
	{ 0, "7z\xbc\xaf\x27\x1c", 6, SNIFF_ARCHIVE },
	{ 0, "\x1f\x8b", 2, SNIFF_ARCHIVE },             /* gzip */
	{ 0, "BZh", 3, SNIFF_ARCHIVE },
	{ 0, "\xfd" "7zXZ\x00", 6, SNIFF_ARCHIVE },
	{ 0, "MSCF", 4, SNIFF_ARCHIVE },                 /* cab */
	{ 0, "\x28\xb5\x2f\xfd", 4, SNIFF_ARCHIVE },     /* zstd */
	{ 257, "ustar", 5, SNIFF_ARCHIVE },              /* tar */
	{ 0x8001, "CD001", 5, SNIFF_ARCHIVE },           /* ISO 9660 */
	{ 0, "%PDF-", 5, SNIFF_PDF },
	{ 0, "\x89PNG\r\n\x1a\n", 8, SNIFF_PNG },
	{ 0, "\xff\xd8\xff", 3, SNIFF_JPEG },
	{ 0, "GIF87a", 6, SNIFF_GIF },
	{ 0, "GIF89a", 6, SNIFF_GIF },
};

static const char *const sniffed_types[] = {
	[SNIFF_UNKNOWN] = NULL,
	[SNIFF_EXECUTABLE] = "executable",
	[SNIFF_ARCHIVE] = "archive",
	[SNIFF_PDF] = "application/pdf",
	[SNIFF_PNG] = "image/png",
	[SNIFF_JPEG] = "image/jpeg",
	[SNIFF_GIF] = "image/gif",
	[SNIFF_TEXT] = "text/plain",
};

/* Extensions of programs, scripts and archives: never allowed. */
static const char *const forbidden_extensions[] = {
	"exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "msix",
	"appx", "dll", "sys", "cpl", "js", "jse", "vbs", "vbe", "wsf", "wsh",
	"ps1", "psm1", "hta", "jar", "apk", "app", "dmg", "pkg", "deb", "rpm",
	"sh", "bash", "py", "pl", "lnk", "reg", "iso", "img", "vhd", "vhdx",
	"zip", "zipx", "rar", "7z", "gz", "tgz", "bz2", "xz", "zst", "tar",
	"cab", "ace", "arj", "lzh", "z", "docm", "xlsm", "pptm", "one",
};

static enum sniffed
sniff(const struct rg_part *part)
{
	size_t have = MIN(part->data_len, 64 * 1024);

	for (size_t i = 0; i < G_N_ELEMENTS(magics); i++) {
		const struct magic *m = &magics[i];

		if (have >= m->offset + m->len &&
		    memcmp(part->data + m->offset, m->bytes, m->len) == 0)
			return m->type;
	}
	if (have > 0 && memchr(part->data, '\0', have) == NULL &&
	    g_utf8_validate((const char *)part->data, (gssize)have, NULL))
		return SNIFF_TEXT;
	return SNIFF_UNKNOWN;
}

static int
forbidden_name(const char *filename)
{
	const char *dot;

	if (filename == NULL)
		return 0;
	/* every extension counts: "invoice.pdf.exe", "manual.tar.gz" */
	for (dot = strchr(filename, '.'); dot != NULL;
	     dot = strchr(dot + 1, '.')) {
		size_t len = strcspn(dot + 1, ". ");

		for (size_t i = 0; i < G_N_ELEMENTS(forbidden_extensions); i++)
			if (strlen(forbidden_extensions[i]) == len &&
			    g_ascii_strncasecmp(dot + 1, forbidden_extensions[i],
			                        len) == 0)
				return 1;
	}
	return 0;
}

/* has_purpose - the name, or the text of a text/PDF attachment, says it is
 * an invoice, a manual or a warranty document */
static int
has_purpose(const struct rg_strlist *purposes, const struct rg_part *part,
            enum sniffed type)
{
	char *name = part->filename ? g_utf8_casefold(part->filename, -1)
	                            : NULL;
	char *content = NULL;
	int found = 0;

	if (name != NULL)
		g_strdelimit(name, "_-.+", ' ');
	if (type == SNIFF_TEXT || type == SNIFF_PDF) {
		gsize n = MIN(part->data_len, 64 * 1024);
		char *valid = g_utf8_make_valid((const char *)part->data,
		                                (gssize)n);

		content = g_utf8_casefold(valid, -1);
		g_free(valid);
	}
	for (size_t i = 0; i < purposes->count && !found; i++) {
		char *purpose = g_utf8_casefold(purposes->items[i], -1);

		found = (name != NULL && strstr(name, purpose) != NULL) ||
		        (content != NULL && strstr(content, purpose) != NULL);
		g_free(purpose);
	}
	g_free(name);
	g_free(content);
	return found;
}

static void
report(rg_scan *scan, const struct rg_part *part, const char *why)
{
	char *text = rg_strdup_printf("%s: %s",
	                              part->filename ? part->filename
	                                             : part->content_type,
	                              why);

	rg_report_at(scan, RG_RULE_ATTACHMENT, part->path, 0, 0, text);
	g_free(text);
}

static void
check_attachment(rg_scan *scan, const struct rg_part *part)
{
	const struct rg_settings *s = &scan->policy->settings;
	enum sniffed type = sniff(part);
	const char *actual;

	if (type == SNIFF_EXECUTABLE || type == SNIFF_ARCHIVE) {
		report(scan, part, type == SNIFF_EXECUTABLE
		                       ? "a program (by its content)"
		                       : "an archive (by its content)");
		return;
	}
	if (forbidden_name(part->filename)) {
		report(scan, part, "a program or archive (by its name)");
		return;
	}
	actual = sniffed_types[type];
	if (actual == NULL)
		actual = part->content_type;
	if (!rg_strlist_contains_nocase(&s->attachment_types, actual)) {
		char *why = rg_strdup_printf("type %s is not allowed", actual);

		report(scan, part, why);
		g_free(why);
		return;
	}
	if (type == SNIFF_UNKNOWN) {
		report(scan, part, "content does not match any allowed type");
		return;
	}
	if (!has_purpose(&s->attachment_names, part, type))
		report(scan, part, "not an invoice, manual or warranty document");
}

void
rg_rules_attachments(rg_scan *scan, const struct rg_view *view)
{
	const struct rg_settings *s = &scan->policy->settings;
	unsigned count = 0;
	size_t bytes = 0;

	if (!rg_rule_active(scan, RG_RULE_ATTACHMENT))
		return;
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];

		if (part->kind != RG_PART_ATTACHMENT)
			continue;
		if (part->embedded &&
		    g_str_has_prefix(part->content_type, "image/"))
			continue;
		count++;
		bytes += part->data_len;
		check_attachment(scan, part);
	}
	if (count > s->max_attachments) {
		char *why = rg_strdup_printf("%u attachments, more than %u",
		                             count, s->max_attachments);

		rg_report_at(scan, RG_RULE_ATTACHMENT, "message", 0, 0, why);
		g_free(why);
	}
	if (bytes > s->max_attachment_bytes) {
		char *why = rg_strdup_printf("attachments of %zu bytes in all, "
		                             "more than %zu", bytes,
		                             s->max_attachment_bytes);

		rg_report_at(scan, RG_RULE_ATTACHMENT, "message", 0, 0, why);
		g_free(why);
	}
}
