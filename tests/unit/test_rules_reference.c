/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every example of reference/000-004 (as converted in examples/) loads and
 * behaves as the documents say; the literal texts with their placeholders
 * load too. Also explain, and the gateway/ARS error classes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/rules_test_util.h"

#define EX(f) SW_EXAMPLES "/" f

static struct sw_ruleset *
load(const char *dp, const char *ars, const char *gw)
{
	struct sw_rules_src src = {.dialplan = dp, .ars = ars, .gateways = gw, .nb_workers = 1};
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = sw_ruleset_compile(&src, &d);
	if (rs == NULL || d.errors)
		print_error("%s", d.text ? d.text : "?");
	sw_diag_free(&d);
	return rs;
}

#define MEDIA_INVITE(extra)                                                                        \
	"INVITE sip:09012345678@127.0.0.1 SIP/2.0\n"                                                  \
	"Via: SIP/2.0/UDP 127.0.0.1:5056;branch=z9hG4bK776asdhds\n"                                \
	"Max-Forwards: 70\n"                                                                       \
	"To: <sip:09012345678@127.0.0.1>\n"                                                        \
	"From: \"Media\" <sip:ms@127.0.0.1>;tag=1928301774\n"                                     \
	"Call-ID: a84b4c76e66710@127.0.0.1\n"                                                      \
	"CSeq: 314159 INVITE\n" extra "Content-Length: 0\n\n"

static void
ref000_case1_example(void **state)
{
	(void)state;
	struct sw_ruleset *rs = load(EX("reference-000.dialplan"), NULL, NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	tu_match(rs, MEDIA_INVITE("X-PBX-Param: pin\n"), "127.0.0.1", 5056, 0, true, &r);
	assert_int_equal(r.action, SW_ROUTE_FORWARD);
	assert_string_equal(tu_edit(&r, SW_EDIT_RURI, NULL), "sip:09012345678@itsp.example");
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "To"), "sip:09012345678@itsp.example");
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "From"), "sip:account@itsp.example");
	assert_non_null(tu_edit(&r, SW_EDIT_HDR_DEL, "X-PBX-Param"));
	/* not from us, or not from the media server port: untouched */
	tu_match(rs, MEDIA_INVITE(""), "198.18.0.2", 5056, 0, false, &r);
	assert_int_equal(r.action, SW_ROUTE_NOMATCH);
	tu_match(rs, MEDIA_INVITE(""), "127.0.0.1", 5060, 0, true, &r);
	assert_int_equal(r.action, SW_ROUTE_NOMATCH);
	sw_ruleset_free(rs);
}

static void
ref000_literal_text(void **state)
{
	(void)state;
	/* the documents' text, placeholders and all, loads as written */
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = tu_compile("[Matching Patterns]\n$request = ^INVITE\n$localhost = ^true\n$port = ^5056$\n"
					   "$geturi(To) = sip:(.+)@\n[Deploy Patterns]\nTo=sip:%1@<itsp domain>\n"
					   "From=sip:<account>@itsp domain>\nX-PBX-Param: <empty>\n"
					   "[Matching Patterns]\n$request = ^INVITE\n$localhost = ^true\n$port = ^5056$\n"
					   "[Deploy Patterns]\n$target=127.0.0.1:5052\n"
					   "[Matching Patterns] $request = ^INVITE $localhost = ^false X-PBX-Param = ^pin$ [Deploy Patterns] $action = 603\n",
					   &d);
	assert_non_null(rs);
	struct sw_ruleset_info info;
	sw_ruleset_get_info(rs, &info);
	assert_int_equal(info.rules, 3);
	struct sw_route_result r;
	tu_match(rs, MEDIA_INVITE(""), "127.0.0.1", 5056, 0, true, &r);
	assert_int_equal(r.rule, 0);
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "To"), "sip:09012345678@<itsp domain>");
	sw_ruleset_free(rs);
	sw_diag_free(&d);
}

