/* kernels.c - direct 3x3 convolution on channel-blocked activations with
 * AVX-512 (see kernels.h), plus the blocked pooling and layout helpers
 * around it. The convolution walks the padded image as one flat row: output
 * pixel q = oy*(W+2) + ox reads input q + ky*(W+2) + kx, so a tile of
 * consecutive pixels may span rows; the two pixels per row that fall on the
 * border are computed too and then zeroed. Each tile keeps 2 x 16 output
 * channels x 12 pixels in registers and broadcasts one input value per
 * pair of FMAs; weights are packed once at model load. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/common.h"
#include "moodsync/nn.h"
#include "nn/kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NN_KERN_X86 1
#endif

#define TILE 12 /* output pixels per register tile */

#ifdef NN_KERN_X86
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux hands out AMX tile state only to processes that ask for it
 * (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA, kernel 5.16+);
 * then XCR0 bits 17-18 say the OS saves the tiles on context switch. */
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int amx_permitted(void)
{
	unsigned a, b, c, d, lo, hi;

	if (__get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, b, c, d);
	if (!((d >> 22) & 1) || !((d >> 24) & 1) || !((d >> 25) & 1))
		return 0; /* AMX-BF16, AMX-TILE, AMX-INT8 */
	if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	return ((lo >> 17) & 3) == 3;
}
#endif

static pthread_once_t level_once = PTHREAD_ONCE_INIT;
static int level_best; /* what the CPU has */
static int level_now;  /* what runs: level_best, capped */

static void level_init(void)
{
	const char *env = getenv("MOODSYNC_NN_KERNELS");
	int best = NN_KERN_PORTABLE;

#ifdef NN_KERN_X86
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		best = NN_KERN_FP32;
	if (best && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vnni"))
		best = NN_KERN_INT8;
	if (best == NN_KERN_INT8 && amx_permitted())
		best = NN_KERN_AMX;
#endif
	level_best = best;
	level_now = best;
	if (env && !strcmp(env, "portable"))
		level_now = NN_KERN_PORTABLE;
	else if (env && !strcmp(env, "fp32"))
		level_now = MS_MIN(best, NN_KERN_FP32);
	else if (env && !strcmp(env, "int8"))
		level_now = MS_MIN(best, NN_KERN_INT8);
}

enum nn_kern_level nn_kern_level(void)
{
	pthread_once(&level_once, level_init);
	return (enum nn_kern_level)level_now;
}

enum nn_kern_level nn_kern_set_level(enum nn_kern_level cap)
{
	pthread_once(&level_once, level_init);
	level_now = MS_MIN(level_best, (int)cap);
	return (enum nn_kern_level)level_now;
}

const char *nn_kernels_name(void)
{
	static const char *const name[] = {"portable", "fp32", "int8", "amx"};

	return name[nn_kern_level()];
}

int nn_kern_fast(void)
{
	return nn_kern_level() >= NN_KERN_FP32;
}

size_t nn_kern_blocked_floats(int c, int h, int w, int cb)
{
	size_t blocks = (size_t)(c + cb - 1) / (size_t)cb;

	return blocks * (size_t)(h + 2) * (size_t)(w + 2) * (size_t)cb;
}

void nn_kern_pack3x3(const float *w, int ci, int co, int icb, float *wp)
{
	size_t cip = icb == 1 ? (size_t)ci : (size_t)nn_kern_cpad(ci);
	size_t nib = cip / (size_t)icb;

	memset(wp, 0, sizeof(float) * cip * (size_t)nn_kern_cpad(co) * 9);
	for (int o = 0; o < co; o++)
		for (int i = 0; i < ci; i++)
			for (int t = 0; t < 9; t++) {
				size_t blk = (size_t)(o / 16) * nib +
					     (size_t)(i / icb);
				size_t dst = ((blk * 9 + (size_t)t) * icb +
					      (size_t)(i % icb)) *
						     16 +
					     (size_t)(o % 16);

				wp[dst] = w[((size_t)o * ci + i) * 9 + t];
			}
}

void nn_kern_zero_border(float *y, int c, int h, int w, int cb)
{
	int wp = w + 2;
	size_t plane = (size_t)(h + 2) * wp * cb;

	for (int b = 0; b < c / cb; b++) {
		float *p = y + (size_t)b * plane;

		memset(p, 0, sizeof(float) * (size_t)wp * cb);
		memset(p + (size_t)(h + 1) * wp * cb, 0,
		       sizeof(float) * (size_t)wp * cb);
		for (int r = 1; r <= h; r++) {
			memset(p + (size_t)r * wp * cb, 0, sizeof(float) * cb);
			memset(p + ((size_t)r * wp + w + 1) * cb, 0,
			       sizeof(float) * cb);
		}
	}
}

void nn_kern_pad_image(const float *img, int h, int w, float *y)
{
	for (int r = 0; r < h; r++)
		memcpy(y + (size_t)(r + 1) * (w + 2) + 1, img + (size_t)r * w,
		       sizeof(float) * w);
	nn_kern_zero_border(y, 1, h, w, 1);
}

/* nn_kern_maxpool2 on any CPU */
static void maxpool2_c(const float *x, int c, int h, int w, float *y,
		       float *ymax)
{
	float mx = 0;
	int oh = h / 2, ow = w / 2, xwp = w + 2, ywp = ow + 2;
	size_t xplane = (size_t)(h + 2) * xwp * 16,
	       yplane = (size_t)(oh + 2) * ywp * 16;

	for (int b = 0; b < c / 16; b++)
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				const float *p0 =
					x + b * xplane +
					((size_t)(2 * oy + 1) * xwp + 2 * ox +
					 1) * 16;
				const float *p1 = p0 + (size_t)xwp * 16;
				float *q =
					y + b * yplane +
					((size_t)(oy + 1) * ywp + ox + 1) * 16;

				for (int j = 0; j < 16; j++) {
					float a = p0[j] > p0[16 + j]
							  ? p0[j]
							  : p0[16 + j];
					float d = p1[j] > p1[16 + j]
							  ? p1[j]
							  : p1[16 + j];

					q[j] = a > d ? a : d;
					mx = q[j] > mx ? q[j] : mx;
				}
			}
	nn_kern_zero_border(y, c, oh, ow, 16);
	if (ymax)
		*ymax = mx;
}

