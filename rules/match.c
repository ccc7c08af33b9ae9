/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Matching on a worker: no allocation, no locks, the worker's own scratch.
 *
 * Candidates come from one trie walk and one hs_scan per scanned field
 * (each rule has at most one "primary" condition there), plus the few rules
 * that have no primary. They are verified in rule order; the first rule whose
 * conditions all hold wins (lowest index, never "first callback"). PCRE2-JIT
 * runs only for the conditions of the candidates being verified, and for
 * captures. With $continue the next round scans the message as modified so
 * far: lookups see the edits written into the result (the overlay).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "rules/rules_pvt.h"

static const char *const transport_names[] = {"UDP", "TCP", "TLS", "WS", "WSS"};

void
mctx_init(struct mctx *m, const struct sw_ruleset *rs, struct sw_rules_scratch *s,
	  const struct sw_match_in *in, struct sw_route_result *out)
{
	memset(m, 0, sizeof(*m));
	m->rs = rs;
	m->s = s;
	m->in = in;
	m->out = out;
	s->textn = 0;
	s->nenv = 0;
	s->env_used = 0;
	s->ncap = 0;
	/* a plan reads a handful of fields: no libc call for them */
	if (rs->fields.n <= 8)
		for (uint32_t i = 0; i < rs->fields.n; i++)
			s->vs[i] = 0;
	else
		memset(s->vs, 0, rs->fields.n);
}

void
mctx_invalidate(struct mctx *m)
{
	memset(m->s->vs, 0, m->rs->fields.n);
	m->s->textn = 0;
}

/* Text kept in the scratch for the rest of this match. */
static char *
stext(struct mctx *m, size_t n)
{
	if (m->s->textn + n > SCR_TEXT)
		return NULL;
	char *p = m->s->text + m->s->textn;
	m->s->textn += (uint32_t)n;
	return p;
}

/* Header value as seen through the overlay; base is the buffer its spans use. */
static int
hdr_value(struct mctx *m, uint8_t htype, const char *name, const char **base, struct sw_span *v)
{
	const struct sw_sip_msg *msg = m->in->msg;
	int have = 0;
	size_t nl = strlen(name);
	if (htype != SW_HDR_OTHER && htype < SW_HDR__COUNT) {
		/* the parser indexed the first header of each known type */
		uint8_t i = msg->first[htype];
		if (i < msg->nhdr) {
			*base = msg->buf;
			*v = msg->hdr[i].value;
			have = 1;
		}
	} else {
		for (unsigned i = 0; i < msg->nhdr; i++) {
			const struct sw_sip_hdr *h = &msg->hdr[i];
			if (h->type == SW_HDR_OTHER && sw_span_ieq(msg->buf, h->name, name, nl)) {
				*base = msg->buf;
				*v = h->value;
				have = 1;
				break;
			}
		}
	}
	const struct sw_route_result *o = m->out;
	for (unsigned i = 0; i < o->nedits; i++) {
		const struct sw_edit *e = &o->edits[i];
		if (e->op == SW_EDIT_RURI)
			continue;
		if (e->name.len != nl || strncasecmp(o->buf + e->name.off, name, nl) != 0)
			continue;
		if (e->op == SW_EDIT_HDR_SET || (e->op == SW_EDIT_HDR_ADD && !have)) {
			*base = o->buf;
			v->off = e->value.off;
			v->len = e->value.len;
			have = 1;
		} else if (e->op == SW_EDIT_HDR_DEL)
			have = 0;
	}
	return have;
}

static inline const struct sw_sip_uri *
cur_ruri(struct mctx *m, const char **base)
{
	if (m->ruri_edited) {
		*base = m->out->buf;
		if (!m->nuri_parsed) {
			m->nuri_parsed = true;
			if (sw_sip_uri_parse(m->out->buf, m->new_ruri, &m->nuri) != 0) {
				/* not a URI we can read back: only $ruri sees it */
				memset(&m->nuri, 0, sizeof(m->nuri));
				m->nuri.all = m->new_ruri;
			}
		}
		return &m->nuri;
	}
	*base = m->in->msg->buf;
	return &m->in->msg->ruri;
}

static int
nameaddr_of(struct mctx *m, uint8_t htype, const char *name, const char **base,
	    struct sw_sip_nameaddr *na)
{
	struct sw_span v;
	if (!hdr_value(m, htype, name, base, &v))
		return 0;
	const struct sw_sip_msg *msg = m->in->msg;
	if (*base == msg->buf && htype == SW_HDR_TO && msg->to.uri.all.len) {
		*na = msg->to;
		return 1;
	}
	if (*base == msg->buf && htype == SW_HDR_FROM && msg->from.uri.all.len) {
		*na = msg->from;
		return 1;
	}
	if (sw_sip_nameaddr_parse(*base, v, na) != 0)
		return 0;
	return 1;
}

