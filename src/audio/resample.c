/* resample.c - brings any input rate to the analysis rate AUD_RATE by
 * band-limited (windowed-sinc) interpolation, streaming block by block so
 * a long file never sits in memory at its own rate. The kernel is a sinc
 * with cutoff 0.95 x the lower Nyquist frequency under a Blackman window
 * spanning 8 zero crossings each side, tabulated at 64 points per input
 * sample and interpolated linearly between them; when the rate ratio has
 * few phases (44.1 and 48 kHz) the taps of each phase are precomputed. */
#include <math.h>

#include "audio/audio_internal.h"

#define ZEROS 8 /* zero crossings of the sinc on each side */
#define TABLE_RES 64
#define MAX_PHASES 512

static double kernel_at(double x, double fc, int half)
{
	double u = 2.0 * fc * x;
	double s = fabs(u) < 1e-12 ? 1.0 : sin(M_PI * u) / (M_PI * u);
	double w = 0.42 + 0.5 * cos(M_PI * x / half) +
		   0.08 * cos(2.0 * M_PI * x / half);

	return 2.0 * fc * s * w;
}

static int gcd(int a, int b)
{
	while (b) {
		int t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Precomputes one row of taps per output phase when there are few phases
 * (44.1 kHz: 1, 48 kHz: 147), which makes each output a dot product. */
static int build_poly(struct aud_resampler *r)
{
	int g = gcd(r->rate_in, AUD_RATE), taps = 2 * r->half;

	r->L = AUD_RATE / g;
	r->M = r->rate_in / g;
	if (r->L > MAX_PHASES)
		return MS_OK;
	r->poly = ms_mallocarray((size_t)r->L * (size_t)taps, sizeof(float));
	if (!r->poly)
		return MS_ENOMEM;
	for (int p = 0; p < r->L; p++)
		for (int j = 0; j < taps; j++) {
			/* input c - half + 1 + j for output at c + p / L */
			double x = (double)p / r->L + r->half - 1 - j;

			r->poly[(size_t)p * taps + j] =
				fabs(x) >= r->half
					? 0.0f
					: (float)kernel_at(x, r->fc, r->half);
		}
	return MS_OK;
}

int aud_resampler_init(struct aud_resampler *r, int rate_in)
{
	size_t ntab;

	memset(r, 0, sizeof(*r));
	if (rate_in <= 0)
		return MS_EINVAL;
	r->rate_in = rate_in;
	if (rate_in == AUD_RATE)
		return MS_OK; /* passthrough */
	r->step = (double)rate_in / AUD_RATE;
	r->fc = 0.5 * 0.95 * MS_MIN(1.0, (double)AUD_RATE / rate_in);
	r->half = (int)ceil(ZEROS / (2.0 * r->fc));
	r->res = TABLE_RES;
	ntab = (size_t)r->half * (size_t)r->res + 2;
	r->kernel = ms_mallocarray(ntab, sizeof(float));
	r->hist_cap = 4 * (size_t)r->half + 8192;
	r->hist = ms_calloc(r->hist_cap, sizeof(float));
	if (!r->kernel || !r->hist) {
		aud_resampler_release(r);
		return MS_ENOMEM;
	}
	for (size_t j = 0; j < ntab; j++) {
		double x = (double)j / r->res;

		r->kernel[j] = x >= r->half
				       ? 0.0f
				       : (float)kernel_at(x, r->fc, r->half);
	}
	/* Zeros stand in for the audio before the first sample. */
	r->hist_len = (size_t)r->half;
	r->t = r->half;
	r->c = (size_t)r->half;
	return build_poly(r);
}

void aud_resampler_release(struct aud_resampler *r)
{
	free(r->poly);
	free(r->kernel);
	free(r->hist);
	memset(r, 0, sizeof(*r));
}

static float interpolate(const struct aud_resampler *r, double t)
{
	long c = (long)floor(t);
	double acc = 0.0;

	for (long i = c - r->half + 1; i <= c + r->half; i++) {
		double x = fabs(t - (double)i) * r->res;
		size_t j = (size_t)x;
		double fr = x - (double)j;
		double k =
			r->kernel[j] + fr * (r->kernel[j + 1] - r->kernel[j]);

		acc += k * r->hist[i];
	}
	return (float)acc;
}

static float dot_poly(const struct aud_resampler *r)
{
	int taps = 2 * r->half;
	const float *k = r->poly + (size_t)r->phase * (size_t)taps;
	const float *h = r->hist + r->c - (size_t)r->half + 1;
	float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
	int j = 0;

	for (; j + 4 <= taps; j += 4) {
		a0 += k[j] * h[j];
		a1 += k[j + 1] * h[j + 1];
		a2 += k[j + 2] * h[j + 2];
		a3 += k[j + 3] * h[j + 3];
	}
	for (; j < taps; j++)
		a0 += k[j] * h[j];
	return (a0 + a1) + (a2 + a3);
}

/* Moves the samples still needed to the front of hist. */
static void compact(struct aud_resampler *r)
{
	long drop = (long)(r->poly ? r->c : (size_t)floor(r->t)) - r->half;

	if (drop <= 0)
		return;
	if ((size_t)drop > r->hist_len)
		drop = (long)r->hist_len;
	memmove(r->hist, r->hist + drop,
		(r->hist_len - (size_t)drop) * sizeof(float));
	r->hist_len -= (size_t)drop;
	r->t -= (double)drop;
	r->c -= (size_t)drop;
}

/* Emits every output the buffered input completes. */
static void drain(struct aud_resampler *r, float *out, size_t out_cap,
		  size_t *nout)
{
	if (r->poly) {
		while (r->c + (size_t)r->half < r->hist_len) {
			float y = dot_poly(r);

			if (*nout < out_cap)
				out[(*nout)++] = y;
			r->phase += r->M;
			r->c += (size_t)(r->phase / r->L);
			r->phase %= r->L;
		}
		return;
	}
	while ((size_t)floor(r->t) + (size_t)r->half < r->hist_len) {
		float y = interpolate(r, r->t);

		if (*nout < out_cap)
			out[(*nout)++] = y;
		r->t += r->step;
	}
}

int aud_resampler_push(struct aud_resampler *r, const float *in, size_t n,
		       float *out, size_t out_cap, size_t *nout)
{
	if (r->rate_in == AUD_RATE) {
		size_t take = MS_MIN(n, out_cap - MS_MIN(*nout, out_cap));

		memcpy(out + *nout, in, take * sizeof(float));
		*nout += take;
		return MS_OK;
	}
	while (n > 0) {
		size_t room = r->hist_cap - r->hist_len;
		size_t take = MS_MIN(room, n);

		memcpy(r->hist + r->hist_len, in, take * sizeof(float));
		r->hist_len += take;
		in += take;
		n -= take;
		drain(r, out, out_cap, nout);
		compact(r);
		ms_assert(r->hist_len < r->hist_cap);
	}
	return MS_OK;
}
