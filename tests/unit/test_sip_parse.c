/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SIP parser: ordinary messages field by field, then a table of messages and
 * the verdict each must get.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/dataplane.h"

#define CRLF "\r\n"

static struct sw_sip_msg msg;

/* Compare a span of the parsed message with a string (cmocka prints both). */
#define assert_span(s, str) assert_span_at(__FILE__, __LINE__, (s), (str))

static void
assert_span_at(const char *file, int line, struct sw_span s, const char *str)
{
	char got[1024];
	size_t n = s.len < sizeof(got) - 1 ? s.len : sizeof(got) - 1;

	memcpy(got, msg.buf + s.off, n);
	got[n] = 0;
	if (strcmp(got, str) != 0) {
		print_error("%s:%d: span \"%s\" != \"%s\"\n", file, line, got, str);
		fail();
	}
}

static enum sw_sip_verdict
parse(const char *s)
{
	return sw_sip_parse(&msg, s, strlen(s));
}

static const char invite[] =
	"INVITE sip:+15551234567@gw.example.com:5070;user=phone;transport=udp SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK776asdhds;rport" CRLF
	"Via: SIP/2.0/TCP [2001:db8::1]:5062;branch=z9hG4bK12;received=198.18.0.9, "
	"SIP/2.0/UDP client.example.com;branch=z9hG4bK3" CRLF "Max-Forwards: 70" CRLF
	"To: Bob <sip:bob@example.com>" CRLF
	"From: \"Alice \\\"A\\\"\" <sip:alice:secret@example.com>;tag=1928301774" CRLF
	"Call-ID: a84b4c76e66710@pc33.example.com" CRLF "CSeq: 314159 INVITE" CRLF
	"Contact: <sip:alice@198.18.0.1:5060;transport=udp>" CRLF
	"Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>" CRLF "X-Custom: one" CRLF
	"x-custom: two" CRLF "Content-Type: application/sdp" CRLF "Content-Length: 5" CRLF CRLF
	"v=0" CRLF "trailing junk";

static void
invite_fields(void **state)
{
	(void)state;
	assert_int_equal(parse(invite), SW_SIP_OK);
	assert_true(msg.is_request);
	assert_int_equal(msg.method, SW_METHOD_INVITE);
	assert_span(msg.method_name, "INVITE");
	assert_span(msg.version, "SIP/2.0");
	assert_span(msg.start_line, "INVITE sip:+15551234567@gw.example.com:5070;user=phone;"
				    "transport=udp SIP/2.0");
	assert_span(msg.ruri.scheme, "sip");
	assert_int_equal(msg.ruri.scheme_type, SW_SCHEME_SIP);
	assert_span(msg.ruri.user, "+15551234567");
	assert_span(msg.ruri.host, "gw.example.com");
	assert_int_equal(msg.ruri.host_type, SW_HOST_NAME);
	assert_span(msg.ruri.port, "5070");
	assert_int_equal(msg.ruri.port_num, 5070);
	assert_span(msg.ruri.params, "user=phone;transport=udp");
	assert_int_equal(msg.ruri.headers.len, 0);

	/* two or more: SW_SIP_MORE_VIA counts them */
	assert_int_equal(msg.nvia, 2);
	assert_span(msg.via[0].transport, "UDP");
	assert_span(msg.via[0].host, "198.18.0.1");
	assert_int_equal(msg.via[0].host_type, SW_HOST_IPV4);
	assert_int_equal(msg.via[0].port_num, 5060);
	assert_span(msg.via[0].branch, "z9hG4bK776asdhds");
	assert_true(msg.via[0].has_rport);
	assert_int_equal(msg.via[0].rport.len, 0);
	assert_span(msg.via[0].params, "branch=z9hG4bK776asdhds;rport");
	assert_span(msg.via[0].all, "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK776asdhds;rport");
	assert_int_equal(msg.via[0].hdr, 0);
	/* a request's second entry only on demand (RFC 3261 §16.3 step 1) */
	assert_int_equal(msg.via[1].all.len, 0);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_VIA), 0);
	assert_int_equal(msg.nvia, 3);
	assert_span(msg.via[1].transport, "TCP");
	assert_span(msg.via[1].host, "[2001:db8::1]");
	assert_int_equal(msg.via[1].host_type, SW_HOST_IPV6);
	assert_int_equal(msg.via[1].port_num, 5062);
	assert_span(msg.via[1].received, "198.18.0.9");
	assert_int_equal(msg.via[1].hdr, 1);

	assert_int_equal(msg.max_forwards, 70);
	/* From and To: tag, display and params now, the URI split on demand */
	assert_int_equal(msg.to.uri.all.len, 0);
	assert_int_equal(msg.ncontact, 0);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_ALL), 0);
	assert_int_equal(msg.more_done, SW_SIP_MORE_ALL);
	assert_span(msg.to.display, "Bob");
	assert_span(msg.to.uri.all, "sip:bob@example.com");
	assert_int_equal(msg.to.tag.len, 0);
	assert_span(msg.from.display, "\"Alice \\\"A\\\"\"");
	assert_span(msg.from.uri.user, "alice");
	assert_span(msg.from.uri.password, "secret");
	assert_span(msg.from.tag, "1928301774");
	assert_span(msg.from.params, "tag=1928301774");
	assert_span(msg.call_id, "a84b4c76e66710@pc33.example.com");
	assert_int_equal(msg.cseq_num, 314159);
	assert_span(msg.cseq_method, "INVITE");
	assert_int_equal(msg.ncontact, 1);
	assert_span(msg.contact.uri.host, "198.18.0.1");
	assert_int_equal(msg.nroute, 2);
	assert_span(msg.route.uri.all, "sip:p1.example.com;lr");
	assert_int_equal(msg.content_length, 5);
	assert_span(msg.body, "v=0" CRLF);
	/* the trailing junk is cut: Content-Length rules over UDP (§18.3) */
	assert_int_equal(msg.len, strlen(invite) - strlen("trailing junk"));
	assert_int_equal(msg.hdr_end.len, 2);
	assert_int_equal(msg.hdr_end.off + 2, msg.body.off);
	assert_int_equal(msg.nhdr, 13);
	assert_int_equal(msg.reply_code, 0);
}

