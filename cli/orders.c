/*
 * orders.c - relaygate orders: the order store behind the order rules.
 *
 *   relaygate orders [-c CONFIG] init
 *   relaygate orders [-c CONFIG] import [-q] [--done DIR] FILE|DIR|-...
 *   relaygate orders [-c CONFIG] show [--json] ORDER-ID...
 *   relaygate orders [-c CONFIG] stats [--json]
 *   relaygate orders [-c CONFIG] forget-review ORDER-ID...
 *
 * The store is the configuration's orders group (SQLite by default).  Run
 * as root, the command acts as the owner of the SQLite file (or of its
 * directory), so that the files it creates stay writable for
 * relaygate-milter; files to import are opened before that.
 *
 * Exit: 0 done; 1 some rows skipped (import), an order not found (show,
 * forget-review); 2 an error.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "cli.h"
#include "conf/config.h"
#include "relaygate.h"
#include "store/import.h"
#include "store/orders.h"

/* Bad rows shown per file; the rest are counted. */
#define SHOW_BAD_ROWS 20
/* Files one import run takes (they are opened before the store). */
#define MAX_FILES 1024

struct octx {
	const char *config_path;
	struct rg_config config;
	int have_config;
	const char *target;         /* path or conninfo; NULL: none */
};

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: relaygate orders [-c CONFIG] COMMAND ...\n"
	        "  init                        create or migrate the order "
	        "store\n"
	        "  import [-q] [--done DIR] FILE|DIR|-...\n"
	        "                              read order reports (all-orders, "
	        "fulfilled\n"
	        "                              shipments, or CSV order_id,"
	        "purchase_date,\n"
	        "                              delivery_date,buyer_locale); a "
	        "DIR: each file\n"
	        "                              in it; --done: move each read "
	        "file there\n"
	        "  show [--json] ORDER-ID...   what the store knows of an "
	        "order\n"
	        "  stats [--json]              counts, dates, last import\n"
	        "  forget-review ORDER-ID...   remove a recorded review request"
	        "\n"
	        "Without -c, %s is read if it exists, else the\n"
	        "defaults (SQLite /var/lib/relaygate/orders.sqlite).\n"
	        "Exit: 0 done, 1 rows skipped or order not found, 2 error.\n",
	        RG_DEFAULT_CONFIG);
}

/* ---------------------------------------------------------------- setup */

static int
ctx_load(struct octx *c)
{
	char *error = NULL;

	if (c->config_path == NULL && access(RG_DEFAULT_CONFIG, F_OK) == 0)
		c->config_path = RG_DEFAULT_CONFIG;
	if (c->config_path != NULL) {
		if (rg_config_load(c->config_path, &c->config, &error) < 0) {
			fprintf(stderr, "relaygate: %s\n", error);
			free(error);
			return -1;
		}
	} else {
		memset(&c->config, 0, sizeof(c->config));
		rg_settings_init(&c->config.settings);
		c->config.orders.backend = g_strdup("sqlite");
		c->config.orders.path =
			g_strdup("/var/lib/relaygate/orders.sqlite");
	}
	c->have_config = 1;
	c->target = rg_orders_target(&c->config.orders);
	if (c->target == NULL) {
		fprintf(stderr, "relaygate: %s: orders.backend is \"none\": no "
		        "order store\n", c->config_path != NULL
		        ? c->config_path : "defaults");
		return -1;
	}
	return 0;
}

static void
ctx_clear(struct octx *c)
{
	if (c->have_config)
		rg_config_clear(&c->config);
	c->have_config = 0;
}

/*
 * become_owner - run as root with a SQLite store: act as the owner of
 * the file, or of its directory when the file does not exist yet, so the
 * database and its WAL files stay writable for relaygate-milter.  0 or -1.
 */
