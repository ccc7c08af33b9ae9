/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON-RPC 2.0 over a unix stream socket, one request per line, method
 * names after Kamailio's jsonrpcs habits. A plain thread, not an lcore; it
 * is also where SIGHUP reloads run. A bad request gets an error object and
 * the socket stays up.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_log.h>

#include "control/control.h"
#include "rules/ruleset.h"

#define MAX_CLIENTS 16
#define MAX_REQ (256 * 1024)

enum {
	E_PARSE = -32700,
	E_INVALID = -32600,
	E_METHOD = -32601,
	E_PARAMS = -32602,
	E_SERVER = -32000,
};

struct client {
	int fd;
	size_t len;
	char *buf;
};

static pthread_t ctl_thread;
static int ctl_running;
static volatile int ctl_stop;
static volatile sig_atomic_t reload_asked;
static int listen_fd = -1;
static char sock_path[108];
static struct sw_dp *ctl_dp;

void
sw_ctl_request_reload(void)
{
	reload_asked = 1;
}

static json_t *
err_obj(int code, const char *msg, json_t *data)
{
	json_t *e = json_pack("{s:i, s:s}", "code", code, "message", msg);

	if (data != NULL)
		json_object_set_new(e, "data", data);
	return e;
}

/* ---- methods: each returns a result, or NULL with *error set ---- */

static json_t *
m_reload(json_t *params, json_t **error)
{
	const char *path = NULL;
	struct sw_diag diag;
	struct sw_ctl_loaded l;
	json_t *r;

	if (params != NULL && json_is_object(params)) {
		json_t *p = json_object_get(params, "path");

		if (p != NULL && !json_is_string(p)) {
			*error = err_obj(E_PARAMS, "path must be a string", NULL);
			return NULL;
		}
		path = p ? json_string_value(p) : NULL;
	}
	sw_diag_init(&diag);
	if (sw_ctl_reload(path, &diag) != 0) {
		*error = err_obj(E_SERVER, "dial plan refused; the running ruleset stays",
				 json_pack("{s:i, s:s}", "errors", diag.errors, "diagnostics",
					   diag.text ? diag.text : ""));
		sw_diag_free(&diag);
		return NULL;
	}
	sw_ctl_loaded(&l);
	r = json_pack("{s:I, s:s, s:f, s:s}", "version", (json_int_t)l.version, "dialplan",
		      l.dialplan, "publish_us", l.publish_ns / 1000.0, "warnings",
		      diag.text ? diag.text : "");
	sw_diag_free(&diag);
	return r;
}

static json_t *
m_info(json_t *params, json_t **error)
{
	struct sw_ruleset *rs = *sw_ctl_ruleset_slot();
	struct sw_ruleset_info info;
	struct sw_ctl_loaded l;
	char sha[65], when[32];
	struct tm tm;
	time_t t;

	(void)params;
	if (rs == NULL) {
		*error = err_obj(E_SERVER, "no ruleset loaded", NULL);
		return NULL;
	}
	sw_ruleset_get_info(rs, &info);
	sw_ctl_loaded(&l);
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", info.sha256[i]);
	t = (time_t)l.loaded_at;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:I, s:s, s:s, s:s, s:i, s:i, s:i, s:f, s:I, s:f}", "version",
			 (json_int_t)l.version, "dialplan", l.dialplan, "sha256", sha, "loaded_at",
			 when, "rules", info.rules, "routes", info.routes, "gateways",
			 info.gateways, "build_ms", info.build_ns / 1e6, "mem_bytes",
			 (json_int_t)info.mem_bytes, "publish_us", l.publish_ns / 1000.0);
}

static json_t *
counters_obj(const uint64_t *c)
{
	json_t *o = json_object();

	for (unsigned i = 0; i < SW_CNT__COUNT; i++)
		json_object_set_new(o, sw_counter_name(i), json_integer((json_int_t)c[i]));
	return o;
}

