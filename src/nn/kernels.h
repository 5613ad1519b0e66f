/* kernels.h - the inference engine's fast path: 3x3 convolutions (stride
 * 1, pad 1) on channel-blocked activations with AVX-512 (fp32, then int8
 * with VNNI, then int8 on AMX tiles), used by infer.c (packing) and
 * classify.c (forward passes) when the CPU has them; the portable path is
 * im2col + OpenBLAS (layers.c).
 *
 * Blocked layout: a (C, H, W) tensor is [C/cb][H+2][W+2][cb] floats with a
 * zero border one pixel wide, cb = NN_KERN_CB (16) or, for a one-channel
 * input image, 1. Every writer below restores the zero border.
 *
 * The trainer (conv_fast.c) runs on the same fp32 kernels, and at level
 * NN_KERN_AMX its convolutions of 16+ input channels on the bf16 tile
 * kernels below (kernels_amx_train.c, own layouts). */
#ifndef MOODSYNC_NN_KERNELS_H
#define MOODSYNC_NN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define NN_KERN_CB 16

/* The direct convolutions walk a padded (h+2) x (w+2) plane as one flat
 * row: output q (counted from the first interior pixel) is padded pixel
 * q + (w+2) + 1, and the walk ends at the last interior pixel, so it
 * covers this many pixels, two border ones a row included. */
static inline size_t nn_kern_flat_total(int h, int w)
{
	return (size_t)(h - 1) * (size_t)(w + 2) + (size_t)w;
}

/* The tile walk of the direct convolutions: tiles of `tile_r` output
 * pixels over the flat range [0, total), the last one overlapping the one
 * before, or single pixels when there are fewer. `tile(a, q, R, two)` is
 * an always-inline function; each call below passes constant R and two,
 * so the compiler makes one specialised copy per case. */
#define NN_KERN_TILE_WALK(tile, a, total, two, tile_r)                         \
	do {                                                                   \
		if ((total) < (size_t)(tile_r)) {                              \
			for (size_t q_ = 0; q_ < (total); q_++) {              \
				if (two)                                       \
					tile(a, q_, 1, 1);                     \
				else                                           \
					tile(a, q_, 1, 0);                     \
			}                                                      \
			break;                                                 \
		}                                                              \
		for (size_t q_ = 0; q_ < (total); q_ += (tile_r)) {            \
			size_t s_ = q_ + (tile_r) > (total)                    \
					    ? (total) - (tile_r)               \
					    : q_;                              \
			if (two)                                               \
				tile(a, s_, tile_r, 1);                        \
			else                                                   \
				tile(a, s_, tile_r, 0);                        \
		}                                                              \
	} while (0)

/* Kernel levels, each a superset of the one before. */
enum nn_kern_level {
	NN_KERN_PORTABLE = 0, /* im2col + OpenBLAS, any CPU */
	NN_KERN_FP32 = 1,     /* AVX-512F direct convolution */
	NN_KERN_INT8 = 2,     /* + AVX-512 VNNI u8 x s8 convolution */
	NN_KERN_AMX = 3,      /* + AMX tiles (bf16, int8), granted by the OS */
};

/* The level in use: the best the CPU has, capped by MOODSYNC_NN_KERNELS
 * (portable, fp32, int8 or amx) in the environment when first asked, or by
 * nn_kern_set_level. Thread-safe. A model packs its weights for the level
 * in use when it is loaded; raising the level later does not repack, and
 * a model packed for int8 or AMX keeps no fp32 weights for those convs:
 * nn_classify refuses it below int8. */
enum nn_kern_level nn_kern_level(void);

/* Caps the level (tests, benchmarks); call before threads classify.
 * Returns the level now in use. */
enum nn_kern_level nn_kern_set_level(enum nn_kern_level cap);

/* Sets up this thread's AMX tile registers: `rows` (1..16) rows of
 * `colsb` (4..64) bytes for each of the first `n` (1..8) tiles. AMX code
 * calls it before its first tile instruction on each thread, and
 * nn_kern_amx_release after its last. Only at level NN_KERN_AMX. */
void nn_kern_amx_config(int n, int rows, int colsb);
void nn_kern_amx_release(void);

