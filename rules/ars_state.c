/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARS call counters: Max Sessions (concurrent calls) and CPS (calls per
 * second) per OUT pattern, kept outside the ruleset so that a reload keeps
 * them.
 *
 * A capped pattern is named by a stable id, a hash of its route's name and
 * its ordinal among that route's OUT patterns; the id is what the dataplane
 * writes into its Record-Route and Via (";swr=<id>") and reads back from a
 * BYE or a final response. sw_ars_state_bind() maps ids to counter slots:
 * the same id keeps its slot, and so its counts, across reloads.
 *
 * Sessions: one int64 per worker per slot, each worker's row on cache lines
 * of its own and written only by that worker (relaxed stores); the count of a
 * slot is the sum of the rows (relaxed loads) minus a base the control thread
 * sets on reset. A worker sees its own +1/-1 at once, the others' within a
 * few nanoseconds to a loop: the cap is exact within one worker and
 * approximate across workers (two workers may admit one call each past the
 * cap in the same instant). A row may go negative (the BYE of a call lands on
 * another worker than its INVITE); only the sum means anything, and it never
 * goes below zero: a -1 on a count of zero is refused.
 *
 * CPS: one 64-bit word per slot on a cache line of its own, (second << 32 |
 * calls), moved by compare-and-swap; only the initial INVITEs that pick a
 * CPS-capped pattern touch it. No locks on the workers; the mutex below only
 * orders the control thread's bind, list and reset.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_pvt.h"

#define CACHE_LINE 64

struct ars_slot {
	uint32_t id;
	bool used;
	bool in_live; /* bound by the ruleset published last */
	bool in_new;  /* bound by the ruleset being bound now */
	uint16_t ordinal;
	int max_sessions, cps;
	char route[64];
};

struct cps_word {
	uint64_t v; /* second << 32 | calls in that second */
	uint8_t pad[CACHE_LINE - sizeof(uint64_t)];
};

struct sw_ars_state {
	unsigned nb_workers;
	unsigned nslots;
	unsigned stride;      /* int64 per worker row, a multiple of a cache line */
	int64_t *sess;        /* [worker * stride + slot] */
	int64_t *base;        /* [slot], control thread */
	struct cps_word *cps; /* [slot] */
	struct ars_slot *slots;
	pthread_mutex_t lock;
};

/* ------------------------------------------------------------------------ */
/* Ids (compile time)                                                       */
/* ------------------------------------------------------------------------ */

static bool
pat_capped(const struct ars_pat *p)
{
	return p->out && (p->max_sessions >= 0 || p->cps > 0);
}

void
ars_assign_ids(struct sw_ruleset *rs)
{
	uint16_t *seen = calloc(rs->routes.n + 1, sizeof(*seen));

	/* pats are still in file order here */
	for (uint32_t i = 0; i < rs->pats.n; i++) {
		struct ars_pat *p = &rs->pats.v[i];
		const char *name = rs->routes.v[p->route].name;
		char num[16];
		uint64_t h64;
		uint32_t h;

		p->slot = -1;
		p->id = 0;
		if (!p->out)
			continue;
		p->ordinal = seen ? ++seen[p->route] : (uint16_t)(i + 1);
		if (!pat_capped(p))
			continue;
		h64 = rules_fnv(0xcbf29ce484222325ull, name ? name : "", name ? strlen(name) + 1 : 1);
		h64 = rules_fnv(h64, num, (size_t)snprintf(num, sizeof(num), "OUT%u", p->ordinal));
		h = (uint32_t)(h64 ^ (h64 >> 32));
		p->id = h != 0 ? h : 1;
	}
	free(seen);
}

static int
cmp_id(const void *a, const void *b)
{
	const struct ars_id *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int
ars_index_ids(struct sw_ruleset *rs, struct sw_diag *diag)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < rs->pats.n; i++)
		n += rs->pats.v[i].id != 0;
	if (n == 0)
		return 0;
	rs->ars_ids = malloc(sizeof(*rs->ars_ids) * n);
	if (rs->ars_ids == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < rs->pats.n; i++)
		if (rs->pats.v[i].id != 0)
			rs->ars_ids[rs->nars_ids++] = (struct ars_id){rs->pats.v[i].id, i};
	qsort(rs->ars_ids, n, sizeof(*rs->ars_ids), cmp_id);
	for (uint32_t i = 1; i < n; i++)
		if (rs->ars_ids[i].id == rs->ars_ids[i - 1].id) {
			const struct ars_pat *p = &rs->pats.v[rs->ars_ids[i].pat];

			diag_at(diag, p->file, p->line, 0, "error", NULL,
				"the call-counting id of this pattern (%08x) equals another "
				"pattern's; rename route \"%s\"",
				p->id, rs->routes.v[p->route].name);
			return -EINVAL;
		}
	return 0;
}

