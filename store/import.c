/*
 * import.c - the seller's order reports into the order store (see
 * import.h for what is accepted).
 *
 * A streaming reader: a buffer of at most RG_IMPORT_MAX_RECORD plus one
 * read, records found with RFC 4180 quoting (a quote opens a quoted field
 * only at the start of a field, so a stray inch mark in a product name is
 * data), split in place, checked whole, and merged into a batch of
 * distinct orders that goes to the store as one transaction.  Memory is
 * the buffer and one batch, whatever the size of the file.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/orders-internal.h"
#include "store/import.h"

#define READ_SIZE (64 * 1024)
/* hash slots per batch: a power of two, at least twice the batch */
#define BATCH_SLOTS 32768

enum column {
	COL_NONE = 0,
	COL_ID,
	COL_PURCHASE,
	COL_DELIVERY,
	COL_ARRIVAL,
	COL_SHIPMENT,
	COL_LOCALE,
	COL_STATUS,
	COL_CHANNEL,
	COL_COUNT
};

/* Header names (lower case, '_' and ' ' read as '-') and their columns. */
static const struct {
	const char *name;
	enum column column;
} column_names[] = {
	{ "amazon-order-id", COL_ID },
	{ "order-id", COL_ID },
	{ "purchase-date", COL_PURCHASE },
	{ "delivery-date", COL_DELIVERY },
	{ "estimated-arrival-date", COL_ARRIVAL },
	{ "shipment-date", COL_SHIPMENT },
	{ "buyer-locale", COL_LOCALE },
	{ "order-status", COL_STATUS },
	{ "sales-channel", COL_CHANNEL },
};

static const char *const column_labels[COL_COUNT] = {
	[COL_ID] = "order id",
	[COL_PURCHASE] = "purchase-date",
	[COL_DELIVERY] = "delivery-date",
	[COL_ARRIVAL] = "estimated-arrival-date",
	[COL_SHIPMENT] = "shipment-date",
	[COL_LOCALE] = "buyer-locale",
	[COL_STATUS] = "order-status",
	[COL_CHANNEL] = "sales-channel",
};

struct reader {
	int fd;
	char *buf;
	size_t cap;
	size_t start, end;      /* unread bytes buf[start, end) */
	int eof;
	unsigned long line;     /* line number of buf[start] */
	char delim;
};

/* A record found: bytes [start, start + len) of the buffer. */
struct record {
	size_t start, len;
	unsigned long line;
	unsigned lines;         /* line breaks inside (quoted) */
};

struct batch {
	struct rg_order_row *rows;
	size_t n;
	int32_t *slots;         /* index + 1 into rows; 0 empty */
};

struct import {
	struct rg_store *store;
	const char *name;
	time_t now;
	rg_import_report_fn report;
	void *ctx;
	struct rg_import_stats *stats;
	struct reader r;
	struct batch batch;
	int col_of[RG_IMPORT_MAX_COLUMNS]; /* field index -> enum column */
	size_t ncols;
	char *fields[RG_IMPORT_MAX_COLUMNS + 1];
};

