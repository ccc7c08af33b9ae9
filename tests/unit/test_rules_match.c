/* SPDX-License-Identifier: BSD-3-Clause */
/* Matching: first match wins, negation, captures, deploy edits, $continue overlay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>

#include "tests/unit/rules_test_util.h"

/* reference/000 and 001, case 1 and case 2 step 1, plus the anti-spoofing rule */
static const char *ref000 =
	"[Rule itsp-always-connected]\n"
	"[Matching Patterns]\n"
	"$request = ^INVITE\n"
	"$localhost = ^true\n"
	"$port = ^5056$\n"
	"$geturi(To) = sip:(.+)@\n"
	"[Deploy Patterns]\n"
	"To=sip:%1@itsp.example\n"
	"From=sip:account@itsp.example\n"
	"X-PBX-Param: <empty>\n"
	"\n"
	"[Matching Patterns] $request = ^INVITE $localhost = ^false X-PBX-Param = ^pin$ [Deploy Patterns] $action = 603\n";

static void
ref000_case1(void **state)
{
	(void)state;
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = tu_compile(ref000, &d);
	assert_non_null(rs);
	assert_int_equal(d.errors, 0);
	struct sw_route_result r;
	assert_int_equal(tu_match(rs, TU_INVITE("sip:agent7@127.0.0.1", "<sip:09012345678@127.0.0.1>",
						 "X-PBX-Param: pin\n"),
				  "127.0.0.1", 5056, SW_TRANSPORT_UDP, true, &r),
			 0);
	assert_int_equal(r.action, SW_ROUTE_FORWARD);
	assert_int_equal(r.rule, 0);
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "To"), "sip:09012345678@itsp.example");
	assert_string_equal(tu_edit(&r, SW_EDIT_RURI, NULL), "sip:09012345678@itsp.example");
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "From"), "sip:account@itsp.example");
	assert_non_null(tu_edit(&r, SW_EDIT_HDR_DEL, "X-PBX-Param"));
	assert_int_equal(r.ntargets, 0);

	/* the same INVITE from another port: no rule */
	assert_int_equal(tu_match(rs, TU_INVITE("sip:agent7@127.0.0.1", "<sip:0901@127.0.0.1>", ""),
				  "127.0.0.1", 5060, SW_TRANSPORT_UDP, true, &r),
			 0);
	assert_int_equal(r.action, SW_ROUTE_NOMATCH);
	assert_int_equal(r.rule, -1);

	/* spoofed X-PBX-Param from outside: 603 (the flattened one-line rule) */
	assert_int_equal(tu_match(rs, TU_INVITE("sip:0901@198.18.0.1", "<sip:0901@198.18.0.1>",
						 "X-PBX-Param: pin\n"),
				  "198.18.0.2", 5060, SW_TRANSPORT_UDP, false, &r),
			 0);
	assert_int_equal(r.action, SW_ROUTE_REPLY);
	assert_int_equal(r.status, 603);
	assert_int_equal(r.rule, 1);
	sw_ruleset_free(rs);
	sw_diag_free(&d);
}

