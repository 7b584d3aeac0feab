/*
 * deliver.c - handing a message to the local MTA: SMTP to a loopback
 * host and port (the configuration refuses any other host), or the
 * sendmail program run via argv (posix_spawn, never a shell).  Used for
 * notices and for released messages; both go through the MTA's own queue,
 * so relaygate never talks to a remote server itself.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <glib.h>

#include "store/quarantine.h"

extern char **environ;

#define SMTP_LINE_MAX 2048

/* ------------------------------------------------------------- SMTP */

struct smtp {
	int fd;
	char buf[4096];
	size_t len, pos;
	GString *out;                /* data waiting to be sent */
	char last[SMTP_LINE_MAX];    /* the last reply, for errors */
};

static int
send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * read_line - one reply line without its line end; 0 or -1
 */
static int
read_line(struct smtp *c, char *line, size_t size)
{
	size_t o = 0;

	for (;;) {
		if (c->pos == c->len) {
			ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), 0);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = ECONNRESET;
				return -1;
			}
			c->len = (size_t)n;
			c->pos = 0;
		}
		char ch = c->buf[c->pos++];

		if (ch == '\n') {
			if (o > 0 && line[o - 1] == '\r')
				o--;
			line[o] = '\0';
			return 0;
		}
		if (o + 1 < size)
			line[o++] = ch;
	}
}

/*
 * read_reply - a whole (multi-line) reply; its code, or -1 on I/O error.
 * ehlo_8bit_r, when given, is set when a line announces 8BITMIME.
 */
static int
read_reply(struct smtp *c, int *ehlo_8bit_r)
{
	char line[SMTP_LINE_MAX];

	for (;;) {
		if (read_line(c, line, sizeof(line)) < 0)
			return -1;
		if (strlen(line) < 3 || !g_ascii_isdigit(line[0]) ||
		    !g_ascii_isdigit(line[1]) || !g_ascii_isdigit(line[2])) {
			errno = EPROTO;
			return -1;
		}
		if (ehlo_8bit_r != NULL && strlen(line) > 4 &&
		    g_ascii_strncasecmp(line + 4, "8BITMIME", 8) == 0)
			*ehlo_8bit_r = 1;
		g_strlcpy(c->last, line, sizeof(c->last));
		if (line[3] != '-')
			return atoi(line) ;
	}
}

/*
 * command - send a command line, read the reply; its code or -1
 */
static int
command(struct smtp *c, const char *line, int *ehlo_8bit_r)
{
	char *l = g_strdup_printf("%s\r\n", line);
	int r = send_all(c->fd, l, strlen(l));

	g_free(l);
	if (r < 0)
		return -1;
	return read_reply(c, ehlo_8bit_r);
}

static int
smtp_connect(const struct rgq_delivery *d, char **error_r)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv;
	char port[16];
	int fd = -1, r, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", d->port);
	r = getaddrinfo(d->host, port, &hints, &res);
	if (r != 0) {
		*error_r = g_strdup_printf("%s: %s", d->host, gai_strerror(r));
		return -1;
	}
	tv.tv_sec = d->timeout ? d->timeout : 120;
	tv.tv_usec = 0;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		(void)close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		*error_r = g_strdup_printf("cannot connect to %s port %u: %s",
		                           d->host, d->port, g_strerror(err));
	return fd;
}

/*
 * put_data - data onto c->out: line ends made CRLF, leading dots doubled;
 * *bol tracks whether the next byte starts a line.  Flushes at 64 KB.
 */
static int
put_data(struct smtp *c, const unsigned char *p, size_t len, int *bol)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = p[i];

		if (ch == '\r' && i + 1 < len && p[i + 1] == '\n')
			continue;            /* the LF writes CRLF */
		if (*bol && ch == '.')
			g_string_append_c(c->out, '.');
		if (ch == '\n') {
			g_string_append(c->out, "\r\n");
			*bol = 1;
		} else {
			g_string_append_c(c->out, (char)ch);
			*bol = 0;
		}
		if (c->out->len >= 65536) {
			if (send_all(c->fd, c->out->str, c->out->len) < 0)
				return -1;
			g_string_truncate(c->out, 0);
		}
	}
	return 0;
}

