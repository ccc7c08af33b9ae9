/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to rules/; do not include from another folder.
 *
 * The AST the parsers build (rules, conditions, deploy patterns, ARS routes,
 * gateways) and the compiled tables the matcher reads. One struct sw_ruleset
 * owns all of it; after sw_ruleset_compile() returns nothing in it changes
 * except the per-rule hit counters and the per-worker scratch.
 */
#ifndef SW_RULES_PVT_H
#define SW_RULES_PVT_H

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <pcre2.h>

#include "rules/ruleset.h"

/* Drop white space at both ends of [*s, *s + *l) (both file parsers). */
static inline void
trim(const char **s, size_t *l)
{
	while (*l && isspace((unsigned char)**s))
		(*s)++, (*l)--;
	while (*l && isspace((unsigned char)(*s)[*l - 1]))
		(*l)--;
}

/* ------------------------------------------------------------------------ */
/* Growable arrays and a string arena for the builders                      */
/* ------------------------------------------------------------------------ */

#define VEC(T)                                                                                     \
	struct {                                                                                   \
		T *v;                                                                              \
		uint32_t n, cap;                                                                   \
	}
/* Append one zeroed slot and return a pointer to it; NULL on ENOMEM. */
#define VEC_PUSH(vec) ((vec)->n < (vec)->cap || vec_grow((void **)&(vec)->v, &(vec)->cap, sizeof(*(vec)->v)) == 0 ? memset(&(vec)->v[(vec)->n++], 0, sizeof(*(vec)->v)) : NULL)
int vec_grow(void **v, uint32_t *cap, size_t elt);

char *xstrndup(const char *s, size_t n);

/* ------------------------------------------------------------------------ */
/* Fields: what a condition's left side reads                              */
/* ------------------------------------------------------------------------ */

enum fkind {
	FK_HDR = 0,    /* any header by name */
	FK_REQUEST,    /* the request line */
	FK_METHOD,
	FK_RURI,
	FK_RUSER,
	FK_RHOST,
	FK_GETURI,     /* $geturi(Header) */
	FK_PARAM,      /* $param(Header,"name") / $headerParam */
	FK_URIPARAM,   /* $uriParam(Header,"name") */
	FK_ADDR,
	FK_ADDRPREFIX, /* bool */
	FK_ADDRRANGE,  /* bool */
	FK_ADDRTYPE,
	FK_PORT,
	FK_TRANSPORT,
	FK_LOCALHOST,
	FK_LOCALHOST_URI, /* $localhost(Header) */
	FK_DATE,
	FK_TIME,
	FK_TIMERANGE,  /* bool */
	FK_AND,        /* bool */
	FK_OR,         /* bool */
	FK_ENV,        /* &name */
	FK_PROP,       /* ARS call property (prop plugin) */
	FK__COUNT
};

struct tz_info; /* timerange.c */

struct field {
	uint8_t kind;
	uint8_t htype;      /* enum sw_hdr_type of hname (SW_HDR_OTHER by name) */
	bool scannable;     /* a text field worth a Hyperscan database / trie */
	char *key;          /* canonical text: dedupe, explain */
	char *hname;        /* header name (FK_HDR, FK_GETURI, FK_PARAM ...) */
	char *pname;        /* parameter / env / property name */
	struct sw_addr a1, a2;
	uint8_t plen;
	int16_t tr_begin, tr_end; /* minutes of the day */
	struct tz_info *tz;
	uint32_t sub0, nsub; /* FK_AND/FK_OR: sub-conditions in rs->subconds */

	/* per-field matchers built by the compiler */
	hs_database_t *db;
	struct trie *trie;
	uint32_t *db_ids;   /* Hyperscan expression id -> rule index */
	uint32_t ndb;
};

enum cond_how {
	HOW_PCRE = 0, /* PCRE2 evaluates it */
	HOW_HS,       /* primary, decided by the field's Hyperscan database */
	HOW_TRIE,     /* primary, decided by the field's prefix trie */
	HOW_FALLBACK, /* primary candidate Hyperscan refused: PCRE2 on every message */
};

struct cond {
	uint32_t field;
	uint32_t rule;
	bool neg;
	bool primary;
	uint8_t how;    /* enum cond_how */
	uint8_t ncap;   /* capture groups in re */
	uint8_t cap_base; /* %n of its first group minus one */
	char arsvar;    /* ARS: captures also go to &t1.. ('t'), &f1.. ('f'), &p1.. ('p') */
	uint8_t arsbase; /* ARS plugin captures: number of the first &pN minus one */
	char *re;       /* the pattern without its leading '!' */
	pcre2_code *code; /* NULL for trie primaries (captures come from the trie) */
	struct trie_var *vars; /* HOW_TRIE: the expansions, for linear checks */
	uint32_t nvars;
	const char *file;
	uint32_t line, col;
};