static int
become_owner(const struct octx *c)
{
	struct stat st;
	char *dir;
	int r;

	if (geteuid() != 0 || strcmp(c->config.orders.backend, "sqlite") != 0)
		return 0;
	r = stat(c->target, &st);
	if (r < 0) {
		dir = g_path_get_dirname(c->target);
		r = stat(dir, &st);
		g_free(dir);
	}
	if (r < 0 || st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 ||
	    setuid(st.st_uid) < 0 || setuid(0) == 0) {
		fprintf(stderr, "relaygate: cannot become the owner (uid %ld) "
		        "of %s: %s\n", (long)st.st_uid, c->target,
		        strerror(errno));
		return -1;
	}
	return 0;
}

/* open_store - the configured store; NULL after printing why */
static struct rg_store *
open_store(struct octx *c, int flags)
{
	struct rg_store *store = NULL;
	char *error = NULL;

	if (rg_store_open(c->config.orders.backend, c->target, flags, &store,
	                  &error) < 0) {
		if (!(flags & RG_STORE_CREATE) &&
		    rg_store_missing(c->config.orders.backend, c->target))
			fprintf(stderr, "relaygate: %s does not exist (run "
			        "\"relaygate orders init\" or import a "
			        "report)\n", c->target);
		else
			fprintf(stderr, "relaygate: %s\n", error);
		free(error);
		return NULL;
	}
	return store;
}

/* check_store - the schema is there and ours; 0 or -1 (printed) */
static int
check_store(struct rg_store *store)
{
	char *error = NULL;

	if (rg_store_check(store, &error) < 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		free(error);
		return -1;
	}
	return 0;
}

/* format_time - "2024-03-01 10:00:00 UTC", or "unknown" for 0 */
static const char *
format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "unknown");
		return buf;
	}
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

/* json_time - "\"2024-03-01T10:00:00Z\"" or null */
static void
json_time(FILE *out, const char *key, time_t t, int comma)
{
	struct tm tm;
	char buf[32];

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		fprintf(out, "\"%s\":null", key);
	else {
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(out, "\"%s\":\"%s\"", key, buf);
	}
	if (comma)
		fputc(',', out);
}

/* json_string - the store's texts are printable ASCII; escape " and \ */
static void
json_string(FILE *out, const char *key, const char *s, int comma)
{
	fprintf(out, "\"%s\":", key);
	if (s == NULL || s[0] == '\0') {
		fputs("null", out);
	} else {
		fputc('"', out);
		for (; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				fputc('\\', out);
			fputc(*s, out);
		}
		fputc('"', out);
	}
	if (comma)
		fputc(',', out);
}

/* ---------------------------------------------------------------- init */

static int
cmd_init(struct octx *c, int argc, char **argv)
{
	struct rg_store *store;
	char *error = NULL;
	int rc;

	(void)argv;
	if (argc != 1) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	if (become_owner(c) < 0 ||
	    (store = open_store(c, RG_STORE_CREATE)) == NULL)
		return RG_EXIT_ERROR;
	rc = rg_store_init(store, &error);
	if (rc < 0)
		fprintf(stderr, "relaygate: %s\n", error);
	else
		printf("%s: order store ready (schema %d)\n",
		       rg_store_describe(store), RG_STORE_SCHEMA_VERSION);
	free(error);
	rg_store_close(&store);
	return rc < 0 ? RG_EXIT_ERROR : RG_EXIT_PASS;
}

/* ---------------------------------------------------------------- import */

struct input {
	char *path;                 /* as given, or the file in a DIR */
	int fd;
};

/* Bad rows are always shown (the first SHOW_BAD_ROWS of a file), even
 * with -q, which only leaves out the summary lines. */
struct bad_rows {
	unsigned long shown, total;
};

