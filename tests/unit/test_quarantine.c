/*
 * test_quarantine.c - the quarantine store: records written and read back
 * (from memory and from a file), modes on disk, state transitions (two
 * reviewers, one wins; a release marker works once), the release digest
 * and marker, release and drop through a sendmail stand-in, notices
 * retried and given up, retention purge, list filters, and a store that
 * cannot be written leaving nothing behind.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "store/quarantine.h"
#include "testutil.h"

static const char message[] =
	"Received: from client (localhost [127.0.0.1])\r\n"
	"\tby mx.example (Postfix) with ESMTP id 4ABC\r\n"
	"From: Northwind Garden <orders@northwind-garden.example>\r\n"
	"To: 2m7kq9xw4p1rz8d@marketplace.amazon.com\r\n"
	"Subject: A quick word about your planter\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"\r\n"
	"Thanks so much for choosing us! \xf0\x9f\x98\x80\r\n"
	".a line with a leading dot\r\n";

struct fixture {
	char *dir;                   /* temp dir: store/, stub, out/ */
	char *store_dir;
	rgq_store *store;
	rg_policy *policy;
	struct rgq_delivery delivery;
	struct rgq_notice_params notice;
	struct rgq_review rv;
};

/* a sendmail stand-in: argv and stdin of call N into out/N.args, .data;
 * exits with the number in the file "exit" (0 when absent) */
static const char stub[] =
	"#!/bin/sh\n"
	"d=$(dirname \"$0\")\n"
	"n=$(cat \"$d/seq\" 2>/dev/null || echo 0); n=$((n + 1))\n"
	"echo $n > \"$d/seq\"\n"
	"printf '%s\\n' \"$@\" > \"$d/out/$n.args\"\n"
	"cat > \"$d/out/$n.data\"\n"
	"exit $(cat \"$d/exit\" 2>/dev/null || echo 0)\n";

static int
setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char *path, *error = NULL;

	f->dir = g_dir_make_tmp("rg-quarantine-XXXXXX", NULL);
	assert_non_null(f->dir);
	f->store_dir = g_build_filename(f->dir, "store", NULL);
	f->store = rgq_store_open(f->store_dir, 1, &error);
	if (f->store == NULL)
		fail_msg("open: %s", error);
	path = g_build_filename(f->dir, "sendmail", NULL);
	assert_true(g_file_set_contents(path, stub, -1, NULL));
	assert_int_equal(chmod(path, 0755), 0);
	f->delivery.method = RGQ_SENDMAIL;
	f->delivery.sendmail = path;
	path = g_build_filename(f->dir, "out", NULL);
	assert_int_equal(g_mkdir(path, 0700), 0);
	g_free(path);
	f->policy = tu_policy();
	f->notice.from = "relaygate <postmaster@mx.example>";
	f->notice.contact = "Call the mail desk, extension 42.";
	f->notice.hostname = "mx.example";
	f->rv.store = f->store;
	f->rv.delivery = &f->delivery;
	f->rv.notice = &f->notice;
	f->rv.policy = f->policy;
	f->rv.notify = 1;
	f->rv.actor = "alice";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

	rgq_store_close(&f->store);
	rg_policy_unref(&f->policy);
	if (system(cmd) != 0)
		print_message("cannot remove %s\n", f->dir);
	g_free(cmd);
	g_free((char *)f->delivery.sendmail);
	g_free(f->store_dir);
	g_free(f->dir);
	g_free(f);
	return 0;
}

/* set_exit - the stub's next exit status */
static void
set_exit(struct fixture *f, int code)
{
	char *path = g_build_filename(f->dir, "exit", NULL);
	char *text = g_strdup_printf("%d\n", code);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	g_free(path);
	g_free(text);
}

/* calls - how many times the stub ran */
static int
calls(struct fixture *f)
{
	char *path = g_build_filename(f->dir, "seq", NULL);
	char *text = NULL;
	int n = 0;

	if (g_file_get_contents(path, &text, NULL, NULL))
		n = atoi(text);
	g_free(text);
	g_free(path);
	return n;
}

/* call_file - what the stub got in call n ("args" or "data"); g_free */
static char *
call_file(struct fixture *f, int n, const char *what)
{
	char *path = g_strdup_printf("%s/out/%d.%s", f->dir, n, what);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("no %s", path);
	g_free(path);
	return text;
}

