/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop end to end over net_ring ports (no TAP, no hugepages):
 * frames go into a port's RX ring, one worker iteration runs, and what it
 * sent is read back from the TX rings. Port 0 faces the callers
 * (198.18.1.0/24, 2001:db8:1::/64), port 1 the callee (198.18.2.0/24,
 * 2001:db8:2::/64).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "control/control.h"
#include "eal_util.h"
#include "dataplane/dataplane.h"
#include "nic/nic.h"
#include "rules/ruleset.h"

#define NPORTS 2

static struct rte_ring *rxr[NPORTS], *txr[NPORTS];
static struct rte_mempool *pool;
static char prefix[64];
static struct sw_dp *dp;
static struct sw_ruleset *rs;
static struct sw_ars_state *ars;
static struct rte_ether_addr peer_mac[NPORTS] = {
	{{0x02, 0, 0, 0, 0x01, 0x02}},
	{{0x02, 0, 0, 0, 0x02, 0x02}},
};
static struct rte_ether_addr port_mac[NPORTS];
static uint16_t port_id[NPORTS];

static struct sw_addr
ip(const char *s)
{
	struct sw_addr a;

	assert_int_equal(sw_addr_parse(s, strlen(s), &a), 0);
	return a;
}

/* An Ethernet frame with a UDP datagram from src:sport to dst:dport. */
static struct rte_mbuf *
udp_frame(uint16_t pi, const char *src, uint16_t sport, const char *dst, uint16_t dport,
	  const char *payload)
{
	struct sw_addr s = ip(src), d = ip(dst);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	static char frame[4096];
	size_t n = sw_nic_udp_frame(frame, sizeof(frame), port_mac[pi].addr_bytes,
				    peer_mac[pi].addr_bytes, s.family, s.bytes, sport, d.bytes, dport,
				    payload, strlen(payload));

	assert_non_null(m);
	assert_true(n > 0);
	memcpy(rte_pktmbuf_append(m, n), frame, n);
	return m;
}

static struct rte_mbuf *
arp_frame(uint16_t pi, uint16_t op, const char *sender, const char *target)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct sw_addr s = ip(sender), t = ip(target);
	static char frame[64];
	size_t n = sw_nic_arp_frame(frame, op, peer_mac[pi].addr_bytes, port_mac[pi].addr_bytes,
				    s.bytes, t.bytes);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, n), frame, n);
	return m;
}

/* Run the worker and the slow path until nothing moves. */
static void
run(void)
{
	for (int i = 0; i < 4; i++) {
		sw_dp_worker_poll(dp, 0);
		sw_dp_slowpath_poll(dp);
		sw_dp_worker_poll(dp, 0);
		sw_dp_worker_flush(dp, 0);
	}
}

static void
inject(uint16_t pi, struct rte_mbuf *m)
{
	assert_int_equal(rte_ring_enqueue(rxr[pi], m), 0);
	run();
}

/* The one frame the port sent, or NULL. */
static struct rte_mbuf *
sent(uint16_t pi)
{
	struct rte_mbuf *m = NULL;

	if (rte_ring_dequeue(txr[pi], (void **)&m) != 0)
		return NULL;
	return m;
}

static void
drain_all(void)
{
	struct rte_mbuf *m;

	for (int p = 0; p < NPORTS; p++)
		while ((m = sent(p)) != NULL)
			rte_pktmbuf_free(m);
}

/* What a sent UDP frame carries: addresses, ports, the SIP text (NUL-ended copy). */
struct udp_out {
	struct sw_addr src, dst;
	uint16_t sport, dport;
	char sip[4096];
};

/*
 * The EtherType of a sent frame, read as bytes: a frame rewritten in place
 * may start at an odd address, where struct rte_ether_hdr may not be used.
 */
static uint16_t
frame_type(const struct rte_mbuf *m)
{
	rte_be16_t t;

	memcpy(&t, rte_pktmbuf_mtod_offset(m, const char *, 2 * RTE_ETHER_ADDR_LEN), sizeof(t));
	return rte_be_to_cpu_16(t);
}

static void
open_udp(struct rte_mbuf *m, struct udp_out *o)
{
	char *l3 = rte_pktmbuf_mtod_offset(m, char *, RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *u;
	size_t plen;

	memset(o, 0, sizeof(*o));
	if (frame_type(m) == RTE_ETHER_TYPE_IPV4) {
		struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)l3;

		assert_int_equal(rte_ipv4_cksum(h), 0); /* a header with a right sum sums to 0 */
		u = (struct rte_udp_hdr *)(h + 1);
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(h, u), 0);
		o->src.family = o->dst.family = AF_INET;
		memcpy(o->src.bytes, &h->src_addr, 4);
		memcpy(o->dst.bytes, &h->dst_addr, 4);
	} else {
		struct rte_ipv6_hdr *h = (struct rte_ipv6_hdr *)l3;

		assert_int_equal(frame_type(m), RTE_ETHER_TYPE_IPV6);
		u = (struct rte_udp_hdr *)(h + 1);
		assert_int_equal(rte_ipv6_udptcp_cksum_verify(h, u), 0);
		o->src.family = o->dst.family = AF_INET6;
		memcpy(o->src.bytes, h->src_addr, 16);
		memcpy(o->dst.bytes, h->dst_addr, 16);
	}
	o->sport = rte_be_to_cpu_16(u->src_port);
	o->dport = rte_be_to_cpu_16(u->dst_port);
	plen = rte_be_to_cpu_16(u->dgram_len) - 8;
	assert_true(plen < sizeof(o->sip));
	memcpy(o->sip, u + 1, plen);
	assert_int_equal((char *)(u + 1) + plen - rte_pktmbuf_mtod(m, char *),
			 rte_pktmbuf_pkt_len(m));
	if (getenv("SW_TEST_DUMP") != NULL)
		fprintf(stderr, "---- sent ----\n%.*s----\n", (int)plen, o->sip);
	/* What we send must parse cleanly again (but the answer to a request
	 * that lacked a mandatory header lacks it too). */
	static struct sw_sip_msg msg;
	if (strncmp(o->sip, "SIP/2.0 400 ", 12) != 0)
		assert_int_equal(sw_sip_parse(&msg, o->sip, plen), SW_SIP_OK);
}

