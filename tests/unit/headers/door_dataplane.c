/* Compiles the dataplane/dataplane.h door on its own (DPDK chkincs style). */
#include "dataplane/dataplane.h"
int sw_door_dataplane_ok(void);
int sw_door_dataplane_ok(void) { return 1; }
