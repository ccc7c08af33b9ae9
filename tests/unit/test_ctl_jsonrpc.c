/* SPDX-License-Identifier: BSD-3-Clause */
/* JSON-RPC handling of the control socket, without a socket: every error shape and the methods
 * that need no running dataplane. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "control/control.h"
#include "rules/ruleset.h"

static char good[64], bad[64];

static json_t *
call(const char *req)
{
	char *out = sw_ctl_handle(NULL, req, strlen(req));
	json_t *j;

	if (out == NULL)
		return NULL;
	j = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "jsonrpc")), "2.0");
	return j;
}

static int
error_code(json_t *j)
{
	json_t *e = json_object_get(j, "error");

	return e ? (int)json_integer_value(json_object_get(e, "code")) : 0;
}

static void
errors(void **state)
{
	json_t *j;

	(void)state;
	j = call("{not json");
	assert_int_equal(error_code(j), -32700);
	assert_true(json_is_null(json_object_get(j, "id")));
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"id\":7}");
	assert_int_equal(error_code(j), -32600);
	json_decref(j);
	j = call("{\"jsonrpc\":\"1.0\",\"method\":\"ruleset.info\",\"id\":7}");
	assert_int_equal(error_code(j), -32600);
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"ruleset.info\",\"params\":[1],\"id\":7}");
	assert_int_equal(error_code(j), -32600);
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"no.such\",\"id\":\"x\"}");
	assert_int_equal(error_code(j), -32601);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "x");
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"dialplan.explain\",\"params\":{},\"id\":1}");
	assert_int_equal(error_code(j), -32602);
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"log.level\",\"params\":{\"level\":\"loud\"},\"id\":1}");
	assert_int_equal(error_code(j), -32602);
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"dialplan.reload\",\"params\":{\"path\":5},\"id\":1}");
	assert_int_equal(error_code(j), -32602);
	json_decref(j);
	/* A notification gets no answer. */
	assert_null(call("{\"jsonrpc\":\"2.0\",\"method\":\"ruleset.info\"}"));
}

static void
reload_info_explain(void **state)
{
	char req[512];
	json_t *j, *r;

	(void)state;
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"ruleset.info\",\"id\":1}");
	r = json_object_get(j, "result");
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "version")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "rules")), 1);
	assert_int_equal(strlen(json_string_value(json_object_get(r, "sha256"))), 64);
	json_decref(j);

	/* A bad file: refused with its file:line:col errors, the old ruleset stays. */
	snprintf(req, sizeof(req),
		 "{\"jsonrpc\":\"2.0\",\"method\":\"dialplan.reload\",\"params\":{\"path\":\"%s\"},"
		 "\"id\":2}",
		 bad);
	j = call(req);
	assert_int_equal(error_code(j), -32000);
	{
		json_t *data = json_object_get(json_object_get(j, "error"), "data");
		const char *diag = json_string_value(json_object_get(data, "diagnostics"));

		assert_true(json_integer_value(json_object_get(data, "errors")) >= 1);
		assert_non_null(strstr(diag, bad));
		assert_non_null(strstr(diag, ": error: "));
	}
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"ruleset.info\",\"id\":3}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "version")),
			 1);
	json_decref(j);

	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"dialplan.reload\",\"id\":4}");
	assert_int_equal(error_code(j), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "version")),
			 2);
	json_decref(j);

	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"dialplan.dump\",\"id\":5}");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "result"), "text")),
			       "[Rule only]"));
	json_decref(j);

	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"dialplan.explain\",\"params\":{\"message\":"
		 "\"INVITE sip:1234@198.18.1.1 SIP/2.0\\r\\nVia: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bKx\\r\\n"
		 "From: <sip:a@b>;tag=1\\r\\nTo: <sip:1234@198.18.1.1>\\r\\nCall-ID: e1\\r\\n"
		 "CSeq: 1 INVITE\\r\\nMax-Forwards: 70\\r\\nContent-Length: 0\\r\\n\\r\\n\","
		 "\"src\":\"198.18.1.2:5060\"},\"id\":6}");
	assert_int_equal(error_code(j), 0);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "result"),
								 "explain")),
			       "only"));
	json_decref(j);

	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"log.level\",\"params\":{\"level\":\"debug\","
		 "\"type\":\"user.sipwarp.*\"},\"id\":7}");
	assert_int_equal(error_code(j), 0);
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"gateway.list\",\"id\":8}");
	assert_int_equal(error_code(j), 0);
	json_decref(j);
	/* Without a running dataplane these answer an error, never crash. */
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"stats.get\",\"id\":9}");
	assert_int_equal(error_code(j), -32000);
	json_decref(j);
	j = call("{\"jsonrpc\":\"2.0\",\"method\":\"core.shutdown\",\"id\":10}");
	assert_int_equal(error_code(j), -32000);
	json_decref(j);
}

static int
setup(void **state)
{
	static struct sw_config cfg;
	struct sw_diag diag;
	FILE *f;
	int r;

	(void)state;
	snprintf(good, sizeof(good), "/tmp/sw-ctl-good-%d.dialplan", getpid());
	snprintf(bad, sizeof(bad), "/tmp/sw-ctl-bad-%d.dialplan", getpid());
	f = fopen(good, "w");
	fputs("[Rule only]\n[Matching Patterns]\n$request = ^INVITE\n[Deploy Patterns]\n"
	      "$target = 198.18.2.2\n",
	      f);
	fclose(f);
	f = fopen(bad, "w");
	fputs("[Rule broken]\n[Matching Patterns]\n$requets = ^INVITE\n", f);
	fclose(f);
	cfg.dialplan = good;
	sw_diag_init(&diag);
	r = sw_ctl_rules_init(&cfg, 1, &diag);
	sw_diag_free(&diag);
	return r;
}

static int
teardown(void **state)
{
	(void)state;
	sw_ctl_rules_fini();
	unlink(good);
	unlink(bad);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors),
		cmocka_unit_test(reload_info_explain),
	};
	return cmocka_run_group_tests_name("ctl_jsonrpc", tests, setup, teardown);
}
