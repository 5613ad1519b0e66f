/* test_nn_net.c - unit tests of whole nets: a tiny net's gradients, every
 * parameter, by central finite differences, and a tiny net that must
 * overfit one batch. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/nn.h"
#include "nn/nn_internal.h"
#include "grad_check.h"
#include "nn_fixture.h"

/* ---- whole network ---- */

static void tiny_arch(struct nn_arch *a, int side, int crop)
{
	assert_int_equal(nn_arch_preset("tiny", a), MS_OK);
	a->side = side;
	a->crop = crop;
}

struct net_case {
	struct nn_net *net;
	struct nn_ws ws;
	float *input, *r;
	uint8_t labels[4];
	int B;
};

static double net_loss(void *ctx)
{
	struct net_case *c = ctx;
	struct nn_rng dr;
	int L = c->net->arch.n_layers;

	nn_rng_seed(&dr, 9); /* same dropout mask every evaluation */
	memcpy(c->ws.act[0], c->input,
	       sizeof(float) * c->B * c->net->arch.crop * c->net->arch.crop);
	nn_net_forward(c->net, &c->ws, c->B, 1, &dr);
	return nn_softmax_ce(c->ws.act[L], c->labels, c->B, 0.1f, c->ws.grad[L],
			     NULL);
}

/* Whole-net gradients; `smooth` drops ReLU and max pooling so that no kink
 * can be crossed and every element must agree. */
static void net_gradients(int smooth)
{
	struct nn_arch a;
	struct net_case c = {.labels = {1, 5, 2, 0}, .B = 4};
	char err[MS_ERRLEN];
	float *gcopy[NN_MAX_PARAMS];

	nn_rng_seed(&rng, 6);
	tiny_arch(&a, 10, 8);
	a.layers[a.n_layers - 2].p_milli = 250; /* exercise dropout */
	if (smooth) {
		int k = 0;

		for (int i = 0; i < a.n_layers; i++)
			if (a.layers[i].type != NN_LAYER_RELU &&
			    a.layers[i].type != NN_LAYER_MAXPOOL)
				a.layers[k++] = a.layers[i];
		a.n_layers = k;
	}
	assert_int_equal(a.layers[a.n_layers - 2].type, NN_LAYER_DROPOUT);
	assert_int_equal(nn_net_new(&a, 1, &c.net, err, sizeof(err)), MS_OK);
	nn_net_init_weights(c.net, &rng);
	assert_int_equal(nn_ws_init(&c.ws, c.net, 4), MS_OK);
	c.input = calloc(4 * 64, 4);
	fill(c.input, 4 * 64, 1.5f);
	net_loss(&c);
	nn_net_backward(c.net, &c.ws, 4);
	for (int i = 0; i < c.net->n_params; i++) {
		struct nn_param *p = &c.net->params[i];

		gcopy[i] = NULL;
		if (!p->trainable)
			continue;
		gcopy[i] = malloc(p->n * 4);
		memcpy(gcopy[i], p->g, p->n * 4);
	}
	for (int i = 0; i < c.net->n_params; i++) {
		struct nn_param *p = &c.net->params[i];

		if (!p->trainable)
			continue;
		check_grad_n(p->name, net_loss, &c, p->w, gcopy[i], p->n, 2e-3f,
			     smooth ? 0 : p->n / 16);
		free(gcopy[i]);
	}
	free(c.input);
	nn_ws_release(&c.ws);
	nn_net_free(c.net);
}

static void test_net_gradients(void **state)
{
	(void)state;
	net_gradients(1);
	net_gradients(0);
}

/* ---- training: a tiny net must overfit one batch ---- */

static void test_overfit(void **state)
{
	struct nn_arch a;
	struct nn_net *net;
	struct nn_ws ws;
	struct nn_rng r;
	char err[MS_ERRLEN];
	uint8_t labels[16];
	float *x;
	int L, hits = 0;
	float loss0 = 0, loss = 0;

	(void)state;
	nn_rng_seed(&rng, 7);
	nn_rng_seed(&r, 8);
	tiny_arch(&a, 16, 12);
	a.layers[a.n_layers - 2].p_milli = 0;
	assert_int_equal(nn_net_new(&a, 1, &net, err, sizeof(err)), MS_OK);
	nn_net_init_weights(net, &rng);
	assert_int_equal(nn_ws_init(&ws, net, 16), MS_OK);
	L = net->arch.n_layers;
	x = malloc(sizeof(float) * 16 * 144);
	fill(x, 16 * 144, 1);
	for (int i = 0; i < 16; i++)
		labels[i] = (uint8_t)(i % NN_CLASSES);
	for (int step = 0; step < 300; step++) {
		memcpy(ws.act[0], x, sizeof(float) * 16 * 144);
		nn_net_forward(net, &ws, 16, 1, &r);
		loss = nn_softmax_ce(ws.act[L], labels, 16, 0, ws.grad[L],
				     NULL);
		if (step == 0)
			loss0 = loss;
		nn_net_backward(net, &ws, 16);
		for (int i = 0; i < net->n_params; i++) {
			struct nn_param *p = &net->params[i];

			for (size_t j = 0; p->trainable && j < p->n; j++) {
				p->m[j] = 0.9f * p->m[j] + p->g[j];
				p->w[j] -= 0.05f * p->m[j];
			}
		}
	}
	memcpy(ws.act[0], x, sizeof(float) * 16 * 144);
	nn_net_forward(net, &ws, 16, 1, &r);
	nn_softmax_ce(ws.act[L], labels, 16, 0, NULL, &hits);
	print_message("# overfit: loss %.3f -> %.3f, %d/16 right\n",
		      (double)loss0, (double)loss, hits);
	assert_true(loss < 0.25f * loss0);
	assert_int_equal(hits, 16);
	free(x);
	nn_ws_release(&ws);
	nn_net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_gradients),
		cmocka_unit_test(test_overfit),
	};

	nn_set_threads(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
