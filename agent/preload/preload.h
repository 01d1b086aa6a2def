/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What libktls-preload.so's files share: preload.c (the wrapped listen(),
 * accept(), accept4() and getsockname(), the environment, fork()),
 * front.c (a listener served in userspace and the thread that runs its
 * handshakes) and conns.c (the TLS connections accepted, and the wrapped
 * close(), read(), recv(), recvfrom() and shutdown() that answer for
 * them).  Nothing here is exported (dist/preload.map).
 */
#ifndef KTLS_PRELOAD_H
#define KTLS_PRELOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <ktls-offload/ktls.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_FRONTS 64
#define MAX_PORTS 64
#define RETRY_MS 100

/* A listener served in userspace: the server's descriptor now holds an
 * AF_UNIX listener at @addr; the real TCP listener is @real. */
struct front {
	int app_fd;
	ino_t app_ino;			/* the AF_UNIX listener under app_fd */
	int real;
	ino_t real_ino;
	struct sockaddr_storage name;	/* the real listener's address */
	socklen_t namelen;
	struct sockaddr_un addr;
	socklen_t addrlen;
	uid_t owner;			/* the user that made the front */
	unsigned int inflight;		/* of this process's thread */
	int dead;
};

extern int (*preload_real_listen)(int, int);
extern int (*preload_real_accept)(int, struct sockaddr *, socklen_t *);
extern int (*preload_real_accept4)(int, struct sockaddr *, socklen_t *, int);
extern int (*preload_real_getsockname)(int, struct sockaddr *, socklen_t *);

extern pthread_mutex_t preload_lock;
extern struct ktls_params preload_params;
extern unsigned int preload_max_inflight;
extern bool preload_close_notify;
extern unsigned int preload_forks;		/* fork()s so far (see struct tls_conn) */
extern struct front preload_fronts[MAX_FRONTS];	/* under lock */
extern int preload_nfronts;
extern pid_t preload_helper_pid;		/* the process whose thread runs */
extern int preload_helper_wake;			/* tells it of a new front */

/* preload.c */
void *preload_next_fn(void **slot, const char *name);
int preload_sys_close(int fd);
void preload_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
ino_t preload_inode_of(int fd);
bool preload_runs_ktls(int fd);

/* front.c */
struct front *preload_front_of(int fd);
int preload_make_front(int fd, const struct sockaddr_storage *name, socklen_t namelen, int backlog);
void preload_ensure_helper(void);

/* conns.c */
void preload_tls_conn_add(int fd, unsigned int forks_before);

#endif
