/*
 * orders_dates.c - the dates of order reports, to Unix time, without the C
 * library's time zone state (no TZ, no timegm): the calendar arithmetic
 * is done here and zone offsets are applied by hand.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/import.h"

/* Zone names seen in marketplace reports, with their offsets in minutes. */
static const struct {
	const char *name;
	int minutes;
} zones[] = {
	{ "UTC", 0 }, { "GMT", 0 }, { "Z", 0 }, { "UT", 0 },
	{ "PST", -8 * 60 }, { "PDT", -7 * 60 },
	{ "MST", -7 * 60 }, { "MDT", -6 * 60 },
	{ "CST", -6 * 60 }, { "CDT", -5 * 60 },
	{ "EST", -5 * 60 }, { "EDT", -4 * 60 },
	{ "BST", 60 }, { "CET", 60 }, { "CEST", 120 },
	{ "JST", 9 * 60 }, { "IST", 5 * 60 + 30 },
	{ "AEST", 10 * 60 }, { "AEDT", 11 * 60 },
};

long long
rg_days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era, yoe, doy, doe;

	/* H. Hinnant's days_from_civil: March-based years, 400-year eras */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static unsigned
days_in_month(long long y, unsigned m)
{
	static const unsigned char days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* digits - exactly n digits at *p into *v; advances *p.  0 or -1 */
static int
digits(const char **p, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* zone - an offset after the time: Z, +HH:MM, +HHMM, +HH, or a name
 * (after optional blanks).  *minutes_r east of UTC.  0 or -1 */
static int
zone(const char *p, int *minutes_r)
{
	unsigned hh, mm = 0;
	int sign;

	*minutes_r = 0;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (digits(&p, 2, &hh) < 0)
			return -1;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char)*p) && digits(&p, 2, &mm) < 0)
			return -1;
		if (*p != '\0' || hh > 14 || mm > 59)
			return -1;
		*minutes_r = sign * (int)(hh * 60 + mm);
		return 0;
	}
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strcasecmp(p, zones[i].name) == 0) {
			*minutes_r = zones[i].minutes;
			return 0;
		}
	}
	return -1;
}

int
rg_parse_date(const char *s, time_t *t_r)
{
	char buf[64];
	const char *p;
	unsigned year, month, day, hh = 0, mi = 0, ss = 0;
	int offset = 0;
	size_t n;
	char sep;
	long long days, t;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	p = buf;

	if (digits(&p, 4, &year) < 0 || (*p != '-' && *p != '/'))
		return -1;
	sep = *p++;
	if (digits(&p, 2, &month) < 0 || *p++ != sep ||
	    digits(&p, 2, &day) < 0)
		return -1;
	if (year < 1970 || month < 1 || month > 12 || day < 1 ||
	    day > days_in_month(year, month))
		return -1;
	if ((*p == 'T' || *p == 't' || *p == ' ') &&
	    isdigit((unsigned char)p[1])) {
		p++;
		if (digits(&p, 2, &hh) < 0 || *p++ != ':' ||
		    digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &ss) < 0)
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
		if (hh > 23 || mi > 59 || ss > 60)
			return -1;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		offset = 0;
	else if (zone(p, &offset) < 0)
		return -1;
	days = rg_days_from_civil(year, month, day);
	t = days * 86400 + hh * 3600 + mi * 60 + ss - (long long)offset * 60;
	if (t <= 0 || (long long)(time_t)t != t)
		return -1;
	*t_r = (time_t)t;
	return 0;
}

int
rg_locale_normalize(const char *s, char out[RG_LOCALE_SIZE])
{
	size_t o = 0, part = 0, len = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (;; s++) {
		char c = *s;

		if (c == '\0' || c == ' ' || c == '\t' || c == '_' || c == '-') {
			/* a subtag ends: language 2-3 letters, then 2-8 */
			if (part == 0 ? (len < 2 || len > 3)
			              : (len < 2 || len > 8))
				return -1;
			if (c == '_' || c == '-') {
				if (o + 1 >= RG_LOCALE_SIZE)
					return -1;
				out[o++] = '_';
				part++;
				len = 0;
				continue;
			}
			while (*s == ' ' || *s == '\t')
				s++;
			if (*s != '\0')
				return -1;
			break;
		}
		if (!isalnum((unsigned char)c) ||
		    (part == 0 && !isalpha((unsigned char)c)) ||
		    o + 1 >= RG_LOCALE_SIZE)
			return -1;
		/* de_DE: language lower case, a 2-letter region upper case */
		out[o++] = part == 0 ? (char)tolower((unsigned char)c)
		         : part == 1 ? (char)toupper((unsigned char)c) : c;
		len++;
	}
	out[o] = '\0';
	return 0;
}