/* put - a held record with two findings and two recipients */
static void
put(struct fixture *f, struct rgq_record *rec, int64_t created,
    const char *sender)
{
	struct rg_finding findings[2];
	struct rg_result res;
	char *error = NULL;

	memset(rec, 0, sizeof(*rec));
	rgq_new_id(rec->id);
	rec->created = created;
	rec->queue_id = g_strdup("4ABC");
	rec->sender = g_strdup(sender);
	rec->auth_user = g_strdup("seller1");
	rec->subject = g_strdup("A quick word about your planter");
	rg_strlist_add(&rec->recipients,
	               "2m7kq9xw4p1rz8d@marketplace.amazon.com");
	rg_strlist_add(&rec->recipients, "archive@northwind-garden.example");
	memset(findings, 0, sizeof(findings));
	findings[0].rule = RG_RULE_EMOJI;
	findings[0].action = RG_ACTION_QUARANTINE;
	findings[0].part = (char *)"1";
	findings[0].line = 1;
	findings[0].column = 31;
	findings[0].excerpt = (char *)"\xf0\x9f\x98\x80";
	findings[1].rule = RG_RULE_UNCHECKABLE;
	findings[1].action = RG_ACTION_WARN;
	findings[1].part = (char *)"message";
	findings[1].excerpt = (char *)"odd \"quoted\" text";
	memset(&res, 0, sizeof(res));
	res.verdict = RG_ACTION_QUARANTINE;
	res.findings = findings;
	res.count = 2;
	rgq_record_set_findings(rec, &res);
	if (rgq_store_put(f->store, rec, (const unsigned char *)message,
	                  strlen(message), -1, NULL, &error) < 0)
		fail_msg("put: %s", error);
}

static void
assert_mode(const char *path, mode_t want)
{
	struct stat st;

	if (stat(path, &st) < 0)
		fail_msg("%s: %s", path, strerror(errno));
	if ((st.st_mode & 07777) != want)
		fail_msg("%s: mode %o, want %o", path,
		         (unsigned)(st.st_mode & 07777), (unsigned)want);
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct rgq_record rec, got, fromfd;
	unsigned char *data;
	size_t len;
	char *error = NULL, *path, *sum, prefix[RGQ_ID_MIN_PREFIX + 1];
	FILE *tmp;

	put(f, &rec, 1700000000, "orders@northwind-garden.example");
	assert_int_equal(rgq_store_get(f->store, rec.id, &got, &error), 1);
	assert_string_equal(got.id, rec.id);
	assert_int_equal(got.created, 1700000000);
	assert_string_equal(got.queue_id, "4ABC");
	assert_string_equal(got.sender, "orders@northwind-garden.example");
	assert_string_equal(got.auth_user, "seller1");
	assert_string_equal(got.subject, "A quick word about your planter");
	assert_int_equal(got.recipients.count, 2);
	assert_string_equal(got.recipients.items[1],
	                    "archive@northwind-garden.example");
	assert_int_equal(got.size, strlen(message));
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
	                                  (const guchar *)message,
	                                  strlen(message));
	assert_string_equal(got.sha256, sum);
	g_free(sum);
	assert_int_equal(got.verdict, RG_ACTION_QUARANTINE);
	assert_int_equal(got.state, RGQ_HELD);
	assert_int_equal(got.n_findings, 2);
	assert_int_equal(got.findings[0].rule, RG_RULE_EMOJI);
	assert_int_equal(got.findings[0].action, RG_ACTION_QUARANTINE);
	assert_string_equal(got.findings[0].part, "1");
	assert_int_equal(got.findings[0].line, 1);
	assert_int_equal(got.findings[0].column, 31);
	assert_string_equal(got.findings[0].excerpt, "\xf0\x9f\x98\x80");
	assert_int_equal(got.findings[1].rule, RG_RULE_UNCHECKABLE);
	assert_string_equal(got.findings[1].excerpt, "odd \"quoted\" text");
	rgq_record_clear(&got);

	/* by a unique prefix; a too short one is refused */
	memcpy(prefix, rec.id, RGQ_ID_MIN_PREFIX);
	prefix[RGQ_ID_MIN_PREFIX] = '\0';
	assert_int_equal(rgq_store_get(f->store, prefix, &got, &error), 1);
	assert_string_equal(got.id, rec.id);
	rgq_record_clear(&got);
	assert_int_equal(rgq_store_get(f->store, "abc", &got, &error), 0);
	assert_non_null(strstr(error, "not a record id"));
	g_free(error);
	assert_int_equal(rgq_store_get(f->store, "0123456789abcdef", &got,
	                               &error), 0);
	assert_non_null(strstr(error, "no such record"));
	g_free(error);

	/* the exact bytes, private on disk */
	assert_int_equal(rgq_store_read_message(f->store, rec.id, &data, &len,
	                                        &error), 0);
	assert_int_equal(len, strlen(message));
	assert_memory_equal(data, message, len);
	g_free(data);
	path = rgq_store_message_path(f->store, rec.id);
	assert_mode(path, 0600);
	g_free(path);
	assert_mode(f->store_dir, 0700);
	path = g_build_filename(f->store_dir, "msg", NULL);
	assert_mode(path, 0700);
	g_free(path);
	path = g_build_filename(f->store_dir, "index.sqlite", NULL);
	assert_mode(path, 0600);
	g_free(path);
	path = g_build_filename(f->store_dir, "release.key", NULL);
	assert_mode(path, 0600);
	g_free(path);

	/* from a file descriptor (the milter's spilled spool) */
	tmp = tmpfile();
	assert_non_null(tmp);
	assert_int_equal(fwrite(message, 1, strlen(message), tmp),
	                 strlen(message));
	fflush(tmp);
	lseek(fileno(tmp), 0, SEEK_SET);
	memset(&fromfd, 0, sizeof(fromfd));
	rgq_new_id(fromfd.id);
	fromfd.sender = g_strdup("");
	rg_strlist_add(&fromfd.recipients, "x@marketplace.amazon.de");
	if (rgq_store_put(f->store, &fromfd, NULL, 0, fileno(tmp), NULL,
	                  &error) < 0)
		fail_msg("put from fd: %s", error);
	fclose(tmp);
	assert_int_equal(fromfd.size, strlen(message));
	assert_int_equal(rgq_store_read_message(f->store, fromfd.id, &data,
	                                        &len, &error), 0);
	assert_memory_equal(data, message, strlen(message));
	g_free(data);
	assert_true(fromfd.created > 0);
	rgq_record_clear(&fromfd);
	rgq_record_clear(&rec);
}

