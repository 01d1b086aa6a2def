/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * TAP for the C tests: "ok N - what" or "not ok N - what", counted in
 * tap_n, failures in tap_failed.  Each line is flushed, so that it is out
 * before anything that may hang, crash or fork.
 */
#ifndef KTLS_TEST_TAP_H
#define KTLS_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

static inline void __attribute__((format(printf, 2, 3))) ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	tap_failed += !cond;
}

static inline void check(int cond, const char *what)
{
	ok(cond, "%s", what);
}

#endif
