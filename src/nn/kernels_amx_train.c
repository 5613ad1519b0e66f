/* kernels_amx_train.c - the trainer's 3x3 convolutions (stride 1, pad 1) as
 * implicit GEMMs on AMX bf16 tiles (kernels.h, level NN_KERN_AMX): inputs
 * rounded to bf16 (nearest even) while they are copied into the layouts
 * below, products summed in fp32 by tdpbf16ps, results and gradients fp32.
 *
 * A group of images side by side is one wide padded image, walked as one
 * flat row of `len` pixels per channel (nn_kern_amx_len): output pixel
 * q + wp + 1 reads input q + ky*wp + kx, so one tap is an address shift.
 *  - Forward (and backward data, with flipped weights): C[16 co][16 px]
 *    += A[16 co][32 ci] x B[32 ci][16 px]; A is a packed weight tile, B
 *    one load from the "pair planes" [C/2][len][2] (two channels
 *    interleaved per pixel) at the tap's shift; C is stored straight into
 *    fp32 planes [C][len], whose interior rows are then copied out.
 *  - Weight gradient: C[16 ci][16 co] += A[16 ci][32 px] x B[32 px][16 co];
 *    A from bf16 planes [C][len] at the tap's shift, B from "pixel pairs"
 *    [C/16][npairs][16][2] of dy, the same for every tap; C is the fp32
 *    gradient block of (tap, ci block, co block), zero for the first
 *    group, then loaded, summed into over all pixels and stored back.
 * The input gradient's pair planes and pixel pairs are both made from
 * dy's bf16 planes, so dy is read and rounded once.
 * Channel counts are padded to 32 (padding zero) so every step is 2 x 2
 * tiles. Each tile sum runs in a fixed order, so results depend only on
 * the inputs, never on timing. */
#include <string.h>

#include "moodsync/common.h"
#include "nn/kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NN_AMX_X86 1
#endif

static size_t up32(size_t n)
{
	return (n + 31) & ~(size_t)31;
}

/* Output chunks of 32 pixels cover the flat range; the last chunk and
 * the taps read past it, into the zero tail of each plane. */
static size_t amx_chunks(int h, int w)
{
	return (nn_kern_flat_total(h, w) + 31) / 32;
}

size_t nn_kern_amx_len(int h, int w)
{
	return up32(amx_chunks(h, w) * 32 + 2 * (size_t)(w + 2) + 2);
}

size_t nn_kern_amx_pairs_len(int h, int w)
{
	return amx_chunks(h, w) * 16;
}

/* Nearest even, denormals to zero, as VCVTNEPS2BF16 rounds. */
float nn_kern_bf16_round(float f)
{
	uint32_t u;
	float r;

	memcpy(&u, &f, sizeof(u));
	if ((u & 0x7f800000u) == 0)
		u &= 0x80000000u;
	else
		u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
	memcpy(&r, &u, sizeof(r));
	return r;
}

#ifdef NN_AMX_X86

#define AVX_TGT __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define AMX_TGT __attribute__((target("amx-tile,amx-bf16,avx512f")))

/* The lanes of the first min(n, 16) floats of a row's last vector. */
static inline __mmask16 lanes16(int n)
{
	return (__mmask16)((1u << MS_MIN(16, n)) - 1);
}

/* Packs the weights of a convolution with `nr` outputs (tile rows) and
 * `nc` inputs (tile columns): weight (r, c, t) is at w + r*rs + c*cs + t,
 * or + 8 - t when `flip`. */
