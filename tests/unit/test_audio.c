/* test_audio.c - unit tests for the DSP of src/audio on synthetic signals:
 * the FFT against a naive DFT, the resampler on sines, tempo of click
 * tracks, key and mode of chord sequences, roughness of intervals, the
 * true-peak meter against brute force and libebur128, EBU R128 loudness of
 * a known sine, silence and too-short input, MIME sniffing and the mood
 * model's order and bounds. Files: test_audio_files.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <ebur128.h>

#include "audio/audio_internal.h"
#include "moodsync/audio.h"
#include "audio_synth.h"

/* ---- FFT and resampler -------------------------------------------------- */
static void test_fft_matches_dft(void **state)
{
	static const int sizes[] = {2, 8, 64, 1024};
	uint32_t seed = 1;

	(void)state;
	for (size_t s = 0; s < MS_ARRAY_LEN(sizes); s++) {
		int n = sizes[s];
		struct aud_fft p;
		double *re = calloc((size_t)n, sizeof(double));
		double *im = calloc((size_t)n, sizeof(double));
		double *x = calloc((size_t)n, sizeof(double));
		double *y = calloc((size_t)n, sizeof(double));
		double worst = 0.0;

		assert_int_equal(aud_fft_init(&p, n), MS_OK);
		for (int i = 0; i < n; i++) {
			re[i] = x[i] = noise(&seed);
			im[i] = y[i] = noise(&seed);
		}
		aud_fft_run(&p, re, im);
		for (int k = 0; k < n; k++) {
			double sr = 0.0, si = 0.0;

			for (int t = 0; t < n; t++) {
				double a = -2.0 * M_PI * (double)k * t / n;

				sr += x[t] * cos(a) - y[t] * sin(a);
				si += x[t] * sin(a) + y[t] * cos(a);
			}
			worst = fmax(worst,
				     fabs(sr - re[k]) + fabs(si - im[k]));
		}
		assert_true(worst < 1e-9 * n);
		aud_fft_release(&p);
		free(re);
		free(im);
		free(x);
		free(y);
	}
	{
		struct aud_fft p;

		assert_int_equal(aud_fft_init(&p, 12), MS_EINVAL);
		assert_int_equal(aud_fft_init(&p, 1 << 20), MS_EINVAL);
	}
}

static void test_fft_two_real_frames(void **state)
{
	enum { N = 256 };
	double a[N], b[N], re[N], im[N], pa[N / 2 + 1], pb[N / 2 + 1];
	double r1[N], i1[N];
	struct aud_fft p;
	uint32_t seed = 7;

	(void)state;
	assert_int_equal(aud_fft_init(&p, N), MS_OK);
	for (int i = 0; i < N; i++) {
		re[i] = a[i] = noise(&seed);
		im[i] = b[i] = noise(&seed);
	}
	aud_fft_power2(&p, re, im, pa, pb);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			r1[i] = pass ? b[i] : a[i];
			i1[i] = 0.0;
		}
		aud_fft_run(&p, r1, i1);
		for (int k = 0; k <= N / 2; k++)
			assert_true(fabs(r1[k] * r1[k] + i1[k] * i1[k] -
					 (pass ? pb[k] : pa[k])) < 1e-8);
	}
	aud_fft_release(&p);
}

static void check_resampled_sine(int rate, double hz)
{
	size_t n = (size_t)rate * 2, cap = AUD_RATE * 2 + 64, got = 0;
	float *in = malloc(n * sizeof(float)),
	      *out = malloc(cap * sizeof(float));
	struct aud_resampler r;
	double worst = 0.0;

	for (size_t i = 0; i < n; i++)
		in[i] = (float)(0.5 * sin(2.0 * M_PI * hz * (double)i / rate));
	assert_int_equal(aud_resampler_init(&r, rate), MS_OK);
	/* in uneven blocks, as the decoder feeds it */
	for (size_t i = 0; i < n; i += 1000)
		aud_resampler_push(&r, in + i, MS_MIN(1000, n - i), out, cap,
				   &got);
	aud_resampler_release(&r);
	assert_true(got > (size_t)(AUD_RATE * 1.9));
	for (size_t j = 2000; j < got - 2000; j++) {
		double want = 0.5 * sin(2.0 * M_PI * hz * (double)j / AUD_RATE);

		worst = fmax(worst, fabs(out[j] - want));
	}
	assert_true(worst < 0.01);
	free(in);
	free(out);
}

