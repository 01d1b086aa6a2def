// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What one switch between two address spaces costs on this CPU, for the
 * handshake part of the benchmark: two tasks on one CPU hand a token back
 * and forth over pipes, and each touches PAGES pages of its own memory
 * (one byte per 4 KiB page) every time it gets the token, as a server or
 * an agent touches its working set when it wakes.  Once as two processes
 * (each hand-over switches the address space) and once as two threads of
 * one process (it does not); the difference per hand-over is what the
 * switch of address space adds, mostly the refill of the TLB it emptied.
 * Prints "threads_us procs_us extra_us" per hand-over.
 * Usage: switch_cost [PAGES [ROUNDS]]   (pin it: taskset -c 0)
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long pages, rounds;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile unsigned char *working_set(void)
{
	unsigned char *m = mmap(NULL, pages * 4096 + 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		perror("switch_cost: mmap");
		exit(1);
	}
	memset(m, 1, pages * 4096 + 4096);
	return m;
}

/* Waits for the token on @in, touches the working set, passes it on @out. */
static void relay(int in, int out, bool first)
{
	volatile unsigned char *m = working_set();
	unsigned int sum = 0;
	char c = 0;

	for (long r = 0; r < rounds; r++) {
		if (!first || r) {
			if (read(in, &c, 1) != 1)
				exit(1);
		}
		for (long p = 0; p < pages; p++)
			sum += m[p * 4096];
		if (write(out, &c, 1) != 1)
			exit(1);
	}
	m[0] = (unsigned char)sum;
}

static int ab[2], ba[2];

static void *second(void *arg)
{
	relay(ab[0], ba[1], false);
	return NULL;
}

static double run(bool procs)
{
	double t0;

	if (pipe(ab) || pipe(ba)) {
		perror("switch_cost: pipe");
		exit(1);
	}
	t0 = now();
	if (procs) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("switch_cost: fork");
			exit(1);
		}
		if (!pid) {
			relay(ab[0], ba[1], false);
			_exit(0);
		}
		relay(ba[0], ab[1], true);
		close(ab[1]);
		waitpid(pid, NULL, 0);
	} else {
		pthread_t t;

		if (pthread_create(&t, NULL, second, NULL)) {
			fprintf(stderr, "switch_cost: no thread\n");
			exit(1);
		}
		relay(ba[0], ab[1], true);
		close(ab[1]);
		pthread_join(t, NULL);
	}
	close(ab[0]);
	close(ba[0]);
	close(ba[1]);
	/* two hand-overs per round */
	return (now() - t0) * 1e6 / (2.0 * rounds);
}

int main(int argc, char **argv)
{
	double th, pr;

	pages = argc > 1 ? atol(argv[1]) : 256;
	rounds = argc > 2 ? atol(argv[2]) : 2000;
	if (pages < 0 || rounds < 1) {
		fprintf(stderr, "usage: switch_cost [PAGES [ROUNDS]]\n");
		return 2;
	}
	run(false);	/* warm up */
	th = run(false);
	pr = run(true);
	printf("%.1f %.1f %.1f\n", th, pr, pr - th);
	return 0;
}