static int
has_8bit(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] & 0x80)
			return 1;
	return 0;
}

/*
 * smtp_fail - the error for a reply code (or I/O failure) at a step
 */
static int
smtp_fail(struct smtp *c, const char *step, int code, int *permanent_r,
          char **error_r)
{
	if (code < 0) {
		*error_r = g_strdup_printf("SMTP %s: %s", step,
		                           g_strerror(errno));
		*permanent_r = 0;
	} else {
		*error_r = g_strdup_printf("SMTP %s: %s", step, c->last);
		*permanent_r = code >= 500;
	}
	return -1;
}

static int
deliver_smtp(const struct rgq_delivery *d, const char *sender,
             const char *const *rcpts, size_t n_rcpts,
             const unsigned char *head, size_t head_len,
             const unsigned char *body, size_t body_len, int *permanent_r,
             char **error_r)
{
	struct smtp c;
	char host[256], *line;
	int code, eight = 0, bol = 1, r = -1;

	memset(&c, 0, sizeof(c));
	c.fd = smtp_connect(d, error_r);
	if (c.fd < 0)
		return -1;
	c.out = g_string_sized_new(65536 + 1024);
	if ((code = read_reply(&c, NULL)) != 220) {
		r = smtp_fail(&c, "greeting", code, permanent_r, error_r);
		goto out;
	}
	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		g_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	line = g_strdup_printf("EHLO %s", host);
	code = command(&c, line, &eight);
	g_free(line);
	if (code != 250) {
		eight = 0;
		line = g_strdup_printf("HELO %s", host);
		code = command(&c, line, NULL);
		g_free(line);
		if (code != 250) {
			r = smtp_fail(&c, "HELO", code, permanent_r, error_r);
			goto out;
		}
	}
	line = g_strdup_printf("MAIL FROM:<%s>%s", sender,
	                       eight && (has_8bit(head, head_len) ||
	                                 has_8bit(body, body_len))
	                       ? " BODY=8BITMIME" : "");
	code = command(&c, line, NULL);
	g_free(line);
	if (code / 100 != 2) {
		r = smtp_fail(&c, "MAIL FROM", code, permanent_r, error_r);
		goto out;
	}
	for (size_t i = 0; i < n_rcpts; i++) {
		line = g_strdup_printf("RCPT TO:<%s>", rcpts[i]);
		code = command(&c, line, NULL);
		g_free(line);
		if (code / 100 != 2) {
			char *step = g_strdup_printf("RCPT TO:<%s>", rcpts[i]);

			r = smtp_fail(&c, step, code, permanent_r, error_r);
			g_free(step);
			goto out;
		}
	}
	if ((code = command(&c, "DATA", NULL)) != 354) {
		r = smtp_fail(&c, "DATA", code, permanent_r, error_r);
		goto out;
	}
	if (put_data(&c, head, head_len, &bol) < 0 ||
	    put_data(&c, body, body_len, &bol) < 0) {
		r = smtp_fail(&c, "sending data", -1, permanent_r, error_r);
		goto out;
	}
	if (!bol)
		g_string_append(c.out, "\r\n");
	g_string_append(c.out, ".\r\n");
	if (send_all(c.fd, c.out->str, c.out->len) < 0 ||
	    (code = read_reply(&c, NULL)) < 0) {
		/* the MTA may or may not have it: the caller must not
		 * assume either (see review.c) */
		r = smtp_fail(&c, "end of data", -1, permanent_r, error_r);
		*permanent_r = -1;
		goto out;
	}
	if (code / 100 != 2) {
		r = smtp_fail(&c, "end of data", code, permanent_r, error_r);
		goto out;
	}
	r = 0;
	(void)command(&c, "QUIT", NULL);
out:
	if (r < 0 && c.fd >= 0)
		(void)send_all(c.fd, "QUIT\r\n", 6);
	(void)close(c.fd);
	g_string_free(c.out, TRUE);
	return r;
}

/* ------------------------------------------------------------- sendmail */

/*
 * write_lf - data to fd with CRLF made LF (local submission); 0 or -1
 */
