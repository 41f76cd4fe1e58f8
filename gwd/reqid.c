/* Request ids (reqid.h). */
#include "gwd/reqid.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "gwd/worker.h"

static char prefix[17] = "0000000000000000";

int gwd_reqid_init(void)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[8];
	ssize_t n = getrandom(rnd, sizeof rnd, 0);

	if (n != (ssize_t)sizeof rnd) {
		/* no entropy: fall back on time and pid, unique enough for a log key */
		uint64_t v = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();

		memcpy(rnd, &v, sizeof rnd);
	}
	for (int i = 0; i < 8; i++) {
		prefix[2 * i] = hex[rnd[i] >> 4];
		prefix[2 * i + 1] = hex[rnd[i] & 15];
	}
	return n == (ssize_t)sizeof rnd ? 0 : -1;
}

int gwd_reqid_valid(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Append <v> in lower-case hex, at least <min> digits, at <p>. Returns the end. */
static char *put_hex(char *p, uint64_t v, int min)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = hex[v & 15];
		v >>= 4;
	} while (v || n < min);
	while (n)
		*p++ = tmp[--n];
	return p;
}

size_t gwd_reqid_make(struct gwd_worker *w, char *out)
{
	char *p = out;

	memcpy(p, prefix, 16);
	p += 16;
	*p++ = '-';
	p = put_hex(p, w->id, 2);
	*p++ = '-';
	p = put_hex(p, ++w->reqid_seq, 8);
	*p = '\0';
	return (size_t)(p - out);
}