/* nn_kern_level() >= NN_KERN_FP32. */
int nn_kern_fast(void);

/* c rounded up to a whole number of 16-channel blocks. */
static inline int nn_kern_cpad(int c)
{
	return (c + NN_KERN_CB - 1) / NN_KERN_CB * NN_KERN_CB;
}

/* Floats of a blocked tensor with c channels of h x w (c a multiple of cb). */
size_t nn_kern_blocked_floats(int c, int h, int w, int cb);

/* Packs conv weights w (co, ci, 3, 3) into wp as
 * [cop/16][cip/icb][9][icb][16], icb being the input's channel block (1 or
 * 16), cop = nn_kern_cpad(co), cip = ci when icb is 1, else
 * nn_kern_cpad(ci); padded channels get zero weights. wp holds
 * cip*cop*9 floats. */
void nn_kern_pack3x3(const float *w, int ci, int co, int icb, float *wp);

/* y = conv3x3(x) + bias, then ReLU when `relu`; x blocked (ci, h, w) with
 * block icb, y blocked (co, h, w) with block 16, wp from nn_kern_pack3x3,
 * bias (co). ci and co are the padded counts (cip, cop above).
 * Only at level NN_KERN_FP32 or above. */
void nn_kern_conv3x3(const float *x, int ci, int icb, int h, int w,
		     const float *wp, const float *bias, int co, int relu,
		     float *y);

/* The weight gradient of nn_kern_conv3x3, accumulated: gwp +=
 * d(sum y*dy)/d(wp) for one image, x blocked (ci, h, w) with block icb,
 * dy blocked (co, h, w) with block 16 and a zero border, gwp packed like
 * nn_kern_pack3x3 (ci, co padded as there). Sums run in a fixed order.
 * Only at level NN_KERN_FP32 or above. */
void nn_kern_conv3x3_wgrad(const float *x, int ci, int icb, int h, int w,
			   const float *dy, int co, float *gwp);

/* Channel interleaving between planar and blocked layouts:
 * dst[p*16 + j] = src[j*stride + p] for p < n, j < nch, zero for the
 * lanes j >= nch; scatter16 is the inverse (lanes j >= nch unwritten).
 * In kernels_interleave.c. */
void nn_kern_gather16(const float *src, size_t stride, int nch, size_t n,
		      float *dst);
void nn_kern_scatter16(const float *src, size_t n, int nch, size_t stride,
		       float *dst);

/* 2x2 max pooling, stride 2 (floor): blocked (c, h, w) to blocked
 * (c, h/2, w/2), block 16. When ymax is not NULL, *ymax = the largest
 * float of y, its zero border included (what nn_kern_quant_u8 finds). */
void nn_kern_maxpool2(const float *x, int c, int h, int w, float *y,
		      float *ymax);

/* The trainer's 2x2 stride-2 max pooling of planar (h, w) planes, with
 * the index of each maximum in its plane when idx is not NULL (the first
 * maximum in window order, as the plain loop of layers.c), and its
 * backward pass. Only at level NN_KERN_FP32 or above. */
void nn_kern_maxpool2_planes(const float *x, float *y, int32_t *idx, int planes,
			     int h, int w);
void nn_kern_maxpool2_back(const float *dy, const int32_t *idx, float *dx,
			   int planes, size_t ihw, size_t ohw);

/* Global average pool of blocked (c, h, w), block 16, into y[c]. */
void nn_kern_gap(const float *x, int c, int h, int w, float *y);

/* Zeroes the one-pixel border of every block of a blocked tensor. */
void nn_kern_zero_border(float *y, int c, int h, int w, int cb);

/* Copies a plain h x w image into a blocked one-channel tensor (cb 1). */
void nn_kern_pad_image(const float *img, int h, int w, float *y);

/* ---- int8 (kernels_int8.c), level NN_KERN_INT8 only ---- */

/* Quantizes blocked non-negative x (c, h, w), block 16, to u8 with one
 * scale for the whole tensor: xq = round(x / *scale), *scale = max / 255
 * (1 when x is all zero). Negative values become 0. */
