/* infer.c - the immutable inference model: a parsed network with batch
 * norm folded into the preceding conv/dense, ReLU fused, dropout dropped,
 * and conv weights packed for the fast kernels. Many threads may share one
 * struct nn_model; each brings its own struct nn_ctx (classify.c). */
#include <math.h>
#include <string.h>

#include "nn/infer_internal.h"
#include "nn/kernels.h"
#include "nn/nn_internal.h"

const char *const nn_emotion_names[NN_CLASSES] = {
	"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
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

void *nn_calloc64(size_t n)
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
 * of 47), so nn_classify refuses such a model below int8. Likewise an
 * AMX conv keeps only the tile layout of its int8 weights (xl: 4.7 MB
 * less), and nn_classify refuses such a model below AMX. */
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
	op->wa = nn_calloc64(nn_kern_amx_w_bytes(cip, cop));
	if (!op->wa)
		return MS_ENOMEM;
	nn_kern_pack3x3_amx(op->wq, cip, cop, op->wa);
	free(op->wq);
	op->wq = NULL;
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
		m->int8 |= op->wq || op->wa;
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
