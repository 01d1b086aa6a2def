/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* ktls-agent's log: stderr or syslog, with syslog levels.  Never log keys. */
#ifndef KTLS_AGENT_LOG_H
#define KTLS_AGENT_LOG_H

#include <stdbool.h>
#include <syslog.h>

void agent_log_init(bool use_syslog, int level);
void agent_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A budget for log lines that others cause (refused requests, failed
 * handshakes), so that nobody can flood the log: @burst lines at once,
 * then one per @interval seconds.  Zero-initialise the counters; one
 * per thread (no locking).
 */
struct agent_ratelimit {
	double burst, interval;
	double tokens, last;	/* 0, 0 at first */
	unsigned long missed;
};

/*
 * True if a line may be logged now.  Then *@missed is the number of lines
 * dropped since the last one logged (say so in the line if non-zero).
 */
bool agent_ratelimit(struct agent_ratelimit *rl, unsigned long *missed);

#endif