static json_t *
m_stats(json_t *params, json_t **error)
{
	uint64_t c[SW_CNT__COUNT];
	struct sw_ruleset *rs = *sw_ctl_ruleset_slot();
	json_t *workers = json_array(), *rules = json_array(), *r;

	(void)params;
	if (ctl_dp == NULL) {
		json_decref(workers);
		json_decref(rules);
		*error = err_obj(E_SERVER, "the dataplane is not running", NULL);
		return NULL;
	}
	for (unsigned w = 0; sw_dp_worker_counters(ctl_dp, w, c) == 0; w++) {
		double cpm = c[SW_CNT_BUSY_PKTS] ? (double)c[SW_CNT_BUSY_CYCLES] /
							   (double)c[SW_CNT_BUSY_PKTS]
						 : 0.0;
		json_array_append_new(workers, json_pack("{s:i, s:o, s:f}", "worker", w,
							 "counters", counters_obj(c),
							 "cycles_per_msg", cpm));
	}
	sw_dp_counters(ctl_dp, c);
	if (rs != NULL) {
		struct sw_ruleset_info info;

		sw_ruleset_get_info(rs, &info);
		for (unsigned i = 0; i < info.rules; i++) {
			uint64_t h = sw_ruleset_rule_hits(rs, i);

			if (h != 0)
				json_array_append_new(rules, json_pack("{s:i, s:I}", "rule", i,
								       "hits", (json_int_t)h));
		}
	}
	r = json_pack("{s:o, s:o, s:o}", "total", counters_obj(c), "workers", workers, "rules",
		      rules);
	return r;
}

static json_t *
m_explain(json_t *params, json_t **error)
{
	static struct sw_sip_msg msg;
	const char *text, *src = "198.18.0.2:5060", *colon;
	struct sw_match_in in = {.msg = &msg, .src_port = 5060, .local_port = 5060};
	struct sw_ruleset *rs = *sw_ctl_ruleset_slot();
	json_t *r;
	char *out;

	if (params == NULL || !json_is_string(json_object_get(params, "message"))) {
		*error = err_obj(E_PARAMS, "params.message (the SIP message text) is required",
				 NULL);
		return NULL;
	}
	text = json_string_value(json_object_get(params, "message"));
	if (json_is_string(json_object_get(params, "src")))
		src = json_string_value(json_object_get(params, "src"));
	colon = strrchr(src, ':');
	if (colon == NULL || sw_addr_parse(src, colon - src, &in.src) != 0) {
		*error = err_obj(E_PARAMS, "params.src must be ADDR:PORT", NULL);
		return NULL;
	}
	in.src_port = (uint16_t)atoi(colon + 1);
	in.now = (int64_t)time(NULL);
	if (rs == NULL) {
		*error = err_obj(E_SERVER, "no ruleset loaded", NULL);
		return NULL;
	}
	if (sw_sip_parse(&msg, text, strlen(text)) != SW_SIP_OK || !msg.is_request) {
		*error = err_obj(E_PARAMS, "the message is not a well-formed SIP request",
				 json_pack("{s:i, s:s}", "code", msg.reply_code, "reason",
					   msg.reason ? msg.reason : ""));
		return NULL;
	}
	out = sw_ruleset_explain(rs, &in);
	r = json_pack("{s:s}", "explain", out ? out : "");
	free(out);
	return r;
}

static json_t *
m_log_level(json_t *params, json_t **error)
{
	const char *type = "user.sipwarp.*", *level;
	static const char *const names[] = {"", "emergency", "alert", "critical", "error",
					    "warning", "notice", "info", "debug"};
	int lv = -1;

	if (params == NULL || !json_is_string(json_object_get(params, "level"))) {
		*error = err_obj(E_PARAMS, "params.level is required (error, warning, info, debug)",
				 NULL);
		return NULL;
	}
	level = json_string_value(json_object_get(params, "level"));
	if (json_is_string(json_object_get(params, "type")))
		type = json_string_value(json_object_get(params, "type"));
	for (int i = 1; i <= 8; i++)
		if (strcmp(level, names[i]) == 0)
			lv = i;
	if (lv < 0 || rte_log_set_level_pattern(type, (uint32_t)lv) != 0) {
		*error = err_obj(E_PARAMS, "unknown level", NULL);
		return NULL;
	}
	return json_pack("{s:s, s:s}", "type", type, "level", level);
}

static json_t *
m_gateways(json_t *params, json_t **error)
{
	struct sw_ruleset *rs = *sw_ctl_ruleset_slot();
	struct sw_ruleset_info info = {0};

	(void)params;
	(void)error;
	if (rs != NULL)
		sw_ruleset_get_info(rs, &info);
	return json_pack("{s:i, s:[]}", "count", info.gateways, "gateways");
}

static json_t *
m_dump(json_t *params, json_t **error)
{
	struct sw_ctl_loaded l;
	FILE *f;
	char *text;
	long n;
	json_t *r;

	(void)params;
	sw_ctl_loaded(&l);
	f = fopen(l.dialplan, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		if (f)
			fclose(f);
		*error = err_obj(E_SERVER, "cannot read the loaded dial plan", NULL);
		return NULL;
	}
	rewind(f);
	text = malloc((size_t)n + 1);
	n = text ? (long)fread(text, 1, (size_t)n, f) : 0;
	fclose(f);
	if (text == NULL) {
		*error = err_obj(E_SERVER, "out of memory", NULL);
		return NULL;
	}
	text[n] = '\0';
	r = json_pack("{s:s, s:I, s:s}", "dialplan", l.dialplan, "version", (json_int_t)l.version,
		      "text", text);
	free(text);
	return r;
}

