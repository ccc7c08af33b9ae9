/* SPDX-License-Identifier: BSD-3-Clause */
/* Dial-plan files: good ones load, bad ones are refused whole with every
 * error as file:line:col: error: reason plus the echoed line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/rules_test_util.h"

struct bad_case {
	const char *text;
	const char *want; /* ":line:col: error: reason" as it must appear */
	const char *echo; /* the echoed line */
};

static const struct bad_case bad_cases[] = {
	{"[Rule a]\n[Matching Patterns]\n$requets = ^INVITE\n", ":3:1: error: unknown variable \"$requets\"",
	 "    >>> $requets = ^INVITE"},
	{"[Rule a]\n[Matching Patterns]\n$request ^INVITE\n", ":3:1: error: expected \"left = pattern\"",
	 "    >>> $request ^INVITE"},
	{"[Rule a]\n[Matching Patterns]\n$request = ^(INVITE\n", ":3:20: error: bad regular expression: missing closing parenthesis",
	 NULL},
	{"$request = ^INVITE\n", ":1:1: error: pattern outside a rule", NULL},
	{"[Rules a]\n", ":1:1: error: unknown section \"[Rules a]\"", NULL},
	{"[Rule a\n", ":1:1: error: missing ']'", NULL},
	{"[Rule a]\n[Matching Patterns]\n$request = ^INVITE\n[Deploy Patterns]\n$action = 42\n",
	 ":5:11: error: bad $action", NULL},
	{"[Rule a]\n[Deploy Patterns]\n$continue = maybe\n", ":3:13: error: want true or false", NULL},
	{"[Rule a]\n[Matching Patterns]\n$ruser = ^(1)\n[Deploy Patterns]\nTo = sip:%2@h\n",
	 ":5:10: error: %2 used but the rule's patterns capture 1 group", NULL},
	{"[Rule a]\n[Deploy Patterns]\n$bogus = 1\n", ":3:1: error: unknown deploy variable \"$bogus\"", NULL},
	{"[Rule a]\n[Deploy Patterns]\n$target = host:99999\n", ":3:11: error: bad target \"host:99999\"", NULL},
	{"include \"does-not-exist.txt\"\n", ":1:10: error: cannot read included file", NULL},
	{"[Rule a]\n[Matching Patterns]\n$addrPrefix(198.18.0.0) = true\n", ":3:1: error: bad CIDR", NULL},
	{"[Rule a]\n[Matching Patterns]\n$addrPrefix(198.18.0.0/40) = true\n", ":3:1: error: bad prefix length", NULL},
	{"[Rule a]\n[Matching Patterns]\n$timerange(25:00,10:00) = true\n", ":3:1: error: bad time", NULL},
	{"[Rule a]\n[Matching Patterns]\n$timerange(09:00,17:00,Mars/Olympus) = true\n", ":3:1: error: unknown time zone", NULL},
	{"[Rule a]\n[Matching Patterns]\n$geturi() = x\n", ":3:1: error: missing header name", NULL},
	{"[Rule a]\n[Matching Patterns]\n$param(Via) = x\n", ":3:1: error: \"$param\" takes 2 to 2 arguments, 1 given", NULL},
	{"[Rule a]\n[Matching Patterns]\nUser Agent = x\n", ":3:1: error: bad header name", NULL},
	{"[Rule a]\n[Matching Patterns]\nTo =\n", ":3:5: error: empty pattern", NULL},
	{"[Rule a]\nfoo = bar\n", ":2:1: error: unknown rule setting \"foo\"", NULL},
	{"[Rule a]\ndisabled = perhaps\n", ":2:12: error: disabled wants true or false", NULL},
	{"[Deploy Patterns]\n$action = 603\n", ":1:1: error: [Deploy Patterns] outside a rule", NULL},
	{"[Rule a]\n[Deploy Patterns]\nVia = x\n", ":3:1: error: header \"Via\" cannot be set", NULL},
	{"[Rule a]\n[Matching Patterns]\n$and($port=^1$, $bogus=1) = true\n", ":3:17: error: unknown variable \"$bogus\"", NULL},
	{"[Rule a]\n[Matching Patterns]\n$addrRange(198.18.0.9,198.18.0.1) = true\n", ":3:1: error: address range", NULL},
	{"[Rule a]\n[Deploy Patterns]\n$response = 99 Nope\n", ":3:13: error: bad $response", NULL},
	{"[Rule a]\n[Deploy Patterns]\nCustom: notaprop\n[Matching Patterns]\n", NULL, NULL},
	{"[Rule a]\n[Deploy Patterns]\n$target = a,b,c,d,e,f,g,h,i\n", ":3:11: error: 9 targets; at most 8", NULL},
	{"[Rule big]\n[Deploy Patterns]\nTo = sip:a@b\nX-1=1\nX-2=1\nX-3=1\nX-4=1\nX-5=1\nX-6=1\nX-7=1\nX-8=1\nX-9=1\nX-10=1\n"
	 "X-11=1\nX-12=1\nX-13=1\nX-14=1\nX-15=1\nX-16=1\nX-17=1\nX-18=1\nX-19=1\nX-20=1\nX-21=1\nX-22=1\nX-23=1\n",
	 ":1:1: error: rule \"big\" writes 25 edits; a result holds at most 24", NULL},
	{"[Rule a]\n[Matching Patterns]\n$ruser = 1\x00x\n", NULL, NULL},
};