/* The one UDP frame port pi sent, opened into o and freed. */
static void
expect_udp(uint16_t pi, struct udp_out *o)
{
	struct rte_mbuf *m = sent(pi);

	assert_non_null(m);
	open_udp(m, o);
	rte_pktmbuf_free(m);
}

static bool
addr_is(const struct sw_addr *a, const char *s)
{
	struct sw_addr b = ip(s);

	return a->family == b.family && memcmp(a->bytes, b.bytes, a->family == AF_INET ? 4 : 16) == 0;
}

static uint64_t
counter(enum sw_counter c)
{
	uint64_t v[SW_CNT__COUNT];

	sw_dp_counters(dp, v);
	return v[c];
}

static const char invite_fmt[] =
	"INVITE sip:%s@198.18.1.1 SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-%s;rport\r\n"
	"Max-Forwards: %d\r\n"
	"From: <sip:alice@198.18.1.2>;tag=a1\r\n"
	"To: <sip:%s@198.18.1.1>\r\n"
	"Call-ID: call-%s@198.18.1.2\r\n"
	"CSeq: 1 INVITE\r\n"
	"Contact: <sip:alice@198.18.1.2:5061>\r\n"
	"User-Agent: %s\r\n"
	"X-Internal: secret\r\n"
	"Content-Length: 0\r\n\r\n";

static struct rte_mbuf *
invite(const char *user, const char *id, int mf, const char *ua)
{
	char text[1024];

	snprintf(text, sizeof(text), invite_fmt, user, id, mf, user, id, ua);
	return udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060, text);
}

static void
arp_answered_and_learned(void **state)
{
	struct rte_mbuf *m;
	struct rte_arp_hdr *arp;

	(void)state;
	inject(0, arp_frame(0, RTE_ARP_OP_REQUEST, "198.18.1.2", "198.18.1.1"));
	m = sent(0);
	assert_non_null(m);
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	assert_int_equal(arp->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REPLY));
	assert_memory_equal(&arp->arp_data.arp_sha, &port_mac[0], 6);
	assert_memory_equal(&arp->arp_data.arp_tha, &peer_mac[0], 6);
	rte_pktmbuf_free(m);
	/* Not ours: no answer. */
	inject(0, arp_frame(0, RTE_ARP_OP_REQUEST, "198.18.1.2", "198.18.1.9"));
	assert_null(sent(0));
	inject(1, arp_frame(1, RTE_ARP_OP_REQUEST, "198.18.2.2", "198.18.2.1"));
	m = sent(1);
	assert_non_null(m);
	rte_pktmbuf_free(m);
	assert_int_equal(counter(SW_CNT_SP_ARP_REPLIES), 2);
}

static void
invite_forwarded_and_rewritten(void **state)
{
	struct udp_out o;

	(void)state;
	inject(0, invite("1000", "inv1", 70, "test"));
	assert_null(sent(0));
	expect_udp(1, &o);
	assert_true(addr_is(&o.src, "198.18.2.1"));
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	assert_int_equal(o.dport, 5060);
	assert_int_equal(o.sport, 5060);
	assert_non_null(strstr(o.sip, "INVITE sip:1000@198.18.2.2:5060 SIP/2.0\r\n"));
	assert_true(strncmp(strstr(o.sip, "\r\n") + 2,
			    "Via: SIP/2.0/UDP 198.18.2.1:5060;branch=z9hG4bK-sw00-", 52) == 0);
	assert_non_null(strstr(o.sip, "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-inv1;rport=5061"));
	assert_non_null(strstr(o.sip, "Max-Forwards: 69\r\n"));
	assert_non_null(strstr(o.sip, "To: sip:1000@198.18.2.2:5060\r\n"));
	assert_non_null(strstr(o.sip, "X-Rule: ext\r\n"));
	assert_null(strstr(o.sip, "X-Internal"));
	assert_non_null(strstr(o.sip, "Record-Route: <sip:198.18.2.1:5060;lr;r2=on>\r\n"
				      "Record-Route: <sip:198.18.1.1:5060;lr;r2=on>\r\n"));
	assert_non_null(strstr(o.sip, "Content-Length: 0\r\n\r\n"));
	/* A bare rport anywhere, in any case, blanks around it: the port goes
	 * right after its name (RFC 3581 §4), received= at the entry's end. */
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060,
			    "INVITE sip:1000@198.18.1.1 SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP h.example;RPort ;branch=z9hG4bK-rp;x=1\r\n"
			    "Max-Forwards: 70\r\nFrom: <sip:a@198.18.1.2>;tag=1\r\n"
			    "To: <sip:1000@198.18.1.1>\r\nCall-ID: rp@198.18.1.2\r\n"
			    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"));
	expect_udp(1, &o);
	assert_non_null(strstr(o.sip,
			       "Via: SIP/2.0/UDP h.example;RPort=5061 ;branch=z9hG4bK-rp;x=1;"
			       "received=198.18.1.2\r\n"));
}

