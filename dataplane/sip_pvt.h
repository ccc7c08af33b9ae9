/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to dataplane/; do not include from another folder.
 *
 * Shared pieces of the SIP parser (sip_parse.c, sip_uri.c, sip_hname.c):
 * the character-class table and the scanners that the header parsers and the
 * URI parser both use. Every scanner takes [p, end) and never reads past end.
 */
#ifndef SW_SIP_PVT_H
#define SW_SIP_PVT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

#include "dataplane/dataplane.h"

/* Character classes of RFC 3261 §25.1, one bit each in sw_sip_cc[]. */
#define CC_TOKEN 0x0001u /* token: alphanum - . ! % * _ + ` ' ~ */
#define CC_WS 0x0002u	 /* SP HT CR LF: LWS once a value is known to be one header */
#define CC_DIGIT 0x0004u
#define CC_ALPHA 0x0008u
#define CC_HOST 0x0010u	  /* alphanum - . (and _ seen in the wild) */
#define CC_USER 0x0020u	  /* unreserved / escaped / user-unreserved */
#define CC_PASS 0x0040u	  /* unreserved / escaped / & = + $ , */
#define CC_PARAM 0x0080u  /* paramchar: param-unreserved / unreserved / escaped */
#define CC_HNV 0x0100u	  /* hname/hvalue: hnv-unreserved / unreserved / escaped */
#define CC_SCHEME 0x0200u /* ALPHA / DIGIT / + - . */
#define CC_GVAL 0x0400u	  /* gen-value without quotes: token / host (: [ ] for IPv6) */
#define CC_HEX 0x0800u
#define CC_URIC 0x1000u /* uric of absoluteURI (RFC 2396), for schemes we do not split */
#define CC_TEL 0x2000u	/* telephone-subscriber characters before the first ';' */
#define CC_DOT 0x4000u
#define CC_HNAME 0x8000u /* host characters that are not digits or dots: ALPHA - _ */

extern const uint16_t sw_sip_cc[256];

/*
 * sw_sip_cc as nibble tables for 16-byte classification: byte c is in class
 * bit k when sw_sip_nib[k][c & 15] has bit (c >> 4) set. Every class is
 * ASCII, so eight high nibbles fit a byte (filled at load time).
 */
extern uint8_t sw_sip_nib[16][16];

/*
 * The fast paths (the shapes nearly every message has, each giving the same
 * index and verdict as the general path or handing over to it): a build
 * with -DSW_SIP_GENERAL_ONLY turns them all off, so that the sip_fastpath
 * test can compare both on the same input.
 */
#ifdef SW_SIP_GENERAL_ONLY
#define SW_SIP_FAST 0
#else
#define SW_SIP_FAST 1
#endif

/* What a scanner returns when the input is malformed (never a valid position). */
#define SCAN_ERR UINT32_MAX

static inline bool
cc_is(char c, uint16_t cls)
{
	return (sw_sip_cc[(uint8_t)c] & cls) != 0;
}

static inline char
lc(char c)
{
	/* branch-free ASCII lower case */
	return (char)(c + (((unsigned)((uint8_t)c - 'A') < 26u) << 5));
}

static inline struct sw_span
span(uint32_t from, uint32_t to)
{
	struct sw_span s = {(uint16_t)from, (uint16_t)(to - from)};
	return s;
}

static inline uint32_t
span_end(struct sw_span s)
{
	return (uint32_t)s.off + s.len;
}

/* Skip SP/HT/CR/LF: inside one header value every CRLF is a fold (RFC 3261 §7.3.1). */
static inline uint32_t
skip_lws(const char *b, uint32_t p, uint32_t end)
{
	while (p < end && cc_is(b[p], CC_WS))
		p++;
	return p;
}

/* Unrolled by four: one bound check per four bytes. */
static inline uint32_t
skip_cls_scalar(const char *b, uint32_t p, uint32_t end, uint16_t cls)
{
	for (; p + 4 <= end; p += 4) {
		if (!cc_is(b[p], cls))
			return p;
		if (!cc_is(b[p + 1], cls))
			return p + 1;
		if (!cc_is(b[p + 2], cls))
			return p + 2;
		if (!cc_is(b[p + 3], cls))
			return p + 3;
	}
	while (p < end && cc_is(b[p], cls))
		p++;
	return p;
}

