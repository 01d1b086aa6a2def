// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kstress: a randomized stress test of the ktls_offload module's interface
 * (issue 15, item 7).  For KSTRESS_SECONDS (default 60) seconds, with the
 * seed KSTRESS_SEED (default: time and pid; always printed), these run at
 * once, each looping over random operations:
 *
 *   requesters (2)  SUBMIT loopback TCP sockets (v4/v6) with up to four
 *                   requests in flight each, CANCEL, close or shut down the
 *                   submitted socket, SUBMIT again, SUBMIT what must be
 *                   refused, WAIT-flagged requests, and close their netlink
 *                   socket mid-request (requester death).  A success is
 *                   checked end to end: kTLS on the socket, data both ways
 *                   through the zero keys the agent installed.
 *   agents (2)      ACCEPT and act by the request's profile: install kTLS
 *                   with zero keys and DONE 0, DONE with a failure, claim
 *                   success without kTLS (the module must say EPROTO), hold
 *                   the socket and drop it later, close it at once; now and
 *                   then close the netlink socket with requests in hand
 *                   (agent death) and come back.
 *   listeners (2)   v4/v6 listeners, ATTACHed with random bounds, served
 *                   by blocking accept(), a non-blocking EAGAIN loop, or
 *                   epoll level- or edge-triggered; random setsockopt and
 *                   ULP probes; ended by close, DETACH by fd or id,
 *                   shutdown() (a blocked accept() must then see EINVAL),
 *                   or the hostile sequence: shutdown, connect() somewhere,
 *                   IPV6_ADDRFORM, TCP_ULP "tls", close.  Every connection
 *                   an attached listener delivers must carry kTLS, and
 *                   data crosses it both ways.
 *   clients (2)     connect to the listeners: as TLS peers (zero keys),
 *                   or closing at once, sending plain text, idling.
 *   dumper (1)      GET_STATS, GET_VERSION, GET_REQUEST and GET_LISTENER
 *                   dumps (a listener must not be listed after its close),
 *                   DETACH by id of other threads' listeners (racing their
 *                   close), DETACH of unknown ids.
 *   controller      (a process) rmmod at random moments, sometimes after
 *                   asking the listeners to stand down, and insmod again;
 *                   rmmod may be refused (EBUSY/EAGAIN), never hang.
 *   namespaces      (a process) children that, as uid 65534 in a new user
 *                   and network namespace, try every command (the
 *                   privileged ones must fail with EPERM) and the hostile
 *                   sequence; or, as root in a new network namespace, run
 *                   requests, an agent and a listener and exit with all of
 *                   it in flight.
 *   watchdog        every syscall and netlink call is timed: one that does
 *                   not return within 30 s (rmmod: 60 s), times
 *                   KTLS_TIME_SCALE, is a hang, reported with the task's
 *                   kernel stack.
 *
 * Outcomes are counted per operation and errno and printed at the end.  An
 * errno that an operation may legitimately return is never a failure.  The
 * run fails on a hang, an unexpected errno or request status, corrupted
 * data, a plain connection from an attached listener, a privileged command
 * that works in a user namespace, a request that outlives its timeout, a
 * listener listed after its close, a leaked descriptor, or a module that
 * does not unload once everything is closed.  The kernel's own checks
 * (run-guest's kernel-log.tap) are the main oracle.  Needs root;
 * KTLS_MODULE names the module file for insmod.  KSTRESS_RMMOD=0,
 * KSTRESS_NS=0 and KSTRESS_HOSTILE=0 leave out the controller, the
 * namespace children, and the hostile sequences and DETACH races (to look
 * at one part).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/ktls_offload.h>

#include "kgenl.h"
#include "ktest.h"
#include "loopback.h"

#ifndef IPV6_ADDRFORM
#define IPV6_ADDRFORM 1
#endif

/* ---- operations, their legitimate errnos, and counts ---- */

enum op {
	OP_OPEN, OP_SUBMIT, OP_SUBMIT_AGAIN, OP_SUBMIT_LISTENING, OP_SUBMIT_UDP,
	OP_SUBMIT_BADFD, OP_SUBMIT_WAIT, OP_WAIT, OP_CANCEL, OP_EVENTS, OP_COMPLETE,
	OP_COMPLETE_MID, OP_COMPLETE_EARLY,
	OP_ACCEPT, OP_DONE, OP_DONE_FAKE, OP_DONE_STALE, OP_AGENT_KTLS, OP_ATTACH,
	OP_DETACH_FD, OP_DETACH_ID, OP_DETACH_OTHER, OP_DETACH_UNKNOWN,
	OP_GET_STATS, OP_GET_VERSION, OP_GET_REQUEST, OP_GET_LISTENER,
	OP_SRV_ACCEPT, OP_SRV_DATA, OP_SRV_PLAIN, OP_SHUT_ACCEPT, OP_LIS_ULP,
	OP_LIS_TLS, OP_LIS_SOCKOPT, OP_H_SHUTDOWN, OP_H_CONNECT, OP_H_ADDRFORM,
	OP_H_ADDRFORM_ATT, OP_H_ULP, OP_H_ULP_ATT, OP_CONNECT, OP_CLI_KTLS,
	OP_CLI_DATA, OP_PAIR, OP_PEER_DATA, OP_RMMOD, OP_INSMOD, OP_NS_SETUP,
	OP_NS_CHILD, OP_USERNS_PRIV, OP_USERNS_SUBMIT,
	N_OPS
};

#define NL	1	/* a netlink call: ETIMEDOUT is no reply (a hang) */

static const struct opdef {
	const char *name;
	int flags;
	int ok[14];	/* errnos it may legitimately return, 0-terminated */
} ops[N_OPS] = {
	[OP_OPEN]	      = { "open family", NL, { ENOENT } },
	[OP_SUBMIT]	      = { "SUBMIT", NL, { ENOENT, ENOBUFS, ESRCH, EBUSY, EAGAIN,
				  ENOTCONN, ESHUTDOWN, ENOMEM } },
	[OP_SUBMIT_AGAIN]     = { "SUBMIT of a submitted socket", NL, { ENOENT, ENOBUFS,
				  ESRCH, EBUSY, EAGAIN, ENOTCONN, ESHUTDOWN } },
	[OP_SUBMIT_LISTENING] = { "SUBMIT of a listener", NL, { ENOENT, ENOBUFS, EINVAL,
				  ESRCH } },
	[OP_SUBMIT_UDP]	      = { "SUBMIT of a UDP socket", NL, { ENOENT, ENOBUFS,
				  EPROTONOSUPPORT, ESRCH } },
	[OP_SUBMIT_BADFD]     = { "SUBMIT of a bad fd", NL, { ENOENT, ENOBUFS, EBADF, ESRCH } },
	/* (EINVAL: a module without WAIT refuses the flag) */
	[OP_SUBMIT_WAIT]      = { "SUBMIT with WAIT", NL, { ENOENT, ENOBUFS, EINVAL, ESRCH,
				  EBUSY, EAGAIN, ENOTCONN, ESHUTDOWN } },
	[OP_WAIT]	      = { "WAIT", NL, { ENOENT, ENOBUFS, EINTR, EOPNOTSUPP, EAGAIN } },
	[OP_CANCEL]	      = { "CANCEL", NL, { ENOENT, ENOBUFS } },
	[OP_EVENTS]	      = { "read notifications", 0, { ENOBUFS } },
	[OP_COMPLETE]	      = { "COMPLETE status", 0, { EACCES, EIO, EPROTO, ETIMEDOUT,
				  ECONNABORTED, ECANCELED, ESHUTDOWN } },
	[OP_COMPLETE_MID]     = { "COMPLETE of ours read during a call", 0, { 0 } },
	[OP_COMPLETE_EARLY]   = { "COMPLETE read before its SUBMIT's reply", 0, { 0 } },
	[OP_ACCEPT]	      = { "ACCEPT", NL, { ENOENT, ENOBUFS, EAGAIN, ESHUTDOWN } },
	[OP_DONE]	      = { "DONE", NL, { ENOENT, ENOBUFS, EPROTO } },
	[OP_DONE_FAKE]	      = { "DONE 0 without kTLS", NL, { ENOENT, ENOBUFS, EPROTO } },
	[OP_DONE_STALE]	      = { "DONE after the agent's socket closed", NL,
				  { ENOENT, ENOBUFS, EPERM } },
	[OP_AGENT_KTLS]	      = { "agent installs kTLS", 0, { ENOTCONN, ECONNRESET, EPIPE,
				  EBADF } },
	[OP_ATTACH]	      = { "ATTACH", NL, { ENOENT, ENOBUFS, EBUSY, ESHUTDOWN, ENOMEM } },
	[OP_DETACH_FD]	      = { "DETACH by fd", NL, { ENOENT, ENOBUFS } },
	[OP_DETACH_ID]	      = { "DETACH by id", NL, { ENOENT, ENOBUFS } },
	[OP_DETACH_OTHER]     = { "DETACH by id of another thread's", NL, { ENOENT, ENOBUFS } },
	[OP_DETACH_UNKNOWN]   = { "DETACH of an unknown id", NL, { ENOENT, ENOBUFS } },
	[OP_GET_STATS]	      = { "GET_STATS", NL, { ENOENT, ENOBUFS } },
	[OP_GET_VERSION]      = { "GET_VERSION", NL, { ENOENT, ENOBUFS } },
	/* (EPROTONOSUPPORT: netlink cannot pin a module that is going) */
	[OP_GET_REQUEST]      = { "GET_REQUEST dump", NL, { ENOENT, ENOBUFS, EPROTONOSUPPORT } },
	[OP_GET_LISTENER]     = { "GET_LISTENER dump", NL, { ENOENT, ENOBUFS, EPROTONOSUPPORT } },
	[OP_SRV_ACCEPT]	      = { "server accept()", 0, { EAGAIN, EINTR, ECONNABORTED, EINVAL } },
	/* (EINVAL, EMSGSIZE, EBADMSG: kTLS's answers to a client's plain text) */
	[OP_SRV_DATA]	      = { "server data", 0, { ETIMEDOUT, EPIPE, ECONNRESET, EBADMSG,
				  EIO, EAGAIN, EINVAL, EMSGSIZE } },
	[OP_SRV_PLAIN]	      = { "plain connection of a detached listener", 0, { 0 } },
	[OP_SHUT_ACCEPT]      = { "accept() after shutdown of an attached listener", 0,
				  { EINVAL } },
	[OP_LIS_ULP]	      = { "TCP_ULP of an attached listener is ktls_listen", 0,
				  { ENOENT } },
	[OP_LIS_TLS]	      = { "TCP_ULP tls on a listener", 0, { ENOTCONN, EEXIST } },
	[OP_LIS_SOCKOPT]      = { "listener setsockopt", 0, { EINVAL, ENOPROTOOPT } },
	[OP_H_SHUTDOWN]	      = { "hostile: shutdown", 0, { ENOTCONN } },
	[OP_H_CONNECT]	      = { "hostile: connect", 0, { ECONNREFUSED, ETIMEDOUT, EINPROGRESS,
				  EAGAIN, EISCONN, EALREADY, EINVAL, ECONNRESET,
				  ECONNABORTED, EADDRNOTAVAIL } },
	[OP_H_ADDRFORM]	      = { "hostile: IPV6_ADDRFORM", 0, { ENOTCONN, EADDRNOTAVAIL, EBUSY } },
	[OP_H_ADDRFORM_ATT]   = { "hostile: IPV6_ADDRFORM of an attached listener", 0,
				  { EBUSY } },
	[OP_H_ULP]	      = { "hostile: TCP_ULP tls", 0, { ENOTCONN, EEXIST } },
	[OP_H_ULP_ATT]	      = { "hostile: TCP_ULP tls of an attached listener", 0,
				  { EEXIST } },
	[OP_CONNECT]	      = { "client connect", 0, { ECONNREFUSED, ETIMEDOUT, ECONNRESET } },
	[OP_CLI_KTLS]	      = { "client installs kTLS", 0, { ENOTCONN, ECONNRESET, EPIPE } },
	[OP_CLI_DATA]	      = { "client data", 0, { ETIMEDOUT, EPIPE, ECONNRESET } },
	[OP_PAIR]	      = { "loopback pair", 0, { EMFILE, ENFILE, EADDRNOTAVAIL } },
	[OP_PEER_DATA]	      = { "data through a handed-off socket", 0, { 0 } },
	[OP_RMMOD]	      = { "rmmod", 0, { EAGAIN, EBUSY } },
	[OP_INSMOD]	      = { "insmod", 0, { 0 } },
	[OP_NS_SETUP]	      = { "enter a namespace", 0, { EPERM, ENOSPC, EUSERS } },
	[OP_NS_CHILD]	      = { "namespace child exit", 0, { 0 } },
	/* (ENOENT: the module was unloaded meanwhile) */
	/* (ns_user_child() judges these itself) */
	[OP_USERNS_PRIV]      = { "privileged command in a user namespace", NL,
				  { EPERM, ENOENT, ENOBUFS, EPROTONOSUPPORT, EAGAIN, EBUSY,
				    ESHUTDOWN, EINVAL, EPROTO } },
	[OP_USERNS_SUBMIT]    = { "SUBMIT in a user namespace", NL, { ESRCH, EPERM, ENOENT,
				  ENOBUFS } },
};

/* outcomes counted per operation: errno 0..133, then 134 for any other */
#define NERR 135

enum fail_kind { F_HANG, F_ERRNO, F_CORRUPT, F_PRIV, F_LIFETIME, F_LEAK, F_SETUP, N_FAIL };

static const char *const fail_names[N_FAIL] = {
	"hang", "unexpected errno or status", "corruption", "privilege",
	"lifetime", "descriptor leak", "setup",
};

#define NSLOTS 24
#define SLOT_CTL 20
#define SLOT_NSDRV 21
#define SLOT_NSCHILD 22

struct slot {
	volatile int busy;
	volatile pid_t tid;
	volatile double since, limit;
	char what[64];
};

/* In memory shared with the controller and namespace processes. */
static struct shared {
	volatile int stop, quiesce, loaded, rmmod_busy, nattached, rmmod_hung;
	volatile unsigned int gen, unloads;
	struct slot slots[NSLOTS];
	uint64_t counts[N_OPS][NERR];
	uint64_t fails[N_FAIL];
	volatile int msg_lock;
	int nmsg;
	char msgs[48][160];
	int msg_kind[48];
	unsigned int msg_count[48];
} *sh;

static double scale = 1, hang_limit = 30, rmmod_limit = 60;
static const char *module_path;
static unsigned long long seed;
static int sink_port = -1;
/* KSTRESS_HOSTILE=0: no hostile sequences and no DETACH by id racing
 * another thread's close (the review's C1 paths), to look at the rest on a
 * module that still has them */
static int hostile_on = 1;

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* one write per line: threads and processes share stdout */
	if (write(1, buf, n) < 0)
		return;
}

