/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The only RCU writer: compile → rcu_xchg_pointer → synchronize_rcu → free.
 * Workers are QSBR readers (they report a quiescent state once per loop),
 * so the grace period ends within one loop of the slowest worker. Reloads
 * are serialized by a mutex: a request that comes during a build waits for
 * it, none is lost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <urcu/urcu-qsbr.h>

#include "control/control.h"
#include "rules/ruleset.h"

static struct sw_ruleset *live;
static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sw_config base;
static unsigned workers;
static struct sw_ctl_loaded loaded;
/* ARS Max Sessions and CPS counters: outside every ruleset, so reloads keep them. */
static struct sw_ars_state *ars;

struct sw_ars_state *
sw_ctl_ars_state(void)
{
	return ars;
}

struct sw_ruleset **
sw_ctl_ruleset_slot(void)
{
	return &live;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct sw_ruleset *
build(const char *dialplan, struct sw_diag *diag)
{
	struct sw_rules_src src = {
		.dialplan = dialplan,
		.ars = base.ars,
		.gateways = base.gateways,
		.nb_workers = workers,
	};

	struct sw_ruleset *rs = sw_ruleset_compile(&src, diag);

	/* Slots for the capped ARS patterns; refused whole when they run out. */
	if (rs != NULL && sw_ars_state_bind(ars, rs, diag) != 0) {
		sw_ruleset_free(rs);
		return NULL;
	}
	return rs;
}

int
sw_ctl_rules_init(const struct sw_config *cfg, unsigned nb_workers, struct sw_diag *diag)
{
	struct sw_ruleset *rs;

	base = *cfg;
	workers = nb_workers;
	if (ars == NULL && (ars = sw_ars_state_create(nb_workers, SW_ARS_SLOTS)) == NULL)
		return -ENOMEM;
	rs = build(cfg->dialplan, diag);
	if (rs == NULL)
		return -EINVAL;
	rcu_assign_pointer(live, rs);
	loaded.version = 1;
	loaded.loaded_at = (int64_t)time(NULL);
	snprintf(loaded.dialplan, sizeof(loaded.dialplan), "%s", cfg->dialplan);
	return 0;
}

int
sw_ctl_reload(const char *dialplan, struct sw_diag *diag)
{
	struct sw_ruleset *rs, *old;
	char path[sizeof(loaded.dialplan)];
	uint64_t t0;

	pthread_mutex_lock(&reload_lock);
	snprintf(path, sizeof(path), "%s", dialplan != NULL ? dialplan : loaded.dialplan);
	rs = build(path, diag);
	if (rs == NULL) {
		pthread_mutex_unlock(&reload_lock);
		return -EINVAL;
	}
	t0 = now_ns();
	old = rcu_xchg_pointer(&live, rs);
	urcu_qsbr_synchronize_rcu();
	loaded.publish_ns = now_ns() - t0;
	/* No worker can hold old any more: its counts are final. */
	sw_ruleset_carry_hits(rs, old);
	sw_ruleset_free(old);
	loaded.version++;
	loaded.loaded_at = (int64_t)time(NULL);
	snprintf(loaded.dialplan, sizeof(loaded.dialplan), "%s", path);
	pthread_mutex_unlock(&reload_lock);
	return 0;
}

void
sw_ctl_loaded(struct sw_ctl_loaded *out)
{
	pthread_mutex_lock(&reload_lock);
	*out = loaded;
	pthread_mutex_unlock(&reload_lock);
}

void
sw_ctl_rules_fini(void)
{
	struct sw_ruleset *old;

	pthread_mutex_lock(&reload_lock);
	old = rcu_xchg_pointer(&live, NULL);
	pthread_mutex_unlock(&reload_lock);
	sw_ruleset_free(old);
	sw_ars_state_free(ars);
	ars = NULL;
}
