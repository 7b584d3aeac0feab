/*
 * fuzz_html.c - libFuzzer target: HTML to visible text and links.  The
 * text must be valid UTF-8 within the cap.
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
	char *error = NULL;

	if (!initialised) {
		rg_engine_init();
		initialised = 1;
	}
	part = rg_view_add_part(&view, "1", RG_PART_HTML);
	if (rg_html_render((const char *)data, size, MAX_TEXT, part,
	                   &error) < 0) {
		free(error);
	} else if (part->text != NULL &&
	           (part->text_len > MAX_TEXT ||
	            strlen(part->text) != part->text_len ||
	            !g_utf8_validate(part->text, (gssize)part->text_len,
	                             NULL))) {
		abort();
	}
	rg_view_clear(&view);
	return 0;
}
