/*
 * fuzz_import.h - what the order report importer targets share: one
 * SQLite store for the process (a file in /tmp, removed at exit: WAL
 * needs a file), the input as a file (a memfd),
 * optionally after a fixed header row, and the checks: a file is read
 * to its end or refused with an error naming it; every row is counted
 * once (imported or skipped); nothing leaks.
 */
#ifndef RG_FUZZ_IMPORT_H
#define RG_FUZZ_IMPORT_H

#define _GNU_SOURCE
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store/import.h"
#include "store/orders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_import_report(void *ctx, const char *name, unsigned long line,
                   const char *what)
{
	(void)ctx;
	(void)line;
	if (name == NULL || what == NULL || what[0] == '\0')
		abort();
}

static struct rg_store *fuzz_store;
static char fuzz_db[64];

static void
fuzz_import_cleanup(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };

	rg_store_close(&fuzz_store);
	for (size_t i = 0; i < 3; i++) {
		char path[80];

		snprintf(path, sizeof(path), "%s%s", fuzz_db, suffixes[i]);
		unlink(path);
	}
}

/* fuzz_import - header (a first line, or NULL) and data as one file */
static int
fuzz_import(const char *header, const uint8_t *data, size_t size)
{
	struct rg_import_stats stats;
	char *error = NULL;
	int fd, rc;

	if (fuzz_store == NULL) {
		snprintf(fuzz_db, sizeof(fuzz_db), "/tmp/rg-fuzz-import.%ld",
		         (long)getpid());
		if (rg_store_open("sqlite", fuzz_db, RG_STORE_CREATE |
		                  RG_STORE_BULK, &fuzz_store, &error) < 0 ||
		    rg_store_init(fuzz_store, &error) < 0) {
			fprintf(stderr, "%s\n", error);
			abort();
		}
		atexit(fuzz_import_cleanup);
	}
	fd = memfd_create("report", 0);
	if (fd < 0)
		abort();
	if ((header != NULL &&
	     write(fd, header, strlen(header)) != (ssize_t)strlen(header)) ||
	    (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	rc = rg_import_fd(fuzz_store, fd, "fuzz.txt", 1709251200,
	                  fuzz_import_report, NULL, &stats, &error);
	close(fd);
	if (rc < 0) {
		/* refused: the error names the file */
		if (error == NULL || strncmp(error, "fuzz.txt", 8) != 0)
			abort();
		free(error);
		return 0;
	}
	if (stats.imported + stats.skipped != stats.rows ||
	    stats.kind == NULL)
		abort();
	return 0;
}

#endif