static void
test_transitions(void **state)
{
	struct fixture *f = *state;
	struct rgq_record a, b, got;
	char *error = NULL;

	put(f, &a, 0, "orders@northwind-garden.example");
	put(f, &b, 0, "orders@northwind-garden.example");
	/* two reviewers release a at once: one wins */
	assert_int_equal(rgq_store_transition(f->store, a.id, RGQ_HELD,
	                                      RGQ_RELEASING, "alice", "ok",
	                                      &error), 1);
	assert_int_equal(rgq_store_transition(f->store, a.id, RGQ_HELD,
	                                      RGQ_RELEASING, "bob", "ok",
	                                      &error), 0);
	/* nor can it be dropped now */
	assert_int_equal(rgq_store_transition(f->store, a.id, RGQ_HELD,
	                                      RGQ_DROPPED, "bob", "no",
	                                      &error), 0);
	/* the milter claims the release once; a replay finds nothing */
	assert_int_equal(rgq_store_claim_release(f->store, a.id, &error), 1);
	assert_int_equal(rgq_store_claim_release(f->store, a.id, &error), 0);
	/* a marker for a record that is only held does not release it */
	assert_int_equal(rgq_store_claim_release(f->store, b.id, &error), 0);
	assert_int_equal(rgq_store_get(f->store, a.id, &got, &error), 1);
	assert_int_equal(got.state, RGQ_RELEASED);
	rgq_record_clear(&got);
	assert_int_equal(rgq_store_get(f->store, b.id, &got, &error), 1);
	assert_int_equal(got.state, RGQ_HELD);
	rgq_record_clear(&got);
	/* an unknown id changes nothing */
	assert_int_equal(rgq_store_transition(f->store, "0000000000000000",
	                                      RGQ_HELD, RGQ_DROPPED, "x", "",
	                                      &error), 0);
	rgq_record_clear(&a);
	rgq_record_clear(&b);
}

/*
 * test_concurrent_reviewers - two processes (two reviewers, each with its
 * own connection to the index) race to release the same records: every
 * record is claimed exactly once
 */
