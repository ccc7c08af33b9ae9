/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateways: the FreeSWITCH-style JSON of reference/003, an object keyed by
 * gateway name whose values hold "param" and "variables". Every parameter
 * listed there (plus register-transport and ping from FreeSWITCH) is known
 * and checked; anything else is an error with the line and column of the
 * offending key (jansson reports positions for syntax errors only, so the
 * key is found again in the text).
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_pvt.h"

struct gctx {
	struct parse_ctx *pc;
	const char *file;
	const char *text;
	size_t len;
	int errors;
};

/* Line, column and line text of the first "key" after offset from. */
static size_t
locate(struct gctx *g, size_t from, const char *key, uint32_t *line, uint32_t *col,
       const char **ln)
{
	char pat[300];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *p = from < g->len ? strstr(g->text + from, pat) : NULL;
	if (p == NULL)
		p = g->text + (from < g->len ? from : 0);
	uint32_t l = 1;
	const char *ls = g->text;
	for (const char *q = g->text; q < p; q++)
		if (*q == '\n') {
			l++;
			ls = q + 1;
		}
	*line = l;
	*col = (uint32_t)(p - ls) + 1;
	*ln = ls;
	return (size_t)(p - g->text);
}

static void __attribute__((format(printf, 4, 5)))
gerr(struct gctx *g, size_t at, const char *key, const char *fmt, ...)
{
	uint32_t line, col;
	const char *ln;
	locate(g, at, key, &line, &col, &ln);
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_at(g->pc->d, g->file, line, col, "error", ln, "%s", msg);
	g->errors++;
}

/* A parameter as text: strings as they are, booleans and numbers printed. */
static const char *
as_text(json_t *v, char *buf, size_t n)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v))
		return "true";
	if (json_is_false(v))
		return "false";
	if (json_is_integer(v)) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return NULL;
}

static int
as_bool(const char *s, bool *b)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0)
		*b = true;
	else if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || strcmp(s, "0") == 0 ||
		 s[0] == 0)
		*b = false;
	else
		return -1;
	return 0;
}