static void
ref000_case2_example(void **state)
{
	(void)state;
	struct sw_ruleset *rs = load(EX("reference-000-case2.dialplan"), NULL, NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	tu_match(rs, MEDIA_INVITE(""), "127.0.0.1", 5056, 0, true, &r);
	assert_int_equal(r.action, SW_ROUTE_FORWARD);
	assert_int_equal(r.ntargets, 1);
	assert_string_equal(tu_str(&r, r.targets[0]), "127.0.0.1:5052");
	tu_match(rs, MEDIA_INVITE("X-PBX-Param: pin\n"), "198.18.0.66", 5060, 0, false, &r);
	assert_int_equal(r.action, SW_ROUTE_REPLY);
	assert_int_equal(r.status, 603);
	sw_ruleset_free(rs);
}

static void
ref001_ars(void **state)
{
	(void)state;
	struct sw_ruleset *rs = load(EX("reference-001.dialplan"), EX("reference-001.ars"),
				     EX("reference-003.gateways.json"));
	assert_non_null(rs);
	struct sw_ruleset_info info;
	sw_ruleset_get_info(rs, &info);
	assert_int_equal(info.routes, 3);
	assert_int_equal(info.gateways, 2);
	assert_int_equal(info.ars_patterns, 3);
	struct sw_route_result r;
	/* step 2 + 3: the returned INVITE carries X-PBX-Param: pin */
	tu_match(rs, MEDIA_INVITE("X-PBX-Param: pin\n"), "127.0.0.1", 5056, 0, true, &r);
	assert_int_equal(r.rule, 0);
	assert_int_equal(r.route, 1); /* itsp */
	assert_int_equal(r.action, SW_ROUTE_SLOWPATH); /* itsp1 has credentials */
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "X-Sipwarp-Gateway"), "itsp1");
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "From"),
			    "\"Media\" <sip:pinms@127.0.0.1>;tag=1928301774");
	assert_string_equal(tu_edit(&r, SW_EDIT_RURI, NULL), "sip:09012345678@198.18.5.1:35560");
	assert_int_equal(r.ntargets, 2);
	assert_string_equal(tu_str(&r, r.targets[0]), "198.18.5.1:35560");
	assert_string_equal(tu_str(&r, r.targets[1]), "198.18.5.2"); /* failover: itsp-backup */
	assert_int_equal(r.max_sessions, -1);
	assert_string_equal(sw_ruleset_route_name(rs, 1), "itsp");
	/* without the marker no IN pattern sets action.type: no OUT pattern */
	tu_match(rs, MEDIA_INVITE(""), "127.0.0.1", 5056, 0, true, &r);
	assert_int_equal(r.route, -1);
	assert_int_equal(r.ntargets, 0);
	/* spoofed marker from outside: declined */
	tu_match(rs, MEDIA_INVITE("X-PBX-Param: pin\n"), "198.18.0.66", 5060, 0, false, &r);
	assert_int_equal(r.status, 603);
	sw_ruleset_free(rs);
}

static void
ref002_forwarding(void **state)
{
	(void)state;
	struct sw_ruleset *rs = load(EX("reference-002.dialplan"), NULL, NULL);
	assert_non_null(rs);
	struct sw_route_result r;
	tu_match(rs, TU_INVITE("sip:1004@198.18.0.1", "<sip:1004@198.18.0.1>", ""), "198.18.0.2", 5060, 0, false, &r);
	assert_string_equal(tu_edit(&r, SW_EDIT_RURI, NULL), "sip:2345678@198.18.0.40");
	tu_match(rs, TU_INVITE("sip:1001@198.18.0.1", "<sip:1001@198.18.0.1>", ""), "198.18.0.2", 5060, 0, false, &r);
	assert_int_equal(r.ntargets, 2);
	assert_string_equal(tu_str(&r, r.targets[1]), "198.18.0.40:5060");
	assert_int_equal(r.record_route, 1);
	sw_ruleset_free(rs);
}

