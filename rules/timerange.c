/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Time zones for $date, $time and $timerange without touching the process
 * TZ: the TZif file (RFC 8536) is read once at compile time into a table of
 * UTC transitions, so a worker converts a time with a binary search and no
 * lock (localtime_r takes glibc's tz lock). Debian ships "fat" TZif files,
 * whose transitions run to 2037; past the last one its offset stays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_pvt.h"

struct tz_info {
	uint32_t n;
	int64_t *at;     /* transition times, ascending */
	int32_t *off;    /* offset from at[i] on */
	int32_t off0;    /* before the first transition */
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tz_info *
tz_load(const char *name)
{
	char path[512];
	if (name == NULL)
		snprintf(path, sizeof(path), "/etc/localtime");
	else {
		if (name[0] == 0 || strstr(name, "..") != NULL || name[0] == '/')
			return NULL;
		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	}
	FILE *f = fopen(path, "rb");
	struct tz_info *tz = calloc(1, sizeof(*tz));
	if (tz == NULL) {
		if (f)
			fclose(f);
		return NULL;
	}
	if (f == NULL) {
		/* no local zone file: UTC; an unknown named zone is an error */
		if (name == NULL)
			return tz;
		free(tz);
		return NULL;
	}
	uint8_t *b = malloc(1 << 20);
	size_t len = b ? fread(b, 1, 1 << 20, f) : 0;
	fclose(f);
	if (b == NULL || len < 44 || memcmp(b, "TZif", 4) != 0)
		goto bad;
	const uint8_t *h = b;
	int tsize = 4;
	uint32_t isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28), tcnt = be32(h + 32),
		 tycnt = be32(h + 36), chcnt = be32(h + 40);
	size_t v1 = 44 + (size_t)tcnt * 5 + (size_t)tycnt * 6 + chcnt + (size_t)leap * 8 + isstd + isut;
	if (h[4] >= '2' && len >= v1 + 44 && memcmp(b + v1, "TZif", 4) == 0) {
		h = b + v1;
		tsize = 8;
		isut = be32(h + 20), isstd = be32(h + 24), leap = be32(h + 28), tcnt = be32(h + 32),
		tycnt = be32(h + 36), chcnt = be32(h + 40);
	}
	const uint8_t *p = h + 44;
	size_t need = (size_t)(p - b) + (size_t)tcnt * (size_t)(tsize + 1) + (size_t)tycnt * 6;
	if (need > len || tycnt == 0 || tycnt > 256)
		goto bad;
	const uint8_t *idx = p + (size_t)tcnt * (size_t)tsize, *types = idx + tcnt;
	tz->n = tcnt;
	tz->at = malloc(sizeof(int64_t) * (tcnt + 1));
	tz->off = malloc(sizeof(int32_t) * (tcnt + 1));
	if (tz->at == NULL || tz->off == NULL)
		goto bad;
	for (uint32_t i = 0; i < tcnt; i++) {
		tz->at[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
		uint8_t t = idx[i];
		if (t >= tycnt)
			goto bad;
		tz->off[i] = (int32_t)be32(types + t * 6);
	}
	tz->off0 = (int32_t)be32(types);
	free(b);
	return tz;
bad:
	free(b);
	tz_free(tz);
	return NULL;
}

void
tz_free(struct tz_info *tz)
{
	if (tz == NULL)
		return;
	free(tz->at);
	free(tz->off);
	free(tz);
}

static struct tz_info *local_tz;
static int local_loaded;

int32_t
tz_offset(const struct tz_info *tz, int64_t t)
{
	if (tz == NULL) {
		/* local time: loaded once (first use happens at compile time) */
		if (!__atomic_load_n(&local_loaded, __ATOMIC_ACQUIRE)) {
			struct tz_info *l = tz_load(NULL);
			local_tz = l;
			__atomic_store_n(&local_loaded, 1, __ATOMIC_RELEASE);
		}
		tz = local_tz;
		if (tz == NULL)
			return 0;
	}
	if (tz->n == 0 || t < tz->at[0])
		return tz->off0;
	uint32_t lo = 0, hi = tz->n;
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;
		if (tz->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->off[lo];
}
