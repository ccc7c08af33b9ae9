/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file nic.h
 * The nic door: DPDK ports (PCI NICs or vdevs) and mbuf pools.
 * Control thread only, before the workers start.
 */
#ifndef SW_NIC_H
#define SW_NIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mempool;
struct rte_ring;

/**
 * Create the mbuf pool shared by all ports (2 KB data room, 128 B headroom).
 * @param n          mbufs
 * @param priv_size  private area per mbuf (the dataplane's SW_DP_MBUF_PRIV_SIZE)
 * @param socket     NUMA socket
 * @return the pool, or NULL with errno set.
 */
struct rte_mempool *sw_nic_pool_create(const char *name, unsigned n, uint16_t priv_size,
				       int socket);

/**
 * Open a port: probe spec if it is not an existing port name, configure
 * nb_queues RX and TX queues (RSS over the UDP 4-tuple when the port can),
 * start it and enable promiscuous-off/allmulti for ND.
 * @param spec      a vdev devargs ("net_tap0,iface=sw0"), a PCI address
 *                  ("0000:03:00.0") or an existing port name
 * @param nb_queues one per worker
 * @param pool      RX mbuf pool
 * @param port_id   out: the DPDK port id
 * @param err       out: a one-line reason on failure
 * @return 0, or -errno.
 */
int sw_nic_port_open(const char *spec, uint16_t nb_queues, struct rte_mempool *pool,
		     uint16_t *port_id, char *err, unsigned err_len);

/** The TX checksum offloads sw_nic_port_open enabled on a port (RTE_ETH_TX_OFFLOAD_*). */
uint64_t sw_nic_port_tx_offloads(uint16_t port_id);

/** Stop and close a port opened by sw_nic_port_open. */
void sw_nic_port_close(uint16_t port_id);

/* ---- in-process ports and frames, for tests and benchmarks ------------ */

/**
 * A port over rte_rings (net_ring): nb_queues RX rings of rx_size and TX
 * rings of tx_size, configured and started. Feed rx[q], read what the port
 * sent from tx[q]. 0, or -errno.
 */
int sw_nic_ring_port(const char *name, uint16_t nb_queues, unsigned rx_size, unsigned tx_size,
		     struct rte_mempool *pool, struct rte_ring **rx, struct rte_ring **tx,
		     uint16_t *port_id);

/**
 * Write an Ethernet + IPv4 or IPv6 (by family) + UDP frame carrying payload
 * into buf. Addresses are 4 or 16 bytes in network order; checksums are set
 * (IPv4 header; UDP left 0, which UDP over IPv4 allows).
 * @return the frame length, or 0 when it does not fit in cap.
 */
size_t sw_nic_udp_frame(void *buf, size_t cap, const uint8_t dst_mac[6], const uint8_t src_mac[6],
			int family, const void *saddr, uint16_t sport, const void *daddr,
			uint16_t dport, const void *payload, size_t len);

/**
 * Write an Ethernet + ARP frame (op 1 request, broadcast; op 2 reply, to
 * dst_mac) from sha/sip about tip (IPv4 addresses in network order).
 * @return the frame length (42).
 */
size_t sw_nic_arp_frame(void *buf, uint16_t op, const uint8_t sha[6], const uint8_t dst_mac[6],
			const void *sip, const void *tip);

#ifdef __cplusplus
}
#endif

#endif /* SW_NIC_H */
