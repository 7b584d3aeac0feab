/*
 * fuzz_message.c - libFuzzer target: the whole engine on one raw message.
 * Every input must give a result or a clean error, and every finding must
 * name a rule, a part and an excerpt.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "relaygate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rg_policy *policy;
static rg_scan *scan;

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
	return 0;
}
