/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dial-plan files (DIALPLAN.md §1.3) into rules, conditions and deploy
 * patterns. Every fault is reported with its file:line:col and the line
 * echoed; parsing goes on after an error so that a file shows all of them.
 * Also accepts the bare "[Matching Patterns]" blocks of reference/000-001
 * (each starts an unnamed rule), their flattened one-line form and the
 * "Header: value" / "Header: <empty>" colon form.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "rules/rules_pvt.h"

int
vec_grow(void **v, uint32_t *cap, size_t elt)
{
	uint32_t nc = *cap ? *cap * 2 : 16;
	void *t = realloc(*v, (size_t)nc * elt);
	if (t == NULL)
		return -ENOMEM;
	*v = t;
	*cap = nc;
	return 0;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

static bool
is_tchar(int c)
{
	/* RFC 3261 token characters, as allowed in header names */
	return isalnum(c) || strchr("-.!%*_+`'~", c) != NULL;
}

int
hdr_type_of(const char *name, size_t len)
{
	static const struct {
		const char *name;
		char compact;
		int type;
	} tab[] = {
#define SW_X_TAB(e, n, c) {n, c, SW_HDR_##e},
		SW_SIP_HDR_LIST(SW_X_TAB)
#undef SW_X_TAB
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (strlen(tab[i].name) == len && strncasecmp(tab[i].name, name, len) == 0)
			return tab[i].type;
		if (len == 1 && tab[i].compact && tolower((unsigned char)name[0]) == tab[i].compact)
			return tab[i].type;
	}
	return SW_HDR_OTHER;
}

static const char *
hdr_full_name(int type)
{
	static const char *names[] = {
		"",
#define SW_X_NAME(e, n, c) n,
		SW_SIP_HDR_LIST(SW_X_NAME)
#undef SW_X_NAME
	};
	return type > 0 && type < SW_HDR__COUNT ? names[type] : NULL;
}

/* ------------------------------------------------------------------------ */
/* Left sides                                                               */
/* ------------------------------------------------------------------------ */

/* Split "a,b,c" at depth-0 commas (quotes, (), [], {} nest). */
static int
split_args(const char *s, size_t len, const char **a, size_t *al, int max)
{
	int n = 0, depth = 0;
	bool q = false;
	size_t st = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : ',';
		if (i < len && c == '"')
			q = !q;
		if (q && i < len)
			continue;
		if (c == '(' || c == '[' || c == '{')
			depth++;
		else if (c == ')' || c == ']' || c == '}')
			depth--;
		else if (c == ',' && depth <= 0) {
			if (n == max)
				return -1;
			const char *p = s + st;
			size_t l = i - st;
			while (l && isspace((unsigned char)*p))
				p++, l--;
			while (l && isspace((unsigned char)p[l - 1]))
				l--;
			if (l >= 2 && p[0] == '"' && p[l - 1] == '"')
				p++, l -= 2;
			a[n] = p;
			al[n] = l;
			n++;
			st = i + 1;
		}
	}
	return n;
}

static int
parse_addr(const char *s, size_t len, struct sw_addr *a)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *p = buf;
	size_t l = len;
	if (p[0] == '[' && p[l - 1] == ']') {
		p[l - 1] = 0;
		p++;
	}
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, p, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, p, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

static int
parse_hhmm(const char *s, size_t len)
{
	unsigned h, m;
	char buf[16];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	int n = 0;
	if (sscanf(buf, "%u:%u%n", &h, &m, &n) != 2 || (size_t)n != len || h > 24 || m > 59 ||
	    (h == 24 && m != 0))
		return -1;
	return (int)(h * 60 + m);
}

static int
field_add(struct sw_ruleset *rs, struct field *f)
{
	if (f->key != NULL && f->kind != FK_AND && f->kind != FK_OR) {
		for (uint32_t i = 0; i < rs->fields.n; i++)
			if (rs->fields.v[i].key && strcmp(rs->fields.v[i].key, f->key) == 0) {
				free(f->key);
				free(f->hname);
				free(f->pname);
				tz_free(f->tz);
				return (int)i;
			}
	}
	struct field *nf = VEC_PUSH(&rs->fields);
	if (nf == NULL)
		return -1;
	*nf = *f;
	return (int)(rs->fields.n - 1);
}

static char *
mkkey(const char *fmt, const char *a, size_t al, const char *b, size_t bl)
{
	char buf[512];
	snprintf(buf, sizeof(buf), fmt, (int)al, a, (int)bl, b);
	return strdup(buf);
}

