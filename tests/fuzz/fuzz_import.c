/*
 * fuzz_import.c - libFuzzer target: "relaygate orders import" on any
 * file.  The importer tells the all-orders report, the fulfilled-
 * shipments report and the plain CSV apart by their header row; this
 * target gives it the whole file, header included (seeds: one of each).
 */
#include "fuzz_import.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_import(NULL, data, size);
}
