/* test_audio_files.c - unit tests for src/audio on files written here with
 * libsndfile: WAV, FLAC, Ogg Vorbis and Opus read back with their tags,
 * rates and MIME types, a long track sampled in windows, four threads at
 * once, and hostile files (empty, truncated, garbage, a missing file, a
 * directory, a FIFO, too many channels, a too-large file, long and invalid
 * tags, NaN samples) that must fail cleanly or give finite results. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "audio/audio_internal.h"
#include "moodsync/audio.h"
#include "tmpdir.h"
#include "audio_synth.h"

static void tmp_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_audio(const char *path, int format, int channels, int rate,
			const float *x, sf_count_t frames, const char *title)
{
	SF_INFO info = {
		.channels = channels, .samplerate = rate, .format = format};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	assert_non_null(sf);
	if (title) {
		sf_set_string(sf, SF_STR_TITLE, title);
		sf_set_string(sf, SF_STR_ARTIST, "Test Artist");
	}
	assert_int_equal(sf_writef_float(sf, x, frames), frames);
	assert_int_equal(sf_close(sf), 0);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void test_formats_round_trip(void **state)
{
	static const struct {
		const char *name;
		int format;
		const char *mime;
	} fmts[] = {
		{"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, "audio/wav"},
		{"a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "audio/flac"},
		{"a.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, "audio/ogg"},
		{"a.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, "audio/opus"},
		/* content decides, not the name */
		{"wav-named.mp3", SF_FORMAT_WAV | SF_FORMAT_FLOAT, "audio/wav"},
	};
	size_t frames;
	float *x = sine(48000, 2, 997.0, 0.1, 5.0, &frames);

	(void)state;
	for (size_t i = 0; i < MS_ARRAY_LEN(fmts); i++) {
		char path[300], err[MS_ERRLEN];
		struct aud_tags t;
		struct aud_features f;
		struct aud_mood m;
		const char *mime = NULL;

		tmp_path(path, sizeof(path), fmts[i].name);
		write_audio(path, fmts[i].format, 2, 48000, x,
			    (sf_count_t)frames, "Round Trip \xc3\xa9");
		assert_int_equal(aud_analyze_file(path, NULL, &t, &f, &m, err,
						  sizeof(err)),
				 MS_OK);
		assert_true(fabs(f.duration_s - 5.0) < 0.1);
		assert_int_equal(f.channels, 2);
		assert_int_equal(f.sample_rate, 48000);
		/* both channels at -20 dBFS: -20 LUFS (lossy codecs: near) */
		assert_true(fabs(f.loudness_lufs - -20.0) < 0.5);
		assert_true(m.valence >= -1.0 && m.valence <= 1.0);
		assert_true(m.arousal >= -1.0 && m.arousal <= 1.0);
		if (i == 0) {
			assert_string_equal(t.title, "Round Trip \xc3\xa9");
			assert_string_equal(t.artist, "Test Artist");
		}
		assert_int_equal(aud_probe_mime(path, &mime), MS_OK);
		assert_string_equal(mime, fmts[i].mime);
	}
	free(x);
}

static void test_long_track_is_sampled(void **state)
{
	struct aud_limits lim;
	struct aud_features f;
	char path[300], err[MS_ERRLEN];
	size_t frames;
	float *x = sine(8000, 1, 440.0, 0.3, 200.0, &frames);

	(void)state;
	tmp_path(path, sizeof(path), "long.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 8000, x,
		    (sf_count_t)frames, NULL);
	aud_limits_default(&lim);
	lim.max_analysis_s = 60.0;
	assert_int_equal(
		aud_analyze_file(path, &lim, NULL, &f, NULL, err, sizeof(err)),
		MS_OK);
	assert_true(fabs(f.duration_s - 200.0) < 0.01);
	assert_true(fabs(f.analysed_s - 60.0) < 0.5);
	free(x);
}

/* ---- Threads ------------------------------------------------------------ */
struct job {
	const char *path;
	struct aud_features f;
	struct aud_mood m;
	int rc;
};

static void *analyze_job(void *arg)
{
	struct job *j = arg;

	j->rc = aud_analyze_file(j->path, NULL, NULL, &j->f, &j->m, NULL, 0);
	return NULL;
}

