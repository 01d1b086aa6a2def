// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Host unit tests of the agent's authorisation (agent/access.c) and of the
 * configuration keys that feed it: allow_users, allow_groups,
 * allow_local_ports and roles; root only and the server role only by
 * default; the local port of a real loopback socket; log escaping.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access.h"
#include "config.h"
#include "log.h"
#include "loopback.h"
#include "tap.h"

static char path[] = "/tmp/unit_access.XXXXXX";

/* Loads a configuration of one [profile p] with @lines; 0 or -errno. */
static int load(const char *lines, struct agent_config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "[profile p]\n%s\n", lines);
	fclose(f);
	err[0] = '\0';
	return agent_config_load(path, cfg, err, errlen);
}

static int allowed(const struct agent_config *cfg, uid_t uid, gid_t gid, unsigned int role,
		   int fd)
{
	struct agent_requester r = { .pid = 1, .uid = uid, .gid = gid };
	char why[256];

	return agent_access_check(&cfg->profiles[0], &r, role, fd, why, sizeof(why)) == 0;
}

static int local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	return getsockname(fd, (struct sockaddr *)&sin, &len) ? -1 : ntohs(sin.sin_port);
}

int main(void)
{
	struct agent_config cfg;
	char err[512], lines[256], esc[64];
	int a = -1, b = -1, port, ret;

	if (mkstemp(path) < 0 || loopback_tcp_pair(&a, &b)) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}
	port = local_port(b);

	ret = load("cert = x.pem\nkey = x.key", &cfg, err, sizeof(err));
	check(ret == 0, "a profile without access lines loads");
	check(allowed(&cfg, 0, 0, AGENT_ROLE_SERVER, b), "by default root may use it as a server");
	check(!allowed(&cfg, 65534, 65534, AGENT_ROLE_SERVER, b),
	      "by default another user may not");
	check(!allowed(&cfg, 0, 0, AGENT_ROLE_CLIENT, b),
	      "by default the client role is off, even for root");
	agent_config_free(&cfg);

	ret = load("allow_users = 1000, 65534\nallow_users = root", &cfg, err, sizeof(err));
	check(ret == 0 && cfg.profiles[0].acl.n_uids == 3, "allow_users lines add up");
	check(allowed(&cfg, 65534, 1, AGENT_ROLE_SERVER, b), "allow_users admits a listed uid");
	check(!allowed(&cfg, 1001, 1001, AGENT_ROLE_SERVER, b), "and no other");
	agent_config_free(&cfg);

	ret = load("allow_users = nobody", &cfg, err, sizeof(err));
	check(ret == 0 && cfg.profiles[0].acl.n_uids == 1 && cfg.profiles[0].acl.uids[0] == 65534,
	      "allow_users takes user names");
	agent_config_free(&cfg);

	ret = load("allow_users = no-such-user-here", &cfg, err, sizeof(err));
	check(ret == -EINVAL && strstr(err, ":2: allow_users: no user 'no-such-user-here'"),
	      "an unknown user is a configuration error, naming the line");
	printf("# %s\n", err);
	agent_config_free(&cfg);

	ret = load("allow_groups = 4242 root", &cfg, err, sizeof(err));
	check(ret == 0 && cfg.profiles[0].acl.n_gids == 2, "allow_groups takes numbers and names");
	check(allowed(&cfg, 1000, 4242, AGENT_ROLE_SERVER, b), "allow_groups admits a listed gid");
	check(!allowed(&cfg, 1000, 4243, AGENT_ROLE_SERVER, b), "and no other");
	agent_config_free(&cfg);

	snprintf(lines, sizeof(lines), "allow_users = 1000\nallow_local_ports = 1-%d, %d-%d",
		 port - 1, port + 1, 65535);
	ret = load(lines, &cfg, err, sizeof(err));
	check(ret == 0 && cfg.profiles[0].acl.n_ports == 2, "allow_local_ports takes ranges");
	check(!allowed(&cfg, 1000, 1000, AGENT_ROLE_SERVER, b),
	      "a socket on a port outside allow_local_ports is refused");
	check(!allowed(&cfg, 0, 0, AGENT_ROLE_SERVER, b), "for root too");
	agent_config_free(&cfg);
	snprintf(lines, sizeof(lines), "allow_users = 1000\nallow_local_ports = 443 %d", port);
	ret = load(lines, &cfg, err, sizeof(err));
	check(ret == 0 && allowed(&cfg, 1000, 1000, AGENT_ROLE_SERVER, b),
	      "a socket on a listed port is allowed");
	agent_config_free(&cfg);

	ret = load("allow_local_ports = 0", &cfg, err, sizeof(err));
	check(ret == -EINVAL && strstr(err, "allow_local_ports: '0' is not a port"),
	      "port 0 is refused");
	agent_config_free(&cfg);
	ret = load("allow_local_ports = 90-80", &cfg, err, sizeof(err));
	check(ret == -EINVAL, "a range upside down is refused");
	agent_config_free(&cfg);

	ret = load("roles = client\nca = system\nallow_users = 1000", &cfg, err, sizeof(err));
	check(ret == 0 && allowed(&cfg, 1000, 1000, AGENT_ROLE_CLIENT, b),
	      "roles = client enables the client role");
	check(!allowed(&cfg, 1000, 1000, AGENT_ROLE_SERVER, b), "and only it");
	agent_config_free(&cfg);
	ret = load("roles = server, client\nca = system\nallow_local_ports = 1", &cfg, err, sizeof(err));
	check(ret == 0 && allowed(&cfg, 0, 0, AGENT_ROLE_CLIENT, b),
	      "roles = server, client: allow_local_ports does not apply to the client role");
	agent_config_free(&cfg);
	ret = load("roles = peer", &cfg, err, sizeof(err));
	check(ret == -EINVAL && strstr(err, "roles: 'peer' is neither server nor client"),
	      "an unknown role is refused");
	agent_config_free(&cfg);

	agent_escape("a\nb'\"\\\x1b[31m\xff", esc, sizeof(esc));
	check(!strcmp(esc, "a\\x0ab\\x27\\x22\\x5c\\x1b[31m\\xff"),
	      "agent_escape escapes control bytes, quotes, backslashes and non-ASCII");
	agent_escape("abcdef", esc, 4);
	check(!strcmp(esc, "abc"), "agent_escape truncates within its buffer");

	{
		struct agent_ratelimit rl = { .burst = 3, .interval = 3600 };
		unsigned long missed = 99;
		int let = 0;

		for (int i = 0; i < 10; i++)
			let += agent_ratelimit(&rl, &missed);
		check(let == 3 && missed == 0, "agent_ratelimit: a burst of 3 lets 3 of 10 through");
		rl.last -= 3600;	/* an interval later */
		check(agent_ratelimit(&rl, &missed) && missed == 7,
		      "then one per interval, which counts the 7 left out");
		check(!agent_ratelimit(&rl, &missed), "and no more within that interval");
	}

	close(a);
	close(b);
	unlink(path);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
