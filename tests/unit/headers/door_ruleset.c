/* Compiles the rules/ruleset.h door on its own (DPDK chkincs style). */
#include "rules/ruleset.h"
int sw_door_ruleset_ok(void);
int sw_door_ruleset_ok(void) { return 1; }
