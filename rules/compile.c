/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sources -> one immutable ruleset (control thread only).
 *
 * Each rule gets at most one "primary" condition: the first one whose
 * pattern expands into prefix-and-length variants (trie), else its longest
 * non-negated pattern on a text field (Hyperscan). Per field, all primaries
 * go into one trie and one Hyperscan database with the rule index as the
 * expression id, so one walk and one hs_scan find every candidate. PCRE2
 * (JIT) is compiled only for what must run at match time: the other
 * conditions and the captures of Hyperscan primaries. Trie primaries carry
 * their captures as offsets and need no PCRE2 at all, which is what keeps a
 * 100k-rule plan under a kilobyte per rule.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "rules/rules_pvt.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
sw_rules_platform_ok(void)
{
	return hs_valid_platform() == HS_SUCCESS ? 0 : -ENOTSUP;
}

int32_t
gateway_find(const struct sw_ruleset *rs, const char *name, size_t len)
{
	for (uint32_t i = 0; i < rs->gws.n; i++)
		if (strlen(rs->gws.v[i].info.name) == len &&
		    memcmp(rs->gws.v[i].info.name, name, len) == 0)
			return (int32_t)i;
	return -1;
}

static void
cond_free(struct cond *c)
{
	free(c->re);
	pcre2_code_free(c->code);
	trie_vars_free(c->vars, c->nvars);
}

void
sw_ruleset_free(struct sw_ruleset *rs)
{
	if (rs == NULL)
		return;
	if (rs->scratch) {
		for (unsigned w = 0; w < rs->nb_workers; w++) {
			struct sw_rules_scratch *s = rs->scratch[w];
			if (s == NULL)
				continue;
			hs_free_scratch(s->hs);
			pcre2_match_data_free(s->md);
			free(s->vp);
			free(s->vl);
			free(s->vs);
			free(s->hits);
			free(s);
		}
		free(rs->scratch);
	}
	free(rs->hits);
	hs_free_scratch(rs->hs_proto);
	for (uint32_t i = 0; i < rs->rules.n; i++) {
		free(rs->rules.v[i].name);
		free(rs->rules.v[i].desc);
	}
	free(rs->rules.v);
	for (uint32_t i = 0; i < rs->conds.n; i++)
		cond_free(&rs->conds.v[i]);
	free(rs->conds.v);
	for (uint32_t i = 0; i < rs->subconds.n; i++)
		cond_free(&rs->subconds.v[i]);
	free(rs->subconds.v);
	for (uint32_t i = 0; i < rs->deps.n; i++) {
		free(rs->deps.v[i].name);
		free(rs->deps.v[i].value);
	}
	free(rs->deps.v);
	for (uint32_t i = 0; i < rs->fields.n; i++) {
		struct field *f = &rs->fields.v[i];
		free(f->key);
		free(f->hname);
		free(f->pname);
		tz_free(f->tz);
		hs_free_database(f->db);
		trie_free(f->trie);
		free(f->db_ids);
	}
	free(rs->fields.v);
	for (uint32_t i = 0; i < rs->routes.n; i++) {
		struct ars_route *r = &rs->routes.v[i];
		free(r->name);
		free(r->desc);
		free(r->gateway);
		free(r->target);
		free(r->reg_uri);
		free(r->proxy);
		free(r->user);
		free(r->password);
	}
	free(rs->routes.v);
	free(rs->pats.v);
	free(rs->ars_ids);
	for (uint32_t i = 0; i < rs->gws.n; i++)
		for (int k = 0; k < 16; k++)
			free(rs->gws.v[i].strs[k]);
	free(rs->gws.v);
	for (uint32_t i = 0; i < rs->files.n; i++)
		free(rs->files.v[i]);
	free(rs->files.v);
	free(rs->classes);
	free(rs->hot);
	free(rs->always);
	free(rs->scan_fields);
	free(rs);
}

static int
pcre_for(struct sw_ruleset *rs, struct cond *c, struct sw_diag *d)
{
	int ec;
	PCRE2_SIZE eo;
	c->code = pcre2_compile((PCRE2_SPTR)c->re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	if (c->code == NULL) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		diag_at(d, c->file, c->line, c->col + (uint32_t)eo, "error", NULL,
			"bad regular expression: %s", (char *)msg);
		return -1;
	}
	/* JIT when it can; the interpreter is fine when it cannot */
	(void)pcre2_jit_compile(c->code, PCRE2_JIT_COMPLETE);
	(void)rs;
	return 0;
}