#ifdef __SSSE3__
/* Bytes of x outside class bit k, as a 16-bit mask. */
static inline unsigned
nib_miss(__m128i x, unsigned k)
{
	const __m128i lt = _mm_loadu_si128((const __m128i *)(const void *)sw_sip_nib[k]);
	const __m128i ht =
		_mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)0x80, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i m4 = _mm_set1_epi8(0x0f);
	__m128i lo = _mm_shuffle_epi8(lt, _mm_and_si128(x, m4));
	__m128i hi = _mm_shuffle_epi8(ht, _mm_and_si128(_mm_srli_epi16(x, 4), m4));

	return (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_and_si128(lo, hi), _mm_setzero_si128()));
}

#if defined(__x86_64__) && SW_SIP_FAST
#include <immintrin.h>
/*
 * nib_miss() in 32 bytes, for the AVX2 forms (a caller that tested
 * sw_sip_avx2): the bytes of x outside class bit k, as a 32-bit mask. m4
 * is all 0x0f, from the caller: gcc builds a constant one in three
 * instructions, where the caller has it from memory. A byte from 0x80 up
 * selects zero from the low table, so the low nibble needs no mask.
 */
static inline __attribute__((always_inline, target("avx2"))) unsigned
nib_miss32(__m256i x, unsigned k, __m256i m4)
{
	const __m256i lt = _mm256_broadcastsi128_si256(
		_mm_loadu_si128((const __m128i *)(const void *)sw_sip_nib[k]));
	const __m256i ht =
		_mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, (char)0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2,
				 4, 8, 16, 32, 64, (char)0x80, 0, 0, 0, 0, 0, 0, 0, 0);
	__m256i c = _mm256_and_si256(
		_mm256_shuffle_epi8(lt, x),
		_mm256_shuffle_epi8(ht, _mm256_and_si256(_mm256_srli_epi16(x, 4), m4)));

	return (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(c, _mm256_setzero_si256()));
}
#endif

/*
 * The bytes outside class bit k among the 16 from p, as bits, and every bit
 * from end - p on: one load at p when p + 16 <= lim (the buffer is readable
 * up to lim >= end), else the load that ends at end, which needs end >= 16.
 * For walks that take the stops of a run one by one, 16 bytes a load.
 */
static inline unsigned
cls_miss16(const char *b, uint32_t p, uint32_t end, uint32_t lim, unsigned k)
{
	unsigned mk;

	if (p + 16 <= lim) {
		mk = nib_miss(_mm_loadu_si128((const __m128i *)(const void *)(b + p)), k);
		return end - p < 16 ? mk | ~0u << (end - p) : mk;
	}
	mk = nib_miss(_mm_loadu_si128((const __m128i *)(const void *)(b + end - 16)), k);
	return mk >> (p - (end - 16)) | ~0u << (end - p);
}

/*
 * The run of one class from p, 16 bytes a step. The last partial step is a
 * load ending at end (offsets count from b, so b + end - 16 is inside the
 * buffer whenever end >= 16): nothing is read outside [b, b + end).
 */
static inline uint32_t
skip_cls_simd(const char *b, uint32_t p, uint32_t end, unsigned k)
{
	unsigned mk;

	for (; p + 16 <= end; p += 16) {
		mk = nib_miss(_mm_loadu_si128((const __m128i *)(const void *)(b + p)), k);
		if (mk != 0)
			return p + (uint32_t)__builtin_ctz(mk);
	}
	if (p < end && end >= 16) {
		mk = nib_miss(_mm_loadu_si128((const __m128i *)(const void *)(b + end - 16)), k);
		mk >>= p - (end - 16);
		return mk != 0 ? p + (uint32_t)__builtin_ctz(mk) : end;
	}
	return skip_cls_scalar(b, p, end, (uint16_t)(1u << k));
}
#endif

/* The run of class cls characters from p: the end of a token, a host, a value ... */
static inline uint32_t
skip_cls(const char *b, uint32_t p, uint32_t end, uint16_t cls)
{
#ifdef __SSSE3__
	/* one class bit (the common case): its nibble table */
	if (__builtin_constant_p(cls) && (cls & (cls - 1)) == 0)
		return skip_cls_simd(b, p, end, (unsigned)__builtin_ctz(cls));
#endif
	return skip_cls_scalar(b, p, end, cls);
}

