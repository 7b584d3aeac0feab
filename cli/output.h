/*
 * output.h - how `relaygate check` prints a result: for people, or as one
 * JSON object per file (JSON Lines).
 */
#ifndef RG_CLI_OUTPUT_H
#define RG_CLI_OUTPUT_H

#include <stdio.h>

#include "relaygate.h"

void rg_print_human(FILE *out, const char *file,
                    const struct rg_result *result);
void rg_print_json(FILE *out, const char *file,
                   const struct rg_result *result);
/* rg_print_json_error - {"file":..., "error":...} for a file not judged */
void rg_print_json_error(FILE *out, const char *file, const char *error);

#endif
