/* kernels_int8.c - the int8 3x3 convolution of the inference fast path
 * (kernels.h): activations quantized per tensor to u8 just before each
 * conv (they follow a ReLU, so they are never negative), weights to s8 per
 * output channel at model load, products summed in int32 by AVX-512 VNNI
 * (vpdpbusd: four u8 x s8 products per lane per instruction), then scaled
 * back to fp32 with the bias and ReLU. The tile walk is kernels.h's. */
#include <math.h>
#include <string.h>

#include "moodsync/common.h"
#include "nn/kernels.h"

#define TILE 12 /* output pixels per register tile */

void nn_kern_pack3x3_s8(const float *w, int ci, int co, int8_t *wq,
			float *scale)
{
	size_t cip = (size_t)nn_kern_cpad(ci), cop = (size_t)nn_kern_cpad(co);

	memset(wq, 0, cip * cop * 9);
	for (size_t o = 0; o < cop; o++)
		scale[o] = 1.0f;
	for (int o = 0; o < co; o++) {
		const float *wo = w + (size_t)o * ci * 9;
		float mx = 0;

		for (size_t j = 0; j < (size_t)ci * 9; j++)
			mx = fmaxf(mx, fabsf(wo[j]));
		scale[o] = mx > 0 ? mx / 127.0f : 1.0f;
		for (int i = 0; i < ci; i++)
			for (int t = 0; t < 9; t++) {
				/* [cop/16][cip/16][9][4][16 outputs][4 inputs]
				 */
				size_t blk = (size_t)(o / 16) * (cip / 16) +
					     (size_t)(i / 16);
				size_t dst = (((blk * 9 + (size_t)t) * 4 +
					       (size_t)(i % 16 / 4)) *
						      16 +
					      (size_t)(o % 16)) *
						     4 +
					     (size_t)(i % 4);
				long q = lrintf(wo[i * 9 + t] / scale[o]);

				wq[dst] = (int8_t)MS_MAX(-127, MS_MIN(127, q));
			}
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define INL                                                                    \
	static inline __attribute__((always_inline,                            \
				     target("avx512f,avx512bw,avx512vnni")))

TGT void nn_kern_quant_u8_kb(const float *x, int c, int h, int w, int kb,
			     const float *xmax, uint8_t *xq, float *scale)
{
	size_t plane = (size_t)(h + 2) * (size_t)(w + 2);
	size_t n = (size_t)c * plane;
	__m512 mx = _mm512_setzero_ps(), inv;
	float m;

	if (xmax) {
		m = *xmax;
	} else {
		for (size_t i = 0; i < n; i += 16)
			mx = _mm512_max_ps(mx, _mm512_loadu_ps(x + i));
		m = _mm512_reduce_max_ps(mx);
	}
	*scale = m > 0 ? m / 255.0f : 1.0f;
	inv = _mm512_set1_ps(m > 0 ? 255.0f / m : 0.0f);
	for (int b = 0; b < c / 16; b++) {
		const float *xb = x + (size_t)b * plane * 16;
		uint8_t *qb = xq + (size_t)(b * 16 / kb) * plane * kb +
			      (size_t)(b * 16 % kb);

		for (size_t p = 0; p < plane; p++) {
			__m512i q = _mm512_cvtps_epi32(_mm512_mul_ps(
				_mm512_loadu_ps(xb + p * 16), inv));

			q = _mm512_max_epi32(q, _mm512_setzero_si512());
			_mm_storeu_si128((__m128i *)(qb + p * kb),
					 _mm512_cvtusepi32_epi8(q));
		}
	}
}

/* Where a tile's inputs and outputs are. */
struct s8_args {
	const uint8_t *x; /* input, blocked u8 */
	size_t xblk;	  /* bytes between input channel blocks */
	int nblk;	  /* input channel blocks */
	int wp;		  /* padded row length, pixels */
	const int8_t *w;  /* packed weights of the first output block */
	size_t wblk;	  /* bytes between output blocks in w */
	const float *sc;  /* xscale * wscale, first output block (32) */
	const float *b;	  /* bias of the first output block */
	float *y;	  /* output, first output block */
	size_t yblk;	  /* floats between output blocks in y */
	int relu;
};

INL __m512i bcast4(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return _mm512_set1_epi32(v);
}

/* acc += four u8 x s8 products per int32 lane (vpdpbusd). Written as asm
 * because GCC 12 copies the accumulator around the intrinsic, which with 24
 * live accumulators spills them to the stack. */
INL __m512i dpbusd(__m512i acc, __m512i u8, __m512i s8)
{
	__asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
	return acc;
}

/* Where pixel r of a tile is, in pixels from its first: the next flat
 * position, or with rows of W (W > 0) the next padded row after every W
 * pixels. */
INL size_t tile_pix(const struct s8_args *a, int r, int W)
{
	return W ? (size_t)(r / W) * (size_t)a->wp + (size_t)(r % W)
		 : (size_t)r;
}

/* R output pixels from flat position q for 16 (two = 0) or 32 output
 * channels, in rows of W pixels (0: one flat run); R, two and W are
 * constants after inlining. */
INL void s8_tile_rows(const struct s8_args *a, size_t q, int R, int two, int W)
{
	__m512i acc0[TILE], acc1[TILE];
	__m512 z = _mm512_setzero_ps();

#pragma GCC unroll 12
	for (int r = 0; r < R; r++) {
		acc0[r] = _mm512_setzero_si512();
		acc1[r] = _mm512_setzero_si512();
	}
	for (int cb = 0; cb < a->nblk; cb++) {
		const uint8_t *xb = a->x + (size_t)cb * a->xblk + q * 16;
		const int8_t *wb = a->w + (size_t)cb * 9 * 256;

		for (int t = 0; t < 9; t++) {
			const uint8_t *xt =
				xb + (size_t)((t / 3) * a->wp + t % 3) * 16;
			const int8_t *wt = wb + t * 256;

			for (int g = 0; g < 4; g++) {
				__m512i w0 = _mm512_loadu_si512(wt + g * 64);
				__m512i w1 =
					two ? _mm512_loadu_si512(wt + a->wblk +
								 g * 64)
					    : w0;

#pragma GCC unroll 12
				for (int r = 0; r < R; r++) {
					__m512i v = bcast4(
						xt + tile_pix(a, r, W) * 16 +
						g * 4);

					acc0[r] = dpbusd(acc0[r], v, w0);
					if (two)
						acc1[r] =
							dpbusd(acc1[r], v, w1);
				}
			}
		}
	}
	{
		float *y0 = a->y + (q + (size_t)a->wp + 1) * 16;
		__m512 s0 = _mm512_loadu_ps(a->sc), b0 = _mm512_loadu_ps(a->b);
		__m512 s1 = two ? _mm512_loadu_ps(a->sc + 16) : s0;
		__m512 b1 = two ? _mm512_loadu_ps(a->b + 16) : b0;

#pragma GCC unroll 12
		for (int r = 0; r < R; r++) {
			__m512 f0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc0[r]),
						    s0, b0);
			__m512 f1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc1[r]),
						    s1, b1);

			if (a->relu) {
				f0 = _mm512_max_ps(f0, z);
				f1 = _mm512_max_ps(f1, z);
			}
			_mm512_storeu_ps(y0 + tile_pix(a, r, W) * 16, f0);
			if (two)
				_mm512_storeu_ps(y0 + a->yblk +
							 tile_pix(a, r, W) * 16,
						 f1);
		}
	}
}