/* Returns the field index, or -1 with err set; -2 when the error is already reported. */
int
field_intern(struct sw_ruleset *rs, const char *left, size_t len, char *err, size_t errlen)
{
	struct field f;
	memset(&f, 0, sizeof(f));
	f.htype = SW_HDR_OTHER;
	if (len == 0) {
		snprintf(err, errlen, "missing left side before '='");
		return -1;
	}
	if (left[0] == '&') {
		size_t i = 1;
		while (i < len && (isalnum((unsigned char)left[i]) || left[i] == '_' || left[i] == '.'))
			i++;
		if (i == 1 || i != len) {
			snprintf(err, errlen, "bad variable name \"%.*s\"", (int)len, left);
			return -1;
		}
		f.kind = FK_ENV;
		f.pname = xstrndup(left + 1, len - 1);
		f.key = mkkey("&%.*s%.*s", left + 1, len - 1, "", 0);
		return field_add(rs, &f);
	}
	if (left[0] != '$') {
		for (size_t i = 0; i < len; i++)
			if (!is_tchar((unsigned char)left[i])) {
				snprintf(err, errlen, "bad header name \"%.*s\"", (int)len, left);
				return -1;
			}
		f.kind = FK_HDR;
		f.scannable = true;
		f.htype = (uint8_t)hdr_type_of(left, len);
		const char *full = hdr_full_name(f.htype);
		f.hname = full ? strdup(full) : xstrndup(left, len);
		char low[256];
		size_t n = strlen(f.hname) < 255 ? strlen(f.hname) : 255;
		for (size_t i = 0; i < n; i++)
			low[i] = (char)tolower((unsigned char)f.hname[i]);
		f.key = mkkey("%.*s%.*s", low, n, "", 0);
		return field_add(rs, &f);
	}
	/* $name or $name(args) */
	size_t nl = 1;
	while (nl < len && (isalnum((unsigned char)left[nl]) || left[nl] == '_'))
		nl++;
	const char *args = NULL;
	size_t alen = 0;
	if (nl < len) {
		if (left[nl] != '(' || left[len - 1] != ')') {
			snprintf(err, errlen, "unknown variable \"%.*s\"", (int)len, left);
			return -1;
		}
		args = left + nl + 1;
		alen = len - nl - 2;
	}
	const char *a[16];
	size_t al[16];
	int na = args ? split_args(args, alen, a, al, 16) : 0;
	if (na < 0) {
		snprintf(err, errlen, "too many arguments in \"%.*s\"", (int)len, left);
		return -1;
	}
	static const struct {
		const char *name;
		uint8_t kind;
		int8_t nmin, nmax;
		bool scannable;
	} vars[] = {
		{"request", FK_REQUEST, 0, 0, true},   {"method", FK_METHOD, 0, 0, true},
		{"ruri", FK_RURI, 0, 0, true},         {"ruser", FK_RUSER, 0, 0, true},
		{"rhost", FK_RHOST, 0, 0, true},       {"geturi", FK_GETURI, 1, 1, true},
		{"param", FK_PARAM, 2, 2, true},       {"headerParam", FK_PARAM, 2, 2, true},
		{"uriParam", FK_URIPARAM, 2, 2, true}, {"addr", FK_ADDR, 0, 0, true},
		{"addrPrefix", FK_ADDRPREFIX, 1, 1, false},
		{"addrRange", FK_ADDRRANGE, 2, 2, false},
		{"addrType", FK_ADDRTYPE, 0, 0, false}, {"port", FK_PORT, 0, 0, true},
		{"transport", FK_TRANSPORT, 0, 0, false},
		{"localhost", FK_LOCALHOST, 0, 1, false},
		{"date", FK_DATE, 0, 0, false},        {"time", FK_TIME, 0, 0, false},
		{"timerange", FK_TIMERANGE, 2, 3, false},
		{"and", FK_AND, 1, 16, false},         {"or", FK_OR, 1, 16, false},
	};
	int vi = -1;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i].name) == nl - 1 && strncmp(vars[i].name, left + 1, nl - 1) == 0)
			vi = (int)i;
	if (vi < 0) {
		snprintf(err, errlen, "unknown variable \"%.*s\"", (int)nl, left);
		return -1;
	}
	if ((args == NULL && vars[vi].nmin > 0) || na < vars[vi].nmin || na > vars[vi].nmax) {
		snprintf(err, errlen, "\"$%s\" takes %d to %d arguments, %d given", vars[vi].name,
			 vars[vi].nmin, vars[vi].nmax, na);
		return -1;
	}
	f.kind = vars[vi].kind;
	f.scannable = vars[vi].scannable;
	if (f.kind == FK_LOCALHOST && na == 1)
		f.kind = FK_LOCALHOST_URI;
	switch (f.kind) {
	case FK_GETURI:
	case FK_PARAM:
	case FK_URIPARAM:
	case FK_LOCALHOST_URI: {
		for (size_t i = 0; i < al[0]; i++)
			if (!is_tchar((unsigned char)a[0][i])) {
				snprintf(err, errlen, "bad header name \"%.*s\"", (int)al[0], a[0]);
				return -1;
			}
		if (al[0] == 0) {
			snprintf(err, errlen, "missing header name in \"%.*s\"", (int)len, left);
			return -1;
		}
		f.htype = (uint8_t)hdr_type_of(a[0], al[0]);
		const char *full = hdr_full_name(f.htype);
		f.hname = full ? strdup(full) : xstrndup(a[0], al[0]);
		if (na == 2) {
			if (al[1] == 0) {
				snprintf(err, errlen, "missing parameter name in \"%.*s\"", (int)len, left);
				free(f.hname);
				return -1;
			}
			f.pname = xstrndup(a[1], al[1]);
		}
		char buf[512];
		snprintf(buf, sizeof(buf), "$%.*s(%s%s%s)", (int)nl - 1, left + 1, f.hname,
			 na == 2 ? "," : "", na == 2 ? f.pname : "");
		for (char *p = buf; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		f.key = strdup(buf);
		break;
	}
	case FK_ADDRPREFIX: {
		const char *sl = memchr(a[0], '/', al[0]);
		if (sl == NULL || parse_addr(a[0], (size_t)(sl - a[0]), &f.a1) < 0) {
			snprintf(err, errlen, "bad CIDR \"%.*s\" (want address/length)", (int)al[0], a[0]);
			return -1;
		}
		char *end;
		char lb[8] = {0};
		size_t ll = al[0] - (size_t)(sl - a[0]) - 1;
		if (ll == 0 || ll > 3) {
			snprintf(err, errlen, "bad prefix length in \"%.*s\"", (int)al[0], a[0]);
			return -1;
		}
		memcpy(lb, sl + 1, ll);
		long pl = strtol(lb, &end, 10);
		if (*end || pl < 0 || pl > (f.a1.family == AF_INET ? 32 : 128)) {
			snprintf(err, errlen, "bad prefix length in \"%.*s\"", (int)al[0], a[0]);
			return -1;
		}
		f.plen = (uint8_t)pl;
		f.key = mkkey("$addrprefix(%.*s%.*s)", a[0], al[0], "", 0);
		break;
	}
	case FK_ADDRRANGE:
		if (parse_addr(a[0], al[0], &f.a1) < 0 || parse_addr(a[1], al[1], &f.a2) < 0 ||
		    f.a1.family != f.a2.family) {
			snprintf(err, errlen, "bad address range \"%.*s\"", (int)alen, args);
			return -1;
		}
		if (memcmp(f.a1.bytes, f.a2.bytes, 16) > 0) {
			snprintf(err, errlen, "address range \"%.*s\" ends before it starts", (int)alen,
				 args);
			return -1;
		}
		f.key = mkkey("$addrrange(%.*s,%.*s)", a[0], al[0], a[1], al[1]);
		break;
	case FK_TIMERANGE: {
		int b = parse_hhmm(a[0], al[0]), e = parse_hhmm(a[1], al[1]);
		if (b < 0 || e < 0) {
			snprintf(err, errlen, "bad time in \"%.*s\" (want HH:MM)", (int)len, left);
			return -1;
		}
		f.tr_begin = (int16_t)b;
		f.tr_end = (int16_t)e;
		if (na == 3) {
			char tzn[128];
			snprintf(tzn, sizeof(tzn), "%.*s", (int)al[2], a[2]);
			f.tz = tz_load(tzn);
			if (f.tz == NULL) {
				snprintf(err, errlen, "unknown time zone \"%s\"", tzn);
				return -1;
			}
		}
		f.key = mkkey("$timerange(%.*s%.*s)", args, alen, "", 0);
		break;
	}
	case FK_AND:
	case FK_OR:
		f.key = mkkey("$%.*s(%.*s)", left + 1, nl - 1, args, alen);
		/* sub-conditions are parsed by the caller (cond_parse) */
		break;
	default:
		f.key = mkkey("$%.*s%.*s", left + 1, nl - 1, "", 0);
		break;
	}
	return field_add(rs, &f);
}