static void test_resampler_sines(void **state)
{
	(void)state;
	check_resampled_sine(44100, 1000.0);
	check_resampled_sine(48000, 3000.0);
	check_resampled_sine(8000, 440.0);
	check_resampled_sine(96000, 5000.0);
	check_resampled_sine(AUD_RATE, 440.0);
	check_resampled_sine(11111, 2000.0); /* 22050 phases: the table path */
}

/* ---- Rhythm ------------------------------------------------------------- */
/* A click track: a 10 ms decaying noise burst every 60 / bpm seconds. */
static float *click_track(int rate, double bpm, double seconds, size_t *n)
{
	uint32_t seed = 3;
	float *x;

	*n = (size_t)(seconds * rate);
	x = calloc(*n, sizeof(float));
	for (double t = 0.25; t < seconds - 0.1; t += 60.0 / bpm) {
		size_t at = (size_t)(t * rate);

		for (size_t i = 0; i < (size_t)(0.01 * rate); i++)
			x[at + i] = 0.8f * noise(&seed) *
				    (float)exp(-(double)i / (0.002 * rate));
	}
	return x;
}

static void check_tempo(int rate, double bpm)
{
	struct aud_features f;
	size_t n;
	float *x = click_track(rate, bpm, 30.0, &n);

	assert_int_equal(aud_analyze_samples(x, n, rate, &f, NULL, 0), MS_OK);
	assert_true(fabs(f.tempo_bpm - bpm) < 2.0);
	assert_true(f.tempo_confidence > 0.5);
	assert_true(fabs(f.onset_rate - bpm / 60.0) < 0.3);
	free(x);
}

static void test_click_tracks(void **state)
{
	(void)state;
	check_tempo(22050, 120.0);
	check_tempo(44100, 120.0);
	check_tempo(44100, 90.0);
	check_tempo(48000, 150.0);
}

/* ---- Key and mode ------------------------------------------------------- */
/* Chords given as MIDI notes, 1 s each, tones with 4 decaying harmonics. */
static float *chords(const int (*notes)[3], int nchords, int reps, size_t *n)
{
	int rate = 22050, len = rate;
	float *x;

	*n = (size_t)len * (size_t)(nchords * reps);
	x = calloc(*n, sizeof(float));
	for (int c = 0; c < nchords * reps; c++)
		for (int v = 0; v < 3; v++) {
			double hz =
				440.0 *
				pow(2.0, (notes[c % nchords][v] - 69) / 12.0);

			for (int i = 0; i < len; i++)
				for (int h = 1; h <= 4; h++)
					x[(size_t)c * len + i] +=
						(float)(0.08 / h *
							sin(2.0 * M_PI * hz *
							    h * i / rate) *
							exp(-2.0 * i / rate));
		}
	return x;
}

static void test_major_minor(void **state)
{
	/* C F G C and Am Dm E Am, root position around middle C */
	static const int cmaj[4][3] = {
		{60, 64, 67}, {65, 69, 72}, {67, 71, 74}, {60, 64, 67}};
	static const int amin[4][3] = {
		{57, 60, 64}, {62, 65, 69}, {64, 68, 71}, {57, 60, 64}};
	struct aud_features f;
	size_t n;
	float *x = chords(cmaj, 4, 4, &n);

	(void)state;
	assert_int_equal(aud_analyze_samples(x, n, 22050, &f, NULL, 0), MS_OK);
	assert_int_equal(f.key, 0);
	assert_true(f.mode_major > 0.6);
	assert_true(f.key_strength > 0.6);
	free(x);
	x = chords(amin, 4, 4, &n);
	assert_int_equal(aud_analyze_samples(x, n, 22050, &f, NULL, 0), MS_OK);
	assert_int_equal(f.key, 9);
	assert_true(f.mode_major < 0.4);
	free(x);
}

static void test_roughness_orders_intervals(void **state)
{
	double f1[2] = {440.0, 440.0 * 16.0 / 15.0}; /* minor second */
	double f2[2] = {440.0, 660.0};		     /* fifth */
	double a[2] = {1.0, 1.0};

	(void)state;
	assert_true(aud_dissonance(f1, a, 2) > 4.0 * aud_dissonance(f2, a, 2));
	assert_true(aud_dissonance(f1, a, 0) == 0.0);
}