static void
response_back_along_via(void **state)
{
	struct udp_out o;
	char text[1024];

	(void)state;
	/* Get our branch from a forwarded INVITE, answer 200 with it. */
	inject(0, invite("1001", "inv2", 70, "test"));
	expect_udp(1, &o);
	char *b = strstr(o.sip, "branch=z9hG4bK-sw");
	assert_non_null(b);
	char branch[64];
	sscanf(b + 7, "%63[^;\r]", branch);
	snprintf(text, sizeof(text),
		 "SIP/2.0 200 OK\r\n"
		 "Via: SIP/2.0/UDP 198.18.2.1:5060;branch=%s\r\n"
		 "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-inv2;rport=5061;received=198.18.1.2\r\n"
		 "From: <sip:alice@198.18.1.2>;tag=a1\r\n"
		 "To: <sip:1001@198.18.2.2>;tag=b1\r\n"
		 "Call-ID: call-inv2@198.18.1.2\r\n"
		 "CSeq: 1 INVITE\r\n"
		 "Contact: <sip:1001@198.18.2.2:5060>\r\n"
		 "Content-Length: 0\r\n\r\n",
		 branch);
	inject(1, udp_frame(1, "198.18.2.2", 5060, "198.18.2.1", 5060, text));
	expect_udp(0, &o);
	assert_true(addr_is(&o.dst, "198.18.1.2"));
	assert_int_equal(o.dport, 5061);
	assert_true(strncmp(o.sip, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.1.2:5061;", 48) == 0);
	assert_null(strstr(o.sip, "198.18.2.1:5060;branch"));
	/* A response whose top Via is not ours is dropped and counted. */
	uint64_t before = counter(SW_CNT_DROP_RESP_NOT_OURS);
	inject(1, udp_frame(1, "198.18.2.2", 5060, "198.18.2.1", 5060,
			    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.9.9;branch=z9hG4bKx\r\n"
			    "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\n"
			    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"));
	assert_null(sent(0));
	assert_int_equal(counter(SW_CNT_DROP_RESP_NOT_OURS), before + 1);
}

static void
stateless_answers(void **state)
{
	struct udp_out o;

	(void)state;
	/* No rule: the configured 404, with a To-tag of ours, back to the source. */
	inject(0, invite("9999", "nm", 70, "test"));
	expect_udp(0, &o);
	assert_true(addr_is(&o.dst, "198.18.1.2"));
	assert_int_equal(o.dport, 5061);
	assert_true(strncmp(o.sip, "SIP/2.0 404 Not Found\r\n", 23) == 0);
	assert_non_null(strstr(o.sip, "To: <sip:9999@198.18.1.1>;tag=sw."));
	assert_non_null(strstr(o.sip, "Call-ID: call-nm@198.18.1.2\r\n"));
	assert_non_null(strstr(o.sip, "CSeq: 1 INVITE\r\n"));
	/* Its ACK is absorbed. */
	char *tag = strstr(o.sip, ";tag=sw.");
	char ack[1024], tagv[32];
	sscanf(tag + 5, "%31[^\r]", tagv);
	snprintf(ack, sizeof(ack),
		 "ACK sip:9999@198.18.1.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-nm;rport\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:alice@198.18.1.2>;tag=a1\r\n"
		 "To: <sip:9999@198.18.1.1>;tag=%s\r\nCall-ID: call-nm@198.18.1.2\r\n"
		 "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		 tagv);
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060, ack));
	assert_null(sent(0));
	assert_null(sent(1));
	assert_int_equal(counter(SW_CNT_ACK_ABSORBED), 1);
	/* A rule's $action. */
	inject(0, invite("1000", "evil", 70, "evil"));
	expect_udp(0, &o);
	assert_true(strncmp(o.sip, "SIP/2.0 603 Decline\r\n", 21) == 0);
	/* Max-Forwards 0: 483. */
	inject(0, invite("1000", "mf0", 0, "test"));
	expect_udp(0, &o);
	assert_true(strncmp(o.sip, "SIP/2.0 483 Too Many Hops\r\n", 27) == 0);
	/* Malformed: a 400 that says why. */
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060,
			    "INVITE sip:1000@198.18.1.1 SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-bad\r\n"
			    "From: <sip:a@198.18.1.2>;tag=1\r\nTo: <sip:1000@198.18.1.1>\r\n"
			    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"));
	expect_udp(0, &o);
	assert_true(strncmp(o.sip, "SIP/2.0 400 ", 12) == 0);
	/* Garbage: dropped and counted, nothing sent. */
	uint64_t before = counter(SW_CNT_DROP_SIP_MALFORMED);
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060, "\x01\x02 hello"));
	assert_null(sent(0));
	assert_int_equal(counter(SW_CNT_DROP_SIP_MALFORMED), before + 1);
	/* OPTIONS to sipwarp itself. */
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060,
			    "OPTIONS sip:198.18.1.1 SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-opt\r\n"
			    "Max-Forwards: 70\r\nFrom: <sip:a@198.18.1.2>;tag=1\r\n"
			    "To: <sip:198.18.1.1>\r\nCall-ID: opt1\r\nCSeq: 1 OPTIONS\r\n"
			    "Content-Length: 0\r\n\r\n"));
	expect_udp(0, &o);
	assert_true(strncmp(o.sip, "SIP/2.0 200 OK\r\n", 16) == 0);
}

