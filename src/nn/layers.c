/* layers.c - batched forward and backward kernels of every layer type, on
 * activations laid out [C][B][H][W]. Convolutions are im2col + OpenBLAS
 * sgemm over chunks of images; the rest are plain loops the compiler
 * vectorises. Checked against naive references in tests/unit/test_nn.c. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "nn/kernels.h"
#include "nn/nn_internal.h"

/* Columns per im2col chunk: big enough for an efficient GEMM, small enough
 * that the chunk stays near the caches. */
#define NN_COL_TARGET 4096

static int conv_chunk(int B, struct nn_shape out)
{
	int ohw = out.h * out.w;
	int nb = (NN_COL_TARGET + ohw - 1) / ohw;

	return MS_MAX(1, MS_MIN(nb, B));
}

size_t nn_conv_col_floats(int B, struct nn_shape in, struct nn_shape out, int k)
{
	size_t n = (size_t)in.c * k * k * (size_t)conv_chunk(B, out) * out.h *
		   out.w;

	/* either path may run: the kernel level can change between calls */
	if (k == 3 && in.h == out.h && in.w == out.w)
		n = MS_MAX(n, nn_conv_fast_floats(in, out));
	return n;
}

/* col[(ci*k+ky)*k+kx][j*OH*OW + oy*OW + ox] = x[ci][n0+j][iy][ix]. */
static void im2col(const float *x, int B, struct nn_shape in,
		   struct nn_shape out, int k, int s, int p, int n0, int nb,
		   float *col)
{
	size_t ohw = (size_t)out.h * out.w, N = (size_t)nb * ohw;
	size_t ihw = (size_t)in.h * in.w;

	for (int ci = 0; ci < in.c; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				float *row = col + ((size_t)(ci * k + ky) * k +
						    kx) * N;
				/* valid ox: 0 <= ox*s - p + kx < in.w */
				int lo = 0, hi = out.w;

				while (lo < out.w && lo * s - p + kx < 0)
					lo++;
				while (hi > lo && (hi - 1) * s - p + kx >= in.w)
					hi--;
				for (int j = 0; j < nb; j++) {
					const float *xp =
						x +
						((size_t)ci * B + n0 + j) * ihw;
					float *r = row + j * ohw;

					for (int oy = 0; oy < out.h; oy++) {
						int iy = oy * s - p + ky;
						float *ro =
							r + (size_t)oy * out.w;
						long base;

						if (iy < 0 || iy >= in.h) {
							memset(ro, 0,
							       sizeof(float) *
								       out.w);
							continue;
						}
						base = (long)iy * in.w - p + kx;
						for (int ox = 0; ox < lo; ox++)
							ro[ox] = 0;
						if (s == 1)
							memcpy(ro + lo,
							       xp + base + lo,
							       sizeof(float) *
								       (hi -
									lo));
						else
							for (int ox = lo;
							     ox < hi; ox++)
								ro[ox] = xp
									[base +
									 (long)ox *
										 s];
						for (int ox = hi; ox < out.w;
						     ox++)
							ro[ox] = 0;
					}
				}
			}
}

/* The adjoint of im2col: dx[ci][n0+j][iy][ix] += col[...]. */
static void col2im(const float *col, int B, struct nn_shape in,
		   struct nn_shape out, int k, int s, int p, int n0, int nb,
		   float *dx)
{
	size_t ohw = (size_t)out.h * out.w, N = (size_t)nb * ohw;
	size_t ihw = (size_t)in.h * in.w;

	for (int ci = 0; ci < in.c; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				const float *row =
					col +
					((size_t)(ci * k + ky) * k + kx) * N;
				int lo = 0, hi = out.w;

				while (lo < out.w && lo * s - p + kx < 0)
					lo++;
				while (hi > lo && (hi - 1) * s - p + kx >= in.w)
					hi--;
				for (int j = 0; j < nb; j++) {
					float *xp = dx + ((size_t)ci * B + n0 +
							  j) * ihw;
					const float *r = row + j * ohw;

					for (int oy = 0; oy < out.h; oy++) {
						int iy = oy * s - p + ky;
						const float *ro =
							r + (size_t)oy * out.w;
						long base;

						if (iy < 0 || iy >= in.h)
							continue;
						base = (long)iy * in.w - p + kx;
						for (int ox = lo; ox < hi; ox++)
							xp[base +
							   (long)ox * s] +=
								ro[ox];
					}
				}
			}
}

