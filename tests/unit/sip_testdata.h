/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loads a SIP message written in the RFC 4475 §2 notation (tests/data/sip/README):
 * LF becomes CRLF, <hex>..</hex> raw octets, <repeat count=N>..</repeat> N copies.
 */
#ifndef SW_TEST_SIP_TESTDATA_H
#define SW_TEST_SIP_TESTDATA_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Decode src[0..n) into out (cap bytes); returns the length, or -1 if it does not fit. */
static long
sip_notation_decode(const char *src, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		if (strncmp(src + i, "<hex>", 5) == 0) {
			for (i += 5; i + 1 < n && src[i] != '<'; i += 2) {
				if (o >= cap)
					return -1;
				out[o++] = (char)(hexval(src[i]) * 16 + hexval(src[i + 1]));
			}
			i += 6; /* </hex> */
		} else if (strncmp(src + i, "<repeat count=", 14) == 0) {
			unsigned long count = strtoul(src + i + 14, NULL, 10);
			const char *body = strchr(src + i, '>') + 1;
			const char *end = strstr(body, "</repeat>");
			size_t bl = (size_t)(end - body);

			for (unsigned long k = 0; k < count; k++) {
				if (o + bl > cap)
					return -1;
				memcpy(out + o, body, bl);
				o += bl;
			}
			i = (size_t)(end - src) + 9;
		} else if (src[i] == '\n') {
			if (o + 2 > cap)
				return -1;
			out[o++] = '\r';
			out[o++] = '\n';
			i++;
		} else {
			if (o >= cap)
				return -1;
			out[o++] = src[i++];
		}
	}
	return (long)o;
}

/* Read and decode SW_TEST_DATA/sip/<name>.txt; returns the length or -1. */
static long
sip_testdata_load(const char *name, char *out, size_t cap)
{
	static char raw[1 << 17];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/sip/%s.txt", SW_TEST_DATA, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	return sip_notation_decode(raw, n, out, cap);
}

#endif /* SW_TEST_SIP_TESTDATA_H */
