/* infer.c - the immutable inference model: a parsed network with batch
 * norm folded into the preceding conv/dense, ReLU fused, dropout dropped;
 * plus per-thread contexts and nn_classify. Many threads may share one
 * struct nn_model; each brings its own struct nn_ctx. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "nn/kernels.h"
#include "nn/nn_internal.h"

const char *const nn_emotion_names[NN_CLASSES] = {
	"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

const char *const nn_tta_names[NN_TTA_MODES + 1] = {"none", "flip", "crops",
						    NULL};

enum nn_op_type { OP_CONV, OP_DENSE, OP_AFFINE, OP_RELU, OP_MAXPOOL, OP_GAP };

struct nn_op {
	enum nn_op_type type;
	struct nn_shape in, out;
	int k, stride, pad;
	int relu;   /* ReLU fused after conv/dense/affine */
	float *w;   /* conv (out,in,k,k), dense (out,in), affine scale (c) */
	float *b;   /* bias (out) / affine shift (c) */
	float *wp;  /* conv weights packed for nn_kern_conv3x3, or NULL */
	int icb;    /* channel block of the conv's blocked input */
	int8_t *wq; /* conv weights packed for nn_kern_conv3x3_s8, or NULL */
	float *wsc; /* their per-output-channel scales (out, padded) */
	int8_t *wa; /* the same int8 weights as AMX B tiles, or NULL */
	float *bp;  /* bias padded to a multiple of 16 outputs, or NULL */
};

struct nn_model {
	struct nn_arch arch;
	int n_ops;
	struct nn_op ops[NN_MAX_LAYERS];
	size_t max_act;	    /* floats of the largest activation, batch 1 */
	size_t col_n;	    /* floats of im2col scratch, batch 1 */
	int blocked;	    /* every op runs on blocked tensors (kernels.h) */
	int int8;	    /* convs after the first have int8 weights (and no
			       fp32 ones: it runs at levels int8 and amx only) */
	int amx;	    /* ... and AMX ones */
	size_t max_blk;	    /* floats of the largest blocked activation */
	size_t max_q;	    /* bytes of the largest quantized conv input */
	double macs;	    /* multiply-adds per forward pass */
	size_t params;	    /* parameters of the unfolded net */
	struct nn_ens *ens; /* an ensemble: its members (above: arch.side) */
};

struct nn_ctx {
	const struct nn_model *m;
	float *buf[2]; /* ping-pong activations, max_act floats */
	float *col;
	float *blk[2]; /* ping-pong blocked activations, max_blk floats */
	uint8_t *q;    /* a quantized conv input, max_q bytes */
	struct nn_ens_ctx *ens; /* an ensemble's member contexts */
};

void nn_model_free(struct nn_model *m)
{
	if (!m)
		return;
	nn_ens_free(m->ens);
	for (int i = 0; i < m->n_ops; i++) {
		free(m->ops[i].w);
		free(m->ops[i].b);
		free(m->ops[i].wp);
		free(m->ops[i].wq);
		free(m->ops[i].wsc);
		free(m->ops[i].wa);
		free(m->ops[i].bp);
	}
	free(m);
}

int nn_model_input_size(const struct nn_model *m)
{
	return m->arch.side;
}

const struct nn_ens *nn_model_ens(const struct nn_model *m)
{
	return m->ens;
}

int nn_model_wrap_ens(struct nn_ens *e, struct nn_model **out)
{
	struct nn_model *m = calloc(1, sizeof(*m));

	if (!m)
		return MS_ENOMEM;
	m->ens = e;
	m->arch.side = nn_model_input_size(nn_ens_member(e, 0, NULL));
	*out = m;
	return MS_OK;
}

void nn_model_info(const struct nn_model *m, struct nn_model_info *out)
{
	if (m->ens) {
		nn_ens_info(m->ens, out);
		return;
	}
	out->members = 1;
	out->side = m->arch.side;
	out->crop = m->arch.crop;
	out->layers = m->arch.n_layers;
	out->macs = m->macs;
	out->params = m->params;
}

/* Folds a following BN (if any) into weights w (rows of `row` floats) and
 * bias b; returns how many layers were consumed after layer i. */
static int fold_bn(const struct nn_net *net, int i, float *w, size_t row,
		   float *b, int rows)
{
	const struct nn_layer *bn;

	if (i + 1 >= net->arch.n_layers ||
	    net->layers[i + 1].s.type != NN_LAYER_BN)
		return 0;
	bn = &net->layers[i + 1];
	for (int o = 0; o < rows; o++) {
		float sc = bn->gamma[o] / sqrtf(bn->rvar[o] + NN_BN_EPS);

		for (size_t j = 0; j < row; j++)
			w[o * row + j] *= sc;
		b[o] = (b[o] - bn->rmean[o]) * sc + bn->beta[o];
	}
	return 1;
}

/* Whether every op has a blocked kernel: a first op that is a conv,
 * 3x3 stride-1 pad-1 convs with ReLU fused, 2x2 pools, GAP, and one
 * dense last. Channel counts are padded to blocks of 16 with zeros. */
