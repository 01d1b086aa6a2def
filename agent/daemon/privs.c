// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "privs.h"

void agent_harden(void)
{
	struct rlimit none = { 0, 0 };

	struct rlimit files;

	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &none);	/* may be filtered (LimitCORE=0 then) */
	unsetenv("SSLKEYLOGFILE");
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* every handshake holds a socket: descriptors up to the hard limit */
	if (!getrlimit(RLIMIT_NOFILE, &files) && files.rlim_cur < files.rlim_max) {
		files.rlim_cur = files.rlim_max;
		setrlimit(RLIMIT_NOFILE, &files);
	}
}

/* Sets the process's capabilities to CAP_NET_ADMIN alone (effective and
 * permitted). */
static int keep_net_admin(char *err, size_t errlen)
{
	cap_t caps = cap_from_text("cap_net_admin=ep");
	int ret = 0;

	if (!caps || cap_set_proc(caps)) {
		ret = -errno;
		snprintf(err, errlen, "cannot keep CAP_NET_ADMIN alone: %s", strerror(errno));
	}
	cap_free(caps);
	return ret;
}

/* True if the process holds any capability but CAP_NET_ADMIN. */
static int more_than_net_admin(void)
{
	cap_t caps = cap_get_proc(), want = cap_from_text("cap_net_admin=ep");
	int more = !caps || !want || cap_compare(caps, want) != 0;

	cap_free(caps);
	cap_free(want);
	return more;
}

int agent_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	int ret;

	if (!pw) {
		snprintf(err, errlen, "user '%s' does not exist", user);
		return -ENOENT;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "user = %s is root%s: name the agent's own unprivileged "
			 "user (see SECURITY.md)", user, pw->pw_uid ? "'s group" : "");
		return -EINVAL;
	}
	if (geteuid() == pw->pw_uid) {
		/* started as that user (systemd User= with
		 * AmbientCapabilities=CAP_NET_ADMIN): nothing to switch */
		return more_than_net_admin() ? keep_net_admin(err, errlen) : 0;
	}
	/* The bounding set first, while CAP_SETPCAP is still ours. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (c != CAP_NET_ADMIN && CAP_IS_SUPPORTED(c) && cap_drop_bound(c)) {
			snprintf(err, errlen, "cannot drop capability %d from the bounding set: %s",
				 (int)c, strerror(errno));
			return -errno;
		}
	if (prctl(PR_SET_KEEPCAPS, 1) || setgroups(0, NULL) || setgid(pw->pw_gid) ||
	    setuid(pw->pw_uid)) {
		ret = -errno;
		snprintf(err, errlen, "cannot become user '%s': %s", user, strerror(errno));
		return ret;
	}
	ret = keep_net_admin(err, errlen);
	prctl(PR_SET_KEEPCAPS, 0);
	prctl(PR_SET_DUMPABLE, 0);	/* setuid() reset it to suid_dumpable */
	return ret;
}

int agent_lock_memory(char *msg, size_t msglen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    geteuid() != 0) {
		snprintf(msg, msglen, "memory not locked: RLIMIT_MEMLOCK is %llu bytes "
			 "(LimitMEMLOCK=infinity locks it)", (unsigned long long)rl.rlim_cur);
		return 0;
	}
	/* on fault: only pages in use are locked, not whole reservations */
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) {
		snprintf(msg, msglen, "memory not locked: mlockall: %s", strerror(errno));
		return 0;
	}
	snprintf(msg, msglen, "memory locked (keys stay out of swap)");
	return 1;
}
