/*
 * sender.c - rule unapproved-sender: the marketplace accepts buyer mail
 * only from the addresses the seller registered, so the envelope sender
 * and the From: address must both be on the approved list ("@domain"
 * entries approve a whole domain).  With no list configured the rule has
 * nothing to compare with and stays silent.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <glib.h>

#include "internal.h"

static int
approved(const struct rg_strlist *list, const char *address)
{
	const char *at = strrchr(address, '@');

	for (size_t i = 0; i < list->count; i++) {
		const char *entry = list->items[i];

		if (entry[0] == '@') {
			if (at != NULL && strcasecmp(at, entry) == 0)
				return 1;
		} else if (strcasecmp(entry, address) == 0) {
			return 1;
		}
	}
	return 0;
}

static void
check(rg_scan *scan, const char *what, const char *address)
{
	char *why;

	/* a null envelope sender (a bounce) has no address to judge */
	if (address == NULL || *address == '\0')
		return;
	if (approved(&scan->policy->settings.approved_senders, address))
		return;
	why = rg_strdup_printf("%s %s is not an approved sender", what,
	                       address);
	rg_report_at(scan, RG_RULE_UNAPPROVED_SENDER, "message", 0, 0, why);
	g_free(why);
}

void
rg_rules_sender(rg_scan *scan, const struct rg_view *view)
{
	if (!rg_rule_active(scan, RG_RULE_UNAPPROVED_SENDER) ||
	    scan->policy->settings.approved_senders.count == 0)
		return;
	check(scan, "envelope sender", view->sender);
	if (view->from != NULL &&
	    (view->sender == NULL || strcasecmp(view->from, view->sender) != 0))
		check(scan, "From:", view->from);
}
