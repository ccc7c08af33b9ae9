/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "rules/rules_pvt.h"

int
gateways_parse_file(struct parse_ctx *pc, const char *path)
{
	diag_at(pc->d, path, 0, 0, "error", NULL, "gateway files not supported yet");
	return -1;
}
