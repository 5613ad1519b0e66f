/* kernels_interleave.c - channel interleaving between planar
 * [C][B][H][W] activations and the 16-channel blocks of the fp32 kernels
 * (kernels.h, nn_kern_gather16 / nn_kern_scatter16): 16 pixels at a time
 * through a 16 x 16 register transpose, so that both sides are read and
 * written with contiguous vectors rather than one gather or scatter of 16
 * accesses a pixel; the last block takes the n % 16 pixels left. A copy:
 * the same values on every path. */
#include "moodsync/common.h"
#include "nn/kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TGT __attribute__((target("avx512f")))
#define INL static inline __attribute__((always_inline, target("avx512f")))

/* Transposes the 16 x 16 floats of r in place: r[i][j] <- r[j][i]. */
INL void transpose16(__m512 r[16])
{
	__m512 t[16], u[16];

	for (int k = 0; k < 16; k += 2) {
		t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
		t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
	}
	/* u[4k + m], 128-bit lane L: rows 4k..4k+3 of column m + 4L */
	for (int k = 0; k < 16; k += 4) {
		__m512d a = _mm512_castps_pd(t[k]),
			b = _mm512_castps_pd(t[k + 2]);
		__m512d c = _mm512_castps_pd(t[k + 1]);
		__m512d d = _mm512_castps_pd(t[k + 3]);

		u[k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
		u[k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
		u[k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
		u[k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
	}
	for (int m = 0; m < 4; m++) {
		__m512 v0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);
		__m512 w0 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
		__m512 v1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xdd);
		__m512 w1 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xdd);

		r[m] = _mm512_shuffle_f32x4(v0, w0, 0x88);
		r[m + 8] = _mm512_shuffle_f32x4(v0, w0, 0xdd);
		r[m + 4] = _mm512_shuffle_f32x4(v1, w1, 0x88);
		r[m + 12] = _mm512_shuffle_f32x4(v1, w1, 0xdd);
	}
}

TGT void nn_kern_gather16(const float *src, size_t stride, int nch, size_t n,
			  float *dst)
{
	for (size_t p = 0; p < n; p += 16) {
		int np = (int)MS_MIN(16, n - p);
		__mmask16 m = (__mmask16)((1u << np) - 1);
		__m512 r[16];

		for (int j = 0; j < 16; j++)
			r[j] = j < nch ? _mm512_maskz_loadu_ps(
						 m, src + j * stride + p)
				       : _mm512_setzero_ps();
		transpose16(r);
		for (int i = 0; i < np; i++)
			_mm512_storeu_ps(dst + (p + i) * 16, r[i]);
	}
}

TGT void nn_kern_scatter16(const float *src, size_t n, int nch, size_t stride,
			   float *dst)
{
	for (size_t p = 0; p < n; p += 16) {
		int np = (int)MS_MIN(16, n - p);
		__mmask16 m = (__mmask16)((1u << np) - 1);
		__m512 r[16];

		for (int i = 0; i < 16; i++)
			r[i] = i < np ? _mm512_loadu_ps(src + (p + i) * 16)
				      : _mm512_setzero_ps();
		transpose16(r);
		for (int j = 0; j < nch; j++)
			_mm512_mask_storeu_ps(dst + j * stride + p, m, r[j]);
	}
}

#else

/* the plain loops, for builds off x86-64 */
void nn_kern_gather16(const float *src, size_t stride, int nch, size_t n,
		      float *dst)
{
	for (size_t p = 0; p < n; p++)
		for (int j = 0; j < 16; j++)
			dst[p * 16 + j] = j < nch ? src[j * stride + p] : 0.0f;
}

void nn_kern_scatter16(const float *src, size_t n, int nch, size_t stride,
		       float *dst)
{
	for (size_t p = 0; p < n; p++)
		for (int j = 0; j < nch; j++)
			dst[j * stride + p] = src[p * 16 + j];
}

#endif