enum dkind {
	DK_HDR = 0,  /* set, or remove when the value is empty */
	DK_HDR_ADD,
	DK_TO,
	DK_RURI,
	DK_TARGET,
	DK_ACTION,
	DK_RESPONSE,
	DK_CONTINUE,
	DK_RECORDROUTE,
	DK_AUTH,
	DK_ARS,
	DK_ENV,      /* &name = value */
	DK_CUSTOM,   /* ARS: Custom: &prop=value */
	DK_ARS_FROM, /* ARS: From: user part of the From URI */
	DK_ARS_TO,   /* ARS: To: user part of the Request-URI (and To URI) */
};

struct deploy {
	uint8_t kind;
	uint8_t htype;
	bool has_vars; /* value has %n / &name: expanded at match time */
	char *name;
	char *value;
	uint32_t vlen;
	const char *file;
	uint32_t line, col;
};

struct rule {
	char *name;
	char *desc;
	const char *file;
	uint32_t line;
	bool prelim;
	bool disabled;
	uint32_t cond0, ncond;
	uint32_t dep0, ndep;
	uint8_t ncap;     /* captures across its conditions */
	int32_t primary;  /* cond index, -1: always a candidate */
	uint32_t hot;     /* its record in rs->hot */
};

/*
 * What a worker reads of a rule once it has won, packed at compile time into
 * one arena (rs->hot) in rule order: the number of deploy ops, then one op
 * per deploy line with its pieces, pre-resolved targets, name and text
 * inline, in 16-bit fields. A typical rule (a %1 Request-URI and a $target)
 * takes 50-60 bytes, placed so that it crosses no more cache lines than
 * its size needs; a hit reads one or two lines instead of the rule, its
 * deploy array and a malloc'd string per deploy scattered over the heap.
 */
struct rhot {
	uint16_t ndep;
	/* then ndep struct dop, each 2-byte aligned */
};

enum dop_mode {
	DOP_LIT = 0, /* the value is literal text */
	DOP_VARS,    /* n pieces (struct seg) expand %n / &name */
	DOP_TGT,     /* $target list split at compile time: n items (struct dtgt) */
	DOP_SLOW,    /* too big for 16-bit fields: the deploy (index after the header) as parsed */
};

struct dop {
	uint16_t size; /* bytes to the next op (even) */
	uint16_t vlen; /* DOP_LIT: value length */
	uint8_t kind;  /* enum dkind */
	uint8_t mode;  /* enum dop_mode */
	uint8_t n;     /* pieces or targets */
	uint8_t nlen;  /* name length (0: none); the name follows the pieces, NUL terminated */
	/* then struct seg[n] | struct dtgt[n] | uint32_t deploy index; name; text */
};

/*
 * A piece of a deploy value: literal text, capture %n, or variable &name.
 * The texts of the literals and of the variables ('&' and name) follow the
 * op's name one after another, in piece order.
 */
struct seg {
	uint16_t kn; /* kind << 14 | n: kind 0 literal, 1 capture, 2 variable;
			n: length (literal, variable name) or capture number */
};
#define SEG_N_MAX 0x3fff

/* One item of a $target list without variables, resolved at compile time; texts in order. */
struct dtgt {
	int16_t gw;   /* gateway index, -1: the text is host[:port][;transport=x] */
	uint16_t len; /* trimmed text */
};

/* Where an op's name starts (after its pieces or targets); its text follows the name. */
static inline uint32_t
dop_name_off(const struct dop *d)
{
	return (uint32_t)sizeof(*d) + (d->mode == DOP_VARS ? d->n * (uint32_t)sizeof(struct seg)
				       : d->mode == DOP_TGT ? d->n * (uint32_t)sizeof(struct dtgt)
				       : d->mode == DOP_SLOW ? (uint32_t)sizeof(uint32_t) : 0);
}

/* An op's text: after its name and the name's NUL. */
static inline const char *
dop_text(const struct dop *d)
{
	return (const char *)d + dop_name_off(d) + (d->nlen ? d->nlen + 1u : 0u);
}

/*
 * The next piece of deploy value v[*at..n): a literal run (kind 0, text at
 * off), %n / %{n} (kind 1, number in num) or &name (kind 2, name at off).
 * Returns false at the end. v[n] must be NUL (%{n} is read with strtoul).
 * Compile time builds the ops with it; the matcher uses it only for
 * DOP_SLOW values.
 */
