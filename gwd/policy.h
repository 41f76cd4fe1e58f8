/* The request-time code of the policies that have no module of their own:
 * the client address, the `ip` policy, and the dispatch to the rate limiter
 * (gwd/ratelimit.h) and to sessions and API keys (gwd/session.h,
 * gwd/apikey.h).  (`cors` is cors.c, `headers` hdrpol.c, `body_limit` is a
 * number the pipeline compares.)
 *
 * Each gwd_policy_* returns 0 when the request goes on, 1 when the policy
 * answered it (<r->resp> holds a problem: 401, 403, 429, 503...).
 */
#ifndef GWD_POLICY_H
#define GWD_POLICY_H

#include "gwd/clientip.h"
#include "gwd/services.h"
#include "lib/model.h"

struct gwd_req;

/* The client address of <r>: the socket's peer, or X-Forwarded-For walked
 * from the right when the peer is one of the blob's trusted proxies
 * (clientip.h).  Computed once per request; :: when unknown. */
const struct gwd_clientip *gwd_clientip_of(struct gwd_req *r);

/* `ip`: 403 unless the client address passes the allow and deny lists. */
int gwd_policy_ip(struct gwd_req *r, const struct gw_policy *p);

/* `rate_limit`: every limit of <p> must admit the request (keyed by client
 * address, user, API key name, header or route); admitted or not, the
 * RateLimit response fields are added; refused: 429. */
int gwd_policy_rate_limit(struct gwd_req *r, const struct gw_policy *p);

/* `auth`: a live session (Bearer token or cookie) or a known API key, per the
 * policy's type; sets the request's user (access log, rate limits keyed by
 * user) and the policy's user header towards upstreams.  401 without valid
 * credentials, 503 when the store is unavailable. */
int gwd_policy_auth(struct gwd_req *r, const struct gw_policy *p, const struct gwd_services *svc);

#endif
