/* infer_internal.h - the inference model's structures, shared by
 * infer.c (building and packing a model) and classify.c (contexts and
 * forward passes). Private to src/nn. */
#ifndef MOODSYNC_NN_INFER_INTERNAL_H
#define MOODSYNC_NN_INFER_INTERNAL_H

#include "nn/nn_internal.h"

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
	int amx;	    /* ... as AMX tiles only (it runs at level amx
			       only) */
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

/* n zeroed bytes on a cache line boundary: AMX tile rows that straddle
 * two lines load markedly slower. NULL when out of memory; free(). */
void *nn_calloc64(size_t n);

#endif