static void
ref000_case2(void **state)
{
	(void)state;
	struct sw_ruleset *rs = tu_compile("[Matching Patterns]\n$request = ^INVITE\n$localhost = ^true\n"
					   "$port = ^5056$\n[Deploy Patterns]\n$target=127.0.0.1:5052\n",
					   NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	assert_int_equal(tu_match(rs, TU_INVITE("sip:0901@127.0.0.1", "<sip:0901@127.0.0.1>", ""),
				  "127.0.0.1", 5056, SW_TRANSPORT_UDP, true, &r),
			 0);
	assert_int_equal(r.action, SW_ROUTE_FORWARD);
	assert_int_equal(r.ntargets, 1);
	assert_string_equal(tu_str(&r, r.targets[0]), "127.0.0.1:5052");
	assert_int_equal(r.nedits, 0);
	sw_ruleset_free(rs);
}

static void
first_match_and_negation(void **state)
{
	(void)state;
	struct sw_ruleset *rs = tu_compile(
		"[Rule a]\n[Matching Patterns]\n$ruser = ^1\nUser-Agent = !^friendly\n"
		"[Deploy Patterns]\n$response = 486 Busy Here\n"
		"[Rule b]\n[Matching Patterns]\n$ruser = ^1\n[Deploy Patterns]\n$target = 198.18.0.9:5070;transport=tcp, 198.18.0.10\n"
		"[Rule c]\n[Matching Patterns]\n$method = ^OPTIONS$\n[Deploy Patterns]\n$action = block\n"
		"[Rule d]\n[Matching Patterns]\n$rhost = ^example\\.com:5070$\n$transport = ^TCP$\n[Deploy Patterns]\n$recordroute = true\n",
		NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	/* no User-Agent: "!" holds */
	tu_match(rs, TU_INVITE("sip:123@h", "<sip:123@h>", ""), "198.18.0.2", 5060, 0, false, &r);
	assert_int_equal(r.rule, 0);
	assert_int_equal(r.action, SW_ROUTE_REPLY);
	assert_int_equal(r.status, 486);
	assert_string_equal(tu_str(&r, r.reason), "Busy Here");
	tu_match(rs, TU_INVITE("sip:123@h", "<sip:123@h>", "User-Agent: friendly-phone\n"),
		 "198.18.0.2", 5060, 0, false, &r);
	assert_int_equal(r.rule, 1);
	assert_int_equal(r.ntargets, 2);
	assert_string_equal(tu_str(&r, r.targets[0]), "198.18.0.9:5070;transport=tcp");
	assert_string_equal(tu_str(&r, r.targets[1]), "198.18.0.10");
	tu_match(rs,
		 "OPTIONS sip:h SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKx\nTo: <sip:h>\n"
		 "From: <sip:a@h>;tag=1\nCall-ID: 1\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n",
		 "198.18.0.2", 5060, 0, false, &r);
	assert_int_equal(r.rule, 2);
	assert_int_equal(r.action, SW_ROUTE_BLOCK);
	tu_match(rs, TU_INVITE("sip:999@example.com:5070", "<sip:9@h>", ""), "198.18.0.2", 5060,
		 SW_TRANSPORT_TCP, false, &r);
	assert_int_equal(r.rule, 3);
	assert_int_equal(r.record_route, 1);
	tu_match(rs, TU_INVITE("sip:999@example.com:5070", "<sip:9@h>", ""), "198.18.0.2", 5060,
		 SW_TRANSPORT_UDP, false, &r);
	assert_int_equal(r.rule, -1);
	/* responses never match */
	tu_match(rs,
		 "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKx\nTo: <sip:h>;tag=2\n"
		 "From: <sip:a@h>;tag=1\nCall-ID: 1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n",
		 "198.18.0.2", 5060, 0, false, &r);
	assert_int_equal(r.action, SW_ROUTE_NOMATCH);
	sw_ruleset_free(rs);
}

static void
continue_overlay(void **state)
{
	(void)state;
	struct sw_ruleset *rs = tu_compile(
		"[Rule strip-prefix]\n[Matching Patterns]\n$ruser = ^2#([0-9]+)$\n"
		"[Deploy Patterns]\n$ruri = sip:%1@trunk.example\nX-Stage = one\n$continue = true\n"
		"[Rule later-sees-new-ruri]\n[Matching Patterns]\n$ruri = ^sip:([0-9]+)@trunk\\.example$\nX-Stage = ^one$\n"
		"[Deploy Patterns]\nX-Stage =\nX-Num = n%1\n",
		NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	tu_match(rs, TU_INVITE("sip:2%2305012345678@router", "<sip:x@router>", ""), "198.18.0.2",
		 5060, 0, false, &r);
	assert_int_equal(r.rule, 1);
	assert_string_equal(tu_edit(&r, SW_EDIT_RURI, NULL), "sip:05012345678@trunk.example");
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "X-Num"), "n05012345678");
	assert_non_null(tu_edit(&r, SW_EDIT_HDR_DEL, "X-Stage"));
	assert_int_equal(sw_ruleset_rule_hits(rs, 0), 1);
	assert_int_equal(sw_ruleset_rule_hits(rs, 1), 1);
	sw_ruleset_free(rs);
}

static void
addresses_and_fields(void **state)
{
	(void)state;
	struct sw_ruleset *rs = tu_compile(
		"[Rule v6]\n[Matching Patterns]\n$addr = ^2001:db8::\n$addrType = 6\n[Deploy Patterns]\nX-R = v6\n"
		"[Rule cidr]\n[Matching Patterns]\n$addrPrefix(198.18.0.0/15) = true\n$addrRange(198.19.0.1,198.19.0.9) = false\n[Deploy Patterns]\nX-R = cidr\n"
		"[Rule range]\n[Matching Patterns]\n$addrRange(203.0.113.1, 203.0.113.9) = ^true$\n[Deploy Patterns]\nX-R = range\n"
		"[Rule addr-cidr]\n[Matching Patterns]\n$addr = 192.0.2.0/24\n$addr = !192.0.2.128-192.0.2.255\n[Deploy Patterns]\nX-R = addr-cidr\n"
		"[Rule addr-v6-range]\n[Matching Patterns]\n$addr = 2001:db9::1-2001:db9::ff\n[Deploy Patterns]\nX-R = v6r\n"
		"[Rule hdrs]\n[Matching Patterns]\n$param(Via,\"branch\") = ^z9hG4bK(.*)$\n$geturi(f) = ^sip:alice@\n"
		"$uriParam(Contact,\"transport\") = tcp\n[Deploy Patterns]\nX-R = hdrs-%1\n",
		NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "2001:db8::5", 5060, 0, false, &r);
	assert_int_equal(r.rule, 0);
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "198.19.0.200", 5060, 0, false, &r);
	assert_int_equal(r.rule, 1);
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "198.19.0.5", 5060, 0, false, &r);
	assert_int_equal(r.rule, -1);
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "203.0.113.5", 5060, 0, false, &r);
	assert_int_equal(r.rule, 2);
	tu_match(rs,
		 "INVITE sip:1@h SIP/2.0\nVia: SIP/2.0/UDP 10.1.1.1;branch=z9hG4bKabc\nTo: <sip:1@h>\n"
		 "f: \"A\" <sip:alice@h>;tag=1\nCall-ID: 1\nCSeq: 1 INVITE\nMax-Forwards: 70\n"
		 "Contact: <sip:alice@10.1.1.1;transport=tcp>\nContent-Length: 0\n\n",
		 "10.1.1.1", 5060, 0, false, &r);
	assert_int_equal(r.rule, 5);
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "X-R"), "hdrs-abc");
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "192.0.2.7", 5060, 0, false, &r);
	assert_int_equal(r.rule, 3);
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "192.0.2.200", 5060, 0, false, &r);
	assert_int_equal(r.rule, -1);
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "2001:db9::80", 5060, 0, false, &r);
	assert_int_equal(r.rule, 4);
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "2001:db9::100", 5060, 0, false, &r);
	assert_int_equal(r.rule, -1);
	sw_ruleset_free(rs);
}