static void
ref003_gateways(void **state)
{
	(void)state;
	struct sw_ruleset *rs = load(NULL, NULL, EX("reference-003.gateways.json"));
	assert_non_null(rs);
	assert_int_equal(sw_ruleset_gateway_count(rs), 2);
	const struct sw_gateway_info *g = sw_ruleset_gateway(rs, 0);
	assert_string_equal(g->name, "itsp1");
	assert_true(g->reg);
	assert_true(g->caller_id_in_from);
	assert_string_equal(g->host, "198.18.5.1");
	assert_int_equal(g->port, 35560);
	assert_string_equal(g->username, "mytrunk");
	assert_string_equal(g->password, "mytrunk@ddt");
	assert_int_equal(g->expire_seconds, 3600);
	assert_true(g->needs_auth);
	assert_string_equal(g->variables_json, "{\"sip_sticky_contact\":\"true\"}");
	g = sw_ruleset_gateway(rs, 1);
	assert_false(g->reg);
	assert_string_equal(g->destination_prefix, "0");
	assert_string_equal(g->from_user, "mytrunk");
	assert_string_equal(g->from_domain, "198.18.5.2");
	assert_string_equal(g->extension, "auto_to_user");
	assert_true(g->extension_in_contact);
	assert_int_equal(g->expire_seconds, 60);
	assert_int_equal(g->retry_seconds, 30);
	assert_int_equal(g->ping, 30);
	assert_string_equal(g->context, "public");
	assert_string_equal(g->transport, "udp");
	assert_int_equal(g->port, 5060);
	assert_null(sw_ruleset_gateway(rs, 2));
	sw_ruleset_free(rs);
	/* the bare object of reference/003, as printed */
	rs = tu_compile3(NULL, NULL,
			 "{\n\"param\": {\n\"register\": \"true\",\n\"caller-id-in-from\": \"true\",\n"
			 "\"realm\": \"180.76.224.191:35560\",\n\"from-user\": \"\",\n\"destination-prefix\": \"\",\n"
			 "\"username\": \"mytrunk\",\n\"password\": \"mytrunk@ddt\"\n},\n\"variables\": {\n"
			 "\"sip_sticky_contact\": \"true\"\n}\n}\n",
			 NULL);
	assert_non_null(rs);
	assert_string_equal(sw_ruleset_gateway(rs, 0)->name, "default");
	sw_ruleset_free(rs);
}

static void
ref004_router(void **state)
{
	(void)state;
	struct sw_ruleset *rs = load(EX("reference-004.dialplan"), NULL, EX("reference-004.gateways.json"));
	assert_non_null(rs);
	struct sw_route_result r;
	tu_match(rs, TU_INVITE("sip:2%2305012345678@198.18.0.1", "<sip:x@h>", ""), "198.18.0.2", 5060, 0, false, &r);
	assert_string_equal(tu_edit(&r, SW_EDIT_RURI, NULL), "sip:05012345678@there.com");
	assert_string_equal(tu_str(&r, r.targets[0]), "198.18.7.1");
	assert_int_equal(r.action, SW_ROUTE_SLOWPATH); /* registered server with credentials */
	tu_match(rs, TU_INVITE("sip:9%2330@198.18.0.1", "<sip:x@h>", ""), "198.18.0.2", 5060, 0, false, &r);
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "To"), "sip:UserA@there.com");
	assert_string_equal(tu_edit(&r, SW_EDIT_RURI, NULL), "sip:UserA@there.com");
	tu_match(rs, TU_INVITE("sip:9%2331@198.18.0.1", "<sip:x@h>", ""), "198.18.0.2", 5060, 0, false, &r);
	assert_int_equal(r.status, 404);
	const struct sw_gateway_info *g = sw_ruleset_gateway(rs, 0);
	assert_int_equal(g->expire_seconds, 1200);
	g = sw_ruleset_gateway(rs, 1);
	assert_string_equal(g->transport, "tcp");
	g = sw_ruleset_gateway(rs, 2);
	assert_string_equal(g->host, "2001:db8::7");
	assert_int_equal(g->port, 5060);
	sw_ruleset_free(rs);
}

static void
explain_text(void **state)
{
	(void)state;
	struct sw_ruleset *rs = load(EX("reference-000-case2.dialplan"), NULL, NULL);
	struct tu_msg t;
	assert_int_equal(tu_parse(&t, MEDIA_INVITE("X-PBX-Param: pin\n")), 0);
	struct sw_match_in in;
	tu_in(&in, &t.m, "198.18.0.66", 5060, 0, false);
	char *x = sw_ruleset_explain(rs, &in);
	assert_non_null(x);
	assert_non_null(strstr(x, "rule 0 \"back-to-pbx-core\" ("));
	assert_non_null(strstr(x, "reference-000-case2.dialplan:4)"));
	assert_non_null(strstr(x, "no: $localhost = ^true"));
	assert_non_null(strstr(x, "value \"false\" does not match"));
	assert_non_null(strstr(x, "MATCHES"));
	assert_non_null(strstr(x, "answer: SIP/2.0 603"));
	assert_null(strstr(x, "WARNING"));
	free(x);
	const char *err = NULL;
	struct sw_addr a = {.family = AF_INET, .bytes = {127, 0, 0, 1}};
	x = sw_ruleset_explain_text(rs, t.buf, strlen(t.buf), &a, 5056, 0, true, 0, &err);
	assert_non_null(x);
	assert_non_null(strstr(x, "target 1: 127.0.0.1:5052"));
	assert_non_null(strstr(x, "resulting message"));
	free(x);
	x = sw_ruleset_explain_text(rs, "garbage", 7, &a, 5056, 0, true, 0, &err);
	assert_null(x);
	assert_non_null(err);
	sw_ruleset_free(rs);
}

