/* mood.c - a track's valence and arousal from its features: a linear model
 * on standardised features, z = (g(x) - mean) / scale with g the identity
 * or log, clipped to +-4, then v = b_v + sum w_v z and a = b_a + sum w_a z,
 * clamped to [-1, 1]. The table is fitted offline by ridge regression on
 * the development set (tools/fit_music_mood.py prints it; the fit and its
 * cross-validated accuracy are in docs/music-mood.md). */
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
static const double b_arousal = 0.0, b_valence = 0.2;
static const struct term terms[] = {
	{F(loudness_lufs), 0, -14.0, 4.0, 0.2, 0.0},
};
/* END fitted table */

static double clamp1(double v)
{
	return !isfinite(v) ? 0.0 : v < -1.0 ? -1.0 : v > 1.0 ? 1.0 : v;
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
	m->arousal = clamp1(a);
	m->valence = clamp1(v);
}
