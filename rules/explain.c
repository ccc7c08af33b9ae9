/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * explain: walk the rules in order the slow, readable way (every condition
 * of every rule, with the value it saw) and say why each rule before the
 * winner did not hold; then the winner, its captures, the decision and the
 * message as it would leave (or the answer). Control thread; allocates.
 * The walk is checked against sw_ruleset_match() so an explanation can never
 * quietly disagree with the fast path.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "rules/rules_pvt.h"

struct sw_rules_scratch *rules_scratch_new(struct sw_ruleset *rs);
void rules_scratch_del(struct sw_rules_scratch *s);

struct sbuf {
	char *p;
	size_t n, cap;
};

static void __attribute__((format(printf, 2, 3)))
sb(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->n + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->n + (size_t)n + 1)
			cap *= 2;
		char *t = realloc(b->p, cap);
		if (t == NULL)
			return;
		b->p = t;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

static const char *
kind_name(uint8_t a)
{
	static const char *n[] = {"NOMATCH (the dataplane's configured answer)", "FORWARD", "REPLY",
				  "BLOCK (source added to the blocked table, message dropped)",
				  "SLOWPATH (handed to the companion stack)"};
	return a < 5 ? n[a] : "?";
}

/* The left side as an operator writes it (header names keep their case). */
static const char *
field_label(const struct field *f)
{
	return f->kind == FK_HDR ? f->hname : f->key;
}

static void
cond_text(struct sbuf *b, const struct sw_ruleset *rs, const struct cond *c)
{
	sb(b, "%s = %s%s", field_label(&rs->fields.v[c->field]), c->neg ? "!" : "", c->re);
}

/* Why rule r does not hold: the first failing condition and its value. */
static bool
rule_walk(struct mctx *m, struct sbuf *b, const struct rule *r)
{
	const struct sw_ruleset *rs = m->rs;
	m->s->ncap = r->ncap < SCR_MAX_CAPS ? r->ncap : SCR_MAX_CAPS;
	for (uint32_t i = 0; i < r->ncond; i++) {
		const struct cond *c = &rs->conds.v[r->cond0 + i];
		const char *p;
		uint16_t l;
		int have = get_value(m, c->field, &p, &l);
		if (cond_eval(m, c, true, NULL) == 1)
			continue;
		sb(b, "    no: ");
		cond_text(b, rs, c);
		sb(b, "  (%s:%u:%u)\n", c->file, c->line, c->col);
		if (!have)
			sb(b, "        %s is absent\n", field_label(&rs->fields.v[c->field]));
		else
			sb(b, "        value \"%.*s\" %s\n", (int)l, p,
			   c->neg ? "matches, and the pattern is negated" : "does not match");
		return false;
	}
	return true;
}

