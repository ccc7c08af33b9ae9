/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane half of the slow path: ARP (RFC 826) and IPv6 neighbour
 * discovery (RFC 4861) for our addresses and our next hops, ICMP echo, and
 * the packets held while their next hop resolves. Runs on the control
 * room's slow-path thread, never on a worker; it is the only writer of the
 * neighbour table. What it sends goes through worker 0 (sp_tx_ring).
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "dp_pvt.h"

#define PENDING_MAX 256
#define SOLICIT_SLOTS 64
#define RESOLVE_TIMEOUT_S 3

#define ND_NS 135
#define ND_NA 136
#define ND_OPT_SRC_LL 1
#define ND_OPT_TGT_LL 2
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129

struct solicit {
	struct sw_addr addr;
	uint8_t port;
	uint64_t last_tsc;
};

struct sw_pending {
	unsigned n;
	struct rte_mbuf *m[PENDING_MAX];
	uint64_t deadline[PENDING_MAX];
	struct solicit sol[SOLICIT_SLOTS];
};

#define SPCNT(dp, c) ((dp)->sp_cnt[SW_CNT_##c]++)

static void
sp_send(struct sw_dp *dp, struct rte_mbuf *m, uint16_t pi, uint16_t vlan)
{
	if (sw_dp_vlan_tag(&m, vlan) != 0) {
		rte_pktmbuf_free(m);
		SPCNT(dp, DROP_SLOWPATH_OTHER);
		return;
	}
	m->port = pi;
	if (rte_ring_sp_enqueue(dp->sp_tx_ring, m) != 0) {
		rte_pktmbuf_free(m);
		SPCNT(dp, DROP_SLOWPATH_FULL);
	}
}

static void
sp_drop(struct sw_dp *dp, struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
	SPCNT(dp, DROP_SLOWPATH_OTHER);
}

static struct rte_mbuf *
sp_alloc(struct sw_dp *dp, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->conf.pool);

	if (m == NULL) {
		SPCNT(dp, DROP_NO_MBUF);
		return NULL;
	}
	if (rte_pktmbuf_append(m, len) == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

static void
arp_request(struct sw_dp *dp, uint16_t pi, uint16_t vlan, const struct sw_addr *nh)
{
	const struct sw_addr *me = sw_dp_local_addr(dp, pi, vlan, AF_INET);
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	if (me == NULL || (m = sp_alloc(dp, sizeof(*eth) + sizeof(*arp))) == NULL)
		return;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&dp->mac[pi], &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&dp->mac[pi], &arp->arp_data.arp_sha);
	memcpy(&arp->arp_data.arp_sip, me->bytes, 4);
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	memcpy(&arp->arp_data.arp_tip, nh->bytes, 4);
	sp_send(dp, m, pi, vlan);
	SPCNT(dp, SP_ARP_REQUESTS);
}

static void
icmp6_finish(struct rte_ipv6_hdr *ip, struct rte_icmp_hdr *icmp)
{
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = rte_ipv6_udptcp_cksum(ip, icmp);
}