/* No LWS inside [p, end): the value is trimmed, so a fold would show as CR, LF, SP or HT. */
static inline bool
no_ws(const char *b, uint32_t p, uint32_t end)
{
#ifdef __SSE2__
	const __m128i sp = _mm_set1_epi8(' '), ht = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n');
	unsigned mk;

	if (SW_SIP_FAST && end >= p + 16) {
		/*
		 * Nearly always no byte below '!' (nor from 0x80 up, which
		 * x - '!' saturated flags too): one subtract a load, the masks
		 * ORed and one movemask (the last load ends at end). Else the
		 * exact test below.
		 */
		const __m128i bang = _mm_set1_epi8(0x21);
		__m128i acc = _mm_subs_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(b + end - 16)), bang);
		uint32_t q;

		for (q = p; end - q > 16; q += 16)
			acc = _mm_or_si128(
				acc, _mm_subs_epi8(_mm_loadu_si128(
							   (const __m128i *)(const void *)(b + q)),
						   bang));
		if (_mm_movemask_epi8(acc) == 0)
			return true;
	}

	for (; p + 16 <= end; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));

		mk = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, ht)),
				     _mm_cmpeq_epi8(x, lf)));
		if (mk != 0)
			return false;
	}
	if (p < end && end >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + end - 16));

		mk = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, ht)),
				     _mm_cmpeq_epi8(x, lf)));
		return (mk >> (p - (end - 16))) == 0;
	}
#endif
	for (; p < end; p++)
		if (b[p] == ' ' || b[p] == '\t' || b[p] == '\n')
			return false;
	return true;
}

/** Header type of a name (full or compact, any case); SW_HDR_OTHER when unknown. */
uint8_t sw_sip_hname_type(const char *name, size_t len);

/*
 * The known names of 2 to 15 bytes for sw_sip_hname_type16 (a name read in
 * one 16-byte load together with its colon is never longer): the lower-case
 * name with its colon after it and zeros past that, a fold mask with 0x20
 * on letters only (so that (x | fold) == name holds exactly for the name in
 * any case; a CR never passes for '-'), and a keep mask over the name and
 * its colon. Each name has a slot of its own under sw_sip_h16key (no two
 * known names share one, checked at load time); an empty slot keeps no
 * byte but wants a 1 in its first, so it matches nothing (a match always
 * gives a known type). Filled at load time by sip_hname.c.
 */
struct sw_sip_hname16 {
	uint8_t name[16], fold[16], keep[16];
	uint8_t type;
} __attribute__((aligned(64)));
#define SW_SIP_H16_SLOTS 64
#define SW_SIP_H16_MAX 15
extern struct sw_sip_hname16 sw_sip_h16[SW_SIP_H16_SLOTS];
extern const uint64_t sw_sip_keep[17];

/*
 * The slot of a name from its first two bytes, case folded loosely (only
 * the exact compare after it must be strict), and its length: the known
 * names differ in those (Contact, Content-Type and Content-Length only in
 * their length). w2 + 4 len is one lea; its product with a small odd
 * multiplier, bits 6-11, is the slot's byte offset in sw_sip_h16 (those
 * bits depend only on the low twelve of w2 + 4 len, and under this
 * multiplier the known names land in slots of their own: found by trying;
 * a new name that collides stops the load with abort(), and every test
 * with it).
 */
#define SW_SIP_H16_MUL 0x65u
static inline unsigned
sw_sip_h16off(uint32_t w2, uint32_t len)
{
	_Static_assert(sizeof(struct sw_sip_hname16) == 64, "a slot is 64 bytes");
	return ((w2 + len * 4) * SW_SIP_H16_MUL) & ((SW_SIP_H16_SLOTS - 1) * 64);
}

/* The slot's index, from the name's first eight bytes lo (the first two taken, folded). */
static inline unsigned
sw_sip_h16key(uint64_t lo, uint32_t len)
{
	return sw_sip_h16off(((uint32_t)lo | 0x2020u) & 0xffffu, len) / 64;
}

