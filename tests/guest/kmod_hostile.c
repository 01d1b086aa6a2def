// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Regression tests for the listener and unload findings of the kernel
 * review of 2026-12-02 (shared/reviews/kmod-review-2026-12-02.md), written
 * for the module as it must behave (issue 15):
 *
 *   userns  H1 + C1: uid 65534 in its own user and network namespace gets
 *           EPERM for ATTACH, DETACH, ACCEPT, DONE, GET_REQUEST, and the
 *           review's C1 sequence there crashes nothing; rmmod then works.
 *   c1      C1 as root: a v6 listener carries the "ktls_listen" ULP once
 *           attached; after shutdown() + connect() to ::ffff:127.0.0.1 the
 *           ULP still owns it: IPV6_ADDRFORM fails with EBUSY and
 *           TCP_ULP "tls" with EEXIST; after close(), DETACH by id is
 *           ENOENT, GET_LISTENER forgets it and rmmod works.
 *   wake    M2: shutdown(SHUT_RD) wakes a thread blocked in accept() on an
 *           attached listener with EINVAL, as on a stock listener.
 *   race    C1(b): DETACH by id racing close() of the listener, hundreds of
 *           times (KTLS_HOSTILE_RACES, default 300); nothing stays listed.
 *   rmmod   H2: rmmod while threads sit in a blocking accept(), in a
 *           non-blocking EAGAIN accept loop and in epoll_wait() on attached
 *           listeners: refused (EBUSY/EAGAIN), never hung.  Once the
 *           listeners are closed it succeeds, with a connection delivered
 *           through one still open (it holds nothing of the module's),
 *           and that connection still carries data in kTLS.
 *   wait    H3: a long WAIT-style request while a genetlink family
 *           registers (modprobe team) must not stall root's
 *           `genl ctrl list`.
 *
 * Every wait has a limit scaled by KTLS_TIME_SCALE.  Prints TAP.  Needs
 * root and KTLS_MODULE (the module file; loaded and unloaded here).
 * Arguments: the names above, to run some only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ktls_offload.h>

#include "kgenl.h"
#include "ktest.h"
#include "tap.h"

#ifndef IPV6_ADDRFORM
#define IPV6_ADDRFORM 1
#endif

static double scale = 1;
static const char *module_path;

/* -errno of a call returning -1, else 0 */
#define SYSERR(call) ((call) < 0 ? -errno : 0)

/* ---- sockets ---- */

/* A blocking connect to 127.0.0.1:@port, bounded by SO_SNDTIMEO. */
static int connect_to(int port)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { .tv_sec = (long)(5 * scale) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (fd >= 0 && connect(fd, (void *)&s4, sizeof(s4))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- threads: which syscall is a thread in? ---- */

static long thread_syscall(pid_t tid)
{
	char path[64], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -2;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (buf[0] < '0' || buf[0] > '9')
		return -1;	/* "running" */
	return strtol(buf, NULL, 10);
}

/* Polls until thread @tid sits in syscall @a or @b, at most @secs. */
static int wait_in_syscall(pid_t *tid, long a, long b, double secs)
{
	double end = kt_now() + secs;

	while (kt_now() < end) {
		pid_t t = __atomic_load_n(tid, __ATOMIC_SEQ_CST);
		long nr = t ? thread_syscall(t) : -1;

		if (nr == a || nr == b)
			return 1;
		poll(NULL, 0, 10);
	}
	return 0;
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* Joins @thr: 1 if it returned by itself within @secs; else 0, after
 * interrupting its syscall (SIGUSR1) or leaving it behind. */
static int join_bounded(pthread_t thr, double secs)
{
	struct timespec ts;
	int tries = 0;

	for (;;) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)secs;
		if (!pthread_timedjoin_np(thr, NULL, &ts))
			return tries == 0;
		if (++tries > 3)
			return 0;
		pthread_kill(thr, SIGUSR1);
	}
}

/* ---- the module ---- */

static int mod_load(void)
{
	int ret;

	if (kg_module_loaded())
		return 0;
	ret = kg_insmod(module_path, "");
	return ret == -EEXIST ? 0 : ret;
}

#define MOD_HUNG (-100000)

/*
 * delete_module() in a child, waited for at most @secs: 0, -errno, or
 * MOD_HUNG (the child is left behind, stuck in the kernel).
 */
static int mod_unload(double secs, double *took)
{
	double t0 = kt_now();
	int p[2], ret = MOD_HUNG;
	struct pollfd pfd;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r = kg_rmmod();

		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, (int)(secs * 1000)) == 1 && read(p[0], &ret, sizeof(ret)) == sizeof(ret))
		waitpid(pid, NULL, 0);
	else
		ret = MOD_HUNG;
	close(p[0]);
	if (took)
		*took = kt_now() - t0;
	return ret;
}

static int refused(int ret)
{
	return ret == -EBUSY || ret == -EAGAIN;
}