int
sw_ruleset_sess_slot(const struct sw_ruleset *rs, uint32_t id)
{
	uint32_t lo = 0, hi;

	if (rs == NULL || id == 0)
		return -1;
	hi = rs->nars_ids;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (rs->ars_ids[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < rs->nars_ids && rs->ars_ids[lo].id == id)
		return rs->pats.v[rs->ars_ids[lo].pat].slot;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* The state                                                                */
/* ------------------------------------------------------------------------ */

struct sw_ars_state *
sw_ars_state_create(unsigned nb_workers, unsigned nb_slots)
{
	struct sw_ars_state *st;
	size_t per_line = CACHE_LINE / sizeof(int64_t);

	if (nb_workers == 0 || nb_slots == 0 || nb_slots > SW_ARS_MAX_SLOTS)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->nb_workers = nb_workers;
	st->nslots = nb_slots;
	st->stride = (unsigned)((nb_slots + per_line - 1) / per_line * per_line);
	st->sess = aligned_alloc(CACHE_LINE, sizeof(int64_t) * st->stride * nb_workers);
	st->base = aligned_alloc(CACHE_LINE, sizeof(int64_t) * st->stride);
	st->cps = aligned_alloc(CACHE_LINE, sizeof(struct cps_word) * nb_slots);
	st->slots = calloc(nb_slots, sizeof(*st->slots));
	if (st->sess == NULL || st->base == NULL || st->cps == NULL || st->slots == NULL) {
		sw_ars_state_free(st);
		return NULL;
	}
	memset(st->sess, 0, sizeof(int64_t) * st->stride * nb_workers);
	memset(st->base, 0, sizeof(int64_t) * st->stride);
	memset(st->cps, 0, sizeof(struct cps_word) * nb_slots);
	pthread_mutex_init(&st->lock, NULL);
	return st;
}

void
sw_ars_state_free(struct sw_ars_state *st)
{
	if (st == NULL)
		return;
	free(st->sess);
	free(st->base);
	free(st->cps);
	free(st->slots);
	free(st);
}

static int64_t
rows_sum(const struct sw_ars_state *st, unsigned slot)
{
	int64_t n = 0;

	for (unsigned w = 0; w < st->nb_workers; w++)
		n += __atomic_load_n(&st->sess[(size_t)w * st->stride + slot], __ATOMIC_RELAXED);
	return n;
}

int64_t
sw_ars_sessions(const struct sw_ars_state *st, int slot)
{
	int64_t n;

	if (st == NULL || slot < 0 || (unsigned)slot >= st->nslots)
		return 0;
	n = rows_sum(st, (unsigned)slot) - __atomic_load_n(&st->base[slot], __ATOMIC_RELAXED);
	return n > 0 ? n : 0;
}

void
sw_ars_sess_inc(struct sw_ars_state *st, unsigned worker, int slot)
{
	int64_t *c;

	if (st == NULL || slot < 0 || (unsigned)slot >= st->nslots || worker >= st->nb_workers)
		return;
	c = &st->sess[(size_t)worker * st->stride + (unsigned)slot];
	/* single writer: a plain read-modify-write, stored so that readers never tear */
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

bool
sw_ars_sess_dec(struct sw_ars_state *st, unsigned worker, int slot)
{
	int64_t *c;

	if (st == NULL || slot < 0 || (unsigned)slot >= st->nslots || worker >= st->nb_workers)
		return false;
	if (sw_ars_sessions(st, slot) <= 0)
		return false;
	c = &st->sess[(size_t)worker * st->stride + (unsigned)slot];
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) - 1, __ATOMIC_RELAXED);
	return true;
}

/*
 * Room in this second's CPS window of slot for one more call; with take, the
 * call is counted. A worker whose clock is still in the previous second
 * counts into the current window rather than turning it back.
 */
bool
ars_cps_ok(struct sw_ars_state *st, int slot, uint32_t cap, int64_t now, bool take)
{
	uint64_t *w, old, nw;
	uint32_t sec = (uint32_t)now;

	if (st == NULL || slot < 0 || (unsigned)slot >= st->nslots)
		return true;
	w = &st->cps[slot].v;
	old = __atomic_load_n(w, __ATOMIC_RELAXED);
	for (;;) {
		uint32_t osec = (uint32_t)(old >> 32), n = (uint32_t)old;

		if ((int32_t)(sec - osec) > 0)
			n = 0;
		else
			sec = osec;
		if (n >= cap)
			return false;
		if (!take)
			return true;
		nw = (uint64_t)sec << 32 | (n + 1);
		if (__atomic_compare_exchange_n(w, &old, nw, true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
		sec = (uint32_t)now;
	}
}

static uint32_t
cps_now(const struct sw_ars_state *st, unsigned slot, int64_t now)
{
	uint64_t v = __atomic_load_n(&st->cps[slot].v, __ATOMIC_RELAXED);

	return (uint32_t)(v >> 32) == (uint32_t)now ? (uint32_t)v : 0;
}

int
sw_ars_state_bind(struct sw_ars_state *st, struct sw_ruleset *rs, struct sw_diag *diag)
{
	int rc = 0;

	if (st == NULL || rs == NULL)
		return 0;
	pthread_mutex_lock(&st->lock);
	for (unsigned s = 0; s < st->nslots; s++)
		st->slots[s].in_new = false;
	for (uint32_t i = 0; i < rs->pats.n && rc == 0; i++) {
		struct ars_pat *p = &rs->pats.v[i];
		const char *name = rs->routes.v[p->route].name;
		int found = -1, spare = -1;

		if (p->id == 0)
			continue;
		for (unsigned s = 0; s < st->nslots && found < 0; s++)
			if (st->slots[s].used && st->slots[s].id == p->id)
				found = (int)s;
		/* else a slot never used; else the slot of a pattern no ruleset binds */
		for (unsigned s = 0; s < st->nslots && found < 0 && spare < 0; s++)
			if (!st->slots[s].used)
				spare = (int)s;
		for (unsigned s = 0; s < st->nslots && found < 0 && spare < 0; s++)
			if (!st->slots[s].in_live && !st->slots[s].in_new)
				spare = (int)s;
		if (found < 0 && spare < 0) {
			diag_at(diag, p->file, p->line, 0, "error", NULL,
				"more than %u ARS patterns with Max Sessions or CPS", st->nslots);
			rc = -ENOSPC;
			break;
		}
		if (found < 0) {
			struct ars_slot *sl = &st->slots[spare];

			/* a new pattern, or a removed one's slot: counts start from zero */
			found = spare;
			memset(sl, 0, sizeof(*sl));
			sl->used = true;
			sl->id = p->id;
			snprintf(sl->route, sizeof(sl->route), "%s", name ? name : "");
			__atomic_store_n(&st->base[found], rows_sum(st, (unsigned)found),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&st->cps[found].v, 0, __ATOMIC_RELAXED);
		}
		st->slots[found].in_new = true;
		st->slots[found].ordinal = p->ordinal;
		st->slots[found].max_sessions = p->max_sessions;
		st->slots[found].cps = p->cps;
		p->slot = found;
	}
	for (unsigned s = 0; s < st->nslots; s++) {
		if (rc == 0)
			st->slots[s].in_live = st->slots[s].in_new;
		st->slots[s].in_new = false;
	}
	if (rc != 0)
		for (uint32_t i = 0; i < rs->pats.n; i++)
			rs->pats.v[i].slot = -1;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

unsigned
sw_ars_state_list(struct sw_ars_state *st, int64_t now, struct sw_ars_slot_info *out,
		  unsigned max)
{
	unsigned n = 0;

	if (st == NULL)
		return 0;
	pthread_mutex_lock(&st->lock);
	for (unsigned s = 0; s < st->nslots && n < max; s++) {
		const struct ars_slot *sl = &st->slots[s];

		if (!sl->used)
			continue;
		out[n] = (struct sw_ars_slot_info){
			.slot = s,
			.id = sl->id,
			.pattern = sl->ordinal,
			.max_sessions = sl->max_sessions,
			.cps = sl->cps,
			.sessions = sw_ars_sessions(st, (int)s),
			.cps_now = cps_now(st, s, now),
			.live = sl->in_live,
		};
		snprintf(out[n].route, sizeof(out[n].route), "%s", sl->route);
		n++;
	}
	pthread_mutex_unlock(&st->lock);
	return n;
}

int
sw_ars_state_reset(struct sw_ars_state *st, const char *route, int pattern)
{
	int n = 0;

	if (st == NULL)
		return 0;
	pthread_mutex_lock(&st->lock);
	for (unsigned s = 0; s < st->nslots; s++) {
		const struct ars_slot *sl = &st->slots[s];

		if (!sl->used || (route != NULL && strcmp(route, sl->route) != 0) ||
		    (pattern > 0 && pattern != sl->ordinal))
			continue;
		/* workers keep writing their rows; the count restarts from what they hold now */
		__atomic_store_n(&st->base[s], rows_sum(st, s), __ATOMIC_RELAXED);
		n++;
	}
	pthread_mutex_unlock(&st->lock);
	return n;
}
