/* SPDX-License-Identifier: BSD-3-Clause */
/* In-place splices: table cases plus a random cross-check against a copy. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/rewrite.h"

struct sp {
	uint32_t off, cut;
	const char *text;
};

static const struct {
	const char *in;
	struct sp sp[4];
	unsigned n;
	const char *out;
} cases[] = {
	{"abcdef", {{0, 0, "X"}}, 1, "Xabcdef"},
	{"abcdef", {{6, 0, "X"}}, 1, "abcdefX"},
	{"abcdef", {{1, 2, ""}}, 1, "adef"},
	{"abcdef", {{1, 2, "LONGER"}, {4, 1, ""}}, 2, "aLONGERdf"},
	{"abcdef", {{4, 1, "Z"}, {0, 1, ""}}, 2, "bcdZf"},
	{"abcdef", {{0, 0, "1"}, {0, 0, "2"}, {3, 3, ""}}, 3, "12abc"},
	{"Via: a\r\nTo: b\r\n\r\n", {{0, 0, "Via: new\r\n"}, {8, 7, "To: c;tag=1\r\n"}}, 2,
	 "Via: new\r\nVia: a\r\nTo: c;tag=1\r\n\r\n"},
};

static void
table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct sw_rw rw;
		char buf[128];
		long r;

		sw_rw_reset(&rw);
		strcpy(buf, cases[i].in);
		for (unsigned j = 0; j < cases[i].n; j++)
			assert_int_equal(sw_rw_splice(&rw, cases[i].sp[j].off, cases[i].sp[j].cut,
						      cases[i].sp[j].text,
						      strlen(cases[i].sp[j].text)),
					 0);
		r = sw_rw_apply(&rw, buf, strlen(buf), sizeof(buf));
		assert_int_equal(r, strlen(cases[i].out));
		assert_memory_equal(buf, cases[i].out, r);
	}
}

static void
refusals(void **state)
{
	static struct sw_rw rw;
	char buf[8] = "abcdef";

	(void)state;
	sw_rw_reset(&rw);
	sw_rw_splice(&rw, 0, 0, "XYZ", 3);
	assert_int_equal(sw_rw_apply(&rw, buf, 6, 8), -ENOSPC);
	assert_memory_equal(buf, "abcdef", 6);
	sw_rw_reset(&rw);
	sw_rw_splice(&rw, 1, 3, "", 0);
	sw_rw_splice(&rw, 2, 1, "", 0);
	assert_int_equal(sw_rw_apply(&rw, buf, 6, 8), -EINVAL);
	sw_rw_reset(&rw);
	sw_rw_splice(&rw, 5, 3, "", 0);
	assert_int_equal(sw_rw_apply(&rw, buf, 6, 8), -EINVAL);
}

/* Reference: build the result by copying. */
static size_t
naive(const struct sw_rw *rw, const char *in, size_t len, char *out)
{
	size_t o = 0, pos = 0;

	for (uint32_t i = 0; i < rw->n; i++) {
		memcpy(out + o, in + pos, rw->s[i].off - pos);
		o += rw->s[i].off - pos;
		memcpy(out + o, rw->text + rw->s[i].text, rw->s[i].len);
		o += rw->s[i].len;
		pos = rw->s[i].off + rw->s[i].cut;
	}
	memcpy(out + o, in + pos, len - pos);
	return o + len - pos;
}

/* Up to ten random non-overlapping splices over a message of len bytes. */
static void
random_splices(struct sw_rw *rw, size_t len)
{
	uint32_t pos = 0;

	sw_rw_reset(rw);
	while (pos <= len && rw->n < 10) {
		uint32_t off = pos + rand() % 40, cut, tl;
		char t[64];

		if (off > len)
			break;
		cut = rand() % 3 == 0 ? 0 : rand() % 30;
		if (off + cut > len)
			cut = len - off;
		tl = rand() % 60;
		for (uint32_t k = 0; k < tl; k++)
			t[k] = 'A' + rand() % 26;
		sw_rw_splice(rw, off, cut, t, tl);
		pos = off + cut;
	}
}

