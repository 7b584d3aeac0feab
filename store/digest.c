/*
 * digest.c - the release marker: how a reviewed message passes the milter
 * once, and nothing else can.
 *
 * `relaygate quarantine release` sends the stored bytes with one header
 * on top, "X-Relaygate-Release: ID MAC", where MAC is HMAC-SHA256 under a
 * key only the relaygate user can read (DIR/release.key, 0600) over the
 * record id and a digest of the message.  The milter recomputes both; a
 * genuine marker moves the record from "releasing" to "released" in one
 * UPDATE (quarantine.c), so it works once.  A sender cannot make a MAC without
 * the key, cannot reuse one (the record is no longer "releasing"), and
 * cannot graft one onto other content (the digest would differ): such a
 * message is judged like any other.
 *
 * The digest is taken over a relaxed form of the message (see
 * quarantine.h) because the message passes the MTA twice: trace headers
 * are added and header white space may be re-folded on the way back in.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "store/quarantine.h"
#include "store/quarantine-internal.h"

#define MARKER_CONTEXT "relaygate-release-1\n"

/* ------------------------------------------------------------- key */

/*
 * read_key - the key file into s->key; 1 read, 0 missing, -1 error
 */
static int
read_key(rgq_store *s, const char *path, char **error_r)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 077) != 0 || st.st_size != RGQ_KEY_BYTES) {
		*error_r = g_strdup_printf("%s: must be a %d-byte file that "
		                           "only its owner can read (mode "
		                           "0600)", path, RGQ_KEY_BYTES);
		(void)close(fd);
		return -1;
	}
	do
		n = read(fd, s->key, RGQ_KEY_BYTES);
	while (n < 0 && errno == EINTR);
	(void)close(fd);
	if (n != RGQ_KEY_BYTES) {
		*error_r = g_strdup_printf("%s: cannot read the key", path);
		return -1;
	}
	s->has_key = 1;
	return 1;
}

/*
 * make_key - a new key file, published with link() so that of two
 * processes making one at once, both end up with the same key
 */