static const char *unload_name(int ret)
{
	return ret == MOD_HUNG ? "hung" : kt_errname(ret);
}

/* Unloads, retrying while refused (references drop asynchronously). */
static int mod_unload_eventually(double secs, double *took)
{
	double t0 = kt_now(), end = t0 + secs;
	int ret;

	do {
		ret = mod_unload(60 * scale, NULL);
		if (!refused(ret))
			break;
		poll(NULL, 0, 50);
	} while (kt_now() < end);
	if (took)
		*took = kt_now() - t0;
	return ret;
}

static void bail(const char *why)
{
	printf("Bail out! %s\n", why);
	fflush(stdout);
	_exit(1);
}

/* ---- a minimal agent thread ---- */

enum agent_mode { AGENT_KTLS, AGENT_HOLD };

static struct agent {
	pthread_t thr;
	volatile int stop, mode, registered;
	int accepted, done_ok;
	int held[256], nheld;
} agent;

static void *agent_main(void *arg)
{
	struct kg g;
	struct kg_accepted a;
	int ret;

	(void)arg;
	if (kg_open(&g, (int)(30000 * scale)) || kg_join_agents(&g))
		return NULL;
	kg_set_rcvbuf(&g, 1 << 20);
	while (!agent.stop) {
		ret = kg_accept(&g, &a);
		__atomic_store_n(&agent.registered, 1, __ATOMIC_SEQ_CST);
		if (ret == -EAGAIN || ret == -ENOBUFS) {
			kg_read_events(&g, 50, NULL, NULL);
			continue;
		}
		if (ret) {
			poll(NULL, 0, 50);
			continue;
		}
		__atomic_add_fetch(&agent.accepted, 1, __ATOMIC_SEQ_CST);
		if (agent.mode == AGENT_HOLD && agent.nheld < 256) {
			agent.held[agent.nheld++] = a.fd;
			continue;
		}
		ret = kt_zero_ktls(a.fd);
		/* a listener's connection: our descriptor goes before DONE */
		close(a.fd);
		if (!kg_done(&g, a.id, ret ? EIO : 0) && !ret)
			__atomic_add_fetch(&agent.done_ok, 1, __ATOMIC_SEQ_CST);
	}
	while (agent.nheld)
		close(agent.held[--agent.nheld]);
	kg_close(&g);
	return NULL;
}

static int agent_start(int mode)
{
	double end = kt_now() + 10 * scale;

	memset(&agent, 0, sizeof(agent));
	agent.mode = mode;
	if (pthread_create(&agent.thr, NULL, agent_main, NULL))
		return -1;
	while (!__atomic_load_n(&agent.registered, __ATOMIC_SEQ_CST) && kt_now() < end)
		poll(NULL, 0, 10);
	return agent.registered ? 0 : -1;
}

static void agent_stop(void)
{
	agent.stop = 1;
	pthread_join(agent.thr, NULL);
}

/* ---- GET_LISTENER ---- */

struct listed {
	uint32_t id;		/* to look for; 0: count all */
	int n, found;
};

static void count_listener(const struct nlattr *const *tb, const struct nlmsghdr *nlh,
			   void *arg)
{
	struct listed *l = arg;

	(void)nlh;
	l->n++;
	l->found += l->id && kg_u32(tb[KTLS_OFFLOAD_A_LISTENER_ID]) == l->id;
}

/* ---- C1: the review's reproducer sequence ---- */

struct c1_res {
	int attach, shut, conn, addrform, tls_ulp, close, detach, dump, listed;
	uint32_t id;
	char ulp[40], ulp_after[40];
};