void nn_kern_quant_u8(const float *x, int c, int h, int w, uint8_t *xq,
		      float *scale);
/* The same into rows of kb (16, 32 or 64) channels a pixel, the layout
 * [c/kb][h+2][w+2][kb]; kb 16 is nn_kern_quant_u8's blocked layout.
 * xmax: the largest float of x with its border, as the op that wrote x
 * reported it, or NULL to find it here (a second pass over x). */
void nn_kern_quant_u8_kb(const float *x, int c, int h, int w, int kb,
			 const float *xmax, uint8_t *xq, float *scale);

/* Packs conv weights w (co, ci, 3, 3) into wq (cip*cop*9 bytes, padded
 * as for nn_kern_pack3x3 with icb 16) as s8 with one scale per output
 * channel: q = round(w / scale[o]) in [-127, 127], scale[o] =
 * max|w[o]| / 127 (1 for an all-zero or padded channel; cop scales). */
void nn_kern_pack3x3_s8(const float *w, int ci, int co, int8_t *wq,
			float *scale);

/* y = ReLU?(conv3x3(xq) * xscale * wscale[o] + bias[o]): xq blocked u8
 * (ci, h, w) from nn_kern_quant_u8, y blocked fp32 (co, h, w); ci and co
 * padded to multiples of 16. */
void nn_kern_conv3x3_s8(const uint8_t *xq, float xscale, int ci, int h, int w,
			const int8_t *wq, const float *wscale,
			const float *bias, int co, int relu, float *y);

/* ---- bf16 AMX convolutions of the trainer (kernels_amx_train.c), level
 * NN_KERN_AMX only; the caller configures 8 tiles of 16 rows x 64 bytes
 * (nn_kern_amx_config(8, 16, 64)) around the kernels. ----
 *
 * Layouts of a (C, h, w) tensor, or of g images of h x w side by side one
 * zero column apart (w is then the group's width g*(w+1)-1), with C padded
 * by nn_kern_c32 and every pixel outside the images zero; a plane is
 * nn_kern_amx_len(h, w) pixels of which the first (h+2)*(w+2) are the
 * padded image and the rest zero:
 *  - pair planes: [C/2][len][2] bf16, channels 2i and 2i+1 interleaved;
 *  - planes: [C][len] bf16, or fp32 for the convolutions' outputs;
 *  - pixel pairs: [C/16][nn_kern_amx_pairs_len][16][2] bf16: the flat
 *    output range (plane pixel w+3 on) two pixels at a time, 16 channels.
 * Packed weights: [cop/16][cip/32][9][16 co][32 ci] bf16 (nn_kern_amx_pack);
 * gradient blocks: [cop/16][cip/16][9][16 ci][16 co] fp32. */

/* c rounded up to a whole number of 32-channel blocks. */
static inline int nn_kern_c32(int c)
{
	return (c + 31) / 32 * 32;
}

size_t nn_kern_amx_len(int h, int w);
size_t nn_kern_amx_pairs_len(int h, int w);

/* f rounded to bf16 as the kernels round it, back as a float (tests). */
float nn_kern_bf16_round(float f);

/* Weights w (co, ci, 3, 3) into wa (c32(ci) * c32(co) * 9 bf16), padding
 * zero; pack_flipped packs those of the input gradient, a convolution
 * of co inputs to ci outputs with wt[i][o][8-t] = w[o][i][t];
 * unpack_grad writes gw (co, ci, 3, 3) from gradient blocks ga. */
void nn_kern_amx_pack(const float *w, int ci, int co, uint16_t *wa);
void nn_kern_amx_pack_flipped(const float *w, int ci, int co, uint16_t *wa);
void nn_kern_amx_unpack_grad(const float *ga, int ci, int co, float *gw);

/* Planar fp32 images (channel ch of image j at x + ch*cs + j*h*w) into
 * pair planes or bf16 planes of the group; the whole destination is
 * written. c is the true channel count. */
void nn_kern_amx_to_pairs(const float *x, size_t cs, int c, int g, int h, int w,
			  uint16_t *dst);
void nn_kern_amx_to_planes(const float *x, size_t cs, int c, int g, int h,
			   int w, uint16_t *dst);

