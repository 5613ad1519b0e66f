/* test_nn_model.c - unit tests of the emotion CNN's files and whole-split
 * scoring: model file round trips (the loaded model classifies as the
 * net it was written from), rejection of malformed files, and
 * nn_eval_fer against a hand count on a made-up split. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "moodsync/nn.h"
#include "nn/kernels.h"
#include "nn/nn_internal.h"
#include "nn_fixture.h"
/* ---- model files ---- */

static struct nn_net *random_net(const char *preset, int side, int crop)
{
	return fixture_net(preset, side, crop, 1);
}

static void test_model_roundtrip(void **state)
{
	struct nn_net *net, *back;
	struct nn_model *m;
	struct nn_ctx *ctx;
	struct nn_ws ws;
	uint8_t *buf, face[20 * 20];
	size_t len;
	uint32_t kind;
	char err[MS_ERRLEN];
	float probs[NN_CLASSES], z[NN_CLASSES], mx, sum = 0;
	int L;

	(void)state;
	nn_rng_seed(&rng, 10);
	net = random_net("tiny", 20, 16);
	assert_int_equal(
		nn_net_serialize(net, NN_FILE_MODEL, NULL, 0, &buf, &len),
		MS_OK);
	assert_int_equal(nn_net_parse(buf, len, 0, &back, &kind, NULL, NULL,
				      err, sizeof(err)),
			 MS_OK);
	assert_int_equal(kind, NN_FILE_MODEL);
	assert_int_equal(back->n_params, net->n_params);
	for (int i = 0; i < net->n_params; i++)
		assert_memory_equal(back->params[i].w, net->params[i].w,
				    net->params[i].n * sizeof(float));
	nn_net_free(back);
	/* folded inference (BN into conv, ReLU fused) == unfolded eval net */
	assert_int_equal(nn_model_parse(buf, len, &m, err, sizeof(err)), MS_OK);
	assert_int_equal(nn_model_input_size(m), 20);
	ctx = nn_ctx_new(m);
	assert_non_null(ctx);
	for (int i = 0; i < 400; i++)
		face[i] = (uint8_t)((i * 53) % 256);
	assert_int_equal(nn_classify(ctx, face, 0, probs), MS_OK);
	assert_int_equal(nn_ws_init(&ws, net, 1), MS_OK);
	nn_prep_center(&net->arch, face, 0, ws.act[0]);
	nn_net_forward(net, &ws, 1, 0, NULL);
	L = net->arch.n_layers;
	mx = ws.act[L][0];
	for (int c = 0; c < NN_CLASSES; c++)
		mx = fmaxf(mx, ws.act[L][c]);
	for (int c = 0; c < NN_CLASSES; c++)
		sum += (z[c] = expf(ws.act[L][c] - mx));
	for (int c = 0; c < NN_CLASSES; c++)
		assert_float_equal(probs[c], z[c] / sum, 1e-5);
	/* flip TTA averages the face and its mirror */
	{
		float pf[NN_CLASSES], pt[NN_CLASSES];
		uint8_t mirror[20 * 20];

		for (int y = 0; y < 20; y++)
			for (int x = 0; x < 20; x++)
				mirror[y * 20 + x] = face[y * 20 + 19 - x];
		nn_classify(ctx, mirror, 0, pf);
		nn_classify(ctx, face, 1, pt);
		for (int c = 0; c < NN_CLASSES; c++)
			assert_float_equal(pt[c], 0.5f * (probs[c] + pf[c]),
					   1e-5);
	}
	nn_ws_release(&ws);
	nn_ctx_free(ctx);
	nn_model_free(m);
	free(buf);
	/* a checkpoint carries momenta and the state blob */
	fill(net->params[0].m, net->params[0].n, 1);
	assert_int_equal(nn_net_serialize(net, NN_FILE_CHECKPOINT,
					  (const uint8_t *)"state", 5, &buf,
					  &len),
			 MS_OK);
	{
		uint8_t *st;
		size_t st_len;

		assert_int_equal(nn_net_parse(buf, len, 1, &back, &kind, &st,
					      &st_len, err, sizeof(err)),
				 MS_OK);
		assert_int_equal(kind, NN_FILE_CHECKPOINT);
		assert_int_equal(st_len, 5);
		assert_memory_equal(st, "state", 5);
		assert_memory_equal(back->params[0].m, net->params[0].m,
				    net->params[0].n * sizeof(float));
		free(st);
		nn_net_free(back);
	}
	free(buf);
	nn_net_free(net);
}