static int
as_int(const char *s, int lo, int hi, int *out)
{
	char *e;
	errno = 0;
	long v = strtol(s, &e, 10);
	if (s[0] == 0 || *e || errno || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

enum gkey {
	GK_REGISTER, GK_REALM, GK_USERNAME, GK_PASSWORD, GK_AUTH_USERNAME, GK_FROM_USER,
	GK_FROM_DOMAIN, GK_DEST_PREFIX, GK_CALLER_ID_IN_FROM, GK_EXTENSION, GK_EXT_IN_CONTACT,
	GK_EXPIRE, GK_RETRY, GK_CONTEXT, GK_TRANSPORT, GK_PING, GK__COUNT
};
static const char *const gkeys[GK__COUNT] = {
	"register", "realm", "username", "password", "auth-username", "from-user", "from-domain",
	"destination-prefix", "caller-id-in-from", "extension", "extension-in-contact",
	"expire-seconds", "retry-seconds", "context", "register-transport", "ping"};

static char *
keep(struct gateway *gw, int slot, const char *s)
{
	free(gw->strs[slot]);
	gw->strs[slot] = strdup(s ? s : "");
	return gw->strs[slot];
}

static void
one_gateway(struct gctx *g, const char *name, json_t *obj, size_t at)
{
	struct sw_ruleset *rs = g->pc->rs;
	if (!json_is_object(obj)) {
		gerr(g, at, name, "gateway \"%s\" must be an object with \"param\"", name);
		return;
	}
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p)) {
			gerr(g, at, name, "bad gateway name \"%s\" (letters, digits, - _ .)", name);
			return;
		}
	if (gateway_find(rs, name, strlen(name)) >= 0) {
		gerr(g, at, name, "gateway \"%s\" defined twice", name);
		return;
	}
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		if (strcmp(k, "param") != 0 && strcmp(k, "variables") != 0)
			gerr(g, at, k, "unknown key \"%s\" in gateway \"%s\" (want param, variables)", k, name);
	}
	json_t *param = json_object_get(obj, "param");
	if (!json_is_object(param)) {
		gerr(g, at, name, "gateway \"%s\" has no \"param\" object", name);
		return;
	}
	struct gateway gw;
	memset(&gw, 0, sizeof(gw));
	struct sw_gateway_info *in = &gw.info;
	const char *vals[GK__COUNT] = {0};
	char nb[GK__COUNT][32];
	int bad = g->errors;
	json_object_foreach(param, k, v) {
		int idx = -1;
		for (int i = 0; i < GK__COUNT; i++)
			if (strcmp(k, gkeys[i]) == 0)
				idx = i;
		if (idx < 0) {
			gerr(g, at, k, "unknown gateway parameter \"%s\" in \"%s\"", k, name);
			continue;
		}
		vals[idx] = as_text(v, nb[idx], sizeof(nb[idx]));
		if (vals[idx] == NULL)
			gerr(g, at, k, "parameter \"%s\" of \"%s\" must be a string", k, name);
	}
	in->name = keep(&gw, 0, name);
	in->reg = false;
	if (vals[GK_REGISTER] && as_bool(vals[GK_REGISTER], &in->reg) < 0)
		gerr(g, at, "register", "\"register\" of \"%s\" must be \"true\" or \"false\"", name);
	const char *realm = vals[GK_REALM] ? vals[GK_REALM] : "";
	if (realm[0] == 0)
		gerr(g, at, vals[GK_REALM] ? "realm" : name, "gateway \"%s\" needs a \"realm\" (host[:port])", name);
	else if (!target_valid(realm, strlen(realm)) || strchr(realm, ';'))
		gerr(g, at, "realm", "bad realm \"%s\" of \"%s\" (want host[:port], IPv6 in [ ])", realm, name);
	in->realm = keep(&gw, 1, realm);
	/* host and port of the realm */
	{
		char h[256];
		snprintf(h, sizeof(h), "%s", realm);
		char *colon = NULL;
		if (h[0] == '[') {
			char *rb = strchr(h, ']');
			if (rb) {
				*rb = 0;
				colon = rb[1] == ':' ? rb + 1 : NULL;
				memmove(h, h + 1, strlen(h));
			}
		} else
			colon = strchr(h, ':');
		in->port = 5060;
		if (colon) {
			*colon = 0;
			in->port = (uint16_t)atoi(colon + 1);
		}
		in->host = keep(&gw, 2, h);
	}
	in->username = keep(&gw, 3, vals[GK_USERNAME]);
	in->password = keep(&gw, 4, vals[GK_PASSWORD]);
	in->auth_username = keep(&gw, 5, vals[GK_AUTH_USERNAME]);
	in->from_user = keep(&gw, 6, vals[GK_FROM_USER]);
	in->from_domain = keep(&gw, 7, vals[GK_FROM_DOMAIN]);
	in->destination_prefix = keep(&gw, 8, vals[GK_DEST_PREFIX]);
	for (const char *p = in->destination_prefix; *p; p++)
		if (!isdigit((unsigned char)*p) && !strchr("+*#", *p)) {
			gerr(g, at, "destination-prefix", "bad destination-prefix \"%s\" of \"%s\" (digits, + * #)",
			     in->destination_prefix, name);
			break;
		}
	in->extension = keep(&gw, 9, vals[GK_EXTENSION]);
	in->context = keep(&gw, 10, vals[GK_CONTEXT]);
	if (vals[GK_CALLER_ID_IN_FROM] && as_bool(vals[GK_CALLER_ID_IN_FROM], &in->caller_id_in_from) < 0)
		gerr(g, at, "caller-id-in-from", "\"caller-id-in-from\" of \"%s\" must be \"true\" or \"false\"", name);
	if (vals[GK_EXT_IN_CONTACT] && as_bool(vals[GK_EXT_IN_CONTACT], &in->extension_in_contact) < 0)
		gerr(g, at, "extension-in-contact", "\"extension-in-contact\" of \"%s\" must be \"true\" or \"false\"", name);
	in->expire_seconds = 3600;
	if (vals[GK_EXPIRE] && as_int(vals[GK_EXPIRE], 1, 86400 * 7, &in->expire_seconds) < 0)
		gerr(g, at, "expire-seconds", "\"expire-seconds\" of \"%s\" must be a number of seconds (1..604800)", name);
	in->retry_seconds = 30;
	if (vals[GK_RETRY] && as_int(vals[GK_RETRY], 1, 86400, &in->retry_seconds) < 0)
		gerr(g, at, "retry-seconds", "\"retry-seconds\" of \"%s\" must be a number of seconds (1..86400)", name);
	in->ping = 0;
	if (vals[GK_PING] && as_int(vals[GK_PING], 0, 86400, &in->ping) < 0)
		gerr(g, at, "ping", "\"ping\" of \"%s\" must be a number of seconds (0..86400)", name);
	const char *tr = vals[GK_TRANSPORT] ? vals[GK_TRANSPORT] : "udp";
	if (strcasecmp(tr, "udp") != 0 && strcasecmp(tr, "tcp") != 0)
		gerr(g, at, "register-transport", "\"register-transport\" of \"%s\" must be udp or tcp", name);
	in->transport = keep(&gw, 11, strcasecmp(tr, "tcp") == 0 ? "tcp" : "udp");
	if (in->reg && in->username[0] == 0)
		gerr(g, at, vals[GK_REGISTER] ? "register" : name,
		     "gateway \"%s\" registers but has no \"username\"", name);
	in->needs_auth = in->password[0] != 0;
	json_t *vars = json_object_get(obj, "variables");
	if (vars != NULL && !json_is_object(vars))
		gerr(g, at, "variables", "\"variables\" of \"%s\" must be an object", name);
	if (vars != NULL && json_is_object(vars)) {
		json_object_foreach(vars, k, v) {
			if (!json_is_string(v) && !json_is_boolean(v) && !json_is_number(v))
				gerr(g, at, k, "variable \"%s\" of \"%s\" must be a string", k, name);
		}
	}
	char *vj = vars ? json_dumps(vars, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	in->variables_json = keep(&gw, 12, vj ? vj : "{}");
	free(vj);
	if (g->errors != bad) {
		for (int i = 0; i < 16; i++)
			free(gw.strs[i]);
		return;
	}
	struct gateway *slot = VEC_PUSH(&rs->gws);
	if (slot == NULL) {
		for (int i = 0; i < 16; i++)
			free(gw.strs[i]);
		return;
	}
	*slot = gw;
}