static void
report_bad_row(void *ctx, const char *name, unsigned long line,
               const char *what)
{
	struct bad_rows *b = ctx;

	b->total++;
	if (b->shown < SHOW_BAD_ROWS) {
		fprintf(stderr, "relaygate: %s:%lu: %s: row skipped\n", name,
		        line, what);
		b->shown++;
	}
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* add_input - open path (or each regular file of a directory, by name,
 * dot files left out) into the list; 0 or -1 (printed) */
static int
add_input(GArray *inputs, const char *path)
{
	struct input in;
	struct stat st;

	if (strcmp(path, "-") == 0) {
		in.path = g_strdup("-");
		in.fd = STDIN_FILENO;
		g_array_append_val(inputs, in);
		return 0;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
		DIR *d = opendir(path);
		struct dirent *e;
		int rc = 0;

		if (d == NULL) {
			fprintf(stderr, "relaygate: %s: %s\n", path,
			        strerror(errno));
			g_ptr_array_free(names, TRUE);
			return -1;
		}
		while ((e = readdir(d)) != NULL) {
			char *file;

			if (e->d_name[0] == '.')
				continue;
			file = g_build_filename(path, e->d_name, NULL);
			if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
				g_ptr_array_add(names, file);
			else
				g_free(file);
		}
		closedir(d);
		qsort(names->pdata, names->len, sizeof(char *), compare_names);
		for (guint i = 0; i < names->len && rc == 0; i++)
			rc = add_input(inputs, g_ptr_array_index(names, i));
		g_ptr_array_free(names, TRUE);
		return rc;
	}
	if (inputs->len >= MAX_FILES) {
		fprintf(stderr, "relaygate: more than %d files: import them in "
		        "parts\n", MAX_FILES);
		return -1;
	}
	in.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in.fd < 0) {
		fprintf(stderr, "relaygate: %s: %s\n", path, strerror(errno));
		return -1;
	}
	in.path = g_strdup(path);
	g_array_append_val(inputs, in);
	return 0;
}