static void test_threads_agree(void **state)
{
	char ogg[300], wav[300];
	struct job jobs[4], ref[2];
	pthread_t th[4];
	size_t frames;
	float *x = sine(44100, 2, 440.0, 0.3, 4.0, &frames);

	(void)state;
	tmp_path(ogg, sizeof(ogg), "thread.ogg");
	tmp_path(wav, sizeof(wav), "thread.wav");
	write_audio(ogg, SF_FORMAT_OGG | SF_FORMAT_VORBIS, 2, 44100, x,
		    (sf_count_t)frames, NULL);
	write_audio(wav, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2, 44100, x,
		    (sf_count_t)frames, NULL);
	ref[0].path = ogg;
	ref[1].path = wav;
	analyze_job(&ref[0]);
	analyze_job(&ref[1]);
	for (int i = 0; i < 4; i++) {
		jobs[i].path = i % 2 ? wav : ogg;
		assert_int_equal(
			pthread_create(&th[i], NULL, analyze_job, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		size_t nf;
		const struct aud_field *fl = aud_feature_fields(&nf);

		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(jobs[i].rc, MS_OK);
		for (size_t k = 0; k < nf; k++)
			assert_true(aud_field_value(&jobs[i].f, &fl[k]) ==
				    aud_field_value(&ref[i % 2].f, &fl[k]));
	}
	free(x);
}

/* ---- Hostile files ------------------------------------------------------ */
static int analyze_path(const char *name, char *err, size_t errlen)
{
	char path[300];
	struct aud_features f;

	tmp_path(path, sizeof(path), name);
	memset(&f, 0, sizeof(f));
	return aud_analyze_file(path, NULL, NULL, &f, NULL, err, errlen);
}

static void test_hostile_files(void **state)
{
	char path[300], err[MS_ERRLEN];
	unsigned char junk[4096];
	uint32_t seed = 11;
	size_t frames;
	float *x = sine(44100, 1, 440.0, 0.5, 2.0, &frames);
	FILE *fp;
	long size;

	(void)state;
	tmp_path(path, sizeof(path), "empty.wav");
	write_bytes(path, "", 0);
	assert_int_equal(analyze_path("empty.wav", err, sizeof(err)),
			 MS_EFORMAT);
	assert_non_null(strstr(err, "empty"));

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(noise(&seed) * 127 + 128);
	tmp_path(path, sizeof(path), "garbage.mp3");
	write_bytes(path, junk, sizeof(junk));
	assert_true(analyze_path("garbage.mp3", err, sizeof(err)) < 0);
	assert_true(strlen(err) > 0 && !strchr(err, '\n'));

	/* a WAV cut to its header and a few samples: too short, clean error */
	tmp_path(path, sizeof(path), "whole.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 44100, x,
		    (sf_count_t)frames, NULL);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fclose(fp);
	assert_int_equal(truncate(path, 44 + 200), 0);
	assert_int_equal(analyze_path("whole.wav", err, sizeof(err)),
			 MS_EFORMAT);
	/* cut in half: analysed as far as it goes */
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 44100, x,
		    (sf_count_t)frames, NULL);
	assert_int_equal(truncate(path, size / 2), 0);
	assert_int_equal(analyze_path("whole.wav", err, sizeof(err)), MS_OK);

	assert_int_equal(analyze_path("missing.wav", err, sizeof(err)),
			 MS_ENOTFOUND);
	assert_int_equal(aud_analyze_file(tmpdir, NULL, NULL, NULL, NULL, err,
					  sizeof(err)),
			 MS_EUNSUPPORTED);
	tmp_path(path, sizeof(path), "fifo.wav");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(analyze_path("fifo.wav", err, sizeof(err)),
			 MS_EUNSUPPORTED);
	free(x);
}

static void test_limits_and_tags(void **state)
{
	char path[300], err[MS_ERRLEN], *title = malloc(5000);
	struct aud_limits lim;
	struct aud_tags t;
	struct aud_features f;
	size_t frames;
	float *x = sine(44100, 9, 440.0, 0.5, 1.0, &frames);

	(void)state;
	tmp_path(path, sizeof(path), "nine.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 9, 44100, x,
		    (sf_count_t)frames, NULL);
	assert_int_equal(analyze_path("nine.wav", err, sizeof(err)), MS_ELIMIT);
	aud_limits_default(&lim);
	lim.max_file_bytes = 1000;
	assert_int_equal(aud_analyze_file(path, &lim, NULL, NULL, NULL, err,
					  sizeof(err)),
			 MS_ELIMIT);

	/* a 2000-byte title of two-byte characters, with an invalid byte
	 * (libsndfile keeps WAV strings up to about 3 KB) */
	for (int i = 0; i < 1998; i += 2)
		memcpy(title + i, "\xc3\xa9", 2);
	title[1998] = '\0';
	title[10] = (char)0xff;
	tmp_path(path, sizeof(path), "tag.wav");
	free(x);
	x = sine(44100, 1, 440.0, 0.5, 1.0, &frames);
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1, 44100, x,
		    (sf_count_t)frames, title);
	assert_int_equal(
		aud_analyze_file(path, NULL, &t, &f, NULL, err, sizeof(err)),
		MS_OK);
	assert_true(strlen(t.title) < sizeof(t.title));
	/* 0xff and the orphaned continuation byte after it */
	assert_int_equal(t.title[10], '?');
	assert_int_equal(t.title[11], '?');
	/* cut on a character boundary: whole two-byte characters after */
	assert_int_equal(strlen(t.title), sizeof(t.title) - 2);
	assert_int_equal((strlen(t.title) - 12) % 2, 0);
	free(x);
	free(title);
}

static void test_nan_samples(void **state)
{
	char path[300], err[MS_ERRLEN];
	struct aud_features f;
	struct aud_mood m;
	size_t frames, nf;
	float *x = sine(44100, 1, 440.0, 0.5, 2.0, &frames);
	const struct aud_field *fl = aud_feature_fields(&nf);

	(void)state;
	for (size_t i = 0; i < frames; i += 7)
		x[i] = i % 2 ? NAN : INFINITY;
	tmp_path(path, sizeof(path), "nan.wav");
	write_audio(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 44100, x,
		    (sf_count_t)frames, NULL);
	assert_int_equal(
		aud_analyze_file(path, NULL, NULL, &f, &m, err, sizeof(err)),
		MS_OK);
	for (size_t i = 0; i < nf; i++)
		assert_true(isfinite(aud_field_value(&f, &fl[i])));
	assert_true(isfinite(m.valence) && isfinite(m.arousal));
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats_round_trip),
		cmocka_unit_test(test_long_track_is_sampled),
		cmocka_unit_test(test_threads_agree),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_limits_and_tags),
		cmocka_unit_test(test_nan_samples),
	};

	return cmocka_run_group_tests_name("audio_files", tests, tmpdir_setup,
					   tmpdir_remove);
}
