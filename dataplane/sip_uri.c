/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * URIs, hosts, parameters and name-addrs (RFC 3261 §19.1, §25.1; IPv6
 * references per RFC 5118). Everything works on spans of the message and
 * reads each byte a bounded number of times.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dataplane/sip_pvt.h"

/* sw_sip_quoted_end, inline for nameaddr_shape_fast() */
static inline __attribute__((always_inline)) uint32_t
quoted_end(const char *b, uint32_t p, uint32_t end)
{
	/* quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): a backslash never escapes CR or LF */
	p++;
#ifdef __SSE2__
	/* to the first '"' or '\\' sixteen bytes a step; the loop below takes it from there */
	for (; p + 16 <= end; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
		unsigned mk = (unsigned)_mm_movemask_epi8(
			_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
				     _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));

		if (mk != 0) {
			p += (uint32_t)__builtin_ctz(mk);
			break;
		}
	}
#endif
	for (; p < end; p++) {
		if (b[p] == '"')
			return p + 1;
		if (b[p] == '\\') {
			if (p + 1 >= end || b[p + 1] == '\r' || b[p + 1] == '\n')
				return SCAN_ERR;
			p++;
		}
	}
	return SCAN_ERR;
}

uint32_t
sw_sip_quoted_end(const char *b, uint32_t p, uint32_t end)
{
	return quoted_end(b, p, end);
}

/* IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each 0-255. */
static bool
ipv4_ok(const char *b, uint32_t p, uint32_t end)
{
	unsigned dots = 0, v = 0, nd = 0;

	for (; p < end; p++) {
		unsigned d = (unsigned)(uint8_t)b[p] - '0';

		if (d < 10) {
			v = v * 10 + d;
			nd++;
		} else if (b[p] == '.' && nd != 0 && nd <= 3 && v <= 255 && dots < 3) {
			dots++;
			v = nd = 0;
		} else {
			return false;
		}
	}
	return dots == 3 && nd != 0 && nd <= 3 && v <= 255;
}

/*
 * IPv6address of RFC 3261 §25.1 (RFC 4291 text form): at most eight 16-bit
 * groups, one "::" at most, an IPv4 tail counting as two groups (RFC 5118 §4.7).
 */
static bool
ipv6_ok(const char *b, uint32_t p, uint32_t end)
{
	unsigned groups = 0;
	bool dcolon = false;

	if (p + 1 < end && b[p] == ':' && b[p + 1] == ':') {
		dcolon = true;
		p += 2;
		if (p == end)
			return true;
	} else if (p < end && b[p] == ':') {
		return false;
	}
	while (p < end) {
		uint32_t q = p;

		while (q < end && q - p < 5 && cc_is(b[q], CC_HEX))
			q++;
		if (q < end && b[q] == '.') {
			/* the IPv4 tail ends the address */
			if (groups > 6 || !ipv4_ok(b, p, end))
				return false;
			groups += 2;
			p = end;
			break;
		}
		if (q == p || q - p > 4)
			return false;
		groups++;
		p = q;
		if (p == end)
			break;
		if (b[p] != ':')
			return false;
		p++;
		if (p < end && b[p] == ':') {
			if (dcolon)
				return false;
			dcolon = true;
			p++;
			if (p == end)
				break;
			/*
			 * RFC 3261's ABNF let "::" be followed by ":" IPv4address;
			 * RFC 5118 §4.10 asks us to tolerate "2001:db8:::192.0.2.1".
			 */
			if (b[p] == ':' && p + 1 < end && cc_is(b[p + 1], CC_DIGIT) &&
			    memchr(b + p, '.', end - p) != NULL)
				p++;
		} else if (p == end) {
			return false;
		}
	}
	return dcolon ? groups <= 7 : groups == 8;
}

uint32_t
sw_sip_host_scan_full(const char *b, uint32_t p, uint32_t end, uint8_t *type, bool bare_v6)
{
	uint32_t q;

	if (p >= end)
		return SCAN_ERR;
	if (b[p] == '[') {
		const char *rb = memchr(b + p, ']', end - p);

		if (rb == NULL)
			return SCAN_ERR;
		q = (uint32_t)(rb - b);
		if (!ipv6_ok(b, p + 1, q))
			return SCAN_ERR;
		*type = SW_HOST_IPV6;
		return q + 1;
	}
	if (bare_v6) {
		q = skip_cls(b, p, end, CC_HEX | CC_HOST | CC_GVAL);
		if (memchr(b + p, ':', q - p) != NULL) {
			if (!ipv6_ok(b, p, q))
				return SCAN_ERR;
			*type = SW_HOST_IPV6;
			return q;
		}
	}
	/* one pass: the run of host characters, and whether it is all digits and dots */
	uint16_t any = 0;

	for (q = p; q < end; q++) {
		uint16_t c = sw_sip_cc[(uint8_t)b[q]];

		if (!(c & CC_HOST))
			break;
		any |= c;
	}
	if (q == p)
		return SCAN_ERR;
	if (!(any & CC_HNAME)) {
		/* a toplabel starts with ALPHA, so digits and dots are an IPv4 address */
		if (!ipv4_ok(b, p, q))
			return SCAN_ERR;
		*type = SW_HOST_IPV4;
		return q;
	}
	/* hostname: labels neither start nor end with '-' or '.' (§25.1) */
	if (!cc_is(b[p], CC_ALPHA | CC_DIGIT) || b[q - 1] == '-')
		return SCAN_ERR;
	*type = SW_HOST_NAME;
	return q;
}

/* "%" HEXDIG HEXDIG at p (§25.1 escaped). */
static inline bool
escape_ok(const char *b, uint32_t p, uint32_t end)
{
	return end - p >= 3 && cc_is(b[p + 1], CC_HEX) && cc_is(b[p + 2], CC_HEX);
}

/*
 * A run of cls characters (a class without '%') in which every '%' starts
 * an escape. Returns where the run stops; *ok false on a bad escape.
 */
