/* truepeak.c - the true (inter-sample) peak of each channel, as ITU-R
 * BS.1770 defines it: the signal is upsampled 4x by a 48-tap interpolator
 * (windowed sinc, 12 taps per phase) and the largest magnitude kept. It
 * gives the same result as evaluating every upsampled value, but skips
 * each 32-sample stretch whose samples are too small for any interpolated
 * value to reach the peak found so far (|y| <= G max|x| with G the
 * largest sum of absolute taps of a phase), which is most of them. */
#include <math.h>

#include "audio/audio_internal.h"

#define STRIDE 32

void aud_truepeak_init(struct aud_truepeak *tp, int channels)
{
	memset(tp, 0, sizeof(*tp));
	tp->channels = channels;
	tp->gain = 0.0f;
	for (int k = 0; k < AUD_TP_OVER; k++) {
		float g = 0.0f;

		for (int j = 0; j < AUD_TP_TAPS; j++) {
			/* tap k + 4 j sits (j - 6 + k / 4) samples from the
			 * interpolated point */
			double x =
				j - AUD_TP_TAPS / 2 + (double)k / AUD_TP_OVER;
			double s = x == 0.0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
			double w = 0.5 +
				   0.5 * cos(M_PI * x / (AUD_TP_TAPS / 2 + 1));

			tp->coef[k][j] = (float)(s * w);
			g += fabsf(tp->coef[k][j]);
		}
		tp->gain = fmaxf(tp->gain, g);
	}
}

/* The peak of one channel's samples buf[0 .. n) where buf[-11 .. -1] is
 * history, raising *peak. */
static void channel_peak(const struct aud_truepeak *tp, const float *buf,
			 size_t n, float *peak)
{
	for (size_t b = 0; b < n; b += STRIDE) {
		size_t e = MS_MIN(n, b + STRIDE);
		float m = 0.0f;

		for (size_t i = b; i < e; i++)
			m = fmaxf(m, fabsf(buf[i]));
		*peak = fmaxf(*peak, m);
		for (int j = 1; j < AUD_TP_TAPS; j++)
			m = fmaxf(m, fabsf(buf[(long)b - j]));
		if (m * tp->gain <= *peak)
			continue;
		for (size_t i = b; i < e; i++)
			for (int k = 1; k < AUD_TP_OVER; k++) {
				float y = 0.0f;

				for (int j = 0; j < AUD_TP_TAPS; j++)
					y += tp->coef[k][j] * buf[(long)i - j];
				*peak = fmaxf(*peak, fabsf(y));
			}
	}
}

void aud_truepeak_add(struct aud_truepeak *tp, const float *x, size_t frames)
{
	float buf[AUD_TP_TAPS - 1 + 1024];
	const int h = AUD_TP_TAPS - 1;

	for (int c = 0; c < tp->channels && c < AUD_TP_MAX_CH; c++) {
		for (size_t done = 0; done < frames;) {
			size_t n = MS_MIN(frames - done,
					  sizeof(buf) / sizeof(buf[0]) - h);

			memcpy(buf, tp->hist[c], h * sizeof(float));
			for (size_t i = 0; i < n; i++)
				buf[h + i] = x[(done + i) * tp->channels + c];
			channel_peak(tp, buf + h, n, &tp->peak[c]);
			memcpy(tp->hist[c], buf + n, h * sizeof(float));
			done += n;
		}
	}
}

double aud_truepeak_dbtp(const struct aud_truepeak *tp, double floor_db)
{
	float p = 0.0f;

	for (int c = 0; c < tp->channels && c < AUD_TP_MAX_CH; c++)
		p = fmaxf(p, tp->peak[c]);
	return p > 0.0f ? fmax(20.0 * log10(p), floor_db) : floor_db;
}
