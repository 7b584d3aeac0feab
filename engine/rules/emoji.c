/* placeholder: being written */
#include "internal.h"
void rg_rules_emoji(rg_scan *scan, const struct rg_view *view) { (void)scan; (void)view; }
