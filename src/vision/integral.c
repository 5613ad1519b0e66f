/* integral.c - integral images for the detector: plain sums, sums of
 * squares and OpenCV's 45-degree "tilted" sums, all in wrapping 32-bit
 * arithmetic (like OpenCV's CV_32S tables: only differences over one
 * window are used, and those fit). */
#include <stdint.h>
#include <string.h>

#include <stdlib.h>

#include "moodsync/vision.h"
#include "vision/vision_internal.h"

/* Tilted sums through two diagonal running sums of row prefixes P_y(k)
 * (sum of the first k pixels of row y):
 *   A(X,Y) = sum_{y<Y} P_y(min(w, X+Y-1-y))
 *          = (X < w ? A(X+1, Y-1) : sum(w, Y-1)) + P_{Y-1}(X)
 *   B(X,Y) = sum_{y<Y} P_y(max(0, X-Y+y))
 *          = (X > 0 ? B(X-1, Y-1) : 0) + P_{Y-1}(max(0, X-1))
 * and tilted = A - B: each row y contributes the pixels from X-Y+y to
 * X+Y-y-2, the 45-degree triangle above (X-1, Y-1). Only the previous
 * rows of A and B are kept (`a`, `b`: 2 * (w + 1) entries each). */
static void tilted_integral(const uint8_t *px, int w, int h, size_t stride_px,
			    const uint32_t *sum, uint32_t *tilted,
			    size_t stride, uint32_t *a, uint32_t *b)
{
	uint32_t *a_prev = a, *a_cur = a + (w + 1);
	uint32_t *b_prev = b, *b_cur = b + (w + 1);

	memset(a_prev, 0, (size_t)(w + 1) * sizeof(*a));
	memset(b_prev, 0, (size_t)(w + 1) * sizeof(*b));
	memset(tilted, 0, (size_t)(w + 1) * sizeof(*tilted));
	for (int Y = 1; Y <= h; Y++) {
		const uint8_t *row = px + (size_t)(Y - 1) * stride_px;
		uint32_t *t = tilted + (size_t)Y * stride;
		uint32_t p = 0, pm1 = 0; /* P(X), P(X-1) */

		for (int X = 0; X <= w; X++) {
			uint32_t av, bv;

			if (X > 0) {
				pm1 = p;
				p += row[X - 1];
			}
			av = (X < w ? a_prev[X + 1]
				    : sum[(size_t)(Y - 1) * stride + w]) +
			     p;
			bv = (X > 0 ? b_prev[X - 1] : 0) + (X > 0 ? pm1 : 0);
			a_cur[X] = av;
			b_cur[X] = bv;
			t[X] = av - bv;
		}
		{
			uint32_t *s = a_prev;
			a_prev = a_cur;
			a_cur = s;
			s = b_prev;
			b_prev = b_cur;
			b_cur = s;
		}
	}
}

/* As vis_integral, with `scratch` (4 * (w + 1) entries) for tilted. */
void vis_integral_scratch(const uint8_t *px, int w, int h, size_t stride_px,
			  uint32_t *sum, uint32_t *sqsum, uint32_t *tilted,
			  size_t stride, uint32_t *scratch)
{
	memset(sum, 0, (size_t)(w + 1) * sizeof(*sum));
	memset(sqsum, 0, (size_t)(w + 1) * sizeof(*sqsum));
	for (int y = 0; y < h; y++) {
		const uint8_t *row = px + (size_t)y * stride_px;
		const uint32_t *sp = sum + (size_t)y * stride;
		const uint32_t *qp = sqsum + (size_t)y * stride;
		uint32_t *s = sum + (size_t)(y + 1) * stride;
		uint32_t *q = sqsum + (size_t)(y + 1) * stride;
		uint32_t rs = 0, rq = 0;

		s[0] = 0;
		q[0] = 0;
		for (int x = 0; x < w; x++) {
			uint32_t v = row[x];
			rs += v;
			rq += v * v;
			s[x + 1] = sp[x + 1] + rs;
			q[x + 1] = qp[x + 1] + rq;
		}
	}
	if (tilted)
		tilted_integral(px, w, h, stride_px, sum, tilted, stride,
				scratch, scratch + 2 * (w + 1));
}

int vis_integral(const uint8_t *px, int w, int h, size_t stride_px,
		 uint32_t *sum, uint32_t *sqsum, uint32_t *tilted,
		 size_t stride)
{
	uint32_t *scratch = NULL;

	if (tilted) {
		scratch = ms_mallocarray(4 * ((size_t)w + 1), sizeof(*scratch));
		if (!scratch)
			return MS_ENOMEM;
	}
	vis_integral_scratch(px, w, h, stride_px, sum, sqsum, tilted, stride,
			     scratch);
	free(scratch);
	return MS_OK;
}
