/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prefix-and-length patterns in a trie.
 *
 * Most carrier dial-plan rules are a literal prefix, maybe an optional '+',
 * a few alternatives, then a digit class with a length range:
 * ^\+?81(90|80|70)[0-9]{8}$. Each such pattern expands into a handful of
 * variants "^prefix class{min,max}$" with its capture offsets fixed (or
 * running to the end of the value). A trie over all prefixes answers every
 * rule of a field in one walk of the value, whatever the number of rules;
 * the workload README measured one Hyperscan database at 0.6 us per number
 * at 10k rules, the walk takes tens of nanoseconds and gives the captures
 * without PCRE2.
 *
 * A pattern is taken only when the expansion is exact: anything else
 * (backreferences, lookaround, unanchored, classes inside the prefix with
 * more than 10 members, nested quantifiers, variants of one rule that could
 * match the same value with different captures) stays with Hyperscan.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "rules/rules_pvt.h"

#define MAX_VARS 64
#define MAX_PREFIX 200

struct pvar {
	char prefix[MAX_PREFIX];
	uint16_t plen;
	bool has_tail;
	struct trie_class tail;
	uint16_t tmin, tmax;
	int16_t cap[TRIE_MAX_CAPS][2];
};

struct xp {
	const char *s;
	size_t i, n;
	int ncap;
	bool fail;
	struct pvar *tmp;
};

static void
cls_set(struct trie_class *c, unsigned ch)
{
	c->bits[ch >> 6] |= 1ull << (ch & 63);
}
static bool
cls_has(const struct trie_class *c, unsigned ch)
{
	return (c->bits[ch >> 6] >> (ch & 63)) & 1;
}
static int
cls_count(const struct trie_class *c)
{
	return __builtin_popcountll(c->bits[0]) + __builtin_popcountll(c->bits[1]) +
	       __builtin_popcountll(c->bits[2]) + __builtin_popcountll(c->bits[3]);
}

/* Parse one atom at x->i into a class (single chars are one-member classes). */
static int
atom_class(struct xp *x, struct trie_class *c, bool *is_lit)
{
	memset(c, 0, sizeof(*c));
	*is_lit = false;
	char ch = x->s[x->i];
	if (ch == '.') {
		for (unsigned k = 0; k < 256; k++)
			if (k != '\n')
				cls_set(c, k);
		x->i++;
		return 0;
	}
	if (ch == '\\') {
		if (x->i + 1 >= x->n)
			return -1;
		char e = x->s[x->i + 1];
		x->i += 2;
		if (e == 'd') {
			for (unsigned k = '0'; k <= '9'; k++)
				cls_set(c, k);
			return 0;
		}
		if (isalnum((unsigned char)e))
			return -1; /* \b \w \s \1 ...: not ours */
		cls_set(c, (unsigned char)e);
		*is_lit = true;
		return 0;
	}
	if (ch == '[') {
		size_t i = x->i + 1;
		bool neg = false;
		if (i < x->n && x->s[i] == '^')
			neg = true, i++;
		bool first = true;
		while (i < x->n && (x->s[i] != ']' || first)) {
			first = false;
			unsigned a = (unsigned char)x->s[i];
			if (a == '\\' || a == '[')
				return -1;
			unsigned b = a;
			if (i + 2 < x->n && x->s[i + 1] == '-' && x->s[i + 2] != ']') {
				b = (unsigned char)x->s[i + 2];
				if (b == '\\' || b < a)
					return -1;
				i += 3;
			} else
				i++;
			for (unsigned k = a; k <= b; k++)
				cls_set(c, k);
		}
		if (i >= x->n)
			return -1;
		x->i = i + 1;
		if (neg) {
			for (int w = 0; w < 4; w++)
				c->bits[w] = ~c->bits[w];
			c->bits['\n' >> 6] &= ~(1ull << ('\n' & 63));
		}
		return 0;
	}
	if (strchr("()|?*+{}^$]", ch) != NULL)
		return -1;
	cls_set(c, (unsigned char)ch);
	*is_lit = true;
	x->i++;
	return 0;
}

/* Quantifier at x->i: returns 0 and min/max (TRIE_INF unbounded). */
static int
quant(struct xp *x, unsigned *mn, unsigned *mx)
{
	*mn = *mx = 1;
	if (x->i >= x->n)
		return 0;
	char q = x->s[x->i];
	if (q == '?')
		*mn = 0, *mx = 1;
	else if (q == '*')
		*mn = 0, *mx = TRIE_INF;
	else if (q == '+')
		*mn = 1, *mx = TRIE_INF;
	else if (q == '{') {
		size_t i = x->i + 1;
		unsigned a = 0, b;
		if (i >= x->n || !isdigit((unsigned char)x->s[i]))
			return -1;
		while (i < x->n && isdigit((unsigned char)x->s[i]))
			a = a * 10 + (unsigned)(x->s[i++] - '0');
		b = a;
		if (i < x->n && x->s[i] == ',') {
			i++;
			if (i < x->n && x->s[i] == '}')
				b = TRIE_INF;
			else {
				b = 0;
				if (i >= x->n || !isdigit((unsigned char)x->s[i]))
					return -1;
				while (i < x->n && isdigit((unsigned char)x->s[i]))
					b = b * 10 + (unsigned)(x->s[i++] - '0');
			}
		}
		if (i >= x->n || x->s[i] != '}' || a > 1000 || (b != TRIE_INF && (b < a || b > 1000)))
			return -1;
		x->i = i + 1;
		*mn = a;
		*mx = b;
		goto lazy;
	} else
		return 0;
	x->i++;
lazy:
	if (x->i < x->n && (x->s[x->i] == '?' || x->s[x->i] == '+'))
		return -1; /* lazy / possessive: keep it simple */
	return 0;
}

