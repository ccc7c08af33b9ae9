/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Match kernels: a workload of the shape of ../shared/workload (rules.tsv +
 * numbers) compiled by sipwarp, and the naive evaluator it is measured
 * against (every rules.tsv line in order with PCRE2-JIT, first match, then
 * the subst capture), both on the Request-URI user of a parsed INVITE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "bench/kernels.h"
#include "rules/ruleset.h"

struct k_match {
	struct sw_ruleset *rs;
	struct sw_rules_scratch *scr;
	size_t n;
	char (*num)[64];
	char **msg;
	struct sw_sip_msg *m;
	struct sw_match_in in;
	struct sw_route_result res;
	/* naive */
	int nrules;
	pcre2_code **match, **subst;
	pcre2_match_data *md;
	char dialplan[256];
	double build_s, bytes_per_rule;
	unsigned rules;
};

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* rules.tsv -> our syntax, as rules/tools/wl2dialplan.py does */
static int
convert(struct k_match *k, const char *tsv, int with_naive)
{
	FILE *in = fopen(tsv, "r");
	if (in == NULL)
		return -1;
	snprintf(k->dialplan, sizeof(k->dialplan), "/tmp/k_match.%d.dialplan", (int)getpid());
	FILE *out = fopen(k->dialplan, "w");
	if (out == NULL) {
		fclose(in);
		return -1;
	}
	char line[2048];
	int cap = 0;
	if (fgets(line, sizeof(line), in) == NULL)
		goto bad;
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\r\n")] = 0;
		char *col[7];
		char *s = line;
		int nc = 0;
		for (; nc < 7 && s; nc++) {
			col[nc] = s;
			s = strchr(s, '\t');
			if (s)
				*s++ = 0;
		}
		if (nc < 7)
			continue;
		char repl[256];
		size_t r = 0;
		for (const char *p = col[5]; *p && r + 2 < sizeof(repl); p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '9') {
				repl[r++] = '%';
				repl[r++] = *++p;
			} else
				repl[r++] = *p;
		}
		repl[r] = 0;
		fprintf(out, "[Rule %s#%d]\n[Matching Patterns]\n$ruser = %s\n[Deploy Patterns]\n$ruri = %s\n",
			col[6], k->nrules, col[4], repl);
		if (with_naive) {
			if (k->nrules == cap) {
				cap = cap ? cap * 2 : 1024;
				k->match = realloc(k->match, sizeof(*k->match) * (size_t)cap);
				k->subst = realloc(k->subst, sizeof(*k->subst) * (size_t)cap);
			}
			int ec;
			PCRE2_SIZE eo;
			k->match[k->nrules] = pcre2_compile((PCRE2_SPTR)col[2], PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
			k->subst[k->nrules] = pcre2_compile((PCRE2_SPTR)col[4], PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
			if (!k->match[k->nrules] || !k->subst[k->nrules])
				goto bad;
			pcre2_jit_compile(k->match[k->nrules], PCRE2_JIT_COMPLETE);
			pcre2_jit_compile(k->subst[k->nrules], PCRE2_JIT_COMPLETE);
		}
		k->nrules++;
	}
	fclose(in);
	fclose(out);
	return 0;
bad:
	fclose(in);
	fclose(out);
	return -1;
}

static int
load_numbers(struct k_match *k, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char line[512];
	size_t cap = 0;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n;\t")] = 0;
		if (line[0] == 0)
			continue;
		if (k->n == cap) {
			cap = cap ? cap * 2 : 4096;
			k->num = realloc(k->num, sizeof(*k->num) * cap);
		}
		snprintf(k->num[k->n], 64, "%.63s", line);
		k->n++;
	}
	fclose(f);
	k->msg = calloc(k->n, sizeof(*k->msg));
	k->m = calloc(k->n, sizeof(*k->m));
	for (size_t i = 0; i < k->n; i++) {
		char user[160];
		size_t u = 0;
		for (const char *p = k->num[i]; *p && u + 4 < sizeof(user); p++)
			u += (size_t)(*p == '#' ? snprintf(user + u, 4, "%%23") : snprintf(user + u, 2, "%c", *p));
		k->msg[i] = malloc(512);
		int len = snprintf(k->msg[i], 512,
				   "INVITE sip:%s@sipwarp.test SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK-b\r\n"
				   "Max-Forwards: 70\r\nTo: <sip:%s@sipwarp.test>\r\nFrom: <sip:c@198.18.0.2>;tag=1\r\n"
				   "Call-ID: b@198.18.0.2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
				   user, user);
		if (sw_sip_parse(&k->m[i], k->msg[i], (size_t)len) != SW_SIP_OK)
			return -1;
	}
	return 0;
}