/* ---- True peak ---------------------------------------------------------- */
/* Every 4x-upsampled value, no skipping: what truepeak.c must equal. */
static float brute_peak(const struct aud_truepeak *tp, const float *x, size_t n)
{
	float p = 0.0f;

	for (size_t i = 0; i < n; i++) {
		p = fmaxf(p, fabsf(x[i]));
		for (int k = 1; k < AUD_TP_OVER; k++) {
			float y = 0.0f;

			for (int j = 0; j < AUD_TP_TAPS; j++)
				y += tp->coef[k][j] *
				     (i >= (size_t)j ? x[i - j] : 0.0f);
			p = fmaxf(p, fabsf(y));
		}
	}
	return p;
}

static void test_true_peak(void **state)
{
	enum { N = 48000 };
	float *x = malloc(N * sizeof(float));
	struct aud_truepeak tp;
	uint32_t seed = 5;
	ebur128_state *st;
	double ref;

	(void)state;
	/* fs/8 peaking half-way between samples: the samples reach only
	 * 0.5 cos(pi / 8) (-6.71 dBFS), the wave 0.5 (-6.02 dBTP); faded
	 * in, as a jump from silence rings in any interpolator */
	for (int i = 0; i < N; i++)
		x[i] = (float)(0.5 * sin(M_PI / 4 * (i - 0.5) + M_PI / 2) *
			       fmin(1.0, i / 400.0));
	aud_truepeak_init(&tp, 1);
	aud_truepeak_add(&tp, x, 1000);
	aud_truepeak_add(&tp, x + 1000, N - 1000);
	assert_true(fabs(aud_truepeak_dbtp(&tp, -70.0) - -6.02) < 0.1);
	/* noise with a few loud spots: skipping changes nothing, and it
	 * agrees with libebur128's own true peak */
	for (int i = 0; i < N; i++)
		x[i] = 0.1f * noise(&seed) + (i % 9000 < 3 ? 0.8f : 0.0f);
	aud_truepeak_init(&tp, 1);
	aud_truepeak_add(&tp, x, N);
	assert_true(tp.peak[0] == brute_peak(&tp, x, N));
	st = ebur128_init(1, 48000, EBUR128_MODE_TRUE_PEAK);
	assert_non_null(st);
	ebur128_add_frames_float(st, x, N);
	ebur128_true_peak(st, 0, &ref);
	ebur128_destroy(&st);
	assert_true(fabs(aud_truepeak_dbtp(&tp, -70.0) - 20.0 * log10(ref)) <
		    0.1);
	free(x);
}

/* ---- Loudness and files ------------------------------------------------- */
static void test_sine_loudness(void **state)
{
	struct aud_features f;
	size_t n;
	float *x = sine(48000, 1, 997.0, 0.1, 10.0, &n);

	(void)state;
	/* one channel at -20 dBFS peak: -3.01 - 20 = -23.0 LUFS */
	assert_int_equal(aud_analyze_samples(x, n, 48000, &f, NULL, 0), MS_OK);
	assert_true(fabs(f.loudness_lufs - -23.0) < 0.5);
	assert_true(fabs(f.true_peak_dbtp - -20.0) < 0.5);
	assert_true(f.loudness_range_lu < 1.0);
	assert_true(fabs(f.centroid_hz - 997.0) < 50.0);
	free(x);
}

