/*
 * fuzz_release.c - libFuzzer target: the quarantine's release marker on
 * any message bytes, as the milter meets them.  The relaxed digest of a
 * message is the same whole and fed in pieces (split where the input
 * says); a marker value taken from the input never verifies (no MAC
 * without the key); a marker made for the digest verifies once more.
 */
#define _GNU_SOURCE
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "store/quarantine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rgq_store *store;
static char dir[64];

/* remove the store made for this process */
static void
cleanup(void)
{
	GDir *d;
	const char *name;

	rgq_store_close(&store);
	if ((d = g_dir_open(dir, 0, NULL)) == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);

		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			rmdir(path);
		else
			unlink(path);
		g_free(path);
	}
	g_dir_close(d);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char whole[65], pieces[65], id[RGQ_ID_LEN + 1], got[RGQ_ID_LEN + 1];
	rgq_digest *d;
	size_t pos = 0, step = size > 0 ? (size_t)data[0] % 17 + 1 : 1;
	char *value, *why = NULL, *marker;
	const uint8_t *nl;

	if (store == NULL) {
		char *error = NULL;

		snprintf(dir, sizeof(dir), "/tmp/rg-fuzz-release.%ld",
		         (long)getpid());
		store = rgq_store_open(dir, 1, &error);
		if (store == NULL) {
			fprintf(stderr, "%s\n", error);
			abort();
		}
		atexit(cleanup);
	}
	rgq_digest_buffer(data, size, whole);
	d = rgq_digest_new();
	while (pos < size) {
		size_t n = MIN(step, size - pos);

		rgq_digest_update(d, data + pos, n);
		pos += n;
		step = step * 7 % 23 + 1;
	}
	rgq_digest_finish(&d, pieces);
	if (strcmp(whole, pieces) != 0)
		abort();

	/* the first line as a marker header's value */
	nl = memchr(data, '\n', size);
	value = g_strndup((const char *)data, nl ? (size_t)(nl - data) : size);
	if (rgq_marker_verify(store, value, whole, got, &why) == 0)
		abort();
	if (why == NULL)
		abort();
	g_free(why);
	g_free(value);

	rgq_new_id(id);
	marker = rgq_marker_make(store, id, whole);
	if (marker == NULL || rgq_marker_verify(store, marker, whole, got,
	                                        &why) != 0 ||
	    strcmp(got, id) != 0)
		abort();
	g_free(marker);
	return 0;
}