/* Pixel pairs, or pair planes, of bf16 planes (group width w). */
void nn_kern_amx_pixel_pairs(const uint16_t *planes, int c, int h, int w,
			     uint16_t *dst);
void nn_kern_amx_planes_to_pairs(const uint16_t *planes, int c, int h, int w,
				 uint16_t *dst);

/* The inverse of to_planes for fp32 planes y (c true channels), plus
 * bias[ch] when bias is not NULL. */
void nn_kern_amx_from_planes(const float *y, int c, int g, int h, int w,
			     const float *bias, size_t cs, float *dst);

/* y = conv3x3(x): xp pair planes (ci channels), wa packed, y fp32 planes
 * (co channels) of which only the interior pixels are meaningful. ci and
 * co are padded counts (multiples of 32), w the group's width. */
void nn_kern_amx_conv3x3(const uint16_t *xp, int ci, int h, int w,
			 const uint16_t *wa, int co, float *y);

/* ga += the weight gradient of the convolution for one group (ga = it
 * when `first`): xt bf16 planes of its input (ci channels), dyp pixel
 * pairs of its output gradient (co); ci and co padded, w the group's
 * width. */
void nn_kern_amx_wgrad(const uint16_t *xt, int ci, int h, int w,
		       const uint16_t *dyp, int co, int first, float *ga);

/* ---- AMX int8 (kernels_amx.c), level NN_KERN_AMX only ----
 *
 * The same quantization as the VNNI path above, so the integer sums are
 * exact and the outputs bit-identical; only the layouts differ. A u8
 * activation (c, h, w) is [c/kb][h+2][w+2][kb] bytes with kb =
 * nn_kern_amx_kb(c): 64, 32 or 16 channels a pixel row, zero border, and
 * NN_KERN_AMX_SLACK bytes after it that tile loads may read (their
 * products are discarded or meet zero weights). A tile row of 64 bytes
 * spans 64 / kb adjacent pixels, so with kb < 64 one B tile holds the
 * weights of as many taps of one kernel row (zero for a tap past the
 * third). The kernels use nn_kern_amx_config(8, 16, 64): every tile is 16
 * rows of 64 bytes; the caller configures and releases. */
#define NN_KERN_AMX_SLACK 2048

/* Channels a pixel row of the AMX layout holds for c channels (c a
 * multiple of 16). */
int nn_kern_amx_kb(int c);

/* Bytes of an AMX u8 activation of c channels (a multiple of 16), slack
 * included. */
size_t nn_kern_amx_u8_bytes(int c, int h, int w);

/* Bytes of AMX-packed weights for ci x co (multiples of 16). */
size_t nn_kern_amx_w_bytes(int ci, int co);

/* Repacks wq from nn_kern_pack3x3_s8 (ci, co padded to multiples of 16)
 * into nn_kern_amx_w_bytes(ci, co) bytes of B tiles at wa:
 * [co/16][ci/kb][3 kernel rows][groups][16 rows][16 outputs][4 inputs].
 * The scales stay those of nn_kern_pack3x3_s8. Any CPU. */
void nn_kern_pack3x3_amx(const int8_t *wq, int ci, int co, int8_t *wa);

/* nn_kern_quant_u8_kb (same values and scale) from blocked fp32 (c, h, w),
 * block 16, into the AMX layout at xq, kb = nn_kern_amx_kb(c)
 * (nn_kern_amx_u8_bytes; the slack is not written). */
void nn_kern_quant_u8_amx(const float *x, int c, int h, int w,
			  const float *xmax, uint8_t *xq, float *scale);

/* nn_kern_conv3x3_s8 on AMX tiles, bit-identical to it: xq from
 * nn_kern_quant_u8_amx, wa from nn_kern_pack3x3_amx, y blocked fp32
 * (co, h, w), block 16; *ymax as for nn_kern_maxpool2 (not NULL). The
 * thread's tiles must be configured. */
void nn_kern_conv3x3_amx(const uint8_t *xq, float xscale, int ci, int h, int w,
			 const int8_t *wa, const float *wscale,
			 const float *bias, int co, int relu, float *y,
			 float *ymax);

#endif
