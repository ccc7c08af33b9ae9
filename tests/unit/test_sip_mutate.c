/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mutations of a good message (truncations, NUL bytes, lost CRLFs, overlong
 * fields, huge Content-Length, 64 KB datagrams) and the syntax corners the
 * issue lists (folding, compact forms, repeated and comma-separated headers,
 * IPv6 references everywhere). Every parse is also checked for spans that
 * leave the message.
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
static char buf[SW_SIP_MAX_MSG + 1024];

static const char good[] =
	"INVITE sip:bob@[2001:db8::5]:5060;transport=udp SIP/2.0" CRLF
	"Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;maddr=[2001:db8::9];ttl=16" CRLF
	"v: SIP/2.0/UDP 198.18.0.1;branch=z9hG4bK0;received=2001:db8::2;rport=5070" CRLF
	"Max-Forwards: 70" CRLF "f: \"A \\\"q\\\"\" <sip:alice@[2001:db8::1]>;tag=a1" CRLF
	"t: <sip:bob@[2001:db8::5]>" CRLF "i: m1@[2001:db8::1]" CRLF "CSeq: 1 INVITE" CRLF
	"m: <sip:alice@[2001:db8::1]:5062>;expires=60" CRLF "Route: <sip:[2001:db8::7];lr>," CRLF
	"  <sip:198.18.0.7;lr>" CRLF "c: application/sdp" CRLF "l: 5" CRLF CRLF "v=0" CRLF;

/* The promises of dataplane.h that hold for every input. */
static void
check_index(size_t len)
{
	size_t lim = len < SW_SIP_MAX_MSG ? len : SW_SIP_MAX_MSG;

	assert_true(msg.len <= lim);
	assert_true(msg.nhdr <= SW_SIP_MAX_HDRS);
	for (unsigned i = 0; i < msg.nhdr; i++) {
		assert_true((size_t)msg.hdr[i].line.off + msg.hdr[i].line.len <= lim);
		assert_true((size_t)msg.hdr[i].value.off + msg.hdr[i].value.len <= lim);
	}
	assert_true((size_t)msg.body.off + msg.body.len <= lim);
	assert_true((size_t)msg.hdr_end.off + msg.hdr_end.len <= lim);
	for (unsigned t = 0; t < SW_HDR__COUNT; t++)
		assert_true(msg.first[t] == 0xff || msg.first[t] < msg.nhdr);
}

static enum sw_sip_verdict
parse_n(const char *s, size_t n)
{
	/* a heap copy of exactly n bytes: a read past the end is an ASAN error */
	char *copy = malloc(n ? n : 1);
	enum sw_sip_verdict v;

	memcpy(copy, s, n);
	v = sw_sip_parse(&msg, copy, n);
	check_index(n);
	free(copy);
	return v;
}

static void
good_message(void **state)
{
	(void)state;
	assert_int_equal(sw_sip_parse(&msg, good, sizeof(good) - 1), SW_SIP_OK);
	assert_int_equal(msg.ruri.host_type, SW_HOST_IPV6);
	assert_int_equal(msg.ruri.port_num, 5060);
	assert_int_equal(msg.nvia, 2);
	assert_int_equal(msg.via[0].host_type, SW_HOST_IPV6);
	assert_int_equal(msg.via[0].maddr.len, strlen("[2001:db8::9]"));
	assert_int_equal(msg.via[0].ttl.len, 2);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_VIA), 0);
	assert_int_equal(msg.via[1].received.len, strlen("2001:db8::2"));
	assert_true(msg.via[1].has_rport);
	assert_int_equal(sw_sip_parse_more(&msg, SW_SIP_MORE_ALL), 0);
	assert_int_equal(msg.from.uri.host_type, SW_HOST_IPV6);
	assert_int_equal(msg.to.uri.host_type, SW_HOST_IPV6);
	assert_int_equal(msg.contact.uri.port_num, 5062);
	assert_int_equal(msg.nroute, 2);
	assert_int_equal(msg.route.uri.host_type, SW_HOST_IPV6);
	assert_int_equal(msg.content_length, 5);
	assert_int_equal(msg.first[SW_HDR_ROUTE], 8);
	/* the folded Route line is one header whose line ends after the fold */
	assert_int_equal(msg.hdr[8].line.len, strlen("Route: <sip:[2001:db8::7];lr>," CRLF
						     "  <sip:198.18.0.7;lr>" CRLF));
}

/* Every strict prefix of the message is refused: a UDP datagram is a whole message. */
static void
truncations(void **state)
{
	(void)state;
	for (size_t n = 0; n < sizeof(good) - 1; n++) {
		enum sw_sip_verdict v = parse_n(good, n);

		if (v == SW_SIP_OK) {
			print_error("prefix of %zu bytes accepted\n", n);
			fail();
		}
	}
}

