/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop: RX bursts of 32 on every port's queue of this worker →
 * classify → SIP → buffered TX; TX drained on a 100 µs deadline; then the
 * RCU quiescent state and the stop flag. Nothing here locks, sleeps,
 * allocates from the heap or makes a system call.
 */
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <urcu/urcu-qsbr.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "cksum.h"
#include "dp_pvt.h"

static void
tx_flush(struct sw_worker *w, uint16_t pi)
{
	struct sw_txbuf *b = &w->tx[pi];
	uint16_t sent;

	if (b->n == 0)
		return;
	sent = rte_eth_tx_burst(w->dp->conf.port_ids[pi], w->idx, b->m, b->n);
	w->cnt[SW_CNT_TX_PKTS] += sent;
	if (unlikely(sent < b->n)) {
		w->cnt[SW_CNT_DROP_TX_FULL] += b->n - sent;
		rte_pktmbuf_free_bulk(&b->m[sent], b->n - sent);
	}
	b->n = 0;
}

void
sw_dp_tx(struct sw_worker *w, struct rte_mbuf *m, uint16_t pi)
{
	struct sw_txbuf *b = &w->tx[pi];

	b->m[b->n++] = m;
	if (b->n == SW_BURST)
		tx_flush(w, pi);
}

void
sw_dp_to_slowpath(struct sw_worker *w, struct rte_mbuf *m, enum sw_sp_kind kind)
{
	struct sw_mbuf_priv *pv = sw_priv(m);

	pv->kind = kind;
	pv->worker = w->idx;
	if (unlikely(rte_ring_mp_enqueue(w->dp->sp_ring, m) != 0)) {
		rte_pktmbuf_free(m);
		CNT(w, DROP_SLOWPATH_FULL);
		return;
	}
	CNT(w, TO_SLOWPATH);
}

int
sw_dp_vlan_tag(struct rte_mbuf **m, uint16_t vlan)
{
	/* rte_vlan_insert(), but byte-wise: the frame may start at an odd address */
	rte_be16_t tag[2] = {rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN), rte_cpu_to_be_16(vlan)};
	char *oh, *nh;

	if (vlan == 0)
		return 0;
	if (!RTE_MBUF_DIRECT(*m) || rte_mbuf_refcnt_read(*m) > 1 ||
	    rte_pktmbuf_data_len(*m) < 2 * RTE_ETHER_ADDR_LEN)
		return -EINVAL;
	oh = rte_pktmbuf_mtod(*m, char *);
	nh = rte_pktmbuf_prepend(*m, sizeof(struct rte_vlan_hdr));
	if (nh == NULL)
		return -ENOSPC;
	memmove(nh, oh, 2 * RTE_ETHER_ADDR_LEN);
	memcpy(nh + 2 * RTE_ETHER_ADDR_LEN, tag, sizeof(tag));
	(*m)->vlan_tci = vlan;
	(*m)->ol_flags &= ~(RTE_MBUF_F_RX_VLAN_STRIPPED | RTE_MBUF_F_TX_VLAN);
	(*m)->l2_len += sizeof(struct rte_vlan_hdr);
	return 0;
}

void
sw_dp_send(struct sw_worker *w, struct rte_mbuf *m, const struct sw_hop *hop)
{
	struct rte_ether_addr dmac;
	char *frame;

	if (unlikely(sw_dp_vlan_tag(&m, hop->vlan) != 0)) {
		CNT(w, DROP_REWRITE);
		rte_pktmbuf_free(m);
		return;
	}
	frame = rte_pktmbuf_mtod(m, char *);
	sw_eth_put_mac(frame, SW_ETH_SRC, &w->dp->mac[hop->port]);
	if (likely(sw_dp_neigh_get_cached(w, &hop->nh, &dmac))) {
		sw_eth_put_mac(frame, SW_ETH_DST, &dmac);
		sw_dp_tx(w, m, hop->port);
		return;
	}
	/* Unknown next hop: the slow path resolves it and sends the packet. */
	sw_priv(m)->port = (uint8_t)hop->port;
	sw_priv(m)->vlan = hop->vlan;
	sw_priv(m)->nh = hop->nh;
	sw_dp_to_slowpath(w, m, SW_SP_HOLD);
}

