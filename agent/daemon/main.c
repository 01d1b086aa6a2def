// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktls-agent: performs TLS handshakes with GnuTLS on sockets handed over by
 * the ktls_offload module or over its UNIX socket, and installs kernel TLS
 * on them.  This file is its entry point: options, configuration and its
 * reload on SIGHUP, privileges, the worker threads (worker.c, each running
 * many handshakes: job.c, tls.c) and the orderly stop on SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include <ktls-offload/version.h>

#include "config.h"
#include "genl.h"
#include "session_keys.h"
#include "log.h"
#include "privs.h"
#include "tls.h"
#include "upcall.h"
#include "usock.h"
#include "worker.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ktls-agent [options]\n"
"Perform TLS handshakes for sockets handed over by the ktls_offload module or\n"
"over the agent's UNIX socket, and install kernel TLS on them.  Runs in the\n"
"foreground; stop it with SIGTERM, reload its configuration with SIGHUP.\n"
"\n"
"  -c, --config FILE   configuration file (default " AGENT_DEFAULT_CONFIG ")\n"
"  -t, --check         check the configuration and the keys, then exit\n"
"  -d, --debug         log at debug level, whatever the configuration says\n"
"  -h, --help          this text\n"
"  -V, --version       print the version\n"
"\n"
"See ktls-agent(8) and ktls-agent.conf(5).\n");
}

static struct agent_generation *load_generation(const char *path, unsigned int mask,
						char *err, size_t errlen)
{
	struct agent_generation *g = calloc(1, sizeof(*g));
	int ret;

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&g->refs, 1);
	ret = agent_config_load(path, &g->cfg, err, errlen);
	if (!ret)
		ret = tls_runtime_load(&g->rt, &g->cfg, mask, err, errlen);
	if (ret) {
		agent_config_free(&g->cfg);
		free(g);
		return NULL;
	}
	return g;
}

/*
 * The kernel's handshake family (NFS, NVMe/TCP over TLS) when a profile
 * has upcall = and handshake_upcall is not no; Linux 6.1 has no such
 * family, which is fatal only with handshake_upcall = yes.
 */
static int choose_upcall(struct agent *a, const struct agent_config *cfg, char *err,
			 size_t errlen)
{
	bool wanted = false;
	int ret;

	for (int i = 0; i < cfg->n_profiles; i++)
		wanted |= cfg->profiles[i].upcall.roles != 0;
	if (cfg->handshake_upcall == UPCALL_NO)
		return 0;
	if (!wanted) {
		if (cfg->handshake_upcall != UPCALL_YES)
			return 0;
		snprintf(err, errlen, "handshake_upcall = yes, but no profile has upcall = "
			 "server or client");
		return -EINVAL;
	}
	ret = upcall_probe();
	a->use_upcall = ret == 0;
	if (ret == -ENOENT && cfg->handshake_upcall != UPCALL_YES) {
		agent_log(LOG_NOTICE, "this kernel has no handshake netlink family "
			  "(CONFIG_NET_HANDSHAKE, Linux 6.5 and later): the kernel's own TLS "
			  "consumers (NFS, NVMe/TCP) are not served");
		return 0;
	}
	if (ret)
		snprintf(err, errlen, ret == -ENOENT ?
			 "handshake_upcall = yes, but this kernel has no handshake netlink "
			 "family (CONFIG_NET_HANDSHAKE, Linux 6.5 and later)" :
			 "cannot reach the kernel's handshake netlink family: %s", strerror(-ret));
	return ret;
}

/*
 * The module path when the configuration and the kernel allow it, the UNIX
 * socket when configured; at least one.  The socket is created here, as
 * root, for the user the agent becomes.
 */
static int choose_paths(struct agent *a, char *err, size_t errlen)
{
	const struct agent_config *cfg = &a->gen->cfg;
	uid_t uid = getuid();
	gid_t gid = getgid();
	struct ktls_genl g;
	int ret;

	a->listen_fd = -1;
	if (cfg->module != MODULE_NO) {
		ret = ktls_genl_open(&g);
		ktls_genl_close(&g);
		a->use_module = ret == 0;
		if (ret && (cfg->module == MODULE_YES || ret != -ENOENT)) {
			snprintf(err, errlen, ret == -ENOENT ?
				 "module = yes, but the ktls_offload module is not loaded" :
				 "cannot reach the ktls_offload module: %s", strerror(-ret));
			return ret;
		}
	}
	ret = choose_upcall(a, cfg, err, errlen);
	if (ret)
		return ret;
	if (cfg->socket_path[0]) {
		if (cfg->user) {
			struct passwd *pw = getpwnam(cfg->user);

			if (!pw) {
				snprintf(err, errlen, "user '%s' does not exist", cfg->user);
				return -ENOENT;
			}
			uid = pw->pw_uid;
			gid = pw->pw_gid;
		}
		a->listen_fd = usock_listen(cfg->socket_path, cfg->socket_group, uid, gid,
					    err, errlen);
		if (a->listen_fd < 0)
			return a->listen_fd;
	}
	if (!a->use_module && a->listen_fd < 0 && !a->use_upcall) {
		snprintf(err, errlen, cfg->module == MODULE_NO ?
			 "module = no, no socket and no handshake upcall: nothing to serve" :
			 "the ktls_offload module is not loaded, no socket is configured and "
			 "no profile serves the handshake upcall");
		return -ENOENT;
	}
	return 0;
}

