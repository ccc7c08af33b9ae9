/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to dataplane/; do not include from another folder. */
#ifndef SW_DP_PVT_H
#define SW_DP_PVT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE4_2__)
#include <nmmintrin.h>
#endif

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "dataplane/dataplane.h"
#include "dataplane/rewrite.h"
#include "rules/ruleset.h"

extern int sw_logtype_dp;
#define RTE_LOGTYPE_SW_DP sw_logtype_dp
#define DP_LOG(l, ...) RTE_LOG(l, SW_DP, __VA_ARGS__)

#define SW_BURST 32
#define SW_TX_DRAIN_US 100
/** Prefix of every branch we make; a response whose top Via lacks it is not ours. */
#define SW_BRANCH_PREFIX "z9hG4bK-sw"
#define SW_BRANCH_PREFIX_LEN (sizeof(SW_BRANCH_PREFIX) - 1)
/** Prefix of the To-tags of our stateless answers, to absorb their ACKs. */
#define SW_TAG_PREFIX "sw."
#define SW_TAG_PREFIX_LEN (sizeof(SW_TAG_PREFIX) - 1)

/** What a packet handed to the slow path wants. Kept in the mbuf private area. */
enum sw_sp_kind {
	SW_SP_RX = 0,   /**< a received packet the fast path does not handle (ARP, ICMP ...) */
	SW_SP_HOLD,     /**< ready to send, but the next hop's MAC is unknown */
};

struct sw_mbuf_priv {
	uint8_t kind;       /**< enum sw_sp_kind */
	uint8_t port;       /**< output port for SW_SP_HOLD */
	uint16_t worker;    /**< who handed it over */
	uint16_t vlan;      /**< VLAN it came in on (RX) or goes out on (HOLD), 0 none */
	struct sw_addr nh;  /**< next hop to resolve for SW_SP_HOLD */
};

_Static_assert(sizeof(struct sw_mbuf_priv) <= SW_DP_MBUF_PRIV_SIZE, "mbuf priv area too small");

static inline struct sw_mbuf_priv *
sw_priv(struct rte_mbuf *m)
{
	return (struct sw_mbuf_priv *)rte_mbuf_to_priv(m);
}

/*
 * rte_hash_crc(p, len, h), inline: CRC32-C by the SSE4.2 instruction that
 * DPDK uses too (DPDK's -march=corei7 has it), without a call and a check
 * of the algorithm per 8 bytes, and with loads that may be unaligned (SIP
 * text is). The same values, so branches, tags and loop hashes stay what
 * they were.
 */
static inline uint32_t
sw_crc32c(const char *p, uint32_t len, uint32_t h)
{
#if defined(__SSE4_2__)
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		h = (uint32_t)_mm_crc32_u64(h, v);
	}
	if (len & 4) {
		uint32_t v;

		memcpy(&v, p, 4);
		h = _mm_crc32_u32(h, v);
		p += 4;
	}
	if (len & 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		h = _mm_crc32_u16(h, v);
		p += 2;
	}
	if (len & 1)
		h = _mm_crc32_u8(h, (uint8_t)*p);
	return h;
#else
	return rte_hash_crc(p, len, h);
#endif
}

/*
 * A rewrite in place may leave a frame starting at an odd address (the
 * message grew into the headroom by an odd number of bytes), so the
 * Ethernet header is written as bytes, never through struct rte_ether_hdr
 * or rte_ether_addr, whose 2-byte alignment the compiler may assume. DPDK's
 * IPv4, IPv6 and UDP headers are packed and need no such care.
 */
#define SW_ETH_DST 0
#define SW_ETH_SRC RTE_ETHER_ADDR_LEN

static inline void
sw_eth_put_mac(void *frame, unsigned off, const struct rte_ether_addr *a)
{
	memcpy((char *)frame + off, a->addr_bytes, RTE_ETHER_ADDR_LEN);
}

static inline void
sw_eth_put_type(void *frame, uint16_t type)
{
	rte_be16_t t = rte_cpu_to_be_16(type);

	memcpy((char *)frame + 2 * RTE_ETHER_ADDR_LEN, &t, sizeof(t));
}

/** a == b: the family and its 4 or 16 bytes (what follows an IPv4 address is not read). */
static inline bool
sw_addr_eq(const struct sw_addr *a, const struct sw_addr *b)
{
	uint32_t x, y;

	if (a->family != b->family)
		return false;
	if (a->family == AF_INET6)
		return memcmp(a->bytes, b->bytes, 16) == 0;
	memcpy(&x, a->bytes, 4);
	memcpy(&y, b->bytes, 4);
	return x == y;
}

/** How to reach a destination: out port and VLAN, next hop, our source address there. */
struct sw_hop {
	uint16_t port;
	uint16_t vlan;
	struct sw_addr nh;
	const struct sw_addr *src;
};

struct sw_txbuf {
	uint16_t n;
	struct rte_mbuf *m[SW_BURST];
};