/* Is the rest of the pattern only ')' and a final '$'? */
static bool
at_end(const struct xp *x)
{
	size_t i = x->i;
	while (i < x->n && x->s[i] == ')')
		i++;
	return (i == x->n) || (i + 1 == x->n && x->s[i] == '$');
}

static int seq(struct xp *x, struct pvar *v, int nv);

/* Alternation inside a group: returns new count of variants in v. */
static int
alt(struct xp *x, struct pvar *v, int nv)
{
	struct pvar *in = malloc(sizeof(*in) * MAX_VARS);
	struct pvar *res = malloc(sizeof(*res) * MAX_VARS);
	if (in == NULL || res == NULL) {
		free(in);
		free(res);
		return -1;
	}
	memcpy(in, v, sizeof(*in) * (size_t)nv);
	int nres = 0, nbranch = 0;
	int ncap0 = x->ncap;
	bool groups = false;
	for (;;) {
		struct pvar *cur = malloc(sizeof(*cur) * MAX_VARS);
		if (cur == NULL)
			goto fail;
		memcpy(cur, in, sizeof(*cur) * (size_t)nv);
		int before = x->ncap;
		int n = seq(x, cur, nv);
		nbranch++;
		if (x->ncap != before)
			groups = true;
		if (n < 0 || nres + n > MAX_VARS) {
			free(cur);
			goto fail;
		}
		memcpy(res + nres, cur, sizeof(*cur) * (size_t)n);
		nres += n;
		free(cur);
		if (x->i < x->n && x->s[x->i] == '|') {
			x->i++;
			continue;
		}
		break;
	}
	/* groups inside alternatives: PCRE leaves the other branches' groups
	 * unset; not worth modelling here */
	(void)ncap0;
	if (groups && nbranch > 1)
		goto fail;
	memcpy(v, res, sizeof(*res) * (size_t)nres);
	free(in);
	free(res);
	return nres;
fail:
	free(in);
	free(res);
	return -1;
}

static int
seq(struct xp *x, struct pvar *v, int nv)
{
	while (x->i < x->n) {
		char ch = x->s[x->i];
		if (ch == '|' || ch == ')')
			return nv;
		if (ch == '$')
			return x->i + 1 == x->n ? nv : -1;
		if (ch == '(') {
			x->i++;
			int capi = -1;
			if (x->i + 1 < x->n && x->s[x->i] == '?') {
				if (x->s[x->i + 1] != ':')
					return -1;
				x->i += 2;
			} else {
				capi = x->ncap++;
				if (capi >= TRIE_MAX_CAPS)
					return -1;
			}
			for (int k = 0; k < nv; k++) {
				if (v[k].has_tail)
					return -1;
				if (capi >= 0)
					v[k].cap[capi][0] = (int16_t)v[k].plen;
			}
			struct pvar *save = NULL;
			int nsave = nv;
			save = malloc(sizeof(*save) * (size_t)nv);
			if (save == NULL)
				return -1;
			memcpy(save, v, sizeof(*save) * (size_t)nv);
			int n = alt(x, v, nv);
			if (n < 0 || x->i >= x->n || x->s[x->i] != ')') {
				free(save);
				return -1;
			}
			x->i++;
			for (int k = 0; k < n; k++)
				if (capi >= 0)
					v[k].cap[capi][1] = v[k].has_tail ? -1 : (int16_t)v[k].plen;
			unsigned mn, mx;
			if (quant(x, &mn, &mx) < 0) {
				free(save);
				return -1;
			}
			if (mn == 1 && mx == 1) {
				nv = n;
			} else if (mn == 0 && mx == 1) {
				/* greedy: the group first, then without it */
				if (n + nsave > MAX_VARS) {
					free(save);
					return -1;
				}
				for (int k = 0; k < n; k++)
					if (v[k].has_tail) {
						free(save);
						return -1;
					}
				for (int k = 0; k < nsave; k++) {
					v[n + k] = save[k];
					if (capi >= 0)
						v[n + k].cap[capi][0] = v[n + k].cap[capi][1] = -2; /* unset */
				}
				nv = n + nsave;
			} else {
				free(save);
				return -1;
			}
			free(save);
			continue;
		}
		struct trie_class c;
		bool lit;
		if (atom_class(x, &c, &lit) < 0)
			return -1;
		unsigned mn, mx;
		if (quant(x, &mn, &mx) < 0)
			return -1;
		int cnt = cls_count(&c);
		bool last = at_end(x);
		bool fixed_small = mn == mx && mn <= 3 && cnt >= 1;
		long growth = 1;
		for (unsigned k = 0; k < mn && growth <= MAX_VARS; k++)
			growth *= cnt; /* stops before it can overflow */
		if (fixed_small && (cnt == 1 || (!last && growth * nv <= MAX_VARS))) {
			/* expand into literal chars */
			for (unsigned rep = 0; rep < mn; rep++) {
				int nn = 0;
				if (nv * cnt > MAX_VARS)
					return -1;
				struct pvar *nvv = malloc(sizeof(*nvv) * (size_t)(nv * cnt));
				if (nvv == NULL)
					return -1;
				for (int k = 0; k < nv; k++) {
					if (v[k].has_tail || v[k].plen + 1 >= MAX_PREFIX) {
						free(nvv);
						return -1;
					}
					for (unsigned ch2 = 0; ch2 < 256; ch2++)
						if (cls_has(&c, ch2)) {
							nvv[nn] = v[k];
							nvv[nn].prefix[nvv[nn].plen++] = (char)ch2;
							nn++;
						}
				}
				memcpy(v, nvv, sizeof(*nvv) * (size_t)nn);
				free(nvv);
				nv = nn;
			}
			continue;
		}
		if (lit && mn == 0 && mx == 1 && !last) {
			/* optional literal: with first (greedy), then without */
			if (nv * 2 > MAX_VARS)
				return -1;
			unsigned ch2 = 0;
			while (!cls_has(&c, ch2))
				ch2++;
			for (int k = nv - 1; k >= 0; k--) {
				if (v[k].has_tail || v[k].plen + 1 >= MAX_PREFIX)
					return -1;
				v[2 * k + 1] = v[k];
				v[2 * k] = v[k];
				v[2 * k].prefix[v[2 * k].plen++] = (char)ch2;
			}
			nv *= 2;
			continue;
		}
		if (!last)
			return -1;
		for (int k = 0; k < nv; k++) {
			if (v[k].has_tail)
				return -1;
			v[k].has_tail = true;
			v[k].tail = c;
			v[k].tmin = (uint16_t)mn;
			v[k].tmax = (uint16_t)mx;
		}
	}
	return nv;
}

