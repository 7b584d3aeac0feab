/*
 * json.h - findings as JSON, the one way every front writes them
 * (relaygate check --json, quarantine list --json, the notice's
 * application/json part).
 */
#ifndef RG_JSON_H
#define RG_JSON_H

#include <glib.h>

#include "relaygate.h"

/* rg_json_string - s as a JSON string; NULL is "", invalid UTF-8 mended */
void rg_json_string(GString *out, const char *s);
/*
 * rg_json_finding - {"rule":..., "action":..., "part":..., "line":...,
 * "column":..., "excerpt":...}; with explain, also "guidance" and
 * "citation" for people who have to fix it.
 */
void rg_json_finding(GString *out, const struct rg_finding *finding,
                     int explain);

#endif