static void
in_dialog_loose_routing(void **state)
{
	struct udp_out o;

	(void)state;
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060,
			    "BYE sip:1000@198.18.2.2:5060 SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-bye\r\n"
			    "Route: <sip:198.18.1.1:5060;lr;r2=on>,<sip:198.18.2.1:5060;lr;r2=on>\r\n"
			    "Max-Forwards: 70\r\nFrom: <sip:alice@198.18.1.2>;tag=a1\r\n"
			    "To: <sip:1000@198.18.1.1>;tag=b1\r\nCall-ID: dlg1\r\nCSeq: 2 BYE\r\n"
			    "Content-Length: 0\r\n\r\n"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	assert_true(strncmp(o.sip, "BYE sip:1000@198.18.2.2:5060 SIP/2.0\r\n", 38) == 0);
	assert_null(strstr(o.sip, "Route:"));
	assert_null(strstr(o.sip, "Record-Route"));
	assert_non_null(strstr(o.sip, "Max-Forwards: 69\r\n"));
}

static void
unresolved_next_hop_is_held_then_sent(void **state)
{
	struct rte_mbuf *m;
	struct rte_arp_hdr *arp;
	struct udp_out o;

	(void)state;
	inject(0, invite("3333", "hold", 70, "test"));
	/* The slow path asked who has 198.18.2.3. */
	m = sent(1);
	assert_non_null(m);
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	assert_int_equal(arp->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REQUEST));
	assert_true(memcmp(&arp->arp_data.arp_tip, ip("198.18.2.3").bytes, 4) == 0);
	rte_pktmbuf_free(m);
	assert_null(sent(1));
	/* The answer releases the INVITE. */
	inject(1, arp_frame(1, RTE_ARP_OP_REPLY, "198.18.2.3", "198.18.2.1"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.3"));
	assert_int_equal(o.dport, 5070);
}

static void
ipv6_forwarding(void **state)
{
	struct rte_mbuf *m;
	struct udp_out o;
	uint8_t *icmp;

	(void)state;
	/* Neighbour solicitation for our address on port 1: we advertise. */
	{
		struct rte_mbuf *ns = rte_pktmbuf_alloc(pool);
		struct rte_ether_hdr *eth;
		struct rte_ipv6_hdr *h;
		uint32_t il = 32;
		static uint8_t raw[14 + 40 + 32];

		eth = (struct rte_ether_hdr *)raw;
		eth->src_addr = peer_mac[1];
		eth->dst_addr = port_mac[1];
		eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
		h = (struct rte_ipv6_hdr *)(eth + 1);
		h->vtc_flow = rte_cpu_to_be_32(6u << 28);
		h->payload_len = rte_cpu_to_be_16(il);
		h->proto = IPPROTO_ICMPV6;
		h->hop_limits = 255;
		memcpy(h->src_addr, ip("2001:db8:2::2").bytes, 16);
		memcpy(h->dst_addr, ip("2001:db8:2::1").bytes, 16);
		icmp = (uint8_t *)(h + 1);
		icmp[0] = 135;
		memcpy(icmp + 8, ip("2001:db8:2::1").bytes, 16);
		icmp[24] = 1;
		icmp[25] = 1;
		memcpy(icmp + 26, &peer_mac[1], 6);
		assert_non_null(ns);
		memcpy(rte_pktmbuf_append(ns, sizeof(raw)), raw, sizeof(raw));
		inject(1, ns);
	}
	m = sent(1);
	assert_non_null(m);
	icmp = rte_pktmbuf_mtod_offset(m, uint8_t *, 14 + 40);
	assert_int_equal(icmp[0], 136);
	rte_pktmbuf_free(m);
	/* INVITE over IPv4 with a $target on IPv6: forwarded from our IPv6 address. */
	inject(0, invite("6666", "v6", 70, "test"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.src, "2001:db8:2::1"));
	assert_true(addr_is(&o.dst, "2001:db8:2::2"));
	assert_non_null(strstr(o.sip, "Via: SIP/2.0/UDP [2001:db8:2::1]:5060;branch="));
}

/* The branch we put in the top Via of a forwarded request. */
static void
top_branch(const char *sip, char *out, size_t n)
{
	const char *b = strstr(sip, "branch=z9hG4bK-sw");

	assert_non_null(b);
	snprintf(out, n, "%.*s", (int)strcspn(b + 7, ";\r"), b + 7);
}

static void
cancel_and_ack_follow_their_invite(void **state)
{
	struct udp_out o;
	char b_inv[64], b_cancel[64], b_ack[64];

	(void)state;
	inject(0, invite("1002", "cx", 70, "test"));
	expect_udp(1, &o);
	top_branch(o.sip, b_inv, sizeof(b_inv));

	/* CANCEL: same R-URI, Call-ID, CSeq number, branch (§9.1) as the INVITE. */
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060,
			    "CANCEL sip:1002@198.18.1.1 SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-cx;rport\r\n"
			    "Max-Forwards: 70\r\nFrom: <sip:alice@198.18.1.2>;tag=a1\r\n"
			    "To: <sip:1002@198.18.1.1>\r\nCall-ID: call-cx@198.18.1.2\r\n"
			    "CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"));
	expect_udp(1, &o);
	assert_true(strncmp(o.sip, "CANCEL sip:1002@198.18.2.2:5060 SIP/2.0\r\n", 41) == 0);
	assert_null(strstr(o.sip, "Record-Route"));
	top_branch(o.sip, b_cancel, sizeof(b_cancel));
	assert_string_equal(b_inv, b_cancel);

	/* ACK for a 486: To-tag of the callee, routed like the INVITE, same branch. */
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060,
			    "ACK sip:1002@198.18.1.1 SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-cx;rport\r\n"
			    "Max-Forwards: 70\r\nFrom: <sip:alice@198.18.1.2>;tag=a1\r\n"
			    "To: <sip:1002@198.18.1.1>;tag=callee9\r\nCall-ID: call-cx@198.18.1.2\r\n"
			    "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"));
	expect_udp(1, &o);
	assert_true(strncmp(o.sip, "ACK sip:1002@198.18.2.2:5060 SIP/2.0\r\n", 38) == 0);
	top_branch(o.sip, b_ack, sizeof(b_ack));
	assert_string_equal(b_inv, b_ack);
}