static void fail(int kind, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	uint64_t n;
	int i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = __atomic_fetch_add(&sh->fails[kind], 1, __ATOMIC_SEQ_CST);
	if (n < 5)
		say("# FAIL (%s): %s", fail_names[kind], msg);
	/* the distinct messages, counted, for the summary */
	while (__atomic_exchange_n(&sh->msg_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < sh->nmsg; i++)
		if (sh->msg_kind[i] == kind && !strcmp(sh->msgs[i], msg))
			break;
	if (i < sh->nmsg) {
		sh->msg_count[i]++;
	} else if (sh->nmsg < 48) {
		snprintf(sh->msgs[i], sizeof(sh->msgs[i]), "%s", msg);
		sh->msg_kind[i] = kind;
		sh->msg_count[i] = 1;
		sh->nmsg++;
	}
	__atomic_store_n(&sh->msg_lock, 0, __ATOMIC_RELEASE);
}

static int allowed(int op, int e)
{
	for (int i = 0; ops[op].ok[i]; i++)
		if (ops[op].ok[i] == e)
			return 1;
	return 0;
}

/* Counts @ret (0 or -errno) for @op; an errno it may not return fails. */
static int outcome(int op, int ret)
{
	int e = ret < 0 ? -ret : ret;

	__atomic_fetch_add(&sh->counts[op][e < NERR - 1 ? e : NERR - 1], 1, __ATOMIC_RELAXED);
	if (!e || allowed(op, e))
		return ret;
	if ((ops[op].flags & NL) && e == ETIMEDOUT)
		fail(F_HANG, "%s: no reply within %.0f s", ops[op].name, hang_limit);
	else
		fail(F_ERRNO, "%s: %s", ops[op].name, kt_errname(e));
	return ret;
}

/* ---- per-thread context ---- */

struct ctx {
	int slot;
	uint64_t rng;
	struct kg g;
	unsigned int gen;
	int agent;		/* joins the agents group on (re)open */
};

static uint32_t rnd(struct ctx *c, uint32_t n)
{
	/* xorshift64* */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return n ? (uint32_t)((c->rng * 2685821657736338717ULL) >> 32) % n : 0;
}

static void ctx_init(struct ctx *c, int slot)
{
	memset(c, 0, sizeof(*c));
	c->slot = slot;
	c->rng = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)(slot + 1) * 0x632be59bd9b4e019ULL;
	if (!c->rng)
		c->rng = 1;
	c->g.fd = -1;
}

static void watch_limit(struct ctx *c, const char *what, double limit)
{
	struct slot *s = &sh->slots[c->slot];

	snprintf(s->what, sizeof(s->what), "%s", what);
	s->tid = gettid();
	s->since = kt_now();
	s->limit = limit;
	__atomic_store_n(&s->busy, 1, __ATOMIC_RELEASE);
}

static void watch(struct ctx *c, const char *what)
{
	watch_limit(c, what, hang_limit);
}

static void unwatch(struct ctx *c)
{
	__atomic_store_n(&sh->slots[c->slot].busy, 0, __ATOMIC_RELEASE);
}

