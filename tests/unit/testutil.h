/*
 * testutil.h - shared helpers for the cmocka tests: a policy from the
 * defaults, messages built in memory and scanned by the real engine, and
 * lookups in the findings.
 */
#ifndef RG_TESTUTIL_H
#define RG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "relaygate.h"

/* tu_policy - a policy from rg_settings_init defaults; fails the test if
 * it cannot be built.  Release with rg_policy_unref. */
rg_policy *tu_policy(void);
/* tu_policy_from - the same from given settings */
rg_policy *tu_policy_from(const struct rg_settings *settings);

/* tu_scan - scan a complete message (headers, blank line, body; "\n" line
 * ends are fine) with policy; fails the test on an engine error. */
void tu_scan(rg_policy *policy, const char *message, struct rg_result *out);

/* tu_scan_plain - a text/plain UTF-8 message to a relay address whose
 * subject names order 111-2222222-3333333 unless subject is given. */
void tu_scan_plain(rg_policy *policy, const char *subject, const char *body,
                   struct rg_result *out);
/* tu_scan_html - a text/html UTF-8 message, otherwise as tu_scan_plain */
void tu_scan_html(rg_policy *policy, const char *subject, const char *html,
                  struct rg_result *out);

/* tu_count - findings of rule in result */
size_t tu_count(const struct rg_result *result, rg_rule rule);
/* tu_first - the first finding of rule, or NULL */
const struct rg_finding *tu_first(const struct rg_result *result,
                                  rg_rule rule);
/* tu_dump - print the findings (for a failing test's log) */
void tu_dump(const struct rg_result *result);

/* tu_shared - path of a file under ../shared (or $RG_SHARED_DIR), or NULL
 * if it is absent (the caller skips with a clear message). free() it. */
char *tu_shared(const char *relative);
/* tu_read_file - whole file into memory; fails the test on error */
unsigned char *tu_read_file(const char *path, size_t *len_r);

#endif