void nn_kern_gap(const float *x, int c, int h, int w, float *y)
{
	int wp = w + 2;
	size_t plane = (size_t)(h + 2) * wp * 16;
	float inv = 1.0f / (float)(h * w);

	for (int b = 0; b < c / 16; b++) {
		float s[16] = {0};

		for (int r = 1; r <= h; r++)
			for (int col = 1; col <= w; col++) {
				const float *p = x + b * plane +
						 ((size_t)r * wp + col) * 16;

				for (int j = 0; j < 16; j++)
					s[j] += p[j];
			}
		for (int j = 0; j < 16; j++)
			y[b * 16 + j] = s[j] * inv;
	}
}

#ifdef NN_KERN_X86

#define TGT __attribute__((target("avx512f,fma")))
#define INL static inline __attribute__((always_inline, target("avx512f,fma")))

/* Where a tile's inputs and outputs are. */
struct tile_args {
	const float *x; /* input, blocked */
	size_t xblk;	/* floats between input channel blocks */
	int nblk;	/* input channel blocks */
	int icb;	/* input channel block */
	int wp;		/* padded row length, pixels */
	const float *w; /* packed weights of the first output block */
	size_t wblk;	/* floats between output blocks in w */
	const float *b; /* bias of the first output block */
	float *y;	/* output, first output block */
	size_t yblk;	/* floats between output blocks in y */
	int relu;
};

/* R output pixels from flat position q, for 16 (two = 0) or 32 output
 * channels; R and two are constants after inlining. */
