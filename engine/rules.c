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
	[RG_RULE_UNAPPROVED_SENDER] = {
		"unapproved-sender",
		"Messages are accepted only from the e-mail addresses registered "
		"in the seller's account (Seller Central, Buyer-Seller Messaging "
		"settings: approved senders).",
		"Send from an address on the seller's approved sender list, or "
		"add this address there first.",
	},
	[RG_RULE_IMAGE] = {
		"image",
		"Do not include images, GIFs or logos unless needed to complete "
		"the order; do not wrap a logo in a link (" BSM_GUIDELINES ").",
		"Remove decorative images, dividers and logos; keep only an "
		"image the buyer needs for the order.",
	},
	[RG_RULE_TRACKING_PIXEL] = {
		"tracking-pixel",
		"Do not include tracking pixels or web beacons (" BSM_GUIDELINES
		").",
		"Remove the invisible tracking image (1x1 or hidden, or with "
		"tracking parameters); turn off open tracking for buyer mail.",
	},
	[RG_RULE_ACTIVE_CONTENT] = {
		"active-content",
		"Do not include scripts, forms, embedded frames or objects "
		"(" BSM_GUIDELINES ").",
		"Remove scripts, iframes, forms, embedded objects and on* "
		"handlers; send plain text or simple HTML.",
	},
	[RG_RULE_FORMATTING] = {
		"formatting",
		"Do not use centered or re-aligned text, custom fonts, line "
		"heights or colours, more than three font sizes, wide margins or "
		"images over 80% of the width (" BSM_GUIDELINES ").",
		"Send plain left-aligned text: remove font, colour, alignment and "
		"spacing styles.",
	},
	[RG_RULE_HIDDEN_CONTENT] = {
		"hidden-content",
		"Do not include hidden text (" BSM_GUIDELINES ").",
		"Remove text hidden with display:none, tiny fonts or text in the "
		"background colour; the buyer must see everything you send.",
	},
	[RG_RULE_ACCESSIBILITY] = {
		"accessibility",
		"Images need alt text that describes them, without promotion "
		"(" BSM_GUIDELINES ").",
		"Give every image a short alt text that says what it shows, with "
		"no marketing in it.",
	},
	[RG_RULE_SOCIAL_HANDLE] = {
		"social-handle",
		"Do not include social media handles, profile links or messenger "
		"apps (" BSM_GUIDELINES ").",
		"Remove the social media handle, profile link or messenger app.",
	},
	[RG_RULE_OFF_PLATFORM] = {
		"off-platform",
		"Do not steer buyers off the marketplace: no requests to call, "
		"pay outside the marketplace or buy elsewhere (" BSM_GUIDELINES
		").",
		"Keep the conversation and any payment on the marketplace; do "
		"not ask the buyer to call, pay directly or buy elsewhere.",
	},
	[RG_RULE_PROMOTIONAL] = {
		"promotional",
		"Do not include marketing or promotional messaging: coupons, "
		"discounts, other products, newsletters (" BSM_GUIDELINES ").",
		"Remove coupons, discounts, product recommendations and "
		"newsletter mentions; write only about this order.",
	},
	[RG_RULE_REVIEW_INCENTIVE] = {
		"review-incentive",
		"Do not offer money, refunds, gift cards, free or discounted "
		"products or other incentives for a review (Amazon Community "
		"Guidelines; " BSM_GUIDELINES ").",
		"Remove anything offered in return for a review; a review "
		"request must be neutral and unconditional.",
	},
	[RG_RULE_REVIEW_MANIPULATION] = {
		"review-manipulation",
		"Do not ask for positive reviews, ask only satisfied buyers, "
		"divert unhappy buyers from reviewing, or ask to change or "
		"remove a review (Amazon Community Guidelines).",
		"Ask for an honest review of every buyer, in neutral words; "
		"never ask to change or remove one.",
	},
	[RG_RULE_THANK_YOU_ONLY] = {
		"thank-you-only",
		"Do not send messages that only thank the buyer or offer generic "
		"help without a purpose needed to complete the order "
		"(" BSM_GUIDELINES ").",
		"Send a message only when the order needs it, and say what it "
		"is for (delivery, return, invoice, a question about the order).",
	},
	[RG_RULE_ORDER_CONFIRMATION] = {
		"order-confirmation",
		"Do not duplicate the marketplace's order, shipping or delivery "
		"confirmations (" BSM_GUIDELINES ").",
		"Do not send order, shipping or delivery confirmations; the "
		"marketplace already sends them.",
	},
	[RG_RULE_OPT_OUT] = {
		"opt-out",
		"Do not include opt-out or unsubscribe links or text; the buyer "
		"opts out on the marketplace (" BSM_GUIDELINES ").",
		"Remove the opt-out or unsubscribe text or link.",
	},
	[RG_RULE_SUBJECT_MISUSE] = {
		"subject-misuse",
		"Do not mark messages [Important] or use \"Additional "
		"Information Required\" unless information is really required "
		"(" BSM_GUIDELINES ").",
		"Write a plain subject about the order; use \"Additional "
		"Information Required\" only when you ask for something.",
	},
	[RG_RULE_SENSITIVE_CONTENT] = {
		"sensitive-content",
		"Do not use profane, adult or offensive language (" BSM_GUIDELINES
		").",
		"Remove the offensive word.",
	},
	[RG_RULE_LANGUAGE] = {
		"language",
		"Write in the buyer's language: their preference, else the "
		"marketplace's (" BSM_GUIDELINES ").",
		"Write the message in the buyer's language (the marketplace's "
		"language unless the buyer chose another).",
	},
	[RG_RULE_SPELLING] = {
		"spelling",
		"Messages should be free of spelling mistakes (" BSM_GUIDELINES
		").",
		"Correct the misspelt words.",
	},
	[RG_RULE_MESSAGE_WINDOW] = {
		"message-window",
		"Proactive messages may be sent only within 30 days of the "
		"order (" BSM_GUIDELINES ").",
		"Do not contact the buyer about an order more than 30 days old; "
		"answer their messages instead.",
	},
	[RG_RULE_REVIEW_TIMING] = {
		"review-timing",
		"A review or feedback request may be sent only 5 to 30 days "
		"after the order was delivered (" BSM_GUIDELINES "; Request a "
		"Review).",
		"Send the review request between day 5 and day 30 after "
		"delivery, or not at all.",
	},
	[RG_RULE_REVIEW_REPEAT] = {
		"review-repeat",
		"Request a review or seller feedback at most once per order "
		"(" BSM_GUIDELINES "; Amazon Community Guidelines).",
		"This order already had a review request: do not ask again.  "
		"(Requests made with the marketplace's Request a Review button "
		"are not visible to relaygate.)",
	},
	[RG_RULE_UNKNOWN_ORDER] = {
		"unknown-order",
		"relaygate: the order rules (message-window, review-timing, "
		"review-repeat) need the order in the seller's order store; "
		"they are skipped for an order it does not know.",
		"Check the order id, or import the latest order reports "
		"(relaygate orders import).",
	},
	[RG_RULE_UNCHECKABLE] = {
		"uncheckable",
		"relaygate: a message it cannot judge completely is never "
		"passed to a buyer unchecked.",
		"Send a smaller, simpler message: plain text or HTML, not "
		"encrypted, from an ordinary mail program, with at most a few "
		"attachments.",
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

/* A message that passes and one that breaks each rule, for --explain. */
static const struct rule_example {
	const char *passes;
	const char *breaks;
} examples[RG_RULE_COUNT] = {
	[RG_RULE_ORDER_ID] = {
		"Subject: Delivery time for order 302-1234567-7654321",
		"Subject: Your delivery  (no order id anywhere)" },
	[RG_RULE_EXTERNAL_LINK] = {
		"https://www.amazon.de/gp/your-account/order-details?orderID=...",
		"See our care guide at https://www.ourshop.example/care" },
	[RG_RULE_INSECURE_LINK] = {
		"https://www.amazon.co.uk/returns",
		"http://www.amazon.co.uk/returns" },
	[RG_RULE_EMAIL_ADDRESS] = {
		"Reply to this message if anything is missing.",
		"Write to support@ourshop.example if anything is missing." },
	[RG_RULE_PHONE_NUMBER] = {
		"6 skeins from dye lot 44718, order 113-2904417-6658012",
		"Call us on +44 20 7946 0958." },
	[RG_RULE_EMOJI] = {
		"Thank you, we will ship it on Monday. (c) Ourshop",
		"Thank you :) we will ship it on Monday \xf0\x9f\x8e\x81" },
	[RG_RULE_ATTACHMENT] = {
		"Invoice-4711.pdf (a PDF)",
		"AmpereUpdate.exe, or manual.zip, or photo.gif" },
	[RG_RULE_LINE_BREAKS] = {
		"Hello,<blank line>The parcel left today.",
		"Hello,<blank line><blank line><blank line>The parcel left today." },
	[RG_RULE_UNAPPROVED_SENDER] = {
		"From: care@ourshop.example (on the approved sender list)",
		"From: marketing@ourshop.example (not on the list)" },
	[RG_RULE_IMAGE] = {
		"Plain text, or HTML without images",
		"<img src=\"cid:divider.gif\" alt=\"divider\">" },
	[RG_RULE_TRACKING_PIXEL] = {
		"No remote images",
		"<img src=\"https://mail.ourshop.example/o.php?id=7a91\" width=1 "
		"height=1>" },
	[RG_RULE_ACTIVE_CONTENT] = {
		"<a href=\"https://www.amazon.com/...\">your order</a>",
		"<iframe src=\"https://player.example/v/1\"></iframe>, <script>, "
		"<form>, onclick=" },
	[RG_RULE_FORMATTING] = {
		"<b>bold</b> words and a numbered list",
		"<p style=\"font-family: Comic Sans; color: #ff0000; "
		"text-align: center\">" },
	[RG_RULE_HIDDEN_CONTENT] = {
		"Everything the buyer can read",
		"<div style=\"display:none\">support@ourshop.example</div>" },
	[RG_RULE_ACCESSIBILITY] = {
		"<img src=\"cid:damage.jpg\" alt=\"Photo of the cracked lid\">",
		"<img src=\"cid:photo.jpg\">, or alt=\"SALE 50% off\"" },
	[RG_RULE_SOCIAL_HANDLE] = {
		"Reply here with a photo of the label.",
		"Follow us on Instagram @ourshop" },
	[RG_RULE_OFF_PLATFORM] = {
		"You can start a return from Your Orders.",
		"Pay us by PayPal, or buy refills on our website." },
	[RG_RULE_PROMOTIONAL] = {
		"Your replacement lid ships today.",
		"Use code SAVE10 for 10% off your next order." },
	[RG_RULE_REVIEW_INCENTIVE] = {
		"If you have a moment, please leave a review of your purchase.",
		"Leave a review and we will refund your postage." },
	[RG_RULE_REVIEW_MANIPULATION] = {
		"Please share your honest experience in a review.",
		"If you are happy, please leave us a 5-star review." },
	[RG_RULE_THANK_YOU_ONLY] = {
		"Thank you for your order; which colour would you like?",
		"Thank you for your order! Let us know if you need anything." },
	[RG_RULE_ORDER_CONFIRMATION] = {
		"Could you confirm the delivery address for your order?",
		"Your order has shipped! Tracking: 1Z999AA10123456784" },
	[RG_RULE_OPT_OUT] = {
		"Reply if you have questions about the fitting.",
		"Reply STOP to stop receiving these messages." },
	[RG_RULE_SUBJECT_MISUSE] = {
		"Subject: [Ticket #4411] Size of order 302-1234567-7654321",
		"Subject: [Important] Your order 302-1234567-7654321" },
	[RG_RULE_SENSITIVE_CONTENT] = {
		"The blue tits and great tits love the nest box.",
		"(a profanity)" },
	[RG_RULE_LANGUAGE] = {
		"Italian text to a buyer at marketplace.amazon.it",
		"English text to a buyer at marketplace.amazon.it" },
	[RG_RULE_SPELLING] = {
		"We apologise for the inconvenience.",
		"We apologise for the inconvinience." },
	[RG_RULE_MESSAGE_WINDOW] = {
		"A delivery question 6 days after the purchase",
		"A proactive message 41 days after the purchase" },
	[RG_RULE_REVIEW_TIMING] = {
		"Please leave a review of your purchase (day 9 after delivery)",
		"Please leave a review of your purchase (day 2 after delivery)" },
	[RG_RULE_REVIEW_REPEAT] = {
		"The first review request for order 302-1234567-7654321",
		"A second review request for order 302-1234567-7654321" },
	[RG_RULE_UNKNOWN_ORDER] = {
		"Order 302-1234567-7654321, imported from today's order report",
		"Order 302-1234567-7654321, in no imported order report" },
	[RG_RULE_UNCHECKABLE] = {
		"A MIME message within the size and part limits",
		"A 30 MB message, a message/partial fragment, two different "
		"Content-Type headers, or an encrypted (PGP, S/MIME) body" },
};

const char *
rg_rule_example(rg_rule rule, int breaks)
{
	if ((unsigned)rule >= RG_RULE_COUNT)
		return "";
	return breaks ? examples[rule].breaks : examples[rule].passes;
}
