/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SIP message walk: start line, one pass over the header lines, the
 * headers a proxy routes on, and a verdict (RFC 3261 §8.2, §16.3, §18.3).
 *
 * Work is bounded per byte: each line is found with a 16-byte compare, each
 * header is parsed once, in message order, and no scanner moves backwards by
 * more than the trailing white space of a value. The lines of the usual
 * shape are indexed first in a tight pass (index_lines()) and parsed after
 * it; the first unusual line hands the rest to the general loop. Every such
 * fast path gives the general path's index and verdict (SW_SIP_FAST, test
 * sip_fastpath). Nothing is allocated; the index holds 16-bit spans into the
 * caller's buffer.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dataplane/sip_pvt.h"

/*
 * x86-64 with the fast paths: the header-line pass also in an AVX2 form,
 * chosen at run time (the build targets SSE2, SSSE3 at most).
 */
#if defined(__SSE2__) && defined(__x86_64__) && SW_SIP_FAST
#include <immintrin.h>
#define SW_SIP_AVX2 1
#endif

#define NO_HDR 0xff
#define BAD_PREFIX "Bad Request - "

/* A later fault replaces an earlier one only when it ranks higher (§16.3 order). */
enum rank { RANK_NONE, RANK_420, RANK_416, RANK_400, RANK_505, RANK_513 };

struct pstate {
	struct sw_sip_msg *m;
	const char *b;
	uint32_t n;
	uint8_t rank;
	uint8_t top_via_bad;
	uint8_t cseq_same; /* the CSeq method is the Request-Line's, as parse_cseq() found */
	uint16_t code;
	const char *reason;
	uint32_t seen; /* header types met, indexed or not */
};

static const char *const drop_names[] = {
#define SW_X_DROP(e, text) text,
	SW_SIP_DROP_LIST(SW_X_DROP)
#undef SW_X_DROP
};

const char *
sw_sip_drop_name(unsigned drop)
{
	return drop < SW_SIP_DROP__COUNT ? drop_names[drop] : "?";
}

static void
fault(struct pstate *ps, enum rank rank, uint16_t code, const char *reason)
{
	if (rank > ps->rank) {
		ps->rank = (uint8_t)rank;
		ps->code = code;
		ps->reason = reason;
	}
}

static void
bad(struct pstate *ps, const char *reason)
{
	fault(ps, RANK_400, 400, reason);
}

/*
 * The first byte c in [p, n), or n. Sixteen bytes a compare; the last
 * partial block is one load that ends at n, so nothing is read past the
 * message (the fuzz and mutate tests hand over exact-size heap copies).
 */
static inline uint32_t
find_byte(const char *b, uint32_t p, uint32_t n, char c)
{
#ifdef __SSE2__
	const __m128i k = _mm_set1_epi8(c);
	unsigned mk;

	for (; p + 16 <= n; p += 16) {
		mk = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(b + p)), k));
		if (mk != 0)
			return p + (uint32_t)__builtin_ctz(mk);
	}
	if (p < n && n >= 16) {
		mk = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(b + n - 16)), k));
		mk >>= p - (n - 16);
		return mk != 0 ? p + (uint32_t)__builtin_ctz(mk) : n;
	}
#endif
	while (p < n && b[p] != c)
		p++;
	return p;
}

static inline uint32_t
find_lf(const char *b, uint32_t p, uint32_t n)
{
	return find_byte(b, p, n, '\n');
}

/* Methods are case-sensitive (§7.1), so an exact compare per length is enough. */
static uint16_t
method_bits(const char *s, uint32_t len)
{
#define M(str, bit)                                                                                \
	if (memcmp(s, str, len) == 0)                                                              \
		return bit;
	switch (len) {
	case 3:
		M("ACK", SW_METHOD_ACK);
		M("BYE", SW_METHOD_BYE);
		break;
	case 4:
		M("INFO", SW_METHOD_INFO);
		break;
	case 5:
		M("PRACK", SW_METHOD_PRACK);
		M("REFER", SW_METHOD_REFER);
		break;
	case 6:
		M("INVITE", SW_METHOD_INVITE);
		M("CANCEL", SW_METHOD_CANCEL);
		M("NOTIFY", SW_METHOD_NOTIFY);
		M("UPDATE", SW_METHOD_UPDATE);
		break;
	case 7:
		M("OPTIONS", SW_METHOD_OPTIONS);
		M("PUBLISH", SW_METHOD_PUBLISH);
		M("MESSAGE", SW_METHOD_MESSAGE);
		break;
	case 8:
		M("REGISTER", SW_METHOD_REGISTER);
		break;
	case 9:
		M("SUBSCRIBE", SW_METHOD_SUBSCRIBE);
		break;
	}
#undef M
	return SW_METHOD_OTHER;
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, case-insensitive (§7.1). 1 ok, 0 other, -1 bad. */
static int
version_check(const char *b, uint32_t p, uint32_t end)
{
	uint32_t q;

	if (end - p < 7 || lc(b[p]) != 's' || lc(b[p + 1]) != 'i' || lc(b[p + 2]) != 'p' ||
	    b[p + 3] != '/')
		return -1;
	if (end - p == 7 && b[p + 4] == '2' && b[p + 5] == '.' && b[p + 6] == '0')
		return 1;
	q = skip_cls(b, p + 4, end, CC_DIGIT);
	if (q == p + 4 || q >= end || b[q] != '.')
		return -1;
	p = q + 1;
	q = skip_cls(b, p, end, CC_DIGIT);
	return (q > p && q == end) ? 0 : -1;
}

/* Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1); single SPs only. */
static void
request_line(struct pstate *ps, uint32_t p, uint32_t me, uint32_t end)
{
	struct sw_sip_msg *m = ps->m;
	const char *b = ps->b;
	const char *sp;
	uint32_t us = me + 1, ue;
	int v, rc;

	m->is_request = 1;
	m->method_name = span(p, me);
	m->method = method_bits(b + p, me - p);
	/* nearly always: " SIP/2.0" ends the line and the URI holds no SP */
	if (SW_SIP_FAST && end - us > 8) {
		uint64_t x;

		memcpy(&x, b + end - 8, 8);
		ue = end - 8;
		/*
		 * A URI that parses holds no SP (none of its parts' classes
		 * has it), so the parse checks for white space too; a URI that
		 * does not parse takes the general path, which may stop before
		 * the URI (so its half-filled parts are cleared) or parse it
		 * again.
		 */
		if ((x | 0x0000000020202000ull) == 0x302e322f70697320ull /* " sip/2.0" */) {
			if (sw_sip_uri_parse_lim(b, span(us, ue), ps->n, &m->ruri) == 0) {
				m->version = span(ue + 1, end);
				rc = 0;
				goto parsed;
			}
			memset(&m->ruri, 0, sizeof(m->ruri));
		}
	}
	sp = memchr(b + us, ' ', end - us);
	ue = sp ? (uint32_t)(sp - b) : end;
	if (sp == NULL || ue == us) {
		bad(ps, "Bad Request - malformed Request-Line");
		return;
	}
	m->version = span(ue + 1, end);
	if (memchr(b + ue + 1, ' ', end - ue - 1) != NULL || b[us] == ' ') {
		/* LWS inside the Request-URI, or doubled or trailing SP (RFC 4475 §3.1.2.8-10) */
		bad(ps, "Bad Request - extra white space in Request-Line");
		return;
	}
	v = version_check(b, ue + 1, end);
	if (v == 0)
		fault(ps, RANK_505, 505, "Version Not Supported");
	else if (v < 0)
		bad(ps, "Bad Request - malformed SIP-Version");
	rc = sw_sip_uri_parse_lim(b, span(us, ue), ps->n, &m->ruri);
parsed:
	if (rc != 0) {
		if (m->ruri.scheme_type == SW_SCHEME_OTHER)
			fault(ps, RANK_416, 416, "Unsupported URI Scheme");
		else
			bad(ps, "Bad Request - malformed Request-URI");
	} else if (m->ruri.scheme_type == SW_SCHEME_OTHER) {
		/* §16.3 step 2: we route sip, sips and tel only */
		fault(ps, RANK_416, 416, "Unsupported URI Scheme");
	} else if (m->ruri.headers.len != 0) {
		/* §19.1.5: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11) */
		bad(ps, "Bad Request - headers in Request-URI");
	}
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (§7.2). */
static void
status_line(struct pstate *ps, uint32_t p, uint32_t end)
{
	struct sw_sip_msg *m = ps->m;
	const char *b = ps->b;
	uint32_t ve, c;
	uint64_t x;
	bool sp;

	m->is_request = 0;
	/* nearly always "SIP/2.0 " (letters in any case) in one compare */
	if (SW_SIP_FAST && end - p > 8 &&
	    (memcpy(&x, b + p, 8), (x | 0x202020ull) == 0x20302e322f706973ull)) {
		ve = p + 7;
		sp = true;
	} else {
		ve = find_byte(b, p, end, ' ');
		sp = ve < end;
		if (version_check(b, p, ve) != 1) {
			m->version = span(p, ve);
			bad(ps, "malformed or unsupported SIP-Version in a response");
			return;
		}
	}
	c = ve + 1;
	m->version = span(p, ve);
	if (SW_SIP_FAST && sp && end - c > 3) {
		/*
		 * Three digits and a SP in one load: byte minus '0' is 0-9 for
		 * a digit (no borrow comes up from the bytes below a digit).
		 */
		uint32_t w = ld4(b + c) - 0x00303030u;

		if ((((w + 0x00767676u) | w) & 0x00808080u) == 0 && (w >> 24) == ' ') {
			m->status = (uint16_t)((w & 0xff) * 100 + (w >> 8 & 0xff) * 10 +
					       (w >> 16 & 0xff));
			goto code;
		}
	}
	if (!sp || end - c < 3 || !cc_is(b[c], CC_DIGIT) || !cc_is(b[c + 1], CC_DIGIT) ||
	    !cc_is(b[c + 2], CC_DIGIT) || (c + 3 < end && b[c + 3] != ' ')) {
		bad(ps, "malformed Status-Code");
		return;
	}
	m->status = (uint16_t)((b[c] - '0') * 100 + (b[c + 1] - '0') * 10 + (b[c + 2] - '0'));
code:
	if (m->status < 100 || m->status > 699)
		bad(ps, "Status-Code out of range");
	m->reason_phrase = c + 3 < end ? span(c + 4, end) : span(end, end);
}

/* What via_param_cb works on: the entry, and how far the message may be read. */
struct via_ctx {
	struct sw_sip_via *v;
	uint32_t lim;
};

static inline __attribute__((always_inline)) int
via_param_cb(void *ctx, const char *b, struct sw_span name, struct sw_span val, bool has_val)
{
	struct sw_sip_via *v = ((struct via_ctx *)ctx)->v;
	const char *s = b + name.off;
	uint32_t p = val.off, end = span_end(val);
	uint64_t num;
	uint8_t ht;

	/* the names are all letters, so OR-ing 0x20 folds case exactly */
	switch (name.len) {
	case 3:
		/* ttl = 1*3DIGIT, 0-255 (§25.1 via-ttl) */
		if ((s[0] | 0x20) == 't' && (s[1] | 0x20) == 't' && (s[2] | 0x20) == 'l') {
			if (!has_val || sw_sip_uint(b, p, end, 255, &num) != 0)
				return -1;
			v->ttl = val;
		}
		break;
	case 5:
		if (ld4_lc(s) == 0x6464616d /* madd */ && (s[4] | 0x20) == 'r') {
			if (!has_val || sw_sip_host_scan(b, p, end, &ht, false) != end)
				return -1;
			v->maddr = val;
		} else if (ld4_lc(s) == 0x726f7072 /* rpor */ && (s[4] | 0x20) == 't') {
			/* RFC 3581: a bare ";rport" asks for the source port */
			if (has_val && sw_sip_uint(b, p, end, 65535, &num) != 0)
				return -1;
			v->rport = val;
			v->has_rport = 1;
		}
		break;
	case 6:
		if (ld4_lc(s) == 0x6e617262 /* bran */ && (s[4] | 0x20) == 'c' &&
		    (s[5] | 0x20) == 'h') {
			if (!has_val || b[p] == '"')
				return -1;
			v->branch = val;
		}
		break;
	case 8:
		/* received: an address, IPv6 with or without brackets (RFC 5118 §4.5) */
		if (ld4_lc(s) == 0x65636572 /* rece */ && ld4_lc(s + 4) == 0x64657669 /* ived */) {
			if (!has_val ||
			    sw_sip_host_scan_lim(b, p, end, ((struct via_ctx *)ctx)->lim, &ht, true) != end)
				return -1;
			v->received = val;
		}
		break;
	}
	return 0;
}

/* sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS. */
static uint32_t
sent_protocol(const char *b, uint32_t p, uint32_t end, struct sw_sip_via *v)
{
	uint32_t q = p;

	/* nearly every Via starts "SIP/2.0/" with no white space: one compare */
	if (end - p > 8) {
		uint64_t x;

		memcpy(&x, b + p, 8);
		if ((x | 0x0000000000202020ull) == 0x2f302e322f706973ull /* sip/2.0/ */) {
			q = skip_cls(b, p + 8, end, CC_TOKEN);
			if (q > p + 8) {
				v->transport = span(p + 8, q);
				return q;
			}
			/* white space after the slash: the general path */
		}
	}
	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			p = skip_lws(b, p, end);
			if (p >= end || b[p] != '/')
				return SCAN_ERR;
			p = skip_lws(b, p + 1, end);
		}
		q = skip_cls(b, p, end, CC_TOKEN);
		if (q == p)
			return SCAN_ERR;
		if (i == 2)
			v->transport = span(p, q);
		p = q;
	}
	return q;
}