static int nl_end(struct ctx *c, int op, int ret)
{
	unwatch(c);
	return outcome(op, ret);
}

/* a netlink call of @op, timed and counted */
#define NLOP(c, op, call) (watch((c), ops[op].name), nl_end((c), (op), (call)))

static void nap(int ms)
{
	poll(NULL, 0, ms);
}

/* Opens (again) the family when it is not open or the module changed. */
static int nl_ready(struct ctx *c)
{
	unsigned int gen = sh->gen;
	int ret;

	if (c->g.fd >= 0 && c->gen == gen && sh->loaded)
		return 0;
	kg_close(&c->g);
	if (!sh->loaded)
		return -ENOENT;
	watch(c, "open family");
	ret = kg_open(&c->g, (int)(hang_limit * 1000));
	unwatch(c);
	outcome(OP_OPEN, ret);
	if (ret)
		return ret;
	c->gen = gen;
	if (c->agent) {
		kg_set_rcvbuf(&c->g, 1 << 20);
		kg_join_agents(&c->g);
	}
	return 0;
}

/* ---- sockets ---- */

/* A socket op's result: only errors that mean a broken fd or address fail. */
static int sockop(int op, int ret)
{
	int e = ret < 0 ? -ret : 0;

	if (e == EBADF || e == EFAULT || e == ENOTSOCK) {
		fail(F_ERRNO, "%s: %s", ops[op].name, kt_errname(e));
		return ret;
	}
	__atomic_fetch_add(&sh->counts[op][e < NERR - 1 ? e : NERR - 1], 1, __ATOMIC_RELAXED);
	return ret;
}

#define SYS(call) ((call) < 0 ? -errno : 0)

static void fill_random(struct ctx *c, char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)rnd(c, 256);
}

static void set_blocking(int fd, int blocking)
{
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
}

/* ---- requesters ---- */

struct oreq {
	int used, a, b, messed, lost;
	char prof;
	uint32_t id, timeout;
	double submitted, deadline;
};

static void req_close(struct oreq *r)
{
	if (r->a >= 0)
		close(r->a);
	if (r->b >= 0)
		close(r->b);
	memset(r, 0, sizeof(*r));
	r->a = r->b = -1;
}

/* A handed-off socket with success status: kTLS, and data both ways. */
static void verify_handoff(struct ctx *c, int a, int b)
{
	char ulp[40], out[64], in[64];
	int ret;

	kt_ulp(a, ulp, sizeof(ulp));
	if (strcmp(ulp, "tls")) {
		fail(F_CORRUPT, "a request completed with success, its socket's ULP is '%s'", ulp);
		return;
	}
	ret = kt_zero_ktls(b);
	if (ret) {
		fail(F_SETUP, "kTLS on the requester's peer: %s", kt_errname(ret));
		return;
	}
	kt_timeouts(a, 0, 5 * scale);
	kt_timeouts(b, 0, 5 * scale);
	for (int dir = 0; dir < 2; dir++) {
		int from = dir ? b : a, to = dir ? a : b;

		fill_random(c, out, sizeof(out));
		ret = write(from, out, sizeof(out)) == sizeof(out) ? 0 : -EIO;
		if (!ret)
			ret = kt_read_full(to, in, sizeof(in), 5 * scale);
		if (ret || memcmp(in, out, sizeof(in))) {
			fail(F_CORRUPT, "data through a handed-off socket, %s: %s",
			     dir ? "peer to requester" : "requester to peer",
			     ret ? kt_errname(ret) : "bytes differ");
			return;
		}
	}
	sockop(OP_PEER_DATA, 0);
}

static void req_finish(struct ctx *c, struct oreq *r, uint32_t st)
{
	int bad = 0;

	outcome(OP_COMPLETE, -(int)st);
	if (st == 0 && !strchr("ks", r->prof)) {
		fail(F_CORRUPT, "a request with profile %c succeeded", r->prof);
		bad = 1;
	} else if (st == EACCES && r->prof != 'f') {
		fail(F_ERRNO, "a request with profile %c: EACCES", r->prof);
		bad = 1;
	} else if ((st == EPROTO || st == EIO) && !r->messed && r->prof != 'x') {
		fail(F_ERRNO, "a request with profile %c: %s", r->prof, kt_errname(st));
		bad = 1;
	}
	if (!bad && st == 0 && !r->messed)
		verify_handoff(c, r->a, r->b);
	req_close(r);
}

static __thread uint32_t seen_ids[16], n_seen;
static __thread double seen_at[16];
/*
 * A COMPLETE can come before the reply to its SUBMIT: an agent may take
 * the request and end it while the SUBMIT handler is still making its
 * reply (libktls keeps such results the same way).  Unknown ids read
 * while a SUBMIT waits for its reply are kept here for req_new().
 */
static __thread struct {
	uint32_t id, st;
} early[8];
static __thread int n_early, submitting;

static void on_complete(const struct nlattr *const *tb, const struct nlmsghdr *nlh, void *arg)
{
	struct ctx *c = ((void **)arg)[0];
	struct oreq *r = ((void **)arg)[1];
	uint32_t id, st;

	(void)tb;
	if (kg_complete(nlh, &id, &st))
		return;
	seen_ids[n_seen % 16] = id;
	seen_at[n_seen++ % 16] = kt_now();
	for (int i = 0; i < 4; i++)
		if (r[i].used && r[i].id == id) {
			req_finish(c, &r[i], st);
			return;
		}
	if (submitting) {
		if (n_early == 8) {
			memmove(&early[0], &early[1], 7 * sizeof(early[0]));
			n_early--;
		}
		early[n_early].id = id;
		early[n_early++].st = st;
	}
}

/* A COMPLETE that came while a call waited for its reply. */
static void on_complete_mid(const struct nlattr *const *tb, const struct nlmsghdr *nlh,
			    void *arg)
{
	const struct oreq *r = ((void **)arg)[1];
	uint32_t id, st;

	if (!kg_complete(nlh, &id, &st))
		for (int i = 0; i < 4; i++)
			if (r[i].used && r[i].id == id)
				outcome(OP_COMPLETE_MID, 0);
	on_complete(tb, nlh, arg);
}

static void req_forget_all(struct oreq *r)
{
	for (int i = 0; i < 4; i++)
		if (r[i].used)
			req_close(&r[i]);
}

static uint32_t req_timeout(struct ctx *c, uint32_t lo, uint32_t span)
{
	double ms = (lo + rnd(c, span)) * scale;

	return ms > 300000 ? 300000 : (uint32_t)ms;
}

static void req_new(struct ctx *c, struct oreq *r)
{
	static const char profiles[] = "kkkkkssffxhn";
	char prof[2] = { profiles[rnd(c, sizeof(profiles) - 1)], 0 };
	uint32_t timeout = req_timeout(c, 200, 2800), id2;
	int ret, x;

	memset(r, 0, sizeof(*r));
	r->a = r->b = -1;
	ret = loopback_tcp_pair_family(rnd(c, 2) ? AF_INET6 : AF_INET, &r->a, &r->b);
	if (sockop(OP_PAIR, ret))
		return;
	n_early = 0;
	submitting = 1;
	ret = NLOP(c, OP_SUBMIT, kg_submit(&c->g, r->a, prof, timeout, 0, rnd(c, 1u << 31), &r->id));
	submitting = 0;
	if (ret) {
		req_close(r);
		return;
	}
	r->used = 1;
	r->prof = prof[0];
	r->timeout = timeout;
	r->submitted = kt_now();
	r->deadline = r->submitted + timeout / 1000.0 + 10 * scale;
	for (int i = 0; i < n_early; i++)
		if (early[i].id == r->id) {
			outcome(OP_COMPLETE_EARLY, 0);
			req_finish(c, r, early[i].st);
			return;
		}
	x = rnd(c, 100);
	if (x < 8) {
		NLOP(c, OP_CANCEL, kg_cancel(&c->g, r->id));
	} else if (x < 12) {
		r->messed = 1;
		sockop(OP_H_SHUTDOWN, SYS(shutdown(r->a, SHUT_RDWR)));
	} else if (x < 15) {
		r->messed = 1;
		close(r->a);
		r->a = -1;
	} else if (x < 18) {
		/* the socket is taken (EBUSY), or the first request ended */
		if (!NLOP(c, OP_SUBMIT_AGAIN, kg_submit(&c->g, r->a, "n", timeout, 0, 0, &id2))) {
			r->messed = 1;
			NLOP(c, OP_CANCEL, kg_cancel(&c->g, id2));
		}
	}
}

static void req_refused(struct ctx *c)
{
	uint32_t id;
	int fd;

	switch (rnd(c, 3)) {
	case 0:
		fd = kt_listener(AF_INET, 1);
		if (fd >= 0) {
			NLOP(c, OP_SUBMIT_LISTENING, kg_submit(&c->g, fd, "k", 1000, 0, 0, &id));
			close(fd);
		}
		break;
	case 1:
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		NLOP(c, OP_SUBMIT_UDP, kg_submit(&c->g, fd, "k", 1000, 0, 0, &id));
		close(fd);
		break;
	default:
		NLOP(c, OP_SUBMIT_BADFD, kg_submit(&c->g, 1000000, "k", 1000, 0, 0, &id));
		break;
	}
}

