/*
 * fuzz_config.c - libFuzzer target: the configuration loader on any
 * file content.  A file either loads (and builds a policy) or gives an
 * error naming the file.
 */
#define _GNU_SOURCE
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "relaygate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct rg_config config;
	char *error = NULL;
	FILE *f;

	/* @include could name any file (/dev/zero): not what is fuzzed here;
	 * only an administrator writes the configuration */
	if (memmem(data, size, "@include", 8) != NULL)
		return 0;
	if (path[0] == '\0') {
		rg_engine_init();
		snprintf(path, sizeof(path), "/tmp/rg-fuzz-conf.%ld",
		         (long)getpid());
	}
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	if (rg_config_load(path, &config, &error) < 0) {
		if (error == NULL || strstr(error, path) != error)
			abort();
		free(error);
	} else {
		rg_policy *policy = rg_policy_build(&config.settings, &error);

		if (policy == NULL)
			free(error);
		rg_policy_unref(&policy);
		rg_config_clear(&config);
	}
	unlink(path);
	return 0;
}
