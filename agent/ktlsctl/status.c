// SPDX-License-Identifier: GPL-2.0 OR MIT
/* ktlsctl status: agents, request counters, attached listeners and the
 * requests in flight, as the module reports them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/ktls_offload.h>

#include "addr.h"
#include "broker.h"
#include "genl.h"
#include "ktlsctl.h"

static void print_stats(const struct ktls_stats_msg *st)
{
	int first = 1;

	printf("agents:      %" PRIu32 " registered\n", st->agents);
	printf("requests:    %" PRIu32 " alive; %" PRIu64 " submitted, %" PRIu64
	       " accepted, %" PRIu64 " completed, %" PRIu64 " failed (%" PRIu64
	       " timed out, %" PRIu64 " cancelled), %" PRIu64 " agent losses\n",
	       st->pending, st->submitted, st->accepted, st->completed, st->failed,
	       st->timed_out, st->cancelled, st->agent_losses);
	for (size_t e = 1; e < sizeof(st->by_errno) / sizeof(st->by_errno[0]); e++) {
		if (!st->by_errno[e])
			continue;
		printf("%s%s %" PRIu64, first ? "failures:    " : ", ", strerror((int)e),
		       st->by_errno[e]);
		first = 0;
	}
	if (!first)
		printf("\n");
}

static void print_listener(const struct ktls_listener_msg *l, void *arg)
{
	int *count = arg;
	char addr[64], pid[16] = "-";

	if (!(*count)++)
		printf("listeners:\n");
	ktls_format_addr((int)l->family, l->addr, l->port, addr, sizeof(addr));
	if (l->pid)	/* the module tells it to administrators only */
		snprintf(pid, sizeof(pid), "%" PRIu32, l->pid);
	printf("  %" PRIu32 ": %s pid %s profile %s, "
	       "%" PRIu32 "/%" PRIu32 " in flight, %" PRIu32 " ready; %" PRIu64
	       " handshakes, %" PRIu64 " established, %" PRIu64 " failed, %" PRIu64
	       " refused, %" PRIu64 " accepted by the server, %" PRIu64 " dropped\n",
	       l->id, addr, pid,
	       l->profile[0] ? l->profile : "default", l->inflight, l->max_inflight,
	       l->ready, l->handshakes, l->established, l->failed, l->refused,
	       l->delivered, l->dropped);
}

static void print_request(const struct ktls_request_info *ri, void *arg)
{
	int *count = arg;
	static const char *const states[] = { "pending", "accepted", "completed" };

	if (!(*count)++)
		printf("requests in flight:\n");
	printf("  %u: %s, %s, pid %u uid %u, profile %s%s%s, %u ms left",
	       ri->id, ri->state < 3 ? states[ri->state] : "?",
	       ri->role == KTLS_OFFLOAD_ROLE_CLIENT ? "client" : "server",
	       ri->pid, ri->uid, ri->profile[0] ? ri->profile : "default",
	       ri->peername[0] ? ", peer " : "", ri->peername, ri->timeout_ms);
	if (ri->agent_portid)
		printf(", agent port %u", ri->agent_portid);
	printf("\n");
}

int ktlsctl_status(int argc, char **argv)
{
	struct ktls_stats_msg st;
	struct ktls_genl g;
	int ret, listeners = 0, requests = 0;

	if (argc > 1) {
		fprintf(stderr, "%s: '%s' takes no arguments\n", ktlsctl_prog, argv[0]);
		return 2;
	}
	if (ktlsctl_open_module(&g) < 0)
		return 1;
	ret = ktls_broker_stats(&g, &st);
	if (ret < 0)
		goto fail;
	print_stats(&st);
	ret = ktls_broker_listeners(&g, print_listener, &listeners);
	if (ret < 0)
		goto fail;
	if (!listeners)
		printf("listeners:   none attached\n");
	ret = ktls_broker_list(&g, print_request, &requests);
	if (ret == -EPERM)
		printf("requests in flight: not shown (needs CAP_NET_ADMIN)\n");
	else if (ret < 0)
		goto fail;
	else if (!requests)
		printf("requests in flight: none\n");
	ktls_genl_close(&g);
	return 0;
fail:
	fprintf(stderr, "%s: status: %s\n", ktlsctl_prog, strerror(-ret));
	ktls_genl_close(&g);
	return 1;
}