static void
loop_gets_482(void **state)
{
	struct udp_out o;
	char text[2048], *via;

	(void)state;
	/* Forward once, then send the forwarded request back to us unchanged. */
	inject(0, invite("1003", "lp", 70, "test"));
	expect_udp(1, &o);
	/* Put back the original R-URI so the request is the same one coming round. */
	via = strstr(o.sip, "\r\n");
	snprintf(text, sizeof(text), "INVITE sip:1003@198.18.1.1 SIP/2.0%s", via);
	char *to = strstr(text, "To: sip:1003@198.18.2.2:5060");
	assert_non_null(to);
	inject(1, udp_frame(1, "198.18.2.2", 5060, "198.18.2.1", 5060, text));
	expect_udp(1, &o);
	assert_true(strncmp(o.sip, "SIP/2.0 482 Loop Detected\r\n", 27) == 0);
}

static void
strict_router_before_us(void **state)
{
	struct udp_out o;

	(void)state;
	/* A strict router put us in the R-URI and the real target last in Route. */
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060,
			    "BYE sip:198.18.1.1:5060 SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-sr\r\n"
			    "Route: <sip:1000@198.18.2.2:5060>\r\n"
			    "Max-Forwards: 70\r\nFrom: <sip:alice@198.18.1.2>;tag=a1\r\n"
			    "To: <sip:1000@198.18.1.1>;tag=b1\r\nCall-ID: sr1\r\nCSeq: 3 BYE\r\n"
			    "Content-Length: 0\r\n\r\n"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	assert_true(strncmp(o.sip, "BYE sip:1000@198.18.2.2:5060 SIP/2.0\r\n", 38) == 0);
	assert_null(strstr(o.sip, "Route:"));
}

static void
register_forwarded(void **state)
{
	struct udp_out o;

	(void)state;
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 5060,
			    "REGISTER sip:198.18.1.1 SIP/2.0\r\n"
			    "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-reg\r\n"
			    "Max-Forwards: 70\r\nFrom: <sip:alice@198.18.1.1>;tag=r1\r\n"
			    "To: <sip:alice@198.18.1.1>\r\nCall-ID: reg1\r\nCSeq: 1 REGISTER\r\n"
			    "Contact: <sip:alice@198.18.1.2:5061>\r\nExpires: 3600\r\n"
			    "Content-Length: 0\r\n\r\n"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	assert_true(strncmp(o.sip, "REGISTER sip:198.18.1.1 SIP/2.0\r\n", 33) == 0);
	assert_null(strstr(o.sip, "Record-Route"));
	assert_non_null(strstr(o.sip, "Contact: <sip:alice@198.18.1.2:5061>\r\n"));
}

static struct rte_mbuf *
tagged(struct rte_mbuf *m, uint16_t vlan)
{
	m->vlan_tci = vlan;
	assert_int_equal(rte_vlan_insert(&m), 0);
	return m;
}

/* Strip and return the VLAN of a sent frame (0 when untagged); byte-wise, as frame_type(). */
static uint16_t
untag(struct rte_mbuf *m)
{
	char *f = rte_pktmbuf_mtod(m, char *);
	rte_be16_t tci;

	if (frame_type(m) != RTE_ETHER_TYPE_VLAN)
		return 0;
	memcpy(&tci, f + RTE_ETHER_HDR_LEN, sizeof(tci));
	memmove(f + sizeof(struct rte_vlan_hdr), f, 2 * RTE_ETHER_ADDR_LEN);
	assert_non_null(rte_pktmbuf_adj(m, sizeof(struct rte_vlan_hdr)));
	return rte_be_to_cpu_16(tci) & 0xfff;
}