/* ------------------------------------------------------------------------ */
/* Conditions                                                               */
/* ------------------------------------------------------------------------ */

int
regex_ncaps(const char *re, char *err, size_t errlen, size_t *erroff)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	if (c == NULL) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "bad regular expression: %s", (char *)msg);
		*erroff = eo;
		return -1;
	}
	uint32_t n = 0;
	pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &n);
	pcre2_code_free(c);
	return (int)n;
}

static int
cond_push(struct parse_ctx *pc, bool sub, struct cond *c)
{
	struct cond *slot = sub ? VEC_PUSH(&pc->rs->subconds) : VEC_PUSH(&pc->rs->conds);
	if (slot == NULL)
		return -1;
	*slot = *c;
	return 0;
}

int
cond_parse(struct parse_ctx *pc, bool sub, const char *file, uint32_t line, const char *srcline,
	   const char *left, size_t llen, uint32_t lcol, const char *val, size_t vlen, uint32_t vcol)
{
	char err[256];
	int fi = field_intern(pc->rs, left, llen, err, sizeof(err));
	if (fi < 0) {
		diag_at(pc->d, file, line, lcol, "error", srcline, "%s", err);
		return -1;
	}
	/*
	 * $addr = 198.18.0.0/15 or $addr = 198.18.0.1-198.18.0.9 (ours): an
	 * address block or range written where a regex is expected means
	 * $addrPrefix(...) / $addrRange(...) = true.
	 */
	if (pc->rs->fields.v[fi].kind == FK_ADDR) {
		const char *v = val;
		size_t vl = vlen;
		bool neg = vl && v[0] == '!';
		if (neg)
			v++, vl--;
		const char *sl = memchr(v, '/', vl), *da = memchr(v, '-', vl);
		struct sw_addr a, b;
		char left2[160], val2[8];
		int kind = 0;
		if (sl && vl < 100 && parse_addr(v, (size_t)(sl - v), &a) == 0)
			kind = 1;
		else if (da && vl < 140 && parse_addr(v, (size_t)(da - v), &a) == 0 &&
			 parse_addr(da + 1, vl - (size_t)(da - v) - 1, &b) == 0)
			kind = 2;
		if (kind) {
			snprintf(left2, sizeof(left2), kind == 1 ? "$addrPrefix(%.*s)" : "$addrRange(%.*s)",
				 (int)vl, v);
			if (kind == 2)
				left2[11 + (da - v)] = ',';
			snprintf(val2, sizeof(val2), "%s^true$", neg ? "!" : "");
			return cond_parse(pc, sub, file, line, srcline, left2, strlen(left2), vcol, val2,
					  strlen(val2), vcol);
		}
	}
	struct cond c;
	memset(&c, 0, sizeof(c));
	c.field = (uint32_t)fi;
	c.file = file;
	c.line = line;
	c.col = vcol;
	if (vlen > 0 && val[0] == '!') {
		c.neg = true;
		val++;
		vlen--;
		vcol++;
	}
	if (vlen == 0) {
		diag_at(pc->d, file, line, vcol, "error", srcline, "empty pattern for \"%.*s\"",
			(int)llen, left);
		return -1;
	}
	c.re = xstrndup(val, vlen);
	size_t eo = 0;
	int n = regex_ncaps(c.re, err, sizeof(err), &eo);
	if (n < 0) {
		diag_at(pc->d, file, line, vcol + (uint32_t)eo, "error", srcline, "%s", err);
		free(c.re);
		return -1;
	}
	c.ncap = c.neg ? 0 : (uint8_t)(n > 255 ? 255 : n);
	struct field *f = &pc->rs->fields.v[fi];
	if ((f->kind == FK_AND || f->kind == FK_OR) && f->nsub == 0) {
		/* parse the sub-conditions "left=pattern, left=pattern" */
		const char *args = memchr(left, '(', llen) + 1;
		size_t alen = (size_t)(left + llen - 1 - args);
		const char *a[16];
		size_t al[16];
		int na = split_args(args, alen, a, al, 16);
		uint32_t first = pc->rs->subconds.n;
		int bad = 0;
		for (int i = 0; i < na; i++) {
			const char *eq = NULL;
			int depth = 0;
			for (size_t k = 0; k < al[i]; k++) {
				char ch = a[i][k];
				if (ch == '(')
					depth++;
				else if (ch == ')')
					depth--;
				else if (ch == '=' && depth == 0) {
					eq = a[i] + k;
					break;
				}
			}
			uint32_t acol = lcol + (uint32_t)(a[i] - left);
			if (eq == NULL) {
				diag_at(pc->d, file, line, acol, "error", srcline,
					"sub-condition \"%.*s\" has no '='", (int)al[i], a[i]);
				bad = 1;
				continue;
			}
			const char *l = a[i], *v = eq + 1;
			size_t ll = (size_t)(eq - a[i]), vl = al[i] - ll - 1;
			while (ll && isspace((unsigned char)l[ll - 1]))
				ll--;
			while (vl && isspace((unsigned char)*v))
				v++, vl--;
			if (cond_parse(pc, true, file, line, srcline, l, ll, acol, v, vl,
				       lcol + (uint32_t)(v - left)) < 0)
				bad = 1;
		}
		f = &pc->rs->fields.v[fi];
		f->sub0 = first;
		f->nsub = pc->rs->subconds.n - first;
		if (bad) {
			free(c.re);
			return -1;
		}
	}
	if (cond_push(pc, sub, &c) < 0) {
		free(c.re);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Deploy patterns                                                          */
/* ------------------------------------------------------------------------ */

bool
parse_bool(const char *v, size_t l, bool *out);

bool
target_valid(const char *s, size_t len)
{
	/* host[:port][;transport=x]; host may be [v6] */
	size_t i = 0;
	if (len == 0)
		return false;
	if (s[0] == '[') {
		const char *e = memchr(s, ']', len);
		if (e == NULL)
			return false;
		struct sw_addr a;
		if (parse_addr(s, (size_t)(e - s) + 1, &a) < 0)
			return false;
		i = (size_t)(e - s) + 1;
	} else {
		while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-' ||
				   s[i] == '_'))
			i++;
		if (i == 0)
			return false;
	}
	if (i < len && s[i] == ':') {
		i++;
		unsigned port = 0;
		size_t st = i;
		while (i < len && isdigit((unsigned char)s[i]))
			port = port * 10 + (unsigned)(s[i++] - '0');
		if (i == st || port == 0 || port > 65535)
			return false;
	}
	if (i < len && s[i] == ';') {
		static const char *tr[] = {"transport=udp", "transport=tcp", "transport=tls",
					   "transport=ws", "transport=wss"};
		for (size_t k = 0; k < 5; k++)
			if (len - i - 1 == strlen(tr[k]) && strncasecmp(s + i + 1, tr[k], len - i - 1) == 0)
				return true;
		return false;
	}
	return i == len;
}