INL void s8_tile(const struct s8_args *a, size_t q, int R, int two)
{
	s8_tile_rows(a, q, R, two, 0);
}

/* The small maps: one tile a row of 11, or two rows of 5 (and the last
 * row alone), where the flat walk would also compute the two border
 * pixels of every row and, 5 wide, round 25 pixels up to three tiles of
 * 12. */
TGT static void s8_blocks(const struct s8_args *a, int h, int w, int two)
{
	if (w % 11 == 0 && w <= 22) {
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x += 11) {
				size_t q =
					(size_t)y * (size_t)a->wp + (size_t)x;

				if (two)
					s8_tile_rows(a, q, 11, 1, 0);
				else
					s8_tile_rows(a, q, 11, 0, 0);
			}
	} else if (w == 5) {
		for (int y = 0; y < h; y += 2) {
			size_t q = (size_t)y * (size_t)a->wp;

			if (y + 1 == h && two)
				s8_tile_rows(a, q, 5, 1, 0);
			else if (y + 1 == h)
				s8_tile_rows(a, q, 5, 0, 0);
			else if (two)
				s8_tile_rows(a, q, 10, 1, 5);
			else
				s8_tile_rows(a, q, 10, 0, 5);
		}
	} else {
		NN_KERN_TILE_WALK(s8_tile, a, nn_kern_flat_total(h, w), two,
				  TILE);
	}
}

void nn_kern_conv3x3_s8(const uint8_t *xq, float xscale, int ci, int h, int w,
			const int8_t *wq, const float *wscale,
			const float *bias, int co, int relu, float *y)
{
	struct s8_args a;
	size_t plane = (size_t)(h + 2) * (w + 2);
	float sc[32];

	a.x = xq;
	a.xblk = plane * 16;
	a.nblk = ci / 16;
	a.wp = w + 2;
	a.wblk = (size_t)ci * 9 * 16;
	a.yblk = plane * 16;
	a.relu = relu;
	a.sc = sc;
	for (int ob = 0; ob < co / 16;) {
		int two = ob + 1 < co / 16;

		for (int j = 0; j < (two ? 32 : 16); j++)
			sc[j] = xscale * wscale[ob * 16 + j];
		a.w = wq + (size_t)ob * a.wblk;
		a.b = bias + ob * 16;
		a.y = y + (size_t)ob * a.yblk;
		s8_blocks(&a, h, w, two);
		ob += two ? 2 : 1;
	}
	nn_kern_zero_border(y, co, h, w, 16);
}

#else

/* Never called: nn_kern_level() stays below NN_KERN_INT8 off x86-64. */
void nn_kern_quant_u8_kb(const float *x, int c, int h, int w, int kb,
			 const float *xmax, uint8_t *xq, float *scale)
{
	(void)x, (void)c, (void)h, (void)w, (void)kb, (void)xmax, (void)xq;
	*scale = 1.0f;
}

void nn_kern_conv3x3_s8(const uint8_t *xq, float xscale, int ci, int h, int w,
			const int8_t *wq, const float *wscale,
			const float *bias, int co, int relu, float *y)
{
	(void)xq, (void)xscale, (void)ci, (void)wq, (void)wscale, (void)bias;
	(void)relu;
	nn_kern_zero_border(y, co, h, w, 16);
}

#endif

void nn_kern_quant_u8(const float *x, int c, int h, int w, uint8_t *xq,
		      float *scale)
{
	nn_kern_quant_u8_kb(x, c, h, w, 16, NULL, xq, scale);
}
