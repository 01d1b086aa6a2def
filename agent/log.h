/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* ktls-agent's log: stderr or syslog, with syslog levels.  Never log keys. */
#ifndef KTLS_AGENT_LOG_H
#define KTLS_AGENT_LOG_H

#include <stdbool.h>
#include <syslog.h>

void agent_log_init(bool use_syslog, int level);
void agent_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
