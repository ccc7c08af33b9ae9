/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Splices applied in place. The unchanged segments between splices each move
 * by the sum of the size changes before them. Moving every segment that goes
 * left from left to right, then every segment that goes right from right to
 * left, never overwrites a segment that has not moved yet: the new layout
 * keeps the segments in order, so a segment's destination can only cover
 * sources that already moved or bytes that a splice removed.
 */
#include <errno.h>
#include <string.h>

#include "rewrite.h"

int
sw_rw_splice(struct sw_rw *rw, uint32_t off, uint32_t cut, const char *text, uint32_t len)
{
	if (sw_rw_begin(rw, off, cut) < 0)
		return -ENOSPC;
	sw_rw_append(rw, text, len);
	return rw->overflow ? -ENOSPC : 0;
}

static void
sort_splices(struct sw_rw *rw)
{
	/* Insertion sort: n is small and usually nearly sorted. */
	for (uint32_t i = 1; i < rw->n; i++) {
		/* in place already (the common case): no copy out and back */
		if (rw->s[i - 1].off < rw->s[i].off ||
		    (rw->s[i - 1].off == rw->s[i].off && rw->s[i - 1].seq < rw->s[i].seq))
			continue;
		struct sw_splice t = rw->s[i];
		uint32_t j = i;

		while (j > 0 && (rw->s[j - 1].off > t.off ||
				 (rw->s[j - 1].off == t.off && rw->s[j - 1].seq > t.seq))) {
			rw->s[j] = rw->s[j - 1];
			j--;
		}
		rw->s[j] = t;
	}
}

/* Check the splices and fill delta[]: delta[k] is the shift of the segment before splice k. */
static int
plan(struct sw_rw *rw, size_t len, long *delta)
{
	long d = 0;

	if (rw->overflow)
		return -ENOSPC;
	sort_splices(rw);
	for (uint32_t i = 0; i < rw->n; i++) {
		const struct sw_splice *s = &rw->s[i];

		if ((size_t)s->off + s->cut > len)
			return -EINVAL;
		if (i > 0 && s->off < rw->s[i - 1].off + rw->s[i - 1].cut)
			return -EINVAL;
		delta[i] = d;
		d += (long)s->len - (long)s->cut;
	}
	delta[rw->n] = d;
	return 0;
}

/* Move every segment k by delta[k] + x, then write the splices' texts. */
static void
move(struct sw_rw *rw, char *buf, size_t len, const long *delta, long x)
{
	uint32_t n = rw->n;

	/* Segment k runs from the end of splice k-1 to the start of splice k. */
#define SEG_START(k) ((k) == 0 ? 0 : rw->s[(k)-1].off + rw->s[(k)-1].cut)
#define SEG_END(k) ((k) == n ? (uint32_t)len : rw->s[(k)].off)
	for (uint32_t k = 0; k <= n; k++)
		if (delta[k] + x < 0)
			memmove(buf + SEG_START(k) + delta[k] + x, buf + SEG_START(k),
				SEG_END(k) - SEG_START(k));
	for (uint32_t k = n + 1; k-- > 0;)
		if (delta[k] + x > 0)
			memmove(buf + SEG_START(k) + delta[k] + x, buf + SEG_START(k),
				SEG_END(k) - SEG_START(k));
#undef SEG_START
#undef SEG_END
	for (uint32_t i = 0; i < n; i++)
		memcpy(buf + rw->s[i].off + delta[i] + x, rw->text + rw->s[i].text, rw->s[i].len);
}

long
sw_rw_apply(struct sw_rw *rw, char *buf, size_t len, size_t cap)
{
	long delta[SW_RW_MAX_SPLICES + 1];
	int r = plan(rw, len, delta);

	if (r != 0)
		return r;
	if ((long)len + delta[rw->n] > (long)cap)
		return -ENOSPC;
	move(rw, buf, len, delta, 0);
	return (long)len + delta[rw->n];
}

long
sw_rw_apply_room(struct sw_rw *rw, char *buf, size_t len, size_t before, size_t after,
		 long *start)
{
	long delta[SW_RW_MAX_SPLICES + 1], x, lo, hi, total, acc = 0;
	uint32_t n = rw->n;
	int r = plan(rw, len, delta);

	if (r != 0)
		return r;
	total = (long)len + delta[n];
	/* A good start: minus the shift of the segment that holds the middle
	 * byte, so at least half of the message stays where it is (a Via pushed
	 * on top then grows into the headroom). Any start inside the room is
	 * correct; this one keeps the moves short. */
	x = -delta[n];
	for (uint32_t k = 0; k <= n; k++) {
		uint32_t s0 = k == 0 ? 0 : rw->s[k - 1].off + rw->s[k - 1].cut;
		uint32_t s1 = k == n ? (uint32_t)len : rw->s[k].off;

		acc += s1 - s0;
		if (2 * acc >= (long)len) {
			x = -delta[k];
			break;
		}
	}
	/* Stay inside [buf - before, buf + len + after). */
	lo = -(long)before;
	hi = (long)len + (long)after - total;
	if (hi < lo)
		return -ENOSPC;
	if (x < lo)
		x = lo;
	if (x > hi)
		x = hi;
	move(rw, buf, len, delta, x);
	*start = x;
	return total;
}
