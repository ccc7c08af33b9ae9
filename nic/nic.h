/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file nic.h
 * The nic door: DPDK ports (PCI NICs or vdevs) and mbuf pools.
 * Control thread only, before the workers start.
 */
#ifndef SW_NIC_H
#define SW_NIC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mempool;

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

#ifdef __cplusplus
}
#endif

#endif /* SW_NIC_H */