AVX_TGT static void pack_rows(const float *w, int nr, int nc, size_t rs,
			      size_t cs, int flip, uint16_t *wa)
{
	int ncb = nn_kern_c32(nc) / 32;
	__m512i idx =
		_mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8,
						     9, 10, 11, 12, 13, 14, 15),
				   _mm512_set1_epi32((int)cs));

	if (nr % 16 || nc % 32)
		memset(wa, 0,
		       sizeof(uint16_t) * (size_t)nn_kern_c32(nr) * ncb * 32 *
			       9);
	for (int r = 0; r < nr; r++)
		for (int c = 0; c < nc; c += 16) {
			__mmask16 m = lanes16(nc - c);
			const float *src = w + (size_t)r * rs + (size_t)c * cs;
			uint16_t *dst =
				wa +
				((size_t)(r / 16) * ncb + c / 32) * 9 * 512 +
				(size_t)(r % 16) * 32 + (size_t)(c % 32);

			for (int t = 0; t < 9; t++) {
				__m512 v = _mm512_mask_i32gather_ps(
					_mm512_setzero_ps(), m, idx,
					src + (flip ? 8 - t : t), 4);

				_mm256_mask_storeu_epi16(
					dst + (size_t)t * 512, m,
					(__m256i)_mm512_cvtneps_pbh(v));
			}
		}
}

void nn_kern_amx_pack(const float *w, int ci, int co, uint16_t *wa)
{
	pack_rows(w, co, ci, (size_t)ci * 9, 9, 0, wa);
}

void nn_kern_amx_pack_flipped(const float *w, int ci, int co, uint16_t *wa)
{
	pack_rows(w, ci, co, 9, (size_t)ci * 9, 1, wa);
}

AVX_TGT void nn_kern_amx_unpack_grad(const float *ga, int ci, int co, float *gw)
{
	size_t nib = (size_t)nn_kern_c32(ci) / 16;
	__m512i idx =
		_mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8,
						     0, 0, 0, 0, 0, 0, 0),
				   _mm512_set1_epi32(256));

	for (int o = 0; o < co; o++)
		for (int i = 0; i < ci; i++) {
			const float *src =
				ga +
				((size_t)(o / 16) * nib + (size_t)(i / 16)) *
					9 * 256 +
				(size_t)(i % 16) * 16 + (size_t)(o % 16);

			_mm512_mask_storeu_ps(
				gw + ((size_t)o * ci + i) * 9, 0x1ff,
				_mm512_mask_i32gather_ps(_mm512_setzero_ps(),
							 0x1ff, idx, src, 4));
		}
}

/* The copies below walk one channel's g images (a few KiB, contiguous)
 * and then jump cs floats to the next channel, too short a stream for the
 * hardware prefetcher to follow: each prefetches the same place of the
 * channel(s) it copies next (a prefetch never faults, nor changes a
 * value). */

/* Zeroes what the copies into a plane of g images of h x w leave: the
 * border, the columns between the images and the tail; `e` bf16 values a
 * pixel. */
static void zero_gaps(uint16_t *plane, int g, int h, int w, size_t len, int e)
{
	size_t wp = (size_t)g * (w + 1) + 1;

	memset(plane, 0, sizeof(uint16_t) * e * wp);
	for (int r = 1; r <= h; r++)
		for (int j = 0; j <= g; j++) {
			uint16_t *p =
				plane + (r * wp + (size_t)j * (w + 1)) * e;

			p[0] = 0;
			p[e - 1] = 0;
		}
	memset(plane + (h + 1) * wp * e, 0,
	       sizeof(uint16_t) * e * (len - (h + 1) * wp));
}

AVX_TGT void nn_kern_amx_from_planes(const float *y, int c, int g, int h, int w,
				     const float *bias, size_t cs, float *dst)
{
	int wp = g * (w + 1) + 1;
	size_t len = nn_kern_amx_len(h, wp - 2), hw = (size_t)h * w;

	for (int ch = 0; ch < c; ch++) {
		__m512 b = _mm512_set1_ps(bias ? bias[ch] : 0.0f);

		for (int j = 0; j < g; j++)
			for (int r = 0; r < h; r++) {
				const float *s = y + (size_t)ch * len +
						 (size_t)(r + 1) * wp +
						 (size_t)j * (w + 1) + 1;
				float *d = dst + (size_t)ch * cs +
					   (size_t)j * hw + (size_t)r * w;

				for (int k = 0; k < w; k += 16) {
					__mmask16 m = lanes16(w - k);

					if (ch + 1 < c)
						__builtin_prefetch(d + cs + k,
								   1, 3);
					_mm512_mask_storeu_ps(
						d + k, m,
						_mm512_add_ps(
							_mm512_maskz_loadu_ps(
								m, s + k),
							b));
				}
			}
	}
}

