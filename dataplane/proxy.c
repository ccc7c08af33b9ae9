/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless proxying (RFC 3261 §16): request checks (§16.3), Route
 * processing (§16.4), the ruleset's decision, the forwarded request
 * (§16.6: Max-Forwards, Record-Route, Via with a §16.11 branch) and
 * responses back along the Via path (§16.7 step 3, §18.2.2, RFC 3581).
 * All edits are splices applied in place in the received mbuf.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <urcu/urcu-qsbr.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif

#include "dp_pvt.h"

#define DEFAULT_SIP_PORT 5060
/** Append a string literal (its length from sizeof, never counted by hand). */
#define RW_LIT(rw, lit) sw_rw_append((rw), (lit), sizeof(lit) - 1)

/** Methods that create a dialog and so get a Record-Route of ours. */
#define RR_METHODS (SW_METHOD_INVITE | SW_METHOD_SUBSCRIBE | SW_METHOD_REFER | SW_METHOD_NOTIFY)

/* Dotted quad, exactly (no leading zeros games): the common case, without inet_pton. */
static bool
ip4_parse(const char *s, uint32_t len, uint8_t *out)
{
	uint32_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		out[part] = (uint8_t)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

/* "00" .. "99": two decimal digits in one load. */
static const char dec2[100][2] = {
#define D1(x) {'0' + (x) / 10, '0' + (x) % 10}
#define D10(x) D1(x), D1((x) + 1), D1((x) + 2), D1((x) + 3), D1((x) + 4), D1((x) + 5),      \
		D1((x) + 6), D1((x) + 7), D1((x) + 8), D1((x) + 9)
	D10(0), D10(10), D10(20), D10(30), D10(40), D10(50), D10(60), D10(70), D10(80), D10(90)
#undef D10
#undef D1
};

/* Decimal digits of v at o; returns their count. */
static uint32_t
put_dec(char *o, uint32_t v)
{
	char t[10];
	uint32_t n = 0, k = 0;

	/* Address bytes, Max-Forwards, ports: short numbers two digits a
	 * load, without the reversing loop (80 instructions an INVITE less). */
	if (v < 10) {
		o[0] = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		memcpy(o, dec2[v], 2);
		return 2;
	}
	if (v < 1000) {
		o[0] = (char)('0' + v / 100);
		memcpy(o + 1, dec2[v % 100], 2);
		return 3;
	}
	if (v < 10000) {
		memcpy(o, dec2[v / 100], 2);
		memcpy(o + 2, dec2[v % 100], 2);
		return 4;
	}
	if (v < 100000) {
		o[0] = (char)('0' + v / 10000);
		v %= 10000;
		memcpy(o + 1, dec2[v / 100], 2);
		memcpy(o + 3, dec2[v % 100], 2);
		return 5;
	}
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		o[k++] = t[--n];
	return k;
}

static void
rw_dec(struct sw_rw *rw, uint32_t v)
{
	char t[16];

	sw_rw_append16(rw, t, put_dec(t, v));
}

/* "00" .. "ff": a byte's two hex digits in one load. */
static const char hex2[256][2] = {
#define H1(x) {"0123456789abcdef"[(x) >> 4], "0123456789abcdef"[(x)&0xf]}
#define H4(x) H1(x), H1((x) + 1), H1((x) + 2), H1((x) + 3)
#define H16(x) H4(x), H4((x) + 4), H4((x) + 8), H4((x) + 12)
#define H64(x) H16(x), H16((x) + 16), H16((x) + 32), H16((x) + 48)
	H64(0), H64(64), H64(128), H64(192)
#undef H64
#undef H16
#undef H4
#undef H1
};

#if defined(__SSSE3__)
/* The nibbles of the bytes of x (low 8), most significant first, as hex digits (16). */
static inline __m128i
hex_digits(__m128i x)
{
	const __m128i f = _mm_set1_epi8(0x0f);
	__m128i nib =
		_mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(x, 4), f), _mm_and_si128(x, f));

	return _mm_shuffle_epi8(_mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a',
					      'b', 'c', 'd', 'e', 'f'),
				nib);
}
#endif

/* Eight hex digits of v (one PSHUFB where there is SSSE3). */
static inline void
put_hex32(char *o, uint32_t v)
{
#if defined(__SSSE3__)
	_mm_storel_epi64((__m128i *)o, hex_digits(_mm_cvtsi32_si128((int)__builtin_bswap32(v))));
#else
	memcpy(o, hex2[v >> 24], 2);
	memcpy(o + 2, hex2[(v >> 16) & 0xff], 2);
	memcpy(o + 4, hex2[(v >> 8) & 0xff], 2);
	memcpy(o + 6, hex2[v & 0xff], 2);
#endif
}

/* Sixteen hex digits of v. */
static inline void
put_hex64(char *o, uint64_t v)
{
#if defined(__SSSE3__)
	_mm_storeu_si128((__m128i *)o,
			 hex_digits(_mm_cvtsi64_si128((long long)__builtin_bswap64(v))));
#else
	put_hex32(o, (uint32_t)(v >> 32));
	put_hex32(o + 8, (uint32_t)v);
#endif
}

/* An address as text, IPv4 by hand; brackets around IPv6 when asked. */
static uint32_t
put_addr(char *o, const struct sw_addr *a, bool brackets)
{
	uint32_t n = 0;

	if (a->family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			n += put_dec(o + n, a->bytes[i]);
			if (i < 3)
				o[n++] = '.';
		}
		return n;
	}
	if (brackets)
		o[n++] = '[';
	inet_ntop(AF_INET6, a->bytes, o + n, INET6_ADDRSTRLEN);
	n += (uint32_t)strlen(o + n);
	if (brackets)
		o[n++] = ']';
	return n;
}

/* Index of a local address in conf.locals, or -1. */
static int
local_index(const struct sw_worker *w, const struct sw_addr *a)
{
	const struct sw_dp_local *l0 = w->dp->conf.locals;
	uintptr_t d = (uintptr_t)a - (uintptr_t)&l0[0].addr;

	/* A hop's source points into conf.locals: its index without a search. */
	return d < (uintptr_t)w->dp->conf.nb_locals * sizeof(*l0) && d % sizeof(*l0) == 0
		       ? (int)(d / sizeof(*l0))
		       : sw_dp_local_index(w->dp, a);
}

