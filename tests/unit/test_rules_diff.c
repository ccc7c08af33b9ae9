/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential test: random rule sets and random messages, our compiled
 * ruleset (trie + Hyperscan + PCRE2, and with each engine switched off)
 * against a naive evaluator written here: every rule in order, every
 * condition with PCRE2, first match; the winner and its captures must agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tests/unit/rules_test_util.h"

#define NFIELD 5
static const char *field_left[NFIELD] = {"$ruser", "X-A", "$geturi(From)", "$method", "$port"};

struct ncond {
	int field;
	bool neg;
	char re[128];
	pcre2_code *code;
};
struct nrule {
	int ncond;
	struct ncond c[3];
	int ncap;
};

static uint64_t rng = 88172645463325252ull;
static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *lits[] = {"1", "12", "123", "81", "819", "44", "2#", "9#", "0", "00", "+1", "ab"};
static const char *rlits[] = {"1", "12", "123", "81", "819", "44", "2#", "9#", "0", "00", "\\+1", "ab"};

static void
gen_re(char *b, size_t n, int field)
{
	if (field == 3) { /* method */
		static const char *m[] = {"^INVITE$", "^(INVITE|BYE)$", "INV", "^[A-Z]+$", "^OPTIONS"};
		snprintf(b, n, "%s", m[rnd(5)]);
		return;
	}
	if (field == 4) {
		static const char *p[] = {"^5060$", "^50[0-9]{2}$", "6$", "^(5060|5080)$"};
		snprintf(b, n, "%s", p[rnd(4)]);
		return;
	}
	const char *pre = field == 2 ? "sip:" : "";
	switch (rnd(12)) {
	case 0: /* prefix + length, trie shape */
		snprintf(b, n, "^%s%s%s[0-9]{%u,%u}$", pre, rnd(2) ? "\\+?" : "", rlits[rnd(12)], rnd(3), 3 + rnd(4));
		break;
	case 1:
		snprintf(b, n, "^%s(%s|%s)([0-9]+)$", pre, rlits[rnd(6)], rlits[6 + rnd(6)]);
		break;
	case 2:
		snprintf(b, n, "^%s%s(?:%s|%s)[0-9]*", pre, rnd(2) ? "\\+?" : "", rlits[rnd(12)], rlits[rnd(12)]);
		break;
	case 3:
		snprintf(b, n, "%s", rlits[rnd(12)]);
		break;
	case 4:
		snprintf(b, n, "^(.*)$");
		break;
	case 5:
		snprintf(b, n, "([0-9])\\1"); /* backreference: Hyperscan refuses */
		break;
	case 6:
		snprintf(b, n, "^%s(?=[0-9]{2})([0-9]+)", pre); /* lookahead */
		break;
	case 7:
		snprintf(b, n, "^%s[1-3]+%s", pre, rnd(2) ? "$" : "");
		break;
	case 8:
		snprintf(b, n, "^%s([0-9]{2})([0-9]*)$", pre);
		break;
	case 9:
		snprintf(b, n, "^%s%s(%s)?[0-9]{1,4}$", pre, rlits[rnd(12)], rlits[rnd(12)]);
		break;
	case 10:
		snprintf(b, n, "^%s[^0-9]", pre);
		break;
	default:
		snprintf(b, n, "^%s%s.*$", pre, rlits[rnd(12)]);
		break;
	}
}

static void
gen_value(char *b, size_t n)
{
	size_t k = 0;
	if (rnd(3) == 0)
		k += (size_t)snprintf(b, n, "+");
	k += (size_t)snprintf(b + k, n - k, "%s", lits[rnd(12)]);
	unsigned tail = rnd(9);
	for (unsigned i = 0; i < tail && k + 1 < n; i++)
		b[k++] = "0123456789ab#"[rnd(rnd(4) == 0 ? 13 : 10)];
	b[k] = 0;
}

static int
naive(struct nrule *r, int nr, const char *val[NFIELD], char caps[9][64], int *ncaps,
      pcre2_match_data *md)
{
	for (int i = 0; i < nr; i++) {
		int k = 0, ok = 1;
		for (int c = 0; c < r[i].ncond && ok; c++) {
			struct ncond *nc = &r[i].c[c];
			const char *v = val[nc->field];
			if (v == NULL) {
				ok = nc->neg;
				continue;
			}
			int rc = pcre2_match(nc->code, (PCRE2_SPTR)v, strlen(v), 0, 0, md, NULL);
			if (nc->neg) {
				ok = rc < 0;
				continue;
			}
			if (rc < 0) {
				ok = 0;
				continue;
			}
			uint32_t g = 0;
			pcre2_pattern_info(nc->code, PCRE2_INFO_CAPTURECOUNT, &g);
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			for (uint32_t j = 1; j <= g && k < 9; j++, k++) {
				if ((int)j < rc && ov[2 * j] != PCRE2_UNSET)
					snprintf(caps[k], 64, "%.*s", (int)(ov[2 * j + 1] - ov[2 * j]), v + ov[2 * j]);
				else
					caps[k][0] = 0;
			}
		}
		if (ok) {
			*ncaps = k;
			return i;
		}
	}
	return -1;
}

