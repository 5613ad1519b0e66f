/* kernels_amx.c - the int8 3x3 convolution on AMX tiles (kernels.h, level
 * NN_KERN_AMX): the same u8 activations, s8 weights and fp32 epilogue as
 * kernels_int8.c, so the int32 sums and the outputs are bit-identical to
 * the VNNI path, but each TDPBUSD multiplies 16 pixels x 64 input bytes by
 * 64 x 16 outputs. An implicit GEMM: the A tile of one tap is 16
 * consecutive flat pixels of the padded input (rows of kb channels, one
 * load at the tap's offset), the B tile that tap's packed weights. */
#include <string.h>

#include "moodsync/common.h"
#include "nn/kernels.h"

/* Tile numbers: C (16 pixels x 16 outputs, int32) for pixel tiles 0/1 and
 * output blocks 0/1, A for the two pixel tiles, B for the two blocks. */
#define AMX_C00 0
#define AMX_C01 1
#define AMX_C10 2
#define AMX_C11 3
#define AMX_A0 4
#define AMX_A1 5
#define AMX_B0 6
#define AMX_B1 7

int nn_kern_amx_kb(int c)
{
	return c % 64 == 0 ? 64 : c % 32 == 0 ? 32 : 16;
}

/* Taps of one kernel row a B tile holds: 64 / kb adjacent pixels. */
static int amx_groups(int kb)
{
	int ppr = 64 / kb;

	return (3 + ppr - 1) / ppr;
}

size_t nn_kern_amx_u8_bytes(int c, int h, int w)
{
	return (size_t)c * (size_t)(h + 2) * (size_t)(w + 2) +
	       NN_KERN_AMX_SLACK;
}

size_t nn_kern_amx_w_bytes(int ci, int co)
{
	int kb = nn_kern_amx_kb(ci);

	return (size_t)(co / 16) * (size_t)(ci / kb) * 3 *
	       (size_t)amx_groups(kb) * 1024;
}

/* The VNNI block (16 input channels of one tap: 4 rows of [16 outputs][4
 * inputs], a quarter of a B tile, as is) that quarter s of the B tile for
 * output block ob, input block cb, kernel row ky and tap group g holds;
 * NULL where its tap is past the third. */
static const int8_t *amx_quarter(const int8_t *wq, int ci, int kb, int ob,
				 int cb, int ky, int g, int s)
{
	int kx = g * (64 / kb) + s * 16 / kb;
	size_t c16 = (size_t)(cb * kb + s * 16 % kb) / 16;
	size_t blk = (size_t)ob * (size_t)(ci / 16) + c16;

	return kx > 2 ? NULL : wq + (blk * 9 + (size_t)(ky * 3 + kx)) * 256;
}

void nn_kern_pack3x3_amx(const int8_t *wq, int ci, int co, int8_t *wa)
{
	int kb = nn_kern_amx_kb(ci), ng = amx_groups(kb);
	int8_t *d = wa;

	for (int ob = 0; ob < co / 16; ob++)
		for (int cb = 0; cb < ci / kb; cb++)
			for (int i = 0; i < 3 * ng * 4; i++, d += 256) {
				const int8_t *src = amx_quarter(
					wq, ci, kb, ob, cb, i / (ng * 4),
					i / 4 % ng, i % 4);

				if (src)
					memcpy(d, src, 256);
				else
					memset(d, 0, 256);
			}
}