int
sw_dp_encap_udp(struct rte_mbuf *m, int32_t l4_payload_off, uint32_t plen,
		const struct sw_addr *src, uint16_t sport, const struct sw_addr *dst, uint16_t dport,
		uint64_t tx_offloads)
{
	bool v6 = dst->family == AF_INET6;
	int32_t hl = RTE_ETHER_HDR_LEN +
		     (v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr)) +
		     sizeof(struct rte_udp_hdr);
	struct rte_udp_hdr *udp;
	char *frame;

	if (l4_payload_off > hl) {
		rte_pktmbuf_adj(m, (uint16_t)(l4_payload_off - hl));
	} else if (l4_payload_off < hl) {
		if (rte_pktmbuf_prepend(m, (uint16_t)(hl - l4_payload_off)) == NULL)
			return -ENOSPC;
	}
	m->data_len = hl + plen;
	m->pkt_len = hl + plen;
	m->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IP_CKSUM |
			 RTE_MBUF_F_TX_L4_MASK);
	frame = rte_pktmbuf_mtod(m, char *);
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(frame + RTE_ETHER_HDR_LEN);

		sw_eth_put_type(frame, RTE_ETHER_TYPE_IPV6);
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*udp) + plen);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, src->bytes, 16);
		memcpy(ip->dst_addr, dst->bytes, 16);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = rte_cpu_to_be_16(sport);
		udp->dst_port = rte_cpu_to_be_16(dport);
		udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + plen);
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = sizeof(*ip);
		if (tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
			m->ol_flags |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
			udp->dgram_cksum = rte_ipv6_phdr_cksum(ip, m->ol_flags);
		} else {
			udp->dgram_cksum = 0;
			udp->dgram_cksum = sw_cksum_udp6(ip, udp);
		}
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);

		sw_eth_put_type(frame, RTE_ETHER_TYPE_IPV4);
		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + plen);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, src->bytes, 4);
		memcpy(&ip->dst_addr, dst->bytes, 4);
		udp = (struct rte_udp_hdr *)(ip + 1);
		udp->src_port = rte_cpu_to_be_16(sport);
		udp->dst_port = rte_cpu_to_be_16(dport);
		udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + plen);
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = sizeof(*ip);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4;
		if (tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
			m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
		else
			ip->hdr_checksum = sw_cksum_ip4hdr(ip);
		if (tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
			m->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
			udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		} else {
			udp->dgram_cksum = 0;
			udp->dgram_cksum = sw_cksum_udp4(ip, udp);
		}
	}
	return 0;
}

static void
drop(struct sw_worker *w, struct rte_mbuf *m, enum sw_counter c)
{
	w->cnt[c]++;
	rte_pktmbuf_free(m);
}

/*
 * UDP to our SIP port: fill the packet context for the SIP stage (true), or
 * drop the packet (false). So for ipv4_in, ipv6_in and pkt_in: true when p
 * holds a SIP datagram to parse, false when the packet was handled.
 */
static bool
udp_in(struct sw_worker *w, struct rte_mbuf *m, uint16_t pi, struct sw_pkt *p,
       const struct rte_udp_hdr *udp, uint32_t udp_off, uint32_t l4_len)
{
	uint32_t dlen;

	if (l4_len < sizeof(*udp)) {
		drop(w, m, SW_CNT_DROP_BAD_L4);
		return false;
	}
	dlen = rte_be_to_cpu_16(udp->dgram_len);
	if (dlen < sizeof(*udp) || dlen > l4_len) {
		drop(w, m, SW_CNT_DROP_BAD_L4);
		return false;
	}
	p->m = m;
	p->in_port = pi;
	p->sport = rte_be_to_cpu_16(udp->src_port);
	p->dport = rte_be_to_cpu_16(udp->dst_port);
	if (p->dport != w->dp->conf.sip_port) {
		drop(w, m, SW_CNT_DROP_NOT_SIP_PORT);
		return false;
	}
	p->off = udp_off + sizeof(*udp);
	p->len = dlen - sizeof(*udp);
	p->sip = rte_pktmbuf_mtod_offset(m, char *, p->off);
	/* Trim Ethernet padding and anything past the datagram. */
	m->data_len = p->off + p->len;
	m->pkt_len = m->data_len;
	return true;
}