/*
 * The items of a $target list as the matcher would split them (comma
 * separated, blanks trimmed, empty items skipped; a gateway name resolved),
 * their offsets in the value into off. Returns the count, or -1 when the list
 * must be parsed at match time.
 */
static int
target_items(const struct sw_ruleset *rs, const struct deploy *d, struct dtgt *out, uint16_t *off)
{
	/* the matcher reads at most 511 bytes of a list, up to a NUL */
	if (d->has_vars || d->vlen > 511)
		return -1;
	size_t n = strnlen(d->value, d->vlen);
	int k = 0;
	for (size_t i = 0; i < n;) {
		const char *c = memchr(d->value + i, ',', n - i);
		size_t e = c ? (size_t)(c - d->value) : n, st = i, en = e;
		while (st < en && isspace((unsigned char)d->value[st]))
			st++;
		while (en > st && isspace((unsigned char)d->value[en - 1]))
			en--;
		if (en > st) {
			int32_t gw = gateway_find(rs, d->value + st, en - st);
			if (k >= UINT8_MAX || gw > INT16_MAX)
				return -1;
			out[k].gw = (int16_t)gw;
			out[k].len = (uint16_t)(en - st);
			off[k++] = (uint16_t)st;
		}
		if (c == NULL)
			break;
		i = e + 1;
	}
	return k;
}

#define ALIGN2(x) (((x) + 1) & ~(size_t)1)

/*
 * One deploy (index di) as an op at dst (NULL: only its size); returns its
 * size in bytes. tmp holds vlen + 1 pieces or targets.
 */
static size_t
op_emit(const struct sw_ruleset *rs, uint32_t di, void *tmp, uint8_t *dst)
{
	const struct deploy *d = &rs->deps.v[di];
	size_t nlen = d->name ? strlen(d->name) : 0;
	uint8_t mode = DOP_LIT;
	uint32_t n = 0;
	size_t text = 0; /* bytes of text after the name */
	struct piece *pc = tmp;
	struct dtgt *tg = tmp;
	uint16_t *tgoff = (uint16_t *)(tg + UINT8_MAX);
	int nt;

	if (d->kind == DK_TARGET && (nt = target_items(rs, d, tg, tgoff)) >= 0) {
		mode = DOP_TGT;
		n = (uint32_t)nt;
		for (uint32_t i = 0; i < n; i++)
			text += tg[i].len;
	} else if (d->has_vars) {
		mode = DOP_VARS;
		size_t at = 0;
		while (piece_next(d->value, d->vlen, &at, &pc[n])) {
			if (pc[n].kind != 1 && pc[n].len > SEG_N_MAX)
				mode = DOP_SLOW;
			/* a variable keeps its '&': undefined, it expands to itself */
			text += pc[n].kind == 0 ? pc[n].len : pc[n].kind == 2 ? pc[n].len + 1 : 0;
			n++;
		}
		if (n > UINT8_MAX)
			mode = DOP_SLOW;
	} else {
		text = d->vlen;
		if (d->vlen > UINT16_MAX)
			mode = DOP_SLOW;
	}
	struct dop h = {.kind = d->kind, .mode = mode, .n = (uint8_t)n, .nlen = (uint8_t)nlen,
			.vlen = mode == DOP_LIT ? (uint16_t)d->vlen : 0};
	size_t noff = dop_name_off(&h), toff = noff + (nlen ? nlen + 1 : 0);
	size_t size = ALIGN2(toff + text);
	if (nlen > UINT8_MAX || size > UINT16_MAX)
		mode = DOP_SLOW;
	if (mode == DOP_SLOW) {
		/* only the deploy's index: the matcher reads the parsed deploy */
		h = (struct dop){.kind = d->kind, .mode = DOP_SLOW};
		noff = toff = dop_name_off(&h);
		size = ALIGN2(toff);
	}
	if (dst == NULL)
		return size;
	h.size = (uint16_t)size;
	memcpy(dst, &h, sizeof(h));
	if (mode == DOP_SLOW) {
		memcpy(dst + sizeof(h), &di, sizeof(di));
		return size;
	}
	if (nlen)
		memcpy(dst + noff, d->name, nlen + 1);
	size_t t = toff;
	if (mode == DOP_TGT) {
		for (uint32_t i = 0; i < n; i++) {
			memcpy(dst + t, d->value + tgoff[i], tg[i].len);
			t += tg[i].len;
			memcpy(dst + sizeof(h) + i * sizeof(tg[i]), &tg[i], sizeof(tg[i]));
		}
	} else if (mode == DOP_VARS) {
		for (uint32_t i = 0; i < n; i++) {
			struct seg g;
			if (pc[i].kind == 1) {
				g.kn = (uint16_t)(1u << 14 | (pc[i].num > SEG_N_MAX ? SEG_N_MAX : pc[i].num));
			} else if (pc[i].kind == 2) {
				memcpy(dst + t, d->value + pc[i].off - 1, pc[i].len + 1);
				g.kn = (uint16_t)(2u << 14 | pc[i].len);
				t += pc[i].len + 1;
			} else {
				memcpy(dst + t, d->value + pc[i].off, pc[i].len);
				g.kn = (uint16_t)pc[i].len;
				t += pc[i].len;
			}
			memcpy(dst + sizeof(h) + i * sizeof(g), &g, sizeof(g));
		}
	} else
		memcpy(dst + t, d->value, d->vlen);
	return size;
}

