/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARS routes (DIALPLAN §2, reference/001 steps 2-3): one [Route name] block
 * per route, with route settings, then [Pattern IN] / [Pattern OUT] blocks
 * holding priority, Max Sessions, CPS, the From/To patterns, the plugin
 * triples "Plugin N / Param N / Return N" and deploy patterns ("deploy X =
 * v", or lines after a [Deploy Patterns] sub-header). The flattened form of
 * reference/001 ("Patterns - IN [Matching Patterns] To: ... [Deploy
 * Patterns] From: pin&f1 Custom: &action.type=pin") is read as well.
 *
 * Captures (ours): the To pattern's groups are &t1.., From's &f1.., and the
 * plugin Returns' &p1.. in plugin order; deploy values use them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_pvt.h"

struct plug {
	int kind; /* 0 unset, 1 sipheader, 2 prop */
	char param[128];
	char ret[512];
	uint32_t line, col;
	bool has_param, has_ret;
	const char *srcline;
};

struct ast {
	struct parse_ctx *pc;
	const char *file;
	int32_t route;   /* current route */
	int32_t pat;     /* current pattern */
	bool deploy;     /* inside [Deploy Patterns] of a pattern */
	struct plug plug[10];
	int errors;
	char *pat_to, *pat_from;
	uint32_t to_line, to_col, from_line, from_col;
	const char *to_src, *from_src;
	char *srcbuf[2];
};

static bool
keyeq(const char *k, size_t kl, const char *want)
{
	return strlen(want) == kl && strncasecmp(k, want, kl) == 0;
}

static int
add_cond(struct ast *a, const char *left, const char *re, char arsvar, uint8_t arsbase,
	 uint32_t line, uint32_t col, const char *src)
{
	struct sw_ruleset *rs = a->pc->rs;
	uint32_t before = rs->conds.n;
	if (cond_parse(a->pc, false, a->file, line, src, left, strlen(left), col, re, strlen(re),
		       col) < 0)
		return -1;
	if (rs->conds.n > before) {
		rs->conds.v[before].arsvar = arsvar;
		rs->conds.v[before].arsbase = arsbase;
	}
	return 0;
}

/* Close the current pattern: its To/From and plugin conditions. */
static void
pat_close(struct ast *a)
{
	if (a->pat < 0)
		return;
	struct sw_ruleset *rs = a->pc->rs;
	struct ars_pat *p = &rs->pats.v[a->pat];
	/* conditions were appended after the deploys were seen: collect here */
	p->cond0 = rs->conds.n;
	/* no To / From pattern: any URI, and &t1 / &f1 are its user part (ours) */
	static const char *any_user = "^(?:[A-Za-z]+:)?([^@;?>]*)";
	if (a->pat_to == NULL) {
		a->pat_to = strdup(any_user);
		a->to_line = p->line;
	}
	if (a->pat_from == NULL) {
		a->pat_from = strdup(any_user);
		a->from_line = p->line;
	}
	if (a->pat_to && add_cond(a, "$geturi(To)", a->pat_to, 't', 0, a->to_line, a->to_col,
				  a->to_src) < 0)
		a->errors++;
	if (a->pat_from && add_cond(a, "$geturi(From)", a->pat_from, 'f', 0, a->from_line,
				    a->from_col, a->from_src) < 0)
		a->errors++;
	unsigned pcap = 0;
	for (int i = 0; i < 10; i++) {
		struct plug *pl = &a->plug[i];
		if (!pl->kind && !pl->has_param && !pl->has_ret)
			continue;
		if (!pl->kind || !pl->has_param || !pl->has_ret) {
			diag_at(a->pc->d, a->file, pl->line, pl->col, "error", pl->srcline,
				"plugin %d needs Plugin %d, Param %d and Return %d", i, i, i, i);
			a->errors++;
			continue;
		}
		char left[160];
		if (pl->kind == 1)
			snprintf(left, sizeof(left), "%s", pl->param);
		else
			snprintf(left, sizeof(left), "&%s", pl->param);
		uint32_t before = rs->conds.n;
		if (add_cond(a, left, pl->ret, 'p', (uint8_t)pcap, pl->line, pl->col, pl->srcline) < 0)
			a->errors++;
		else
			pcap += rs->conds.v[before].ncap;
	}
	p = &rs->pats.v[a->pat];
	p->ncond = rs->conds.n - p->cond0;
	p->ndep = rs->deps.n - p->dep0;
	free(a->pat_to);
	free(a->pat_from);
	free(a->srcbuf[0]);
	free(a->srcbuf[1]);
	a->pat_to = a->pat_from = NULL;
	a->srcbuf[0] = a->srcbuf[1] = NULL;
	memset(a->plug, 0, sizeof(a->plug));
	a->pat = -1;
	a->deploy = false;
}

static int
pat_open(struct ast *a, bool out, uint32_t line)
{
	pat_close(a);
	struct sw_ruleset *rs = a->pc->rs;
	struct ars_pat *p = VEC_PUSH(&rs->pats);
	if (p == NULL)
		return -1;
	p->route = (uint32_t)a->route;
	p->out = out;
	p->priority = 100;
	p->max_sessions = -1;
	p->cps = 0;
	p->file = a->file;
	p->line = line;
	p->order = rs->pats.n;
	p->dep0 = rs->deps.n;
	a->pat = (int32_t)(rs->pats.n - 1);
	return 0;
}

/* key = value inside a pattern (match side unless deploy) */
static void
pat_kv(struct ast *a, uint32_t line, const char *ln, const char *k, size_t kl, const char *v,
       size_t vl, uint32_t kcol, uint32_t vcol, bool deploy)
{
	struct sw_ruleset *rs = a->pc->rs;
	struct ars_pat *p = &rs->pats.v[a->pat];
	if (kl > 7 && strncasecmp(k, "deploy ", 7) == 0) {
		k += 7;
		kl -= 7;
		kcol += 7;
		trim(&k, &kl);
		deploy = true;
	}
	if (deploy) {
		if (vl >= 2 && v[0] == '<' && v[vl - 1] == '>' && memchr(v, ' ', vl)) {
			diag_at(a->pc->d, a->file, line, vcol, "warning", ln,
				"placeholder \"%.*s\" ignored", (int)vl, v);
			return;
		}
		if (deploy_parse(a->pc, true, a->file, line, ln, k, kl, kcol, v, vl, vcol, -1) < 0)
			a->errors++;
		return;
	}
	char tmp[32];
	int n = 0;
	if (keyeq(k, kl, "priority") || keyeq(k, kl, "max sessions") || keyeq(k, kl, "cps")) {
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(vl < 31 ? vl : 31), v);
		char *e;
		long x = strtol(tmp, &e, 10);
		if (vl == 0 || *e || x < -1 || x > 1000000) {
			diag_at(a->pc->d, a->file, line, vcol, "error", ln, "%.*s wants a number",
				(int)kl, k);
			a->errors++;
			return;
		}
		if (keyeq(k, kl, "priority"))
			p->priority = (int)x;
		else if (keyeq(k, kl, "cps"))
			p->cps = (int)x;
		else
			p->max_sessions = (int)x;
		return;
	}
	if (keyeq(k, kl, "disabled")) {
		if (!parse_bool(v, vl, &p->disabled)) {
			diag_at(a->pc->d, a->file, line, vcol, "error", ln, "disabled wants true or false");
			a->errors++;
		}
		return;
	}
	if (keyeq(k, kl, "To") || keyeq(k, kl, "From")) {
		bool to = keyeq(k, kl, "To");
		char **dst = to ? &a->pat_to : &a->pat_from;
		free(*dst);
		*dst = xstrndup(v, vl);
		free(a->srcbuf[to ? 0 : 1]);
		a->srcbuf[to ? 0 : 1] = xstrndup(ln, strcspn(ln, "\n"));
		if (to) {
			a->to_line = line;
			a->to_col = vcol;
			a->to_src = a->srcbuf[0];
		} else {
			a->from_line = line;
			a->from_col = vcol;
			a->from_src = a->srcbuf[1];
		}
		return;
	}
	const char *words[3] = {"Plugin", "Param", "Return"};
	for (int w = 0; w < 3; w++) {
		size_t wl = strlen(words[w]);
		if (kl > wl && strncasecmp(k, words[w], wl) == 0) {
			const char *num = k + wl;
			size_t nl = kl - wl;
			trim(&num, &nl);
			if (nl != 1 || !isdigit((unsigned char)num[0])) {
				diag_at(a->pc->d, a->file, line, kcol, "error", ln,
					"%s wants a plugin number 0-9", words[w]);
				a->errors++;
				return;
			}
			n = num[0] - '0';
			struct plug *pl = &a->plug[n];
			if (pl->line == 0) {
				pl->line = line;
				pl->col = kcol;
				pl->srcline = ln;
			}
			if (w == 0) {
				if (vl == 9 && strncasecmp(v, "sipheader", 9) == 0)
					pl->kind = 1;
				else if (vl == 4 && strncasecmp(v, "prop", 4) == 0)
					pl->kind = 2;
				else {
					diag_at(a->pc->d, a->file, line, vcol, "error", ln,
						"unknown plugin \"%.*s\" (sipheader or prop)", (int)vl, v);
					a->errors++;
					pl->kind = -1;
				}
			} else if (w == 1) {
				if (vl == 0 || vl >= sizeof(pl->param)) {
					diag_at(a->pc->d, a->file, line, vcol, "error", ln, "bad Param");
					a->errors++;
				}
				snprintf(pl->param, sizeof(pl->param), "%.*s", (int)vl, v);
				pl->has_param = true;
			} else {
				snprintf(pl->ret, sizeof(pl->ret), "%.*s", (int)vl, v);
				pl->has_ret = true;
			}
			/* srcline must outlive parsing of this line: copy lazily */
			return;
		}
	}
	diag_at(a->pc->d, a->file, line, kcol, "error", ln,
		"unknown pattern setting \"%.*s\" (priority, max sessions, cps, disabled, To, From, Plugin N, Param N, Return N, deploy X)",
		(int)kl, k);
	a->errors++;
}

