/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route every number of a workload through a compiled dial plan and check it.
 *
 *   wl_check DIALPLAN EXPECTED.tsv
 *       expected.tsv of ../shared/workload: rule_index and new Request-URI
 *   wl_check --naive RULES.tsv DIALPLAN NUMBERS.csv
 *       the expected result computed here by the naive evaluator: every
 *       rules.tsv line in order with PCRE2, first match (generated plans)
 *
 * Each number is sent as the user part of an INVITE Request-URI ('#' escaped
 * as %23, as a UA must). Prints build time, memory and the mean match time;
 * exit 0 only when every number routed as expected.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rules/ruleset.h"

struct item {
	char number[64];
	int rule;
	char expected[160];
	char *msg;
	size_t len;
	struct sw_sip_msg m;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
build_msg(struct item *it)
{
	char user[160];
	size_t k = 0;
	for (const char *p = it->number; *p && k + 4 < sizeof(user); p++) {
		if (*p == '#' || *p == '%' || *p == ' ') {
			k += (size_t)snprintf(user + k, 4, "%%%02X", (unsigned char)*p);
		} else
			user[k++] = *p;
	}
	user[k] = 0;
	it->msg = malloc(1024);
	it->len = (size_t)snprintf(it->msg, 1024,
				   "INVITE sip:%s@sipwarp.test SIP/2.0\r\n"
				   "Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK-wl\r\n"
				   "Max-Forwards: 70\r\n"
				   "To: <sip:%s@sipwarp.test>\r\n"
				   "From: <sip:caller@198.18.0.2>;tag=1\r\n"
				   "Call-ID: wl@198.18.0.2\r\n"
				   "CSeq: 1 INVITE\r\n"
				   "Content-Length: 0\r\n\r\n",
				   user, user);
	return sw_sip_parse(&it->m, it->msg, it->len) == SW_SIP_OK ? 0 : -1;
}

/* naive: rules.tsv with PCRE2 (JIT), first match; expected = repl with \1 */
struct nrule {
	pcre2_code *match, *subst;
	char repl[160];
};

static int
load_naive(const char *path, struct nrule **out)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char line[2048];
	int n = 0, cap = 0;
	struct nrule *r = NULL;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *col[8] = {0};
		int nc = 0;
		char *s = line;
		line[strcspn(line, "\r\n")] = 0;
		while (nc < 8) {
			col[nc++] = s;
			char *t = strchr(s, '\t');
			if (t == NULL)
				break;
			*t = 0;
			s = t + 1;
		}
		if (nc < 7)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			r = realloc(r, sizeof(*r) * (size_t)cap);
		}
		int ec;
		PCRE2_SIZE eo;
		r[n].match = pcre2_compile((PCRE2_SPTR)col[2], PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
		r[n].subst = pcre2_compile((PCRE2_SPTR)col[4], PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
		if (!r[n].match || !r[n].subst)
			return -1;
		pcre2_jit_compile(r[n].match, PCRE2_JIT_COMPLETE);
		pcre2_jit_compile(r[n].subst, PCRE2_JIT_COMPLETE);
		snprintf(r[n].repl, sizeof(r[n].repl), "%s", col[5]);
		n++;
	}
	fclose(f);
	*out = r;
	return n;
}

static int
naive_route(struct nrule *r, int n, const char *num, char *exp, size_t explen,
	    pcre2_match_data *md)
{
	size_t l = strlen(num);
	for (int i = 0; i < n; i++) {
		if (pcre2_match(r[i].match, (PCRE2_SPTR)num, l, 0, 0, md, NULL) < 0)
			continue;
		const char *cap = "";
		size_t cl = 0;
		if (pcre2_match(r[i].subst, (PCRE2_SPTR)num, l, 0, 0, md, NULL) >= 2) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			if (ov[2] != PCRE2_UNSET) {
				cap = num + ov[2];
				cl = ov[3] - ov[2];
			}
		}
		size_t k = 0;
		for (const char *p = r[i].repl; *p && k + 1 < explen; p++) {
			if (p[0] == '\\' && p[1] == '1') {
				for (size_t j = 0; j < cl && k + 1 < explen; j++)
					exp[k++] = cap[j];
				p++;
			} else
				exp[k++] = *p;
		}
		exp[k] = 0;
		return i;
	}
	exp[0] = 0;
	return -1;
}

/* sw_ruleset_match_prepare() for the messages of it[0..k); some: every third left out */
static void
prepare_burst(const struct sw_ruleset *rs, struct sw_rules_scratch *s, const struct item *it,
	      size_t k, bool some)
{
	const struct sw_sip_msg *ms[32];

	for (size_t j = 0; j < k; j++)
		ms[j] = some && j % 3 == 2 ? NULL : &it[j].m;
	sw_ruleset_match_prepare(rs, s, ms, (unsigned)k);
}

