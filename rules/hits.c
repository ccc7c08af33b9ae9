/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hit counters that survive a reload. A rule keeps its count when its text
 * did not change: the same name, the same conditions (left side, negation,
 * pattern) and the same deploy lines, in the same order. Where it sits in
 * the file, its comments and its description do not matter; a rule whose
 * digest appears twice inherits from the first rule of the old plan with
 * that digest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_pvt.h"

struct digest {
	uint64_t d;
	uint32_t idx;
};

uint64_t
rules_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	return rules_fnv(h, s ? s : "", (s ? strlen(s) : 0) + 1);
}

static uint64_t
rule_digest(const struct sw_ruleset *rs, uint32_t i)
{
	const struct rule *r = &rs->rules.v[i];
	uint64_t h = fnv_str(0xcbf29ce484222325ull, r->name);

	h = rules_fnv(h, &r->prelim, sizeof(r->prelim));
	for (uint32_t c = r->cond0; c < r->cond0 + r->ncond; c++) {
		const struct cond *cd = &rs->conds.v[c];

		h = fnv_str(h, rs->fields.v[cd->field].key);
		h = rules_fnv(h, &cd->neg, sizeof(cd->neg));
		h = fnv_str(h, cd->re);
	}
	for (uint32_t d = r->dep0; d < r->dep0 + r->ndep; d++) {
		const struct deploy *dp = &rs->deps.v[d];

		h = rules_fnv(h, &dp->kind, sizeof(dp->kind));
		h = fnv_str(h, dp->name);
		h = rules_fnv(h, dp->value ? dp->value : "", dp->value ? dp->vlen : 0);
	}
	return h;
}

static int
cmp_digest(const void *a, const void *b)
{
	const struct digest *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static struct digest *
digests(const struct sw_ruleset *rs)
{
	struct digest *v = malloc(sizeof(*v) * (rs->rules.n ? rs->rules.n : 1));

	if (v == NULL)
		return NULL;
	for (uint32_t i = 0; i < rs->rules.n; i++)
		v[i] = (struct digest){rule_digest(rs, i), i};
	if (rs->rules.n > 0)
		qsort(v, rs->rules.n, sizeof(*v), cmp_digest);
	return v;
}

int
sw_ruleset_carry_hits(struct sw_ruleset *to, const struct sw_ruleset *from)
{
	struct digest *a, *b;
	uint32_t i = 0, j = 0;

	if (to == NULL || from == NULL || to->rules.n == 0 || from->rules.n == 0)
		return 0;
	if (to->hits == NULL && (to->hits = calloc(to->rules.n, sizeof(*to->hits))) == NULL)
		return -ENOMEM;
	a = digests(to);
	b = digests(from);
	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	/* Both sorted by digest: one merge pass, O(n log n) in all. */
	while (i < to->rules.n && j < from->rules.n) {
		if (a[i].d < b[j].d) {
			i++;
		} else if (a[i].d > b[j].d) {
			j++;
		} else {
			to->hits[a[i].idx] = sw_ruleset_rule_hits(from, b[j].idx);
			i++;
		}
	}
	free(a);
	free(b);
	return 0;
}
