// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktls-serve: serves a directory over HTTPS with kernel TLS.  Each accepted
 * connection goes to ktls-agent through libktls (asynchronously: a slow
 * handshake holds nothing but its own connection); once kernel TLS is on
 * the socket, files go from the page cache to the socket with sendfile().
 * HTTP/1.1 GET and HEAD, keep-alive and pipelining, single byte ranges,
 * conditional requests.  One epoll loop per worker thread, each with its
 * own SO_REUSEPORT listener and libktls context.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ktls-offload/ktls.h>
#include <ktls-offload/version.h>

#include "msg.h"
#include "parse.h"
#include "serve.h"

struct serve_config serve_cfg = {
	.address = "::",
	.port = "8443",
	.idle_ms = 60000,
	.handshake_ms = 10000,
	.grace_ms = 10000,
	.max_conns = 20000,
	.log_lock = PTHREAD_MUTEX_INITIALIZER,
};

static void vlog(const char *fmt, va_list ap)
{
	ktls_vmsg("ktls-serve", NULL, fmt, ap);
}

void serve_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void serve_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	exit(1);
}

static int listen_socket(bool *nodelay)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE |
				  AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	int fd, one = 1, ret;

	ret = getaddrinfo(serve_cfg.address, serve_cfg.port, &hints, &ai);
	if (ret)
		serve_die("address %s port %s: %s", serve_cfg.address, serve_cfg.port, gai_strerror(ret));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		serve_die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* accepted connections inherit it (MSG_MORE does the coalescing; the
	 * end of a response goes at once): no call per connection */
	*nodelay = !setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 4096))
		serve_die("listen on [%s]:%s: %s", serve_cfg.address, serve_cfg.port, strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ktls-serve [options] ROOT\n"
"Serve the directory ROOT over HTTPS: TLS handshakes by ktls-agent, file\n"
"bodies by sendfile() (up to 16 KiB: copied) through kernel TLS.  SIGTERM or\n"
"SIGINT: graceful stop.\n"
"\n"
"  -a, --address ADDR        listen address (default ::, IPv4 and IPv6)\n"
"  -p, --port PORT           listen port (default 8443)\n"
"  -w, --workers N           worker threads (default: one per CPU)\n"
"      --plain               serve plain HTTP, no TLS (for comparisons)\n"
"      --profile NAME        the agent's profile (default: its \"default\")\n"
"      --path auto|module|socket\n"
"                            how to reach the agent (default auto: the module\n"
"                            when loaded, else the agent's UNIX socket)\n"
"      --socket PATH         the agent's UNIX socket (default\n"
"                            $KTLS_AGENT_SOCKET or /run/ktls-offload/agent.sock)\n"
"      --access-log FILE     one line per response; - for stdout (default none)\n"
"      --symlinks inside|none\n"
"                            follow symlinks that stay inside ROOT (default),\n"
"                            or none at all\n"
"      --idle-timeout SEC    close idle or stalled connections, and bound each\n"
"                            request from its first byte (408; default 60)\n"
"      --handshake-timeout SEC  (default 10)\n"
"      --grace SEC           on SIGTERM, how long responses in flight may take\n"
"                            to finish (default 10)\n"
"      --max-connections N   per worker; beyond it new connections wait in the\n"
"                            kernel's backlog (default 20000)\n"
"      --zerocopy-sendfile   where a NIC encrypts (TLS offload), let it read\n"
"                            file pages directly (TLS_TX_ZEROCOPY_RO); only for\n"
"                            files that do not change while they are sent\n"
"      --no-sched-batch      leave the workers under SCHED_OTHER (default:\n"
"                            SCHED_BATCH, no preemption by a wakeup)\n"
"  -v, --verbose             log failed handshakes\n"
"  -h, --help                this text\n"
"  -V, --version             print the version\n"
"\n"
"See ktls-serve(1).\n");
}

static unsigned int number(const char *opt, const char *v, unsigned int min, unsigned int max)
{
	unsigned int n;

	if (ktls_parse_uint(v, min, max, &n))
		serve_die("%s must be a number from %u to %u, not '%s'", opt, min, max, v);
	return n;
}

