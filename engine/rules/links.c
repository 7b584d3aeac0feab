/* placeholder: being written */
#include "internal.h"
void rg_rules_links(rg_scan *scan, const struct rg_view *view) { (void)scan; (void)view; }