static inline __attribute__((always_inline)) uint32_t
run_esc(const char *b, uint32_t p, uint32_t end, uint16_t cls, bool *ok)
{
	for (;;) {
		p = skip_cls(b, p, end, cls);
		if (p >= end || b[p] != '%')
			return p;
		if (!escape_ok(b, p, end)) {
			*ok = false;
			return p;
		}
		p += 3;
	}
}

/*
 * One stop q of a uri-parameters run (a byte that is not a paramchar, or
 * end): 1 when the list ends there ('?' or end), 0 when it goes on past it
 * (a valid escape, or a ';' or '=' after a non-empty name or value: *start
 * is then where the next one begins), -1 when it is malformed.
 */
static inline int
param_stop(const char *b, uint32_t q, uint32_t end, uint32_t *start, bool *eq)
{
	char c;

	if (q >= end)
		return q > *start ? 1 : -1;
	c = b[q];
	if (c == '%')
		return escape_ok(b, q, end) ? 0 : -1;
	if (q == *start || (c != ';' && c != '=' && c != '?') || (c == '=' && *eq))
		return -1;
	if (c == '?')
		return 1;
	*eq = c == '=';
	*start = q + 1;
	return 0;
}

#ifdef __SSSE3__
/*
 * uri_params_scan with the stops of the paramchar run taken from one bit
 * mask per 16 bytes, instead of a scan per name and per value: the same
 * checks at each stop, in the same order. The two hex digits of an escape
 * are paramchars, so they make no stops.
 */
static inline uint32_t
uri_params_bits(const char *b, uint32_t p, uint32_t end, uint32_t lim)
{
	uint32_t start = p;
	bool eq = false;

	for (;; p += 16) {
		unsigned mk = cls_miss16(b, p, end, lim, (unsigned)__builtin_ctz(CC_PARAM));

		for (; mk != 0; mk &= mk - 1) {
			uint32_t q = p + (uint32_t)__builtin_ctz(mk);
			int r = param_stop(b, q, end, &start, &eq);

			if (r != 0)
				return r > 0 ? q : SCAN_ERR;
		}
	}
}
#endif

/*
 * uri-parameters = *( ";" pname [ "=" pvalue ] ) from p (after the first ';'),
 * up to '?' or end: pname and pvalue are non-empty runs of paramchar. Returns
 * where it stopped, or SCAN_ERR. The buffer is readable up to lim >= end.
 */
static uint32_t
uri_params_scan(const char *b, uint32_t p, uint32_t end, uint32_t lim)
{
	uint32_t start = p;
	bool eq = false;

#ifdef __SSSE3__
	/* cls_miss16 reads 16 bytes from p, or the 16 that end at end */
	if (SW_SIP_FAST && (end >= 16 || p + 16 <= lim))
		return uri_params_bits(b, p, end, lim);
#endif
	for (;;) {
		int r;

		p = skip_cls(b, p, end, CC_PARAM);
		r = param_stop(b, p, end, &start, &eq);
		if (r != 0)
			return r > 0 ? p : SCAN_ERR;
		p = b[p] == '%' ? p + 3 : start;
	}
}

#ifdef __SSSE3__
/*
 * The bytes of the 16 at b + p outside paramchar, as bits; *se gets the
 * ';' and '=' bytes, *eq the '=' bytes.
 */
static inline __attribute__((always_inline)) unsigned
param_miss16(const char *b, uint32_t p, unsigned *se, unsigned *eq)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
	__m128i e = _mm_cmpeq_epi8(x, _mm_set1_epi8('='));

	*eq = (unsigned)_mm_movemask_epi8(e);
	*se = (unsigned)_mm_movemask_epi8(_mm_or_si128(e, _mm_cmpeq_epi8(x, _mm_set1_epi8(';'))));
	return nib_miss(x, (unsigned)__builtin_ctz(CC_PARAM));
}

/*
 * param_miss16 for the bytes from p to end (at most 16), with zeros past
 * them: one load at p when the buffer is readable that far (lim), else the
 * load that ends at end, shifted down (end >= 16: offsets count from b).
 */
static inline __attribute__((always_inline)) unsigned
param_miss_tail(const char *b, uint32_t p, uint32_t end, uint32_t lim, unsigned *se, unsigned *eq)
{
	unsigned sh = p + 16 <= lim ? 0 : p - (end - 16), mk;

	mk = param_miss16(b, p - sh, se, eq) >> sh;
	*se >>= sh;
	*eq >>= sh;
	return mk;
}

/*
 * uri_params_scan for the usual list (user=phone, lr;ftag=...): 1 to 32
 * bytes from p to end of paramchar, ';' and '=' only. Its stops are then
 * checked all at once: none first, none last, no two side by side (an
 * empty name or value), and no '=' whose stop before it is another '='
 * (a loop over the '=' stops, mostly one). Returns end when the list is
 * well formed, 0 for anything else: escapes, '?', faults and longer lists
 * are left to uri_params_scan. The buffer is readable up to lim >= end.
 */
static inline __attribute__((always_inline)) uint32_t
uri_params_short(const char *b, uint32_t p, uint32_t end, uint32_t lim)
{
	uint32_t n = end - p, stops, se, eq, se2, eq2;

	if (n - 1 >= 32 || (end < 16 && p + 16 > lim))
		return 0;
	if (n <= 16) {
		stops = param_miss_tail(b, p, end, lim, &se, &eq);
	} else {
		stops = param_miss16(b, p, &se, &eq);
		stops |= param_miss_tail(b, p + 16, end, lim, &se2, &eq2) << 16;
		se |= se2 << 16;
		eq |= eq2 << 16;
	}
	stops &= ~0u >> (32 - n);
	if ((stops & ~se) != 0 || (stops & (1u | stops >> 1 | 1u << (n - 1))) != 0)
		return 0;
	eq &= stops;
	for (uint32_t m = eq; m != 0; m &= m - 1) {
		uint32_t before = stops & ((m & -m) - 1);

		if (before != 0 && (eq >> (31 - __builtin_clz(before)) & 1) != 0)
			return 0;
	}
	return end;
}
#endif

