/*
 * engine.c - the relaygate engine alone, in one process: throughput over
 * the corpus repeated, the cost of each stage, and how the cost grows with
 * message size and with the number of phrase patterns.
 *
 *   bench/engine [options] [FILE.eml...]
 *     -c FILE        configuration (default: conf/relaygate.conf of the
 *                    source tree, which brings the shipped phrase lists)
 *     -t SECONDS     time per measurement (default 3; --quick 1)
 *     -j THREADS     threads for the throughput figure (default 1)
 *     --quick        shorter measurements, sizes up to 1 MB
 *     --no-stages    skip the per-stage breakdown
 *     --sizes        cost against message size (1 KB .. 10 MB)
 *     --phrases      cost against the number of phrase patterns
 *     --json FILE    the figures as JSON as well
 *     --loop N       (for valgrind --tool=callgrind) one warm-up pass,
 *                    then N passes inside bench_loop(); prints the count
 *     --list-envelopes   FILE, sender and recipient of each message
 *     --synthetic plain|html:BYTES   print the synthetic message of the
 *                    size test (to profile one size by hand)
 *
 * Without files: every .eml file of $RG_SHARED_DIR/corpus (default
 * ../shared next to the source tree), else of tests/data.  Each message
 * is scanned as relaygate-milter scans it: rg_scan_message with the
 * envelope (the From: address, the To: address; a relay address when To:
 * is not one).  The order store is not configured, so the order rules are
 * skipped, as on a server without order data.
 *
 * Stages are timed by calling the engine's internal functions one by one
 * (engine/internal.h), in the order rg_scan_view runs them; nothing in
 * the engine is instrumented, so the figures are those of the real build.
 * Wall clock figures suffer when other work shares the CPU; the "per CPU
 * second" figures (thread CPU time) much less.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "conf/config.h"
#include "html.h"
#include "internal.h"
#include "normalize.h"

#define DEFAULT_RELAY "2m7kq9xw4p1rz8d@marketplace.amazon.com"

/* ------------------------------------------------------------ messages */

struct msg {
	char *name;
	unsigned char *data;
	size_t len;
	char *sender;
	char *rcpt;
	/* decoded text/html parts (valid UTF-8), for timing the renderer */
	GPtrArray *html;
};

struct corpus {
	struct msg *m;
	size_t n;
	size_t bytes;
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *
first_mailbox(InternetAddressList *list)
{
	for (int i = 0; list != NULL && i < internet_address_list_length(list);
	     i++) {
		InternetAddress *a = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			return g_strdup(internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(a)));
	}
	return NULL;
}

/* collect_html - decoded text/html leaves that are not attachments */
static void
collect_html(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	struct msg *m = data;
	GMimeContentType *type = g_mime_object_get_content_type(part);
	const char *disp;
	char *text;

	(void)parent;
	if (!GMIME_IS_TEXT_PART(part) ||
	    !g_mime_content_type_is_type(type, "text", "html"))
		return;
	disp = g_mime_object_get_disposition(part);
	if (disp != NULL && g_ascii_strcasecmp(disp, "attachment") == 0)
		return;
	text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	if (text != NULL) {
		g_ptr_array_add(m->html, g_utf8_make_valid(text, -1));
		g_free(text);
	}
}

/* msg_prepare - envelope and decoded HTML of m->data */
static void
msg_prepare(rg_policy *policy, struct msg *m)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(
		(const char *)m->data, m->len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);

	m->html = g_ptr_array_new_with_free_func(g_free);
	if (message != NULL) {
		m->sender = first_mailbox(g_mime_message_get_from(message));
		m->rcpt = first_mailbox(g_mime_message_get_addresses(
			message, GMIME_ADDRESS_TYPE_TO));
		g_mime_message_foreach(message, collect_html, m);
		g_object_unref(message);
	}
	if (m->sender == NULL)
		m->sender = g_strdup("seller@shop.example");
	if (m->rcpt == NULL || !rg_is_relay_address(policy, m->rcpt)) {
		g_free(m->rcpt);
		m->rcpt = g_strdup(DEFAULT_RELAY);
	}
	g_object_unref(parser);
	g_object_unref(stream);
}

static void
corpus_add(struct corpus *c, const char *name, unsigned char *data,
           size_t len)
{
	c->m = g_renew(struct msg, c->m, c->n + 1);
	memset(&c->m[c->n], 0, sizeof(c->m[c->n]));
	c->m[c->n].name = g_strdup(name);
	c->m[c->n].data = data;
	c->m[c->n].len = len;
	c->n++;
	c->bytes += len;
}

