/*
 * main.c - relaygate-milter: command line, startup, reload on SIGUSR1.
 *
 *   relaygate-milter [-c FILE] [-t] [-f] [-p SOCKET]
 *
 * Startup order: configuration (refuse to start on a bad one), the user
 * to run as looked up, signal mask (before any thread exists), socket
 * (stale unix socket removed, 0660 for the MTA's group, TCP_NODELAY on
 * inet), privileges dropped when started as root (setgid, initgroups,
 * setuid: Postfix's chroot_uid.c order), then, as that user, the spool
 * directory checked and the stores opened, detach unless -f, reload
 * thread, smfi_main.  libmilter's own signal thread stops on SIGHUP,
 * SIGINT and SIGTERM; SIGUSR1 is ours: a sigwait thread builds the new
 * configuration and swaps it in whole, keeping the old one when the file
 * is broken.
 *
 * Privileges.  Started as root, relaygate-milter runs as milter.user
 * (default "relaygate") from the moment its socket is open: the socket is
 * the one thing root may be needed for (a directory under /run, a port
 * below 1024).  The stores are opened after the drop, not before, so that
 * every file they make (the index's journal, held messages) belongs to the
 * user, and a reload (which reopens them as that user) finds them usable.
 * A user that does not exist is an error; user = "root" keeps root, on
 * purpose only, with a warning.  Started as anyone else (the unit's
 * User=), it stays who it is.  It never runs a shell: notices and
 * releases go to the MTA by SMTP or by executing its sendmail with an
 * argument vector (store/deliver.c).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "milter.h"

#define DEFAULT_CONFIG RG_SYSCONFDIR "/relaygate/relaygate.conf"

static const char *config_path = DEFAULT_CONFIG;
static const char *socket_override;
static atomic_int stopping;

/* Whom to run as, looked up before anything is opened. */
struct identity {
	int drop;               /* started as root, to run as another user */
	uid_t uid;
	gid_t gid;
	char name[256];
};

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-c FILE] [-t] [-f] [-p SOCKET]\n"
	        "  -c FILE    configuration (default %s)\n"
	        "  -t         check the configuration and exit\n"
	        "  -f         stay in the foreground, log to stderr too\n"
	        "  -p SOCKET  listen here instead of milter.socket\n",
	        RGM_NAME, DEFAULT_CONFIG);
}

/*
 * startup_error - a fatal startup problem: to the log, and to stderr
 * unless log lines already go there
 */
static void startup_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void
startup_error(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rgm_log(NULL, LOG_ERR, "%s", buf);
	if (!rgm_log_reaches_stderr())
		fprintf(stderr, "%s: %s\n", RGM_NAME, buf);
}

/*
 * unix_socket_path - the file of a "unix:" / "local:" / bare-path socket
 * spec, or NULL for inet sockets
 */
static const char *
unix_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (spec[0] == '/')
		return spec;
	return NULL;
}

/*
 * socket_in_use - 1 when something accepts connections on the unix socket
 * path (another instance): its socket must not be removed as stale
 */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sun;
	int fd, r;

	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void)close(fd);
	return r == 0;
}

/*
 * set_nodelay - TCP_NODELAY on libmilter's inet listening socket (accepted
 * sockets inherit it on Linux).  libmilter does not hand out the
 * descriptor, so find it: the only listening inet socket we have.  Without
 * it, header edits before the final reply wait for the MTA's delayed ACK:
 * 40 ms per message.
 */
static void
set_nodelay(void)
{
	for (int fd = 0; fd < 1024; fd++) {
		int listening = 0, domain = 0, on = 1;
		socklen_t len = sizeof(listening);
		struct stat st;

		if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening,
		               &len) < 0 || !listening)
			continue;
		len = sizeof(domain);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
		    (domain != AF_INET && domain != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		               sizeof(on)) < 0)
			rgm_log(NULL, LOG_WARNING, "cannot set TCP_NODELAY on "
			        "the milter socket: %s", strerror(errno));
	}
}

/*
 * resolve_identity - milter.user and milter.group as ids.  Not root: stay
 * who we are (id->drop 0).  Root: the configured user must exist; "root"
 * (or any uid 0) stays root.  0, or -1 (reported).
 */
