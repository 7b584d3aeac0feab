/*
 * quarantine.c - the configuration's quarantine group: where held
 * messages are kept and for how long, the notices to senders, how they
 * and released messages reach the local MTA, and who may review.
 *
 *   quarantine: {
 *     store_dir = "/var/lib/relaygate/quarantine";
 *     retention = "30d";
 *     notify = true;
 *     notice_from = "relaygate <postmaster>";
 *     contact = "...";
 *     delivery = "smtp:127.0.0.1:25";     # or "sendmail:/usr/sbin/sendmail"
 *     review_group = "relaygate-review";
 *   };
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "conf/config.h"
#include "conf/loader.h"

#define Q(member) \
	(CFG(quarantine) + offsetof(struct rg_quarantine_config, member))

static const struct key quarantine_keys[] = {
	{ "store_dir", T_STRING, Q(store_dir) },
	{ "retention", T_STRING, Q(retention_text) },
	{ "notify", T_BOOL, Q(notify) },
	{ "notice_from", T_STRING, Q(notice_from) },
	{ "contact", T_STRING, Q(contact) },
	{ "delivery", T_STRING, Q(delivery) },
	{ "review_group", T_STRING, Q(review_group) },
	{ NULL, 0, 0 },
};

int
rg_parse_duration(const char *s, int64_t *seconds_r)
{
	char *end;
	long long n;
	int64_t unit;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || end == s || n < 0 || *s == '-' || *s == '+')
		return -1;
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	if (end[1] != '\0' || n > INT64_MAX / unit / 2)
		return -1;
	*seconds_r = (int64_t)n * unit;
	return 0;
}

/*
 * loopback - 1 when host is a loopback address or "localhost": relaygate
 * hands mail only to the MTA on its own machine
 */
static int
loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (g_ascii_strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/*
 * parse_delivery - "smtp:HOST:PORT" ([::1] for IPv6) or "sendmail:PATH"
 * into q; 0 or -1
 */
static int
parse_delivery(struct rg_quarantine_config *q)
{
	const char *d = q->delivery;

	g_free(q->smtp_host);
	g_free(q->sendmail);
	q->smtp_host = q->sendmail = NULL;
	if (strncmp(d, "sendmail:", 9) == 0) {
		if (d[9] != '/')
			return -1;
		q->delivery_smtp = 0;
		q->sendmail = g_strdup(d + 9);
		return 0;
	}
	if (strncmp(d, "smtp:", 5) == 0) {
		const char *host = d + 5, *colon;
		char *end;
		unsigned long port;

		if (*host == '[') {
			const char *close = strchr(host, ']');

			if (close == NULL || close[1] != ':')
				return -1;
			q->smtp_host = g_strndup(host + 1, close - host - 1);
			colon = close + 1;
		} else {
			colon = strrchr(host, ':');
			if (colon == NULL)
				return -1;
			q->smtp_host = g_strndup(host, colon - host);
		}
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' ||
		    port == 0 || port > 65535 || !loopback(q->smtp_host)) {
			g_free(q->smtp_host);
			q->smtp_host = NULL;
			return -1;
		}
		q->smtp_port = (unsigned)port;
		q->delivery_smtp = 1;
		return 0;
	}
	return -1;
}

void
rg_quarantine_defaults(struct rg_quarantine_config *q)
{
	memset(q, 0, sizeof(*q));
	q->store_dir = g_strdup("/var/lib/relaygate/quarantine");
	q->retention_text = g_strdup("30d");
	q->retention = 30 * 86400;
	q->notify = 1;
	q->notice_from = g_strdup("relaygate <postmaster>");
	q->contact = g_strdup("Reply to this notice to reach your mail "
	                      "administrator.");
	q->delivery = g_strdup("smtp:127.0.0.1:25");
	q->review_group = g_strdup("relaygate-review");
	(void)parse_delivery(q);
}

void
rg_load_quarantine(struct loader *l, config_setting_t *group)
{
	struct rg_quarantine_config *q = &l->config->quarantine;
	config_setting_t *s;

	rg_loader_group(l, group, quarantine_keys, NULL);
	if (l->error != NULL)
		return;
	if (q->store_dir[0] != '/') {
		rg_loader_fail(l, config_setting_get_member(group, "store_dir"),
		               "quarantine.store_dir must be an absolute path");
		return;
	}
	s = config_setting_get_member(group, "retention");
	if (rg_parse_duration(q->retention_text, &q->retention) < 0 ||
	    q->retention <= 0) {
		rg_loader_fail(l, s, "quarantine.retention must be a duration "
		               "such as \"30d\", \"12h\" or \"2w\"");
		return;
	}
	if (q->notice_from[0] == '\0') {
		rg_loader_fail(l, config_setting_get_member(group,
		               "notice_from"), "quarantine.notice_from must "
		               "not be empty");
		return;
	}
	if (parse_delivery(q) < 0)
		rg_loader_fail(l, config_setting_get_member(group, "delivery"),
		               "quarantine.delivery must be \"smtp:HOST:PORT\" "
		               "with a loopback HOST (127.0.0.1, [::1], "
		               "localhost) or \"sendmail:/path/to/sendmail\"");
}

void
rg_quarantine_clear(struct rg_quarantine_config *q)
{
	g_free(q->store_dir);
	g_free(q->retention_text);
	g_free(q->notice_from);
	g_free(q->contact);
	g_free(q->delivery);
	g_free(q->smtp_host);
	g_free(q->sendmail);
	g_free(q->review_group);
	memset(q, 0, sizeof(*q));
}