/* The message after the edits, as text (header lines from the original). */
static void
render(struct sbuf *b, const struct sw_sip_msg *msg, const struct sw_route_result *o)
{
	const char *ruri = NULL;
	size_t rl = 0;
	for (unsigned i = 0; i < o->nedits; i++)
		if (o->edits[i].op == SW_EDIT_RURI) {
			ruri = o->buf + o->edits[i].value.off;
			rl = o->edits[i].value.len;
		}
	if (ruri)
		sb(b, "    %.*s %.*s %.*s\n", msg->method_name.len, msg->buf + msg->method_name.off,
		   (int)rl, ruri, msg->version.len, msg->buf + msg->version.off);
	else
		sb(b, "    %.*s\n", msg->start_line.len, msg->buf + msg->start_line.off);
	bool done[SW_ROUTE_MAX_EDITS] = {0};
	for (unsigned h = 0; h < msg->nhdr; h++) {
		const struct sw_sip_hdr *hd = &msg->hdr[h];
		/* last edit of this header decides */
		int last = -1;
		for (unsigned i = 0; i < o->nedits; i++) {
			const struct sw_edit *e = &o->edits[i];
			if (e->op == SW_EDIT_RURI || e->op == SW_EDIT_HDR_ADD)
				continue;
			int t = hdr_type_of(o->buf + e->name.off, e->name.len);
			bool same = t != SW_HDR_OTHER ? t == hd->type
						     : (hd->type == SW_HDR_OTHER &&
							sw_span_ieq(msg->buf, hd->name, o->buf + e->name.off,
								    e->name.len));
			if (same)
				last = (int)i;
		}
		if (last < 0) {
			sb(b, "    %.*s: %.*s\n", hd->name.len, msg->buf + hd->name.off, hd->value.len,
			   msg->buf + hd->value.off);
			continue;
		}
		const struct sw_edit *e = &o->edits[last];
		if (e->op == SW_EDIT_HDR_DEL || done[last])
			continue;
		done[last] = true;
		sb(b, "    %.*s: %.*s\n", e->name.len, o->buf + e->name.off, e->value.len,
		   o->buf + e->value.off);
	}
	for (unsigned i = 0; i < o->nedits; i++) {
		const struct sw_edit *e = &o->edits[i];
		if (e->op == SW_EDIT_HDR_ADD || (e->op == SW_EDIT_HDR_SET && !done[i])) {
			/* a SET whose header was absent: added (only the last SET counts) */
			bool later = false;
			for (unsigned k = i + 1; k < o->nedits; k++)
				if (o->edits[k].op != SW_EDIT_RURI && o->edits[k].name.len == e->name.len &&
				    strncasecmp(o->buf + o->edits[k].name.off, o->buf + e->name.off,
						e->name.len) == 0)
					later = true;
			if (e->op == SW_EDIT_HDR_SET && later)
				continue;
			sb(b, "    %.*s: %.*s\n", e->name.len, o->buf + e->name.off, e->value.len,
			   o->buf + e->value.off);
		}
	}
}

