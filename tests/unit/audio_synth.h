/* audio_synth.h - signals the audio unit tests synthesise: deterministic
 * noise and sines, interleaved for any number of channels. */
#ifndef MOODSYNC_TEST_AUDIO_SYNTH_H
#define MOODSYNC_TEST_AUDIO_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Deterministic noise in [-1, 1]. */
static inline float noise(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float)((double)(*s >> 8) / (1 << 23) - 1.0);
}

/* Writes frames x[frames * channels] with libsndfile; title may be NULL. */
static inline float *sine(int rate, int channels, double hz, double amp,
			  double s, size_t *frames)
{
	float *x;

	*frames = (size_t)(s * rate);
	x = malloc(*frames * (size_t)channels * sizeof(float));
	for (size_t i = 0; i < *frames; i++)
		for (int c = 0; c < channels; c++)
			x[i * channels + c] =
				(float)(amp * sin(2.0 * M_PI * hz * i / rate));
	return x;
}

#endif