static bool
ipv4_in(struct sw_worker *w, struct rte_mbuf *m, uint16_t pi, struct sw_pkt *p, uint32_t len)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
								 sizeof(struct rte_ether_hdr));
	uint32_t l3 = sizeof(struct rte_ether_hdr), ihl, tot;

	if (len < l3 + sizeof(*ip) || (ip->version_ihl >> 4) != 4) {
		drop(w, m, SW_CNT_DROP_BAD_L3);
		return false;
	}
	ihl = (ip->version_ihl & 0xf) * 4u;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || tot < ihl || tot > len - l3) {
		drop(w, m, SW_CNT_DROP_BAD_L3);
		return false;
	}
	/* Whole addresses (IPv4 zero-padded): they are compared 16 bytes at a time. */
	p->dst = (struct sw_addr){.family = AF_INET};
	memcpy(p->dst.bytes, &ip->dst_addr, 4);
	if (!sw_dp_local(w->dp, &p->dst)) {
		/* ARP-less broadcast and multicast land here too. */
		drop(w, m, SW_CNT_DROP_NOT_LOCAL);
		return false;
	}
	if ((ip->fragment_offset &
	     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		drop(w, m, SW_CNT_DROP_FRAGMENT);
		return false;
	}
	p->src = (struct sw_addr){.family = AF_INET};
	memcpy(p->src.bytes, &ip->src_addr, 4);
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		return udp_in(w, m, pi, p, (const struct rte_udp_hdr *)((const char *)ip + ihl),
			      l3 + ihl, tot - ihl);
	case IPPROTO_ICMP:
	case IPPROTO_TCP:
		/* Echo requests are answered there; SIP over TCP goes to the companion. */
		sw_dp_to_slowpath(w, m, SW_SP_RX);
		return false;
	default:
		drop(w, m, SW_CNT_DROP_IP_PROTO);
		return false;
	}
}

static bool
ipv6_in(struct sw_worker *w, struct rte_mbuf *m, uint16_t pi, struct sw_pkt *p, uint32_t len)
{
	const struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *,
								 sizeof(struct rte_ether_hdr));
	uint32_t l3 = sizeof(struct rte_ether_hdr), plen;

	if (len < l3 + sizeof(*ip) || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6) {
		drop(w, m, SW_CNT_DROP_BAD_L3);
		return false;
	}
	plen = rte_be_to_cpu_16(ip->payload_len);
	if (plen > len - l3 - sizeof(*ip)) {
		drop(w, m, SW_CNT_DROP_BAD_L3);
		return false;
	}
	if (ip->proto == IPPROTO_ICMPV6) {
		/* Neighbour discovery goes to multicast addresses: the slow path decides. */
		sw_dp_to_slowpath(w, m, SW_SP_RX);
		return false;
	}
	p->dst.family = AF_INET6;
	memcpy(p->dst.bytes, ip->dst_addr, 16);
	if (!sw_dp_local(w->dp, &p->dst)) {
		drop(w, m, SW_CNT_DROP_NOT_LOCAL);
		return false;
	}
	p->src.family = AF_INET6;
	memcpy(p->src.bytes, ip->src_addr, 16);
	switch (ip->proto) {
	case IPPROTO_UDP:
		return udp_in(w, m, pi, p, (const struct rte_udp_hdr *)(ip + 1), l3 + sizeof(*ip),
			      plen);
	case IPPROTO_FRAGMENT:
		drop(w, m, SW_CNT_DROP_FRAGMENT);
		return false;
	case IPPROTO_TCP:
		sw_dp_to_slowpath(w, m, SW_SP_RX);
		return false;
	default:
		drop(w, m, SW_CNT_DROP_IP_PROTO);
		return false;
	}
}

static bool
pkt_in(struct sw_worker *w, struct rte_mbuf *m, uint16_t pi, struct sw_pkt *p)
{
	const struct rte_ether_hdr *eth;
	uint32_t len;

	if (unlikely(m->nb_segs != 1) && rte_pktmbuf_linearize(m) != 0) {
		drop(w, m, SW_CNT_DROP_BAD_L3);
		return false;
	}
	len = rte_pktmbuf_data_len(m);
	if (len < sizeof(*eth)) {
		drop(w, m, SW_CNT_DROP_BAD_L3);
		return false;
	}
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* 802.1Q: work on the untagged frame, remember the VLAN for the answers. */
	p->vlan = 0;
	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		p->vlan = m->vlan_tci & 0xfff;
	} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
		if (rte_vlan_strip(m) != 0 || rte_pktmbuf_data_len(m) < sizeof(*eth)) {
			drop(w, m, SW_CNT_DROP_BAD_L3);
			return false;
		}
		p->vlan = m->vlan_tci & 0xfff;
		eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		len = rte_pktmbuf_data_len(m);
	}
	sw_priv(m)->vlan = p->vlan;
	rte_ether_addr_copy(&eth->src_addr, &p->src_mac);
	m->port = pi; /* from here on, the port index, not the DPDK id */
	switch (rte_be_to_cpu_16(eth->ether_type)) {
	case RTE_ETHER_TYPE_IPV4:
		return ipv4_in(w, m, pi, p, len);
	case RTE_ETHER_TYPE_IPV6:
		return ipv6_in(w, m, pi, p, len);
	case RTE_ETHER_TYPE_ARP:
		sw_dp_to_slowpath(w, m, SW_SP_RX);
		return false;
	default:
		drop(w, m, SW_CNT_DROP_NOT_IP);
		return false;
	}
}