/* Our "addr:port" text for a local address (made once at start). */
static void
rw_local(struct sw_worker *w, const struct sw_addr *a)
{
	int i = local_index(w, a);

	if (i >= 0) {
		sw_rw_append(&w->rw, w->dp->local_text[i], w->dp->local_text_len[i]);
	} else {
		char t[INET6_ADDRSTRLEN + 2];

		sw_rw_append(&w->rw, t, put_addr(t, a, true));
		RW_LIT(&w->rw, ":");
		rw_dec(&w->rw, w->dp->conf.sip_port);
	}
}

/* Parse an IP literal host ("198.18.0.1", "[2001:db8::1]"). */
static bool
host_addr(const char *buf, struct sw_span host, struct sw_addr *a)
{
	char tmp[64];
	uint32_t off = host.off, len = host.len;

	if (len >= 2 && buf[off] == '[' && buf[off + len - 1] == ']') {
		off++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(tmp))
		return false;
	if (ip4_parse(buf + off, len, a->bytes)) {
		a->family = AF_INET;
		return true;
	}
	memcpy(tmp, buf + off, len);
	tmp[len] = '\0';
	if (memchr(tmp, ':', len) != NULL && inet_pton(AF_INET6, tmp, a->bytes) == 1) {
		a->family = AF_INET6;
		return true;
	}
	return false;
}

/* host[:port] or [v6][:port], optionally followed by ;params (a $target). */
static bool
hostport_addr(const char *buf, uint16_t off, uint16_t len, struct sw_addr *a, uint16_t *port)
{
	struct sw_span host = {off, 0};
	uint16_t end = off, stop = off + len;
	unsigned p = 0;

	while (end < stop && buf[end] != ';')
		end++;
	if (off < end && buf[off] == '[') {
		uint16_t rb = off;

		while (rb < end && buf[rb] != ']')
			rb++;
		if (rb == end)
			return false;
		host.len = rb - off + 1;
	} else {
		uint16_t c = off;

		while (c < end && buf[c] != ':')
			c++;
		host.len = c - off;
	}
	if (off + host.len < end) {
		if (buf[off + host.len] != ':')
			return false;
		for (uint16_t i = off + host.len + 1; i < end; i++) {
			if (buf[i] < '0' || buf[i] > '9' || (p = p * 10 + (buf[i] - '0')) > 65535)
				return false;
		}
	}
	*port = p ? (uint16_t)p : DEFAULT_SIP_PORT;
	return host_addr(buf, host, a);
}

/* memcmp(a, b, n) == 0; 8 to 16 bytes (an "a.b.c.d:port") in two overlapping loads. */
static inline bool
text_eq(const char *a, const char *b, uint32_t n)
{
	uint64_t a0, a1, b0, b1;

	if (n < 8 || n > 16)
		return memcmp(a, b, n) == 0;
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, a + n - 8, 8);
	memcpy(&b1, b + n - 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* hostport_addr() of a $target, through the worker's one-entry cache. */
static bool
target_addr(struct sw_worker *w, const char *buf, uint16_t off, uint16_t len, struct sw_addr *a,
	    uint16_t *port)
{
	if (w->tgt_len == len && len > 0 && text_eq(w->tgt_text, buf + off, len)) {
		*a = w->tgt_dst;
		*port = w->tgt_port;
		return w->tgt_ok;
	}
	w->tgt_ok = hostport_addr(buf, off, len, &w->tgt_dst, &w->tgt_port);
	w->tgt_len = 0;
	if (len <= sizeof(w->tgt_text)) {
		memcpy(w->tgt_text, buf + off, len);
		w->tgt_len = (uint8_t)len;
	}
	*a = w->tgt_dst;
	*port = w->tgt_port;
	return w->tgt_ok;
}

/* The packet's source address as text (no brackets), made once per source. */
static const char *
src_text(struct sw_worker *w, const struct sw_addr *src, uint32_t *len)
{
	if (!w->src_ok || !sw_addr_eq(&w->src_key, src)) {
		w->src_key = *src;
		w->src_len = (uint8_t)put_addr(w->src_text, src, false);
		w->src_ok = true;
	}
	*len = w->src_len;
	return w->src_text;
}

/* End of the comma-separated value that starts at s (commas in quotes or <> don't count). */
static uint16_t
value_end(const char *buf, uint16_t s, uint16_t end)
{
	bool quoted = false, angle = false;
	uint16_t e;

	for (e = s; e < end; e++) {
		char c = buf[e];

		if (c == '"' && (e == s || buf[e - 1] != '\\'))
			quoted = !quoted;
		else if (!quoted && c == '<')
			angle = true;
		else if (!quoted && c == '>')
			angle = false;
		else if (!quoted && !angle && c == ',')
			break;
	}
	return e;
}

static uint16_t
skip_lws(const char *buf, uint16_t pos, uint16_t end)
{
	while (pos < end && (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\r' ||
			     buf[pos] == '\n'))
		pos++;
	return pos;
}

static bool
uri_is_us(const struct sw_worker *w, const char *buf, const struct sw_sip_uri *u)
{
	struct sw_addr a;
	uint16_t port = u->port_num ? u->port_num : DEFAULT_SIP_PORT;

	return host_addr(buf, u->host, &a) && port == w->dp->conf.sip_port &&
	       sw_dp_local(w->dp, &a);
}

/* sw_crc32c(p, len, *h1) and sw_crc32c(p, len, *h2) in one pass (two chains, one loop). */
static inline void
crc_pair(const char *p, uint32_t len, uint32_t *h1, uint32_t *h2)
{
#if defined(__SSE4_2__)
	uint32_t a = *h1, b = *h2;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		a = (uint32_t)_mm_crc32_u64(a, v);
		b = (uint32_t)_mm_crc32_u64(b, v);
	}
	*h1 = sw_crc32c(p, len, a);
	*h2 = sw_crc32c(p, len, b);
#else
	*h1 = sw_crc32c(p, len, *h1);
	*h2 = sw_crc32c(p, len, *h2);
#endif
}

/*
 * §16.11: the branch is a hash of the received branch when it has the magic
 * cookie, else of the top Via, the tags, Call-ID, CSeq number and R-URI. It
 * carries the worker index so a response landing elsewhere names its owner.
 */
/*
 * §16.3 step 4 / §16.6 step 8: a hash of what decides where a request goes
 * (Request-URI, Route, Proxy-Require). A request that comes back to us with
 * a Via of ours carrying the same hash is looping; one whose R-URI changed
 * is only spiralling.
 */