/* ARS Max Sessions / CPS counters; params.reset (true, or a route name) zeroes sessions first. */
static json_t *
m_ars_sessions(json_t *params, json_t **error)
{
	struct sw_ars_state *st = sw_ctl_ars_state();
	static struct sw_ars_slot_info slots[SW_ARS_SLOTS];
	json_t *reset = params != NULL ? json_object_get(params, "reset") : NULL;
	json_t *pattern = params != NULL ? json_object_get(params, "pattern") : NULL;
	json_t *list, *r;
	int nreset = 0;
	unsigned n;

	if ((reset != NULL && !json_is_boolean(reset) && !json_is_string(reset)) ||
	    (pattern != NULL && !json_is_integer(pattern))) {
		*error = err_obj(E_PARAMS,
				 "params.reset is true or a route name, params.pattern a number",
				 NULL);
		return NULL;
	}
	if (json_is_true(reset) || json_is_string(reset))
		nreset = sw_ars_state_reset(st, json_is_string(reset) ? json_string_value(reset)
								      : NULL,
					    pattern != NULL ? (int)json_integer_value(pattern) : 0);
	n = sw_ars_state_list(st, (int64_t)time(NULL), slots, SW_ARS_SLOTS);
	list = json_array();
	for (unsigned i = 0; i < n; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%08x", slots[i].id);
		json_array_append_new(
			list, json_pack("{s:s, s:i, s:s, s:i, s:i, s:I, s:i, s:b}", "route",
					slots[i].route, "pattern", (int)slots[i].pattern, "swr", id,
					"max_sessions", slots[i].max_sessions, "cps", slots[i].cps,
					"sessions", (json_int_t)slots[i].sessions, "cps_now",
					(int)slots[i].cps_now, "live", slots[i].live));
	}
	r = json_pack("{s:o, s:i}", "patterns", list, "reset", nreset);
	return r;
}

static json_t *
m_shutdown(json_t *params, json_t **error)
{
	(void)params;
	if (ctl_dp == NULL) {
		*error = err_obj(E_SERVER, "the dataplane is not running", NULL);
		return NULL;
	}
	sw_dp_stop(ctl_dp);
	return json_string("shutting down");
}

static const struct method {
	const char *name;
	json_t *(*fn)(json_t *params, json_t **error);
	const char *help;
} methods[] = {
	{"dialplan.reload", m_reload, "reload the dial plan (params: path)"},
	{"dialplan.dump", m_dump, "the loaded dial plan's text"},
	{"dialplan.explain", m_explain, "explain a message (params: message, src)"},
	{"dialplan.translate", m_explain, "same as dialplan.explain"},
	{"ruleset.info", m_info, "version, SHA-256, counts, build time"},
	{"stats.get", m_stats, "counters per worker and in total; hits per rule"},
	{"gateway.list", m_gateways, "gateways and their state"},
	{"ars.sessions", m_ars_sessions,
	 "ARS calls up and CPS per capped pattern (params: reset = true or a route, pattern)"},
	{"log.level", m_log_level, "set a log level (params: level, type)"},
	{"core.shutdown", m_shutdown, "stop sipwarp"},
};

char *
sw_ctl_handle(struct sw_dp *dp, const char *req, size_t len)
{
	json_error_t jerr;
	json_t *in, *id = NULL, *result = NULL, *error = NULL, *resp, *method, *params;
	char *out;

	ctl_dp = dp;
	in = json_loadb(req, len, 0, &jerr);
	if (in == NULL) {
		error = err_obj(E_PARSE, "parse error", json_string(jerr.text));
		goto reply;
	}
	id = json_object_get(in, "id");
	method = json_object_get(in, "method");
	params = json_object_get(in, "params");
	if (!json_is_object(in) || !json_is_string(json_object_get(in, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(in, "jsonrpc")), "2.0") != 0 ||
	    !json_is_string(method) || (params != NULL && !json_is_object(params))) {
		error = err_obj(E_INVALID, "invalid request: want {\"jsonrpc\":\"2.0\", "
					   "\"method\": string, \"params\": object, \"id\": ...}",
				NULL);
		id = id ? id : json_null();
		goto reply;
	}
	error = err_obj(E_METHOD, "method not found", NULL);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, json_string_value(method)) == 0) {
			json_decref(error);
			error = NULL;
			result = methods[i].fn(params, &error);
			break;
		}
	if (id == NULL) { /* a notification: no answer */
		json_decref(result);
		json_decref(error);
		json_decref(in);
		return NULL;
	}