static void
test_concurrent_reviewers(void **state)
{
	enum { N = 40 };
	struct fixture *f = *state;
	struct rgq_record recs[N];
	int wins[2] = { 0, 0 }, rfd[2], status;
	pid_t pid[2];

	for (int i = 0; i < N; i++)
		put(f, &recs[i], 0, "orders@northwind-garden.example");
	for (int p = 0; p < 2; p++) {
		int fd[2];

		assert_int_equal(pipe(fd), 0);
		pid[p] = fork();
		assert_true(pid[p] >= 0);
		if (pid[p] == 0) {
			char *error = NULL;
			rgq_store *s = rgq_store_open(f->store_dir, 0, &error);
			int won = 0;

			close(fd[0]);
			for (int i = 0; s != NULL && i < N; i++)
				if (rgq_store_transition(s, recs[i].id, RGQ_HELD,
				                         RGQ_RELEASING, p ? "bob"
				                         : "alice", "", &error) == 1)
					won++;
			if (write(fd[1], &won, sizeof(won)) != sizeof(won))
				_exit(2);
			won = s != NULL ? 0 : 1;
			/* free what this copy holds (valgrind checks children) */
			rgq_store_close(&s);
			g_free(error);
			for (int i = 0; i < N; i++)
				rgq_record_clear(&recs[i]);
			_exit(won);
		}
		close(fd[1]);
		rfd[p] = fd[0];
	}
	for (int p = 0; p < 2; p++) {
		assert_int_equal(read(rfd[p], &wins[p], sizeof(int)), sizeof(int));
		close(rfd[p]);
		assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(wins[0] + wins[1], N);
	for (int i = 0; i < N; i++)
		rgq_record_clear(&recs[i]);
}

static void
test_digest_relaxed(void **state)
{
	static const struct {
		const char *name;
		const char *a, *b;
		int same;
	} cases[] = {
		{ "trace header added",
		  "Subject: x\r\n\r\nbody\r\n",
		  "Received: from a by b; Mon, 2 Mar 2026\r\nSubject: x\r\n"
		  "\r\nbody\r\n", 1 },
		{ "release marker and our header added",
		  "Subject: x\r\n\r\nbody\r\n",
		  "X-Relaygate-Release: 0123 abc\r\nSubject: x\r\n"
		  "X-Relaygate: released\r\n\r\nbody\r\n", 1 },
		{ "refolded",
		  "Subject: a long\r\n subject\r\n\r\nbody\r\n",
		  "subject:   a long subject\r\n\r\nbody\r\n", 1 },
		{ "LF line ends",
		  "Subject: x\r\n\r\nbody\r\nmore\r\n",
		  "Subject: x\n\nbody\nmore\n", 1 },
		{ "trailing empty lines",
		  "Subject: x\r\n\r\nbody\r\n",
		  "Subject: x\r\n\r\nbody\r\n\r\n\r\n", 1 },
		{ "body changed",
		  "Subject: x\r\n\r\nbody\r\n",
		  "Subject: x\r\n\r\nbodY\r\n", 0 },
		{ "subject changed",
		  "Subject: x\r\n\r\nbody\r\n",
		  "Subject: y\r\n\r\nbody\r\n", 0 },
		{ "header added",
		  "Subject: x\r\n\r\nbody\r\n",
		  "Subject: x\r\nCc: someone@example.com\r\n\r\nbody\r\n", 0 },
		{ "blank line moved into the body",
		  "Subject: x\r\n\r\nbody\r\n",
		  "Subject: x\r\n\r\n\r\nbody\r\n", 0 },
		{ "space inside a word",
		  "Subject: x\r\n\r\nbody\r\n",
		  "Subject: x\r\n\r\nbo dy\r\n", 0 },
	};
	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char da[65], db[65];

		rgq_digest_buffer((const unsigned char *)cases[i].a,
		                  strlen(cases[i].a), da);
		rgq_digest_buffer((const unsigned char *)cases[i].b,
		                  strlen(cases[i].b), db);
		if ((strcmp(da, db) == 0) != cases[i].same)
			fail_msg("%s: digests %s", cases[i].name,
			         cases[i].same ? "differ" : "are equal");
	}
}

static void
test_digest_small_blocks(void **state)
{
	char whole[65], pieces[65];
	size_t len = strlen(message);

	(void)state;
	rgq_digest_buffer((const unsigned char *)message, len, whole);
	for (size_t step = 1; step <= 7; step++) {
		rgq_digest *d = rgq_digest_new();

		for (size_t i = 0; i < len; i += step)
			rgq_digest_update(d, (const unsigned char *)message + i,
			                  i + step <= len ? step : len - i);
		rgq_digest_finish(&d, pieces);
		assert_null(d);
		assert_string_equal(whole, pieces);
	}
}

static void
test_marker(void **state)
{
	struct fixture *f = *state;
	char digest[65], other[65], id[RGQ_ID_LEN + 1], *value, *why = NULL,
	     *forged, *error = NULL, *dir2;
	rgq_store *second;

	rgq_digest_buffer((const unsigned char *)message, strlen(message),
	                  digest);
	rgq_digest_buffer((const unsigned char *)"Subject: other\r\n\r\nx\r\n",
	                  22, other);
	value = rgq_marker_make(f->store, "0123456789abcdef", digest);
	assert_non_null(value);
	assert_int_equal(rgq_marker_verify(f->store, value, digest, id, &why),
	                 0);
	assert_string_equal(id, "0123456789abcdef");
	/* leading white space, as a header value may have */
	forged = g_strdup_printf("  %s", value);
	assert_int_equal(rgq_marker_verify(f->store, forged, digest, id, &why),
	                 0);
	g_free(forged);

	/* grafted onto other content */
	assert_int_equal(rgq_marker_verify(f->store, value, other, id, &why),
	                 -1);
	assert_non_null(strstr(why, "does not match"));
	g_free(why);
	/* another record id with the same MAC */
	forged = g_strdup(value);
	forged[0] = forged[0] == '0' ? '1' : '0';
	assert_int_equal(rgq_marker_verify(f->store, forged, digest, id, &why),
	                 -1);
	g_free(why);
	/* one MAC digit changed */
	forged[0] = value[0];
	forged[RGQ_ID_LEN + 5] = forged[RGQ_ID_LEN + 5] == 'a' ? 'b' : 'a';
	assert_int_equal(rgq_marker_verify(f->store, forged, digest, id, &why),
	                 -1);
	g_free(why);
	g_free(forged);
	/* malformed */
	assert_int_equal(rgq_marker_verify(f->store, "yes please", digest, id,
	                                   &why), -1);
	assert_non_null(strstr(why, "malformed"));
	g_free(why);
	forged = g_ascii_strup(value, -1);
	assert_int_equal(rgq_marker_verify(f->store, forged, digest, id, &why),
	                 -1);
	g_free(why);
	g_free(forged);
	forged = g_strdup_printf("%s extra", value);
	assert_int_equal(rgq_marker_verify(f->store, forged, digest, id, &why),
	                 -1);
	g_free(why);
	g_free(forged);

	/* another store has another key: its markers do not pass here */
	dir2 = g_build_filename(f->dir, "store2", NULL);
	second = rgq_store_open(dir2, 1, &error);
	assert_non_null(second);
	forged = rgq_marker_make(second, "0123456789abcdef", digest);
	assert_int_equal(rgq_marker_verify(f->store, forged, digest, id, &why),
	                 -1);
	g_free(why);
	g_free(forged);
	rgq_store_close(&second);
	assert_null(second);
	g_free(dir2);
	g_free(value);
}