/** Per-worker state: one cache-aligned struct per lcore, nothing shared is written. */
/* Recent call events per worker (see sw_worker.sess_seen): 64 s covers Timer B/F/H (32 s). */
#define SW_SESS_SEEN_SLOTS 4096
#define SW_SESS_SEEN_SEC 64

struct sw_worker {
	struct sw_dp *dp;
	uint16_t idx;      /**< worker index = queue index on every port */
	unsigned lcore;
	uint64_t now_tsc;
	int64_t now_sec;
	uint64_t hz, drain_tsc, last_drain, tsc0;
	int64_t unix0;
	struct sw_txbuf tx[SW_DP_MAX_PORTS];
	uint64_t cnt[SW_CNT__COUNT];
	/* One-entry caches: consecutive messages mostly go to the same place.
	 * Routes never change after sw_dp_create(); the neighbour entry is
	 * good while dp->neigh_gen stays what it was when it was read. */
	bool route_ok, neigh_ok;
	uint32_t neigh_gen;
	struct sw_addr route_dst, neigh_nh;
	struct sw_hop route_hop;
	struct rte_ether_addr neigh_mac;
	/* The last source address as text (Via received=, sent-by check) and
	 * the last $target parsed (both a pure function of their key). */
	bool src_ok, tgt_ok;
	uint8_t src_len, tgt_len;
	uint16_t tgt_port;
	struct sw_addr src_key, tgt_dst;
	char src_text[INET6_ADDRSTRLEN];
	char tgt_text[64];
	/* The last Record-Route pair without ;swr= (a pure function of the
	 * address we send from and the one the request came to). */
	bool rr_ok;
	uint8_t rr_len;
	const struct sw_addr *rr_src;
	struct sw_addr rr_in;
	char rr_text[2 * (INET6_ADDRSTRLEN + 8) + 64];
	/*
	 * ARS session counting sees each call event once: a direct-mapped
	 * table of recent events (INVITE counted, call ended), keyed by a hash
	 * of Call-ID, CSeq and kind, forgets an entry after SW_SESS_SEEN_SEC.
	 * Retransmissions over UDP come from the same source, so to the same
	 * worker.
	 */
	struct {
		uint32_t key;
		uint32_t sec;
	} sess_seen[SW_SESS_SEEN_SLOTS];
	/* per-packet scratch, reused: msg is the message being routed, one of msgs[] */
	struct sw_sip_msg *msg;
	struct sw_sip_msg msgs[SW_BURST];
	/* the ruleset whose sw_ruleset_match_prepare() walked msgs[] this burst, or NULL */
	const struct sw_ruleset *prepared;
	struct sw_route_result res;
	struct sw_rw rw;
	/* a CANCEL or non-2xx ACK seen as its INVITE, for matching */
	struct sw_sip_msg shadow_msg;
	char shadow[2048];
} __rte_cache_aligned;

/**
 * The neighbour table key: an IPv6 address, IPv4 as ::ffff:a.b.c.d. Sixteen
 * bytes, so rte_hash compares keys with its SIMD compare, not memcmp.
 */
struct sw_neigh_key {
	uint8_t addr[16];
};

struct sw_pending;

struct sw_dp {
	struct sw_dp_conf conf;
	volatile int stop;
	struct rte_ring *sp_ring;    /**< workers → slow path (MP/SC) */
	struct rte_ring *sp_tx_ring; /**< slow path → worker 0 → wire (SP/SC) */
	struct rte_hash *neigh;      /**< sw_neigh_key → MAC (packed), lock-free readers */
	struct rte_ether_addr mac[SW_DP_MAX_PORTS];
	uint16_t mtu[SW_DP_MAX_PORTS];
	/** "198.18.2.1:5060" / "[2001:db8::1]:5060" of each local address, made once. */
	char local_text[SW_DP_MAX_ADDRS][INET6_ADDRSTRLEN + 8];
	uint8_t local_text_len[SW_DP_MAX_ADDRS];
	/** "Via: SIP/2.0/UDP <local_text>;branch=" SW_BRANCH_PREFIX, the start of our Via. */
	char via_text[SW_DP_MAX_ADDRS][INET6_ADDRSTRLEN + 8 + 48];
	uint8_t via_text_len[SW_DP_MAX_ADDRS];
	uint64_t tx_offloads[SW_DP_MAX_PORTS]; /**< RTE_ETH_TX_OFFLOAD_* configured */
	/** The IPv4 locals as words, for sw_dp_local() (made once). */
	uint32_t local4[SW_DP_MAX_ADDRS];
	uint8_t nb_local4;
	/** Bumped (release) after every neighbour table write: workers' caches compare it. */
	uint32_t neigh_gen;
	struct sw_worker *workers;
	struct sw_pending *pending;  /**< slow path only */
	uint64_t sp_cnt[SW_CNT__COUNT] __rte_cache_aligned; /**< slow path counters */
};

/* classify/forward helpers shared by worker.c, reply.c and slowpath.c */

