/* kernels_pool.c - the trainer's 2x2 stride-2 max pooling on planar
 * [C][B][H][W] activations with AVX-512 (kernels.h): 16 outputs at a
 * time, the window's four inputs compared in the plain loop's order
 * (layers.c) so that maxima and indices are the same bit for bit; the
 * backward pass scatters dy to the recorded indices. */
#include <string.h>

#include "moodsync/common.h"
#include "nn/kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))
#define INL static inline __attribute__((always_inline, target("avx512f")))

/* The 32 inputs under 16 outputs of a pooling row, split into the left
 * (even) and right (odd) columns of the windows. */
INL void pool_row(const float *r, int n, __m512 *l, __m512 *rt)
{
	__m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
				       22, 24, 26, 28, 30);
	__mmask16 lo = (__mmask16)((1u << MS_MIN(16, 2 * n)) - 1);
	__mmask16 hi = (__mmask16)((1u << MS_MAX(0, 2 * n - 16)) - 1);
	__m512 a = _mm512_maskz_loadu_ps(lo, r);
	__m512 b = _mm512_maskz_loadu_ps(hi, r + 16);

	*l = _mm512_permutex2var_ps(a, ev, b);
	*rt = _mm512_permutex2var_ps(
		a, _mm512_add_epi32(ev, _mm512_set1_epi32(1)), b);
}

TGT void nn_kern_maxpool2_planes(const float *x, float *y, int32_t *idx,
				 int planes, int h, int w)
{
	int oh = h / 2, ow = w / 2;
	__m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
				       22, 24, 26, 28, 30);

	for (size_t p = 0; p < (size_t)planes; p++)
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox += 16) {
				int n = MS_MIN(16, ow - ox),
				    at = 2 * oy * w + 2 * ox;
				const float *r0 = x + p * h * w + at;
				__mmask16 m = (__mmask16)((1u << n) - 1), k;
				__m512 v[4], bv;
				__m512i o = _mm512_add_epi32(
					ev, _mm512_set1_epi32(at));
				__m512i best = o;
				int off[4] = {0, 1, w, w + 1};

				pool_row(r0, n, &v[0], &v[1]);
				pool_row(r0 + w, n, &v[2], &v[3]);
				bv = v[0];
				/* in the window order of the plain loop, the
				 * first maximum wins */
				for (int j = 1; j < 4; j++) {
					k = _mm512_cmp_ps_mask(v[j], bv,
							       _CMP_GT_OQ);
					bv = _mm512_mask_mov_ps(bv, k, v[j]);
					best = _mm512_mask_mov_epi32(
						best, k,
						_mm512_add_epi32(
							o, _mm512_set1_epi32(
								   off[j])));
				}
				_mm512_mask_storeu_ps(
					y + p * oh * ow + (size_t)oy * ow + ox,
					m, bv);
				if (idx)
					_mm512_mask_storeu_epi32(
						idx + p * oh * ow +
							(size_t)oy * ow + ox,
						m, best);
			}
}

TGT void nn_kern_maxpool2_back(const float *dy, const int32_t *idx, float *dx,
			       int planes, size_t ihw, size_t ohw)
{
	/* each plane zeroed just before its scatter, so that both touch it
	 * while it is in the cache */
	for (size_t p = 0; p < (size_t)planes; p++) {
		memset(dx + p * ihw, 0, sizeof(float) * ihw);
		for (size_t o = 0; o < ohw; o += 16) {
			__mmask16 m =
				(__mmask16)((1u << MS_MIN(16, ohw - o)) - 1);
			/* 0 + dy, as the plain loop's sum into zeros */
			__m512 v = _mm512_add_ps(
				_mm512_maskz_loadu_ps(m, dy + p * ohw + o),
				_mm512_setzero_ps());

			_mm512_mask_i32scatter_ps(
				dx + p * ihw, m,
				_mm512_maskz_loadu_epi32(m, idx + p * ohw + o),
				v, 4);
		}
	}
}

#else

void nn_kern_maxpool2_planes(const float *x, float *y, int32_t *idx, int planes,
			     int h, int w)
{
	/* never called: nn_kern_fast() is 0 off x86-64 */
	(void)x, (void)y, (void)idx, (void)planes, (void)h, (void)w;
}

void nn_kern_maxpool2_back(const float *dy, const int32_t *idx, float *dx,
			   int planes, size_t ihw, size_t ohw)
{
	(void)dy, (void)idx, (void)dx, (void)planes, (void)ihw, (void)ohw;
}

#endif