/*
 * The Via parameter names the fast paths know by their first eight bytes:
 * "branch=" and "rport", each the name and a mask that folds its letters'
 * case (its other bytes compare exactly).
 */
static const uint64_t via_branch[2] = {0x003d68636e617262ull /* branch= */, 0x00ffdfdfdfdfdfdfull};
static const uint64_t via_rport[2] = {0x74726f7072ull /* rport */, 0xdfdfdfdfdfull};

/*
 * The eight bytes y at a parameter start name k (via_branch, via_rport):
 * k's two words as memory operands of the xor and the test, where gcc
 * would keep them in four registers through the parameter loops (and
 * via_quad_avx2() would need a frame for them).
 */
static inline __attribute__((always_inline)) bool
via_name_is(uint64_t y, const uint64_t *k)
{
#ifdef __x86_64__
	bool z;

	__asm__("xorq %2, %1\n\ttestq %3, %1" : "=@ccz"(z), "+r"(y) : "m"(k[0]), "m"(k[1]));
	return z;
#else
	return ((y ^ k[0]) & k[1]) == 0;
#endif
}

#ifdef SW_SIP_AVX2
/*
 * 1 when the CPU has AVX2 and SW_SIP_NO_AVX2 is not set in the environment
 * (so that the tests and the fuzzers can run the SSE2 form on any machine).
 */
static bool sw_sip_avx2;

static void __attribute__((constructor)) sw_sip_avx2_init(void)
{
	__builtin_cpu_init();
	sw_sip_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
		      __builtin_cpu_supports("bmi2") && getenv("SW_SIP_NO_AVX2") == NULL;
}
#endif

#ifdef __SSSE3__
#ifdef SW_SIP_AVX2
/*
 * The bytes of [p, p + len) outside gen-value (CC_GVAL), as bits, and bit
 * len: every place a via-param name or value can stop. len < 64 and the
 * buffer is readable up to p + 64; bits past len are left as they come.
 * nib_miss32(), 32 bytes a load; m4 all 0x0f. Inline in via_quad_avx2(),
 * a call in gval_stops_avx2().
 */
static inline __attribute__((always_inline, target("avx2"))) uint64_t
gval_stops_avx2_in(const char *b, uint32_t p, uint32_t len, __m256i m4)
{
	uint64_t m = nib_miss32(_mm256_loadu_si256((const __m256i *)(const void *)(b + p)),
				10 /* CC_GVAL */, m4);

	if (len > 32)
		m |= (uint64_t)nib_miss32(
			     _mm256_loadu_si256((const __m256i *)(const void *)(b + p + 32)), 10,
			     m4)
		     << 32;
	return m | 1ull << len;
}

static __attribute__((noinline, target("avx2"))) uint64_t
gval_stops_avx2(const char *b, uint32_t p, uint32_t len)
{
	return gval_stops_avx2_in(b, p, len, _mm256_set1_epi8(0x0f));
}
#endif

/* gval_stops_avx2() in 16-byte loads, for a CPU without AVX2. */
static inline __attribute__((always_inline)) uint64_t
gval_stops(const char *b, uint32_t p, uint32_t len)
{
	const unsigned k = 10; /* CC_GVAL */
	uint64_t m;

#ifdef SW_SIP_AVX2
	if (sw_sip_avx2)
		return gval_stops_avx2(b, p, len);
#endif
	m = nib_miss(_mm_loadu_si128((const __m128i *)(const void *)(b + p)), k);
	for (uint32_t i = 16; i < len; i += 16)
		m |= (uint64_t)nib_miss(_mm_loadu_si128((const __m128i *)(const void *)(b + p + i)),
					k)
		     << i;
	return m | 1ull << len;
}

/* The next stop of mk (from gval_stops() at base) after those taken: end at the latest. */
static inline __attribute__((always_inline)) uint32_t
next_stop(uint64_t *mk, uint32_t base)
{
	uint32_t t = base + (uint32_t)__builtin_ctzll(*mk);

	*mk &= *mk - 1;
	return t;
}

/*
 * The port of 1 to 5 digits that fills [p, e) exactly (p + 4 readable): its
 * value up to 65535, else -1. The end is known (a stop), so unlike
 * sw_sip_digits_lim() nothing is spent finding it: up to four digits go to
 * the top of one 4-byte load, zeros below them as leading zeros, then pairs
 * and fours in two multiplies (the first digit is the lowest byte); a fifth
 * digit leads. After the subtraction the first byte that is not a digit is
 * exact (no borrow comes up from digits below it), so the check sees it.
 * Longer runs (leading zeros) take the general path.
 */
static inline __attribute__((always_inline)) int32_t
port_in(const char *b, uint32_t p, uint32_t e)
{
	uint32_t len = e - p, y, hi = 0;

	/* the registered port (§18.1.1, §19.1.2) */
	if (len == 4 && ld4(b + p) == 0x30363035 /* 5060 */)
		return 5060;
	if (len == 5) {
		hi = (uint32_t)(uint8_t)b[p] - '0';
		if (hi > 6)
			return -1;
		hi *= 10000;
		p++;
		len = 4;
	} else if (len - 1 > 3) {
		return -1;
	}
	y = (ld4(b + p) - 0x30303030u) << (32 - 8 * len);
	if ((((y + 0x76767676u) | y) & 0x80808080u) != 0)
		return -1;
	y = sw_sip_digits4(y) + hi;
	return y <= 65535 ? (int32_t)y : -1;
}

/* via_param_step(): a parameter of another name, left to the caller */
#define VIA_OTHER (SCAN_ERR - 1)

/*
 * One parameter of via_tail() and via_quad_avx2(), after the ';' at s:
 * branch or rport, read off mk (the stops of gval_stops() from base on).
 * Returns the stop after it, SCAN_ERR for a fault, or VIA_OTHER for any
 * other name (then mk is as it was).
 */
static inline __attribute__((always_inline)) uint32_t
via_param_step(const char *b, uint32_t s, uint64_t *mk, uint32_t base, uint32_t end,
	       struct sw_sip_via *v)
{
	uint32_t n = s + 1, t, vs;
	int32_t num;
	uint64_t y;

	memcpy(&y, b + n, 8);
	if (via_name_is(y, via_branch) && n + 7 < end) {
		/* the '=' is the next stop: the name's letters are gen-value */
		*mk &= *mk - 1;
		vs = n + 7;
		s = next_stop(mk, base);
		if (s == vs)
			return SCAN_ERR;
		v->branch = span(vs, s);
		return s;
	}
	t = base + (uint32_t)__builtin_ctzll(*mk);
	if (!via_name_is(y, via_rport) || t != n + 5)
		return VIA_OTHER;
	*mk &= *mk - 1;
	v->has_rport = 1;
	if (t == end || b[t] != '=') {
		/* the whole span: an earlier rport may have set a length */
		v->rport = span(t, t);
		return t;
	}
	s = next_stop(mk, base);
	num = port_in(b, t + 1, s);
	if (num < 0)
		return SCAN_ERR;
	v->rport = span(t + 1, s);
	return s;
}

/*
 * via_tail() from the parameter after the ';' at s on, when it is not one
 * the loop there knows by name: each name a token up to its stop, each value
 * a gen-value already, checked and stored by via_param_cb() as the general
 * path does. Out of line, so that via_tail()'s loop makes no calls.
 */
static __attribute__((noinline)) uint32_t
via_tail_slow(const char *b, uint32_t s, uint64_t mk, uint32_t base, uint32_t end, uint32_t lim,
	      struct sw_sip_via *v)
{
	struct via_ctx vc = {v, lim};

	do {
		uint32_t n = s + 1, t = next_stop(&mk, base), vs;

		s = vs = t;
		if (t < end && b[t] == '=') {
			vs = t + 1;
			s = next_stop(&mk, base);
			if (s == vs)
				return SCAN_ERR;
		}
		if (t == n || skip_cls(b, n, t, CC_TOKEN) != t ||
		    via_param_cb(&vc, b, span(n, t), span(vs, s), vs > t) != 0)
			return SCAN_ERR;
	} while (s < end && b[s] == ';');
	v->params.len = (uint16_t)(s - v->params.off);
	if (s != end && b[s] != ',')
		return SCAN_ERR;
	v->all.len = (uint16_t)(s - v->all.off);
	return s;
}

/*
 * via_fast() from the ':' or ';' at q after the host to the entry's end,
 * when [q + 1, end) is under 64 bytes and end + 64 <= lim: one class mask of
 * the bytes outside gen-value (gval_stops()) gives every place a port,
 * a parameter name or a value stops, so each parameter is a few bit steps
 * instead of a scan. A stop must be a ';', '=' or ',' where the grammar
 * wants one; anything else returns SCAN_ERR, and the general path decides.
 */
static inline __attribute__((always_inline)) uint32_t
via_tail(const char *b, uint32_t start, uint32_t q, uint32_t end, uint32_t lim,
	 struct sw_sip_via *v, char c)
{
	const uint32_t base = q + 1;
	uint64_t mk = gval_stops(b, base, end - base);
	uint32_t s = q;
	int32_t num;

