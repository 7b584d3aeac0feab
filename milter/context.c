/*
 * context.c - the milter's lifetimes: the live configuration (swapped whole
 * on reload, pinned by reference), the connection context and the message
 * context it owns, and the one idempotent message cleanup.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "conf/config.h"
#include "milter.h"

/* The live runtime and the lock that guards it and every refcount. */
static pthread_mutex_t runtime_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rgm_runtime *runtime_live;

/*
 * runtime_free - free a runtime whose last reference is gone
 */
static void
runtime_free(struct rgm_runtime *rt)
{
	rg_policy_unref(&rt->policy);
	rgq_store_close(&rt->store);
	rg_quarantine_clear(&rt->quarantine);
	rgm_orders_free(&rt->orders);
	free(rt->config_path);
	free(rt->socket);
	free(rt->spool_dir);
	free(rt->user);
	free(rt->group);
	free(rt);
}

/*
 * error_printf - a malloc'd message (truncated at 1 KB), or NULL
 */
static char *error_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *
error_printf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strdup(buf);
}

/*
 * spool_dir_check - 0 when dir is a directory we may create files in;
 * otherwise -1 with *error_r set
 */
static int
spool_dir_check(const char *path, const char *dir, char **error_r)
{
	struct stat st;
	const char *why = NULL;

	if (stat(dir, &st) < 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (access(dir, W_OK | X_OK) < 0)
		why = strerror(errno);
	if (why == NULL)
		return 0;
	*error_r = error_printf("%s: milter.spool_dir %s: %s", path, dir, why);
	return -1;
}

/*
 * runtime_quarantine - the delivery and notice settings from the
 * quarantine group (pointing into it)
 */
static void
runtime_quarantine(struct rgm_runtime *rt)
{
	const struct rg_quarantine_config *q = &rt->quarantine;

	rt->delivery.method = q->delivery_smtp ? RGQ_SMTP : RGQ_SENDMAIL;
	rt->delivery.host = q->smtp_host;
	rt->delivery.port = q->smtp_port;
	rt->delivery.sendmail = q->sendmail;
	rt->delivery.timeout = 60;
	if (gethostname(rt->hostname, sizeof(rt->hostname)) < 0)
		snprintf(rt->hostname, sizeof(rt->hostname), "localhost");
	rt->hostname[sizeof(rt->hostname) - 1] = '\0';
	rt->notice.from = q->notice_from;
	rt->notice.contact = q->contact;
	rt->notice.hostname = rt->hostname;
}

struct rgm_runtime *
rgm_runtime_new(const char *path, int check_dirs, char **error_r)
{
	struct rg_config config;
	struct rgm_runtime *rt;
	char *error = NULL;

	*error_r = NULL;
	if (rg_config_load(path, &config, &error) < 0) {
		*error_r = error;
		return NULL;
	}
	if (config.spool_dir == NULL || config.spool_dir[0] != '/') {
		rg_config_clear(&config);
		*error_r = error_printf("%s: milter.spool_dir must be an "
		                        "absolute path", path);
		return NULL;
	}
	if (check_dirs && spool_dir_check(path, config.spool_dir,
	                                  error_r) < 0) {
		rg_config_clear(&config);
		return NULL;
	}
	rt = calloc(1, sizeof(*rt));
	if (rt == NULL || (rt->config_path = strdup(path)) == NULL ||
	    (config.socket != NULL &&
	     (rt->socket = strdup(config.socket)) == NULL) ||
	    (rt->spool_dir = strdup(config.spool_dir)) == NULL ||
	    (rt->user = strdup(config.user ? config.user : "")) == NULL ||
	    (rt->group = strdup(config.group ? config.group : "")) == NULL) {
		if (rt != NULL) {
			free(rt->config_path);
			free(rt->socket);
			free(rt->spool_dir);
			free(rt->user);
		}
		free(rt);
		rg_config_clear(&config);
		*error_r = strdup("out of memory");
		return NULL;
	}
	rt->refs = 1;
	rt->monitor = config.mode == RG_MODE_MONITOR;
	/* the quarantine group moves into the runtime */
	rt->quarantine = config.quarantine;
	memset(&config.quarantine, 0, sizeof(config.quarantine));
	runtime_quarantine(rt);
	/* the order store's pool (orders.c); -t only reads the file */
	rt->orders = rgm_orders_new(&config.orders, check_dirs);
	rt->policy = rg_policy_build(&config.settings, &error);
	rg_config_clear(&config);
	if (rt->policy == NULL) {
		/* rule errors already name the file; add it when they don't */
		if (error != NULL && strncmp(error, path, strlen(path)) != 0) {
			*error_r = error_printf("%s: %s", path, error);
			free(error);
		} else {
			*error_r = error;
		}
		runtime_free(rt);
		return NULL;
	}
	if (check_dirs) {
		rt->store = rgq_store_open(rt->quarantine.store_dir, 1, &error);
		if (rt->store == NULL) {
			*error_r = error_printf("%s: quarantine.store_dir: %s",
			                        path, error);
			g_free(error);
			runtime_free(rt);
			return NULL;
		}
	}
	return rt;
}

int
rgm_runtime_open(struct rgm_runtime *rt, char **error_r)
{
	char *error = NULL;

	*error_r = NULL;
	if (spool_dir_check(rt->config_path, rt->spool_dir, error_r) < 0)
		return -1;
	rgm_orders_check(rt->orders);
	if (rt->store == NULL) {
		rt->store = rgq_store_open(rt->quarantine.store_dir, 1, &error);
		if (rt->store == NULL) {
			*error_r = error_printf("%s: quarantine.store_dir: %s",
			                        rt->config_path, error);
			g_free(error);
			return -1;
		}
	}
	return 0;
}

void
rgm_runtime_install(struct rgm_runtime *rt)
{
	struct rgm_runtime *old;

	pthread_mutex_lock(&runtime_lock);
	old = runtime_live;
	runtime_live = rt;
	pthread_mutex_unlock(&runtime_lock);
	rgm_runtime_release(&old);
}

struct rgm_runtime *
rgm_runtime_acquire(void)
{
	struct rgm_runtime *rt;

	pthread_mutex_lock(&runtime_lock);
	rt = runtime_live;
	if (rt != NULL)
		rt->refs++;
	pthread_mutex_unlock(&runtime_lock);
	return rt;
}

void
rgm_runtime_release(struct rgm_runtime **rtp)
{
	struct rgm_runtime *rt = *rtp;
	unsigned refs;

	if (rt == NULL)
		return;
	*rtp = NULL;
	pthread_mutex_lock(&runtime_lock);
	refs = --rt->refs;
	pthread_mutex_unlock(&runtime_lock);
	if (refs == 0)
		runtime_free(rt);
}

struct rgm_conn *
rgm_conn_new(const struct rgm_mta_ops *mta, void *handle)
{
	struct rgm_conn *conn;

	conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return NULL;
	conn->mta = mta;
	conn->mta_handle = handle;
	return conn;
}

void
rgm_msg_cleanup(struct rgm_conn *conn)
{
	struct rgm_msg *msg;

	if (conn == NULL || (msg = conn->msg) == NULL)
		return;
	/* unsettled review request claims go first (orders.c) */
	rgm_orders_msg_end(conn);
	conn->msg = NULL;
	rgm_spool_clear(&msg->spool);
	rg_strlist_clear(&msg->recipients);
	free(msg->marker);
	rgm_runtime_release(&msg->rt);
	free(msg);
	/* the queue id belongs to the message */
	conn->qid[0] = '\0';
}

void
rgm_conn_free(struct rgm_conn **connp)
{
	struct rgm_conn *conn = *connp;

	if (conn == NULL)
		return;
	*connp = NULL;
	rgm_msg_cleanup(conn);
	rg_scan_free(&conn->scan);
	conn->scan_policy = NULL;
	free(conn);
}

int
rgm_msg_start(struct rgm_conn *conn)
{
	struct rgm_msg *msg;

	rgm_msg_cleanup(conn);
	msg = calloc(1, sizeof(*msg));
	if (msg == NULL)
		return -1;
	msg->rt = rgm_runtime_acquire();
	if (msg->rt == NULL) {
		free(msg);
		return -1;
	}
	rgm_spool_init(&msg->spool,
	               rg_policy_settings(msg->rt->policy)->memory_spool_bytes);
	conn->msg = msg;
	conn->messages++;
	return 0;
}

rg_scan *
rgm_conn_scan(struct rgm_conn *conn)
{
	rg_policy *policy = conn->msg->rt->policy;

	/*
	 * The cached scan holds a reference on its policy, so a policy at the
	 * same address is the same policy: no ABA after a reload.
	 */
	if (conn->scan != NULL && conn->scan_policy != policy) {
		rg_scan_free(&conn->scan);
		conn->scan_policy = NULL;
	}
	if (conn->scan == NULL) {
		conn->scan = rg_scan_new(policy);
		conn->scan_policy = policy;
	}
	return conn->scan;
}

/*
 * copy_macro - copy a macro's value into buf (truncated), if the MTA sent it
 */
static void
copy_macro(struct rgm_conn *conn, const char *name, char *buf, size_t size)
{
	const char *value;

	value = conn->mta->getsymval(conn->mta_handle, name);
	if (value != NULL && value[0] != '\0')
		snprintf(buf, size, "%s", value);
}

void
rgm_conn_macros(struct rgm_conn *conn)
{
	copy_macro(conn, "i", conn->qid, sizeof(conn->qid));
	copy_macro(conn, "{auth_authen}", conn->user, sizeof(conn->user));
}
