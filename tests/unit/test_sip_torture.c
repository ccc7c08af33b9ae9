/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every message of RFC 4475 §3.1.1 - §3.4 and RFC 5118 §4, with the verdict
 * the RFC expects of a stateless proxy (RFC 3261 §16.3, §18.3).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/dataplane.h"
#include "sip_testdata.h"

static struct sw_sip_msg msg;
static char buf[SW_SIP_MAX_MSG];

struct tcase {
	const char *file;
	enum sw_sip_verdict verdict;
	uint16_t code;	    /* SW_SIP_REPLY: the answer */
	const char *reason; /* substring of msg.reason, or NULL */
};

#define OK(f)                                                                                      \
	{                                                                                          \
		f, SW_SIP_OK, 0, NULL                                                              \
	}
#define REPLY(f, c, r)                                                                             \
	{                                                                                          \
		f, SW_SIP_REPLY, c, r                                                              \
	}
#define DROP(f, r)                                                                                 \
	{                                                                                          \
		f, SW_SIP_DROP, 0, r                                                               \
	}

static const struct tcase cases[] = {
	/* §3.1.1 valid messages: all routable */
	OK("rfc4475/wsinv"),
	OK("rfc4475/intmeth"),
	OK("rfc4475/esc01"),
	OK("rfc4475/escnull"),
	OK("rfc4475/esc02"),
	OK("rfc4475/lwsdisp"),
	OK("rfc4475/longreq"),
	OK("rfc4475/dblreq"),
	OK("rfc4475/semiuri"),
	OK("rfc4475/transports"),
	OK("rfc4475/mpart01"),
	OK("rfc4475/unreason"),
	OK("rfc4475/noreason"),
	/* §3.1.2 invalid messages: 400 for requests, responses are discarded */
	REPLY("rfc4475/badinv01", 400, "Via"),
	REPLY("rfc4475/clerr", 400, "Content-Length"),
	REPLY("rfc4475/ncl", 400, "Content-Length"),
	REPLY("rfc4475/scalar02", 400, "CSeq"),
	DROP("rfc4475/scalarlg", "CSeq"),
	REPLY("rfc4475/quotbal", 400, "To"),
	REPLY("rfc4475/ltgtruri", 400, "Request-URI"),
	REPLY("rfc4475/lwsruri", 400, "Request-Line"),
	REPLY("rfc4475/lwsstart", 400, "Request-Line"),
	REPLY("rfc4475/trws", 400, "Request-Line"),
	REPLY("rfc4475/escruri", 400, "Request-URI"),
	/* a proxy does not read Date: it forwards (§3.1.2.12) */
	OK("rfc4475/baddate"),
	/*
	 * §3.1.2.13: the Contact URI with an escaped header is not in angle
	 * brackets. Only the registrar reads a REGISTER's Contact; a proxy
	 * forwards it as it is (RFC 3261 §16.3 step 1: "Any other components,
	 * well-formed or not, SHOULD be ignored and remain unchanged when the
	 * message is forwarded"), and sw_sip_parse_more() still finds the
	 * fault for whoever reads Contact (see details()).
	 */
	OK("rfc4475/regbadct"),
	/* §3.1.2.14 allows forwarding or 400; a name-addr with spaces is refused */
	REPLY("rfc4475/badaspec", 400, "To"),
	REPLY("rfc4475/baddn", 400, "From"),
	REPLY("rfc4475/badvers", 505, "Version"),
	REPLY("rfc4475/mismatch01", 400, "CSeq method"),
	REPLY("rfc4475/mismatch02", 400, "CSeq method"),
	DROP("rfc4475/bigcode", "Status-Code"),
	/* §3.2.1: a branch without the magic cookie is RFC 2543 style, still routable */
	OK("rfc4475/badbranch"),
	/* §3.3 application layer */
	REPLY("rfc4475/insuf", 400, "missing"),
	REPLY("rfc4475/unkscm", 416, "Unsupported URI Scheme"),
	/* soap.beep is a scheme we do not route (§16.3 step 2) */
	REPLY("rfc4475/novelsc", 416, "Unsupported URI Scheme"),
	OK("rfc4475/unksm2"),
	REPLY("rfc4475/bext01", 420, "Bad Extension"),
	OK("rfc4475/invut"),
	OK("rfc4475/regaut01"),
	REPLY("rfc4475/multi01", 400, "more than one"),
	REPLY("rfc4475/mcl01", 400, "Content-Length"),
	OK("rfc4475/bcast"),
	/* Max-Forwards 0: the proxy answers 483 when it would forward (§16.3 step 3) */
	OK("rfc4475/zeromf"),
	OK("rfc4475/cparam01"),
	OK("rfc4475/cparam02"),
	OK("rfc4475/regescrt"),
	OK("rfc4475/sdp01"),
	/* §3.4 RFC 2543 syntax */
	OK("rfc4475/inv2543"),
	/* RFC 5118 */
	OK("rfc5118/ipv6-good"),
	REPLY("rfc5118/ipv6-bad", 400, "Request-URI"),
	OK("rfc5118/port-ambiguous"),
	OK("rfc5118/port-unambiguous"),
	OK("rfc5118/via-received-param-with-delim"),
	OK("rfc5118/via-received-param-no-delim"),
	OK("rfc5118/ipv6-in-sdp"),
	OK("rfc5118/mult-ip-in-header"),
	OK("rfc5118/mult-ip-in-sdp"),
	OK("rfc5118/ipv4-mapped-ipv6"),
	/* §4.10: "an implementation must tolerate both of the above constructs" */
	OK("rfc5118/ipv6-bug-abnf-3-colons"),
	OK("rfc5118/ipv6-correct-abnf-2-colons"),
};