char *
sw_ruleset_explain(const struct sw_ruleset *rs, const struct sw_match_in *in)
{
	struct sbuf b = {0};
	if (rs == NULL || in == NULL || in->msg == NULL)
		return strdup("no ruleset or no message\n");
	const struct sw_sip_msg *msg = in->msg;
	char addr[INET6_ADDRSTRLEN] = "?";
	inet_ntop(in->src.family == AF_INET6 ? AF_INET6 : AF_INET, in->src.bytes, addr, sizeof(addr));
	static const char *tn[] = {"UDP", "TCP", "TLS", "WS", "WSS"};
	sb(&b, "message: %.*s\n", msg->start_line.len, msg->buf + msg->start_line.off);
	sb(&b, "from %s port %u over %s (%s)\n", addr, in->src_port, tn[in->transport < 5 ? in->transport : 0],
	   in->src_is_local ? "one of our addresses: $localhost = true" : "$localhost = false");
	if (!msg->is_request) {
		sb(&b, "a response: responses never match rules; routed back by Via\n");
		return b.p;
	}
	struct sw_rules_scratch *s = rules_scratch_new((struct sw_ruleset *)rs);
	struct sw_route_result *out = calloc(1, sizeof(*out));
	if (s == NULL || out == NULL) {
		rules_scratch_del(s);
		free(out);
		free(b.p);
		return NULL;
	}
	out->action = SW_ROUTE_NOMATCH;
	out->rule = -1;
	out->route = -1;
	out->gateway = -1;
	out->max_sessions = -1;
	out->ars_slot = -1;
	struct mctx m;
	mctx_init(&m, rs, s, in, out);
	bool ars = rs->ars_default;
	int last = -1;
	for (uint32_t i = 0; i < rs->rules.n; i++) {
		const struct rule *r = &rs->rules.v[i];
		sb(&b, "rule %u \"%s\" (%s:%u)%s:\n", i, r->name, r->file, r->line,
		   r->prelim ? " [preliminary]" : "");
		if (r->disabled) {
			sb(&b, "    disabled\n");
			continue;
		}
		if (!rule_walk(&m, &b, r))
			continue;
		sb(&b, "    MATCHES\n");
		for (unsigned k = 0; k < m.s->ncap; k++)
			sb(&b, "    %%%s%u%s = \"%.*s\"\n", k + 1 >= 10 ? "{" : "", k + 1,
			   k + 1 >= 10 ? "}" : "", m.s->capl[k], m.s->cap[k]);
		bool cont = false, a = false;
		out->rule = (int32_t)i;
		last = (int)i;
		if (rule_apply(&m, rule_hot(rs, r->hot), &cont, &a) < 0) {
			sb(&b, "    the result does not fit (more than %d edits or %d bytes): 500\n",
			   SW_ROUTE_MAX_EDITS, SW_ROUTE_BUF);
			break;
		}
		if (a)
			ars = true;
		if (!cont || out->action == SW_ROUTE_BLOCK || out->action == SW_ROUTE_REPLY)
			break;
		sb(&b, "    $continue = true: the next rules see the message as modified so far\n");
		mctx_invalidate(&m);
	}
	if (last < 0)
		sb(&b, "no rule matched\n");
	if (ars && rs->pats.n > 0 && out->action != SW_ROUTE_BLOCK && out->action != SW_ROUTE_REPLY) {
		mctx_invalidate(&m);
		ars_run(&m);
		if (out->route >= 0) {
			const struct ars_route *r = &rs->routes.v[out->route];
			sb(&b, "ARS: route \"%s\" (%s:%u)%s%s", r->name, r->file, r->line,
			   r->gateway ? " via gateway " : "", r->gateway ? r->gateway : "");
			if (out->max_sessions >= 0)
				sb(&b, ", max sessions %d", out->max_sessions);
			sb(&b, "\n");
		} else if (out->ars_busy)
			sb(&b, "ARS: every OUT pattern that matched is at its Max Sessions or CPS cap\n");
		else
			sb(&b, "ARS: no OUT pattern matched\n");
		if (out->ars_skipped > 0 && !out->ars_busy)
			sb(&b, "ARS: %u pattern(s) skipped at their cap\n", out->ars_skipped);
	}
	sb(&b, "decision: %s\n", kind_name(out->action));
	if (out->action == SW_ROUTE_REPLY)
		sb(&b, "answer: SIP/2.0 %u %.*s\n", out->status, out->reason.len, out->buf + out->reason.off);
	for (unsigned t = 0; t < out->ntargets; t++)
		sb(&b, "target %u: %.*s%s\n", t + 1, out->targets[t].len, out->buf + out->targets[t].off,
		   t ? " (failover)" : "");
	if (out->record_route)
		sb(&b, "record-route: %s\n", out->record_route == 1 ? "yes" : "no");
	static const char *op[] = {"set", "remove", "add", "request-uri"};
	for (unsigned e = 0; e < out->nedits; e++) {
		const struct sw_edit *ed = &out->edits[e];
		sb(&b, "edit: %s %.*s%s%.*s\n", op[ed->op & 3], ed->name.len, out->buf + ed->name.off,
		   ed->name.len ? " " : "", ed->value.len, out->buf + ed->value.off);
	}
	if (out->action == SW_ROUTE_FORWARD || out->action == SW_ROUTE_SLOWPATH) {
		sb(&b, "resulting message (headers; Via and Max-Forwards as the proxy sets them):\n");
		render(&b, msg, out);
	}
	/* the fast path must agree */
	struct sw_route_result *fast = calloc(1, sizeof(*fast));
	if (fast && sw_ruleset_match(rs, s, in, fast) == 0 &&
	    (fast->rule != out->rule || fast->action != out->action || fast->nedits != out->nedits))
		sb(&b, "WARNING: the fast path decided rule %d / %s; please report this\n", fast->rule,
		   kind_name(fast->action));
	free(fast);
	free(out);
	rules_scratch_del(s);
	return b.p;
}

char *
sw_ruleset_explain_text(const struct sw_ruleset *rs, const char *text, size_t len,
			const struct sw_addr *src, uint16_t src_port, uint8_t transport,
			bool src_is_local, int64_t now, const char **err)
{
	struct sw_sip_msg *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		*err = "out of memory";
		return NULL;
	}
	enum sw_sip_verdict v = sw_sip_parse(m, text, len);
	if (v != SW_SIP_OK) {
		*err = m->reason ? m->reason : "the message does not parse";
		free(m);
		return NULL;
	}
	struct sw_match_in in = {.msg = m, .src_port = src_port, .transport = transport,
				 .src_is_local = src_is_local, .now = now};
	if (src)
		in.src = *src;
	char *r = sw_ruleset_explain(rs, &in);
	free(m);
	return r;
}
