/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header names: the character classes of RFC 3261 §25.1 and the name table
 * with compact forms (§7.3.3), indexed by first character so a lookup
 * compares against at most a handful of names.
 */
#include <string.h>

#include "dataplane/sip_pvt.h"

#define ALNUM                                                                                      \
	(CC_TOKEN | CC_HOST | CC_USER | CC_PASS | CC_PARAM | CC_HNV | CC_SCHEME | CC_GVAL | CC_URIC)
/* unreserved "mark" characters that are also token characters */
#define MARK_TOK (CC_TOKEN | CC_USER | CC_PASS | CC_PARAM | CC_HNV | CC_GVAL | CC_URIC)
/* unreserved "mark" characters that are not token characters: ( ) */
#define MARK (CC_USER | CC_PASS | CC_PARAM | CC_HNV | CC_URIC)

const uint16_t sw_sip_cc[256] = {
	[' '] = CC_WS,
	['\t'] = CC_WS,
	['\r'] = CC_WS,
	['\n'] = CC_WS,
	['a' ... 'f'] = ALNUM | CC_ALPHA | CC_HEX | CC_TEL,
	['g' ... 'z'] = ALNUM | CC_ALPHA,
	['A' ... 'F'] = ALNUM | CC_ALPHA | CC_HEX | CC_TEL,
	['G' ... 'Z'] = ALNUM | CC_ALPHA,
	['0' ... '9'] = ALNUM | CC_DIGIT | CC_HEX | CC_TEL,
	['-'] = MARK_TOK | CC_HOST | CC_SCHEME | CC_TEL,
	['.'] = MARK_TOK | CC_HOST | CC_SCHEME | CC_TEL | CC_DOT,
	['_'] = MARK_TOK | CC_HOST,
	['!'] = MARK_TOK,
	['*'] = MARK_TOK | CC_TEL,
	['\''] = MARK_TOK,
	['~'] = MARK_TOK,
	['%'] = MARK_TOK,
	['+'] = CC_TOKEN | CC_USER | CC_PASS | CC_PARAM | CC_HNV | CC_SCHEME | CC_GVAL | CC_URIC |
		CC_TEL,
	['`'] = CC_TOKEN | CC_GVAL,
	['('] = MARK | CC_TEL,
	[')'] = MARK | CC_TEL,
	['&'] = CC_USER | CC_PASS | CC_PARAM | CC_URIC,
	['='] = CC_USER | CC_PASS | CC_URIC,
	['$'] = CC_USER | CC_PASS | CC_PARAM | CC_HNV | CC_URIC,
	[','] = CC_USER | CC_PASS | CC_URIC,
	[';'] = CC_USER | CC_URIC,
	['?'] = CC_USER | CC_HNV | CC_URIC,
	['/'] = CC_USER | CC_PARAM | CC_HNV | CC_URIC,
	[':'] = CC_PARAM | CC_HNV | CC_GVAL | CC_URIC,
	['['] = CC_PARAM | CC_HNV | CC_GVAL | CC_URIC,
	[']'] = CC_PARAM | CC_HNV | CC_GVAL | CC_URIC,
	['@'] = CC_URIC,
	/* '#' is not in RFC 3261's user-unreserved set, but phones send dial
	 * strings such as "2#0312345678" raw (reference/004), and Kamailio and
	 * Asterisk take them: tolerated in the user part only. */
	['#'] = CC_TEL | CC_USER,
};

struct hname {
	const char *name;
	uint8_t len;
	uint8_t type;
};

/* Full names by lower-case first letter; the X-macro list in dataplane.h is the source. */
static const struct hname full[] = {
#define SW_X_FULL(e, name, compact) {name, sizeof(name) - 1, SW_HDR_##e},
	SW_SIP_HDR_LIST(SW_X_FULL)
#undef SW_X_FULL
};

#define NFULL (sizeof(full) / sizeof(full[0]))
#define MAX_PER_LETTER 8

/* by_first[c] lists indexes into full[] of names starting with c; compact[c] the compact type. */
static uint8_t by_first[26][MAX_PER_LETTER];
static uint8_t by_first_n[26];
static uint8_t compact[256];

static void __attribute__((constructor)) hname_init(void)
{
	static const struct {
		char c;
		uint8_t type;
	} cf[] = {
#define SW_X_COMPACT(e, name, cform) {cform, SW_HDR_##e},
		SW_SIP_HDR_LIST(SW_X_COMPACT)
#undef SW_X_COMPACT
	};

	for (size_t i = 0; i < NFULL; i++) {
		unsigned k = (unsigned)(lc(full[i].name[0]) - 'a');

		if (by_first_n[k] < MAX_PER_LETTER)
			by_first[k][by_first_n[k]++] = (uint8_t)i;
	}
	for (size_t i = 0; i < sizeof(cf) / sizeof(cf[0]); i++) {
		if (cf[i].c == 0)
			continue;
		compact[(uint8_t)cf[i].c] = cf[i].type;
		compact[(uint8_t)(cf[i].c & ~0x20)] = cf[i].type;
	}
}

uint8_t
sw_sip_hname_type(const char *name, size_t len)
{
	unsigned k;

	if (len == 1)
		return compact[(uint8_t)name[0]];
	k = (unsigned)(lc(name[0]) - 'a');
	if (len == 0 || k >= 26)
		return SW_HDR_OTHER;
	for (unsigned i = 0; i < by_first_n[k]; i++) {
		const struct hname *h = &full[by_first[k][i]];
		size_t j;

		if (h->len != len)
			continue;
		for (j = 1; j < len && lc(name[j]) == lc(h->name[j]); j++)
			;
		if (j == len)
			return h->type;
	}
	return SW_HDR_OTHER;
}