static void test_memory_and_silence(void **state)
{
	struct aud_features f;
	char err[MS_ERRLEN];
	float *x = calloc(22050 * 3, sizeof(float));

	(void)state;
	assert_int_equal(
		aud_analyze_samples(x, 22050 * 3, 22050, &f, err, sizeof(err)),
		MS_OK);
	assert_true(f.loudness_lufs <= -69.9);
	assert_true(f.tempo_confidence == 0.0);
	assert_int_equal(
		aud_analyze_samples(x, 100, 22050, &f, err, sizeof(err)),
		MS_EFORMAT);
	assert_int_equal(aud_analyze_memory("", 0, NULL, NULL, &f, NULL, err,
					    sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(aud_analyze_memory("RIFF\x10\0\0\0WAVEfmt ", 16, NULL,
					    NULL, &f, NULL, err,
					    sizeof(err)) < 0,
			 1);
	free(x);
}

static void test_mime_sniffing(void **state)
{
	const char *m = NULL;
	unsigned char opus[40] = "OggS";

	(void)state;
	memcpy(opus + 28, "OpusHead", 8);
	assert_int_equal(aud_probe_mime_buf(opus, sizeof(opus), &m), MS_OK);
	assert_string_equal(m, "audio/opus");
	assert_int_equal(aud_probe_mime_buf("ID3\x04", 4, &m), MS_OK);
	assert_string_equal(m, "audio/mpeg");
	assert_int_equal(aud_probe_mime_buf("\xff\xfb\x90\x64", 4, &m), MS_OK);
	assert_string_equal(m, "audio/mpeg");
	assert_int_equal(aud_probe_mime_buf("fLaC", 4, &m), MS_OK);
	assert_string_equal(m, "audio/flac");
	assert_int_equal(aud_probe_mime_buf("<html>", 6, &m), MS_EUNSUPPORTED);
	assert_int_equal(aud_probe_mime_buf("", 0, &m), MS_EUNSUPPORTED);
	assert_int_equal(aud_probe_mime("/nonexistent/x.ogg", &m),
			 MS_ENOTFOUND);
}

static void test_mood_model(void **state)
{
	struct aud_features calm, wild, bad;
	struct aud_mood a, b, c;
	size_t n;
	const struct aud_field *fl = aud_feature_fields(&n);

	(void)state;
	memset(&calm, 0, sizeof(calm));
	calm.loudness_lufs = -28.0;
	calm.flux = 0.2;
	calm.onset_strength = 5.0;
	calm.onset_rate = 1.0;
	calm.key_strength = 0.9;
	calm.tempo_bpm = 70.0;
	calm.centroid_hz = 800.0;
	calm.rolloff_hz = 1500.0;
	calm.flatness = 0.001;
	calm.roughness = 0.05;
	wild = calm;
	wild.loudness_lufs = -8.0;
	wild.flux = 0.5;
	wild.onset_strength = 40.0;
	wild.onset_rate = 5.0;
	wild.key_strength = 0.5;
	aud_mood_from_features(&calm, NULL, &a);
	aud_mood_from_features(&wild, NULL, &b);
	assert_true(b.arousal > a.arousal + 0.5);
	for (size_t i = 0; i < n; i++)
		if (!fl[i].is_int)
			*(double *)((char *)&bad + fl[i].offset) = NAN;
	aud_mood_from_features(&bad, NULL, &c);
	assert_true(fabs(c.valence) <= 1.0 && fabs(c.arousal) <= 1.0);
}

static void test_describe(void **state)
{
	struct aud_features f;
	struct aud_mood m = {-0.5, -0.6};
	char out[64], tiny[12];

	(void)state;
	memset(&f, 0, sizeof(f));
	f.mode_major = 0.1;
	f.tempo_bpm = 70.0;
	f.loudness_lufs = -15.0;
	assert_int_equal(aud_describe(&f, &m, out, sizeof(out)), 4);
	assert_string_equal(out, "calm, dark, minor, slow");
	/* only whole words fit */
	assert_int_equal(aud_describe(&f, &m, tiny, sizeof(tiny)), 2);
	assert_string_equal(tiny, "calm, dark");
	m.arousal = 0.0;
	m.valence = 0.0;
	f.mode_major = 0.5;
	f.tempo_bpm = 110.0;
	assert_int_equal(aud_describe(&f, &m, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	f.loudness_lufs = NAN;
	assert_int_equal(aud_describe(&f, &m, out, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fft_matches_dft),
		cmocka_unit_test(test_fft_two_real_frames),
		cmocka_unit_test(test_resampler_sines),
		cmocka_unit_test(test_click_tracks),
		cmocka_unit_test(test_major_minor),
		cmocka_unit_test(test_roughness_orders_intervals),
		cmocka_unit_test(test_true_peak),
		cmocka_unit_test(test_sine_loudness),
		cmocka_unit_test(test_memory_and_silence),
		cmocka_unit_test(test_mime_sniffing),
		cmocka_unit_test(test_mood_model),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests_name("audio", tests, NULL, NULL);
}
