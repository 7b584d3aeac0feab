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
	}
	g_free(view->parts);
	memset(view, 0, sizeof(*view));
}