static bool str_differ(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

/*
 * A reload applies [global]'s log and log_level; the other keys shape
 * threads, sockets and privileges set up at start.  Names those that
 * changed in @out ("" if none).
 */
static void restart_only_changes(const struct agent_config *old, const struct agent_config *cfg,
				 char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
#define CHANGED(cond, name) \
	do { \
		if ((cond) && n < len) \
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", name); \
	} while (0)
	CHANGED(old->workers != cfg->workers, "workers");
	CHANGED(old->sched_batch != cfg->sched_batch, "sched_batch");
	CHANGED(str_differ(old->user, cfg->user), "user");
	CHANGED(str_differ(old->socket_path, cfg->socket_path), "socket");
	CHANGED(str_differ(old->socket_group, cfg->socket_group), "socket_group");
	CHANGED(old->module != cfg->module, "module");
	CHANGED(old->handshake_upcall != cfg->handshake_upcall, "handshake_upcall");
	CHANGED(str_differ(old->keyrings, cfg->keyrings), "keyrings");
	CHANGED(str_differ(old->handshake_netns, cfg->handshake_netns), "handshake_netns");
#undef CHANGED
}

/* Long (~180 lines): the agent's life in order (options, configuration,
 * privileges, workers, the signal loop, then the unwinding its labels do),
 * kept in one place so that the cleanup mirrors the setup. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	const char *path = AGENT_DEFAULT_CONFIG;
	bool check = false, debug = false;
	struct agent agent = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct worker **workers;
	unsigned int mask = 0, n_workers;
	char err[512], *socket_path;
	struct agent_config boot = { 0 };	/* [global] as the agent started */
	sigset_t sigs;
	int c, ret, status = 0;

	while ((c = getopt_long(argc, argv, "c:tdhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 't': check = true; break;
		case 'd': debug = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("ktls-agent %s\n", KTLS_OFFLOAD_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ktls-agent: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	agent_harden();		/* before any key is read */
	if (gnutls_check_version("3.6.13") == NULL) {
		fprintf(stderr, "ktls-agent: GnuTLS 3.6.13 or later is needed\n");
		return 1;
	}

	ret = agent_probe_kernel_ciphers(&mask);
	if (ret && !check) {
		fprintf(stderr, "ktls-agent: this kernel cannot carry TLS (%s): is the tls "
			"module loaded (modprobe tls)?\n", strerror(-ret));
		return 1;
	}
	if (ret)
		mask = ~0u;	/* --check on a kernel without kTLS: check everything */

	agent.gen = load_generation(path, mask, err, sizeof(err));
	if (!agent.gen) {
		fprintf(stderr, "ktls-agent: %s\n", err);
		return 1;
	}
	if (check) {
		printf("%s: OK (%d profiles)\n", path, agent.gen->cfg.n_profiles);
		agent_generation_put(agent.gen);
		return 0;
	}
	agent_log_init(agent.gen->cfg.log_syslog, debug ? LOG_DEBUG : agent.gen->cfg.log_level);

	/* The socket stays where it was bound, whatever a reload says. */
	socket_path = strdup(agent.gen->cfg.socket_path);
	boot.workers = agent.gen->cfg.workers;
	boot.sched_batch = agent.gen->cfg.sched_batch;
	boot.module = agent.gen->cfg.module;
	boot.handshake_upcall = agent.gen->cfg.handshake_upcall;
	boot.keyrings = agent.gen->cfg.keyrings ? strdup(agent.gen->cfg.keyrings) : NULL;
	boot.handshake_netns = agent.gen->cfg.handshake_netns ?
			       strdup(agent.gen->cfg.handshake_netns) : NULL;
	boot.user = agent.gen->cfg.user ? strdup(agent.gen->cfg.user) : NULL;
	boot.socket_path = socket_path;
	boot.socket_group = agent.gen->cfg.socket_group ? strdup(agent.gen->cfg.socket_group) :
			    NULL;
	if (!socket_path) {
		agent_log(LOG_ERR, "out of memory");
		agent_generation_put(agent.gen);
		return 1;
	}
	n_workers = agent.gen->cfg.workers;
	if (!n_workers)
		n_workers = (unsigned int)sysconf(_SC_NPROCESSORS_ONLN);
	ret = choose_paths(&agent, err, sizeof(err));
	if (!ret && agent.use_upcall)
		/* while root: entering another namespace takes CAP_SYS_ADMIN */
		ret = upcall_open_namespaces(&agent, agent.gen->cfg.handshake_netns, n_workers,
					     err, sizeof(err));
	if (!ret && agent.gen->cfg.keyrings) {
		/* while root: the keyrings stay possessed after the drop */
		ret = upcall_link_keyrings(agent.gen->cfg.keyrings, err, sizeof(err));
		if (!ret)
			agent_log(LOG_INFO, "%s", err);
	}
	if (!ret && agent.gen->cfg.user)
		ret = agent_drop_privileges(agent.gen->cfg.user, err, sizeof(err));
	if (ret) {
		agent_log(LOG_ERR, "%s", err);
		status = 1;
		goto out;
	}
	if (geteuid() == 0)
		agent_log(LOG_WARNING, "running as root: set user = (the agent's own user) "
			  "in [global], or User= in its unit; see SECURITY.md");
	agent_lock_memory(err, sizeof(err));
	agent_log(LOG_INFO, "%s", err);

	/* Signals go to this thread only, by sigwait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	workers = calloc(n_workers, sizeof(*workers));
	if (!workers) {
		agent_log(LOG_ERR, "out of memory");
		n_workers = 0;
		status = 1;
		goto stop;
	}
	ret = agent_events_open(&agent);
	if (ret) {
		agent_log(LOG_ERR, "cannot join the module's agents group: %s", strerror(-ret));
		n_workers = 0;
		status = 1;
		goto stop;
	}
	for (unsigned int i = 0; i < n_workers; i++) {
		ret = worker_start(&agent, (int)i, &workers[i]);
		if (ret) {
			agent_log(LOG_ERR, "cannot start worker %u: %s", i, strerror(-ret));
			n_workers = i;	/* stop the ones that run */
			status = 1;
			goto stop;
		}
	}
	{
		cpu_set_t cpus;

		agent.share_bursts = !sched_getaffinity(0, sizeof(cpus), &cpus) &&
				     CPU_COUNT(&cpus) > 1;
		agent.peers = workers;
		atomic_store(&agent.n_peers, n_workers);
	}
	agent_log(LOG_INFO, "version %s ready: %u workers, %d profiles, kernel ciphers 0x%x, "
		  "handoffs from %s%s%s%s%s", KTLS_OFFLOAD_VERSION, n_workers,
		  agent.gen->cfg.n_profiles, mask, agent.use_module ? "the module" : "",
		  agent.use_module && agent.listen_fd >= 0 ? " and " : "",
		  agent.listen_fd >= 0 ? agent.gen->cfg.socket_path : "",
		  agent.use_upcall && (agent.use_module || agent.listen_fd >= 0) ? " and " : "",
		  agent.use_upcall ? "the kernel's handshake upcall (NFS, NVMe/TCP)" : "");

	for (;;) {
		int sig;

		if (sigwait(&sigs, &sig))
			continue;
		if (sig == SIGHUP) {
			struct agent_generation *g, *old;

			g = load_generation(path, mask, err, sizeof(err));
			if (!g) {
				agent_log(LOG_ERR, "reload failed, keeping the old configuration: %s",
					  err);
				continue;
			}
			pthread_mutex_lock(&agent.lock);
			old = agent.gen;
			agent.gen = g;
			pthread_mutex_unlock(&agent.lock);
			agent_log_init(g->cfg.log_syslog, debug ? LOG_DEBUG : g->cfg.log_level);
			restart_only_changes(&boot, &g->cfg, err, sizeof(err));
			if (err[0])
				agent_log(LOG_WARNING, "[global] %s changed: this takes a restart; "
					  "running on with the values of the start", err);
			agent_generation_put(old);	/* handshakes in flight keep theirs */
			agent_log(LOG_INFO, "configuration reloaded from %s", path);
			continue;
		}
		agent_log(LOG_INFO, "shutting down on signal %d", sig);
		break;
	}

stop:
	atomic_store(&agent.stopping, true);
	atomic_store(&agent.n_peers, 0);
	for (unsigned int i = 0; i < n_workers; i++)
		worker_stop(workers[i]);
	for (unsigned int i = 0; i < n_workers; i++)
		worker_join(workers[i]);
	for (unsigned int i = 0; i < n_workers; i++)
		worker_free(workers[i]);
	free(workers);
	agent_events_close(&agent);
out:
	if (agent.listen_fd >= 0) {
		close(agent.listen_fd);
		/* after the privilege drop the directory is root's: the next
		 * start replaces the stale socket */
		if (unlink(socket_path)) {
			bool dropped = errno == EACCES && geteuid();

			agent_log(dropped ? LOG_INFO : LOG_WARNING, "cannot remove %s: %s%s",
				  socket_path, strerror(dropped ? EACCES : errno),
				  dropped ? " (the next start replaces it)" : "");
		}
	}
	free(socket_path);
	free(boot.user);
	free(boot.socket_group);
	free(boot.keyrings);
	free(boot.handshake_netns);
	upcall_close_namespaces(&agent);
	agent_generation_put(agent.gen);
	return status;
}