static uint32_t
loop_hash(const struct sw_sip_msg *msg)
{
	uint32_t h = sw_crc32c(msg->buf + msg->ruri.all.off, msg->ruri.all.len, 0x100b);
	unsigned i = RTE_MIN(msg->first[SW_HDR_ROUTE], msg->first[SW_HDR_PROXY_REQUIRE]);

	/* From the first Route or Proxy-Require (0xff: none, past nhdr). */
	for (; i < msg->nhdr; i++) {
		const struct sw_sip_hdr *hd = &msg->hdr[i];

		if (hd->type == SW_HDR_ROUTE || hd->type == SW_HDR_PROXY_REQUIRE)
			h = sw_crc32c(msg->buf + hd->value.off, hd->value.len, h);
	}
	return h;
}

/* Does Via entry v carry a branch we made (SW_BRANCH_PREFIX)? */
static inline bool
our_branch(const struct sw_sip_msg *msg, const struct sw_sip_via *v)
{
	return v->branch.len >= SW_BRANCH_PREFIX_LEN &&
	       memcmp(msg->buf + v->branch.off, SW_BRANCH_PREFIX, SW_BRANCH_PREFIX_LEN) == 0;
}

/* What follows SW_BRANCH_PREFIX in our branch: "WW-HHHHHHHHhhhhhhhh-LLLLLLLL". */
#define BRANCH_SUFFIX_LEN 28

static void
branch_suffix(const struct sw_worker *w, const struct sw_sip_msg *msg, char *out)
{
	const struct sw_sip_via *v = &msg->via[0];
	const char *b = msg->buf;
	uint32_t h1, h2;

	if (v->branch.len > 7 && memcmp(b + v->branch.off, "z9hG4bK", 7) == 0) {
		h1 = 0x5157;
		h2 = 0xa11ce;
		crc_pair(b + v->branch.off, v->branch.len, &h1, &h2);
	} else {
		h1 = sw_crc32c(b + v->all.off, v->all.len, msg->cseq_num);
		h1 = sw_crc32c(b + msg->to.tag.off, msg->to.tag.len, h1);
		h1 = sw_crc32c(b + msg->from.tag.off, msg->from.tag.len, h1);
		h1 = sw_crc32c(b + msg->call_id.off, msg->call_id.len, h1);
		h2 = sw_crc32c(b + msg->ruri.all.off, msg->ruri.all.len, h1 ^ 0x9e3779b9);
	}
	memcpy(out, hex2[w->idx & 0xff], 2);
	out[2] = '-';
	put_hex64(out + 3, (uint64_t)h1 << 32 | h2);
	out[19] = '-';
	put_hex32(out + 20, loop_hash(msg));
}

/*
 * memmem(h, n, ";branch=" SW_BRANCH_PREFIX): the needle's 'z' is rare in a
 * Via, so look for it 16 bytes at a time and compare around it (glibc's
 * memmem sets up a two-way search first: 300 instructions for a 60-byte
 * Via; memchr per 'z' was 80, this is 30).
 */
static const char *
find_our_branch(const char *h, size_t n)
{
	static const char mark[] = ";branch=" SW_BRANCH_PREFIX;
	const size_t ml = sizeof(mark) - 1, pre = sizeof(";branch=") - 1;
	size_t i = pre, last;

	if (n < ml)
		return NULL;
	last = n - (ml - pre); /* the last place the 'z' can be */
#if defined(__SSE2__)
	/* n >= ml > 16: the last load ends at h + n, overlapping what was seen. */
	for (;;) {
		size_t base = i + 16 <= n ? i : n - 16;
		unsigned z = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
			_mm_loadu_si128((const __m128i *)(h + base)), _mm_set1_epi8('z')));

		for (z &= ~0u << (i - base); z != 0; z &= z - 1) {
			size_t at = base + (size_t)__builtin_ctz(z);

			if (at > last)
				return NULL;
			if (memcmp(h + at - pre, mark, ml) == 0)
				return h + at - pre;
		}
		i = base + 16;
		if (i > last)
			return NULL;
	}
#endif
	for (; i <= last; i++)
		if (h[i] == 'z' && memcmp(h + i - pre, mark, ml) == 0)
			return h + i - pre;
	return NULL;
}

/* Does a Via of ours, sent by us, carry this request's loop hash? */
static bool
looping(const struct sw_worker *w, const struct sw_sip_msg *msg)
{
	char want[9];
	uint32_t lh = 0;
	bool have = false;

	/* A lone Via entry, the usual request from a UA: the parser read its
	 * branch already, no need to search the line for ours (110
	 * instructions). Only a second branch parameter, or one inside a quoted
	 * value, could hide ours there, and no Via we make looks like that. */
	if (msg->nvia == 1 && !our_branch(msg, &msg->via[0]))
		return false;

	/* From the first Via (0xff: none, past nhdr); a lone Via entry (nvia
	 * counts them over all Via lines) ends the search at its line. */
	unsigned end_hdr = msg->nvia == 1 ? msg->first[SW_HDR_VIA] + 1u : msg->nhdr;

	for (unsigned i = msg->first[SW_HDR_VIA]; i < end_hdr && i < msg->nhdr; i++) {
		const struct sw_sip_hdr *hd = &msg->hdr[i];
		uint16_t pos = hd->value.off, end = hd->value.off + hd->value.len;

		if (hd->type != SW_HDR_VIA || find_our_branch(msg->buf + pos, end - pos) == NULL)
			continue;
		while (pos < end) {
			uint16_t ve = value_end(msg->buf, pos, end);
			const char *b = find_our_branch(msg->buf + pos, ve - pos);

			if (b != NULL) {
				/* sent-by: after "SIP/2.0/UDP", up to ';' */
				const char *t = memchr(msg->buf + pos, ' ', ve - pos);
				uint16_t hs, he;
				struct sw_addr a;
				uint16_t bo = (uint16_t)(b - msg->buf) + 8, be = bo;

				while (be < ve && msg->buf[be] != ';' && msg->buf[be] != ' ')
					be++;
				if (!have) {
					lh = loop_hash(msg);
					put_hex32(want, lh);
					want[8] = '\0';
					have = true;
				}
				if (t != NULL && be - bo > 8 &&
				    memcmp(msg->buf + be - 8, want, 8) == 0) {
					hs = (uint16_t)(t - msg->buf) + 1;
					hs = skip_lws(msg->buf, hs, ve);
					he = hs;
					while (he < ve && msg->buf[he] != ';' && msg->buf[he] != ' ' &&
					       (msg->buf[he] != ':' || msg->buf[hs] == '['))
						if (msg->buf[he++] == ']')
							break;
					if (host_addr(msg->buf, (struct sw_span){hs, he - hs}, &a) &&
					    sw_dp_local(w->dp, &a))
						return true;
				}
			}
			pos = skip_lws(msg->buf, ve < end ? ve + 1 : end, end);
		}
	}
	return false;
}