/* A NUL anywhere in the head is refused or at least indexed safely; never a crash. */
static void
nul_bytes(void **state)
{
	size_t head = strstr(good, CRLF CRLF) - good;

	(void)state;
	for (size_t i = 0; i < head; i++) {
		memcpy(buf, good, sizeof(good) - 1);
		buf[i] = '\0';
		parse_n(buf, sizeof(good) - 1);
	}
	/* in a header name it is a malformed line */
	memcpy(buf, good, sizeof(good) - 1);
	buf[strstr(good, "Max-Forwards") - good + 3] = '\0';
	assert_int_equal(parse_n(buf, sizeof(good) - 1), SW_SIP_REPLY);
	assert_int_equal(msg.reply_code, 400);
	/* in the method it is not SIP at all */
	buf[0] = '\0';
	assert_int_equal(parse_n(buf, sizeof(good) - 1), SW_SIP_DROP);
}

/* Drop each CRLF of the head in turn: never a crash, and never OK when lines merge. */
static void
missing_crlf(void **state)
{
	const char *p = good;
	unsigned n = 0;

	(void)state;
	while ((p = strstr(p, CRLF)) != NULL && p < strstr(good, CRLF CRLF) + 2) {
		size_t at = (size_t)(p - good), len = sizeof(good) - 1 - 2;

		memcpy(buf, good, at);
		memcpy(buf + at, p + 2, sizeof(good) - 1 - at - 2);
		parse_n(buf, len);
		p += 2;
		n++;
	}
	assert_true(n > 10);
	/* no empty line at all: headers not terminated */
	assert_int_equal(parse_n(good, strstr(good, CRLF CRLF) - good + 2), SW_SIP_REPLY);
	assert_non_null(strstr(msg.reason, "not terminated"));
	/* bare LF line ends are tolerated */
	{
		size_t o = 0;

		for (size_t i = 0; i < sizeof(good) - 1; i++)
			if (good[i] != '\r')
				buf[o++] = good[i];
		buf[o++] = 'x'; /* the body lost its CR: keep it Content-Length long */
		assert_int_equal(parse_n(buf, o), SW_SIP_OK);
		assert_int_equal(msg.hdr_end.len, 1);
	}
}

struct mcase {
	const char *name;
	const char *find, *replace;
	enum sw_sip_verdict verdict;
	uint16_t code;
	int more; /* sw_sip_parse_more(SW_SIP_MORE_ALL) of an OK message */
};

