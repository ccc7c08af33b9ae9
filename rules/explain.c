/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_pvt.h"

char *
sw_ruleset_explain(const struct sw_ruleset *rs, const struct sw_match_in *in)
{
	(void)rs;
	(void)in;
	return strdup("explain: not yet\n");
}

char *
sw_ruleset_explain_text(const struct sw_ruleset *rs, const char *msg, size_t len,
			const struct sw_addr *src, uint16_t src_port, uint8_t transport,
			bool src_is_local, int64_t now, const char **err)
{
	(void)rs, (void)msg, (void)len, (void)src, (void)src_port, (void)transport, (void)src_is_local, (void)now;
	*err = "not yet";
	return NULL;
}
