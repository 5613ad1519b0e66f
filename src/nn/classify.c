/* classify.c - per-thread inference contexts and nn_classify: the
 * portable forward pass, the blocked one on the fast kernels (fp32, int8
 * VNNI, int8 AMX), and test-time augmentation over them. */
#include <cblas.h>
#include <string.h>

#include "nn/infer_internal.h"
#include "nn/kernels.h"

const char *const nn_tta_names[NN_TTA_MODES + 1] = {"none", "flip", "crops",
						    NULL};

struct nn_ctx *nn_ctx_new(const struct nn_model *m)
{
	struct nn_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->m = m;
	if (m->ens) {
		c->ens = nn_ens_ctx_new(m->ens);
		if (!c->ens) {
			free(c);
			return NULL;
		}
		return c;
	}
	c->buf[0] = ms_calloc(m->max_act, sizeof(float));
	c->buf[1] = ms_calloc(m->max_act, sizeof(float));
	if (m->blocked) {
		c->blk[0] = nn_calloc64(m->max_blk * sizeof(float));
		c->blk[1] = nn_calloc64(m->max_blk * sizeof(float));
		c->q = nn_calloc64(m->max_q);
		if (!c->blk[0] || !c->blk[1] || !c->q) {
			nn_ctx_free(c);
			return NULL;
		}
	}
	if (!c->buf[0] || !c->buf[1]) {
		nn_ctx_free(c);
		return NULL;
	}
	return c;
}

void nn_ctx_free(struct nn_ctx *ctx)
{
	if (!ctx)
		return;
	nn_ens_ctx_free(ctx->ens);
	free(ctx->buf[0]);
	free(ctx->buf[1]);
	free(ctx->col);
	free(ctx->blk[0]);
	free(ctx->blk[1]);
	free(ctx->q);
	free(ctx);
}

/* y = W x + b of a dense op. */
static void dense(const struct nn_op *op, const float *x, float *y)
{
	for (int o = 0; o < op->out.c; o++) {
		const float *w = op->w + (size_t)o * op->in.c;
		float s = op->b[o];

		for (int j = 0; j < op->in.c; j++)
			s += w[j] * x[j];
		y[o] = s;
	}
}

/* One forward pass of the prepared input in ctx->buf[0]; logits out. */
static void forward(struct nn_ctx *ctx, float logits[NN_CLASSES])
{
	const struct nn_model *m = ctx->m;
	int cur = 0;

	for (int i = 0; i < m->n_ops; i++) {
		const struct nn_op *op = &m->ops[i];
		const float *x = ctx->buf[cur];
		float *y = ctx->buf[cur ^ 1];
		size_t n = (size_t)op->out.c * op->out.h * op->out.w;
		size_t hw = (size_t)op->in.h * op->in.w;

		switch (op->type) {
		case OP_CONV:
			nn_conv_forward(x, y, 1, op->in, op->out, op->k,
					op->stride, op->pad, op->w, op->b,
					ctx->col);
			break;
		case OP_DENSE:
			dense(op, x, y);
			break;
		case OP_AFFINE:
			for (int c = 0; c < op->in.c; c++)
				for (size_t j = 0; j < hw; j++)
					y[c * hw + j] =
						x[c * hw + j] * op->w[c] +
						op->b[c];
			break;
		case OP_RELU:
			nn_relu_forward(x, y, n);
			break;
		case OP_MAXPOOL:
			nn_maxpool_forward(x, y, NULL, op->in.c, op->in,
					   op->out, op->k, op->stride);
			break;
		case OP_GAP:
			nn_gap_forward(x, y, op->in.c, (int)hw);
			break;
		}
		if (op->relu)
			for (size_t j = 0; j < n; j++)
				y[j] = y[j] > 0 ? y[j] : 0;
		cur ^= 1;
	}
	memcpy(logits, ctx->buf[cur], sizeof(float) * NN_CLASSES);
}

/* One conv of forward_blocked: AMX int8, VNNI int8 or fp32, as far as the
 * level (`lvl`) and the packed weights allow. xmax: the largest float of
 * x when the op before found it (either int8 quantisation then skips its
 * own pass over x), else NULL. Returns 1 when it set *ymax
 * (the AMX path), else 0. */