static int uri_general(const char *buf, struct sw_span s, uint32_t lim, struct sw_sip_uri *u);

/* A span as the 32 bits it is stored in (offset low, length high). */
static inline uint32_t
span32(uint32_t from, uint32_t to)
{
	return (from & 0xffffu) | (to - from) << 16;
}

static uint8_t
scheme_type(const char *b, uint32_t p, uint32_t len)
{
	if (len == 3 && lc(b[p]) == 's' && lc(b[p + 1]) == 'i' && lc(b[p + 2]) == 'p')
		return SW_SCHEME_SIP;
	if (len == 4 && lc(b[p]) == 's' && lc(b[p + 1]) == 'i' && lc(b[p + 2]) == 'p' &&
	    lc(b[p + 3]) == 's')
		return SW_SCHEME_SIPS;
	if (len == 3 && lc(b[p]) == 't' && lc(b[p + 1]) == 'e' && lc(b[p + 2]) == 'l')
		return SW_SCHEME_TEL;
	return SW_SCHEME_OTHER;
}

/* SIP-URI / SIPS-URI after "sip:" (§19.1.1): [userinfo "@"] hostport params headers. */
static int
sip_uri_rest(const char *b, uint32_t p, uint32_t end, uint32_t lim, struct sw_sip_uri *u)
{
	bool ok = true, userinfo = false;
	uint32_t q, port;

	/*
	 * userinfo in one pass: the run of user characters stops at the '@'
	 * (or at ':' and then the password stops at '@'). Neither run holds
	 * '@', so that is the first '@' of the URI. When it stops anywhere
	 * else there is no userinfo, and a later '@' could only be in the
	 * headers; there it is refused below, as treating it as the end of a
	 * userinfo holding the host would fail.
	 */
	q = run_esc(b, p, end, CC_USER, &ok);
	if (!ok)
		return -EINVAL;
	if (q < end && b[q] == '@') {
		if (q == p)
			return -EINVAL;
		u->user = span(p, q);
		p = q + 1;
		userinfo = true;
	} else if (q < end && b[q] == ':') {
		uint32_t r = run_esc(b, q + 1, end, CC_PASS, &ok);

		if (r < end && b[r] == '@') {
			if (!ok || q == p)
				return -EINVAL;
			u->user = span(p, q);
			u->password = span(q + 1, r);
			p = r + 1;
			userinfo = true;
		}
	}
	q = sw_sip_host_scan_lim(b, p, end, lim, &u->host_type, false);
	if (q == SCAN_ERR)
		return -EINVAL;
	u->host = span(p, q);
	p = q;
	if (p < end && b[p] == ':') {
		/* the digits' run and its value from one load (they stop where the port does) */
		q = sw_sip_digits_lim(b, p + 1, end, lim, 65535, &port);
		if (q == SCAN_ERR)
			return -EINVAL;
		u->port = span(p + 1, q);
		u->port_num = (uint16_t)port;
		p = q;
	}
	if (p < end && b[p] == ';') {
		q = 0;
#ifdef __SSSE3__
		if (SW_SIP_FAST)
			q = uri_params_short(b, p + 1, end, lim);
		if (q == 0)
#endif
			q = uri_params_scan(b, p + 1, end, lim);
		if (q == SCAN_ERR)
			return -EINVAL;
		u->params = span(p + 1, q);
		p = q;
	}
	if (p < end && b[p] == '?') {
		/* headers = hname "=" hvalue *( "&" hname "=" hvalue ); '%' is in uric */
		for (q = p + 1; q < end; q++) {
			if (b[q] == '%' ? !escape_ok(b, q, end) : !cc_is(b[q], CC_HNV | CC_URIC))
				return -EINVAL;
			if (b[q] == '%')
				q += 2;
		}
		if (!userinfo && memchr(b + p + 1, '@', end - p - 1) != NULL)
			return -EINVAL;
		u->headers = span(p + 1, end);
		p = end;
	}
	return p == end ? 0 : -EINVAL;
}

/* TEL URI (RFC 3966): telephone-subscriber up to the first ';', then parameters. */
static int
tel_uri_rest(const char *b, uint32_t p, uint32_t end, struct sw_sip_uri *u)
{
	uint32_t q = skip_cls(b, p, end, CC_TEL);

	if (q == p)
		return -EINVAL;
	u->user = span(p, q);
	if (q < end) {
		if (b[q] != ';' || uri_params_scan(b, q + 1, end, end) != end)
			return -EINVAL;
		u->params = span(q + 1, end);
	}
	return 0;
}

#ifdef __SSSE3__
/* Sixteen bytes at b + p. */
static inline __m128i
ld16(const char *b, uint32_t p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)(b + p));
}

/* Four bytes of a struct sw_sip_uri (a span, or the last four fields) at u + off. */
static inline void
st32(struct sw_sip_uri *u, size_t off, uint32_t v)
{
	memcpy((char *)u + off, &v, 4);
}

/*
 * uri_params_short for a list of 1 to 16 bytes from s to end, readable 16
 * bytes from s: the same checks on one load, and the loop over the '='
 * stops only when there are two or more of them.
 */
static inline __attribute__((always_inline)) bool
params16_ok(const char *b, uint32_t s, uint32_t end)
{
	uint32_t n = end - s;
	__m128i x = ld16(b, s);
	unsigned stops, eqs;

	if (n - 1 >= 16)
		return false;
	stops = nib_miss(x, (unsigned)__builtin_ctz(CC_PARAM)) & ((2u << (n - 1)) - 1);
	eqs = eq16(x, '=') & stops;
	if (((eq16(x, ';') & stops) | eqs) != stops ||
	    (stops & (1u | stops >> 1 | 1u << (n - 1))) != 0)
		return false;
	if ((eqs & (eqs - 1)) != 0)
		for (uint32_t m = eqs; m != 0; m &= m - 1) {
			uint32_t before = stops & ((m & -m) - 1);

			if (before != 0 && (eqs >> (31 - __builtin_clz(before)) & 1) != 0)
				return false;
		}
	return true;
}

