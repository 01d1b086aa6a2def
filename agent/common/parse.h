/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Numbers from options, environment and configuration files. */
#ifndef KTLS_PARSE_H
#define KTLS_PARSE_H

/*
 * The whole of @s as a decimal number from @min to @max (at most
 * UINT_MAX): 0 with *@out set; -EINVAL if @s is not a number (empty,
 * signed, or followed by anything), -ERANGE if it is out of range.
 * *@out is left alone on error.  Never prints: the caller names the
 * option in its message.
 */
int ktls_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out);

#endif