/* The flattened one-line form after "Patterns - IN" / "Patterns - OUT". */
static void
flat(struct ast *a, uint32_t line, const char *ln, const char *s, const char *e)
{
	bool deploy = false;
	while (s < e) {
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s >= e)
			break;
		if ((size_t)(e - s) >= 19 && strncasecmp(s, "[Matching Patterns]", 19) == 0) {
			s += 19;
			continue;
		}
		if ((size_t)(e - s) >= 17 && strncasecmp(s, "[Deploy Patterns]", 17) == 0) {
			s += 17;
			deploy = true;
			continue;
		}
		if (*s == '<') {
			const char *gt = memchr(s, '>', (size_t)(e - s));
			const char *q = gt ? gt + 1 : e;
			diag_at(a->pc->d, a->file, line, (uint32_t)(s - ln) + 1, "warning", ln,
				"placeholder \"%.*s\" ignored", (int)(q - s), s);
			s = q;
			continue;
		}
		/* key: up to ':' or '=' (keys may be two words: "Plugin 1") */
		const char *sep = s;
		while (sep < e && *sep != ':' && *sep != '=')
			sep++;
		if (sep >= e) {
			diag_at(a->pc->d, a->file, line, (uint32_t)(s - ln) + 1, "error", ln,
				"expected \"Key: value\"");
			a->errors++;
			return;
		}
		const char *k = s;
		size_t kl = (size_t)(sep - s);
		trim(&k, &kl);
		const char *v = sep + 1;
		while (v < e && isspace((unsigned char)*v))
			v++;
		const char *ve = v;
		while (ve < e && !isspace((unsigned char)*ve))
			ve++;
		pat_kv(a, line, ln, k, kl, v, (size_t)(ve - v), (uint32_t)(k - ln) + 1,
		       (uint32_t)(v - ln) + 1, deploy);
		s = ve;
	}
}

