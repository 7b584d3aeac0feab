/*
 * view.c - the view of a message: its parts as the buyer sees them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

struct rg_part *
rg_view_add_part(struct rg_view *view, const char *path,
                 enum rg_part_kind kind)
{
	struct rg_part *part;

	if (view->count == view->capacity) {
		view->capacity = view->capacity ? view->capacity * 2 : 8;
		view->parts = g_realloc_n(view->parts, view->capacity,
		                          sizeof(*view->parts));
	}
	part = &view->parts[view->count++];
	memset(part, 0, sizeof(*part));
	part->path = g_strdup(path);
	part->kind = kind;
	return part;
}

void
rg_part_add_link(struct rg_part *part, const char *url, size_t len,
                 enum rg_link_origin origin)
{
	struct rg_link *link;

	part->links = g_realloc_n(part->links, part->n_links + 1,
	                          sizeof(*part->links));
	link = &part->links[part->n_links++];
	link->url = g_strndup(url, len);
	link->origin = origin;
}

void
rg_view_clear(struct rg_view *view)
{
	for (size_t i = 0; i < view->count; i++) {
		struct rg_part *part = &view->parts[i];

		g_free(part->path);
		g_free(part->content_type);
		g_free(part->filename);
		free(part->text);
		for (size_t j = 0; j < part->n_links; j++)
			g_free(part->links[j].url);
		g_free(part->links);
		g_free(part->data);
		g_free(part->quoted);
		rg_html_facts_free(&part->html);
		g_free(part->content_id);
	}
	g_free(view->parts);
	g_free(view->sender);
	g_free(view->from);
	g_free(view->marketplace);
	rg_strlist_clear(&view->recipients);
	memset(view, 0, sizeof(*view));
}

void
rg_part_add_quoted(struct rg_part *part, size_t start, size_t end)
{
	if (end <= start)
		return;
	/* adjacent or overlapping the last range: extend it */
	if (part->n_quoted > 0 &&
	    start <= part->quoted[part->n_quoted - 1].end) {
		if (end > part->quoted[part->n_quoted - 1].end)
			part->quoted[part->n_quoted - 1].end = end;
		return;
	}
	part->quoted = g_realloc_n(part->quoted, part->n_quoted + 1,
	                           sizeof(*part->quoted));
	part->quoted[part->n_quoted].start = start;
	part->quoted[part->n_quoted].end = end;
	part->n_quoted++;
}

int
rg_part_is_quoted(const struct rg_part *part, size_t offset)
{
	size_t lo = 0, hi = part->n_quoted;

	/* ranges are added in text order */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (offset < part->quoted[mid].start)
			hi = mid;
		else if (offset >= part->quoted[mid].end)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int
rg_part_is_text(const struct rg_part *part)
{
	return part->kind == RG_PART_SUBJECT || part->kind == RG_PART_PLAIN ||
	       part->kind == RG_PART_HTML;
}
