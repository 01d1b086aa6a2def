// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "msg.h"

static bool log_syslog;
static int log_level = LOG_INFO;

void agent_log_init(bool use_syslog, int level)
{
	if (use_syslog && !log_syslog)
		openlog("ktls-agent", LOG_PID, LOG_DAEMON);
	log_syslog = use_syslog;
	log_level = level;
}

void agent_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
	};
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(level, fmt, ap);
	} else {
		ktls_vmsg("ktls-agent", names[level & 7], fmt, ap);
	}
	va_end(ap);
}

bool agent_ratelimit(struct agent_ratelimit *rl, unsigned long *missed)
{
	struct timespec ts;
	double t;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if (rl->last == 0)
		rl->tokens = rl->burst;
	else
		rl->tokens += (t - rl->last) / rl->interval;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	rl->last = t;
	if (rl->tokens < 1) {
		rl->missed++;
		return false;
	}
	rl->tokens--;
	*missed = rl->missed;
	rl->missed = 0;
	return true;
}