#ifdef __SSE2__
/**
 * Header type of the name of 2 to 15 bytes in the first 16 bytes x of a
 * line, followed by its colon at byte len, from its slot key (sw_sip_h16key
 * of the low eight bytes of x and len). Exact: the name need not be checked
 * for token characters first, a known name never matches anything else.
 * The colon is part of the compare, so a name of another length fails it
 * too (its colon or ours meets a name character) and no length compare is
 * needed.
 */
/*
 * x folded and masked as slot e's name is kept, for the compare with
 * e->name. A macro: as an inline function it costs index_lines_avx2() ~36
 * instructions a message (gcc handles it less well inside another target).
 */
#define SW_SIP_HNAME16_FOLD(x, e)                                                                  \
	_mm_and_si128(_mm_or_si128((x), _mm_load_si128((const __m128i *)(e)->fold)),               \
		      _mm_load_si128((const __m128i *)(e)->keep))

static inline uint8_t
sw_sip_hname_type16k(__m128i x, unsigned key)
{
	const struct sw_sip_hname16 *e = &sw_sip_h16[key];
	__m128i y = SW_SIP_HNAME16_FOLD(x, e);

	return _mm_movemask_epi8(_mm_cmpeq_epi8(y, _mm_load_si128((const __m128i *)e->name))) ==
			       0xffff
		       ? e->type
		       : SW_HDR_OTHER;
}

/* sw_sip_hname_type16k for the slot of the name, sw_sip_h16key(lo, len). */
static inline uint8_t
sw_sip_hname_type16(__m128i x, uint64_t lo, uint32_t len)
{
	return sw_sip_hname_type16k(x, sw_sip_h16key(lo, len));
}
#endif

/*
 * sw_sip_uri_parse for a URI inside a message readable up to lim >= the
 * URI's end, so that a dotted quad at its end still takes one load.
 */
int sw_sip_uri_parse_lim(const char *buf, struct sw_span s, uint32_t lim, struct sw_sip_uri *u);

/** Position after the quoted-string opening at b[p] == '"', SCAN_ERR when unterminated. */
uint32_t sw_sip_quoted_end(const char *b, uint32_t p, uint32_t end);

/* sw_sip_host_scan without the inline fast paths: IPv6 references, bare IPv6, odd hosts. */
uint32_t sw_sip_host_scan_full(const char *b, uint32_t p, uint32_t end, uint8_t *type,
			       bool bare_v6);

/*
 * The shapes of a dotted quad for sw_sip_ipv4_16: the dots of its run of
 * digits and dots, and a bit at the run's end, as one 16-bit key (four
 * octets of 1-3 digits make 81 keys, the longest run is 15 bytes). A key's
 * slot is its multiple by SW_SIP_QUAD_MUL, top eight bits; the slot holds
 * the key (every other slot zero, which no key is) and, above it, the first
 * digits of the three-digit octets, whose value must be checked. The
 * multiplier is one under which the 81 keys land in slots of their own
 * (found by trying; checked at load time by sip_hname.c, which fills it).
 */
#define SW_SIP_QUAD_MUL 0x86e5b70du
extern uint32_t sw_sip_quad[256];

static inline unsigned
sw_sip_quad_slot(uint32_t key)
{
	return (key * SW_SIP_QUAD_MUL) >> 24;
}

#ifdef __SSE2__
/* The bytes of x equal to c, as a 16-bit mask. */
static inline unsigned
eq16(__m128i x, char c)
{
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c)));
}

/* The bytes of x above c (both taken as signed), as a 16-bit mask. */
static inline unsigned
gt16(__m128i x, char c)
{
	return (unsigned)_mm_movemask_epi8(_mm_cmpgt_epi8(x, _mm_set1_epi8(c)));
}
#endif

/*
 * The dotted quad at p (four octets of 1-3 digits up to 255) when the 16
 * bytes from p are all inside the buffer: the position after it, or 0.
 * From bit masks of one load: the run of digits and dots has one of the 81
 * shapes of sw_sip_quad[], and each three-digit octet is at most "255" as
 * text. Three byte compares give the latter for every position of the run
 * at once, and octets from 100 to 199 need only the first.
 */