int
main(int argc, char **argv)
{
	bool naive = argc == 5 && strcmp(argv[1], "--naive") == 0;
	if (!naive && argc != 3) {
		fprintf(stderr, "usage: %s DIALPLAN EXPECTED.tsv | --naive RULES.tsv DIALPLAN NUMBERS.csv\n",
			argv[0]);
		return 2;
	}
	const char *dialplan = naive ? argv[3] : argv[1];
	const char *list = naive ? argv[4] : argv[2];
	FILE *f = fopen(list, "r");
	if (f == NULL) {
		perror(list);
		return 2;
	}
	size_t n = 0, cap = 4096;
	struct item *it = calloc(cap, sizeof(*it));
	char line[512];
	if (fgets(line, sizeof(line), f) == NULL) /* header / SEQUENTIAL */
		return 2;
	while (fgets(line, sizeof(line), f) && n < cap) {
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] == 0)
			continue;
		if (naive) {
			char *semi = strchr(line, ';');
			if (semi)
				*semi = 0;
			snprintf(it[n].number, sizeof(it[n].number), "%.63s", line);
		} else {
			char *a = strtok(line, "\t"), *b = strtok(NULL, "\t"), *c = strtok(NULL, "\t"),
			     *d = strtok(NULL, "\t");
			(void)c;
			if (!a || !b || !d)
				continue;
			snprintf(it[n].number, sizeof(it[n].number), "%s", a);
			it[n].rule = atoi(b);
			snprintf(it[n].expected, sizeof(it[n].expected), "%s", d);
		}
		if (build_msg(&it[n]) < 0) {
			fprintf(stderr, "cannot parse an INVITE for number \"%s\"\n", it[n].number);
			return 1;
		}
		n++;
	}
	fclose(f);

	uint64_t tn = 0;
	if (naive) {
		struct nrule *nr;
		uint64_t t0 = now_ns();
		int nn = load_naive(argv[2], &nr);
		if (nn < 0) {
			fprintf(stderr, "cannot load %s\n", argv[2]);
			return 2;
		}
		printf("naive: %d rules compiled in %.3f s\n", nn, (double)(now_ns() - t0) / 1e9);
		pcre2_match_data *md = pcre2_match_data_create(16, NULL);
		t0 = now_ns();
		for (size_t i = 0; i < n; i++)
			it[i].rule = naive_route(nr, nn, it[i].number, it[i].expected,
						 sizeof(it[i].expected), md);
		tn = now_ns() - t0;
		printf("naive: mean %.0f ns per number\n", (double)tn / (double)n);
	}

	struct sw_rules_src src = {.dialplan = dialplan, .nb_workers = 1};
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = sw_ruleset_compile(&src, &d);
	if (rs == NULL) {
		fprintf(stderr, "%s", d.text ? d.text : "compile failed\n");
		return 1;
	}
	struct sw_ruleset_info info;
	sw_ruleset_get_info(rs, &info);
	printf("sipwarp: %u rules (trie %u, hyperscan %u, pcre2 only %u) built in %.3f s, %.1f MB, %.0f bytes/rule\n",
	       info.rules, info.trie_patterns, info.hs_patterns, info.pcre_only,
	       (double)info.build_ns / 1e9, (double)info.mem_bytes / 1048576.0,
	       (double)info.mem_bytes / (info.rules ? info.rules : 1));
	struct sw_rules_scratch *s = sw_ruleset_scratch(rs, 0);
	struct sw_match_in in = {.src = {.family = 2, .bytes = {198, 18, 0, 2}}, .src_port = 5060};
	static struct sw_route_result r;
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		/* the burst's walks first, as a worker does; every third walks on its own */
		if (i % 32 == 0)
			prepare_burst(rs, s, it + i, n - i < 32 ? n - i : 32, true);
		in.msg = &it[i].m;
		in.prepared = (uint8_t)(i % 32 + 1);
		if (sw_ruleset_match(rs, s, &in, &r) != 0) {
			printf("%s: match error\n", it[i].number);
			bad++;
			continue;
		}
		int idx = -1;
		if (r.rule >= 0) {
			const char *name = sw_ruleset_rule_name(rs, (unsigned)r.rule, NULL, NULL);
			const char *h = name ? strrchr(name, '#') : NULL;
			idx = h ? atoi(h + 1) : r.rule;
		}
		char got[256] = "";
		for (int e = 0; e < r.nedits; e++)
			if (r.edits[e].op == SW_EDIT_RURI)
				snprintf(got, sizeof(got), "%.*s", r.edits[e].value.len,
					 r.buf + r.edits[e].value.off);
		if (idx != it[i].rule || strcmp(got, it[i].expected) != 0) {
			if (bad < 20)
				printf("MISMATCH %s: want rule %d \"%s\", got rule %d \"%s\"\n",
				       it[i].number, it[i].rule, it[i].expected, idx, got);
			bad++;
		}
	}
	/* timing: several passes over the corpus */
	int passes = getenv("WL_PASSES") ? atoi(getenv("WL_PASSES")) : 20;
	/* best of 5 rounds: other processes on the machine do not count */
	for (int pf = 0; pf < 2; pf++) {
		uint64_t best = UINT64_MAX;
		for (int round = 0; round < 5; round++) {
			uint64_t t0 = now_ns();
			for (int p = 0; p < passes; p++)
				for (size_t i = 0; i < n; i++) {
					if (pf && i % 32 == 0)
						prepare_burst(rs, s, it + i,
							      n - i < 32 ? n - i : 32, false);
					in.msg = &it[i].m;
					in.prepared = pf ? (uint8_t)(i % 32 + 1) : 0;
					sw_ruleset_match(rs, s, &in, &r);
				}
			uint64_t tm = now_ns() - t0;
			if (tm < best)
				best = tm;
		}
		printf("sipwarp: mean %.0f ns per number (match only%s, best of 5 rounds of %d "
		       "passes)\n",
		       (double)best / (double)(n * (size_t)passes),
		       pf ? ", trie walks of 32 at a time" : "", passes);
	}
	printf("%zu/%zu numbers routed as expected\n", n - bad, n);
	if (d.warnings)
		fprintf(stderr, "%s", d.text);
	sw_ruleset_free(rs);
	sw_diag_free(&d);
	for (size_t i = 0; i < n; i++)
		free(it[i].msg);
	free(it);
	return bad ? 1 : 0;
}
