/* mood.c - a track's valence and arousal from its features: a linear model
 * on standardised features, z = (g(x) - mean) / scale with g the identity
 * or log, clipped to +-4, then v = tanh(b_v + sum w_v z) and
 * a = tanh(b_a + sum w_a z): tanh keeps the order of outlying tracks where
 * a clamp to [-1, 1] would tie them. The table is fitted offline by ridge
 * regression on the development set (tools/fit_music_mood.py prints it; the fit
 * and its cross-validated accuracy are in docs/music-mood.md). */
#include <math.h>
#include <stddef.h>

#include "moodsync/audio.h"

struct term {
	size_t offset; /* of a double in struct aud_features */
	int log;       /* 1: the model sees log(x + 1e-6) */
	double mean, scale;
	double w_arousal, w_valence;
};

#define F(name) offsetof(struct aud_features, name)

/* BEGIN fitted table (tools/fit_music_mood.py) */
static const double b_arousal = -0.000100, b_valence = -0.000339;
static const struct term terms[] = {
	/* feature, log, mean, scale, w_arousal, w_valence */
	{F(loudness_lufs), 0, -15.7215, 4.1847, 0.065363, 0.049988},
	{F(loudness_range_lu), 0, 5.8825, 4.38129, 0.077020, -0.064627},
	{F(low_energy), 0, 0.546897, 0.0681092, 0.001558, 0.008753},
	{F(tempo_bpm), 1, 4.68783, 0.26604, 0.002488, 0.068343},
	{F(tempo_confidence), 0, 0.445956, 0.184245, 0.022934, 0.112468},
	{F(onset_rate), 1, 1.14563, 0.36988, 0.042557, 0.143601},
	{F(onset_strength), 1, 2.79987, 0.765286, 0.119383, 0.023571},
	{F(centroid_hz), 1, 7.33983, 0.417031, -0.017416, 0.051982},
	{F(rolloff_hz), 1, 8.007, 0.509047, 0.054881, 0.056850},
	{F(flux), 0, 0.333699, 0.0739608, 0.310133, 0.130417},
	{F(flatness), 1, -5.41341, 1.92684, -0.145445, 0.069815},
	{F(bass_ratio), 0, 0.427256, 0.234318, 0.016830, -0.153470},
	{F(mode_major), 0, 0.590806, 0.305318, 0.005348, 0.154337},
	{F(key_strength), 0, 0.772176, 0.132702, -0.191879, 0.180144},
	{F(roughness), 1, -2.58425, 0.291357, 0.035826, 0.064151},
};
/* END fitted table */

static double squash(double v)
{
	return isfinite(v) ? tanh(v) : 0.0;
}

void aud_mood_from_features(const struct aud_features *f,
			    const struct aud_tags *tags, struct aud_mood *m)
{
	double a = b_arousal, v = b_valence;

	(void)tags;
	for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
		const struct term *t = &terms[i];
		double x = *(const double *)((const char *)f + t->offset), z;

		if (t->log)
			x = log(fmax(x, 0.0) + 1e-6);
		z = (x - t->mean) / t->scale;
		z = !isfinite(z) ? 0.0 : z < -4.0 ? -4.0 : z > 4.0 ? 4.0 : z;
		a += t->w_arousal * z;
		v += t->w_valence * z;
	}
	m->arousal = squash(a);
	m->valence = squash(v);
}

/* Word thresholds: roughly the outer fifth of the development set on each
 * side (its 20th/80th percentiles: arousal -0.44/0.40, valence -0.37/0.38,
 * mode_major 0.24/0.90, tempo 89/132 BPM, loudness -18.9/-12.3 LUFS). */
static const struct {
	int what; /* 0 arousal, 1 valence, 2 mode, 3 tempo, 4 loudness */
	double low, high;
	const char *low_word, *high_word;
} words[] = {
	{0, -0.35, 0.35, "calm", "energetic"},
	{1, -0.30, 0.30, "dark", "cheerful"},
	{2, 0.30, 0.70, "minor", "major"},
	{3, 90.0, 130.0, "slow", "fast"},
	{4, -19.0, -12.0, "quiet", "loud"},
};

size_t aud_describe(const struct aud_features *f, const struct aud_mood *m,
		    char *out, size_t cap)
{
	size_t n = 0, len = 0;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		double v = words[i].what == 0	? m->arousal
			   : words[i].what == 1 ? m->valence
			   : words[i].what == 2 ? f->mode_major
			   : words[i].what == 3 ? f->tempo_bpm
						: f->loudness_lufs;
		const char *w = v <= words[i].low    ? words[i].low_word
				: v >= words[i].high ? words[i].high_word
						     : NULL;
		int k;

		if (!w || !isfinite(v))
			continue;
		k = snprintf(out + len, cap - len, "%s%s", n ? ", " : "", w);
		if (k < 0 || (size_t)k >= cap - len) {
			out[len] = '\0'; /* whole words only */
			break;
		}
		len += (size_t)k;
		n++;
	}
	return n;
}
