/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the SIP parser (Kamailio misc/fuzz style). Besides
 * "does not crash", it checks the promises of dataplane.h: every span lies in
 * the message, first[] points at a header of its type, a verdict always
 * comes with its code and reason. The same function is replayed over the
 * corpus by fuzz_replay.c in the fuzz-regress suite.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/dataplane.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sw_sip_msg m;

static void
check_span(struct sw_span s, size_t len)
{
	if ((size_t)s.off + s.len > len)
		abort();
}

static void
check_uri(const struct sw_sip_uri *u, size_t len)
{
	check_span(u->all, len);
	check_span(u->scheme, len);
	check_span(u->user, len);
	check_span(u->password, len);
	check_span(u->host, len);
	check_span(u->port, len);
	check_span(u->params, len);
	check_span(u->headers, len);
}

static void
check_nameaddr(const struct sw_sip_nameaddr *na, size_t len)
{
	check_span(na->all, len);
	check_span(na->display, len);
	check_span(na->tag, len);
	check_span(na->params, len);
	check_uri(&na->uri, len);
}

static void
check_via(const struct sw_sip_via *v, size_t len)
{
	check_span(v->all, len);
	check_span(v->transport, len);
	check_span(v->host, len);
	check_span(v->port, len);
	check_span(v->params, len);
	check_span(v->branch, len);
	check_span(v->received, len);
	check_span(v->rport, len);
	check_span(v->maddr, len);
	check_span(v->ttl, len);
}

/* Drive the query API the rules engine uses, over what the parser found. */
static void
queries(const char *b, size_t len)
{
	const struct sw_sip_hdr *h;
	struct sw_sip_nameaddr na;
	struct sw_span v;

	for (unsigned i = 0; i < m.nhdr; i++) {
		uint32_t pos = m.hdr[i].value.off;
		int n = 0;

		h = sw_sip_hdr_find(&m, b + m.hdr[i].name.off, m.hdr[i].name.len);
		if (h == NULL || h > &m.hdr[i])
			abort();
		while (h != NULL && n++ < SW_SIP_MAX_HDRS)
			h = sw_sip_hdr_next(&m, h);
		if (h != NULL)
			abort();
		while (sw_sip_nameaddr_next(b, m.hdr[i].value, &pos, &na) == 1 && n++ < 1000)
			check_nameaddr(&na, len);
		if (sw_sip_param_find(b, m.hdr[i].value, "tag", 3, &v))
			check_span(v, len);
	}
	if (m.nvia > 0 && sw_sip_param_find(b, m.via[0].params, "branch", 6, &v))
		check_span(v, len);
	if (sw_sip_param_find(b, m.ruri.params, "lr", 2, &v))
		check_span(v, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	enum sw_sip_verdict verdict = sw_sip_parse(&m, b, size);
	size_t len = size < SW_SIP_MAX_MSG ? size : SW_SIP_MAX_MSG;

	if (m.len > len || m.nhdr > SW_SIP_MAX_HDRS || m.buf != b)
		abort();
	switch (verdict) {
	case SW_SIP_OK:
		if (m.drop != SW_SIP_DROP_NONE || m.reply_code != 0 || m.nvia == 0)
			abort();
		break;
	case SW_SIP_REPLY:
		if (!m.is_request || m.reason == NULL || m.nvia == 0 ||
		    (m.reply_code != 400 && m.reply_code != 416 && m.reply_code != 420 &&
		     m.reply_code != 505 && m.reply_code != 513))
			abort();
		break;
	case SW_SIP_DROP:
		if (m.reason == NULL || m.drop == SW_SIP_DROP_NONE || m.drop >= SW_SIP_DROP__COUNT)
			abort();
		break;
	default:
		abort();
	}
	check_span(m.start_line, len);
	check_span(m.method_name, len);
	check_span(m.version, len);
	check_span(m.reason_phrase, len);
	check_uri(&m.ruri, len);
	check_span(m.hdr_end, len);
	check_span(m.body, len);
	check_span(m.call_id, len);
	check_span(m.cseq_method, len);
	check_span(m.unsupported, len);
	check_nameaddr(&m.from, len);
	check_nameaddr(&m.to, len);
	check_nameaddr(&m.route, len);
	/* the lazy parts: parsed once, reported the same the second time */
	if (verdict != SW_SIP_DROP || m.nhdr > 0) {
		int more = sw_sip_parse_more(&m, SW_SIP_MORE_CONTACT);
		int all = sw_sip_parse_more(&m, SW_SIP_MORE_ALL);

		if (all != (m.more_bad != 0 ? -EINVAL : 0) || (more != 0 && all == 0) ||
		    m.more_done != SW_SIP_MORE_ALL || (m.more_bad != 0 && m.more_reason == NULL))
			abort();
		if (sw_sip_parse_more(&m, SW_SIP_MORE_CONTACT) != more)
			abort();
	}
	check_nameaddr(&m.contact, len);
	check_nameaddr(&m.from, len);
	check_nameaddr(&m.to, len);
	for (unsigned i = 0; i < m.nvia && i < 2; i++) {
		check_via(&m.via[i], len);
		if (m.via[i].hdr != 0xff && m.via[i].hdr >= m.nhdr)
			abort();
	}
	for (unsigned i = 0; i < m.nhdr; i++) {
		check_span(m.hdr[i].name, len);
		check_span(m.hdr[i].value, len);
		check_span(m.hdr[i].line, len);
		if (m.hdr[i].type >= SW_HDR__COUNT || m.hdr[i].line.off > m.hdr[i].value.off)
			abort();
	}
	for (unsigned t = 0; t < SW_HDR__COUNT; t++)
		if (m.first[t] != 0xff && (m.first[t] >= m.nhdr || m.hdr[m.first[t]].type != t))
			abort();
	if (verdict != SW_SIP_DROP || m.nhdr > 0)
		queries(b, len);
	return 0;
}