/* Neighbour solicitation to the solicited-node group of nh (RFC 4861 §7.2.2). */
static void
nd_solicit(struct sw_dp *dp, uint16_t pi, uint16_t vlan, const struct sw_addr *nh)
{
	const struct sw_addr *me = sw_dp_local_addr(dp, pi, vlan, AF_INET6);
	uint32_t icmp_len = 4 + 4 + 16 + 8;
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *icmp;

	if (me == NULL ||
	    (m = sp_alloc(dp, sizeof(*eth) + sizeof(*ip) + icmp_len)) == NULL)
		return;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	icmp = (uint8_t *)(ip + 1);
	static const uint8_t snm[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
	memcpy(ip->dst_addr, snm, 13);
	memcpy(ip->dst_addr + 13, nh->bytes + 13, 3);
	eth->dst_addr.addr_bytes[0] = 0x33;
	eth->dst_addr.addr_bytes[1] = 0x33;
	memcpy(&eth->dst_addr.addr_bytes[2], ip->dst_addr + 12, 4);
	rte_ether_addr_copy(&dp->mac[pi], &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(icmp_len);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 255;
	memcpy(ip->src_addr, me->bytes, 16);
	memset(icmp, 0, icmp_len);
	icmp[0] = ND_NS;
	memcpy(icmp + 8, nh->bytes, 16);
	icmp[24] = ND_OPT_SRC_LL;
	icmp[25] = 1;
	memcpy(icmp + 26, &dp->mac[pi], 6);
	icmp6_finish(ip, (struct rte_icmp_hdr *)icmp);
	sp_send(dp, m, pi, vlan);
	SPCNT(dp, SP_ND_SOLICITS);
}

static void
solicit(struct sw_dp *dp, uint16_t pi, uint16_t vlan, const struct sw_addr *nh, bool force)
{
	struct sw_pending *pd = dp->pending;
	uint64_t now = rte_rdtsc(), hz = rte_get_tsc_hz();
	struct solicit *slot = NULL, *oldest = &pd->sol[0];

	for (unsigned i = 0; i < SOLICIT_SLOTS; i++) {
		struct solicit *s = &pd->sol[i];

		if (s->addr.family == nh->family && memcmp(s->addr.bytes, nh->bytes, 16) == 0) {
			slot = s;
			break;
		}
		if (s->last_tsc < oldest->last_tsc)
			oldest = s;
	}
	if (slot == NULL) {
		slot = oldest;
		slot->addr = *nh;
		slot->last_tsc = 0;
	} else if (!force && now - slot->last_tsc < hz) {
		return; /* at most one solicitation a second per address */
	}
	slot->last_tsc = now;
	slot->port = (uint8_t)pi;
	if (nh->family == AF_INET)
		arp_request(dp, pi, vlan, nh);
	else
		nd_solicit(dp, pi, vlan, nh);
}

static bool
release(struct sw_dp *dp, struct rte_mbuf *m)
{
	struct sw_mbuf_priv *pv = sw_priv(m);
	struct rte_ether_addr dmac;

	if (!sw_dp_neigh_get(dp, &pv->nh, &dmac))
		return false;
	sw_eth_put_mac(rte_pktmbuf_mtod(m, char *), SW_ETH_DST, &dmac);
	sp_send(dp, m, pv->port, 0); /* tagged already by the worker */
	return true;
}

static void
hold(struct sw_dp *dp, struct rte_mbuf *m)
{
	struct sw_pending *pd = dp->pending;
	struct sw_mbuf_priv *pv = sw_priv(m);

	if (release(dp, m))
		return;
	if (pd->n == PENDING_MAX) {
		rte_pktmbuf_free(m);
		SPCNT(dp, DROP_NEIGH_PENDING);
		return;
	}
	pd->deadline[pd->n] = rte_rdtsc() + rte_get_tsc_hz() * RESOLVE_TIMEOUT_S;
	pd->m[pd->n++] = m;
	solicit(dp, pv->port, pv->vlan, &pv->nh, false);
}

/* Send what resolved, drop what timed out, ask again for the rest. */
static void
pending_scan(struct sw_dp *dp)
{
	struct sw_pending *pd = dp->pending;
	uint64_t now = rte_rdtsc();
	unsigned k = 0;

	for (unsigned i = 0; i < pd->n; i++) {
		struct rte_mbuf *m = pd->m[i];

		if (release(dp, m))
			continue;
		if (now > pd->deadline[i]) {
			rte_pktmbuf_free(m);
			SPCNT(dp, DROP_NEIGH_FAILED);
			continue;
		}
		solicit(dp, sw_priv(m)->port, sw_priv(m)->vlan, &sw_priv(m)->nh, false);
		pd->m[k] = m;
		pd->deadline[k++] = pd->deadline[i];
	}
	pd->n = k;
}

static void
arp_in(struct sw_dp *dp, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	struct sw_addr sender = {.family = AF_INET}, target = {.family = AF_INET};
	uint16_t pi = m->port, on;

	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || arp->arp_hlen != 6 ||
	    arp->arp_plen != 4) {
		sp_drop(dp, m);
		return;
	}
	memcpy(sender.bytes, &arp->arp_data.arp_sip, 4);
	memcpy(target.bytes, &arp->arp_data.arp_tip, 4);
	if (!sw_dp_is_local(dp, &target, &on) || on != pi) {
		sp_drop(dp, m);
		return;
	}
	/* RFC 826: merge the sender into the table when the packet is for us. */
	sw_dp_neigh_set(dp, &sender, &arp->arp_data.arp_sha);
	if (arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST)) {
		rte_pktmbuf_free(m);
		return;
	}
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	rte_ether_addr_copy(&dp->mac[pi], &arp->arp_data.arp_sha);
	memcpy(&arp->arp_data.arp_sip, target.bytes, 4);
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&dp->mac[pi], &eth->src_addr);
	sp_send(dp, m, pi, sw_priv(m)->vlan);
	SPCNT(dp, SP_ARP_REPLIES);
}

static void
icmp4_in(struct sw_dp *dp, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint32_t ihl = (ip->version_ihl & 0xf) * 4u, tot = rte_be_to_cpu_16(ip->total_length);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((char *)ip + ihl);
	uint32_t a;

	if (tot < ihl + sizeof(*icmp) || icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST) {
		sp_drop(dp, m);
		return;
	}
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = ~rte_raw_cksum(icmp, tot - ihl);
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&dp->mac[m->port], &eth->src_addr);
	sp_send(dp, m, m->port, sw_priv(m)->vlan);
	SPCNT(dp, SP_ICMP_ECHO);
}

/* Learn from a link-layer address option, if any (RFC 4861 §4.6.1). */
static void
nd_learn(struct sw_dp *dp, const struct sw_addr *who, const uint8_t *opt, uint32_t len,
	 uint8_t type)
{
	while (len >= 8 && opt[1] != 0 && opt[1] * 8u <= len) {
		if (opt[0] == type && opt[1] == 1) {
			sw_dp_neigh_set(dp, who, (const struct rte_ether_addr *)(opt + 2));
			return;
		}
		len -= opt[1] * 8u;
		opt += opt[1] * 8u;
	}
}