static bool
addr_is_local(struct mctx *m, const char *h, size_t l)
{
	char buf[64];
	if (l >= 2 && h[0] == '[' && h[l - 1] == ']')
		h++, l -= 2;
	if (l == 0 || l >= sizeof(buf))
		return false;
	if (l == 9 && strncasecmp(h, "localhost", 9) == 0)
		return true;
	memcpy(buf, h, l);
	buf[l] = 0;
	struct sw_addr a;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, buf, a.bytes) == 1) {
		a.family = AF_INET;
		if (a.bytes[0] == 127)
			return true;
	} else if (inet_pton(AF_INET6, buf, a.bytes) == 1) {
		a.family = AF_INET6;
		static const uint8_t lo6[16] = {[15] = 1};
		if (memcmp(a.bytes, lo6, 16) == 0)
			return true;
	} else
		return false;
	for (unsigned i = 0; i < m->in->nb_locals; i++)
		if (m->in->locals[i].family == a.family &&
		    memcmp(m->in->locals[i].bytes, a.bytes, a.family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

static bool
in_prefix(const struct sw_addr *a, const struct sw_addr *p, unsigned plen)
{
	if (a->family != p->family)
		return false;
	unsigned full = plen / 8, rem = plen % 8;
	if (memcmp(a->bytes, p->bytes, full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rem));
	return (a->bytes[full] & mask) == (p->bytes[full] & mask);
}

static const char *
env_get(struct mctx *m, const char *name, size_t nl, uint16_t *len)
{
	struct sw_rules_scratch *s = m->s;
	for (int i = (int)s->nenv - 1; i >= 0; i--)
		if (strlen(s->env[i].name) == nl && memcmp(s->env[i].name, name, nl) == 0) {
			*len = s->env[i].len;
			return s->env_buf + s->env[i].off;
		}
	return NULL;
}

static int
env_set(struct mctx *m, const char *name, const char *v, size_t len)
{
	struct sw_rules_scratch *s = m->s;
	if (s->nenv >= SCR_MAX_ENV || s->env_used + len > sizeof(s->env_buf))
		return -ENOSPC;
	memcpy(s->env_buf + s->env_used, v, len);
	s->env[s->nenv].name = name;
	s->env[s->nenv].off = s->env_used;
	s->env[s->nenv].len = (uint16_t)len;
	s->env_used = (uint16_t)(s->env_used + len);
	s->nenv++;
	return 0;
}

static int
minutes_now(struct mctx *m, const struct tz_info *tz, int64_t *days)
{
	int64_t t = m->in->now + tz_offset(tz, m->in->now);
	int64_t d = t / 86400, r = t % 86400;
	if (r < 0)
		r += 86400, d--;
	if (days)
		*days = d;
	return (int)(r / 60);
}

static const char *
bool_text(bool b, uint16_t *l)
{
	*l = b ? 4 : 5;
	return b ? "true" : "false";
}

/* Any '%' in p[0..n)? Eight bytes at a time: a user part is a dozen bytes. */
static inline bool
has_pct(const char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, pct = ones * '%';
	uint64_t w;
	if (n < 8) {
		for (size_t i = 0; i < n; i++)
			if (p[i] == '%')
				return true;
		return false;
	}
	for (size_t i = 0;; i += 8) {
		/* the last word overlaps the one before rather than a byte loop */
		memcpy(&w, p + (i + 8 <= n ? i : n - 8), 8);
		w ^= pct;
		if ((w - ones) & ~w & (ones << 7))
			return true;
		if (i + 8 >= n)
			return false;
	}
}

static int value_of(struct mctx *m, uint32_t fi, const char **p, uint16_t *l);

/*
 * Value of field fi for this match (cached per field). The user part of an
 * unedited Request-URI, what a carrier plan reads on every message, is
 * taken here; everything else in value_of(), whose size (and register
 * saves) the common case then does not pay.
 */
int
get_value(struct mctx *m, uint32_t fi, const char **p, uint16_t *l)
{
	struct sw_rules_scratch *s = m->s;
	if (s->vs[fi]) {
		*p = s->vp[fi];
		*l = s->vl[fi];
		return s->vs[fi] == 1;
	}
	if (m->rs->fields.v[fi].kind == FK_RUSER && !m->ruri_edited) {
		const struct sw_sip_msg *msg = m->in->msg;
		const char *vp = msg->buf + msg->ruri.user.off;
		uint16_t vl = msg->ruri.user.len;
		if (!has_pct(vp, vl)) {
			s->vs[fi] = 1;
			s->vp[fi] = *p = vp;
			s->vl[fi] = *l = vl;
			return 1;
		}
	}
	return value_of(m, fi, p, l);
}

static int
value_of(struct mctx *m, uint32_t fi, const char **p, uint16_t *l)
{
	struct sw_rules_scratch *s = m->s;
	const struct field *f = &m->rs->fields.v[fi];
	const struct sw_sip_msg *msg = m->in->msg;
	const char *base = msg->buf;
	struct sw_span sp = {0, 0};
	const char *vp = NULL;
	uint16_t vl = 0;
	int have = 1;
	char *t;
	switch (f->kind) {
	case FK_HDR:
		have = hdr_value(m, f->htype, f->hname, &base, &sp);
		vp = base + sp.off;
		vl = sp.len;
		break;
	case FK_REQUEST:
		if (!m->ruri_edited) {
			vp = msg->buf + msg->start_line.off;
			vl = msg->start_line.len;
		} else {
			size_t n = (size_t)msg->method_name.len + 1 + m->new_ruri.len + 1 +
				   msg->version.len;
			t = stext(m, n);
			if (t == NULL)
				return 0;
			memcpy(t, msg->buf + msg->method_name.off, msg->method_name.len);
			size_t k = msg->method_name.len;
			t[k++] = ' ';
			memcpy(t + k, m->out->buf + m->new_ruri.off, m->new_ruri.len);
			k += m->new_ruri.len;
			t[k++] = ' ';
			memcpy(t + k, msg->buf + msg->version.off, msg->version.len);
			vp = t;
			vl = (uint16_t)n;
		}
		break;
	case FK_METHOD:
		vp = msg->buf + msg->method_name.off;
		vl = msg->method_name.len;
		break;
	case FK_RURI:
	case FK_RUSER:
	case FK_RHOST: {
		const struct sw_sip_uri *u = cur_ruri(m, &base);
		if (f->kind == FK_RURI) {
			vp = base + u->all.off;
			vl = u->all.len;
		} else if (f->kind == FK_RHOST) {
			vp = base + u->host.off;
			vl = u->port.len ? (uint16_t)(u->port.off + u->port.len - u->host.off)
					 : u->host.len;
		} else {
			vp = base + u->user.off;
			vl = u->user.len;
			if (has_pct(vp, vl) && (t = stext(m, vl)) != NULL) {
				/* RFC 3261 §19.1.2: compare users unescaped ("2%23123" is "2#123") */
				uint16_t k = 0;
				for (uint16_t i = 0; i < vl; i++) {
					if (vp[i] == '%' && i + 2 < vl && isxdigit((unsigned char)vp[i + 1]) &&
					    isxdigit((unsigned char)vp[i + 2])) {
						char hx[3] = {vp[i + 1], vp[i + 2], 0};
						t[k++] = (char)strtol(hx, NULL, 16);
						i += 2;
					} else
						t[k++] = vp[i];
				}
				vp = t;
				vl = k;
			}
		}
		break;
	}
	case FK_GETURI:
	case FK_URIPARAM:
	case FK_LOCALHOST_URI: {
		struct sw_sip_nameaddr na;
		have = nameaddr_of(m, f->htype, f->hname, &base, &na);
		if (!have)
			break;
		if (f->kind == FK_GETURI) {
			vp = base + na.uri.all.off;
			vl = na.uri.all.len;
		} else if (f->kind == FK_URIPARAM) {
			have = sw_sip_param_find(base, na.uri.params, f->pname, strlen(f->pname), &sp);
			vp = base + sp.off;
			vl = sp.len;
		} else {
			vp = bool_text(addr_is_local(m, base + na.uri.host.off, na.uri.host.len), &vl);
		}
		break;
	}
	case FK_PARAM: {
		struct sw_span params = {0, 0};
		if (f->htype == SW_HDR_VIA) {
			struct sw_span v;
			have = hdr_value(m, f->htype, f->hname, &base, &v);
			if (have && base == msg->buf && msg->nvia)
				params = msg->via[0].params;
			else if (have) {
				const char *sc = memchr(base + v.off, ';', v.len);
				if (sc) {
					params.off = (uint16_t)(sc + 1 - base);
					params.len = (uint16_t)(v.off + v.len - params.off);
				}
			}
		} else {
			struct sw_sip_nameaddr na;
			have = nameaddr_of(m, f->htype, f->hname, &base, &na);
			if (have)
				params = na.params;
		}
		if (have)
			have = sw_sip_param_find(base, params, f->pname, strlen(f->pname), &sp);
		vp = base + sp.off;
		vl = sp.len;
		break;
	}
	case FK_ADDR:
		t = stext(m, INET6_ADDRSTRLEN);
		if (t == NULL || inet_ntop(m->in->src.family == AF_INET6 ? AF_INET6 : AF_INET,
					   m->in->src.bytes, t, INET6_ADDRSTRLEN) == NULL)
			have = 0;
		else {
			vp = t;
			vl = (uint16_t)strlen(t);
		}
		break;
	case FK_ADDRPREFIX:
		vp = bool_text(in_prefix(&m->in->src, &f->a1, f->plen), &vl);
		break;
	case FK_ADDRRANGE: {
		size_t n = f->a1.family == AF_INET ? 4 : 16;
		bool in = m->in->src.family == f->a1.family &&
			  memcmp(m->in->src.bytes, f->a1.bytes, n) >= 0 &&
			  memcmp(m->in->src.bytes, f->a2.bytes, n) <= 0;
		vp = bool_text(in, &vl);
		break;
	}
	case FK_ADDRTYPE:
		vp = m->in->src.family == AF_INET6 ? "6" : "4";
		vl = 1;
		break;
	case FK_PORT:
		t = stext(m, 6);
		if (t == NULL)
			return 0;
		vl = (uint16_t)snprintf(t, 6, "%u", m->in->src_port);
		vp = t;
		break;
	case FK_TRANSPORT:
		vp = transport_names[m->in->transport < 5 ? m->in->transport : 0];
		vl = (uint16_t)strlen(vp);
		break;
	case FK_LOCALHOST:
		vp = bool_text(m->in->src_is_local, &vl);
		break;
	case FK_DATE:
	case FK_TIME: {
		int64_t days;
		int mins = minutes_now(m, f->tz, &days);
		t = stext(m, 12);
		if (t == NULL)
			return 0;
		if (f->kind == FK_TIME) {
			int64_t tt = m->in->now + tz_offset(f->tz, m->in->now);
			int sec = (int)(((tt % 60) + 60) % 60);
			vl = (uint16_t)snprintf(t, 12, "%02d:%02d:%02d", mins / 60, mins % 60, sec);
		} else {
			/* civil from days (H. Hinnant) */
			int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
			unsigned doe = (unsigned)(z - era * 146097);
			unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
			int64_t y = (int64_t)yoe + era * 400;
			unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
			unsigned mp = (5 * doy + 2) / 153, dd = doy - (153 * mp + 2) / 5 + 1;
			unsigned mm = mp < 10 ? mp + 3 : mp - 9;
			y += mm <= 2;
			vl = (uint16_t)snprintf(t, 12, "%04d/%02u/%02u", (int)y, mm, dd);
		}
		vp = t;
		break;
	}
	case FK_TIMERANGE: {
		int mins = minutes_now(m, f->tz, NULL);
		bool in = f->tr_begin <= f->tr_end ? (mins >= f->tr_begin && mins < f->tr_end)
						   : (mins >= f->tr_begin || mins < f->tr_end);
		vp = bool_text(in, &vl);
		break;
	}
	case FK_AND:
	case FK_OR: {
		bool all = true, any = false;
		for (uint32_t i = 0; i < f->nsub; i++) {
			int r = cond_eval(m, &m->rs->subconds.v[f->sub0 + i], false, NULL);
			all = all && r == 1;
			any = any || r == 1;
		}
		vp = bool_text(f->kind == FK_AND ? all : any, &vl);
		break;
	}
	case FK_ENV:
	case FK_PROP:
		vp = env_get(m, f->pname, strlen(f->pname), &vl);
		have = vp != NULL;
		break;
	default:
		have = 0;
	}
	/* env values change within a match: never cache them */
	if (f->kind != FK_ENV && f->kind != FK_PROP) {
		s->vs[fi] = have ? 1 : 2;
		s->vp[fi] = vp;
		s->vl[fi] = vl;
	}
	*p = vp;
	*l = vl;
	return have;
}

static void
caps_from_var(struct sw_rules_scratch *s, unsigned base, unsigned ncap, const struct trie_var *v,
	      const char *p, uint16_t l)
{
	for (unsigned i = 0; i < ncap && base + i < SCR_MAX_CAPS; i++) {
		unsigned k = base + i;
		if (i >= v->ncap || v->cap[i][0] < 0) {
			s->cap[k] = p;
			s->capl[k] = 0;
			continue;
		}
		int st = v->cap[i][0], en = v->cap[i][1] < 0 ? l : v->cap[i][1];
		s->cap[k] = p + st;
		s->capl[k] = (uint16_t)(en - st);
	}
}

/* Captures of a condition decided by trie hit h on value p[0..l). */
static inline void
caps_from_hit(struct sw_rules_scratch *s, unsigned base, unsigned ncap, const struct trie_hit *h,
	      const char *p, uint16_t l)
{
	if (h->ncap > 1)
		caps_from_var(s, base, ncap, h->var, p, l);
	else if (ncap && base < SCR_MAX_CAPS) {
		/* one group: its offsets came with the hit */
		if (h->ncap == 0 || h->c0s < 0) {
			s->cap[base] = p;
			s->capl[base] = 0;
		} else {
			int en = h->c0e < 0 ? l : h->c0e;
			s->cap[base] = p + h->c0s;
			s->capl[base] = (uint16_t)(en - h->c0s);
		}
	}
}

static void
ars_caps(struct mctx *m, const struct cond *c)
{
	/* &t1.., &f1.., &p1..: the ARS names of this condition's captures */
	static const char *names[3][9] = {
		{"t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"},
		{"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"},
		{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"},
	};
	int w = c->arsvar == 't' ? 0 : c->arsvar == 'f' ? 1 : 2;
	unsigned base = c->arsvar == 'p' ? c->arsbase : 0;
	for (unsigned i = 0; i < c->ncap && base + i < 9; i++) {
		unsigned k = c->cap_base + i;
		if (k < SCR_MAX_CAPS)
			env_set(m, names[w][base + i], m->s->cap[k], m->s->capl[k]);
	}
}

int
cond_eval(struct mctx *m, const struct cond *c, bool caps, const struct trie_hit *known)
{
	const char *p;
	uint16_t l;
	if (!get_value(m, c->field, &p, &l))
		return c->neg ? 1 : 0;
	struct sw_rules_scratch *s = m->s;
	bool ok = false;
	if (known != NULL) {
		ok = true;
		if (caps)
			caps_from_hit(s, c->cap_base, c->ncap, known, p, l);
	} else if (c->code != NULL) {
		int rc = pcre2_match(c->code, (PCRE2_SPTR)p, l, 0, 0, s->md, NULL);
		ok = rc >= 0;
		if (ok && caps && !c->neg && c->ncap) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
			uint32_t n = pcre2_get_ovector_count(s->md);
			for (unsigned i = 0; i < c->ncap && c->cap_base + i < SCR_MAX_CAPS; i++) {
				unsigned k = c->cap_base + i;
				if (i + 1 < n && ov[2 * (i + 1)] != PCRE2_UNSET) {
					s->cap[k] = p + ov[2 * (i + 1)];
					s->capl[k] = (uint16_t)(ov[2 * (i + 1) + 1] - ov[2 * (i + 1)]);
				} else {
					s->cap[k] = p;
					s->capl[k] = 0;
				}
			}
		}
	} else {
		for (uint32_t i = 0; i < c->nvars && !ok; i++)
			if (trie_var_match(&c->vars[i], m->rs->classes, p, l)) {
				ok = true;
				if (caps)
					caps_from_var(s, c->cap_base, c->ncap, &c->vars[i], p, l);
			}
	}
	if (c->neg)
		return !ok;
	if (ok && caps && c->arsvar)
		ars_caps(m, c);
	return ok;
}

/* ------------------------------------------------------------------------ */
/* Deploy                                                                   */
/* ------------------------------------------------------------------------ */

/* Small copies without a call: two overlapping moves, never past either end. */
static inline void
copy_short(char *dst, const char *src, size_t len)
{
	if (len >= 8 && len <= 16) {
		uint64_t a, b;
		memcpy(&a, src, 8);
		memcpy(&b, src + len - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + len - 8, &b, 8);
	} else if (len >= 4 && len < 8) {
		uint32_t a, b;
		memcpy(&a, src, 4);
		memcpy(&b, src + len - 4, 4);
		memcpy(dst, &a, 4);
		memcpy(dst + len - 4, &b, 4);
	} else if (len < 4) {
		for (size_t k = 0; k < len; k++)
			dst[k] = src[k];
	} else
		memcpy(dst, src, len);
}

static inline int
put(struct sw_route_result *o, const char *p, size_t n, struct sw_rspan *sp)
{
	if ((size_t)o->used + n > SW_ROUTE_BUF)
		return -ENOSPC;
	copy_short(o->buf + o->used, p, n);
	sp->off = o->used;
	sp->len = (uint16_t)n;
	o->used = (uint16_t)(o->used + n);
	return 0;
}

/*
 * Append one piece of a value to out->buf: literal p[0..n), capture number
 * n, or variable p[0..n) (p[-1] is its '&': undefined, it stays as written).
 */
static inline int
emit_piece(struct mctx *m, unsigned kind, size_t n, const char *p)
{
	struct sw_route_result *o = m->out;
	const char *src = p;
	size_t len = n;
	if (kind == 1) {
		if (n >= 1 && n <= m->s->ncap && n <= SCR_MAX_CAPS) {
			src = m->s->cap[n - 1];
			len = m->s->capl[n - 1];
		} else
			len = 0;
	} else if (kind == 2) {
		uint16_t el;
		const char *ev = env_get(m, p, n, &el);
		if (ev != NULL) {
			src = ev;
			len = el;
		} else {
			src = p - 1;
			len = n + 1;
		}
	}
	if ((size_t)o->used + len > SW_ROUTE_BUF)
		return -ENOSPC;
	copy_short(o->buf + o->used, src, len);
	o->used = (uint16_t)(o->used + len);
	return 0;
}

/* Expand %n, %{n} and &name into out->buf (pieces compiled at load time). */
static int
expand(struct mctx *m, const struct dop *d, struct sw_rspan *sp)
{
	struct sw_route_result *o = m->out;
	const char *t = dop_text(d);
	if (d->mode == DOP_LIT)
		return put(o, t, d->vlen, sp);
	uint16_t start = o->used;
	const struct seg *segs = (const struct seg *)(d + 1);
	for (unsigned i = 0; i < d->n; i++) {
		unsigned kind = segs[i].kn >> 14, n = segs[i].kn & SEG_N_MAX;
		/* texts in piece order: a literal, or a variable's '&' and name */
		int rc = emit_piece(m, kind, n, kind == 2 ? t + 1 : t);
		if (rc < 0)
			return rc;
		t += kind == 0 ? n : kind == 2 ? n + 1 : 0;
	}
	sp->off = start;
	sp->len = (uint16_t)(o->used - start);
	return 0;
}

/* The same for a deploy too big for an op (DOP_SLOW), pieces read as it goes. */
static __attribute__((cold)) int
expand_slow(struct mctx *m, const struct deploy *dp, struct sw_rspan *sp)
{
	struct sw_route_result *o = m->out;
	if (!dp->has_vars)
		return put(o, dp->value, dp->vlen, sp);
	uint16_t start = o->used;
	size_t at = 0;
	struct piece pc;
	while (piece_next(dp->value, dp->vlen, &at, &pc)) {
		int rc = emit_piece(m, pc.kind, pc.kind == 1 ? pc.num : pc.len, dp->value + pc.off);
		if (rc < 0)
			return rc;
	}
	sp->off = start;
	sp->len = (uint16_t)(o->used - start);
	return 0;
}

static int
add_edit(struct mctx *m, uint8_t op, const char *name, size_t nlen, struct sw_rspan val)
{
	struct sw_route_result *o = m->out;
	if (o->nedits >= SW_ROUTE_MAX_EDITS)
		return -ENOSPC;
	struct sw_edit *e = &o->edits[o->nedits];
	e->op = op;
	e->value = val;
	e->name.off = e->name.len = 0;
	if (name != NULL && put(o, name, nlen, &e->name) < 0)
		return -ENOSPC;
	o->nedits++;
	return 0;
}

static int
set_ruri(struct mctx *m, struct sw_rspan u)
{
	int rc = add_edit(m, SW_EDIT_RURI, NULL, 0, u);
	if (rc < 0)
		return rc;
	/* parsed when a later lookup needs it (cur_ruri) */
	m->new_ruri.off = u.off;
	m->new_ruri.len = u.len;
	m->ruri_edited = true;
	m->nuri_parsed = false;
	return 0;
}

/* URI inside a To value: between <>, else up to the header parameters. */
static int
to_uri(struct mctx *m, struct sw_rspan v, struct sw_rspan *u)
{
	struct sw_route_result *o = m->out;
	const char *p = o->buf + v.off;
	const char *lt = memchr(p, '<', v.len);
	size_t st, en;
	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(p + v.len - lt));
		st = (size_t)(lt + 1 - p);
		en = gt ? (size_t)(gt - p) : v.len;
	} else {
		const char *sc = memchr(p, ';', v.len);
		st = 0;
		en = sc ? (size_t)(sc - p) : v.len;
		while (st < en && isspace((unsigned char)p[st]))
			st++;
		while (en > st && isspace((unsigned char)p[en - 1]))
			en--;
	}
	u->off = (uint16_t)(v.off + st);
	u->len = (uint16_t)(en - st);
	/* "sip:user@" routes to the user at the current Request-URI host */
	if (u->len > 0 && o->buf[u->off + u->len - 1] == '@') {
		const char *base;
		const struct sw_sip_uri *cu = cur_ruri(m, &base);
		size_t hl = cu->port.len ? (size_t)(cu->port.off + cu->port.len - cu->host.off)
					 : cu->host.len;
		size_t need = u->len + hl;
		if ((size_t)o->used + need > SW_ROUTE_BUF)
			return -ENOSPC;
		memmove(o->buf + o->used, o->buf + u->off, u->len);
		memcpy(o->buf + o->used + u->len, base + cu->host.off, hl);
		u->off = o->used;
		u->len = (uint16_t)need;
		o->used = (uint16_t)(o->used + need);
	}
	return 0;
}