static inline __attribute__((always_inline)) uint32_t
sw_sip_ipv4_16(const char *b, uint32_t p)
{
#ifdef __SSE2__
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
	unsigned tm = eq16(x, '.');
	/* the bytes that are neither digits nor dots; bit 16 on */
	unsigned stop = ~((gt16(x, '0' - 1) & ~gt16(x, '9')) | tm);
	unsigned end = stop & -stop, key = (tm & (end - 1)) | end;
	uint32_t e = sw_sip_quad[sw_sip_quad_slot(key)], three = e >> 16;

	if ((e & 0xffff) != key)
		return 0;
	if ((three & gt16(x, '1')) != 0 &&
	    (three &
	     (gt16(x, '2') |
	      (eq16(x, '2') & (gt16(x, '5') >> 1 | (eq16(x, '5') >> 1 & gt16(x, '5') >> 2))))) != 0)
		return 0;
	return p + (uint32_t)__builtin_ctz(stop);
#else
	for (int o = 0; o < 4; o++) {
		unsigned v = (unsigned)(uint8_t)b[p] - '0', d;

		if (v > 9)
			return 0;
		p++;
		if ((d = (unsigned)(uint8_t)b[p] - '0') <= 9) {
			v = v * 10 + d;
			p++;
			if ((d = (unsigned)(uint8_t)b[p] - '0') <= 9) {
				v = v * 10 + d;
				p++;
				if ((unsigned)(uint8_t)b[p] - '0' <= 9 || v > 255)
					return 0;
			}
		}
		if (o < 3) {
			if (b[p] != '.')
				return 0;
			p++;
		}
	}
	return p;
#endif
}

/**
 * Scan host (hostname, IPv4address or IPv6reference) starting at p.
 * Returns the position after it and sets *type, or SCAN_ERR when there is none
 * or it is malformed. bare_v6 accepts an IPv6address without brackets (Via
 * received, RFC 5118 §4.5). The buffer is readable up to lim >= end (the
 * message), so a dotted quad near end still takes one load. The dotted quad
 * and the plain hostname are inline; everything else goes to
 * sw_sip_host_scan_full.
 */
static inline __attribute__((always_inline)) uint32_t
sw_sip_host_scan_lim(const char *b, uint32_t p, uint32_t end, uint32_t lim, uint8_t *type,
		     bool bare_v6)
{
	uint32_t q;

	if (p >= end)
		return SCAN_ERR;
	if (SW_SIP_FAST && p + 16 <= lim && (unsigned)(uint8_t)b[p] - '0' < 10) {
		/*
		 * The common dotted quad: four 1-3 digit octets up to 255, then
		 * the end or a character that cannot continue a host (nor an
		 * IPv6 address when bare_v6). Anything else, near the end of
		 * the buffer too, takes the full path.
		 */
		uint16_t stop = bare_v6 ? (CC_HOST | CC_HEX | CC_GVAL) : CC_HOST;

		q = sw_sip_ipv4_16(b, p);
		if (q != 0 && q <= end && (q == end || !cc_is(b[q], stop))) {
			*type = SW_HOST_IPV4;
			return q;
		}
	} else if (SW_SIP_FAST && !bare_v6 && cc_is(b[p], CC_ALPHA)) {
		/* a toplabel starts with ALPHA, so this can only be a hostname (§25.1) */
		q = skip_cls(b, p + 1, end, CC_HOST);
		if (b[q - 1] == '-')
			return SCAN_ERR;
		*type = SW_HOST_NAME;
		return q;
	}
	return sw_sip_host_scan_full(b, p, end, type, bare_v6);
}

/* sw_sip_host_scan_lim when nothing past end may be read. */
static inline uint32_t
sw_sip_host_scan(const char *b, uint32_t p, uint32_t end, uint8_t *type, bool bare_v6)
{
	return sw_sip_host_scan_lim(b, p, end, end, type, bare_v6);
}

/*
 * SWAR digits, for x the message's bytes minus '0' each (the first the
 * lowest): byte minus '0' is 0-9 for a digit, and the first byte that is
 * not one comes out exactly (no borrow or carry comes up from the digits
 * below it). sw_sip_lead_digits: how many digits lead, 0 to 7 (the top
 * byte always counts as a stop).
 */