/* Where added headers go: before Content-Length (customarily last), else at the end. */
static uint16_t
add_point(const struct sw_sip_msg *msg)
{
	uint8_t cl = msg->first[SW_HDR_CONTENT_LENGTH];

	return cl != 0xff ? msg->hdr[cl].line.off : msg->hdr_end.off;
}

/* Header edits from the rules, collapsed per line: the last edit of a header wins. */
static void
rule_edits(struct sw_worker *w, const struct sw_route_result *res, struct sw_rw *rw,
	   int8_t *line_done)
{
	const struct sw_sip_msg *msg = w->msg;
	int8_t line_edit[SW_SIP_MAX_HDRS];
	int8_t adds[SW_ROUTE_MAX_EDITS];
	unsigned nadds = 0;
	int ruri = -1;
	bool lines = false; /* some header line has an edit */

	memset(line_edit, -1, sizeof(line_edit));
	for (unsigned e = 0; e < res->nedits; e++) {
		const struct sw_edit *ed = &res->edits[e];
		const char *name = res->buf + ed->name.off;
		const struct sw_sip_hdr *h;

		switch (ed->op) {
		case SW_EDIT_RURI:
			ruri = e;
			continue;
		case SW_EDIT_HDR_ADD:
			adds[nadds++] = e;
			continue;
		default:
			break;
		}
		/* SET and DEL cancel earlier additions of that name. */
		for (unsigned k = 0; k < nadds; k++)
			if (res->edits[adds[k]].name.len == ed->name.len &&
			    strncasecmp(res->buf + res->edits[adds[k]].name.off, name,
					ed->name.len) == 0)
				adds[k] = -1;
		h = sw_sip_hdr_find(msg, name, ed->name.len);
		if (ed->op == SW_EDIT_HDR_SET) {
			if (h != NULL) {
				line_edit[h - msg->hdr] = e;
				lines = true;
			} else
				adds[nadds++] = e;
			continue;
		}
		for (; h != NULL; h = sw_sip_hdr_next(msg, h)) {
			line_edit[h - msg->hdr] = SW_ROUTE_MAX_EDITS; /* delete */
			lines = true;
		}
	}
	for (unsigned i = 0; lines && i < msg->nhdr; i++) {
		const struct sw_edit *ed;

		if (line_edit[i] < 0 || line_done[i])
			continue;
		line_done[i] = 1;
		if (line_edit[i] == SW_ROUTE_MAX_EDITS) {
			sw_rw_splice(rw, msg->hdr[i].line.off, msg->hdr[i].line.len, "", 0);
			continue;
		}
		ed = &res->edits[line_edit[i]];
		sw_rw_begin(rw, msg->hdr[i].line.off, msg->hdr[i].line.len);
		sw_rw_append(rw, res->buf + ed->name.off, ed->name.len);
		RW_LIT(rw, ": ");
		sw_rw_append(rw, res->buf + ed->value.off, ed->value.len);
		RW_LIT(rw, "\r\n");
	}
	for (unsigned k = 0; k < nadds; k++) {
		const struct sw_edit *ed;

		if (adds[k] < 0)
			continue;
		ed = &res->edits[adds[k]];
		sw_rw_begin(rw, add_point(msg), 0);
		sw_rw_append(rw, res->buf + ed->name.off, ed->name.len);
		RW_LIT(rw, ": ");
		sw_rw_append(rw, res->buf + ed->value.off, ed->value.len);
		RW_LIT(rw, "\r\n");
	}
	if (ruri >= 0)
		sw_rw_splice(rw, msg->ruri.all.off, msg->ruri.all.len,
			     res->buf + res->edits[ruri].value.off, res->edits[ruri].value.len);
}

/*
 * ARS Max Sessions without call state: the pattern a call was counted on
 * rides in our Record-Route URI and our Via as ";swr=<hex id>" (ruleset.h,
 * sw_route_result.ars_id); the BYE brings it back in the Route it pops, a
 * non-2xx final answer in our Via.
 */
static uint32_t
swr_id(const char *buf, struct sw_span params)
{
	struct sw_span v;
	uint32_t id = 0;

	if (!sw_sip_param_find(buf, params, "swr", 3, &v) || v.len == 0 || v.len > 8)
		return 0;
	for (uint16_t i = 0; i < v.len; i++) {
		unsigned c = (uint8_t)buf[v.off + i], d;

		if (c - '0' < 10)
			d = c - '0';
		else if ((c | 0x20) - 'a' < 6)
			d = (c | 0x20) - 'a' + 10;
		else
			return 0;
		id = id << 4 | d;
	}
	return id;
}

static void
rw_swr(struct sw_rw *rw, uint32_t id)
{
	char hex[8];

	RW_LIT(rw, ";swr=");
	put_hex32(hex, id);
	sw_rw_append(rw, hex, 8);
}

/* Key of a call event (kind: SESS_UP, SESS_DOWN) for sw_worker.sess_seen. */
enum { SESS_UP = 0x5e55u, SESS_DOWN = 0xd0e5u };

static uint32_t
sess_key(const struct sw_sip_msg *msg, uint32_t kind)
{
	return sw_crc32c(msg->buf + msg->call_id.off, msg->call_id.len, msg->cseq_num ^ kind);
}

/* Seen this event in the last SW_SESS_SEEN_SEC seconds (a retransmission)? */
static bool
sess_seen(const struct sw_worker *w, uint32_t key)
{
	unsigned i = key & (SW_SESS_SEEN_SLOTS - 1);

	return w->sess_seen[i].key == key &&
	       (uint32_t)w->now_sec - w->sess_seen[i].sec < SW_SESS_SEEN_SEC;
}

static void
sess_mark(struct sw_worker *w, uint32_t key)
{
	unsigned i = key & (SW_SESS_SEEN_SLOTS - 1);

	w->sess_seen[i].key = key;
	w->sess_seen[i].sec = (uint32_t)w->now_sec;
}