	/* the starts now, the ends from them at the end: fewer live registers */
	v->all.off = (uint16_t)start;
	if (c == ':') {
		s = next_stop(&mk, base);
		num = port_in(b, base, s);
		if (num < 0)
			return SCAN_ERR;
		v->port = span(base, s);
		v->port_num = (uint16_t)num;
		v->params.off = (uint16_t)s; /* len 0 from the memset */
		if (s == end || b[s] != ';')
			goto done;
	}
	v->params.off = (uint16_t)(s + 1);
	do {
		uint32_t r = via_param_step(b, s, &mk, base, end, v);

		/* any other name (received too) */
		if (r == VIA_OTHER)
			return via_tail_slow(b, s, mk, base, end, lim, v);
		if (r == SCAN_ERR)
			return SCAN_ERR;
		s = r;
	} while (s < end && b[s] == ';');
	v->params.len = (uint16_t)(s - v->params.off);
done:
	if (s != end && b[s] != ',')
		return SCAN_ERR;
	v->all.len = (uint16_t)(s - v->all.off);
	return s;
}

#ifdef SW_SIP_AVX2
/*
 * The byte vectors of via_quad_avx2(), read from memory: gcc 12 builds an
 * _mm256_set1_epi8() of a constant in three instructions (an immediate,
 * vmovd, vpbroadcastb) where a compare can take the memory operand. Not
 * const, so that gcc does not fold the loads back into those.
 */
enum { VK_DOT, VK_SLASH, VK_NINE, VK_ONE, VK_NIB, VK__COUNT };
struct via_k {
	uint8_t vec[VK__COUNT][32];
};
extern struct via_k sw_sip_via_k __attribute__((visibility("hidden")));
struct via_k sw_sip_via_k = {
#define VK_ROW(c)                                                                                  \
	{                                                                                          \
		c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c,   \
			c, c, c, c, c                                                              \
	}
	{VK_ROW('.'), VK_ROW('/'), VK_ROW('9'), VK_ROW('1'), VK_ROW(0x0f)},
#undef VK_ROW
};

static inline __attribute__((always_inline, target("avx2"))) __m256i
via_k(unsigned row)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)sw_sip_via_k.vec[row]);
}

/*
 * The Via entry nearly every message has, "SIP/2.0/UDP " (TCP, TLS), a
 * dotted quad or a hostname, [":" port], then nothing or ";" and branch /
 * rport parameters, with AVX2 and no call on the way: the host and the port
 * from the digit and dot masks of one 32-byte load, the quad's shape by
 * sw_sip_quad[] as in sw_sip_ipv4_16(), the parameters by the bytes outside
 * gen-value as in via_tail(). A leaf (gcc 12 still pushes rbp, rbx and r12:
 * 7 instructions; fewer live values did not get rid of them). Anything else
 * (or any fault) returns SCAN_ERR and via_parm_slow() parses the entry
 * again; the index and the verdict are the general path's either way.
 */
static __attribute__((noinline, target("avx2,bmi,bmi2"))) uint32_t
via_quad_avx2(const char *b, uint32_t p, uint32_t end, uint32_t lim, struct sw_sip_via *v)
{
	uint32_t s, base, t, hl, w;
	uint64_t x, mk, u, key;
	unsigned dot, dig, three, e;
	int32_t num;
	__m256i z;

	/*
	 * The loads reach 64 bytes past end at most (p <= end). A shorter
	 * entry is no matter: every span below is checked against end.
	 */
	if (end + 64 > lim)
		return SCAN_ERR;
	memcpy(&x, b + p, 8);
	memcpy(&w, b + p + 8, 4);
	w |= 0x00202020u;
	if ((x | 0x0000000000202020ull) != 0x2f302e322f706973ull /* sip/2.0/ */)
		return SCAN_ERR;
	if (__builtin_expect(w != 0x20706475u /* "udp " */, 0)) {
		if (w != 0x20706374u /* "tcp " */ && w != 0x20736c74u /* "tls " */)
			return SCAN_ERR;
	}
	memset(v, 0, sizeof(*v));
	v->all.off = (uint16_t)p;
	/* one store: p + 8 < 65536 (SW_SIP_MAX_MSG) */
	w = p + 8 + (3u << 16);
	memcpy(&v->transport, &w, 4);
	/*
	 * After the SP: the run of digits and dots (u), its dots and the bit
	 * after it are the key of sw_sip_quad[]. In 64 bits, so that a run
	 * over the whole load still has its end bit (bit 32, and no key
	 * matches): u ^ (u + 1) is the run and its end bit, the digits off.
	 */
	z = _mm256_loadu_si256((const __m256i *)(const void *)(b + p + 12));
	dot = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(z, via_k(VK_DOT)));
	dig = (unsigned)_mm256_movemask_epi8(_mm256_andnot_si256(
		_mm256_cmpgt_epi8(z, via_k(VK_NINE)), _mm256_cmpgt_epi8(z, via_k(VK_SLASH))));
	u = dig | dot;
	key = (u ^ (u + 1)) & ~(uint64_t)dig;
	e = sw_sip_quad[sw_sip_quad_slot((uint32_t)key)];
	if ((e & 0xffff) == key) {
		/* the octets of three digits: over "255" as text, as sw_sip_ipv4_16() */
		three = e >> 16;
		three &= (unsigned)_mm256_movemask_epi8(_mm256_cmpgt_epi8(z, via_k(VK_ONE)));
		/* from "200" up (rare): each octet as a big-endian number of its digits */
		for (; three != 0; three &= three - 1)
			if (__builtin_bswap32(ld4(b + p + 12 + __builtin_ctz(three))) >
			    0x323535ffu /* "255", any fourth byte */)
				return SCAN_ERR;
		hl = (uint32_t)__builtin_ctzll(u + 1);
		v->host_type = SW_HOST_IPV4;
	} else {
		/*
		 * A hostname as sw_sip_host_scan_lim() takes one: an ALPHA
		 * first, host characters, no '-' last. Anything else that is
		 * no dotted quad is the general path's.
		 */
		hl = (uint32_t)__builtin_ctzll(nib_miss32(z, 4 /* CC_HOST */, via_k(VK_NIB)) |
					       1ull << 32);
		if (!cc_is(b[p + 12], CC_ALPHA) || b[p + 11 + hl] == '-')
			return SCAN_ERR;
		v->host_type = SW_HOST_NAME;
	}
	s = p + 12 + hl;
	v->host = span(p + 12, s);
	if (b[s] == ':') {
		/* the digits after the ':', up to the next byte that is none */
		t = s + 1 + (uint32_t)__builtin_ctzll(~(uint64_t)dig >> (hl + 1));
		num = port_in(b, s + 1, t);
		if (num < 0)
			return SCAN_ERR;
		v->port = span(s + 1, t);
		v->port_num = (uint16_t)num;
		s = t;
	}
	/* s < end: every run above ends inside the entry */
	if (s >= end || b[s] != ';') {
		if (s != end && (s > end || b[s] != ','))
			return SCAN_ERR;
		v->params.off = (uint16_t)s;
		v->all.len = (uint16_t)(s - p);
		return s;
	}
	if (end - s > 64)
		return SCAN_ERR;
	base = s + 1;
	v->params.off = (uint16_t)base;
	mk = gval_stops_avx2_in(b, base, end - base, via_k(VK_NIB));
	do {
		s = via_param_step(b, s, &mk, base, end, v);
		/* another name (received too): the slow path's */
		if (s >= VIA_OTHER)
			return SCAN_ERR;
	} while (s < end && b[s] == ';');
	v->params.len = (uint16_t)(s - base);
	if (s != end && b[s] != ',')
		return SCAN_ERR;
	v->all.len = (uint16_t)(s - v->all.off);
	return s;
}
#endif
#endif

/*
 * The via-parm nearly every phone and proxy writes: "SIP/2.0/" transport SP
 * host [":" port] *( ";" token [ "=" token-or-host ] ), no other white
 * space, no quotes, ending at end or at a ','. Straight-line checks instead
 * of the general scanners; anything else (or any fault) returns SCAN_ERR
 * and via_parm() parses the entry again from its start, so both give the
 * same index and the same verdict.
 */
static inline __attribute__((always_inline)) uint32_t
via_fast(const char *b, uint32_t p, uint32_t end, uint32_t lim, struct sw_sip_via *v)
{
	struct via_ctx vc = {v, lim};
	uint32_t start = p, q, first, w;
	uint64_t x;

	/*
	 * Past end the message goes on (at least its CRLF): every parameter
	 * name is one 8-byte load, and a host's first byte can be read even
	 * when the host is empty.
	 */
	if (end - p < 16 || end + 8 > lim)
		return SCAN_ERR;
	memset(v, 0, sizeof(*v));
	memcpy(&x, b + p, 8);
	if ((x | 0x0000000000202020ull) != 0x2f302e322f706973ull /* sip/2.0/ */)
		return SCAN_ERR;
	memcpy(&w, b + p + 8, 4);
	w |= 0x00202020u;
	if (w == 0x20706475u /* "udp " */)
		q = p + 11;
	else if (w == 0x20706374u /* "tcp " */ || w == 0x20736c74u /* "tls " */)
		q = p + 11;
	else if ((q = skip_cls(b, p + 8, end, CC_TOKEN)) == p + 8 || q >= end || b[q] != ' ')
		return SCAN_ERR;
	v->transport = span(p + 8, q);
	p = q + 1;
	/*
	 * A dotted quad as sw_sip_host_scan_lim takes it, by sw_sip_ipv4_16(). At
	 * p == end one ends past end, and the scan refuses the empty host.
	 */
	q = 0;
#ifdef __SSSE3__
	/*
	 * The usual rest, a port or a parameter after the quad, by via_tail()
	 * when the message goes on 64 bytes past end (for its loads): the ':'
	 * or ';' ends the host; q < end, as the difference wraps when q == end.
	 */
	if (end + 64 <= lim) {
		if ((unsigned)(uint8_t)b[p] - '0' < 10) {
			q = sw_sip_ipv4_16(b, p);
			if (q != 0 && end - q - 1 < 64 && (b[q] == ':' || b[q] == ';')) {
				v->host_type = SW_HOST_IPV4;
				v->host = span(p, q);
				return via_tail(b, start, q, end, lim, v, b[q]);
			}
		}
	} else
#endif
		if (p + 16 <= lim && (unsigned)(uint8_t)b[p] - '0' < 10)
		q = sw_sip_ipv4_16(b, p);
	if (q != 0 && q <= end && (q == end || !cc_is(b[q], CC_HOST)))
		v->host_type = SW_HOST_IPV4;
	else if ((q = sw_sip_host_scan_lim(b, p, end, lim, &v->host_type, false)) == SCAN_ERR)
		return SCAN_ERR;
	v->host = span(p, q);
#ifdef __SSSE3__
	if (end - q - 1 < 64 && end + 64 <= lim && (b[q] == ':' || b[q] == ';'))
		return via_tail(b, start, q, end, lim, v, b[q]);
#endif
	if (q < end && b[q] == ':') {
		uint32_t ps = q + 1, port;

		q = sw_sip_digits_lim(b, ps, end, lim, 65535, &port);
		if (q == SCAN_ERR)
			return SCAN_ERR;
		v->port = span(ps, q);
		v->port_num = (uint16_t)port;
	}
	v->params = span(q, q);
	if (q >= end || b[q] != ';')
		goto done;
	first = q + 1;
	do {
		uint32_t n = q + 1, ne, vs, ve;
		bool has_val = false;
		uint64_t y;
		uint8_t ht;

		/*
		 * branch, rport and received by their first eight bytes (n <=
		 * end, so they are readable): each name's letters in either
		 * case, its other bytes exactly.
		 */
		memcpy(&y, b + n, 8);
		if (via_name_is(y, via_branch) && n + 7 < end) {
			vs = n + 7;
			ve = skip_cls(b, vs, end, CC_GVAL);
			if (ve == vs)
				return SCAN_ERR;
			v->branch = span(vs, ve);
			q = ve;
			continue;
		}
		if (via_name_is(y, via_rport) && n + 5 <= end) {
			uint32_t port;

			if (n + 5 == end || b[n + 5] == ';' || b[n + 5] == ',') {
				v->rport = span(n + 5, n + 5);
				v->has_rport = 1;
				q = n + 5;
				continue;
			}
			/* RFC 3581: the port a response came from, as a proxy saw it */
			ve = b[n + 5] == '=' ? sw_sip_digits_lim(b, n + 6, end, lim, 65535, &port)
					     : (uint32_t)SCAN_ERR;
			if (ve != SCAN_ERR && (ve == end || b[ve] == ';' || b[ve] == ',')) {
				v->rport = span(n + 6, ve);
				v->has_rport = 1;
				q = ve;
				continue;
			}
		} else if (((y ^ 0x6465766965636572ull /* received */) & 0xdfdfdfdfdfdfdfdfull) ==
				   0 &&
			   n + 9 < end && b[n + 8] == '=') {
			vs = n + 9;
			/*
			 * A dotted quad that no gen-value character
			 * follows is the whole value, and the host scan's
			 * own quad: one pass instead of the run and then
			 * the scan.
			 */
			if (vs + 16 <= lim && (ve = sw_sip_ipv4_16(b, vs)) != 0 && ve <= end &&
			    (ve == end || !cc_is(b[ve], CC_GVAL | CC_HOST | CC_HEX))) {
				v->received = span(vs, ve);
				q = ve;
				continue;
			}
			ve = skip_cls(b, vs, end, CC_GVAL);
			if (ve == vs || sw_sip_host_scan_lim(b, vs, ve, lim, &ht, true) != ve)
				return SCAN_ERR;
			v->received = span(vs, ve);
			q = ve;
			continue;
		}
		ne = skip_cls(b, n, end, CC_TOKEN);
		vs = ve = ne;
		if (ne == n)
			return SCAN_ERR;
		if (ne < end && b[ne] == '=') {
			vs = ne + 1;
			ve = skip_cls(b, vs, end, CC_GVAL);
			if (ve == vs)
				return SCAN_ERR;
			has_val = true;
		}
		if (via_param_cb(&vc, b, span(n, ne), span(vs, ve), has_val) != 0)
			return SCAN_ERR;
		q = ve;
	} while (q < end && b[q] == ';');
	v->params = span(first, q);
done:
	if (q != end && b[q] != ',')
		return SCAN_ERR;
	v->all = span(start, q);
	return q;
}