static void c1_sequence(struct kg *g, struct c1_res *r)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	struct timeval tv = { .tv_sec = (long)(5 * scale) };
	struct listed ls = { 0 };
	int sink = kt_listener(AF_INET, 8), l = kt_listener(AF_INET6, 8), v = AF_INET;

	memset(r, 0, sizeof(*r));
	r->attach = kg_attach(g, l, NULL, 0, 0, &r->id);
	kt_ulp(l, r->ulp, sizeof(r->ulp));
	r->shut = SYSERR(shutdown(l, SHUT_RDWR));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &to.sin6_addr);
	to.sin6_port = htons(kt_port(sink));
	setsockopt(l, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	r->conn = SYSERR(connect(l, (void *)&to, sizeof(to)));
	kt_ulp(l, r->ulp_after, sizeof(r->ulp_after));
	r->addrform = SYSERR(setsockopt(l, IPPROTO_IPV6, IPV6_ADDRFORM, &v, sizeof(v)));
	r->tls_ulp = SYSERR(setsockopt(l, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")));
	r->close = SYSERR(close(l));
	r->detach = kg_detach(g, -1, r->id ? r->id : 1);
	ls.id = r->id;
	r->dump = kg_listeners(g, count_listener, &ls);
	r->listed = r->id ? ls.found : ls.n;
	close(sink);
}

struct userns_res {
	int setup, open, accept, done, requests, attach_fd, c1_done;
	struct c1_res c1;
};

static void nop_fn(const struct nlattr *const *tb, const struct nlmsghdr *nlh, void *arg)
{
	(void)tb;
	(void)nlh;
	(void)arg;
}

static void userns_child(struct userns_res *r)
{
	struct kg_accepted a;
	struct kg g;

	r->setup = kt_enter_userns_nobody();
	if (r->setup)
		return;
	r->open = kg_open(&g, (int)(30000 * scale));
	if (r->open)
		return;
	r->accept = kg_accept(&g, &a);
	if (!r->accept)
		close(a.fd);
	r->done = kg_done(&g, 1, EIO);
	r->requests = kg_requests(&g, nop_fn, NULL);
	c1_sequence(&g, &r->c1);
	r->c1_done = 1;
	kg_close(&g);
}

static void test_userns(void)
{
	struct userns_res r;
	int p[2], ret;
	double took;
	pid_t pid;

	printf("# H1/C1: uid 65534 in its own user and network namespace\n");
	if (!kt_userns_possible()) {
		printf("ok %d # SKIP unprivileged user namespaces are disabled\n", ++tap_n);
		return;
	}
	if (mod_load())
		bail("insmod failed");
	memset(&r, 0, sizeof(r));
	r.setup = r.open = -EIO;
	if (pipe2(p, O_CLOEXEC))
		bail("pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		userns_child(&r);
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	{
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		if (poll(&pfd, 1, (int)(60000 * scale)) != 1 ||
		    read(p[0], &r, sizeof(r)) != sizeof(r))
			r.setup = MOD_HUNG;
	}
	close(p[0]);
	if (r.setup == MOD_HUNG) {
		ok(0, "the namespace child finished within %.0f s", 60 * scale);
		kill(pid, SIGKILL);
	}
	waitpid(pid, NULL, 0);
	if (r.setup || r.open) {
		ok(0, "enter a user+net namespace as uid 65534 and open the family (%s, %s)",
		   kt_errname(r.setup), kt_errname(r.open));
		return;
	}
	ok(r.accept == -EPERM, "ACCEPT from a user namespace: EPERM (%s)", kt_errname(r.accept));
	ok(r.done == -EPERM, "DONE from a user namespace: EPERM (%s)", kt_errname(r.done));
	ok(r.requests == -EPERM, "GET_REQUEST from a user namespace: EPERM (%s)",
	   kt_errname(r.requests));
	ok(r.c1.attach == -EPERM, "ATTACH of its own listener from a user namespace: EPERM (%s)",
	   kt_errname(r.c1.attach));
	ok(r.c1_done && r.c1.detach == -EPERM,
	   "after shutdown, connect to ::ffff:127.0.0.1 (%s), IPV6_ADDRFORM (%s), "
	   "TCP_ULP tls (%s) and close: DETACH by id is EPERM (%s)",
	   kt_errname(r.c1.conn), kt_errname(r.c1.addrform), kt_errname(r.c1.tls_ulp),
	   kt_errname(r.c1.detach));
	ok(r.c1.dump == 0 && r.c1.listed == 0,
	   "GET_LISTENER in that namespace answers and lists nothing (%s, %d listed)",
	   kt_errname(r.c1.dump), r.c1.listed);
	/* (the namespace's sockets go with it, asynchronously) */
	ret = mod_unload_eventually(30 * scale, &took);
	ok(ret == 0, "root's rmmod afterwards succeeds (%s, %.1f s)", unload_name(ret), took);
	if (ret == MOD_HUNG)
		bail("rmmod hung");
}

static int available_ulp(const char *name)
{
	char buf[256] = "";
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_ulp", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
		if (!strcmp(t, name))
			return 1;
	return 0;
}

static void test_c1_root(void)
{
	struct c1_res r;
	struct kg g;
	double took;
	int ret;

	printf("# C1 as root: the listener's ULP owns it through shutdown, connect, "
	       "IPV6_ADDRFORM, TCP_ULP and close\n");
	if (mod_load() || kg_open(&g, (int)(30000 * scale)))
		bail("cannot load the module and open its family");
	ok(available_ulp("ktls_listen"),
	   "tcp_available_ulp lists ktls_listen while the module is loaded");
	c1_sequence(&g, &r);
	ok(r.attach == 0 && r.id, "ATTACH of a v6 listener (%s, id %u)", kt_errname(r.attach), r.id);
	ok(!strcmp(r.ulp, "ktls_listen"), "the attached listener's TCP_ULP is ktls_listen ('%s')",
	   r.ulp);
	ok(r.shut == 0, "shutdown() of the attached listener (%s)", kt_errname(r.shut));
	printf("# connect() to ::ffff:127.0.0.1 after it: %s\n", kt_errname(r.conn));
	ok(!strcmp(r.ulp_after, "ktls_listen"), "after shutdown and connect the ULP is still "
	   "ktls_listen ('%s')", r.ulp_after);
	ok(r.addrform == -EBUSY, "IPV6_ADDRFORM on it fails with EBUSY (%s)", kt_errname(r.addrform));
	ok(r.tls_ulp == -EEXIST, "TCP_ULP \"tls\" on it fails with EEXIST (%s)",
	   kt_errname(r.tls_ulp));
	ok(r.close == 0, "close() of it (%s)", kt_errname(r.close));
	ok(r.detach == -ENOENT, "DETACH by id of the closed listener: ENOENT (%s)",
	   kt_errname(r.detach));
	ok(r.dump == 0 && r.listed == 0, "GET_LISTENER no longer lists it (%s, %d)",
	   kt_errname(r.dump), r.listed);
	kg_close(&g);
	ret = mod_unload_eventually(30 * scale, &took);
	ok(ret == 0, "rmmod succeeds once it is closed (%s, %.1f s)", unload_name(ret), took);
	if (ret == MOD_HUNG)
		bail("rmmod hung");
}

/* ---- M2: shutdown() wakes a blocked accept() ---- */

struct acceptor {
	int fd;
	pid_t tid;
	volatile int done;
	int ret;
	double at;
};

static void *accept_thread(void *arg)
{
	struct acceptor *a = arg;
	int c;

	__atomic_store_n(&a->tid, (pid_t)gettid(), __ATOMIC_SEQ_CST);
	c = accept(a->fd, NULL, NULL);
	a->ret = c < 0 ? -errno : 0;
	if (c >= 0)
		close(c);
	a->at = kt_now();
	__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* accept() blocked in a thread, then shutdown(SHUT_RD): its result. */
static int shutdown_wakes(int fd, double *took)
{
	struct acceptor a = { .fd = fd };
	double t0, end;
	pthread_t thr;

	pthread_create(&thr, NULL, accept_thread, &a);
	if (!wait_in_syscall(&a.tid, SYS_accept, SYS_accept4, 5 * scale))
		printf("# the thread was not seen inside accept()\n");
	t0 = kt_now();
	shutdown(fd, SHUT_RD);
	end = t0 + 5 * scale;
	while (!__atomic_load_n(&a.done, __ATOMIC_SEQ_CST) && kt_now() < end)
		poll(NULL, 0, 10);
	if (!a.done) {
		/* interrupt it, so that the test can go on */
		pthread_kill(thr, SIGUSR1);
		pthread_join(thr, NULL);
		*took = -1;
		return MOD_HUNG;
	}
	pthread_join(thr, NULL);
	*took = a.at - t0;
	return a.ret;
}

static void test_wake(void)
{
	struct kg g;
	uint32_t id;
	double took;
	int l, ret;

	printf("# M2: shutdown(SHUT_RD) wakes accept() with EINVAL\n");
	l = kt_listener(AF_INET, 8);
	ret = shutdown_wakes(l, &took);
	ok(ret == -EINVAL, "control: on a stock listener accept() returns EINVAL (%s)",
	   unload_name(ret));
	close(l);

	if (mod_load() || kg_open(&g, (int)(30000 * scale)))
		bail("cannot load the module and open its family");
	for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
		l = kt_listener(family, 8);
		ret = kg_attach(&g, l, NULL, 0, 0, &id);
		ret = ret ? ret : shutdown_wakes(l, &took);
		ok(ret == -EINVAL, "attached %s listener: accept() returns EINVAL after shutdown "
		   "(%s, %.2f s)", family == AF_INET ? "v4" : "v6",
		   ret == MOD_HUNG ? "still blocked" : kt_errname(ret), took);
		close(l);
	}
	kg_close(&g);
}

/* ---- N15: listen() again after shutdown() keeps Fast Open off ---- */

static int fastopen_qlen(int fd)
{
	socklen_t len = sizeof(int);
	int qlen = -1;

	getsockopt(fd, SOL_TCP, TCP_FASTOPEN, &qlen, &len);
	return qlen;
}

static void write_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

static void test_tfo(void)
{
	const char *knob = "/proc/sys/net/ipv4/tcp_fastopen";
	char old[32] = "1";
	struct kg g;
	uint32_t id;
	int l, ret, qlen;
	FILE *f;

	printf("# N15: with net.ipv4.tcp_fastopen 0x403, listen() after shutdown() of an "
	       "attached listener leaves Fast Open off\n");
	f = fopen(knob, "r");
	if (f) {
		if (!fgets(old, sizeof(old), f))
			snprintf(old, sizeof(old), "1");
		fclose(f);
	}
	write_sysctl(knob, "1027");	/* client, server, server without TCP_FASTOPEN */
	l = kt_listener(AF_INET, 8);
	ok(fastopen_qlen(l) > 0, "control: a stock listener gets Fast Open from the sysctl "
	   "(max_qlen %d)", fastopen_qlen(l));
	close(l);
	if (mod_load() || kg_open(&g, (int)(30000 * scale)))
		bail("cannot load the module and open its family");
	l = kt_listener(AF_INET, 8);
	ret = kg_attach(&g, l, NULL, 0, 0, &id);
	ok(ret == 0 && fastopen_qlen(l) == 0, "attached: Fast Open off (%s, max_qlen %d)",
	   kt_errname(ret), fastopen_qlen(l));
	ret = shutdown(l, SHUT_RDWR) ? -errno : listen(l, 8) ? -errno : 0;
	qlen = fastopen_qlen(l);
	ok(ret == 0 && qlen == 0, "shut down and listening again: still off (%s, max_qlen %d)",
	   kt_errname(ret), qlen);
	close(l);
	kg_close(&g);
	write_sysctl(knob, old);
}

/* ---- C1(b): DETACH by id racing close() ---- */

static struct race {
	volatile uint32_t id;
	volatile int go, done, stop;
	int ret;
} race;

static void *race_thread(void *arg)
{
	struct kg g;
	int seen = 0;

	(void)arg;
	if (kg_open(&g, (int)(30000 * scale)))
		return NULL;
	for (;;) {
		int go;

		while ((go = __atomic_load_n(&race.go, __ATOMIC_ACQUIRE)) == seen &&
		       !race.stop)
			sched_yield();
		if (race.stop)
			break;
		seen = go;
		for (int i = rand() % 64; i > 0; i--)
			sched_yield();
		race.ret = kg_detach(&g, -1, race.id);
		__atomic_store_n(&race.done, seen, __ATOMIC_RELEASE);
	}
	kg_close(&g);
	return NULL;
}

static void test_race(void)
{
	const char *env = getenv("KTLS_HOSTILE_RACES");
	int n = env && atoi(env) > 0 ? atoi(env) : 300;
	int counts[3] = { 0, 0, 0 }, other = -1, hung = 0, closefail = 0, i;
	struct listed ls = { 0 };
	pthread_t thr;
	struct kg g;
	double took;
	int ret;

	printf("# C1(b): DETACH by id racing close(), %d times\n", n);
	if (mod_load() || kg_open(&g, (int)(30000 * scale)))
		bail("cannot load the module and open its family");
	memset(&race, 0, sizeof(race));
	pthread_create(&thr, NULL, race_thread, NULL);
	for (i = 1; i <= n && !hung; i++) {
		int l = kt_listener(i % 2 ? AF_INET6 : AF_INET, 8), c = -1;
		uint32_t id = 0;
		double end;

		if (kg_attach(&g, l, NULL, 0, 0, &id)) {
			close(l);
			counts[2]++;
			continue;
		}
		if (i % 3 == 0)
			c = connect_to(kt_port(l));	/* something to drain */
		race.id = id;
		__atomic_store_n(&race.go, i, __ATOMIC_RELEASE);
		for (int j = rand() % 64; j > 0; j--)
			sched_yield();
		closefail += close(l) != 0;
		end = kt_now() + 30 * scale;
		while (__atomic_load_n(&race.done, __ATOMIC_ACQUIRE) != i && kt_now() < end)
			sched_yield();
		if (race.done != i) {
			hung = 1;
			break;
		}
		if (race.ret == 0)
			counts[0]++;
		else if (race.ret == -ENOENT)
			counts[1]++;
		else {
			counts[2]++;
			other = race.ret;
		}
		if (c >= 0)
			close(c);
		if (i % 50 == 0)
			printf("# %d rounds\n", i);
	}
	race.stop = 1;
	if (!hung)
		pthread_join(thr, NULL);
	ok(!hung, "no DETACH hung (%d rounds)", i - 1);
	ok(counts[2] == 0 && !closefail,
	   "every DETACH returned 0 (%d) or ENOENT (%d); other: %d (last %s); failed closes: %d",
	   counts[0], counts[1], counts[2], kt_errname(other), closefail);
	ret = kg_listeners(&g, count_listener, &ls);
	ok(ret == 0 && ls.n == 0, "GET_LISTENER lists none of them (%s, %d)", kt_errname(ret), ls.n);
	kg_close(&g);
	if (hung)
		bail("DETACH hung");
	ret = mod_unload_eventually(30 * scale, &took);
	ok(ret == 0, "rmmod succeeds afterwards (%s, %.1f s)", unload_name(ret), took);
	if (ret == MOD_HUNG)
		bail("rmmod hung");
}

/* ---- H2: rmmod with accepts in flight ---- */

static struct inflight {
	volatile int stop;
	int l1, l2, l3;
	pid_t tid1, tid3;
	/* blocking accept() on l1 */
	volatile int t1_done;
	int t1_ret, t1_accepted;
	/* non-blocking accept loop on l2 */
	long t2_eagain;
	int t2_other, t2_conn;
	/* epoll on l3, edge-triggered */
	long t3_wakeups;
	int t3_other, t3_accepted;
} inf;

static void *inflight_blocking(void *arg)
{
	(void)arg;
	__atomic_store_n(&inf.tid1, (pid_t)gettid(), __ATOMIC_SEQ_CST);
	for (;;) {
		int c = accept(inf.l1, NULL, NULL);

		if (c >= 0) {
			inf.t1_accepted++;
			close(c);
			continue;
		}
		inf.t1_ret = -errno;
		if (errno != EINTR || inf.stop)
			break;
	}
	__atomic_store_n(&inf.t1_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *inflight_eagain(void *arg)
{
	(void)arg;
	while (!inf.stop) {
		int c = accept4(inf.l2, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c >= 0) {
			if (__atomic_load_n(&inf.t2_conn, __ATOMIC_SEQ_CST) < 0)
				__atomic_store_n(&inf.t2_conn, c, __ATOMIC_SEQ_CST);
			else
				close(c);
		} else if (errno == EAGAIN) {
			inf.t2_eagain++;
			sched_yield();
		} else {
			inf.t2_other = -errno;
		}
	}
	return NULL;
}

static void *inflight_epoll(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)arg;
	epoll_ctl(ep, EPOLL_CTL_ADD, inf.l3, &ev);
	__atomic_store_n(&inf.tid3, (pid_t)gettid(), __ATOMIC_SEQ_CST);
	while (!inf.stop) {
		int n = epoll_wait(ep, &ev, 1, 100);

		if (n < 0 && errno != EINTR)
			inf.t3_other = -errno;
		if (n <= 0)
			continue;
		inf.t3_wakeups++;
		for (;;) {
			int c = accept4(inf.l3, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

			if (c < 0)
				break;
			inf.t3_accepted++;
			close(c);
		}
	}
	close(ep);
	return NULL;
}

static void test_rmmod_inflight(void)
{
	pthread_t t1, t2, t3;
	char ulp[40], buf[16];
	int ret, client, conn = -1, refusals = 0, attempts = 0, worst = 0;
	uint32_t id;
	struct kg g;
	double took, end;

	printf("# H2: rmmod with accepts in flight and a delivered connection open\n");
	if (mod_load() || kg_open(&g, (int)(30000 * scale)))
		bail("cannot load the module and open its family");
	if (agent_start(AGENT_KTLS))
		bail("the test agent did not register");
	memset(&inf, 0, sizeof(inf));
	inf.t2_conn = -1;
	inf.l1 = kt_listener(AF_INET, 16);
	inf.l2 = kt_listener(AF_INET6, 16);
	inf.l3 = kt_listener(AF_INET, 16);
	/* (accept4's SOCK_NONBLOCK is the new socket's; the loops need the
	 * listener's own) */
	fcntl(inf.l2, F_SETFL, fcntl(inf.l2, F_GETFL) | O_NONBLOCK);
	fcntl(inf.l3, F_SETFL, fcntl(inf.l3, F_GETFL) | O_NONBLOCK);
	ret = kg_attach(&g, inf.l1, "t", 0, 0, &id);
	ret = ret ? ret : kg_attach(&g, inf.l2, "t", 0, 0, &id);
	ret = ret ? ret : kg_attach(&g, inf.l3, "t", 0, 0, &id);
	ok(ret == 0, "three listeners attached (%s)", kt_errname(ret));
	pthread_create(&t1, NULL, inflight_blocking, NULL);
	pthread_create(&t2, NULL, inflight_eagain, NULL);
	pthread_create(&t3, NULL, inflight_epoll, NULL);
	ok(wait_in_syscall(&inf.tid1, SYS_accept, SYS_accept4, 10 * scale) &&
	   wait_in_syscall(&inf.tid3, SYS_epoll_wait, SYS_epoll_pwait, 10 * scale),
	   "one thread blocks in accept(), one in epoll_wait(), one loops on EAGAIN");

	/* a connection through the EAGAIN loop's listener, with a handshake */
	client = connect_to(kt_port(inf.l2));
	ret = client < 0 ? -errno : kt_zero_ktls(client);
	/* the module hands a connection to an agent once its client has
	 * said something (an idle one waits in "hello") */
	if (!ret && send(client, "x", 1, MSG_NOSIGNAL) != 1)
		ret = -errno;
	end = kt_now() + 20 * scale;
	while (__atomic_load_n(&inf.t2_conn, __ATOMIC_SEQ_CST) < 0 && kt_now() < end)
		poll(NULL, 0, 10);
	conn = inf.t2_conn;
	kt_ulp(conn, ulp, sizeof(ulp));
	ok(ret == 0 && conn >= 0 && !strcmp(ulp, "tls"),
	   "a connection is delivered through the attached listener with kTLS "
	   "(client keys %s, ULP '%s')", kt_errname(ret), ulp);
	if (conn >= 0) {
		int flags = fcntl(conn, F_GETFL);

		fcntl(conn, F_SETFL, flags & ~O_NONBLOCK);
		ret = write(conn, "kstress!", 8) == 8 ? kt_read_full(client, buf, 8, 5 * scale) : -errno;
		ok(ret == 0 && !memcmp(buf, "kstress!", 8), "data crosses it in kTLS (%s)",
		   kt_errname(ret));
	}

	for (int i = 0; i < 8; i++) {
		double t;

		ret = mod_unload(60 * scale, &t);
		attempts++;
		refusals += refused(ret);
		if (t > 10 * scale || ret == MOD_HUNG)
			worst = 1;
		if (ret == MOD_HUNG || !refused(ret)) {
			printf("# rmmod attempt %d: %s after %.1f s\n", i + 1, unload_name(ret), t);
			break;
		}
		poll(NULL, 0, 20 + rand() % 100);
	}
	ok(refusals == attempts && !worst,
	   "rmmod is refused (EBUSY/EAGAIN) at once, %d of %d times, while listeners are attached",
	   refusals, attempts);
	if (ret == MOD_HUNG)
		bail("rmmod hung");

	/* wind down: the blocked accept() is woken by shutdown */
	shutdown(inf.l1, SHUT_RD);
	end = kt_now() + 10 * scale;
	while (!__atomic_load_n(&inf.t1_done, __ATOMIC_SEQ_CST) && kt_now() < end)
		poll(NULL, 0, 10);
	if (!inf.t1_done) {
		inf.stop = 1;
		pthread_kill(t1, SIGUSR1);
	}
	ok(inf.t1_ret == -EINVAL, "the blocked accept() returns EINVAL at shutdown (%s)",
	   kt_errname(inf.t1_ret));
	inf.stop = 1;
	ok(join_bounded(t1, 10 * scale) && join_bounded(t2, 10 * scale) &&
	   join_bounded(t3, 10 * scale), "the accepting threads return once told to stop");
	printf("# EAGAIN loop: %ld EAGAIN, other %s; epoll: %ld wakeups, %d accepted, other %s\n",
	       inf.t2_eagain, kt_errname(inf.t2_other), inf.t3_wakeups, inf.t3_accepted,
	       kt_errname(inf.t3_other));
	ok(inf.t2_other == 0 && inf.t3_other == 0 && inf.t3_accepted == 0 && inf.t1_accepted == 0,
	   "no accept loop saw an error or a connection it should not have");
	close(inf.l1);
	close(inf.l2);
	close(inf.l3);
	kg_close(&g);
	agent_stop();

	if (conn >= 0) {
		/*
		 * All listeners are gone.  A delivered connection points at
		 * nothing of the module's (its proto is tls's, its socket ops
		 * tls's), so it does not hold the module: rmmod succeeds and
		 * the connection carries on in kTLS.
		 */
		ret = mod_unload_eventually(30 * scale, &took);
		ok(ret == 0, "rmmod succeeds with only a delivered connection open (%s, %.1f s)",
		   unload_name(ret), took);
		if (ret == MOD_HUNG)
			bail("rmmod hung");
		ret = write(conn, "after rmmod", 11) == 11 ?
			kt_read_full(client, buf, 11, 5 * scale) : -errno;
		ok(ret == 0 && !memcmp(buf, "after rmmod", 11),
		   "... and it still carries data in kTLS afterwards (%s)", kt_errname(ret));
		close(conn);
	}
	if (client >= 0)
		close(client);
	ret = mod_unload_eventually(30 * scale, &took);
	/* (ENOENT: it was unloaded already, which an earlier check reported) */
	ok(ret == 0 || ret == -ENOENT, "rmmod succeeds once everything is closed (%s, %.1f s)",
	   unload_name(ret), took);
	if (ret == MOD_HUNG)
		bail("rmmod hung");
}

/* ---- H3: a long request must not stall generic netlink ---- */

/* Runs @argv, waited for at most @secs: its status, or -1 if it ran on
 * (then *@pid is left running). */
static int run_timed(char *const argv[], double secs, double *took, pid_t *pidp)
{
	double t0 = kt_now(), end = t0 + secs;
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (kt_now() < end) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			*took = kt_now() - t0;
			if (pidp)
				*pidp = 0;
			return status;
		}
		poll(NULL, 0, 20);
	}
	*took = kt_now() - t0;
	if (pidp)
		*pidp = pid;
	return -1;
}

static void wait_child(int *res)
{
	struct kg g;
	uint32_t id, status;
	int a = -1, b, l;
	struct sockaddr_in s4;
	socklen_t len = sizeof(s4);
	uint32_t timeout = (uint32_t)(40000 * scale);

	if (timeout > 300000)
		timeout = 300000;
	res[0] = kg_open(&g, (int)(600000 * scale));
	if (res[0])
		return;
	l = kt_listener(AF_INET, 4);
	getsockname(l, (void *)&s4, &len);
	a = connect_to(ntohs(s4.sin_port));
	b = accept(l, NULL, NULL);
	res[1] = kg_submit(&g, a, "hold", timeout, KTLS_OFFLOAD_SUBMIT_FLAGS_WAIT, 0, &id);
	if (res[1] == -EINVAL)	/* no WAIT any more: a plain long request */
		res[1] = kg_submit(&g, a, "hold", timeout, 0, 0, &id);
	if (write(res[9], res, 2 * sizeof(int)) < 0)
		_exit(1);
	res[2] = kg_wait(&g, id, &status);
	close(b);
	close(l);
}

static void test_wait(void)
{
	char *genl[] = { "genl", "ctrl", "list", NULL };
	char *modules[] = { "team", "gtp", "macsec", "fou", NULL };
	char *mod = NULL;
	int res[10] = { 0 }, p[2], st;
	pid_t wpid, mpid = 0, gpid = 0;
	double base, took, mtook = 0, limit = 15 * scale;

	printf("# H3: a long request and a family registration vs genl ctrl list\n");
	if (mod_load())
		bail("insmod failed");
	for (int i = 0; modules[i] && !mod; i++) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "modprobe -q -r %s 2>/dev/null; modprobe -n -q %s",
			 modules[i], modules[i]);
		if (system(cmd) == 0)
			mod = modules[i];
	}
	st = run_timed(genl, 60 * scale, &base, &gpid);
	ok(st == 0, "baseline: genl ctrl list takes %.1f s", base);
	if (agent_start(AGENT_HOLD))
		bail("the test agent did not register");
	if (pipe2(p, O_CLOEXEC))
		bail("pipe");
	fflush(stdout);
	wpid = fork();
	if (wpid == 0) {
		close(p[0]);
		res[9] = p[1];
		wait_child(res);
		_exit(0);
	}
	close(p[1]);
	{
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };

		if (poll(&pfd, 1, (int)(20000 * scale)) != 1 ||
		    read(p[0], res, 2 * sizeof(int)) != 2 * sizeof(int))
			res[0] = -ETIMEDOUT;
	}
	close(p[0]);
	ok(res[0] == 0 && res[1] == 0, "a request held by the agent (%s, %s); its owner WAITs",
	   kt_errname(res[0]), kt_errname(res[1]));
	/* give the WAIT a moment to get into the kernel, if it blocks */
	{
		char path[64], buf[64];
		double end = kt_now() + 3 * scale;

		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)wpid);
		while (kt_now() < end) {
			FILE *f = fopen(path, "re");

			buf[0] = '\0';
			if (f) {
				if (!fgets(buf, sizeof(buf), f))
					buf[0] = '\0';
				fclose(f);
			}
			if (atoi(buf) == SYS_sendto || atoi(buf) == SYS_sendmsg || !f)
				break;
			poll(NULL, 0, 20);
		}
	}
	if (mod) {
		char *argv[] = { "modprobe", mod, NULL };

		/* the registration queues behind any reader of genetlink */
		run_timed(argv, 1 * scale, &mtook, &mpid);
		printf("# modprobe %s %s after %.1f s\n", mod, mpid ? "still runs" : "returned",
		       mtook);
	} else {
		printf("# no genetlink module to load (team, gtp, macsec, fou)\n");
	}
	st = run_timed(genl, limit, &took, &gpid);
	ok(st == 0 && took < limit,
	   "genl ctrl list during the request takes %.1f s (baseline %.1f s, limit %.0f s)",
	   took, base, limit);
	if (mpid) {
		double end = kt_now() + limit;

		while (waitpid(mpid, &st, WNOHANG) != mpid && kt_now() < end)
			poll(NULL, 0, 20);
		ok(kt_now() < end, "the family registration (modprobe %s) is not held up", mod);
	}
	/* end the request, and with it any WAIT */
	kill(wpid, SIGKILL);
	waitpid(wpid, NULL, 0);
	if (gpid)
		waitpid(gpid, NULL, 0);
	if (mpid)
		waitpid(mpid, NULL, 0);
	agent_stop();
	if (mod) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "modprobe -q -r %s", mod);
		if (system(cmd))
			printf("# modprobe -r %s failed\n", mod);
	}
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "userns", test_userns },
		{ "c1", test_c1_root },
		{ "wake", test_wake },
		{ "tfo", test_tfo },
		{ "race", test_race },
		{ "rmmod", test_rmmod_inflight },
		{ "wait", test_wait },
	};
	struct sigaction sa = { .sa_handler = on_usr1 };
	const char *env = getenv("KTLS_TIME_SCALE");

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: interrupts accept() */
	if (env && atof(env) > 1)
		scale = atof(env);
	module_path = getenv("KTLS_MODULE");
	if (!module_path)
		bail("KTLS_MODULE is not set");
	srand((unsigned int)time(NULL) ^ (unsigned int)getpid());
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int run = argc < 2;

		for (int j = 1; j < argc; j++)
			run |= !strcmp(argv[j], tests[i].name);
		if (run)
			tests[i].fn();
	}
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