int
gateways_parse_file(struct parse_ctx *pc, const char *path)
{
	size_t len = 0;
	char *text = rules_read_file(path, &len);
	if (text == NULL) {
		diag_at(pc->d, path, 0, 0, "error", NULL, "cannot read: %s", strerror(errno));
		return -1;
	}
	/* keep the name for diagnostics */
	const char *file = path;
	for (uint32_t i = 0; i < pc->rs->files.n; i++)
		if (strcmp(pc->rs->files.v[i], path) == 0)
			file = pc->rs->files.v[i];
	if (file == path) {
		char **slot = VEC_PUSH(&pc->rs->files);
		if (slot) {
			*slot = strdup(path);
			file = *slot;
		}
	}
	struct gctx g = {.pc = pc, .file = file, .text = text, .len = len};
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		const char *ln = text;
		for (int l = 1; l < je.line && ln; l++) {
			ln = strchr(ln, '\n');
			if (ln)
				ln++;
		}
		diag_at(pc->d, file, (uint32_t)(je.line > 0 ? je.line : 0),
			(uint32_t)(je.column > 0 ? je.column : 0), "error", ln, "bad JSON: %s", je.text);
		free(text);
		return -1;
	}
	if (!json_is_object(root)) {
		diag_at(pc->d, file, 1, 1, "error", text, "gateways: want an object keyed by gateway name");
		g.errors++;
	} else if (json_object_get(root, "param") != NULL) {
		/* one bare gateway as reference/003 shows it (the hash key is its name) */
		one_gateway(&g, "default", root, 0);
	} else {
		const char *k;
		json_t *v;
		size_t at = 0;
		json_object_foreach(root, k, v) {
			uint32_t l, c;
			const char *ln;
			at = locate(&g, at, k, &l, &c, &ln);
			one_gateway(&g, k, v, at);
			at++;
		}
	}
	json_decref(root);
	free(text);
	return g.errors ? -1 : 0;
}
