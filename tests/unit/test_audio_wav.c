/* test_audio_wav.c - unit tests for aud_wav (src/audio/wav.c): a file
 * written here with libsndfile, read back as the bytes of a 16-bit WAV
 * file, whole and in pieces from any offset; lossless FLAC must come back
 * sample for sample, Ogg Vorbis and MP3 the same bytes whichever way they
 * are read;
 * files it must refuse, with their descriptor closed. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "moodsync/audio.h"
#include "tmpdir.h"

/* A two-tone stereo signal, deterministic, within 16 bits. */
static int16_t *signal(sf_count_t frames)
{
	int16_t *x = malloc(sizeof(int16_t) * 2 * (size_t)frames);

	assert_non_null(x);
	for (sf_count_t i = 0; i < frames; i++) {
		x[2 * i] = (int16_t)((i * 37) % 20000 - 10000);
		x[2 * i + 1] = (int16_t)((i * 11) % 16000 - 8000);
	}
	return x;
}

static void write_file(const char *path, int format, const int16_t *x,
		       sf_count_t frames)
{
	SF_INFO info = {.channels = 2, .samplerate = 44100, .format = format};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);

	assert_non_null(sf);
	assert_int_equal(sf_writef_short(sf, x, frames), frames);
	assert_int_equal(sf_close(sf), 0);
}

static struct aud_wav *open_wav(const char *path)
{
	struct aud_wav *w = NULL;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(aud_wav_open(fd, NULL, &w), MS_OK);
	return w;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The whole image, read front to back in pieces of `step` bytes. */
static unsigned char *read_all(struct aud_wav *w, size_t step)
{
	uint64_t size = aud_wav_size(w), pos = 0;
	unsigned char *b = malloc((size_t)size + 1);

	assert_non_null(b);
	while (pos < size) {
		long got = aud_wav_read(w, pos, b + pos, step);

		assert_true(got > 0);
		pos += (uint64_t)got;
	}
	assert_int_equal(aud_wav_read(w, size, b, step), 0);
	return b;
}

/* Reads at random offsets and lengths (in the header, mid-frame, across
 * the end, backwards) give the bytes of the front-to-back read. */
static void check_random_reads(struct aud_wav *w, const unsigned char *all)
{
	uint64_t size = aud_wav_size(w);
	unsigned char buf[40000];
	unsigned s = 12345;

	for (int k = 0; k < 60; k++) {
		uint64_t pos;
		size_t n;
		long got;

		s = s * 1103515245u + 12345u;
		pos = k < 3 ? (uint64_t)k * 21 : (s >> 8) % (size + 100);
		n = 1 + (s >> 3) % sizeof(buf);
		got = aud_wav_read(w, pos, buf, n);
		if (pos >= size) {
			assert_int_equal(got, 0);
			continue;
		}
		assert_int_equal(got, (long)(size - pos < n ? size - pos : n));
		assert_memory_equal(buf, all + pos, (size_t)got);
	}
}

static void test_flac_sample_for_sample(void **state)
{
	const sf_count_t frames = 30011;
	char path[300];
	int16_t *x = signal(frames);
	struct aud_wav *w;
	unsigned char *all;

	(void)state;
	snprintf(path, sizeof(path), "%s/a.flac", tmpdir);
	write_file(path, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, x, frames);
	w = open_wav(path);
	assert_int_equal(aud_wav_size(w), 44 + (uint64_t)frames * 4);
	all = read_all(w, 1000);
	assert_memory_equal(all, "RIFF", 4);
	assert_int_equal(le32(all + 4), 36 + frames * 4);
	assert_memory_equal(all + 8, "WAVEfmt ", 8);
	assert_int_equal(le32(all + 16), 16);
	assert_int_equal(all[20] | all[21] << 8, 1);  /* PCM */
	assert_int_equal(all[22] | all[23] << 8, 2);  /* channels */
	assert_int_equal(le32(all + 24), 44100);      /* rate */
	assert_int_equal(le32(all + 28), 44100 * 4);  /* bytes a second */
	assert_int_equal(all[32] | all[33] << 8, 4);  /* bytes a frame */
	assert_int_equal(all[34] | all[35] << 8, 16); /* bits */
	assert_memory_equal(all + 36, "data", 4);
	assert_int_equal(le32(all + 40), frames * 4);
	for (sf_count_t i = 0; i < 2 * frames; i++) {
		const unsigned char *p = all + 44 + 2 * i;

		assert_int_equal((int16_t)(p[0] | p[1] << 8), x[i]);
	}
	check_random_reads(w, all);
	aud_wav_close(w);
	free(all);
	free(x);
}

/* Lossy streams: the same bytes whichever order they are read in (a
 * read behind the decoder reopens the file: libsndfile's own seeks are
 * not exact for every stream). */
static void test_lossy_same_bytes_any_order(void **state)
{
	static const struct {
		const char *name;
		int format;
	} fmts[] = {
		{"a.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS},
		{"a.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III},
	};
	const sf_count_t frames = 44100;
	int16_t *x = signal(frames);

	(void)state;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char path[300];
		struct aud_wav *w;
		unsigned char *all, *again;

		snprintf(path, sizeof(path), "%s/%s", tmpdir, fmts[i].name);
		write_file(path, fmts[i].format, x, frames);
		w = open_wav(path);
		assert_true(aud_wav_size(w) >
			    44 + (uint64_t)frames * 4 * 9 / 10);
		all = read_all(w, 4096);
		check_random_reads(w, all);
		again = read_all(w, 777); /* from the start again */
		assert_memory_equal(again, all, (size_t)aud_wav_size(w));
		aud_wav_close(w);
		free(all);
		free(again);
	}
	free(x);
}

/* Refused with the descriptor closed: not audio, not a regular file, too
 * many channels or too long for the limits. */
static void test_refusals(void **state)
{
	char path[300];
	int16_t *x = signal(100);
	struct aud_limits lim;
	struct aud_wav *w = NULL;
	FILE *f;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/junk.ogg", tmpdir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("OggS but nothing else of an Ogg stream", f);
	fclose(f);
	fd = open(path, O_RDONLY);
	assert_int_equal(aud_wav_open(fd, NULL, &w), MS_EFORMAT);
	assert_null(w);
	assert_int_equal(fcntl(fd, F_GETFD), -1);

	fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(aud_wav_open(fd, NULL, &w), MS_ELIMIT);
	assert_int_equal(fcntl(fd, F_GETFD), -1);

	snprintf(path, sizeof(path), "%s/b.wav", tmpdir);
	write_file(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, x, 100);
	aud_limits_default(&lim);
	lim.max_channels = 1;
	fd = open(path, O_RDONLY);
	assert_int_equal(aud_wav_open(fd, &lim, &w), MS_ELIMIT);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	aud_limits_default(&lim);
	lim.max_duration_s = 0.002; /* the file: 100 frames, 2.3 ms */
	fd = open(path, O_RDONLY);
	assert_int_equal(aud_wav_open(fd, &lim, &w), MS_ELIMIT);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	lim.max_duration_s = 0.003;
	fd = open(path, O_RDONLY);
	assert_int_equal(aud_wav_open(fd, &lim, &w), MS_OK);
	aud_wav_close(w);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flac_sample_for_sample),
		cmocka_unit_test(test_lossy_same_bytes_any_order),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests_name("audio_wav", tests, tmpdir_setup,
					   tmpdir_remove);
}