/* SUBMIT with the WAIT flag and WAIT, kept short: in the old module WAIT
 * sleeps inside genetlink. */
static void req_wait(struct ctx *c)
{
	struct oreq r;
	char prof[2] = { "kfh"[rnd(c, 3)], 0 };
	uint32_t st;
	int ret;

	memset(&r, 0, sizeof(r));
	r.a = r.b = -1;
	if (sockop(OP_PAIR, loopback_tcp_pair_family(AF_INET, &r.a, &r.b)))
		return;
	ret = NLOP(c, OP_SUBMIT_WAIT, kg_submit(&c->g, r.a, prof, req_timeout(c, 200, 800),
						 KTLS_OFFLOAD_SUBMIT_FLAGS_WAIT, 0, &r.id));
	if (!ret) {
		r.prof = prof[0];
		ret = NLOP(c, OP_WAIT, kg_wait(&c->g, r.id, &st));
		if (!ret) {
			req_finish(c, &r, st);
			return;
		}
	}
	req_close(&r);
}

/* What the module says of a request whose COMPLETE is overdue. */
struct diag_ctx {
	uint32_t id;
	int found;
};

static void diag_listed(const struct nlattr *const *tb, const struct nlmsghdr *nlh, void *arg)
{
	struct diag_ctx *d = arg;

	(void)nlh;
	if (kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_ID]) != d->id)
		return;
	d->found = 1;
	say("#   the module lists it: state %u, %u ms left, agent port %u, pid %u",
	    kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_STATE]), kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_TIMEOUT_MS]),
	    kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_AGENT_PORTID]), kg_u32(tb[KTLS_OFFLOAD_A_REQUEST_PID]));
}

/* The line of /proc/net/netlink for @fd's port id (queue and drops). */
static void say_netlink_line(int fd)
{
	struct sockaddr_nl sa;
	socklen_t len = sizeof(sa);
	char line[256], want[16];
	FILE *f;

	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		return;
	f = fopen("/proc/net/netlink", "re");
	if (!f)
		return;
	snprintf(want, sizeof(want), "%u", sa.nl_pid);
	while (fgets(line, sizeof(line), f)) {
		char pid[16] = "";

		if (sscanf(line, "%*s %*s %15s", pid) == 1 && !strcmp(pid, want))
			say("#   /proc/net/netlink: %.*s", (int)strcspn(line, "\n"), line);
	}
	fclose(f);
}

static void req_diag(struct ctx *c, const struct oreq *r)
{
	struct diag_ctx d = { r->id, 0 };
	int ret;

	say("#   request %u (profile %c, timeout %u ms%s) submitted %.1f s ago", r->id, r->prof,
	    r->timeout, r->messed ? ", messed with" : "", kt_now() - r->submitted);
	ret = kg_requests(&c->g, diag_listed, &d);
	if (ret < 0)
		say("#   GET_REQUEST: %s", kt_errname(-ret));
	else if (!d.found)
		say("#   the module does not list it");
	for (uint32_t i = n_seen > 16 ? n_seen - 16 : 0; i < n_seen; i++)
		say("#   COMPLETE %u read %.1f s ago", seen_ids[i % 16], kt_now() - seen_at[i % 16]);
	say_netlink_line(c->g.fd);
}

static void *requester(void *arg)
{
	struct ctx *c = arg;
	struct oreq r[4];
	void *ev_arg[2] = { c, r };

	for (int i = 0; i < 4; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].a = r[i].b = -1;
	}
	while (!sh->stop) {
		unsigned int gen = c->gen;
		int x, ret, slot = -1;

		if (nl_ready(c)) {
			req_forget_all(r);
			nap(20);
			continue;
		}
		/* reopened after an rmmod and insmod: the old socket, with the
		 * COMPLETEs (ESHUTDOWN) of its requests, is gone */
		if (c->gen != gen)
			req_forget_all(r);
		/* COMPLETEs that arrive during SUBMIT or CANCEL count too */
		c->g.on_event = on_complete_mid;
		c->g.on_event_arg = ev_arg;
		x = rnd(c, 100);
		if (x < 3) {
			/* requester death with requests in flight */
			kg_close(&c->g);
			req_forget_all(r);
			continue;
		}
		if (x < 8) {
			req_refused(c);
			continue;
		}
		if (x < 11) {
			req_wait(c);
			continue;
		}
		for (int i = 0; i < 4; i++)
			if (!r[i].used)
				slot = i;
		if (slot >= 0 && x < 60)
			req_new(c, &r[slot]);
		watch(c, "read notifications");
		ret = kg_read_events(&c->g, 50, on_complete, ev_arg);
		unwatch(c);
		if (ret < 0)
			outcome(OP_EVENTS, ret);
		for (int i = 0; i < 4; i++) {
			if (!r[i].used)
				continue;
			if (ret == -ENOBUFS)
				r[i].lost = 1;	/* its COMPLETE may be among the dropped */
			if (kt_now() > r[i].deadline) {
				if (!r[i].lost && c->gen == sh->gen && !sh->rmmod_busy) {
					fail(F_LIFETIME, "a request (profile %c) had no COMPLETE "
					     "%.0f s past its timeout", r[i].prof, 10 * scale);
					req_diag(c, &r[i]);
				}
				req_close(&r[i]);
			}
		}
	}
	req_forget_all(r);
	kg_close(&c->g);
	return NULL;
}

/* ---- agents ---- */

struct held {
	int fd, stale;
	uint32_t id;
	double at;
	char act;	/* 'k': kTLS and DONE then; 'c': close without DONE */
};

static void agent_done(struct ctx *c, uint32_t id, uint32_t status, int stale, int fake)
{
	int op = stale ? OP_DONE_STALE : fake ? OP_DONE_FAKE : OP_DONE;
	int ret;

	/* (a module unloaded since ACCEPT has forgotten the request) */
	if (nl_ready(c))
		return;
	ret = NLOP(c, op, kg_done(&c->g, id, status));
	if (fake && ret == 0)
		fail(F_CORRUPT, "DONE 0 without kTLS on the socket was accepted");
}

/* kTLS with zero keys, then DONE; a listener's connection closes first. */
static void agent_ktls(struct ctx *c, int fd, uint32_t id, int close_first, int stale)
{
	int ret = kt_zero_ktls(fd);

	sockop(OP_AGENT_KTLS, ret);
	if (close_first)
		close(fd);
	agent_done(c, id, ret ? EIO : 0, stale, 0);
	if (!close_first)
		close(fd);
}

static void agent_handle(struct ctx *c, struct kg_accepted *a, struct held *h, int *nh)
{
	const char *p = a->profile;
	int lis = p[0] == 'L';
	char mode = lis ? p[1] : p[0];

	if ((mode == 's' || mode == 'h') && *nh < 16) {
		struct held *e = &h[(*nh)++];

		e->fd = a->fd;
		e->id = a->id;
		e->stale = 0;
		e->act = mode == 's' ? 'k' : 'c';
		e->at = kt_now() + (mode == 's' ? 0.1 + rnd(c, 400) / 1000.0 :
				    0.2 + rnd(c, 2800) / 1000.0) * scale;
		return;
	}
	switch (mode) {
	case 'k':
		/* (a listener's connection closed after DONE just fails) */
		agent_ktls(c, a->fd, a->id, lis ? rnd(c, 10) != 0 : (int)rnd(c, 2), 0);
		break;
	case 'f':
		close(a->fd);
		agent_done(c, a->id, EACCES, 0, 0);
		break;
	case 'x':
		close(a->fd);
		agent_done(c, a->id, 0, 0, 1);
		break;
	default:	/* 'n', or held list full */
		close(a->fd);
		break;
	}
}

static void agent_run_held(struct ctx *c, struct held *h, int *nh, int all)
{
	double t = kt_now();

	for (int i = 0; i < *nh;) {
		if (!all && t < h[i].at) {
			i++;
			continue;
		}
		if (h[i].act == 'k' && !all)
			agent_ktls(c, h[i].fd, h[i].id, 1, h[i].stale);
		else
			close(h[i].fd);
		h[i] = h[--*nh];
	}
}

static void *agent(void *arg)
{
	struct ctx *c = arg;
	struct held h[16];
	struct kg_accepted a;
	int nh = 0, ret;

	c->agent = 1;
	while (!sh->stop) {
		if (nl_ready(c)) {
			agent_run_held(c, h, &nh, 0);
			nap(20);
			continue;
		}
		if (rnd(c, 1000) < 4) {
			/* agent death with requests in hand */
			kg_close(&c->g);
			for (int i = 0; i < nh; i++)
				h[i].stale = 1;
			continue;
		}
		ret = NLOP(c, OP_ACCEPT, kg_accept(&c->g, &a));
		if (!ret) {
			agent_handle(c, &a, h, &nh);
		} else {
			agent_run_held(c, h, &nh, 0);
			watch(c, "wait for READY");
			ret = kg_read_events(&c->g, 30, NULL, NULL);
			unwatch(c);
			if (ret < 0)
				outcome(OP_EVENTS, ret);
		}
	}
	agent_run_held(c, h, &nh, 1);
	kg_close(&c->g);
	return NULL;
}

