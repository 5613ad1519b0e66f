/* fuzz_range.c - libFuzzer harness for the HTTP Range header parser
 * (src/server/range.c): any bytes as the header value, against a few body
 * sizes; a satisfiable answer must lie inside the body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "server/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = {0, 1, 1000, UINT64_MAX / 2};
	char value[512];
	size_t n = size < sizeof(value) - 1 ? size : sizeof(value) - 1;

	memcpy(value, data, n);
	value[n] = '\0';
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t start = 0, len = 0;

		if (srv_range_parse(value, sizes[i], &start, &len) ==
		    SRV_RANGE_OK) {
			if (len == 0 || start >= sizes[i] ||
			    len > sizes[i] - start)
				__builtin_trap();
		}
	}
	return 0;
}