INL void conv_tile(const struct tile_args *a, size_t q, int R, int two)
{
	__m512 acc0[TILE], acc1[TILE];
	__m512 b0 = _mm512_loadu_ps(a->b);
	__m512 b1 = two ? _mm512_loadu_ps(a->b + 16) : _mm512_setzero_ps();
	int icb = a->icb;

#pragma GCC unroll 12
	for (int r = 0; r < R; r++) {
		acc0[r] = b0;
		acc1[r] = b1;
	}
	for (int cb = 0; cb < a->nblk; cb++) {
		const float *xb = a->x + (size_t)cb * a->xblk + q * icb;
		const float *wb = a->w + (size_t)cb * 9 * icb * 16;

		for (int t = 0; t < 9; t++) {
			const float *xt =
				xb + (size_t)((t / 3) * a->wp + t % 3) * icb;
			const float *wt = wb + (size_t)t * icb * 16;

			for (int c = 0; c < icb; c++) {
				__m512 w0 = _mm512_loadu_ps(wt + c * 16);
				__m512 w1 = two ? _mm512_loadu_ps(wt + a->wblk +
								  c * 16)
						: w0;

#pragma GCC unroll 12
				for (int r = 0; r < R; r++) {
					__m512 v =
						_mm512_set1_ps(xt[r * icb + c]);

					acc0[r] =
						_mm512_fmadd_ps(v, w0, acc0[r]);
					if (two)
						acc1[r] = _mm512_fmadd_ps(
							v, w1, acc1[r]);
				}
			}
		}
	}
	{
		float *y0 = a->y + (q + (size_t)a->wp + 1) * 16;
		__m512 z = _mm512_setzero_ps();

#pragma GCC unroll 12
		for (int r = 0; r < R; r++) {
			if (a->relu) {
				acc0[r] = _mm512_max_ps(acc0[r], z);
				acc1[r] = _mm512_max_ps(acc1[r], z);
			}
			_mm512_storeu_ps(y0 + r * 16, acc0[r]);
			if (two)
				_mm512_storeu_ps(y0 + a->yblk + r * 16,
						 acc1[r]);
		}
	}
}

TGT static void conv_blocks(const struct tile_args *a, size_t total, int two)
{
	NN_KERN_TILE_WALK(conv_tile, a, total, two, TILE);
}

void nn_kern_conv3x3(const float *x, int ci, int icb, int h, int w,
		     const float *wp, const float *bias, int co, int relu,
		     float *y)
{
	struct tile_args a;
	size_t plane = (size_t)(h + 2) * (w + 2);
	size_t total = nn_kern_flat_total(h, w);

	a.x = x;
	a.xblk = plane * icb;
	a.nblk = ci / icb;
	a.icb = icb;
	a.wp = w + 2;
	a.wblk = (size_t)ci * 9 * 16;
	a.yblk = plane * 16;
	a.relu = relu;
	for (int ob = 0; ob < co / 16;) {
		int two = ob + 1 < co / 16;

		a.w = wp + (size_t)ob * a.wblk;
		a.b = bias + ob * 16;
		a.y = y + (size_t)ob * a.yblk;
		conv_blocks(&a, total, two);
		ob += two ? 2 : 1;
	}
	nn_kern_zero_border(y, co, h, w, 16);
}