void nn_kern_quant_u8_amx(const float *x, int c, int h, int w,
			  const float *xmax, uint8_t *xq, float *scale)
{
	nn_kern_quant_u8_kb(x, c, h, w, nn_kern_amx_kb(c), xmax, xq, scale);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AMX_TGT "amx-tile,amx-int8,avx512f,avx512bw"
#define TGT __attribute__((target(AMX_TGT)))
#define INL static inline __attribute__((always_inline, target(AMX_TGT)))

/* Where a step's inputs and outputs are. */
struct amx_args {
	const uint8_t *x; /* input, AMX u8 layout */
	size_t xblk;	  /* bytes between kb-channel blocks of x */
	int nkb;	  /* input channel blocks */
	int kb;		  /* input channels a pixel row holds */
	int ng;		  /* B tiles per kernel row */
	int ppr;	  /* pixels an A row spans (64 / kb) */
	int wp;		  /* padded row length, pixels */
	const int8_t *w;  /* B tiles of the first output block */
	size_t wblk;	  /* bytes between output blocks in w */
	const float *sc;  /* xscale * wscale, first output block (32) */
	const float *b;	  /* bias of the first output block */
	float *y;	  /* output, blocked fp32, first output block */
	size_t yblk;	  /* floats between output blocks in y */
	int rows; /* valid rows of a pixel tile (16, fewer at the end) */
	int iw;	  /* image width: padded columns 1..iw are real */
	int relu;
	float *mx; /* (16) per-lane max of the real outputs so far, >= 0 */
};

/* y = ReLU?(acc * sc + b) for the `rows` pixels from flat q of one C tile
 * stored at c: kernels_int8.c's formula, operation for operation. Pixels
 * that fall on the left or right border get zero instead. */
INL void amx_epilogue(const struct amx_args *a, const int32_t *c, size_t q,
		      int ob)
{
	float *y = a->y + (size_t)ob * a->yblk + (q + (size_t)a->wp + 1) * 16;
	__m512 s = _mm512_loadu_ps(a->sc + ob * 16);
	__m512 b = _mm512_loadu_ps(a->b + ob * 16);
	__m512 mx = _mm512_loadu_ps(a->mx);
	int col = (int)((q + 1) % (size_t)a->wp); /* of row 0, padded */

	for (int r = 0; r < a->rows; r++) {
		__m512 f = _mm512_fmadd_ps(
			_mm512_cvtepi32_ps(_mm512_load_si512(c + r * 16)), s,
			b);

		if (a->relu)
			f = _mm512_max_ps(f, _mm512_setzero_ps());
		if (col >= 1 && col <= a->iw)
			mx = _mm512_max_ps(mx, f);
		else
			f = _mm512_setzero_ps();
		_mm512_storeu_ps(y + r * 16, f);
		col = col + 1 == a->wp ? 0 : col + 1;
	}
	_mm512_storeu_ps(a->mx, mx);
}

/* One step: pixel tiles from flat q0 (and q1 when two_px) times output
 * block 0 (and 1 when two_oc); two_px and two_oc are constants after
 * inlining. Accumulates over every input block and tap, then stores. */
INL void amx_step(const struct amx_args *a, size_t q0, size_t q1, int two_px,
		  int two_oc)
{
	int32_t c[4][256] __attribute__((aligned(64)));
	size_t d1 = (q1 - q0) * (size_t)a->kb;

	_tile_zero(AMX_C00);
	if (two_oc)
		_tile_zero(AMX_C01);
	if (two_px)
		_tile_zero(AMX_C10);
	if (two_px && two_oc)
		_tile_zero(AMX_C11);
	for (int cb = 0; cb < a->nkb; cb++)
		for (int ky = 0; ky < 3; ky++)
			for (int g = 0; g < a->ng; g++) {
				const uint8_t *xa =
					a->x + (size_t)cb * a->xblk +
					(q0 +
					 (size_t)(ky * a->wp + g * a->ppr)) *
						(size_t)a->kb;
				const int8_t *wb =
					a->w + ((size_t)(cb * 3 + ky) * a->ng +
						g) * 1024;

				_tile_loadd(AMX_A0, xa, a->kb);
				_tile_loadd(AMX_B0, wb, 64);
				if (two_px)
					_tile_loadd(AMX_A1, xa + d1, a->kb);
				if (two_oc)
					_tile_loadd(AMX_B1, wb + a->wblk, 64);
				_tile_dpbusd(AMX_C00, AMX_A0, AMX_B0);
				if (two_oc)
					_tile_dpbusd(AMX_C01, AMX_A0, AMX_B1);
				if (two_px)
					_tile_dpbusd(AMX_C10, AMX_A1, AMX_B0);
				if (two_px && two_oc)
					_tile_dpbusd(AMX_C11, AMX_A1, AMX_B1);
			}
	_tile_stored(AMX_C00, c[0], 64);
	amx_epilogue(a, c[0], q0, 0);
	if (two_oc) {
		_tile_stored(AMX_C01, c[1], 64);
		amx_epilogue(a, c[1], q0, 1);
	}
	if (two_px) {
		_tile_stored(AMX_C10, c[2], 64);
		amx_epilogue(a, c[2], q1, 0);
	}
	if (two_px && two_oc) {
		_tile_stored(AMX_C11, c[3], 64);
		amx_epilogue(a, c[3], q1, 1);
	}
}

/* Every pixel tile of the flat range [0, total) for one or two output
 * blocks: tiles of 16 from 0, the last one overlapping the one before (or
 * a single short tile when total < 16), taken two at a time. */
TGT static void amx_blocks(struct amx_args *a, size_t total, int two_oc)
{
	size_t nt = (total + 15) / 16;

	a->rows = total < 16 ? (int)total : 16;
	for (size_t t = 0; t < nt; t += 2) {
		size_t q0 = MS_MIN(t * 16, total < 16 ? 0 : total - 16);
		size_t q1 = MS_MIN(q0 + 16, total < 16 ? 0 : total - 16);

		if (t + 1 < nt && two_oc)
			amx_step(a, q0, q1, 1, 1);
		else if (t + 1 < nt)
			amx_step(a, q0, q1, 1, 0);
		else if (two_oc)
			amx_step(a, q0, q0, 0, 1);
		else
			amx_step(a, q0, q0, 0, 0);
	}
}

void nn_kern_conv3x3_amx(const uint8_t *xq, float xscale, int ci, int h, int w,
			 const int8_t *wa, const float *wscale,
			 const float *bias, int co, int relu, float *y,
			 float *ymax)
{
	struct amx_args a;
	size_t plane = (size_t)(h + 2) * (w + 2);
	size_t total = nn_kern_flat_total(h, w);
	float sc[32], mx[16] = {0};

	a.x = xq;
	a.kb = nn_kern_amx_kb(ci);
	a.xblk = plane * (size_t)a.kb;
	a.nkb = ci / a.kb;
	a.ng = amx_groups(a.kb);
	a.ppr = 64 / a.kb;
	a.wp = w + 2;
	a.wblk = nn_kern_amx_w_bytes(ci, 16);
	a.yblk = plane * 16;
	a.relu = relu;
	a.iw = w;
	a.mx = mx;
	a.sc = sc;
	for (int ob = 0; ob < co / 16;) {
		int two = ob + 1 < co / 16;

		for (int j = 0; j < (two ? 32 : 16); j++)
			sc[j] = xscale * wscale[ob * 16 + j];
		a.w = wa + (size_t)ob * a.wblk;
		a.b = bias + ob * 16;
		a.y = y + (size_t)ob * a.yblk;
		amx_blocks(&a, total, two);
		ob += two ? 2 : 1;
	}
	/* the epilogue zeroed the side borders it passed; the rest is the
	 * top row up to the first pixel and the last pixel's row end on */
	for (int ob = 0; ob < co / 16; ob++) {
		float *yb = y + (size_t)ob * a.yblk;

		memset(yb, 0, sizeof(float) * 16 * (size_t)(a.wp + 1));
		memset(yb + (plane - (size_t)a.wp - 1) * 16, 0,
		       sizeof(float) * 16 * (size_t)(a.wp + 1));
	}
	*ymax = 0;
	for (int j = 0; j < 16; j++)
		*ymax = mx[j] > *ymax ? mx[j] : *ymax;
}

#else

/* Never called: nn_kern_level() stays below NN_KERN_AMX off x86-64. */
void nn_kern_conv3x3_amx(const uint8_t *xq, float xscale, int ci, int h, int w,
			 const int8_t *wa, const float *wscale,
			 const float *bias, int co, int relu, float *y,
			 float *ymax)
{
	(void)xq, (void)xscale, (void)ci, (void)wa, (void)wscale, (void)bias;
	(void)relu;
	*ymax = 0;
	nn_kern_zero_border(y, co, h, w, 16);
}

#endif