/* A call counted on the pattern with this id ended: one session less, once. */
static void
sess_end(struct sw_worker *w, uint32_t id)
{
	struct sw_dp *dp = w->dp;
	const struct sw_ruleset *rs;
	uint32_t key;
	int slot = -1;

	if (dp->conf.ars == NULL)
		return;
	key = sess_key(w->msg, SESS_DOWN);
	if (sess_seen(w, key)) {
		CNT(w, ARS_SESS_REPEAT);
		return;
	}
	sess_mark(w, key);
	urcu_qsbr_read_lock();
	rs = rcu_dereference(*dp->conf.ruleset_slot);
	if (rs != NULL)
		slot = sw_ruleset_sess_slot(rs, id);
	urcu_qsbr_read_unlock();
	if (slot >= 0 && sw_ars_sess_dec(dp->conf.ars, w->idx, slot))
		CNT(w, ARS_SESS_DOWN);
	else
		CNT(w, ARS_SESS_UNKNOWN);
}

/*
 * §16.4: pop every Route entry at the top that names us. Sets *next to the
 * first Route entry left, if any. Returns how many were popped.
 */
static unsigned
pop_our_routes(struct sw_worker *w, struct sw_rw *rw, int8_t *line_done,
	       struct sw_sip_nameaddr *next, bool *has_next, uint32_t *swr)
{
	const struct sw_sip_msg *msg = w->msg;
	const struct sw_sip_hdr *h;
	unsigned popped = 0;

	*has_next = false;
	if (msg->first[SW_HDR_ROUTE] == 0xff)
		return 0;
	for (h = &msg->hdr[msg->first[SW_HDR_ROUTE]]; h != NULL; h = sw_sip_hdr_next(msg, h)) {
		uint16_t pos = h->value.off, end = h->value.off + h->value.len;
		uint16_t cut_from = pos;

		while (pos < end) {
			uint16_t s = pos, e = value_end(msg->buf, s, end);

			if (sw_sip_nameaddr_parse(msg->buf, (struct sw_span){s, e - s}, next) != 0 ||
			    !uri_is_us(w, msg->buf, &next->uri)) {
				*has_next = true;
				break;
			}
			popped++;
			if (*swr == 0)
				*swr = swr_id(msg->buf, next->uri.params);
			pos = skip_lws(msg->buf, e < end ? e + 1 : end, end);
		}
		if (*has_next) {
			/* Cut the popped entries of this line, keep the rest. */
			if (pos > cut_from)
				sw_rw_splice(rw, cut_from, pos - cut_from, "", 0);
			line_done[h - msg->hdr] = 1;
			return popped;
		}
		sw_rw_splice(rw, h->line.off, h->line.len, "", 0);
		line_done[h - msg->hdr] = 1;
	}
	return popped;
}

/* Finish a request or response: apply the splices, wrap in UDP/IP, send. False: dropped. */
static bool
send_on(struct sw_worker *w, struct sw_pkt *p, struct sw_rw *rw, const struct sw_hop *hop,
	const struct sw_addr *dst, uint16_t dport, enum sw_counter ok)
{
	struct sw_dp *dp = w->dp;
	uint16_t out = hop->port;
	/* Room in front of the message: what the mbuf has, less the largest
	 * Ethernet + 802.1Q + IPv6 + UDP headers that go in front of it again. */
	long front = (long)rte_pktmbuf_headroom(p->m) + (long)p->off - (14 + 4 + 40 + 8);
	long len, start = 0;

	len = sw_rw_apply_room(rw, p->sip, w->msg->len, front > 0 ? (size_t)front : 0,
			       p->len - w->msg->len + rte_pktmbuf_tailroom(p->m), &start);
	if (len < 0 || sw_dp_encap_udp(p->m, (int32_t)((long)p->off + start), (uint32_t)len,
				       hop->src, dp->conf.sip_port, dst, dport,
				       dp->tx_offloads[out]) != 0) {
		CNT(w, DROP_REWRITE);
		rte_pktmbuf_free(p->m);
		return false;
	}
	/* §18.1.1: larger than the path MTU wants a congestion-controlled transport. */
	if (unlikely(rte_pktmbuf_pkt_len(p->m) - sizeof(struct rte_ether_hdr) > dp->mtu[out])) {
		CNT(w, SLOW_MTU);
		sw_dp_to_slowpath(w, p->m, SW_SP_RX);
		return false;
	}
	w->cnt[ok]++;
	sw_dp_send(w, p->m, hop);
	return true;
}

/* Our Via on top, received/rport on the one we got (§16.6 step 8, §18.2.1, RFC 3581). */
static void
via_edits(struct sw_worker *w, const struct sw_pkt *p, struct sw_rw *rw, const struct sw_addr *src,
	  uint32_t swr)
{
	const struct sw_sip_msg *msg = w->msg;
	const struct sw_sip_via *v = &msg->via[0];
	const struct sw_dp *dp = w->dp;
	struct sw_addr sent_by;
	uint32_t slen;
	const char *stext = src_text(w, &p->src, &slen);
	int li = local_index(w, src);
	char *o;

	sw_rw_begin(rw, msg->hdr[v->hdr].line.off, 0);
	if (li >= 0) {
		sw_rw_append(rw, dp->via_text[li], dp->via_text_len[li]);
	} else {
		RW_LIT(rw, "Via: SIP/2.0/UDP ");
		rw_local(w, src);
		RW_LIT(rw, ";branch=" SW_BRANCH_PREFIX);
	}
	o = sw_rw_reserve(rw, BRANCH_SUFFIX_LEN);
	if (o != NULL)
		branch_suffix(w, msg, o);
	if (swr != 0)
		rw_swr(rw, swr);
	RW_LIT(rw, "\r\n");

	/* Bare rport first: it needs received= anyway. The same text as the
	 * source is the same address; other text may still be (leading zeros, v6). */
	if ((v->has_rport && v->rport.len == 0) ||
	    ((v->host.len != slen || memcmp(msg->buf + v->host.off, stext, slen) != 0) &&
	     (!host_addr(msg->buf, v->host, &sent_by) || !sw_addr_eq(&sent_by, &p->src)))) {
		/* A bare rport gets the source port where it stands (RFC 3581 §4):
		 * the parser's empty span is right after its name. */
		if (v->has_rport && v->rport.len == 0) {
			sw_rw_begin(rw, v->rport.off, 0);
			RW_LIT(rw, "=");
			rw_dec(rw, p->sport);
		}
		if (v->received.len == 0) {
			sw_rw_begin(rw, v->all.off + v->all.len, 0);
			RW_LIT(rw, ";received=");
			sw_rw_append(rw, stext, slen);
		}
	}
}

