/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rewrite kernel: the edits a forwarded INVITE gets on the fast path, built
 * as dataplane/rewrite.h splices and applied in place, as dataplane/proxy.c
 * does it: a Via pushed on top (with ;received= on the old one), Max-Forwards
 * one less, the Request-URI replaced, one header set, one removed, a double
 * Record-Route (RFC 5658). The message is copied back from its original
 * before each round (a worker gets a fresh mbuf each time); the copy is part
 * of what is timed and is reported separately by K_RW_COPY.
 *
 * rewrite.h is private to dataplane/; the bench reaches in on purpose, as
 * tests/unit/test_rewrite.c does, to time the splice engine without an mbuf.
 */
#include <stdio.h>
#include <string.h>

#include "bench/kernels.h"
#include "dataplane/dataplane.h"
#include "dataplane/rewrite.h"

static struct sw_sip_msg msg;
static struct sw_rw rw;
static char buf[4096];
static const char *orig;
static size_t orig_len;

int
k_rewrite_init(void)
{
	const struct k_corpus *c = k_parse_corpus(K_PARSE_INVITE, NULL);

	if (c == NULL || c->n != 1 || c->len[0] > sizeof(buf) / 2)
		return -1;
	orig = c->msg[0];
	orig_len = c->len[0];
	if (sw_sip_parse(&msg, orig, orig_len) != SW_SIP_OK)
		return -1;
	return (int)orig_len;
}

/* The splices of one forwarded INVITE; returns how many. */
static uint32_t
build(struct sw_rw *r, const struct sw_sip_msg *m, unsigned i)
{
	const struct sw_sip_hdr *h;

	sw_rw_reset(r);
	/* §16.6 step 8: our Via on top, branch from the request. */
	/* (The proxy writes these texts without printf; fixed strings stand in.) */
	static const char via[] = "Via: SIP/2.0/UDP 198.18.2.1:5060;branch=z9hG4bK-sw00-"
				  "0123456789abcdef-01234567\r\n";
	sw_rw_splice(r, m->hdr[m->via[0].hdr].line.off, 0, via, sizeof(via) - 1);
	(void)i;
	/* received= on the old top Via (RFC 3261 §18.2.1). */
	sw_rw_splice(r, m->via[0].all.off + m->via[0].all.len, 0, ";received=198.18.1.2", 20);
	/* §16.6 step 3 */
	h = &m->hdr[m->first[SW_HDR_MAX_FORWARDS]];
	sw_rw_splice(r, h->value.off, h->value.len, "69", 2);
	/* The rule's new Request-URI. */
	sw_rw_splice(r, m->ruri.all.off, m->ruri.all.len, "sip:+4930123456789@198.18.2.2:5060",
		     34);
	/* A header set (replace the value of an existing one) ... */
	h = sw_sip_hdr_find(m, "User-Agent", 10);
	if (h != NULL) {
		sw_rw_begin(r, h->line.off, h->line.len);
		sw_rw_append(r, "User-Agent: sipwarp\r\n", 21);
	}
	/* ... and a removal. */
	h = sw_sip_hdr_find(m, "Session-Expires", 15);
	if (h != NULL)
		sw_rw_splice(r, h->line.off, h->line.len, "", 0);
	/* §16.6 step 4, RFC 5658 double Record-Route above the existing ones. */
	static const char rr[] = "Record-Route: <sip:198.18.2.1:5060;lr;r2=on>\r\n"
				 "Record-Route: <sip:198.18.1.1:5060;lr;r2=on>\r\n";
	sw_rw_splice(r, m->hdr[m->first[SW_HDR_RECORD_ROUTE]].line.off, 0, rr, sizeof(rr) - 1);
	return r->n;
}

uint64_t
k_rewrite(enum k_rw_mode mode, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++) {
		long len = (long)orig_len;

		memcpy(buf, orig, orig_len);
		if (mode == K_RW_COPY) {
			sum += (uint8_t)buf[i & 255];
			continue;
		}
		if (mode == K_RW_PARSE_REWRITE && sw_sip_parse(&msg, buf, orig_len) != SW_SIP_OK)
			return 0;
		build(&rw, &msg, i);
		len = sw_rw_apply(&rw, buf, orig_len, sizeof(buf));
		sum += (uint64_t)len + rw.n;
	}
	return sum;
}

const char *
k_rewrite_result(size_t *len)
{
	long n;

	memcpy(buf, orig, orig_len);
	build(&rw, &msg, 0);
	n = sw_rw_apply(&rw, buf, orig_len, sizeof(buf));
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return buf;
}