/* max(a, b) as a > b ? a : b, lane for lane, like the scalar path */
TGT static void maxpool2_avx512(const float *x, int c, int h, int w, float *y,
				float *ymax)
{
	__m512 mx = _mm512_setzero_ps(), z = _mm512_setzero_ps();
	int oh = h / 2, ow = w / 2, xwp = w + 2, ywp = ow + 2;
	size_t xplane = (size_t)(h + 2) * xwp * 16,
	       yplane = (size_t)(oh + 2) * ywp * 16;

	for (int b = 0; b < c / 16; b++) {
		/* the zero border as it goes: top and bottom rows, row ends */
		memset(y + b * yplane, 0, sizeof(float) * 16 * ywp);
		memset(y + b * yplane + (size_t)(oh + 1) * ywp * 16, 0,
		       sizeof(float) * 16 * ywp);
		for (int oy = 0; oy < oh; oy++) {
			const float *p0 = x + b * xplane +
					  ((size_t)(2 * oy + 1) * xwp + 1) * 16;
			const float *p1 = p0 + (size_t)xwp * 16;
			float *q = y + b * yplane +
				   ((size_t)(oy + 1) * ywp + 1) * 16;

			_mm512_storeu_ps(q - 16, z);
			_mm512_storeu_ps(q + (size_t)ow * 16, z);

			for (int ox = 0; ox < ow; ox++) {
				__m512 a = _mm512_max_ps(
					_mm512_loadu_ps(p0 + ox * 32),
					_mm512_loadu_ps(p0 + ox * 32 + 16));
				__m512 d = _mm512_max_ps(
					_mm512_loadu_ps(p1 + ox * 32),
					_mm512_loadu_ps(p1 + ox * 32 + 16));

				a = _mm512_max_ps(a, d);
				mx = _mm512_max_ps(mx, a);
				_mm512_storeu_ps(q + ox * 16, a);
			}
		}
	}
	if (ymax)
		*ymax = _mm512_reduce_max_ps(mx);
}

/* g[c][16] += sum over q < total of x[q*icb + c] * dy[q*16 ..]: one
 * tap's weight gradient for one input block and one output block; icb is a
 * constant after inlining. Each of the icb sums is one register, updated
 * in pixel order. */
INL void wgrad_tap(const float *x, int icb, const float *dy, size_t total,
		   float *g)
{
	__m512 acc[NN_KERN_CB];

#pragma GCC unroll 16
	for (int c = 0; c < icb; c++)
		acc[c] = _mm512_loadu_ps(g + c * 16);
	for (size_t q = 0; q < total; q++) {
		__m512 d = _mm512_loadu_ps(dy + q * 16);

#pragma GCC unroll 16
		for (int c = 0; c < icb; c++)
			acc[c] = _mm512_fmadd_ps(_mm512_set1_ps(x[q * icb + c]),
						 d, acc[c]);
	}
#pragma GCC unroll 16
	for (int c = 0; c < icb; c++)
		_mm512_storeu_ps(g + c * 16, acc[c]);
}

TGT static void wgrad_blocks(const float *x, int icb, size_t xblk, int nblk,
			     int wp, const float *dy, size_t total, float *g)
{
	for (int cb = 0; cb < nblk; cb++)
		for (int t = 0; t < 9; t++) {
			const float *xt = x + (size_t)cb * xblk +
					  (size_t)((t / 3) * wp + t % 3) * icb;
			float *gt = g + ((size_t)cb * 9 + (size_t)t) * icb * 16;

			if (icb == 1)
				wgrad_tap(xt, 1, dy, total, gt);
			else
				wgrad_tap(xt, NN_KERN_CB, dy, total, gt);
		}
}

/* As wgrad_tap for 8 channels of a 16-channel input block and two output
 * blocks (dy and g `dyo` and `go` floats apart): each broadcast input
 * feeds two FMAs, which halves the loads per FMA. */
INL void wgrad_tap2(const float *x, const float *dy, size_t dyo, size_t total,
		    float *g, size_t go)
{
	__m512 a0[8], a1[8];

#pragma GCC unroll 8
	for (int c = 0; c < 8; c++) {
		a0[c] = _mm512_loadu_ps(g + c * 16);
		a1[c] = _mm512_loadu_ps(g + go + c * 16);
	}
	for (size_t q = 0; q < total; q++) {
		__m512 d0 = _mm512_loadu_ps(dy + q * 16);
		__m512 d1 = _mm512_loadu_ps(dy + dyo + q * 16);

#pragma GCC unroll 8
		for (int c = 0; c < 8; c++) {
			__m512 v = _mm512_set1_ps(x[q * 16 + c]);

			a0[c] = _mm512_fmadd_ps(v, d0, a0[c]);
			a1[c] = _mm512_fmadd_ps(v, d1, a1[c]);
		}
	}
#pragma GCC unroll 8
	for (int c = 0; c < 8; c++) {
		_mm512_storeu_ps(g + c * 16, a0[c]);
		_mm512_storeu_ps(g + go + c * 16, a1[c]);
	}
}

