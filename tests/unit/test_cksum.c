/* SPDX-License-Identifier: BSD-3-Clause */
/* The fast checksum against DPDK's own, every length and alignment. */
#define ALLOW_EXPERIMENTAL_API /* rte_ipv4_udptcp_cksum_verify */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/cksum.h"

static void
raw_matches_dpdk(void **state)
{
	static uint8_t buf[2100];

	(void)state;
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t align = 0; align < 8; align++)
		for (size_t len = 0; len + align <= sizeof(buf); len += len < 80 ? 1 : 37)
			assert_int_equal(sw_cksum_raw(buf + align, len), rte_raw_cksum(buf + align, len));
	/* All ones: the sums that fold most. */
	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len <= sizeof(buf); len += 13)
		assert_int_equal(sw_cksum_raw(buf, len), rte_raw_cksum(buf, len));
}

static void
udp_matches_dpdk(void **state)
{
	static uint8_t frame[1600];

	(void)state;
	srand(11);
	for (unsigned round = 0; round < 400; round++) {
		size_t plen = (size_t)rand() % 1400;
		struct rte_ipv4_hdr *ip4 = (struct rte_ipv4_hdr *)frame;
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)frame;
		struct rte_udp_hdr *udp;

		for (size_t i = 0; i < sizeof(frame); i++)
			frame[i] = (uint8_t)rand();
		memset(ip4, 0, sizeof(*ip4));
		ip4->version_ihl = RTE_IPV4_VHL_DEF;
		ip4->next_proto_id = IPPROTO_UDP;
		ip4->total_length = rte_cpu_to_be_16(sizeof(*ip4) + sizeof(*udp) + plen);
		udp = (struct rte_udp_hdr *)(ip4 + 1);
		udp->dgram_len = rte_cpu_to_be_16(sizeof(*udp) + plen);
		udp->dgram_cksum = 0;
		ip4->src_addr = (rte_be32_t)rand() * 2654435761u;
		ip4->dst_addr = round % 7 == 0 ? 0xffffffff : (rte_be32_t)rand();
		assert_int_equal(sw_cksum_udp4(ip4, udp), rte_ipv4_udptcp_cksum(ip4, udp));
		ip4->hdr_checksum = 0;
		ip4->time_to_live = (uint8_t)rand();
		assert_int_equal(sw_cksum_ip4hdr(ip4), rte_ipv4_cksum(ip4));
		udp->dgram_cksum = sw_cksum_udp4(ip4, udp);
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip4, udp), 0);

		ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
		ip6->proto = IPPROTO_UDP;
		ip6->payload_len = rte_cpu_to_be_16(sizeof(*udp) + plen);
		udp = (struct rte_udp_hdr *)(ip6 + 1);
		udp->dgram_len = ip6->payload_len;
		udp->dgram_cksum = 0;
		assert_int_equal(sw_cksum_udp6(ip6, udp), rte_ipv6_udptcp_cksum(ip6, udp));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(raw_matches_dpdk),
		cmocka_unit_test(udp_matches_dpdk),
	};
	return cmocka_run_group_tests_name("cksum", tests, NULL, NULL);
}
