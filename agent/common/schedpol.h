/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KTLS_SCHEDPOL_H
#define KTLS_SCHEDPOL_H

/*
 * Puts the calling thread under SCHED_BATCH if it runs under SCHED_OTHER
 * (a policy set from outside, real-time or idle, is left alone).  A
 * SCHED_BATCH thread that wakes does not preempt the thread running on
 * its CPU: a server and its agent sharing a CPU then take turns at
 * their pace rather than at each other's every wakeup, fewer switches
 * between their address spaces per handshake; the cost is that a thread
 * woken on a busy CPU waits for the running one's turn to end.
 * Returns 1 if it switched, 0 if it left the policy alone, -errno.
 */
int ktls_sched_batch(void);

#endif