static inline uint64_t
sw_sip_lead_digits(uint64_t x)
{
	return (uint64_t)__builtin_ctzll(
		       (((x + 0x7676767676767676ull) | x) & 0x8080808080808080ull) |
		       0x8000000000000000ull) >>
	       3;
}

/*
 * The value of up to four digits moved to the top of y (zeros below them
 * act as leading zeros): pairs, then fours, in two multiplies.
 */
static inline uint32_t
sw_sip_digits4(uint32_t y)
{
	y = (y * 10 + (y >> 8)) & 0x00ff00ffu;
	return (y * 100 + (y >> 16)) & 0xffffu;
}

/* The same for up to eight in 64 bits: pairs, fours and eights. */
static inline uint64_t
sw_sip_digits8(uint64_t x)
{
	x = (x * 2561) >> 8;
	x = ((x & 0x00ff00ff00ff00ffull) * 6553601) >> 16;
	return ((x & 0x0000ffff0000ffffull) * 42949672960001ull) >> 32;
}

/*
 * The eight bytes from p (readable) minus '0' each into *x, and how many
 * digits lead them, at most end - p: the start of a one-load number.
 */
static inline uint64_t
sw_sip_digit_run(const char *b, uint32_t p, uint32_t end, uint64_t *x)
{
	uint64_t nd;

	memcpy(x, b + p, 8);
	*x -= 0x3030303030303030ull;
	nd = sw_sip_lead_digits(*x);
	return nd > end - p ? end - p : nd;
}

/*
 * 1*DIGIT from p into *v, refusing values above max (< 2^32): where the
 * digits stop, or SCAN_ERR. The buffer is readable up to lim >= end. Past
 * max the value stops growing (leading zeros are fine), so n * 10 + d
 * cannot wrap.
 */
static inline __attribute__((always_inline)) uint32_t
sw_sip_digits_lim(const char *b, uint32_t p, uint32_t end, uint32_t lim, uint32_t max,
		  uint32_t *v)
{
	uint64_t n = 0;
	uint32_t q = p;
	unsigned d;

	if (SW_SIP_FAST && p + 8 <= lim) {
		/*
		 * Up to six digits from one 8-byte load (ports, CSeq numbers,
		 * lengths); the bytes after the digits do not matter, and seven
		 * or more take the loop below.
		 */
		uint64_t x, nd = sw_sip_digit_run(b, p, end, &x);

		if (nd < 7) {
			if (nd == 0)
				return SCAN_ERR;
			/* the digits to the top of 32 bits, or of 64 for five and six */
			if (nd <= 4)
				x = sw_sip_digits4((uint32_t)x << (32 - 8 * nd));
			else
				x = sw_sip_digits8(x << (64 - 8 * nd));
			if (x > max)
				return SCAN_ERR;
			*v = (uint32_t)x;
			return p + (uint32_t)nd;
		}
	}
	for (; q < end && (d = (unsigned)(uint8_t)b[q] - '0') < 10; q++)
		if (n <= max)
			n = n * 10 + d;
	if (q == p || n > max)
		return SCAN_ERR;
	*v = (uint32_t)n;
	return q;
}

/* sw_sip_digits_lim when nothing past end may be read. */
static inline __attribute__((always_inline)) uint32_t
sw_sip_digits(const char *b, uint32_t p, uint32_t end, uint32_t max, uint32_t *v)
{
	return sw_sip_digits_lim(b, p, end, end, max, v);
}

/**
 * Parse 1*DIGIT in [p, end) into *v, refusing values above max (at most
 * 2^32 - 1 here). 0 ok, -1 bad.
 */
static inline int
sw_sip_uint(const char *b, uint32_t p, uint32_t end, uint64_t max, uint64_t *v)
{
	uint32_t x = 0;

	if (sw_sip_digits(b, p, end, (uint32_t)max, &x) != end)
		return -1;
	*v = x;
	return 0;
}

/** Called by sw_sip_params_scan for each parameter; non-zero refuses the value. */
typedef int (*sw_sip_param_cb_t)(void *ctx, const char *b, struct sw_span name, struct sw_span val,
				 bool has_val);