/* One record (header + ops) at dst (NULL: size only). */
static size_t
rec_emit(const struct sw_ruleset *rs, uint32_t dep0, uint32_t ndep, void *tmp, uint8_t *dst)
{
	size_t at = sizeof(struct rhot);
	for (uint32_t i = 0; i < ndep; i++)
		at += op_emit(rs, dep0 + i, tmp, dst ? dst + at : NULL);
	if (dst != NULL) {
		struct rhot h = {.ndep = (uint16_t)ndep};
		memcpy(dst, &h, sizeof(h));
	}
	return at;
}

/* Where a record of size n goes at or after off: never across more lines than it needs. */
static size_t
rec_place(size_t off, size_t n)
{
	size_t lines = (n + 63) / 64;
	off = ALIGN2(off);
	if ((off & 63) + n > lines * 64)
		off = (off + 63) & ~(size_t)63;
	return off;
}

int
hot_build(struct sw_ruleset *rs)
{
	size_t maxv = 1;
	for (uint32_t i = 0; i < rs->deps.n; i++)
		if (rs->deps.v[i].vlen + 1 > maxv)
			maxv = rs->deps.v[i].vlen + 1;
	/* pieces of the longest value, or a $target list's items */
	void *tmp = malloc(sizeof(struct piece) * (maxv > 256 ? maxv : 256));
	if (tmp == NULL)
		goto fail;
	size_t off = 0;
	for (int pass = 0; pass < 2; pass++) {
		off = 0;
		for (uint32_t i = 0; i < rs->rules.n + rs->pats.n; i++) {
			bool rule = i < rs->rules.n;
			uint32_t dep0 = rule ? rs->rules.v[i].dep0 : rs->pats.v[i - rs->rules.n].dep0;
			uint32_t ndep = rule ? rs->rules.v[i].ndep : rs->pats.v[i - rs->rules.n].ndep;
			if (ndep > UINT16_MAX)
				goto fail;
			size_t n = rec_emit(rs, dep0, ndep, tmp, NULL);
			off = rec_place(off, n);
			if (off > UINT32_MAX - n)
				goto fail;
			if (pass == 1) {
				rec_emit(rs, dep0, ndep, tmp, rs->hot + off);
				if (rule)
					rs->rules.v[i].hot = (uint32_t)off;
				else
					rs->pats.v[i - rs->rules.n].hot = (uint32_t)off;
			}
			off += n;
		}
		if (pass == 0) {
			/* big plans on 2 MB pages: a hit is then also a TLB hit more often */
			const size_t huge = 2u << 20;
			size_t al = off >= (1u << 20) ? huge : 64;
			rs->hot_len = (off + al - 1) & ~(al - 1);
			if (rs->hot_len == 0)
				rs->hot_len = 64;
			if (posix_memalign((void **)&rs->hot, al, rs->hot_len) != 0) {
				rs->hot = NULL;
				goto fail;
			}
			if (al == huge)
				madvise(rs->hot, rs->hot_len, MADV_HUGEPAGE);
			memset(rs->hot, 0, rs->hot_len);
		}
	}
	free(tmp);
	return 0;
fail:
	free(tmp);
	return -1;
}

