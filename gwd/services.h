/* The services of other modules that the request path dispatches to, opened
 * by main.c and handed to pipeline.c, which passes them on (policy.c,
 * login.c).  Any may be NULL: the routes needing it then answer 503. */
#ifndef GWD_SERVICES_H
#define GWD_SERVICES_H

struct gwd_store;
struct gwd_sessions;
struct gwd_apikeys;

struct gwd_services {
	struct gwd_store *store;        /* gwd/store.h: the SQLite database */
	struct gwd_sessions *sessions;  /* gwd/session.h: login, logout, session policy */
	struct gwd_apikeys *apikeys;    /* gwd/apikey.h: the api_key policy */
	int tls;                       /* serving HTTPS: cookies get Secure */
};

#endif
