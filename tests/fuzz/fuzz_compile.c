/* libFuzzer harness for gwc's whole compile path: bytes -> gwc_parse_mem ->
 * gwc_parse_finish -> gw_trie_build -> gw_blob_write_mem -> gw_blob_open_mem.
 *
 * Route files are operator input, but they travel (pull requests, generated
 * configs), so the compiler treats them as hostile: whatever the bytes, it must
 * not crash, hang, leak or trip a sanitizer.  An input holding a NUL byte is
 * cut there into two files, so that cross-file names and duplicate definitions
 * are exercised too.  A blob the writer produced from a clean parse must load:
 * the loader refusing our own output is a bug, and aborts.
 *
 * Built and run by tests/fuzz/run.sh (`make fuzz`), with clang's
 * -fsanitize=fuzzer,address,undefined, linked with lib/ and gwc/ but main.c.
 * Seeds: tests/fuzz/corpus/fuzz_compile/ (a copy of routes/gateway.yaml and a
 * file using every construct); the golden files of tests/corpus/yaml make
 * good extra seeds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwc/parse.h"
#include "lib/blob.h"
#include "lib/diag.h"
#include "lib/error.h"
#include "lib/trie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	const uint8_t *cut = memchr(data, '\0', size);
	struct gw_conf conf;
	struct gw_diag d = { 0 };
	struct gw_trie trie = { 0 };
	struct gwc_state *st;
	int r, built = 0;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (gw_conf_init(&conf) < 0)
		return 0;
	st = gwc_state_new();
	if (!st)
		goto out;
	if (cut) {
		size_t first = (size_t)(cut - data);

		r = gwc_parse_mem(&conf, "a.yaml", data, first, &d, st);
		if (r >= 0)
			r = gwc_parse_mem(&conf, "b.yaml", cut + 1, size - first - 1, &d, st);
	} else {
		r = gwc_parse_mem(&conf, "fuzz.yaml", data, size, &d, st);
	}
	if (r >= 0)
		r = gwc_parse_finish(&conf, &d, st);
	if (r >= 0) {
		/* gwc builds the trie even after other errors (gwc/main.c). */
		r = gw_trie_build(&conf, &trie, &d);
		built = r == 0;
	}
	if (built && d.n == 0 && !d.oom) {
		uint8_t *blob = NULL;
		size_t len = 0;
		struct gw_blob *b = NULL;
		char why[256];

		if (gw_blob_write_mem(&conf, &trie, &blob, &len) == GW_OK) {
			if (gw_blob_open_mem(blob, len, &b, why, sizeof why) != GW_OK) {
				fprintf(stderr, "fuzz_compile: own blob refused: %s\n", why);
				abort();
			}
			gw_blob_close(b);
		}
		free(blob);
	}
	if (devnull)
		gw_diag_print(&d, conf.files.v, conf.files.n, devnull);
out:
	if (built)
		gw_trie_free(&trie);
	gw_diag_free(&d);
	gw_conf_free(&conf);
	gwc_state_free(st);
	return 0;
}