bool
parse_bool(const char *v, size_t l, bool *out)
{
	if (l == 4 && strncasecmp(v, "true", 4) == 0)
		*out = true;
	else if (l == 5 && strncasecmp(v, "false", 5) == 0)
		*out = false;
	else if (l == 3 && strncasecmp(v, "yes", 3) == 0)
		*out = true;
	else if (l == 2 && strncasecmp(v, "no", 2) == 0)
		*out = false;
	else
		return false;
	return true;
}

static bool
has_vars(const char *v, size_t l)
{
	for (size_t i = 0; i + 1 < l; i++)
		if ((v[i] == '%' && (isdigit((unsigned char)v[i + 1]) || v[i + 1] == '{')) ||
		    (v[i] == '&' && (isalpha((unsigned char)v[i + 1]))))
			return true;
	return false;
}

/* Highest %n referenced, for the check against the rule's groups. */
static int
max_capref(const char *v, size_t l, uint32_t *col)
{
	int mx = 0;
	for (size_t i = 0; i + 1 < l; i++) {
		if (v[i] != '%')
			continue;
		int n = -1;
		if (isdigit((unsigned char)v[i + 1]))
			n = v[i + 1] - '0';
		else if (v[i + 1] == '{') {
			n = atoi(v + i + 2);
		}
		if (n > mx) {
			mx = n;
			*col = (uint32_t)i;
		}
	}
	return mx;
}