static const struct mcase mcases[] = {
	{"Max-Forwards overflow", "Max-Forwards: 70", "Max-Forwards: 99999999999999999999999",
	 SW_SIP_REPLY, 400, 0},
	{"Max-Forwards 256", "Max-Forwards: 70", "Max-Forwards: 256", SW_SIP_REPLY, 400, 0},
	{"Max-Forwards 255", "Max-Forwards: 70", "Max-Forwards: 255", SW_SIP_OK, 0, 0},
	{"CSeq 2**31", "CSeq: 1 INVITE", "CSeq: 2147483648 INVITE", SW_SIP_REPLY, 400, 0},
	{"CSeq 2**31-1", "CSeq: 1 INVITE", "CSeq: 2147483647 INVITE", SW_SIP_OK, 0, 0},
	{"CSeq no method", "CSeq: 1 INVITE", "CSeq: 1", SW_SIP_REPLY, 400, 0},
	{"port 65536", "bob@[2001:db8::5]:5060;", "bob@[2001:db8::5]:65536;", SW_SIP_REPLY, 400, 0},
	{"huge Content-Length", "l: 5", "l: 4294967296", SW_SIP_REPLY, 400, 0},
	{"giant Content-Length", "l: 5", "l: 999999999999999999999999999999", SW_SIP_REPLY, 400, 0},
	{"Content-Length short", "l: 5", "l: 3", SW_SIP_OK, 0, 0},
	{"Content-Length sign", "l: 5", "l: +5", SW_SIP_REPLY, 400, 0},
	{"bad IPv6 in R-URI", "[2001:db8::5]:5060", "[2001:db8::5::1]:5060", SW_SIP_REPLY, 400, 0},
	{"unbracketed IPv6 sent-by", "UDP [2001:db8::1]:5060", "UDP 2001:db8::1", SW_SIP_DROP, 0,
	 0},
	/*
	 * The v: line is the request's second Via entry: nothing forwarding a
	 * request reads (RFC 3261 §16.3 step 1), so its faults are for
	 * SW_SIP_MORE_VIA to find; in the top entry they are a 400.
	 */
	{"IPv4 octet 256", "UDP 198.18.0.1;", "UDP 198.18.0.256;", SW_SIP_OK, 0, -EINVAL},
	{"top Via octet 256", "maddr=[2001:db8::9]", "maddr=198.18.0.256", SW_SIP_REPLY, 400, 0},
	{"ttl 256", "ttl=16", "ttl=256", SW_SIP_REPLY, 400, 0},
	{"rport text", "rport=5070", "rport=x", SW_SIP_OK, 0, -EINVAL},
	{"top Via rport text", "ttl=16", "ttl=16;rport=x", SW_SIP_REPLY, 400, 0},
	{"unterminated display", "\"A \\\"q\\\"\" <", "\"A \\\"q\\\" <", SW_SIP_REPLY, 400, 0},
	{"escaped R-URI user", "sip:bob@", "sip:b%6Fb@", SW_SIP_OK, 0, 0},
	{"bad escape", "sip:bob@", "sip:b%6Gb@", SW_SIP_REPLY, 400, 0},
	/*
	 * Contact, Expires and Content-Type are nothing a proxy routes on: it
	 * forwards them as they are (RFC 3261 §16.3 step 1, "Any other
	 * components, well-formed or not, SHOULD be ignored and remain
	 * unchanged when the message is forwarded"). sw_sip_parse_more()
	 * finds the fault for the element that reads them.
	 */
	{"Contact star with others", "m: <sip:alice@[2001:db8::1]:5062>;expires=60",
	 "m: *" CRLF "m: <sip:x@198.18.0.1>", SW_SIP_OK, 0, -EINVAL},
	{"two Vias in one line", "Max-Forwards: 70",
	 "Via: SIP/2.0/UDP 198.18.0.3;branch=z9hG4bK3, SIP/2.0/TCP h.example.com" CRLF
	 "Max-Forwards: 70",
	 SW_SIP_OK, 0, 0},
	/* a request's Via entries under the top one: only SW_SIP_MORE_VIA reads them */
	{"Via trailing comma", "rport=5070", "rport=5070,", SW_SIP_OK, 0, -EINVAL},
	{"Proxy-Require", "Max-Forwards: 70", "Max-Forwards: 70" CRLF "Proxy-Require: foo",
	 SW_SIP_REPLY, 420, 0},
	{"Proxy-Require empty", "Max-Forwards: 70",
	 "Max-Forwards: 70" CRLF "Proxy-Require:", SW_SIP_REPLY, 400, 0},
	{"Require is for the UAS", "Max-Forwards: 70", "Max-Forwards: 70" CRLF "Require: 100rel",
	 SW_SIP_OK, 0, 0},
	{"Expires", "Max-Forwards: 70", "Max-Forwards: 70" CRLF "Expires: 4294967295", SW_SIP_OK, 0,
	 0},
	{"Expires overflow", "Max-Forwards: 70", "Max-Forwards: 70" CRLF "Expires: 4294967296",
	 SW_SIP_OK, 0, -EINVAL},
	{"Content-Type no subtype", "c: application/sdp", "c: application", SW_SIP_OK, 0, -EINVAL},
	{"Require malformed", "Max-Forwards: 70", "Max-Forwards: 70" CRLF "Require: a b", SW_SIP_OK,
	 0, -EINVAL},
	{"third Via malformed", "Max-Forwards: 70", "Max-Forwards: 70" CRLF "Via: SIP/2.0/UDP",
	 SW_SIP_OK, 0, -EINVAL},
	{"third Via empty entry", "Max-Forwards: 70", "Max-Forwards: 70" CRLF "Via: ,", SW_SIP_OK,
	 0, -EINVAL},
	{"top Via trailing comma", "ttl=16", "ttl=16,", SW_SIP_OK, 0, -EINVAL},
	{"Record-Route malformed", "Max-Forwards: 70", "Max-Forwards: 70" CRLF "Record-Route: <x",
	 SW_SIP_OK, 0, -EINVAL},
	{"header without colon", "Max-Forwards: 70", "Max-Forwards 70", SW_SIP_REPLY, 400, 0},
	/* a continuation line with nothing to continue; the v: Via can still be answered */
	{"fold before first header", "Via:", " Via:", SW_SIP_REPLY, 400, 0},
	{"upper-case compact", "f: \"A", "F: \"A", SW_SIP_OK, 0, 0},
	{"tel R-URI", "sip:bob@[2001:db8::5]:5060;transport=udp", "tel:+1-201-555-0123", SW_SIP_OK,
	 0, 0},
	{"sips R-URI", "sip:bob@[2001:db8::5]:5060;transport=udp", "sips:bob@example.com",
	 SW_SIP_OK, 0, 0},
	{"http R-URI", "sip:bob@[2001:db8::5]:5060;transport=udp", "http://example.com/",
	 SW_SIP_REPLY, 416, 0},
	{"R-URI without host", "sip:bob@[2001:db8::5]:5060;transport=udp", "sip:bob@", SW_SIP_REPLY,
	 400, 0},
	{"Max-Forwards text", "Max-Forwards: 70", "Max-Forwards: seventy", SW_SIP_REPLY, 400, 0},
};