static int splice_user(struct mctx *m, bool to, struct sw_rspan user);

static int
gw_apply(struct mctx *m, int32_t gi, bool primary)
{
	const struct gateway *g = &m->rs->gws.v[gi];
	const struct sw_gateway_info *gi_ = &g->info;
	struct sw_route_result *o = m->out;
	char tb[300];
	int n = snprintf(tb, sizeof(tb), "%s%s", gi_->realm,
			 strcmp(gi_->transport, "tcp") == 0 ? ";transport=tcp" : "");
	if (o->ntargets >= SW_ROUTE_MAX_TARGETS)
		return -ENOSPC;
	int rc = put(o, tb, (size_t)n, &o->targets[o->ntargets]);
	if (rc < 0)
		return rc;
	o->ntargets++;
	if (!primary)
		return 0;
	o->gateway = (int16_t)gi;
	/*
	 * sip:<destination-prefix><user>@<realm>, what FreeSWITCH sends upstream,
	 * unless a rule already chose the Request-URI (To = / $ruri): then only
	 * the prefix is added to its user.
	 */
	const char *base;
	const struct sw_sip_uri *cu = cur_ruri(m, &base);
	if (!m->ruri_edited) {
		char ub[600];
		n = snprintf(ub, sizeof(ub), "sip:%s%.*s@%s", gi_->destination_prefix,
			     (int)cu->user.len, base + cu->user.off, gi_->realm);
		if (n > 0 && (size_t)n < sizeof(ub)) {
			struct sw_rspan sp;
			if ((rc = put(o, ub, (size_t)n, &sp)) < 0 || (rc = set_ruri(m, sp)) < 0)
				return rc;
		}
	} else if (gi_->destination_prefix[0]) {
		char ub[300];
		n = snprintf(ub, sizeof(ub), "%s%.*s", gi_->destination_prefix, (int)cu->user.len,
			     base + cu->user.off);
		struct sw_rspan sp;
		if ((rc = put(o, ub, (size_t)n, &sp)) < 0 || (rc = splice_user(m, true, sp)) < 0)
			return rc;
	}
	if (gi_->needs_auth) {
		struct sw_rspan sp;
		if ((rc = put(o, gi_->name, strlen(gi_->name), &sp)) < 0 ||
		    (rc = add_edit(m, SW_EDIT_HDR_SET, "X-Sipwarp-Gateway",
				   sizeof("X-Sipwarp-Gateway") - 1, sp)) < 0)
			return rc;
		o->action = SW_ROUTE_SLOWPATH;
	}
	return 0;
}