void nn_conv_forward(const float *x, float *y, int B, struct nn_shape in,
		     struct nn_shape out, int k, int stride, int pad,
		     const float *w, const float *bias, float *col)
{
	int K = in.c * k * k, ohw = out.h * out.w, ldy = B * ohw;
	int nb = conv_chunk(B, out);

	if (nn_conv_fast_ok(in, out, k, stride, pad)) {
		nn_conv_fast_forward(x, y, B, in, out, w, bias, col);
		return;
	}
	for (int n0 = 0; n0 < B; n0 += nb) {
		int m = MS_MIN(nb, B - n0);

		im2col(x, B, in, out, k, stride, pad, n0, m, col);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out.c,
			    m * ohw, K, 1.0f, w, K, col, m * ohw, 0.0f,
			    y + (size_t)n0 * ohw, ldy);
	}
	if (bias)
		for (int c = 0; c < out.c; c++) {
			float *yc = y + (size_t)c * ldy;

			for (int i = 0; i < ldy; i++)
				yc[i] += bias[c];
		}
}

void nn_conv_backward(const float *x, const float *dy, float *dx, int B,
		      struct nn_shape in, struct nn_shape out, int k,
		      int stride, int pad, const float *w, float *gw, float *gb,
		      float *col, float *dcol)
{
	int K = in.c * k * k, ohw = out.h * out.w, ldy = B * ohw;
	int nb = conv_chunk(B, out);

	if (gb)
		for (int c = 0; c < out.c; c++) {
			const float *d = dy + (size_t)c * ldy;
			double sum = 0;

			for (int i = 0; i < ldy; i++)
				sum += d[i];
			gb[c] = (float)sum;
		}
	if (nn_conv_fast_ok(in, out, k, stride, pad)) {
		nn_conv_fast_backward(x, dy, dx, B, in, out, w, gw, col);
		return;
	}
	if (dx)
		memset(dx, 0, sizeof(float) * (size_t)in.c * B * in.h * in.w);
	for (int n0 = 0; n0 < B; n0 += nb) {
		int m = MS_MIN(nb, B - n0);
		const float *dyc = dy + (size_t)n0 * ohw;

		im2col(x, B, in, out, k, stride, pad, n0, m, col);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, out.c, K,
			    m * ohw, 1.0f, dyc, ldy, col, m * ohw,
			    n0 == 0 ? 0.0f : 1.0f, gw, K);
		if (!dx)
			continue;
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, m * ohw,
			    out.c, 1.0f, w, K, dyc, ldy, 0.0f, dcol, m * ohw);
		col2im(dcol, B, in, out, k, stride, pad, n0, m, dx);
	}
}

/* Floats ahead that the first pass over a channel prefetches: its
 * stream starts cold in memory, and the lanes' sums leave time to fetch. */
#define BN_AHEAD 256

/* Sums of n floats in LANES double lanes, each lane in index order, then
 * the lanes in order: vectorisable, and the same on every run. */
#define LANES 8

static double sum_lanes(const double *l)
{
	double s = 0;

	for (int j = 0; j < LANES; j++)
		s += l[j];
	return s;
}