/* One Hyperscan database for field fi from the rules whose primary is there. */
static int
build_db(struct sw_ruleset *rs, uint32_t fi, uint32_t *conds, uint32_t n, struct sw_diag *d)
{
	struct field *f = &rs->fields.v[fi];
	const char **exprs = malloc(sizeof(*exprs) * n);
	unsigned *flags = malloc(sizeof(*flags) * n);
	unsigned *ids = malloc(sizeof(*ids) * n);
	uint32_t *ci = malloc(sizeof(*ci) * n);
	int rc = -1;
	if (!exprs || !flags || !ids || !ci)
		goto out;
	uint32_t m = n;
	memcpy(ci, conds, sizeof(*ci) * n);
	for (;;) {
		if (m == 0) {
			rc = 0;
			break;
		}
		for (uint32_t i = 0; i < m; i++) {
			struct cond *c = &rs->conds.v[ci[i]];
			exprs[i] = c->re;
			flags[i] = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
			ids[i] = c->rule;
		}
		hs_compile_error_t *err = NULL;
		hs_database_t *db = NULL;
		hs_error_t e = hs_compile_multi(exprs, flags, ids, m, HS_MODE_BLOCK, NULL, &db, &err);
		if (e == HS_SUCCESS) {
			f->db = db;
			f->ndb = m;
			for (uint32_t i = 0; i < m; i++)
				rs->conds.v[ci[i]].how = HOW_HS;
			rc = 0;
			break;
		}
		int bad = err ? err->expression : -1;
		if (bad < 0 || (uint32_t)bad >= m) {
			/* not one pattern's fault: PCRE2 takes them all */
			for (uint32_t i = 0; i < m; i++) {
				struct cond *c = &rs->conds.v[ci[i]];
				c->how = HOW_FALLBACK;
				diag_at(d, c->file, c->line, c->col, "warning", NULL,
					"Hyperscan could not build the database for \"%s\" (%s); PCRE2 evaluates this pattern on every message",
					f->key, err ? err->message : "?");
			}
			hs_free_compile_error(err);
			rc = 0;
			break;
		}
		struct cond *c = &rs->conds.v[ci[bad]];
		c->how = HOW_FALLBACK;
		diag_at(d, c->file, c->line, c->col, "warning", NULL,
			"Hyperscan refused pattern \"%s\" (%s); PCRE2 evaluates it on every message",
			c->re, err->message);
		hs_free_compile_error(err);
		ci[bad] = ci[--m];
	}
out:
	free(exprs);
	free(flags);
	free(ids);
	free(ci);
	return rc;
}

static struct sw_rules_scratch *
scratch_new(struct sw_ruleset *rs)
{
	struct sw_rules_scratch *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->rs = rs;
	uint32_t nf = rs->fields.n ? rs->fields.n : 1;
	s->vp = calloc(nf, sizeof(*s->vp));
	s->vl = calloc(nf, sizeof(*s->vl));
	s->vs = calloc(nf, 1);
	s->md = pcre2_match_data_create(SCR_MAX_CAPS + 1, NULL);
	s->hits = calloc(rs->rules.n + 1, sizeof(*s->hits));
	if (!s->vp || !s->vl || !s->vs || !s->md || !s->hits)
		goto fail;
	if (rs->hs_proto && hs_clone_scratch(rs->hs_proto, &s->hs) != HS_SUCCESS)
		goto fail;
	return s;
fail:
	pcre2_match_data_free(s->md);
	free(s->vp);
	free(s->vl);
	free(s->vs);
	free(s->hits);
	free(s);
	return NULL;
}

/* Scratch for explain and tests on the control thread; freed with scratch_del. */
struct sw_rules_scratch *rules_scratch_new(struct sw_ruleset *rs);
void rules_scratch_del(struct sw_rules_scratch *s);

struct sw_rules_scratch *
rules_scratch_new(struct sw_ruleset *rs)
{
	return scratch_new(rs);
}