static void
bad_row(struct import *im, unsigned long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
bad_row(struct import *im, unsigned long line, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	im->stats->skipped++;
	if (im->report != NULL)
		im->report(im->ctx, im->name, line, what);
}

/* ---------------------------------------------------------------- reading */

/*
 * fill - read more into the buffer (moving unread bytes to the front,
 * growing it up to the record limit).  1 read something, 0 end of file,
 * -1 error (errno).
 */
static int
fill(struct reader *r)
{
	ssize_t n;

	if (r->eof)
		return 0;
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	/* one spare byte: fields are NUL-terminated in place */
	if (r->cap - r->end < READ_SIZE + 1) {
		size_t cap = r->end + READ_SIZE + 1;
		char *p;

		if (cap > RG_IMPORT_MAX_RECORD + 2 * READ_SIZE + 1)
			cap = RG_IMPORT_MAX_RECORD + 2 * READ_SIZE + 1;
		if (cap <= r->end + 1) {
			errno = EOVERFLOW;
			return -1;
		}
		if (cap > r->cap) {
			if ((p = realloc(r->buf, cap)) == NULL)
				return -1;
			r->buf = p;
			r->cap = cap;
		}
	}
	do {
		n = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += (size_t)n;
	return 1;
}

/*
 * next_record - the next record's extent.  1 found (consumed from the
 * reader), 0 end of file, -1 read error, -2 a record too long or with an
 * unclosed quote (*rec tells where it started; the caller skips a line).
 */
static int
next_record(struct reader *r, struct record *rec)
{
	size_t pos = 0;            /* relative to r->start */
	unsigned lines = 0;
	int inq = 0, field_start = 1;

	rec->line = r->line;
	for (;;) {
		char c;

		if (r->start + pos >= r->end ||
		    (r->start + pos + 1 >= r->end && !r->eof &&
		     (r->buf[r->start + pos] == '"' ||
		      r->buf[r->start + pos] == '\r'))) {
			/* need more, or one byte of look-ahead */
			int got;

			if (pos > RG_IMPORT_MAX_RECORD)
				return -2;
			got = fill(r);
			if (got < 0)
				return -1;
			if (got > 0)
				continue;
			if (r->start + pos >= r->end) {
				if (inq)
					return -2;
				if (pos == 0)
					return 0;
				rec->start = r->start;
				rec->len = pos;
				rec->lines = lines;
				r->start += pos;
				r->line += lines;
				return 1;
			}
		}
		c = r->buf[r->start + pos];
		if (inq) {
			if (c == '"') {
				if (r->start + pos + 1 < r->end &&
				    r->buf[r->start + pos + 1] == '"')
					pos++;
				else
					inq = 0;
			} else if (c == '\n') {
				lines++;
			}
			pos++;
			continue;
		}
		if (c == '\n' || c == '\r') {
			size_t skip = 1;

			if (c == '\r' && r->start + pos + 1 < r->end &&
			    r->buf[r->start + pos + 1] == '\n')
				skip = 2;
			rec->start = r->start;
			rec->len = pos;
			rec->lines = lines;
			r->start += pos + skip;
			r->line += lines + 1;
			return 1;
		}
		if (c == '"' && field_start)
			inq = 1;
		field_start = c == r->delim;
		pos++;
		if (pos > RG_IMPORT_MAX_RECORD)
			return -2;
	}
}

/*
 * skip_line - after a bad record: drop everything up to and including
 * the next line break from the record's start.  0, or -1 read error.
 */
static int
skip_line(struct reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		char *cr = memchr(r->buf + r->start, '\r', r->end - r->start);

		if (cr != NULL && (nl == NULL || cr < nl))
			nl = cr;
		if (nl != NULL) {
			size_t at = (size_t)(nl - r->buf);

			r->start = at + 1;
			if (*nl == '\r' && r->start < r->end &&
			    r->buf[r->start] == '\n')
				r->start++;
			r->line++;
			return 0;
		}
		r->start = r->end;
		switch (fill(r)) {
		case -1:
			return -1;
		case 0:
			return 0;
		default:
			break;
		}
	}
}

/*
 * split - the record's fields, NUL-terminated in place (quotes removed,
 * doubled quotes made single).  Returns the number of fields, at most
 * max (one more means: too many).
 */
static size_t
split(char *s, size_t len, char delim, char **fields, size_t max)
{
	size_t i = 0, n = 0;

	for (;;) {
		size_t w = i;

		if (n == max + 1)
			return n;
		fields[n++] = s + w;
		if (i < len && s[i] == '"') {
			for (i++; i < len; i++) {
				if (s[i] == '"') {
					if (i + 1 < len && s[i + 1] == '"') {
						s[w++] = '"';
						i++;
						continue;
					}
					i++;
					break;
				}
				s[w++] = s[i];
			}
		}
		/* unquoted, or after a closing quote: data up to delim */
		while (i < len && s[i] != delim)
			s[w++] = s[i++];
		if (i >= len) {
			s[w] = '\0';
			return n;
		}
		s[w] = '\0';
		i++;
	}
}

/* trim - blanks off both ends, in place */
static char *
trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* ---------------------------------------------------------------- batch */

static uint32_t
hash_id(const char *id)
{
	uint32_t h = 2166136261u;      /* FNV-1a */

	for (; *id != '\0'; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h;
}

static int
flush(struct import *im, char **error_r)
{
	struct batch *b = &im->batch;

	if (b->n == 0)
		return 0;
	if (rg_store_upsert(im->store, b->rows, b->n, im->now, error_r) < 0)
		return -1;
	im->stats->orders += b->n;
	im->stats->batches++;
	b->n = 0;
	memset(b->slots, 0, BATCH_SLOTS * sizeof(*b->slots));
	return 0;
}

/* merge - add row to the batch; a repeated order takes the new row's
 * non-empty fields.  0, or -1 when a full batch could not be written. */
static int
merge(struct import *im, const struct rg_order_row *row, char **error_r)
{
	struct batch *b = &im->batch;
	uint32_t i = hash_id(row->order_id) & (BATCH_SLOTS - 1);
	struct rg_order_row *old;

	while (b->slots[i] != 0) {
		old = &b->rows[b->slots[i] - 1];
		if (strcmp(old->order_id, row->order_id) == 0) {
			if (row->purchase != 0)
				old->purchase = row->purchase;
			if (row->delivery != 0)
				old->delivery = row->delivery;
			if (row->estimated_arrival != 0)
				old->estimated_arrival = row->estimated_arrival;
			if (row->shipment != 0)
				old->shipment = row->shipment;
			if (row->locale[0] != '\0')
				memcpy(old->locale, row->locale,
				       sizeof(old->locale));
			if (row->status[0] != '\0')
				memcpy(old->status, row->status,
				       sizeof(old->status));
			if (row->channel[0] != '\0')
				memcpy(old->channel, row->channel,
				       sizeof(old->channel));
			return 0;
		}
		i = (i + 1) & (BATCH_SLOTS - 1);
	}
	b->rows[b->n] = *row;
	b->slots[i] = (int32_t)++b->n;
	if (b->n == RG_IMPORT_BATCH)
		return flush(im, error_r);
	return 0;
}

/* ---------------------------------------------------------------- rows */

/* header_name - a header cell as a lookup key: trimmed, lower case,
 * '_' and ' ' made '-' */
static void
header_name(const char *cell, char *out, size_t size)
{
	size_t o = 0;
	const char *p = cell;

	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p != '\0' && o + 1 < size; p++) {
		char c = (char)tolower((unsigned char)*p);

		out[o++] = c == '_' || c == ' ' ? '-' : c;
	}
	while (o > 0 && out[o - 1] == '-')
		o--;
	out[o] = '\0';
}

/*
 * header - map the header's columns; set the report kind.  0, or -1 with
 * *error_r when it is not an order report.
 */
static int
header(struct import *im, size_t n, unsigned long line, char **error_r)
{
	int have[COL_COUNT] = { 0 };

	if (n > RG_IMPORT_MAX_COLUMNS) {
		*error_r = rg_store_error("%s:%lu: more than %d columns: not an "
		                          "order report", im->name, line,
		                          RG_IMPORT_MAX_COLUMNS);
		return -1;
	}
	im->ncols = n;
	for (size_t i = 0; i < n; i++) {
		char key[64];

		header_name(im->fields[i], key, sizeof(key));
		im->col_of[i] = COL_NONE;
		for (size_t j = 0; j < sizeof(column_names) /
		                       sizeof(column_names[0]); j++) {
			enum column c = column_names[j].column;

			if (strcmp(key, column_names[j].name) == 0 && !have[c]) {
				im->col_of[i] = (int)c;
				have[c] = 1;
				break;
			}
		}
	}
	if (!have[COL_ID]) {
		*error_r = rg_store_error("%s:%lu: not an order report: no "
		                          "amazon-order-id or order_id column",
		                          im->name, line);
		return -1;
	}
	if (!have[COL_PURCHASE] && !have[COL_DELIVERY] && !have[COL_ARRIVAL] &&
	    !have[COL_SHIPMENT] && !have[COL_LOCALE]) {
		*error_r = rg_store_error("%s:%lu: no purchase-date, "
		                          "delivery-date, estimated-arrival-date, "
		                          "shipment-date or buyer_locale column",
		                          im->name, line);
		return -1;
	}
	if (im->r.delim == '\t' && (have[COL_ARRIVAL] || have[COL_SHIPMENT]))
		im->stats->kind = "fulfilled-shipments report";
	else if (im->r.delim == '\t' && (have[COL_STATUS] || have[COL_CHANNEL]))
		im->stats->kind = "all-orders report";
	else if (im->r.delim == ',')
		im->stats->kind = "CSV";
	else
		im->stats->kind = "order report";
	return 0;
}

/* row - one data row: checked whole, then merged; bad rows reported */
static int
row(struct import *im, size_t n, unsigned long line, char **error_r)
{
	struct rg_order_row out;
	int blank = 1;

	for (size_t i = 0; i < n && blank; i++)
		blank = trim(im->fields[i])[0] == '\0';
	if (blank)
		return 0;               /* an empty line, or only delimiters */
	im->stats->rows++;
	/* empty fields past the header's last column (trailing commas) */
	while (n > im->ncols && n <= RG_IMPORT_MAX_COLUMNS &&
	       trim(im->fields[n - 1])[0] == '\0')
		n--;
	if (n > im->ncols) {
		bad_row(im, line, "%s%zu fields, the header has %zu",
		        n > RG_IMPORT_MAX_COLUMNS ? "more than " : "",
		        n > RG_IMPORT_MAX_COLUMNS ? (size_t)RG_IMPORT_MAX_COLUMNS
		                                  : n, im->ncols);
		return 0;
	}
	memset(&out, 0, sizeof(out));
	for (size_t i = 0; i < n; i++) {
		enum column c = (enum column)im->col_of[i];
		char *v = trim(im->fields[i]);
		time_t *t = NULL;

		switch (c) {
		case COL_ID:
			if (v[0] == '\0') {
				bad_row(im, line, "no order id");
				return 0;
			}
			if (strlen(v) != RG_ORDER_ID_SIZE - 1 ||
			    !rg_order_id_valid(v)) {
				bad_row(im, line, "order id \"%.40s\" is not "
				        "NNN-NNNNNNN-NNNNNNN", v);
				return 0;
			}
			memcpy(out.order_id, v, RG_ORDER_ID_SIZE);
			break;
		case COL_PURCHASE: t = &out.purchase; break;
		case COL_DELIVERY: t = &out.delivery; break;
		case COL_ARRIVAL: t = &out.estimated_arrival; break;
		case COL_SHIPMENT: t = &out.shipment; break;
		case COL_LOCALE:
			if (v[0] != '\0' &&
			    rg_locale_normalize(v, out.locale) < 0) {
				bad_row(im, line, "buyer-locale \"%.40s\" is not "
				        "a locale such as de_DE", v);
				return 0;
			}
			break;
		case COL_STATUS:
			rg_store_copy_text(out.status, sizeof(out.status), v);
			break;
		case COL_CHANNEL:
			rg_store_copy_text(out.channel, sizeof(out.channel), v);
			break;
		case COL_NONE:
		case COL_COUNT:
			break;
		}
		if (t != NULL && v[0] != '\0' && rg_parse_date(v, t) < 0) {
			bad_row(im, line, "%s \"%.40s\" is not a date",
			        column_labels[c], v);
			return 0;
		}
	}
	if (out.order_id[0] == '\0') {
		/* the id column is past the row's last field */
		bad_row(im, line, "no order id");
		return 0;
	}
	im->stats->imported++;
	return merge(im, &out, error_r);
}

/*
 * detect - skip a UTF-8 byte order mark, refuse UTF-16, and choose the
 * delimiter from the first line: a tab makes it a flat file, else CSV
 */
static int
detect(struct import *im, char **error_r)
{
	struct reader *r = &im->r;
	const unsigned char *u;
	const char *nl;

	while (!r->eof && (r->end - r->start < 4 ||
	       memchr(r->buf + r->start, '\n', r->end - r->start) == NULL) &&
	       r->end - r->start < RG_IMPORT_MAX_RECORD)
		if (fill(r) < 0) {
			*error_r = rg_store_error("%s: %s", im->name,
			                          strerror(errno));
			return -1;
		}
	u = (const unsigned char *)r->buf + r->start;
	if (r->end - r->start >= 3 && u[0] == 0xef && u[1] == 0xbb &&
	    u[2] == 0xbf) {
		r->start += 3;
		u += 3;
	}
	if (r->end - r->start >= 2 &&
	    ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff))) {
		*error_r = rg_store_error("%s: UTF-16 text: save the report as "
		                          "UTF-8 or as the marketplace exports it",
		                          im->name);
		return -1;
	}
	nl = memchr(r->buf + r->start, '\n', r->end - r->start);
	if (nl == NULL)
		nl = r->buf + r->end;
	r->delim = memchr(r->buf + r->start, '\t',
	                  (size_t)(nl - (r->buf + r->start))) != NULL
	           ? '\t' : ',';
	return 0;
}