static void
test_release_once(void **state)
{
	struct fixture *f = *state;
	struct rgq_record rec, got;
	char *error = NULL, *args, *data, *want, digest[65], id[RGQ_ID_LEN + 1],
	     *why = NULL, *lf, *marker_end;

	put(f, &rec, 0, "orders@northwind-garden.example");
	if (rgq_release(&f->rv, rec.id, "checked with the buyer", 0,
	                &error) < 0)
		fail_msg("release: %s", error);
	/* call 1: the message to its original recipients, sender kept */
	assert_int_equal(calls(f), 2);
	args = call_file(f, 1, "args");
	assert_string_equal(args, "-i\n-f\norders@northwind-garden.example\n"
	                    "--\n2m7kq9xw4p1rz8d@marketplace.amazon.com\n"
	                    "archive@northwind-garden.example\n");
	g_free(args);
	/* the exact bytes (LF line ends for local submission) after one
	 * marker header that verifies for this record */
	data = call_file(f, 1, "data");
	assert_true(g_str_has_prefix(data, RGQ_MARKER_HEADER ": "));
	marker_end = strchr(data, '\n');
	assert_non_null(marker_end);
	lf = g_strdup(message);
	{
		GString *s = g_string_new(NULL);

		for (const char *p = message; *p; p++)
			if (!(p[0] == '\r' && p[1] == '\n'))
				g_string_append_c(s, *p);
		g_free(lf);
		lf = g_string_free(s, FALSE);
	}
	assert_string_equal(marker_end + 1, lf);
	want = g_strndup(data + strlen(RGQ_MARKER_HEADER) + 2,
	                 marker_end - data - strlen(RGQ_MARKER_HEADER) - 2);
	rgq_digest_buffer((const unsigned char *)lf, strlen(lf), digest);
	assert_int_equal(rgq_marker_verify(f->store, want, digest, id, &why),
	                 0);
	assert_string_equal(id, rec.id);
	g_free(want);
	g_free(lf);
	g_free(data);
	/* call 2: the notice, from <> to the sender */
	args = call_file(f, 2, "args");
	assert_string_equal(args, "-i\n-f\n<>\n--\n"
	                    "orders@northwind-garden.example\n");
	g_free(args);
	data = call_file(f, 2, "data");
	assert_non_null(strstr(data, "X-Relaygate-Notice: released; id="));
	assert_non_null(strstr(data, "checked with the buyer"));
	g_free(data);

	assert_int_equal(rgq_store_get(f->store, rec.id, &got, &error), 1);
	assert_int_equal(got.state, RGQ_RELEASED);
	assert_string_equal(got.actor, "alice");
	assert_string_equal(got.reason, "checked with the buyer");
	rgq_record_clear(&got);

	/* a second release fails and sends nothing */
	assert_int_equal(rgq_release(&f->rv, rec.id, "again", 0, &error), -1);
	assert_non_null(strstr(error, "not held, released by alice"));
	g_free(error);
	assert_int_equal(rgq_drop(&f->rv, rec.id, "", &error), -1);
	g_free(error);
	assert_int_equal(calls(f), 2);
	rgq_record_clear(&rec);
}

static void
test_release_refused(void **state)
{
	struct fixture *f = *state;
	struct rgq_record rec, got;
	char *error = NULL;
	static const int codes[] = { 75, 67 };

	put(f, &rec, 0, "orders@northwind-garden.example");
	for (size_t i = 0; i < G_N_ELEMENTS(codes); i++) {
		set_exit(f, codes[i]);
		assert_int_equal(rgq_release(&f->rv, rec.id, "", 0, &error), -1);
		assert_non_null(strstr(error, "the MTA refused it"));
		g_free(error);
		/* not delivered: held again, a reviewer can retry */
		assert_int_equal(rgq_store_get(f->store, rec.id, &got, &error),
		                 1);
		assert_int_equal(got.state, RGQ_HELD);
		rgq_record_clear(&got);
	}
	set_exit(f, 0);
	assert_int_equal(rgq_release(&f->rv, rec.id, "", 0, &error), 0);
	/* resume only takes a record left "releasing" */
	assert_int_equal(rgq_release(&f->rv, rec.id, "", 1, &error), -1);
	g_free(error);
	rgq_record_clear(&rec);
}