struct bad {
	const char *dp, *ars, *gw, *want;
};

static void
gateway_and_ars_errors(void **state)
{
	(void)state;
	static const struct bad cases[] = {
		{NULL, NULL, "{ \"a\": { \"param\": { \"realm\": \"h\" } }, }\n", "gateways.json:1:39: error: bad JSON"},
		{NULL, NULL, "{\n \"a\": {\n  \"param\": {\n   \"realm\": \"h\",\n   \"colour\": \"red\"\n }}}\n",
		 "gateways.json:5:4: error: unknown gateway parameter \"colour\" in \"a\""},
		{NULL, NULL, "{\"a\": {\"param\": {\"realm\": \"h\", \"register\": \"true\"}}}", "error: gateway \"a\" registers but has no \"username\""},
		{NULL, NULL, "{\"a\": {\"param\": {\"realm\": \"h:0\"}}}", "error: bad realm \"h:0\""},
		{NULL, NULL, "{\"a\": {\"param\": {}}}", "error: gateway \"a\" needs a \"realm\""},
		{NULL, NULL, "{\"a\": {\"param\": {\"realm\": \"h\", \"expire-seconds\": \"soon\"}}}", "error: \"expire-seconds\" of \"a\" must be"},
		{NULL, NULL, "{\"a\": {\"param\": {\"realm\": \"h\", \"register-transport\": \"sctp\"}}}", "must be udp or tcp"},
		{NULL, NULL, "{\"a\": {\"param\": {\"realm\": \"h\", \"destination-prefix\": \"9a\"}}}", "bad destination-prefix"},
		{NULL, NULL, "{\"a\": {\"param\": {\"realm\": \"h\"}, \"vars\": {}}}", "unknown key \"vars\""},
		{NULL, NULL, "[1]", "want an object keyed by gateway name"},
		{NULL, "[Route r]\ngateway = nope\n", NULL, "ars.txt:2:11: error: unknown gateway \"nope\""},
		{NULL, "[Route r]\ntarget = h\n[Pattern OUT]\nPlugin 1 = magic\n", NULL, "ars.txt:4:12: error: unknown plugin \"magic\""},
		{NULL, "[Route r]\ntarget = h\n[Pattern OUT]\nPlugin 1 = prop\nParam 1 = x\n", NULL, "ars.txt:4:1: error: plugin 1 needs Plugin 1, Param 1 and Return 1"},
		{NULL, "[Route r]\ntarget = h\n[Pattern OUT]\nTo = sip:(\n", NULL, "ars.txt:4:11: error: bad regular expression"},
		{NULL, "[Route r]\ntarget = h\n[Pattern IN]\npriority = high\n", NULL, "ars.txt:4:12: error: priority wants a number"},
		{NULL, "[Pattern IN]\n", NULL, "ars.txt:1:1: error: pattern outside a [Route name]"},
		{NULL, "[Route r]\nspeed = 3\n", NULL, "ars.txt:2:1: error: unknown route setting \"speed\""},
		{NULL, "[Route r]\n[Pattern OUT]\nTo = x\n", NULL, "error: route \"r\" has OUT patterns but neither gateway nor target"},
		{NULL, "[Route r]\ntarget = h\n[Pattern IN]\ndeploy Custom = nope\n", NULL, "ars.txt:4:17: error: Custom wants &property=value"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sw_diag d;
		sw_diag_init(&d);
		struct sw_ruleset *rs = tu_compile3(cases[i].dp, cases[i].ars, cases[i].gw, &d);
		if (rs != NULL || d.text == NULL || strstr(d.text, cases[i].want) == NULL) {
			print_error("case %zu: want \"%s\", got:\n%s\n", i, cases[i].want, d.text ? d.text : "(none)");
			fail();
		}
		sw_diag_free(&d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ref000_case1_example), cmocka_unit_test(ref000_literal_text),
		cmocka_unit_test(ref000_case2_example), cmocka_unit_test(ref001_ars),
		cmocka_unit_test(ref002_forwarding),    cmocka_unit_test(ref003_gateways),
		cmocka_unit_test(ref004_router),        cmocka_unit_test(explain_text),
		cmocka_unit_test(gateway_and_ars_errors),
	};
	return cmocka_run_group_tests_name("rules_reference", tests, NULL, NULL);
}