int
deploy_parse(struct parse_ctx *pc, bool ars, const char *file, uint32_t line, const char *srcline,
	     const char *left, size_t llen, uint32_t lcol, const char *val, size_t vlen,
	     uint32_t vcol, int ncap)
{
	struct deploy d;
	memset(&d, 0, sizeof(d));
	d.file = file;
	d.line = line;
	d.col = vcol;
	if (vlen == 7 && memcmp(val, "<empty>", 7) == 0)
		vlen = 0;
	bool b;
	if (llen == 0) {
		diag_at(pc->d, file, line, lcol, "error", srcline, "missing left side before '='");
		return -1;
	}
	if (left[0] == '$') {
		static const struct {
			const char *n;
			uint8_t k;
		} dv[] = {{"$target", DK_TARGET},     {"$action", DK_ACTION}, {"$response", DK_RESPONSE},
			  {"$continue", DK_CONTINUE}, {"$recordroute", DK_RECORDROUTE},
			  {"$auth", DK_AUTH},         {"$ars", DK_ARS},       {"$ruri", DK_RURI}};
		int k = -1;
		for (size_t i = 0; i < sizeof(dv) / sizeof(dv[0]); i++)
			if (strlen(dv[i].n) == llen && strncasecmp(dv[i].n, left, llen) == 0)
				k = dv[i].k;
		if (k < 0) {
			diag_at(pc->d, file, line, lcol, "error", srcline,
				"unknown deploy variable \"%.*s\"", (int)llen, left);
			return -1;
		}
		d.kind = (uint8_t)k;
	} else if (left[0] == '&') {
		size_t i = 1;
		while (i < llen && (isalnum((unsigned char)left[i]) || left[i] == '_' || left[i] == '.'))
			i++;
		if (i == 1 || i != llen) {
			diag_at(pc->d, file, line, lcol, "error", srcline, "bad variable name \"%.*s\"",
				(int)llen, left);
			return -1;
		}
		d.kind = DK_ENV;
		d.name = xstrndup(left + 1, llen - 1);
	} else {
		bool add = false;
		if (llen > 1 && left[llen - 1] == '+') {
			add = true;
			llen--;
			while (llen && isspace((unsigned char)left[llen - 1]))
				llen--;
		}
		for (size_t i = 0; i < llen; i++)
			if (!is_tchar((unsigned char)left[i]) || (left[i] == '+' && i == llen - 1)) {
				diag_at(pc->d, file, line, lcol + (uint32_t)i, "error", srcline,
					"bad header name \"%.*s\"", (int)llen, left);
				return -1;
			}
		d.htype = (uint8_t)hdr_type_of(left, llen);
		const char *full = hdr_full_name(d.htype);
		d.name = full ? strdup(full) : xstrndup(left, llen);
		if (ars && llen == 6 && strncasecmp(left, "Custom", 6) == 0)
			d.kind = DK_CUSTOM;
		else if (ars && !add && d.htype == SW_HDR_FROM)
			d.kind = DK_ARS_FROM;
		else if (ars && !add && d.htype == SW_HDR_TO)
			d.kind = DK_ARS_TO;
		else if (add)
			d.kind = DK_HDR_ADD;
		else if (d.htype == SW_HDR_TO)
			d.kind = DK_TO;
		else
			d.kind = DK_HDR;
		if (d.htype == SW_HDR_VIA || d.htype == SW_HDR_CALL_ID || d.htype == SW_HDR_CSEQ ||
		    d.htype == SW_HDR_CONTENT_LENGTH) {
			diag_at(pc->d, file, line, lcol, "error", srcline,
				"header \"%s\" cannot be set by a rule", d.name);
			free(d.name);
			return -1;
		}
	}
	d.has_vars = has_vars(val, vlen);
	d.value = xstrndup(val, vlen);
	d.vlen = (uint32_t)vlen;
	const char *err = NULL;
	switch (d.kind) {
	case DK_TARGET:
		if (vlen == 0)
			err = "empty $target";
		else if (!d.has_vars) {
			const char *p = val, *e = val + vlen;
			unsigned items = 0;
			for (const char *q = val; q < e; q++)
				items += *q == ',';
			if (items + 1 > SW_ROUTE_MAX_TARGETS) {
				diag_at(pc->d, file, line, vcol, "error", srcline,
					"%u targets; at most %d", items + 1, SW_ROUTE_MAX_TARGETS);
				free(d.value);
				return -1;
			}
			while (p < e) {
				const char *c = memchr(p, ',', (size_t)(e - p));
				if (c == NULL)
					c = e;
				const char *s = p;
				size_t l = (size_t)(c - p);
				while (l && isspace((unsigned char)*s))
					s++, l--;
				while (l && isspace((unsigned char)s[l - 1]))
					l--;
				if (gateway_find(pc->rs, s, l) < 0 && !target_valid(s, l)) {
					diag_at(pc->d, file, line, vcol + (uint32_t)(s - val), "error",
						srcline,
						"bad target \"%.*s\" (want host[:port][;transport=x] or a gateway name)",
						(int)l, s);
					free(d.value);
					return -1;
				}
				p = c + 1;
			}
		}
		break;
	case DK_ACTION:
	case DK_RESPONSE: {
		if (d.has_vars)
			break;
		if (d.kind == DK_ACTION && vlen == 5 && strncasecmp(val, "block", 5) == 0)
			break;
		unsigned code = 0;
		size_t i = 0;
		while (i < vlen && isdigit((unsigned char)val[i]))
			code = code * 10 + (unsigned)(val[i++] - '0');
		if (i != 3 || code < 300 || code > 699 || (i < vlen && val[i] != ' '))
			err = d.kind == DK_ACTION ? "bad $action (want block or a response code 300-699 [reason])"
						  : "bad $response (want a response code 300-699 [reason])";
		break;
	}
	case DK_CONTINUE:
	case DK_RECORDROUTE:
	case DK_AUTH:
	case DK_ARS:
		if (!parse_bool(val, vlen, &b))
			err = "want true or false";
		break;
	case DK_RURI:
		if (vlen == 0)
			err = "empty $ruri";
		break;
	case DK_CUSTOM: {
		const char *eq = memchr(val, '=', vlen);
		size_t nl = eq ? (size_t)(eq - val) - 1 : 0;
		bool ok = vlen >= 3 && val[0] == '&' && eq != NULL && nl > 0;
		for (size_t i = 1; ok && i <= nl; i++)
			ok = isalnum((unsigned char)val[i]) || val[i] == '_' || val[i] == '.';
		if (!ok) {
			err = "Custom wants &property=value";
			break;
		}
		/* the property name is fixed; only the value is expanded */
		free(d.name);
		d.name = xstrndup(val + 1, nl);
		free(d.value);
		d.value = xstrndup(eq + 1, (size_t)(val + vlen - eq - 1));
		d.vlen = (uint32_t)(val + vlen - eq - 1);
		d.has_vars = has_vars(d.value, d.vlen);
		break;
	}
	default:
		break;
	}
	if (err != NULL) {
		diag_at(pc->d, file, line, vcol, "error", srcline, "%s", err);
		free(d.value);
		free(d.name);
		return -1;
	}
	uint32_t cc = 0;
	int mx = max_capref(val, vlen, &cc);
	if (ncap >= 0 && mx > ncap) {
		diag_at(pc->d, file, line, vcol + cc, "error", srcline,
			"%%%d used but the rule's patterns capture %d group%s", mx, ncap,
			ncap == 1 ? "" : "s");
		free(d.value);
		free(d.name);
		return -1;
	}
	struct deploy *slot = VEC_PUSH(&pc->rs->deps);
	if (slot == NULL)
		return -1;
	*slot = d;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

enum sect { S_NONE, S_RULE, S_MATCH, S_DEPLOY };

struct dp_state {
	struct parse_ctx *pc;
	const char *file;
	enum sect sect;
	struct rule *cur; /* index-stable: we keep the index */
	int32_t cur_idx;
	bool had_match, had_deploy;
	int errors;
};

static void
rule_close(struct dp_state *st)
{
	if (st->cur_idx < 0)
		return;
	struct sw_ruleset *rs = st->pc->rs;
	struct rule *r = &rs->rules.v[st->cur_idx];
	r->ncond = rs->conds.n - r->cond0;
	r->ndep = rs->deps.n - r->dep0;
	st->cur_idx = -1;
	/* what one rule writes must fit the result (sw_route_result) */
	unsigned edits = 0;
	for (uint32_t i = 0; i < r->ndep; i++) {
		uint8_t k = rs->deps.v[r->dep0 + i].kind;
		edits += k == DK_TO ? 2 : (k == DK_HDR || k == DK_HDR_ADD || k == DK_RURI) ? 1 : 0;
	}
	if (edits > SW_ROUTE_MAX_EDITS) {
		diag_at(st->pc->d, r->file, r->line, 1, "error", NULL,
			"rule \"%s\" writes %u edits; a result holds at most %d", r->name, edits,
			SW_ROUTE_MAX_EDITS);
		st->errors++;
	}
}

static int
rule_ncap(struct sw_ruleset *rs, struct rule *r)
{
	int n = 0;
	for (uint32_t i = r->cond0; i < rs->conds.n; i++)
		n += rs->conds.v[i].ncap;
	return n;
}

static int
rule_open(struct dp_state *st, uint32_t line, const char *name, size_t nlen, bool prelim)
{
	rule_close(st);
	struct sw_ruleset *rs = st->pc->rs;
	struct rule *r = VEC_PUSH(&rs->rules);
	if (r == NULL)
		return -1;
	char buf[64];
	if (name == NULL) {
		snprintf(buf, sizeof(buf), "rule-%u", line);
		name = buf;
		nlen = strlen(buf);
	}
	r->name = xstrndup(name, nlen);
	r->file = st->file;
	r->line = line;
	r->prelim = prelim;
	r->cond0 = rs->conds.n;
	r->dep0 = rs->deps.n;
	r->primary = -1;
	st->cur_idx = (int32_t)(rs->rules.n - 1);
	st->had_match = st->had_deploy = false;
	return 0;
}

/* Find the '=' or ':' that ends a left side (outside parentheses). */
static const char *
find_sep(const char *s, const char *e, bool colon_ok)
{
	int depth = 0;
	bool q = false;
	for (const char *p = s; p < e; p++) {
		if (*p == '"')
			q = !q;
		if (q)
			continue;
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (depth == 0 && (*p == '=' || (colon_ok && *p == ':')))
			return p;
	}
	return NULL;
}

static int
pattern_line(struct dp_state *st, uint32_t line, const char *ln, const char *s, const char *e)
{
	struct parse_ctx *pc = st->pc;
	/* colon form only for header names (no '$'): "X-PBX-Param: <empty>" */
	bool colon_ok = s < e && *s != '$';
	const char *sep = find_sep(s, e, colon_ok);
	if (sep && *sep == ':' && st->sect == S_MATCH) {
		/* in conditions a ':' form is accepted too (ARS style) */
	}
	if (sep == NULL) {
		diag_at(pc->d, st->file, line, (uint32_t)(s - ln) + 1, "error", ln,
			"expected \"left = pattern\"");
		return -1;
	}
	const char *l = s, *v = sep + 1;
	size_t ll = (size_t)(sep - s), vl = (size_t)(e - v);
	trim(&l, &ll);
	trim(&v, &vl);
	uint32_t lcol = (uint32_t)(l - ln) + 1, vcol = (uint32_t)(v - ln) + 1;
	if (st->sect == S_MATCH)
		return cond_parse(pc, false, st->file, line, ln, l, ll, lcol, v, vl, vcol);
	struct rule *r = &pc->rs->rules.v[st->cur_idx];
	return deploy_parse(pc, false, st->file, line, ln, l, ll, lcol, v, vl, vcol,
			    rule_ncap(pc->rs, r));
}

/* The flattened form: "[Matching Patterns] a = b c = d [Deploy Patterns] e = f" */
static int
flat_line(struct dp_state *st, uint32_t line, const char *ln, const char *s, const char *e)
{
	int bad = 0;
	while (s < e) {
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s >= e)
			break;
		if ((size_t)(e - s) >= 17 && strncasecmp(s, "[Deploy Patterns]", 17) == 0) {
			st->sect = S_DEPLOY;
			st->had_deploy = true;
			s += 17;
			continue;
		}
		if ((size_t)(e - s) >= 19 && strncasecmp(s, "[Matching Patterns]", 19) == 0) {
			s += 19;
			continue;
		}
		const char *sep = find_sep(s, e, *s != '$');
		if (sep == NULL) {
			diag_at(st->pc->d, st->file, line, (uint32_t)(s - ln) + 1, "error", ln,
				"expected \"left = pattern\"");
			return -1;
		}
		const char *v = sep + 1;
		while (v < e && isspace((unsigned char)*v))
			v++;
		const char *ve = v;
		while (ve < e && !isspace((unsigned char)*ve))
			ve++;
		if (pattern_line(st, line, ln, s, ve) < 0)
			bad = 1;
		s = ve;
	}
	return bad ? -1 : 0;
}