static void
vlans(void **state)
{
	struct rte_mbuf *m;
	struct rte_arp_hdr *arp;
	struct udp_out o;
	char text[1024];

	(void)state;
	/* ARP on VLAN 100 for our address there: answered on VLAN 100. */
	inject(0, tagged(arp_frame(0, RTE_ARP_OP_REQUEST, "198.18.5.2", "198.18.5.1"), 100));
	m = sent(0);
	assert_non_null(m);
	assert_int_equal(untag(m), 100);
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	assert_int_equal(arp->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REPLY));
	rte_pktmbuf_free(m);

	/* An INVITE on VLAN 100 for a target on VLAN 200 of port 1: ARP there, tagged, then
	 * the INVITE, tagged 200, from our VLAN-200 address. */
	snprintf(text, sizeof(text), invite_fmt, "7777", "vl", 70, "7777", "vl", "test");
	inject(0, tagged(udp_frame(0, "198.18.5.2", 5061, "198.18.5.1", 5060, text), 100));
	m = sent(1);
	assert_non_null(m);
	assert_int_equal(untag(m), 200);
	arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	assert_int_equal(arp->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REQUEST));
	assert_true(memcmp(&arp->arp_data.arp_sip, ip("198.18.6.1").bytes, 4) == 0);
	rte_pktmbuf_free(m);
	inject(1, tagged(arp_frame(1, RTE_ARP_OP_REPLY, "198.18.6.2", "198.18.6.1"), 200));
	m = sent(1);
	assert_non_null(m);
	assert_int_equal(untag(m), 200);
	open_udp(m, &o);
	rte_pktmbuf_free(m);
	assert_true(addr_is(&o.src, "198.18.6.1"));
	assert_true(addr_is(&o.dst, "198.18.6.2"));

	/* No rule matches: the 404 goes back on VLAN 100. */
	snprintf(text, sizeof(text), invite_fmt, "9998", "vl2", 70, "9998", "vl2", "test");
	inject(0, tagged(udp_frame(0, "198.18.5.2", 5061, "198.18.5.1", 5060, text), 100));
	m = sent(0);
	assert_non_null(m);
	assert_int_equal(untag(m), 100);
	open_udp(m, &o);
	rte_pktmbuf_free(m);
	assert_true(strncmp(o.sip, "SIP/2.0 404 ", 12) == 0);
	assert_true(addr_is(&o.dst, "198.18.5.2"));
}

/* The Record-Route of ours in a forwarded INVITE (its first entry), as "<...>". */
static void
our_record_route(const char *sip, char *out, size_t n)
{
	const char *r = strstr(sip, "Record-Route: <sip:198.18.2.1");

	assert_non_null(r);
	snprintf(out, n, "%.*s", (int)(strchr(r, '>') - r - 14 + 1), r + 14);
}

