/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser's fast paths against its general path. Every fast path (the
 * header-line index pass, Via, From/To, the start lines, dotted quads,
 * "sip:") promises the same index and verdict as the general code, or hands
 * the input over to it. The same sources are built a second time with
 * -DSW_SIP_GENERAL_ONLY (sw_sip_general, globals renamed swg_*), and both
 * parse: the RFC 4475/5118 messages, the fuzz corpus, and mutations of each
 * (every truncation, and bytes that steer the fast paths put everywhere).
 * Index, verdict, reasons and sw_sip_parse_more() must match byte for byte.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/dataplane.h"
#include "sip_testdata.h"

enum sw_sip_verdict swg_sip_parse(struct sw_sip_msg *m, const char *buf, size_t len);
int swg_sip_parse_more(struct sw_sip_msg *m, unsigned what);

static struct sw_sip_msg fast, gen;
static unsigned long compared;

static int
same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Parse buf[0..len) both ways (an exact-size copy, so ASAN sees any overread). */
static void
compare(const char *what, const char *src, size_t len)
{
	char *buf = malloc(len ? len : 1);
	enum sw_sip_verdict vf, vg;
	int mf, mg;

	assert_non_null(buf);
	memcpy(buf, src, len);
	/* both start from the same bytes: hdr[] past nhdr is left as it was */
	memset(&fast, 0x5a, sizeof(fast));
	memset(&gen, 0x5a, sizeof(gen));
	vf = sw_sip_parse(&fast, buf, len);
	vg = swg_sip_parse(&gen, buf, len);
	if (vf != vg || !same_text(fast.reason, gen.reason))
		fail_msg("%s (%zu B): verdict %d \"%s\" fast, %d \"%s\" general", what, len, vf,
			 fast.reason ? fast.reason : "", vg, gen.reason ? gen.reason : "");
	fast.reason = gen.reason = NULL;
	if (memcmp(&fast, &gen, sizeof(fast)) != 0)
		fail_msg("%s (%zu B): the indexes differ", what, len);
	mf = sw_sip_parse_more(&fast, ~0u);
	mg = swg_sip_parse_more(&gen, ~0u);
	if (mf != mg || !same_text(fast.more_reason, gen.more_reason))
		fail_msg("%s (%zu B): sw_sip_parse_more %d \"%s\" fast, %d \"%s\" general", what, len,
			 mf, fast.more_reason ? fast.more_reason : "", mg,
			 gen.more_reason ? gen.more_reason : "");
	fast.more_reason = gen.more_reason = NULL;
	if (memcmp(&fast, &gen, sizeof(fast)) != 0)
		fail_msg("%s (%zu B): the indexes differ after sw_sip_parse_more", what, len);
	compared++;
	free(buf);
}

/*
 * The message, every truncation of it, and each byte replaced in turn by
 * bytes that end or bend a fast path. every > 1 replaces at every n-th
 * position only (the corpus is large).
 */
static void
compare_mutations(const char *what, const char *msg, size_t len, size_t every)
{
	static const char steer[] = {' ', '\t', '\r', '\n', ':', ';', ',', '=', '"', '<',
				     '>', '/', '.', '[', '0', '9', 'a', '\0', '\x80'};
	char *m = malloc(len ? len : 1);

	assert_non_null(m);
	compare(what, msg, len);
	for (size_t n = 0; n < len; n++)
		compare(what, msg, n);
	memcpy(m, msg, len);
	for (size_t i = 0; i < len; i += every) {
		for (size_t k = 0; k < sizeof(steer); k++) {
			m[i] = steer[k];
			compare(what, m, len);
		}
		m[i] = msg[i];
	}
	free(m);
}

#define CRLF "\r\n"

