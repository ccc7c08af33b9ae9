/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the SIP parser's fast paths against its general path,
 * as the unit test sip_fastpath does on fixed inputs. The parser sources
 * are built twice into the target, once as they ship and once with
 * -DSW_SIP_GENERAL_ONLY (globals renamed swg_*, tests/unit/sip_general.h);
 * for every input both must give the same verdict, reason and index, before
 * and after sw_sip_parse_more(). Any difference aborts, so the fuzzer
 * steers towards inputs the fast paths take and checks them on the way.
 *   tests/fuzz/run_fuzz.sh SECONDS fastpath
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/dataplane.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
enum sw_sip_verdict swg_sip_parse(struct sw_sip_msg *m, const char *buf, size_t len);
int swg_sip_parse_more(struct sw_sip_msg *m, unsigned what);

static struct sw_sip_msg fast, gen;

static int
same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer's buffer is exactly size bytes: ASAN sees any overread */
	const char *buf = (const char *)data;

	memset(&fast, 0x5a, sizeof(fast));
	memset(&gen, 0x5a, sizeof(gen));
	if (sw_sip_parse(&fast, buf, size) != swg_sip_parse(&gen, buf, size) ||
	    !same_text(fast.reason, gen.reason))
		abort();
	fast.reason = gen.reason = NULL;
	if (memcmp(&fast, &gen, sizeof(fast)) != 0)
		abort();
	if (sw_sip_parse_more(&fast, ~0u) != swg_sip_parse_more(&gen, ~0u) ||
	    !same_text(fast.more_reason, gen.more_reason))
		abort();
	fast.more_reason = gen.more_reason = NULL;
	if (memcmp(&fast, &gen, sizeof(fast)) != 0)
		abort();
	return 0;
}