static void
info_and_scratch(void **state)
{
	(void)state;
	struct sw_rules_src src = {0};
	src.dialplan = tu_write("i.txt", "[Rule a]\n[Matching Patterns]\n$ruser = ^\\+?81(90|80)[0-9]{8}$\n"
					  "[Rule b]\n[Matching Patterns]\nSubject = ^x(?=y)\n");
	src.nb_workers = 3;
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = sw_ruleset_compile(&src, &d);
	assert_non_null(rs);
	struct sw_ruleset_info info;
	sw_ruleset_get_info(rs, &info);
	assert_int_equal(info.rules, 2);
	assert_true(info.build_ns > 0);
	assert_true(info.mem_bytes > 0);
	assert_int_equal(info.trie_patterns, 1);
	/* sha256 of the sources (one file here) */
	struct sw_rules_src one = {.dialplan = tu_write("sha.txt", "# sipwarp\n"), .nb_workers = 1};
	struct sw_ruleset *rs1 = sw_ruleset_compile(&one, NULL);
	assert_non_null(rs1);
	struct sw_ruleset_info i1;
	sw_ruleset_get_info(rs1, &i1);
	char hex[65];
	for (int k = 0; k < 32; k++)
		snprintf(hex + 2 * k, 3, "%02x", i1.sha256[k]);
	assert_string_equal(hex, "5738585b6197635572152ce37fdc528ca78394517fcf9e348f11fc4a31f0303d");
	assert_int_equal(i1.rules, 0);
	sw_ruleset_free(rs1);
	assert_non_null(sw_ruleset_scratch(rs, 2));
	assert_null(sw_ruleset_scratch(rs, 3));
	assert_true(sw_ruleset_scratch(rs, 0) != sw_ruleset_scratch(rs, 1));
	sw_ruleset_free(rs);
	sw_ruleset_free(NULL);
	sw_diag_free(&d);
}

static void
time_and_logic(void **state)
{
	(void)state;
	/* now = 1700000000 = 2023-11-14 22:13:20 UTC = 2023-11-15 07:13:20 JST */
	struct sw_ruleset *rs = tu_compile(
		"[Rule set-var]\n[Matching Patterns]\n$ruser = ^(t[0-9])$\n[Deploy Patterns]\n&case = %1\n$continue = true\n"
		"[Rule t1]\n[Matching Patterns]\n&case = ^t1$\n$timerange(07:00,08:00,Asia/Tokyo) = true\n$timerange(23:00,01:00,UTC) = false\n[Deploy Patterns]\nX-R = t1\n"
		"[Rule t2]\n[Matching Patterns]\n&case = ^t2$\n$date = ^(2023)/11/(14)$\n$time = ^22:13:\n[Deploy Patterns]\nX-R = t2-%1-%2\n"
		"[Rule t3]\n[Matching Patterns]\n&case = ^t3$\n$and($port=^5060$, $transport=^UDP$) = true\n$or($port=^1$, $method=^BYE$) = false\n[Deploy Patterns]\nX-R = t3\n"
		"[Rule t4]\n[Matching Patterns]\n&case = ^t4$\n$timerange(22:00,22:10) = true\n[Deploy Patterns]\nX-R = t4-wrong\n"
		"[Rule t4b]\n[Matching Patterns]\n&case = ^t4$\n[Deploy Patterns]\nX-R = t4-&case\n",
		NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	static const char *want[] = {"t1", "t2-2023-14", "t3", "t4-t4"};
	static const char *ru[] = {"sip:t1@h", "sip:t2@h", "sip:t3@h", "sip:t4@h"};
	for (int i = 0; i < 4; i++) {
		char msg[1024];
		snprintf(msg, sizeof(msg), TU_INVITE("%s", "<sip:x@h>", ""), ru[i]);
		assert_int_equal(tu_match(rs, msg, "198.18.0.2", 5060, 0, false, &r), 0);
		assert_non_null(tu_edit(&r, SW_EDIT_HDR_SET, "X-R"));
		assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "X-R"), want[i]);
	}
	sw_ruleset_free(rs);
}

/*
 * Deploy values as compiled into the rule records: pieces (%n, %{n}, &name
 * defined or not), $target lists split at compile time (blanks, a gateway), lists with variables parsed at match time, and values
 * too big for a record's 16-bit fields (read from the parsed deploy).
 */