static void fix_crc(uint8_t *b, size_t len)
{
	uint32_t c = nn_crc32(b, len - 4);

	for (int i = 0; i < 4; i++)
		b[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

static void expect_reject(const uint8_t *b, size_t len, const char *why)
{
	struct nn_model *m = NULL;
	char err[MS_ERRLEN] = "";
	int rc = nn_model_parse(b, len, &m, err, sizeof(err));

	if (rc == MS_OK) {
		print_error("accepted a bad file (%s)\n", why);
		nn_model_free(m);
		fail();
	}
	assert_true(err[0] != 0);
	assert_null(m);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_model_malformed(void **state)
{
	struct nn_net *net;
	uint8_t *buf, *b;
	size_t len, off;
	struct nn_model *m;
	char err[MS_ERRLEN];
	float nan_v = NAN;

	(void)state;
	nn_rng_seed(&rng, 11);
	net = random_net("tiny", 48, 44);
	assert_int_equal(
		nn_net_serialize(net, NN_FILE_MODEL, NULL, 0, &buf, &len),
		MS_OK);
	assert_int_equal(nn_model_parse(buf, len, &m, err, sizeof(err)), MS_OK);
	nn_model_free(m);
	b = malloc(len + 8);
	/* every truncation */
	for (size_t n = 0; n < len; n += (n < 64 ? 1 : 37))
		expect_reject(buf, n, "truncated");
	/* flipped bits without a valid checksum */
	memcpy(b, buf, len);
	b[len / 2] ^= 0x10;
	expect_reject(b, len, "bad crc");
	memcpy(b, buf, len);
	b[0] = 'X';
	fix_crc(b, len);
	expect_reject(b, len, "magic");
	memcpy(b, buf, len);
	put_le32(b + 4, 2);
	fix_crc(b, len);
	expect_reject(b, len, "version");
	memcpy(b, buf, len);
	put_le32(b + 28, 1000); /* layer count */
	fix_crc(b, len);
	expect_reject(b, len, "layer count");
	memcpy(b, buf, len);
	put_le32(b + 32, 99); /* first layer type */
	fix_crc(b, len);
	expect_reject(b, len, "layer type");
	memcpy(b, buf, len);
	put_le32(b + 32 + 4, 5); /* conv channels 4 -> 5: shape mismatch */
	fix_crc(b, len);
	expect_reject(b, len, "shape");
	memcpy(b, buf, len);
	put_le32(b + 12, 4096); /* side */
	fix_crc(b, len);
	expect_reject(b, len, "side");
	/* a NaN in the first tensor's data (after name and dims) */
	off = 32 + 28 * (size_t)net->arch.n_layers + 4;
	off += 1 + b[off] + 2 + 4 * 4; /* "L0.w", 4 dims */
	memcpy(b, buf, len);
	memcpy(b + off, &nan_v, 4);
	fix_crc(b, len);
	expect_reject(b, len, "nan");
	/* trailing garbage */
	memcpy(b, buf, len - 4);
	memset(b + len - 4, 0, 8);
	fix_crc(b, len + 4);
	expect_reject(b, len + 4, "trailing");
	/* a checkpoint is not accepted where a model is wanted without
	 * momenta, and a model file is not a checkpoint */
	memcpy(b, buf, len);
	put_le32(b + 8, 1);
	fix_crc(b, len);
	expect_reject(b, len, "checkpoint without momenta");
	assert_int_not_equal(
		nn_model_load("/nonexistent/model.msnn", &m, err, sizeof(err)),
		MS_OK);
	free(b);
	free(buf);
	nn_net_free(net);
}

/* ---- whole-split evaluation against a hand count ---- */

static void test_eval_fer(void **state)
{
	struct nn_model *m;
	struct nn_ctx *ctx;
	struct nn_fer set;
	char err[MS_ERRLEN], path[] = "/tmp/test_nn_fer_XXXXXX";
	uint8_t rec[NN_FER_RECORD];
	int conf[NN_CLASSES][NN_CLASSES], fd, hand = 0, hits = 0;
	int pred[40];
	FILE *f;

	(void)state;
	assert_int_equal(
		nn_model_load("tests/data/tiny.msnn", &m, err, sizeof(err)),
		MS_OK);
	ctx = nn_ctx_new(m);
	assert_non_null(ctx);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "wb");
	nn_rng_seed(&rng, 12);
	for (int i = 0; i < 40; i++) {
		float p[NN_CLASSES];
		int best = 0;

		for (int j = 1; j < NN_FER_RECORD; j++)
			rec[j] = (uint8_t)(nn_rng_below(&rng, 64) +
					   (j % 48) * 4 * (i % 3));
		nn_classify(ctx, rec + 1, 0, p);
		for (int c = 1; c < NN_CLASSES; c++)
			if (p[c] > p[best])
				best = c;
		pred[i] = best;
		/* half the labels agree with the model by construction */
		rec[0] = (uint8_t)(i % 2 ? best
					 : (best + 1 + i % 6) % NN_CLASSES);
		hand += i % 2;
		assert_int_equal(fwrite(rec, 1, NN_FER_RECORD, f),
				 NN_FER_RECORD);
	}
	fclose(f);
	assert_int_equal(nn_fer_load(path, &set, err, sizeof(err)), MS_OK);
	assert_int_equal(set.n, 40);
	assert_int_equal(nn_eval_fer(m, &set, 0, 3, conf), MS_OK);
	for (int c = 0; c < NN_CLASSES; c++)
		hits += conf[c][c];
	assert_int_equal(hits, hand);
	assert_int_equal(conf[set.labels[1]][pred[1]] > 0, 1);
	nn_fer_release(&set);
	/* a file that is not whole records, and one with a bad label */
	f = fopen(path, "ab");
	fputc(1, f);
	fclose(f);
	assert_int_equal(nn_fer_load(path, &set, err, sizeof(err)), MS_EFORMAT);
	f = fopen(path, "wb");
	rec[0] = 7;
	fwrite(rec, 1, NN_FER_RECORD, f);
	fclose(f);
	assert_int_equal(nn_fer_load(path, &set, err, sizeof(err)), MS_EFORMAT);
	unlink(path);
	nn_ctx_free(ctx);
	nn_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_roundtrip),
		cmocka_unit_test(test_model_malformed),
		cmocka_unit_test(test_eval_fer),
	};

	nn_set_threads(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
