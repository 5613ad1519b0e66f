/* audio.h - audio analysis: decodes a music file (libsndfile: WAV, FLAC,
 * Ogg Vorbis, Opus, MP3), measures loudness (libebur128) and its own
 * spectral, rhythm and tonal features, and places the track on the
 * valence/arousal plane the face mood uses. Pure DSP: depends on common
 * only; knows nothing of SQLite, HTTP or JSON. See docs/music-mood.md. */
#ifndef MOODSYNC_AUDIO_H
#define MOODSYNC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"

/* Hard caps on what a file may ask of us. A file past a cap fails with
 * MS_ELIMIT; audio past max_analysis_s is not an error, it is skipped. */
struct aud_limits {
	int64_t max_file_bytes; /* size of the file (or memory buffer) */
	int max_channels;	/* channels in the stream */
	int min_rate, max_rate; /* sample rate, Hz */
	double max_duration_s;	/* declared length of the stream */
	double max_analysis_s;	/* audio decoded and analysed, seconds; a
				 * longer track is sampled in evenly spread
				 * 30 s windows that add up to this */
};

/* 2 GiB, 8 channels, 4 kHz .. 384 kHz, 6 hours, 120 s analysed. */
void aud_limits_default(struct aud_limits *lim);

/* Tags as the file states them, NUL-terminated, "" when absent. Always
 * valid UTF-8 without control characters (a bad byte becomes '?'), cut to
 * fit at a character boundary. */
struct aud_tags {
	char title[256];
	char artist[256];
	char album[256];
	char genre[128];
};

/* What the analysis measures. Every field is finite after a successful
 * analysis (silence gives floors such as -70 LUFS, not -inf). Spectral
 * and rhythm features come from the analysed part (at most
 * max_analysis_s of audio, mixed to mono at AUD_RATE Hz). */
struct aud_features {
	double duration_s;	  /* whole stream, seconds, as declared; a
				   * file read from its start that stops
				   * decoding early (truncated, damaged)
				   * gives the length decoded */
	double analysed_s;	  /* audio the features come from, seconds */
	int sample_rate;	  /* of the file, Hz */
	int channels;		  /* of the file */
	double loudness_lufs;	  /* EBU R128 integrated loudness, LUFS */
	double loudness_range_lu; /* EBU R128 loudness range (LRA), LU */
	double true_peak_dbtp;	  /* max true peak over channels, dBTP */
	double rms_db;		  /* mean frame RMS of the mono mix, dBFS */
	double low_energy;	  /* share of frames below the mean RMS, 0..1 */
	double tempo_bpm;	  /* beats per minute, 40..240 */
	double tempo_confidence;  /* 0..1: how clear the periodicity is */
	double onset_rate;	  /* detected note onsets per second */
	double onset_strength;	  /* mean onset envelope (log flux), >= 0 */
	double centroid_hz;	  /* mean spectral centroid, Hz */
	double rolloff_hz;	  /* mean 85% spectral rolloff, Hz */
	double flux;		  /* mean spectral flux of the L2-normalised
				   * magnitude spectrum, 0..sqrt(2) */
	double flatness;	  /* mean spectral flatness, 0..1 */
	double bass_ratio;	  /* power below 250 Hz / total, 0..1 */
	double mode_major;	  /* 0 (minor) .. 1 (major), 0.5 undecided */
	int key;		  /* tonic pitch class, 0 = C .. 11 = B */
	double key_strength;	  /* correlation with the best key profile,
				   * -1..1 */
	double roughness;	  /* Sethares sensory dissonance of spectral
				   * peaks, per unit peak power, >= 0 */
	double chord_major;	  /* share of chroma frames whose strongest
				   * triad is major, 0..1 */
	double chroma_flux;	  /* mean change of the normalised chroma
				   * between 186 ms frames, 0..1 */
	double rms_std_db;	  /* standard deviation of frame RMS over
				   * non-silent frames, dB */
};

/* One track's mood: each in [-1, 1], the same plane as the face mood
 * (valence: negative..positive, arousal: calm..energetic). */
struct aud_mood {
	double valence;
	double arousal;
};

/* The analysis sample rate, Hz. */
#define AUD_RATE 22050

/* Decodes and analyses the audio file at `path`. `lim` may be NULL for
 * aud_limits_default. `tags`, `f` and `m` (each may be NULL when not
 * wanted) are written only on success. Returns MS_OK, MS_ENOTFOUND /
 * MS_EIO (cannot open or read), MS_EUNSUPPORTED (not a format libsndfile
 * reads), MS_EFORMAT (corrupt, truncated, no audio), MS_ELIMIT (past a
 * cap) or MS_ENOMEM, with a one-line reason in `err`. Reentrant: threads
 * may analyse different files at once; nothing is shared. */