static int parse_text(struct parse_ctx *pc, const char *file, const char *text, size_t len);

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap + 1);
	while (b) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		cap *= 2;
		char *t = realloc(b, cap + 1);
		if (t == NULL) {
			free(b);
			b = NULL;
			break;
		}
		b = t;
	}
	fclose(f);
	if (b) {
		b[n] = 0;
		*len = n;
	}
	return b;
}

static const char *
keep_name(struct sw_ruleset *rs, const char *path)
{
	for (uint32_t i = 0; i < rs->files.n; i++)
		if (strcmp(rs->files.v[i], path) == 0)
			return rs->files.v[i];
	char **slot = VEC_PUSH(&rs->files);
	if (slot == NULL)
		return path;
	*slot = strdup(path);
	return *slot;
}

int
dialplan_parse_file(struct parse_ctx *pc, const char *path, const char *from_file,
		    uint32_t from_line)
{
	size_t len = 0;
	char *text = read_file(path, &len);
	if (text == NULL) {
		if (from_file)
			diag_at(pc->d, from_file, from_line, 0, "error", NULL,
				"cannot read included file \"%s\": %s", path, strerror(errno));
		else
			diag_at(pc->d, path, 0, 0, "error", NULL, "cannot read: %s", strerror(errno));
		return -1;
	}
	const char *file = keep_name(pc->rs, path);
	int rc = parse_text(pc, file, text, len);
	free(text);
	return rc;
}