static void
deploy_records(void **state)
{
	(void)state;
	char *plan = malloc(80000);
	assert_non_null(plan);
	int n = snprintf(plan, 80000, "%s",
			 "[Rule vars]\n[Matching Patterns]\n$ruser = ^(1[0-9]*)$\n[Deploy Patterns]\n"
			 "&who = bob\nX-A = <%1>%{1}%{ 1}&who&nope-\n"
			 "$target = 198.18.1.9:5070 ,gw1,  [2001:db8::1]:5062;transport=tcp\n"
			 "[Rule tvars]\n[Matching Patterns]\n$ruser = ^(2[0-9]*)$\n[Deploy Patterns]\n"
			 "$target = 198.18.1.%1,198.18.1.7\n"
			 "[Rule slow]\n[Matching Patterns]\n$ruser = ^(3[0-9]*)$\n[Deploy Patterns]\nX-Many = ");
	for (int i = 0; i < 300; i++) /* more pieces than a record holds */
		n += snprintf(plan + n, 80000 - n, "%%1.");
	n += snprintf(plan + n, 80000 - n,
		      "\n[Rule huge]\n[Matching Patterns]\n$ruser = ^(4[0-9]*)$\n[Deploy Patterns]\nX-Huge = ");
	for (int i = 0; i < 70000; i++) /* longer than 16-bit offsets */
		plan[n++] = 'h';
	snprintf(plan + n, 80000 - n, "\n");
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = tu_compile3(plan, NULL, "{ \"gw1\": { \"param\": { \"realm\": \"198.18.2.2:5080\" } } }\n", &d);
	free(plan);
	if (rs == NULL)
		fail_msg("%s", d.text);
	sw_diag_free(&d);
	struct sw_route_result r;

	assert_int_equal(tu_match(rs, TU_INVITE("sip:123@h", "<sip:x@h>", ""), "198.18.0.2", 5060, 0, false, &r), 0);
	assert_int_equal(r.rule, 0);
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "X-A"), "<123>123123bob&nope-");
	assert_int_equal(r.ntargets, 3);
	assert_string_equal(tu_str(&r, r.targets[0]), "198.18.1.9:5070");
	assert_string_equal(tu_str(&r, r.targets[1]), "198.18.2.2:5080");
	assert_string_equal(tu_str(&r, r.targets[2]), "[2001:db8::1]:5062;transport=tcp");
	assert_int_equal(r.gateway, -1); /* the gateway is not first: no Request-URI of its own */

	assert_int_equal(tu_match(rs, TU_INVITE("sip:25@h", "<sip:x@h>", ""), "198.18.0.2", 5060, 0, false, &r), 0);
	assert_int_equal(r.rule, 1);
	assert_int_equal(r.ntargets, 2);
	assert_string_equal(tu_str(&r, r.targets[0]), "198.18.1.25");
	assert_string_equal(tu_str(&r, r.targets[1]), "198.18.1.7");

	assert_int_equal(tu_match(rs, TU_INVITE("sip:37@h", "<sip:x@h>", ""), "198.18.0.2", 5060, 0, false, &r), 0);
	assert_int_equal(r.rule, 2);
	const char *many = tu_edit(&r, SW_EDIT_HDR_SET, "X-Many");
	assert_non_null(many);
	assert_int_equal(strlen(many), 300 * 3);
	assert_memory_equal(many, "37.37.37.", 9);

	/* a value that cannot fit the result: the match says so */
	assert_int_equal(tu_match(rs, TU_INVITE("sip:4@h", "<sip:x@h>", ""), "198.18.0.2", 5060, 0, false, &r),
			 -ENOSPC);
	sw_ruleset_free(rs);
}

/*
 * The lowest trie candidate wins at once only when no rule without a
 * primary (here: a negated condition) comes before it, and only when the
 * pattern is its rule's only condition.
 */
static void
sole_trie_hit(void **state)
{
	(void)state;
	struct sw_ruleset *rs = tu_compile(
		"[Rule not-nine]\n[Matching Patterns]\n$ruser = !^9\n[Deploy Patterns]\nX-R = not-nine\n"
		"[Rule two-conds]\n[Matching Patterns]\n$ruser = ^(9[0-9]{3})$\nSubject = ^yes$\n[Deploy Patterns]\nX-R = two-%1\n"
		"[Rule any]\n[Matching Patterns]\n$ruser = ^\\+?([0-9]+)$\n[Deploy Patterns]\nX-R = any-%1\n",
		NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	static const struct {
		const char *ruri, *extra, *want;
	} c[] = {
		{"sip:123@h", "", "not-nine"},
		{"sip:9123@h", "Subject: yes\n", "two-9123"},
		{"sip:9123@h", "Subject: no\n", "any-9123"},
		{"sip:91234@h", "Subject: yes\n", "any-91234"},
		{"sip:+91234@h", "", "not-nine"},
	};
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char msg[1024];
		snprintf(msg, sizeof(msg), TU_INVITE("%s", "<sip:x@h>", "%s"), c[i].ruri, c[i].extra);
		assert_int_equal(tu_match(rs, msg, "198.18.0.2", 5060, 0, false, &r), 0);
		assert_non_null(tu_edit(&r, SW_EDIT_HDR_SET, "X-R"));
		assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "X-R"), c[i].want);
	}
	sw_ruleset_free(rs);
}

