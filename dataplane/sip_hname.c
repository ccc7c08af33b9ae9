/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header names: the character classes of RFC 3261 §25.1 and the name table
 * with compact forms (§7.3.3), indexed by first character so a lookup
 * compares against at most a handful of names.
 */
#include <stdlib.h>
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
	['a' ... 'f'] = ALNUM | CC_ALPHA | CC_HEX | CC_TEL | CC_HNAME,
	['g' ... 'z'] = ALNUM | CC_ALPHA | CC_HNAME,
	['A' ... 'F'] = ALNUM | CC_ALPHA | CC_HEX | CC_TEL | CC_HNAME,
	['G' ... 'Z'] = ALNUM | CC_ALPHA | CC_HNAME,
	['0' ... '9'] = ALNUM | CC_DIGIT | CC_HEX | CC_TEL,
	['-'] = MARK_TOK | CC_HOST | CC_SCHEME | CC_TEL | CC_HNAME,
	['.'] = MARK_TOK | CC_HOST | CC_SCHEME | CC_TEL | CC_DOT,
	['_'] = MARK_TOK | CC_HOST | CC_HNAME,
	['!'] = MARK_TOK,
	['*'] = MARK_TOK | CC_TEL,
	['\''] = MARK_TOK,
	['~'] = MARK_TOK,
	/* '%' starts an escape: the URI scanners check it themselves, so it is
	 * left out of the user/password/param/header classes they skip over */
	['%'] = CC_TOKEN | CC_GVAL | CC_URIC,
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

uint8_t sw_sip_nib[16][16];

struct hname {
	const char *name;
	uint8_t len;
	uint8_t type;
};

/* Full names; the X-macro list in dataplane.h is the source. */
static const struct hname full[] = {
#define SW_X_FULL(e, name, compact) {name, sizeof(name) - 1, SW_HDR_##e},
	SW_SIP_HDR_LIST(SW_X_FULL)
#undef SW_X_FULL
};

#define NFULL (sizeof(full) / sizeof(full[0]))
#define NAME_MAX_LEN 24
#define HTAB 128 /* power of two, a few times NFULL: probes stay short */

/*
 * Open-addressed table keyed by length and first and last letter (what
 * differs first between SIP header names), holding index + 1 into lname[];
 * compact[] maps the one-letter forms of §7.3.3.
 */
static uint8_t htab[HTAB];
static char lname[NFULL][NAME_MAX_LEN];
static uint8_t compact[256];

/* The same names for sw_sip_hname_type16 (sip_pvt.h), a slot each. */
struct sw_sip_hname16 sw_sip_h16[SW_SIP_H16_SLOTS];
const uint64_t sw_sip_keep[17] = {0,
				  0xff,
				  0xffff,
				  0xffffff,
				  0xffffffff,
				  0xffffffffffull,
				  0xffffffffffffull,
				  0xffffffffffffffull,
				  ~0ull,
				  ~0ull,
				  ~0ull,
				  ~0ull,
				  ~0ull,
				  ~0ull,
				  ~0ull,
				  ~0ull,
				  ~0ull};

static inline unsigned
hkey(const char *n, size_t len)
{
	return (unsigned)(len * 7 + (unsigned)(uint8_t)(n[0] | 0x20) * 3 +
			  (uint8_t)(n[len - 1] | 0x20)) &
	       (HTAB - 1);
}

uint32_t sw_sip_quad[256];

/* sw_sip_quad[] (sip_pvt.h): the 81 shapes of a dotted quad, a slot each. */
static void
quad_init(void)
{
	for (unsigned g = 0; g < 81; g++) {
		uint32_t key = 0, three = 0, pos = 0;

		/* g in base 3: each octet's digits less one */
		for (unsigned i = 0, x = g; i < 4; i++, x /= 3) {
			if (x % 3 == 2)
				three |= 1u << pos;
			pos += x % 3 + 1;
			key |= 1u << pos++;
		}
		if (sw_sip_quad[sw_sip_quad_slot(key)] != 0)
			abort();
		sw_sip_quad[sw_sip_quad_slot(key)] = key | three << 16;
	}
}

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

	for (unsigned c = 0; c < 128; c++)
		for (unsigned k = 0; k < 16; k++)
			if (sw_sip_cc[c] & (1u << k))
				sw_sip_nib[k][c & 15] |= (uint8_t)(1u << (c >> 4));
	for (size_t i = 0; i < NFULL; i++) {
		unsigned k = hkey(full[i].name, full[i].len);

		for (size_t j = 0; j < full[i].len; j++)
			lname[i][j] = lc(full[i].name[j]);
		while (htab[k] != 0)
			k = (k + 1) & (HTAB - 1);
		htab[k] = (uint8_t)(i + 1);
	}
	quad_init();
	/* sw_sip_h16: the names of 2-15 bytes, one slot each */
	for (size_t i = 0; i < NFULL; i++) {
		size_t len = full[i].len;
		struct sw_sip_hname16 *e;
		uint64_t lo = 0;

		if (len < 2 || len > SW_SIP_H16_MAX)
			continue;
		memcpy(&lo, lname[i], len < 8 ? len : 8);
		e = &sw_sip_h16[sw_sip_h16key(lo, (uint32_t)len)];
		/* a new name sharing a slot needs another key: the header tests fail loudly */
		if (e->keep[0] != 0)
			abort();
		e->type = full[i].type;
		memcpy(e->name, lname[i], len);
		e->name[len] = ':';
		memset(e->keep, 0xff, len + 1);
		for (size_t j = 0; j < len; j++)
			e->fold[j] = cc_is(lname[i][j], CC_ALPHA) ? 0x20 : 0;
	}
	/* an empty slot: nothing kept, a 1 wanted, so no name matches it */
	for (size_t k = 0; k < SW_SIP_H16_SLOTS; k++)
		if (sw_sip_h16[k].keep[0] == 0)
			sw_sip_h16[k].name[0] = 1;
	for (size_t i = 0; i < sizeof(cf) / sizeof(cf[0]); i++) {
		if (cf[i].c == 0)
			continue;
		compact[(uint8_t)cf[i].c] = cf[i].type;
		compact[(uint8_t)(cf[i].c & ~0x20)] = cf[i].type;
	}
}

/*
 * Case-insensitive compare of a token with a lower-case name, eight bytes at
 * a time. OR-ing 0x20 folds case exactly for token characters (§25.1): no
 * two of them differ only in that bit.
 */
static bool
token_ieq(const char *a, const char *lower, size_t len)
{
	const uint64_t fold = 0x2020202020202020ull;
	uint64_t x, y;

	if (len >= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, lower, 8);
		if ((x | fold) != y)
			return false;
		memcpy(&x, a + len - 8, 8);
		memcpy(&y, lower + len - 8, 8);
		return (x | fold) == y;
	}
	for (size_t i = 0; i < len; i++)
		if ((char)(a[i] | 0x20) != lower[i])
			return false;
	return true;
}

uint8_t
sw_sip_hname_type(const char *name, size_t len)
{
	unsigned k;

	if (len == 1)
		return compact[(uint8_t)name[0]];
	if (len == 0 || len > NAME_MAX_LEN)
		return SW_HDR_OTHER;
	for (k = hkey(name, len); htab[k] != 0; k = (k + 1) & (HTAB - 1)) {
		unsigned i = htab[k] - 1u;

		if (full[i].len == len && token_ieq(name, lname[i], len))
			return full[i].type;
	}
	return SW_HDR_OTHER;
}
