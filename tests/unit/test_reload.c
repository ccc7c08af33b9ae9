/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RCU swap of the ruleset: reader threads (QSBR, as workers are) match a
 * message without pause while the control side reloads, alternating two
 * plans with a bad file every tenth. Each decision must come wholly from
 * one plan; a bad file never replaces the live one. Under ASAN a reader
 * touching a freed ruleset is a crash, so the suite's ASAN run is the
 * stale-read check.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <urcu/urcu-qsbr.h>

#include "control/control.h"
#include "rules/ruleset.h"

#define READERS 3
#define RELOADS 200

static char plan_a[64], plan_b[64], plan_bad[64];
static volatile int stop;
static uint64_t seen_a[READERS], seen_b[READERS], mixed[READERS], failed[READERS];
static uint64_t loops[READERS]; /* read by the main thread to see each reader running */

static const char msg_text[] = "INVITE sip:1000@198.18.1.1 SIP/2.0\r\n"
			       "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-r1\r\n"
			       "Max-Forwards: 70\r\n"
			       "From: <sip:a@198.18.1.2>;tag=1\r\n"
			       "To: <sip:1000@198.18.1.1>\r\n"
			       "Call-ID: reload-1\r\n"
			       "CSeq: 1 INVITE\r\n"
			       "Content-Length: 0\r\n\r\n";

static void
write_plan(const char *path, const char *tag)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
		"[Rule r-%s]\n[Matching Patterns]\n$request = ^INVITE\n$geturi(To) = sip:(1[0-9]+)@\n"
		"[Deploy Patterns]\nTo = sip:%%1@198.18.2.2\nX-Plan = %s\nX-Check = %s\n",
		tag, tag, tag);
	fclose(f);
}

/* The value of header name in a decision, or NULL. */
static const char *
edit_value(const struct sw_route_result *r, const char *name, char *out, size_t n)
{
	for (unsigned i = 0; i < r->nedits; i++)
		if (r->edits[i].name.len == strlen(name) &&
		    strncmp(r->buf + r->edits[i].name.off, name, r->edits[i].name.len) == 0) {
			snprintf(out, n, "%.*s", r->edits[i].value.len, r->buf + r->edits[i].value.off);
			return out;
		}
	return NULL;
}

static void *
reader(void *arg)
{
	unsigned idx = (unsigned)(uintptr_t)arg;
	static struct sw_sip_msg msgs[READERS];
	static struct sw_route_result res[READERS];
	struct sw_sip_msg *msg = &msgs[idx];
	struct sw_match_in in = {.msg = msg, .src_port = 5061, .local_port = 5060};
	char a[16], b[16];

	sw_addr_parse("198.18.1.2", 10, &in.src);
	if (sw_sip_parse(msg, msg_text, sizeof(msg_text) - 1) != SW_SIP_OK)
		return NULL;
	urcu_qsbr_register_thread();
	while (!stop) {
		struct sw_ruleset *rs;

		urcu_qsbr_read_lock();
		rs = rcu_dereference(*sw_ctl_ruleset_slot());
		if (rs == NULL || sw_ruleset_match(rs, sw_ruleset_scratch(rs, idx), &in, &res[idx]) != 0 ||
		    res[idx].action != SW_ROUTE_FORWARD) {
			failed[idx]++;
		} else if (edit_value(&res[idx], "X-Plan", a, sizeof(a)) == NULL ||
			   edit_value(&res[idx], "X-Check", b, sizeof(b)) == NULL || strcmp(a, b) != 0) {
			mixed[idx]++;
		} else if (strcmp(a, "A") == 0) {
			seen_a[idx]++;
		} else {
			seen_b[idx]++;
		}
		urcu_qsbr_read_unlock();
		__atomic_store_n(&loops[idx], loops[idx] + 1, __ATOMIC_RELEASE);
		urcu_qsbr_quiescent_state();
	}
	urcu_qsbr_unregister_thread();
	return NULL;
}

/* Wait (at most about 10 s) until every reader has looped past `since`. */
static bool
readers_moved(const uint64_t *since)
{
	for (int t = 0; t < 10000; t++) {
		unsigned ok = 0;

		for (unsigned i = 0; i < READERS; i++)
			ok += __atomic_load_n(&loops[i], __ATOMIC_ACQUIRE) > since[i];
		if (ok == READERS)
			return true;
		usleep(1000);
	}
	return false;
}

