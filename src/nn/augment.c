/* augment.c - the trainer's per-face augmentations: a random affine warp
 * with flip and photometric jitter, random erasing, and mixup within a
 * slice. Every random draw comes from the caller's generator, so a run is
 * reproducible for a given seed and thread count. */
#include <math.h>

#include "nn/train_internal.h"

/* Random shift (+-3 px), rotation (+-12 deg), scale (+-10%), flip and
 * brightness/contrast jitter, bilinear with edge clamping. */
void nn_augment_face(const struct nn_arch *a, const uint8_t *src, float *dst,
		     struct nn_rng *r)
{
	float ang = (2 * nn_rng_uniform(r) - 1) * 12.0f * 3.14159265f / 180.0f;
	float sc = 1.0f + (2 * nn_rng_uniform(r) - 1) * 0.10f;
	float tx = (2 * nn_rng_uniform(r) - 1) * 3.0f;
	float ty = (2 * nn_rng_uniform(r) - 1) * 3.0f;
	int flip = nn_rng_uniform(r) < 0.5f;
	float contrast = 1.0f + (2 * nn_rng_uniform(r) - 1) * 0.25f;
	float bright = (2 * nn_rng_uniform(r) - 1) * 25.0f;
	float ca = cosf(ang) / sc, sa = sinf(ang) / sc;
	float co = (a->crop - 1) * 0.5f, cs = (a->side - 1) * 0.5f;
	float nsc = 1.0f / (255.0f * a->norm_std),
	      nsh = -a->norm_mean / a->norm_std;
	int S = a->side;
	float mean = 0;

	for (int i = 0; i < S * S; i++)
		mean += src[i];
	mean /= (float)(S * S);
	for (int y = 0; y < a->crop; y++)
		for (int x = 0; x < a->crop; x++) {
			float u = (flip ? a->crop - 1 - x : x) - co, v = y - co;
			float sx = ca * u - sa * v + cs + tx;
			float sy = sa * u + ca * v + cs + ty;
			int x0 = (int)floorf(sx), y0 = (int)floorf(sy);
			float fx = sx - x0, fy = sy - y0, val;
			int xa = MS_MIN(MS_MAX(x0, 0), S - 1);
			int xb = MS_MIN(MS_MAX(x0 + 1, 0), S - 1);
			int ya = MS_MIN(MS_MAX(y0, 0), S - 1);
			int yb = MS_MIN(MS_MAX(y0 + 1, 0), S - 1);

			val = (1 - fy) * ((1 - fx) * src[ya * S + xa] +
					  fx * src[ya * S + xb]) +
			      fy * ((1 - fx) * src[yb * S + xa] +
				    fx * src[yb * S + xb]);
			val = (val - mean) * contrast + mean + bright;
			val = val < 0 ? 0 : val > 255 ? 255 : val;
			dst[y * a->crop + x] = val * nsc + nsh;
		}
}

/* Random erasing (Zhong et al. 2020): with probability p, one rectangle
 * of 2-40 % of the crop with aspect 0.3-3.3 gets random values of the
 * normalised input's scale. */
void nn_augment_erase(int crop, float p, float *x, struct nn_rng *r)
{
	if (p <= 0 || nn_rng_uniform(r) >= p)
		return;
	for (int attempt = 0; attempt < 10; attempt++) {
		float area = (0.02f + 0.38f * nn_rng_uniform(r)) * crop * crop;
		float ar = expf(logf(0.3f) +
				(logf(3.3f) - logf(0.3f)) * nn_rng_uniform(r));
		int h = (int)lroundf(sqrtf(area * ar));
		int w = (int)lroundf(sqrtf(area / ar));
		int y0, x0;

		if (h < 1 || w < 1 || h >= crop || w >= crop)
			continue;
		y0 = (int)nn_rng_below(r, (uint32_t)(crop - h + 1));
		x0 = (int)nn_rng_below(r, (uint32_t)(crop - w + 1));
		for (int y = y0; y < y0 + h; y++)
			for (int xx = x0; xx < x0 + w; xx++)
				x[y * crop + xx] = nn_rng_normal(r);
		return;
	}
}

/* A Gamma(a, 1) sample (Marsaglia and Tsang; boosted for a < 1). */
static float gamma_sample(float a, struct nn_rng *r)
{
	float boost = 1.0f, d, c;

	if (a < 1.0f) {
		float u = nn_rng_uniform(r);

		boost = powf(u > 1e-12f ? u : 1e-12f, 1.0f / a);
		a += 1.0f;
	}
	d = a - 1.0f / 3.0f;
	c = 1.0f / sqrtf(9.0f * d);
	for (int i = 0; i < 1000; i++) {
		float z = nn_rng_normal(r), v = 1.0f + c * z, u;

		if (v <= 0)
			continue;
		v = v * v * v;
		u = nn_rng_uniform(r);
		if (u < 1e-12f)
			continue;
		if (logf(u) < 0.5f * z * z + d - d * v + d * logf(v))
			return boost * d * v;
	}
	return boost * d;
}

/* Mixup (Zhang et al. 2018) inside one slice: faces j and B-1-j swap a
 * share 1-lam of each other's pixels and targets, lam ~ Beta(a, a) folded
 * to >= 0.5 so every face keeps its own label as the larger part. */
void nn_augment_mixup(float a, int B, size_t px, float *x, float *tg,
		      struct nn_rng *r)
{
	float g1, g2, lam;

	if (a <= 0 || B < 2)
		return;
	g1 = gamma_sample(a, r);
	g2 = gamma_sample(a, r);
	lam = g1 + g2 > 0 ? g1 / (g1 + g2) : 0.5f;
	lam = lam < 0.5f ? 1.0f - lam : lam;
	for (int j = 0; j < B / 2; j++) {
		float *xa = x + (size_t)j * px,
		      *xb = x + (size_t)(B - 1 - j) * px;
		float *ta = tg + (size_t)j * NN_CLASSES;
		float *tb = tg + (size_t)(B - 1 - j) * NN_CLASSES;

		for (size_t i = 0; i < px; i++) {
			float u = xa[i], v = xb[i];

			xa[i] = lam * u + (1 - lam) * v;
			xb[i] = lam * v + (1 - lam) * u;
		}
		for (int c = 0; c < NN_CLASSES; c++) {
			float u = ta[c], v = tb[c];

			ta[c] = lam * u + (1 - lam) * v;
			tb[c] = lam * v + (1 - lam) * u;
		}
	}
}