static void
invite_lines(void **state)
{
	const struct sw_sip_hdr *h;

	(void)state;
	assert_int_equal(parse(invite), SW_SIP_OK);
	assert_int_equal(msg.first[SW_HDR_VIA], 0);
	assert_int_equal(msg.first[SW_HDR_MAX_FORWARDS], 2);
	assert_int_equal(msg.first[SW_HDR_EXPIRES], 0xff);
	h = &msg.hdr[msg.first[SW_HDR_MAX_FORWARDS]];
	assert_span(h->name, "Max-Forwards");
	assert_span(h->value, "70");
	assert_span(h->line, "Max-Forwards: 70" CRLF);
	assert_int_equal(h->type, SW_HDR_MAX_FORWARDS);

	h = sw_sip_hdr_find(&msg, "x-CUSTOM", 8);
	assert_non_null(h);
	assert_span(h->value, "one");
	h = sw_sip_hdr_next(&msg, h);
	assert_non_null(h);
	assert_span(h->value, "two");
	assert_null(sw_sip_hdr_next(&msg, h));
	assert_null(sw_sip_hdr_find(&msg, "X-Other", 7));
	h = sw_sip_hdr_find(&msg, "v", 1);
	assert_non_null(h);
	assert_int_equal(h - msg.hdr, 0);
	h = sw_sip_hdr_next(&msg, h);
	assert_non_null(h);
	assert_int_equal(h - msg.hdr, 1);
	assert_null(sw_sip_hdr_next(&msg, h));
	h = sw_sip_hdr_find(&msg, "call-id", 7);
	assert_non_null(h);
	assert_span(h->value, "a84b4c76e66710@pc33.example.com");
}

static const char ok200[] =
	"SIP/2.0 200 OK" CRLF
	"v: SIP/2.0/UDP 198.18.0.2;branch=z9hG4bKnashds8;received=198.18.0.3" CRLF
	"t: <sip:bob@example.com>;tag=a6c85cf" CRLF "f: <sip:alice@example.com>;tag=1928301774" CRLF
	"i: a84b4c76e66710" CRLF "CSeq: 314159 INVITE" CRLF "m: <sip:bob@198.18.0.4>" CRLF
	"l: 0" CRLF CRLF;

