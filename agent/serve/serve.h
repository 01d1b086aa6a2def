/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What ktls-serve's files share: the options (main.c), a connection and a
 * worker thread with its epoll loop (conn.c), responses (response.c) and
 * the access log (access_log.c).
 */
#ifndef KTLS_SERVE_H
#define KTLS_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include <ktls-offload/ktls.h>

#include "http.h"

#define IO_SIZE		(HTTP_MAX_HEADER + 1024)	/* request + response header */
#define MAX_EVENTS	128
#define SMALL_BODY	16384	/* bodies copied to go with their header */

enum symlinks { SYMLINKS_INSIDE, SYMLINKS_NONE };

struct serve_config {
	const char *root;
	int root_fd;
	const char *address;
	const char *port;
	bool plain;
	unsigned int workers;
	const char *profile;
	const char *socket_path;
	enum ktls_path path;
	enum symlinks symlinks;
	unsigned int idle_ms;
	unsigned int handshake_ms;
	unsigned int grace_ms;
	unsigned int max_conns;		/* per worker */
	FILE *access_log;
	pthread_mutex_t log_lock;
	bool verbose;
	bool zerocopy_sendfile;		/* TLS_TX_ZEROCOPY_RO on each connection */
	bool no_sched_batch;		/* workers stay under SCHED_OTHER */
	atomic_bool stopping;
};

/* the options, set by main() before the workers start */
extern struct serve_config serve_cfg;

enum kind { K_LISTEN, K_KTLS, K_WAKE, K_CONN };
enum cstate { C_HANDSHAKE, C_READ, C_WRITE };

struct conn {
	enum kind kind;
	enum cstate state;
	int fd;
	uint32_t events;		/* what epoll watches on @fd now */
	struct conn *prev, *next;	/* the worker's LRU of connections with a socket
					 * in epoll, or its list of handshakes in flight */
	double deadline;
	bool tls;
	bool keep_alive;
	bool corked;		/* TCP_CORK on for a large body */
	bool cork_fin;		/* ... or until the FIN, for a last small response */
	uint16_t tls_version, cipher;
	char peer[48];
	char *io;			/* IO_SIZE bytes while a request is under way */
	size_t have;			/* request bytes in io */
	size_t hdr_len, hdr_off;	/* response header at io + HTTP_MAX_HEADER */
	size_t req_len;			/* bytes of the request being answered */
	int file;			/* body source, or -1 */
	off_t off, end;
	int status;
	uint64_t sent;
	unsigned int answered;		/* responses completed on this connection */
	struct http_request req;
};

struct worker {
	int index;
	pthread_t thread;
	int epfd, listen_fd, wakefd;
	enum kind k_listen, k_ktls, k_wake;
	struct ktls_ctx *ktls;
	struct conn lru;		/* list head */
	struct conn hs;			/* list head: handshakes in flight */
	unsigned int n_conns;
	double accept_resume;		/* accept paused (EMFILE, limit) until then */
	bool accepting;
	bool nodelay_inherited;		/* TCP_NODELAY is on the listener */
	time_t date_t;
	char date[32];
	char body[SMALL_BODY];		/* a small body on its way out */
};

/* main.c: "ktls-serve: " and the message on stderr; serve_die() exits 1 */
void serve_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void serve_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* conn.c: a worker thread's epoll loop, until serve_cfg.stopping */
void *serve_worker_main(void *arg);

/* response.c: the response to @c's request, header in @c->io, body
 * (if any) in @c->file from @c->off to @c->end */
void serve_file_response(struct worker *w, struct conn *c);
void serve_error_response(struct worker *w, struct conn *c, int status);
/* the Date: header's value, cached per second */
const char *serve_date_now(struct worker *w);

/* access_log.c: one line for @c's response, if there is an access log */
void serve_access_log(struct conn *c);

#endif
