/* nn_internal.h - what the files of src/nn share and nobody else sees: the
 * layer list (architecture), the trainable network, the batched kernels,
 * the random generator and the model container. Activations are laid out
 * channel-major over the whole batch, [C][B][H][W], so every convolution is
 * one GEMM per chunk of images and batch norm reads contiguous rows. */
#ifndef MOODSYNC_NN_INTERNAL_H
#define MOODSYNC_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/nn.h"

#define NN_MAX_LAYERS 64
#define NN_MAX_CHANNELS 2048
#define NN_MAX_SIDE 256
#define NN_MAX_KERNEL 11
#define NN_MAX_PARAMS (NN_MAX_LAYERS * 4)
#define NN_MAX_ACT (1u << 21) /* floats of one layer's output, per face */
#define NN_MAX_COL (1u << 23) /* floats of one conv's im2col, per face */
#define NN_BN_EPS 1e-5f
#define NN_BN_MOMENTUM 0.1f

enum nn_layer_type {
	NN_LAYER_CONV = 1, /* out=channels, k, stride, pad, flags&BIAS */
	NN_LAYER_BN = 2,   /* per-channel batch norm */
	NN_LAYER_RELU = 3,
	NN_LAYER_MAXPOOL = 4, /* k, stride */
	NN_LAYER_GAP = 5,     /* global average pool to (c,1,1) */
	NN_LAYER_DROPOUT = 6, /* p_milli = drop probability * 1000 */
	NN_LAYER_DENSE = 7,   /* out=units, input must be (c,1,1) */
};

#define NN_FLAG_BIAS 1u

/* One layer as written in the model file (seven u32). */
struct nn_layer_spec {
	uint32_t type;	  /* enum nn_layer_type */
	uint32_t out;	  /* conv output channels / dense units */
	uint32_t k;	  /* kernel side (conv, maxpool) */
	uint32_t stride;  /* conv, maxpool */
	uint32_t pad;	  /* conv zero padding, pixels */
	uint32_t flags;	  /* NN_FLAG_BIAS */
	uint32_t p_milli; /* dropout probability, 1/1000 */
};

/* The architecture: input geometry, normalisation, layer list. */
struct nn_arch {
	int side;	 /* face crop the caller hands in, pixels (48) */
	int crop;	 /* centre crop the net sees, pixels (44) */
	float norm_mean; /* net input = (pixel/255 - mean) / std */
	float norm_std;
	int n_layers;
	struct nn_layer_spec layers[NN_MAX_LAYERS];
};

struct nn_shape {
	int c, h, w;
};

/* A layer of a trainable network; pointers alias nn_param storage. */
struct nn_layer {
	struct nn_layer_spec s;
	struct nn_shape in, out;
	float *w, *b;	     /* conv (out,in,k,k), dense (out,in); bias (out) */
	float *gw, *gb;	     /* their gradients */
	float *gamma, *beta; /* BN scale and shift (c) */
	float *ggamma, *gbeta;
	float *rmean, *rvar; /* BN running statistics (c) */
};

/* A named tensor of the network: value, gradient and momentum. */
struct nn_param {
	char name[32];
	float *w; /* value, n floats */
	float *g; /* gradient (NULL when not trainable) */
	float *m; /* optimiser momentum (NULL when not trainable) */
	size_t n;
	int ndim;
	int dims[4];
	int decay;     /* weight decay applies (conv/dense weights) */
	int trainable; /* 0 for BN running statistics */
};

struct nn_net {
	int replica; /* 1: weights borrowed from another net (see below) */
	struct nn_arch arch;
	struct nn_layer layers[NN_MAX_LAYERS];
	int n_params;
	struct nn_param params[NN_MAX_PARAMS];
};

/* ---- random numbers (xoshiro256**) ---- */
struct nn_rng {
	uint64_t s[4];
};
void nn_rng_seed(struct nn_rng *r, uint64_t seed);
uint64_t nn_rng_next(struct nn_rng *r);
float nn_rng_uniform(struct nn_rng *r); /* [0, 1) */
float nn_rng_normal(struct nn_rng *r);
uint32_t nn_rng_below(struct nn_rng *r, uint32_t n); /* [0, n) */