static void
route_kv(struct ast *a, uint32_t line, const char *ln, const char *k, size_t kl, const char *v,
	 size_t vl, uint32_t kcol, uint32_t vcol)
{
	struct ars_route *r = &a->pc->rs->routes.v[a->route];
	char **dst = NULL;
	if (keyeq(k, kl, "description"))
		dst = &r->desc;
	else if (keyeq(k, kl, "gateway"))
		dst = &r->gateway;
	else if (keyeq(k, kl, "target"))
		dst = &r->target;
	else if (keyeq(k, kl, "register uri"))
		dst = &r->reg_uri;
	else if (keyeq(k, kl, "proxy address"))
		dst = &r->proxy;
	else if (keyeq(k, kl, "user"))
		dst = &r->user;
	else if (keyeq(k, kl, "password"))
		dst = &r->password;
	if (dst) {
		free(*dst);
		*dst = xstrndup(v, vl);
		if (dst == &r->gateway) {
			r->gw = gateway_find(a->pc->rs, v, vl);
			if (r->gw < 0) {
				diag_at(a->pc->d, a->file, line, vcol, "error", ln,
					"unknown gateway \"%.*s\"", (int)vl, v);
				a->errors++;
			}
		} else if (dst == &r->target && !target_valid(v, vl)) {
			diag_at(a->pc->d, a->file, line, vcol, "error", ln,
				"bad target \"%.*s\" (want host[:port][;transport=x])", (int)vl, v);
			a->errors++;
		}
		return;
	}
	if (keyeq(k, kl, "disabled")) {
		if (!parse_bool(v, vl, &r->disabled)) {
			diag_at(a->pc->d, a->file, line, vcol, "error", ln, "disabled wants true or false");
			a->errors++;
		}
		return;
	}
	if (keyeq(k, kl, "register expire") || keyeq(k, kl, "update period")) {
		char tmp[16];
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(vl < 15 ? vl : 15), v);
		char *e;
		long x = strtol(tmp, &e, 10);
		bool pct = keyeq(k, kl, "update period");
		if (vl == 0 || *e || x < 1 || x > (pct ? 100 : 604800)) {
			diag_at(a->pc->d, a->file, line, vcol, "error", ln, "%.*s wants a number%s",
				(int)kl, k, pct ? " 1-100 (%)" : " of seconds");
			a->errors++;
			return;
		}
		if (pct)
			r->update_pct = (int)x;
		else
			r->reg_expire = (int)x;
		return;
	}
	diag_at(a->pc->d, a->file, line, kcol, "error", ln,
		"unknown route setting \"%.*s\" (description, disabled, gateway, target, register uri, proxy address, register expire, update period, user, password)",
		(int)kl, k);
	a->errors++;
}