/*
 * Prefetching. A received packet was last written by another core (the NIC's
 * DMA, the net_ring generator): every line of it is a miss, and a packet is
 * a dozen lines (mbuf, private area, ~600 bytes of INVITE). The mbuf lines
 * go first, PF_MBUF packets ahead; the frame PF_DATA packets ahead, once
 * its mbuf (buf_addr, data_off, data_len) has arrived. All of them for
 * writing: the worker rewrites the mbuf, the private area and the message
 * in place, and a line fetched shared would need a second trip to own it.
 */
#define PF_MBUF 4
#define PF_DATA 2

static inline void
prefetch_w(const void *p)
{
#if defined(__x86_64__)
	/* PREFETCHW (3DNowPrefetch on AMD, Intel since Broadwell; a NOP before). */
	asm volatile("prefetchw %0" : : "m"(*(const volatile char *)p));
#else
	rte_prefetch0_write(p);
#endif
}

static inline void
prefetch_mbuf(const struct rte_mbuf *m)
{
	prefetch_w(m);
	prefetch_w((const char *)m + RTE_CACHE_LINE_SIZE);
	prefetch_w(rte_mbuf_to_priv((struct rte_mbuf *)(uintptr_t)m));
}

/*
 * The frame, and PF_GROW bytes either side of it: a forwarded request grows
 * (our Via in front, Record-Route further down) into the headroom and the
 * tailroom, lines that the other core last held too.
 */
#define PF_GROW 128

static inline void
prefetch_data(const struct rte_mbuf *m)
{
	uintptr_t buf = (uintptr_t)m->buf_addr, data = buf + m->data_off;
	uintptr_t p = data - RTE_MIN((uintptr_t)m->data_off, (uintptr_t)PF_GROW);
	uintptr_t end = RTE_MIN(data + rte_pktmbuf_data_len(m) + PF_GROW, buf + m->buf_len);

	for (p &= ~(uintptr_t)(RTE_CACHE_LINE_SIZE - 1); p < end; p += RTE_CACHE_LINE_SIZE)
		prefetch_w((const void *)p);
}

/* Worker 0 sends what the slow path made (ARP answers, released packets). */
static void
drain_slowpath_tx(struct sw_worker *w)
{
	struct rte_mbuf *ms[SW_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->dp->sp_tx_ring, (void **)ms, SW_BURST, NULL);

	for (unsigned i = 0; i < n; i++)
		sw_dp_tx(w, ms[i], ms[i]->port);
}

/*
 * Between the stages: the dial plan's trie walks of the burst's new
 * requests, all at once (sw_ruleset_match_prepare), so that their cache
 * misses overlap. At 10k rules a walk goes through nodes no other number of
 * the burst shares: one after another their misses cost more than the rest
 * of the match. The route stage's matches take these walks.
 */
static inline void
rules_prepare(struct sw_worker *w, const enum sw_sip_verdict *v, unsigned k)
{
	const struct sw_ruleset *rs = rcu_dereference(*w->dp->conf.ruleset_slot);
	const struct sw_sip_msg *req[SW_BURST];

	w->prepared = NULL;
	if (rs == NULL)
		return;
	for (unsigned j = 0; j < k; j++) {
		const struct sw_sip_msg *m = &w->msgs[j];

		req[j] = v[j] == SW_SIP_OK && m->is_request && m->to.tag.len == 0 ? m : NULL;
	}
	sw_ruleset_match_prepare(rs, sw_ruleset_scratch(rs, w->idx), req, k);
	w->prepared = rs;
}

/*
 * A burst is worked a stage at a time: classify and parse every packet
 * (each into its own index, w->msgs[]), then route, rewrite and send each.
 * The parser's and the proxy's hot code together are about as large as the
 * L1 instruction cache; one packet after the other, each evicted the other
 * (callgrind: 147 L1i misses per forwarded INVITE), a stage at a time they
 * run 32 times while cached (11 misses). The indexes, 1.4 KB each, wait in
 * L1 and L2 meanwhile; on net_ring at 10k rules whole bursts came out ahead
 * of groups of 16 and of 8 (medians of paired runs: 1,459, 1,525 and 1,625
 * cycles per message).
 */
