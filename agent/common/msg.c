// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "msg.h"

void ktls_vmsg(const char *prog, const char *level, const char *fmt, va_list ap)
{
	char line[1024];
	struct iovec iov[5];
	int n = 0, len;

	len = vsnprintf(line, sizeof(line), fmt, ap);
	if (len < 0)
		return;
	if (len > (int)sizeof(line) - 1)
		len = (int)sizeof(line) - 1;
	iov[n++] = (struct iovec){ (void *)prog, strlen(prog) };
	iov[n++] = (struct iovec){ ": ", 2 };
	if (level) {
		iov[n++] = (struct iovec){ (void *)level, strlen(level) };
		iov[n++] = (struct iovec){ ": ", 2 };
	}
	line[len++] = '\n';	/* over the terminating NUL */
	iov[n++] = (struct iovec){ line, (size_t)len };
	(void)!writev(2, iov, n);
}