/*
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params ) (§25.1), every
 * shape the grammar allows; out of line, as headers_general().
 */
static __attribute__((noinline)) uint32_t
via_parm_general(const char *b, uint32_t p, uint32_t end, uint32_t lim, struct sw_sip_via *v,
		 bool *sent_by)
{
	struct via_ctx vc = {v, lim};
	uint32_t start = p, q, last;
	uint64_t port;

	memset(v, 0, sizeof(*v));
	q = sent_protocol(b, p, end, v);
	if (q == SCAN_ERR)
		return SCAN_ERR;
	p = lws(b, q, end);
	if (p == q)
		return SCAN_ERR;
	q = sw_sip_host_scan(b, p, end, &v->host_type, false);
	if (q == SCAN_ERR)
		return SCAN_ERR;
	v->host = span(p, q);
	last = q;
	p = lws(b, q, end);
	if (p < end && b[p] == ':') {
		p = lws(b, p + 1, end);
		q = skip_cls(b, p, end, CC_DIGIT);
		if (sw_sip_uint(b, p, q, 65535, &port) != 0)
			return SCAN_ERR;
		v->port = span(p, q);
		v->port_num = (uint16_t)port;
		last = q;
	}
	*sent_by = true;
	v->all = span(start, last);
	q = params_scan_i(b, last, end, &v->params, via_param_cb, &vc);
	if (q == SCAN_ERR)
		return SCAN_ERR;
	v->all = span(start, q);
	p = lws(b, q, end);
	return (p == end || b[p] == ',') ? p : SCAN_ERR;
}

/* One via-parm: the usual shape by via_fast(), anything else by the general path. */
static __attribute__((noinline)) uint32_t
via_parm_slow(const char *b, uint32_t p, uint32_t end, uint32_t lim, struct sw_sip_via *v,
	      bool *sent_by)
{
	uint32_t q = SW_SIP_FAST ? via_fast(b, p, end, lim, v) : SCAN_ERR;

	if (q != SCAN_ERR) {
		*sent_by = true;
		return q;
	}
	return via_parm_general(b, p, end, lim, v, sent_by);
}

/* The most usual entry by the leaf via_quad_avx2(); SCAN_ERR for any other. */
static inline __attribute__((always_inline)) uint32_t
via_quick(const char *b, uint32_t p, uint32_t end, uint32_t lim, struct sw_sip_via *v)
{
#ifdef SW_SIP_AVX2
	if (sw_sip_avx2)
		return via_quad_avx2(b, p, end, lim, v);
#endif
	(void)b, (void)p, (void)end, (void)lim, (void)v;
	return SCAN_ERR;
}

/* One via-parm: via_quick(), else via_parm_slow(). */
static inline __attribute__((always_inline)) uint32_t
via_parm(const char *b, uint32_t p, uint32_t end, uint32_t lim, struct sw_sip_via *v, bool *sent_by)
{
	uint32_t q = via_quick(b, p, end, lim, v);

	if (q != SCAN_ERR) {
		*sent_by = true;
		return q;
	}
	return via_parm_slow(b, p, end, lim, v, sent_by);
}

/*
 * Count the Via entries of a line into *nvia (saturating), for
 * SW_SIP_MORE_VIA: sw_sip_parse() parses only those a proxy reads (a
 * request's top one, a response's top two) and forwards the rest untouched
 * (§16.3 step 1, §16.7 step 3). An entry is a comma-separated piece; commas
 * inside quoted parameter values do not count. Returns -1 when an entry is
 * empty (a stray comma).
 */
static int
via_count(const char *b, uint32_t p, uint32_t end, uint8_t *nvia)
{
	bool any = false;

	if (memchr(b + p, ',', end - p) == NULL) {
		if (p == end)
			return -1;
		if (*nvia < UINT8_MAX)
			(*nvia)++;
		return 0;
	}
	for (; p < end; p++) {
		char c = b[p];

		if (c == '"') {
			p = sw_sip_quoted_end(b, p, end);
			if (p == SCAN_ERR)
				return -1;
			p--;
			any = true;
		} else if (c == ',') {
			if (!any)
				return -1;
			if (*nvia < UINT8_MAX)
				(*nvia)++;
			any = false;
		} else if (!cc_is(c, CC_WS)) {
			any = true;
		}
	}
	if (!any)
		return -1;
	if (*nvia < UINT8_MAX)
		(*nvia)++;
	return 0;
}

/*
 * The Via entries sw_sip_parse() parses: a request's top one (where an
 * answer goes, and what the proxy stamps), a response's top two (ours, and
 * the next hop back, §16.7 step 3). A request's others are no part of
 * forwarding it (§16.3 step 1: "Any other components, well-formed or not,
 * SHOULD be ignored"); SW_SIP_MORE_VIA parses them.
 */
static inline unsigned
vias_parsed(const struct sw_sip_msg *m)
{
	return m->is_request ? 1 : 2;
}

static inline __attribute__((always_inline)) void
parse_via(struct pstate *ps, uint8_t hi, uint32_t p, uint32_t end)
{
	struct sw_sip_msg *m = ps->m;

	if (ps->top_via_bad)
		return;
	for (;;) {
		struct sw_sip_via *v;
		uint32_t q;

		if (m->nvia >= vias_parsed(m)) {
			/*
			 * More entries: forwarding needs only to know that
			 * there are; SW_SIP_MORE_VIA counts and checks them.
			 */
			m->nvia = (uint8_t)(vias_parsed(m) + 1);
			return;
		}
		v = &m->via[m->nvia];
		/* sent_by only on the slow path: no stack slot to set for the usual entry */
		q = via_quick(ps->b, p, end, ps->n, v);
		if (q == SCAN_ERR) {
			bool sent_by = false;

			q = via_parm_slow(ps->b, p, end, ps->n, v, &sent_by);
			if (q == SCAN_ERR) {
				/*
				 * §18.2.2 answers go to the top Via's sent-by:
				 * without one nobody can be answered. With it,
				 * a 400 can still go back (RFC 4475 §3.1.2.1).
				 */
				if (m->nvia == 0 && !sent_by)
					ps->top_via_bad = 1;
				else if (m->nvia == 0)
					v->hdr = hi, m->nvia = 1;
				bad(ps, "Bad Request - malformed Via");
				return;
			}
		}
		v->hdr = hi;
		m->nvia++;
		if (q == end)
			return;
		p = lws(ps->b, q + 1, end);
	}
}

/*
 * A header that RFC 3261 §7.3.1 allows once (From, To, Call-ID, CSeq ...). 1
 * if a repeat. A line parse_indexed() parses (indexed) is one when first[]
 * names an earlier line of its type, as seen is only filled in after those.
 */
static inline __attribute__((always_inline)) int
repeated(struct pstate *ps, uint8_t type, uint8_t hi, bool indexed, const char *reason)
{
	if (indexed ? ps->m->first[type] != hi : (ps->seen & (1u << type)) != 0) {
		bad(ps, reason);
		return 1;
	}
	return 0;
}

static inline __attribute__((always_inline)) void
parse_nameaddr(struct pstate *ps, uint32_t p, uint32_t end, struct sw_sip_nameaddr *na,
	       const char *reason)
{
	uint32_t q;

#if defined(SW_SIP_AVX2) && defined(SW_SIP_NAMEADDR_AVX2)
	if (sw_sip_avx2)
		q = sw_sip_nameaddr_shape_avx2(ps->b, p, end, na);
	else
#endif
		q = sw_sip_nameaddr_at(ps->b, p, end, na, false, true);
	if (q == SCAN_ERR)
		bad(ps, reason);
}

/* The len bytes at x and at y are the same (both inside the n of the message). */
static inline bool
same_bytes(const char *b, uint32_t n, uint32_t x, uint32_t y, uint32_t len)
{
	/* a method's name nearly always: one 8-byte compare, the bytes past len masked off */
	if (SW_SIP_FAST && len <= 8 && x + 8 <= n && y + 8 <= n) {
		uint64_t u, v;

		memcpy(&u, b + x, 8);
		memcpy(&v, b + y, 8);
		return ((u ^ v) & sw_sip_keep[len]) == 0;
	}
	return memcmp(b + x, b + y, len) == 0;
}

