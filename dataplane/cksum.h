/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to dataplane/; do not include from another folder.
 *
 * The Internet checksum (RFC 1071) for ports without TX checksum offload
 * (net_ring, net_tap, ...). Same results as rte_raw_cksum() and
 * rte_ipv4/6_udptcp_cksum(), but DPDK 22.11 adds one 16-bit word per loop
 * turn (2 instructions a byte, 13 % of a forwarded INVITE); this adds 64
 * bytes a turn with AVX2 (0.15 a byte), 32 with SSE2, 8 without. RFC 1071 §2(B): the sum
 * is byte-order independent, so words are summed as loaded.
 */
#ifndef SW_DP_CKSUM_H
#define SW_DP_CKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Fold a 64-bit sum of native-order words to 16 bits. */
static inline uint16_t
sw_cksum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SW_CKSUM_AVX2 1
/* mask[r .. r + 32): the last r bytes of a 32-byte window. */
static const uint8_t sw_cksum_tail_mask[64] __attribute__((aligned(64))) = {
	0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
	0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
	0,    0,    0,    0,    0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/*
 * tune=haswell: DPDK's -march=corei7 tuning splits every unaligned 32-byte
 * load into two 16-byte halves (vmovdqu + vinserti128), a third more
 * instructions in the loop below.
 */

/* Eight 32-bit lanes added, in 64 bits. */
__attribute__((target("avx2,tune=haswell"))) static inline uint64_t
sw_cksum_avx2_hsum(__m256i a)
{
	const __m128i z = _mm_setzero_si128();
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));

	s = _mm_add_epi64(_mm_unpacklo_epi32(s, z), _mm_unpackhi_epi32(s, z));
	return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
}

/*
 * The whole sum for len >= 32 where the CPU has AVX2 (checked per call: one
 * load). Each 16-bit word w is added as the signed (w ^ 0x8000) = w - 32768
 * by VPMADDWD against ones (pairs of words into a 32-bit lane: one
 * instruction where masking and shifting took three), 32768 per word put
 * back at the end; 128 bytes a turn. The tail is one 32-byte window that
 * ends at the last byte, masked to the bytes not yet added, instead of a
 * loop: the window starts len - 32 bytes in, so for an odd len its words
 * straddle ours and its sum comes out byte-swapped (RFC 1071 §2(B)), which
 * one swap of the folded sum undoes.
 */
__attribute__((target("avx2,tune=haswell"))) static inline uint64_t
sw_cksum_avx2(const uint8_t *p, size_t len)
{
	const __m256i flip = _mm256_set1_epi16((short)0x8000), one = _mm256_set1_epi16(1);
	const __m256i lo16 = _mm256_set1_epi32(0xffff);
	__m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256(), t;
	const uint8_t *end = p + len;
	size_t words = len / 2;
	uint64_t sum, tail;
	bool odd = len & 1;
	__m128i h;

#define SW_CKSUM_WORDS(q)                                                                          \
	_mm256_madd_epi16(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(q)), flip), one)
	/* Lanes move by at most 65536 per 32 bytes: no overflow below 2 MB. */
	for (; len >= 128; p += 128, len -= 128) {
		a = _mm256_add_epi32(a, SW_CKSUM_WORDS(p));
		b = _mm256_add_epi32(b, SW_CKSUM_WORDS(p + 32));
		a = _mm256_add_epi32(a, SW_CKSUM_WORDS(p + 64));
		b = _mm256_add_epi32(b, SW_CKSUM_WORDS(p + 96));
	}
	for (; len >= 32; p += 32, len -= 32)
		a = _mm256_add_epi32(a, SW_CKSUM_WORDS(p));
#undef SW_CKSUM_WORDS
	a = _mm256_add_epi32(a, b);
	h = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
	a = _mm256_cvtepi32_epi64(h);
	h = _mm_add_epi64(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
	words -= len / 2; /* the words the loops added */
	sum = (uint64_t)(_mm_cvtsi128_si64(h) + _mm_extract_epi64(h, 1) + 32768 * (int64_t)words);
	if (len == 0)
		return sum;
	t = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(end - 32)),
			     _mm256_loadu_si256((const __m256i *)(sw_cksum_tail_mask + len)));
	t = _mm256_add_epi32(_mm256_and_si256(t, lo16), _mm256_srli_epi32(t, 16));
	tail = sw_cksum_fold(sw_cksum_avx2_hsum(t));
	if (odd)
		tail = ((tail & 0xff) << 8) | (tail >> 8);
	return sum + tail;
}
#endif