struct piece {
	uint8_t kind;
	uint32_t off, len, num;
};
static inline bool
piece_next(const char *v, size_t n, size_t *at, struct piece *pc)
{
	size_t st = *at;
	for (size_t i = st; i < n; i++) {
		size_t adv = 0;
		struct piece sp = {0, 0, 0, 0};
		if (v[i] == '%' && i + 1 < n && isdigit((unsigned char)v[i + 1])) {
			sp = (struct piece){1, 0, 0, (uint32_t)(v[i + 1] - '0')};
			adv = 2;
		} else if (v[i] == '%' && i + 1 < n && v[i + 1] == '{') {
			char *e;
			unsigned long c = strtoul(v + i + 2, &e, 10);
			if (*e == '}' && e > v + i + 2) {
				sp = (struct piece){1, 0, 0, (uint32_t)(c > 65535 ? 65535 : c)};
				adv = (size_t)(e + 1 - (v + i));
			}
		} else if (v[i] == '&' && i + 1 < n && isalpha((unsigned char)v[i + 1])) {
			size_t e = i + 1;
			while (e < n && (isalnum((unsigned char)v[e]) || v[e] == '_' || v[e] == '.'))
				e++;
			sp = (struct piece){2, (uint32_t)(i + 1), (uint32_t)(e - i - 1), 0};
			adv = e - i;
		}
		if (adv == 0)
			continue;
		if (i > st) {
			*pc = (struct piece){0, (uint32_t)st, (uint32_t)(i - st), 0};
			*at = i;
		} else {
			*pc = sp;
			*at = i + adv;
		}
		return true;
	}
	if (st >= n)
		return false;
	*pc = (struct piece){0, (uint32_t)st, (uint32_t)(n - st), 0};
	*at = n;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Prefix trie (trie.c)                                                     */
/* ------------------------------------------------------------------------ */

#define TRIE_MAX_CAPS 4
#define TRIE_INF 0xffff

/* One expansion of a prefix-and-length pattern: ^prefix tail{min,max}$. */
struct trie_var {
	char *prefix;
	uint16_t plen;
	uint8_t tclass;          /* index in trie class table */
	uint16_t tmin, tmax;     /* TRIE_INF: unbounded */
	uint8_t ncap;
	int16_t cap[TRIE_MAX_CAPS][2]; /* start, end offsets; end -1 = end of value */
	uint32_t rule;
	uint32_t hot;   /* the rule's record in rs->hot */
	uint8_t rcap;   /* the rule's captures */
	bool sole;      /* this pattern is the rule's only condition: a hit is a match */
};

/* A class: 256-bit set. */
struct trie_class {
	uint64_t bits[4];
};

/*
 * Try to read pattern re as a union of prefix-and-length expansions.
 * Returns the number of variants (> 0) into *out (malloc'd), 0 when the
 * pattern is not of that shape. classes is the ruleset's class table.
 */
int trie_expand(const char *re, uint32_t rule, struct trie_var **out, struct trie_class **classes,
		uint32_t *nclasses);
void trie_vars_free(struct trie_var *v, uint32_t n);
/* Does value match variant v? Captures into cap[][2] when it does. */
bool trie_var_match(const struct trie_var *v, const struct trie_class *classes, const char *s,
		    size_t len);

/* A rule found by a trie walk, with what verifying it needs (no var load). */
struct trie_hit {
	uint32_t rule;
	uint32_t hot;     /* the rule's record in rs->hot */
	int16_t c0s, c0e; /* first capture when ncap <= 1 */
	uint8_t ncap;
	uint8_t rcap;     /* the rule's captures (sole) */
	bool sole;        /* the pattern is the rule's only condition */
	bool trie;        /* found by the trie (else a Hyperscan candidate) */
	uint16_t vl;      /* the value walked (sole: the captures point into it) */
	const char *vp;
	const struct trie_var *var; /* its variant when ncap > 1 (captures), else may be NULL */
};
struct trie *trie_build(struct trie_var **vars, uint32_t nvars, const struct trie_class *classes,
			 uint32_t nclasses);
void trie_free(struct trie *t);
size_t trie_mem(const struct trie *t);
/* All rules >= min_rule whose variant matches s; returns count written (<= max) or -1 on overflow. */
int trie_lookup(const struct trie *t, const struct trie_class *classes, const char *s, size_t len,
		uint32_t min_rule, struct trie_hit *hits, int max);
/*
 * trie_lookup() with min_rule 0 of n values (n <= TRIE_BULK_MAX) at once:
 * value i's hits in hits[i * max ...], count[i] of them (-1: more than
 * max). hot: the ruleset's records, prefetched for each hit.
 */
#define TRIE_BULK_MAX 32
void trie_lookup_bulk(const struct trie *t, const struct trie_class *classes, const char *const *s,
		      const uint16_t *len, unsigned n, const uint8_t *hot, struct trie_hit *hits,
		      int max, int *count);

/* ------------------------------------------------------------------------ */
/* ARS and gateways                                                         */
/* ------------------------------------------------------------------------ */

struct ars_pat {
	uint32_t route;
	bool out;      /* Pattern OUT (else IN) */
	bool disabled;
	int priority;
	int max_sessions;
	int cps;
	uint32_t cond0, ncond;  /* conditions in rs->conds (fields From/To URIs, header, prop) */
	uint32_t dep0, ndep;
	const char *file;
	uint32_t line;
	uint32_t order;
	/* Call counting (ars_state.c): OUT patterns with a Max Sessions or CPS cap */
	uint16_t ordinal; /* 1-based: the nth Pattern OUT of its route, in file order */
	uint32_t id;      /* stable id: hash of route name and ordinal; 0 = uncapped */
	int32_t slot;     /* counter slot in the bound sw_ars_state, -1 none */
	uint32_t hot;     /* its deploy record in rs->hot */
};

/* Wire id of a Max Sessions pattern -> its index in pats (sorted by id). */
struct ars_id {
	uint32_t id;
	uint32_t pat;
};

struct ars_route {
	char *name;
	char *desc;
	bool disabled;
	char *gateway;   /* name, resolved to gw index */
	int32_t gw;
	char *target;    /* host[:port] when no gateway */
	char *reg_uri, *proxy, *user, *password;
	int reg_expire, update_pct;
	const char *file;
	uint32_t line;
};

struct gateway {
	struct sw_gateway_info info;
	char *strs[16];
};

/* ------------------------------------------------------------------------ */
/* The ruleset                                                              */
/* ------------------------------------------------------------------------ */

struct sw_rules_scratch;

struct sw_ruleset {
	VEC(struct rule) rules;
	VEC(struct cond) conds;
	VEC(struct cond) subconds;   /* $and/$or members */
	VEC(struct deploy) deps;
	VEC(struct field) fields;
	VEC(struct ars_route) routes;
	VEC(struct ars_pat) pats;    /* sorted by (out, priority, order) after compile */
	VEC(struct gateway) gws;
	VEC(char *) files;           /* file names, owned */

	struct trie_class *classes;
	uint32_t nclasses;

	uint8_t *hot;                /* struct rhot records: rules in order, then ARS patterns */
	size_t hot_len;

	uint32_t *always;            /* enabled rules with no primary, sorted */
	uint32_t nalways;
	uint32_t *scan_fields;       /* fields with a db or trie */
	uint32_t nscan;
	uint32_t nin, nout;          /* ARS IN patterns first in pats, then OUT */
	struct ars_id *ars_ids;      /* Max Sessions patterns by wire id, sorted */
	uint32_t nars_ids;
	bool ars_default;            /* no dial plan: every request goes through ARS */
	uint32_t maxcap;             /* most captures of a rule */
	unsigned flags;

	unsigned nb_workers;
	struct sw_rules_scratch **scratch;
	hs_scratch_t *hs_proto;

	uint64_t *hits;
	struct sw_ruleset_info info;
};

/* Scratch: one per worker, owned by the ruleset. */
#define SCR_MAX_CAND 512
#define SCR_PRE_HITS 8 /* trie hits kept per prepared message; more: it walks again */
#define SCR_TEXT 2048
#define SCR_MAX_CAPS 32
#define SCR_MAX_ENV 16



struct sw_rules_scratch {
	hs_scratch_t *hs;
	pcre2_match_data *md;
	const struct sw_ruleset *rs;
	/* per match */
	struct trie_hit cand[SCR_MAX_CAND];
	int ncand;
	bool overflow;
	uint32_t min_rule;
	uint32_t cur_field;
	const char **vp;  /* value per field */
	uint16_t *vl;
	uint8_t *vs;      /* 0 unknown, 1 present, 2 absent */
	char text[SCR_TEXT];
	uint32_t textn;
	const char *cap[SCR_MAX_CAPS];
	uint16_t capl[SCR_MAX_CAPS];
	uint8_t ncap;
	struct {
		const char *name;
		uint16_t off, len; /* in env_buf */
	} env[SCR_MAX_ENV];
	uint8_t nenv;
	char env_buf[512];
	uint16_t env_used;
	uint64_t *hits;   /* per rule: this worker's share of the hit counters */
	/* sw_ruleset_match_prepare(): the walks of a burst's Request-URI users */
	uint32_t pre_field; /* the field walked */
	uint16_t npre;
	struct scr_pre {
		const char *vp; /* the value walked */
		uint16_t vl;
		int16_t n; /* hits in pre_hit[i], or < 0: none to take */
	} pre[TRIE_BULK_MAX];
	struct trie_hit pre_hit[TRIE_BULK_MAX][SCR_PRE_HITS];
};

/* diag helper: file:line:col with the echoed source line (sw_diag_add, ruleset.h) */
#define diag_at sw_diag_add

/* Parsers fill rs (rules, conds, deploys, fields ...) and report into d. */
struct parse_ctx {
	struct sw_ruleset *rs;
	struct sw_diag *d;
	unsigned depth; /* include depth */
	const char *incstack[16];
};
int dialplan_parse_file(struct parse_ctx *pc, const char *path, const char *from_file,
			uint32_t from_line);
int dialplan_parse_text(struct parse_ctx *pc, const char *file, const char *text, size_t len);
int ars_parse_file(struct parse_ctx *pc, const char *path);
int gateways_parse_file(struct parse_ctx *pc, const char *path);

/* Shared by the parsers: parse "left" into a field (interned); -1 on error (reason in err). */
int field_intern(struct sw_ruleset *rs, const char *left, size_t len, char *err, size_t errlen);
/* Parse "left = pattern" into a condition appended to vec (rs->conds or subconds). */
int cond_parse(struct parse_ctx *pc, bool sub, const char *file, uint32_t line, const char *srcline,
	       const char *left, size_t llen, uint32_t lcol, const char *val, size_t vlen,
	       uint32_t vcol);
int deploy_parse(struct parse_ctx *pc, bool ars, const char *file, uint32_t line,
		 const char *srcline, const char *left, size_t llen, uint32_t lcol, const char *val,
		 size_t vlen, uint32_t vcol, int ncap);
bool parse_bool(const char *v, size_t l, bool *out);
char *rules_read_file(const char *path, size_t *len);
const char *rules_keep_name(struct sw_ruleset *rs, const char *path);
int regex_ncaps(const char *re, char *err, size_t errlen, size_t *erroff);
int32_t gateway_find(const struct sw_ruleset *rs, const char *name, size_t len);
bool target_valid(const char *s, size_t len);
int hdr_type_of(const char *name, size_t len);

/* Time (timerange.c) */
struct tz_info *tz_load(const char *name);
void tz_free(struct tz_info *tz);
int32_t tz_offset(const struct tz_info *tz, int64_t t); /* seconds east of UTC */

/* Matching internals shared by match.c and explain.c */
struct mctx {
	const struct sw_ruleset *rs;
	struct sw_rules_scratch *s;
	const struct sw_match_in *in;
	struct sw_route_result *out;
	bool ruri_edited;
	bool nuri_parsed;
	struct sw_span new_ruri;
	struct sw_sip_uri nuri;
	bool ars;
};
int get_value(struct mctx *m, uint32_t fi, const char **p, uint16_t *l);
/* 1 holds, 0 fails; captures appended to the scratch when caps is true. */
int cond_eval(struct mctx *m, const struct cond *c, bool caps, const struct trie_hit *known);
int rule_apply(struct mctx *m, const struct rhot *h, bool *cont, bool *ars);

static inline const struct rhot *
rule_hot(const struct sw_ruleset *rs, uint32_t off)
{
	return (const struct rhot *)(rs->hot + off);
}

/* Pack the hot records (compile.c); 0 or -1 (ENOMEM). */
int hot_build(struct sw_ruleset *rs);
int ars_run(struct mctx *m);
void mctx_init(struct mctx *m, const struct sw_ruleset *rs, struct sw_rules_scratch *s,
	       const struct sw_match_in *in, struct sw_route_result *out);
void mctx_invalidate(struct mctx *m);

/* FNV-1a, 64 bits, from h (0xcbf29ce484222325 to start): rule digests, ARS ids (hits.c) */
uint64_t rules_fnv(uint64_t h, const void *p, size_t n);

/* ARS call counters (ars_state.c) */
void ars_assign_ids(struct sw_ruleset *rs);                  /* pats in file order */
int ars_index_ids(struct sw_ruleset *rs, struct sw_diag *d); /* pats sorted */
bool ars_cps_ok(struct sw_ars_state *st, int slot, uint32_t cap, int64_t now, bool take);

void sha256(const uint8_t *data, size_t len, uint8_t out[32]);
struct sha256_ctx {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	uint32_t n;
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[32]);

#endif /* SW_RULES_PVT_H */