static int blocked_ok(const struct nn_model *m)
{
	int gap = 0;

	for (int i = 0; i < m->n_ops; i++) {
		const struct nn_op *op = &m->ops[i];

		if (i == 0 && (op->type != OP_CONV || op->in.c != 1))
			return 0;
		switch (op->type) {
		case OP_CONV:
			if (gap || op->k != 3 || op->stride != 1 ||
			    op->pad != 1 || !op->relu)
				return 0;
			break;
		case OP_MAXPOOL:
			if (gap || op->k != 2 || op->stride != 2)
				return 0;
			break;
		case OP_GAP:
			if (gap)
				return 0;
			gap = 1;
			break;
		case OP_DENSE:
			if (!gap || op->relu || i + 1 != m->n_ops)
				return 0;
			break;
		default:
			return 0;
		}
	}
	return gap;
}

/* n zeroed bytes on a cache line boundary: AMX tile rows that straddle
 * two lines load markedly slower. NULL when out of memory. */
static void *calloc64(size_t n)
{
	void *p;

	if (n > SIZE_MAX - 63)
		return NULL;
	p = aligned_alloc(64, (n + 63) / 64 * 64);
	if (p)
		memset(p, 0, n);
	return p;
}

/* int8 trades a little accuracy for speed; below this many multiply-adds
 * a face the fp32 kernels take microseconds, so small models keep fp32. */
#define NN_INT8_MIN_MACS 1e6

/* Packs one conv's weights (and its bias, padded) for the fast kernels:
 * fp32, or int8 when `int8` (and as AMX tiles when the level has them).
 * An int8 conv keeps no fp32 weights: nothing reads them at the int8 and
 * AMX levels, and for a big net they are most of its memory (xl: 37 MB
 * of 47), so nn_classify refuses such a model below int8. */
static int pack_conv(struct nn_op *op, int first, int int8)
{
	int cip = first ? 1 : nn_kern_cpad(op->in.c);
	int cop = nn_kern_cpad(op->out.c);
	size_t n = (size_t)cip * cop * 9;

	op->icb = first ? 1 : NN_KERN_CB;
	op->bp = ms_calloc((size_t)cop, sizeof(float));
	if (!op->bp)
		return MS_ENOMEM;
	memcpy(op->bp, op->b, sizeof(float) * op->out.c);
	if (first || !int8) {
		op->wp = ms_mallocarray(n, sizeof(float));
		if (!op->wp)
			return MS_ENOMEM;
		nn_kern_pack3x3(op->w, op->in.c, op->out.c, op->icb, op->wp);
		return MS_OK;
	}
	op->wq = ms_mallocarray(n, 1);
	op->wsc = ms_mallocarray((size_t)cop, sizeof(float));
	if (!op->wq || !op->wsc)
		return MS_ENOMEM;
	nn_kern_pack3x3_s8(op->w, op->in.c, op->out.c, op->wq, op->wsc);
	free(op->w);
	op->w = NULL;
	if (nn_kern_level() < NN_KERN_AMX)
		return MS_OK;
	op->wa = calloc64(nn_kern_amx_w_bytes(cip, cop));
	if (!op->wa)
		return MS_ENOMEM;
	nn_kern_pack3x3_amx(op->wq, cip, cop, op->wa);
	return MS_OK;
}

/* Packs conv weights for the fast kernels when the CPU has them and every
 * op qualifies; otherwise the model stays on the portable path. Returns
 * MS_ENOMEM or MS_OK. */
static int plan_blocked(struct nn_model *m)
{
	if (!nn_kern_fast() || !blocked_ok(m))
		return MS_OK;
	m->max_blk = nn_kern_blocked_floats(1, m->arch.crop, m->arch.crop, 1);
	for (int i = 0; i < m->n_ops; i++) {
		struct nn_op *op = &m->ops[i];

		m->max_blk = MS_MAX(m->max_blk,
				    nn_kern_blocked_floats(op->out.c, op->out.h,
							   op->out.w, 16));
		if (op->type != OP_CONV)
			continue;
		if (pack_conv(op, i == 0,
			      nn_kern_level() >= NN_KERN_INT8 &&
				      m->macs >= NN_INT8_MIN_MACS))
			return MS_ENOMEM;
		m->int8 |= op->wq != NULL;
		m->amx |= op->wa != NULL;
		if (op->wa)
			m->max_q = MS_MAX(
				m->max_q,
				nn_kern_amx_u8_bytes(nn_kern_cpad(op->in.c),
						     op->in.h, op->in.w));
	}
	m->max_q = MS_MAX(m->max_q, m->max_blk);
	m->blocked = 1;
	return MS_OK;
}