/*
 * sw_sip_digits_lim()'s one-load case for a port of one to five digits at
 * p, with at least eight bytes readable from p: where the digits stop, the
 * value in *v; 0 for anything else (no digit, six or more, above 65535).
 */
static inline __attribute__((always_inline)) uint32_t
port_fast(const char *b, uint32_t p, uint32_t end, uint32_t *v)
{
	uint64_t x, nd = sw_sip_digit_run(b, p, end, &x);

	if (nd - 1 >= 5)
		return 0;
	/* the digits to the top of 64 bits */
	x = sw_sip_digits8(x << (64 - 8 * nd));
	if (x > 65535)
		return 0;
	*v = (uint32_t)x;
	return p + (uint32_t)nd;
}

/*
 * The usual SIP-URI, "sip:" user "@" host [":" port] [";" params], after
 * its "sip:" (s.len > 4) and with the buffer readable 16 bytes past its end
 * (a Request-URI, which the SIP-Version follows): 0 with *u filled as
 * sip_uri_rest() fills it, or 1 for everything else (any other shape, any
 * fault), which the general path then parses from the start (and clears *u
 * first). Each part is taken with
 * the same checks as there, from class masks of 16-byte loads that may
 * reach past its end.
 */
static inline __attribute__((always_inline)) int
sip_uri_fast(const char *b, struct sw_span s, struct sw_sip_uri *u)
{
	uint32_t p = s.off, end = span_end(s), a, q, r, port = 0;
	unsigned mk;
	uint32_t ht;

	/*
	 * userinfo without password and escapes: the run of user characters
	 * (no '@', no '%') stops at its '@'
	 */
	for (a = p + 4; (mk = nib_miss(ld16(b, a), (unsigned)__builtin_ctz(CC_USER))) == 0;)
		if ((a += 16) >= end)
			return 1;
	a += (uint32_t)__builtin_ctz(mk);
	if (a + 1 >= end || b[a] != '@' || a == p + 4)
		return 1;
	st32(u, offsetof(struct sw_sip_uri, all), span32(p, end));
	st32(u, offsetof(struct sw_sip_uri, scheme), span32(p, p + 3));
	st32(u, offsetof(struct sw_sip_uri, user), span32(p + 4, a));
	st32(u, offsetof(struct sw_sip_uri, password), 0);
	/* sw_sip_host_scan_lim()'s two inline cases, nothing else */
	a++;
	if ((unsigned)(uint8_t)b[a] - '0' < 10) {
		q = sw_sip_ipv4_16(b, a);
		if (q == 0 || q > end || (q < end && cc_is(b[q], CC_HOST)))
			return 1;
		ht = SW_HOST_IPV4;
	} else if (cc_is(b[a], CC_ALPHA)) {
		for (q = a + 1; (mk = nib_miss(ld16(b, q), (unsigned)__builtin_ctz(CC_HOST))) == 0;)
			if ((q += 16) >= end)
				break;
		q += (uint32_t)__builtin_ctz(mk | 0x10000);
		if (q > end)
			q = end;
		if (b[q - 1] == '-')
			return 1;
		ht = SW_HOST_NAME;
	} else {
		return 1;
	}
	st32(u, offsetof(struct sw_sip_uri, host), span32(a, q));
	r = q;
	if (r < end && b[r] == ':') {
		r = port_fast(b, q + 1, end, &port);
		if (r == 0)
			return 1;
	}
	st32(u, offsetof(struct sw_sip_uri, port), r == q ? 0 : span32(q + 1, r));
	if (r < end) {
		if (b[r] != ';' || !params16_ok(b, r + 1, end))
			return 1;
		st32(u, offsetof(struct sw_sip_uri, params), span32(r + 1, end));
	} else {
		st32(u, offsetof(struct sw_sip_uri, params), 0);
	}
	st32(u, offsetof(struct sw_sip_uri, headers), 0);
	st32(u, offsetof(struct sw_sip_uri, port_num), port | SW_SCHEME_SIP << 16 | ht << 24);
	return 0;
}
#endif

int
sw_sip_uri_parse_lim(const char *buf, struct sw_span s, uint32_t lim, struct sw_sip_uri *u)
{
#ifdef __SSSE3__
	/* room for its loads, "sip:" and at least one more byte */
	if (SW_SIP_FAST && lim - span_end(s) >= 16 && s.len > 4 &&
	    (ld4(buf + s.off) | 0x00202020u) == 0x3a706973u /* sip: */ &&
	    sip_uri_fast(buf, s, u) == 0)
		return 0;
#endif
	return uri_general(buf, s, lim, u);
}

/* sw_sip_uri_parse_lim for everything its fast path leaves. */
static __attribute__((noinline)) int
uri_general(const char *buf, struct sw_span s, uint32_t lim, struct sw_sip_uri *u)
{
	uint32_t p = s.off, end = span_end(s), q;

	memset(u, 0, sizeof(*u));
	u->all = s;
	/* "sip:" in one compare (letters folded, the colon exact) */
	if (SW_SIP_FAST && end - p > 4 && (ld4(buf + p) | 0x00202020u) == 0x3a706973u /* sip: */) {
		q = p + 3;
		u->scheme_type = SW_SCHEME_SIP;
	} else {
		if (p >= end || !cc_is(buf[p], CC_ALPHA))
			return -EINVAL;
		q = skip_cls(buf, p, end, CC_SCHEME);
		if (q >= end || buf[q] != ':')
			return -EINVAL;
		u->scheme_type = scheme_type(buf, p, q - p);
	}
	u->scheme = span(p, q);
	switch (u->scheme_type) {
	case SW_SCHEME_SIP:
	case SW_SCHEME_SIPS:
		/* one call site: sip_uri_rest() is inlined here */
		return sip_uri_rest(buf, q + 1, end, lim, u);
	case SW_SCHEME_TEL:
		return tel_uri_rest(buf, q + 1, end, u);
	default:
		/* absoluteURI: opaque to us, but it must be one run of uric */
		return (q + 1 < end && skip_cls(buf, q + 1, end, CC_URIC) == end) ? 0 : -EINVAL;
	}
}