/* ---- architecture and network (net.c) ---- */
/* Checks a layer list and writes each layer's output shape into
 * shapes[0..n_layers] (shapes[0] is the input). The last layer must give
 * (NN_CLASSES,1,1). MS_EFORMAT/MS_ELIMIT with a reason. */
int nn_arch_check(const struct nn_arch *a, struct nn_shape *shapes, char *err,
		  size_t errlen);
/* Fills *a with a named architecture ("tiny", "small", "base", "wide",
 * "large"); MS_EINVAL for an unknown name. */
int nn_arch_preset(const char *name, struct nn_arch *a);
/* Multiply-adds of one forward pass per face, and parameter count. */
void nn_arch_cost(const struct nn_arch *a, double *macs, size_t *params);
int nn_net_new(const struct nn_arch *a, int trainable, struct nn_net **out,
	       char *err, size_t errlen);
void nn_net_free(struct nn_net *net);
/* He-normal conv/dense weights, BN to identity. */
void nn_net_init_weights(struct nn_net *net, struct nn_rng *rng);
struct nn_param *nn_net_param(struct nn_net *net, const char *name);
/* A replica for data-parallel training: trainable weights alias `master`'s
 * (read-only during a step), gradients and BN running statistics are its
 * own. Free with nn_net_free before the master. */
int nn_net_replica(const struct nn_net *master, struct nn_net **out);

/* Per-batch training scratch: activations and gradients of every layer. */
struct nn_ws {
	int bmax;
	float *act[NN_MAX_LAYERS +
		   1]; /* act[0] input, act[i+1] = layer i out */
	float *grad[NN_MAX_LAYERS + 1]; /* same shapes */
	float *bn_mean[NN_MAX_LAYERS];	/* (c) batch statistics */
	float *bn_invstd[NN_MAX_LAYERS];
	int32_t *pool_idx[NN_MAX_LAYERS]; /* argmax offset in the input plane */
	float *mask[NN_MAX_LAYERS];	  /* dropout: 0 or 1/(1-p) */
	float *col, *dcol;		  /* im2col scratch */
	size_t col_n;
};
int nn_ws_init(struct nn_ws *ws, const struct nn_net *net, int bmax);
void nn_ws_release(struct nn_ws *ws);
/* Forward pass of B images in ws->act[0] ([1][B][crop][crop]); logits
 * land in ws->act[n_layers] as [NN_CLASSES][B]. `train` selects batch
 * statistics, dropout (rng) and running-stat updates. */
void nn_net_forward(struct nn_net *net, struct nn_ws *ws, int B, int train,
		    struct nn_rng *rng);
/* Backward from ws->grad[n_layers]; writes every parameter gradient. */
void nn_net_backward(struct nn_net *net, struct nn_ws *ws, int B);
/* Softmax cross-entropy with label smoothing over logits [NN_CLASSES][B];
 * writes dlogits (may be NULL) scaled by 1/B and returns the mean loss.
 * `correct` (may be NULL) counts argmax hits. */
float nn_softmax_ce(const float *logits, const uint8_t *labels, int B,
		    float smoothing, float *dlogits, int *correct);

/* Soft-target cross-entropy over logits [NN_CLASSES][B] against
 * targets (B, NN_CLASSES) whose rows sum to 1, each class's term
 * weighted by cw[c] (cw NULL: unweighted); writes dlogits (may be NULL)
 * scaled by 1/B, returns the mean loss; `correct` (may be NULL) counts
 * argmax == labels[n] (labels may be NULL). */
float nn_softmax_ce_soft(const float *logits, const float *targets, int B,
			 const float *cw, const uint8_t *labels, float *dlogits,
			 int *correct);
/* A training target: (1-share) * label-smoothed one-hot of `label` +
 * share * votes (NN_CLASSES shares summing to 1). With votes NULL or all
 * zero, the smoothed one-hot alone. */
void nn_target_mix(int label, const float *votes, float smoothing, float share,
		   float out[NN_CLASSES]);
/* The first class whose loss weight is outside NN_CLASS_WEIGHT_MIN..MAX
 * (or NaN), -1 when every weight is in range. */
int nn_class_weight_bad(const float w[NN_CLASSES]);

/* ---- kernels (layers.c); x,y are [C][B][H][W] ---- */
size_t nn_conv_col_floats(int B, struct nn_shape in, struct nn_shape out,
			  int k);
