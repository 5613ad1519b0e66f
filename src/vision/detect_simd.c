/* detect_simd.c - AVX2 evaluation of eight neighbouring windows of one
 * row at once, for all-stump cascades. Lanes run the stages in lock-step
 * until none is alive (measured: cheaper than finishing stragglers one by
 * one, even with a single live lane). Every operation is the scalar one per
 * lane (same float rounding, same order; AVX2 has no implicit fusing), so the
 * results are bit-identical to the scalar path and to OpenCV. Windows
 * step 2 pixels below scale 2: there the tables are split into even and
 * odd columns (see vis_deinterleave) so that lanes stay contiguous. */
#include <stdint.h>

#include "vision/detect_internal.h"

#ifdef __AVX2__
#include <immintrin.h>

static inline __m256i box8(const uint32_t *p, const int32_t o[4])
{
	__m256i a = _mm256_loadu_si256((const __m256i *)(p + o[0]));
	__m256i b = _mm256_loadu_si256((const __m256i *)(p + o[1]));
	__m256i c = _mm256_loadu_si256((const __m256i *)(p + o[2]));
	__m256i d = _mm256_loadu_si256((const __m256i *)(p + o[3]));

	return _mm256_add_epi32(_mm256_sub_epi32(_mm256_sub_epi32(a, b), c), d);
}

/* The variance normalisation of eight windows: their 1/(stddev x area)
 * factors in *vnf, and the mask of the lanes OpenCV evaluates (a
 * positive variance whose factor keeps area x factor below 0.1). */
static inline unsigned norm8(const struct vis_detector *d, const uint32_t *p,
			     const uint32_t *q, const int32_t nofs[4],
			     __m256 *vnf)
{
	__m256i vs = box8(p, nofs), vq = box8(q, nofs);
	__m256d area = _mm256_set1_pd(d->area), one = _mm256_set1_pd(1.0);
	__m256d s_lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(vs));
	__m256d s_hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(vs, 1));
	/* the variance rect's sum of squares is < 2^31: signed is exact */
	__m256d q_lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(vq));
	__m256d q_hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(vq, 1));
	__m256d nf_lo = _mm256_sub_pd(_mm256_mul_pd(area, q_lo),
				      _mm256_mul_pd(s_lo, s_lo));
	__m256d nf_hi = _mm256_sub_pd(_mm256_mul_pd(area, q_hi),
				      _mm256_mul_pd(s_hi, s_hi));
	__m128 f_lo =
		_mm256_cvtpd_ps(_mm256_div_pd(one, _mm256_sqrt_pd(nf_lo)));
	__m128 f_hi =
		_mm256_cvtpd_ps(_mm256_div_pd(one, _mm256_sqrt_pd(nf_hi)));
	__m256d tenth = _mm256_set1_pd(1e-1), zero = _mm256_setzero_pd();
	int ok_lo = _mm256_movemask_pd(_mm256_and_pd(
		_mm256_cmp_pd(nf_lo, zero, _CMP_GT_OQ),
		_mm256_cmp_pd(_mm256_mul_pd(area, _mm256_cvtps_pd(f_lo)), tenth,
			      _CMP_LT_OQ)));
	int ok_hi = _mm256_movemask_pd(_mm256_and_pd(
		_mm256_cmp_pd(nf_hi, zero, _CMP_GT_OQ),
		_mm256_cmp_pd(_mm256_mul_pd(area, _mm256_cvtps_pd(f_hi)), tenth,
			      _CMP_LT_OQ)));

	*vnf = _mm256_set_m128(f_hi, f_lo);
	return (unsigned)(ok_lo | ok_hi << 4);
}

int vis_eval_block(const struct vis_detector *d, const uint32_t *ts,
		   const uint32_t *tq, const struct vis_stump *stumps,
		   const int32_t nofs[4], size_t base, int nlanes, int *res,
		   int *skip)
{
	const struct vis_cascade *c = d->c;
	const uint32_t *p = ts + base;
	__m256 vnf;
	unsigned alive =
		norm8(d, p, tq + base, nofs, &vnf) & ((1u << nlanes) - 1);
	const struct vis_stump *st = stumps;
	int stage0_done = 0;

	for (int k = 0; k < nlanes; k++)
		res[k] = -1;
	for (int si = 0; si < c->nstages && alive; si++) {
		const struct vis_stump *end = st + c->stages[si].ntrees;
		__m256d t_lo = _mm256_setzero_pd(), t_hi = _mm256_setzero_pd();
		__m256d thr;
		unsigned rej;

		for (; st < end; st++) {
			__m256 v = _mm256_add_ps(
				_mm256_mul_ps(_mm256_set1_ps(st->w[0]),
					      _mm256_cvtepi32_ps(
						      box8(p, st->ofs[0]))),
				_mm256_mul_ps(_mm256_set1_ps(st->w[1]),
					      _mm256_cvtepi32_ps(
						      box8(p, st->ofs[1]))));
			__m256 leaf;

			if (st->w[2] != 0.0f)
				v = _mm256_add_ps(
					v,
					_mm256_mul_ps(_mm256_set1_ps(st->w[2]),
						      _mm256_cvtepi32_ps(box8(
							      p, st->ofs[2]))));
			v = _mm256_mul_ps(v, vnf);
			leaf = _mm256_blendv_ps(
				_mm256_set1_ps(st->right),
				_mm256_set1_ps(st->left),
				_mm256_cmp_ps(v, _mm256_set1_ps(st->thr),
					      _CMP_LT_OQ));
			t_lo = _mm256_add_pd(
				t_lo,
				_mm256_cvtps_pd(_mm256_castps256_ps128(leaf)));
			t_hi = _mm256_add_pd(
				t_hi, _mm256_cvtps_pd(
					      _mm256_extractf128_ps(leaf, 1)));
		}
		thr = _mm256_set1_pd((double)c->stages[si].threshold);
		rej = (unsigned)(_mm256_movemask_pd(
					 _mm256_cmp_pd(t_lo, thr, _CMP_LT_OQ)) |
				 _mm256_movemask_pd(
					 _mm256_cmp_pd(t_hi, thr, _CMP_LT_OQ))
					 << 4);
		for (int k = 0; k < nlanes; k++)
			if ((alive & rej) >> k & 1)
				res[k] = si;
		alive &= ~rej;
		if (si == 0) {
			/* OpenCV does not look at the window after one the
			 * first stage rejected: drop those lanes now */
			int skipped = *skip;

			for (int k = 0; k < nlanes; k++) {
				if (skipped) {
					alive &= ~(1u << k);
					skipped = 0;
				} else {
					skipped = res[k] == 0;
				}
			}
			*skip = skipped;
			stage0_done = 1;
		}
	}
	if (!stage0_done)
		*skip = 0; /* every lane flat: none rejected by stage 0 */
	for (int k = 0; k < nlanes; k++)
		if (alive >> k & 1)
			res[k] = c->nstages;
	return MS_OK;
}
#else
typedef int vis_detect_simd_unused;
#endif