static __attribute__((cold)) int
apply_target(struct mctx *m, struct sw_rspan v)
{
	struct sw_route_result *o = m->out;
	o->ntargets = 0;
	o->gateway = -1;
	/* copy the list aside: gw_apply appends to buf */
	char list[512];
	size_t n = v.len < sizeof(list) - 1 ? v.len : sizeof(list) - 1;
	memcpy(list, o->buf + v.off, n);
	list[n] = 0;
	char *p = list;
	bool first = true;
	while (*p) {
		char *c = strchr(p, ',');
		char *e = c ? c : p + strlen(p);
		char *s = p;
		while (s < e && isspace((unsigned char)*s))
			s++;
		char *t = e;
		while (t > s && isspace((unsigned char)t[-1]))
			t--;
		if (t > s) {
			int32_t gi = gateway_find(m->rs, s, (size_t)(t - s));
			int rc;
			if (gi >= 0)
				rc = gw_apply(m, gi, first);
			else if (o->ntargets >= SW_ROUTE_MAX_TARGETS)
				rc = -ENOSPC;
			else if ((rc = put(o, s, (size_t)(t - s), &o->targets[o->ntargets])) == 0)
				o->ntargets++;
			if (rc < 0)
				return rc;
			first = false;
		}
		if (c == NULL)
			break;
		p = c + 1;
	}
	return 0;
}

