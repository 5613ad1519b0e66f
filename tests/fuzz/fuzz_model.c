/* fuzz_model.c - libFuzzer harness for the model file parser
 * (src/nn/model_io.c). Each input is parsed as is and once more with its
 * CRC-32 trailer recomputed, so mutations reach the structure behind the
 * checksum; a model that loads classifies a synthetic face (with the
 * test-time augmentation mode the input's length picks). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/nn.h"
#include "nn/nn_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

static void try_parse(const uint8_t *buf, size_t len)
{
	struct nn_model *m = NULL;
	struct nn_net *net = NULL;
	struct nn_ctx *ctx;
	uint8_t *state = NULL, *face;
	size_t state_len;
	uint32_t kind;
	char err[MS_ERRLEN];
	float p[NN_CLASSES];
	int side;

	if (nn_net_parse(buf, len, 1, &net, &kind, &state, &state_len, err,
			 sizeof(err)) == MS_OK) {
		free(state);
		nn_net_free(net);
	}
	if (nn_model_parse(buf, len, &m, err, sizeof(err)))
		return;
	side = nn_model_input_size(m);
	face = malloc((size_t)side * side);
	ctx = nn_ctx_new(m);
	if (face && ctx) {
		for (int i = 0; i < side * side; i++)
			face[i] = (uint8_t)(i * 7 + (i >> 4));
		nn_classify(ctx, face, (int)(len % NN_TTA_MODES), p);
	}
	free(face);
	nn_ctx_free(ctx);
	nn_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	uint8_t *copy;
	uint32_t crc;

	try_parse(buf, len);
	if (len < 8 || len > (1u << 20))
		return 0;
	copy = malloc(len);
	if (!copy)
		return 0;
	memcpy(copy, buf, len);
	crc = nn_crc32(copy, len - 4);
	for (int i = 0; i < 4; i++)
		copy[len - 4 + i] = (uint8_t)(crc >> (8 * i));
	try_parse(copy, len);
	free(copy);
	return 0;
}
