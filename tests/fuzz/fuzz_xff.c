/* libFuzzer harness for the X-Forwarded-For walk of gwd/clientip.c,
 * gwd_clientip(), against a reference written differently on purpose, and
 * for the address parser it uses, gwd_clientip_parse().
 *
 * Input: the first byte picks the peer (its low 3 bits: a trusted or an
 * untrusted IPv4 or IPv6 address, or another family) and the trusted-proxy
 * list (bit 3: the list below, or everything); the rest, split at '\n', are
 * the X-Forwarded-For fields in arrival order, each in its own malloc of
 * exactly its length (no NUL: the walk must not read past it).
 *
 * The reference splits every field at ',' left to right into one list of
 * trimmed, non-empty entries, then walks the list backwards by index, which
 * is how gwd/clientip.h states the rule; both must name the same address.
 * Every entry gwd_clientip_parse() accepts (when the peer is trusted) must come
 * back the same through gwd_clientip_format() and gwd_clientip_parse() again.
 *
 * Seeds: tests/fuzz/corpus/fuzz_xff/.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gwd/clientip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 64

/* 127.0.0.0/8, 10.0.0.0/8, ::1/128, fd00::/8; or ::/0 and 0.0.0.0/0. */
static const struct gw_cidr some[] = {
	{ 4, 8, { 127 } },
	{ 4, 8, { 10 } },
	{ 6, 128, { [15] = 1 } },
	{ 6, 8, { 0xfd } },
};
static const struct gw_cidr all[] = {
	{ 6, 0, { 0 } },
	{ 4, 0, { 0 } },
};

/* Whether <c> is a blank of OWS.  Returns 1 or 0. */
static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* An address parsed: format it, parse it again, it must be the same. */
static void round_trip(const struct gwd_clientip *ip)
{
	char text[GWD_CLIENTIP_STRLEN];
	struct gwd_clientip again;
	size_t n = gwd_clientip_format(ip, text);

	if (n == 0 || n >= GWD_CLIENTIP_STRLEN || text[n] != '\0')
		abort();
	if (gwd_clientip_parse(&again, text, n) != 0 || memcmp(&again, ip, sizeof *ip) != 0)
		abort();
}

/* The reference walk (see the top). */
static void reference(struct gwd_clientip *out, const struct gwd_clientip *peer, char *const *fields,
		      const size_t *lens, unsigned nf, const struct gw_cidr *tr, uint32_t ntr)
{
	const char **ent = NULL;
	size_t *elen = NULL, n = 0, cap = 1;

	*out = *peer;
	if (!gwd_clientip_in_cidrs(peer, tr, ntr))
		return;
	for (unsigned f = 0; f < nf; f++)
		for (size_t k = 0; k < lens[f]; k++)
			cap += fields[f][k] == ',';
	cap += nf;
	ent = malloc(cap * sizeof *ent);
	elen = malloc(cap * sizeof *elen);
	if (!ent || !elen)
		abort();
	for (unsigned f = 0; f < nf; f++) {
		size_t a = 0;

		while (a <= lens[f]) {
			const char *c = memchr(fields[f] + a, ',', lens[f] - a);
			size_t b = c ? (size_t)(c - fields[f]) : lens[f], s = a, e = b;

			while (s < e && blank(fields[f][s]))
				s++;
			while (e > s && blank(fields[f][e - 1]))
				e--;
			if (e > s) {
				ent[n] = fields[f] + s;
				elen[n++] = e - s;
			}
			a = b + 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct gwd_clientip ip;

		if (gwd_clientip_parse(&ip, ent[i], elen[i]) == 0)
			round_trip(&ip);
	}
	for (size_t i = n; i-- > 0;) {
		struct gwd_clientip ip;

		if (gwd_clientip_parse(&ip, ent[i], elen[i]) != 0)
			break;
		*out = ip;
		if (!gwd_clientip_in_cidrs(&ip, tr, ntr))
			break;
	}
	free(ent);
	free(elen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *fields[MAX_FIELDS];
	size_t lens[MAX_FIELDS];
	unsigned nf = 0;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_storage other = { .ss_family = AF_UNIX };
	const struct sockaddr *peer;
	const struct gw_cidr *tr;
	uint32_t ntr;
	struct gwd_clientip got, want, p;
	size_t at = 1;
	int rc;

	if (size == 0)
		return 0;
	switch (data[0] & 7) {
	case 0: case 1: inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr); peer = (const struct sockaddr *)&sin; break;
	case 2: inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr); peer = (const struct sockaddr *)&sin; break;
	case 3: case 4: inet_pton(AF_INET6, "::1", &sin6.sin6_addr); peer = (const struct sockaddr *)&sin6; break;
	case 5: inet_pton(AF_INET6, "fd12::3", &sin6.sin6_addr); peer = (const struct sockaddr *)&sin6; break;
	case 6: inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr); peer = (const struct sockaddr *)&sin6; break;
	default: peer = (const struct sockaddr *)&other; break;
	}
	tr = data[0] & 8 ? all : some;
	ntr = data[0] & 8 ? 2 : 4;
	while (at <= size && nf < MAX_FIELDS) {
		const uint8_t *lf = memchr(data + at, '\n', size - at);
		size_t n = lf ? (size_t)(lf - (data + at)) : size - at;

		fields[nf] = malloc(n ? n : 1);
		if (!fields[nf])
			abort();
		memcpy(fields[nf], data + at, n);
		lens[nf++] = n;
		at += n + 1;
	}

	rc = gwd_clientip(&got, peer, (const char *const *)fields, lens, nf, tr, ntr);
	if (gwd_clientip_from_sockaddr(&p, peer) != 0) {
		if (rc != -1)
			abort();
	} else {
		reference(&want, &p, fields, lens, nf, tr, ntr);
		if (rc != 0 || memcmp(&got, &want, sizeof got) != 0)
			abort();
	}
	for (unsigned f = 0; f < nf; f++)
		free(fields[f]);
	return 0;
}