static void
hyperscan_fallback_warning(void **state)
{
	(void)state;
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = tu_compile("[Rule backref]\n[Matching Patterns]\n$ruser = ^([0-9])\\1\n"
					   "[Rule plain]\n[Matching Patterns]\nSubject = ^hel+o\n",
					   &d);
	assert_non_null(rs);
	assert_int_equal(d.warnings, 1);
	assert_non_null(strstr(d.text, "dialplan.txt:3:10: warning: Hyperscan refused pattern"));
	struct sw_ruleset_info info;
	sw_ruleset_get_info(rs, &info);
	assert_int_equal(info.pcre_only, 1);
	assert_int_equal(info.hs_patterns, 1);
	struct sw_route_result r;
	tu_match(rs, TU_INVITE("sip:55@h", "<sip:x@h>", "Subject: hello\n"), "198.18.0.2", 5060, 0, false, &r);
	assert_int_equal(r.rule, 0);
	tu_match(rs, TU_INVITE("sip:56@h", "<sip:x@h>", "Subject: hello\n"), "198.18.0.2", 5060, 0, false, &r);
	assert_int_equal(r.rule, 1);
	sw_ruleset_free(rs);
	sw_diag_free(&d);
}

static void
result_overflow(void **state)
{
	(void)state;
	/* more edits than the result holds: -ENOSPC, never a write past it */
	char text[8192];
	size_t k = 0;
	for (int r = 0; r < 2; r++) {
		k += (size_t)snprintf(text + k, sizeof(text) - k, "[Rule many%d]\n[Deploy Patterns]\n$continue = true\n", r);
		for (int i = 0; i < 15; i++)
			k += (size_t)snprintf(text + k, sizeof(text) - k, "X-H%d-%d = v\n", r, i);
	}
	struct sw_ruleset *rs = tu_compile(text, NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	assert_int_equal(tu_match(rs, TU_INVITE("sip:1@h", "<sip:x@h>", ""), "198.18.0.2", 5060, 0, false, &r),
			 -ENOSPC);
	sw_ruleset_free(rs);
}

struct thr {
	struct sw_ruleset *rs;
	unsigned w;
	int bad;
};

static void *
thr_main(void *arg)
{
	struct thr *t = arg;
	static __thread struct tu_msg tm;
	static __thread struct sw_route_result r;
	char msg[1024];
	for (int i = 0; i < 20000; i++) {
		int n = i % 100;
		snprintf(msg, sizeof(msg), TU_INVITE("sip:+81900000%04d@h", "<sip:x@h>", "Subject: s%d\n"), n, n);
		if (tu_parse(&tm, msg) < 0) {
			t->bad++;
			continue;
		}
		struct sw_match_in in;
		tu_in(&in, &tm.m, "198.18.0.2", 5060, 0, false);
		if (sw_ruleset_match(t->rs, sw_ruleset_scratch(t->rs, t->w), &in, &r) != 0 ||
		    r.rule != (n % 2 ? 1 : 0))
			t->bad++;
	}
	return NULL;
}

static void
workers_in_parallel(void **state)
{
	(void)state;
	/* two workers, each with its own scratch, on one ruleset at once */
	struct sw_rules_src src = {.nb_workers = 2};
	src.dialplan = tu_write("thr.txt", "[Rule even]\n[Matching Patterns]\n$ruser = ^\\+81(90|80)[0-9]{7}[02468]$\n"
					    "Subject = ^s[0-9]*[02468]$\n[Deploy Patterns]\n$ruri = sip:%1@even\n"
					    "[Rule odd]\n[Matching Patterns]\nSubject = s[0-9]+\n[Deploy Patterns]\n$ruri = sip:odd\n");
	struct sw_ruleset *rs = sw_ruleset_compile(&src, NULL);
	assert_non_null(rs);
	pthread_t th[2];
	struct thr t[2] = {{rs, 0, 0}, {rs, 1, 0}};
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, thr_main, &t[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(t[0].bad, 0);
	assert_int_equal(t[1].bad, 0);
	assert_int_equal(sw_ruleset_rule_hits(rs, 0) + sw_ruleset_rule_hits(rs, 1), 40000);
	sw_ruleset_free(rs);
}

/* Match an INVITE as a call on worker w of ARS state st. */
static int
tu_match_call(const struct sw_ruleset *rs, struct sw_ars_state *st, unsigned w, uint8_t call,
	      const char *text, struct sw_route_result *r)
{
	static struct tu_msg t;
	struct sw_match_in in;

	if (tu_parse(&t, text) < 0)
		return -100;
	tu_in(&in, &t.m, "198.18.0.2", 5060, SW_TRANSPORT_UDP, false);
	in.ars = st;
	in.worker = (uint16_t)w;
	in.call = call;
	return sw_ruleset_match(rs, sw_ruleset_scratch(rs, w), &in, r);
}

static void
ars_priority_and_cps(void **state)
{
	(void)state;
	struct sw_ruleset *rs = tu_compile3(
		"[Rule to-ars]\n[Matching Patterns]\n$method = ^INVITE$\n[Deploy Patterns]\n&caller = vip\n$ars = true\n",
		"[Route slow]\ntarget = 198.18.1.1\n[Pattern OUT]\npriority = 300\nTo = sip:0\n"
		"[Route capped]\ntarget = 198.18.1.2:5080\n[Pattern OUT]\npriority = 10\ncps = 2\nmax sessions = 30\nTo = sip:0([0-9]+)@\n"
		"deploy To = 81&t1\n"
		"[Route vip]\ntarget = 198.18.1.3\n[Pattern OUT]\npriority = 5\nTo = sip:0\nPlugin 1 = prop\nParam 1 = caller\nReturn 1 = ^gold$\n",
		NULL, NULL);
	assert_non_null(rs);
	struct sw_ars_state *st = sw_ars_state_create(1, 16);
	assert_non_null(st);
	assert_int_equal(sw_ars_state_bind(st, rs, NULL), 0);
	struct sw_route_result r;
	/* the first two calls of a second go through the capped route, with failover */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tu_match_call(rs, st, 0, SW_CALL_NEW,
					       TU_INVITE("sip:0312345678@h", "<sip:0312345678@h>", ""), &r), 0);
		assert_int_equal(r.action, SW_ROUTE_FORWARD);
		if (i < 2) {
			assert_int_equal(r.route, 1);
			assert_int_equal(r.max_sessions, 30);
			assert_true(r.ars_id != 0);
			assert_true(r.ars_slot >= 0);
			assert_int_equal(r.ntargets, 2);
			assert_string_equal(tu_str(&r, r.targets[0]), "198.18.1.2:5080");
			assert_string_equal(tu_str(&r, r.targets[1]), "198.18.1.1");
			assert_string_equal(tu_edit(&r, SW_EDIT_RURI, NULL), "sip:81312345678@h");
		} else {
			/* over the cap: the next route in priority order */
			assert_int_equal(r.route, 0);
			assert_int_equal(r.ntargets, 1);
			assert_int_equal(r.ars_skipped, 1);
			assert_int_equal(r.ars_id, 0);
		}
	}
	/* not a call (no state, or SW_CALL_NONE): no caps */
	assert_int_equal(tu_match(rs, TU_INVITE("sip:0312345678@h", "<sip:0312345678@h>", ""),
				  "198.18.0.2", 5060, 0, false, &r), 0);
	assert_int_equal(r.route, 1);
	sw_ruleset_free(rs);
	sw_ars_state_free(st);
}

