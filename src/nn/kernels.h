/* kernels.h - the inference engine's fast path: 3x3 convolutions (stride
 * 1, pad 1) on channel-blocked activations with AVX-512, used by infer.c
 * when the CPU has it; the portable path is im2col + OpenBLAS (layers.c).
 *
 * Blocked layout: a (C, H, W) tensor is [C/cb][H+2][W+2][cb] floats with a
 * zero border one pixel wide, cb = NN_KERN_CB (16) or, for a one-channel
 * input image, 1. Every writer below restores the zero border. */
#ifndef MOODSYNC_NN_KERNELS_H
#define MOODSYNC_NN_KERNELS_H

#include <stddef.h>

#define NN_KERN_CB 16

/* 1 when the AVX-512 kernels run on this CPU and have not been switched
 * off (nn_kern_force_portable, or MOODSYNC_NN_PORTABLE=1 in the
 * environment when first asked). Thread-safe after the first call. */
int nn_kern_fast(void);

/* Forces the portable path (on != 0) or allows the fast one again, for
 * tests and benchmarks; call before threads classify. */
void nn_kern_force_portable(int on);

/* Floats of a blocked tensor with c channels of h x w (c a multiple of cb). */
size_t nn_kern_blocked_floats(int c, int h, int w, int cb);

/* Packs conv weights w (co, ci, 3, 3) into wp (ci*co*9 floats) as
 * [co/16][ci/icb][9][icb][16], icb being the input's channel block. co must
 * be a multiple of 16 and ci of icb. */
void nn_kern_pack3x3(const float *w, int ci, int co, int icb, float *wp);

/* y = conv3x3(x) + bias, then ReLU when `relu`; x blocked (ci, h, w) with
 * block icb, y blocked (co, h, w) with block 16, wp from nn_kern_pack3x3.
 * Only when nn_kern_fast() says so. */
void nn_kern_conv3x3(const float *x, int ci, int icb, int h, int w,
		     const float *wp, const float *bias, int co, int relu,
		     float *y);

/* 2x2 max pooling, stride 2 (floor): blocked (c, h, w) to blocked
 * (c, h/2, w/2), block 16. */
void nn_kern_maxpool2(const float *x, int c, int h, int w, float *y);

/* Global average pool of blocked (c, h, w), block 16, into y[c]. */
void nn_kern_gap(const float *x, int c, int h, int w, float *y);

/* Copies a plain h x w image into a blocked one-channel tensor (cb 1). */
void nn_kern_pad_image(const float *img, int h, int w, float *y);

#endif
