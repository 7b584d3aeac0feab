/*
 * spool.c - a message collected for scanning: in memory up to a limit, then
 * in a private temp file (mkstemp in the spool directory, unlinked at once,
 * mode 0600) so a big body never sits in memory and nothing is left behind
 * when the process dies (OpenDKIM dkim_tmpfile does the same).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "milter.h"

#define SPOOL_MIN_ALLOC 8192

void
rgm_spool_init(struct rgm_spool *spool, size_t mem_limit)
{
	memset(spool, 0, sizeof(*spool));
	spool->fd = -1;
	spool->mem_limit = mem_limit;
}

void
rgm_spool_clear(struct rgm_spool *spool)
{
	free(spool->buf);
	spool->buf = NULL;
	spool->len = spool->cap = 0;
	if (spool->fd >= 0)
		(void)close(spool->fd);
	spool->fd = -1;
	spool->total = 0;
}

/*
 * spool_error - *error_r = "what: strerror(err)" (NULL if no memory)
 */
static void
spool_error(char **error_r, const char *what, const char *dir, int err)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s%s%s: %s", what, dir ? " " : "",
	         dir ? dir : "", strerror(err));
	*error_r = strdup(buf);
}

/*
 * write_all - write len bytes, retrying short writes and EINTR; 0 or -1
 */
static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * spill - move what is in memory to a new unlinked temp file in dir
 */
static int
spill(struct rgm_spool *spool, const char *dir, char **error_r)
{
	char path[4096];
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/relaygate.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		spool_error(error_r, "spool directory name too long:", NULL,
		            ENAMETOOLONG);
		return -1;
	}
	/* mkstemp creates 0600 on glibc; the umask keeps it so elsewhere */
	fd = mkstemp(path);
	if (fd < 0) {
		spool_error(error_r, "cannot create a temp file in", dir, errno);
		return -1;
	}
	if (unlink(path) < 0) {
		int err = errno;

		(void)close(fd);
		spool_error(error_r, "cannot unlink temp file in", dir, err);
		return -1;
	}
	if (write_all(fd, spool->buf, spool->len) < 0) {
		int err = errno;

		(void)close(fd);
		spool_error(error_r, "cannot write temp file in", dir, err);
		return -1;
	}
	free(spool->buf);
	spool->buf = NULL;
	spool->len = spool->cap = 0;
	spool->fd = fd;
	return 0;
}

int
rgm_spool_append(struct rgm_spool *spool, const char *dir, const void *data,
                 size_t len, char **error_r)
{
	*error_r = NULL;
	if (len == 0)
		return 0;
	/* invariant: in memory, len <= mem_limit */
	if (spool->fd < 0 && len > spool->mem_limit - spool->len) {
		if (spill(spool, dir, error_r) < 0)
			return -1;
	}
	if (spool->fd >= 0) {
		if (write_all(spool->fd, data, len) < 0) {
			spool_error(error_r, "cannot write temp file in", dir,
			            errno);
			return -1;
		}
		spool->total += len;
		return 0;
	}
	if (len > spool->cap - spool->len) {
		size_t need = spool->len + len;
		size_t cap = spool->cap ? spool->cap : SPOOL_MIN_ALLOC;
		unsigned char *buf;

		/* double, but never past the memory limit (need fits in it) */
		while (cap < need)
			cap = cap > spool->mem_limit / 2 ? spool->mem_limit
			                                 : cap * 2;
		if (cap > spool->mem_limit)
			cap = spool->mem_limit;
		buf = realloc(spool->buf, cap);
		if (buf == NULL) {
			spool_error(error_r, "cannot grow message buffer",
			            NULL, ENOMEM);
			return -1;
		}
		spool->buf = buf;
		spool->cap = cap;
	}
	memcpy(spool->buf + spool->len, data, len);
	spool->len += len;
	spool->total += len;
	return 0;
}

int
rgm_spool_rewind(struct rgm_spool *spool)
{
	if (spool->fd < 0)
		return 0;
	return lseek(spool->fd, 0, SEEK_SET) == (off_t)-1 ? -1 : 0;
}