static long
load(const char *name)
{
	long n = sip_testdata_load(name, buf, sizeof(buf));

	if (n < 0) {
		print_error("cannot load %s\n", name);
		fail();
	}
	return n;
}

static void
span_is(struct sw_span s, const char *str)
{
	if (s.len != strlen(str) || memcmp(buf + s.off, str, s.len) != 0) {
		print_error("span \"%.*s\" != \"%s\"\n", s.len, buf + s.off, str);
		fail();
	}
}

static void
verdicts(void **state)
{
	unsigned bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		long n = load(c->file);
		enum sw_sip_verdict v = sw_sip_parse(&msg, buf, (size_t)n);

		if (v != c->verdict || (v == SW_SIP_REPLY && msg.reply_code != c->code) ||
		    (c->reason && (!msg.reason || !strstr(msg.reason, c->reason)))) {
			print_error("%s: verdict %d code %u reason \"%s\"\n", c->file, v,
				    msg.reply_code, msg.reason ? msg.reason : "");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
wsinv(void **state)
{
	(void)state;
	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/wsinv")), SW_SIP_OK);
	assert_int_equal(msg.max_forwards, 68);
	assert_int_equal(msg.cseq_num, 9);
	span_is(msg.cseq_method, "INVITE");
	span_is(msg.to.tag, "1918181833n");
	span_is(msg.from.tag, "98asjd8");
	span_is(msg.from.display, "\"J Rosenberg \\\\\\\"\"");
	/* more than one; counted on demand */
	assert_int_equal(msg.nvia, 2);
	span_is(msg.via[0].transport, "UDP");
	span_is(msg.via[0].host, "192.0.2.2");
	span_is(msg.via[0].branch, "390skdjuw");
	/* a request's second entry: on demand (RFC 3261 §16.3 step 1) */
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_VIA), 0);
	assert_int_equal(msg.nvia, 3);
	span_is(msg.via[1].transport, "TCP");
	span_is(msg.via[1].host, "spindle.example.com");
	span_is(msg.via[1].branch, "z9hG4bK9ikj8");
	span_is(msg.hdr[msg.via[1].hdr].name, "v");
	assert_int_equal(msg.via[0].hdr, msg.first[SW_HDR_VIA]);
	span_is(msg.route.uri.host, "services.example.com");
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_ALL), 0);
	assert_int_equal(msg.ncontact, 1);
	span_is(msg.contact.display, "\"Quoted string \\\"\\\"\"");
	assert_int_equal(msg.content_length, 150);
	/* the folded NewFangledHeader keeps both lines in its value and line */
	{
		const struct sw_sip_hdr *h = sw_sip_hdr_find(&msg, "newfangledheader", 16);

		assert_non_null(h);
		span_is(h->value, "newfangled value\r\n continued newfangled value");
		span_is(h->line, "NewFangledHeader:   newfangled value\r\n continued newfangled "
				 "value\r\n");
		h = sw_sip_hdr_find(&msg, "Subject", 7);
		assert_non_null(h);
		assert_int_equal(h->value.len, 0);
	}
}

