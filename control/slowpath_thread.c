/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The slow-path thread: a plain pthread (not an lcore) that polls the
 * dataplane's slow-path ring. It may sleep when idle; workers never wait
 * for it (a full ring is a counted drop on their side).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "control/control.h"

static pthread_t sp_thread;
static volatile int sp_stop;
static int sp_running;

static void *
sp_main(void *arg)
{
	struct sw_dp *dp = arg;
	const struct timespec idle = {.tv_sec = 0, .tv_nsec = 200 * 1000};

	while (!sp_stop) {
		if (sw_dp_slowpath_poll(dp) == 0)
			nanosleep(&idle, NULL);
	}
	return NULL;
}

int
sw_ctl_slowpath_start(struct sw_dp *dp)
{
	int r;

	sp_stop = 0;
	r = pthread_create(&sp_thread, NULL, sp_main, dp);
	if (r != 0)
		return -r;
	pthread_setname_np(sp_thread, "sw-slowpath");
	sp_running = 1;
	return 0;
}

void
sw_ctl_slowpath_stop(void)
{
	if (!sp_running)
		return;
	sp_stop = 1;
	pthread_join(sp_thread, NULL);
	sp_running = 0;
}