AVX_TGT void nn_kern_amx_to_pairs(const float *x, size_t cs, int c, int g,
				  int h, int w, uint16_t *dst)
{
	int wp = g * (w + 1) + 1, cp = nn_kern_c32(c);
	size_t len = nn_kern_amx_len(h, wp - 2), hw = (size_t)h * w;
	/* lane 2i <- i (first channel), 2i + 1 <- 16 + i (second) */
	__m512i inter = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11,
					 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21,
					 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);

	for (int ch = 0; ch < c; ch += 2)
		zero_gaps(dst + (size_t)ch * len, g, h, w, len, 2);
	memset(dst + (size_t)(c + 1) / 2 * 2 * len, 0,
	       sizeof(uint16_t) * (size_t)(cp - (c + 1) / 2 * 2) * len);
	for (int ch = 0; ch < c; ch += 2)
		for (int j = 0; j < g; j++)
			for (int r = 0; r < h; r++) {
				const float *a = x + (size_t)ch * cs +
						 (size_t)j * hw + (size_t)r * w;
				uint16_t *d = dst + (size_t)ch * len +
					      ((size_t)(r + 1) * wp +
					       (size_t)j * (w + 1) + 1) *
						      2;

				for (int k = 0; k < w; k += 16) {
					int n = MS_MIN(16, w - k);
					__mmask16 m = lanes16(n);
					__mmask32 m2 =
						(__mmask32)((1ull << (2 * n)) -
							    1);
					__m512 va;

					if (ch + 2 < c)
						__builtin_prefetch(
							a + 2 * cs + k, 0, 3);
					if (ch + 3 < c)
						__builtin_prefetch(
							a + 3 * cs + k, 0, 3);
					va = _mm512_maskz_loadu_ps(m, a + k);
					__m512 vb =
						ch + 1 < c
							? _mm512_maskz_loadu_ps(
								  m, a + cs + k)
							: _mm512_setzero_ps();
					__m512i v =
						(__m512i)_mm512_cvtne2ps_pbh(
							vb, va);

					v = _mm512_permutexvar_epi16(inter, v);
					_mm512_mask_storeu_epi16(d + 2 * k, m2,
								 v);
				}
			}
}

AVX_TGT void nn_kern_amx_to_planes(const float *x, size_t cs, int c, int g,
				   int h, int w, uint16_t *dst)
{
	int wp = g * (w + 1) + 1, cp = nn_kern_c32(c);
	size_t len = nn_kern_amx_len(h, wp - 2), hw = (size_t)h * w;

	for (int ch = 0; ch < c; ch++)
		zero_gaps(dst + (size_t)ch * len, g, h, w, len, 1);
	memset(dst + (size_t)c * len, 0,
	       sizeof(uint16_t) * (size_t)(cp - c) * len);
	for (int ch = 0; ch < c; ch++)
		for (int j = 0; j < g; j++)
			for (int r = 0; r < h; r++) {
				const float *a = x + (size_t)ch * cs +
						 (size_t)j * hw + (size_t)r * w;
				uint16_t *d = dst + (size_t)ch * len +
					      (size_t)(r + 1) * wp +
					      (size_t)j * (w + 1) + 1;

				for (int k = 0; k < w; k += 16) {
					__mmask16 m = lanes16(w - k);
					__m256i v;

					if (ch + 1 < c)
						__builtin_prefetch(a + cs + k,
								   0, 3);
					v = (__m256i)_mm512_cvtneps_pbh(
						_mm512_maskz_loadu_ps(m,
								      a + k));

					_mm256_mask_storeu_epi16(d + k, m, v);
				}
			}
}