/* *s = sum x, *ss = sum (x - mu)^2 with mu = *s / n. */
static void moments(const float *x, size_t n, double *s, double *ss)
{
	double l[LANES] = {0}, q[LANES] = {0};
	size_t i, nv = n / LANES * LANES;
	float mu;

	for (i = 0; i < nv; i += LANES) {
		__builtin_prefetch(x + i + BN_AHEAD, 0, 3);
		for (int j = 0; j < LANES; j++)
			l[j] += x[i + j];
	}
	for (; i < n; i++)
		l[0] += x[i];
	*s = sum_lanes(l);
	mu = (float)(*s / (double)n);
	for (i = 0; i < nv; i += LANES)
		for (int j = 0; j < LANES; j++) {
			double d = x[i + j] - mu;

			q[j] += d * d;
		}
	for (; i < n; i++) {
		double d = x[i] - mu;

		q[0] += d * d;
	}
	*ss = sum_lanes(q);
}

/* y = x * a + b over one channel, then ReLU when `relu`: batch norm's
 * affine step with its statistics folded into a and b. */
static void affine_relu(const float *x, float *y, size_t n, float a, float b,
			int relu)
{
	if (relu)
		for (size_t i = 0; i < n; i++) {
			float v = x[i] * a + b;

			y[i] = v > 0 ? v : 0;
		}
	else
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] * a + b;
}

void nn_bn_relu_forward_train(const float *x, float *y, int C, size_t n,
			      const float *gamma, const float *beta,
			      float *mean, float *invstd, float *rmean,
			      float *rvar, int relu)
{
	for (int c = 0; c < C; c++) {
		const float *xc = x + (size_t)c * n;
		float *yc = y + (size_t)c * n;
		double s, ss;
		float mu, var, is, a, b;

		moments(xc, n, &s, &ss);
		mu = (float)(s / (double)n);
		var = (float)(ss / (double)n);
		is = 1.0f / sqrtf(var + NN_BN_EPS);
		mean[c] = mu;
		invstd[c] = is;
		a = gamma[c] * is;
		b = beta[c] - mu * a;
		affine_relu(xc, yc, n, a, b, relu);
		if (rmean) {
			float unbiased =
				n > 1 ? (float)(ss / (double)(n - 1)) : var;

			rmean[c] += NN_BN_MOMENTUM * (mu - rmean[c]);
			rvar[c] += NN_BN_MOMENTUM * (unbiased - rvar[c]);
		}
	}
}

void nn_bn_forward_train(const float *x, float *y, int C, size_t n,
			 const float *gamma, const float *beta, float *mean,
			 float *invstd, float *rmean, float *rvar)
{
	nn_bn_relu_forward_train(x, y, C, n, gamma, beta, mean, invstd, rmean,
				 rvar, 0);
}

void nn_bn_relu_forward_eval(const float *x, float *y, int C, size_t n,
			     const float *gamma, const float *beta,
			     const float *rmean, const float *rvar, int relu)
{
	for (int c = 0; c < C; c++) {
		const float *xc = x + (size_t)c * n;
		float *yc = y + (size_t)c * n;
		float a = gamma[c] / sqrtf(rvar[c] + NN_BN_EPS);
		float b = beta[c] - rmean[c] * a;

		affine_relu(xc, yc, n, a, b, relu);
	}
}

void nn_bn_forward_eval(const float *x, float *y, int C, size_t n,
			const float *gamma, const float *beta,
			const float *rmean, const float *rvar)
{
	nn_bn_relu_forward_eval(x, y, C, n, gamma, beta, rmean, rvar, 0);
}

/* One channel of the batch norm backward; with `relu` (a constant after
 * inlining, so both loops vectorise) the gradient reaching the batch norm
 * is dy where y > 0, else 0. */