static int
make_key(rgq_store *s, const char *path, char **error_r)
{
	unsigned char key[RGQ_KEY_BYTES];
	char *tmp;
	size_t got = 0;
	int fd, err = 0;

	while (got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = g_strdup_printf("getrandom: %s",
			                           g_strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	tmp = g_strdup_printf("%s/tmp/release.key.%ld", s->dir,
	                      (long)getpid());
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
	    fsync(fd) < 0)
		err = errno;
	if (fd >= 0)
		(void)close(fd);
	if (err == 0 && link(tmp, path) < 0 && errno != EEXIST)
		err = errno;
	(void)unlink(tmp);
	explicit_bzero(key, sizeof(key));
	if (err != 0) {
		*error_r = g_strdup_printf("cannot create %s: %s", path,
		                           g_strerror(err));
		g_free(tmp);
		return -1;
	}
	g_free(tmp);
	(void)rgq_fsync_dir(s->dir);
	return read_key(s, path, error_r) == 1 ? 0 : -1;
}

int
rgq_key_load(rgq_store *s, int create, char **error_r)
{
	char *path = g_build_filename(s->dir, "release.key", NULL);
	int r;

	r = read_key(s, path, error_r);
	if (r == 0 && create)
		r = make_key(s, path, error_r) < 0 ? -1 : 1;
	g_free(path);
	return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------- digest */

struct rgq_digest {
	GChecksum *sum;
	int in_body;
	GString *line;               /* header mode: the current line */
	GString *field;              /* header mode: the current field */
	unsigned pending_nl;         /* body: line ends not yet hashed */
	int held_cr;                 /* body: a CR not yet hashed */
};

rgq_digest *
rgq_digest_new(void)
{
	rgq_digest *d = g_new0(rgq_digest, 1);

	d->sum = g_checksum_new(G_CHECKSUM_SHA256);
	d->line = g_string_new(NULL);
	d->field = g_string_new(NULL);
	return d;
}

/* headers the MTA or relaygate add on the way: not part of the digest */
static const char *const skipped[] = {
	"received", "return-path", "x-relaygate", "x-relaygate-release",
};

/*
 * end_field - hash the field collected so far in relaxed form
 */
static void
end_field(rgq_digest *d)
{
	GString *out;
	const char *colon, *p;
	char *name;
	int space = 0, started = 0;

	if (d->field->len == 0)
		return;
	colon = memchr(d->field->str, ':', d->field->len);
	if (colon == NULL)
		colon = d->field->str + d->field->len;
	name = g_ascii_strdown(d->field->str, colon - d->field->str);
	g_strstrip(name);
	for (size_t i = 0; i < G_N_ELEMENTS(skipped); i++) {
		if (strcmp(name, skipped[i]) == 0) {
			g_free(name);
			g_string_truncate(d->field, 0);
			return;
		}
	}
	out = g_string_new(name);
	g_string_append_c(out, ':');
	p = *colon == ':' ? colon + 1 : colon;
	for (; p < d->field->str + d->field->len; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			space = 1;
			continue;
		}
		if (space && started)
			g_string_append_c(out, ' ');
		space = 0;
		started = 1;
		g_string_append_c(out, *p);
	}
	g_string_append(out, "\r\n");
	g_checksum_update(d->sum, (const guchar *)out->str, (gssize)out->len);
	g_string_free(out, TRUE);
	g_free(name);
	g_string_truncate(d->field, 0);
}

/*
 * end_line - a complete header line (without its line end)
 */
static void
end_line(rgq_digest *d)
{
	GString *l = d->line;

	if (l->len > 0 && l->str[l->len - 1] == '\r')
		g_string_truncate(l, l->len - 1);
	if (l->len == 0) {
		end_field(d);
		g_checksum_update(d->sum, (const guchar *)"\r\n", 2);
		d->in_body = 1;
	} else if (l->str[0] == ' ' || l->str[0] == '\t') {
		g_string_append_c(d->field, ' ');
		g_string_append_len(d->field, l->str, (gssize)l->len);
	} else {
		end_field(d);
		g_string_append_len(d->field, l->str, (gssize)l->len);
	}
	g_string_truncate(l, 0);
}

static void
flush_body_breaks(rgq_digest *d)
{
	for (; d->pending_nl > 0; d->pending_nl--)
		g_checksum_update(d->sum, (const guchar *)"\r\n", 2);
}

void
rgq_digest_update(rgq_digest *d, const unsigned char *data, size_t len)
{
	size_t i = 0;

	while (i < len && !d->in_body) {
		const unsigned char *lf = memchr(data + i, '\n', len - i);
		size_t n = lf != NULL ? (size_t)(lf - (data + i)) : len - i;

		g_string_append_len(d->line, (const char *)data + i,
		                    (gssize)n);
		i += n;
		if (lf != NULL) {
			i++;
			end_line(d);
		}
	}
	/* body: line ends as CRLF, trailing ones held back */
	for (; i < len; i++) {
		unsigned char c = data[i];

		if (c == '\n') {
			d->held_cr = 0;
			d->pending_nl++;
			continue;
		}
		if (d->held_cr) {
			flush_body_breaks(d);
			g_checksum_update(d->sum, (const guchar *)"\r", 1);
			d->held_cr = 0;
		}
		if (c == '\r') {
			d->held_cr = 1;
			continue;
		}
		flush_body_breaks(d);
		g_checksum_update(d->sum, &c, 1);
	}
}

void
rgq_digest_finish(rgq_digest **dp, char out[65])
{
	rgq_digest *d = *dp;

	*dp = NULL;
	if (!d->in_body) {
		if (d->line->len > 0)
			end_line(d);
		end_field(d);
	}
	g_strlcpy(out, g_checksum_get_string(d->sum), 65);
	g_checksum_free(d->sum);
	g_string_free(d->line, TRUE);
	g_string_free(d->field, TRUE);
	g_free(d);
}

void
rgq_digest_buffer(const unsigned char *data, size_t len, char out[65])
{
	rgq_digest *d = rgq_digest_new();

	rgq_digest_update(d, data, len);
	rgq_digest_finish(&d, out);
}

/* ------------------------------------------------------------- marker */

/* mac - HMAC-SHA256(key, context id digest) in hex into out */
static void
mac(const rgq_store *s, const char *id, const char *digest, char out[65])
{
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, s->key, RGQ_KEY_BYTES);

	g_hmac_update(h, (const guchar *)MARKER_CONTEXT,
	              (gssize)strlen(MARKER_CONTEXT));
	g_hmac_update(h, (const guchar *)id, (gssize)strlen(id));
	g_hmac_update(h, (const guchar *)"\n", 1);
	g_hmac_update(h, (const guchar *)digest, (gssize)strlen(digest));
	g_strlcpy(out, g_hmac_get_string(h), 65);
	g_hmac_unref(h);
}

char *
rgq_marker_make(rgq_store *s, const char *id, const char *digest)
{
	char m[65];

	if (!s->has_key)
		return NULL;
	mac(s, id, digest, m);
	return g_strdup_printf("%s %s", id, m);
}

static int
all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isxdigit(s[i]) || g_ascii_isupper(s[i]))
			return 0;
	return 1;
}

int
rgq_marker_verify(rgq_store *s, const char *value, const char *digest,
                  char id_r[RGQ_ID_LEN + 1], char **why_r)
{
	char want[65], got[65], id[RGQ_ID_LEN + 1];
	const char *p = value;
	unsigned diff = 0;

	*why_r = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strlen(p) < RGQ_ID_LEN + 1 + 64 || !all_hex(p, RGQ_ID_LEN) ||
	    p[RGQ_ID_LEN] != ' ' || !all_hex(p + RGQ_ID_LEN + 1, 64)) {
		*why_r = g_strdup("malformed release marker");
		return -1;
	}
	for (const char *q = p + RGQ_ID_LEN + 1 + 64; *q != '\0'; q++) {
		if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n') {
			*why_r = g_strdup("malformed release marker");
			return -1;
		}
	}
	memcpy(id, p, RGQ_ID_LEN);
	id[RGQ_ID_LEN] = '\0';
	memcpy(got, p + RGQ_ID_LEN + 1, 64);
	got[64] = '\0';
	if (!s->has_key) {
		*why_r = g_strdup("no release key in the store");
		return -1;
	}
	mac(s, id, digest, want);
	for (size_t i = 0; i < 64; i++)      /* constant time */
		diff |= (unsigned)(want[i] ^ got[i]);
	explicit_bzero(want, sizeof(want));
	if (diff != 0) {
		*why_r = g_strdup_printf("release marker for %s does not match "
		                         "(forged, or the message was changed)",
		                         id);
		return -1;
	}
	memcpy(id_r, id, RGQ_ID_LEN + 1);
	return 0;
}
