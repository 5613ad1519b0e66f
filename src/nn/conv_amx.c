/* conv_amx.c - the trainer's 3x3 stride-1 convolutions on AMX bf16 tiles
 * (kernels_amx_train.c) when the level is NN_KERN_AMX and the input has at
 * least 16 channels; conv_fast.c hands them over. As there, groups of
 * images of a [C][B][H][W] batch go side by side through the kernels as
 * one wide image, in order, so every sum runs in the same order on every
 * run. Weights stay fp32 masters; they are rounded to bf16 when packed at
 * each call, activations and gradients when copied into a group. */
#include <string.h>

#include "nn/kernels.h"
#include "nn/nn_internal.h"

/* Where the scratch goes; every piece starts on a 64-byte line. */
struct amx_buf {
	uint16_t *wa;  /* packed weights (forward or flipped) */
	float *ga;     /* gradient blocks */
	uint16_t *xp;  /* group input: pair planes (forward), planes (wgrad) */
	uint16_t *dp;  /* group output gradient: pair planes */
	uint16_t *dt;  /* ... bf16 planes */
	uint16_t *dpp; /* ... pixel pairs */
	float *y;      /* fp32 planes: output or input gradient */
};

static size_t amx_layout(struct nn_shape in, struct nn_shape out, float *base,
			 struct amx_buf *b)
{
	size_t ci = (size_t)nn_kern_c32(in.c), co = (size_t)nn_kern_c32(out.c);
	int wc = nn_conv_group_width(nn_conv_group_of(in.w), in.w);
	size_t len = nn_kern_amx_len(in.h, wc), cm = MS_MAX(ci, co);
	/* sizes in floats; bf16 pieces count half */
	size_t parts[] = {nn_up16(ci * co * 9 / 2),
			  nn_up16(ci * co * 9),
			  nn_up16(ci * len / 2),
			  nn_up16(co * len / 2),
			  nn_up16(co * len / 2),
			  nn_up16(co * nn_kern_amx_pairs_len(in.h, wc)),
			  nn_up16(cm * len)};
	void *at[MS_ARRAY_LEN(parts)];
	size_t off = 0;

	for (size_t i = 0; i < MS_ARRAY_LEN(parts); i++) {
		at[i] = base ? base + off : NULL;
		off += parts[i];
	}
	b->wa = at[0], b->ga = at[1], b->xp = at[2], b->dp = at[3];
	b->dt = at[4], b->dpp = at[5], b->y = at[6];
	return off + 16;
}

int nn_conv_amx_ok(struct nn_shape in)
{
	return in.c >= 16 && nn_kern_level() >= NN_KERN_AMX;
}

size_t nn_conv_amx_floats(struct nn_shape in, struct nn_shape out)
{
	struct amx_buf b;

	return amx_layout(in, out, NULL, &b);
}

static struct amx_buf amx_bufs(struct nn_shape in, struct nn_shape out,
			       float *scratch)
{
	struct amx_buf b;
	float *base = nn_align64(scratch);

	amx_layout(in, out, base, &b);
	return b;
}

void nn_conv_amx_forward(const float *x, float *y, int B, struct nn_shape in,
			 struct nn_shape out, const float *w, const float *bias,
			 float *scratch)
{
	struct amx_buf b = amx_bufs(in, out, scratch);
	size_t hw = (size_t)in.h * in.w, cs = (size_t)B * hw;
	int gmax = nn_conv_group_of(in.w);

	nn_kern_amx_pack(w, in.c, out.c, b.wa);
	nn_kern_amx_config(8, 16, 64);
	for (int n = 0; n < B; n += gmax) {
		int g = MS_MIN(gmax, B - n), wc = nn_conv_group_width(g, in.w);

		nn_kern_amx_to_pairs(x + (size_t)n * hw, cs, in.c, g, in.h,
				     in.w, b.xp);
		nn_kern_amx_conv3x3(b.xp, nn_kern_c32(in.c), in.h, wc, b.wa,
				    nn_kern_c32(out.c), b.y);
		nn_kern_amx_from_planes(b.y, out.c, g, in.h, in.w, bias, cs,
					y + (size_t)n * hw);
	}
	nn_kern_amx_release();
}

void nn_conv_amx_backward(const float *x, const float *dy, float *dx, int B,
			  struct nn_shape in, struct nn_shape out,
			  const float *w, float *gw, float *scratch)
{
	struct amx_buf b = amx_bufs(in, out, scratch);
	size_t hw = (size_t)in.h * in.w, cs = (size_t)B * hw;
	int gmax = nn_conv_group_of(in.w);
	int ci = nn_kern_c32(in.c), co = nn_kern_c32(out.c);

	if (dx)
		nn_kern_amx_pack_flipped(w, in.c, out.c, b.wa);
	nn_kern_amx_config(8, 16, 64);
	for (int n = 0; n < B; n += gmax) {
		int g = MS_MIN(gmax, B - n), wc = nn_conv_group_width(g, in.w);
		size_t at = (size_t)n * hw;

		nn_kern_amx_to_planes(x + at, cs, in.c, g, in.h, in.w, b.xp);
		nn_kern_amx_to_planes(dy + at, cs, out.c, g, in.h, in.w, b.dt);
		nn_kern_amx_pixel_pairs(b.dt, out.c, in.h, wc, b.dpp);
		nn_kern_amx_wgrad(b.xp, ci, in.h, wc, b.dpp, co, n == 0, b.ga);
		if (!dx)
			continue;
		nn_kern_amx_planes_to_pairs(b.dt, out.c, in.h, wc, b.dp);
		nn_kern_amx_conv3x3(b.dp, co, in.h, wc, b.wa, ci, b.y);
		nn_kern_amx_from_planes(b.y, in.c, g, in.h, in.w, NULL, cs,
					dx + at);
	}
	nn_kern_amx_release();
	nn_kern_amx_unpack_grad(b.ga, in.c, out.c, gw);
}