static void
response_fields(void **state)
{
	(void)state;
	assert_int_equal(parse(ok200), SW_SIP_OK);
	assert_false(msg.is_request);
	assert_int_equal(msg.status, 200);
	assert_span(msg.reason_phrase, "OK");
	assert_int_equal(msg.method, SW_METHOD_INVITE);
	assert_int_equal(msg.nvia, 1);
	assert_span(msg.via[0].received, "198.18.0.3");
	assert_span(msg.to.tag, "a6c85cf");
	assert_span(msg.from.tag, "1928301774");
	assert_span(msg.call_id, "a84b4c76e66710");
	assert_int_equal(msg.content_length, 0);
	assert_int_equal(msg.body.len, 0);
	assert_int_equal(msg.len, strlen(ok200));
	assert_int_equal(msg.max_forwards, -1);
	assert_int_equal(msg.first[SW_HDR_CONTENT_LENGTH], 6);
}

static void
uri_api(void **state)
{
	static const char b[] =
		"sips:user;x=1:pw%41@[2001:db8::10]:5061;lr;maddr=[2001:db8::1]?h=v";
	struct sw_sip_uri u;
	struct sw_span v;

	(void)state;
	msg.buf = b;
	assert_int_equal(sw_sip_uri_parse(b, (struct sw_span){0, sizeof(b) - 1}, &u), 0);
	assert_int_equal(u.scheme_type, SW_SCHEME_SIPS);
	assert_span(u.user, "user;x=1");
	assert_span(u.password, "pw%41");
	assert_span(u.host, "[2001:db8::10]");
	assert_int_equal(u.host_type, SW_HOST_IPV6);
	assert_int_equal(u.port_num, 5061);
	assert_span(u.params, "lr;maddr=[2001:db8::1]");
	assert_span(u.headers, "h=v");
	assert_int_equal(sw_sip_param_find(b, u.params, "LR", 2, &v), 1);
	assert_int_equal(v.len, 0);
	assert_int_equal(sw_sip_param_find(b, u.params, "maddr", 5, &v), 1);
	assert_span(v, "[2001:db8::1]");
	assert_int_equal(sw_sip_param_find(b, u.params, "ttl", 3, &v), 0);
}

static void
nameaddr_api(void **state)
{
	static const char b[] = "\"A, B\" <sip:a@b.example.com;lr>;tag=x1 , tel:+1-555;q=0.5";
	struct sw_sip_nameaddr na;
	struct sw_span list = {0, sizeof(b) - 1};
	uint32_t pos = 0;

	(void)state;
	msg.buf = b;
	assert_int_equal(sw_sip_nameaddr_next(b, list, &pos, &na), 1);
	assert_span(na.display, "\"A, B\"");
	assert_span(na.uri.all, "sip:a@b.example.com;lr");
	assert_span(na.tag, "x1");
	assert_int_equal(sw_sip_nameaddr_next(b, list, &pos, &na), 1);
	assert_span(na.uri.all, "tel:+1-555");
	assert_int_equal(na.uri.scheme_type, SW_SCHEME_TEL);
	assert_span(na.uri.user, "+1-555");
	assert_span(na.params, "q=0.5");
	assert_int_equal(sw_sip_nameaddr_next(b, list, &pos, &na), 0);
	assert_int_equal(sw_sip_nameaddr_parse(b, list, &na), -EINVAL);
}

/* ---- verdict table ---------------------------------------------------- */

#define REQ_HDRS                                                                                   \
	"Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK1" CRLF "Max-Forwards: 70" CRLF                 \
	"To: <sip:bob@example.com>" CRLF "From: <sip:alice@example.com>;tag=1" CRLF                \
	"Call-ID: c1@example.com" CRLF
#define OPT_LINE "OPTIONS sip:bob@example.com SIP/2.0" CRLF

struct vcase {
	const char *name;
	const char *msg;
	enum sw_sip_verdict verdict;
	uint16_t code;	    /* for SW_SIP_REPLY */
	const char *reason; /* substring of m->reason, or NULL */
	uint8_t drop;
};

