/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target over the rules parsers and compiler: the input's first
 * byte picks dial plan, ARS or gateway JSON; the rest is the file. A file
 * either compiles or is refused with diagnostics; when it compiles, one
 * request is matched and explained. Never a crash, never a leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules/ruleset.h"

static char path[64];

static const char msg[] = "INVITE sip:2%2305012345678@198.18.0.1 SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bKfz\r\n"
			  "Max-Forwards: 70\r\n"
			  "To: <sip:09012345678@198.18.0.1>\r\n"
			  "From: \"A\" <sip:alice@198.18.0.2>;tag=1\r\n"
			  "Call-ID: fz@198.18.0.2\r\n"
			  "CSeq: 1 INVITE\r\n"
			  "X-PBX-Param: pin\r\n"
			  "Content-Length: 0\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (path[0] == 0)
		snprintf(path, sizeof(path), "/tmp/fuzz_rules.%d", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return 0;
	fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	struct sw_rules_src src = {.nb_workers = 1};
	switch (data[0] % 3) {
	case 0: src.dialplan = path; break;
	case 1: src.ars = path; break;
	default: src.gateways = path; break;
	}
	struct sw_diag d;
	sw_diag_init(&d);
	struct sw_ruleset *rs = sw_ruleset_compile(&src, &d);
	if ((rs == NULL) != (d.errors > 0))
		abort(); /* refused without a reason, or built despite errors */
	if (rs != NULL) {
		static struct sw_sip_msg m;
		if (sw_sip_parse(&m, msg, sizeof(msg) - 1) == SW_SIP_OK) {
			struct sw_match_in in = {.msg = &m, .src = {.family = 2, .bytes = {127, 0, 0, 1}},
						 .src_port = 5056, .src_is_local = true, .now = 1700000000};
			static struct sw_route_result r;
			sw_ruleset_match(rs, sw_ruleset_scratch(rs, 0), &in, &r);
			free(sw_ruleset_explain(rs, &in));
		}
		sw_ruleset_free(rs);
	}
	sw_diag_free(&d);
	return 0;
}

#ifdef SW_FUZZ_STANDALONE
/* Replay files given on the command line (no libFuzzer): the fuzz-regress suite. */
int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (f == NULL)
			continue;
		static uint8_t buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
	}
	if (path[0])
		unlink(path);
	return 0;
}
#endif