static inline __attribute__((always_inline)) void
bn_backward_channel(const float *xc, const float *yc, const float *dc,
		    float *dxc, size_t n, float mu, float is, float gamma,
		    float *ggamma, float *gbeta, int relu)
{
	double l[LANES] = {0}, q[LANES] = {0};
	size_t i, nv = n / LANES * LANES;
	float dg, db, k1, k2;

	/* a product, not a branch, so that GCC vectorises the loops */
#define BN_G(k) (relu ? dc[k] * (float)(yc[k] > 0) : dc[k])
	for (i = 0; i < nv; i += LANES) {
		__builtin_prefetch(xc + i + BN_AHEAD, 0, 3);
		__builtin_prefetch(dc + i + BN_AHEAD, 0, 3);
		if (relu)
			__builtin_prefetch(yc + i + BN_AHEAD, 0, 3);
		for (int j = 0; j < LANES; j++) {
			float g = BN_G(i + j);

			l[j] += g;
			q[j] += (double)g * ((xc[i + j] - mu) * is);
		}
	}
	for (; i < n; i++) {
		float g = BN_G(i);

		l[0] += g;
		q[0] += (double)g * ((xc[i] - mu) * is);
	}
	db = (float)sum_lanes(l);
	dg = (float)sum_lanes(q);
	*ggamma = dg;
	*gbeta = db;
	/* dx = gamma*is/n * (n*g - db - xhat*dg) */
	k1 = gamma * is;
	k2 = 1.0f / (float)n;
	for (i = 0; i < n; i++) {
		float xh = (xc[i] - mu) * is;

		dxc[i] = k1 * (BN_G(i) - k2 * (db + xh * dg));
	}
#undef BN_G
}

void nn_bn_relu_backward(const float *x, const float *y, const float *dy,
			 float *dx, int C, size_t n, const float *gamma,
			 const float *mean, const float *invstd, float *ggamma,
			 float *gbeta)
{
	for (int c = 0; c < C; c++) {
		size_t o = (size_t)c * n;

		if (y)
			bn_backward_channel(x + o, y + o, dy + o, dx + o, n,
					    mean[c], invstd[c], gamma[c],
					    &ggamma[c], &gbeta[c], 1);
		else
			bn_backward_channel(x + o, NULL, dy + o, dx + o, n,
					    mean[c], invstd[c], gamma[c],
					    &ggamma[c], &gbeta[c], 0);
	}
}

void nn_bn_backward(const float *x, const float *dy, float *dx, int C, size_t n,
		    const float *gamma, const float *mean, const float *invstd,
		    float *ggamma, float *gbeta)
{
	nn_bn_relu_backward(x, NULL, dy, dx, C, n, gamma, mean, invstd, ggamma,
			    gbeta);
}

void nn_relu_forward(const float *x, float *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : 0;
}

void nn_relu_backward(const float *y, const float *dy, float *dx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dx[i] = y[i] > 0 ? dy[i] : 0;
}

/* The presets' 2x2 stride-2 pooling, branch-free: the same candidates in
 * the same order as the general loop, so the same maxima and indices. */
static void maxpool2_plane(const float *xp, float *yp, int32_t *ip,
			   struct nn_shape in, struct nn_shape out)
{
	for (int oy = 0; oy < out.h; oy++)
		for (int ox = 0; ox < out.w; ox++) {
			int o = 2 * oy * in.w + 2 * ox;
			int cand[4] = {o, o + 1, o + in.w, o + in.w + 1};
			int best = o;
			float bv = xp[o];

			for (int j = 1; j < 4; j++) {
				float v = xp[cand[j]];

				best = v > bv ? cand[j] : best;
				bv = v > bv ? v : bv;
			}
			yp[oy * out.w + ox] = bv;
			if (ip)
				ip[oy * out.w + ox] = best;
		}
}

void nn_maxpool_forward(const float *x, float *y, int32_t *idx, int planes,
			struct nn_shape in, struct nn_shape out, int k,
			int stride)
{
	size_t ihw = (size_t)in.h * in.w, ohw = (size_t)out.h * out.w;

	if (k == 2 && stride == 2 && nn_kern_fast()) {
		nn_kern_maxpool2_planes(x, y, idx, planes, in.h, in.w);
		return;
	}
	for (int p = 0; p < planes && k == 2 && stride == 2; p++)
		maxpool2_plane(x + p * ihw, y + p * ohw,
			       idx ? idx + p * ohw : NULL, in, out);
	for (int p = 0; p < planes && !(k == 2 && stride == 2); p++) {
		const float *xp = x + p * ihw;
		float *yp = y + p * ohw;
		int32_t *ip = idx ? idx + p * ohw : NULL;

		for (int oy = 0; oy < out.h; oy++)
			for (int ox = 0; ox < out.w; ox++) {
				int y0 = oy * stride, x0 = ox * stride;
				int best = y0 * in.w + x0;
				float bv = xp[best];

				for (int ky = 0; ky < k; ky++)
					for (int kx = 0; kx < k; kx++) {
						int o = (y0 + ky) * in.w + x0 +
							kx;

						if (xp[o] > bv) {
							bv = xp[o];
							best = o;
						}
					}
				yp[oy * out.w + ox] = bv;
				if (ip)
					ip[oy * out.w + ox] = best;
			}
	}
}

