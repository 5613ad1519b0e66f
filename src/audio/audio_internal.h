/* audio_internal.h - what the files of src/audio share and nothing else
 * sees: the FFT, the streaming resampler, the decoder and the feature
 * extractor. Pure computation on caller-owned buffers; no globals. */
#ifndef MOODSYNC_AUDIO_INTERNAL_H
#define MOODSYNC_AUDIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/audio.h"

/* ---- FFT (fft.c) -------------------------------------------------------
 * In-place iterative radix-2 complex FFT with precomputed twiddles. */
#define AUD_FFT_MAX_LOG2 16

struct aud_fft {
	int n;	      /* points, a power of two, 2 .. 1 << AUD_FFT_MAX_LOG2 */
	double *cos_; /* (n / 2) twiddle cosines */
	double *sin_; /* (n / 2) twiddle sines (forward: e^{-2 pi i k / n}) */
	int *rev;     /* (n) bit-reversal permutation */
};

/* MS_EINVAL unless n is a power of two in range, MS_ENOMEM. */
int aud_fft_init(struct aud_fft *p, int n);
void aud_fft_release(struct aud_fft *p);
/* Forward transform of re[n] + i im[n], in place, unnormalised. */
void aud_fft_run(const struct aud_fft *p, double *re, double *im);
/* Power spectra of two real frames at once: frame a in re[n], frame b in
 * im[n] (both overwritten); pa and pb get bins 0 .. n/2 (n/2 + 1 values). */
void aud_fft_power2(const struct aud_fft *p, double *re, double *im, double *pa,
		    double *pb);

/* ---- Resampler (resample.c) --------------------------------------------
 * Windowed-sinc interpolation from any rate to AUD_RATE, streaming: feed
 * blocks, it appends output to a caller-provided float array. Low-passed
 * at 0.95 of the lower Nyquist frequency, 8 zero crossings each side. */
struct aud_resampler {
	int rate_in;
	double step;   /* input samples per output sample */
	double fc;     /* cutoff, cycles per input sample */
	int half;      /* kernel half-width, input samples */
	int res;       /* kernel table entries per input sample */
	float *kernel; /* (half * res + 2) kernel values at x = j / res */
	float *hist;   /* pending input, hist_cap floats */
	size_t hist_len, hist_cap;
	double t; /* position of the next output in hist, samples */
	/* Polyphase form, when rate_in / AUD_RATE = M / L with L small:
	 * the next output sits at c + phase / L and uses the row
	 * poly[phase] of 2 * half taps. NULL: interpolate the table. */
	float *poly;
	int L, M, phase;
	size_t c;
};

int aud_resampler_init(struct aud_resampler *r, int rate_in);
void aud_resampler_release(struct aud_resampler *r);
/* Feeds n input samples and appends what output they complete to
 * out[*nout ..], never past out_cap (the rest is dropped). */
int aud_resampler_push(struct aud_resampler *r, const float *in, size_t n,
		       float *out, size_t out_cap, size_t *nout);

/* ---- True peak (truepeak.c) ---------------------------------------------
 * Max over channels of the 4x-upsampled magnitude (ITU-R BS.1770 annex 2),
 * streaming over interleaved blocks. */
#define AUD_TP_OVER 4
#define AUD_TP_TAPS 12
#define AUD_TP_MAX_CH 8

struct aud_truepeak {
	int channels;			      /* <= AUD_TP_MAX_CH counted */
	float coef[AUD_TP_OVER][AUD_TP_TAPS]; /* phase k, tap j */
	float gain;			      /* max_k sum_j |coef[k][j]| */
	float hist[AUD_TP_MAX_CH][AUD_TP_TAPS - 1]; /* last samples seen */
	float peak[AUD_TP_MAX_CH];		    /* linear */
};

void aud_truepeak_init(struct aud_truepeak *tp, int channels);
void aud_truepeak_add(struct aud_truepeak *tp, const float *x, size_t frames);
/* 20 log10 of the peak, at least floor_db. */
double aud_truepeak_dbtp(const struct aud_truepeak *tp, double floor_db);

/* ---- Decoder (decode.c) --------------------------------------------- */
struct aud_source; /* a file descriptor or a memory buffer */

/* The decoded, analysed part of a file: mono at AUD_RATE plus what
 * libebur128 measured on the original channels. */
struct aud_decoded {
	float *mono; /* (n) samples at AUD_RATE, owned */
	size_t n;
	double duration_s;
	int sample_rate, channels;
	double loudness_lufs, loudness_range_lu, true_peak_dbtp;
};

/* Opens, checks caps, reads tags and decodes. `src_fd` >= 0 reads that
 * descriptor (taken over and closed here); otherwise data/len. */
int aud_decode(int src_fd, const void *data, size_t len,
	       const struct aud_limits *lim, struct aud_tags *tags,
	       struct aud_decoded *out, char *err, size_t errlen);
void aud_decoded_release(struct aud_decoded *d);

/* ---- Loudness of a mono buffer (decode.c) ----------------------------- */
int aud_loudness_mono(const float *x, size_t n, int rate, double *lufs,
		      double *lra, double *peak_db, char *err, size_t errlen);

/* ---- Features (spectral.c, rhythm.c, key.c) ---------------------------- */
/* Fills every feature that comes from the mono AUD_RATE signal (not the
 * loudness fields, duration, rate or channels). MS_EFORMAT when there is
 * less than one analysis frame of audio, MS_ENOMEM. */
int aud_features_compute(const float *x, size_t n, struct aud_features *f,
			 char *err, size_t errlen);

/* From the onset envelope (env[n] at rate fr frames/s): tempo, its
 * confidence and the onset rate. */
void aud_rhythm(const float *env, size_t n, double fr, double *bpm,
		double *conf, double *onset_rate);

/* From a 12-bin chroma sum (C first): key, its strength, mode_major. */
void aud_key_from_chroma(const double chroma[12], int *key, double *strength,
			 double *mode_major);

/* Sethares dissonance of a set of partials (freq Hz, amplitude), summed
 * over pairs and divided by the sum of squared amplitudes. */
double aud_dissonance(const double *freq, const double *amp, int n);

#endif