static int conv_blocked(struct nn_ctx *ctx, const struct nn_op *op, int first,
			int lvl, const float *x, const float *xmax, float *y,
			float *ymax)
{
	int ci = nn_kern_cpad(op->in.c), co = nn_kern_cpad(op->out.c);
	int h = op->in.h, w = op->in.w;
	float xs;

	if (lvl >= NN_KERN_AMX && op->wa) {
		nn_kern_quant_u8_amx(x, ci, h, w, xmax, ctx->q, &xs);
		nn_kern_conv3x3_amx(ctx->q, xs, ci, h, w, op->wa, op->wsc,
				    op->bp, co, 1, y, ymax);
		return 1;
	}
	if (lvl >= NN_KERN_INT8 && op->wq) {
		nn_kern_quant_u8_kb(x, ci, h, w, NN_KERN_CB, xmax, ctx->q, &xs);
		nn_kern_conv3x3_s8(ctx->q, xs, ci, h, w, op->wq, op->wsc,
				   op->bp, co, 1, y);
	} else {
		nn_kern_conv3x3(x, first ? 1 : ci, op->icb, h, w, op->wp,
				op->bp, co, 1, y);
	}
	return 0;
}

/* forward() on blocked tensors with the fast kernels; same result up to
 * float rounding (bit for bit between the two int8 levels). AMX tiles are
 * configured for the pass and released after it: they are per-thread
 * state, and a released thread saves no tile data on context switches. */
static void forward_blocked(struct nn_ctx *ctx, float logits[NN_CLASSES])
{
	const struct nn_model *m = ctx->m;
	float *x = ctx->blk[0], *y = ctx->blk[1], *t, xmax, ymax;
	int lvl = nn_kern_level(), known = 0; /* xmax known */
	int amx = m->amx && lvl >= NN_KERN_AMX;

	if (amx)
		nn_kern_amx_config(8, 16, 64);
	nn_kern_pad_image(ctx->buf[0], m->arch.crop, m->arch.crop, x);
	for (int i = 0; i < m->n_ops; i++) {
		const struct nn_op *op = &m->ops[i];
		int ci = nn_kern_cpad(op->in.c);

		switch (op->type) {
		case OP_CONV:
			known = conv_blocked(ctx, op, i == 0, lvl, x,
					     known ? &xmax : NULL, y, &ymax);
			break;
		case OP_MAXPOOL:
			nn_kern_maxpool2(x, ci, op->in.h, op->in.w, y, &ymax);
			known = 1;
			break;
		case OP_GAP:
			nn_kern_gap(x, ci, op->in.h, op->in.w, y);
			known = 0;
			break;
		case OP_DENSE:
			dense(op, x, logits);
			break;
		default:
			break; /* excluded by blocked_ok() */
		}
		t = x, x = y, y = t;
		xmax = ymax;
	}
	if (amx)
		nn_kern_amx_release();
}

/* One forward pass on the path this model and CPU allow: MS_OK, or
 * MS_ENOMEM when the portable path's im2col scratch (tens of MB for a
 * wide net), allocated on its first use, cannot be had. A model on the
 * fast kernels never needs it unless the level is lowered after it was
 * loaded. */
static int forward_any(struct nn_ctx *ctx, float logits[NN_CLASSES])
{
	if (ctx->m->blocked && nn_kern_fast()) {
		forward_blocked(ctx, logits);
		return MS_OK;
	}
	if (!ctx->col)
		ctx->col = ms_calloc(ctx->m->col_n + 1, sizeof(float));
	if (!ctx->col)
		return MS_ENOMEM;
	forward(ctx, logits);
	return MS_OK;
}

int nn_classify(struct nn_ctx *ctx, const uint8_t *gray, int tta,
		float probs[NN_CLASSES])
{
	const struct nn_arch *a;
	float z[NN_CLASSES], p[NN_CLASSES], acc[NN_CLASSES] = {0};
	int d, views, flips, rc;

	if (!ctx || !gray || !probs || tta < 0 || tta >= NN_TTA_MODES)
		return MS_EINVAL;
	if (ctx->ens)
		return nn_ens_classify(ctx->ens, gray, tta, probs);
	if ((ctx->m->int8 && nn_kern_level() < NN_KERN_INT8) ||
	    (ctx->m->amx && nn_kern_level() < NN_KERN_AMX))
		return MS_EUNSUPPORTED;
	a = &ctx->m->arch;
	d = a->side - a->crop;
	/* window origins: the centre, then the four corners */
	const int x0[5] = {d / 2, 0, d, 0, d}, y0[5] = {d / 2, 0, 0, d, d};
	views = tta == NN_TTA_CROPS ? 5 : 1;
	flips = tta == NN_TTA_NONE ? 1 : 2;
	for (int v = 0; v < views; v++)
		for (int f = 0; f < flips; f++) {
			nn_prep_window(a, gray, x0[v], y0[v], f, ctx->buf[0]);
			rc = forward_any(ctx, z);
			if (rc)
				return rc;
			nn_softmax(z, p);
			for (int c = 0; c < NN_CLASSES; c++)
				acc[c] += p[c];
		}
	for (int c = 0; c < NN_CLASSES; c++)
		probs[c] = acc[c] / (float)(views * flips);
	return MS_OK;
}

void nn_set_threads(int n)
{
	openblas_set_num_threads(n < 1 ? 1 : n);
}