struct k_match *
k_match_open(const char *rules_tsv, const char *numbers_csv, unsigned flags, int with_naive)
{
	struct k_match *k = calloc(1, sizeof(*k));
	if (k == NULL || convert(k, rules_tsv, with_naive) < 0)
		goto fail;
	if (load_numbers(k, numbers_csv) < 0 || k->n == 0)
		goto fail;
	struct sw_rules_src src = {.dialplan = k->dialplan, .nb_workers = 1, .flags = flags};
	struct sw_diag d;
	sw_diag_init(&d);
	double t0 = now_s();
	k->rs = sw_ruleset_compile(&src, &d);
	k->build_s = now_s() - t0;
	sw_diag_free(&d);
	unlink(k->dialplan);
	if (k->rs == NULL)
		goto fail;
	struct sw_ruleset_info info;
	sw_ruleset_get_info(k->rs, &info);
	k->rules = info.rules;
	k->bytes_per_rule = (double)info.mem_bytes / (info.rules ? info.rules : 1);
	k->scr = sw_ruleset_scratch(k->rs, 0);
	k->in.src.family = 2;
	k->in.src_port = 5060;
	k->md = pcre2_match_data_create(16, NULL);
	return k;
fail:
	k_match_close(k);
	return NULL;
}

size_t
k_match_n(const struct k_match *k)
{
	return k->n;
}

uint64_t
k_match(struct k_match *k, size_t i)
{
	k->in.msg = &k->m[i % k->n];
	sw_ruleset_match(k->rs, k->scr, &k->in, &k->res);
	return (uint64_t)(uint32_t)k->res.rule + k->res.used;
}

uint64_t
k_match_naive(struct k_match *k, size_t i)
{
	const char *num = k->num[i % k->n];
	size_t l = strlen(num);
	for (int r = 0; r < k->nrules; r++) {
		if (pcre2_match(k->match[r], (PCRE2_SPTR)num, l, 0, 0, k->md, NULL) < 0)
			continue;
		pcre2_match(k->subst[r], (PCRE2_SPTR)num, l, 0, 0, k->md, NULL);
		return (uint64_t)r + pcre2_get_ovector_pointer(k->md)[3];
	}
	return UINT64_MAX;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * Per number: the best of 3 trials of 16 back-to-back matches (so another
 * process taking the core does not count), then the median over numbers.
 */
double
k_match_p50_ns(struct k_match *k, int naive, double *p99)
{
	size_t n = k->n;
	double *t = malloc(sizeof(double) * n);
	int reps = naive ? 1 : 16, trials = naive ? 1 : 3;
	uint64_t sink = 0;
	for (size_t i = 0; i < n; i++) {
		double best = 1e30;
		for (int tr = 0; tr < trials; tr++) {
			double t0 = now_s();
			for (int r = 0; r < reps; r++)
				sink += naive ? k_match_naive(k, i) : k_match(k, i);
			double dt = (now_s() - t0) * 1e9 / reps;
			if (dt < best)
				best = dt;
		}
		t[i] = best;
	}
	qsort(t, n, sizeof(double), cmp_d);
	double p50 = t[n / 2];
	if (p99)
		*p99 = t[(n * 99) / 100];
	free(t);
	__asm__ volatile("" : : "r"(sink));
	return p50;
}

void
k_match_stats(const struct k_match *k, double *build_s, double *bytes_per_rule, unsigned *rules)
{
	*build_s = k->build_s;
	*bytes_per_rule = k->bytes_per_rule;
	*rules = k->rules;
}

void
k_match_close(struct k_match *k)
{
	if (k == NULL)
		return;
	sw_ruleset_free(k->rs);
	for (int r = 0; r < k->nrules && k->match; r++) {
		pcre2_code_free(k->match[r]);
		pcre2_code_free(k->subst[r]);
	}
	free(k->match);
	free(k->subst);
	pcre2_match_data_free(k->md);
	for (size_t i = 0; i < k->n && k->msg; i++)
		free(k->msg[i]);
	free(k->msg);
	free(k->m);
	free(k->num);
	free(k);
}