static void
swaps_under_readers(void **state)
{
	static struct sw_config cfg;
	pthread_t th[READERS];
	struct sw_diag diag;
	unsigned refused = 0;

	(void)state;
	snprintf(plan_a, sizeof(plan_a), "/tmp/sw-reload-a-%d.dialplan", getpid());
	snprintf(plan_b, sizeof(plan_b), "/tmp/sw-reload-b-%d.dialplan", getpid());
	snprintf(plan_bad, sizeof(plan_bad), "/tmp/sw-reload-bad-%d.dialplan", getpid());
	write_plan(plan_a, "A");
	write_plan(plan_b, "B");
	FILE *f = fopen(plan_bad, "w");
	fputs("[Rule broken]\n[Matching Patterns]\n$request = ^(INVITE\n[Deploy Patterns]\n", f);
	fclose(f);

	cfg.dialplan = plan_a;
	sw_diag_init(&diag);
	assert_int_equal(sw_ctl_rules_init(&cfg, READERS, &diag), 0);
	sw_diag_free(&diag);
	uint64_t mark[READERS] = {0};
	bool started, moved;

	for (unsigned i = 0; i < READERS; i++)
		pthread_create(&th[i], NULL, reader, (void *)(uintptr_t)i);
	/* On a loaded machine a reader may not have run yet: wait for each, so
	 * the swaps below really happen under readers. */
	started = readers_moved(mark);
	for (unsigned i = 1; i <= RELOADS; i++) {
		struct sw_ctl_loaded l;

		sw_diag_init(&diag);
		if (i % 10 == 0) {
			assert_int_equal(sw_ctl_reload(plan_bad, &diag), -EINVAL);
			assert_true(diag.errors > 0);
			assert_non_null(strstr(diag.text, plan_bad));
			refused++;
		} else {
			assert_int_equal(sw_ctl_reload(i % 2 ? plan_b : plan_a, &diag), 0);
		}
		sw_diag_free(&diag);
		sw_ctl_loaded(&l);
		assert_int_equal(l.version, 1 + i - refused);
	}
	for (unsigned i = 0; i < READERS; i++)
		mark[i] = __atomic_load_n(&loops[i], __ATOMIC_ACQUIRE);
	moved = readers_moved(mark); /* each reader read the last ruleset too */
	stop = 1;
	for (unsigned i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	/* Free before asserting: a failed assertion leaves this function. */
	sw_ctl_rules_fini();
	assert_true(started);
	assert_true(moved);
	for (unsigned i = 0; i < READERS; i++) {
		assert_int_equal(mixed[i], 0);
		assert_int_equal(failed[i], 0);
		assert_true(seen_a[i] + seen_b[i] > 0);
	}
	unlink(plan_a);
	unlink(plan_b);
	unlink(plan_bad);
}

static void
match_n(const char *user, unsigned n)
{
	static struct sw_sip_msg msg;
	static struct sw_route_result res;
	char text[512];
	struct sw_match_in in = {.msg = &msg, .src_port = 5061, .local_port = 5060};
	struct sw_ruleset *rs = *sw_ctl_ruleset_slot();

	snprintf(text, sizeof(text),
		 "INVITE sip:%s@198.18.1.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.1.2;branch=z9hG4bKh\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:%s@198.18.1.1>\r\n"
		 "Call-ID: h\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		 user, user);
	assert_int_equal(sw_sip_parse(&msg, text, strlen(text)), SW_SIP_OK);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sw_ruleset_match(rs, sw_ruleset_scratch(rs, 0), &in, &res), 0);
}

static void
hits_carry_over(void **state)
{
	static struct sw_config cfg;
	const char *r1 = "[Rule one]\n[Matching Patterns]\n$ruser = ^1\n[Deploy Patterns]\n"
			 "$target = 198.18.2.2\n";
	const char *r2 = "[Rule two]\n[Matching Patterns]\n$ruser = ^2\n[Deploy Patterns]\n"
			 "$target = 198.18.2.2\n";
	const char *r2b = "[Rule two]\n[Matching Patterns]\n$ruser = ^2[0-9]\n[Deploy Patterns]\n"
			  "$target = 198.18.2.2\n";
	const char *r0 = "# a new rule first, so every index moves\n[Rule zero]\n"
			 "[Matching Patterns]\n$ruser = ^0\n[Deploy Patterns]\n$target = 198.18.2.2\n";
	struct sw_diag diag;
	FILE *f;

	(void)state;
	f = fopen(plan_a, "w");
	fprintf(f, "%s\n%s", r1, r2);
	fclose(f);
	cfg.dialplan = plan_a;
	sw_diag_init(&diag);
	assert_int_equal(sw_ctl_rules_init(&cfg, 1, &diag), 0);
	match_n("1000", 5);
	match_n("2000", 3);
	assert_int_equal(sw_ruleset_rule_hits(*sw_ctl_ruleset_slot(), 0), 5);
	assert_int_equal(sw_ruleset_rule_hits(*sw_ctl_ruleset_slot(), 1), 3);

	/* Rule one unchanged (moved), rule two changed, rule zero new. */
	f = fopen(plan_b, "w");
	fprintf(f, "%s\n%s\n%s", r0, r1, r2b);
	fclose(f);
	assert_int_equal(sw_ctl_reload(plan_b, &diag), 0);
	assert_int_equal(sw_ruleset_rule_hits(*sw_ctl_ruleset_slot(), 0), 0);
	assert_int_equal(sw_ruleset_rule_hits(*sw_ctl_ruleset_slot(), 1), 5);
	assert_int_equal(sw_ruleset_rule_hits(*sw_ctl_ruleset_slot(), 2), 0);
	match_n("1000", 2);
	/* And again: the carried count keeps growing across reloads. */
	assert_int_equal(sw_ctl_reload(NULL, &diag), 0);
	assert_int_equal(sw_ruleset_rule_hits(*sw_ctl_ruleset_slot(), 1), 7);
	sw_diag_free(&diag);
	sw_ctl_rules_fini();
	unlink(plan_a);
	unlink(plan_b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(swaps_under_readers),
		cmocka_unit_test(hits_carry_over),
	};
	return cmocka_run_group_tests_name("reload", tests, NULL, NULL);
}
