/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the rules unit tests: rulesets from strings, messages from text. */
#ifndef SW_RULES_TEST_UTIL_H
#define SW_RULES_TEST_UTIL_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rules/ruleset.h"

static char tu_dir[256];

static const char *
tu_write(const char *name, const char *text)
{
	static char path[8][512];
	static int k;
	if (tu_dir[0] == 0) {
		snprintf(tu_dir, sizeof(tu_dir), "/tmp/sw_rules_test.XXXXXX");
		if (mkdtemp(tu_dir) == NULL)
			abort();
	}
	char *p = path[k++ % 8];
	snprintf(p, 512, "%s/%s", tu_dir, name);
	FILE *f = fopen(p, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return p;
}

static struct sw_ruleset *
tu_compile3(const char *dialplan, const char *ars, const char *gw, struct sw_diag *d)
{
	struct sw_rules_src src = {0};
	src.nb_workers = 2; /* tests may match as worker 0 or 1 */
	if (dialplan)
		src.dialplan = tu_write("dialplan.txt", dialplan);
	if (ars)
		src.ars = tu_write("ars.txt", ars);
	if (gw)
		src.gateways = tu_write("gateways.json", gw);
	return sw_ruleset_compile(&src, d);
}

static __attribute__((unused)) struct sw_ruleset *
tu_compile(const char *dialplan, struct sw_diag *d)
{
	return tu_compile3(dialplan, NULL, NULL, d);
}

/* A parsed message: text with '\n' turned into CRLF. */
struct tu_msg {
	char buf[4096];
	struct sw_sip_msg m;
};

static int
tu_parse(struct tu_msg *t, const char *text)
{
	size_t k = 0;
	for (const char *p = text; *p && k + 2 < sizeof(t->buf); p++) {
		if (*p == '\n')
			t->buf[k++] = '\r';
		t->buf[k++] = *p;
	}
	return sw_sip_parse(&t->m, t->buf, k) == SW_SIP_OK ? 0 : -1;
}

static void
tu_in(struct sw_match_in *in, const struct sw_sip_msg *m, const char *addr, uint16_t port,
      uint8_t transport, bool local)
{
	memset(in, 0, sizeof(*in));
	in->msg = m;
	if (strchr(addr, ':')) {
		in->src.family = AF_INET6;
		inet_pton(AF_INET6, addr, in->src.bytes);
	} else {
		in->src.family = AF_INET;
		inet_pton(AF_INET, addr, in->src.bytes);
	}
	in->src_port = port;
	in->transport = transport;
	in->src_is_local = local;
	in->local_port = 5060;
	in->now = 1700000000; /* 2023-11-14 22:13:20 UTC */
}

#define TU_INVITE(ruri, to, extra)                                                                 \
	"INVITE " ruri " SIP/2.0\n"                                                                \
	"Via: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK776asdhds\n"                               \
	"Max-Forwards: 70\n"                                                                       \
	"To: " to "\n"                                                                             \
	"From: Alice <sip:alice@198.18.0.2>;tag=1928301774\n"                                      \
	"Call-ID: a84b4c76e66710@198.18.0.2\n"                                                     \
	"CSeq: 314159 INVITE\n"                                                                    \
	"Contact: <sip:alice@198.18.0.2:5060>\n" extra "Content-Length: 0\n"                       \
	"\n"

static char tu_sbuf[1024];

static const char *
tu_str(const struct sw_route_result *r, struct sw_rspan s)
{
	snprintf(tu_sbuf, sizeof(tu_sbuf), "%.*s", (int)s.len, r->buf + s.off);
	return tu_sbuf;
}

/* Find edit of op (and name when not NULL); returns its value text or NULL. */
static __attribute__((unused)) const char *
tu_edit(const struct sw_route_result *r, int op, const char *name)
{
	for (int i = r->nedits - 1; i >= 0; i--) {
		const struct sw_edit *e = &r->edits[i];
		if (e->op != op)
			continue;
		if (name && (e->name.len != strlen(name) ||
			     strncasecmp(r->buf + e->name.off, name, e->name.len) != 0))
			continue;
		return tu_str(r, e->value);
	}
	return NULL;
}

/* Match text from addr:port over transport; returns the result in *r. */
static __attribute__((unused)) int
tu_match(const struct sw_ruleset *rs, const char *text, const char *addr, uint16_t port,
	 uint8_t transport, bool local, struct sw_route_result *r)
{
	static struct tu_msg t;
	if (tu_parse(&t, text) < 0)
		return -100;
	struct sw_match_in in;
	tu_in(&in, &t.m, addr, port, transport, local);
	return sw_ruleset_match(rs, sw_ruleset_scratch(rs, 0), &in, r);
}

#endif