/* The shapes the fast paths take, each once plainly and once at the edges. */
static const char *const shapes[] = {
	"INVITE sip:+4930123456789@gw1.carrier.example.net;user=phone SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-524287-1---abc123def456;rport" CRLF
	"Via: SIP/2.0/UDP 198.18.1.20:5060;received=198.18.1.21;branch=z9hG4bK77ef4c2312983.1" CRLF
	"Max-Forwards: 68" CRLF "Record-Route: <sip:198.18.0.10;lr;ftag=as5f7e3a21>" CRLF
	"From: \"Alice Example\" "
	"<sip:+4930987654321@pbx.example.com;user=phone>;tag=as5f7e3a21" CRLF
	"To: <sip:+4930123456789@carrier.example.net;user=phone>" CRLF
	"Call-ID: 3c26700b4b6b-8bnvqa5nx1mq@pbx.example.com" CRLF "CSeq: 102 INVITE" CRLF
	"Contact: <sip:+4930987654321@198.18.1.20:5060;transport=udp>" CRLF
	"Supported: replaces, timer" CRLF "Content-Type: application/sdp" CRLF
	"Content-Length: 12" CRLF CRLF "v=0" CRLF "s=test" CRLF "t=",
	"SIP/2.0 200 OK" CRLF
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-5;rport=5060;received=198.18.0.9" CRLF
	"Via: SIP/2.0/TCP 198.18.1.20:5061;branch=z9hG4bK77ef4c23,SIP/2.0/UDP 198.18.1.1" CRLF
	"From: <sip:a@pbx.example.com>;tag=as5" CRLF "To: <sip:b@198.18.1.1>;tag=1a2b" CRLF
	"Call-ID: 3c26@pbx" CRLF "CSeq: 0000000102 INVITE" CRLF "Content-Length: 0" CRLF CRLF,
	"ACK sip:b@198.18.2.30 SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 198.18.1.2;rport;branch=z9hG4bKx" CRLF "Max-Forwards: 70" CRLF
	"Route: <sip:198.18.0.10;lr>" CRLF "From: <sip:a@b>;tag=1" CRLF "To: <sip:b@c>;tag=2" CRLF
	"Call-ID: c" CRLF "CSeq: 4294967296 ACK" CRLF "X-Long-Header-Name-Here: value" CRLF
	"Subject:  two spaces" CRLF "Subject:" CRLF "User-Agent: folded" CRLF " continuation" CRLF
	"Content-Length: 0" CRLF CRLF,
	"OPTIONS sip:198.18.0.1 sip/2.0" CRLF
	"v: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK2" CRLF
	"f: <sip:a@[2001:db8::1]>;tag=3" CRLF "t: sip:b@198.18.0.1" CRLF "i: x" CRLF
	"CSeq: 7 OPTIONS" CRLF "l: 0" CRLF CRLF,
	/* URI parameter lists across 16-byte loads, escapes, 5-6 digit numbers, addr-specs */
	"BYE sip:+49301234@gw1.example.net:5060;user=phone;transport=udp;lr;x=%41%62?h=v "
	"SIP/2.0" CRLF
	"Via: SIP/2.0/UDP 198.18.0.10:5060;received=10.0.0.1;rport=65535;branch=z9hG4bK-77" CRLF
	"Via: SIP/2.0/UDP gw.example.net;received=10.0.0.255x;branch=z9hG4bK-8" CRLF
	"Max-Forwards: 00070" CRLF
	"Route: <sip:198.18.0.10;lr;ftag=as5f7e3a21;maddr=198.18.0.11>,<sip:p2.example.net;lr>" CRLF
	"From: sip:alice@pbx.example.com;tag=as5f7e3a21" CRLF
	"To: sip:+4930123456789@carrier.example.net;user=phone" CRLF
	"Call-ID: 3c26700b4b6b@pbx" CRLF "CSeq: 123456 BYE" CRLF
	"Contact: <sip:alice@198.18.1.20:5060;transport=tcp;ob>;expires=3600" CRLF
	"Content-Length: 000000" CRLF CRLF,
	/* From and To: tags of 1, 10, 11, 15, 16 and 36 bytes, other schemes, escaped quotes */
	"MESSAGE sip:b@198.18.2.30 SIP/2.0" CRLF "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bKy" CRLF
	"From: \"A \\\"q\\\"\" <sips:alice@pbx.example.com>;TAG=0123456789abcde" CRLF
	"To: <tel:+4930123456789>;tag=7c1e2c4e-a5e9-4f8c-9d2b-1234567890ab" CRLF "Call-ID: m" CRLF
	"CSeq: 1 MESSAGE" CRLF "Content-Length: 0" CRLF CRLF,
	"SIP/2.0 180 Ringing" CRLF "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bKz" CRLF
	"From: <sip:+4930987654321@pbx.example.com>;tag=0123456789abcdef" CRLF
	"To: \"Bob\" <sip:+4930123456789@carrier.example.net>;tag=a1b2c3d4e5f" CRLF
	"Call-ID: r" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF,
	"SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bKz" CRLF
	"From: <sip:a@b.example.com>;tag=as5f7e3a21" CRLF "To: <sip:x@y>;tag=1" CRLF
	"Call-ID: r" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF,
};

static void
test_shapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		compare_mutations("shape", shapes[i], strlen(shapes[i]), 1);
}

static void
test_rfc_messages(void **state)
{
	static char msg[1 << 17];
	const char *sets[] = {"rfc4475", "rfc5118"};
	unsigned files = 0;

	(void)state;
	for (size_t s = 0; s < 2; s++) {
		char dir[512];
		struct dirent *e;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/sip/%s", SW_TEST_DATA, sets[s]);
		d = opendir(dir);
		assert_non_null(d);
		while ((e = readdir(d)) != NULL) {
			char name[300];
			size_t nl = strlen(e->d_name);
			long len;

			if (nl < 5 || strcmp(e->d_name + nl - 4, ".txt") != 0)
				continue;
			snprintf(name, sizeof(name), "%s/%.*s", sets[s], (int)(nl - 4), e->d_name);
			len = sip_testdata_load(name, msg, sizeof(msg));
			assert_true(len >= 0);
			compare_mutations(name, msg, (size_t)len, len > 4096 ? 97 : 1);
			files++;
		}
		closedir(d);
	}
	assert_true(files >= 40);
}

static void
test_fuzz_corpus(void **state)
{
	static char msg[1 << 17];
	char dir[512];
	struct dirent *e;
	unsigned files = 0;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/../fuzz/corpus/sip", SW_TEST_DATA);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[800];
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		len = fread(msg, 1, sizeof(msg), f);
		fclose(f);
		compare_mutations(e->d_name, msg, len, 13);
		files++;
	}
	closedir(d);
	assert_true(files >= 100);
	print_message("# %lu parses compared\n", compared);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_rfc_messages),
		cmocka_unit_test(test_fuzz_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
