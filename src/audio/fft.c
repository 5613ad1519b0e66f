/* fft.c - the FFT behind every spectral feature: an in-place iterative
 * radix-2 decimation-in-time transform (Cooley-Tukey) with twiddles and the
 * bit-reversal permutation computed once per plan. */
#include <math.h>

#include "audio/audio_internal.h"

int aud_fft_init(struct aud_fft *p, int n)
{
	int bits = 0;

	memset(p, 0, sizeof(*p));
	if (n < 2 || n > (1 << AUD_FFT_MAX_LOG2) || (n & (n - 1)))
		return MS_EINVAL;
	while ((1 << bits) < n)
		bits++;
	p->n = n;
	p->cos_ = ms_mallocarray((size_t)n / 2, sizeof(double));
	p->sin_ = ms_mallocarray((size_t)n / 2, sizeof(double));
	p->rev = ms_mallocarray((size_t)n, sizeof(int));
	if (!p->cos_ || !p->sin_ || !p->rev) {
		aud_fft_release(p);
		return MS_ENOMEM;
	}
	for (int k = 0; k < n / 2; k++) {
		double a = -2.0 * M_PI * k / n;

		p->cos_[k] = cos(a);
		p->sin_[k] = sin(a);
	}
	for (int i = 0; i < n; i++) {
		int r = 0;

		for (int b = 0; b < bits; b++)
			r |= ((i >> b) & 1) << (bits - 1 - b);
		p->rev[i] = r;
	}
	return MS_OK;
}

void aud_fft_release(struct aud_fft *p)
{
	free(p->cos_);
	free(p->sin_);
	free(p->rev);
	memset(p, 0, sizeof(*p));
}

void aud_fft_run(const struct aud_fft *p, double *re, double *im)
{
	int n = p->n;

	for (int i = 0; i < n; i++) {
		int j = p->rev[i];

		if (j > i) {
			double t = re[i];

			re[i] = re[j];
			re[j] = t;
			t = im[i];
			im[i] = im[j];
			im[j] = t;
		}
	}
	for (int len = 2; len <= n; len <<= 1) {
		int half = len >> 1, stride = n / len;

		for (int s = 0; s < n; s += len) {
			for (int k = 0; k < half; k++) {
				double wr = p->cos_[k * stride];
				double wi = p->sin_[k * stride];
				int a = s + k, b = a + half;
				double tr = re[b] * wr - im[b] * wi;
				double ti = re[b] * wi + im[b] * wr;

				re[b] = re[a] - tr;
				im[b] = im[a] - ti;
				re[a] += tr;
				im[a] += ti;
			}
		}
	}
}

void aud_fft_power2(const struct aud_fft *p, double *re, double *im, double *pa,
		    double *pb)
{
	int n = p->n;

	aud_fft_run(p, re, im);
	for (int k = 0; k <= n / 2; k++) {
		int j = (n - k) & (n - 1);
		double ar = 0.5 * (re[k] + re[j]), ai = 0.5 * (im[k] - im[j]);
		double br = 0.5 * (im[k] + im[j]), bi = -0.5 * (re[k] - re[j]);

		pa[k] = ar * ar + ai * ai;
		pb[k] = br * br + bi * bi;
	}
}
