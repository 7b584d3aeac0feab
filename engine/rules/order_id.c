/*
 * order_id.c - rule order-id: the message must carry the 17-digit order id
 * (NNN-NNNNNNN-NNNNNNN) in its subject or in the text the buyer sees.
 */
#include "config.h"

#include "internal.h"

void
rg_rules_order_id(rg_scan *scan, const struct rg_view *view)
{
	if (!rg_rule_active(scan, RG_RULE_ORDER_ID))
		return;
	for (size_t i = 0; i < view->count; i++) {
		const struct rg_part *part = &view->parts[i];
		size_t start, end;

		if (part->kind == RG_PART_ATTACHMENT || part->text == NULL)
			continue;
		switch (rg_match(scan, RG_PAT_ORDER_ID, part->text,
		                 part->text_len, 0, &start, &end)) {
		case 1:
			return;
		case -1:
			return; /* reported as uncheckable; do not guess */
		default:
			break;
		}
	}
	rg_report_at(scan, RG_RULE_ORDER_ID, "message", 0, 0,
	             "no order id (NNN-NNNNNNN-NNNNNNN) in the subject or "
	             "the body");
}