/*
 * Our Record-Route text, sent from src for a request that came to in; two
 * entries when we change sides (RFC 5658 double Record-Route). Without
 * ;swr= it is a pure function of the two addresses: the last pair's text is
 * kept and copied (160 instructions less).
 */
static void
put_record_route(struct sw_worker *w, struct sw_rw *rw, const struct sw_addr *src,
		 const struct sw_addr *in, uint32_t swr)
{
	uint32_t t0 = rw->used;

	if (swr == 0 && w->rr_ok && w->rr_src == src && sw_addr_eq(&w->rr_in, in)) {
		sw_rw_append(rw, w->rr_text, w->rr_len);
		return;
	}
	RW_LIT(rw, "Record-Route: <sip:");
	rw_local(w, src);
	if (swr != 0)
		rw_swr(rw, swr);
	if (sw_addr_eq(in, src)) {
		RW_LIT(rw, ";lr>\r\n");
	} else {
		RW_LIT(rw, ";lr;r2=on>\r\nRecord-Route: <sip:");
		rw_local(w, in);
		if (swr != 0)
			rw_swr(rw, swr);
		RW_LIT(rw, ";lr;r2=on>\r\n");
	}
	if (swr == 0 && !rw->overflow && rw->used - t0 <= sizeof(w->rr_text)) {
		w->rr_len = (uint8_t)(rw->used - t0);
		memcpy(w->rr_text, rw->text + t0, w->rr_len);
		w->rr_src = src;
		w->rr_in = *in;
		w->rr_ok = true;
	}
}

/* Forward a request; swr != 0 tags our Via and Record-Route for Max Sessions. True: sent. */
static bool
forward_request(struct sw_worker *w, struct sw_pkt *p, struct sw_rw *rw, const struct sw_addr *dst,
		uint16_t dport, int8_t *line_done, bool record_route, uint32_t swr)
{
	const struct sw_sip_msg *msg = w->msg;
	const struct sw_addr *src;
	struct sw_hop hop;

	if (sw_dp_route_cached(w, dst, &hop) != 0) {
		CNT(w, DROP_NO_ROUTE);
		rte_pktmbuf_free(p->m);
		return false;
	}
	src = hop.src;
	via_edits(w, p, rw, src, swr);
	/* §16.6 step 3: Max-Forwards one less, or 70 when absent. */
	if (msg->first[SW_HDR_MAX_FORWARDS] == 0xff) {
		sw_rw_begin(rw, add_point(msg), 0);
		RW_LIT(rw, "Max-Forwards: 70\r\n");
	} else if (!line_done[msg->first[SW_HDR_MAX_FORWARDS]]) {
		const struct sw_sip_hdr *h = &msg->hdr[msg->first[SW_HDR_MAX_FORWARDS]];

		sw_rw_begin(rw, h->value.off, h->value.len);
		rw_dec(rw, (uint32_t)(msg->max_forwards - 1));
	}
	/* §16.6 step 4 */
	if (record_route) {
		uint8_t rr = msg->first[SW_HDR_RECORD_ROUTE];

		sw_rw_begin(rw, rr != 0xff ? msg->hdr[rr].line.off : add_point(msg), 0);
		put_record_route(w, rw, src, &p->dst, swr);
	}
	return send_on(w, p, rw, &hop, dst, dport, SW_CNT_FWD_REQUESTS);
}

/*
 * A CANCEL, and the ACK of a non-2xx answer, must go where their INVITE
 * went (§16.10, §17.1.1.3): match them as that INVITE. The shadow copy
 * differs only in the request line's method.
 */
static const struct sw_sip_msg *
as_invite(struct sw_worker *w)
{
	const struct sw_sip_msg *msg = w->msg;
	uint32_t rest = msg->method_name.off + msg->method_name.len;
	uint32_t cm = msg->cseq_method.off, cm_end = cm + msg->cseq_method.len, n = 0;

	/* The CSeq method must say INVITE too, or the copy is not well formed. */
	if (cm < rest || msg->len - rest - msg->cseq_method.len + 12 > sizeof(w->shadow))
		return NULL;
	memcpy(w->shadow, "INVITE", 6);
	n = 6;
	memcpy(w->shadow + n, msg->buf + rest, cm - rest);
	n += cm - rest;
	memcpy(w->shadow + n, "INVITE", 6);
	n += 6;
	memcpy(w->shadow + n, msg->buf + cm_end, msg->len - cm_end);
	n += msg->len - cm_end;
	if (sw_sip_parse(&w->shadow_msg, w->shadow, n) != SW_SIP_OK)
		return NULL;
	return &w->shadow_msg;
}

/* Where a request goes by default: the next Route, else the Request-URI. */
struct dest {
	const char *buf;
	struct sw_sip_uri uri;
};