static const char *sess_ars =
	"[Route first]\ntarget = 198.18.1.1\n[Pattern OUT]\npriority = 10\nmax sessions = 2\nTo = sip:0\n"
	"[Route second]\ntarget = 198.18.1.2\n[Pattern OUT]\npriority = 20\nmax sessions = 1\nTo = sip:0\n";

#define SESS_INVITE TU_INVITE("sip:0312345678@h", "<sip:0312345678@h>", "")

static void
ars_max_sessions_failover(void **state)
{
	(void)state;
	struct sw_ruleset *rs = tu_compile3(NULL, sess_ars, NULL, NULL);
	assert_non_null(rs);
	struct sw_ars_state *st = sw_ars_state_create(2, 16);
	assert_int_equal(sw_ars_state_bind(st, rs, NULL), 0);
	struct sw_route_result r;
	int slot_first = -1, slot_second = -1;
	uint32_t id_first = 0;

	/* two calls on "first" (one per worker), counted by the caller */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(tu_match_call(rs, st, i, SW_CALL_NEW, SESS_INVITE, &r), 0);
		assert_int_equal(r.action, SW_ROUTE_FORWARD);
		assert_int_equal(r.route, 0);
		assert_int_equal(r.max_sessions, 2);
		assert_string_equal(tu_str(&r, r.targets[0]), "198.18.1.1");
		assert_string_equal(tu_str(&r, r.targets[1]), "198.18.1.2");
		slot_first = r.ars_slot;
		id_first = r.ars_id;
		sw_ars_sess_inc(st, i, r.ars_slot);
	}
	assert_int_equal(sw_ars_sessions(st, slot_first), 2);
	assert_int_equal(sw_ruleset_sess_slot(rs, id_first), slot_first);
	assert_int_equal(sw_ruleset_sess_slot(rs, id_first ^ 1), -1);
	/* the third fails over to "second", and "first" is not a failover target any more */
	assert_int_equal(tu_match_call(rs, st, 0, SW_CALL_NEW, SESS_INVITE, &r), 0);
	assert_int_equal(r.action, SW_ROUTE_FORWARD);
	assert_int_equal(r.route, 1);
	assert_int_equal(r.ntargets, 1);
	assert_string_equal(tu_str(&r, r.targets[0]), "198.18.1.2");
	assert_int_equal(r.ars_skipped, 1);
	slot_second = r.ars_slot;
	assert_true(slot_second >= 0 && slot_second != slot_first);
	sw_ars_sess_inc(st, 0, r.ars_slot);
	/* a CANCEL peeking as that INVITE when all is full is never refused: it goes as
	 * without caps (the first route), nothing counted */
	assert_int_equal(tu_match_call(rs, st, 1, SW_CALL_PEEK, SESS_INVITE, &r), 0);
	assert_int_equal(r.action, SW_ROUTE_FORWARD);
	assert_int_equal(r.ars_busy, 0);
	assert_int_equal(r.route, 0);
	assert_int_equal(sw_ars_sessions(st, slot_second), 1);
	/* everything full: 503, flagged busy */
	assert_int_equal(tu_match_call(rs, st, 0, SW_CALL_NEW, SESS_INVITE, &r), 0);
	assert_int_equal(r.action, SW_ROUTE_REPLY);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.ars_busy, 1);
	assert_int_equal(r.ars_skipped, 2);
	/* a non-call (e.g. MESSAGE through ARS) sees no caps */
	assert_int_equal(tu_match_call(rs, st, 0, SW_CALL_NONE, SESS_INVITE, &r), 0);
	assert_int_equal(r.route, 0);
	/* a call on "first" ends on the other worker than its INVITE: a slot frees */
	assert_true(sw_ars_sess_dec(st, 1, slot_first));
	assert_int_equal(sw_ars_sessions(st, slot_first), 1);
	assert_int_equal(tu_match_call(rs, st, 0, SW_CALL_NEW, SESS_INVITE, &r), 0);
	assert_int_equal(r.route, 0);
	/* never below zero: a BYE of a call counted before a restart changes nothing */
	assert_true(sw_ars_sess_dec(st, 0, slot_second));
	assert_false(sw_ars_sess_dec(st, 0, slot_second));
	assert_int_equal(sw_ars_sessions(st, slot_second), 0);
	sw_ars_sess_inc(st, 1, slot_second);
	assert_int_equal(sw_ars_sessions(st, slot_second), 1);

	/* listed, and reset by route */
	struct sw_ars_slot_info info[4];
	assert_int_equal(sw_ars_state_list(st, 1700000000, info, 4), 2);
	for (int i = 0; i < 2; i++) {
		assert_true(info[i].live);
		assert_int_equal(info[i].pattern, 1);
		if (strcmp(info[i].route, "first") == 0) {
			assert_int_equal(info[i].sessions, 1);
			assert_int_equal(info[i].max_sessions, 2);
			assert_int_equal(info[i].id, id_first);
		} else {
			assert_string_equal(info[i].route, "second");
			assert_int_equal(info[i].sessions, 1);
		}
	}
	assert_int_equal(sw_ars_state_reset(st, "first", 0), 1);
	assert_int_equal(sw_ars_sessions(st, slot_first), 0);
	assert_int_equal(sw_ars_sessions(st, slot_second), 1);
	assert_int_equal(sw_ars_state_reset(st, NULL, 0), 2);
	assert_int_equal(sw_ars_sessions(st, slot_second), 0);
	sw_ruleset_free(rs);
	sw_ars_state_free(st);
}

