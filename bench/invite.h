/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to bench/: the INVITE with SDP that the worker kernel (k_worker.c)
 * and the net_ring generator (e2e_ring.c) both feed, 198.18.1.2:5061 ->
 * 198.18.1.1. Branch and Call-ID are id followed by the message's index,
 * so each message is a new transaction and a new call.
 */
#ifndef SW_BENCH_INVITE_H
#define SW_BENCH_INVITE_H

#include <stdio.h>

static inline int
bench_invite(char *sip, size_t cap, const char *number, const char *id, unsigned i)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 198.18.1.2\r\ns=-\r\nc=IN IP4 198.18.1.2\r\n"
				  "t=0 0\r\nm=audio 6000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n"
				  "a=sendrecv\r\n";

	return snprintf(sip, cap,
			"INVITE sip:%s@198.18.1.1 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-%s%u;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: \"Bench\" <sip:bench@198.18.1.2>;tag=%u\r\n"
			"To: <sip:%s@198.18.1.1>\r\n"
			"Call-ID: %s%u@198.18.1.2\r\n"
			"CSeq: 1 INVITE\r\n"
			"Contact: <sip:bench@198.18.1.2:5061>\r\n"
			"User-Agent: sipwarp-bench\r\n"
			"Content-Type: application/sdp\r\n"
			"Content-Length: %zu\r\n\r\n%s",
			number, id, i, i, number, id, i, sizeof(sdp) - 1, sdp);
}

#endif /* SW_BENCH_INVITE_H */
