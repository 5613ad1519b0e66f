/* tonal.c - the tonal features: key and mode from chroma with the
 * Krumhansl-Kessler key profiles (Krumhansl 1990: probe-tone ratings, the
 * chroma is correlated with each of the 24 rotated profiles), and sensory
 * roughness of a set of partials with Sethares' parametrisation of the
 * Plomp-Levelt dissonance curve (Sethares 1993, "Local consonance and the
 * relationship between timbre and scale"). */
#include <math.h>

#include "audio/audio_internal.h"

static const double kk_major[12] = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
				    2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
static const double kk_minor[12] = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
				    2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

/* Pearson correlation of x with the profile p rotated to tonic `key`. */
static double correlate(const double x[12], const double p[12], int key)
{
	double mx = 0.0, mp = 0.0, sxy = 0.0, sxx = 0.0, spp = 0.0;

	for (int i = 0; i < 12; i++) {
		mx += x[i] / 12.0;
		mp += p[i] / 12.0;
	}
	for (int i = 0; i < 12; i++) {
		double dx = x[(i + key) % 12] - mx, dp = p[i] - mp;

		sxy += dx * dp;
		sxx += dx * dx;
		spp += dp * dp;
	}
	return sxx > 0.0 && spp > 0.0 ? sxy / sqrt(sxx * spp) : 0.0;
}

void aud_key_from_chroma(const double chroma[12], int *key, double *strength,
			 double *mode_major)
{
	double best_maj = -2.0, best_min = -2.0;
	int kmaj = 0, kmin = 0;

	for (int k = 0; k < 12; k++) {
		double a = correlate(chroma, kk_major, k);
		double b = correlate(chroma, kk_minor, k);

		if (a > best_maj) {
			best_maj = a;
			kmaj = k;
		}
		if (b > best_min) {
			best_min = b;
			kmin = k;
		}
	}
	*key = best_maj >= best_min ? kmaj : kmin;
	*strength = MS_MAX(best_maj, best_min);
	/* logistic in the major-minor margin; 0.1 of correlation -> 0.73 */
	*mode_major = 1.0 / (1.0 + exp(-10.0 * (best_maj - best_min)));
	if (*strength <= -2.0 || !isfinite(*mode_major)) {
		*strength = 0.0;
		*mode_major = 0.5;
	}
}

double aud_dissonance(const double *freq, const double *amp, int n)
{
	const double b1 = 3.5, b2 = 5.75, dstar = 0.24, s1 = 0.0207, s2 = 18.96;
	double d = 0.0, norm = 0.0;

	for (int i = 0; i < n; i++) {
		norm += amp[i] * amp[i];
		for (int j = i + 1; j < n; j++) {
			double fmin = MS_MIN(freq[i], freq[j]);
			double df = fabs(freq[i] - freq[j]);
			double s = dstar / (s1 * fmin + s2);

			d += amp[i] * amp[j] *
			     (exp(-b1 * s * df) - exp(-b2 * s * df));
		}
	}
	return norm > 0.0 ? d / norm : 0.0;
}
