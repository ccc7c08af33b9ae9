/* SPDX-License-Identifier: BSD-3-Clause */
/* Every door header compiles on its own: each door_*.c includes exactly one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int sw_door_control_ok(void);
int sw_door_dataplane_ok(void);
int sw_door_kernels_ok(void);
int sw_door_nic_ok(void);
int sw_door_ruleset_ok(void);

static void
doors_compile_alone(void **state)
{
	(void)state;
	assert_int_equal(sw_door_control_ok() + sw_door_dataplane_ok() + sw_door_kernels_ok() +
				 sw_door_nic_ok() + sw_door_ruleset_ok(),
			 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(doors_compile_alone),
	};
	return cmocka_run_group_tests_name("headers", tests, NULL, NULL);
}
