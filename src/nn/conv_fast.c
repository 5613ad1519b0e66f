/* conv_fast.c - 3x3 stride-1 pad-1 convolutions of the trainer on the
 * AVX-512 direct kernels of kernels.c instead of im2col + GEMM. A group of
 * images of a [C][B][H][W] batch is copied side by side, one zero column
 * apart, into the blocked layout (kernels.h), run through nn_kern_conv3x3
 * (forward; backward data with the weights transposed and flipped) or
 * nn_kern_conv3x3_wgrad as one wide image, and copied back. Small images
 * side by side waste fewer border columns of the kernels' flat walk. The
 * groups are taken in order, so the sums are the same on every run. */
#include <string.h>

#include "nn/kernels.h"
#include "nn/nn_internal.h"

/* Where the scratch floats go; every piece starts on a 64-byte line. */
struct fast_buf {
	float *wp, *wtp, *gwp; /* packed weights, transposed, gradient */
	float *wt;	       /* (ci, co, 3, 3) flipped weights */
	float *xb, *yb, *db;   /* one group: input, output, input grad */
	float *zero;	       /* a zero bias, max(cip, cop) */
};

static int in_block(struct nn_shape in)
{
	return in.c == 1 ? 1 : NN_KERN_CB;
}

static size_t fast_layout(struct nn_shape in, struct nn_shape out, float *base,
			  struct fast_buf *b)
{
	size_t cip = (size_t)nn_kern_cpad(in.c),
	       cop = (size_t)nn_kern_cpad(out.c);
	size_t nw = nn_up16(cip * cop * 9), off = 0;
	size_t plane = nn_up16(
		(size_t)(in.h + 2) *
		(nn_conv_group_width(nn_conv_group_of(in.w), in.w) + 2));
	size_t parts[] = {nw,	       nw,
			  nw,	       nn_up16((size_t)in.c * out.c * 9),
			  cip * plane, cop * plane,
			  cip * plane, nn_up16(cip + cop)};
	float **dst[] = {&b->wp, &b->wtp, &b->gwp, &b->wt,
			 &b->xb, &b->yb,  &b->db,  &b->zero};

	for (size_t i = 0; i < MS_ARRAY_LEN(parts); i++) {
		if (base)
			*dst[i] = base + off;
		off += parts[i];
	}
	return off + 16;
}

int nn_conv_fast_ok(struct nn_shape in, struct nn_shape out, int k, int stride,
		    int pad)
{
	return k == 3 && stride == 1 && pad == 1 && in.h == out.h &&
	       in.w == out.w && nn_kern_fast();
}

size_t nn_conv_fast_floats(struct nn_shape in, struct nn_shape out)
{
	/* either path may run: the kernel level can change between calls */
	return MS_MAX(fast_layout(in, out, NULL, &(struct fast_buf){0}),
		      nn_conv_amx_floats(in, out));
}

static struct fast_buf fast_bufs(struct nn_shape in, struct nn_shape out,
				 float *scratch)
{
	struct fast_buf b;
	float *base = nn_align64(scratch);

	fast_layout(in, out, base, &b);
	return b;
}

/* Images n0..n0+g-1 of x ([C][B][H][W], s.c channels) side by side into
 * blocked xb, block cb, channels padded with zeros to a whole block; the
 * border and the columns between the images are zero. */
static void to_blocked(const float *x, int B, int n0, int g, struct nn_shape s,
		       int cb, float *xb)
{
	size_t hw = (size_t)s.h * s.w;
	int wc = nn_conv_group_width(g, s.w), wp = wc + 2;
	int cp = cb == 1 ? 1 : nn_kern_cpad(s.c);
	size_t plane = (size_t)(s.h + 2) * wp * cb;

	for (int j = 0; j < g; j++) {
		size_t col = (size_t)j * (s.w + 1) + 1;

		for (int c = 0; c < cp; c += cb) {
			const float *src = x + ((size_t)c * B + n0 + j) * hw;
			float *dst = xb + (size_t)(c / cb) * plane;

			for (int r = 0; r < s.h; r++) {
				float *d =
					dst + ((size_t)(r + 1) * wp + col) * cb;

				if (cb == 1)
					memcpy(d, src + (size_t)r * s.w,
					       sizeof(float) * s.w);
				else
					nn_kern_gather16(src + (size_t)r * s.w,
							 (size_t)B * hw,
							 MS_MIN(16, s.c - c),
							 (size_t)s.w, d);
				if (j + 1 < g)
					memset(d + (size_t)s.w * cb, 0,
					       sizeof(float) * cb);
			}
		}
	}
	nn_kern_zero_border(xb, cp, s.h, wc, cb);
}