static const struct vcase vcases[] = {
	{"minimal", OPT_LINE REQ_HDRS "CSeq: 1 OPTIONS" CRLF CRLF, SW_SIP_OK, 0, NULL, 0},
	{"no body, no Content-Length", OPT_LINE REQ_HDRS "CSeq: 1 OPTIONS" CRLF CRLF "abc",
	 SW_SIP_OK, 0, NULL, 0},
	{"missing Call-ID",
	 OPT_LINE "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1" CRLF
		  "To: <sip:b@example.com>" CRLF "From: <sip:a@example.com>;tag=1" CRLF
		  "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_REPLY, 400, "missing Call-ID", 0},
	{"missing From",
	 OPT_LINE "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1" CRLF
		  "To: <sip:b@example.com>" CRLF "Call-ID: x" CRLF "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_REPLY, 400, "missing From", 0},
	{"missing To",
	 OPT_LINE "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1" CRLF
		  "From: <sip:a@example.com>;tag=1" CRLF "Call-ID: x" CRLF
		  "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_REPLY, 400, "missing To", 0},
	{"missing CSeq", OPT_LINE REQ_HDRS CRLF, SW_SIP_REPLY, 400, "missing CSeq", 0},
	{"no Via",
	 OPT_LINE "To: <sip:b@example.com>" CRLF "From: <sip:a@example.com>;tag=1" CRLF
		  "Call-ID: x" CRLF "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_DROP, 0, NULL, SW_SIP_DROP_NO_VIA},
	{"bad top Via",
	 OPT_LINE "Via: SIP/2.0 198.18.0.1" CRLF "To: <sip:b@example.com>" CRLF
		  "From: <sip:a@example.com>;tag=1" CRLF "Call-ID: x" CRLF
		  "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_DROP, 0, NULL, SW_SIP_DROP_BAD_VIA},
	/*
	 * A request's Via entries under the top one are nothing its forwarding
	 * reads (RFC 3261 §16.3 step 1): forwarded as they are, as Kamailio
	 * does; SW_SIP_MORE_VIA finds the fault (bad_second_via below). A
	 * response is sent on to its second entry, so there it is a drop.
	 */
	{"bad second Via", OPT_LINE REQ_HDRS "Via: SIP/2.0/UDP" CRLF "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_OK, 0, NULL, 0},
	{"response bad second Via",
	 "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK1" CRLF
	 "Via: SIP/2.0/UDP" CRLF "To: <sip:b@example.com>;tag=2" CRLF
	 "From: <sip:a@example.com>;tag=1" CRLF "Call-ID: x" CRLF "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_DROP, 0, "malformed Via", SW_SIP_DROP_BAD_RESPONSE},
	{"version 3.0",
	 "OPTIONS sip:bob@example.com SIP/3.0" CRLF REQ_HDRS "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_REPLY, 505, "Version Not Supported", 0},
	{"lower-case version",
	 "OPTIONS sip:bob@example.com sip/2.0" CRLF REQ_HDRS "CSeq: 1 OPTIONS" CRLF CRLF, SW_SIP_OK,
	 0, NULL, 0},
	{"garbage version",
	 "OPTIONS sip:bob@example.com HTTP/1.1" CRLF REQ_HDRS "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_REPLY, 400, "SIP-Version", 0},
	{"Max-Forwards not a number",
	 OPT_LINE REQ_HDRS "CSeq: 1 OPTIONS" CRLF "Max-Forwards: ten" CRLF CRLF, SW_SIP_REPLY, 400,
	 "Max-Forwards", 0},
	{"Max-Forwards zero",
	 OPT_LINE "Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK1" CRLF "Max-Forwards: 0" CRLF
		  "To: <sip:bob@example.com>" CRLF "From: <sip:alice@example.com>;tag=1" CRLF
		  "Call-ID: c1@example.com" CRLF "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_OK, 0, NULL, 0},
	{"Content-Length beyond datagram",
	 OPT_LINE REQ_HDRS "CSeq: 1 OPTIONS" CRLF "Content-Length: 10" CRLF CRLF "12345",
	 SW_SIP_REPLY, 400, "Content-Length", 0},
	{"response without Via",
	 "SIP/2.0 200 OK" CRLF "To: <sip:b@example.com>;tag=2" CRLF
	 "From: <sip:a@example.com>;tag=1" CRLF "Call-ID: x" CRLF "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_DROP, 0, NULL, SW_SIP_DROP_BAD_RESPONSE},
	{"response missing CSeq",
	 "SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK1" CRLF
	 "To: <sip:b@example.com>;tag=2" CRLF "From: <sip:a@example.com>;tag=1" CRLF
	 "Call-ID: x" CRLF CRLF,
	 SW_SIP_DROP, 0, NULL, SW_SIP_DROP_BAD_RESPONSE},
	{"response bad version",
	 "SIP/3.0 200 OK" CRLF "Via: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK1" CRLF
	 "To: <sip:b@example.com>;tag=2" CRLF "From: <sip:a@example.com>;tag=1" CRLF
	 "Call-ID: x" CRLF "CSeq: 1 OPTIONS" CRLF CRLF,
	 SW_SIP_DROP, 0, NULL, SW_SIP_DROP_BAD_RESPONSE},
	{"keep-alive", CRLF CRLF, SW_SIP_DROP, 0, NULL, SW_SIP_DROP_KEEPALIVE},
	{"empty", "", SW_SIP_DROP, 0, NULL, SW_SIP_DROP_NOT_SIP},
	{"HTTP request", "GET / HTTP/1.1\r\n\r\n", SW_SIP_DROP, 0, NULL, SW_SIP_DROP_NO_VIA},
	{"not SIP", "\x16\x03\x01\x02\x00\x01\x00", SW_SIP_DROP, 0, NULL, SW_SIP_DROP_NOT_SIP},
	{"truncated headers", OPT_LINE REQ_HDRS "CSeq: 1 OPT", SW_SIP_REPLY, 400, "not terminated",
	 0},
};

static void
verdict_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		enum sw_sip_verdict v = parse(c->msg);

		if (v != c->verdict || (v == SW_SIP_REPLY && msg.reply_code != c->code) ||
		    (c->reason && (!msg.reason || !strstr(msg.reason, c->reason))) ||
		    (v == SW_SIP_DROP && msg.drop != c->drop)) {
			print_error("case \"%s\": verdict %d code %u drop %u reason \"%s\"\n",
				    c->name, v, msg.reply_code, msg.drop,
				    msg.reason ? msg.reason : "");
			fail();
		}
	}
}

/* A request's second Via: parsed on demand, into via[1]. */
static void
bad_second_via(void **state)
{
	(void)state;
	assert_int_equal(
		parse(OPT_LINE REQ_HDRS "Via: SIP/2.0/UDP" CRLF "CSeq: 1 OPTIONS" CRLF CRLF),
		SW_SIP_OK);
	assert_int_equal(msg.nvia, 2);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_VIA), -EINVAL);
	assert_non_null(strstr(msg.more_reason, "malformed Via"));
	assert_int_equal(parse(OPT_LINE REQ_HDRS
			       "v: SIP/2.0/TCP 198.18.0.2:5062;received=198.18.0.3, "
			       "SIP/2.0/UDP" CRLF "CSeq: 1 OPTIONS" CRLF CRLF),
			 SW_SIP_OK);
	assert_int_equal(msg.nvia, 2);
	assert_int_equal(msg.via[1].all.len, 0);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_VIA), -EINVAL);
	assert_int_equal(msg.nvia, 3);
	assert_string_equal(msg.more_reason, "Bad Request - malformed Via");
	assert_span(msg.via[1].host, "198.18.0.2");
	assert_int_equal(msg.via[1].port_num, 5062);
	assert_span(msg.via[1].received, "198.18.0.3");
	assert_int_equal(msg.via[1].hdr, 5);
}

static void
too_large(void **state)
{
	static char big[SW_SIP_MAX_MSG + 100];
	size_t hl;

	(void)state;
	hl = (size_t)snprintf(big, sizeof(big), OPT_LINE REQ_HDRS "CSeq: 1 OPTIONS" CRLF CRLF);
	memset(big + hl, 'x', sizeof(big) - hl);
	assert_int_equal(sw_sip_parse(&msg, big, sizeof(big)), SW_SIP_REPLY);
	assert_int_equal(msg.reply_code, 513);
	assert_int_equal(msg.nvia, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(invite_fields),   cmocka_unit_test(invite_lines),
		cmocka_unit_test(response_fields), cmocka_unit_test(uri_api),
		cmocka_unit_test(nameaddr_api),	   cmocka_unit_test(verdict_table),
		cmocka_unit_test(bad_second_via),  cmocka_unit_test(too_large),
	};
	return cmocka_run_group_tests_name("sip_parse", tests, NULL, NULL);
}
