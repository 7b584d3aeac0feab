/*
 * util.c - small helpers: string lists, formatted strings, UTF-8 counts.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "internal.h"

char *
rg_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

size_t
rg_utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

void
rg_strlist_add(struct rg_strlist *list, const char *s)
{
	list->items = g_realloc_n(list->items, list->count + 1,
	                          sizeof(*list->items));
	list->items[list->count++] = g_strdup(s);
}

void
rg_strlist_clear(struct rg_strlist *list)
{
	for (size_t i = 0; i < list->count; i++)
		g_free(list->items[i]);
	g_free(list->items);
	list->items = NULL;
	list->count = 0;
}

int
rg_strlist_contains_nocase(const struct rg_strlist *list, const char *s)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcasecmp(list->items[i], s) == 0)
			return 1;
	return 0;
}
