// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target: ktls-agent's configuration parser (inih plus our
 * handlers) on arbitrary file contents.  A file is either accepted whole
 * or refused with a message naming the file; nothing leaks either way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct agent_config cfg;
	char err[512] = "";
	int ret;

	if (fd < 0) {
		fd = memfd_create("fuzz-config", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	ret = agent_config_load(path, &cfg, err, sizeof(err));
	if (ret == 0) {
		if (cfg.n_profiles < 1)
			abort();
		for (int i = 0; i < cfg.n_profiles; i++)
			if (!cfg.profiles[i].name)
				abort();
	} else if (strncmp(err, path, strlen(path)) != 0) {
		abort();	/* every refusal names the file */
	}
	agent_config_free(&cfg);
	return 0;
}