static void
apply_rules(struct sw_worker *w, struct sw_pkt *p, struct sw_rw *rw, int8_t *line_done,
	    const struct dest *deflt, bool match_as_invite)
{
	struct sw_dp *dp = w->dp;
	const struct sw_sip_msg *msg = w->msg;
	struct sw_route_result *res = &w->res;
	const struct sw_ruleset *rs;
	struct sw_match_in in = {
		.msg = msg,
		.src = p->src,
		.src_port = p->sport,
		.local_port = p->dport,
		.transport = SW_TRANSPORT_UDP,
		.now = w->now_sec,
	};
	struct sw_addr dst;
	uint16_t dport;
	uint32_t up_key = 0;
	bool rr;

	if (match_as_invite && (in.msg = as_invite(w)) == NULL)
		in.msg = msg;
	if (dp->conf.ars != NULL) {
		/* Caps apply to calls: a new INVITE counts, its CANCEL, ACK or
		 * retransmission only goes where a new one would. */
		in.ars = dp->conf.ars;
		in.worker = w->idx;
		if (match_as_invite) {
			in.call = SW_CALL_PEEK;
		} else if (msg->method == SW_METHOD_INVITE && msg->to.tag.len == 0) {
			up_key = sess_key(msg, SESS_UP);
			in.call = sess_seen(w, up_key) ? SW_CALL_PEEK : SW_CALL_NEW;
		}
	}
	in.src_is_local = sw_dp_local(dp, &p->src);
	urcu_qsbr_read_lock();
	rs = rcu_dereference(*dp->conf.ruleset_slot);
	if (unlikely(rs == NULL)) {
		urcu_qsbr_read_unlock();
		CNT(w, DROP_NO_RULESET);
		rte_pktmbuf_free(p->m);
		return;
	}
	/* the walk rules_prepare() did for this message (w->msg is one of msgs[]) with rs */
	if (rs == w->prepared)
		in.prepared = (uint8_t)(w->msg - w->msgs + 1);
	if (unlikely(sw_ruleset_match(rs, sw_ruleset_scratch(rs, w->idx), &in, res) != 0)) {
		urcu_qsbr_read_unlock();
		CNT(w, REPLY_MATCH_ERROR);
		sw_dp_reply(w, p, 500, "Routing Result Too Large", NULL);
		return;
	}
	urcu_qsbr_read_unlock();
	/* From here on only res (self-contained) is used, never the ruleset. */
	switch (res->action) {
	case SW_ROUTE_NOMATCH:
		CNT(w, REPLY_NOMATCH);
		sw_dp_reply(w, p, dp->conf.nomatch_code, NULL, NULL);
		return;
	case SW_ROUTE_REPLY: {
		char reason[128];

		if (res->ars_busy)
			CNT(w, REPLY_ARS_BUSY);
		else
			CNT(w, REPLY_RULE);
		if (res->reason.len > 0 && res->reason.len < sizeof(reason)) {
			memcpy(reason, res->buf + res->reason.off, res->reason.len);
			reason[res->reason.len] = '\0';
			sw_dp_reply(w, p, res->status, reason, NULL);
		} else {
			sw_dp_reply(w, p, res->status, NULL, NULL);
		}
		return;
	}
	case SW_ROUTE_BLOCK:
		CNT(w, DROP_BLOCKED);
		rte_pktmbuf_free(p->m);
		return;
	case SW_ROUTE_SLOWPATH:
		sw_dp_to_slowpath(w, p->m, SW_SP_RX);
		return;
	default:
		break;
	}
	rule_edits(w, res, rw, line_done);
	/* Where to: the first $target, else the new Request-URI, else the default. */
	if (res->ntargets > 0) {
		if (!target_addr(w, res->buf, res->targets[0].off, res->targets[0].len, &dst,
				 &dport))
			goto unroutable;
	} else {
		struct dest d = *deflt;

		for (unsigned e = 0; e < res->nedits; e++)
			if (res->edits[e].op == SW_EDIT_RURI) {
				if (sw_sip_uri_parse(res->buf,
						     (struct sw_span){res->edits[e].value.off,
								      res->edits[e].value.len},
						     &d.uri) != 0)
					goto unroutable;
				d.buf = res->buf;
			}
		if (!host_addr(d.buf, d.uri.host, &dst))
			goto unroutable;
		dport = d.uri.port_num ? d.uri.port_num : DEFAULT_SIP_PORT;
	}
	rr = res->record_route == 1 ||
	     (res->record_route == 0 && dp->conf.record_route && (msg->method & RR_METHODS) &&
	      msg->to.tag.len == 0);
	if (in.call != SW_CALL_NEW || res->ars_id == 0) {
		/* A retransmitted INVITE goes out as the first copy did (tag,
		 * Record-Route), uncounted; a CANCEL's Via is its INVITE's (§9.1),
		 * tag included, so a UAS that builds its 487 from it still gives
		 * the slot back. */
		uint32_t tag = in.call == SW_CALL_PEEK ? res->ars_id : 0;

		forward_request(w, p, rw, &dst, dport, line_done,
				rr || (tag != 0 && msg->method == SW_METHOD_INVITE), tag);
		return;
	}
	/* Max Sessions: our Record-Route brings the BYE back, tagged with the pattern. */
	if (forward_request(w, p, rw, &dst, dport, line_done, true, res->ars_id)) {
		sess_mark(w, up_key);
		sw_ars_sess_inc(dp->conf.ars, w->idx, res->ars_slot);
		CNT(w, ARS_SESS_UP);
	}
	return;
unroutable:
	/* Host names need the gateway table (DNS is never asked on the fast path). */
	CNT(w, REPLY_UNROUTABLE);
	sw_dp_reply(w, p, 503, "Unresolvable Destination", NULL);
}

/*
 * §16.4: a Request-URI of ours with a Route set means the previous hop was a
 * strict router; the real Request-URI is the last Route entry, which goes.
 */
static bool
strict_route_fix(struct sw_worker *w, struct sw_rw *rw, int8_t *line_done, struct dest *d)
{
	const struct sw_sip_msg *msg = w->msg;
	const struct sw_sip_hdr *h, *last = NULL;
	uint16_t vs = 0, ve = 0, prev_end = 0;
	bool alone = false;

	if (msg->first[SW_HDR_ROUTE] == 0xff || !uri_is_us(w, msg->buf, &msg->ruri) ||
	    sw_sip_param_find(msg->buf, msg->ruri.params, "lr", 2, &(struct sw_span){0, 0}))
		return false;
	for (h = &msg->hdr[msg->first[SW_HDR_ROUTE]]; h != NULL; h = sw_sip_hdr_next(msg, h))
		last = h;
	{
		uint16_t pos = last->value.off, end = last->value.off + last->value.len;

		alone = true;
		while (pos < end) {
			uint16_t e = value_end(msg->buf, pos, end);

			if (pos != last->value.off)
				alone = false;
			prev_end = ve;
			vs = pos;
			ve = e;
			pos = skip_lws(msg->buf, e < end ? e + 1 : end, end);
		}
	}
	static struct sw_sip_nameaddr na;
	if (sw_sip_nameaddr_parse(msg->buf, (struct sw_span){vs, ve - vs}, &na) != 0)
		return false;
	sw_rw_splice(rw, msg->ruri.all.off, msg->ruri.all.len, msg->buf + na.uri.all.off,
		     na.uri.all.len);
	if (alone)
		sw_rw_splice(rw, last->line.off, last->line.len, "", 0);
	else
		sw_rw_splice(rw, prev_end, ve - prev_end, "", 0);
	line_done[last - msg->hdr] = 1;
	d->buf = msg->buf;
	d->uri = na.uri;
	return true;
}

