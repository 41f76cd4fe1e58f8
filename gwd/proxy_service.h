/* The proxy service: the engine threads of gwd/proxy.c, the active health
 * checker, the "upstreams" health check and the upstream metric families,
 * started and stopped by main() around the server (proxy_service.c).
 */
#ifndef GWD_PROXY_SERVICE_H
#define GWD_PROXY_SERVICE_H

/* Start <engines> engine threads (one per pool thread) and the health
 * checker; register the "upstreams" health check and the upstream metric
 * families.  Returns 0 or -1. */
int gwd_proxy_service_start(unsigned engines);

/* Stop both (exchanges still running end with 500 and resume their
 * connections: call while the server still runs). */
void gwd_proxy_service_stop(void);

#endif
