/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to dataplane/; do not include from another folder.
 *
 * In-place message rewrite: a list of splices (cut [off, off+cut) and put
 * text there) applied to a buffer in one pass, no second copy of the message.
 * No DPDK here so unit tests run it on plain buffers.
 */
#ifndef SW_DP_REWRITE_H
#define SW_DP_REWRITE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SW_RW_MAX_SPLICES 48
#define SW_RW_TEXT 4096

struct sw_splice {
	uint32_t off;  /**< where in the original message */
	uint32_t cut;  /**< bytes of the original removed there */
	uint32_t text; /**< offset of the inserted text in sw_rw.text */
	uint32_t len;  /**< bytes inserted */
	uint32_t seq;  /**< order of creation, keeps equal offsets stable */
};

/** A rewrite being built: splices plus the text they insert. */
struct sw_rw {
	uint32_t n;
	uint32_t used;
	int overflow;  /**< set when a splice or its text did not fit */
	int unordered; /**< some splice starts before the end of the one made before it */
	uint32_t end;  /**< where the last splice made ends (off + cut) */
	struct sw_splice s[SW_RW_MAX_SPLICES];
	char text[SW_RW_TEXT];
};

static inline void
sw_rw_reset(struct sw_rw *rw)
{
	rw->n = 0;
	rw->used = 0;
	rw->overflow = 0;
	rw->unordered = 0;
	rw->end = 0;
}

/*
 * sw_rw_begin, sw_rw_append and sw_rw_splice are inline: a forwarded INVITE
 * makes about twenty of them, most with literal text whose memcpy then
 * becomes a few moves (600 instructions a message as calls).
 */

/** Start a splice whose text is written with sw_rw_append. */
static inline int
sw_rw_begin(struct sw_rw *rw, uint32_t off, uint32_t cut)
{
	struct sw_splice *s;

	/* An insert where the last one was made just continues its text: the
	 * same bytes in the same order, one splice less to place and move
	 * around (";rport=<port>;received=<addr>" at the end of a Via). */
	if (cut == 0 && rw->n > 0 && rw->s[rw->n - 1].off == off && rw->s[rw->n - 1].cut == 0)
		return 0;
	if (rw->n == SW_RW_MAX_SPLICES) {
		rw->overflow = 1;
		return -ENOSPC;
	}
	/* Made in order (the proxy's case): sw_rw_apply need not sort or check. */
	rw->unordered |= off < rw->end;
	rw->end = off + cut;
	s = &rw->s[rw->n];
	s->off = off;
	s->cut = cut;
	s->text = rw->used;
	s->len = 0;
	s->seq = rw->n++;
	return 0;
}

/** Append to the text of the last splice begun. */
static inline void
sw_rw_append(struct sw_rw *rw, const char *text, uint32_t len)
{
	if (rw->n == 0 || rw->used + len > SW_RW_TEXT) {
		rw->overflow = 1;
		return;
	}
	memcpy(rw->text + rw->used, text, len);
	rw->used += len;
	rw->s[rw->n - 1].len += len;
}

/** Add a splice; text is copied. Returns 0 or -ENOSPC (rw->overflow set). */
static inline int
sw_rw_splice(struct sw_rw *rw, uint32_t off, uint32_t cut, const char *text, uint32_t len)
{
	if (sw_rw_begin(rw, off, cut) < 0)
		return -ENOSPC;
	sw_rw_append(rw, text, len);
	return rw->overflow ? -ENOSPC : 0;
}

/**
 * sw_rw_append() of len <= 16 bytes from a source with 16 readable bytes:
 * one fixed-size copy instead of a memcpy call (a number made on the stack).
 */
static inline void
sw_rw_append16(struct sw_rw *rw, const char *text, uint32_t len)
{
	if (rw->n == 0 || len > 16 || rw->used + 16 > SW_RW_TEXT) {
		sw_rw_append(rw, text, len);
		return;
	}
	memcpy(rw->text + rw->used, text, 16);
	rw->used += len;
	rw->s[rw->n - 1].len += len;
}

/**
 * Room for len more bytes of the last splice begun, to be written in place
 * (text made piecewise, without a copy in between). NULL, with overflow
 * set, when it does not fit.
 */
static inline char *
sw_rw_reserve(struct sw_rw *rw, uint32_t len)
{
	char *o;

	if (rw->n == 0 || rw->used + len > SW_RW_TEXT) {
		rw->overflow = 1;
		return NULL;
	}
	o = rw->text + rw->used;
	rw->used += len;
	rw->s[rw->n - 1].len += len;
	return o;
}

/**
 * Apply every splice to buf (holding len bytes, cap bytes of room) in place.
 * Splices must not overlap (equal offsets with cut 0 are fine, kept in order).
 * @return the new length, or -ENOSPC when it would exceed cap (buf unchanged),
 *         -EINVAL for overlapping or out-of-range splices (buf unchanged).
 */
long sw_rw_apply(struct sw_rw *rw, char *buf, size_t len, size_t cap);

/**
 * The same, but the result may start before or after buf: bytes
 * [buf - before, buf + len + after) are writable. The start is chosen so that
 * the fewest bytes move (a Via pushed on top grows into the headroom instead
 * of moving the whole message). *start gets the new start relative to buf.
 * @return the new length, -ENOSPC or -EINVAL (buf unchanged).
 */
long sw_rw_apply_room(struct sw_rw *rw, char *buf, size_t len, size_t before, size_t after,
		      long *start);

#endif /* SW_DP_REWRITE_H */
