/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KTLS_LOOPBACK_H
#define KTLS_LOOPBACK_H

/* A connected TCP pair on 127.0.0.1: @a connected, @b accepted. 0 or -errno. */
int loopback_tcp_pair(int *a, int *b);

/* The same on the loopback address of @family (AF_INET or AF_INET6: ::1). */
int loopback_tcp_pair_family(int family, int *a, int *b);

#endif