static void
ars_counts_survive_reload(void **state)
{
	(void)state;
	struct sw_ruleset *a = tu_compile3(NULL, sess_ars, NULL, NULL);
	struct sw_ars_state *st = sw_ars_state_create(1, 3);
	struct sw_route_result r;
	assert_int_equal(sw_ars_state_bind(st, a, NULL), 0);
	assert_int_equal(tu_match_call(a, st, 0, SW_CALL_NEW, SESS_INVITE, &r), 0);
	uint32_t id = r.ars_id;
	int slot = r.ars_slot;
	sw_ars_sess_inc(st, 0, slot);
	sw_ars_sess_inc(st, 0, slot);

	/* same route names, other priorities and caps, one more route: the counts stay */
	struct sw_ruleset *b = tu_compile3(
		NULL,
		"[Route new]\ntarget = 198.18.1.9\n[Pattern OUT]\npriority = 1\nmax sessions = 5\nTo = sip:9\n"
		"[Route first]\ndescription = edited\ntarget = 198.18.1.1\n[Pattern OUT]\npriority = 10\nmax sessions = 3\nTo = sip:0\n"
		"[Route second]\ntarget = 198.18.1.2\n[Pattern OUT]\npriority = 20\nmax sessions = 1\nTo = sip:0\n",
		NULL, NULL);
	assert_non_null(b);
	assert_int_equal(sw_ars_state_bind(st, b, NULL), 0);
	sw_ruleset_free(a);
	assert_int_equal(sw_ruleset_sess_slot(b, id), slot);
	assert_int_equal(sw_ars_sessions(st, slot), 2);
	assert_int_equal(tu_match_call(b, st, 0, SW_CALL_NEW, SESS_INVITE, &r), 0);
	assert_int_equal(r.route, 1); /* "first", now 2 of 3 */
	assert_int_equal(r.ars_id, id);
	sw_ars_sess_inc(st, 0, slot);
	assert_int_equal(tu_match_call(b, st, 0, SW_CALL_NEW, SESS_INVITE, &r), 0);
	assert_int_equal(r.route, 2);

	/* three slots: a fourth capped pattern needs the slot of a removed one,
	 * which it gets only once no published ruleset binds it */
	const char *c_ars =
		"[Route x]\ntarget = 198.18.1.7\n[Pattern OUT]\nmax sessions = 1\nTo = sip:0\n"
		"[Route first]\ntarget = 198.18.1.1\n[Pattern OUT]\nmax sessions = 3\nTo = sip:0\n"
		"[Route second]\ntarget = 198.18.1.2\n[Pattern OUT]\nmax sessions = 1\nTo = sip:0\n";
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *c = tu_compile3(NULL, c_ars, NULL, NULL);
	assert_int_equal(sw_ars_state_bind(st, c, &d), -ENOSPC);
	assert_true(d.errors > 0);
	sw_diag_free(&d);
	sw_ruleset_free(c);
	/* publish one without "new", then "x" can have its slot */
	struct sw_ruleset *b2 = tu_compile3(NULL, sess_ars, NULL, NULL);
	assert_int_equal(sw_ars_state_bind(st, b2, NULL), 0);
	sw_ruleset_free(b);
	c = tu_compile3(NULL, c_ars, NULL, NULL);
	assert_int_equal(sw_ars_state_bind(st, c, NULL), 0);
	assert_int_equal(sw_ars_sessions(st, slot), 3);
	assert_int_equal(tu_match_call(c, st, 0, SW_CALL_NEW, SESS_INVITE, &r), 0);
	assert_int_equal(r.route, 0);
	assert_int_equal(sw_ars_sessions(st, r.ars_slot), 0); /* the reused slot starts at 0 */
	sw_ruleset_free(b2);
	sw_ruleset_free(c);
	sw_ars_state_free(st);
}

