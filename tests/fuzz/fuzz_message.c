/*
 * fuzz_message.c - libFuzzer target: the whole engine on one raw message.
 * Every input must give a result or a clean error, and every finding must
 * name a rule, a part and an excerpt.
 *
 * It also holds the prescan (prescan.c) to what it stands for: GLib
 * aborts on a failed allocation, so parts and header fields are counted
 * on the raw bytes before GMime parses them.  The ceiling must hold
 * whatever the input: GMime's own parse of the same bytes makes no more
 * header fields than the lines that could be one, and no more MIME
 * objects than one and two for each of those lines and of the lines that
 * start with "--" (a part and an attached message in it).  With
 * RG_FUZZ_STRICT_PRESCAN=1 the model
 * must count at least what GMime makes too (a miss there is a limit
 * enforced only after parsing, not a memory risk).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rg_policy *policy;
static rg_scan *scan;

struct counts {
	unsigned long objects, fields;
};

static void count_object(GMimeObject *object, struct counts *c, int root);

/* count_message - a message: its header block, then its body */
static void
count_message(GMimeMessage *message, struct counts *c)
{
	c->fields += (unsigned long)g_mime_header_list_get_count(
		g_mime_object_get_header_list(GMIME_OBJECT(message)));
	count_object(g_mime_message_get_mime_part(message), c, 1);
}

/* count_object - GMime's objects as the walk counts them, and the header
 * fields of each part's own block (a message's body shares its block) */
static void
count_object(GMimeObject *object, struct counts *c, int root)
{
	if (object == NULL)
		return;
	c->objects++;
	if (!root)
		c->fields += (unsigned long)g_mime_header_list_get_count(
			g_mime_object_get_header_list(object));
	if (GMIME_IS_MULTIPART(object)) {
		GMimeMultipart *mp = GMIME_MULTIPART(object);

		for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
			count_object(g_mime_multipart_get_part(mp, i), c, 0);
	} else if (GMIME_IS_MESSAGE_PART(object)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
			GMIME_MESSAGE_PART(object));

		if (inner != NULL)
			count_message(inner, c);
	}
}

/* check_prescan - GMime makes no more than the prescan counted */
static void
check_prescan(const uint8_t *data, size_t size)
{
	const struct rg_settings *s = rg_policy_settings(policy);
	struct rg_prescan pre;
	struct counts c = { 0, 0 };
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *message;
	size_t skip = 0;

	if (size >= 5 && memcmp(data, "From ", 5) == 0) {
		const uint8_t *nl = memchr(data, '\n', size);

		skip = nl != NULL ? (size_t)(nl - data) + 1 : 0;
	}
	rg_prescan(s, data + skip, size - skip, &pre);
	if (pre.limit != NULL) {
		rg_prescan_clear(&pre);
		return;
	}
	stream = g_mime_stream_mem_new_with_buffer((const char *)data + skip,
	                                           size - skip);
	parser = g_mime_parser_new_with_stream(stream);
	message = g_mime_parser_construct_message(parser, NULL);
	if (message != NULL) {
		count_message(message, &c);
		g_object_unref(message);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	if (c.fields > pre.field_lines ||
	    c.objects > 1 + 2 * (pre.dash_lines + pre.field_lines)) {
		fprintf(stderr, "prescan ceiling: %lu field lines, %lu dash "
		        "lines; GMime made %lu objects, %lu fields\n",
		        pre.field_lines, pre.dash_lines, c.objects, c.fields);
		abort();
	}
	if (getenv("RG_FUZZ_STRICT_PRESCAN") != NULL &&
	    (c.objects > pre.parts || c.fields > pre.header_fields)) {
		fprintf(stderr, "prescan counted %lu objects, %lu fields; "
		        "GMime made %lu, %lu\n", pre.parts, pre.header_fields,
		        c.objects, c.fields);
		abort();
	}
	rg_prescan_clear(&pre);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rg_result result;
	char *error = NULL;

	if (policy == NULL) {
		struct rg_settings settings;

		rg_engine_init();
		rg_settings_init(&settings);
		policy = rg_policy_build(&settings, &error);
		rg_settings_clear(&settings);
		if (policy == NULL)
			abort();
		scan = rg_scan_new(policy);
	}
	if (rg_scan_message(scan, data, size, &result, &error) < 0) {
		free(error);
		return 0;
	}
	for (size_t i = 0; i < result.count; i++)
		if (result.findings[i].part == NULL ||
		    result.findings[i].excerpt == NULL)
			abort();
	rg_result_clear(&result);
	check_prescan(data, size);
	return 0;
}