reply:
	resp = json_object();
	json_object_set_new(resp, "jsonrpc", json_string("2.0"));
	if (error != NULL)
		json_object_set_new(resp, "error", error);
	else
		json_object_set_new(resp, "result", result ? result : json_null());
	json_object_set(resp, "id", id ? id : json_null());
	out = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	json_decref(in);
	return out;
}

static void
client_close(struct client *c)
{
	close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
	c->len = 0;
}

static void
send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Read what is there; answer every complete line. */
static void
client_read(struct client *c)
{
	char *nl;
	ssize_t r;

	if (c->buf == NULL && (c->buf = malloc(MAX_REQ)) == NULL) {
		client_close(c);
		return;
	}
	r = recv(c->fd, c->buf + c->len, MAX_REQ - c->len, 0);
	if (r <= 0) {
		client_close(c);
		return;
	}
	c->len += (size_t)r;
	while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
		size_t line = (size_t)(nl - c->buf);
		char *out = sw_ctl_handle(ctl_dp, c->buf, line);

		if (out != NULL) {
			send_all(c->fd, out, strlen(out));
			send_all(c->fd, "\n", 1);
			free(out);
		}
		memmove(c->buf, nl + 1, c->len - line - 1);
		c->len -= line + 1;
	}
	if (c->len == MAX_REQ) {
		const char *e = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":"
				"\"request too large\"},\"id\":null}\n";

		send_all(c->fd, e, strlen(e));
		client_close(c);
	}
}

static void
sighup_reload(void)
{
	struct sw_diag diag;

	reload_asked = 0;
	sw_diag_init(&diag);
	if (sw_ctl_reload(NULL, &diag) == 0)
		RTE_LOG(NOTICE, USER1, "sipwarp: SIGHUP: dial plan reloaded\n");
	else
		RTE_LOG(ERR, USER1, "sipwarp: SIGHUP: dial plan refused, keeping the old one:\n%s",
			diag.text ? diag.text : "");
	sw_diag_free(&diag);
}

static void *
ctl_main(void *arg)
{
	struct client cl[MAX_CLIENTS];
	struct pollfd pfd[MAX_CLIENTS + 1];

	(void)arg;
	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i] = (struct client){.fd = -1};
	while (!ctl_stop) {
		int n = 0;

		pfd[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
		for (int i = 0; i < MAX_CLIENTS; i++)
			pfd[n++] = (struct pollfd){.fd = cl[i].fd, .events = POLLIN};
		if (poll(pfd, n, 100) < 0 && errno != EINTR)
			break;
		if (reload_asked)
			sighup_reload();
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (cl[i].fd >= 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				client_read(&cl[i]);
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			int slot = -1;

			for (int i = 0; i < MAX_CLIENTS && fd >= 0; i++)
				if (cl[i].fd < 0) {
					slot = i;
					break;
				}
			if (slot < 0 && fd >= 0)
				close(fd); /* too many clients: try again later */
			else if (fd >= 0)
				cl[slot].fd = fd;
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (cl[i].fd >= 0)
			client_close(&cl[i]);
	return NULL;
}

static void
mkdir_parent(const char *path)
{
	char dir[sizeof(sock_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	mkdir(dir, 0770);
}

int
sw_ctl_start(const char *path, struct sw_dp *dp)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	ctl_dp = dp;
	snprintf(sock_path, sizeof(sock_path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	mkdir_parent(path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return -errno;
	unlink(path); /* a socket left by a killed sipwarp */
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0660) != 0 || listen(listen_fd, 16) != 0) {
		r = -errno;
		close(listen_fd);
		listen_fd = -1;
		return r;
	}
	ctl_stop = 0;
	r = pthread_create(&ctl_thread, NULL, ctl_main, NULL);
	if (r != 0) {
		close(listen_fd);
		listen_fd = -1;
		unlink(path);
		return -r;
	}
	pthread_setname_np(ctl_thread, "sw-control");
	ctl_running = 1;
	return 0;
}

void
sw_ctl_stop(void)
{
	if (!ctl_running)
		return;
	ctl_stop = 1;
	pthread_join(ctl_thread, NULL);
	close(listen_fd);
	listen_fd = -1;
	unlink(sock_path);
	ctl_running = 0;
}