static size_t
mutate(const char *find, const char *replace)
{
	const char *at = strstr(good, find);
	size_t pre, fl = strlen(find), rl = strlen(replace);

	assert_non_null(at);
	pre = (size_t)(at - good);
	memcpy(buf, good, pre);
	memcpy(buf + pre, replace, rl);
	memcpy(buf + pre + rl, at + fl, sizeof(good) - 1 - pre - fl);
	return sizeof(good) - 1 - fl + rl;
}

static void
field_mutations(void **state)
{
	unsigned bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
		const struct mcase *c = &mcases[i];
		size_t n = mutate(c->find, c->replace);
		enum sw_sip_verdict v = parse_n(buf, n);

		/* parse_n's copy is gone: the lazy parts are read from buf */
		if (v == SW_SIP_OK)
			sw_sip_parse(&msg, buf, n);
		if (v != c->verdict || (v == SW_SIP_REPLY && msg.reply_code != c->code) ||
		    (v == SW_SIP_OK && sw_sip_parse_more(&msg, SW_SIP_MORE_ALL) != c->more)) {
			print_error("%s: verdict %d code %u reason \"%s\"\n", c->name, v,
				    msg.reply_code, msg.reason ? msg.reason : "");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Build good with a body of body_len bytes. */
static size_t
with_body(size_t body_len)
{
	size_t head = (size_t)(strstr(good, "l: 5") - good), n;

	memcpy(buf, good, head);
	n = head + (size_t)sprintf(buf + head, "l: %zu" CRLF CRLF, body_len);
	memset(buf + n, 'x', body_len);
	return n + body_len;
}

static void
big_datagrams(void **state)
{
	size_t n;

	(void)state;
	/* exactly 65535: the largest message we take (RFC 3261 §18.1.1 and UDP) */
	n = with_body(0);
	/* "l: 0" grows to a 5-digit length */
	n = with_body(SW_SIP_MAX_MSG - (n + 4));
	assert_int_equal(n, SW_SIP_MAX_MSG);
	assert_int_equal(parse_n(buf, n), SW_SIP_OK);
	assert_int_equal(msg.body.len + msg.body.off, SW_SIP_MAX_MSG);
	/* one more byte: 513 */
	n = with_body(msg.body.len + 1);
	assert_int_equal(n, SW_SIP_MAX_MSG + 1);
	assert_int_equal(parse_n(buf, n), SW_SIP_REPLY);
	assert_int_equal(msg.reply_code, 513);
	/* a 60 KB Call-ID fits */
	{
		size_t at = (size_t)(strstr(good, "i: ") - good) + 3, cl = 60000;

		memcpy(buf, good, at);
		memset(buf + at, 'c', cl);
		memcpy(buf + at + cl, good + at, sizeof(good) - 1 - at);
		assert_int_equal(parse_n(buf, sizeof(good) - 1 + cl), SW_SIP_OK);
		assert_int_equal(msg.call_id.len, cl + strlen("m1@[2001:db8::1]"));
	}
	/* more header lines than the index holds: 513, and the walk still ends */
	{
		size_t o = (size_t)(strstr(good, "l: 5") - good);

		memcpy(buf, good, o);
		for (int i = 0; i < SW_SIP_MAX_HDRS; i++)
			o += (size_t)sprintf(buf + o, "X-H%d: %d" CRLF, i, i);
		o += (size_t)sprintf(buf + o, "l: 0" CRLF CRLF);
		assert_int_equal(parse_n(buf, o), SW_SIP_REPLY);
		assert_int_equal(msg.reply_code, 513);
		assert_int_equal(msg.nhdr, SW_SIP_MAX_HDRS);
		assert_int_equal(msg.hdr_end.off, o - 2);
	}
}

/* Random byte flips from a fixed seed: a cheap fuzz pass that runs everywhere. */
static void
random_flips(void **state)
{
	uint32_t x = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = sizeof(good) - 1;

		memcpy(buf, good, n);
		for (int k = 0; k < 1 + round % 4; k++) {
			x = x * 1103515245u + 12345u;
			buf[(x >> 8) % n] = (char)(x >> 24);
		}
		x = x * 1103515245u + 12345u;
		parse_n(buf, n - ((x >> 16) % 8 == 0 ? (x >> 4) % n : 0));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_message),	   cmocka_unit_test(truncations),
		cmocka_unit_test(nul_bytes),	   cmocka_unit_test(missing_crlf),
		cmocka_unit_test(field_mutations), cmocka_unit_test(big_datagrams),
		cmocka_unit_test(random_flips),
	};
	return cmocka_run_group_tests_name("sip_mutate", tests, NULL, NULL);
}