/* move_done - the read file into dir; 0 or -1 (printed) */
static int
move_done(const char *path, const char *dir)
{
	char *copy = g_strdup(path);
	char *to = g_build_filename(dir, basename(copy), NULL);
	int rc = rename(path, to);

	if (rc < 0)
		fprintf(stderr, "relaygate: cannot move %s to %s: %s\n", path,
		        to, strerror(errno));
	g_free(to);
	g_free(copy);
	return rc;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int
cmd_import(struct octx *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "done", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	GArray *inputs = g_array_new(FALSE, FALSE, sizeof(struct input));
	const char *done = NULL;
	struct rg_store *store = NULL;
	char *error = NULL;
	int opt, quiet = 0, status = RG_EXIT_PASS;

	optind = 0;                  /* reset getopt for the command */
	while ((opt = getopt_long(argc, argv, "qd:", options, NULL)) != -1) {
		switch (opt) {
		case 'd': done = optarg; break;
		case 'q': quiet = 1; break;
		default:
			usage(stderr);
			g_array_free(inputs, TRUE);
			return RG_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		g_array_free(inputs, TRUE);
		return RG_EXIT_ERROR;
	}
	/* every input open first: root may read what the owner cannot */
	for (int i = optind; i < argc; i++)
		if (add_input(inputs, argv[i]) < 0) {
			status = RG_EXIT_ERROR;
			goto out;
		}
	if (become_owner(c) < 0 ||
	    (store = open_store(c, RG_STORE_CREATE | RG_STORE_BULK)) == NULL ||
	    rg_store_init(store, &error) < 0) {
		if (error != NULL)
			fprintf(stderr, "relaygate: %s\n", error);
		status = RG_EXIT_ERROR;
		goto out;
	}
	for (guint i = 0; i < inputs->len; i++) {
		struct input *in = &g_array_index(inputs, struct input, i);
		struct bad_rows bad = { 0, 0 };
		struct rg_import_stats st;
		struct timespec t0;
		const char *name = strcmp(in->path, "-") == 0 ? "(stdin)"
		                                              : in->path;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (rg_import_fd(store, in->fd, name, time(NULL),
		                 report_bad_row, &bad, &st, &error) < 0) {
			fprintf(stderr, "relaygate: %s\n", error);
			free(error);
			error = NULL;
			status = RG_EXIT_ERROR;
			continue;
		}
		if (bad.total > bad.shown)
			fprintf(stderr, "relaygate: %s: ... and %lu more bad "
			        "rows skipped\n", name, bad.total - bad.shown);
		if (!quiet)
			printf("%s: %s: %lu rows, %lu imported (%lu orders), "
			       "%lu skipped, %.1f s\n", name, st.kind, st.rows,
			       st.imported, st.orders, st.skipped,
			       seconds_since(&t0));
		if (st.skipped > 0 && status == RG_EXIT_PASS)
			status = RG_EXIT_BLOCKED;
		if (done != NULL && strcmp(in->path, "-") != 0 &&
		    move_done(in->path, done) < 0)
			status = RG_EXIT_ERROR;
	}
	if (rg_store_note_import(store, time(NULL), &error) < 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		status = RG_EXIT_ERROR;
	}
out:
	free(error);
	rg_store_close(&store);
	for (guint i = 0; i < inputs->len; i++) {
		struct input *in = &g_array_index(inputs, struct input, i);

		if (in->fd != STDIN_FILENO)
			close(in->fd);
		g_free(in->path);
	}
	g_array_free(inputs, TRUE);
	return status;
}

/* ---------------------------------------------------------------- show */

/* show_windows - when the order rules allow what, for people */
static void
show_windows(const struct rg_settings *set, const struct rg_order_record *r)
{
	struct rg_order_info info;
	char a[40], b[40];
	time_t delivery, start;
	int estimated;

	memset(&info, 0, sizeof(info));
	info.purchase = r->row.purchase;
	info.delivery = r->row.delivery;
	info.estimated_arrival = r->row.estimated_arrival;
	start = info.purchase;
	if (set->window_from_delivery)
		start = rg_delivery_reference(&info, set->delivery_estimate_days,
		                              &estimated);
	if (start != 0)
		printf("  messages until:    %s (day %u)\n",
		       format_time(start + (time_t)(set->message_window_days + 1)
		                   * RG_DAY_SECONDS - 1, a, sizeof(a)),
		       set->message_window_days);
	delivery = rg_delivery_reference(&info, set->delivery_estimate_days,
	                                 &estimated);
	if (delivery != 0)
		printf("  review window:     %s to %s%s\n",
		       format_time(delivery + (time_t)set->review_min_days *
		                   RG_DAY_SECONDS, a, sizeof(a)),
		       format_time(delivery + (time_t)(set->review_max_days + 1)
		                   * RG_DAY_SECONDS - 1, b, sizeof(b)),
		       estimated ? " (from an estimated delivery)" : "");
}

static void
show_human(const struct rg_settings *set, const struct rg_order_record *r)
{
	const struct rg_order_row *row = &r->row;
	char t[40];

	printf("order %s\n", row->order_id);
	printf("  purchase:          %s\n", format_time(row->purchase, t,
	                                                sizeof(t)));
	printf("  delivery:          %s\n", format_time(row->delivery, t,
	                                                sizeof(t)));
	printf("  estimated arrival: %s\n",
	       format_time(row->estimated_arrival, t, sizeof(t)));
	printf("  shipment:          %s\n", format_time(row->shipment, t,
	                                                sizeof(t)));
	printf("  buyer locale:      %s\n", row->locale[0] ? row->locale
	                                                   : "unknown");
	if (row->status[0] != '\0')
		printf("  status:            %s\n", row->status);
	if (row->channel[0] != '\0')
		printf("  sales channel:     %s\n", row->channel);
	printf("  last import:       %s\n", format_time(r->updated, t,
	                                                sizeof(t)));
	show_windows(set, r);
	if (r->review_requested)
		printf("  review request:    recorded %s (%s)\n",
		       format_time(r->review_time, t, sizeof(t)),
		       r->review_claim);
	else
		printf("  review request:    none recorded (requests made with "
		       "the marketplace's button are not seen)\n");
}

static void
show_json(const struct rg_order_record *r)
{
	const struct rg_order_row *row = &r->row;

	fputc('{', stdout);
	json_string(stdout, "order_id", row->order_id, 1);
	json_time(stdout, "purchase", row->purchase, 1);
	json_time(stdout, "delivery", row->delivery, 1);
	json_time(stdout, "estimated_arrival", row->estimated_arrival, 1);
	json_time(stdout, "shipment", row->shipment, 1);
	json_string(stdout, "buyer_locale", row->locale, 1);
	json_string(stdout, "order_status", row->status, 1);
	json_string(stdout, "sales_channel", row->channel, 1);
	json_time(stdout, "updated", r->updated, 1);
	printf("\"review_requested\":%s,", r->review_requested ? "true"
	                                                       : "false");
	json_time(stdout, "review_time", r->review_time, 1);
	json_string(stdout, "review_claim", r->review_claim, 0);
	fputs("}\n", stdout);
}

static int
cmd_show(struct octx *c, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct rg_store *store;
	int opt, json = 0, status = RG_EXIT_PASS;

	optind = 0;                  /* reset getopt for the command */
	while ((opt = getopt_long(argc, argv, "j", options, NULL)) != -1) {
		if (opt != 'j') {
			usage(stderr);
			return RG_EXIT_ERROR;
		}
		json = 1;
	}
	if (optind >= argc) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	store = open_store(c, RG_STORE_READONLY);
	if (store == NULL || check_store(store) < 0) {
		rg_store_close(&store);
		return RG_EXIT_ERROR;
	}
	for (int i = optind; i < argc; i++) {
		struct rg_order_record rec;
		char *error = NULL;
		int r;

		if (strlen(argv[i]) != RG_ORDER_ID_SIZE - 1 ||
		    !rg_order_id_valid(argv[i])) {
			fprintf(stderr, "relaygate: \"%s\" is not an order id "
			        "(NNN-NNNNNNN-NNNNNNN)\n", argv[i]);
			status = RG_EXIT_ERROR;
			continue;
		}
		r = rg_store_get(store, argv[i], &rec, &error);
		if (r < 0) {
			fprintf(stderr, "relaygate: %s\n", error);
			free(error);
			status = RG_EXIT_ERROR;
		} else if (r == 0) {
			if (json)
				printf("{\"order_id\":\"%s\",\"found\":false}\n",
				       argv[i]);
			else
				printf("order %s: not in the order store\n",
				       argv[i]);
			if (status == RG_EXIT_PASS)
				status = RG_EXIT_BLOCKED;
		} else if (json) {
			show_json(&rec);
		} else {
			show_human(&c->config.settings, &rec);
		}
	}
	rg_store_close(&store);
	return status;
}

/* ---------------------------------------------------------------- stats */

static int
cmd_stats(struct octx *c, int argc, char **argv)
{
	struct rg_store_stats st;
	struct rg_store *store;
	char *error = NULL;
	char a[40], b[40];
	int json = 0;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = 1;
	else if (argc != 1) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	store = open_store(c, RG_STORE_READONLY);
	if (store == NULL)
		return RG_EXIT_ERROR;
	if (rg_store_stats(store, &st, &error) < 0) {
		fprintf(stderr, "relaygate: %s\n", error);
		free(error);
		rg_store_close(&store);
		return RG_EXIT_ERROR;
	}
	if (json) {
		fputc('{', stdout);
		json_string(stdout, "store", rg_store_describe(store), 1);
		printf("\"schema_version\":%d,\"orders\":%llu,"
		       "\"with_purchase\":%llu,\"with_delivery\":%llu,"
		       "\"with_estimated_arrival\":%llu,\"with_locale\":%llu,"
		       "\"review_requests\":%llu,", st.schema_version,
		       st.orders, st.with_purchase, st.with_delivery,
		       st.with_arrival, st.with_locale, st.review_requests);
		json_time(stdout, "first_purchase", st.first_purchase, 1);
		json_time(stdout, "last_purchase", st.last_purchase, 1);
		json_time(stdout, "last_import", st.last_import, 0);
		fputs("}\n", stdout);
	} else {
		printf("order store:         %s (schema %d%s)\n",
		       rg_store_describe(store), st.schema_version,
		       st.schema_version == 0 ? ": run relaygate orders init"
		                              : "");
		printf("orders:              %llu\n", st.orders);
		printf("  with purchase:     %llu\n", st.with_purchase);
		printf("  with delivery:     %llu\n", st.with_delivery);
		printf("  with est. arrival: %llu\n", st.with_arrival);
		printf("  with buyer locale: %llu\n", st.with_locale);
		printf("purchases:           %s to %s\n",
		       format_time(st.first_purchase, a, sizeof(a)),
		       format_time(st.last_purchase, b, sizeof(b)));
		printf("review requests:     %llu recorded\n",
		       st.review_requests);
		printf("last import:         %s\n",
		       format_time(st.last_import, a, sizeof(a)));
	}
	rg_store_close(&store);
	return RG_EXIT_PASS;
}

/* ---------------------------------------------------------------- forget */

static int
cmd_forget_review(struct octx *c, int argc, char **argv)
{
	struct rg_store *store;
	int status = RG_EXIT_PASS;

	if (argc < 2) {
		usage(stderr);
		return RG_EXIT_ERROR;
	}
	if (become_owner(c) < 0 || (store = open_store(c, 0)) == NULL)
		return RG_EXIT_ERROR;
	if (check_store(store) < 0) {
		rg_store_close(&store);
		return RG_EXIT_ERROR;
	}
	for (int i = 1; i < argc; i++) {
		char *error = NULL;
		int r;

		if (strlen(argv[i]) != RG_ORDER_ID_SIZE - 1 ||
		    !rg_order_id_valid(argv[i])) {
			fprintf(stderr, "relaygate: \"%s\" is not an order id\n",
			        argv[i]);
			status = RG_EXIT_ERROR;
			continue;
		}
		r = rg_store_release_review(store, argv[i], NULL, &error);
		if (r < 0) {
			fprintf(stderr, "relaygate: %s\n", error);
			free(error);
			status = RG_EXIT_ERROR;
		} else if (r == 0) {
			printf("order %s: no review request recorded\n",
			       argv[i]);
			if (status == RG_EXIT_PASS)
				status = RG_EXIT_BLOCKED;
		} else {
			printf("order %s: review request record removed\n",
			       argv[i]);
		}
	}
	rg_store_close(&store);
	return status;
}

/* ---------------------------------------------------------------- main */

static const struct subcommand {
	const char *name;
	int (*run)(struct octx *c, int argc, char **argv);
} subcommands[] = {
	{ "init", cmd_init },
	{ "import", cmd_import },
	{ "show", cmd_show },
	{ "stats", cmd_stats },
	{ "forget-review", cmd_forget_review },
};

int
rg_cmd_orders(int argc, char **argv)
{
	const struct subcommand *sub;
	struct octx c;
	int index, status;

	memset(&c, 0, sizeof(c));
	index = rg_cli_subcommand("orders", subcommands, sizeof(subcommands[0]),
	                          G_N_ELEMENTS(subcommands), usage, &argc,
	                          &argv, &c.config_path, &status);
	if (index < 0)
		return status;
	sub = &subcommands[index];
	if (ctx_load(&c) < 0) {
		ctx_clear(&c);
		return RG_EXIT_ERROR;
	}
	status = sub->run(&c, argc, argv);
	ctx_clear(&c);
	return status;
}

/* ---------------------------------------------------------------- check */

struct rg_store *
rg_cli_orders_attach(rg_scan *scan, const char *config_path)
{
	struct octx c;
	struct rg_store *store = NULL;
	char *error = NULL;

	memset(&c, 0, sizeof(c));
	c.config_path = config_path;
	/* quietly nothing when there is no store to read */
	if (config_path == NULL && access(RG_DEFAULT_CONFIG, F_OK) != 0)
		return NULL;
	if (c.config_path == NULL)
		c.config_path = RG_DEFAULT_CONFIG;
	if (rg_config_load(c.config_path, &c.config, &error) < 0) {
		free(error);
		return NULL;
	}
	c.have_config = 1;
	c.target = rg_orders_target(&c.config.orders);
	if (c.target != NULL &&
	    !rg_store_missing(c.config.orders.backend, c.target)) {
		if (rg_store_open(c.config.orders.backend, c.target,
		                  RG_STORE_READONLY, &store, &error) < 0 ||
		    rg_store_check(store, &error) < 0) {
			fprintf(stderr, "relaygate: order rules skipped: %s\n",
			        error);
			rg_store_close(&store);
		}
	}
	free(error);
	ctx_clear(&c);
	if (store != NULL)
		rg_scan_set_order_lookup(scan, rg_store_lookup, store);
	return store;
}
