/* SPDX-License-Identifier: BSD-3-Clause */
/* Dataplane object: addresses, routes, the neighbour table, rings. */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "dp_pvt.h"

RTE_LOG_REGISTER(sw_logtype_dp, user.sipwarp.dp, INFO);

#define NEIGH_ENTRIES 4096
#define SP_RING_SIZE 4096
#define NEIGH_VALID (1ull << 63)

static unsigned dp_seq;

struct sw_dp *
sw_dp_create(const struct sw_dp_conf *conf, const char **err)
{
	struct sw_dp *dp;
	char name[RTE_HASH_NAMESIZE];
	unsigned id = __atomic_fetch_add(&dp_seq, 1, __ATOMIC_RELAXED);

	if (conf->nb_workers == 0 || conf->nb_workers > SW_DP_MAX_WORKERS) {
		*err = "worker count out of range";
		return NULL;
	}
	if (conf->nb_ports == 0 || conf->nb_ports > SW_DP_MAX_PORTS) {
		*err = "port count out of range";
		return NULL;
	}
	dp = rte_zmalloc("sw_dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		*err = "out of memory (dataplane)";
		return NULL;
	}
	dp->conf = *conf;
	dp->workers = rte_zmalloc("sw_workers", sizeof(struct sw_worker) * conf->nb_workers,
				  RTE_CACHE_LINE_SIZE);
	if (dp->workers == NULL) {
		*err = "out of memory (workers)";
		goto fail;
	}
	for (unsigned i = 0; i < conf->nb_workers; i++) {
		dp->workers[i].dp = dp;
		dp->workers[i].idx = i;
		dp->workers[i].msg = &dp->workers[i].msgs[0];
		dp->workers[i].lcore = conf->worker_lcores[i];
	}
	for (unsigned i = 0; i < conf->nb_locals; i++) {
		char t[INET6_ADDRSTRLEN];
		const struct sw_addr *a = &conf->locals[i].addr;

		inet_ntop(a->family, a->bytes, t, sizeof(t));
		dp->local_text_len[i] = (uint8_t)snprintf(
			dp->local_text[i], sizeof(dp->local_text[i]),
			a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", t, conf->sip_port);
		if (a->family == AF_INET)
			memcpy(&dp->local4[dp->nb_local4++], a->bytes, 4);
		dp->via_text_len[i] = (uint8_t)snprintf(dp->via_text[i], sizeof(dp->via_text[i]),
							"Via: SIP/2.0/UDP %s;branch=" SW_BRANCH_PREFIX,
							dp->local_text[i]);
	}
	for (unsigned p = 0; p < conf->nb_ports; p++) {
		rte_eth_macaddr_get(conf->port_ids[p], &dp->mac[p]);
		if (rte_eth_dev_get_mtu(conf->port_ids[p], &dp->mtu[p]) != 0)
			dp->mtu[p] = RTE_ETHER_MTU;
		dp->tx_offloads[p] = conf->tx_offloads[p];
	}

	snprintf(name, sizeof(name), "sw_sp%u", id);
	dp->sp_ring = rte_ring_create(name, SP_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "sw_sptx%u", id);
	dp->sp_tx_ring = rte_ring_create(name, SP_RING_SIZE, SOCKET_ID_ANY,
					 RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (dp->sp_ring == NULL || dp->sp_tx_ring == NULL) {
		*err = "cannot create slow-path rings";
		goto fail;
	}
	snprintf(name, sizeof(name), "sw_neigh%u", id);
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = NEIGH_ENTRIES,
		.key_len = sizeof(struct sw_neigh_key),
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
		/* One writer (the slow path), lock-free readers (workers); entries
		 * are only ever added or refreshed, never deleted, so no RCU is
		 * needed for the table's own memory. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	dp->neigh = rte_hash_create(&hp);
	if (dp->neigh == NULL) {
		*err = "cannot create the neighbour table";
		goto fail;
	}
	return dp;
fail:
	sw_dp_free(dp);
	return NULL;
}

void
sw_dp_free(struct sw_dp *dp)
{
	struct rte_mbuf *m;

	if (dp == NULL)
		return;
	sw_dp_slowpath_free(dp);
	if (dp->sp_ring != NULL)
		while (rte_ring_dequeue(dp->sp_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	if (dp->sp_tx_ring != NULL)
		while (rte_ring_dequeue(dp->sp_tx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	rte_ring_free(dp->sp_ring);
	rte_ring_free(dp->sp_tx_ring);
	rte_hash_free(dp->neigh);
	rte_free(dp->workers);
	rte_free(dp);
}

void
sw_dp_stop(struct sw_dp *dp)
{
	dp->stop = 1;
}

bool
sw_dp_stopping(const struct sw_dp *dp)
{
	return dp->stop != 0;
}

static unsigned
addr_len(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

static bool
prefix_has(const struct sw_addr *net, uint8_t plen, const struct sw_addr *a)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (net->family != a->family || plen > addr_len(a->family) * 8)
		return false;
	if (memcmp(net->bytes, a->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net->bytes[full] & mask) == (a->bytes[full] & mask);
}

int
sw_dp_local_index(const struct sw_dp *dp, const struct sw_addr *a)
{
	for (unsigned i = 0; i < dp->conf.nb_locals; i++)
		if (sw_addr_eq(&dp->conf.locals[i].addr, a))
			return (int)i;
	return -1;
}

bool
sw_dp_is_local(const struct sw_dp *dp, const struct sw_addr *a, uint16_t *port)
{
	for (unsigned i = 0; i < dp->conf.nb_locals; i++)
		if (sw_addr_eq(&dp->conf.locals[i].addr, a)) {
			if (port != NULL)
				*port = dp->conf.locals[i].port;
			return true;
		}
	return false;
}

const struct sw_addr *
sw_dp_local_addr(const struct sw_dp *dp, uint16_t port, uint16_t vlan, uint8_t family)
{
	for (unsigned i = 0; i < dp->conf.nb_locals; i++)
		if (dp->conf.locals[i].port == port && dp->conf.locals[i].vlan == vlan &&
		    dp->conf.locals[i].addr.family == family)
			return &dp->conf.locals[i].addr;
	return NULL;
}

static void
hop_via(struct sw_hop *hop, const struct sw_dp_local *l, const struct sw_addr *nh)
{
	hop->port = l->port;
	hop->vlan = l->vlan;
	hop->nh = *nh;
	hop->src = &l->addr;
}

int
sw_dp_route(const struct sw_dp *dp, const struct sw_addr *dst, struct sw_hop *hop)
{
	const struct sw_dp_route *best = NULL;

	/* Connected networks first: the next hop is the destination itself. */
	for (unsigned i = 0; i < dp->conf.nb_locals; i++) {
		const struct sw_dp_local *l = &dp->conf.locals[i];

		if (prefix_has(&l->addr, l->plen, dst)) {
			hop_via(hop, l, dst);
			return 0;
		}
	}
	/* Then the longest static route whose gateway is on a connected network. */
	for (unsigned i = 0; i < dp->conf.nb_routes; i++) {
		const struct sw_dp_route *r = &dp->conf.routes[i];

		if (prefix_has(&r->prefix, r->plen, dst) && (best == NULL || r->plen > best->plen))
			best = r;
	}
	if (best == NULL)
		return -ENETUNREACH;
	for (unsigned i = 0; i < dp->conf.nb_locals; i++) {
		const struct sw_dp_local *l = &dp->conf.locals[i];

		if (prefix_has(&l->addr, l->plen, &best->via)) {
			hop_via(hop, l, &best->via);
			return 0;
		}
	}
	return -ENETUNREACH;
}

int
sw_dp_route_cached(struct sw_worker *w, const struct sw_addr *dst, struct sw_hop *hop)
{
	int r;

	if (w->route_ok && sw_addr_eq(&w->route_dst, dst)) {
		*hop = w->route_hop;
		return 0;
	}
	r = sw_dp_route(w->dp, dst, hop);
	if (r == 0) {
		w->route_dst = *dst;
		w->route_hop = *hop;
		w->route_ok = true;
	}
	return r;
}

static void
neigh_key(struct sw_neigh_key *k, const struct sw_addr *a)
{
	if (a->family == AF_INET6) {
		memcpy(k->addr, a->bytes, 16);
		return;
	}
	memset(k->addr, 0, 10);
	k->addr[10] = 0xff;
	k->addr[11] = 0xff;
	memcpy(k->addr + 12, a->bytes, 4);
}

bool
sw_dp_neigh_get(const struct sw_dp *dp, const struct sw_addr *nh, struct rte_ether_addr *mac)
{
	struct sw_neigh_key k;
	void *data;
	uint64_t v;

	neigh_key(&k, nh);
	if (rte_hash_lookup_data(dp->neigh, &k, &data) < 0)
		return false;
	/* The MAC is packed into the data word itself: nothing to free, ever. */
	v = (uint64_t)(uintptr_t)data;
	if (!(v & NEIGH_VALID))
		return false;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac->addr_bytes[i] = (uint8_t)(v >> (8 * i));
	return true;
}

bool
sw_dp_neigh_get_cached(struct sw_worker *w, const struct sw_addr *nh, struct rte_ether_addr *mac)
{
	/* Read before the lookup: a write after it bumps the generation. */
	uint32_t gen = __atomic_load_n(&w->dp->neigh_gen, __ATOMIC_ACQUIRE);

	if (w->neigh_ok && w->neigh_gen == gen && sw_addr_eq(&w->neigh_nh, nh)) {
		*mac = w->neigh_mac;
		return true;
	}
	if (!sw_dp_neigh_get(w->dp, nh, mac))
		return false;
	w->neigh_nh = *nh;
	w->neigh_mac = *mac;
	w->neigh_gen = gen;
	w->neigh_ok = true;
	return true;
}

void
sw_dp_neigh_set(struct sw_dp *dp, const struct sw_addr *a, const struct rte_ether_addr *mac)
{
	struct sw_neigh_key k;
	uint64_t v = NEIGH_VALID;

	neigh_key(&k, a);
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v |= (uint64_t)mac->addr_bytes[i] << (8 * i);
	if (rte_hash_add_key_data(dp->neigh, &k, (void *)(uintptr_t)v) == 0)
		dp->sp_cnt[SW_CNT_SP_NEIGH_LEARNED]++;
	/* After the table write: a worker that sees the new generation sees the entry. */
	__atomic_fetch_add(&dp->neigh_gen, 1, __ATOMIC_RELEASE);
}
