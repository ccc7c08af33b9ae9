/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports: probe a vdev or PCI device, one RX and one TX queue per worker, RSS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "nic/nic.h"

#define NB_RXD 1024
#define NB_TXD 1024

static int
fail(char *err, unsigned err_len, int rc, const char *fmt, const char *spec, int code)
{
	char what[160];

	snprintf(what, sizeof(what), fmt, spec);
	snprintf(err, err_len, "%s: %s", what, rte_strerror(code < 0 ? -code : code));
	return rc;
}

uint64_t
sw_nic_port_tx_offloads(uint16_t port_id)
{
	struct rte_eth_dev_info info;

	if (rte_eth_dev_info_get(port_id, &info) != 0)
		return 0;
	return info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
}

int
sw_nic_port_open(const char *spec, uint16_t nb_queues, struct rte_mempool *pool,
		 uint16_t *port_id, char *err, unsigned err_len)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t pid, nb_rxd = NB_RXD, nb_txd = NB_TXD;
	size_t n = strcspn(spec, ",");
	int r, socket;

	if (n == 0 || n >= sizeof(name))
		return fail(err, err_len, -EINVAL, "bad port spec \"%s\"", spec, EINVAL);
	memcpy(name, spec, n);
	name[n] = '\0';
	if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
		r = rte_dev_probe(spec);
		if (r < 0) {
			snprintf(err, err_len,
				 "cannot open port \"%s\": no such device, no driver for it, or "
				 "bad devargs (probe: %s)",
				 spec, rte_strerror(-r));
			return r;
		}
		if (rte_eth_dev_get_port_by_name(name, &pid) != 0)
			return fail(err, err_len, -ENODEV, "port \"%s\" probed but not found", spec,
				    ENODEV);
	}
	r = rte_eth_dev_info_get(pid, &info);
	if (r != 0)
		return fail(err, err_len, r, "cannot query port \"%s\"", spec, r);
	if (nb_queues > info.max_rx_queues || nb_queues > info.max_tx_queues) {
		snprintf(err, err_len, "port \"%s\" has %u RX / %u TX queues, %u workers need one each",
			 spec, info.max_rx_queues, info.max_tx_queues, nb_queues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	/* Checksums in hardware where the port can (the dataplane asks per packet). */
	conf.txmode.offloads = sw_nic_port_tx_offloads(pid);
	/* RSS over the UDP 4-tuple spreads calls over the workers' queues. */
	if (nb_queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_UDP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	}
	r = rte_eth_dev_configure(pid, nb_queues, nb_queues, &conf);
	if (r != 0)
		return fail(err, err_len, r, "cannot configure port \"%s\"", spec, r);
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	socket = rte_eth_dev_socket_id(pid);
	if (socket < 0)
		socket = 0;
	for (uint16_t q = 0; q < nb_queues; q++) {
		r = rte_eth_rx_queue_setup(pid, q, nb_rxd, socket, NULL, pool);
		if (r != 0)
			return fail(err, err_len, r, "cannot set up RX queues of \"%s\"", spec, r);
		r = rte_eth_tx_queue_setup(pid, q, nb_txd, socket, NULL);
		if (r != 0)
			return fail(err, err_len, r, "cannot set up TX queues of \"%s\"", spec, r);
	}
	r = rte_eth_dev_start(pid);
	if (r != 0)
		return fail(err, err_len, r, "cannot start port \"%s\"", spec, r);
	/* Neighbour solicitations go to multicast groups. */
	rte_eth_allmulticast_enable(pid);
	*port_id = pid;
	return 0;
}

void
sw_nic_port_close(uint16_t port_id)
{
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
}