int
sw_sip_uri_parse(const char *buf, struct sw_span s, struct sw_sip_uri *u)
{
	return sw_sip_uri_parse_lim(buf, s, span_end(s), u);
}

/* The out-of-line form of params_scan_i (sip_pvt.h), for callers whose hook varies. */
uint32_t
sw_sip_params_scan(const char *b, uint32_t p, uint32_t end, struct sw_span *params,
		   sw_sip_param_cb_t cb, void *ctx)
{
	return params_scan_i(b, p, end, params, cb, ctx);
}

static inline int
tag_cb(void *ctx, const char *b, struct sw_span name, struct sw_span val, bool has_val)
{
	if (name.len == 3 && lc(b[name.off]) == 't' && lc(b[name.off + 1]) == 'a' &&
	    lc(b[name.off + 2]) == 'g') {
		/* tag = "tag" EQUAL token (§25.1) */
		if (!has_val || b[val.off] == '"')
			return -1;
		*(struct sw_span *)ctx = val;
	}
	return 0;
}

/* Display name before '<': *(token LWS) or a quoted-string; returns the '<' position. */
static uint32_t
display_scan(const char *b, uint32_t p, uint32_t end, struct sw_span *display)
{
	uint32_t q, e;

	if (b[p] == '"') {
		q = sw_sip_quoted_end(b, p, end);
		if (q == SCAN_ERR)
			return SCAN_ERR;
		*display = span(p, q);
		q = skip_lws(b, q, end);
		return (q < end && b[q] == '<') ? q : SCAN_ERR;
	}
	q = skip_cls(b, p, end, CC_TOKEN | CC_WS);
	if (q >= end || b[q] != '<')
		return SCAN_ERR;
	for (e = q; e > p && cc_is(b[e - 1], CC_WS); e--)
		;
	*display = span(p, e);
	return q;
}

/*
 * scheme ":" then one or more characters and no white space: what a URI
 * looks like from afar. ws_free says [p, end) is known to hold no SP, HT or
 * LF (an addr-spec ends before the first), so that only the scheme is left
 * to check.
 */
static bool
uri_shape_ok(const char *b, uint32_t p, uint32_t end, bool ws_free)
{
	uint32_t q;

	if (p >= end || !cc_is(b[p], CC_ALPHA))
		return false;
	q = skip_cls(b, p, end, CC_SCHEME);
	return q + 1 < end && b[q] == ':' && (ws_free || no_ws(b, q + 1, end));
}

#ifdef __SSE2__
/* The '>' bytes of x, SP, HT, CR, LF, the other control bytes and the non-ASCII ones, as bits. */
static inline unsigned
gt_or_ws16(__m128i x)
{
	/*
	 * x - '!' saturated (signed) has its sign bit set on every byte below
	 * '!' and on the non-ASCII ones, which movemask takes as they are: the
	 * callers are fast paths that leave any of them to the general path,
	 * and tell '>' from the rest by the byte itself.
	 */
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('>')),
							_mm_subs_epi8(x, _mm_set1_epi8(0x21))));
}
#endif

/*
 * The first '>' in [p, end) when no SP, HT, CR, LF, other control or
 * non-ASCII byte comes before it, else SCAN_ERR (for fast paths only).
 */
static inline uint32_t
gt_before_ws(const char *b, uint32_t p, uint32_t end)
{
#ifdef __SSE2__
	unsigned mk;

	for (; p + 16 <= end; p += 16) {
		mk = gt_or_ws16(_mm_loadu_si128((const __m128i *)(const void *)(b + p)));
		if (mk != 0) {
			p += (uint32_t)__builtin_ctz(mk);
			return b[p] == '>' ? p : SCAN_ERR;
		}
	}
	if (p < end && end >= 16) {
		/* the rest in one load that ends at end, shifted down to p */
		mk = gt_or_ws16(_mm_loadu_si128((const __m128i *)(const void *)(b + end - 16))) >>
		     (p - (end - 16));
		if (mk == 0)
			return SCAN_ERR;
		p += (uint32_t)__builtin_ctz(mk);
		return b[p] == '>' ? p : SCAN_ERR;
	}
	/* a value within the first 16 bytes of the buffer: not worth a path of its own */
	return SCAN_ERR;
#else
	for (; p < end; p++) {
		if (b[p] == '>')
			return p;
		if (cc_is(b[p], CC_WS))
			return SCAN_ERR;
	}
	return SCAN_ERR;
#endif
}

/*
 * [p, end) is one run of class bit k, not empty (for fast paths only, which
 * may refuse a run within the first 16 bytes of the buffer): a short run at
 * the end of a value (a tag) in one load that ends at end.
 */
static inline bool
all_cls(const char *b, uint32_t p, uint32_t end, unsigned k)
{
#ifdef __SSSE3__
	if (p >= end || end < 16)
		return false;
	/* sixteen bytes a step, the last (or only) one a load that ends at end */
	for (; end - p > 16; p += 16)
		if (nib_miss(_mm_loadu_si128((const __m128i *)(const void *)(b + p)), k) != 0)
			return false;
	return nib_miss(_mm_loadu_si128((const __m128i *)(const void *)(b + end - 16)), k) >>
		       (p - (end - 16)) ==
	       0;
#else
	return p < end && skip_cls_scalar(b, p, end, (uint16_t)(1u << k)) == end;
#endif
}

#ifdef __SSSE3__
/*
 * No '>', SP, HT, CR, LF, other control or non-ASCII byte in [p, e), for
 * e > p and e >= 16 (fast paths only): the masks of every load ORed
 * together, the last load ending at e, and one movemask at the end.
 */
static inline bool
no_gt_ws(const char *b, uint32_t p, uint32_t e)
{
	const __m128i gt = _mm_set1_epi8('>'), bang = _mm_set1_epi8(0x21);
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + e - 16));
	__m128i acc = _mm_or_si128(_mm_cmpeq_epi8(x, gt), _mm_subs_epi8(x, bang));
	uint32_t n = e - p;

	if (n < 16)
		return (unsigned)_mm_movemask_epi8(acc) >> (16 - n) == 0;
	for (; n > 16; n -= 16, p += 16) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
		x = _mm_or_si128(_mm_cmpeq_epi8(x, gt), _mm_subs_epi8(x, bang));
		acc = _mm_or_si128(acc, x);
	}
	return _mm_movemask_epi8(acc) == 0;
}
#endif