static int
corpus_add_file(struct corpus *c, const char *path)
{
	gchar *data;
	gsize len;
	GError *err = NULL;

	if (!g_file_get_contents(path, &data, &len, &err)) {
		fprintf(stderr, "engine: %s\n", err->message);
		g_error_free(err);
		return -1;
	}
	corpus_add(c, path, (unsigned char *)data, len);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* corpus_dir - every *.eml of dir, sorted; 0 when none */
static size_t
corpus_dir(struct corpus *c, const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *e;
	size_t added = 0;

	if (d == NULL)
		return 0;
	while ((e = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(e, ".eml"))
			g_ptr_array_add(names, g_build_filename(dir, e, NULL));
	g_dir_close(d);
	qsort(names->pdata, names->len, sizeof(char *), cmp_str);
	for (guint i = 0; i < names->len; i++)
		if (corpus_add_file(c, names->pdata[i]) == 0)
			added++;
	g_ptr_array_free(names, TRUE);
	return added;
}

static void
corpus_default(struct corpus *c, char **source_r)
{
	const char *shared = getenv("RG_SHARED_DIR");
	char *dir = shared != NULL
	            ? g_build_filename(shared, "corpus", NULL)
	            : g_build_filename(RG_SRCDIR, "..", "shared", "corpus",
	                               NULL);

	if (corpus_dir(c, dir) > 0) {
		*source_r = dir;
		return;
	}
	g_free(dir);
	dir = g_build_filename(RG_SRCDIR, "tests", "data", NULL);
	corpus_dir(c, dir);
	*source_r = dir;
}

static void
corpus_free(struct corpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		g_free(c->m[i].name);
		g_free(c->m[i].data);
		g_free(c->m[i].sender);
		g_free(c->m[i].rcpt);
		if (c->m[i].html != NULL)
			g_ptr_array_free(c->m[i].html, TRUE);
	}
	g_free(c->m);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------ policy */

static rg_policy *
load_policy(const char *path, size_t max_text, char **error_r)
{
	struct rg_config config;
	rg_policy *policy;

	if (rg_config_load(path, &config, error_r) < 0)
		return NULL;
	if (max_text > 0) {
		config.settings.max_text_bytes = max_text;
		if (config.settings.max_message_bytes < max_text)
			config.settings.max_message_bytes = max_text;
	}
	policy = rg_policy_build(&config.settings, error_r);
	rg_config_clear(&config);
	return policy;
}

static size_t
count_phrases(const rg_policy *policy)
{
	const struct rg_phrases *p = &rg_policy_settings(policy)->phrases;
	size_t n = 0;

	for (size_t l = 0; l < p->count; l++) {
		for (unsigned r = 0; r < RG_RULE_COUNT; r++) {
			const struct rg_phrase_rule *pr = &p->langs[l].rules[r];

			n += pr->phrases.count + pr->when.count +
			     pr->unless.count;
			for (size_t g = 0; g < pr->n_groups; g++)
				for (unsigned k = 0; k < pr->groups[g].n_lists;
				     k++)
					n += pr->groups[g].lists[k].count;
		}
	}
	return n;
}

/* ------------------------------------------------------------ scanning */

struct tally {
	unsigned long messages;
	unsigned long bytes;
	unsigned long verdicts[RG_ACTION_REJECT + 1];
	unsigned long findings;
	unsigned long errors;
};

static void
scan_one(rg_scan *scan, const struct msg *m, struct tally *t)
{
	const char *rcpts[1] = { m->rcpt };
	struct rg_result res;
	char *error = NULL;

	rg_scan_set_envelope(scan, m->sender, rcpts, 1);
	if (rg_scan_message(scan, m->data, m->len, &res, &error) < 0) {
		t->errors++;
		free(error);
	} else {
		t->verdicts[res.verdict]++;
		t->findings += res.count;
		rg_result_clear(&res);
	}
	t->messages++;
	t->bytes += m->len;
}

static void
run_passes(rg_scan *scan, const struct corpus *c, unsigned passes,
           struct tally *t)
{
	for (unsigned p = 0; p < passes; p++)
		for (size_t i = 0; i < c->n; i++)
			scan_one(scan, &c->m[i], t);
}

/* bench_loop - what callgrind measures (--toggle-collect=bench_loop):
 * called once, after a warm-up pass made with run_passes */
__attribute__((noinline)) void bench_loop(rg_scan *scan,
                                          const struct corpus *c,
                                          unsigned passes, struct tally *t);

__attribute__((noinline)) void
bench_loop(rg_scan *scan, const struct corpus *c, unsigned passes,
           struct tally *t)
{
	run_passes(scan, c, passes, t);
}

/* ------------------------------------------------------------ throughput */

#define SLICES 5

struct worker {
	pthread_t thread;
	rg_policy *policy;
	const struct corpus *c;
	double seconds;
	/* per slice */
	double wall[SLICES], cpu[SLICES];
	unsigned long msgs[SLICES], bytes[SLICES];
	struct tally total;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	rg_scan *scan = rg_scan_new(w->policy);
	struct tally warm = { 0 };

	run_passes(scan, w->c, 1, &warm);   /* dictionaries, caches */
	for (int s = 0; s < SLICES; s++) {
		struct tally t = { 0 };
		double w0 = mono_now(), c0 = thread_cpu();

		do
			run_passes(scan, w->c, 1, &t);
		while (mono_now() - w0 < w->seconds / SLICES);
		w->wall[s] = mono_now() - w0;
		w->cpu[s] = thread_cpu() - c0;
		w->msgs[s] = t.messages;
		w->bytes[s] = t.bytes;
		w->total.messages += t.messages;
		w->total.bytes += t.bytes;
		w->total.findings += t.findings;
		w->total.errors += t.errors;
		for (int v = 0; v <= RG_ACTION_REJECT; v++)
			w->total.verdicts[v] += t.verdicts[v];
	}
	rg_scan_free(&scan);
	return NULL;
}

struct throughput {
	int threads;
	double msg_s, mb_s;           /* wall, all threads, median slice */
	double msg_cpu_s;             /* messages per CPU second, per core */
	double us_per_msg_cpu;
	struct tally tally;
};

static void
measure_throughput(rg_policy *policy, const struct corpus *c, int threads,
                   double seconds, struct throughput *out)
{
	struct worker *w = g_new0(struct worker, threads);
	double rate[SLICES], mb[SLICES], cpu_rate[SLICES];

	for (int i = 0; i < threads; i++) {
		w[i].policy = policy;
		w[i].c = c;
		w[i].seconds = seconds;
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(w[i].thread, NULL);
	memset(out, 0, sizeof(*out));
	out->threads = threads;
	for (int s = 0; s < SLICES; s++) {
		double msgs = 0, bytes = 0, wall = 0, cpu = 0;

		for (int i = 0; i < threads; i++) {
			msgs += (double)w[i].msgs[s];
			bytes += (double)w[i].bytes[s];
			cpu += w[i].cpu[s];
			if (w[i].wall[s] > wall)
				wall = w[i].wall[s];
		}
		rate[s] = msgs / wall;
		mb[s] = bytes / wall / 1e6;
		cpu_rate[s] = cpu > 0 ? msgs / cpu : 0;
	}
	out->msg_s = median(rate, SLICES);
	out->mb_s = median(mb, SLICES);
	out->msg_cpu_s = median(cpu_rate, SLICES);
	out->us_per_msg_cpu = out->msg_cpu_s > 0 ? 1e6 / out->msg_cpu_s : 0;
	for (int i = 0; i < threads; i++) {
		out->tally.messages += w[i].total.messages;
		out->tally.bytes += w[i].total.bytes;
		out->tally.findings += w[i].total.findings;
		out->tally.errors += w[i].total.errors;
		for (int v = 0; v <= RG_ACTION_REJECT; v++)
			out->tally.verdicts[v] += w[i].total.verdicts[v];
	}
	g_free(w);
}

/* ------------------------------------------------------------ stages */

static void
family_orders(rg_scan *scan, const struct rg_view *view)
{
	char *error = NULL;

	if (rg_rules_orders(scan, view, &error) < 0)
		free(error);
}

/* The rule families in rg_scan_view's order (engine/scan.c). */
static const struct family {
	const char *name;
	void (*fn)(rg_scan *scan, const struct rg_view *view);
} families[] = {
	{ "rules: order-id", rg_rules_order_id },
	{ "rules: orders (no store: skipped)", family_orders },
	{ "rules: links", rg_rules_links },
	{ "rules: contact (e-mail, phone)", rg_rules_contact },
	{ "rules: emoji", rg_rules_emoji },
	{ "rules: attachments", rg_rules_attachments },
	{ "rules: layout (line breaks)", rg_rules_layout },
	{ "rules: structure (HTML facts)", rg_rules_structure },
	{ "rules: phrases (incl. normalisation)", rg_rules_phrases },
	{ "rules: language", rg_rules_language },
	{ "rules: spelling", rg_rules_spelling },
	{ "rules: sender", rg_rules_sender },
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

enum {
	ST_SCAN,        /* rg_scan_message, the whole thing */
	ST_PARSE,       /* GMime parse only */
	ST_VIEW,        /* rg_view_from_message: parse, decode, HTML, NFKC */
	ST_HTML,        /* rg_html_render on the decoded HTML parts */
	ST_NORM,        /* rg_normalize on every text part of the view */
	ST_FAMILY0,
	N_STAGES = ST_FAMILY0 + N_FAMILIES
};

static const char *
stage_name(int s)
{
	switch (s) {
	case ST_SCAN: return "whole scan (rg_scan_message)";
	case ST_PARSE: return "MIME parse (GMime, no decoding)";
	case ST_VIEW: return "view build (parse, decode, HTML, NFKC)";
	case ST_HTML: return "  of which HTML to text (libxml2 + render)";
	case ST_NORM: return "normalisation (phrase folding)";
	default: return families[s - ST_FAMILY0].name;
	}
}

static const char *
stage_key(int s)
{
	static const char *keys[] = {
		"scan", "mime_parse", "view_build", "html_render",
		"normalisation", "order_id", "orders", "links", "contact",
		"emoji", "attachments", "layout", "structure", "phrases",
		"language", "spelling", "sender",
	};
	return keys[s];
}

/* stages_one - add the CPU time (s) of each stage for message m to acc
 * (thread CPU time: robust when other work shares the machine) */
static void
stages_one(rg_scan *scan, const struct msg *m, double *acc)
{
	const char *rcpts[1] = { m->rcpt };
	struct rg_view view;
	struct rg_result res;
	char *error = NULL;
	double t;

	rg_scan_set_envelope(scan, m->sender, rcpts, 1);

	t = thread_cpu();
	if (rg_scan_message(scan, m->data, m->len, &res, &error) == 0)
		rg_result_clear(&res);
	else
		free(error);
	acc[ST_SCAN] += thread_cpu() - t;

	t = thread_cpu();
	{
		GMimeStream *stream = g_mime_stream_mem_new_with_buffer(
			(const char *)m->data, m->len);
		GMimeParser *parser = g_mime_parser_new_with_stream(stream);
		GMimeMessage *message;

		g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
		message = g_mime_parser_construct_message(parser, NULL);
		if (message != NULL)
			g_object_unref(message);
		g_object_unref(parser);
		g_object_unref(stream);
	}
	acc[ST_PARSE] += thread_cpu() - t;

	t = thread_cpu();
	if (rg_view_from_message(scan, m->data, m->len, &view) < 0)
		return;
	acc[ST_VIEW] += thread_cpu() - t;

	t = thread_cpu();
	for (guint i = 0; i < m->html->len; i++) {
		struct rg_view tmp = { 0 };
		const char *html = m->html->pdata[i];
		struct rg_part *part = rg_view_add_part(&tmp, "1",
		                                        RG_PART_HTML);

		if (rg_html_render(html, strlen(html),
		                   rg_policy_settings(scan->policy)->max_text_bytes,
		                   part, &error) < 0)
			free(error);
		rg_view_clear(&tmp);
	}
	acc[ST_HTML] += thread_cpu() - t;

	t = thread_cpu();
	for (size_t i = 0; i < view.count; i++) {
		const struct rg_part *part = &view.parts[i];
		struct rg_norm norm;

		if (part->kind == RG_PART_ATTACHMENT)
			continue;
		if (rg_normalize(part->text, part->text_len, &norm) == 0)
			rg_norm_clear(&norm);
	}
	acc[ST_NORM] += thread_cpu() - t;

	/* rg_scan_view, one family at a time */
	memset(&res, 0, sizeof(res));
	memset(&scan->position, 0, sizeof(scan->position));
	scan->result = &res;
	scan->limit_hit = 0;
	for (size_t f = 0; f < N_FAMILIES; f++) {
		t = thread_cpu();
		families[f].fn(scan, &view);
		acc[ST_FAMILY0 + f] += thread_cpu() - t;
	}
	scan->result = NULL;
	rg_result_clear(&res);
	rg_view_clear(&view);
}

struct stages {
	double us[N_STAGES];      /* median per message, microseconds */
	unsigned passes;
};

static void
measure_stages(rg_policy *policy, const struct corpus *c, double seconds,
               struct stages *out)
{
	rg_scan *scan = rg_scan_new(policy);
	GArray *runs[N_STAGES];
	double acc[N_STAGES], t0;
	unsigned passes = 0;

	for (int s = 0; s < N_STAGES; s++)
		runs[s] = g_array_new(FALSE, FALSE, sizeof(double));
	memset(acc, 0, sizeof(acc));
	for (size_t i = 0; i < c->n; i++)     /* warm-up */
		stages_one(scan, &c->m[i], acc);
	t0 = mono_now();
	do {
		memset(acc, 0, sizeof(acc));
		for (size_t i = 0; i < c->n; i++)
			stages_one(scan, &c->m[i], acc);
		for (int s = 0; s < N_STAGES; s++) {
			double us = acc[s] * 1e6 / (double)c->n;

			g_array_append_val(runs[s], us);
		}
		passes++;
	} while (mono_now() - t0 < seconds || passes < 3);
	for (int s = 0; s < N_STAGES; s++) {
		out->us[s] = median((double *)(void *)runs[s]->data,
		                    runs[s]->len);
		g_array_free(runs[s], TRUE);
	}
	out->passes = passes;
	rg_scan_free(&scan);
}

/* check_families - the families one by one find what rg_scan_view finds
 * (the table above follows engine/scan.c; warn when it no longer does) */
static void
check_families(rg_policy *policy, const struct corpus *c)
{
	rg_scan *scan = rg_scan_new(policy);
	size_t mismatches = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct msg *m = &c->m[i];
		const char *rcpts[1] = { m->rcpt };
		struct rg_view view;
		struct rg_result a, b;
		char *error = NULL;

		rg_scan_set_envelope(scan, m->sender, rcpts, 1);
		if (rg_view_from_message(scan, m->data, m->len, &view) < 0)
			continue;
		if (rg_scan_view(scan, &view, &a, &error) < 0) {
			free(error);
			rg_view_clear(&view);
			continue;
		}
		memset(&b, 0, sizeof(b));
		memset(&scan->position, 0, sizeof(scan->position));
		scan->result = &b;
		scan->limit_hit = 0;
		for (size_t f = 0; f < N_FAMILIES; f++)
			families[f].fn(scan, &view);
		scan->result = NULL;
		if (a.count != b.count || a.verdict != b.verdict)
			mismatches++;
		rg_result_clear(&a);
		rg_result_clear(&b);
		rg_view_clear(&view);
	}
	if (mismatches > 0)
		fprintf(stderr, "engine: warning: the rule families called one "
		        "by one differ from rg_scan_view on %zu messages: "
		        "update the table in bench/engine.c\n", mismatches);
	rg_scan_free(&scan);
}

/* ------------------------------------------------------------ synthetic */

static guint32 rng_state = 2463534242u;

static guint32
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

#define PICK(a) ((a)[rng() % (sizeof(a) / sizeof((a)[0]))])

static const char *const openers[] = {
	"Thank you for your order %O of the %P.",
	"We are writing about your order %O.",
	"Your %P left our warehouse in Leeds on %D and should arrive within "
	"two to three working days.",
	"The courier reference for the parcel is %T; the weight is %K kg.",
	"Could you tell us which colour you would like for the replacement "
	"%P?",
	"We packed %Q skeins from dye lot %L so that the colour matches.",
	"The invoice for order %O is attached as a PDF; the total was "
	"EUR %E including VAT.",
	"If the size does not fit, you can start a return from Your Orders "
	"at %A.",
	"Die Rechnung f\xc3\xbcr die Bestellung %O liegt bei; die Gr\xc3\xb6\xc3\x9f"
	"e ist %Q cm.",
	"Le d\xc3\xa9lai de livraison pour la commande %O est de %Q jours.",
	"Please note that the %P measures %Q by %Q mm and weighs %K kg.",
	"Our care guide is at %X if you need it.",
	"You can also call our workshop on %N between 9 and 17 o'clock.",
	"The batch number %L and the date %D are printed on the label.",
	"We apologise for the delay; the %P will be sent again on %D.",
	"Prices: %Q units at EUR %E each, order %O, postcode SW1A 1AA.",
};

static const char *const products[] = {
	"garden kneeler", "bird nest box", "glass shelf", "yarn bundle",
	"cordless drill", "wardrobe", "buzzer", "paper weight", "battery pack",
	"tea towel set",
};

/* fill - one sentence with its placeholders filled; html adds markup */
static void
fill(GString *out, const char *tmpl, int html)
{
	for (const char *p = tmpl; *p; p++) {
		if (*p != '%') {
			if (html && *p == '&')
				g_string_append(out, "&amp;");
			else
				g_string_append_c(out, *p);
			continue;
		}
		switch (*++p) {
		case 'O':
			g_string_append_printf(out, "%03u-%07u-%07u",
			                       100 + rng() % 900, rng() % 10000000,
			                       rng() % 10000000);
			break;
		case 'P':
			if (html)
				g_string_append_printf(out, "<b>%s</b>",
				                       PICK(products));
			else
				g_string_append(out, PICK(products));
			break;
		case 'D':
			g_string_append_printf(out, "%02u/%02u/2026",
			                       1 + rng() % 28, 1 + rng() % 12);
			break;
		case 'T':
			g_string_append_printf(out, "1Z%06uA%08u", rng() % 1000000,
			                       rng() % 100000000);
			break;
		case 'K':
			g_string_append_printf(out, "%u.%u", rng() % 20,
			                       rng() % 10);
			break;
		case 'Q':
			g_string_append_printf(out, "%u", 2 + rng() % 400);
			break;
		case 'L':
			g_string_append_printf(out, "%05u", rng() % 100000);
			break;
		case 'E':
			g_string_append_printf(out, "%u,%02u", 5 + rng() % 300,
			                       rng() % 100);
			break;
		case 'N':
			g_string_append_printf(out, "+44 20 %04u %04u",
			                       rng() % 10000, rng() % 10000);
			break;
		case 'A': {
			const char *u = "https://www.amazon.co.uk/gp/your-account/"
			                "order-history";

			if (html)
				g_string_append_printf(out, "<a href=\"%s\">Your "
				                       "Orders</a>", u);
			else
				g_string_append(out, u);
			break;
		}
		case 'X': {
			char u[96];

			snprintf(u, sizeof(u), "https://www.northwind-garden"
			         ".example/care/%u", rng() % 1000);
			if (html)
				g_string_append_printf(out, "<a href=\"%s\">care "
				                       "guide</a>", u);
			else
				g_string_append(out, u);
			break;
		}
		default:
			g_string_append_c(out, '%');
		}
	}
}

/* synth - a message of about size bytes, plain text or HTML */
static unsigned char *
synth(size_t size, int html, size_t *len_r)
{
	GString *m = g_string_new(NULL);
	size_t col = 0, sentences = 0;

	g_string_append(m,
	                "Date: Tue, 13 Jan 2026 09:40:00 +0100\r\n"
	                "From: Northwind Garden <care@northwind-garden.example>\r\n"
	                "To: Buyer <" DEFAULT_RELAY ">\r\n"
	                "Subject: Your order 302-1234567-7654321\r\n"
	                "Message-ID: <bench.1@northwind-garden.example>\r\n"
	                "MIME-Version: 1.0\r\n");
	g_string_append_printf(m, "Content-Type: text/%s; charset=utf-8\r\n"
	                       "Content-Transfer-Encoding: 8bit\r\n\r\n",
	                       html ? "html" : "plain");
	if (html)
		g_string_append(m, "<html><body style=\"font-family: Arial\">"
		                "\r\n<p>Hello Aiden,</p>\r\n<p>");
	else
		g_string_append(m, "Hello Aiden,\r\n\r\n");
	while (m->len < size) {
		GString *s = g_string_new(NULL);

		fill(s, PICK(openers), html);
		sentences++;
		/* wrap at about 72 columns, as mail clients do */
		for (char *w = strtok(s->str, " "); w; w = strtok(NULL, " ")) {
			size_t n = strlen(w);

			if (col > 0 && col + n + 1 > 72) {
				g_string_append(m, "\r\n");
				col = 0;
			} else if (col > 0) {
				g_string_append_c(m, ' ');
				col++;
			}
			g_string_append(m, w);
			col += n;
		}
		g_string_free(s, TRUE);
		if (sentences % 5 == 0) {
			g_string_append(m, html ? "</p>\r\n<p>" : "\r\n\r\n");
			col = 0;
		}
	}
	if (html)
		g_string_append(m, "</p>\r\n<table><tr><td>Northwind Garden"
		                "</td><td>Leeds</td></tr></table>\r\n"
		                "</body></html>\r\n");
	else
		g_string_append(m, "\r\n\r\nKind regards,\r\nNorthwind Garden"
		                "\r\n");
	*len_r = m->len;
	return (unsigned char *)g_string_free(m, FALSE);
}

struct size_row {
	size_t size;
	int html;
	size_t len;
	unsigned reps;
	double us_msg;              /* whole scan, CPU time */
	double us_kb;
	double growth;              /* us_kb / lowest us_kb of smaller sizes */
	int flagged;
	double stage_us[N_STAGES];  /* one run, CPU time */
};

static const size_t all_sizes[] = {
	1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 10485760,
};

static size_t
measure_sizes(rg_policy *policy, int quick, double seconds,
              struct size_row **rows_r)
{
	size_t n_sizes = quick ? 6 : sizeof(all_sizes) / sizeof(all_sizes[0]);
	struct size_row *rows = g_new0(struct size_row, n_sizes * 2);
	rg_scan *scan = rg_scan_new(policy);
	size_t n = 0;

	for (int html = 0; html <= 1; html++) {
		double best = 0;

		for (size_t i = 0; i < n_sizes; i++) {
			struct size_row *r = &rows[n++];
			struct corpus one = { 0 };
			struct tally t = { 0 };
			double c0, budget = seconds / 4;
			unsigned char *data;
			size_t len;

			rng_state = 2463534242u;
			data = synth(all_sizes[i], html, &len);
			corpus_add(&one, "synthetic", data, len);
			msg_prepare(policy, &one.m[0]);
			r->size = all_sizes[i];
			r->html = html;
			r->len = len;
			run_passes(scan, &one, 1, &t);   /* warm-up */
			c0 = thread_cpu();
			do {
				run_passes(scan, &one, 1, &t);
				r->reps++;
			} while (thread_cpu() - c0 < budget || r->reps < 2);
			r->us_msg = (thread_cpu() - c0) * 1e6 / r->reps;
			r->us_kb = r->us_msg / ((double)len / 1024.0);
			/* fixed costs make small messages dear per KB: from
			 * 16 KB on, a size dearer per KB than a smaller one
			 * grows faster than linearly */
			if (best > 0) {
				r->growth = r->us_kb / best;
				r->flagged = r->growth > 1.25;
			} else {
				r->growth = 1;
			}
			if (all_sizes[i] >= 16384 &&
			    (best == 0 || r->us_kb < best))
				best = r->us_kb;
			{
				double acc[N_STAGES] = { 0 };

				stages_one(scan, &one.m[0], acc);
				for (int s = 0; s < N_STAGES; s++)
					r->stage_us[s] = acc[s] * 1e6;
			}
			corpus_free(&one);
		}
	}
	rg_scan_free(&scan);
	*rows_r = rows;
	return n;
}

/* ------------------------------------------------------------ phrases */

static const char *const common_words[] = {
	"your", "order", "free", "the", "our", "we", "please", "thank",
	"delivery", "review", "gift", "shop", "new", "offer", "buy", "get",
	"now", "code", "discount", "visit", "call", "pay", "save", "best",
	"price", "deal", "off", "next", "product", "item", "today", "card",
};

/* pseudo_word - a pronounceable made-up word from index i */
static void
pseudo_word(GString *out, unsigned i)
{
	static const char *const syl[] = {
		"ka", "lo", "mi", "ne", "tu", "ra", "se", "vo", "bi", "da",
		"fe", "gu", "hi", "jo", "pa", "ri", "so", "te", "zu", "wa",
	};
	unsigned n = 2 + i % 3;

	for (unsigned k = 0; k < n; k++) {
		g_string_append(out, syl[i % 20]);
		i = i / 20 + k * 7 + 3;
	}
}

/* gen_phrase - one phrase of 1 to 3 words: common words and made-up
 * ones, some with a \w* ending or an alternation, as real lists have */
static void
gen_phrase(GString *out, unsigned i)
{
	unsigned words = 1 + rng() % 3;

	for (unsigned w = 0; w < words; w++) {
		if (w > 0)
			g_string_append_c(out, ' ');
		if (rng() % 3 == 0)
			g_string_append(out, PICK(common_words));
		else
			pseudo_word(out, rng() % 4000 + i);
	}
	switch (rng() % 20) {
	case 0:
		g_string_append(out, "\\\\w*");
		break;
	case 1:
		g_string_append(out, " (?:");
		pseudo_word(out, rng() % 4000);
		g_string_append_c(out, '|');
		pseudo_word(out, rng() % 4000);
		g_string_append_c(out, ')');
		break;
	default:
		break;
	}
}

/* phrase_config - a temporary relaygate.conf with n generated phrases,
 * spread over four phrase rules of one language; returns its path */
static char *
phrase_config(const char *dir, size_t n)
{
	static const char *const rules[] = {
		"promotional", "off-platform", "sensitive-content",
		"review-incentive",
	};
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
	                                         g_free, NULL);
	char *path = g_strdup_printf("%s/phrases-%zu.conf", dir, n);
	FILE *f = fopen(path, "w");
	size_t made = 0;

	if (f == NULL) {
		fprintf(stderr, "engine: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	rng_state = 88172645u;
	fprintf(f, "# generated by bench/engine --phrases\n"
	        "phrases:\n{\n  bench:\n  {\n");
	for (size_t r = 0; r < 4; r++) {
		size_t want = n / 4 + (r < n % 4);

		fprintf(f, "    %s = [\n", rules[r]);
		for (size_t k = 0; k < want; made++) {
			GString *p = g_string_new(NULL);

			gen_phrase(p, (unsigned)made);
			if (g_hash_table_contains(seen, p->str)) {
				g_string_free(p, TRUE);
				continue;
			}
			fprintf(f, "      \"%s\"%s\n", p->str,
			        k + 1 < want ? "," : "");
			g_hash_table_add(seen, g_string_free(p, FALSE));
			k++;
		}
		fprintf(f, "    ];\n");
	}
	fprintf(f, "  };\n};\n");
	fclose(f);
	g_hash_table_destroy(seen);
	return path;
}

struct phrase_row {
	const char *label;
	size_t patterns;
	double build_ms;            /* rg_policy_build */
	double phrases_us;          /* rg_rules_phrases per message */
	double scan_us;             /* whole scan per message */
};

static void
phrase_row_measure(rg_policy *policy, const struct corpus *c,
                   double seconds, struct phrase_row *row)
{
	struct stages st;

	measure_stages(policy, c, seconds, &st);
	row->phrases_us = st.us[ST_FAMILY0 + 8];
	row->scan_us = st.us[ST_SCAN];
}

static size_t
measure_phrases(const char *config, const struct corpus *c, double seconds,
                struct phrase_row **rows_r)
{
	static const size_t counts[] = { 100, 500, 1000, 2000, 5000 };
	size_t n_rows = sizeof(counts) / sizeof(counts[0]) + 1;
	struct phrase_row *rows = g_new0(struct phrase_row, n_rows);
	char tmpl[] = "/tmp/relaygate-bench-XXXXXX";
	char *dir = mkdtemp(tmpl), *error = NULL;
	size_t n = 0;

	if (dir == NULL) {
		perror("engine: mkdtemp");
		exit(1);
	}
	for (size_t i = 0; i < n_rows; i++) {
		struct phrase_row *row = &rows[n];
		char *path = i == 0 ? g_strdup(config)
		                    : phrase_config(dir, counts[i - 1]);
		rg_policy *policy;
		double t0 = mono_now();

		policy = load_policy(path, 0, &error);
		row->build_ms = (mono_now() - t0) * 1e3;
		if (policy == NULL) {
			fprintf(stderr, "engine: %s: %s\n", path, error);
			free(error);
			error = NULL;
			if (i > 0)
				unlink(path);
			g_free(path);
			continue;
		}
		row->label = i == 0 ? "shipped lists (conf/rules)"
		                    : "generated";
		row->patterns = count_phrases(policy);
		phrase_row_measure(policy, c, seconds, row);
		rg_policy_unref(&policy);
		if (i > 0)
			unlink(path);
		g_free(path);
		n++;
	}
	rmdir(dir);
	*rows_r = rows;
	return n;
}

/* ------------------------------------------------------------ output */

static long
peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
usage(FILE *out)
{
	fprintf(out,
	        "usage: bench/engine [-c CONFIG] [-t SECONDS] [-j THREADS] "
	        "[--quick]\n"
	        "                    [--no-stages] [--sizes] [--phrases] "
	        "[--json FILE]\n"
	        "                    [--loop N] [--list-envelopes] "
	        "[--synthetic plain|html:BYTES]\n"
	        "                    [FILE.eml...]\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "no-stages", no_argument, NULL, 'S' },
		{ "sizes", no_argument, NULL, 'z' },
		{ "phrases", no_argument, NULL, 'P' },
		{ "json", required_argument, NULL, 'J' },
		{ "loop", required_argument, NULL, 'L' },
		{ "list-envelopes", no_argument, NULL, 'E' },
		{ "synthetic", required_argument, NULL, 'Y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = RG_SRCDIR "/conf/relaygate.conf";
	const char *json_path = NULL, *synthetic = NULL;
	double seconds = -1;
	int threads = 1, quick = 0, stages = 1, sizes = 0, phrases = 0;
	int list = 0, ch;
	long loop = 0;
	struct corpus c = { 0 };
	char *source = NULL, *error = NULL;
	rg_policy *policy;
	struct throughput tp;
	struct stages st;
	struct size_row *size_rows = NULL;
	struct phrase_row *phrase_rows = NULL;
	size_t n_size_rows = 0, n_phrase_rows = 0;
	FILE *json = NULL;

	while ((ch = getopt_long(argc, argv, "c:t:j:h", longopts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'j': threads = atoi(optarg); break;
		case 'q': quick = 1; break;
		case 'S': stages = 0; break;
		case 'z': sizes = 1; break;
		case 'P': phrases = 1; break;
		case 'J': json_path = optarg; break;
		case 'L': loop = atol(optarg); break;
		case 'E': list = 1; break;
		case 'Y': synthetic = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (seconds <= 0)
		seconds = quick ? 1 : 3;
	if (threads < 1)
		threads = 1;

	if (synthetic != NULL) {
		const char *colon = strchr(synthetic, ':');
		size_t len;
		unsigned char *data;

		if (colon == NULL) {
			usage(stderr);
			return 2;
		}
		data = synth(strtoul(colon + 1, NULL, 10),
		             strncmp(synthetic, "html", 4) == 0, &len);
		fwrite(data, 1, len, stdout);
		g_free(data);
		return 0;
	}
	rg_engine_init();
	policy = load_policy(config, 0, &error);
	if (policy == NULL) {
		fprintf(stderr, "engine: %s: %s\n", config, error);
		return 2;
	}
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			if (corpus_add_file(&c, argv[i]) < 0)
				return 2;
		source = g_path_get_dirname(argv[optind]);
	} else {
		corpus_default(&c, &source);
	}
	if (c.n == 0) {
		fprintf(stderr, "engine: no messages (%s)\n", source);
		return 2;
	}
	for (size_t i = 0; i < c.n; i++)
		msg_prepare(policy, &c.m[i]);

	if (list) {
		for (size_t i = 0; i < c.n; i++)
			printf("%s\t%s\t%s\n", c.m[i].name, c.m[i].sender,
			       c.m[i].rcpt);
		return 0;
	}
	if (loop > 0) {
		rg_scan *scan = rg_scan_new(policy);
		struct tally warm = { 0 }, t = { 0 };

		run_passes(scan, &c, 1, &warm);
		bench_loop(scan, &c, (unsigned)loop, &t);
		printf("messages=%lu bytes=%lu\n", t.messages, t.bytes);
		rg_scan_free(&scan);
		rg_policy_unref(&policy);
		corpus_free(&c);
		g_free(source);
		rg_engine_shutdown();
		return 0;
	}

	printf("# Engine alone: %zu messages (%.1f KB on average) from %s\n\n",
	       c.n, (double)c.bytes / (double)c.n / 1024, source);
	check_families(policy, &c);
	measure_throughput(policy, &c, threads, seconds, &tp);
	printf("| threads | msg/s (wall) | MB/s | msg per CPU-second | "
	       "CPU us/msg |\n|---:|---:|---:|---:|---:|\n"
	       "| %d | %.0f | %.2f | %.0f | %.0f |\n\n", threads, tp.msg_s,
	       tp.mb_s, tp.msg_cpu_s, tp.us_per_msg_cpu);
	printf("Verdicts over %lu scans: pass %lu, warn %lu, quarantine %lu, "
	       "reject %lu; %.1f findings per message; %lu engine errors.\n\n",
	       tp.tally.messages, tp.tally.verdicts[RG_ACTION_OFF],
	       tp.tally.verdicts[RG_ACTION_WARN],
	       tp.tally.verdicts[RG_ACTION_QUARANTINE],
	       tp.tally.verdicts[RG_ACTION_REJECT],
	       (double)tp.tally.findings / (double)tp.tally.messages,
	       tp.tally.errors);
	fflush(stdout);

	if (stages) {
		measure_stages(policy, &c, seconds, &st);
		printf("Per stage, microseconds per message (median of %u "
		       "passes, thread CPU time):\n\n| stage | us/msg | share |\n"
		       "|---|---:|---:|\n", st.passes);
		for (int s = 0; s < N_STAGES; s++)
			printf("| %s | %.1f | %.0f%% |\n", stage_name(s), st.us[s],
			       100 * st.us[s] / st.us[ST_SCAN]);
		printf("\n");
		fflush(stdout);
	}
	if (sizes) {
		/* the text limit (4 MB a part by default) would cut the
		 * largest messages short: raised for this test */
		rg_policy *big = load_policy(config, 16u * 1024 * 1024, &error);

		if (big == NULL) {
			fprintf(stderr, "engine: %s: %s\n", config, error);
			return 2;
		}
		n_size_rows = measure_sizes(big, quick, seconds, &size_rows);
		rg_policy_unref(&big);
		printf("Cost against message size (synthetic seller text with "
		       "order ids, links, phone-like numbers; text limit "
		       "raised to 16 MB; CPU time):\n\n"
		       "| kind | size | us/msg | us/KB | per-KB vs cheapest "
		       "smaller (from 16 KB) | view build us | phrases us | "
		       "links us | contact us |\n"
		       "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		for (size_t i = 0; i < n_size_rows; i++) {
			struct size_row *r = &size_rows[i];

			printf("| %s | %zu KB | %.0f | %.2f | %.2fx%s | %.0f | "
			       "%.0f | %.0f | %.0f |\n",
			       r->html ? "HTML" : "plain", r->len / 1024,
			       r->us_msg, r->us_kb, r->growth,
			       r->flagged ? " **super-linear?**" : "",
			       r->stage_us[ST_VIEW],
			       r->stage_us[ST_FAMILY0 + 8],
			       r->stage_us[ST_FAMILY0 + 2],
			       r->stage_us[ST_FAMILY0 + 3]);
		}
		printf("\n");
		fflush(stdout);
	}
	if (phrases) {
		n_phrase_rows = measure_phrases(config, &c,
		                                quick ? seconds / 2 : seconds,
		                                &phrase_rows);
		printf("Cost against the number of phrase patterns (corpus "
		       "mix):\n\n| lists | patterns | policy build ms | "
		       "phrase rules us/msg | whole scan us/msg |\n"
		       "|---|---:|---:|---:|---:|\n");
		for (size_t i = 0; i < n_phrase_rows; i++)
			printf("| %s | %zu | %.0f | %.1f | %.1f |\n",
			       phrase_rows[i].label, phrase_rows[i].patterns,
			       phrase_rows[i].build_ms,
			       phrase_rows[i].phrases_us,
			       phrase_rows[i].scan_us);
		printf("\n");
	}
	printf("Peak RSS of this process: %.1f MB\n", peak_rss_kb() / 1024.0);

	if (json_path != NULL && (json = fopen(json_path, "w")) == NULL) {
		fprintf(stderr, "engine: %s: %s\n", json_path, strerror(errno));
		return 2;
	}
	if (json != NULL) {
		fprintf(json, "{\n  \"corpus\": ");
		json_str(json, source);
		fprintf(json, ",\n  \"messages\": %zu,\n  \"mean_bytes\": %.0f,\n",
		        c.n, (double)c.bytes / (double)c.n);
		fprintf(json, "  \"throughput\": {\"threads\": %d, "
		        "\"msg_per_s\": %.1f, \"mb_per_s\": %.3f, "
		        "\"msg_per_cpu_s\": %.1f, \"cpu_us_per_msg\": %.1f, "
		        "\"verdicts\": {\"pass\": %lu, \"warn\": %lu, "
		        "\"quarantine\": %lu, \"reject\": %lu}, "
		        "\"errors\": %lu}",
		        tp.threads, tp.msg_s, tp.mb_s, tp.msg_cpu_s,
		        tp.us_per_msg_cpu, tp.tally.verdicts[RG_ACTION_OFF],
		        tp.tally.verdicts[RG_ACTION_WARN],
		        tp.tally.verdicts[RG_ACTION_QUARANTINE],
		        tp.tally.verdicts[RG_ACTION_REJECT], tp.tally.errors);
		if (stages) {
			fprintf(json, ",\n  \"stages_us_per_msg\": {");
			for (int s = 0; s < N_STAGES; s++)
				fprintf(json, "%s\"%s\": %.2f", s ? ", " : "",
				        stage_key(s), st.us[s]);
			fprintf(json, "}");
		}
		if (sizes) {
			fprintf(json, ",\n  \"sizes\": [");
			for (size_t i = 0; i < n_size_rows; i++) {
				struct size_row *r = &size_rows[i];

				fprintf(json, "%s\n    {\"kind\": \"%s\", "
				        "\"bytes\": %zu, \"us_per_msg\": %.1f, "
				        "\"us_per_kb\": %.3f, \"growth\": %.2f, "
				        "\"super_linear\": %s, \"stages_us\": {",
				        i ? "," : "", r->html ? "html" : "plain",
				        r->len, r->us_msg, r->us_kb, r->growth,
				        r->flagged ? "true" : "false");
				for (int s = 0; s < N_STAGES; s++)
					fprintf(json, "%s\"%s\": %.1f",
					        s ? ", " : "", stage_key(s),
					        r->stage_us[s]);
				fprintf(json, "}}");
			}
			fprintf(json, "\n  ]");
		}
		if (phrases) {
			fprintf(json, ",\n  \"phrases\": [");
			for (size_t i = 0; i < n_phrase_rows; i++)
				fprintf(json, "%s\n    {\"lists\": \"%s\", "
				        "\"patterns\": %zu, \"build_ms\": %.1f, "
				        "\"phrases_us_per_msg\": %.2f, "
				        "\"scan_us_per_msg\": %.2f}",
				        i ? "," : "", phrase_rows[i].label,
				        phrase_rows[i].patterns,
				        phrase_rows[i].build_ms,
				        phrase_rows[i].phrases_us,
				        phrase_rows[i].scan_us);
			fprintf(json, "\n  ]");
		}
		fprintf(json, ",\n  \"peak_rss_kb\": %ld\n}\n", peak_rss_kb());
		fclose(json);
	}
	g_free(size_rows);
	g_free(phrase_rows);
	rg_policy_unref(&policy);
	corpus_free(&c);
	g_free(source);
	rg_engine_shutdown();
	return 0;
}