/* CSeq = 1*DIGIT LWS Method; the number is below 2**31 (§8.1.1.5, §20.16). */
static inline __attribute__((always_inline)) void
parse_cseq(struct pstate *ps, uint32_t p, uint32_t end)
{
	struct sw_sip_msg *m = ps->m;
	const char *b = ps->b;
	uint32_t q = sw_sip_digits_lim(b, p, end, ps->n, 0x7fffffff, &m->cseq_num), ms, me;

	if (q == SCAN_ERR) {
		bad(ps, "Bad Request - malformed CSeq number");
		return;
	}
	/* one SP before the method is the rule; anything else takes skip_lws() */
	ms = q + 1 < end && b[q] == ' ' && !cc_is(b[q + 1], CC_WS) ? q + 1 : skip_lws(b, q, end);
	/*
	 * A request's must be its Request-Line's method (§8.1.1.5), a token:
	 * nearly always one compare says both.
	 */
	if (m->is_request && ms != q && end - ms == m->method_name.len &&
	    same_bytes(b, ps->n, ms, m->method_name.off, end - ms)) {
		m->cseq_method = span(ms, end);
		ps->cseq_same = 1;
		return;
	}
	/*
	 * A response's is nearly always a known method, a token: its bits
	 * now, which sw_sip_parse() would look up at the end (method 0 until
	 * then), and no scan.
	 */
	if (SW_SIP_FAST && !m->is_request && ms != q) {
		uint16_t bits = method_bits(b + ms, end - ms);

		if (bits != SW_METHOD_OTHER) {
			m->method = bits;
			m->cseq_method = span(ms, end);
			return;
		}
	}
	me = skip_cls(b, ms, end, CC_TOKEN);
	if (ms == q || me == ms || me != end) {
		m->cseq_num = 0;
		bad(ps, "Bad Request - malformed CSeq");
		return;
	}
	m->cseq_method = span(ms, me);
}

/* Integer header (Max-Forwards, Content-Length): 1*DIGIT up to max. */
static inline __attribute__((always_inline)) int
parse_num(struct pstate *ps, uint32_t p, uint32_t end, uint32_t max, uint32_t *v,
	  const char *reason)
{
	unsigned d;

	/* one digit (Content-Length: 0 of nearly every message without a body) */
	if (SW_SIP_FAST && end - p == 1 && (d = (unsigned)(uint8_t)ps->b[p] - '0') < 10) {
		*v = d;
		return 0;
	}
	if (sw_sip_digits_lim(ps->b, p, end, ps->n, max, v) != end) {
		bad(ps, reason);
		return -1;
	}
	return 0;
}

/*
 * option-tag *( COMMA option-tag ): Require, Proxy-Require, Supported
 * (§20.32, §20.29, §20.37).
 */
static int
tag_list_ok(const char *b, uint32_t p, uint32_t end, bool may_be_empty)
{
	if (p == end)
		return may_be_empty;
	for (;;) {
		uint32_t q = skip_cls(b, p, end, CC_TOKEN);

		if (q == p)
			return 0;
		p = skip_lws(b, q, end);
		if (p == end)
			return 1;
		if (b[p] != ',')
			return 0;
		p = skip_lws(b, p + 1, end);
	}
}

/* media-type = m-type SLASH m-subtype *(SEMI m-parameter) (§20.15). */
static int
media_type_ok(const char *b, uint32_t p, uint32_t end)
{
	struct sw_span params;
	uint32_t q = skip_cls(b, p, end, CC_TOKEN);

	if (q == p)
		return 0;
	p = skip_lws(b, q, end);
	if (p >= end || b[p] != '/')
		return 0;
	p = skip_lws(b, p + 1, end);
	q = skip_cls(b, p, end, CC_TOKEN);
	if (q == p)
		return 0;
	q = sw_sip_params_scan(b, q, end, &params, NULL, NULL);
	return q != SCAN_ERR && skip_lws(b, q, end) == end;
}

/* A comma list of name-addrs (Route, Record-Route, Contact); counts entries, keeps the first. */
static int
nameaddr_list(struct pstate *ps, uint32_t p, uint32_t end, uint8_t *count,
	      struct sw_sip_nameaddr *first)
{
	struct sw_sip_nameaddr scratch;

	for (;;) {
		struct sw_sip_nameaddr *na = (*count == 0 && first) ? first : &scratch;
		uint32_t q = sw_sip_nameaddr_at(ps->b, p, end, na, true, false);

		if (q == SCAN_ERR)
			return -1;
		if (*count < UINT8_MAX)
			(*count)++;
		if (q == end)
			return 0;
		p = q + 1;
	}
}

/*
 * indexed: the line is one of parse_indexed()'s, which leaves ps->seen to
 * fill in after its loop.
 */
static inline __attribute__((always_inline)) void
parse_header(struct pstate *ps, uint8_t type, uint8_t hi, uint32_t p, uint32_t end, bool indexed)
{
	struct sw_sip_msg *m = ps->m;
	uint32_t v = 0;

	switch (type) {
	case SW_HDR_VIA:
		parse_via(ps, hi, p, end);
		break;
	case SW_HDR_FROM:
		if (!repeated(ps, type, hi, indexed, "Bad Request - more than one From"))
			parse_nameaddr(ps, p, end, &m->from, "Bad Request - malformed From");
		break;
	case SW_HDR_TO:
		if (!repeated(ps, type, hi, indexed, "Bad Request - more than one To"))
			parse_nameaddr(ps, p, end, &m->to, "Bad Request - malformed To");
		break;
	case SW_HDR_CALL_ID:
		if (repeated(ps, type, hi, indexed, "Bad Request - more than one Call-ID"))
			break;
		/* callid = word [ "@" word ]: one run without white space (§25.1) */
		m->call_id = span(p, end);
		if (p == end || !no_ws(ps->b, p, end))
			bad(ps, "Bad Request - malformed Call-ID");
		break;
	case SW_HDR_CSEQ:
		if (!repeated(ps, type, hi, indexed, "Bad Request - more than one CSeq"))
			parse_cseq(ps, p, end);
		break;
	case SW_HDR_MAX_FORWARDS:
		/* 0-255 (§8.1.1.6); zero is the proxy's 483, not a syntax fault */
		if (!repeated(ps, type, hi, indexed, "Bad Request - more than one Max-Forwards") &&
		    parse_num(ps, p, end, 255, &v, "Bad Request - malformed Max-Forwards") == 0)
			m->max_forwards = (int32_t)v;
		break;
	case SW_HDR_CONTENT_LENGTH:
		if (!repeated(ps, type, hi, indexed,
			      "Bad Request - more than one Content-Length") &&
		    parse_num(ps, p, end, 0x7fffffff, &v,
			      "Bad Request - malformed Content-Length") == 0)
			m->content_length = (int32_t)v;
		break;
	case SW_HDR_ROUTE:
		/* §16.4 and §16.6 steps 6-7 read it: it must be well formed (§16.3 step 1) */
		if (nameaddr_list(ps, p, end, &m->nroute, m->nroute ? NULL : &m->route) != 0)
			bad(ps, "Bad Request - malformed Route");
		break;
	case SW_HDR_PROXY_REQUIRE:
		if (!tag_list_ok(ps->b, p, end, false)) {
			bad(ps, "Bad Request - malformed Proxy-Require");
		} else if (m->unsupported.len == 0) {
			/* §16.3 step 4: sipwarp supports no extension a proxy must know */
			m->unsupported = span(p, end);
			fault(ps, RANK_420, 420, "Bad Extension");
		}
		break;
	default:
		/*
		 * Contact, Record-Route, Expires, Content-Type, Require, Supported:
		 * nothing a proxy routes on; sw_sip_parse_more() reads them.
		 */
		break;
	}
	if (!indexed)
		ps->seen |= 1u << type;
}

/*
 * memset(p, 0, len) for len >= 16 in 16-byte stores: gcc makes a memset of
 * this size a rep stos, whose start-up costs more than the stores.
 */
static inline void
zero(void *p, size_t len)
{
#ifdef __SSE2__
	char *t = p;
	size_t i;

#pragma GCC unroll 32
	for (i = 0; i + 16 <= len; i += 16)
		_mm_storeu_si128((__m128i *)(void *)(t + i), _mm_setzero_si128());
	if (i < len)
		_mm_storeu_si128((__m128i *)(void *)(t + len - 16), _mm_setzero_si128());
#else
	memset(p, 0, len);
#endif
}

#ifdef SW_SIP_AVX2
/* zero() in 32-byte stores (len >= 32): index_lines_avx2() only. */
static inline __attribute__((target("avx2"))) void
zero_avx2(void *p, size_t len)
{
	char *t = p;
	size_t i;

#pragma GCC unroll 32
	for (i = 0; i + 32 <= len; i += 32)
		_mm256_storeu_si256((__m256i *)(void *)(t + i), _mm256_setzero_si256());
	if (i < len)
		_mm256_storeu_si256((__m256i *)(void *)(t + len - 32), _mm256_setzero_si256());
}
#endif

#ifdef SW_SIP_AVX2
/*
 * The fields before hdr[] zeroed and first[] all NO_HDR: first[] ends right
 * before hdr[], so the last 32 bytes are one store of zeros and then
 * NO_HDR (two stores fewer than zeros and then first[] on its own).
 */
static inline __attribute__((target("avx2"))) void
head_avx2(struct sw_sip_msg *m)
{
	static const uint8_t fill[64] = {[32 ... 63] = NO_HDR};
	const size_t end = offsetof(struct sw_sip_msg, hdr);

	_Static_assert(offsetof(struct sw_sip_msg, first) + SW_HDR__COUNT ==
				       offsetof(struct sw_sip_msg, hdr) &&
			       SW_HDR__COUNT <= 32 && offsetof(struct sw_sip_msg, hdr) >= 64,
		       "first[] in the 32 bytes before hdr[]");
	zero_avx2(m, end - 32);
	_mm256_storeu_si256(
		(__m256i *)(void *)((char *)m + end - 32),
		_mm256_loadu_si256((const __m256i *)(const void *)(fill + SW_HDR__COUNT)));
}
#endif

/* avx2 (a constant at each use): in 32-byte stores, in index_lines_avx2() only. */
static inline __attribute__((always_inline)) void
msg_init(struct sw_sip_msg *m, const char *buf, uint32_t n, bool avx2)
{
	/* hdr[] beyond nhdr is never read, so it is left as it was */
#ifdef SW_SIP_AVX2
	if (avx2) {
		head_avx2(m);
		zero_avx2(&m->hdr_end, sizeof(*m) - offsetof(struct sw_sip_msg, hdr_end));
	} else
#else
	(void)avx2;
#endif
	{
		zero(m, offsetof(struct sw_sip_msg, hdr));
		zero(&m->hdr_end, sizeof(*m) - offsetof(struct sw_sip_msg, hdr_end));
		memset(m->first, NO_HDR, sizeof(m->first));
	}
	m->buf = buf;
	m->len = n;
	m->max_forwards = -1;
	m->content_length = -1;
	m->expires = -1;
}

/* End of the line starting at p, folded continuation lines included: the LF, or n. */
static inline uint32_t
line_end(const char *b, uint32_t p, uint32_t n)
{
	for (;;) {
		p = find_lf(b, p, n);
		if (p + 1 >= n || (b[p + 1] != ' ' && b[p + 1] != '\t'))
			return p;
		p++;
	}
}

/*
 * The name of the header line at p: sets *ne (end of the name) and *c (the
 * colon) and returns the type, or returns -1 for a malformed line. Names up
 * to 16 bytes (all but a few) take one 16-byte load: the colon is found in
 * it, and a known name is matched exactly from the same bytes, which also
 * proves it is a token; only unknown names are checked character by
 * character.
 */
