/*
 * log.c - the milter's one log function: every line names the queue id and
 * the authenticated user of its connection, goes to syslog (LOG_MAIL) and,
 * in foreground mode, to stderr.  Text from the network (addresses,
 * excerpts, user names) can hold anything: control characters are replaced
 * so a line cannot be split or forged.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "milter.h"

#define LOG_LINE_MAX 2048

static int log_stderr;
static int stderr_journal;

/*
 * stderr_is_journal - 1 when stderr is systemd's journal stream
 * (JOURNAL_STREAM="dev:ino"): syslog already reaches the journal there, so
 * writing stderr too would log every line twice.
 */
static int
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void
rgm_log_init(int foreground)
{
	openlog(RGM_NAME, LOG_PID | LOG_NDELAY, LOG_MAIL);
	stderr_journal = stderr_is_journal();
	log_stderr = foreground && !stderr_journal;
}

int
rgm_log_reaches_stderr(void)
{
	return log_stderr || stderr_journal;
}

/*
 * sanitize - replace control characters (and DEL) in place
 */
static void
sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

void
rgm_log(const struct rgm_conn *conn, int priority, const char *fmt, ...)
{
	char text[LOG_LINE_MAX];
	char line[LOG_LINE_MAX + RGM_QID_MAX + RGM_USER_MAX + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	if (conn == NULL)
		snprintf(line, sizeof(line), "%s", text);
	else if (conn->user[0] != '\0')
		snprintf(line, sizeof(line), "%s: user=%s: %s",
		         conn->qid[0] ? conn->qid : "NOQUEUE", conn->user, text);
	else
		snprintf(line, sizeof(line), "%s: %s",
		         conn->qid[0] ? conn->qid : "NOQUEUE", text);
	sanitize(line);

	syslog(priority, "%s", line);
	if (log_stderr)
		fprintf(stderr, "%s[%ld]: %s\n", RGM_NAME, (long)getpid(),
		        line);
}