static int
resolve_identity(const struct rgm_runtime *rt, struct identity *id)
{
	struct passwd *pw;
	struct group *gr;

	memset(id, 0, sizeof(*id));
	if (geteuid() != 0)
		return 0;
	if (rt->user[0] == '\0') {
		startup_error("%s: milter.user is empty: name the user to run "
		              "as (\"root\" to stay root)", config_path);
		return -1;
	}
	errno = 0;
	pw = getpwnam(rt->user);
	if (pw == NULL) {
		startup_error("%s: milter.user \"%s\": %s", config_path,
		              rt->user, errno != 0 && errno != ENOENT
		              ? strerror(errno) : "no such user (make it, e.g. "
		              "with systemd-sysusers and relaygate's sysusers "
		              "file, or set milter.user; \"root\" stays root)");
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;               /* explicitly root: warned at start */
	id->drop = 1;
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	snprintf(id->name, sizeof(id->name), "%s", pw->pw_name);
	if (rt->group[0] != '\0') {
		errno = 0;
		gr = getgrnam(rt->group);
		if (gr == NULL) {
			startup_error("%s: milter.group \"%s\": %s", config_path,
			              rt->group, errno != 0 && errno != ENOENT
			              ? strerror(errno) : "no such group");
			return -1;
		}
		id->gid = gr->gr_gid;
	}
	if (id->gid == 0) {
		startup_error("%s: milter.user \"%s\" would run with group "
		              "root (gid 0): set milter.group", config_path,
		              rt->user);
		return -1;
	}
	return 0;
}

/*
 * drop_privileges - become id for good, in Postfix's order
 * (src/util/chroot_uid.c): group, supplementary groups, then user; and
 * make sure root cannot be had back.  0, or -1 (reported).
 */
static int
drop_privileges(const struct identity *id)
{
	if (setgid(id->gid) < 0) {
		startup_error("setgid(%ld): %s", (long)id->gid, strerror(errno));
		return -1;
	}
	if (initgroups(id->name, id->gid) < 0) {
		startup_error("initgroups(%s): %s", id->name, strerror(errno));
		return -1;
	}
	if (setuid(id->uid) < 0) {
		startup_error("setuid(%ld): %s", (long)id->uid, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0 || getuid() != id->uid ||
	    geteuid() != id->uid || getegid() != id->gid) {
		startup_error("privileges not dropped: uid %ld euid %ld egid "
		              "%ld", (long)getuid(), (long)geteuid(),
		              (long)getegid());
		return -1;
	}
	return 0;
}

/*
 * open_socket - libmilter's listening socket, before we detach: a stale
 * unix socket is removed, a live one refused; unix sockets get mode 0660
 * so the MTA's user, in our group, can connect, and belong to the user
 * we are about to become.  0 or -1 (reported).
 */
static int
open_socket(const char *spec, const struct identity *id)
{
	const char *path = unix_socket_path(spec);
	mode_t old;
	int r;

	if (path != NULL && socket_in_use(path)) {
		startup_error("%s: another milter is listening there", path);
		return -1;
	}
	if (smfi_setconn((char *)spec) != MI_SUCCESS) {
		startup_error("invalid milter socket \"%s\"", spec);
		return -1;
	}
	if (smfi_register(rgm_filter) != MI_SUCCESS) {
		startup_error("cannot register with libmilter");
		return -1;
	}
	/* never briefly wider than the owner: chmod opens it to the group */
	old = umask(0177);
	r = smfi_opensocket(1);
	(void)umask(old);
	if (r != MI_SUCCESS) {
		startup_error("cannot listen on \"%s\" (address in use, or "
		              "a missing or unwritable directory?)", spec);
		return -1;
	}
	if (path != NULL && chmod(path, 0660) < 0) {
		startup_error("%s: chmod: %s", path, strerror(errno));
		return -1;
	}
	/* lchown: never follow a link someone put in its place */
	if (path != NULL && id->drop && lchown(path, id->uid, id->gid) < 0) {
		startup_error("%s: chown to %s: %s", path, id->name,
		              strerror(errno));
		return -1;
	}
	if (path == NULL)
		set_nodelay();
	return 0;
}

/*
 * reload - build the configuration anew; swap it in, or keep the running
 * one and say why
 */
static void
reload(void)
{
	struct rgm_runtime *rt, *old;
	char *error = NULL;

	rt = rgm_runtime_new(config_path, 1, &error);
	if (rt == NULL) {
		rgm_log(NULL, LOG_ERR, "reload failed, keeping the running "
		        "configuration: %s", error != NULL ? error :
		        "out of memory");
		free(error);
		return;
	}
	old = rgm_runtime_acquire();
	if (socket_override == NULL && old != NULL &&
	    (rt->socket == NULL || old->socket == NULL
	     ? rt->socket != old->socket
	     : strcmp(rt->socket, old->socket) != 0))
		rgm_log(NULL, LOG_WARNING, "milter.socket changed: takes "
		        "effect after a restart");
	if (old != NULL && (strcmp(rt->user, old->user) != 0 ||
	                    strcmp(rt->group, old->group) != 0))
		rgm_log(NULL, LOG_WARNING, "milter.user or milter.group "
		        "changed: takes effect after a restart");
	rgm_runtime_release(&old);
	rgm_log(NULL, LOG_INFO, "configuration reloaded from %s%s",
	        config_path, rt->monitor ? " (monitor mode)" : "");
	rgm_runtime_install(rt);
}

/*
 * reloader - the SIGUSR1 thread (the signal is blocked everywhere)
 */
static void *
reloader(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&stopping))
			break;
		reload();
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct rgm_runtime *rt;
	struct identity id;
	const char *spec;
	pthread_t thread;
	sigset_t set;
	char *error = NULL;
	int ch, check = 0, foreground = 0, r;

	while ((ch = getopt(argc, argv, "c:fhp:t")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'p':
			socket_override = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}

	rg_engine_init();
	if (check) {
		rt = rgm_runtime_new(config_path, 0, &error);
		if (rt == NULL) {
			fprintf(stderr, "%s\n", error != NULL ? error :
			        "out of memory");
			free(error);
			rg_engine_shutdown();
			return 1;
		}
		printf("%s: configuration OK%s\n", config_path,
		       rt->monitor ? " (monitor mode)" : "");
		rgm_runtime_release(&rt);
		rg_engine_shutdown();
		return 0;
	}

	rgm_log_init(foreground);
	/* the whole file, as whoever started us; the directories and stores
	 * come after the privileges are dropped (rgm_runtime_open) */
	rt = rgm_runtime_new(config_path, 0, &error);
	if (rt == NULL) {
		startup_error("%s", error != NULL ? error : "out of memory");
		free(error);
		return 1;
	}
	spec = socket_override != NULL ? socket_override : rt->socket;
	if (spec == NULL || spec[0] == '\0') {
		startup_error("%s: no milter.socket, and no -p", config_path);
		rgm_runtime_release(&rt);
		return 1;
	}
	if (resolve_identity(rt, &id) < 0) {
		rgm_runtime_release(&rt);
		return 1;
	}

	/*
	 * Before any thread exists, so every thread inherits the mask:
	 * SIGUSR1 for our reload thread, and the signals libmilter's own
	 * thread waits for, or one could kill the process in a thread
	 * created before smfi_main blocks them.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if ((r = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0) {
		startup_error("pthread_sigmask: %s", strerror(r));
		return 1;
	}
	(void)signal(SIGPIPE, SIG_IGN);

	if (open_socket(spec, &id) < 0)
		return 1;
	if (id.drop && drop_privileges(&id) < 0)
		return 1;
	if (rgm_runtime_open(rt, &error) < 0) {
		startup_error("%s", error != NULL ? error : "out of memory");
		free(error);
		rgm_runtime_release(&rt);
		return 1;
	}
	rgm_runtime_install(rt);
	if (id.drop)
		rgm_log(NULL, LOG_INFO, "running as user %s (uid %ld, gid %ld)",
		        id.name, (long)id.uid, (long)id.gid);
	else if (geteuid() == 0)
		rgm_log(NULL, LOG_WARNING, "running as root (milter.user = "
		        "\"%s\"): nothing relaygate does needs it", rt->user);
	if (!foreground && daemon(0, 0) < 0) {
		startup_error("cannot detach: %s", strerror(errno));
		return 1;
	}
	if ((r = pthread_create(&thread, NULL, reloader, NULL)) != 0) {
		startup_error("cannot start the reload thread: %s",
		              strerror(r));
		return 1;
	}
	/* queued notices to senders, retried; expired records purged */
	if (rgm_notifier_start() < 0)
		return 1;
	rt = rgm_runtime_acquire();
	rgm_log(NULL, LOG_INFO, "starting: socket %s, configuration %s%s",
	        spec, config_path, rt->monitor ? ", monitor mode" : "");
	rgm_runtime_release(&rt);

	r = smfi_main();

	rgm_notifier_stop();
	atomic_store(&stopping, 1);
	(void)pthread_kill(thread, SIGUSR1);
	(void)pthread_join(thread, NULL);
	rgm_runtime_install(NULL);
	rg_engine_shutdown();
	rgm_log(NULL, r == MI_SUCCESS ? LOG_INFO : LOG_ERR, "stopped%s",
	        r == MI_SUCCESS ? "" : " after a libmilter failure");
	closelog();
	return r == MI_SUCCESS ? 0 : 1;
}