/* The inverse of to_blocked (block 16) for the interior pixels. */
static void from_blocked(const float *yb, struct nn_shape s, int B, int n0,
			 int g, float *y)
{
	size_t hw = (size_t)s.h * s.w;
	int wp = nn_conv_group_width(g, s.w) + 2;
	size_t plane = (size_t)(s.h + 2) * wp * 16;

	for (int j = 0; j < g; j++)
		for (int c = 0; c < s.c; c += 16) {
			const float *src =
				yb + (size_t)(c / 16) * plane +
				((size_t)j * (s.w + 1) + 1 + (size_t)wp) * 16;
			float *dst = y + ((size_t)c * B + n0 + j) * hw;

			for (int r = 0; r < s.h; r++)
				nn_kern_scatter16(
					src + (size_t)r * wp * 16, (size_t)s.w,
					MS_MIN(16, s.c - c), (size_t)B * hw,
					dst + (size_t)r * s.w);
		}
}

void nn_conv_fast_forward(const float *x, float *y, int B, struct nn_shape in,
			  struct nn_shape out, const float *w,
			  const float *bias, float *scratch)
{
	struct fast_buf b = fast_bufs(in, out, scratch);
	int icb = in_block(in), cop = nn_kern_cpad(out.c);
	int cip = icb == 1 ? 1 : nn_kern_cpad(in.c);

	if (nn_conv_amx_ok(in)) {
		nn_conv_amx_forward(x, y, B, in, out, w, bias, scratch);
		return;
	}
	nn_kern_pack3x3(w, in.c, out.c, icb, b.wp);
	memset(b.zero, 0, sizeof(float) * (size_t)(nn_kern_cpad(in.c) + cop));
	if (bias)
		memcpy(b.zero, bias, sizeof(float) * (size_t)out.c);
	for (int n = 0; n < B; n += nn_conv_group_of(in.w)) {
		int g = MS_MIN(nn_conv_group_of(in.w), B - n);
		int wc = nn_conv_group_width(g, in.w);

		to_blocked(x, B, n, g, in, icb, b.xb);
		nn_kern_conv3x3(b.xb, cip, icb, in.h, wc, b.wp, b.zero, cop, 0,
				b.yb);
		from_blocked(b.yb, out, B, n, g, y);
	}
}

/* wt[i][o][8-t] = w[o][i][t]: the weights of the backward-data pass,
 * which is a forward convolution of dy with them. */
static void flip_weights(const float *w, int ci, int co, float *wt)
{
	for (int o = 0; o < co; o++)
		for (int i = 0; i < ci; i++)
			for (int t = 0; t < 9; t++)
				wt[((size_t)i * co + o) * 9 + (8 - t)] =
					w[((size_t)o * ci + i) * 9 + t];
}

/* gw (co, ci, 3, 3) from the packed gradient (inverse of nn_kern_pack3x3). */
static void unpack_grad(const float *gwp, int ci, int co, int icb, float *gw)
{
	size_t cip = icb == 1 ? (size_t)ci : (size_t)nn_kern_cpad(ci);
	size_t nib = cip / (size_t)icb;

	for (int o = 0; o < co; o++)
		for (int i = 0; i < ci; i++)
			for (int t = 0; t < 9; t++) {
				size_t blk = (size_t)(o / 16) * nib +
					     (size_t)(i / icb);

				gw[((size_t)o * ci + i) * 9 + t] =
					gwp[((blk * 9 + (size_t)t) * icb +
					     (size_t)(i % icb)) *
						    16 +
					    (size_t)(o % 16)];
			}
}

void nn_conv_fast_backward(const float *x, const float *dy, float *dx, int B,
			   struct nn_shape in, struct nn_shape out,
			   const float *w, float *gw, float *scratch)
{
	struct fast_buf b = fast_bufs(in, out, scratch);
	int icb = in_block(in), cop = nn_kern_cpad(out.c);
	int cip = icb == 1 ? 1 : nn_kern_cpad(in.c);
	int cpi = nn_kern_cpad(in.c); /* dx's channels, padded */

	if (nn_conv_amx_ok(in)) {
		nn_conv_amx_backward(x, dy, dx, B, in, out, w, gw, scratch);
		return;
	}
	memset(b.gwp, 0, sizeof(float) * (size_t)cip * cop * 9);
	memset(b.zero, 0, sizeof(float) * (size_t)(cpi + cop));
	if (dx) {
		flip_weights(w, in.c, out.c, b.wt);
		nn_kern_pack3x3(b.wt, out.c, in.c, NN_KERN_CB, b.wtp);
	}
	for (int n = 0; n < B; n += nn_conv_group_of(in.w)) {
		int g = MS_MIN(nn_conv_group_of(in.w), B - n);
		int wc = nn_conv_group_width(g, in.w);

		to_blocked(x, B, n, g, in, icb, b.xb);
		to_blocked(dy, B, n, g, out, NN_KERN_CB, b.yb);
		nn_kern_conv3x3_wgrad(b.xb, cip, icb, in.h, wc, b.yb, cop,
				      b.gwp);
		if (!dx)
			continue;
		nn_kern_conv3x3(b.yb, cop, NN_KERN_CB, in.h, wc, b.wtp, b.zero,
				cpi, 0, b.db);
		from_blocked(b.db, in, B, n, g, dx);
	}
	unpack_grad(b.gwp, in.c, out.c, icb, gw);
}