static void
request(struct sw_worker *w, struct sw_pkt *p, enum sw_sip_verdict v)
{
	const struct sw_sip_msg *msg = w->msg;
	struct sw_rw *rw = &w->rw;
	int8_t line_done[SW_SIP_MAX_HDRS];
	struct sw_sip_nameaddr next;
	struct dest d = {.buf = msg->buf, .uri = msg->ruri};
	bool has_next, in_dialog = msg->to.tag.len > 0;
	uint32_t swr = 0;
	unsigned popped;
	struct sw_addr dst;

	CNT(w, SIP_REQUESTS);
	if (v == SW_SIP_DROP) {
		CNT(w, DROP_SIP_MALFORMED);
		rte_pktmbuf_free(p->m);
		return;
	}
	if (v == SW_SIP_REPLY) {
		CNT(w, REPLY_PARSE);
		sw_dp_reply(w, p, msg->reply_code, msg->reason, NULL);
		return;
	}
	/* The ACK to a stateless answer of ours ends here. */
	if (msg->method == SW_METHOD_ACK && msg->to.tag.len > SW_TAG_PREFIX_LEN &&
	    memcmp(msg->buf + msg->to.tag.off, SW_TAG_PREFIX, SW_TAG_PREFIX_LEN) == 0) {
		CNT(w, ACK_ABSORBED);
		rte_pktmbuf_free(p->m);
		return;
	}
	if (msg->max_forwards == 0) {
		/* §16.3 step 3; sw_dp_reply drops an ACK instead. */
		CNT(w, REPLY_483);
		sw_dp_reply(w, p, 483, NULL, NULL);
		return;
	}
	if (looping(w, msg)) {
		CNT(w, REPLY_482);
		sw_dp_reply(w, p, 482, NULL, NULL);
		return;
	}
	sw_rw_reset(rw);
	memset(line_done, 0, sizeof(line_done));
	strict_route_fix(w, rw, line_done, &d);
	popped = pop_our_routes(w, rw, line_done, &next, &has_next, &swr);
	if (swr != 0 && msg->method == SW_METHOD_BYE)
		sess_end(w, swr);
	if (has_next) {
		/* §16.12: a Route left after ours: it decides the next hop. */
		d.buf = msg->buf;
		d.uri = next.uri;
	}
	if (in_dialog && (popped > 0 || has_next || !uri_is_us(w, d.buf, &d.uri))) {
		/* Mid-dialog with a route set, or not for us: loose routing, no dial plan. */
		if (!host_addr(d.buf, d.uri.host, &dst)) {
			CNT(w, REPLY_UNROUTABLE);
			sw_dp_reply(w, p, 503, "Unresolvable Destination", NULL);
			return;
		}
		forward_request(w, p, rw, &dst, d.uri.port_num ? d.uri.port_num : DEFAULT_SIP_PORT,
				line_done, false, 0);
		return;
	}
	if (msg->method == SW_METHOD_OPTIONS && msg->ruri.user.len == 0 && !has_next &&
	    uri_is_us(w, msg->buf, &msg->ruri)) {
		CNT(w, REPLY_OPTIONS);
		sw_dp_reply(w, p, 200, NULL,
			    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, "
			    "SUBSCRIBE, NOTIFY, REFER, INFO, MESSAGE, UPDATE\r\n");
		return;
	}
	apply_rules(w, p, rw, line_done, &d,
		    msg->method == SW_METHOD_CANCEL || (msg->method == SW_METHOD_ACK && in_dialog));
}

/* §16.7 step 3: the top Via must be ours; pop it and send to the next one. */
static void
response(struct sw_worker *w, struct sw_pkt *p, enum sw_sip_verdict v)
{
	const struct sw_sip_msg *msg = w->msg;
	const struct sw_sip_via *top = &msg->via[0], *next = &msg->via[1];
	struct sw_rw *rw = &w->rw;
	struct sw_addr a;
	uint16_t dport;

	CNT(w, SIP_RESPONSES);
	if (v != SW_SIP_OK) {
		CNT(w, DROP_SIP_MALFORMED);
		rte_pktmbuf_free(p->m);
		return;
	}
	if (msg->nvia == 0 || !our_branch(msg, top) || !host_addr(msg->buf, top->host, &a) ||
	    !sw_dp_local(w->dp, &a)) {
		CNT(w, DROP_RESP_NOT_OURS);
		rte_pktmbuf_free(p->m);
		return;
	}
	if (msg->nvia < 2) {
		CNT(w, DROP_RESP_NO_VIA);
		rte_pktmbuf_free(p->m);
		return;
	}
	/* A call counted for Max Sessions that failed (or was cancelled: 487) ends here. */
	if (msg->status >= 300 && msg->method == SW_METHOD_INVITE) {
		uint32_t id = swr_id(msg->buf, top->params);

		if (id != 0)
			sess_end(w, id);
	}
	sw_rw_reset(rw);
	if (next->hdr == top->hdr)
		sw_rw_splice(rw, top->all.off, next->all.off - top->all.off, "", 0);
	else
		sw_rw_splice(rw, msg->hdr[top->hdr].line.off, msg->hdr[top->hdr].line.len, "", 0);
	/* §18.2.2 and RFC 3581: received and rport when present, else sent-by. */
	if (!(next->received.len > 0 && host_addr(msg->buf, next->received, &a)) &&
	    !host_addr(msg->buf, next->host, &a)) {
		CNT(w, DROP_NO_ROUTE);
		rte_pktmbuf_free(p->m);
		return;
	}
	dport = next->port_num ? next->port_num : DEFAULT_SIP_PORT;
	if (next->has_rport && next->rport.len > 0) {
		unsigned r = 0;

		for (uint16_t i = 0; i < next->rport.len; i++)
			r = r * 10 + (unsigned)(msg->buf[next->rport.off + i] - '0');
		if (r > 0 && r < 65536)
			dport = (uint16_t)r;
	}
	{
		struct sw_hop hop;

		if (sw_dp_route_cached(w, &a, &hop) != 0) {
			CNT(w, DROP_NO_ROUTE);
			rte_pktmbuf_free(p->m);
			return;
		}
		send_on(w, p, rw, &hop, &a, dport, SW_CNT_FWD_RESPONSES);
	}
}

void
sw_dp_sip(struct sw_worker *w, struct sw_pkt *p, enum sw_sip_verdict v)
{
	if (w->msg->is_request)
		request(w, p, v);
	else
		response(w, p, v);
}
