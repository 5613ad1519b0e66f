/* net_pass.c - a trainable network's per-batch scratch and its forward
 * and backward passes, which chain the kernels of layers.c. A batch norm
 * followed by a ReLU runs as one fused kernel each way, and the batch
 * norm's own output (and its gradient) gets no buffer. */
#include <string.h>

#include "nn/nn_internal.h"

static size_t shape_n(struct nn_shape s, int B)
{
	return (size_t)s.c * s.h * s.w * B;
}

/* Layer i is a batch norm that a ReLU follows: the two run fused. */
static int bn_relu(const struct nn_net *net, int i)
{
	return net->layers[i].s.type == NN_LAYER_BN &&
	       i + 1 < net->arch.n_layers &&
	       net->layers[i + 1].s.type == NN_LAYER_RELU;
}

int nn_ws_init(struct nn_ws *ws, const struct nn_net *net, int bmax)
{
	const struct nn_arch *a = &net->arch;

	memset(ws, 0, sizeof(*ws));
	ws->bmax = bmax;
	ws->act[0] = ms_calloc(shape_n(net->layers[0].in, bmax), sizeof(float));
	ws->grad[0] =
		ms_calloc(shape_n(net->layers[0].in, bmax), sizeof(float));
	if (!ws->act[0] || !ws->grad[0])
		goto out_nomem;
	for (int i = 0; i < a->n_layers; i++) {
		const struct nn_layer *l = &net->layers[i];
		size_t n = shape_n(l->out, bmax);

		/* a fused batch norm's own output never exists */
		if (!bn_relu(net, i)) {
			ws->act[i + 1] = ms_calloc(n, sizeof(float));
			ws->grad[i + 1] = ms_calloc(n, sizeof(float));
			if (!ws->act[i + 1] || !ws->grad[i + 1])
				goto out_nomem;
		}
		switch (l->s.type) {
		case NN_LAYER_CONV: {
			size_t cn = nn_conv_col_floats(bmax, l->in, l->out,
						       (int)l->s.k);

			ws->col_n = MS_MAX(ws->col_n, cn);
			break;
		}
		case NN_LAYER_BN:
			ws->bn_mean[i] = ms_calloc(l->in.c, sizeof(float));
			ws->bn_invstd[i] = ms_calloc(l->in.c, sizeof(float));
			if (!ws->bn_mean[i] || !ws->bn_invstd[i])
				goto out_nomem;
			break;
		case NN_LAYER_MAXPOOL:
			ws->pool_idx[i] = ms_calloc(n, sizeof(int32_t));
			if (!ws->pool_idx[i])
				goto out_nomem;
			break;
		case NN_LAYER_DROPOUT:
			ws->mask[i] = ms_calloc(n, sizeof(float));
			if (!ws->mask[i])
				goto out_nomem;
			break;
		default:
			break;
		}
	}
	ws->col = ms_calloc(ws->col_n + 1, sizeof(float));
	ws->dcol = ms_calloc(ws->col_n + 1, sizeof(float));
	if (!ws->col || !ws->dcol)
		goto out_nomem;
	return MS_OK;
out_nomem:
	nn_ws_release(ws);
	return MS_ENOMEM;
}

void nn_ws_release(struct nn_ws *ws)
{
	for (int i = 0; i <= NN_MAX_LAYERS; i++) {
		free(ws->act[i]);
		free(ws->grad[i]);
		if (i < NN_MAX_LAYERS) {
			free(ws->bn_mean[i]);
			free(ws->bn_invstd[i]);
			free(ws->pool_idx[i]);
			free(ws->mask[i]);
		}
	}
	free(ws->col);
	free(ws->dcol);
	memset(ws, 0, sizeof(*ws));
}

