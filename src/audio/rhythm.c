/* rhythm.c - tempo and onset rate from the onset envelope (the
 * log-compressed spectral flux of spectral.c, ~43 frames/s).
 * Onsets: local maxima over +-70 ms that stand above the local mean (+-0.5 s)
 * by half the envelope's standard deviation.
 * Tempo: autocorrelation of the envelope minus its local mean, over lags
 * for 40..240 BPM; each lag's score adds half the autocorrelation at twice
 * the lag (a beat period also repeats at two beats) and is weighted by a
 * log-normal tempo prior around 120 BPM, one octave wide, which keeps the
 * usual octave errors (60 or 240 for 120) in check. The best lag is refined
 * by a parabola through its neighbours. Confidence: the normalised
 * autocorrelation at that lag. */
#include <math.h>

#include "audio/audio_internal.h"

#define MIN_BPM 40.0
#define MAX_BPM 240.0
#define PRIOR_BPM 120.0
#define PRIOR_OCTAVES 1.0
#define PEAK_HALF_S 0.07
#define MEAN_HALF_S 0.5

/* Moving mean of env over +-half frames, into out (prefix sums). */
static int local_mean(const float *env, size_t n, size_t half, double *out)
{
	double *pre = ms_mallocarray(n + 1, sizeof(double));

	if (!pre)
		return MS_ENOMEM;
	pre[0] = 0.0;
	for (size_t t = 0; t < n; t++)
		pre[t + 1] = pre[t] + env[t];
	for (size_t t = 0; t < n; t++) {
		size_t a = t > half ? t - half : 0;
		size_t b = MS_MIN(n, t + half + 1);

		out[t] = (pre[b] - pre[a]) / (double)(b - a);
	}
	free(pre);
	return MS_OK;
}

static double count_onsets(const float *env, size_t n, const double *mean,
			   double fr)
{
	size_t half = (size_t)MS_MAX(1.0, PEAK_HALF_S * fr), count = 0;
	double s = 0.0, s2 = 0.0, sd;

	for (size_t t = 0; t < n; t++) {
		s += env[t];
		s2 += (double)env[t] * env[t];
	}
	sd = sqrt(MS_MAX(0.0,
			 s2 / (double)n - (s / (double)n) * (s / (double)n)));
	for (size_t t = 0; t < n; t++) {
		size_t a = t > half ? t - half : 0, b = MS_MIN(n - 1, t + half);
		int peak = env[t] > 0.0f && env[t] > mean[t] + 0.5 * sd;

		for (size_t u = a; u <= b && peak; u++)
			if (env[u] > env[t] || (env[u] == env[t] && u < t))
				peak = 0;
		count += (size_t)peak;
	}
	return (double)count / ((double)n / fr);
}

static double prior(double bpm)
{
	double o = log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES;

	return exp(-0.5 * o * o);
}

/* Normalised autocorrelation of e[n] at lags 0..maxlag into r[]. */
static void autocorr(const double *e, size_t n, size_t maxlag, double *r)
{
	for (size_t l = 0; l <= maxlag; l++) {
		double acc = 0.0;

		for (size_t t = 0; t + l < n; t++)
			acc += e[t] * e[t + l];
		r[l] = n > l ? acc / (double)(n - l) : 0.0;
	}
	for (size_t l = maxlag; l > 0 && r[0] > 0.0; l--)
		r[l] /= r[0];
	if (r[0] > 0.0)
		r[0] = 1.0;
}

static void tempo(const double *e, size_t n, double fr, double *bpm,
		  double *conf)
{
	size_t lmin = (size_t)floor(60.0 * fr / MAX_BPM);
	size_t lmax = (size_t)ceil(60.0 * fr / MIN_BPM);
	double r[512], score[512], best = -1.0;
	size_t bl = 0;

	*bpm = PRIOR_BPM;
	*conf = 0.0;
	if (lmin < 2 || 2 * lmax + 2 >= MS_ARRAY_LEN(r) || n < 4 * lmax)
		return;
	autocorr(e, n, 2 * lmax + 2, r);
	if (r[0] <= 0.0)
		return;
	for (size_t l = lmin; l <= lmax + 1; l++) {
		score[l] = prior(60.0 * fr / (double)l) *
			   (MS_MAX(r[l], 0.0) + 0.5 * MS_MAX(r[2 * l], 0.0));
		if (l > lmin && l <= lmax && score[l] > best) {
			best = score[l];
			bl = l;
		}
	}
	if (bl == 0 || best <= 0.0)
		return;
	double a = score[bl - 1], b = score[bl], c = score[bl + 1];
	double den = a - 2.0 * b + c,
	       shift = den < 0.0 ? 0.5 * (a - c) / den : 0.0;
	double lag = (double)bl + MS_MAX(-0.5, MS_MIN(0.5, shift));

	*bpm = MS_MAX(MIN_BPM, MS_MIN(MAX_BPM, 60.0 * fr / lag));
	*conf = MS_MAX(0.0, MS_MIN(1.0, r[bl]));
}

void aud_rhythm(const float *env, size_t n, double fr, double *bpm,
		double *conf, double *onset_rate)
{
	double *mean = ms_mallocarray(n, sizeof(double));
	double *e = ms_mallocarray(n, sizeof(double));

	*bpm = PRIOR_BPM;
	*conf = 0.0;
	*onset_rate = 0.0;
	if (!mean || !e || n == 0 ||
	    local_mean(env, n, (size_t)(MEAN_HALF_S * fr), mean))
		goto out_free;
	*onset_rate = count_onsets(env, n, mean, fr);
	for (size_t t = 0; t < n; t++)
		e[t] = MS_MAX(0.0, env[t] - mean[t]);
	tempo(e, n, fr, bpm, conf);
out_free:
	free(mean);
	free(e);
}