AVX_TGT void nn_kern_amx_planes_to_pairs(const uint16_t *planes, int c, int h,
					 int w, uint16_t *dst)
{
	size_t len = nn_kern_amx_len(h, w);
	/* lane 2i <- a[i], 2i + 1 <- b[i]; from element 16 on for hi */
	__m512i lo = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11,
				      42, 10, 41, 9, 40, 8, 39, 7, 38, 6, 37, 5,
				      36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
	__m512i hi = _mm512_add_epi16(lo, _mm512_set1_epi16(16));

	for (int ch = 0; ch < nn_kern_c32(c); ch += 2) {
		const uint16_t *a = planes + (size_t)ch * len, *b = a + len;
		uint16_t *d = dst + (size_t)ch * len;

		for (size_t k = 0; k < len; k += 32) {
			__m512i va = _mm512_loadu_si512(a + k);
			__m512i vb = _mm512_loadu_si512(b + k);

			_mm512_storeu_si512(
				d + 2 * k,
				_mm512_permutex2var_epi16(va, lo, vb));
			_mm512_storeu_si512(
				d + 2 * k + 32,
				_mm512_permutex2var_epi16(va, hi, vb));
		}
	}
}

AVX_TGT void nn_kern_amx_pixel_pairs(const uint16_t *planes, int c, int h,
				     int w, uint16_t *dst)
{
	size_t len = nn_kern_amx_len(h, w), np = nn_kern_amx_pairs_len(h, w);
	__m512i idx = _mm512_mullo_epi32(
		_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
				  14, 15),
		_mm512_set1_epi32((int)(len * sizeof(uint16_t))));

	/* pair k of block b: pixels 2k, 2k + 1 of the flat output range,
	 * i.e. plane pixels 2k + wp + 1 and the next, of 16 channels */
	for (int b = 0; b < nn_kern_c32(c) / 16; b++) {
		const uint16_t *src = planes + (size_t)b * 16 * len + w + 3;

		for (size_t k = 0; k < np; k++)
			_mm512_storeu_si512(
				dst + ((size_t)b * np + k) * 32,
				_mm512_i32gather_epi32(idx, src + 2 * k, 1));
	}
}

/* Forward: 16 x 16 tiles; 0-3 sums, 4-5 weights, 6-7 inputs. */
AMX_TGT void nn_kern_amx_conv3x3(const uint16_t *xp, int ci, int h, int w,
				 const uint16_t *wa, int co, float *y)
{
	size_t len = nn_kern_amx_len(h, w), nq = amx_chunks(h, w) * 32;
	size_t ys = len * sizeof(float), xs = len * 2 * sizeof(uint16_t);
	int nib = ci / 32, wp = w + 2;

	for (int ob = 0; ob < co / 16; ob += 2) {
		const uint16_t *a0 = wa + (size_t)ob * nib * 9 * 512;
		const uint16_t *a1 = a0 + (size_t)nib * 9 * 512;
		float *y0 = y + (size_t)ob * 16 * len + wp + 1;
		float *y1 = y0 + 16 * len;

		for (size_t q = 0; q < nq; q += 32) {
			_tile_zero(0);
			_tile_zero(1);
			_tile_zero(2);
			_tile_zero(3);
			for (int ib = 0; ib < nib; ib++)
				for (int t = 0; t < 9; t++) {
					size_t at = ((size_t)ib * 9 + t) * 512;
					const uint16_t *b =
						xp + (size_t)ib * 32 * len +
						(q + (size_t)((t / 3) * wp +
							      t % 3)) *
							2;

					_tile_loadd(4, a0 + at, 64);
					_tile_loadd(5, a1 + at, 64);
					_tile_loadd(6, b, xs);
					_tile_loadd(7, b + 32, xs);
					_tile_dpbf16ps(0, 4, 6);
					_tile_dpbf16ps(1, 4, 7);
					_tile_dpbf16ps(2, 5, 6);
					_tile_dpbf16ps(3, 5, 7);
				}
			_tile_stored(0, y0 + q, ys);
			_tile_stored(1, y0 + q + 16, ys);
			_tile_stored(2, y1 + q, ys);
			_tile_stored(3, y1 + q + 16, ys);
		}
	}
}