#ifdef SW_SIP_NAMEADDR_AVX2
/*
 * nameaddr_angle32()'s constants, a memory operand each (gcc builds a set1
 * in three instructions, and so these too when it sees their bytes).
 */
static const uint8_t na32_k[3][32] __attribute__((aligned(32))) = {
	{[0 ... 31] = '>'},
	{[0 ... 31] = 0x21},
	{[0 ... 31] = 0x0f},
};

/*
 * nameaddr_rest16() for a value [q, end) of 32 to 64 bytes from its '<'
 * (nearly every From and To), in two 32-byte loads: the first at q, the
 * last ending at end. The bytes that stop a URI ('>', SP, the control and
 * the non-ASCII ones) as one 64-bit mask: the first must be the '>' that
 * ends the URI, at end - 1 or followed by ";tag=" and a tag of 1-32 bytes
 * of gen-value (so no stop after the '>' either). No '>' before it, no
 * LWS in the URI nor after it: the general path's index and verdict, as
 * nameaddr_rest16() finds them.
 */
static inline __attribute__((always_inline, target("avx2,bmi"))) bool
nameaddr_angle32(const char *b, uint32_t start, uint32_t q, uint32_t end,
		 struct sw_sip_nameaddr *na)
{
	const uint8_t(*k)[32] = na32_k;
#define NA32_K(i) _mm256_load_si256((const __m256i *)(const void *)k[i])
	__m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)(b + q));
	__m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + end - 32));
	uint32_t len = end - q, g, p;
	uint64_t s;

	/* the table's bytes hidden from gcc: the loads stay loads */
	__asm__("" : "+r"(k));
	s = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(x0, NA32_K(0)),
							   _mm256_subs_epi8(x0, NA32_K(1)))) |
	    (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_or_si256(
		    _mm256_cmpeq_epi8(x1, NA32_K(0)), _mm256_subs_epi8(x1, NA32_K(1))))
		    << (len - 32);
	/* the first stop; with none, 63 (then no '>' at end - 1 either) */
	g = (uint32_t)__builtin_ctzll(s | 1ull << 63);
	if (g == len - 1) {
		if (b[end - 1] != '>')
			return false;
		na->params = span(end, end);
	} else {
		/* ts: where the tag starts in x1 */
		uint32_t ts = g + 6 - (len - 32), t;
		unsigned nm;

		/* ">;" then "tag=" (the letters folded only) */
		if (g + 7 > len || ts > 31 || ld2(b + q + g) != 0x3b3e /* >; */ ||
		    (ld4(b + q + g + 2) | 0x00202020u) != 0x3d676174u /* tag= */)
			return false;
		nm = nib_miss32(x1, __builtin_ctz(CC_GVAL), NA32_K(2));
		if (nm >> ts != 0)
			return false;
		/* the tag's params are "tag=" and the tag: 4 bytes earlier, 4 longer */
		t = span32(q + g + 6, end);
		memcpy(&na->tag, &t, 4);
		t += 0x3fffc;
		memcpy(&na->params, &t, 4);
	}
#undef NA32_K
	/* "<sip:" and a byte before the '>', or ALPHA *( ALPHA / DIGIT / + - . ) ":" and one */
	if (g < 6 || (ld4(b + q + 1) | 0x00202020u) != 0x3a706973u /* sip: */) {
		if (g < 3 || !cc_is(b[q + 1], CC_ALPHA))
			return false;
		for (p = q + 2; p < q + g && cc_is(b[p], CC_SCHEME); p++)
			;
		if (p + 1 >= q + g || b[p] != ':')
			return false;
	}
	na->all = span(start, end);
	return true;
}
#endif

/*
 * The display name of nameaddr_shape_fast(): na zeroed, then [ quoted-string
 * SP ] before the '<'. Returns the '<' position, or SCAN_ERR.
 */
static inline __attribute__((always_inline)) uint32_t
nameaddr_open(const char *b, uint32_t p, uint32_t end, struct sw_sip_nameaddr *na)
{
	uint32_t q;

	if (p >= end)
		return SCAN_ERR;
	memset(na, 0, sizeof(*na));
	q = p;
	if (b[p] == '"') {
#ifdef __SSE2__
		/*
		 * A display name of up to 15 bytes (nearly all) in one load:
		 * its first '"' or '\\' is the closing quote. Anything else
		 * takes quoted_end().
		 */
		unsigned mk;

		if (p + 17 <= end &&
		    (mk = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			     _mm_cmpeq_epi8(
				     _mm_loadu_si128((const __m128i *)(const void *)(b + p + 1)),
				     _mm_set1_epi8('"')),
			     _mm_cmpeq_epi8(
				     _mm_loadu_si128((const __m128i *)(const void *)(b + p + 1)),
				     _mm_set1_epi8('\\'))))) != 0 &&
		    b[p + 1 + __builtin_ctz(mk)] == '"')
			q = p + 2 + (uint32_t)__builtin_ctz(mk);
		else
#endif
			q = quoted_end(b, p, end);
		if (q == SCAN_ERR || q + 1 >= end)
			return SCAN_ERR;
		na->display = span(p, q);
		if (b[q] == ' ')
			q++;
	}
	return b[q] == '<' ? q : SCAN_ERR;
}

/*
 * The From and To most messages carry, checked for shape only:
 * [ quoted-string SP ] "<" scheme ":" URI-without-LWS ">" [ ";tag=" token ]
 * and nothing after. Anything else (or any fault) returns SCAN_ERR and
 * sw_sip_nameaddr_at() parses the value again from its start, so both give
 * the same index and the same verdict.
 */