static void
bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct sw_diag d;
		sw_diag_init(&d);
		struct sw_ruleset *rs = tu_compile(c->text, &d);
		if (c->want == NULL) {
			sw_ruleset_free(rs);
			sw_diag_free(&d);
			continue;
		}
		if (rs != NULL || d.errors == 0 || strstr(d.text, c->want) == NULL ||
		    (c->echo && strstr(d.text, c->echo) == NULL)) {
			print_error("case %zu: want \"%s\", got:\n%s\n", i, c->want, d.text ? d.text : "(none)");
			fail();
		}
		/* the location is the file we gave, and the line is echoed */
		assert_non_null(strstr(d.text, "dialplan.txt:"));
		sw_diag_free(&d);
	}
}

static void
all_errors_collected(void **state)
{
	(void)state;
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = tu_compile("[Rule a]\n[Matching Patterns]\n$requets = 1\n$ruser = ^(\n"
					   "[Deploy Patterns]\n$action = nope\n[Rule b]\n[Matching Patterns]\n"
					   "$method = ^INVITE$\n",
					   &d);
	assert_null(rs);
	assert_int_equal(d.errors, 3);
	assert_non_null(strstr(d.text, ":3:1: error: unknown variable"));
	assert_non_null(strstr(d.text, ":4:12: error: bad regular expression"));
	assert_non_null(strstr(d.text, ":6:11: error: bad $action"));
	assert_non_null(strstr(d.text, "    >>> $action = nope\n"));
	sw_diag_free(&d);
}