/* ---- listeners, their servers and clients ---- */

#define NLIS 4

static struct lent {
	int used, port, family;
	uint32_t id;			/* 0: not attached */
	unsigned int unloads;		/* sh->unloads at ATTACH */
	volatile int detached;		/* a DETACH was sent */
} lis[NLIS];

static struct {
	uint32_t id;
	unsigned int unloads;
	double at;
} closed_ids[64];
static int nclosed;
static pthread_mutex_t lis_lock = PTHREAD_MUTEX_INITIALIZER;

/* Attached for sure: nothing detached it, and no rmmod could have. */
static int surely_attached(const struct lent *e)
{
	return e->id && !e->detached && !sh->rmmod_busy && e->unloads == sh->unloads &&
	       sh->loaded;
}

static void serve_conn(struct ctx *c, int fd, struct lent *e)
{
	static const char hex[] = "0123456789abcdef";
	char ulp[40], token[32], echo[32];
	int surely = surely_attached(e), ret;

	kt_ulp(fd, ulp, sizeof(ulp));
	if (strcmp(ulp, "tls")) {
		if (surely)
			fail(F_CORRUPT, "an attached listener delivered a connection without kTLS "
			     "(ULP '%s')", ulp);
		else
			sockop(OP_SRV_PLAIN, 0);
		close(fd);
		return;
	}
	set_blocking(fd, 1);
	kt_timeouts(fd, 3 * scale, 3 * scale);
	token[0] = 'K';
	token[1] = 'S';
	for (int i = 2; i < 32; i++)
		token[i] = hex[rnd(c, 16)];
	watch(c, "server write");
	ret = write(fd, token, sizeof(token)) == sizeof(token) ? 0 : -errno;
	unwatch(c);
	if (!ret) {
		watch(c, "server read");
		ret = kt_read_full(fd, echo, sizeof(echo), 3 * scale);
		unwatch(c);
		if (!ret && memcmp(echo, token, sizeof(token)))
			fail(F_CORRUPT, "the client's echo through kTLS differs from the token");
	}
	sockop(OP_SRV_DATA, ret);
	if (ret && !allowed(OP_SRV_DATA, -ret))
		fail(F_ERRNO, "server data: %s", kt_errname(ret));
	close(fd);
}

/* One round of serving in @mode: 0 blocking accept(), 1 non-blocking
 * EAGAIN loop, 2 epoll level-, 3 edge-triggered. */
static void serve_once(struct ctx *c, int l, int ep, int mode, struct lent *e)
{
	struct epoll_event ev;
	int fd, ret;

	if (mode == 0) {
		watch(c, "accept (blocking)");
		fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		ret = fd < 0 ? -errno : 0;
		unwatch(c);
		outcome(OP_SRV_ACCEPT, ret);
		if (fd >= 0)
			serve_conn(c, fd, e);
		return;
	}
	if (mode == 1) {
		for (int i = 0; i < 50 && !sh->stop; i++) {
			watch(c, "accept (non-blocking)");
			fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
			ret = fd < 0 ? -errno : 0;
			unwatch(c);
			outcome(OP_SRV_ACCEPT, ret);
			if (fd >= 0)
				serve_conn(c, fd, e);
			else
				sched_yield();
		}
		nap(5);
		return;
	}
	watch(c, "epoll_wait");
	ret = epoll_wait(ep, &ev, 1, 100);
	unwatch(c);
	if (ret <= 0)
		return;
	for (;;) {
		watch(c, "accept after epoll");
		fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		ret = fd < 0 ? -errno : 0;
		unwatch(c);
		outcome(OP_SRV_ACCEPT, ret);
		if (fd < 0)
			break;
		serve_conn(c, fd, e);
	}
}

static void listener_sockopt(struct ctx *c, int l, struct lent *e)
{
	char ulp[40];
	int v = 4096 << rnd(c, 5), one = 1;

	switch (rnd(c, 5)) {
	case 0:
		sockop(OP_LIS_SOCKOPT, SYS(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v))));
		break;
	case 1:
		sockop(OP_LIS_SOCKOPT, SYS(setsockopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one,
						      sizeof(one))));
		break;
	case 2:
		kt_ulp(l, ulp, sizeof(ulp));
		if (surely_attached(e))
			outcome(OP_LIS_ULP, strcmp(ulp, "ktls_listen") ? -ENOENT : 0);
		if (surely_attached(e) && strcmp(ulp, "ktls_listen"))
			fail(F_ERRNO, "an attached listener's TCP_ULP is '%s', not ktls_listen", ulp);
		break;
	case 3:
		v = SYS(setsockopt(l, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")));
		if (!v)
			fail(F_ERRNO, "TCP_ULP tls on a listening socket succeeded");
		outcome(OP_LIS_TLS, v);
		break;
	default: {
		struct pollfd pfd = { .fd = l, .events = POLLIN };

		watch(c, "poll listener");
		poll(&pfd, 1, 0);
		unwatch(c);
		break;
	}
	}
}

