/* Error codes of lib/ (HAProxy style: <0 error, >=0 success). */
#ifndef GW_ERROR_H
#define GW_ERROR_H

#include <stddef.h>

enum gw_err {
	GW_OK = 0,
	GW_EIO = -1,        /* open/read/map/write failed: see errno */
	GW_ENOMEM = -2,
	GW_EMAGIC = -3,     /* not a gw blob */
	GW_EVERSION = -4,   /* blob written for a newer reader */
	GW_ETRUNC = -5,     /* shorter than its header says */
	GW_ECHECKSUM = -6,  /* CRC mismatch: the file was altered */
	GW_ECORRUPT = -7,   /* an offset, length, index or value is out of bounds */
	GW_ETOOBIG = -8,    /* more than the format can express */
};

/* A static English message for <err>. */
const char *gw_strerror(int err);

/* Write the printf-style explanation <fmt> into <why> (<whylen> bytes; NULL
 * or 0: nowhere), truncated to fit, and return <err>, so that a refusal reads
 * `return gw_explain(why, whylen, GW_ECORRUPT, "...", ...)`. */
__attribute__((format(printf, 4, 5)))
int gw_explain(char *why, size_t whylen, int err, const char *fmt, ...);

#endif