void nn_net_forward(struct nn_net *net, struct nn_ws *ws, int B, int train,
		    struct nn_rng *rng)
{
	ms_assert(B >= 1 && B <= ws->bmax);
	for (int i = 0; i < net->arch.n_layers; i++) {
		struct nn_layer *l = &net->layers[i];
		const float *x = ws->act[i];
		float *y = ws->act[i + 1];
		size_t hw = (size_t)l->in.h * l->in.w;
		size_t n = shape_n(l->out, B);
		int fused = 0; /* the next layer ran too */

		switch (l->s.type) {
		case NN_LAYER_CONV:
			nn_conv_forward(x, y, B, l->in, l->out, (int)l->s.k,
					(int)l->s.stride, (int)l->s.pad, l->w,
					l->b, ws->col);
			break;
		case NN_LAYER_BN:
			fused = bn_relu(net, i);
			if (fused)
				y = ws->act[i + 2]; /* the ReLU's output */
			if (train)
				nn_bn_relu_forward_train(
					x, y, l->in.c, B * hw, l->gamma,
					l->beta, ws->bn_mean[i],
					ws->bn_invstd[i], l->rmean, l->rvar,
					fused);
			else
				nn_bn_relu_forward_eval(
					x, y, l->in.c, B * hw, l->gamma,
					l->beta, l->rmean, l->rvar, fused);
			break;
		case NN_LAYER_RELU:
			nn_relu_forward(x, y, n);
			break;
		case NN_LAYER_MAXPOOL:
			nn_maxpool_forward(x, y, ws->pool_idx[i], l->in.c * B,
					   l->in, l->out, (int)l->s.k,
					   (int)l->s.stride);
			break;
		case NN_LAYER_GAP:
			nn_gap_forward(x, y, l->in.c * B, (int)hw);
			break;
		case NN_LAYER_DROPOUT:
			if (train) {
				float p = (float)l->s.p_milli / 1000.0f;
				float keep = 1.0f / (1.0f - p);

				for (size_t j = 0; j < n; j++) {
					ws->mask[i][j] = nn_rng_uniform(rng) < p
								 ? 0.0f
								 : keep;
					y[j] = x[j] * ws->mask[i][j];
				}
			} else {
				memcpy(y, x, sizeof(float) * n);
			}
			break;
		case NN_LAYER_DENSE:
			nn_dense_forward(x, y, B, l->in.c, l->out.c, l->w,
					 l->b);
			break;
		}
		i += fused;
	}
}

void nn_net_backward(struct nn_net *net, struct nn_ws *ws, int B)
{
	for (int i = net->arch.n_layers - 1; i >= 0; i--) {
		struct nn_layer *l = &net->layers[i];
		const float *x = ws->act[i], *dy = ws->grad[i + 1];
		float *dx = i > 0 ? ws->grad[i] : NULL;
		size_t hw = (size_t)l->in.h * l->in.w;
		size_t n = shape_n(l->out, B);

		switch (l->s.type) {
		case NN_LAYER_CONV:
			nn_conv_backward(x, dy, dx, B, l->in, l->out,
					 (int)l->s.k, (int)l->s.stride,
					 (int)l->s.pad, l->w, l->gw, l->gb,
					 ws->col, ws->dcol);
			break;
		case NN_LAYER_BN: {
			int relu = bn_relu(net, i);

			if (!dx)
				dx = ws->grad[0];
			nn_bn_relu_backward(x, relu ? ws->act[i + 2] : NULL,
					    relu ? ws->grad[i + 2] : dy, dx,
					    l->in.c, B * hw, l->gamma,
					    ws->bn_mean[i], ws->bn_invstd[i],
					    l->ggamma, l->gbeta);
			break;
		}
		case NN_LAYER_RELU:
			/* after a batch norm, that layer's backward did it */
			if (dx && !(i > 0 && bn_relu(net, i - 1)))
				nn_relu_backward(ws->act[i + 1], dy, dx, n);
			break;
		case NN_LAYER_MAXPOOL:
			if (dx)
				nn_maxpool_backward(dy, ws->pool_idx[i], dx,
						    l->in.c * B, l->in, l->out,
						    (int)l->s.k,
						    (int)l->s.stride);
			break;
		case NN_LAYER_GAP:
			if (dx)
				nn_gap_backward(dy, dx, l->in.c * B, (int)hw);
			break;
		case NN_LAYER_DROPOUT:
			if (dx)
				for (size_t j = 0; j < n; j++)
					dx[j] = dy[j] * ws->mask[i][j];
			break;
		case NN_LAYER_DENSE:
			nn_dense_backward(x, dy, dx, B, l->in.c, l->out.c, l->w,
					  l->gw, l->gb);
			break;
		}
	}
}
