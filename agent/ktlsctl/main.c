// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ktlsctl: inspects and controls the ktls_offload module from the command
 * line.  This file is the table of subcommands; each has a file of its
 * own (version.c; attach.c: attach and detach; status.c; sockets.c: TCP
 * sockets with kernel TLS, read from sock_diag by sockdiag.c).  Lower layers return -errno; only the
 * subcommands print.
 */
#include <stdio.h>
#include <string.h>

#include "ktlsctl.h"

const char *ktlsctl_prog = "ktlsctl";

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} subcommands[] = {
	{ "version", ktlsctl_version, "show the versions of ktlsctl and of the loaded module" },
	{ "status", ktlsctl_status, "agents, request counters, attached listeners, requests in flight" },
	{ "attach", ktlsctl_attach, "put a running server's listener in TLS listener mode" },
	{ "detach", ktlsctl_detach, "give an attached listener back its plain accept()" },
	{ "sockets", ktlsctl_sockets, "list kernel TLS sockets, and where each direction runs" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s <command> [<args>]\n\nCommands:\n", ktlsctl_prog);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\nattach and detach take one target:\n"
		"  --port PORT          every socket listening on TCP port PORT\n"
		"  --pid PID --fd FD    descriptor FD of process PID\n"
		"  --id ID              (detach) the listener ktlsctl status shows as ID\n"
		"attach also takes:\n"
		"  --profile NAME       the agent profile of the handshakes (default: default)\n"
		"  --alpn LIST          comma-separated ALPN protocols to offer\n"
		"  --max-inflight N     handshakes in flight plus connections ready (1-65535)\n"
		"  --timeout MS         handshake timeout in milliseconds (1-300000)\n");
	fprintf(f, "\n'%s help' shows this text; man ktlsctl(8) explains it.\n", ktlsctl_prog);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);

	fprintf(stderr, "%s: unknown command '%s'\n\n", ktlsctl_prog, argv[1]);
	usage(stderr);
	return 2;
}