unsigned
sw_dp_worker_poll(struct sw_dp *dp, unsigned idx)
{
	struct sw_worker *w = &dp->workers[idx];
	struct rte_mbuf *pkts[SW_BURST];
	struct sw_pkt ps[SW_BURST];
	enum sw_sip_verdict v[SW_BURST];
	uint16_t k;
	uint64_t now = rte_rdtsc();
	unsigned total = 0;
	bool more = false; /* a full burst came in: more is probably waiting */

	if (unlikely(w->hz == 0)) {
		w->hz = rte_get_tsc_hz();
		w->drain_tsc = w->hz * SW_TX_DRAIN_US / 1000000;
		w->tsc0 = now;
		w->unix0 = (int64_t)time(NULL);
	}
	w->now_tsc = now;
	w->now_sec = w->unix0 + (int64_t)((now - w->tsc0) / w->hz);
	for (uint16_t pi = 0; pi < dp->conf.nb_ports; pi++) {
		uint16_t n = rte_eth_rx_burst(dp->conf.port_ids[pi], w->idx, pkts, SW_BURST);
		uint64_t t0;

		if (n == 0)
			continue;
		more |= n == SW_BURST;
		t0 = rte_rdtsc();
		w->cnt[SW_CNT_RX_PKTS] += n;
		for (uint16_t i = 0; i < n && i < PF_MBUF; i++)
			prefetch_mbuf(pkts[i]);
		for (uint16_t i = 0; i < n && i < PF_DATA; i++)
			prefetch_data(pkts[i]);
		/* the burst a stage at a time: classify and parse all ... */
		k = 0;
		for (uint16_t i = 0; i < n; i++) {
			if (i + PF_MBUF < n)
				prefetch_mbuf(pkts[i + PF_MBUF]);
			if (i + PF_DATA < n)
				prefetch_data(pkts[i + PF_DATA]);
			if (pkt_in(w, pkts[i], pi, &ps[k])) {
				v[k] = sw_sip_parse(&w->msgs[k], ps[k].sip, ps[k].len);
				k++;
			}
		}
		rules_prepare(w, v, k);
		/* ... then route, rewrite and send, in arrival order */
		for (uint16_t j = 0; j < k; j++) {
			w->msg = &w->msgs[j];
			sw_dp_sip(w, &ps[j], v[j]);
		}
		w->prepared = NULL;
		w->cnt[SW_CNT_BUSY_CYCLES] += rte_rdtsc() - t0;
		w->cnt[SW_CNT_BUSY_PKTS] += n;
		total += n;
	}
	if (w->idx == 0)
		drain_slowpath_tx(w);
	/* Send at once when the queues ran dry (a lone INVITE does not wait for
	 * the timer); under load, bursts fill the TX buffers and the 100 µs
	 * deadline bounds the wait of a partial one. */
	if ((total > 0 && !more) || now - w->last_drain > w->drain_tsc) {
		for (uint16_t pi = 0; pi < dp->conf.nb_ports; pi++)
			tx_flush(w, pi);
		w->last_drain = now;
	}
	return total;
}

void
sw_dp_worker_flush(struct sw_dp *dp, unsigned idx)
{
	for (uint16_t pi = 0; pi < dp->conf.nb_ports; pi++)
		tx_flush(&dp->workers[idx], pi);
}

int
sw_dp_worker_main(void *arg)
{
	struct sw_dp *dp = arg;
	unsigned lcore = rte_lcore_id(), idx = UINT32_MAX;

	for (unsigned i = 0; i < dp->conf.nb_workers; i++)
		if (dp->workers[i].lcore == lcore)
			idx = i;
	if (idx == UINT32_MAX) {
		DP_LOG(ERR, "lcore %u is not a worker\n", lcore);
		return -1;
	}
	DP_LOG(INFO, "worker %u on lcore %u: %u ports, queue %u\n", idx, lcore, dp->conf.nb_ports,
	       idx);
	urcu_qsbr_register_thread();
	while (!dp->stop) {
		sw_dp_worker_poll(dp, idx);
		urcu_qsbr_quiescent_state();
	}
	sw_dp_worker_flush(dp, idx);
	urcu_qsbr_unregister_thread();
	DP_LOG(INFO, "worker %u on lcore %u stopped\n", idx, lcore);
	return 0;
}