static void
details(void **state)
{
	(void)state;
	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/longreq")), SW_SIP_OK);
	assert_int_equal(msg.nvia, 2);
	span_is(msg.via[0].host, "sip33.example.com");
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_VIA), 0);
	assert_int_equal(msg.nvia, 34);
	span_is(msg.via[1].host, "sip32.example.com");

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/dblreq")), SW_SIP_OK);
	assert_int_equal(msg.body.len, 0);
	assert_int_equal(msg.len, msg.hdr_end.off + 2);

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/intmeth")), SW_SIP_OK);
	assert_int_equal(msg.method, SW_METHOD_OTHER);
	span_is(msg.ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	span_is(msg.ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	span_is(msg.from.display, "token1~` token2'+_ token3*%!.-");
	span_is(msg.from.tag, "_token~1'+`*%!-.");

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/esc02")), SW_SIP_OK);
	assert_int_equal(msg.method, SW_METHOD_OTHER);
	/* C%6Fntact is not Contact: escapes do not apply to header names */
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_CONTACT), 0);
	assert_int_equal(msg.ncontact, 2);

	/* the lazy Contact parse still refuses regbadct's bracketless URI with headers */
	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/regbadct")), SW_SIP_OK);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_CONTACT), -EINVAL);
	assert_int_equal(msg.more_bad, SW_SIP_MORE_CONTACT);
	assert_non_null(strstr(msg.more_reason, "Contact"));
	/* asked again: reported, not parsed again */
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_ALL), -EINVAL);
	assert_int_equal(msg.more_bad, SW_SIP_MORE_CONTACT);

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/noreason")), SW_SIP_OK);
	assert_int_equal(msg.status, 100);
	assert_int_equal(msg.reason_phrase.len, 0);

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/bext01")), SW_SIP_REPLY);
	span_is(msg.unsupported, "noProxiesSupportThis, norDoAnyProxiesSupportThis");

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/zeromf")), SW_SIP_OK);
	assert_int_equal(msg.max_forwards, 0);

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/unksm2")), SW_SIP_OK);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_FROM_TO), 0);
	assert_int_equal(msg.to.uri.scheme_type, SW_SCHEME_OTHER);
	span_is(msg.to.uri.all, "isbn:2983792873");

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc4475/semiuri")), SW_SIP_OK);
	span_is(msg.ruri.user, "user;par=u%40example.net");
	assert_int_equal(msg.ruri.params.len, 0);
}

static void
ipv6(void **state)
{
	(void)state;
	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc5118/port-ambiguous")),
			 SW_SIP_OK);
	span_is(msg.ruri.host, "[2001:db8::10:5070]");
	assert_int_equal(msg.ruri.port.len, 0);
	assert_int_equal(msg.ruri.host_type, SW_HOST_IPV6);

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc5118/port-unambiguous")),
			 SW_SIP_OK);
	span_is(msg.ruri.host, "[2001:db8::10]");
	assert_int_equal(msg.ruri.port_num, 5070);

	assert_int_equal(
		sw_sip_parse(&msg, buf, (size_t)load("rfc5118/via-received-param-with-delim")),
		SW_SIP_OK);
	span_is(msg.via[0].received, "[2001:db8::9:255]");
	assert_int_equal(
		sw_sip_parse(&msg, buf, (size_t)load("rfc5118/via-received-param-no-delim")),
		SW_SIP_OK);
	span_is(msg.via[0].received, "2001:db8::9:255");
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_CONTACT), 0);
	span_is(msg.contact.uri.host, "[2001:db8::9:1]");

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc5118/mult-ip-in-header")),
			 SW_SIP_OK);
	assert_int_equal(msg.nvia, 2);
	span_is(msg.via[0].host, "[2001:db8::9:1]");
	assert_int_equal(msg.via[0].port_num, 6050);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_VIA), 0);
	assert_int_equal(msg.nvia, 3);
	assert_int_equal(msg.via[1].host_type, SW_HOST_IPV4);

	assert_int_equal(sw_sip_parse(&msg, buf, (size_t)load("rfc5118/ipv4-mapped-ipv6")),
			 SW_SIP_OK);
	span_is(msg.via[0].host, "[::ffff:192.0.2.10]");
	assert_int_equal(msg.via[0].port_num, 19823);
	assert_int_equal(msg.via[0].host_type, SW_HOST_IPV6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdicts),
		cmocka_unit_test(wsinv),
		cmocka_unit_test(details),
		cmocka_unit_test(ipv6),
	};
	return cmocka_run_group_tests_name("sip_torture", tests, NULL, NULL);
}
