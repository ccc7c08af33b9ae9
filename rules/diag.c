/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnostics collected gcc style: "file:line:col: error: reason" and the
 * offending line echoed after "    >>> " (Redis), every fault of a file
 * gathered before the file is refused (HAProxy ERR_ALERT accumulation).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_pvt.h"

void
sw_diag_init(struct sw_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
sw_diag_free(struct sw_diag *d)
{
	free(d->text);
	memset(d, 0, sizeof(*d));
}

static void
diag_vappend(struct sw_diag *d, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if (d->len + (size_t)n + 1 > d->cap) {
		size_t cap = d->cap ? d->cap : 256;
		while (cap < d->len + (size_t)n + 1)
			cap *= 2;
		char *t = realloc(d->text, cap);
		if (t == NULL)
			return;
		d->text = t;
		d->cap = cap;
	}
	vsnprintf(d->text + d->len, d->cap - d->len, fmt, ap);
	d->len += (size_t)n;
}

static void
diag_append(struct sw_diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vappend(d, fmt, ap);
	va_end(ap);
}

static void
diag_vadd(struct sw_diag *d, const char *file, unsigned line, unsigned col, const char *kind,
	  const char *srcline, const char *fmt, va_list ap)
{
	if (d == NULL)
		return;
	if (file == NULL)
		file = "<input>";
	if (line == 0)
		diag_append(d, "%s: %s: ", file, kind);
	else if (col == 0)
		diag_append(d, "%s:%u: %s: ", file, line, kind);
	else
		diag_append(d, "%s:%u:%u: %s: ", file, line, col, kind);
	diag_vappend(d, fmt, ap);
	diag_append(d, "\n");
	if (srcline != NULL) {
		size_t n = strcspn(srcline, "\r\n");
		diag_append(d, "    >>> %.*s\n", (int)n, srcline);
	}
	if (strcmp(kind, "error") == 0)
		d->errors++;
	else if (strcmp(kind, "warning") == 0)
		d->warnings++;
}

void
sw_diag_add(struct sw_diag *d, const char *file, unsigned line, unsigned col, const char *kind,
	    const char *srcline, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, file, line, col, kind, srcline, fmt, ap);
	va_end(ap);
}
