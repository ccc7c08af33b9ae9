/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateless answers built on the fast path (RFC 3261 §8.2.6, §16.11): the
 * request's Via lines, From, To (with a To-tag of ours when it had none),
 * Call-ID and CSeq, sent back where §18.2.2 says. Never an answer to an ACK.
 */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dp_pvt.h"

/* Room for the largest Ethernet + IPv6 + UDP header in front of the text. */
#define REPLY_HDR_ROOM (14 + 40 + 8)

const char *
sw_sip_reason_phrase(uint16_t code)
{
	switch (code) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 414: return "Request-URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Unsupported URI Scheme";
	case 420: return "Bad Extension";
	case 480: return "Temporarily Unavailable";
	case 481: return "Call/Transaction Does Not Exist";
	case 482: return "Loop Detected";
	case 483: return "Too Many Hops";
	case 484: return "Address Incomplete";
	case 486: return "Busy Here";
	case 487: return "Request Terminated";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Server Time-out";
	case 505: return "Version Not Supported";
	case 513: return "Message Too Large";
	case 600: return "Busy Everywhere";
	case 603: return "Decline";
	case 604: return "Does Not Exist Anywhere";
	case 606: return "Not Acceptable";
	default:
		return code < 200 ? "Progress" : code < 300 ? "OK" : code < 400 ? "Redirect"
		       : code < 500 ? "Client Error" : code < 600 ? "Server Error" : "Failure";
	}
}

struct out {
	char *p;
	uint32_t len, cap;
	bool overflow;
};

static void
put(struct out *o, const char *s, uint32_t n)
{
	if (o->len + n > o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
putf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (r < 0 || (uint32_t)r >= o->cap - o->len)
		o->overflow = true;
	else
		o->len += r;
}

static void
put_line(struct out *o, const struct sw_sip_msg *msg, const struct sw_sip_hdr *h)
{
	put(o, msg->buf + h->line.off, h->line.len);
}

static void
put_type(struct out *o, const struct sw_sip_msg *msg, enum sw_hdr_type t, bool all)
{
	for (unsigned i = 0; i < msg->nhdr; i++)
		if (msg->hdr[i].type == t) {
			put_line(o, msg, &msg->hdr[i]);
			if (!all)
				return;
		}
}

/* A To-tag of ours: stable for the same request, so a retransmission gets the same. */
static void
put_to(struct out *o, const struct sw_sip_msg *msg)
{
	const struct sw_sip_hdr *h;
	uint32_t crc;

	if (msg->first[SW_HDR_TO] == 0xff)
		return;
	h = &msg->hdr[msg->first[SW_HDR_TO]];
	if (msg->to.tag.len > 0) {
		put_line(o, msg, h);
		return;
	}
	crc = sw_crc32c(msg->buf + msg->call_id.off, msg->call_id.len, msg->cseq_num);
	if (msg->from.tag.len)
		crc = sw_crc32c(msg->buf + msg->from.tag.off, msg->from.tag.len, crc);
	put(o, msg->buf + h->line.off, h->value.off + h->value.len - h->line.off);
	putf(o, ";tag=" SW_TAG_PREFIX "%08x\r\n", crc);
}

void
sw_dp_reply(struct sw_worker *w, struct sw_pkt *p, uint16_t code, const char *reason,
	    const char *extra_hdrs)
{
	const struct sw_sip_msg *msg = w->msg;
	struct rte_mbuf *m;
	struct out o;
	uint16_t dport;
	char *frame;

	if (msg->method == SW_METHOD_ACK) {
		CNT(w, DROP_ACK_REJECTED);
		rte_pktmbuf_free(p->m);
		return;
	}
	m = rte_pktmbuf_alloc(w->dp->conf.pool);
	if (m == NULL) {
		CNT(w, DROP_NO_MBUF);
		rte_pktmbuf_free(p->m);
		return;
	}
	o.p = rte_pktmbuf_mtod_offset(m, char *, REPLY_HDR_ROOM);
	o.len = 0;
	o.cap = rte_pktmbuf_tailroom(m) - REPLY_HDR_ROOM;
	o.overflow = false;
	putf(&o, "SIP/2.0 %u %s\r\n", code, reason != NULL ? reason : sw_sip_reason_phrase(code));
	put_type(&o, msg, SW_HDR_VIA, true);
	put_type(&o, msg, SW_HDR_FROM, false);
	put_to(&o, msg);
	put_type(&o, msg, SW_HDR_CALL_ID, false);
	put_type(&o, msg, SW_HDR_CSEQ, false);
	if (extra_hdrs != NULL)
		put(&o, extra_hdrs, strlen(extra_hdrs));
	put(&o, "Server: sipwarp\r\nContent-Length: 0\r\n\r\n", 38);
	if (o.overflow) {
		CNT(w, DROP_REWRITE);
		rte_pktmbuf_free(m);
		rte_pktmbuf_free(p->m);
		return;
	}
	/* §18.2.2: to the source address; to the source port with rport (RFC 3581),
	 * else to the sent-by port. */
	dport = p->sport;
	if (msg->nvia > 0 && !msg->via[0].has_rport && msg->via[0].port_num != 0)
		dport = msg->via[0].port_num;
	else if (msg->nvia > 0 && !msg->via[0].has_rport)
		dport = 5060;
	rte_pktmbuf_append(m, REPLY_HDR_ROOM + o.len);
	sw_dp_encap_udp(m, REPLY_HDR_ROOM, o.len, &p->dst, w->dp->conf.sip_port, &p->src, dport,
			w->dp->tx_offloads[p->in_port]);
	rte_pktmbuf_free(p->m);
	/* Back on the link it came from, to the MAC it came from. */
	frame = rte_pktmbuf_mtod(m, char *);
	sw_eth_put_mac(frame, SW_ETH_DST, &p->src_mac);
	sw_eth_put_mac(frame, SW_ETH_SRC, &w->dp->mac[p->in_port]);
	if (sw_dp_vlan_tag(&m, p->vlan) != 0) {
		CNT(w, DROP_REWRITE);
		rte_pktmbuf_free(m);
		return;
	}
	CNT(w, REPLIES);
	sw_dp_tx(w, m, p->in_port);
}