static void
icmp6_in(struct sw_dp *dp, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	uint32_t plen = rte_be_to_cpu_16(ip->payload_len);
	uint8_t *icmp = (uint8_t *)(ip + 1);
	struct sw_addr src = {.family = AF_INET6}, tgt = {.family = AF_INET6};
	uint16_t pi = m->port, on;

	if (plen < 8 || rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*ip) + plen) {
		sp_drop(dp, m);
		return;
	}
	memcpy(src.bytes, ip->src_addr, 16);
	switch (icmp[0]) {
	case ND_NS:
		if (plen < 24 || ip->hop_limits != 255)
			break;
		memcpy(tgt.bytes, icmp + 8, 16);
		if (!sw_dp_is_local(dp, &tgt, &on) || on != pi)
			break;
		nd_learn(dp, &src, icmp + 24, plen - 24, ND_OPT_SRC_LL);
		/* Advertisement: solicited + override, target link-layer option. */
		memset(icmp, 0, 32);
		icmp[0] = ND_NA;
		icmp[4] = 0x60;
		memcpy(icmp + 8, tgt.bytes, 16);
		icmp[24] = ND_OPT_TGT_LL;
		icmp[25] = 1;
		memcpy(icmp + 26, &dp->mac[pi], 6);
		ip->payload_len = rte_cpu_to_be_16(32);
		m->data_len = m->pkt_len = sizeof(*eth) + sizeof(*ip) + 32;
		memcpy(ip->dst_addr, src.bytes, 16);
		memcpy(ip->src_addr, tgt.bytes, 16);
		ip->hop_limits = 255;
		icmp6_finish(ip, (struct rte_icmp_hdr *)icmp);
		rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
		rte_ether_addr_copy(&dp->mac[pi], &eth->src_addr);
		sp_send(dp, m, pi, sw_priv(m)->vlan);
		SPCNT(dp, SP_ND_ADVERTS);
		return;
	case ND_NA:
		if (plen < 24)
			break;
		memcpy(tgt.bytes, icmp + 8, 16);
		nd_learn(dp, &tgt, icmp + 24, plen - 24, ND_OPT_TGT_LL);
		rte_pktmbuf_free(m);
		return;
	case ICMP6_ECHO_REQUEST:
		memcpy(tgt.bytes, ip->dst_addr, 16);
		if (!sw_dp_is_local(dp, &tgt, NULL))
			break;
		icmp[0] = ICMP6_ECHO_REPLY;
		memcpy(ip->dst_addr, src.bytes, 16);
		memcpy(ip->src_addr, tgt.bytes, 16);
		ip->hop_limits = 64;
		m->data_len = m->pkt_len = sizeof(*eth) + sizeof(*ip) + plen;
		icmp6_finish(ip, (struct rte_icmp_hdr *)icmp);
		rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
		rte_ether_addr_copy(&dp->mac[pi], &eth->src_addr);
		sp_send(dp, m, pi, sw_priv(m)->vlan);
		SPCNT(dp, SP_ICMP_ECHO);
		return;
	default:
		break;
	}
	sp_drop(dp, m);
}

static void
rx(struct sw_dp *dp, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	switch (rte_be_to_cpu_16(eth->ether_type)) {
	case RTE_ETHER_TYPE_ARP:
		arp_in(dp, m);
		return;
	case RTE_ETHER_TYPE_IPV4: {
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

		if (ip->next_proto_id == IPPROTO_ICMP) {
			icmp4_in(dp, m);
			return;
		}
		break;
	}
	case RTE_ETHER_TYPE_IPV6: {
		const struct rte_ipv6_hdr *ip = (const struct rte_ipv6_hdr *)(eth + 1);

		if (ip->proto == IPPROTO_ICMPV6) {
			icmp6_in(dp, m);
			return;
		}
		break;
	}
	}
	/* SIP over TCP and the rest: no companion stack yet. */
	sp_drop(dp, m);
}

unsigned
sw_dp_slowpath_poll(struct sw_dp *dp)
{
	struct rte_mbuf *ms[SW_BURST];
	unsigned n;

	if (dp->pending == NULL) {
		dp->pending = rte_zmalloc("sw_pending", sizeof(*dp->pending), 0);
		if (dp->pending == NULL)
			return 0;
	}
	n = rte_ring_sc_dequeue_burst(dp->sp_ring, (void **)ms, SW_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (sw_priv(ms[i])->kind == SW_SP_HOLD)
			hold(dp, ms[i]);
		else
			rx(dp, ms[i]);
	}
	if (dp->pending->n > 0)
		pending_scan(dp);
	return n;
}

void
sw_dp_slowpath_free(struct sw_dp *dp)
{
	if (dp->pending == NULL)
		return;
	for (unsigned i = 0; i < dp->pending->n; i++)
		rte_pktmbuf_free(dp->pending->m[i]);
	rte_free(dp->pending);
	dp->pending = NULL;
}