static inline __attribute__((always_inline)) uint32_t
nameaddr_rest16(const char *b, uint32_t start, uint32_t q, uint32_t end, struct sw_sip_nameaddr *na)
{
	uint32_t p, ue, t;

#ifdef __SSSE3__
	/*
	 * From the end: the value ends with '>', or with ";tag=" and a tag
	 * of 1-15 bytes, whose '=' is then the last byte outside gen-value of
	 * the value's last 16. With the '>' found so, the URI before it needs
	 * one pass over its loads without a test per load. A longer tag takes
	 * the search from the front below.
	 */
	if (end >= 16) {
		const char *last = b + end - 16;
		unsigned nm;

		if (b[end - 1] == '>') {
			ue = end - 1;
			t = 0;
		} else if ((nm = nib_miss(_mm_loadu_si128((const __m128i *)(const void *)last),
					  (unsigned)__builtin_ctz(CC_GVAL))) != 0) {
			/*
			 * e: the '=', and ">;tag=" the top six of the eight
			 * bytes that end with it (the letters folded only)
			 */
			uint32_t e = end - 16 + 31 - (uint32_t)__builtin_clz(nm);
			uint64_t x;

			if (e + 1 >= end || e < q + 11)
				return SCAN_ERR;
			memcpy(&x, b + e - 7, 8);
			if (((x | 0x0020202000000000ull) & 0xffffffffffff0000ull) !=
			    0x3d6761743b3e0000ull /* >;tag= */)
				return SCAN_ERR;
			ue = e - 5;
			t = span32(e + 1, end);
		} else {
			goto front;
		}
		/* no_gt_ws() reads the 16 bytes before the '>' */
		if (ue < 16)
			goto front;
		/*
		 * "<sip:" (letters folded, the colon exact) in one compare and
		 * at least one byte after it; another scheme is ALPHA *( ALPHA
		 * / DIGIT / + - . ) ":" and at least one byte after it.
		 */
		if (q + 6 <= ue && (ld4(b + q + 1) | 0x00202020u) == 0x3a706973u /* sip: */) {
			if (!no_gt_ws(b, q + 5, ue))
				return SCAN_ERR;
		} else {
			if (q + 2 >= ue || !cc_is(b[q + 1], CC_ALPHA) || !no_gt_ws(b, q + 1, ue))
				return SCAN_ERR;
			for (p = q + 2; p < ue && cc_is(b[p], CC_SCHEME); p++)
				;
			if (p + 1 >= ue || b[p] != ':')
				return SCAN_ERR;
		}
		/* the tag's params are ";tag=" and the tag: 4 bytes earlier, 4 longer */
		if (t != 0) {
			memcpy(&na->tag, &t, 4);
			t += 0x3fffc;
			memcpy(&na->params, &t, 4);
		} else {
			na->params = span(end, end);
		}
		na->all = span(start, end);
		return end;
	}
front:
#endif
	if (q + 2 >= end || !cc_is(b[q + 1], CC_ALPHA))
		return SCAN_ERR;
	ue = gt_before_ws(b, q + 1, end);
	if (ue == SCAN_ERR)
		return SCAN_ERR;
	/* scheme ":" and at least one more character before the '>' */
	for (p = q + 2; p < ue && cc_is(b[p], CC_SCHEME); p++)
		;
	if (p + 1 >= ue || b[p] != ':')
		return SCAN_ERR;
	p = ue + 1;
	na->params = span(p, p);
	if (p < end) {
		/*
		 * ";tag=" token, and the value ends there (ld4_lc folds 0x1d
		 * into '=', hence the exact compare of the '=').
		 */
		if (end - p < 6 || b[p] != ';' || ld4_lc(b + p + 1) != 0x3d676174 /* tag= */ ||
		    b[p + 4] != '=' || !all_cls(b, p + 5, end, (unsigned)__builtin_ctz(CC_GVAL)))
			return SCAN_ERR;
		na->params = span(p + 1, end);
		na->tag = span(p + 5, end);
	}
	na->all = span(start, end);
	return end;
}

/* nameaddr_rest16() after the display name */
static inline __attribute__((always_inline)) uint32_t
nameaddr_shape_fast(const char *b, uint32_t p, uint32_t end, struct sw_sip_nameaddr *na)
{
	uint32_t q = nameaddr_open(b, p, end, na);

	return q == SCAN_ERR ? SCAN_ERR : nameaddr_rest16(b, p, q, end, na);
}

