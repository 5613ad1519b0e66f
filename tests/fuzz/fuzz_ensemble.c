/* fuzz_ensemble.c - libFuzzer harness for the ensemble manifest parser
 * (src/nn/ensemble.c). A manifest that parses must keep the spec's
 * promises: 1..NN_ENS_MAX members, each a non-empty printable name
 * without spaces, weights positive and summing to 1. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct nn_manifest mf;
	char err[MS_ERRLEN];
	double sum = 0;

	if (nn_manifest_parse(buf, len, &mf, err, sizeof(err)) != MS_OK) {
		if (!memchr(err, 0, sizeof(err)))
			abort();
		return 0;
	}
	if (mf.n < 1 || mf.n > NN_ENS_MAX)
		abort();
	for (int i = 0; i < mf.n; i++) {
		size_t n = strnlen(mf.path[i], NN_ENS_PATH);

		if (n == 0 || n == NN_ENS_PATH || !(mf.weight[i] > 0))
			abort();
		for (size_t k = 0; k < n; k++)
			if (mf.path[i][k] <= ' ' || mf.path[i][k] > '~')
				abort();
		sum += mf.weight[i];
	}
	if (fabs(sum - 1) > 1e-4)
		abort();
	return 0;
}
