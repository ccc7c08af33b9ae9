/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "nic/nic.h"

struct rte_mempool *
sw_nic_pool_create(const char *name, unsigned n, uint16_t priv_size, int socket)
{
	struct rte_mempool *mp;

	mp = rte_pktmbuf_pool_create(name, n, 256, RTE_ALIGN(priv_size, RTE_MBUF_PRIV_ALIGN),
				     RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (mp == NULL)
		errno = rte_errno;
	return mp;
}
