/*
 * rules.c - the rule table: each rule's stable id, the policy text it
 * implements (its citation) and one line of guidance for the sender.
 */
#include "config.h"

#include <string.h>

#include "internal.h"

#define BSM_GUIDELINES \
	"Amazon Seller Central, Communication Guidelines (Buyer-Seller Messaging)"

static const struct rule_info {
	const char *name;
	const char *citation;
	const char *guidance;
} rule_table[RG_RULE_COUNT] = {
	[RG_RULE_ORDER_ID] = {
		"order-id",
		"Proactive messages must relate to an order and carry its "
		"17-digit order id (" BSM_GUIDELINES ").",
		"Put the order id (NNN-NNNNNNN-NNNNNNN) in the subject or the "
		"body.",
	},
	[RG_RULE_EXTERNAL_LINK] = {
		"external-link",
		"Do not include links to external websites; only links to the "
		"marketplace pages needed to complete the order (" BSM_GUIDELINES
		").",
		"Remove the link; point the buyer to their order, returns or "
		"review page on the marketplace instead.",
	},
	[RG_RULE_INSECURE_LINK] = {
		"insecure-link",
		"Links must be secure: https only (" BSM_GUIDELINES ").",
		"Use https:// for every link and image, or remove it.",
	},
	[RG_RULE_EMAIL_ADDRESS] = {
		"email-address",
		"Do not include e-mail addresses (" BSM_GUIDELINES ").",
		"Remove the e-mail address; the buyer can reply through the "
		"marketplace.",
	},
	[RG_RULE_PHONE_NUMBER] = {
		"phone-number",
		"Do not include phone numbers (" BSM_GUIDELINES ").",
		"Remove the phone number; the buyer can reply through the "
		"marketplace.",
	},
	[RG_RULE_EMOJI] = {
		"emoji",
		"Do not use emojis, emoticons or pictographs (" BSM_GUIDELINES
		").",
		"Write it in words: remove emoji and emoticons such as :) or <3.",
	},
	[RG_RULE_ATTACHMENT] = {
		"attachment",
		"Attachments only when needed to complete the order: invoices, "
		"instructions, warranty documents; no more than 5, 10 MB in all "
		"(" BSM_GUIDELINES ").",
		"Attach only an invoice, manual or warranty document as PDF, "
		"JPEG, PNG or text; never programs or archives.",
	},
	[RG_RULE_LINE_BREAKS] = {
		"line-breaks",
		"Do not use more than two line breaks in a row (" BSM_GUIDELINES
		").",
		"Leave at most one empty line between paragraphs.",
	},
	[RG_RULE_UNCHECKABLE] = {
		"uncheckable",
		"relaygate: a message it cannot judge completely is never "
		"passed to a buyer unchecked.",
		"Send a smaller, simpler message: plain text or HTML with at "
		"most a few attachments.",
	},
};

const char *
rg_rule_name(rg_rule rule)
{
	return (unsigned)rule < RG_RULE_COUNT ? rule_table[rule].name : "?";
}

const char *
rg_rule_citation(rg_rule rule)
{
	return (unsigned)rule < RG_RULE_COUNT ? rule_table[rule].citation : "";
}

const char *
rg_rule_guidance(rg_rule rule)
{
	return (unsigned)rule < RG_RULE_COUNT ? rule_table[rule].guidance : "";
}

int
rg_rule_lookup(const char *name, rg_rule *rule_r)
{
	for (unsigned i = 0; i < RG_RULE_COUNT; i++) {
		if (strcmp(rule_table[i].name, name) == 0) {
			*rule_r = (rg_rule)i;
			return 0;
		}
	}
	return -1;
}

static const char *const action_names[] = {
	[RG_ACTION_OFF] = "off",
	[RG_ACTION_WARN] = "warn",
	[RG_ACTION_QUARANTINE] = "quarantine",
	[RG_ACTION_REJECT] = "reject",
};

const char *
rg_action_name(rg_action action)
{
	return (unsigned)action <= RG_ACTION_REJECT ? action_names[action]
	                                             : "?";
}

const char *
rg_verdict_name(rg_action verdict)
{
	return verdict == RG_ACTION_OFF ? "pass" : rg_action_name(verdict);
}

int
rg_action_parse(const char *name, rg_action *action_r)
{
	for (unsigned i = 0; i <= RG_ACTION_REJECT; i++) {
		if (strcmp(action_names[i], name) == 0) {
			*action_r = (rg_action)i;
			return 0;
		}
	}
	return -1;
}