#ifdef __SSE2__
/* The ';', ',', '?', SP, HT, CR and LF bytes of x, as bits. */
static inline unsigned
addr_spec_stops16(__m128i x)
{
	__m128i s = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(';')),
				 _mm_cmpeq_epi8(x, _mm_set1_epi8(',')));

	s = _mm_or_si128(s, _mm_cmpeq_epi8(x, _mm_set1_epi8('?')));
	s = _mm_or_si128(s, _mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
	s = _mm_or_si128(s, _mm_cmpeq_epi8(x, _mm_set1_epi8('\t')));
	s = _mm_or_si128(s, _mm_cmpeq_epi8(x, _mm_set1_epi8('\r')));
	s = _mm_or_si128(s, _mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
	return (unsigned)_mm_movemask_epi8(s);
}
#endif

/* The first ';', ',', '?' or LWS character from p (where an addr-spec ends), or end. */
static inline uint32_t
addr_spec_end(const char *b, uint32_t p, uint32_t end)
{
#ifdef __SSE2__
	if (SW_SIP_FAST) {
		/* sixteen bytes a step; the rest in one load that ends at end */
		unsigned mk;

		for (; p + 16 <= end; p += 16) {
			mk = addr_spec_stops16(
				_mm_loadu_si128((const __m128i *)(const void *)(b + p)));
			if (mk != 0)
				return p + (uint32_t)__builtin_ctz(mk);
		}
		if (p < end && end >= 16) {
			mk = addr_spec_stops16(_mm_loadu_si128(
				     (const __m128i *)(const void *)(b + end - 16))) >>
			     (p - (end - 16));
			return mk != 0 ? p + (uint32_t)__builtin_ctz(mk) : end;
		}
	}
#endif
	for (; p < end; p++) {
		char c = b[p];

		if (c == ';' || c == ',' || c == '?' || cc_is(c, CC_WS))
			break;
	}
	return p;
}

/* sw_sip_nameaddr_at for everything its fast path leaves. */
static __attribute__((noinline)) uint32_t
nameaddr_general(const char *b, uint32_t p, uint32_t end, struct sw_sip_nameaddr *na, bool list,
		 bool shape_only)
{
	uint32_t start, q, ue;

	memset(na, 0, sizeof(*na));
	p = skip_lws(b, p, end);
	if (p >= end)
		return SCAN_ERR;
	start = p;
	q = (b[p] == '<') ? p : display_scan(b, p, end, &na->display);
	if (q != SCAN_ERR) {
		const char *gt = memchr(b + q, '>', end - q);

		if (gt == NULL)
			return SCAN_ERR;
		ue = (uint32_t)(gt - b);
		/* the value is readable up to end: the URI's loads may reach past its '>' */
		if (shape_only ? !uri_shape_ok(b, q + 1, ue, false)
			       : sw_sip_uri_parse_lim(b, span(q + 1, ue), end, &na->uri) != 0)
			return SCAN_ERR;
		p = ue + 1;
	} else {
		/*
		 * addr-spec: a URI holding ',', ';' or '?' must be in angle
		 * brackets (§20), so the first of them (or LWS) ends it.
		 */
		memset(&na->display, 0, sizeof(na->display));
		ue = addr_spec_end(b, p, end);
		if (shape_only ? !uri_shape_ok(b, p, ue, true)
			       : sw_sip_uri_parse_lim(b, span(p, ue), end, &na->uri) != 0)
			return SCAN_ERR;
		p = ue;
	}
	q = params_scan_i(b, p, end, &na->params, tag_cb, &na->tag);
	if (q == SCAN_ERR)
		return SCAN_ERR;
	na->all = span(start, q);
	p = skip_lws(b, q, end);
	if (p == end || (list && b[p] == ','))
		return p;
	return SCAN_ERR;
}

/*
 * The fast path in a function of its own with the general path out of line,
 * so that it takes no stack frame nor saved registers.
 */
uint32_t
sw_sip_nameaddr_at(const char *b, uint32_t p, uint32_t end, struct sw_sip_nameaddr *na, bool list,
		   bool shape_only)
{
	if (SW_SIP_FAST && shape_only && !list) {
		uint32_t q = nameaddr_shape_fast(b, p, end, na);

		if (q != SCAN_ERR)
			return q;
		return nameaddr_general(b, p, end, na, false, true);
	}
	return nameaddr_general(b, p, end, na, list, shape_only);
}

#ifdef SW_SIP_NAMEADDR_AVX2
/* nameaddr_rest16(), and the general path when it fails: out of line, a tail call */
static __attribute__((noinline)) uint32_t
nameaddr_rest_any(const char *b, uint32_t start, uint32_t q, uint32_t end,
		  struct sw_sip_nameaddr *na)
{
	uint32_t r = nameaddr_rest16(b, start, q, end, na);

	return r != SCAN_ERR ? r : nameaddr_general(b, start, end, na, false, true);
}

uint32_t __attribute__((target("avx2,bmi")))
sw_sip_nameaddr_shape_avx2(const char *b, uint32_t p, uint32_t end, struct sw_sip_nameaddr *na)
{
	uint32_t q = nameaddr_open(b, p, end, na);

	if (q == SCAN_ERR)
		return nameaddr_general(b, p, end, na, false, true);
	/* another length: the 16-byte path */
	if (end - q - 32 > 32)
		return nameaddr_rest_any(b, p, q, end, na);
	if (nameaddr_angle32(b, p, q, end, na))
		return end;
	return nameaddr_general(b, p, end, na, false, true);
}
#endif

int
sw_sip_nameaddr_parse(const char *buf, struct sw_span s, struct sw_sip_nameaddr *na)
{
	return sw_sip_nameaddr_at(buf, s.off, span_end(s), na, false, false) == SCAN_ERR ? -EINVAL
											 : 0;
}

int
sw_sip_param_find(const char *buf, struct sw_span params, const char *name, size_t name_len,
		  struct sw_span *val)
{
	uint32_t p = params.off, end = span_end(params);

	while (p < end) {
		uint32_t n = skip_lws(buf, p, end), ne, v, ve;

		ne = n;
		while (ne < end && buf[ne] != '=' && buf[ne] != ';' && !cc_is(buf[ne], CC_WS))
			ne++;
		v = skip_lws(buf, ne, end);
		ve = v;
		if (v < end && buf[v] == '=') {
			v = skip_lws(buf, v + 1, end);
			ve = v;
			if (v < end && buf[v] == '"') {
				ve = sw_sip_quoted_end(buf, v, end);
				if (ve == SCAN_ERR)
					ve = end;
			}
			while (ve < end && buf[ve] != ';' && !cc_is(buf[ve], CC_WS))
				ve++;
		}
		if (sw_span_ieq(buf, span(n, ne), name, name_len)) {
			*val = span(v, ve);
			return 1;
		}
		p = ve;
		while (p < end && buf[p] != ';')
			p++;
		p++;
	}
	return 0;
}

bool
sw_span_ieq(const char *buf, struct sw_span s, const char *str, size_t len)
{
	if (s.len != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (lc(buf[s.off + i]) != lc(str[i]))
			return false;
	return true;
}

int
sw_sip_nameaddr_next(const char *buf, struct sw_span list, uint32_t *pos,
		     struct sw_sip_nameaddr *na)
{
	uint32_t p = *pos, end = span_end(list);

	if (p < list.off)
		p = list.off;
	p = skip_lws(buf, p, end);
	if (p >= end)
		return 0;
	if (buf[p] == ',' && p != list.off)
		p++;
	p = sw_sip_nameaddr_at(buf, p, end, na, true, false);
	if (p == SCAN_ERR)
		return -EINVAL;
	*pos = p;
	return 1;
}
