/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RCU kernels, liburcu QSBR as the workers use it (STYLE 9):
 *  - publish: what control/reload.c does on a swap, rcu_xchg_pointer() then
 *    urcu_qsbr_synchronize_rcu(), with 0..K_RCU_MAX_READERS reader threads
 *    looping like workers (read lock, rcu_dereference, touch, unlock,
 *    quiescent state). The grace period is what a reload waits for.
 *  - read: one worker loop's RCU cost in the calling thread, with or without
 *    a writer publishing all the time on another thread.
 * The two published objects alternate: after a grace period nobody holds
 * the old one, so it can be the next new one (no malloc in the timed part).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include <urcu/urcu-qsbr.h>

#include "bench/kernels.h"

struct obj {
	uint64_t version;
	uint64_t pad[7];
};

static struct obj objs[2] = {{.version = 0}, {.version = 1}};
static struct obj *slot = &objs[0];

static pthread_t readers[K_RCU_MAX_READERS], writer;
static unsigned nb_readers;
static atomic_int stop_readers, stop_writer;
static atomic_uint_fast64_t reader_loops;
static atomic_uint running_readers;
static uint64_t publishes;

static uint64_t
read_once(void)
{
	struct obj *p;
	uint64_t v;

	urcu_qsbr_read_lock();
	p = rcu_dereference(slot);
	v = p->version;
	urcu_qsbr_read_unlock();
	urcu_qsbr_quiescent_state();
	return v;
}

static void *
reader_main(void *arg)
{
	uint64_t n = 0, sum = 0;

	(void)arg;
	urcu_qsbr_register_thread();
	atomic_fetch_add(&running_readers, 1);
	while (!atomic_load_explicit(&stop_readers, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++)
			sum += read_once();
		n += 64;
	}
	urcu_qsbr_unregister_thread();
	atomic_fetch_add(&reader_loops, n + (sum & 0));
	return NULL;
}

int
k_rcu_readers_start(unsigned n)
{
	if (n > K_RCU_MAX_READERS)
		return -EINVAL;
	atomic_store(&stop_readers, 0);
	atomic_store(&reader_loops, 0);
	atomic_store(&running_readers, 0);
	for (nb_readers = 0; nb_readers < n; nb_readers++) {
		int rc = pthread_create(&readers[nb_readers], NULL, reader_main, NULL);

		if (rc != 0) {
			k_rcu_readers_stop();
			return -rc;
		}
	}
	/* Time nothing until every reader is registered and looping. */
	while (atomic_load(&running_readers) < n)
		sched_yield();
	return 0;
}

uint64_t
k_rcu_readers_stop(void)
{
	atomic_store(&stop_readers, 1);
	for (unsigned i = 0; i < nb_readers; i++)
		pthread_join(readers[i], NULL);
	nb_readers = 0;
	return atomic_load(&reader_loops);
}

uint64_t
k_rcu_publish(void)
{
	struct obj *old = slot, *nw = old == &objs[0] ? &objs[1] : &objs[0];

	nw->version = old->version + 1;
	old = rcu_xchg_pointer(&slot, nw);
	urcu_qsbr_synchronize_rcu();
	publishes++;
	return old->version;
}

void
k_rcu_reader_register(void)
{
	urcu_qsbr_register_thread();
}

void
k_rcu_reader_unregister(void)
{
	urcu_qsbr_unregister_thread();
}

uint64_t
k_rcu_read(unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += read_once();
	return sum;
}

static void *
writer_main(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop_writer, memory_order_relaxed))
		k_rcu_publish();
	return NULL;
}

int
k_rcu_writer_start(void)
{
	atomic_store(&stop_writer, 0);
	publishes = 0;
	return -pthread_create(&writer, NULL, writer_main, NULL);
}

uint64_t
k_rcu_writer_stop(void)
{
	atomic_store(&stop_writer, 1);
	pthread_join(writer, NULL);
	return publishes;
}
