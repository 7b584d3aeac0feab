/*
 * fuzz_html.c - libFuzzer target: HTML to visible text and links, under
 * element and nesting limits.  The text must be valid UTF-8 within the
 * cap, and an exceeded limit is named.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "html.h"
#include "internal.h"

#define MAX_TEXT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct rg_view view = { 0 };
	struct rg_part *part;
	struct rg_html_limits limits = { MAX_TEXT, 2000, 64, NULL, NULL };
	char *error = NULL, *limit = NULL;

	if (!initialised) {
		rg_engine_init();
		initialised = 1;
	}
	part = rg_view_add_part(&view, "1", RG_PART_HTML);
	/* the limits the engine renders under, smaller: they are hit */
	if (rg_html_render_limited((const char *)data, size, &limits, part,
	                           &limit, &error) < 0) {
		if (limit != NULL)
			abort();
		free(error);
	} else if (limit != NULL && strncmp(limit, "limits.", 7) != 0) {
		abort();
	} else if (part->text != NULL &&
	           (part->text_len > MAX_TEXT ||
	            strlen(part->text) != part->text_len ||
	            !g_utf8_validate(part->text, (gssize)part->text_len,
	                             NULL))) {
		abort();
	}
	free(limit);
	rg_view_clear(&view);
	return 0;
}