/* CPS is one budget per pattern whatever the number of workers. */
struct cps_thr {
	struct sw_ruleset *rs;
	struct sw_ars_state *st;
	unsigned w;
	int capped;
	pthread_barrier_t *sec; /* both threads enter each second together */
};

static void *
cps_main(void *arg)
{
	struct cps_thr *t = arg;
	struct tu_msg *msg = calloc(1, sizeof(*msg));
	struct sw_route_result *r = calloc(1, sizeof(*r));
	struct sw_match_in in;

	tu_parse(msg, SESS_INVITE);
	tu_in(&in, &msg->m, "198.18.0.2", 5060, SW_TRANSPORT_UDP, false);
	in.ars = t->st;
	in.worker = (uint16_t)t->w;
	in.call = SW_CALL_NEW;
	for (int i = 0; i < 5000; i++) {
		if (i % 1000 == 0)
			pthread_barrier_wait(t->sec);
		in.now = 1800000000 + i / 1000; /* five new seconds of 1,000 calls per worker */
		sw_ruleset_match(t->rs, sw_ruleset_scratch(t->rs, t->w), &in, r);
		if (r->route == 0)
			t->capped++;
	}
	free(msg);
	free(r);
	return NULL;
}

static void
ars_cps_across_workers(void **state)
{
	(void)state;
	struct sw_rules_src src = {.nb_workers = 2};
	src.ars = tu_write("cps.ars",
			   "[Route capped]\ntarget = 198.18.1.1\n[Pattern OUT]\npriority = 10\ncps = 100\nTo = sip:0\n"
			   "[Route rest]\ntarget = 198.18.1.2\n[Pattern OUT]\npriority = 20\nTo = sip:0\n");
	struct sw_ruleset *rs = sw_ruleset_compile(&src, NULL);
	assert_non_null(rs);
	struct sw_ars_state *st = sw_ars_state_create(2, 8);
	assert_int_equal(sw_ars_state_bind(st, rs, NULL), 0);
	/* one after the other: the second worker finds the budget spent */
	pthread_barrier_t sec;
	pthread_barrier_init(&sec, NULL, 2);
	struct cps_thr t[2] = {{rs, st, 0, 0, &sec}, {rs, st, 1, 0, &sec}};
	struct sw_route_result r;
	for (int i = 0; i < 150; i++) {
		unsigned w = (unsigned)i & 1;
		assert_int_equal(tu_match_call(rs, st, w, SW_CALL_NEW, SESS_INVITE, &r), 0);
		assert_int_equal(r.route, i < 100 ? 0 : 1);
		assert_int_equal(r.ars_id, 0); /* CPS only: no session tag */
	}
	/* at once, in threads, over five new seconds: exactly 100 a second in all */
	sw_ars_state_reset(st, NULL, 0);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, cps_main, &t[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&sec);
	assert_int_equal(t[0].capped + t[1].capped, 500);
	sw_ruleset_free(rs);
	sw_ars_state_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ref000_case1),
		cmocka_unit_test(ref000_case2),
		cmocka_unit_test(first_match_and_negation),
		cmocka_unit_test(continue_overlay),
		cmocka_unit_test(addresses_and_fields),
		cmocka_unit_test(info_and_scratch),
		cmocka_unit_test(time_and_logic),
		cmocka_unit_test(hyperscan_fallback_warning),
		cmocka_unit_test(deploy_records),
		cmocka_unit_test(sole_trie_hit),
		cmocka_unit_test(result_overflow),
		cmocka_unit_test(workers_in_parallel),
		cmocka_unit_test(ars_priority_and_cps),
		cmocka_unit_test(ars_max_sessions_failover),
		cmocka_unit_test(ars_counts_survive_reload),
		cmocka_unit_test(ars_cps_across_workers),
	};
	return cmocka_run_group_tests_name("rules_match", tests, NULL, NULL);
}
