/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ktls-agent's process hardening: a key-holding daemon that never dumps
 * core, never writes session secrets to a key log, keeps no privilege but
 * CAP_NET_ADMIN (the module's ACCEPT and DONE need it), and keeps its
 * memory out of swap where it may.
 */
#ifndef KTLS_AGENT_PRIVS_H
#define KTLS_AGENT_PRIVS_H

#include <stddef.h>

/*
 * First thing in main(): not dumpable (no core file, no ptrace by the same
 * user, /proc/PID/ files root's), RLIMIT_CORE 0, SSLKEYLOGFILE unset so
 * that GnuTLS never logs secrets, no new privileges by exec; the soft
 * limit of open files raised to the hard one.
 */
void agent_harden(void);

/*
 * Becomes @user (not root), keeping only CAP_NET_ADMIN, also in the
 * bounding set.  Already running as @user (systemd's User=): only drops
 * any capability beyond CAP_NET_ADMIN.  Returns 0 or a negative errno
 * with the reason in @err.
 */
int agent_drop_privileges(const char *user, char *err, size_t errlen);

/*
 * Locks all memory, present and future, when RLIMIT_MEMLOCK allows it
 * (unlimited, as the shipped unit sets, or root): keys and ticket keys
 * never reach swap.  Returns 1 if locked, 0 if not, with a note in @msg.
 */
int agent_lock_memory(char *msg, size_t msglen);

#endif
