/* fuzz_audio.c - libFuzzer harness for src/audio: each input is opened as
 * an audio file through libsndfile's virtual I/O (aud_analyze_memory), so
 * the caps, tag copying, decoding, resampling, loudness, feature and mood
 * code all see hostile bytes; the MIME sniffer gets the same bytes. A
 * successful analysis must give finite features and a mood in [-1, 1].
 * The same bytes, as a file (memfd), go to aud_wav: reads at the start,
 * the middle, the end and back must stay within the image and agree with
 * each other.
 * Seed corpus (tests/fuzz/corpus_audio): half-second files made with sox
 * (`sox -n -r 8000 -c 1 tone.ogg synth 0.6 square 220`, WAV/FLAC/Ogg/MP3/
 * AIFF/float WAV), an Ogg Opus file written through libsndfile, and two
 * truncated copies; found-* are small inputs the fuzzer reached new code
 * with (malformed MP3 frames, RIFF/RF64 and Ogg/FLAC headers). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "moodsync/audio.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

/* aud_wav on the input as a file: bounded reads that must agree. */
static void fuzz_wav(const uint8_t *buf, size_t len)
{
	static unsigned char a[4096], b[4096];
	struct aud_limits lim;
	struct aud_wav *w;
	uint64_t size, at[3];
	int fd = memfd_create("fuzz_wav", 0);

	if (fd < 0)
		return;
	if (write(fd, buf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return;
	}
	aud_limits_default(&lim);
	lim.max_duration_s = 60.0; /* bounds the decoding of one input */
	if (aud_wav_open(fd, &lim, &w))
		return;
	size = aud_wav_size(w);
	at[0] = 0;
	at[1] = size / 2;
	at[2] = size > 100 ? size - 100 : 0;
	for (int k = 0; k < 3; k++) {
		long n = aud_wav_read(w, at[k], a, sizeof(a));
		uint64_t want =
			size - at[k] < sizeof(a) ? size - at[k] : sizeof(a);

		if (n >= 0 && (uint64_t)n != want)
			__builtin_trap();
		if (n > 0 && aud_wav_read(w, at[k], b, (size_t)n) == n &&
		    memcmp(a, b, (size_t)n) != 0)
			__builtin_trap(); /* read twice, the same bytes */
	}
	if (aud_wav_read(w, 0, a, 44) != 44 || memcmp(a, "RIFF", 4) != 0 ||
	    aud_wav_read(w, size, b, 1) != 0)
		__builtin_trap();
	aud_wav_close(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct aud_limits lim;
	struct aud_tags t;
	struct aud_features f;
	struct aud_mood m;
	char err[MS_ERRLEN], words[64];
	const char *mime;
	size_t nf;
	const struct aud_field *fl = aud_feature_fields(&nf);

	(void)aud_probe_mime_buf(buf, len, &mime);
	fuzz_wav(buf, len);
	aud_limits_default(&lim);
	lim.max_analysis_s = 10.0; /* keeps one input fast */
	lim.max_duration_s = 3600.0;
	if (aud_analyze_memory(buf, len, &lim, &t, &f, &m, err, sizeof(err)))
		return 0;
	for (size_t i = 0; i < nf; i++)
		if (!isfinite(aud_field_value(&f, &fl[i])))
			__builtin_trap();
	if (!(fabs(m.valence) <= 1.0 && fabs(m.arousal) <= 1.0) ||
	    strlen(t.title) >= sizeof(t.title) ||
	    aud_describe(&f, &m, words, sizeof(words)) > 5)
		__builtin_trap();
	return 0;
}