int aud_analyze_file(const char *path, const struct aud_limits *lim,
		     struct aud_tags *tags, struct aud_features *f,
		     struct aud_mood *m, char *err, size_t errlen);

/* The same for a file already in memory (`len` bytes, borrowed). */
int aud_analyze_memory(const void *data, size_t len,
		       const struct aud_limits *lim, struct aud_tags *tags,
		       struct aud_features *f, struct aud_mood *m, char *err,
		       size_t errlen);

/* The feature part alone, on `n` mono samples in [-1, 1] at `rate` Hz
 * (resampled to AUD_RATE here). For synthetic signals and tests: there are
 * no caps beyond MS_ELIMIT for n past 6 hours. `f` is written on success;
 * duration_s = analysed_s = n / rate, channels = 1. */
int aud_analyze_samples(const float *samples, size_t n, int rate,
			struct aud_features *f, char *err, size_t errlen);

/* The valence/arousal model: a linear model on standardised features with
 * coefficients fitted offline on the development set (tools/fit_music_mood.py,
 * docs/music-mood.md), squashed into (-1, 1) by tanh. `tags` may be NULL;
 * it is not used by the current model. Pure function. */
void aud_mood_from_features(const struct aud_features *f,
			    const struct aud_tags *tags, struct aud_mood *m);

/* A few words for a track, for "why this track" lines: "calm, minor,
 * slow". Each of arousal (calm/energetic), valence (dark/cheerful), mode
 * (minor/major), tempo (slow/fast) and loudness (quiet/loud) adds a word
 * when the track sits in roughly the outer fifth of the development set
 * on that side (docs/music-mood.md). Writes whole words, comma-separated,
 * into out (cap bytes, always terminated; 64 fit them all) and returns how
 * many; 0 and "" for an unremarkable track. Pure function. */
size_t aud_describe(const struct aud_features *f, const struct aud_mood *m,
		    char *out, size_t cap);

/* The MIME type for a file's content, from its first bytes (not its name):
 * "audio/wav", "audio/flac", "audio/ogg" (Vorbis or other Ogg),
 * "audio/opus" (Ogg Opus), "audio/mpeg" (MP3, ID3 or frame sync),
 * "audio/aiff". *mime is static. MS_EUNSUPPORTED when it is none of those,
 * MS_ENOTFOUND / MS_EIO when the file cannot be read. */
int aud_probe_mime(const char *path, const char **mime);
/* The same on the first `len` bytes of a file (64 are enough). */
int aud_probe_mime_buf(const void *head, size_t len, const char **mime);

/* The features as a table, for generic printing and storage: name, unit
 * and where the value lives. `key`, `sample_rate` and `channels` are ints
 * (is_int = 1); all others doubles. */
struct aud_field {
	const char *name; /* "loudness_lufs": the struct field's name */
	const char *unit; /* "LUFS", "Hz", "" */
	size_t offset;	  /* offsetof(struct aud_features, ...) */
	int is_int;
};

/* The table (static) and its length. */
const struct aud_field *aud_feature_fields(size_t *n);
/* The value of field `fld` in `f`, as a double. */
double aud_field_value(const struct aud_features *f,
		       const struct aud_field *fld);

/* ---- A track as a 16-bit PCM WAV file, decoded on demand (wav.c) -------
 * For a player that cannot decode the file itself (a browser whose
 * demuxer rejects a valid but unusual Ogg stream): the bytes of the WAV
 * file of the whole stream, a 44-byte RIFF header then the samples
 * interleaved, little-endian, readable from any byte offset (a read that
 * does not continue the last one decodes its way there: forwards, or
 * again from the start, so it costs up to a whole track's decoding, and
 * the bytes never depend on the order of the reads). The size is fixed at
 * open from the frame count the file declares: a stream that decodes
 * shorter ends in silence, a longer one is cut. */
struct aud_wav;

/* Takes fd (closed on failure too). MS_EFORMAT when libsndfile cannot
 * read it, MS_ELIMIT past `lim` (NULL: the defaults) or past what a WAV
 * file can hold (4 GiB), MS_ENOMEM. */
int aud_wav_open(int fd, const struct aud_limits *lim, struct aud_wav **out);
/* Bytes in the WAV file. */
uint64_t aud_wav_size(const struct aud_wav *w);
/* Copies bytes [pos, pos + n) of the WAV file, cut at its end, into buf:
 * how many (0 at or past the end), or MS_EIO when the decoder cannot get
 * there. Not thread-safe on one aud_wav. */
long aud_wav_read(struct aud_wav *w, uint64_t pos, void *buf, size_t n);
void aud_wav_close(struct aud_wav *w);

#endif
