// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <sched.h>

#include "schedpol.h"

int ktls_sched_batch(void)
{
	struct sched_param sp = { .sched_priority = 0 };
	int policy = sched_getscheduler(0);

	if (policy < 0)
		return -errno;
	if (policy != SCHED_OTHER)
		return 0;
	/* (pid 0: on Linux, the calling thread alone) */
	return sched_setscheduler(0, SCHED_BATCH, &sp) ? -errno : 1;
}