static void
test_release_resume(void **state)
{
	struct fixture *f = *state;
	struct rgq_record rec, got;
	char *error = NULL;

	put(f, &rec, 0, "orders@northwind-garden.example");
	/* a review that died after claiming the record */
	assert_int_equal(rgq_store_transition(f->store, rec.id, RGQ_HELD,
	                                      RGQ_RELEASING, "bob", "",
	                                      &error), 1);
	assert_int_equal(rgq_release(&f->rv, rec.id, "", 0, &error), -1);
	assert_non_null(strstr(error, "being released by bob"));
	g_free(error);
	assert_int_equal(rgq_release(&f->rv, rec.id, "bob's died", 1,
	                             &error), 0);
	assert_int_equal(rgq_store_get(f->store, rec.id, &got, &error), 1);
	assert_int_equal(got.state, RGQ_RELEASED);
	rgq_record_clear(&got);
	rgq_record_clear(&rec);
}

static void
test_drop(void **state)
{
	struct fixture *f = *state;
	struct rgq_record rec, got, quiet;
	char *error = NULL, *path, *args;
	unsigned char *data;
	size_t len;

	put(f, &rec, 0, "orders@northwind-garden.example");
	assert_int_equal(rgq_drop(&f->rv, rec.id, "links to our shop", &error),
	                 0);
	path = rgq_store_message_path(f->store, rec.id);
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_free(path);
	assert_int_equal(rgq_store_read_message(f->store, rec.id, &data, &len,
	                                        &error), -1);
	g_free(error);
	assert_int_equal(rgq_store_get(f->store, rec.id, &got, &error), 1);
	assert_int_equal(got.state, RGQ_DROPPED);
	assert_string_equal(got.reason, "links to our shop");
	rgq_record_clear(&got);
	/* the sender is told */
	assert_int_equal(calls(f), 1);
	args = call_file(f, 1, "args");
	assert_string_equal(args, "-i\n-f\n<>\n--\n"
	                    "orders@northwind-garden.example\n");
	g_free(args);
	args = call_file(f, 1, "data");
	assert_non_null(strstr(args, "X-Relaygate-Notice: dropped; id="));
	g_free(args);
	/* not twice, and it cannot be released any more */
	assert_int_equal(rgq_drop(&f->rv, rec.id, "", &error), -1);
	g_free(error);
	assert_int_equal(rgq_release(&f->rv, rec.id, "", 0, &error), -1);
	g_free(error);

	/* no notice to a null sender or a relay address */
	put(f, &quiet, 0, "");
	assert_int_equal(rgq_drop(&f->rv, quiet.id, "", &error), 0);
	rgq_record_clear(&quiet);
	put(f, &quiet, 0, "buyer@marketplace.amazon.de");
	assert_int_equal(rgq_drop(&f->rv, quiet.id, "", &error), 0);
	rgq_record_clear(&quiet);
	assert_int_equal(calls(f), 1);
	rgq_record_clear(&rec);
}

static void
test_notice_retry(void **state)
{
	struct fixture *f = *state;
	struct rgq_notice_job job = { "held", "orders@northwind-garden.example",
	                              (const unsigned char *)"Subject: n\r\n"
	                              "\r\nnotice\r\n", 22 };
	struct rgq_record rec;
	struct rgq_stats st;
	char *error = NULL;

	put(f, &rec, 0, "orders@northwind-garden.example");
	assert_int_equal(rgq_store_enqueue_notice(f->store, rec.id, &job,
	                                          &error), 0);
	/* the MTA is not there: kept, retried later, not now */
	set_exit(f, 75);
	assert_int_equal(rgq_flush_notices(f->store, &f->delivery, 0, 0,
	                                   &error), 0);
	assert_int_equal(calls(f), 1);
	assert_int_equal(rgq_flush_notices(f->store, &f->delivery, 0, 0,
	                                   &error), 0);
	assert_int_equal(calls(f), 1);
	assert_int_equal(rgq_store_stats(f->store, 0, 10, &st, &error), 0);
	assert_int_equal(st.notices_pending, 1);
	rgq_stats_clear(&st);
	/* forced, and the MTA is back */
	set_exit(f, 0);
	assert_int_equal(rgq_flush_notices(f->store, &f->delivery, 1, 0,
	                                   &error), 1);
	assert_int_equal(calls(f), 2);
	assert_int_equal(rgq_flush_notices(f->store, &f->delivery, 1, 0,
	                                   &error), 0);
	/* a permanent refusal is given up, and counted */
	assert_int_equal(rgq_store_enqueue_notice(f->store, rec.id, &job,
	                                          &error), 0);
	set_exit(f, 67);
	assert_int_equal(rgq_flush_notices(f->store, &f->delivery, 0, 0,
	                                   &error), 0);
	assert_int_equal(rgq_store_stats(f->store, 0, 10, &st, &error), 0);
	assert_int_equal(st.notices_sent, 1);
	assert_int_equal(st.notices_failed, 1);
	assert_int_equal(st.notices_pending, 0);
	rgq_stats_clear(&st);
	rgq_record_clear(&rec);
}