void nn_maxpool_backward(const float *dy, const int32_t *idx, float *dx,
			 int planes, struct nn_shape in, struct nn_shape out,
			 int k, int stride)
{
	size_t ihw = (size_t)in.h * in.w, ohw = (size_t)out.h * out.w;

	/* windows that do not overlap: no index twice in a plane */
	if (k <= stride && nn_kern_fast()) {
		nn_kern_maxpool2_back(dy, idx, dx, planes, ihw, ohw);
		return;
	}
	memset(dx, 0, sizeof(float) * ihw * planes);
	for (int p = 0; p < planes; p++)
		for (size_t o = 0; o < ohw; o++)
			dx[p * ihw + idx[p * ohw + o]] += dy[p * ohw + o];
}

void nn_gap_forward(const float *x, float *y, int planes, int hw)
{
	for (int p = 0; p < planes; p++) {
		const float *xp = x + (size_t)p * hw;
		float s = 0;

		for (int i = 0; i < hw; i++)
			s += xp[i];
		y[p] = s / (float)hw;
	}
}

void nn_gap_backward(const float *dy, float *dx, int planes, int hw)
{
	for (int p = 0; p < planes; p++) {
		float v = dy[p] / (float)hw;

		for (int i = 0; i < hw; i++)
			dx[(size_t)p * hw + i] = v;
	}
}

/* x [in][B], y [out][B], w (out,in). */
void nn_dense_forward(const float *x, float *y, int B, int in, int out,
		      const float *w, const float *b)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, B, in, 1.0f,
		    w, in, x, B, 0.0f, y, B);
	if (b)
		for (int o = 0; o < out; o++)
			for (int n = 0; n < B; n++)
				y[o * B + n] += b[o];
}

void nn_dense_backward(const float *x, const float *dy, float *dx, int B,
		       int in, int out, const float *w, float *gw, float *gb)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, out, in, B, 1.0f,
		    dy, B, x, B, 0.0f, gw, in);
	if (gb)
		for (int o = 0; o < out; o++) {
			float s = 0;

			for (int n = 0; n < B; n++)
				s += dy[o * B + n];
			gb[o] = s;
		}
	if (dx)
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, B, out,
			    1.0f, w, in, dy, B, 0.0f, dx, B);
}

float nn_softmax_ce(const float *logits, const uint8_t *labels, int B,
		    float smoothing, float *dlogits, int *correct)
{
	double loss = 0;
	int hits = 0;

	for (int n = 0; n < B; n++) {
		float mx = logits[n], p[NN_CLASSES], sum = 0;
		int arg = 0;

		for (int c = 1; c < NN_CLASSES; c++)
			if (logits[c * B + n] > mx) {
				mx = logits[c * B + n];
				arg = c;
			}
		hits += arg == labels[n];
		for (int c = 0; c < NN_CLASSES; c++) {
			p[c] = expf(logits[c * B + n] - mx);
			sum += p[c];
		}
		for (int c = 0; c < NN_CLASSES; c++) {
			float q = smoothing / NN_CLASSES +
				  (c == labels[n] ? 1.0f - smoothing : 0.0f);
			float logp = logits[c * B + n] - mx - logf(sum);

			p[c] /= sum;
			loss -= q * logp;
			if (dlogits)
				dlogits[c * B + n] = (p[c] - q) / (float)B;
		}
	}
	if (correct)
		*correct = hits;
	return (float)(loss / B);
}