/* shutdown(), connect() elsewhere, IPV6_ADDRFORM, TCP_ULP "tls", close. */
static void hostile(struct ctx *c, int l, struct lent *e)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(sink_port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(sink_port) };
	int surely = surely_attached(e), v = AF_INET, ret;

	s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr);
	sockop(OP_H_SHUTDOWN, SYS(shutdown(l, SHUT_RDWR)));
	set_blocking(l, 1);
	kt_timeouts(l, 0, 3 * scale);
	watch(c, "hostile connect");
	ret = e->family == AF_INET6 ? SYS(connect(l, (void *)&s6, sizeof(s6))) :
				      SYS(connect(l, (void *)&s4, sizeof(s4)));
	unwatch(c);
	sockop(OP_H_CONNECT, ret);
	if (e->family == AF_INET6) {
		watch(c, "IPV6_ADDRFORM");
		ret = SYS(setsockopt(l, IPPROTO_IPV6, IPV6_ADDRFORM, &v, sizeof(v)));
		unwatch(c);
		outcome(surely ? OP_H_ADDRFORM_ATT : OP_H_ADDRFORM, ret);
	}
	watch(c, "TCP_ULP tls");
	ret = SYS(setsockopt(l, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")));
	unwatch(c);
	outcome(surely ? OP_H_ULP_ATT : OP_H_ULP, ret);
}

static struct lent *lis_publish(int port, int family, uint32_t id, unsigned int unloads)
{
	struct lent *e = NULL;

	pthread_mutex_lock(&lis_lock);
	for (int i = 0; i < NLIS && !e; i++)
		if (!lis[i].used)
			e = &lis[i];
	if (e) {
		e->used = 1;
		e->port = port;
		e->family = family;
		e->id = id;
		e->unloads = unloads;
		e->detached = 0;
	}
	pthread_mutex_unlock(&lis_lock);
	return e;
}

static void lis_unpublish(struct lent *e, int closed)
{
	pthread_mutex_lock(&lis_lock);
	if (closed && e->id) {
		int i = nclosed++ % 64;

		closed_ids[i].id = e->id;
		closed_ids[i].unloads = e->unloads;
		closed_ids[i].at = kt_now();
	}
	e->used = 0;
	pthread_mutex_unlock(&lis_lock);
}

static void *listener(void *arg)
{
	static const char *const profiles[] = { "Lk", "Lk", "Lk", "Lk", "Lk", "Lk", "Ls",
						"Lf", "Lx", "Lh" };
	struct ctx *c = arg;

	while (!sh->stop) {
		struct epoll_event ev = { .events = EPOLLIN };
		int family = rnd(c, 2) ? AF_INET6 : AF_INET, mode = rnd(c, 4), ep = -1, l, ret;
		unsigned int unloads = sh->unloads;
		double end;
		uint32_t id = 0;
		struct lent *e;

		while (sh->quiesce && !sh->stop)
			nap(20);
		nap(rnd(c, 300));
		l = kt_listener(family, 2 + rnd(c, 30));
		if (l < 0) {
			sockop(OP_PAIR, -errno);
			nap(50);
			continue;
		}
		kt_timeouts(l, 0.05 + rnd(c, 250) / 1000.0, 0);
		ret = nl_ready(c);
		if (!ret)
			ret = NLOP(c, OP_ATTACH, kg_attach(&c->g, l, profiles[rnd(c, 10)],
							   1 + rnd(c, 16), req_timeout(c, 300, 2700),
							   &id));
		if (ret)
			id = 0;
		else
			__atomic_add_fetch(&sh->nattached, 1, __ATOMIC_SEQ_CST);
		e = lis_publish(kt_port(l), family, id, unloads);
		if (!e) {
			fail(F_SETUP, "listener table full");
			close(l);
			continue;
		}
		if (mode >= 2) {
			ep = epoll_create1(EPOLL_CLOEXEC);
			if (mode == 3)
				ev.events |= EPOLLET;
			epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
		}
		set_blocking(l, mode == 0);
		end = kt_now() + (0.3 + rnd(c, 2700) / 1000.0) * scale;
		while (kt_now() < end && !sh->stop && !sh->quiesce) {
			serve_once(c, l, ep, mode, e);
			if (!rnd(c, 30))
				listener_sockopt(c, l, e);
		}

		switch (nl_ready(c) ? 0 : rnd(c, 10)) {
		case 4:
			e->detached = 1;
			NLOP(c, OP_DETACH_FD, kg_detach(&c->g, l, 0));
			set_blocking(l, 0);
			for (int i = 0; i < 3; i++)
				serve_once(c, l, ep, 1, e);
			break;
		case 5:
			if (id) {
				e->detached = 1;
				NLOP(c, OP_DETACH_ID, kg_detach(&c->g, -1, id));
			}
			break;
		case 6: {
			int surely = surely_attached(e), fd;

			sockop(OP_H_SHUTDOWN, SYS(shutdown(l, SHUT_RD)));
			set_blocking(l, 1);
			watch(c, "accept after shutdown");
			fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
			ret = fd < 0 ? -errno : 0;
			unwatch(c);
			if (fd >= 0)	/* (not from a stock listener, but no harm) */
				serve_conn(c, fd, e);
			else if (surely)
				outcome(OP_SHUT_ACCEPT, ret);
			else
				sockop(OP_SRV_ACCEPT, ret);
			break;
		}
		case 7:
		case 8:
			if (hostile_on)
				hostile(c, l, e);
			break;
		default:
			break;
		}
		close(l);
		if (ep >= 0)
			close(ep);
		lis_unpublish(e, 1);
		if (id)
			__atomic_sub_fetch(&sh->nattached, 1, __ATOMIC_SEQ_CST);
	}
	kg_close(&c->g);
	return NULL;
}

static int lis_pick(struct ctx *c, int *port, int *family)
{
	int n = 0, pick;

	pthread_mutex_lock(&lis_lock);
	for (int i = 0; i < NLIS; i++)
		n += lis[i].used;
	if (n) {
		pick = rnd(c, n);
		for (int i = 0; i < NLIS; i++)
			if (lis[i].used && !pick--) {
				*port = lis[i].port;
				*family = lis[i].family;
			}
	}
	pthread_mutex_unlock(&lis_lock);
	return n;
}

/* "KS" and 30 lower-case hex digits, as serve_conn() sends */
static int is_token(const char *buf)
{
	if (buf[0] != 'K' || buf[1] != 'S')
		return 0;
	for (int i = 2; i < 32; i++)
		if (!strchr("0123456789abcdef", buf[i]) || !buf[i])
			return 0;
	return 1;
}

static void *client(void *arg)
{
	struct ctx *c = arg;

	while (!sh->stop) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		struct sockaddr_in s4 = { .sin_family = AF_INET };
		struct pollfd pfd;
		int port = 0, family = AF_INET, fd, ret, x, v6;
		socklen_t len = sizeof(ret);
		char buf[32];

		if (!lis_pick(c, &port, &family)) {
			nap(20);
			continue;
		}
		v6 = family == AF_INET6 && rnd(c, 2);
		s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4.sin_port = s6.sin6_port = htons(port);
		fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			sockop(OP_PAIR, -errno);
			nap(20);
			continue;
		}
		ret = v6 ? SYS(connect(fd, (void *)&s6, sizeof(s6))) :
			   SYS(connect(fd, (void *)&s4, sizeof(s4)));
		if (ret == -EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			ret = poll(&pfd, 1, (int)(3000 * scale)) == 1 ? 0 : -ETIMEDOUT;
			if (!ret && !getsockopt(fd, SOL_SOCKET, SO_ERROR, &ret, &len))
				ret = -ret;
		}
		outcome(OP_CONNECT, ret);
		if (ret) {
			close(fd);
			continue;
		}
		set_blocking(fd, 1);
		kt_timeouts(fd, 5 * scale, 5 * scale);
		x = rnd(c, 100);
		if (x < 70) {
			ret = kt_zero_ktls(fd);
			outcome(OP_CLI_KTLS, ret);
			if (!ret) {
				watch(c, "client read");
				ret = kt_read_full(fd, buf, sizeof(buf), 5 * scale);
				unwatch(c);
				if (ret == -EBADMSG)
					fail(F_CORRUPT, "a record from the server did not decrypt");
				else
					outcome(OP_CLI_DATA, ret);
				if (!ret && !is_token(buf))
					fail(F_CORRUPT, "the server's token arrived garbled");
				else if (!ret)
					sockop(OP_CLI_DATA, SYS(write(fd, buf, sizeof(buf))));
			}
		} else if (x < 85) {
			/* closes at once */
		} else if (x < 95) {
			sockop(OP_CLI_DATA, SYS(write(fd, "GET / HTTP/1.0\r\n\r\n", 18)));
		} else {
			nap(rnd(c, 1000));
		}
		close(fd);
	}
	return NULL;
}

/* ---- dumps and DETACH by id ---- */

struct dump_ctx {
	int n;
	double now;
	unsigned int unloads;
};

static void check_listed(const struct nlattr *const *tb, const struct nlmsghdr *nlh, void *arg)
{
	struct dump_ctx *d = arg;
	uint32_t id = kg_u32(tb[KTLS_OFFLOAD_A_LISTENER_ID]);

	(void)nlh;
	d->n++;
	pthread_mutex_lock(&lis_lock);
	for (int i = 0; i < 64 && i < nclosed; i++)
		if (closed_ids[i].id == id && closed_ids[i].unloads == d->unloads &&
		    d->now - closed_ids[i].at > 3 * scale) {
			fail(F_LIFETIME, "GET_LISTENER lists a listener over %.0f s after its close",
			     3 * scale);
			closed_ids[i].id = 0;
		}
	pthread_mutex_unlock(&lis_lock);
}

static void count_msg(const struct nlattr *const *tb, const struct nlmsghdr *nlh, void *arg)
{
	(void)tb;
	(void)nlh;
	(*(int *)arg)++;
}

static void *dumper(void *arg)
{
	struct ctx *c = arg;

	while (!sh->stop) {
		struct dump_ctx d;
		int n = 0;

		nap(rnd(c, 20));
		if (nl_ready(c)) {
			nap(20);
			continue;
		}
		switch (rnd(c, 10)) {
		case 0:
			NLOP(c, OP_GET_STATS, kg_stats(&c->g, count_msg, &n));
			break;
		case 1:
			NLOP(c, OP_GET_VERSION, kg_version(&c->g));
			break;
		case 2:
		case 3:
			NLOP(c, OP_GET_REQUEST, kg_requests(&c->g, count_msg, &n));
			break;
		case 4:
		case 5:
		case 6:
			d.n = 0;
			d.unloads = sh->unloads;
			d.now = kt_now();
			if (!sh->rmmod_busy)
				NLOP(c, OP_GET_LISTENER, kg_listeners(&c->g, check_listed, &d));
			break;
		case 7:
		case 8: {
			uint32_t id = 0;
			int pick = rnd(c, NLIS);

			pthread_mutex_lock(&lis_lock);
			if (lis[pick].used && lis[pick].id && hostile_on) {
				id = lis[pick].id;
				lis[pick].detached = 1;
			}
			pthread_mutex_unlock(&lis_lock);
			if (id && hostile_on)
				NLOP(c, OP_DETACH_OTHER, kg_detach(&c->g, -1, id));
			break;
		}
		default:
			NLOP(c, OP_DETACH_UNKNOWN, kg_detach(&c->g, -1, 0x7f000000 + rnd(c, 1 << 20)));
			break;
		}
	}
	kg_close(&c->g);
	return NULL;
}

/* ---- the controller process: rmmod and insmod ---- */

static void controller(void)
{
	struct ctx c;

	ctx_init(&c, SLOT_CTL);
	while (!sh->stop) {
		double until = kt_now() + (1 + rnd(&c, 4000) / 1000.0) * scale;
		int quiesce, unloaded = 0, ret;

		while (kt_now() < until && !sh->stop)
			nap(50);
		if (sh->stop)
			break;
		quiesce = rnd(&c, 3) == 0;
		if (quiesce) {
			double end = kt_now() + 5 * scale;

			sh->quiesce = 1;
			while (sh->nattached && kt_now() < end && !sh->stop)
				nap(20);
		}
		for (int i = 0; i < (quiesce ? 40 : 5) && !unloaded && !sh->stop; i++) {
			sh->rmmod_busy = 1;
			watch_limit(&c, "rmmod", rmmod_limit);
			ret = kg_rmmod();
			unwatch(&c);
			outcome(OP_RMMOD, ret);
			if (!ret) {
				sh->loaded = 0;
				__atomic_add_fetch(&sh->unloads, 1, __ATOMIC_SEQ_CST);
				unloaded = 1;
			}
			sh->rmmod_busy = 0;
			if (!unloaded)
				nap(50);
		}
		if (unloaded) {
			nap(rnd(&c, 300));
			watch_limit(&c, "insmod", rmmod_limit);
			ret = kg_insmod(module_path, "");
			unwatch(&c);
			outcome(OP_INSMOD, ret);
			if (!ret) {
				__atomic_add_fetch(&sh->gen, 1, __ATOMIC_SEQ_CST);
				sh->loaded = 1;
			}
		}
		sh->quiesce = 0;
	}
	if (!kg_module_loaded() && !kg_insmod(module_path, "")) {
		__atomic_add_fetch(&sh->gen, 1, __ATOMIC_SEQ_CST);
		sh->loaded = 1;
	}
}