/* age_file - set a file's times n seconds back */
static void
age_file(const char *path, long n)
{
	struct utimbuf t;

	t.actime = t.modtime = time(NULL) - n;
	assert_int_equal(utime(path, &t), 0);
}

static void
test_purge(void **state)
{
	struct fixture *f = *state;
	struct rgq_record old_held, old_released, recent, got;
	int64_t now = (int64_t)time(NULL);
	unsigned long dropped, deleted;
	char *error = NULL, *stray_tmp, *stray_msg, *fresh, *path;

	put(f, &old_held, now - 40 * 86400, "orders@northwind-garden.example");
	put(f, &old_released, now - 35 * 86400,
	    "orders@northwind-garden.example");
	assert_int_equal(rgq_release(&f->rv, old_released.id, "", 0, &error),
	                 0);
	put(f, &recent, now - 86400, "orders@northwind-garden.example");
	stray_tmp = g_build_filename(f->store_dir, "tmp", "0000000000000001",
	                             NULL);
	stray_msg = g_build_filename(f->store_dir, "msg", "0000000000000002",
	                             NULL);
	fresh = g_build_filename(f->store_dir, "msg", "0000000000000003",
	                         NULL);
	assert_true(g_file_set_contents(stray_tmp, "x", 1, NULL));
	assert_true(g_file_set_contents(stray_msg, "x", 1, NULL));
	assert_true(g_file_set_contents(fresh, "x", 1, NULL));
	age_file(stray_tmp, 7200);
	age_file(stray_msg, 7200);

	/* a dry run changes nothing */
	assert_int_equal(rgq_purge(&f->rv, now - 30 * 86400, 1, &dropped,
	                           &deleted, &error), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(deleted, 2);
	assert_int_equal(rgq_store_get(f->store, old_held.id, &got, &error), 1);
	assert_int_equal(got.state, RGQ_HELD);
	rgq_record_clear(&got);
	assert_true(g_file_test(stray_tmp, G_FILE_TEST_EXISTS));

	assert_int_equal(rgq_purge(&f->rv, now - 30 * 86400, 0, &dropped,
	                           &deleted, &error), 0);
	assert_int_equal(dropped, 1);
	assert_int_equal(deleted, 2);
	assert_int_equal(rgq_store_get(f->store, old_held.id, &got, &error), 0);
	g_free(error);
	assert_int_equal(rgq_store_get(f->store, old_released.id, &got,
	                               &error), 0);
	g_free(error);
	path = rgq_store_message_path(f->store, old_released.id);
	assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_free(path);
	assert_int_equal(rgq_store_get(f->store, recent.id, &got, &error), 1);
	assert_int_equal(got.state, RGQ_HELD);
	rgq_record_clear(&got);
	path = rgq_store_message_path(f->store, recent.id);
	assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	g_free(path);
	/* the held one's sender was told (release: 2 calls, then 1) */
	assert_int_equal(calls(f), 3);
	/* stray files older than an hour go, a fresh one stays */
	assert_false(g_file_test(stray_tmp, G_FILE_TEST_EXISTS));
	assert_false(g_file_test(stray_msg, G_FILE_TEST_EXISTS));
	assert_true(g_file_test(fresh, G_FILE_TEST_EXISTS));
	g_free(stray_tmp);
	g_free(stray_msg);
	g_free(fresh);
	rgq_record_clear(&old_held);
	rgq_record_clear(&old_released);
	rgq_record_clear(&recent);
}

static void
test_list_filters(void **state)
{
	struct fixture *f = *state;
	struct rgq_record a, b, c, *recs;
	struct rgq_filter filter;
	struct rgq_stats st;
	int64_t now = (int64_t)time(NULL);
	char *error = NULL;
	size_t n;

	put(f, &a, now - 3 * 86400, "one@shop.example");
	put(f, &b, now - 3600, "Two@Shop.Example");
	put(f, &c, now - 60, "two@shop.example");
	assert_int_equal(rgq_drop(&f->rv, c.id, "", &error), 0);

	memset(&filter, 0, sizeof(filter));
	assert_int_equal(rgq_store_list(f->store, &filter, &recs, &n, &error),
	                 0);
	assert_int_equal(n, 2);             /* held only, newest first */
	assert_string_equal(recs[0].id, b.id);
	assert_string_equal(recs[1].id, a.id);
	for (size_t i = 0; i < n; i++)
		rgq_record_clear(&recs[i]);
	g_free(recs);

	filter.any_state = 1;
	filter.sender = "TWO@shop.example";
	assert_int_equal(rgq_store_list(f->store, &filter, &recs, &n, &error),
	                 0);
	assert_int_equal(n, 2);
	assert_string_equal(recs[0].id, c.id);
	assert_int_equal(recs[0].state, RGQ_DROPPED);
	for (size_t i = 0; i < n; i++)
		rgq_record_clear(&recs[i]);
	g_free(recs);

	memset(&filter, 0, sizeof(filter));
	filter.since = now - 86400;
	filter.rule = "emoji";
	assert_int_equal(rgq_store_list(f->store, &filter, &recs, &n, &error),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, b.id);
	rgq_record_clear(&recs[0]);
	g_free(recs);
	filter.rule = "phone-number";
	assert_int_equal(rgq_store_list(f->store, &filter, &recs, &n, &error),
	                 0);
	assert_int_equal(n, 0);
	g_free(recs);
	memset(&filter, 0, sizeof(filter));
	filter.before = now - 86400;
	filter.auth_user = "seller1";
	assert_int_equal(rgq_store_list(f->store, &filter, &recs, &n, &error),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].id, a.id);
	rgq_record_clear(&recs[0]);
	g_free(recs);

	assert_int_equal(rgq_store_stats(f->store, now - 86400, 10, &st,
	                                 &error), 0);
	assert_int_equal(st.by_state[RGQ_HELD], 1);
	assert_int_equal(st.by_state[RGQ_DROPPED], 1);
	assert_int_equal(st.n_rules, 2);    /* emoji, uncheckable */
	assert_int_equal(st.by_rule[0].n, 2);
	assert_int_equal(st.n_senders, 2);
	rgq_stats_clear(&st);
	rgq_record_clear(&a);
	rgq_record_clear(&b);
	rgq_record_clear(&c);
}

