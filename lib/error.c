/* Messages for the error codes of lib/ (error.h).  One place, so that gwc and
 * gwd word a refused blob the same way. */
#include "lib/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *gw_strerror(int err)
{
	switch (err) {
	case GW_OK:
		return "success";
	case GW_EIO:
		return "input/output error";
	case GW_ENOMEM:
		return "out of memory";
	case GW_EMAGIC:
		return "not a gw blob (bad magic)";
	case GW_EVERSION:
		return "blob format too new for this reader";
	case GW_ETRUNC:
		return "blob truncated";
	case GW_ECHECKSUM:
		return "blob checksum mismatch (file altered)";
	case GW_ECORRUPT:
		return "blob corrupt";
	case GW_ETOOBIG:
		return "too large for the blob format";
	}
	return "unknown error";
}

int gw_explain(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}