int
ars_parse_file(struct parse_ctx *pc, const char *path)
{
	size_t len = 0;
	char *text = rules_read_file(path, &len);
	if (text == NULL) {
		diag_at(pc->d, path, 0, 0, "error", NULL, "cannot read: %m");
		return -1;
	}
	struct ast a = {.pc = pc, .file = rules_keep_name(pc->rs, path), .route = -1, .pat = -1};
	uint32_t line = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		line++;
		const char *ln = p;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		p = nl ? nl + 1 : end;
		while (e > ln && isspace((unsigned char)e[-1]))
			e--;
		const char *s = ln;
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s == e || *s == '#')
			continue;
		uint32_t col = (uint32_t)(s - ln) + 1;
		size_t rest = (size_t)(e - s);
		if (*s == '[') {
			const char *rb = memchr(s, ']', rest);
			if (rb == NULL) {
				diag_at(pc->d, a.file, line, col, "error", ln, "missing ']'");
				a.errors++;
				continue;
			}
			const char *h = s + 1;
			size_t hl = (size_t)(rb - h);
			trim(&h, &hl);
			if (hl > 6 && strncasecmp(h, "Route ", 6) == 0) {
				pat_close(&a);
				struct ars_route *r = VEC_PUSH(&pc->rs->routes);
				if (r == NULL)
					break;
				const char *n = h + 6;
				size_t nlen = hl - 6;
				trim(&n, &nlen);
				r->name = xstrndup(n, nlen);
				r->file = a.file;
				r->line = line;
				r->gw = -1;
				r->reg_expire = 3600;
				r->update_pct = 90;
				a.route = (int32_t)(pc->rs->routes.n - 1);
				continue;
			}
			bool in = false, out = false;
			char hb[64];
			snprintf(hb, sizeof(hb), "%.*s", (int)(hl < 63 ? hl : 63), h);
			if (strcasecmp(hb, "Pattern IN") == 0 || strcasecmp(hb, "Patterns IN") == 0 ||
			    strcasecmp(hb, "Patterns - IN") == 0 || strcasecmp(hb, "Pattern - IN") == 0)
				in = true;
			if (strcasecmp(hb, "Pattern OUT") == 0 || strcasecmp(hb, "Patterns OUT") == 0 ||
			    strcasecmp(hb, "Patterns - OUT") == 0 || strcasecmp(hb, "Pattern - OUT") == 0)
				out = true;
			if (in || out) {
				if (a.route < 0) {
					diag_at(pc->d, a.file, line, col, "error", ln,
						"pattern outside a [Route name]");
					a.errors++;
					continue;
				}
				pat_open(&a, out, line);
				continue;
			}
			if (strcasecmp(hb, "Matching Patterns") == 0 && a.pat >= 0) {
				a.deploy = false;
				continue;
			}
			if (strcasecmp(hb, "Deploy Patterns") == 0 && a.pat >= 0) {
				a.deploy = true;
				continue;
			}
			diag_at(pc->d, a.file, line, col, "error", ln, "unknown section \"[%.*s]\"", (int)hl, h);
			a.errors++;
			continue;
		}
		/* flattened "Patterns - IN [Matching Patterns] ..." */
		if (rest > 13 && strncasecmp(s, "Patterns - IN", 13) == 0 && a.route >= 0) {
			pat_open(&a, false, line);
			flat(&a, line, ln, s + 13, e);
			continue;
		}
		if (rest > 14 && strncasecmp(s, "Patterns - OUT", 14) == 0 && a.route >= 0) {
			pat_open(&a, true, line);
			flat(&a, line, ln, s + 14, e);
			continue;
		}
		if (a.route < 0) {
			diag_at(pc->d, a.file, line, col, "error", ln, "setting outside a [Route name]");
			a.errors++;
			continue;
		}
		/* key = value or key: value */
		const char *sep = s;
		while (sep < e && *sep != '=' && *sep != ':')
			sep++;
		if (sep >= e) {
			diag_at(pc->d, a.file, line, col, "error", ln, "expected \"key = value\"");
			a.errors++;
			continue;
		}
		const char *k = s, *v = sep + 1;
		size_t kl = (size_t)(sep - s), vl = (size_t)(e - v);
		trim(&k, &kl);
		trim(&v, &vl);
		if (a.pat >= 0)
			pat_kv(&a, line, ln, k, kl, v, vl, (uint32_t)(k - ln) + 1, (uint32_t)(v - ln) + 1,
			       a.deploy);
		else
			route_kv(&a, line, ln, k, kl, v, vl, (uint32_t)(k - ln) + 1,
				 (uint32_t)(v - ln) + 1);
	}
	/* plugin srclines point into text: close before freeing it */
	pat_close(&a);
	for (uint32_t i = 0; i < pc->rs->routes.n; i++) {
		struct ars_route *r = &pc->rs->routes.v[i];
		if (r->file == a.file && r->gateway == NULL && r->target == NULL) {
			bool has_out = false;
			for (uint32_t k = 0; k < pc->rs->pats.n; k++)
				if (pc->rs->pats.v[k].route == i && pc->rs->pats.v[k].out)
					has_out = true;
			if (has_out) {
				const char *rl = text;
				for (uint32_t l = 1; l < r->line && rl; l++) {
					rl = strchr(rl, '\n');
					if (rl)
						rl++;
				}
				diag_at(pc->d, a.file, r->line, 1, "error", rl,
					"route \"%s\" has OUT patterns but neither gateway nor target", r->name);
				a.errors++;
			}
		}
	}
	free(text);
	return a.errors ? -1 : 0;
}