static void
max_sessions_counted(void **state)
{
	struct udp_out o;
	char text[1400], rr[128], branch[64];
	struct rte_mbuf *m;

	(void)state;
	/* 198.18.2.4 answers ARP once, so the spill route can be reached */
	inject(1, arp_frame(1, RTE_ARP_OP_REPLY, "198.18.2.4", "198.18.2.1"));
	drain_all();
	/* two calls fit on "capped": tagged in Via and Record-Route (forced on) */
	inject(0, invite("5501", "ms1", 70, "test"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	assert_non_null(strstr(o.sip, ";swr="));
	our_record_route(o.sip, rr, sizeof(rr));
	assert_non_null(strstr(rr, ";swr="));
	{
		char *b = strstr(o.sip, "branch=z9hG4bK-sw");

		assert_non_null(b);
		sscanf(b + 7, "%63[^;\r]", branch);
	}
	/* its retransmission is forwarded the same way (tagged, Record-Routed) and not counted again */
	inject(0, invite("5501", "ms1", 70, "test"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	{
		char rr2[128];

		our_record_route(o.sip, rr2, sizeof(rr2));
		assert_string_equal(rr2, rr);
	}
	assert_int_equal(counter(SW_CNT_ARS_SESS_REPEAT), 0); /* seen: peeked, not counted */
	inject(0, invite("5502", "ms2", 70, "test"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	assert_int_equal(counter(SW_CNT_ARS_SESS_UP), 2);
	/* the third fails over to "spill", the fourth finds both full: 503 */
	inject(0, invite("5503", "ms3", 70, "test"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.4"));
	inject(0, invite("5504", "ms4", 70, "test"));
	expect_udp(0, &o);
	assert_true(strncmp(o.sip, "SIP/2.0 503 ", 12) == 0);
	assert_int_equal(counter(SW_CNT_REPLY_ARS_BUSY), 1);
	/* the callee of call 1 hangs up: the BYE pops our Route and frees a slot */
	snprintf(text, sizeof(text),
		 "BYE sip:alice@198.18.1.2:5061 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.18.2.2:5060;branch=z9hG4bK-bye1\r\n"
		 "Max-Forwards: 70\r\n"
		 "Route: %s\r\n"
		 "From: <sip:5501@198.18.1.1>;tag=b1\r\n"
		 "To: <sip:alice@198.18.1.2>;tag=a1\r\n"
		 "Call-ID: call-ms1@198.18.1.2\r\n"
		 "CSeq: 7 BYE\r\n"
		 "Content-Length: 0\r\n\r\n",
		 rr);
	inject(1, udp_frame(1, "198.18.2.2", 5060, "198.18.2.1", 5060, text));
	expect_udp(0, &o);
	assert_true(strncmp(o.sip, "BYE sip:alice@198.18.1.2:5061 ", 30) == 0);
	assert_int_equal(counter(SW_CNT_ARS_SESS_DOWN), 1);
	/* the same BYE again (its 200 was lost): not counted twice */
	inject(1, udp_frame(1, "198.18.2.2", 5060, "198.18.2.1", 5060, text));
	drain_all();
	assert_int_equal(counter(SW_CNT_ARS_SESS_DOWN), 1);
	assert_int_equal(counter(SW_CNT_ARS_SESS_REPEAT), 1);
	/* room again on "capped" */
	inject(0, invite("5505", "ms5", 70, "test"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	{
		char *b = strstr(o.sip, "branch=z9hG4bK-sw");

		assert_non_null(b);
		sscanf(b + 7, "%63[^;\r]", branch);
	}
	/* ... which the callee turns down: the 486 through us frees the slot */
	{
		/* our Via carries the tag after the branch: echo it as sent */
		const char *v = strstr(o.sip, ";swr=");
		char tag[32];

		assert_non_null(v);
		assert_int_equal(sscanf(v + 1, "%31[^;\r]", tag), 1);
		snprintf(text, sizeof(text),
			 "SIP/2.0 486 Busy Here\r\n"
			 "Via: SIP/2.0/UDP 198.18.2.1:5060;branch=%s;%s\r\n"
			 "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-ms5;rport=5061\r\n"
			 "From: <sip:alice@198.18.1.2>;tag=a1\r\n"
			 "To: <sip:5505@198.18.2.2>;tag=b5\r\n"
			 "Call-ID: call-ms5@198.18.1.2\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Content-Length: 0\r\n\r\n",
			 branch, tag);
	}
	m = udp_frame(1, "198.18.2.2", 5060, "198.18.2.1", 5060, text);
	inject(1, m);
	expect_udp(0, &o);
	assert_true(strncmp(o.sip, "SIP/2.0 486 ", 12) == 0);
	assert_int_equal(counter(SW_CNT_ARS_SESS_DOWN), 2);
	/* so the next call fits on "capped" again */
	inject(0, invite("5506", "ms6", 70, "test"));
	expect_udp(1, &o);
	assert_true(addr_is(&o.dst, "198.18.2.2"));
	drain_all();
}

static void
not_for_us_is_counted(void **state)
{
	uint64_t before = counter(SW_CNT_DROP_NOT_LOCAL);

	(void)state;
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.77", 5060, "OPTIONS x"));
	assert_int_equal(counter(SW_CNT_DROP_NOT_LOCAL), before + 1);
	before = counter(SW_CNT_DROP_NOT_SIP_PORT);
	inject(0, udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 9999, "hello"));
	assert_int_equal(counter(SW_CNT_DROP_NOT_SIP_PORT), before + 1);
	drain_all();
}

/*
 * A burst is worked a stage at a time (parse all, then route all): a mixed
 * burst of more than SW_BURST frames (forwarded INVITEs, INVITEs answered
 * 483 and 404, an ARP request, a datagram to another port) comes out whole,
 * each INVITE forwarded in the order it came and each answer to its own
 * request.
 */
static void
burst_worked_in_stages(void **state)
{
	enum { N = 40 };
	struct rte_mbuf *in[N];
	uint64_t not_sip = counter(SW_CNT_DROP_NOT_SIP_PORT);
	unsigned nfwd = 0, nans = 0, narp = 0;
	char id[16];

	(void)state;
	drain_all();
	for (unsigned i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "b%02u", i);
		if (i == 5)
			in[i] = arp_frame(0, RTE_ARP_OP_REQUEST, "198.18.1.2", "198.18.1.1");
		else if (i == 9)
			in[i] = udp_frame(0, "198.18.1.2", 5061, "198.18.1.1", 9999, "hello");
		else if (i % 7 == 3)
			in[i] = invite("1000", id, 0, "test"); /* Max-Forwards 0: 483 */
		else if (i % 11 == 4)
			in[i] = invite("9999", id, 70, "test"); /* no rule: 404 */
		else
			in[i] = invite("1000", id, 70, "test");
	}
	/* all queued before the worker runs: a full burst, then the rest */
	assert_int_equal(rte_ring_enqueue_bulk(rxr[0], (void **)in, N, NULL), N);
	run();
	for (unsigned i = 0; i < N; i++) {
		struct udp_out o;
		char cid[64];

		if (i == 5 || i == 9 || i % 7 == 3 || i % 11 == 4)
			continue;
		/* the forwarded ones leave on port 1 in arrival order */
		expect_udp(1, &o);
		snprintf(cid, sizeof(cid), "Call-ID: call-b%02u@198.18.1.2\r\n", i);
		assert_non_null(strstr(o.sip, cid));
		assert_non_null(strstr(o.sip, "Max-Forwards: 69\r\n"));
		nfwd++;
	}
	assert_null(sent(1));
	for (struct rte_mbuf *m; (m = sent(0)) != NULL; rte_pktmbuf_free(m)) {
		struct udp_out o;
		unsigned i;

		if (frame_type(m) == RTE_ETHER_TYPE_ARP) {
			narp++;
			continue;
		}
		open_udp(m, &o);
		assert_int_equal(sscanf(strstr(o.sip, "Call-ID: call-b"), "Call-ID: call-b%u", &i), 1);
		assert_true(strncmp(o.sip, i % 7 == 3 ? "SIP/2.0 483 " : "SIP/2.0 404 ", 12) == 0);
		nans++;
	}
	assert_int_equal(nfwd, 28);
	assert_int_equal(nans, 10);
	assert_int_equal(narp, 1);
	assert_int_equal(counter(SW_CNT_DROP_NOT_SIP_PORT), not_sip + 1);
}

static int
setup(void **state)
{
	char *eal[] = {"test", "--no-huge", "-m", "256", "--no-pci", "-l", "0",
		       "--log-level", "lib.eal:error", "--file-prefix", prefix, NULL};
	struct sw_dp_conf c;
	struct sw_rules_src src = {.dialplan = SW_TEST_DATA "/eal.dialplan",
				   .ars = SW_TEST_DATA "/eal.ars",
				   .nb_workers = 1};
	struct sw_diag diag;
	const char *err = NULL;
	static struct sw_ruleset *slot;

	(void)state;
	snprintf(prefix, sizeof(prefix), "sw-eal-%d", getpid());
	if (rte_eal_init(11, eal) < 0)
		return -1;
	pool = sw_nic_pool_create("eal_pool", 4095, SW_DP_MBUF_PRIV_SIZE, 0);
	if (pool == NULL)
		return -1;
	memset(&c, 0, sizeof(c));
	for (int p = 0; p < NPORTS; p++) {
		char n[32];

		snprintf(n, sizeof(n), "ring%d", p);
		if (sw_nic_ring_port(n, 1, 256, 256, pool, &rxr[p], &txr[p], &port_id[p]) != 0)
			return -1;
		rte_eth_macaddr_get(port_id[p], &port_mac[p]);
		c.port_ids[p] = port_id[p];
	}
	c.nb_ports = NPORTS;
	const char *locals[][2] = {{"198.18.1.1", "24"},    {"198.18.2.1", "24"},
				   {"2001:db8:1::1", "64"}, {"2001:db8:2::1", "64"},
				   {"198.18.5.1", "24"},    {"198.18.6.1", "24"}};
	for (int i = 0; i < 6; i++) {
		c.locals[i].port = i % 2;
		c.locals[i].addr = ip(locals[i][0]);
		c.locals[i].plen = (uint8_t)atoi(locals[i][1]);
	}
	c.locals[4].vlan = 100; /* 0.100:198.18.5.1/24 */
	c.locals[5].vlan = 200; /* 1.200:198.18.6.1/24 */
	c.nb_locals = 6;
	c.sip_port = 5060;
	c.nomatch_code = 404;
	c.record_route = true;
	c.nb_workers = 1;
	c.worker_lcores[0] = 0;
	c.pool = pool;
	sw_diag_init(&diag);
	rs = sw_ruleset_compile(&src, &diag);
	if (rs == NULL) {
		fprintf(stderr, "%s", diag.text ? diag.text : "compile failed\n");
		return -1;
	}
	sw_diag_free(&diag);
	ars = sw_ars_state_create(1, 16);
	if (ars == NULL || sw_ars_state_bind(ars, rs, NULL) != 0)
		return -1;
	slot = rs;
	c.ruleset_slot = &slot;
	c.ars = ars;
	dp = sw_dp_create(&c, &err);
	if (dp == NULL) {
		fprintf(stderr, "sw_dp_create: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	drain_all();
	sw_dp_free(dp);
	sw_ruleset_free(rs);
	sw_ars_state_free(ars);
	for (int p = 0; p < NPORTS; p++) {
		rte_eth_dev_stop(port_id[p]);
		rte_eth_dev_close(port_id[p]);
	}
	rte_mempool_free(pool);
	eal_cleanup_all(prefix);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arp_answered_and_learned),
		cmocka_unit_test(invite_forwarded_and_rewritten),
		cmocka_unit_test(response_back_along_via),
		cmocka_unit_test(stateless_answers),
		cmocka_unit_test(in_dialog_loose_routing),
		cmocka_unit_test(unresolved_next_hop_is_held_then_sent),
		cmocka_unit_test(ipv6_forwarding),
		cmocka_unit_test(cancel_and_ack_follow_their_invite),
		cmocka_unit_test(max_sessions_counted),
		cmocka_unit_test(loop_gets_482),
		cmocka_unit_test(strict_router_before_us),
		cmocka_unit_test(register_forwarded),
		cmocka_unit_test(vlans),
		cmocka_unit_test(not_for_us_is_counted),
		cmocka_unit_test(burst_worked_in_stages),
	};
	return cmocka_run_group_tests_name("eal_worker_ring", tests, setup, teardown);
}
