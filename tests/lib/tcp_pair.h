/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KTLS_TEST_TCP_PAIR_H
#define KTLS_TEST_TCP_PAIR_H

/* A connected TCP pair on 127.0.0.1: @a connected, @b accepted. 0 or -errno. */
int tcp_pair(int *a, int *b);

#endif