/* Long (~150 lines): most of it is the option switch, one case a line. */
int main(int argc, char **argv)
{
	enum { OPT_PLAIN = 256, OPT_PROFILE, OPT_PATH, OPT_SOCKET, OPT_LOG, OPT_SYMLINKS, OPT_IDLE,
	       OPT_HANDSHAKE, OPT_GRACE, OPT_MAXCONN, OPT_ZEROCOPY, OPT_NOBATCH };
	static const struct option opts[] = {
		{ "address", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "plain", no_argument, NULL, OPT_PLAIN },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "access-log", required_argument, NULL, OPT_LOG },
		{ "symlinks", required_argument, NULL, OPT_SYMLINKS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "handshake-timeout", required_argument, NULL, OPT_HANDSHAKE },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "max-connections", required_argument, NULL, OPT_MAXCONN },
		{ "zerocopy-sendfile", no_argument, NULL, OPT_ZEROCOPY },
		{ "no-sched-batch", no_argument, NULL, OPT_NOBATCH },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct worker *workers;
	sigset_t sigs;
	int opt, sig;

	while ((opt = getopt_long(argc, argv, "a:p:w:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': serve_cfg.address = optarg; break;
		case 'p': number("--port", optarg, 1, 65535); serve_cfg.port = optarg; break;
		case 'w': serve_cfg.workers = number("--workers", optarg, 1, 1024); break;
		case OPT_PLAIN: serve_cfg.plain = true; break;
		case OPT_PROFILE: serve_cfg.profile = optarg; break;
		case OPT_PATH:
			if (!strcmp(optarg, "auto"))
				serve_cfg.path = KTLS_PATH_AUTO;
			else if (!strcmp(optarg, "module"))
				serve_cfg.path = KTLS_PATH_MODULE;
			else if (!strcmp(optarg, "socket"))
				serve_cfg.path = KTLS_PATH_SOCKET;
			else
				serve_die("--path must be auto, module or socket, not '%s'", optarg);
			break;
		case OPT_SOCKET: serve_cfg.socket_path = optarg; break;
		case OPT_LOG:
			serve_cfg.access_log = strcmp(optarg, "-") ? fopen(optarg, "ae") : stdout;
			if (!serve_cfg.access_log)
				serve_die("access log %s: %s", optarg, strerror(errno));
			break;
		case OPT_SYMLINKS:
			if (!strcmp(optarg, "inside"))
				serve_cfg.symlinks = SYMLINKS_INSIDE;
			else if (!strcmp(optarg, "none"))
				serve_cfg.symlinks = SYMLINKS_NONE;
			else
				serve_die("--symlinks must be inside or none, not '%s'", optarg);
			break;
		case OPT_IDLE: serve_cfg.idle_ms = 1000 * number("--idle-timeout", optarg, 1, 86400); break;
		case OPT_HANDSHAKE:
			serve_cfg.handshake_ms = 1000 * number("--handshake-timeout", optarg, 1, 300);
			break;
		case OPT_ZEROCOPY: serve_cfg.zerocopy_sendfile = true; break;
		case OPT_NOBATCH: serve_cfg.no_sched_batch = true; break;
		case OPT_GRACE: serve_cfg.grace_ms = 1000 * number("--grace", optarg, 0, 86400); break;
		case OPT_MAXCONN:
			serve_cfg.max_conns = number("--max-connections", optarg, 1, 10000000);
			break;
		case 'v': serve_cfg.verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("ktls-serve %s\n", KTLS_OFFLOAD_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	serve_cfg.root = argv[optind];
	serve_cfg.root_fd = open(serve_cfg.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (serve_cfg.root_fd < 0)
		serve_die("root %s: %s", serve_cfg.root, strerror(errno));
	if (!serve_cfg.workers)
		serve_cfg.workers = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);	/* sendfile() to a closed peer */

	workers = calloc(serve_cfg.workers, sizeof(*workers));
	if (!workers)
		serve_die("out of memory");
	for (unsigned int i = 0; i < serve_cfg.workers; i++) {
		struct worker *w = &workers[i];
		struct epoll_event ev = { .events = EPOLLIN };

		w->index = (int)i;
		w->k_listen = K_LISTEN;
		w->k_ktls = K_KTLS;
		w->k_wake = K_WAKE;
		w->lru.next = w->lru.prev = &w->lru;
		w->hs.next = w->hs.prev = &w->hs;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		w->listen_fd = listen_socket(&w->nodelay_inherited);
		if (w->epfd < 0 || w->wakefd < 0)
			serve_die("epoll: %s", strerror(errno));
		ev.data.ptr = &w->k_wake;
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev);
		if (!serve_cfg.plain) {
			int ret = ktls_open(&w->ktls, serve_cfg.path, serve_cfg.socket_path);

			if (ret)
				serve_die("cannot reach ktls-agent: %s%s", strerror(-ret),
				    ret == -ENOENT || ret == -ECONNREFUSED ?
				    " (is ktls-agent running, or the ktls_offload module loaded?)" : "");
			ev.data.ptr = &w->k_ktls;
			epoll_ctl(w->epfd, EPOLL_CTL_ADD, ktls_pollfd(w->ktls), &ev);
		}
	}
	for (unsigned int i = 0; i < serve_cfg.workers; i++)
		if (pthread_create(&workers[i].thread, NULL, serve_worker_main, &workers[i]))
			serve_die("cannot start a worker thread");
	fprintf(stderr, "ktls-serve %s: serving %s on [%s]:%s, %s, %u workers\n",
		KTLS_OFFLOAD_VERSION, serve_cfg.root, serve_cfg.address, serve_cfg.port,
		serve_cfg.plain ? "plain HTTP" : ktls_get_path(workers[0].ktls) == KTLS_PATH_MODULE ?
		"HTTPS via the ktls_offload module" : "HTTPS via the agent's UNIX socket",
		serve_cfg.workers);

	while (sigwait(&sigs, &sig))
		;
	fprintf(stderr, "ktls-serve: signal %d, finishing responses in flight\n", sig);
	atomic_store(&serve_cfg.stopping, true);
	for (unsigned int i = 0; i < serve_cfg.workers; i++) {
		uint64_t one = 1;

		if (write(workers[i].wakefd, &one, sizeof(one)) < 0)
			serve_log("cannot wake worker %u", i);
	}
	for (unsigned int i = 0; i < serve_cfg.workers; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].ktls)
			ktls_close(workers[i].ktls);	/* cancels handshakes in flight */
		close(workers[i].listen_fd);
		close(workers[i].epfd);
		close(workers[i].wakefd);
	}
	free(workers);
	fprintf(stderr, "ktls-serve: stopped\n");
	return 0;
}