static inline int
header_name(const char *b, uint32_t p, uint32_t n, uint32_t *ne_out, uint32_t *c_out)
{
	uint32_t ne, c;

#ifdef __SSE2__
	if (SW_SIP_FAST && p + 16 <= n) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
		unsigned colon = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
		unsigned stop = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));

		/* a colon before any LF within the 16 bytes */
		if (colon != 0 && (stop == 0 || __builtin_ctz(colon) < __builtin_ctz(stop))) {
			uint32_t len;
			uint8_t t;

			c = p + (uint32_t)__builtin_ctz(colon);
			ne = c;
			if (ne > p && (b[ne - 1] == ' ' || b[ne - 1] == '\t'))
				while (ne > p && (b[ne - 1] == ' ' || b[ne - 1] == '\t'))
					ne--;
			len = ne - p;
			*ne_out = ne;
			*c_out = c;
			if (len == 0)
				return -1;
			/* the one-load compare takes a name right before its colon */
			if (len == 1 || ne != c) {
				if (skip_cls(b, p, ne, CC_TOKEN) != ne)
					return -1;
				return sw_sip_hname_type(b + p, len);
			}
			t = sw_sip_hname_type16(x, (uint64_t)_mm_cvtsi128_si64(x), len);
			if (t == SW_HDR_OTHER && skip_cls(b, p, ne, CC_TOKEN) != ne)
				return -1;
			return t;
		}
	}
#endif
	ne = skip_cls(b, p, n, CC_TOKEN);
	for (c = ne; c < n && (b[c] == ' ' || b[c] == '\t'); c++)
		;
	*ne_out = ne;
	*c_out = c;
	if (ne == p || c >= n || b[c] != ':')
		return -1;
	return sw_sip_hname_type(b + p, ne - p);
}

#if defined(__SSE2__) && SW_SIP_FAST
/* The first len (< 16) bytes of x are token characters. */
static inline bool
name_is_token(__m128i x, uint32_t len)
{
#ifdef __SSSE3__
	return (nib_miss(x, (unsigned)__builtin_ctz(CC_TOKEN)) & ((1u << len) - 1)) == 0;
#else
	char s[16];

	_mm_storeu_si128((__m128i *)(void *)s, x);
	return skip_cls(s, 0, len, CC_TOKEN) == len;
#endif
}

#ifdef SW_SIP_AVX2
/*
 * lf64 in two 32-byte compares: index_lines_avx2() only, on a CPU that has
 * AVX2 (sw_sip_avx2).
 */
static inline __attribute__((target("avx2"))) uint64_t
lf64_avx2(const char *b, uint32_t base)
{
	const __m256i lf = _mm256_set1_epi8('\n');
	const __m256i *q = (const __m256i *)(const void *)(b + base);
	uint64_t m0 = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256(q), lf));
	uint64_t m1 =
		(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256(q + 1), lf));

	return m0 | m1 << 32;
}
#endif

/* The LF bytes of the 64 from b + base, as bits (bit i: b[base + i]). */
static inline __attribute__((always_inline)) uint64_t
lf64(const char *b, uint32_t base, bool avx2)
{
	const __m128i lf = _mm_set1_epi8('\n');
	const __m128i *q = (const __m128i *)(const void *)(b + base);
	uint64_t m0, m1, m2, m3;

#ifdef SW_SIP_AVX2
	if (avx2)
		return lf64_avx2(b, base);
#else
	(void)avx2;
#endif
	m0 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q), lf));
	m1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 1), lf));
	m2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 2), lf));
	m3 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(q + 3), lf));
	return m0 | m1 << 16 | m2 << 32 | m3 << 48;
}

/*
 * The LF bits of the block from base on (base < n, n >= 64): the 64 bytes
 * there, or for the last block the 64 bytes that end at n shifted down, so
 * nothing past the message is read and the bits from n on are zero.
 */
static inline __attribute__((always_inline)) uint64_t
lf_block(const char *b, uint32_t base, uint32_t n, bool avx2)
{
	if (base + 64 <= n)
		return lf64(b, base, avx2);
	return lf64(b, n - 64, avx2) >> (base - (n - 64));
}

#ifdef SW_SIP_AVX2
/* a == b, by one vptest (SSE4.1): index_lines_avx2() only. */
static inline __attribute__((target("sse4.1"))) bool
same16_sse41(__m128i a, __m128i b)
{
	__m128i d = _mm_xor_si128(a, b);

	return _mm_testz_si128(d, d);
}
#endif

/*
 * x (the first 16 bytes of a line) is slot e's name and its colon: the
 * compare of sw_sip_hname_type16k(), by vptest in the AVX2 form. An empty
 * slot matches nothing, so a match always has a known type.
 */
static inline __attribute__((always_inline)) bool
name_hit(__m128i x, const struct sw_sip_hname16 *e, bool avx2)
{
	__m128i y = SW_SIP_HNAME16_FOLD(x, e);

#ifdef SW_SIP_AVX2
	if (avx2)
		return same16_sse41(y, _mm_load_si128((const __m128i *)e->name));
#else
	(void)avx2;
#endif
	return _mm_movemask_epi8(_mm_cmpeq_epi8(y, _mm_load_si128((const __m128i *)e->name))) ==
	       0xffff;
}

/*
 * The position of the lowest set bit of x != 0, in 64 bits. In the AVX2
 * form one tzcnt: gcc's own comes with a xor of its output first (against
 * a false dependency that only older cores have), and a sign extension
 * when it is of 32 bits, an instruction or two a line.
 */
static inline __attribute__((always_inline)) size_t
low_bit(uint64_t x, bool avx2)
{
#ifdef SW_SIP_AVX2
	if (avx2) {
		uint64_t r;

		__asm__("tzcnt %1, %0" : "=r"(r) : "r"(x) : "cc");
		return r;
	}
#else
	(void)avx2;
#endif
	return (size_t)__builtin_ctzll(x);
}

/*
 * Where the value of a line with its colon at c starts, for index_lines():
 * after at most one SP, not at white space; 0 when it does (the line is
 * left to the general loop). Out of line, as most lines take the inline
 * test for ": X" instead, and so that gcc keeps no register for it there.
 */
static __attribute__((noinline)) size_t
value_start(const char *b, size_t c)
{
	size_t vs = c + 1 + (b[c + 1] == ' ');

	return cc_is(b[vs], CC_WS) ? 0 : vs;
}

/*
 * The most lines index_lines() takes from one block of 64 bytes: a line it
 * takes has a name of two bytes or more, its colon and a value byte that is
 * not white space (so not the LF) before its LF, so the LFs of two such
 * lines are at least five bytes apart.
 */
#define BLOCK_LINES (63 / 5 + 1)
_Static_assert(SW_SIP_MAX_HDRS >= BLOCK_LINES, "hdr[] holds a block's lines");

/*
 * The start line's LF, then the index of the header lines after it in the
 * shape nearly every line has, with no parsing yet: a name of 2 to 15 bytes
 * right before the colon, at most one SP after it, a value that does not
 * start with white space, no fold, and 18 bytes of message from the line's
 * start (the name and the two bytes after its colon are read without a
 * bound check; messages under 64 bytes take the general loop). Stops at
 * the first line of another shape (headers() takes over there, so both
 * give the same index and verdict) or at the empty line, where it sets
 * *body. Returns where it stopped; *sl is the start line's LF (n when it
 * has none), or stays UINT32_MAX when the message is too short to take
 * this way (then nothing is indexed). The start line (from p) comes from
 * the same masks as the header lines, so it needs no search of its own.
 * avx2 (a constant at each use) makes the LF masks with AVX2 compares, in
 * index_lines_avx2() only.
 *
 * The LFs come from bit masks of 64 bytes made ahead of the walk, taken
 * one by one: the chain from one line's start to the next is a bit scan,
 * and the rest of a line's work (its name, its value's ends, the stores)
 * does not hold the next line up. Every LF ends one line, so a fold is only
 * seen at the line after it: the line it continues goes back to the
 * general loop then.
 */
static inline __attribute__((always_inline)) uint32_t
index_lines(struct sw_sip_msg *m, const char *b, uint32_t n, uint32_t from, uint32_t *body,
	    uint32_t *sl, bool avx2)
{
	/* offsets in 64 bits: b + p + 1 is then one address, with no zero extension of p */
	size_t p = from, base = from, nl, nb, le;
	struct sw_sip_hdr *h = &m->hdr[m->nhdr];
	struct sw_sip_hdr *const first = h, *const hlast = &m->hdr[SW_SIP_MAX_HDRS - BLOCK_LINES];
	__m128i colon = _mm_set1_epi8(':'), case20 = _mm_set1_epi8(0x20);
	uint64_t lf;

	if (n < 64 || p >= n)
		return from;
	/* the last line start with 18 bytes of message, the last whole block: one compare each */
	nl = n - 18;
	nb = n - 64;
	/*
	 * The ':' and the case bits in registers of their own: gcc makes them
	 * afresh for every line otherwise (the asm hides that they are
	 * constants).
	 */
	__asm__("" : "+x"(colon), "+x"(case20));
	lf = lf_block(b, base, n, avx2);
	/* the start line's LF: its first bit, rarely in a later block */
	while (lf == 0) {
		base += 64;
		if (base >= n) {
			*sl = n;
			return n;
		}
		lf = lf_block(b, base, n, avx2);
	}
	*sl = (uint32_t)(base + low_bit(lf, avx2));
	lf &= lf - 1;
	p = *sl + 1;
	if (h > hlast)
		goto out;
	for (;; h++) {
		const struct sw_sip_hname16 *e;
		size_t c, vs, ve, len;
		unsigned off;
		uint8_t t;
		__m128i x;

		/*
		 * The LF that ends this line: the next bit, in this block or a
		 * later one. A block with room for as many lines as it can
		 * hold (BLOCK_LINES) needs no check of hdr[]'s end per line;
		 * one without stops the walk (headers() takes over). Both
		 * loop tests marked unlikely: gcc then lays the next block's
		 * masks out straight after the test of lf, 13 instructions a
		 * block instead of 20 (-22 a 200 OK, -41 an INVITE).
		 */
		if (lf == 0) {
			do {
				/* a whole block nearly always: one compare for it */
				base += 64;
				if (base <= nb)
					lf = lf64(b, base, avx2);
				else if (base < n)
					lf = lf_block(b, base, n, avx2);
				else
					goto out;
			} while (__builtin_expect(lf == 0, 0));
			if (__builtin_expect(h > hlast, 0))
				goto out;
		}
		le = base + low_bit(lf, avx2);
		lf &= lf - 1;
		/* the empty line stops the walk too (its CR is no name): see below */
		if (p > nl)
			break;
		x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
		/* 16 when there is no colon, and no known name is that long */
		len = low_bit((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, colon)) | 0x10000u,
			      avx2);
		c = p + len;
		/*
		 * sw_sip_h16key(). A LF or white space before the colon fails the
		 * exact name compare and the token check alike, so no mask is
		 * needed for them; a match is a name of 2 to 15 bytes.
		 */
		off = sw_sip_h16off((uint32_t)_mm_extract_epi16(_mm_or_si128(x, case20), 0),
				    (uint32_t)len);
		e = (const struct sw_sip_hname16 *)(const void *)((const char *)sw_sip_h16 + off);
		if (name_hit(x, e, avx2))
			t = e->type;
		else if (len - 2 <= SW_SIP_H16_MAX - 2 && name_is_token(x, len))
			t = SW_HDR_OTHER;
		else
			break;
		/*
		 * Stored now, so that they need no registers through the rest
		 * (a line left after this is past nhdr, where nothing is read),
		 * and a field a store: fewer instructions than a span's two
		 * halves put together for one 32-bit store.
		 */
		h->type = t;
		h->name.off = (uint16_t)p;
		h->name.len = (uint16_t)len;
		h->line.off = (uint16_t)p;
		h->line.len = (uint16_t)(le + 1 - p);
		/*
		 * One SP after the colon, then a byte above SP, nearly always
		 * (both inside the message, as c + 2 <= p + 17 <= n - 1: no
		 * bound checks, two byte compares). Otherwise at most
		 * one SP and no white space after it; no LF up to c (the name
		 * matched), so le >= vs: b[vs] is in the message.
		 */
		if (b[c + 1] == ' ' && (uint8_t)b[c + 2] > ' ') {
			vs = c + 2;
		} else {
			vs = value_start(b, c);
			if (vs == 0)
				break;
		}
		/*
		 * Nearly always CRLF right after the value's last character:
		 * one compare of the two bytes before the LF (le >= c + 1 >= p
		 * + 3), a CR over a byte above SP. Otherwise the trim; b[vs] is
		 * not white space, so it stops there at the latest.
		 */
		if ((uint16_t)(ld2(b + le - 2) - 0x0d21u) <= 0x0dffu - 0x0d21u) {
			ve = le - 1;
		} else {
			ve = le - (b[le - 1] == '\r');
			while (cc_is(b[ve - 1], CC_WS))
				ve--;
		}
		h->value.off = (uint16_t)vs;
		h->value.len = (uint16_t)(ve - vs);
		p = le + 1;
	}
	/*
	 * Where the walk stopped at a line (its LF le): the empty line ends
	 * the headers there. Its CR is neither a name nor a token, so no
	 * line of it is taken, and testing it here costs the lines nothing.
	 */
	if (le == p + 1 && b[le - 1] == '\r') {
		/* the empty line's CR is no fold: no test for one */
		m->hdr_end = span((uint32_t)p, (uint32_t)p + 2);
		*body = (uint32_t)p + 2;
		m->nhdr = (uint16_t)(h - m->hdr);
		return (uint32_t)p;
	}