void nn_conv_forward(const float *x, float *y, int B, struct nn_shape in,
		     struct nn_shape out, int k, int stride, int pad,
		     const float *w, const float *bias, float *col);
void nn_conv_backward(const float *x, const float *dy, float *dx, int B,
		      struct nn_shape in, struct nn_shape out, int k,
		      int stride, int pad, const float *w, float *gw, float *gb,
		      float *col, float *dcol);
/* The direct convolutions (conv_fast.c, conv_amx.c) run a group of a
 * batch's images side by side, one zero column apart, as one wide image
 * of about NN_CONV_GROUP_COLS columns: fewer wasted border columns. */
#define NN_CONV_GROUP_COLS 64

/* Images of width w in one group. */
static inline int nn_conv_group_of(int w)
{
	return MS_MAX(1, NN_CONV_GROUP_COLS / (w + 1));
}

/* Interior width of g images of width w side by side. */
static inline int nn_conv_group_width(int g, int w)
{
	return g * (w + 1) - 1;
}

/* n rounded up to a multiple of 16 (floats: a 64-byte line). */
static inline size_t nn_up16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

/* The first 64-byte boundary at or after p; scratch sizes leave 16 floats
 * of room for it. */
static inline float *nn_align64(float *p)
{
	return (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* 3x3 stride-1 pad-1 convolutions on the AVX-512 direct kernels
 * (conv_fast.c), which nn_conv_forward/backward use when nn_conv_fast_ok;
 * scratch holds nn_conv_fast_floats (within nn_conv_col_floats). The
 * bias gradient is nn_conv_backward's, on either path. */
int nn_conv_fast_ok(struct nn_shape in, struct nn_shape out, int k, int stride,
		    int pad);
size_t nn_conv_fast_floats(struct nn_shape in, struct nn_shape out);
void nn_conv_fast_forward(const float *x, float *y, int B, struct nn_shape in,
			  struct nn_shape out, const float *w,
			  const float *bias, float *scratch);
void nn_conv_fast_backward(const float *x, const float *dy, float *dx, int B,
			   struct nn_shape in, struct nn_shape out,
			   const float *w, float *gw, float *scratch);
/* The same on AMX bf16 tiles (conv_amx.c), which conv_fast.c hands a
 * layer over to when nn_conv_amx_ok; its scratch is within
 * nn_conv_fast_floats. */
int nn_conv_amx_ok(struct nn_shape in);
size_t nn_conv_amx_floats(struct nn_shape in, struct nn_shape out);
void nn_conv_amx_forward(const float *x, float *y, int B, struct nn_shape in,
			 struct nn_shape out, const float *w, const float *bias,
			 float *scratch);
void nn_conv_amx_backward(const float *x, const float *dy, float *dx, int B,
			  struct nn_shape in, struct nn_shape out,
			  const float *w, float *gw, float *scratch);
void nn_bn_forward_train(const float *x, float *y, int C, size_t n,
			 const float *gamma, const float *beta, float *mean,
			 float *invstd, float *rmean, float *rvar);
void nn_bn_forward_eval(const float *x, float *y, int C, size_t n,
			const float *gamma, const float *beta,
			const float *rmean, const float *rvar);
void nn_bn_backward(const float *x, const float *dy, float *dx, int C, size_t n,
		    const float *gamma, const float *mean, const float *invstd,
		    float *ggamma, float *gbeta);
/* Batch norm followed, when `relu`, by a ReLU in the same pass; the
 * backward takes the ReLU's output y (NULL: no ReLU) to mask dy. */
void nn_bn_relu_forward_train(const float *x, float *y, int C, size_t n,
			      const float *gamma, const float *beta,
			      float *mean, float *invstd, float *rmean,
			      float *rvar, int relu);
void nn_bn_relu_forward_eval(const float *x, float *y, int C, size_t n,
			     const float *gamma, const float *beta,
			     const float *rmean, const float *rvar, int relu);
void nn_bn_relu_backward(const float *x, const float *y, const float *dy,
			 float *dx, int C, size_t n, const float *gamma,
			 const float *mean, const float *invstd, float *ggamma,
			 float *gbeta);
void nn_relu_forward(const float *x, float *y, size_t n);
void nn_relu_backward(const float *y, const float *dy, float *dx, size_t n);
void nn_maxpool_forward(const float *x, float *y, int32_t *idx, int planes,
			struct nn_shape in, struct nn_shape out, int k,
			int stride);
void nn_maxpool_backward(const float *dy, const int32_t *idx, float *dx,
			 int planes, struct nn_shape in, struct nn_shape out,
			 int k, int stride);
void nn_gap_forward(const float *x, float *y, int planes, int hw);
void nn_gap_backward(const float *dy, float *dx, int planes, int hw);
void nn_dense_forward(const float *x, float *y, int B, int in, int out,
		      const float *w, const float *b);
void nn_dense_backward(const float *x, const float *dy, float *dx, int B,
		       int in, int out, const float *w, float *gw, float *gb);

/* ---- model container (model_io.c) ---- */
#define NN_FILE_MODEL 0u
#define NN_FILE_CHECKPOINT 1u
/* Serialises a network (with momenta and a state blob when `kind` is
 * NN_FILE_CHECKPOINT) into a new heap buffer. */
int nn_net_serialize(const struct nn_net *net, uint32_t kind,
		     const uint8_t *state, size_t state_len, uint8_t **out,
		     size_t *out_len);
/* Parses a model or checkpoint. With `trainable`, the net gets gradient
 * and momentum buffers (momenta loaded from a checkpoint). `state` (may be
 * NULL) receives a copy of a checkpoint's state blob (free()). */
int nn_net_parse(const uint8_t *buf, size_t len, int trainable,
		 struct nn_net **out, uint32_t *kind, uint8_t **state,
		 size_t *state_len, char *err, size_t errlen);
/* Writes a file atomically (temporary file, fsync, rename). */
int nn_file_write_atomic(const char *path, const uint8_t *buf, size_t len,
			 char *err, size_t errlen);
int nn_net_save(const struct nn_net *net, const char *path, char *err,
		size_t errlen);
uint32_t nn_crc32(const uint8_t *p, size_t n);

/* Folds a network into an immutable inference model. */
int nn_model_from_net(const struct nn_net *net, struct nn_model **out,
		      char *err, size_t errlen);

/* Input preparation: the crop*crop window at (x0, y0) of a side*side
 * face, normalised, into dst (crop*crop floats), mirrored when `flip`. */
void nn_prep_window(const struct nn_arch *a, const uint8_t *gray, int x0,
		    int y0, int flip, float *dst);
/* The same for the centre window. */
void nn_prep_center(const struct nn_arch *a, const uint8_t *gray, int flip,
		    float *dst);
/* p = softmax(z) over the NN_CLASSES logits. */
void nn_softmax(const float z[NN_CLASSES], float p[NN_CLASSES]);

/* Loads a net file; unlike nn_model_load, a manifest is an error. */
int nn_net_model_load(const char *path, struct nn_model **out, char *err,
		      size_t errlen);

/* ---- ensembles (ensemble.c) ----
 * An ensemble model is a struct nn_model whose `ens` holds the members;
 * its context holds one context per member. */
struct nn_ens;
struct nn_ens_ctx;
/* An ensemble model's members (NULL for a single net), and a new model
 * owning `e` (MS_ENOMEM; e stays the caller's then). In infer.c. */
const struct nn_ens *nn_model_ens(const struct nn_model *m);
int nn_model_wrap_ens(struct nn_ens *e, struct nn_model **out);
/* 1 when buf starts with a manifest's first line. */
int nn_manifest_is(const uint8_t *buf, size_t len);
/* Parses the manifest buf[0..len) read from `path` and loads its
 * members. nn_manifest_parse's and nn_net_model_load's codes. */
int nn_ens_load(const char *path, const uint8_t *buf, size_t len,
		struct nn_ens **out, char *err, size_t errlen);
void nn_ens_free(struct nn_ens *e);
int nn_ens_count(const struct nn_ens *e);
const struct nn_model *nn_ens_member(const struct nn_ens *e, int i, float *w);
/* Sums of the members' figures (side and crop of the first). */
void nn_ens_info(const struct nn_ens *e, struct nn_model_info *out);
struct nn_ens_ctx *nn_ens_ctx_new(const struct nn_ens *e);
void nn_ens_ctx_free(struct nn_ens_ctx *c);
/* Weighted mean of the members' nn_classify. */
int nn_ens_classify(struct nn_ens_ctx *c, const uint8_t *gray, int tta,
		    float probs[NN_CLASSES]);

#endif
