// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A hostile requester for linger.t: N times, a loopback TCP pair whose
 * receiving end never reads, the sending end's queue filled and
 * SO_LINGER {1, SECONDS} set on it, submitted (module|socket path,
 * PROFILE) and closed at once, so that whoever drops the last reference
 * to it would sleep in close() until the linger time ran out.  Then it
 * collects the results (printing each status) and keeps the receiving
 * ends open for HOLD seconds, so the unsent data stays unsent.
 *   linger_requester module|socket N SECONDS PROFILE HOLD
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ktls-offload/ktls.h>

#include "loopback.h"

int main(int argc, char **argv)
{
	static char junk[65536];
	struct ktls_params p = KTLS_PARAMS_INIT(.role = KTLS_ROLE_SERVER);
	struct ktls_ctx *ctx;
	struct ktls_result res = KTLS_RESULT_INIT;
	int n, secs, hold, ret, got = 0;
	int *peers;

	if (argc != 6) {
		fprintf(stderr, "usage: %s module|socket N SECONDS PROFILE HOLD\n", argv[0]);
		return 2;
	}
	n = atoi(argv[2]);
	secs = atoi(argv[3]);
	p.profile = argv[4];
	hold = atoi(argv[5]);
	peers = calloc((size_t)n, sizeof(*peers));
	ret = ktls_open(&ctx, strcmp(argv[1], "module") ? KTLS_PATH_SOCKET : KTLS_PATH_MODULE,
			NULL);
	if (ret || !peers) {
		fprintf(stderr, "ktls_open: %s\n", strerror(-ret));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct linger lg = { .l_onoff = 1, .l_linger = secs };
		int small = 4096, s, r;
		uint32_t id;

		if (loopback_tcp_pair(&peers[i], &s))
			return 1;
		setsockopt(peers[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		fcntl(s, F_SETFL, O_NONBLOCK);
		while (send(s, junk, sizeof(junk), MSG_NOSIGNAL) > 0)
			;
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		r = ktls_submit(ctx, s, &p, &id);
		printf("submit %d: %s\n", i, r ? strerror(-r) : "ok");
		close(s);
	}
	printf("submitted\n");
	fflush(stdout);
	/* collect first: results that arrived during the submits are kept
	 * by libktls without making the descriptor readable */
	for (;;) {
		struct pollfd pfd = { .fd = ktls_pollfd(ctx), .events = POLLIN };

		while (!(ret = ktls_collect(ctx, &res))) {
			printf("result %u: status %d (%s)\n", res.id, res.status,
			       strerror(res.status));
			got++;
		}
		if (ret != -EAGAIN || got >= n || poll(&pfd, 1, 60000) <= 0)
			break;
	}
	printf("collected %d\n", got);
	fflush(stdout);
	sleep((unsigned int)hold);
	ktls_close(ctx);
	for (int i = 0; i < n; i++)
		close(peers[i]);
	free(peers);
	return 0;
}