out:
	/* a fold (RFC 3261 §7.3.1): the line before continues here */
	if (h > first && p < n && (b[p] == ' ' || b[p] == '\t'))
		p = (--h)->line.off;
	m->nhdr = (uint16_t)(h - m->hdr);
	return (uint32_t)p;
}

#ifdef SW_SIP_AVX2
/*
 * msg_init() and index_lines() compiled for AVX2, out of line (a function
 * of another target is not inlined into sw_sip_parse()): the LF masks take
 * two compares a block instead of four, and the message's fields half the
 * stores, which pays for the call.
 */
static __attribute__((target("avx2,bmi,bmi2"), noinline)) uint32_t
index_lines_avx2(struct sw_sip_msg *m, const char *b, uint32_t n, uint32_t p, uint32_t *body,
		 uint32_t *sl)
{
	msg_init(m, b, n, true);
	return index_lines(m, b, n, p, body, sl, true);
}
#endif

/*
 * The types first[] names a line of, as bits: two 16-byte compares instead
 * of an update of ps->seen for every line.
 */
static inline uint32_t
seen_types(const struct sw_sip_msg *m)
{
	_Static_assert(SW_HDR__COUNT > 16 && SW_HDR__COUNT <= 32, "first[] in two loads");
	const __m128i none = _mm_set1_epi8((char)NO_HDR);
	__m128i lo = _mm_loadu_si128((const __m128i *)(const void *)m->first);
	__m128i hi =
		_mm_loadu_si128((const __m128i *)(const void *)(m->first + SW_HDR__COUNT - 16));
	uint32_t absent = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(lo, none)) |
			  (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(hi, none))
				  << (SW_HDR__COUNT - 16);

	return ~absent & (uint32_t)((1ull << SW_HDR__COUNT) - 1);
}

/*
 * Parse the headers index_lines() indexed, from the first, in order. Before
 * it, no line set first[] or ps->seen, so seen is the types first[] names
 * after it (each of these lines has a slot, so sets first[] for its type).
 *
 * The dispatch is one indirect jump through a table of labels, one for
 * every type of the list in dataplane.h, each with parse_header() for its
 * constant type inlined (so its switch folds away, to nothing for the
 * types it does not read): parse_header()'s own switch cost a range check
 * and a jump table lookup a line more.
 */
static void
parse_indexed(struct pstate *ps, unsigned from)
{
#define SW_X_GO(e, name, compact) [SW_HDR_##e] = &&hdr_##e,
	static const void *const go[SW_HDR__COUNT] = {[SW_HDR_OTHER] = &&next,
						      SW_SIP_HDR_LIST(SW_X_GO)};
#undef SW_X_GO
	struct sw_sip_msg *m = ps->m;
	const struct sw_sip_hdr *h = &m->hdr[from], *const hend = &m->hdr[m->nhdr];
	uint8_t i = (uint8_t)from;

	/* nothing below changes nhdr: the end is read once */
	for (; h < hend; h++, i++) {
		uint8_t t = h->type;

		if (m->first[t] == NO_HDR)
			m->first[t] = i;
		goto *go[t];
#define SW_X_CASE(e, name, compact)                                                                \
	hdr_##e : parse_header(ps, SW_HDR_##e, i, h->value.off, span_end(h->value), true);         \
	continue;
		SW_SIP_HDR_LIST(SW_X_CASE)
#undef SW_X_CASE
	next:;
	}
	ps->seen |= seen_types(m);
}
#endif

/*
 * The header lines from p up to the empty line, one by one: every shape the
 * grammar allows. Returns where the body starts, or n when truncated. Out
 * of line, so that the hot path's code stays dense in the instruction cache
 * (it runs for the few lines index_lines() leaves).
 */
static __attribute__((noinline)) uint32_t
headers_general(struct pstate *ps, uint32_t p)
{
	struct sw_sip_msg *m = ps->m;
	const char *b = ps->b;
	uint32_t n = ps->n;

	for (;;) {
		struct sw_sip_hdr scratch, *h;
		uint32_t ne, c, le, vs, ve;
		uint8_t hi;
		int type;

		if (p >= n) {
			bad(ps, "Bad Request - headers not terminated by an empty line");
			m->hdr_end = span(n, n);
			return n;
		}
		if (b[p] == '\n' || (b[p] == '\r' && p + 1 < n && b[p + 1] == '\n')) {
			m->hdr_end = span(p, b[p] == '\n' ? p + 1 : p + 2);
			return span_end(m->hdr_end);
		}
		type = header_name(b, p, n, &ne, &c);
		if (type < 0) {
			bad(ps, "Bad Request - malformed header line");
			p = line_end(b, c < n ? c : p, n) + 1;
			continue;
		}
		le = line_end(b, c, n);
		vs = lws(b, c + 1, le);
		ve = le;
		if (ve > vs && b[ve - 1] == '\r')
			ve--;
		while (ve > vs && cc_is(b[ve - 1], CC_WS))
			ve--;
		if (m->nhdr < SW_SIP_MAX_HDRS) {
			hi = (uint8_t)m->nhdr++;
			h = &m->hdr[hi];
		} else {
			fault(ps, RANK_513, 513, "Message Too Large - too many header lines");
			hi = NO_HDR;
			h = &scratch;
		}
		h->name = span(p, ne);
		h->value = span(vs, ve);
		h->line = span(p, le < n ? le + 1 : n);
		h->type = (uint8_t)type;
		if (hi != NO_HDR && m->first[type] == NO_HDR)
			m->first[type] = hi;
		if (type != SW_HDR_OTHER)
			parse_header(ps, (uint8_t)type, hi, vs, ve, false);
		p = le + 1;
	}
}

/*
 * msg_init(), then the start line from p and the header lines index_lines()
 * indexes, up to the first it leaves: returns where it stopped and sets *sl
 * to the start line's LF, or leaves *sl at UINT32_MAX when it did nothing.
 */
static inline uint32_t
index_msg(struct sw_sip_msg *m, const char *b, uint32_t n, uint32_t p, uint32_t *body, uint32_t *sl)
{
#if defined(__SSE2__) && SW_SIP_FAST
#ifdef SW_SIP_AVX2
	if (sw_sip_avx2)
		return index_lines_avx2(m, b, n, p, body, sl);
#endif
	msg_init(m, b, n, false);
	return index_lines(m, b, n, p, body, sl, false);
#else
	(void)body, (void)sl;
	msg_init(m, b, n, false);
	return p;
#endif
}

/*
 * The header lines from p up to the empty line, those index_msg() indexed
 * first (body: where it found the body to start, UINT32_MAX when it
 * stopped before); returns where the body starts, or n when truncated.
 */
static inline uint32_t
headers(struct pstate *ps, uint32_t p, uint32_t body)
{
#if defined(__SSE2__) && SW_SIP_FAST
	parse_indexed(ps, 0);
	if (body != UINT32_MAX)
		return body;
#else
	(void)body;
#endif
	return headers_general(ps, p);
}

static void
mandatory(struct pstate *ps)
{
	static const struct {
		uint8_t type;
		const char *reason;
	} need[] = {
		{SW_HDR_FROM, "Bad Request - missing From"},
		{SW_HDR_TO, "Bad Request - missing To"},
		{SW_HDR_CALL_ID, "Bad Request - missing Call-ID"},
		{SW_HDR_CSEQ, "Bad Request - missing CSeq"},
	};

	const uint32_t all =
		1u << SW_HDR_FROM | 1u << SW_HDR_TO | 1u << SW_HDR_CALL_ID | 1u << SW_HDR_CSEQ;

	/* nearly always all there: one test, and the loop only for the fault */
	if ((ps->seen & all) == all)
		return;
	/* §8.1.1: every request carries these; Max-Forwards a proxy adds (§16.6 step 3) */
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!(ps->seen & (1u << need[i].type))) {
			bad(ps, need[i].reason);
			return;
		}
	}
}

static enum sw_sip_verdict
verdict(struct pstate *ps)
{
	struct sw_sip_msg *m = ps->m;

	if (!m->is_request) {
		if (ps->rank == RANK_NONE && m->nvia > 0)
			return SW_SIP_OK;
		m->drop = SW_SIP_DROP_BAD_RESPONSE;
		m->reason = ps->rank != RANK_NONE ? ps->reason : "response without a Via";
		/* no answer goes out, so drop the prefix that only makes sense in a reply */
		if (strncmp(m->reason, BAD_PREFIX, sizeof(BAD_PREFIX) - 1) == 0)
			m->reason += sizeof(BAD_PREFIX) - 1;
		return SW_SIP_DROP;
	}
	if (ps->top_via_bad || m->nvia == 0) {
		m->drop = ps->top_via_bad ? SW_SIP_DROP_BAD_VIA : SW_SIP_DROP_NO_VIA;
		m->reason = sw_sip_drop_name(m->drop);
		return SW_SIP_DROP;
	}
	if (ps->rank == RANK_NONE)
		return SW_SIP_OK;
	m->reply_code = ps->code;
	m->reason = ps->reason;
	return SW_SIP_REPLY;
}

static enum sw_sip_verdict
drop(struct sw_sip_msg *m, enum sw_sip_drop why)
{
	m->drop = (uint8_t)why;
	m->reason = sw_sip_drop_name(why);
	return SW_SIP_DROP;
}

/* The first LF from p on, or n: glibc's memchr takes 32 bytes a step. */
static inline uint32_t
line_lf(const char *buf, uint32_t p, uint32_t n)
{
	const char *lf = memchr(buf + p, '\n', n - p);

	return lf ? (uint32_t)(lf - buf) : n;
}

/* A start line of neither a request nor a response from p (< n): dropped. */
static __attribute__((noinline)) enum sw_sip_verdict
not_sip(struct sw_sip_msg *m, const char *buf, uint32_t n, uint32_t p)
{
	uint32_t le = line_lf(buf, p, n);

	msg_init(m, buf, n, false);
	m->start_line = span(p, buf[le - 1] == '\r' ? le - 1 : le);
	return drop(m, SW_SIP_DROP_NOT_SIP);
}

