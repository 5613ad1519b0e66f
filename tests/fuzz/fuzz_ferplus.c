/* fuzz_ferplus.c - libFuzzer harness for the parsers of src/nn/ferplus.c:
 * the input's first line as `train --class-weights` (every weight parsed
 * must be in range), then the whole input as a FER+ vote file. The split it
 * checks against gets one record per input line after the header, labelled with
 * that line's second field when it is a digit 0-6, so mutations get past the
 * label check to the vote counts; a parsed file is read back through
 * nn_fer_has_target. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

/* The label byte a record line asks for (0 when it has none). */
static uint8_t line_label(const uint8_t *p, const uint8_t *end)
{
	while (p < end && *p != ' ' && *p != '\n')
		p++;
	while (p < end && *p == ' ')
		p++;
	return p < end && *p >= '0' && *p <= '6' ? (uint8_t)(*p - '0') : 0;
}

/* The first line (up to 255 bytes) as a class-weight spec. */
static void check_class_weights(const uint8_t *buf, size_t len)
{
	char spec[256], err[MS_ERRLEN];
	float w[NN_CLASSES];
	size_t n = 0;

	while (n < len && n < sizeof(spec) - 1 && buf[n] != '\n')
		n++;
	memcpy(spec, buf, n);
	spec[n] = 0;
	if (nn_class_weights_parse(spec, w, err, sizeof(err)) == MS_OK)
		for (int c = 0; c < NN_CLASSES; c++)
			if (!(w[c] >= (float)NN_CLASS_WEIGHT_MIN &&
			      w[c] <= (float)NN_CLASS_WEIGHT_MAX))
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct nn_fer set;
	const uint8_t *p = buf, *end = buf + len, *nl;
	char err[MS_ERRLEN];
	size_t n = 0, lines = 0;

	if (len > (1u << 20))
		return 0;
	check_class_weights(buf, len);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	memset(&set, 0, sizeof(set));
	set.n = lines > 4096 ? 4096 : lines;
	set.labels = calloc(set.n + 1, 1);
	set.pixels = calloc(set.n + 1, NN_FER_SIDE * NN_FER_SIDE);
	if (!set.labels || !set.pixels)
		goto out;
	nl = memchr(p, '\n', len);
	p = nl ? nl + 1 : end;
	while (p < end && n < set.n) {
		set.labels[n++] = line_label(p, end);
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	if (nn_ferplus_parse(buf, len, &set, err, sizeof(err)) == MS_OK)
		for (size_t i = 0; i < set.n; i++)
			if (nn_fer_has_target(&set, i) &&
			    set.major[i] != NN_FERPLUS_NONE &&
			    set.major[i] >= NN_CLASSES)
				abort();
out:
	nn_fer_release(&set);
	return 0;
}