static void
random_against_copy(void **state)
{
	static struct sw_rw rw;
	static char in[512], buf[2048], want[2048];

	(void)state;
	srand(42);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 1 + rand() % 400;
		for (size_t i = 0; i < len; i++)
			in[i] = 'a' + rand() % 26;
		random_splices(&rw, len);
		memcpy(buf, in, len);
		long r = sw_rw_apply(&rw, buf, len, sizeof(buf));
		size_t w = naive(&rw, in, len, want);
		assert_int_equal(r, (long)w);
		assert_memory_equal(buf, want, w);
	}
}

static void
random_with_room(void **state)
{
	static struct sw_rw rw;
	static char in[512], area[4096], want[2048];

	(void)state;
	srand(7);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 1 + rand() % 400, before = rand() % 200, after = rand() % 200;
		char *buf = area + 1024;
		long start = 0, r;

		for (size_t i = 0; i < len; i++)
			in[i] = 'a' + rand() % 26;
		random_splices(&rw, len);
		memset(area, '#', sizeof(area));
		memcpy(buf, in, len);
		r = sw_rw_apply_room(&rw, buf, len, before, after, &start);
		size_t w = naive(&rw, in, len, want);
		if ((long)w > (long)(len + before + after)) {
			assert_int_equal(r, -ENOSPC);
			continue;
		}
		assert_int_equal(r, (long)w);
		assert_true(start >= -(long)before);
		assert_true(start + r <= (long)(len + after));
		assert_memory_equal(buf + start, want, w);
		/* Nothing written outside the room. */
		assert_int_equal(area[1024 - before - 1], '#');
		assert_int_equal(area[1024 + len + after], '#');
	}
}

/*
 * The same splices made in a random order: apply sorts them by offset, and
 * equal offsets keep the order they were made in (what naive() does on a
 * copy sorted the same way).
 */
static void
random_out_of_order(void **state)
{
	static struct sw_rw rw, sorted;
	static char in[512], buf[2048], want[2048];

	(void)state;
	srand(99);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 1 + rand() % 400;
		struct sw_rw tmp;
		uint32_t perm[SW_RW_MAX_SPLICES];

		for (size_t i = 0; i < len; i++)
			in[i] = 'a' + rand() % 26;
		random_splices(&tmp, len);
		/* Some inserts at one offset, to check that they stay in order. */
		if (tmp.n > 0 && tmp.n < 10 && rand() % 2)
			sw_rw_splice(&tmp, tmp.s[tmp.n - 1].off + tmp.s[tmp.n - 1].cut, 0, "@@", 2);
		for (uint32_t i = 0; i < tmp.n; i++)
			perm[i] = i;
		for (uint32_t i = tmp.n; i > 1; i--) {
			uint32_t j = (uint32_t)rand() % i, t = perm[i - 1];

			perm[i - 1] = perm[j];
			perm[j] = t;
		}
		sw_rw_reset(&rw);
		for (uint32_t i = 0; i < tmp.n; i++) {
			const struct sw_splice *s = &tmp.s[perm[i]];

			sw_rw_splice(&rw, s->off, s->cut, tmp.text + s->text, s->len);
		}
		/* naive() wants them sorted by offset, equal ones as made in rw. */
		sorted = rw;
		for (uint32_t i = 1; i < sorted.n; i++)
			for (uint32_t j = i; j > 0 && (sorted.s[j - 1].off > sorted.s[j].off ||
						      (sorted.s[j - 1].off == sorted.s[j].off &&
						       sorted.s[j - 1].seq > sorted.s[j].seq));
			     j--) {
				struct sw_splice t = sorted.s[j];

				sorted.s[j] = sorted.s[j - 1];
				sorted.s[j - 1] = t;
			}
		memcpy(buf, in, len);
		long r = sw_rw_apply(&rw, buf, len, sizeof(buf));
		bool overlap = false;

		/* A cut made before an insert at its start now comes first: they overlap. */
		for (uint32_t i = 1; i < sorted.n; i++)
			overlap |= sorted.s[i].off < sorted.s[i - 1].off + sorted.s[i - 1].cut;
		if (overlap) {
			assert_int_equal(r, -EINVAL);
			continue;
		}
		size_t w = naive(&sorted, in, len, want);
		assert_int_equal(r, (long)w);
		assert_memory_equal(buf, want, w);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(refusals),
		cmocka_unit_test(random_against_copy),
		cmocka_unit_test(random_with_room),
		cmocka_unit_test(random_out_of_order),
	};
	return cmocka_run_group_tests_name("rewrite", tests, NULL, NULL);
}