static void
good_forms(void **state)
{
	(void)state;
	struct sw_diag d;
	sw_diag_init(&d);
	/* comments, description, disabled, colon form, <empty>, flattened form, preliminary */
	struct sw_ruleset *rs = tu_compile(
		"# a comment\n"
		"[Preliminary Rule block-scanners]\n"
		"description = friendly-scanner\n"
		"[Matching Patterns]\nUser-Agent = friendly-scanner\n[Deploy Patterns]\n$action = block\n"
		"[Rule off]\ndisabled = true\n[Matching Patterns]\n$request = .\n"
		"[Rule r]\n[Matching Patterns]\n$request = ^INVITE\n[Deploy Patterns]\nX-A: <empty>\nX-B: v\nX-C += w\n"
		"[Matching Patterns] $request = ^INVITE $localhost = ^false X-PBX-Param = ^pin$ [Deploy Patterns] $action = 603\n",
		&d);
	if (rs == NULL)
		print_error("%s", d.text);
	assert_non_null(rs);
	struct sw_ruleset_info info;
	sw_ruleset_get_info(rs, &info);
	assert_int_equal(info.rules, 4);
	const char *file;
	unsigned line;
	assert_string_equal(sw_ruleset_rule_name(rs, 0, &file, &line), "block-scanners");
	assert_int_equal(line, 2);
	assert_string_equal(sw_ruleset_rule_name(rs, 3, &file, &line), "rule-19");
	struct sw_route_result r;
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", "User-Agent: friendly-scanner\n"), "198.18.0.7",
		 5060, 0, false, &r);
	assert_int_equal(r.action, SW_ROUTE_BLOCK);
	tu_match(rs, TU_INVITE("sip:1@h", "<sip:1@h>", ""), "198.18.0.7", 5060, 0, false, &r);
	assert_int_equal(r.rule, 2);
	assert_non_null(tu_edit(&r, SW_EDIT_HDR_DEL, "X-A"));
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_SET, "X-B"), "v");
	assert_string_equal(tu_edit(&r, SW_EDIT_HDR_ADD, "X-C"), "w");
	sw_ruleset_free(rs);
	sw_diag_free(&d);
}

static void
includes(void **state)
{
	(void)state;
	tu_write("inc-b.txt", "[Rule from-b]\n[Matching Patterns]\n$ruser = ^b$\n");
	tu_write("inc-loop.txt", "include \"inc-loop.txt\"\n");
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = tu_compile("[Rule a]\n[Matching Patterns]\n$ruser = ^a$\ninclude \"inc-b.txt\"\n"
					   "[Rule c]\n[Matching Patterns]\n$ruser = ^c$\n",
					   &d);
	assert_non_null(rs);
	const char *file;
	unsigned line;
	assert_string_equal(sw_ruleset_rule_name(rs, 1, &file, &line), "from-b");
	assert_non_null(strstr(file, "inc-b.txt"));
	assert_int_equal(line, 1);
	sw_ruleset_free(rs);
	rs = tu_compile("include \"inc-loop.txt\"\n", &d);
	assert_null(rs);
	assert_non_null(strstr(d.text, "include loop"));
	sw_diag_free(&d);
}

static void
never_crash_on_garbage(void **state)
{
	(void)state;
	static const char *g[] = {"", "\n\n", "[", "]", "[]", "=", "==", "[Rule]\n=\n", "[Matching Patterns]\n=\n",
				  "[Matching Patterns]\n$and(=) = 1\n", "[Matching Patterns]\n$and($and($and(a=b)=c)=d) = x\n",
				  "[Matching Patterns]\n$param(,) = 1\n", "[Matching Patterns] a\n",
				  "[Matching Patterns]\n$geturi(To = x\n", "\xef\xbb\xbf[Rule x]\n", "include\n",
				  "include \"\"\n", "[Rule a]\n[Deploy Patterns]\nTo = %{999}\n",
				  /* fuzz_rules: class repeated past what the trie expands */
				  "[Rule a]\n[Matching Patterns]\n$ruser = ^[0-9]{30}1$\n$ruser = ^(1|2){1000}$\n"};
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		struct sw_diag d;
		sw_diag_init(&d);
		struct sw_ruleset *rs = tu_compile(g[i], &d);
		assert_true(rs == NULL ? d.errors > 0 : d.errors == 0);
		sw_ruleset_free(rs);
		sw_diag_free(&d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_files),
		cmocka_unit_test(all_errors_collected),
		cmocka_unit_test(good_forms),
		cmocka_unit_test(includes),
		cmocka_unit_test(never_crash_on_garbage),
	};
	return cmocka_run_group_tests_name("rules_parse", tests, NULL, NULL);
}