/* The first of SP, HT, CR or LF at or after p is not at p: the common case needs no call. */
static inline uint32_t
lws(const char *b, uint32_t p, uint32_t end)
{
	return (p < end && cc_is(b[p], CC_WS)) ? skip_lws(b, p + 1, end) : p;
}

/*
 * *( SEMI generic-param ) from p, with the per-parameter hook inlined: cb is
 * a constant at every call site, so each caller gets its own copy with the
 * hook folded in and no indirect call per parameter. Same contract as
 * sw_sip_params_scan.
 */
static inline __attribute__((always_inline)) uint32_t
params_scan_i(const char *b, uint32_t p, uint32_t end, struct sw_span *params, sw_sip_param_cb_t cb,
	      void *ctx)
{
	uint32_t first = UINT32_MAX, last = p;

	params->off = (uint16_t)p;
	params->len = 0;
	for (;;) {
		uint32_t n, ne, v, ve;
		bool has_val = false;

		p = lws(b, last, end);
		if (p >= end || b[p] != ';')
			break;
		n = lws(b, p + 1, end);
		ne = skip_cls(b, n, end, CC_TOKEN);
		if (ne == n)
			return SCAN_ERR;
		if (first == UINT32_MAX)
			first = n;
		last = ne;
		v = ve = lws(b, ne, end);
		if (v < end && b[v] == '=') {
			v = lws(b, v + 1, end);
			if (v < end && b[v] == '"')
				ve = sw_sip_quoted_end(b, v, end);
			else
				ve = skip_cls(b, v, end, CC_GVAL);
			if (ve == SCAN_ERR || ve == v)
				return SCAN_ERR;
			last = ve;
			has_val = true;
		} else {
			v = ve = ne;
		}
		if (cb != NULL && cb(ctx, b, span(n, ne), span(v, ve), has_val) != 0)
			return SCAN_ERR;
	}
	if (first != UINT32_MAX)
		*params = span(first, last);
	return last;
}

/* Two bytes at s, little endian. */
static inline uint16_t
ld2(const char *s)
{
	uint16_t x;

	__builtin_memcpy(&x, s, 2);
	return x;
}

/* Four bytes at s, little endian. */
static inline uint32_t
ld4(const char *s)
{
	uint32_t x;

	__builtin_memcpy(&x, s, 4);
	return x;
}

/* Four bytes at s folded to lower case for letters only (the caller compares with letters). */
static inline uint32_t
ld4_lc(const char *s)
{
	return ld4(s) | 0x20202020u;
}

/**
 * Scan *( SEMI generic-param ) from p (RFC 3261 §25.1 generic-param).
 * Sets *params to the list without the first ';' (len 0 when none) and returns
 * the position after the last parameter (trailing LWS not consumed), or
 * SCAN_ERR when a parameter is malformed or cb refuses it. cb may be NULL.
 */
uint32_t sw_sip_params_scan(const char *b, uint32_t p, uint32_t end, struct sw_span *params,
			    sw_sip_param_cb_t cb, void *ctx);

/**
 * Parse one name-addr / addr-spec with its header parameters starting at p.
 * On success returns the position after it, LWS skipped: end, or a ',' when
 * list is true. Returns SCAN_ERR on error. With shape_only the URI is only
 * checked for a scheme and no white space, and na->uri is left empty: the
 * display name, tag, params and all are filled as usual.
 */
uint32_t sw_sip_nameaddr_at(const char *b, uint32_t p, uint32_t end, struct sw_sip_nameaddr *na,
			    bool list, bool shape_only);

/* na8: the From and To shape check in 32-byte loads, for a CPU with AVX2. */
#if defined(__SSSE3__) && defined(__x86_64__) && SW_SIP_FAST
#define SW_SIP_NAMEADDR_AVX2 1
/**
 * sw_sip_nameaddr_at(b, p, end, na, false, true) for a CPU with AVX2 (the
 * caller checks): the usual From and To in two loads. The same index and
 * verdict.
 */
uint32_t sw_sip_nameaddr_shape_avx2(const char *b, uint32_t p, uint32_t end,
				    struct sw_sip_nameaddr *na);
#endif

#endif /* SW_SIP_PVT_H */