int
dialplan_parse_text(struct parse_ctx *pc, const char *file, const char *text, size_t len)
{
	return parse_text(pc, keep_name(pc->rs, file), text, len);
}

static int
do_include(struct dp_state *st, uint32_t line, const char *ln, const char *s, const char *e)
{
	struct parse_ctx *pc = st->pc;
	trim(&s, &(size_t){0});
	size_t l = (size_t)(e - s);
	trim(&s, &l);
	if (l >= 2 && s[0] == '"' && s[l - 1] == '"')
		s++, l -= 2;
	if (l == 0) {
		diag_at(pc->d, st->file, line, (uint32_t)(s - ln) + 1, "error", ln,
			"include wants a file name");
		return -1;
	}
	char path[PATH_MAX];
	if (s[0] == '/')
		snprintf(path, sizeof(path), "%.*s", (int)l, s);
	else {
		const char *sl = strrchr(st->file, '/');
		if (sl)
			snprintf(path, sizeof(path), "%.*s/%.*s", (int)(sl - st->file), st->file, (int)l,
				 s);
		else
			snprintf(path, sizeof(path), "%.*s", (int)l, s);
	}
	char real[PATH_MAX];
	if (realpath(path, real) == NULL) {
		diag_at(pc->d, st->file, line, (uint32_t)(s - ln) + 1, "error", ln,
			"cannot read included file \"%s\": %s", path, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < pc->depth; i++)
		if (strcmp(pc->incstack[i], real) == 0) {
			diag_at(pc->d, st->file, line, (uint32_t)(s - ln) + 1, "error", ln,
				"include loop: \"%s\" includes itself", path);
			return -1;
		}
	if (pc->depth >= 15) {
		diag_at(pc->d, st->file, line, (uint32_t)(s - ln) + 1, "error", ln,
			"includes nested too deep");
		return -1;
	}
	rule_close(st);
	char *r = strdup(real);
	pc->incstack[pc->depth++] = r;
	int rc = dialplan_parse_file(pc, path, st->file, line);
	pc->depth--;
	free(r);
	st->sect = S_NONE;
	return rc;
}

static int
parse_text(struct parse_ctx *pc, const char *file, const char *text, size_t len)
{
	struct dp_state st = {.pc = pc, .file = file, .sect = S_NONE, .cur_idx = -1};
	char real[PATH_MAX];
	bool pushed = false;
	if (pc->depth == 0 && realpath(file, real) != NULL) {
		pc->incstack[pc->depth++] = strdup(real);
		pushed = true;
	}
	uint32_t line = 0;
	const char *p = text, *end = text + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		line++;
		const char *ln = p;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		p = nl ? nl + 1 : end;
		const char *nul = memchr(ln, 0, (size_t)(e - ln));
		if (nul != NULL) {
			diag_at(pc->d, file, line, (uint32_t)(nul - ln) + 1, "error", ln, "NUL byte in line");
			st.errors++;
			continue;
		}
		while (e > ln && (e[-1] == '\r' || isspace((unsigned char)e[-1])))
			e--;
		const char *s = ln;
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s == e || *s == '#')
			continue;
		uint32_t col = (uint32_t)(s - ln) + 1;
		if (*s == '[') {
			const char *rb = memchr(s, ']', (size_t)(e - s));
			if (rb == NULL) {
				diag_at(pc->d, file, line, col, "error", ln, "missing ']'");
				st.errors++;
				continue;
			}
			const char *h = s + 1;
			size_t hl = (size_t)(rb - h);
			trim(&h, &hl);
			if (hl >= 5 && strncasecmp(h, "Rule ", 5) == 0) {
				const char *n = h + 5;
				size_t nlen = hl - 5;
				trim(&n, &nlen);
				rule_open(&st, line, n, nlen, false);
				st.sect = S_RULE;
			} else if (hl >= 17 && strncasecmp(h, "Preliminary Rule ", 17) == 0) {
				const char *n = h + 17;
				size_t nlen = hl - 17;
				trim(&n, &nlen);
				rule_open(&st, line, n, nlen, true);
				st.sect = S_RULE;
			} else if (hl == 4 && strncasecmp(h, "Rule", 4) == 0) {
				rule_open(&st, line, NULL, 0, false);
				st.sect = S_RULE;
			} else if (hl == 17 && strncasecmp(h, "Matching Patterns", 17) == 0) {
				if (st.cur_idx < 0 || st.had_match || st.had_deploy)
					rule_open(&st, line, NULL, 0, false);
				st.sect = S_MATCH;
				st.had_match = true;
				if (rb + 1 < e) {
					if (flat_line(&st, line, ln, rb + 1, e) < 0)
						st.errors++;
				}
				continue;
			} else if (hl == 15 && strncasecmp(h, "Deploy Patterns", 15) == 0) {
				if (st.cur_idx < 0) {
					diag_at(pc->d, file, line, col, "error", ln,
						"[Deploy Patterns] outside a rule");
					st.errors++;
					st.sect = S_NONE;
					continue;
				}
				if (st.had_deploy) {
					diag_at(pc->d, file, line, col, "error", ln,
						"second [Deploy Patterns] in rule \"%s\"",
						pc->rs->rules.v[st.cur_idx].name);
					st.errors++;
				}
				st.sect = S_DEPLOY;
				st.had_deploy = true;
				if (rb + 1 < e && flat_line(&st, line, ln, rb + 1, e) < 0)
					st.errors++;
				continue;
			} else {
				diag_at(pc->d, file, line, col, "error", ln, "unknown section \"[%.*s]\"",
					(int)hl, h);
				st.errors++;
				st.sect = S_NONE;
				continue;
			}
			if (hl > 0 && st.cur_idx >= 0 && pc->rs->rules.v[st.cur_idx].name[0] == 0) {
				diag_at(pc->d, file, line, col, "error", ln, "rule without a name");
				st.errors++;
			}
			if (rb + 1 < e) {
				diag_at(pc->d, file, line, (uint32_t)(rb + 1 - ln) + 1, "error", ln,
					"unexpected text after section header");
				st.errors++;
			}
			continue;
		}
		if ((size_t)(e - s) > 8 && strncmp(s, "include", 7) == 0 &&
		    isspace((unsigned char)s[7])) {
			if (do_include(&st, line, ln, s + 8, e) < 0)
				st.errors++;
			continue;
		}
		switch (st.sect) {
		case S_NONE:
			diag_at(pc->d, file, line, col, "error", ln,
				"pattern outside a rule (start one with [Rule name] or [Matching Patterns])");
			st.errors++;
			break;
		case S_RULE: {
			const char *sep = find_sep(s, e, true);
			const char *k = s, *v = sep ? sep + 1 : e;
			size_t kl = sep ? (size_t)(sep - s) : (size_t)(e - s), vl = (size_t)(e - v);
			trim(&k, &kl);
			trim(&v, &vl);
			struct rule *r = &pc->rs->rules.v[st.cur_idx];
			bool b;
			if (sep && kl == 11 && strncasecmp(k, "description", 11) == 0) {
				free(r->desc);
				r->desc = xstrndup(v, vl);
			} else if (sep && kl == 8 && strncasecmp(k, "disabled", 8) == 0) {
				if (!parse_bool(v, vl, &b)) {
					diag_at(pc->d, file, line, (uint32_t)(v - ln) + 1, "error", ln,
						"disabled wants true or false");
					st.errors++;
				} else
					r->disabled = b;
			} else {
				diag_at(pc->d, file, line, col, "error", ln,
					"unknown rule setting \"%.*s\" (before [Matching Patterns] only description and disabled)",
					(int)kl, k);
				st.errors++;
			}
			break;
		}
		case S_MATCH:
		case S_DEPLOY:
			if (pattern_line(&st, line, ln, s, e) < 0)
				st.errors++;
			break;
		}
	}
	rule_close(&st);
	if (pushed) {
		pc->depth--;
		free((char *)pc->incstack[pc->depth]);
	}
	return st.errors ? -1 : 0;
}

char *
rules_read_file(const char *path, size_t *len)
{
	return read_file(path, len);
}

const char *
rules_keep_name(struct sw_ruleset *rs, const char *path)
{
	return keep_name(rs, path);
}