int
rg_import_fd(struct rg_store *store, int fd, const char *name, time_t now,
             rg_import_report_fn report, void *ctx,
             struct rg_import_stats *stats, char **error_r)
{
	struct import *im = calloc(1, sizeof(*im));
	int have_header = 0, rc = -1;

	memset(stats, 0, sizeof(*stats));
	stats->kind = "order report";
	if (im == NULL ||
	    (im->batch.rows = calloc(RG_IMPORT_BATCH,
	                             sizeof(*im->batch.rows))) == NULL ||
	    (im->batch.slots = calloc(BATCH_SLOTS,
	                              sizeof(*im->batch.slots))) == NULL) {
		*error_r = rg_store_error("out of memory");
		goto out;
	}
	im->store = store;
	im->name = name;
	im->now = now;
	im->report = report;
	im->ctx = ctx;
	im->stats = stats;
	im->r.fd = fd;
	im->r.line = 1;
	if (detect(im, error_r) < 0)
		goto out;

	for (;;) {
		struct record rec;
		size_t n;
		int got = next_record(&im->r, &rec);

		if (got == 0)
			break;
		if (got == -1) {
			*error_r = rg_store_error("%s:%lu: %s", name, im->r.line,
			                          strerror(errno));
			goto out;
		}
		if (got == -2) {
			if (!have_header) {
				*error_r = rg_store_error("%s:%lu: header row too "
				                          "long or unclosed quote",
				                          name, rec.line);
				goto out;
			}
			stats->rows++;
			bad_row(im, rec.line, "row longer than %d KiB or an "
			        "unclosed quote", RG_IMPORT_MAX_RECORD / 1024);
			if (skip_line(&im->r) < 0) {
				*error_r = rg_store_error("%s: %s", name,
				                          strerror(errno));
				goto out;
			}
			continue;
		}
		n = split(im->r.buf + rec.start, rec.len, im->r.delim,
		          im->fields, RG_IMPORT_MAX_COLUMNS);
		if (!have_header) {
			int empty = 1;

			for (size_t i = 0; i < n && empty; i++)
				empty = trim(im->fields[i])[0] == '\0';
			if (empty)
				continue;       /* blank lines before it */
			if (header(im, n, rec.line, error_r) < 0)
				goto out;
			have_header = 1;
			continue;
		}
		if (row(im, n, rec.line, error_r) < 0)
			goto out;
	}
	if (!have_header) {
		*error_r = rg_store_error("%s: empty file: no header row", name);
		goto out;
	}
	if (flush(im, error_r) < 0)
		goto out;
	rc = 0;
out:
	if (im != NULL) {
		free(im->r.buf);
		free(im->batch.rows);
		free(im->batch.slots);
		free(im);
	}
	return rc;
}