static void
differential(void **state)
{
	(void)state;
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);
	unsigned checked = 0, ntrie = 0, nhs = 0, npcre = 0;
	for (int set = 0; set < 60; set++) {
		int nr = 1 + (int)rnd(40);
		struct nrule *r = calloc((size_t)nr, sizeof(*r));
		char *text = malloc(65536);
		size_t k = 0;
		for (int i = 0; i < nr; i++) {
			r[i].ncond = 1 + (int)rnd(rnd(3) == 0 ? 3 : 1);
			k += (size_t)snprintf(text + k, 65536 - k, "[Rule r%d]\n[Matching Patterns]\n", i);
			int ncap = 0;
			for (int c = 0; c < r[i].ncond; c++) {
				struct ncond *nc = &r[i].c[c];
				nc->field = c == 0 && rnd(4) ? 0 : (int)rnd(NFIELD);
				nc->neg = rnd(6) == 0;
				gen_re(nc->re, sizeof(nc->re), nc->field);
				int ec;
				PCRE2_SIZE eo;
				nc->code = pcre2_compile((PCRE2_SPTR)nc->re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
				assert_non_null(nc->code);
				uint32_t g = 0;
				pcre2_pattern_info(nc->code, PCRE2_INFO_CAPTURECOUNT, &g);
				if (!nc->neg)
					ncap += (int)g;
				k += (size_t)snprintf(text + k, 65536 - k, "%s = %s%s\n", field_left[nc->field],
						      nc->neg ? "!" : "", nc->re);
			}
			r[i].ncap = ncap;
			k += (size_t)snprintf(text + k, 65536 - k, "[Deploy Patterns]\nX-Cap = <%s|%s|%s|%s>\n",
					      ncap >= 1 ? "%1" : "", ncap >= 2 ? "%2" : "", ncap >= 3 ? "%3" : "",
					      ncap >= 4 ? "%4" : "");
		}
		static const unsigned flags[3] = {0, SW_RULES_NO_TRIE, SW_RULES_NO_HS};
		struct sw_ruleset *rs[3];
		for (int f = 0; f < 3; f++) {
			struct sw_rules_src src = {.dialplan = tu_write("diff.txt", text), .nb_workers = 1,
						   .flags = flags[f]};
			struct sw_diag d;
			sw_diag_init(&d);
			rs[f] = sw_ruleset_compile(&src, &d);
			if (rs[f] == NULL)
				print_error("%s\n%s", d.text, text);
			assert_non_null(rs[f]);
			sw_diag_free(&d);
			struct sw_ruleset_info info;
			sw_ruleset_get_info(rs[f], &info);
			if (f == 0) {
				ntrie += info.trie_patterns;
				nhs += info.hs_patterns;
				npcre += info.pcre_only;
			}
		}
		for (int m = 0; m < 150; m++) {
			char ruser[64], xa[64], from[80];
			gen_value(ruser, sizeof(ruser));
			gen_value(xa, sizeof(xa));
			char fu[64];
			gen_value(fu, sizeof(fu));
			for (char *p = fu; *p; p++)
				if (*p == '#')
					*p = '1';
			snprintf(from, sizeof(from), "sip:%s@198.18.0.2", fu);
			static const char *meth[] = {"INVITE", "BYE", "OPTIONS", "MESSAGE"};
			const char *method = meth[rnd(4)];
			static const char *ports[] = {"5060", "5080", "5066", "6000"};
			const char *port = ports[rnd(4)];
			bool has_xa = rnd(3) != 0;
			char esc[128];
			size_t e = 0;
			for (const char *p = ruser; *p; p++)
				e += (size_t)snprintf(esc + e, sizeof(esc) - e, *p == '#' ? "%%23" : "%c", *p);
			char msg[1024];
			snprintf(msg, sizeof(msg),
				 "%s sip:%s@h SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKd\nTo: <sip:t@h>\n"
				 "From: <%s>;tag=1\nCall-ID: 1\nCSeq: 1 %s\nMax-Forwards: 70\n%s%s%sContent-Length: 0\n\n",
				 method, esc, from, method, has_xa ? "X-A: " : "", has_xa ? xa : "", has_xa ? "\n" : "");
			const char *val[NFIELD] = {ruser, has_xa ? xa : NULL, from, method, port};
			char caps[9][64];
			int ncaps = 0;
			int want = naive(r, nr, val, caps, &ncaps, md);
			char wantcap[300] = "";
			if (want >= 0)
				snprintf(wantcap, sizeof(wantcap), "<%s|%s|%s|%s>", ncaps >= 1 ? caps[0] : "",
					 ncaps >= 2 ? caps[1] : "", ncaps >= 3 ? caps[2] : "", ncaps >= 4 ? caps[3] : "");
			for (int f = 0; f < 3; f++) {
				struct sw_route_result res;
				int rc = tu_match(rs[f], msg, "198.18.0.2", (uint16_t)atoi(port), 0, false, &res);
				assert_int_equal(rc, 0);
				const char *got = tu_edit(&res, SW_EDIT_HDR_SET, "X-Cap");
				if (res.rule != want || (want >= 0 && (got == NULL || strcmp(got, wantcap) != 0))) {
					print_error("set %d msg %d engine %d: want rule %d %s, got %d %s\nruser=%s xa=%s from=%s method=%s port=%s\n%s",
						    set, m, f, want, wantcap, res.rule, got ? got : "-", ruser,
						    has_xa ? xa : "(none)", from, method, port, text);
					fail();
				}
				checked++;
			}
		}
		for (int f = 0; f < 3; f++)
			sw_ruleset_free(rs[f]);
		for (int i = 0; i < nr; i++)
			for (int c = 0; c < r[i].ncond; c++)
				pcre2_code_free(r[i].c[c].code);
		free(r);
		free(text);
	}
	pcre2_match_data_free(md);
	assert_true(checked > 20000);
	/* every engine had its share */
	print_message("# %u checks; primaries: trie %u, hyperscan %u, pcre2 fallback %u\n", checked,
		      ntrie, nhs, npcre);
	assert_true(ntrie > 100 && nhs > 100 && npcre > 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(differential),
	};
	return cmocka_run_group_tests_name("rules_diff", tests, NULL, NULL);
}