/* ---- the namespace process and its children ---- */

/* uid 65534 in a user and network namespace of its own. */
static void ns_user_child(struct ctx *c, double dur)
{
	double end = kt_now() + dur;
	struct kg_accepted a;
	int ret, l = -1, l_family = AF_INET, sink;
	uint32_t id;

	ret = kt_enter_userns_nobody();
	outcome(OP_NS_SETUP, ret);
	if (ret)
		return;
	/* where the hostile sequence connects to, in this namespace */
	sink = kt_listener(AF_INET, 64);
	sink_port = kt_port(sink);
	if (nl_ready(c))
		return;
	while (kt_now() < end && !sh->stop) {
		int x = rnd(c, 12), n = 0, op = OP_USERNS_PRIV;

		if (c->g.fd < 0)
			break;
		const char *what = "";
		int a1, b1;

		if (l < 0) {
			l_family = rnd(c, 2) ? AF_INET6 : AF_INET;
			l = kt_listener(l_family, 4);
		}
		switch (x) {
		case 0:
			what = "ACCEPT";
			ret = NLOP(c, op, kg_accept(&c->g, &a));
			if (!ret)
				close(a.fd);
			break;
		case 1:
			what = "DONE";
			ret = NLOP(c, op, kg_done(&c->g, 1 + rnd(c, 100), EIO));
			break;
		case 2:
			what = "GET_REQUEST";
			ret = NLOP(c, op, kg_requests(&c->g, count_msg, &n));
			break;
		case 3:
		case 4:
			what = "ATTACH";
			ret = NLOP(c, op, kg_attach(&c->g, l, "Lk", 4, 1000, &id));
			break;
		case 5:
			what = "DETACH by id";
			ret = NLOP(c, op, kg_detach(&c->g, -1, 1 + rnd(c, 64)));
			break;
		case 6:
			what = "DETACH by fd";
			ret = NLOP(c, op, kg_detach(&c->g, l, 0));
			break;
		case 7:
			ret = -EPERM;
			if (!loopback_tcp_pair_family(AF_INET, &a1, &b1)) {
				NLOP(c, OP_USERNS_SUBMIT, kg_submit(&c->g, a1, "k", 1000, 0, 0, &id));
				close(a1);
				close(b1);
			}
			break;
		case 8:
			ret = -EPERM;
			NLOP(c, OP_GET_STATS, kg_stats(&c->g, count_msg, &n));
			NLOP(c, OP_GET_LISTENER, kg_listeners(&c->g, count_msg, &n));
			NLOP(c, OP_CANCEL, kg_cancel(&c->g, 1 + rnd(c, 64)));
			kg_join_agents(&c->g);	/* whatever genetlink says */
			break;
		default: {
			/* its own listener, whether ATTACH worked or not */
			struct lent e = { .family = l_family };

			ret = -EPERM;
			if (l >= 0 && hostile_on) {
				hostile(c, l, &e);
				close(l);
				l = -1;
			}
			break;
		}
		}
		/* anything but EPERM got past the permission check (ENOENT:
		 * the family may be gone; ENOBUFS, EPROTONOSUPPORT: netlink's) */
		if (ret != -EPERM && ret != -ENOENT && ret != -ENOBUFS && ret != -EPROTONOSUPPORT)
			fail(F_PRIV, "%s as uid 65534 in its own user namespace: %s, not EPERM",
			     what, kt_errname(ret));
		if (ret == -ENOENT && !sh->loaded)
			nap(20);
		nap(rnd(c, 5));
		if (nl_ready(c))
			nap(20);
	}
}

/* root in a new network namespace: requests, an agent and a listener,
 * all left in flight at exit. */
static void ns_root_child(struct ctx *c, double dur)
{
	double end = kt_now() + dur;
	struct ctx ag;
	int keep[32], nkeep = 0, l = -1, ret;
	struct kg_accepted a;
	uint32_t id;

	ret = SYS(unshare(CLONE_NEWNET));
	outcome(OP_NS_SETUP, ret);
	if (ret || kt_lo_up() || nl_ready(c))
		return;
	ctx_init(&ag, c->slot);
	ag.rng = c->rng ^ 0x5555;
	ag.agent = 1;
	if (nl_ready(&ag))
		return;
	NLOP(&ag, OP_ACCEPT, kg_accept(&ag.g, &a));	/* registers */
	while (kt_now() < end && !sh->stop) {
		int a1, b1;

		switch (rnd(c, 5)) {
		case 0:
			if (nkeep < 30 && !loopback_tcp_pair_family(AF_INET, &a1, &b1)) {
				NLOP(c, OP_SUBMIT, kg_submit(&c->g, a1, rnd(c, 2) ? "k" : "h",
							     req_timeout(c, 200, 2000), 0, 0, &id));
				keep[nkeep++] = a1;
				keep[nkeep++] = b1;
			}
			break;
		case 1:
			if (!NLOP(&ag, OP_ACCEPT, kg_accept(&ag.g, &a))) {
				if (a.profile[0] == 'k' || a.profile[1] == 'k')
					agent_ktls(&ag, a.fd, a.id, a.profile[0] == 'L', 0);
				else if (nkeep < 32)
					keep[nkeep++] = a.fd;
				else
					close(a.fd);
			}
			break;
		case 2:
			if (l < 0) {
				l = kt_listener(AF_INET, 8);
				NLOP(c, OP_ATTACH, kg_attach(&c->g, l, "Lk", 4, 2000, &id));
				set_blocking(l, 0);
			}
			break;
		case 3:
			if (l >= 0 && nkeep < 32) {
				int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
				struct sockaddr_in s4 = { .sin_family = AF_INET,
							  .sin_port = htons(kt_port(l)) };

				s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
				connect(fd, (void *)&s4, sizeof(s4));
				keep[nkeep++] = fd;
			}
			break;
		default:
			if (l >= 0) {
				int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);

				if (fd >= 0)
					close(fd);
			}
			break;
		}
		kg_read_events(&c->g, 10, NULL, NULL);
	}
	/* exit with it all open: the namespace goes with requests, an agent
	 * and perhaps an attached listener in it */
	(void)keep;
}

static void ns_driver(void)
{
	struct ctx c;

	ctx_init(&c, SLOT_NSDRV);
	while (!sh->stop) {
		int kind = rnd(&c, 2), status;
		double dur = (0.2 + rnd(&c, 1500) / 1000.0) * scale, kill_at = 0;
		pid_t pid;

		nap(50 + rnd(&c, 400));
		if (sh->stop)
			break;
		pid = fork();
		if (pid == 0) {
			struct ctx cc;

			ctx_init(&cc, SLOT_NSCHILD);
			cc.rng ^= c.rng;
			if (kind)
				ns_root_child(&cc, dur);
			else
				ns_user_child(&cc, dur);
			_exit(0);
		}
		if (pid < 0) {
			nap(100);
			continue;
		}
		if (!rnd(&c, 3))
			kill_at = kt_now() + rnd(&c, (uint32_t)(dur * 1000)) / 1000.0;
		watch_limit(&c, kind ? "netns child" : "userns child", dur + 2 * hang_limit);
		while (waitpid(pid, &status, WNOHANG) != pid) {
			if (kill_at && kt_now() > kill_at) {
				kill(pid, SIGKILL);
				kill_at = 0;
			}
			nap(20);
		}
		unwatch(&c);
		/* a child killed inside a call leaves its slot busy */
		__atomic_store_n(&sh->slots[SLOT_NSCHILD].busy, 0, __ATOMIC_RELEASE);
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
			fail(F_SETUP, "a namespace child died of signal %d", WTERMSIG(status));
		else
			outcome(OP_NS_CHILD, 0);
	}
}

/* ---- watchdog, report ---- */

static pid_t ctl_pid, ns_pid;
static volatile int watchdog_stop;

static void print_file(const char *path, const char *prefix)
{
	char line[256];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		say("#   %s%s", prefix, line);
	}
	fclose(f);
}

static void report(int hung);