/* A $target list split and resolved at compile time (same order and effect as apply_target). */
static int
apply_targets(struct mctx *m, const struct dop *d)
{
	struct sw_route_result *o = m->out;
	const struct dtgt *t = (const struct dtgt *)(d + 1);
	const char *text = dop_text(d);
	o->ntargets = 0;
	o->gateway = -1;
	for (unsigned i = 0; i < d->n; text += t[i].len, i++) {
		int rc;
		if (t[i].gw >= 0)
			rc = gw_apply(m, t[i].gw, i == 0);
		else if (o->ntargets >= SW_ROUTE_MAX_TARGETS)
			rc = -ENOSPC;
		else if ((rc = put(o, text, t[i].len, &o->targets[o->ntargets])) == 0)
			o->ntargets++;
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool
val_true(const char *p, size_t n)
{
	return (n == 4 && strncasecmp(p, "true", 4) == 0) || (n == 3 && strncasecmp(p, "yes", 3) == 0);
}

/* ARS From/To: replace the user part of a URI, keeping everything else. */
static int
splice_user(struct mctx *m, bool to, struct sw_rspan user)
{
	struct sw_route_result *o = m->out;
	const char *base;
	int rc;
	if (to) {
		const struct sw_sip_uri *cu = cur_ruri(m, &base);
		if (cu->all.len == 0)
			return 0;
		size_t pre = (size_t)(cu->user.len ? cu->user.off : cu->host.off) - cu->all.off;
		size_t post_off = cu->user.len ? (size_t)(cu->user.off + cu->user.len) : cu->host.off;
		size_t post = (size_t)(cu->all.off + cu->all.len) - post_off;
		bool need_at = cu->user.len == 0;
		size_t need = pre + user.len + (need_at ? 1 : 0) + post;
		if ((size_t)o->used + need > SW_ROUTE_BUF)
			return -ENOSPC;
		char *d = o->buf + o->used;
		memcpy(d, base + cu->all.off, pre);
		memcpy(d + pre, o->buf + user.off, user.len);
		if (need_at)
			d[pre + user.len] = '@';
		memcpy(d + pre + user.len + (need_at ? 1 : 0), base + post_off, post);
		struct sw_rspan sp = {o->used, (uint16_t)need};
		o->used = (uint16_t)(o->used + need);
		return set_ruri(m, sp);
	}
	struct sw_sip_nameaddr na;
	struct sw_span v;
	if (!hdr_value(m, SW_HDR_FROM, "From", &base, &v) || sw_sip_nameaddr_parse(base, v, &na) != 0)
		return 0;
	size_t uo = na.uri.user.len ? na.uri.user.off : na.uri.host.off;
	size_t ue = na.uri.user.len ? (size_t)(na.uri.user.off + na.uri.user.len) : uo;
	bool need_at = na.uri.user.len == 0;
	size_t need = (uo - v.off) + user.len + (need_at ? 1 : 0) + (v.off + v.len - ue);
	if ((size_t)o->used + need > SW_ROUTE_BUF)
		return -ENOSPC;
	char *d = o->buf + o->used;
	memcpy(d, base + v.off, uo - v.off);
	memcpy(d + (uo - v.off), o->buf + user.off, user.len);
	size_t k = (uo - v.off) + user.len;
	if (need_at)
		d[k++] = '@';
	memcpy(d + k, base + ue, v.off + v.len - ue);
	struct sw_rspan sp = {o->used, (uint16_t)need};
	o->used = (uint16_t)(o->used + need);
	rc = add_edit(m, SW_EDIT_HDR_SET, "From", 4, sp);
	return rc;
}

static int
deploy_one(struct mctx *m, const struct dop *d, bool *cont, bool *ars)
{
	struct sw_route_result *o = m->out;
	struct sw_rspan v;
	const char *name;
	size_t nlen;
	int rc;
	if (d->mode == DOP_TGT)
		return apply_targets(m, d);
	if (d->mode == DOP_SLOW) {
		uint32_t di;
		memcpy(&di, d + 1, sizeof(di));
		const struct deploy *dp = &m->rs->deps.v[di];
		name = dp->name;
		nlen = name ? strlen(name) : 0;
		rc = expand_slow(m, dp, &v);
	} else {
		name = d->nlen ? (const char *)d + dop_name_off(d) : NULL;
		nlen = d->nlen;
		rc = expand(m, d, &v);
	}
	if (rc < 0)
		return rc;
	const char *vp = o->buf + v.off;
	switch (d->kind) {
	case DK_HDR:
		return add_edit(m, v.len ? SW_EDIT_HDR_SET : SW_EDIT_HDR_DEL, name, nlen, v);
	case DK_HDR_ADD:
		return add_edit(m, SW_EDIT_HDR_ADD, name, nlen, v);
	case DK_TO: {
		if (v.len == 0)
			return add_edit(m, SW_EDIT_HDR_DEL, name, nlen, v);
		if ((rc = add_edit(m, SW_EDIT_HDR_SET, name, nlen, v)) < 0)
			return rc;
		struct sw_rspan u;
		if ((rc = to_uri(m, v, &u)) < 0)
			return rc;
		return u.len ? set_ruri(m, u) : 0;
	}
	case DK_RURI:
		return set_ruri(m, v);
	case DK_TARGET:
		return apply_target(m, v);
	case DK_ACTION:
	case DK_RESPONSE:
		if (d->kind == DK_ACTION && v.len == 5 && strncasecmp(vp, "block", 5) == 0) {
			o->action = SW_ROUTE_BLOCK;
			return 0;
		} else {
			unsigned code = 0, i = 0;
			while (i < v.len && isdigit((unsigned char)vp[i]))
				code = code * 10 + (unsigned)(vp[i++] - '0');
			if (i != 3 || code < 300 || code > 699) {
				/* a %n made it something else: internal error */
				o->action = SW_ROUTE_REPLY;
				o->status = 500;
				o->reason.off = o->reason.len = 0;
				return 0;
			}
			while (i < v.len && vp[i] == ' ')
				i++;
			o->action = SW_ROUTE_REPLY;
			o->status = (uint16_t)code;
			o->reason.off = (uint16_t)(v.off + i);
			o->reason.len = (uint16_t)(v.len - i);
		}
		return 0;
	case DK_CONTINUE:
		*cont = val_true(vp, v.len);
		return 0;
	case DK_RECORDROUTE:
		o->record_route = val_true(vp, v.len) ? 1 : 2;
		return 0;
	case DK_AUTH:
		if (val_true(vp, v.len))
			o->action = SW_ROUTE_SLOWPATH;
		return 0;
	case DK_ARS:
		*ars = val_true(vp, v.len);
		return 0;
	case DK_ENV:
		return env_set(m, name, vp, v.len);
	case DK_CUSTOM:
		/* &name=value: name fixed at load time, value expanded */
		return env_set(m, name, vp, v.len);
	case DK_ARS_FROM:
	case DK_ARS_TO:
		return splice_user(m, d->kind == DK_ARS_TO, v);
	}
	return 0;
}

int
rule_apply(struct mctx *m, const struct rhot *h, bool *cont, bool *ars)
{
	struct sw_route_result *o = m->out;
	*cont = false;
	if (o->action == SW_ROUTE_NOMATCH)
		o->action = SW_ROUTE_FORWARD;
	const struct dop *d = (const struct dop *)(h + 1);
	for (uint32_t i = 0; i < h->ndep; i++) {
		int rc = deploy_one(m, d, cont, ars);
		if (rc < 0)
			return rc;
		d = (const struct dop *)((const char *)d + d->size);
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Candidates                                                               */
/* ------------------------------------------------------------------------ */

static int
on_hs_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	    void *ctx)
{
	(void)from, (void)to, (void)flags;
	struct sw_rules_scratch *s = ctx;
	if (id < s->min_rule)
		return 0;
	if (s->ncand >= SCR_MAX_CAND) {
		s->overflow = true;
		return 1;
	}
	s->cand[s->ncand].rule = id;
	s->cand[s->ncand].var = NULL;
	s->cand[s->ncand].trie = false;
	s->cand[s->ncand].sole = false;
	s->cand[s->ncand].ncap = 0;
	s->ncand++;
	return 0;
}

/* All conditions of rule r; the primary is already known to hold when from_scan. */
static bool
rule_holds(struct mctx *m, const struct rule *r, bool from_scan, const struct trie_hit *var)
{
	m->s->ncap = r->ncap < SCR_MAX_CAPS ? r->ncap : SCR_MAX_CAPS;
	for (uint32_t i = 0; i < r->ncond; i++) {
		const struct cond *c = &m->rs->conds.v[r->cond0 + i];
		int ok;
		if (from_scan && (int32_t)(r->cond0 + i) == r->primary) {
			if (c->how == HOW_TRIE)
				ok = cond_eval(m, c, true, var);
			else if (c->ncap)
				ok = cond_eval(m, c, true, NULL);
			else
				ok = 1;
		} else
			ok = cond_eval(m, c, true, NULL);
		if (ok != 1)
			return false;
	}
	return true;
}

static int
cmp_cand(const void *a, const void *b)
{
	uint32_t x = ((const struct trie_hit *)a)->rule, y = ((const struct trie_hit *)b)->rule;
	return x < y ? -1 : x > y;
}

static __attribute__((cold)) int32_t
linear(struct mctx *m, uint32_t start, uint32_t *hot)
{
	const struct sw_ruleset *rs = m->rs;
	for (uint32_t i = start; i < rs->rules.n; i++) {
		const struct rule *r = &rs->rules.v[i];
		if (!r->disabled && rule_holds(m, r, false, NULL)) {
			*hot = r->hot;
			return (int32_t)i;
		}
	}
	return -1;
}

/*
 * The rule of a trie hit on its only condition wins: its captures from the
 * hit, *hot its record. Returns the rule.
 */
static inline int32_t
sole_win(struct sw_rules_scratch *s, const struct trie_hit *hit, uint32_t *hot)
{
	s->ncap = hit->rcap < SCR_MAX_CAPS ? hit->rcap : SCR_MAX_CAPS;
	caps_from_hit(s, 0, hit->rcap, hit, hit->vp, hit->vl);
	*hot = hit->hot;
	return (int32_t)hit->rule;
}

/*
 * The hits sw_ruleset_match_prepare() found for this message's value of
 * field fi, copied to h (at most max); -2 when there are none to take: not
 * prepared, another value (edited, unescaped), or a walk from a later rule.
 */
static int
prepared_hits(const struct mctx *m, uint32_t fi, const char *p, uint16_t l, uint32_t start,
	      struct trie_hit *h, int max)
{
	const struct sw_rules_scratch *s = m->s;
	unsigned i = m->in->prepared - 1u;

	if (start != 0 || i >= s->npre || fi != s->pre_field || s->pre[i].n < 0 ||
	    s->pre[i].vp != p || s->pre[i].vl != l || s->pre[i].n > max)
		return -2;
	memcpy(h, s->pre_hit[i], (size_t)s->pre[i].n * sizeof(*h));
	return s->pre[i].n;
}

/* The lowest rule >= start whose conditions all hold; *hot: its record. */
static int32_t
find_winner(struct mctx *m, uint32_t start, uint32_t *hot)
{
	const struct sw_ruleset *rs = m->rs;
	struct sw_rules_scratch *s = m->s;
	if (rs->nscan == 0 && rs->nalways == rs->rules.n)
		return linear(m, start, hot);
	s->ncand = 0;
	s->overflow = false;
	s->min_rule = start;
	for (uint32_t k = 0; k < rs->nscan && !s->overflow; k++) {
		uint32_t fi = rs->scan_fields[k];
		const struct field *f = &rs->fields.v[fi];
		const char *p;
		uint16_t l;
		if (!get_value(m, fi, &p, &l))
			continue;
		if (f->trie != NULL) {
			struct trie_hit *h = &s->cand[s->ncand];
			int n = prepared_hits(m, fi, p, l, start, h, SCR_MAX_CAND - s->ncand);
			if (n == -2)
				n = trie_lookup(f->trie, rs->classes, p, l, start, h,
						SCR_MAX_CAND - s->ncand);
			if (n < 0) {
				s->overflow = true;
				break;
			}
			for (int i = 0; i < n; i++) {
				/*
				 * Independent loads, issued together rather than one
				 * after another: the rule's record (its deploy) and
				 * this worker's hit counter. A sole-condition hit
				 * reads nothing else of its rule.
				 */
				const uint8_t *r = rs->hot + h[i].hot;
				__builtin_prefetch(r);
				__builtin_prefetch(r + 64);
				__builtin_prefetch(&s->hits[h[i].rule], 1);
				if (!h[i].sole)
					__builtin_prefetch(&rs->rules.v[h[i].rule]);
				h[i].vp = p;
				h[i].vl = l;
			}
			s->ncand += n;
		}
		if (f->db != NULL) {
			hs_error_t e = hs_scan(f->db, p, l, 0, s->hs, on_hs_match, s);
			if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
				s->overflow = true;
		}
	}
	if (s->overflow)
		return linear(m, start, hot);
	/* rules that every message must try, from start on */
	uint32_t lo = 0, hi = rs->nalways;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (rs->always[mid] < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->ncand > 0) {
		/*
		 * The usual case: the lowest candidate is a trie hit on its rule's
		 * only condition, and no rule without a primary comes before it.
		 * It wins; nothing to sort or verify.
		 */
		int b = 0;
		for (int i = 1; i < s->ncand; i++)
			if (s->cand[i].rule < s->cand[b].rule)
				b = i;
		const struct trie_hit *hit = &s->cand[b];
		if (hit->trie && hit->sole && (lo >= rs->nalways || rs->always[lo] > hit->rule))
			return sole_win(s, hit, hot);
	}
	if (s->ncand > 1) {
		/* small: insertion sort */
		for (int i = 1; i < s->ncand; i++) {
			struct trie_hit c = s->cand[i];
			int j = i - 1;
			while (j >= 0 && s->cand[j].rule > c.rule) {
				s->cand[j + 1] = s->cand[j];
				j--;
			}
			s->cand[j + 1] = c;
		}
	}
	(void)cmp_cand;
	/* merge with the rules that every message must try */
	int i = 0;
	uint32_t j = lo;
	while (i < s->ncand || j < rs->nalways) {
		bool from_scan;
		uint32_t id;
		const struct trie_hit *hit = NULL;
		if (j >= rs->nalways || (i < s->ncand && s->cand[i].rule < rs->always[j])) {
			id = s->cand[i].rule;
			hit = s->cand[i].trie ? &s->cand[i] : NULL;
			from_scan = true;
			i++;
		} else {
			id = rs->always[j++];
			from_scan = false;
		}
		/* the trie decided the rule's only condition: it holds */
		if (hit != NULL && hit->sole)
			return sole_win(s, hit, hot);
		if (rule_holds(m, &rs->rules.v[id], from_scan, hit)) {
			*hot = rs->rules.v[id].hot;
			return (int32_t)id;
		}
	}
	return -1;
}

void
sw_ruleset_match_prepare(const struct sw_ruleset *rs, struct sw_rules_scratch *scratch,
			 const struct sw_sip_msg *const *msgs, unsigned n)
{
	const char *vp[TRIE_BULK_MAX];
	uint16_t vl[TRIE_BULK_MAX];
	int cnt[TRIE_BULK_MAX];

	scratch->npre = 0;
	if (n == 0)
		return;
	if (n > TRIE_BULK_MAX)
		n = TRIE_BULK_MAX;
	for (uint32_t k = 0; k < rs->nscan; k++) {
		uint32_t fi = rs->scan_fields[k];
		const struct field *f = &rs->fields.v[fi];

		/* the Request-URI's user as get_value() takes it straight from the index */
		if (f->trie == NULL || f->kind != FK_RUSER)
			continue;
		for (unsigned i = 0; i < n; i++) {
			vp[i] = msgs[i] != NULL ? msgs[i]->buf + msgs[i]->ruri.user.off : "";
			vl[i] = msgs[i] != NULL ? msgs[i]->ruri.user.len : 0;
		}
		trie_lookup_bulk(f->trie, rs->classes, vp, vl, n, rs->hot, &scratch->pre_hit[0][0],
				 SCR_PRE_HITS, cnt);
		for (unsigned i = 0; i < n; i++)
			scratch->pre[i] =
				(struct scr_pre){vp[i], vl[i], (int16_t)(msgs[i] ? cnt[i] : -2)};
		scratch->pre_field = fi;
		scratch->npre = (uint16_t)n;
		return;
	}
}

static void
result_init(struct sw_route_result *out)
{
	out->action = SW_ROUTE_NOMATCH;
	out->nedits = 0;
	out->ntargets = 0;
	out->record_route = 0;
	out->status = 0;
	out->reason.off = out->reason.len = 0;
	out->rule = -1;
	out->used = 0;
	out->route = -1;
	out->gateway = -1;
	out->max_sessions = -1;
	out->ars_id = 0;
	out->ars_slot = -1;
	out->ars_skipped = 0;
	out->ars_busy = 0;
}

int
sw_ruleset_match(const struct sw_ruleset *rs, struct sw_rules_scratch *scratch,
		 const struct sw_match_in *in, struct sw_route_result *out)
{
	result_init(out);
	if (rs == NULL || scratch == NULL || in == NULL || in->msg == NULL || !in->msg->is_request)
		return 0;
	struct mctx m;
	mctx_init(&m, rs, scratch, in, out);
	uint32_t start = 0;
	bool ars = rs->ars_default;
	int rc = 0;
	while (start < rs->rules.n) {
		uint32_t hot;
		int32_t w = find_winner(&m, start, &hot);
		if (w < 0)
			break;
		bool cont = false, a = false;
		scratch->hits[w]++;
		out->rule = w;
		rc = rule_apply(&m, rule_hot(rs, hot), &cont, &a);
		if (rc < 0)
			return rc;
		if (a)
			ars = true;
		if (!cont || out->action == SW_ROUTE_BLOCK || out->action == SW_ROUTE_REPLY)
			break;
		start = (uint32_t)w + 1;
		mctx_invalidate(&m);
	}
	if (ars && rs->pats.n > 0 && out->action != SW_ROUTE_BLOCK && out->action != SW_ROUTE_REPLY) {
		mctx_invalidate(&m);
		rc = ars_run(&m);
	}
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------------ */
/* ARS                                                                      */
/* ------------------------------------------------------------------------ */

static bool
pat_holds(struct mctx *m, const struct ars_pat *p)
{
	m->s->ncap = 0;
	for (uint32_t i = 0; i < p->ncond; i++) {
		const struct cond *c = &m->rs->conds.v[p->cond0 + i];
		if (c->cap_base + c->ncap > m->s->ncap)
			m->s->ncap = (uint8_t)(c->cap_base + c->ncap);
		if (cond_eval(m, c, true, NULL) != 1)
			return false;
	}
	return true;
}

/*
 * Room on capped pattern p for this call: under its Max Sessions, then under
 * its CPS (take: this call is the one sent there, count it in the window).
 * Only calls see caps (an initial INVITE, or a CANCEL/ACK peeking as one).
 */
static bool
caps_ok(struct mctx *m, const struct ars_pat *p, bool take)
{
	const struct sw_match_in *in = m->in;

	if (p->slot < 0 || in->ars == NULL || in->call == SW_CALL_NONE)
		return true;
	if ((p->max_sessions >= 0 && sw_ars_sessions(in->ars, p->slot) >= p->max_sessions) ||
	    (p->cps > 0 && !ars_cps_ok(in->ars, p->slot, (uint32_t)p->cps, in->now,
				       take && in->call == SW_CALL_NEW))) {
		if (m->out->ars_skipped < UINT8_MAX)
			m->out->ars_skipped++;
		return false;
	}
	return true;
}

int
ars_run(struct mctx *m)
{
	const struct sw_ruleset *rs = m->rs;
	struct sw_route_result *o = m->out;
	bool cont, ars;
	int rc;
	for (uint32_t i = 0; i < rs->nin; i++) {
		const struct ars_pat *p = &rs->pats.v[i];
		if (p->disabled || rs->routes.v[p->route].disabled)
			continue;
		if (pat_holds(m, p)) {
			if ((rc = rule_apply(m, rule_hot(rs, p->hot), &cont, &ars)) < 0)
				return rc;
			mctx_invalidate(m);
			break;
		}
	}
	bool first = true, caps = true;
again:
	for (uint32_t i = rs->nin; i < rs->pats.n; i++) {
		const struct ars_pat *p = &rs->pats.v[i];
		const struct ars_route *r = &rs->routes.v[p->route];
		if (p->disabled || r->disabled)
			continue;
		if (!pat_holds(m, p) || (caps && !caps_ok(m, p, first)))
			continue;
		if (first) {
			if ((rc = rule_apply(m, rule_hot(rs, p->hot), &cont, &ars)) < 0)
				return rc;
			o->route = (int16_t)p->route;
			o->max_sessions = p->max_sessions;
			o->ars_slot = (int16_t)p->slot;
			o->ars_id = p->max_sessions >= 0 && p->slot >= 0 ? p->id : 0;
			o->ntargets = 0;
		}
		if (r->gw >= 0)
			rc = gw_apply(m, r->gw, first);
		else if (r->target != NULL) {
			if (o->ntargets >= SW_ROUTE_MAX_TARGETS)
				break;
			rc = put(o, r->target, strlen(r->target), &o->targets[o->ntargets]);
			if (rc == 0)
				o->ntargets++;
		} else
			rc = 0;
		if (rc < 0)
			return rc;
		first = false;
		if (o->ntargets >= SW_ROUTE_MAX_TARGETS)
			break;
	}
	if (first && o->ars_skipped > 0 && m->in->call == SW_CALL_PEEK && caps) {
		/* A CANCEL (or non-2xx ACK) whose INVITE filled the last room:
		 * it follows the INVITE's route, it is never refused. */
		caps = false;
		goto again;
	}
	if (first && o->ars_skipped > 0) {
		/* every OUT pattern that held is at its cap: busy, not "no route" */
		o->action = SW_ROUTE_REPLY;
		o->status = 503;
		o->reason.off = o->reason.len = 0;
		o->ars_busy = 1;
	} else if (first && o->action == SW_ROUTE_FORWARD && o->ntargets == 0 && o->rule < 0)
		o->action = SW_ROUTE_NOMATCH;
	else if (!first && o->action == SW_ROUTE_NOMATCH)
		o->action = SW_ROUTE_FORWARD;
	return 0;
}