/** True if a is one of our addresses; *port gets the port it lives on. */
bool sw_dp_is_local(const struct sw_dp *dp, const struct sw_addr *a, uint16_t *port);
/** Index of our address a in conf.locals, or -1. */
int sw_dp_local_index(const struct sw_dp *dp, const struct sw_addr *a);
/**
 * sw_dp_is_local(dp, a, NULL) inline, IPv4 compared as words: it runs two
 * or three times per message (destination, source, URIs).
 */
static inline bool
sw_dp_local(const struct sw_dp *dp, const struct sw_addr *a)
{
	uint32_t x;

	if (a->family != AF_INET)
		return sw_dp_is_local(dp, a, NULL);
	memcpy(&x, a->bytes, 4);
	for (unsigned i = 0; i < dp->nb_local4; i++)
		if (dp->local4[i] == x)
			return true;
	return false;
}

/** Our address of family on port and VLAN (first configured), or NULL. */
const struct sw_addr *sw_dp_local_addr(const struct sw_dp *dp, uint16_t port, uint16_t vlan,
				       uint8_t family);

/** Which port, VLAN and next hop reach dst. 0, or -ENETUNREACH. */
int sw_dp_route(const struct sw_dp *dp, const struct sw_addr *dst, struct sw_hop *hop);
/** MAC of nh if known (lock-free lookup). */
bool sw_dp_neigh_get(const struct sw_dp *dp, const struct sw_addr *nh, struct rte_ether_addr *mac);
/** sw_dp_route() through worker w's one-entry cache. */
int sw_dp_route_cached(struct sw_worker *w, const struct sw_addr *dst, struct sw_hop *hop);
/** sw_dp_neigh_get() through worker w's one-entry cache (rte_hash: 260 instructions). */
bool sw_dp_neigh_get_cached(struct sw_worker *w, const struct sw_addr *nh,
			    struct rte_ether_addr *mac);
/** Learn or refresh (slow path only). */
void sw_dp_neigh_set(struct sw_dp *dp, const struct sw_addr *a, const struct rte_ether_addr *mac);

/**
 * Write Ethernet + IPv4/IPv6 + UDP headers in front of a UDP payload of plen
 * bytes that already sits at offset l4_payload_off from the mbuf's data start
 * (negative: in the headroom), from
 * src:sport to dst:dport. Adjusts the mbuf head when the L3 size changes.
 * @return 0, or -ENOSPC when there is no headroom.
 */
int sw_dp_encap_udp(struct rte_mbuf *m, int32_t l4_payload_off, uint32_t plen,
		    const struct sw_addr *src, uint16_t sport, const struct sw_addr *dst,
		    uint16_t dport, uint64_t tx_offloads);

/** Send m along hop from worker w (buffered); or hold it for ARP/ND via the slow path. */
void sw_dp_send(struct sw_worker *w, struct rte_mbuf *m, const struct sw_hop *hop);
/** Insert an 802.1Q tag for vlan (no-op for 0). 0, or -1 when there is no headroom. */
int sw_dp_vlan_tag(struct rte_mbuf **m, uint16_t vlan);
/** Buffer m for TX on port index pi; its Ethernet header is complete. */
void sw_dp_tx(struct sw_worker *w, struct rte_mbuf *m, uint16_t pi);
/** Hand m to the slow path (counted; freed and counted when the ring is full). */
void sw_dp_to_slowpath(struct sw_worker *w, struct rte_mbuf *m, enum sw_sp_kind kind);

/** Free the packets held for resolution (sw_dp_free). */
void sw_dp_slowpath_free(struct sw_dp *dp);

/* SIP handling (proxy.c, reply.c) */

/** Context of one received SIP datagram. */
struct sw_pkt {
	struct rte_mbuf *m;
	uint16_t in_port;
	struct sw_addr src, dst;
	uint16_t sport, dport;
	uint16_t vlan;  /**< 802.1Q VLAN it came in on, 0 none */
	uint32_t off;   /**< SIP payload offset in the mbuf data */
	uint32_t len;   /**< SIP payload length */
	char *sip;      /**< payload pointer */
	struct rte_ether_addr src_mac;
};

/** Route, rewrite and send (or answer, or drop) p, whose parse w->msg holds with verdict v. */
void sw_dp_sip(struct sw_worker *w, struct sw_pkt *p, enum sw_sip_verdict v);
/**
 * Answer the request in w->msg statelessly (RFC 3261 §8.2.6, §16.11) with code
 * and reason (NULL: the standard phrase), then free the request.
 * Never answers an ACK (dropped and counted instead).
 */
void sw_dp_reply(struct sw_worker *w, struct sw_pkt *p, uint16_t code, const char *reason,
		 const char *extra_hdrs);

/** Standard reason phrase of a status code. */
const char *sw_sip_reason_phrase(uint16_t code);

#define CNT(w, c) ((w)->cnt[SW_CNT_##c]++)

#endif /* SW_DP_PVT_H */