/** Sum of buf as native-order 16-bit words, folded to 16 bits (= rte_raw_cksum()). */
static inline uint16_t
sw_cksum_raw(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t sum = 0;

#if defined(SW_CKSUM_AVX2)
	if (len >= 32 && __builtin_cpu_supports("avx2"))
		return sw_cksum_fold(sw_cksum_avx2(p, len));
#endif
#if defined(__SSE2__)
	if (len >= 32) {
		/* 32-bit lanes take each 16-bit word zero-extended: no carries
		 * to lose below 2^16 words a lane (far beyond 64 KB). */
		const __m128i lo16 = _mm_set1_epi32(0xffff);
		__m128i a = _mm_setzero_si128(), b = _mm_setzero_si128();
		uint32_t l[4];

		for (; len >= 32; p += 32, len -= 32) {
			__m128i x = _mm_loadu_si128((const __m128i *)p);
			__m128i y = _mm_loadu_si128((const __m128i *)(p + 16));

			a = _mm_add_epi32(a, _mm_and_si128(x, lo16));
			b = _mm_add_epi32(b, _mm_srli_epi32(x, 16));
			a = _mm_add_epi32(a, _mm_and_si128(y, lo16));
			b = _mm_add_epi32(b, _mm_srli_epi32(y, 16));
		}
		_mm_storeu_si128((__m128i *)l, a);
		sum += (uint64_t)l[0] + l[1] + l[2] + l[3];
		_mm_storeu_si128((__m128i *)l, b);
		sum += (uint64_t)l[0] + l[1] + l[2] + l[3];
	}
#endif
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		sum += (v & 0xffff) + ((v >> 16) & 0xffff) + ((v >> 32) & 0xffff) + (v >> 48);
	}
	for (; len >= 2; p += 2, len -= 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		sum += v;
	}
	if (len == 1) {
		uint16_t left = 0;

		memcpy(&left, p, 1);
		sum += left;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

/* Add two folded sums, end-around carry. */
static inline uint16_t
sw_cksum_add(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)((s & 0xffff) + (s >> 16));
}

/** IPv4 header checksum (= rte_ipv4_cksum(); its field must be 0). */
static inline uint16_t
sw_cksum_ip4hdr(const struct rte_ipv4_hdr *ip)
{
	const uint8_t *p = (const uint8_t *)ip;
	uint32_t w[5];

	if (rte_ipv4_hdr_len(ip) != sizeof(*ip))
		return rte_ipv4_cksum(ip);
	memcpy(w, p, sizeof(w));
	return (uint16_t)~sw_cksum_fold((uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]);
}

/** UDP checksum of an IPv4 datagram (= rte_ipv4_udptcp_cksum() for UDP). */
static inline uint16_t
sw_cksum_udp4(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp)
{
	size_t l4 = (size_t)rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);
	/* Pseudo header (RFC 768): addresses, zero + protocol, UDP length. */
	uint16_t ph = sw_cksum_fold((uint64_t)ip->src_addr + ip->dst_addr +
				    ((uint32_t)ip->next_proto_id << 8) +
				    rte_cpu_to_be_16((uint16_t)l4));
	uint16_t c = (uint16_t)~sw_cksum_add(sw_cksum_raw(udp, l4), ph);

	return c == 0 ? 0xffff : c;
}

/** UDP checksum of an IPv6 datagram (= rte_ipv6_udptcp_cksum() for UDP). */
static inline uint16_t
sw_cksum_udp6(const struct rte_ipv6_hdr *ip, const struct rte_udp_hdr *udp)
{
	size_t l4 = rte_be_to_cpu_16(ip->payload_len);
	uint16_t c = (uint16_t)~sw_cksum_add(sw_cksum_raw(udp, l4), rte_ipv6_phdr_cksum(ip, 0));

	return c == 0 ? 0xffff : c;
}

#endif /* SW_DP_CKSUM_H */
