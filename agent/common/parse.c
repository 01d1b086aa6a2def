// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdlib.h>

#include "parse.h"

int ktls_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (end == s || *end || s[0] == '-')
		return -EINVAL;
	if (errno || n < min || n > max)
		return -ERANGE;
	*out = (unsigned int)n;
	return 0;
}
