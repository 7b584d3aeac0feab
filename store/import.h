/*
 * import.h - reading the seller's order reports into the order store.
 *
 * Accepted files, told apart by their header row (columns found by name,
 * case and '-'/'_' ignored, unknown columns ignored):
 *   - the marketplace's all-orders report (tab-separated: amazon-order-id,
 *     purchase-date, order-status, sales-channel, ...)
 *   - its fulfilled-shipments report (tab-separated: amazon-order-id,
 *     shipment-date, estimated-arrival-date, ...)
 *   - a plain CSV: order_id, purchase_date, delivery_date, buyer_locale
 * A UTF-8 byte order mark, CRLF or CR line ends and RFC 4180 quoting
 * (quoted fields with the delimiter, doubled quotes or line breaks) are
 * understood.  A bad row (no or malformed order id, a date that is not a
 * date, too many fields, a bad locale) is reported with its line number
 * and skipped whole; never half imported.  Rows of one order (one per
 * item or shipment) are merged, later non-empty values winning.  Rows go
 * to the store in batches of RG_IMPORT_BATCH, one transaction each, so
 * memory stays bounded whatever the file's size.
 */
#ifndef RG_STORE_IMPORT_H
#define RG_STORE_IMPORT_H

#include <stddef.h>
#include <time.h>

#include "store/orders.h"

/* Rows per store transaction (distinct orders). */
#define RG_IMPORT_BATCH 10000
/* A record (one row, quoted line breaks included) longer is bad. */
#define RG_IMPORT_MAX_RECORD (256 * 1024)
/* Columns in a header, at most. */
#define RG_IMPORT_MAX_COLUMNS 512

struct rg_import_stats {
	const char *kind;            /* "all-orders report", ... */
	unsigned long rows;          /* data rows read (blank lines not) */
	unsigned long imported;      /* rows taken */
	unsigned long skipped;       /* bad rows */
	unsigned long orders;        /* distinct orders written (per batch) */
	unsigned long batches;
};

/*
 * rg_import_report_fn - one bad row: line is the 1-based line where the
 * row starts (0 for the file as a whole).
 */
typedef void (*rg_import_report_fn)(void *ctx, const char *name,
                                    unsigned long line, const char *what);

/*
 * rg_import_fd - read one report from fd (named name in messages) into
 * store, with now as the import time.  Returns 0 when the file was read
 * to its end (bad rows were reported and skipped: see stats->skipped), or
 * -1 with *error_r when it is not an order report, cannot be read, or the
 * store failed (batches written before stay: importing again is safe).
 */
int rg_import_fd(struct rg_store *store, int fd, const char *name,
                 time_t now, rg_import_report_fn report, void *ctx,
                 struct rg_import_stats *stats, char **error_r);

/*
 * rg_parse_date - a report date: "2024-03-01", "2024-03-01T10:00:00",
 * with optional fraction, and a zone "Z", "+01:00", "+0100", "+01",
 * " UTC", " PST", ... (no zone: UTC); a space for the "T" too.  Checks
 * the calendar (no 2023-02-29).  Returns 0 with *t_r, or -1.
 */
int rg_parse_date(const char *s, time_t *t_r);

/* rg_days_from_civil - days since 1970-01-01 of a proleptic Gregorian
 * date (month 1-12) */
long long rg_days_from_civil(long long year, unsigned month, unsigned day);

/*
 * rg_locale_normalize - "de-de", "de_DE", "DE" to "de_DE", "de" (language
 * lower case, region upper case, '_' between).  0, or -1 when s is not a
 * locale (language of 2 or 3 letters, then optional subtags).
 */
int rg_locale_normalize(const char *s, char out[RG_LOCALE_SIZE]);

#endif