/* Weight gradient: tiles 0-3 sums, 4-5 inputs, 6-7 output gradients. */
AMX_TGT void nn_kern_amx_wgrad(const uint16_t *xt, int ci, int h, int w,
			       const uint16_t *dyp, int co, int first,
			       float *ga)
{
	size_t len = nn_kern_amx_len(h, w), np = nn_kern_amx_pairs_len(h, w);
	size_t xs = len * sizeof(uint16_t);
	int nib = ci / 16, wp = w + 2;

	for (int ob = 0; ob < co / 16; ob += 2)
		for (int ib = 0; ib < nib; ib += 2)
			for (int t = 0; t < 9; t++) {
				float *c00 = ga + (((size_t)ob * nib + ib) * 9 +
						   t) * 256;
				float *c01 = c00 + (size_t)nib * 9 * 256;
				float *c10 = c00 + 9 * 256;
				float *c11 = c01 + 9 * 256;
				const uint16_t *a =
					xt + (size_t)ib * 16 * len +
					(size_t)((t / 3) * wp + t % 3);
				const uint16_t *b = dyp + (size_t)ob * np * 32;

				if (first) {
					_tile_zero(0);
					_tile_zero(1);
					_tile_zero(2);
					_tile_zero(3);
				} else {
					_tile_loadd(0, c00, 64);
					_tile_loadd(1, c01, 64);
					_tile_loadd(2, c10, 64);
					_tile_loadd(3, c11, 64);
				}
				for (size_t k = 0; k < np; k += 16) {
					_tile_loadd(4, a + 2 * k, xs);
					_tile_loadd(5, a + 16 * len + 2 * k,
						    xs);
					_tile_loadd(6, b + k * 32, 64);
					_tile_loadd(7, b + (np + k) * 32, 64);
					_tile_dpbf16ps(0, 4, 6);
					_tile_dpbf16ps(1, 4, 7);
					_tile_dpbf16ps(2, 5, 6);
					_tile_dpbf16ps(3, 5, 7);
				}
				_tile_stored(0, c00, 64);
				_tile_stored(1, c01, 64);
				_tile_stored(2, c10, 64);
				_tile_stored(3, c11, 64);
			}
}

#else

/* never called: the level stays below NN_KERN_AMX off x86-64 */
void nn_kern_amx_pack(const float *w, int ci, int co, uint16_t *wa)
{
	(void)w, (void)ci, (void)co, (void)wa;
}

void nn_kern_amx_pack_flipped(const float *w, int ci, int co, uint16_t *wa)
{
	(void)w, (void)ci, (void)co, (void)wa;
}

void nn_kern_amx_unpack_grad(const float *ga, int ci, int co, float *gw)
{
	(void)ga, (void)ci, (void)co, (void)gw;
}

void nn_kern_amx_from_planes(const float *y, int c, int g, int h, int w,
			     const float *bias, size_t cs, float *dst)
{
	(void)y, (void)c, (void)g, (void)h, (void)w, (void)bias, (void)cs;
	(void)dst;
}

void nn_kern_amx_to_pairs(const float *x, size_t cs, int c, int g, int h, int w,
			  uint16_t *dst)
{
	(void)x, (void)cs, (void)c, (void)g, (void)h, (void)w, (void)dst;
}

void nn_kern_amx_to_planes(const float *x, size_t cs, int c, int g, int h,
			   int w, uint16_t *dst)
{
	(void)x, (void)cs, (void)c, (void)g, (void)h, (void)w, (void)dst;
}

void nn_kern_amx_pixel_pairs(const uint16_t *planes, int c, int h, int w,
			     uint16_t *dst)
{
	(void)planes, (void)c, (void)h, (void)w, (void)dst;
}

void nn_kern_amx_planes_to_pairs(const uint16_t *planes, int c, int h, int w,
				 uint16_t *dst)
{
	(void)planes, (void)c, (void)h, (void)w, (void)dst;
}

void nn_kern_amx_conv3x3(const uint16_t *xp, int ci, int h, int w,
			 const uint16_t *wa, int co, float *y)
{
	(void)xp, (void)ci, (void)h, (void)w, (void)wa, (void)co, (void)y;
}

void nn_kern_amx_wgrad(const uint16_t *xt, int ci, int h, int w,
		       const uint16_t *dyp, int co, int first, float *ga)
{
	(void)xt, (void)ci, (void)h, (void)w, (void)dyp, (void)co, (void)ga;
	(void)first;
}

#endif