static void
test_put_unwritable(void **state)
{
	struct fixture *f = *state;
	struct rgq_record rec, got;
	struct rgq_filter filter;
	struct rgq_record *recs;
	char *msgdir = g_build_filename(f->store_dir, "msg", NULL);
	char *away = g_build_filename(f->store_dir, "msg.away", NULL);
	char *error = NULL, *tmpdir;
	GDir *d;
	size_t n;

	/* the message directory replaced by a file (as root, modes would
	 * not stop us) */
	assert_int_equal(rename(msgdir, away), 0);
	assert_true(g_file_set_contents(msgdir, "", 0, NULL));
	memset(&rec, 0, sizeof(rec));
	rgq_new_id(rec.id);
	rec.sender = g_strdup("orders@northwind-garden.example");
	rg_strlist_add(&rec.recipients, "x@marketplace.amazon.com");
	assert_int_equal(rgq_store_put(f->store, &rec,
	                               (const unsigned char *)message,
	                               strlen(message), -1, NULL, &error), -1);
	assert_non_null(error);
	g_free(error);
	/* no record, no file left behind */
	assert_int_equal(rgq_store_get(f->store, rec.id, &got, &error), 0);
	g_free(error);
	memset(&filter, 0, sizeof(filter));
	filter.any_state = 1;
	assert_int_equal(rgq_store_list(f->store, &filter, &recs, &n, &error),
	                 0);
	assert_int_equal(n, 0);
	g_free(recs);
	tmpdir = g_build_filename(f->store_dir, "tmp", NULL);
	d = g_dir_open(tmpdir, 0, NULL);
	assert_non_null(d);
	assert_null(g_dir_read_name(d));
	g_dir_close(d);
	g_free(tmpdir);
	assert_int_equal(unlink(msgdir), 0);
	assert_int_equal(rename(away, msgdir), 0);
	/* and once it is back, the same record goes in */
	assert_int_equal(rgq_store_put(f->store, &rec,
	                               (const unsigned char *)message,
	                               strlen(message), -1, NULL, &error), 0);
	rgq_record_clear(&rec);
	g_free(msgdir);
	g_free(away);
}

static void
test_open_errors(void **state)
{
	struct fixture *f = *state;
	char *error = NULL, *path, *key;
	rgq_store *s;

	/* not there, and not to be created */
	path = g_build_filename(f->dir, "nothing", NULL);
	assert_null(rgq_store_open(path, 0, &error));
	assert_non_null(strstr(error, "nothing"));
	g_free(error);
	g_free(path);
	assert_null(rgq_store_open("relative/dir", 1, &error));
	assert_non_null(strstr(error, "absolute"));
	g_free(error);
	/* a key others can read is refused */
	key = g_build_filename(f->store_dir, "release.key", NULL);
	assert_int_equal(chmod(key, 0644), 0);
	s = rgq_store_open(f->store_dir, 0, &error);
	assert_null(s);
	assert_non_null(strstr(error, "0600"));
	g_free(error);
	assert_int_equal(chmod(key, 0600), 0);
	s = rgq_store_open(f->store_dir, 0, &error);
	assert_non_null(s);
	rgq_store_close(&s);
	g_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transitions, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_reviewers, setup,
		                                teardown),
		cmocka_unit_test(test_digest_relaxed),
		cmocka_unit_test(test_digest_small_blocks),
		cmocka_unit_test_setup_teardown(test_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_once, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_release_refused, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_release_resume, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notice_retry, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_put_unwritable, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup,
		                                teardown),
	};

	rg_engine_init();
	rgq_set_logger(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
