/*
 * accept-all.c - the floor any milter pays: a libmilter filter that asks
 * the MTA for the same protocol steps relaygate-milter asks for (every
 * step from connect to end of message, the same actions, the same macro
 * lists, the same negotiation) and accepts every message at its end.
 * The benchmark (bench/run) measures relaygate against it, in the same
 * run on the same machine.
 *
 *   accept-all -p SOCKET      unix:/path or inet:PORT@127.0.0.1
 *
 * Like relaygate-milter it sets TCP_NODELAY on an inet listening socket
 * (accepted sockets inherit it on Linux), so neither pays the 40 ms
 * Nagle/delayed-ACK stall the other avoids.  Stays in the foreground;
 * SIGTERM stops it (libmilter's signal thread).
 */
#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

/* What relaygate-milter asks for (milter/callbacks.c). */
#define ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS)

static const struct {
	int stage;
	const char *macros;
} symlists[] = {
	{ SMFIM_ENVFROM, "i {auth_authen}" },
	{ SMFIM_ENVRCPT, "i" },
	{ SMFIM_DATA, "i" },
	{ SMFIM_EOH, "i" },
	{ SMFIM_EOM, "i" },
};

/* Per connection: what a real filter would keep, minimally. */
struct conn {
	unsigned long messages;
	unsigned long bytes;
};

static sfsistat
aa_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
             unsigned long f2, unsigned long f3, unsigned long *pf0,
             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	if ((f0 & ACTIONS) != ACTIONS)
		return SMFIS_REJECT;
	if (smfi_getpriv(ctx) == NULL) {
		struct conn *c = calloc(1, sizeof(*c));

		if (c == NULL)
			return SMFIS_REJECT;
		(void)smfi_setpriv(ctx, c);
	}
	*pf0 = ACTIONS;
	*pf1 = f1 & (SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC | SMFIP_SKIP);
	*pf2 = 0;
	*pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		for (size_t i = 0; i < sizeof(symlists) / sizeof(symlists[0]);
		     i++)
			(void)smfi_setsymlist(ctx, symlists[i].stage,
			                      (char *)symlists[i].macros);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
aa_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	if (smfi_getpriv(ctx) == NULL) {
		struct conn *c = calloc(1, sizeof(*c));

		if (c == NULL)
			return SMFIS_TEMPFAIL;
		(void)smfi_setpriv(ctx, c);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
aa_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx;
	(void)helo;
	return SMFIS_CONTINUE;
}

static sfsistat
aa_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);

	(void)argv;
	(void)smfi_getsymval(ctx, "i");
	if (c != NULL)
		c->messages++;
	return SMFIS_CONTINUE;
}

static sfsistat
aa_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)argv;
	(void)smfi_getsymval(ctx, "i");
	return SMFIS_CONTINUE;
}

static sfsistat
aa_data(SMFICTX *ctx)
{
	(void)smfi_getsymval(ctx, "i");
	return SMFIS_CONTINUE;
}

static sfsistat
aa_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);

	if (c != NULL && name != NULL && value != NULL)
		c->bytes += strlen(name) + strlen(value) + 4;
	return SMFIS_CONTINUE;
}

static sfsistat
aa_eoh(SMFICTX *ctx)
{
	(void)smfi_getsymval(ctx, "i");
	return SMFIS_CONTINUE;
}

static sfsistat
aa_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = smfi_getpriv(ctx);

	(void)chunk;
	if (c != NULL)
		c->bytes += len;
	return SMFIS_CONTINUE;
}

static sfsistat
aa_eom(SMFICTX *ctx)
{
	(void)smfi_getsymval(ctx, "i");
	return SMFIS_ACCEPT;
}

static sfsistat
aa_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
aa_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	(void)smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
	.xxfi_name = "accept-all",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = ACTIONS | SMFIF_SETSYMLIST,
	.xxfi_connect = aa_connect,
	.xxfi_helo = aa_helo,
	.xxfi_envfrom = aa_envfrom,
	.xxfi_envrcpt = aa_envrcpt,
	.xxfi_header = aa_header,
	.xxfi_eoh = aa_eoh,
	.xxfi_body = aa_body,
	.xxfi_eom = aa_eom,
	.xxfi_abort = aa_abort,
	.xxfi_close = aa_close,
	.xxfi_unknown = NULL,
	.xxfi_data = aa_data,
	.xxfi_negotiate = aa_negotiate,
};

/* set_nodelay - TCP_NODELAY on the listening inet socket, found as
 * relaygate-milter finds it (milter/main.c) */
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
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
}

int
main(int argc, char **argv)
{
	const char *spec = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch != 'p') {
			fprintf(stderr, "usage: accept-all -p SOCKET\n");
			return 2;
		}
		spec = optarg;
	}
	if (spec == NULL || optind != argc) {
		fprintf(stderr, "usage: accept-all -p SOCKET\n");
		return 2;
	}
	if (strncmp(spec, "unix:", 5) == 0)
		(void)unlink(spec + 5);
	if (smfi_setconn((char *)spec) != MI_SUCCESS ||
	    smfi_register(filter) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "accept-all: cannot listen on %s\n", spec);
		return 1;
	}
	if (strncmp(spec, "inet", 4) == 0)
		set_nodelay();
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
