/* fuzz_audio.c - libFuzzer harness for src/audio: each input is opened as
 * an audio file through libsndfile's virtual I/O (aud_analyze_memory), so
 * the caps, tag copying, decoding, resampling, loudness, feature and mood
 * code all see hostile bytes; the MIME sniffer gets the same bytes. A
 * successful analysis must give finite features and a mood in [-1, 1].
 * Seed corpus (tests/fuzz/corpus_audio): half-second files made with sox
 * (`sox -n -r 8000 -c 1 tone.ogg synth 0.6 square 220`, WAV/FLAC/Ogg/MP3/
 * AIFF/float WAV), an Ogg Opus file written through libsndfile, and two
 * truncated copies; found-* are small inputs the fuzzer reached new code
 * with (malformed MP3 frames, RIFF/RF64 and Ogg/FLAC headers). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "moodsync/audio.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

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