enum sw_sip_verdict
sw_sip_parse(struct sw_sip_msg *m, const char *buf, size_t len)
{
	struct pstate ps = {.m = m, .b = buf};
	uint32_t n = len > SW_SIP_MAX_MSG ? SW_SIP_MAX_MSG : (uint32_t)len;
	uint32_t p = 0, le = UINT32_MAX, ce, me, hp, body = UINT32_MAX;
	bool request;

	ps.n = n;
	/*
	 * §7.5: CRLFs before the start line are ignored; alone they are a
	 * keep-alive (a start line's first byte is above CR: one compare).
	 */
	while (p < n && (uint8_t)buf[p] <= '\r' && (buf[p] == '\r' || buf[p] == '\n'))
		p++;
	if (p == n) {
		msg_init(m, buf, n, false);
		return drop(m, n ? SW_SIP_DROP_KEEPALIVE : SW_SIP_DROP_NOT_SIP);
	}
	/*
	 * A request's method or a response's "SIP/": the line's end is not
	 * needed to tell them (the token's end is before the CR or LF), so a
	 * message that is neither is dropped before anything is indexed.
	 */
	if (SW_SIP_FAST && n - p >= 8) {
		uint64_t x, sp, up;

		memcpy(&x, buf + p, 8);
		/* a response: no method holds a '/' (not a token character) */
		if (((uint32_t)x | 0x00202020u) == 0x2f706973u /* sip/ */) {
			me = p + 3;
			request = false;
			goto start;
		}
		/*
		 * Nearly every method is capital letters, up to seven of them
		 * and a SP in eight bytes: the first SP byte, and below it
		 * bytes of 0x41-0x5a (byte + 0x3f carries into bit 7 from 0x41
		 * on, byte + 0x25 from 0x5b on; no byte carries into the next
		 * while bit 7 is clear).
		 */
		sp = x ^ 0x2020202020202020ull;
		sp = (sp - 0x0101010101010101ull) & ~sp & 0x8080808080808080ull;
		up = (x + 0x3f3f3f3f3f3f3f3full) & ~(x + 0x2525252525252525ull) & ~x &
		     0x8080808080808080ull;
		if (sp != 0) {
			unsigned k = (unsigned)__builtin_ctzll(sp) >> 3;

			if (k != 0 && (~up & sw_sip_keep[k] & 0x8080808080808080ull) == 0) {
				me = p + k;
				request = true;
				goto start;
			}
		}
	}
	me = skip_cls(buf, p, n, CC_TOKEN);
	if (me > p && me < n && buf[me] == ' ')
		request = true;
	else if (me - p == 3 && me < n && buf[me] == '/' && lc(buf[p]) == 's' &&
		 lc(buf[p + 1]) == 'i' && lc(buf[p + 2]) == 'p')
		request = false;
	else
		return not_sip(m, buf, n, p);
start:
	/*
	 * m's fields set up, the start line's end and the header lines' index
	 * from the same LF masks (faults come only from parsing, which follows
	 * in order). Short messages: glibc's memchr takes 32 bytes a step.
	 */
	hp = index_msg(m, buf, n, p, &body, &le);
	if (le == UINT32_MAX) {
		le = line_lf(buf, p, n);
		hp = le < n ? le + 1 : n;
	}
	ce = buf[le - 1] == '\r' ? le - 1 : le;
	m->start_line = span(p, ce);
	if (request)
		request_line(&ps, p, me, ce);
	else
		status_line(&ps, p, ce);
	body = headers(&ps, hp, body);
	mandatory(&ps);
	/* §8.1.1.5: the CSeq method matches the request's (RFC 4475 §3.1.2.17-18) */
	if (m->is_request && m->cseq_method.len && !ps.cseq_same &&
	    (m->cseq_method.len != m->method_name.len ||
	     !same_bytes(buf, n, m->cseq_method.off, m->method_name.off, m->cseq_method.len)))
		bad(&ps, "Bad Request - CSeq method does not match the Request-Line");
	/* a response's CSeq method, unless parse_cseq() found a known one */
	if (!m->is_request && m->cseq_method.len && m->method == SW_METHOD_UNKNOWN)
		m->method = method_bits(buf + m->cseq_method.off, m->cseq_method.len);
	/* §18.3: over UDP the body ends at Content-Length; a shorter datagram is a 400 */
	if (m->content_length >= 0) {
		if ((uint32_t)m->content_length > n - body) {
			bad(&ps, "Bad Request - Content-Length larger than the message");
			m->body = span(body, n);
		} else {
			m->body = span(body, body + (uint32_t)m->content_length);
			m->len = body + (uint32_t)m->content_length;
		}
	} else {
		m->body = span(body, n);
	}
	if (len > SW_SIP_MAX_MSG)
		fault(&ps, RANK_513, 513, "Message Too Large");
	return verdict(&ps);
}

const struct sw_sip_hdr *
sw_sip_hdr_find(const struct sw_sip_msg *m, const char *name, size_t name_len)
{
	uint8_t t = sw_sip_hname_type(name, name_len);

	if (t != SW_HDR_OTHER)
		return m->first[t] == NO_HDR ? NULL : &m->hdr[m->first[t]];
	for (unsigned i = 0; i < m->nhdr; i++)
		if (m->hdr[i].type == SW_HDR_OTHER &&
		    sw_span_ieq(m->buf, m->hdr[i].name, name, name_len))
			return &m->hdr[i];
	return NULL;
}

const struct sw_sip_hdr *
sw_sip_hdr_next(const struct sw_sip_msg *m, const struct sw_sip_hdr *prev)
{
	unsigned i = (unsigned)(prev - m->hdr) + 1;

	for (; i < m->nhdr; i++) {
		const struct sw_sip_hdr *h = &m->hdr[i];

		if (h->type != prev->type)
			continue;
		if (h->type != SW_HDR_OTHER ||
		    sw_span_ieq(m->buf, h->name, m->buf + prev->name.off, prev->name.len))
			return h;
	}
	return NULL;
}

/* One lazy part: the fault goes to m->more_bad / more_reason. */
static void
more_bad(struct sw_sip_msg *m, unsigned part, const char *reason)
{
	if (m->more_bad == 0)
		m->more_reason = reason;
	m->more_bad |= (uint8_t)part;
}

static void
more_contact(struct sw_sip_msg *m, uint32_t p, uint32_t end)
{
	struct pstate ps = {.m = m, .b = m->buf, .n = m->len};

	/* Contact: * stands alone (§20.10, §10.2.2) */
	if (end - p == 1 && m->buf[p] == '*') {
		if (m->contact_star || m->ncontact)
			more_bad(m, SW_SIP_MORE_CONTACT,
				 "Bad Request - Contact * with other contacts");
		m->contact_star = 1;
		return;
	}
	if (m->contact_star)
		more_bad(m, SW_SIP_MORE_CONTACT, "Bad Request - Contact * with other contacts");
	if (nameaddr_list(&ps, p, end, &m->ncontact, m->ncontact ? NULL : &m->contact) != 0)
		more_bad(m, SW_SIP_MORE_CONTACT, "Bad Request - malformed Contact");
}

int
sw_sip_parse_more(struct sw_sip_msg *m, unsigned what)
{
	unsigned todo = what & SW_SIP_MORE_ALL & ~(unsigned)m->more_done;
	unsigned nexp = 0, nct = 0, nvia = 0;
	uint8_t count = 0;
	struct pstate ps = {.m = m, .b = m->buf, .n = m->len};

	for (unsigned i = 0; todo != 0 && i < m->nhdr; i++) {
		const struct sw_sip_hdr *h = &m->hdr[i];
		uint32_t p = h->value.off, end = span_end(h->value);
		uint64_t v;

		switch (h->type) {
		case SW_HDR_FROM:
		case SW_HDR_TO:
			/* the first one is the one sw_sip_parse() took the tag from */
			if ((todo & SW_SIP_MORE_FROM_TO) && i == m->first[h->type] &&
			    sw_sip_nameaddr_at(m->buf, p, end,
					       h->type == SW_HDR_FROM ? &m->from : &m->to, false,
					       false) == SCAN_ERR)
				more_bad(m, SW_SIP_MORE_FROM_TO,
					 h->type == SW_HDR_FROM ? "Bad Request - malformed From URI"
								: "Bad Request - malformed To URI");
			break;
		case SW_HDR_CONTACT:
			if (todo & SW_SIP_MORE_CONTACT)
				more_contact(m, p, end);
			break;
		case SW_HDR_RECORD_ROUTE:
			if ((todo & SW_SIP_MORE_RECORD_ROUTE) &&
			    nameaddr_list(&ps, p, end, &m->nrecord_route, NULL) != 0)
				more_bad(m, SW_SIP_MORE_RECORD_ROUTE,
					 "Bad Request - malformed Record-Route");
			break;
		case SW_HDR_EXPIRES:
			if (!(todo & SW_SIP_MORE_EXPIRES))
				break;
			/* delta-seconds up to 2**32-1 (§20.19), once (§7.3.1) */
			if (nexp++ != 0)
				more_bad(m, SW_SIP_MORE_EXPIRES,
					 "Bad Request - more than one Expires");
			else if (sw_sip_uint(m->buf, p, end, 0xffffffffu, &v) != 0)
				more_bad(m, SW_SIP_MORE_EXPIRES, "Bad Request - malformed Expires");
			else
				m->expires = (int64_t)v;
			break;
		case SW_HDR_CONTENT_TYPE:
			if (!(todo & SW_SIP_MORE_CHECKS))
				break;
			if (nct++ != 0)
				more_bad(m, SW_SIP_MORE_CHECKS,
					 "Bad Request - more than one Content-Type");
			else if (!media_type_ok(m->buf, p, end))
				more_bad(m, SW_SIP_MORE_CHECKS,
					 "Bad Request - malformed Content-Type");
			break;
		case SW_HDR_REQUIRE:
			if ((todo & SW_SIP_MORE_CHECKS) && !tag_list_ok(m->buf, p, end, false))
				more_bad(m, SW_SIP_MORE_CHECKS, "Bad Request - malformed Require");
			break;
		case SW_HDR_SUPPORTED:
			if ((todo & SW_SIP_MORE_CHECKS) && !tag_list_ok(m->buf, p, end, true))
				more_bad(m, SW_SIP_MORE_CHECKS,
					 "Bad Request - malformed Supported");
			break;
		case SW_HDR_VIA:
			if (!(todo & SW_SIP_MORE_VIA))
				break;
			if (via_count(m->buf, p, end, &count) != 0)
				more_bad(m, SW_SIP_MORE_VIA, "Bad Request - malformed Via");
			/*
			 * The first vias_parsed() entries sw_sip_parse() took;
			 * a request's second one goes to via[1].
			 */
			for (;;) {
				struct sw_sip_via scratch, *v = &scratch;
				bool sent_by = false;
				uint32_t q;

				if (nvia == 1 && m->is_request)
					v = &m->via[1];
				q = via_parm(m->buf, p, end, m->len, v, &sent_by);
				if (q == SCAN_ERR) {
					if (nvia >= vias_parsed(m))
						more_bad(m, SW_SIP_MORE_VIA,
							 "Bad Request - malformed Via");
					break;
				}
				v->hdr = (uint8_t)i;
				nvia++;
				if (q == end)
					break;
				p = lws(m->buf, q + 1, end);
			}
			break;
		}
	}
	/* sw_sip_parse() counted up to one past the entries it parsed */
	if ((todo & SW_SIP_MORE_VIA) && m->nvia != 0 && count > m->nvia)
		m->nvia = count;
	m->more_done |= (uint8_t)todo;
	return (m->more_bad & what) ? -EINVAL : 0;
}
