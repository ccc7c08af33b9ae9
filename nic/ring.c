/* SPDX-License-Identifier: BSD-3-Clause */
/* In-process ports and frames for the eal suite and the benchmarks. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "nic/nic.h"

int
sw_nic_ring_port(const char *name, uint16_t nb_queues, unsigned rx_size, unsigned tx_size,
		 struct rte_mempool *pool, struct rte_ring **rx, struct rte_ring **tx,
		 uint16_t *port_id)
{
	struct rte_eth_conf ec;
	char n[RTE_RING_NAMESIZE];
	int id;

	for (uint16_t q = 0; q < nb_queues; q++) {
		snprintf(n, sizeof(n), "%s_rx%u", name, q);
		rx[q] = rte_ring_create(n, rx_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(n, sizeof(n), "%s_tx%u", name, q);
		tx[q] = rte_ring_create(n, tx_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rx[q] == NULL || tx[q] == NULL)
			return -ENOMEM;
	}
	id = rte_eth_from_rings(name, rx, nb_queues, tx, nb_queues, SOCKET_ID_ANY);
	if (id < 0)
		return -ENODEV;
	memset(&ec, 0, sizeof(ec));
	if (rte_eth_dev_configure(id, nb_queues, nb_queues, &ec) != 0)
		return -EINVAL;
	for (uint16_t q = 0; q < nb_queues; q++)
		if (rte_eth_rx_queue_setup(id, q, rx_size, SOCKET_ID_ANY, NULL, pool) != 0 ||
		    rte_eth_tx_queue_setup(id, q, tx_size, SOCKET_ID_ANY, NULL) != 0)
			return -EINVAL;
	if (rte_eth_dev_start(id) != 0)
		return -EIO;
	*port_id = (uint16_t)id;
	return 0;
}

size_t
sw_nic_udp_frame(void *buf, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		 int family, const void *saddr, uint16_t sport, const void *daddr, uint16_t dport,
		 const void *payload, size_t len)
{
	bool v6 = family == AF_INET6;
	size_t hl = sizeof(struct rte_ether_hdr) +
		    (v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr)) +
		    sizeof(struct rte_udp_hdr);
	struct rte_ether_hdr *eth = buf;
	struct rte_udp_hdr *udp;

	if (hl + len > cap || len > 65535 - 48)
		return 0;
	memset(buf, 0, hl);
	memcpy(&eth->dst_addr, dst_mac, 6);
	memcpy(&eth->src_addr, src_mac, 6);
	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		ip->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip->payload_len = rte_cpu_to_be_16(sizeof(*udp) + len);
		ip->proto = IPPROTO_UDP;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, saddr, 16);
		memcpy(ip->dst_addr, daddr, 16);
		udp = (struct rte_udp_hdr *)(ip + 1);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*udp) + len);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, saddr, 4);
		memcpy(&ip->dst_addr, daddr, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		udp = (struct rte_udp_hdr *)(ip + 1);
	}
	udp->src_port = rte_cpu_to_be_16(sport);
	udp->dst_port = rte_cpu_to_be_16(dport);
	udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + len);
	memcpy(udp + 1, payload, len);
	return hl + len;
}

size_t
sw_nic_arp_frame(void *buf, uint16_t op, const uint8_t sha[6], const uint8_t dst_mac[6],
		 const void *sip, const void *tip)
{
	struct rte_ether_hdr *eth = buf;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	if (op == RTE_ARP_OP_REQUEST)
		memset(&eth->dst_addr, 0xff, 6);
	else
		memcpy(&eth->dst_addr, dst_mac, 6);
	memcpy(&eth->src_addr, sha, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(op);
	memcpy(&arp->arp_data.arp_sha, sha, 6);
	memcpy(&arp->arp_data.arp_sip, sip, 4);
	if (op == RTE_ARP_OP_REQUEST)
		memset(&arp->arp_data.arp_tha, 0, 6);
	else
		memcpy(&arp->arp_data.arp_tha, dst_mac, 6);
	memcpy(&arp->arp_data.arp_tip, tip, 4);
	return sizeof(*eth) + sizeof(*arp);
}