static int
class_index(const struct trie_class *c, struct trie_class **classes, uint32_t *n)
{
	for (uint32_t i = 0; i < *n; i++)
		if (memcmp(&(*classes)[i], c, sizeof(*c)) == 0)
			return (int)i;
	if (*n >= 255)
		return -1;
	struct trie_class *t = realloc(*classes, sizeof(*t) * (*n + 1));
	if (t == NULL)
		return -1;
	*classes = t;
	t[*n] = *c;
	return (int)(*n)++;
}

static bool
var_prefix_of(const struct trie_var *a, const struct trie_var *b, const struct trie_class *classes)
{
	/* could a value match both a and b (a's prefix no longer than b's)? */
	if (a->plen > b->plen || memcmp(a->prefix, b->prefix, a->plen) != 0)
		return false;
	const struct trie_class *ta = &classes[a->tclass];
	for (unsigned i = a->plen; i < b->plen; i++)
		if (!cls_has(ta, (unsigned char)b->prefix[i]))
			return false;
	return true;
}

void
trie_vars_free(struct trie_var *v, uint32_t n)
{
	if (v == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(v[i].prefix);
	free(v);
}

int
trie_expand(const char *re, uint32_t rule, struct trie_var **out, struct trie_class **classes,
	    uint32_t *nclasses)
{
	size_t n = strlen(re);
	if (n < 2 || re[0] != '^')
		return 0;
	struct pvar *v = calloc(MAX_VARS, sizeof(*v));
	if (v == NULL)
		return 0;
	for (int k = 0; k < TRIE_MAX_CAPS; k++)
		v[0].cap[k][0] = v[0].cap[k][1] = -2;
	struct xp x = {.s = re, .i = 1, .n = n};
	int nv = seq(&x, v, 1);
	bool anchored;
	if (nv <= 0) {
		free(v);
		return 0;
	}
	if (x.i == n)
		anchored = false;
	else if (x.i == n - 1 && re[n - 1] == '$')
		anchored = true;
	else {
		free(v); /* stopped at a top-level '|' or ')' */
		return 0;
	}
	/* check every capture got both ends */
	struct trie_var *tv = calloc((size_t)nv, sizeof(*tv));
	if (tv == NULL) {
		free(v);
		return 0;
	}
	struct trie_class any;
	memset(&any, 0xff, sizeof(any));
	for (int k = 0; k < nv; k++) {
		struct pvar *p = &v[k];
		struct trie_class c;
		if (!anchored) {
			if (p->has_tail)
				goto no;
			c = any;
			p->tmin = 0;
			p->tmax = TRIE_INF;
		} else if (!p->has_tail) {
			memset(&c, 0, sizeof(c));
			p->tmin = p->tmax = 0;
		} else
			c = p->tail;
		int ci = class_index(&c, classes, nclasses);
		if (ci < 0)
			goto no;
		tv[k].prefix = xstrndup(p->prefix, p->plen);
		tv[k].plen = p->plen;
		tv[k].tclass = (uint8_t)ci;
		tv[k].tmin = p->tmin;
		tv[k].tmax = p->tmax;
		tv[k].ncap = (uint8_t)x.ncap;
		tv[k].rule = rule;
		for (int c2 = 0; c2 < x.ncap; c2++) {
			tv[k].cap[c2][0] = p->cap[c2][0];
			tv[k].cap[c2][1] = p->cap[c2][1];
		}
	}
	/* two variants of one rule that can match one value must agree on captures */
	for (int a = 0; a < nv; a++)
		for (int b = 0; b < nv; b++) {
			if (a == b)
				continue;
			if (var_prefix_of(&tv[a], &tv[b], *classes) &&
			    (x.ncap > 0 && memcmp(tv[a].cap, tv[b].cap, sizeof(tv[a].cap)) != 0))
				goto no;
		}
	free(v);
	*out = tv;
	return nv;
no:
	trie_vars_free(tv, (uint32_t)nv);
	free(v);
	return 0;
}

bool
trie_var_match(const struct trie_var *v, const struct trie_class *classes, const char *s,
	       size_t len)
{
	if (len < v->plen || memcmp(s, v->prefix, v->plen) != 0)
		return false;
	size_t r = len - v->plen;
	if (r < v->tmin || (v->tmax != TRIE_INF && r > v->tmax))
		return false;
	const struct trie_class *c = &classes[v->tclass];
	for (size_t i = v->plen; i < len; i++)
		if (!cls_has(c, (unsigned char)s[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------------------ */
/* The trie                                                                 */
/* ------------------------------------------------------------------------ */

/*
 * Flattened, path-compressed trie: a node first matches its skip string
 * (the literal run that all prefixes below it share), then its terminating
 * variants, then branches on one character. Children of a node are
 * contiguous; terminating variants are copied inline (rule, lengths, class)
 * so that a walk touches nodes and terms, not the variant structs.
 *
 * Most nodes of a carrier plan are leaves ending one variant (30k of 36k
 * nodes at 10k rules). Such a leaf holds its variant itself, in the bytes
 * an inner node uses for its children: the walk's last step then reads one
 * cache line, not two, and the term array shrinks to the few shared prefixes.
 */
struct tterm {
	const struct trie_var *var;
	uint32_t rule;
	uint32_t hot;
	uint16_t tmin, tmax;
	int16_t c0s, c0e;
	uint8_t tclass;
	uint8_t ncap;
	uint8_t rcap;
	bool sole;
};

#define TNODE_LEAF 0xffff /* nterm of a leaf holding its one variant in lf/lt */

struct tnode {
	union {
		struct {
			uint32_t child; /* first child in nodes[] */
			uint32_t term;  /* first terminating variant in terms[] */
		};
		struct {
			uint32_t rule;
			uint32_t hot;
		} lf;
	};
	uint16_t nterm;  /* TNODE_LEAF: no children, one variant inline */
	uint8_t nchild;
	uint8_t skip;    /* bytes of skip string */
	union {
		char in[8];    /* skip <= 8 */
		uint32_t off;  /* else in pool[] */
	} s;
	union {
		uint8_t kids[12]; /* the children's characters when nchild <= 12: one cache line per level */
		struct {
			uint16_t tmin, tmax;
			int16_t c0s, c0e;
			uint8_t tclass, ncap, rcap;
			bool sole;
		} lt;
	};
};
/* trie_lookup() compares kids[] as the last 12 of the node's last 16 bytes. */
_Static_assert(sizeof(struct tnode) == 32 && offsetof(struct tnode, kids) == 20,
	       "tnode layout: kids[] must end the node");

struct trie {
	struct tnode *nodes;
	uint8_t *nchar; /* char leading into node i */
	uint32_t nnodes, cap;
	const struct trie_var **sorted;
	struct tterm *terms;
	uint32_t nterms;
	char *pool;
	uint32_t npool, poolcap;
	/*
	 * Clusters (relayout): clu[i] for a node i < ntop is the number of
	 * nodes below it, laid out together from its first child on, when that
	 * is a cluster (0 when not); NULL for a trie that stays cached anyway.
	 */
	uint8_t *clu;
	uint32_t ntop;
	int digits;  /* index of the class [0-9], -1 none */
	int dot;     /* index of the class '.' (all but line feed), -1 none */
	void *block; /* when packed: one huge-page backed block holding the arrays */
	size_t block_len;
};

static int
cmp_var(const void *a, const void *b)
{
	const struct trie_var *x = *(const struct trie_var *const *)a;
	const struct trie_var *y = *(const struct trie_var *const *)b;
	size_t n = x->plen < y->plen ? x->plen : y->plen;
	int c = memcmp(x->prefix, y->prefix, n);
	if (c)
		return c;
	if (x->plen != y->plen)
		return x->plen < y->plen ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static uint32_t
node_alloc(struct trie *t, uint32_t n)
{
	while (t->nnodes + n > t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 1024;
		struct tnode *nn = realloc(t->nodes, sizeof(*nn) * nc);
		uint8_t *ch = realloc(t->nchar, nc);
		if (nn)
			t->nodes = nn;
		if (ch)
			t->nchar = ch;
		if (nn == NULL || ch == NULL)
			return UINT32_MAX;
		t->cap = nc;
	}
	uint32_t r = t->nnodes;
	t->nnodes += n;
	memset(&t->nodes[r], 0, sizeof(struct tnode) * n);
	return r;
}

static int
build(struct trie *t, uint32_t node, uint32_t lo, uint32_t hi, unsigned d)
{
	const struct trie_var **e = t->sorted;
	/* skip: the literal run every prefix in [lo, hi) shares after d */
	unsigned skip = 0;
	if (e[lo]->plen > d) {
		const struct trie_var *a = e[lo], *b = e[hi - 1];
		unsigned mx = a->plen - d;
		if (b->plen - d < mx)
			mx = b->plen - d;
		if (mx > 255)
			mx = 255;
		while (skip < mx && a->prefix[d + skip] == b->prefix[d + skip])
			skip++;
	}
	struct tnode *nd = &t->nodes[node];
	nd->skip = (uint8_t)skip;
	if (skip <= 8)
		memcpy(nd->s.in, e[lo]->prefix + d, skip);
	else {
		if (t->npool + skip > t->poolcap) {
			uint32_t nc = t->poolcap ? t->poolcap * 2 : 4096;
			while (nc < t->npool + skip)
				nc *= 2;
			char *np = realloc(t->pool, nc);
			if (np == NULL)
				return -1;
			t->pool = np;
			t->poolcap = nc;
		}
		memcpy(t->pool + t->npool, e[lo]->prefix + d, skip);
		nd->s.off = t->npool;
		t->npool += skip;
	}
	d += skip;
	uint32_t i = lo;
	while (i < hi && e[i]->plen == d)
		i++;
	if (i - lo >= TNODE_LEAF)
		return -1;
	if (i == hi && i - lo == 1 && t->terms[lo].ncap <= 1) {
		/* a leaf with one variant (its captures as offsets): inline */
		const struct tterm *v = &t->terms[lo];
		nd->lf.rule = v->rule;
		nd->lf.hot = v->hot;
		nd->nterm = TNODE_LEAF;
		nd->lt.tmin = v->tmin;
		nd->lt.tmax = v->tmax;
		nd->lt.c0s = v->c0s;
		nd->lt.c0e = v->c0e;
		nd->lt.tclass = v->tclass;
		nd->lt.ncap = v->ncap;
		nd->lt.rcap = v->rcap;
		nd->lt.sole = v->sole;
		return 0;
	}
	nd->term = lo;
	nd->nterm = (uint16_t)(i - lo);
	uint32_t nk = 0;
	for (uint32_t k = i; k < hi; k++)
		if (k == i || e[k]->prefix[d] != e[k - 1]->prefix[d])
			nk++;
	if (nk == 0)
		return 0;
	if (nk > 255)
		return -1;
	uint32_t c0 = node_alloc(t, nk);
	if (c0 == UINT32_MAX)
		return -1;
	t->nodes[node].child = c0;
	t->nodes[node].nchild = (uint8_t)nk;
	uint32_t k = i, ci = 0;
	while (k < hi) {
		uint32_t en = k + 1;
		while (en < hi && e[en]->prefix[d] == e[k]->prefix[d])
			en++;
		t->nchar[c0 + ci] = (uint8_t)e[k]->prefix[d];
		if (nk <= sizeof(t->nodes[node].kids))
			t->nodes[node].kids[ci] = (uint8_t)e[k]->prefix[d];
		if (build(t, c0 + ci, k, en, d + 1) < 0)
			return -1;
		ci++;
		k = en;
	}
	return 0;
}

/*
 * Append the children block of new node q (old node old[q]) at *tail: q
 * points at it, and old[] learns the children's old numbers.
 */
static void
put_block(struct trie *t, struct tnode *nn, uint8_t *nc, uint32_t *old, uint32_t q, uint32_t *tail)
{
	const struct tnode *od = &t->nodes[old[q]];
	uint32_t at = *tail;

	memcpy(&nn[at], &t->nodes[od->child], sizeof(*nn) * od->nchild);
	memcpy(&nc[at], &t->nchar[od->child], od->nchild);
	for (uint32_t c = 0; c < od->nchild; c++)
		old[at + c] = od->child + c;
	nn[q].child = at;
	*tail += od->nchild;
}

/*
 * Renumber the nodes breadth first (each sibling block stays one block).
 * build() lays blocks out depth first, which spreads the few hundred nodes
 * of the top levels, read by every walk, over the whole array, one cache
 * line each; breadth first they share a few kilobytes that stay cached,
 * and a walk misses only in its deep, rule-specific part.
 *
 * In a big trie that deep part is a chain of dependent misses, one per
 * level (four at 10k rules). So every subtree of at most CLUSTER_MAX nodes
 * under a node of the breadth-first top part is laid out apart, in one
 * piece (a cluster): a walk that reaches its top prefetches all of it at
 * once, and the levels below arrive together. On ENOMEM the depth-first
 * layout stays (it is as correct, only slower).
 */
#define CLUSTER_MAX 32
#define CLUSTER_MIN_NODES 8192 /* 256 KB: smaller tries stay cached */

static void
relayout(struct trie *t)
{
	uint32_t n = t->nnodes;
	struct tnode *nn = malloc(sizeof(*nn) * n);
	uint8_t *nc = malloc(n);
	uint32_t *below = n >= CLUSTER_MIN_NODES ? calloc(n, sizeof(*below)) : NULL;
	uint32_t *old = malloc(sizeof(*old) * n); /* new index -> old index */
	uint8_t *clu = NULL;
	if (nn == NULL || nc == NULL || old == NULL || (n >= CLUSTER_MIN_NODES && below == NULL)) {
		free(nn);
		free(nc);
		free(below);
		free(old);
		return;
	}
	/* Nodes below each node: children come after their parent (build()). */
	for (uint32_t i = n; below != NULL && i-- > 0;) {
		const struct tnode *od = &t->nodes[i];
		if (od->nterm == TNODE_LEAF)
			continue;
		for (uint32_t c = 0; c < od->nchild; c++)
			below[i] += 1 + below[od->child + c];
	}
	nn[0] = t->nodes[0];
	nc[0] = t->nchar[0];
	old[0] = 0;
	uint32_t tail = 1;
	/* The top part breadth first; the parents of clusters wait. */
	for (uint32_t q = 0; q < tail; q++) {
		const struct tnode *nd = &nn[q];
		if (nd->nterm == TNODE_LEAF || nd->nchild == 0)
			continue;
		if (below != NULL && below[old[q]] <= CLUSTER_MAX)
			continue;
		put_block(t, nn, nc, old, q, &tail);
	}
	uint32_t ntop = tail;
	if (below != NULL)
		clu = calloc(ntop, 1);
	/* Then each cluster in one piece, breadth first inside. */
	for (uint32_t p = 0; below != NULL && p < ntop; p++) {
		const struct tnode *nd = &nn[p];
		if (nd->nterm == TNODE_LEAF || nd->nchild == 0 || below[old[p]] > CLUSTER_MAX)
			continue;
		uint32_t start = tail;
		put_block(t, nn, nc, old, p, &tail);
		for (uint32_t q = start; q < tail; q++) {
			const struct tnode *cd = &nn[q];
			if (cd->nterm == TNODE_LEAF || cd->nchild == 0)
				continue;
			put_block(t, nn, nc, old, q, &tail);
		}
		if (clu != NULL)
			clu[p] = (uint8_t)(tail - start);
	}
	free(below);
	free(old);
	free(t->nodes);
	free(t->nchar);
	t->nodes = nn;
	t->nchar = nc;
	t->nnodes = tail;
	t->cap = tail;
	t->clu = clu;
	t->ntop = clu != NULL ? ntop : 0;
}

/*
 * Move the arrays into one block on 2 MB pages when the trie is big: a walk
 * through a 100k-rule trie touches a dozen scattered cache lines, and with
 * 4 KB pages most of them also miss the TLB.
 */
static void
pack(struct trie *t)
{
	size_t nb = (size_t)t->nnodes * sizeof(struct tnode), cb = t->nnodes,
	       tb = (size_t)t->nterms * sizeof(struct tterm), pb = t->npool;
	size_t total = nb + tb + ((cb + 7) & ~(size_t)7) + pb + 64;
	if (total < (1u << 20))
		return;
	const size_t huge = 2u << 20;
	size_t len = (total + huge - 1) & ~(huge - 1);
	void *b = NULL;
	if (posix_memalign(&b, huge, len) != 0)
		return;
	madvise(b, len, MADV_HUGEPAGE);
	char *p = b;
	memcpy(p, t->nodes, nb);
	struct tnode *nodes = (struct tnode *)p;
	p += nb;
	memcpy(p, t->terms, tb);
	struct tterm *terms = (struct tterm *)p;
	p += tb;
	memcpy(p, t->nchar, cb);
	uint8_t *nchar = (uint8_t *)p;
	p += (cb + 7) & ~(size_t)7;
	if (pb)
		memcpy(p, t->pool, pb);
	free(t->nodes);
	free(t->terms);
	free(t->nchar);
	free(t->pool);
	t->nodes = nodes;
	t->terms = terms;
	t->nchar = nchar;
	t->pool = pb ? p : NULL;
	t->cap = t->nnodes;
	t->poolcap = t->npool;
	t->block = b;
	t->block_len = len;
}

struct trie *
trie_build(struct trie_var **vars, uint32_t nvars, const struct trie_class *classes,
	   uint32_t nclasses)
{
	struct trie *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->digits = -1;
	struct trie_class dg;
	memset(&dg, 0, sizeof(dg));
	for (unsigned c = '0'; c <= '9'; c++)
		cls_set(&dg, c);
	struct trie_class dot;
	memset(&dot, 0xff, sizeof(dot));
	dot.bits['\n' >> 6] &= ~(1ull << ('\n' & 63));
	t->dot = -1;
	for (uint32_t i = 0; i < nclasses; i++) {
		if (memcmp(&classes[i], &dg, sizeof(dg)) == 0)
			t->digits = (int)i;
		if (memcmp(&classes[i], &dot, sizeof(dot)) == 0)
			t->dot = (int)i;
	}
	t->sorted = malloc(sizeof(*t->sorted) * (nvars ? nvars : 1));
	t->terms = malloc(sizeof(*t->terms) * (nvars ? nvars : 1));
	if (t->sorted == NULL || t->terms == NULL)
		goto fail;
	for (uint32_t i = 0; i < nvars; i++)
		t->sorted[i] = vars[i];
	t->nterms = nvars;
	qsort(t->sorted, nvars, sizeof(*t->sorted), cmp_var);
	for (uint32_t i = 0; i < nvars; i++) {
		const struct trie_var *v = t->sorted[i];
		t->terms[i] = (struct tterm){.var = v, .rule = v->rule, .hot = v->hot,
					     .rcap = v->rcap, .sole = v->sole,
					     .tmin = v->tmin, .tmax = v->tmax, .tclass = v->tclass,
					     .ncap = v->ncap, .c0s = v->ncap ? v->cap[0][0] : -2,
					     .c0e = v->ncap ? v->cap[0][1] : -2};
	}
	if (node_alloc(t, 1) == UINT32_MAX || (nvars && build(t, 0, 0, nvars, 0) < 0))
		goto fail;
	free(t->sorted);
	t->sorted = NULL;
	/* keep only the variants the leaves did not take, in node order */
	struct tterm *kept = malloc(sizeof(*kept) * (nvars ? nvars : 1));
	if (kept == NULL)
		goto fail;
	uint32_t k = 0;
	for (uint32_t i = 0; i < t->nnodes; i++) {
		struct tnode *nd = &t->nodes[i];
		if (nd->nterm == TNODE_LEAF || nd->nterm == 0)
			continue;
		memcpy(&kept[k], &t->terms[nd->term], sizeof(*kept) * nd->nterm);
		nd->term = k;
		k += nd->nterm;
	}
	free(t->terms);
	t->terms = kept;
	t->nterms = k;
	relayout(t);
	pack(t);
	return t;
fail:
	trie_free(t);
	return NULL;
}

void
trie_free(struct trie *t)
{
	if (t == NULL)
		return;
	if (t->block == NULL) {
		free(t->nodes);
		free(t->nchar);
		free(t->terms);
		free(t->pool);
	}
	free(t->block);
	free(t->sorted);
	free(t->clu);
	free(t);
}

size_t
trie_mem(const struct trie *t)
{
	if (t == NULL)
		return 0;
	if (t->block)
		return sizeof(*t) + t->block_len + t->ntop;
	return sizeof(*t) + t->cap * (sizeof(struct tnode) + 1) + t->nterms * sizeof(struct tterm) +
	       t->poolcap + t->ntop;
}

#if defined(__SSE2__)
/* Bit i set for each of the 16 bytes of v that is not '0'..'9' (bytes >= 0x80 are not). */
static inline unsigned
nondigits16(__m128i v)
{
	__m128i lt = _mm_cmplt_epi8(v, _mm_set1_epi8('0')), gt = _mm_cmpgt_epi8(v, _mm_set1_epi8('9'));

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(lt, gt));
}
#endif

/*
 * Start of the run of digits that ends s[0..len). Numbers are 7 to 16
 * bytes: two overlapping 8-byte loads cover them, one compare for all.
 */
static size_t
digits_start(const char *s, size_t len)
{
	size_t i = len;
#if defined(__SSE2__)
	unsigned m;
	if (len >= 8 && len <= 16) {
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + len - 8, 8);
		m = nondigits16(_mm_set_epi64x((long long)b, (long long)a));
		if (m >> 8)
			return len - 8 + (size_t)(31 - __builtin_clz(m >> 8)) + 1;
		/* the first word's bytes that the second did not cover */
		m &= (1u << (len - 8)) - 1;
		return m ? (size_t)(31 - __builtin_clz(m)) + 1 : 0;
	}
	if (len > 16) {
		for (; i >= 16; i -= 16) {
			m = nondigits16(_mm_loadu_si128((const __m128i *)(s + i - 16)));
			if (m)
				return i - 16 + (size_t)(31 - __builtin_clz(m)) + 1;
		}
		m = nondigits16(_mm_loadu_si128((const __m128i *)s)) & ((1u << i) - 1);
		return m ? (size_t)(31 - __builtin_clz(m)) + 1 : 0;
	}
#endif
	while (i > 0 && (unsigned)(s[i - 1] - '0') < 10)
		i--;
	return i;
}

/* What one lookup learns about the value's tail once, for every variant. */
struct tail {
	const char *s;
	size_t len;
	size_t dstart, nlstart; /* all-digit suffix, suffix without a line feed; SIZE_MAX unknown */
};

/* Does the tail s[d..len) fit a variant's class and lengths? Inlined: called on every term. */
static inline __attribute__((always_inline)) bool
tail_fits(const struct trie *t, const struct trie_class *classes, struct tail *tl, size_t d,
	  unsigned tclass, unsigned tmin, unsigned tmax)
{
	size_t r = tl->len - d;
	if (r < tmin || (tmax != TRIE_INF && r > tmax))
		return false;
	/* tails are nearly always digits or '.' */
	if ((int)tclass == t->digits) {
		if (tl->dstart == SIZE_MAX)
			tl->dstart = digits_start(tl->s, tl->len);
		return d >= tl->dstart;
	}
	if ((int)tclass == t->dot) {
		if (tl->nlstart == SIZE_MAX) {
			const char *nl = memrchr(tl->s, '\n', tl->len);

			tl->nlstart = nl != NULL ? (size_t)(nl - tl->s) + 1 : 0;
		}
		return d >= tl->nlstart;
	}
	const struct trie_class *c = &classes[tclass];
	size_t i = d;
	while (i < tl->len && cls_has(c, (unsigned char)tl->s[i]))
		i++;
	return i == tl->len;
}

/* One hit per rule: variants of one rule agree on captures. */
static inline bool
seen(const struct trie_hit *hits, int n, uint32_t rule)
{
	for (int h = 0; h < n; h++)
		if (hits[h].rule == rule)
			return true;
	return false;
}

/* The index of nd's child for character ch, or -1. */
static inline int
child_of(const struct trie *t, const struct tnode *nd, uint8_t ch)
{
	unsigned k = 0, nc = nd->nchild;
#if defined(__SSE2__)
	if (nc <= sizeof(nd->kids)) {
		/* the node's last 16 bytes end with kids[]: one compare for all */
		__m128i v = _mm_loadu_si128((const __m128i *)((const char *)(nd + 1) - 16));
		unsigned mask =
			(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)ch))) >>
			(16 - sizeof(nd->kids));

		mask &= (1u << nc) - 1;
		return mask == 0 ? -1 : __builtin_ctz(mask);
	}
#endif
	/* a handful of children: a plain loop beats a memchr call */
	const uint8_t *cs = nc <= sizeof(nd->kids) ? nd->kids : &t->nchar[nd->child];
	while (k < nc && cs[k] != ch)
		k++;
	return k == nc ? -1 : (int)k;
}

/* One lookup in progress: its value (with what tail_fits() learnt of it), node, depth and hits. */
struct walk {
	struct tail tl;
	uint32_t node;
	uint32_t d;
	int n;
};

/*
 * One node of a walk: its skip string, its variants, then the child for the
 * next character. Returns 1 when the walk goes on (w->node is the child), 0
 * when it ended, -1 when a hit did not fit in max.
 */
static inline __attribute__((always_inline)) int
walk_step(const struct trie *t, const struct trie_class *classes, struct walk *w, uint32_t min_rule,
	  struct trie_hit *hits, int max)
{
	const struct tnode *nd = &t->nodes[w->node];
	const char *s = w->tl.s;
	size_t len = w->tl.len, d = w->d;
	int n = w->n;

	if (nd->skip) {
		const char *sk = nd->skip <= 8 ? nd->s.in : t->pool + nd->s.off;
		if (len - d < nd->skip)
			return 0;
		unsigned k = 0;
		while (k < nd->skip && s[d + k] == sk[k])
			k++;
		if (k != nd->skip)
			return 0;
		d += nd->skip;
	}
	if (nd->nterm == TNODE_LEAF) {
		if (nd->lf.rule < min_rule ||
		    !tail_fits(t, classes, &w->tl, d, nd->lt.tclass, nd->lt.tmin, nd->lt.tmax) ||
		    seen(hits, n, nd->lf.rule))
			return 0;
		if (n == max)
			return -1;
		hits[n] = (struct trie_hit){.rule = nd->lf.rule,
					    .hot = nd->lf.hot,
					    .c0s = nd->lt.c0s,
					    .c0e = nd->lt.c0e,
					    .ncap = nd->lt.ncap,
					    .rcap = nd->lt.rcap,
					    .sole = nd->lt.sole,
					    .trie = true};
		w->n = n + 1;
		return 0;
	}
	for (uint32_t k = 0; k < nd->nterm; k++) {
		const struct tterm *v = &t->terms[nd->term + k];
		if (v->rule < min_rule ||
		    !tail_fits(t, classes, &w->tl, d, v->tclass, v->tmin, v->tmax) ||
		    seen(hits, n, v->rule))
			continue;
		if (n == max)
			return -1;
		hits[n] = (struct trie_hit){.rule = v->rule,
					    .hot = v->hot,
					    .c0s = v->c0s,
					    .c0e = v->c0e,
					    .ncap = v->ncap,
					    .rcap = v->rcap,
					    .sole = v->sole,
					    .trie = true,
					    .var = v->var};
		n++;
	}
	w->n = n;
	if (d == len || nd->nchild == 0)
		return 0;
	int k = child_of(t, nd, (uint8_t)s[d]);
	if (k < 0)
		return 0;
	w->node = nd->child + (uint32_t)k;
	w->d = (uint32_t)d + 1;
	return 1;
}

static inline void
walk_init(struct walk *w, const char *s, size_t len)
{
	*w = (struct walk){.tl = {s, len, SIZE_MAX, SIZE_MAX}};
}

int
trie_lookup(const struct trie *t, const struct trie_class *classes, const char *s, size_t len,
	    uint32_t min_rule, struct trie_hit *hits, int max)
{
	struct walk w;
	int r;

	walk_init(&w, s, len);
	for (;;) {
		uint32_t node = w.node;

		if ((r = walk_step(t, classes, &w, min_rule, hits, max)) <= 0)
			break;
		if (node < t->ntop && t->clu[node] != 0) {
			/* into a cluster: all of it at once (relayout) */
			const char *c = (const char *)&t->nodes[t->nodes[node].child];
			const char *e = c + (size_t)t->clu[node] * sizeof(struct tnode);
			for (; c < e; c += 64)
				__builtin_prefetch(c);
			__builtin_prefetch(e - 1);
		}
	}
	return r < 0 ? -1 : w.n;
}

/*
 * n lookups at once: each step takes every walk still going one node on and
 * prefetches the node it goes to, so the cache misses of different walks
 * overlap instead of each walk waiting out its own one after another (a big
 * trie's deep levels are rarely cached). A finished walk prefetches its
 * hits' records in hot. A small trie costs no more walked this way than one
 * walk after another.
 */
void
trie_lookup_bulk(const struct trie *t, const struct trie_class *classes, const char *const *s,
		 const uint16_t *len, unsigned n, const uint8_t *hot, struct trie_hit *hits,
		 int max, int *count)
{
	struct walk w[TRIE_BULK_MAX];
	struct trie_hit *h[TRIE_BULK_MAX];
	uint8_t live[TRIE_BULK_MAX];
	unsigned nlive = 0;

	if (n > TRIE_BULK_MAX)
		n = TRIE_BULK_MAX;
	for (unsigned i = 0; i < n; i++) {
		walk_init(&w[i], s[i], len[i]);
		h[i] = hits + (size_t)i * (size_t)max;
		live[nlive++] = (uint8_t)i;
	}
	while (nlive > 0) {
		unsigned j = 0;

		for (unsigned x = 0; x < nlive; x++) {
			unsigned i = live[x];
			int r = walk_step(t, classes, &w[i], 0, h[i], max);

			if (r > 0) {
				__builtin_prefetch(&t->nodes[w[i].node]);
				live[j++] = (uint8_t)i;
				continue;
			}
			count[i] = r < 0 ? -1 : w[i].n;
			for (int k = 0; k < w[i].n; k++)
				__builtin_prefetch(hot + h[i][k].hot);
		}
		nlive = j;
	}
}
