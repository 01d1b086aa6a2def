/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * One message line on stderr, as the programs and the preload library
 * write it: "prog: message" or "prog: level: message".
 */
#ifndef KTLS_MSG_H
#define KTLS_MSG_H

#include <stdarg.h>

/*
 * Writes "@prog: ", "@level: " unless @level is NULL, the message and a
 * newline in one writev() to descriptor 2 (no stdio: safe in the preload
 * library inside any program), so that the lines of several threads or
 * processes never mix.  The message is cut at 1023 bytes.
 */
void ktls_vmsg(const char *prog, const char *level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
