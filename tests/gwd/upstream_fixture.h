/* The upstream fixture of the proxy engine's and the upstream state's
 * suites (tests/gwd/proxy.c, tests/gwd/upstream.c): one upstream of NT
 * targets on 127.0.0.1 ports that nothing needs to listen on, in static
 * storage, rebuilt by setup() for each test.
 */
#ifndef GW_TESTS_GWD_UPSTREAM_FIXTURE_H
#define GW_TESTS_GWD_UPSTREAM_FIXTURE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gwd/upstream.h"

#define NT 3
static struct gwd_upstream_target_state tgt[NT];
static struct gwd_upstream_state up;

/* An upstream of NT targets with weights <w>, balance <mode>. */
static void setup(const uint32_t *w, uint8_t mode)
{
	memset(tgt, 0, sizeof tgt);
	memset(&up, 0, sizeof up);
	up.t = tgt;
	up.n = NT;
	up.cfg.balance = mode;
	up.cfg.cb_failures = 3;
	up.cfg.cb_cooldown_ms = 1000;
	up.cfg.retries = 1;
	for (int i = 0; i < NT; i++) {
		tgt[i].weight = w[i];
		atomic_init(&tgt[i].healthy, 1);
		snprintf(tgt[i].hostport, sizeof tgt[i].hostport, "127.0.0.1:%d", 9000 + i);
		up.total_weight += w[i];
	}
}

#endif