static void hang_report(int i, double secs)
{
	struct slot *s = &sh->slots[i];
	char path[64];
	int fd;

	fail(F_HANG, "'%s' (task %d) has not returned after %.0f s (limit %.0f s)", s->what,
	     (int)s->tid, secs, s->limit);
	if (strstr(s->what, "rmmod") || strstr(s->what, "insmod"))
		sh->rmmod_hung = 1;
	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)s->tid);
	print_file(path, "wchan: ");
	snprintf(path, sizeof(path), "/proc/%d/stack", (int)s->tid);
	print_file(path, "");
	/* every blocked task's stack into the kernel log */
	fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "w", 1) < 0)
			say("# (sysrq-trigger: %s)", kt_errname(errno));
		close(fd);
	}
	report(1);
}

static void *watchdog(void *arg)
{
	int sink = *(int *)arg;

	while (!watchdog_stop) {
		double t = kt_now();
		int fd;

		nap(100);
		while ((fd = accept4(sink, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0)
			close(fd);
		for (int i = 0; i < NSLOTS; i++) {
			struct slot *s = &sh->slots[i];

			if (__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE) && t - s->since > s->limit)
				hang_report(i, t - s->since);
		}
	}
	return NULL;
}

static uint64_t total_ops(void)
{
	uint64_t n = 0;

	for (int op = 0; op < N_OPS; op++)
		for (int e = 0; e < NERR; e++)
			n += sh->counts[op][e];
	return n;
}

static void print_counts(void)
{
	for (int op = 0; op < N_OPS; op++) {
		char line[600];
		int len = 0;

		for (int e = 0; e < NERR; e++) {
			if (!sh->counts[op][e])
				continue;
			len += snprintf(line + len, sizeof(line) - len, "%s%s %llu", len ? ", " : "",
					e == NERR - 1 ? "other" : e ? kt_errname(e) : "ok",
					(unsigned long long)sh->counts[op][e]);
			if (len >= (int)sizeof(line) - 40)
				break;
		}
		if (len)
			say("# %-48s %s", ops[op].name, line);
	}
}

static int tap_n;
static double t_start;
static int fd_start = -1, fd_end = -1, unload_end = 1;

static void tap(int cond, const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("%sok %d - %s", cond ? "" : "not ", ++tap_n, buf);
}

/* The TAP verdict; after a hang, at once, and the process ends. */
static void report(int hung)
{
	uint64_t priv = 0, unloads, refusals;

	sh->stop = 1;
	if (hung) {
		if (ctl_pid > 0)
			kill(ctl_pid, SIGKILL);
		if (ns_pid > 0)
			kill(ns_pid, SIGKILL);
	}
	say("# operations and outcomes:");
	print_counts();
	if (sh->nmsg)
		say("# failures (times seen):");
	for (int i = 0; i < sh->nmsg; i++)
		say("# %8u %s: %s", sh->msg_count[i], fail_names[sh->msg_kind[i]], sh->msgs[i]);
	for (int e = 0; e < NERR; e++)
		priv += sh->counts[OP_USERNS_PRIV][e];
	unloads = sh->counts[OP_RMMOD][0];
	refusals = sh->counts[OP_RMMOD][EAGAIN] + sh->counts[OP_RMMOD][EBUSY];
	tap(!sh->fails[F_HANG], "%.0f s of stress with seed %llu: %llu operations%s",
	    kt_now() - t_start, seed, (unsigned long long)total_ops(),
	    sh->fails[F_HANG] ? ", and a hang" : ", no hang");
	tap(!sh->fails[F_ERRNO], "no unexpected errno or request status (%llu)",
	    (unsigned long long)sh->fails[F_ERRNO]);
	tap(!sh->fails[F_CORRUPT], "no corrupted data; attached listeners delivered only "
	    "connections with kTLS (%llu)", (unsigned long long)sh->fails[F_CORRUPT]);
	tap(!sh->fails[F_PRIV], "privileged commands failed with EPERM in user namespaces "
	    "(%llu tries, %llu worked)", (unsigned long long)priv,
	    (unsigned long long)sh->fails[F_PRIV]);
	tap(!sh->fails[F_LIFETIME], "every request ended by its timeout; no listener was "
	    "listed after its close (%llu)", (unsigned long long)sh->fails[F_LIFETIME]);
	tap(!sh->fails[F_SETUP], "the test's own setup worked (%llu)",
	    (unsigned long long)sh->fails[F_SETUP]);
	tap(!sh->rmmod_hung, "rmmod and insmod at random moments: %llu unloads, %llu "
	    "refusals, %s", (unsigned long long)unloads, (unsigned long long)refusals,
	    sh->rmmod_hung ? "and one hung" : "none hung");
	if (hung) {
		/* (the rest cannot be judged with a task stuck) */
		say("# stopped at the hang; the kernel log has every blocked task's stack");
		say("1..%d", tap_n);
		_exit(1);
	}
	tap(fd_end == fd_start, "no descriptor leaked: %d open before, %d after", fd_start,
	    fd_end);
	tap(unload_end == 0, "the module unloads once everything is closed (%s)",
	    kt_errname(unload_end));
	say("1..%d", tap_n);
}

static void list_fds(void)
{
	char path[64], target[256];

	for (int fd = 0; fd < 4096; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		say("#   fd %d: %s", fd, target);
	}
}

int main(void)
{
	void *(*const roles[])(void *) = { requester, requester, agent, agent, listener,
					   listener, client, client, dumper };
	const int nthreads = sizeof(roles) / sizeof(roles[0]);
	struct ctx ctxs[16];
	pthread_t thr[16], wd;
	const char *env;
	double seconds = 60, end;
	int sink, ret, failed = 0;

	signal(SIGPIPE, SIG_IGN);
	env = getenv("KTLS_TIME_SCALE");
	if (env && atof(env) > 1)
		scale = atof(env);
	hang_limit *= scale;
	rmmod_limit *= scale;
	env = getenv("KSTRESS_SECONDS");
	if (env && atof(env) > 0)
		seconds = atof(env);
	env = getenv("KSTRESS_SEED");
	seed = env && *env ? strtoull(env, NULL, 0) :
		(unsigned long long)time(NULL) * 1000003ULL ^ (unsigned long long)getpid();
	module_path = getenv("KTLS_MODULE");
	env = getenv("KSTRESS_HOSTILE");
	hostile_on = !(env && !strcmp(env, "0"));
	say("# kstress: seed %llu (KSTRESS_SEED), %.0f s, time scale %g, hang limit %.0f s",
	    seed, seconds, scale, hang_limit);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		say("Bail out! mmap: %s", kt_errname(errno));
		return 1;
	}
	fd_start = kt_count_fds();
	if (!kg_module_loaded()) {
		ret = module_path ? kg_insmod(module_path, "") : -ENOENT;
		if (ret) {
			say("Bail out! the module is not loaded and insmod failed: %s",
			    kt_errname(ret));
			return 1;
		}
	}
	sh->loaded = 1;
	sh->gen = 1;
	sink = kt_listener(AF_INET, 128);
	sink_port = kt_port(sink);
	set_blocking(sink, 0);
	t_start = kt_now();

	env = getenv("KSTRESS_RMMOD");
	if (module_path && !(env && !strcmp(env, "0"))) {
		ctl_pid = fork();
		if (ctl_pid == 0) {
			close(sink);
			controller();
			_exit(0);
		}
	}
	env = getenv("KSTRESS_NS");
	if (!(env && !strcmp(env, "0"))) {
		ns_pid = fork();
		if (ns_pid == 0) {
			close(sink);
			ns_driver();
			_exit(0);
		}
	}
	pthread_create(&wd, NULL, watchdog, &sink);
	for (int i = 0; i < nthreads; i++) {
		ctx_init(&ctxs[i], i);
		pthread_create(&thr[i], NULL, roles[i], &ctxs[i]);
	}

	end = t_start + seconds;
	while (kt_now() < end)
		nap(200);
	sh->stop = 1;
	for (int i = 0; i < nthreads; i++)
		pthread_join(thr[i], NULL);
	if (ctl_pid > 0)
		waitpid(ctl_pid, NULL, 0);
	if (ns_pid > 0)
		waitpid(ns_pid, NULL, 0);

	/* everything of ours is closed: nothing may pin the module now */
	close(sink);
	{
		/* (closed sockets that pin it finish closing first) */
		double until = kt_now() + 30 * scale;
		struct ctx c;

		ctx_init(&c, 0);
		do {
			watch_limit(&c, "final rmmod", rmmod_limit);
			unload_end = kg_rmmod();
			unwatch(&c);
			if (unload_end != -EAGAIN && unload_end != -EBUSY)
				break;
			nap(100);
		} while (kt_now() < until);
		if (unload_end == -ENOENT)
			unload_end = 0;	/* the controller left it unloaded */
	}
	watchdog_stop = 1;
	pthread_join(wd, NULL);
	fd_end = kt_count_fds();
	if (fd_end != fd_start)
		list_fds();
	report(0);
	for (int k = 0; k < N_FAIL; k++)
		failed |= sh->fails[k] != 0;
	return failed || fd_end != fd_start || unload_end ? 1 : 0;
}