TGT static void wgrad_blocks2(const float *x, size_t xblk, int nblk, int wp,
			      const float *dy, size_t dyo, size_t total,
			      float *g, size_t go)
{
	for (int cb = 0; cb < nblk; cb++)
		for (int t = 0; t < 9; t++)
			for (int half = 0; half < 2; half++) {
				const float *xt =
					x + (size_t)cb * xblk +
					(size_t)((t / 3) * wp + t % 3) * 16 +
					half * 8;
				float *gt =
					g +
					((size_t)cb * 9 + (size_t)t) * 16 * 16 +
					half * 8 * 16;

				wgrad_tap2(xt, dy, dyo, total, gt, go);
			}
}

void nn_kern_conv3x3_wgrad(const float *x, int ci, int icb, int h, int w,
			   const float *dy, int co, float *gwp)
{
	size_t plane = (size_t)(h + 2) * (w + 2);
	size_t total = nn_kern_flat_total(h, w);
	size_t wblk = (size_t)ci * 9 * 16;

	/* output pixel q + wp + 1 reads input q + ky*wp + kx, as in the
	 * forward pass; dy's zero border cancels the border pixels */
	for (int ob = 0; ob < co / 16;) {
		const float *d =
			dy + (size_t)ob * plane * 16 + (size_t)(w + 2 + 1) * 16;
		int two = icb == NN_KERN_CB && ob + 1 < co / 16;

		if (two)
			wgrad_blocks2(x, plane * 16, ci / 16, w + 2, d,
				      plane * 16, total,
				      gwp + (size_t)ob * wblk, wblk);
		else
			wgrad_blocks(x, icb, plane * icb, ci / icb, w + 2, d,
				     total, gwp + (size_t)ob * wblk);
		ob += two ? 2 : 1;
	}
}

/* The 64-byte tile configuration that LDTILECFG reads (palette 1). */
struct amx_tilecfg {
	uint8_t palette, start_row, reserved[14];
	uint16_t colsb[16]; /* bytes per row of each tile */
	uint8_t rows[16];
};

__attribute__((target("amx-tile"))) void nn_kern_amx_config(int n, int rows,
							    int colsb)
{
	struct amx_tilecfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.palette = 1;
	for (int t = 0; t < n && t < 8; t++) {
		cfg.colsb[t] = (uint16_t)colsb;
		cfg.rows[t] = (uint8_t)rows;
	}
	/* not _tile_loadconfig: GCC 12's takes the operand as 8 bytes, so
	 * the stores to the rest of cfg are dropped as dead */
	__asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

__attribute__((target("amx-tile"))) void nn_kern_amx_release(void)
{
	_tile_release();
}

#else

void nn_kern_amx_config(int n, int rows, int colsb)
{
	/* never called: the level stays below NN_KERN_AMX off x86-64 */
	(void)n, (void)rows, (void)colsb;
}

void nn_kern_amx_release(void)
{
}

void nn_kern_conv3x3(const float *x, int ci, int icb, int h, int w,
		     const float *wp, const float *bias, int co, int relu,
		     float *y)
{
	/* never called: nn_kern_fast() is 0 off x86-64 */
	(void)x, (void)ci, (void)icb, (void)wp, (void)bias, (void)relu;
	nn_kern_zero_border(y, co, h, w, 16);
}

void nn_kern_conv3x3_wgrad(const float *x, int ci, int icb, int h, int w,
			   const float *dy, int co, float *gwp)
{
	/* never called, as above */
	(void)x, (void)ci, (void)icb, (void)h, (void)w, (void)dy, (void)co;
	(void)gwp;
}

#endif

void nn_kern_maxpool2(const float *x, int c, int h, int w, float *y,
		      float *ymax)
{
#ifdef NN_KERN_X86
	if (nn_kern_fast()) {
		maxpool2_avx512(x, c, h, w, y, ymax);
		return;
	}
#endif
	maxpool2_c(x, c, h, w, y, ymax);
}