int nn_model_from_net(const struct nn_net *net, struct nn_model **out,
		      char *err, size_t errlen)
{
	struct nn_model *m = calloc(1, sizeof(*m));
	int n = net->arch.n_layers;

	if (!m)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	m->arch = net->arch;
	nn_arch_cost(&net->arch, &m->macs, &m->params);
	m->max_act = (size_t)net->arch.crop * net->arch.crop;
	for (int i = 0; i < n; i++) {
		const struct nn_layer *l = &net->layers[i];
		struct nn_op *op = &m->ops[m->n_ops];
		size_t wn, row;

		m->max_act = MS_MAX(m->max_act,
				    (size_t)l->out.c * l->out.h * l->out.w);
		op->in = l->in;
		op->out = l->out;
		op->k = (int)l->s.k;
		op->stride = (int)l->s.stride;
		op->pad = (int)l->s.pad;
		switch (l->s.type) {
		case NN_LAYER_CONV:
		case NN_LAYER_DENSE:
			op->type =
				l->s.type == NN_LAYER_CONV ? OP_CONV : OP_DENSE;
			row = (size_t)l->in.c * l->s.k *
			      (l->s.type == NN_LAYER_CONV ? l->s.k : 1);
			if (l->s.type == NN_LAYER_DENSE)
				row = (size_t)l->in.c;
			wn = row * l->out.c;
			op->w = ms_mallocarray(wn, sizeof(float));
			op->b = ms_calloc(l->out.c, sizeof(float));
			if (!op->w || !op->b)
				goto out_nomem;
			memcpy(op->w, l->w, wn * sizeof(float));
			if (l->b)
				memcpy(op->b, l->b, l->out.c * sizeof(float));
			if (op->type == OP_CONV)
				m->col_n = MS_MAX(m->col_n,
						  nn_conv_col_floats(1, l->in,
								     l->out,
								     op->k));
			i += fold_bn(net, i, op->w, row, op->b, l->out.c);
			break;
		case NN_LAYER_BN:
			op->type = OP_AFFINE;
			op->w = ms_mallocarray(l->in.c, sizeof(float));
			op->b = ms_mallocarray(l->in.c, sizeof(float));
			if (!op->w || !op->b)
				goto out_nomem;
			for (int c = 0; c < l->in.c; c++) {
				op->w[c] = l->gamma[c] /
					   sqrtf(l->rvar[c] + NN_BN_EPS);
				op->b[c] = l->beta[c] - l->rmean[c] * op->w[c];
			}
			break;
		case NN_LAYER_RELU:
			if (m->n_ops > 0 &&
			    m->ops[m->n_ops - 1].type != OP_RELU &&
			    m->ops[m->n_ops - 1].type <= OP_AFFINE) {
				m->ops[m->n_ops - 1].relu = 1;
				continue;
			}
			op->type = OP_RELU;
			break;
		case NN_LAYER_MAXPOOL:
			op->type = OP_MAXPOOL;
			break;
		case NN_LAYER_GAP:
			op->type = OP_GAP;
			break;
		case NN_LAYER_DROPOUT:
			continue;
		}
		op->out = net->layers[i].out;
		m->n_ops++;
	}
	if (plan_blocked(m)) {
		nn_model_free(m);
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	}
	*out = m;
	return MS_OK;
out_nomem:
	m->n_ops++;
	nn_model_free(m);
	return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
}

int nn_model_parse(const uint8_t *buf, size_t len, struct nn_model **out,
		   char *err, size_t errlen)
{
	struct nn_net *net;
	int rc;

	if (nn_manifest_is(buf, len))
		return ms_errf(err, errlen, MS_EFORMAT,
			       "an ensemble manifest: load it by its path");
	rc = nn_net_parse(buf, len, 0, &net, NULL, NULL, NULL, err, errlen);
	if (rc)
		return rc;
	rc = nn_model_from_net(net, out, err, errlen);
	nn_net_free(net);
	return rc;
}

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
	/* The portable path's im2col scratch (tens of MB for a wide net);
	 * a blocked model gets it only if it ever falls back (forward_any). */
	if (!m->blocked)
		c->col = ms_calloc(m->col_n + 1, sizeof(float));
	if (m->blocked) {
		c->blk[0] = calloc64(m->max_blk * sizeof(float));
		c->blk[1] = calloc64(m->max_blk * sizeof(float));
		c->q = calloc64(m->max_q);
		if (!c->blk[0] || !c->blk[1] || !c->q) {
			nn_ctx_free(c);
			return NULL;
		}
	}
	if (!c->buf[0] || !c->buf[1] || (!m->blocked && !c->col)) {
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
			for (int o = 0; o < op->out.c; o++) {
				const float *w = op->w + (size_t)o * op->in.c;
				float s = op->b[o];

				for (int j = 0; j < op->in.c; j++)
					s += w[j] * x[j];
				y[o] = s;
			}
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
			for (int o = 0; o < op->out.c; o++) {
				const float *w = op->w + (size_t)o * op->in.c;
				float s = op->b[o];

				for (int j = 0; j < op->in.c; j++)
					s += w[j] * x[j];
				logits[o] = s;
			}
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
 * MS_ENOMEM when a blocked model falls back to the portable path (the
 * kernel level was lowered after it was loaded) and its scratch cannot be
 * had. */
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
	if (ctx->m->int8 && nn_kern_level() < NN_KERN_INT8)
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