void
rules_scratch_del(struct sw_rules_scratch *s)
{
	if (s == NULL)
		return;
	hs_free_scratch(s->hs);
	pcre2_match_data_free(s->md);
	free(s->vp);
	free(s->vl);
	free(s->vs);
	free(s->hits);
	free(s);
}

static int
cmp_pat(const void *a, const void *b)
{
	const struct ars_pat *x = a, *y = b;
	if (x->out != y->out)
		return x->out ? 1 : -1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void
hash_file(struct sha256_ctx *h, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return;
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sha256_update(h, buf, n);
	fclose(f);
}

static size_t
mem_estimate(struct sw_ruleset *rs)
{
	size_t m = sizeof(*rs);
	m += rs->rules.cap * sizeof(struct rule) + rs->conds.cap * sizeof(struct cond) +
	     rs->subconds.cap * sizeof(struct cond) + rs->deps.cap * sizeof(struct deploy) +
	     rs->fields.cap * sizeof(struct field);
	for (uint32_t i = 0; i < rs->rules.n; i++)
		m += strlen(rs->rules.v[i].name) + 1 + (rs->rules.v[i].desc ? strlen(rs->rules.v[i].desc) + 1 : 0);
	for (uint32_t i = 0; i < rs->conds.n; i++) {
		struct cond *c = &rs->conds.v[i];
		m += strlen(c->re) + 1;
		if (c->code) {
			size_t sz = 0;
			pcre2_pattern_info(c->code, PCRE2_INFO_SIZE, &sz);
			m += sz;
			sz = 0;
			pcre2_pattern_info(c->code, PCRE2_INFO_JITSIZE, &sz);
			m += sz;
		}
		for (uint32_t k = 0; k < c->nvars; k++)
			m += sizeof(struct trie_var) + c->vars[k].plen + 1;
	}
	for (uint32_t i = 0; i < rs->deps.n; i++)
		m += (rs->deps.v[i].name ? strlen(rs->deps.v[i].name) + 1 : 0) +
		     strlen(rs->deps.v[i].value) + 1;
	m += rs->hot_len;
	for (uint32_t i = 0; i < rs->fields.n; i++) {
		struct field *f = &rs->fields.v[i];
		size_t sz = 0;
		if (f->db && hs_database_size(f->db, &sz) == HS_SUCCESS)
			m += sz;
		m += trie_mem(f->trie);
	}
	m += rs->nalways * 4;
	size_t ss = 0;
	if (rs->hs_proto && hs_scratch_size(rs->hs_proto, &ss) == HS_SUCCESS)
		m += ss * (rs->nb_workers + 1);
	m += rs->nb_workers * (sizeof(struct sw_rules_scratch) + rs->rules.n * 8 +
			       rs->fields.n * (sizeof(char *) + 3));
	return m;
}

struct sw_ruleset *
sw_ruleset_compile(const struct sw_rules_src *src, struct sw_diag *diag)
{
	uint64_t t0 = now_ns();
	struct sw_diag local;
	if (diag == NULL) {
		sw_diag_init(&local);
		diag = &local;
	}
	unsigned errs0 = diag->errors;
	struct sw_ruleset *rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		return NULL;
	rs->flags = src->flags;
	rs->nb_workers = src->nb_workers ? src->nb_workers : 1;
	struct parse_ctx pc = {.rs = rs, .d = diag};

	/* gateways first: routes and $target name them */
	if (src->gateways)
		gateways_parse_file(&pc, src->gateways);
	if (src->ars)
		ars_parse_file(&pc, src->ars);
	if (src->dialplan)
		dialplan_parse_file(&pc, src->dialplan, NULL, 0);
	if (diag->errors != errs0)
		goto fail;

	/* preliminary rules run first (DIALPLAN §1), order kept within each stage */
	{
		struct rule *nr = malloc(sizeof(*nr) * (rs->rules.n + 1));
		if (nr == NULL)
			goto fail;
		uint32_t k = 0;
		for (int pass = 0; pass < 2; pass++)
			for (uint32_t i = 0; i < rs->rules.n; i++)
				if (rs->rules.v[i].prelim == (pass == 0))
					nr[k++] = rs->rules.v[i];
		if (rs->rules.n > 0)
			memcpy(rs->rules.v, nr, sizeof(*nr) * rs->rules.n);
		free(nr);
	}
	for (uint32_t i = 0; i < rs->rules.n; i++) {
		struct rule *r = &rs->rules.v[i];
		unsigned cap = 0;
		for (uint32_t k = 0; k < r->ncond; k++) {
			struct cond *c = &rs->conds.v[r->cond0 + k];
			c->rule = i;
			c->cap_base = (uint8_t)(cap < 255 ? cap : 255);
			cap += c->ncap;
		}
		r->ncap = (uint8_t)(cap < 255 ? cap : 255);
		if (cap > rs->maxcap)
			rs->maxcap = cap;
		if (cap > SCR_MAX_CAPS)
			diag_at(diag, r->file, r->line, 0, "warning", NULL,
				"rule \"%s\" has %u capture groups; only %%1..%%{%d} are kept", r->name,
				cap, SCR_MAX_CAPS);
	}
	/* ARS patterns: captures numbered per pattern */
	ars_assign_ids(rs);
	if (rs->pats.n > 0)
		qsort(rs->pats.v, rs->pats.n, sizeof(*rs->pats.v), cmp_pat);
	if (ars_index_ids(rs, diag) != 0)
		goto fail;
	for (uint32_t i = 0; i < rs->pats.n; i++) {
		struct ars_pat *p = &rs->pats.v[i];
		if (!p->out)
			rs->nin++;
		else
			rs->nout++;
		unsigned cap = 0;
		for (uint32_t k = 0; k < p->ncond; k++) {
			struct cond *c = &rs->conds.v[p->cond0 + k];
			c->rule = UINT32_MAX;
			c->cap_base = (uint8_t)cap;
			cap += c->ncap;
		}
	}

	/* primaries */
	bool use_scan = !(rs->flags & SW_RULES_NO_HS);
	bool use_trie = use_scan && !(rs->flags & SW_RULES_NO_TRIE);
	for (uint32_t i = 0; i < rs->rules.n && use_scan; i++) {
		struct rule *r = &rs->rules.v[i];
		r->primary = -1;
		if (r->disabled)
			continue;
		int best = -1;
		size_t best_len = 0;
		for (uint32_t k = 0; k < r->ncond; k++) {
			struct cond *c = &rs->conds.v[r->cond0 + k];
			if (c->neg || !rs->fields.v[c->field].scannable)
				continue;
			if (use_trie) {
				struct trie_var *v = NULL;
				int nv = trie_expand(c->re, i, &v, &rs->classes, &rs->nclasses);
				if (nv > 0) {
					c->vars = v;
					c->nvars = (uint32_t)nv;
					c->how = HOW_TRIE;
					best = (int)k;
					break;
				}
			}
			size_t l = strlen(c->re);
			if (best < 0 || l > best_len) {
				best = (int)k;
				best_len = l;
			}
		}
		if (best >= 0) {
			r->primary = (int32_t)(r->cond0 + (uint32_t)best);
			rs->conds.v[r->primary].primary = true;
		}
	}
	if (hot_build(rs) < 0) {
		diag_at(diag, NULL, 0, 0, "error", NULL,
			"rule records not built (out of memory, or a rule with over 65535 deploy lines)");
		goto fail;
	}
	/*
	 * A trie hit names its rule's record; when the pattern is the rule's
	 * only condition the hit is the match, and nothing else of the rule is
	 * read before its deploy.
	 */
	for (uint32_t i = 0; i < rs->rules.n; i++) {
		struct rule *r = &rs->rules.v[i];
		if (r->primary < 0 || rs->conds.v[r->primary].how != HOW_TRIE)
			continue;
		struct cond *c = &rs->conds.v[r->primary];
		for (uint32_t k = 0; k < c->nvars; k++) {
			c->vars[k].hot = r->hot;
			c->vars[k].rcap = r->ncap;
			c->vars[k].sole = r->ncond == 1 && !c->neg && !c->arsvar &&
					  c->cap_base == 0 && c->ncap == r->ncap;
		}
	}
	/* per field: trie + database */
	{
		uint32_t nf = rs->fields.n;
		uint32_t *cnt_t = calloc(nf + 1, sizeof(uint32_t)), *cnt_h = calloc(nf + 1, sizeof(uint32_t));
		rs->scan_fields = calloc(nf + 1, sizeof(uint32_t));
		if (!cnt_t || !cnt_h || !rs->scan_fields) {
			free(cnt_t);
			free(cnt_h);
			goto fail;
		}
		for (uint32_t i = 0; i < rs->rules.n; i++) {
			struct rule *r = &rs->rules.v[i];
			if (r->primary < 0)
				continue;
			struct cond *c = &rs->conds.v[r->primary];
			if (c->how == HOW_TRIE)
				cnt_t[c->field] += c->nvars;
			else
				cnt_h[c->field]++;
		}
		for (uint32_t fi = 0; fi < nf; fi++) {
			if (cnt_t[fi] == 0 && cnt_h[fi] == 0)
				continue;
			struct field *f = &rs->fields.v[fi];
			if (cnt_t[fi]) {
				struct trie_var **vv = malloc(sizeof(*vv) * cnt_t[fi]);
				uint32_t n = 0;
				for (uint32_t i = 0; vv && i < rs->rules.n; i++) {
					struct rule *r = &rs->rules.v[i];
					if (r->primary < 0)
						continue;
					struct cond *c = &rs->conds.v[r->primary];
					if (c->field == fi && c->how == HOW_TRIE)
						for (uint32_t k = 0; k < c->nvars; k++)
							vv[n++] = &c->vars[k];
				}
				f->trie = vv ? trie_build(vv, n, rs->classes, rs->nclasses) : NULL;
				free(vv);
				if (f->trie == NULL) {
					/* shape too wide for the trie: Hyperscan takes them */
					for (uint32_t i = 0; i < rs->rules.n; i++) {
						struct rule *r = &rs->rules.v[i];
						if (r->primary >= 0 && rs->conds.v[r->primary].field == fi &&
						    rs->conds.v[r->primary].how == HOW_TRIE) {
							rs->conds.v[r->primary].how = HOW_PCRE;
							cnt_h[fi]++;
						}
					}
				}
			}
			if (cnt_h[fi]) {
				uint32_t *ci = malloc(sizeof(*ci) * cnt_h[fi]);
				uint32_t n = 0;
				for (uint32_t i = 0; ci && i < rs->rules.n; i++) {
					struct rule *r = &rs->rules.v[i];
					if (r->primary >= 0 && rs->conds.v[r->primary].field == fi &&
					    rs->conds.v[r->primary].how != HOW_TRIE)
						ci[n++] = (uint32_t)r->primary;
				}
				if (ci == NULL || build_db(rs, fi, ci, n, diag) < 0) {
					free(ci);
					free(cnt_t);
					free(cnt_h);
					goto fail;
				}
				free(ci);
				if (f->db) {
					hs_error_t e = hs_alloc_scratch(f->db, &rs->hs_proto);
					if (e != HS_SUCCESS) {
						diag_at(diag, NULL, 0, 0, "error", NULL,
							"hs_alloc_scratch failed (%d)", e);
						free(cnt_t);
						free(cnt_h);
						goto fail;
					}
				}
			}
			if (f->trie || f->db)
				rs->scan_fields[rs->nscan++] = fi;
		}
		free(cnt_t);
		free(cnt_h);
	}
	/* PCRE2 for what must run at match time */
	for (uint32_t i = 0; i < rs->conds.n; i++) {
		struct cond *c = &rs->conds.v[i];
		if (c->how == HOW_TRIE && c->primary)
			continue;
		if (c->vars && !c->primary) {
			trie_vars_free(c->vars, c->nvars);
			c->vars = NULL;
			c->nvars = 0;
		}
		if (pcre_for(rs, c, diag) < 0)
			goto fail;
	}
	for (uint32_t i = 0; i < rs->subconds.n; i++)
		if (pcre_for(rs, &rs->subconds.v[i], diag) < 0)
			goto fail;
	/* rules every message tries */
	rs->always = malloc(sizeof(uint32_t) * (rs->rules.n + 1));
	if (rs->always == NULL)
		goto fail;
	for (uint32_t i = 0; i < rs->rules.n; i++) {
		struct rule *r = &rs->rules.v[i];
		if (r->disabled)
			continue;
		if (r->primary < 0 || rs->conds.v[r->primary].how == HOW_FALLBACK ||
		    rs->conds.v[r->primary].how == HOW_PCRE)
			rs->always[rs->nalways++] = i;
	}
	if (!use_scan) {
		rs->nalways = 0;
		for (uint32_t i = 0; i < rs->rules.n; i++)
			rs->always[rs->nalways++] = i;
	}
	/* local time zone read here, on the control thread, never first on a worker */
	for (uint32_t i = 0; i < rs->fields.n; i++) {
		uint8_t k = rs->fields.v[i].kind;
		if ((k == FK_DATE || k == FK_TIME || k == FK_TIMERANGE) && rs->fields.v[i].tz == NULL)
			(void)tz_offset(NULL, 0);
	}
	/* ARS without a dial plan: every request goes through ARS */
	rs->ars_default = rs->rules.n == 0 && rs->pats.n > 0;
	/* scratch, one per worker */
	rs->scratch = calloc(rs->nb_workers, sizeof(*rs->scratch));
	rs->hits = NULL;
	if (rs->scratch == NULL)
		goto fail;
	for (unsigned w = 0; w < rs->nb_workers; w++)
		if ((rs->scratch[w] = scratch_new(rs)) == NULL) {
			diag_at(diag, NULL, 0, 0, "error", NULL, "out of memory for scratch");
			goto fail;
		}
	/* info */
	{
		struct sw_ruleset_info *in = &rs->info;
		in->rules = rs->rules.n;
		in->routes = rs->routes.n;
		in->gateways = rs->gws.n;
		in->ars_patterns = rs->pats.n;
		for (uint32_t i = 0; i < rs->rules.n; i++) {
			struct rule *r = &rs->rules.v[i];
			if (r->primary < 0)
				continue;
			uint8_t how = rs->conds.v[r->primary].how;
			if (how == HOW_TRIE)
				in->trie_patterns++;
			else if (how == HOW_HS)
				in->hs_patterns++;
			else
				in->pcre_only++;
		}
		struct sha256_ctx h;
		sha256_init(&h);
		for (uint32_t i = 0; i < rs->files.n; i++)
			hash_file(&h, rs->files.v[i]);
		sha256_final(&h, in->sha256);
		in->mem_bytes = mem_estimate(rs);
		in->build_ns = now_ns() - t0;
	}
	if (diag == &local)
		sw_diag_free(&local);
	return rs;
fail:
	if (diag->errors == errs0)
		diag_at(diag, NULL, 0, 0, "error", NULL, "ruleset not built");
	sw_ruleset_free(rs);
	if (diag == &local)
		sw_diag_free(&local);
	return NULL;
}

struct sw_rules_scratch *
sw_ruleset_scratch(const struct sw_ruleset *rs, unsigned w)
{
	if (rs == NULL || w >= rs->nb_workers)
		return NULL;
	return rs->scratch[w];
}

void
sw_ruleset_get_info(const struct sw_ruleset *rs, struct sw_ruleset_info *info)
{
	if (rs == NULL) {
		memset(info, 0, sizeof(*info));
		return;
	}
	*info = rs->info;
}

uint64_t
sw_ruleset_rule_hits(const struct sw_ruleset *rs, unsigned idx)
{
	if (rs == NULL || idx >= rs->rules.n)
		return 0;
	/* What earlier rulesets counted for this rule (sw_ruleset_carry_hits), plus ours. */
	uint64_t n = rs->hits != NULL ? rs->hits[idx] : 0;
	for (unsigned w = 0; w < rs->nb_workers; w++)
		n += rs->scratch[w]->hits[idx];
	return n;
}

const char *
sw_ruleset_rule_name(const struct sw_ruleset *rs, unsigned idx, const char **file, unsigned *line)
{
	if (rs == NULL || idx >= rs->rules.n)
		return NULL;
	if (file)
		*file = rs->rules.v[idx].file;
	if (line)
		*line = rs->rules.v[idx].line;
	return rs->rules.v[idx].name;
}

unsigned
sw_ruleset_gateway_count(const struct sw_ruleset *rs)
{
	return rs ? rs->gws.n : 0;
}

const struct sw_gateway_info *
sw_ruleset_gateway(const struct sw_ruleset *rs, unsigned i)
{
	return rs && i < rs->gws.n ? &rs->gws.v[i].info : NULL;
}

const char *
sw_ruleset_route_name(const struct sw_ruleset *rs, unsigned idx)
{
	return rs && idx < rs->routes.n ? rs->routes.v[idx].name : NULL;
}
