/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the eal suite's tests. */
#ifndef SW_TEST_EAL_UTIL_H
#define SW_TEST_EAL_UTIL_H

#include <ftw.h>
#include <stdio.h>

#include <rte_eal.h>

static int
eal_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * rte_eal_cleanup(), then remove this process's runtime directory
 * (/var/run/dpdk/<prefix>): --no-huge cannot go with --in-memory, and the
 * EAL leaves the directory behind.
 */
static inline void
eal_cleanup_all(const char *prefix)
{
	char dir[256];

	rte_eal_cleanup();
	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", prefix);
	nftw(dir, eal_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

#endif /* SW_TEST_EAL_UTIL_H */
