/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz-regress: replays every file of the given corpus directories through
 * LLVMFuzzerTestOneInput with the ordinary compiler, so a crash the fuzzer
 * once found stays fixed in every test run. Prints TAP.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned ntests;

static int
replay(const char *path)
{
	/* 64 KB datagrams and a little more: the parser must refuse them with 513 */
	static uint8_t buf[1 << 17];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		printf("not ok %u - %s: cannot open\n", ++ntests, path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* a copy of exactly n bytes, so ASAN would see a read past the end */
	uint8_t *copy = malloc(n ? n : 1);
	memcpy(copy, buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	printf("ok %u - %s\n", ++ntests, path);
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		char **names = NULL;
		size_t n = 0;

		if (d == NULL) {
			bad |= replay(argv[i]);
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2);
			sprintf(names[n++], "%s/%s", argv[i], e->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp);
		for (size_t k = 0; k < n; k++) {
			bad |= replay(names[k]);
			free(names[k]);
		}
		free(names);
	}
	printf("1..%u\n", ntests);
	return bad;
}