static int
write_lf(int fd, const unsigned char *p, size_t len)
{
	GString *out = g_string_sized_new(len < 65536 ? len : 65536);
	int r = 0;

	for (size_t i = 0; i < len && r == 0; i++) {
		if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
			continue;
		g_string_append_c(out, (char)p[i]);
		if (out->len >= 65536 || i + 1 == len) {
			const char *q = out->str;
			size_t n = out->len;

			while (n > 0) {
				ssize_t w = write(fd, q, n);

				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0) {
					r = -1;
					break;
				}
				q += w;
				n -= (size_t)w;
			}
			g_string_truncate(out, 0);
		}
	}
	g_string_free(out, TRUE);
	return r;
}

static int
deliver_sendmail(const struct rgq_delivery *d, const char *sender,
                 const char *const *rcpts, size_t n_rcpts,
                 const unsigned char *head, size_t head_len,
                 const unsigned char *body, size_t body_len,
                 int *permanent_r, char **error_r)
{
	posix_spawn_file_actions_t fa;
	GPtrArray *argv = g_ptr_array_new();
	int pipefd[2], status, r, err = 0;
	pid_t pid;

	g_ptr_array_add(argv, (gpointer)d->sendmail);
	g_ptr_array_add(argv, (gpointer)"-i");
	g_ptr_array_add(argv, (gpointer)"-f");
	g_ptr_array_add(argv, (gpointer)(sender[0] ? sender : "<>"));
	g_ptr_array_add(argv, (gpointer)"--");
	for (size_t i = 0; i < n_rcpts; i++)
		g_ptr_array_add(argv, (gpointer)rcpts[i]);
	g_ptr_array_add(argv, NULL);

	*permanent_r = 0;
	if (pipe(pipefd) < 0) {
		*error_r = g_strdup_printf("pipe: %s", g_strerror(errno));
		g_ptr_array_free(argv, TRUE);
		return -1;
	}
	/* our ends stay ours: no other child inherits them */
	(void)fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[0], STDIN_FILENO);
	r = posix_spawn(&pid, d->sendmail, &fa, NULL,
	                (char *const *)argv->pdata, environ);
	posix_spawn_file_actions_destroy(&fa);
	g_ptr_array_free(argv, TRUE);
	(void)close(pipefd[0]);
	if (r != 0) {
		(void)close(pipefd[1]);
		*error_r = g_strdup_printf("cannot run %s: %s", d->sendmail,
		                           g_strerror(r));
		return -1;
	}
	if (write_lf(pipefd[1], head, head_len) < 0 ||
	    write_lf(pipefd[1], body, body_len) < 0)
		err = errno;
	(void)close(pipefd[1]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			*error_r = g_strdup_printf("waitpid: %s",
			                           g_strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && err == 0)
		return 0;
	if (WIFEXITED(status)) {
		int code = WEXITSTATUS(status);

		*permanent_r = code == EX_USAGE || code == EX_DATAERR ||
		               code == EX_NOUSER || code == EX_NOHOST;
		*error_r = g_strdup_printf("%s exited with status %d%s%s",
		                           d->sendmail, code, err ? ": " : "",
		                           err ? g_strerror(err) : "");
	} else {
		/* it may have queued the message before it died */
		*permanent_r = -1;
		*error_r = g_strdup_printf("%s killed by signal %d",
		                           d->sendmail, WIFSIGNALED(status)
		                           ? WTERMSIG(status) : 0);
	}
	return -1;
}

int
rgq_deliver(const struct rgq_delivery *d, const char *sender,
            const char *const *rcpts, size_t n_rcpts,
            const unsigned char *head, size_t head_len,
            const unsigned char *body, size_t body_len, int *permanent_r,
            char **error_r)
{
	static const unsigned char empty[1];

	*error_r = NULL;
	*permanent_r = 0;
	if (n_rcpts == 0) {
		*error_r = g_strdup("no recipients");
		*permanent_r = 1;
		return -1;
	}
	if (head == NULL)
		head = empty;
	if (body == NULL)
		body = empty;
	if (d->method == RGQ_SENDMAIL)
		return deliver_sendmail(d, sender, rcpts, n_rcpts, head,
		                        head_len, body, body_len, permanent_r,
		                        error_r);
	return deliver_smtp(d, sender, rcpts, n_rcpts, head, head_len, body,
	                    body_len, permanent_r, error_r);
}
