/* decode.c - from a file (descriptor or memory) to the analysed audio:
 * libsndfile opens and decodes it (WAV, FLAC, Ogg Vorbis/Opus, MP3, ...),
 * every cap in struct aud_limits is checked before anything is read, the
 * tags are copied, libebur128 measures loudness and truepeak.c the true
 * peak on the original channels,
 * and the channels are mixed to mono and resampled to AUD_RATE. A track
 * longer than max_analysis_s is sampled in evenly spread windows. */
#include <math.h>
#include <sndfile.h>
#include <ebur128.h>

#include "audio/audio_internal.h"

#define BLOCK_FRAMES 4096
#define WINDOW_S 30.0 /* length of one analysis window of a long track */
#define MAX_WINDOWS 16
#define FLOOR_DB -70.0	   /* what silence measures, LUFS and dBTP */
#define SAMPLE_CLAMP 16.0f /* float files may hold anything */

/* ---- libsndfile virtual I/O on a memory buffer ------------------------ */
struct memsrc {
	const unsigned char *data;
	sf_count_t len, pos;
};

static sf_count_t mem_len(void *u)
{
	return ((struct memsrc *)u)->len;
}

static sf_count_t mem_seek(sf_count_t off, int whence, void *u)
{
	struct memsrc *m = u;
	sf_count_t base = whence == SEEK_CUR   ? m->pos
			  : whence == SEEK_END ? m->len
					       : 0;

	if ((off > 0 && base > m->len - off) || base + off < 0)
		return -1;
	m->pos = base + off;
	return m->pos;
}

static sf_count_t mem_read(void *dst, sf_count_t n, void *u)
{
	struct memsrc *m = u;
	sf_count_t left = m->pos < m->len ? m->len - m->pos : 0;

	if (n < 0)
		return 0;
	if (n > left)
		n = left;
	memcpy(dst, m->data + m->pos, (size_t)n);
	m->pos += n;
	return n;
}

static sf_count_t mem_write(const void *src, sf_count_t n, void *u)
{
	(void)src;
	(void)n;
	(void)u;
	return 0;
}

static sf_count_t mem_tell(void *u)
{
	return ((struct memsrc *)u)->pos;
}

/* ---- Opening ------------------------------------------------------------ */
static int open_error(char *err, size_t errlen)
{
	int e = sf_error(NULL);
	const char *why = sf_error_number(e);

	switch (e) {
	case SF_ERR_UNRECOGNISED_FORMAT:
		return ms_errf(err, errlen, MS_EUNSUPPORTED,
			       "not a recognised audio format");
	case SF_ERR_SYSTEM:
		return ms_errf(err, errlen, MS_EIO, "cannot read: %s", why);
	case SF_ERR_UNSUPPORTED_ENCODING:
		return ms_errf(err, errlen, MS_EUNSUPPORTED, "%s", why);
	default:
		return ms_errf(err, errlen, MS_EFORMAT, "corrupt audio: %s",
			       why);
	}
}

/* Copies a tag as valid UTF-8 without control characters, cut to fit at
 * a character boundary; each bad byte becomes '?'. */
static void copy_tag(SNDFILE *sf, int which, char *dst, size_t cap)
{
	const unsigned char *s =
		(const unsigned char *)sf_get_string(sf, which);
	size_t o = 0, left = s ? strlen((const char *)s) : 0;

	while (left > 0) {
		size_t n = ms_utf8_len(s, left);

		if (n == 0 || (n == 1 && s[0] < 0x20) || s[0] == 0x7F) {
			if (o + 1 >= cap)
				break;
			dst[o++] = s[0] == '\t' ? ' ' : '?';
			s++;
			left--;
			continue;
		}
		if (o + n >= cap)
			break;
		memcpy(dst + o, s, n);
		o += n;
		s += n;
		left -= n;
	}
	dst[o] = '\0';
}

static int check_caps(const SF_INFO *in, const struct aud_limits *lim,
		      char *err, size_t errlen)
{
	if (in->channels < 1 || in->channels > lim->max_channels)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "%d channels (at most %d)", in->channels,
			       lim->max_channels);
	if (in->samplerate < lim->min_rate || in->samplerate > lim->max_rate)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "sample rate %d Hz (%d..%d)", in->samplerate,
			       lim->min_rate, lim->max_rate);
	if (in->frames <= 0)
		return ms_errf(err, errlen, MS_EFORMAT, "no audio frames");
	if (in->frames != SF_COUNT_MAX &&
	    (double)in->frames / in->samplerate > lim->max_duration_s)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "%.0f s long (at most %.0f)",
			       (double)in->frames / in->samplerate,
			       lim->max_duration_s);
	return MS_OK;
}

/* ---- Reading ------------------------------------------------------------ */
struct reader {
	SNDFILE *sf;
	int channels, rate;
	ebur128_state *r128;
	struct aud_truepeak tp;
	struct aud_resampler rs;
	float *block; /* (BLOCK_FRAMES * channels) interleaved */
	float *mono;  /* (BLOCK_FRAMES) */
	float *out;   /* (out_cap) at AUD_RATE */
	size_t out_cap, nout;
	int64_t frames_read;
};

/* Decodes up to `want` frames from the current position; stops quietly at
 * the end of the data (a truncated file is read as far as it goes). */
static int read_window(struct reader *rd, int64_t want)
{
	int ch = rd->channels;

	while (want > 0) {
		sf_count_t n = (sf_count_t)MS_MIN(want, BLOCK_FRAMES);
		sf_count_t got = sf_readf_float(rd->sf, rd->block, n);

		if (got <= 0)
			break;
		for (sf_count_t i = 0; i < got * ch; i++) {
			float v = rd->block[i];

			if (!isfinite(v))
				v = 0.0f;
			rd->block[i] = v > SAMPLE_CLAMP	   ? SAMPLE_CLAMP
				       : v < -SAMPLE_CLAMP ? -SAMPLE_CLAMP
							   : v;
		}
		for (sf_count_t i = 0; i < got; i++) {
			float s = 0.0f;

			for (int c = 0; c < ch; c++)
				s += rd->block[i * ch + c];
			rd->mono[i] = s / (float)ch;
		}
		if (ebur128_add_frames_float(rd->r128, rd->block, (size_t)got))
			return MS_ENOMEM;
		aud_truepeak_add(&rd->tp, rd->block, (size_t)got);
		aud_resampler_push(&rd->rs, rd->mono, (size_t)got, rd->out,
				   rd->out_cap, &rd->nout);
		rd->frames_read += got;
		want -= got;
	}
	return MS_OK;
}

/* Where the analysis windows go: one from the start when the whole track
 * fits (or its length is unknown or it cannot seek), else up to
 * MAX_WINDOWS evenly spread ones. Returns the number of windows. */
static int plan_windows(const SF_INFO *in, const struct aud_limits *lim,
			int64_t start[], int64_t len[])
{
	double cap_frames = lim->max_analysis_s * in->samplerate;
	int64_t total = in->frames, seg;
	int nwin;

	if (in->frames == SF_COUNT_MAX || !in->seekable ||
	    (double)total <= cap_frames) {
		start[0] = 0;
		len[0] = (double)total < cap_frames ? total
						    : (int64_t)cap_frames;
		return 1;
	}
	nwin = (int)ceil(lim->max_analysis_s / WINDOW_S);
	nwin = nwin < 1 ? 1 : nwin > MAX_WINDOWS ? MAX_WINDOWS : nwin;
	seg = (int64_t)(cap_frames / nwin);
	for (int k = 0; k < nwin; k++) {
		int64_t slot = total / nwin;

		start[k] = k * slot + (slot - seg) / 2;
		len[k] = seg;
	}
	return nwin;
}

static void loudness_results(ebur128_state *st, const struct aud_truepeak *tp,
			     struct aud_decoded *d)
{
	double v;

	d->loudness_lufs = FLOOR_DB;
	if (ebur128_loudness_global(st, &v) == EBUR128_SUCCESS && isfinite(v))
		d->loudness_lufs = MS_MAX(v, FLOOR_DB);
	d->loudness_range_lu = 0.0;
	if (ebur128_loudness_range(st, &v) == EBUR128_SUCCESS && isfinite(v))
		d->loudness_range_lu = MS_MAX(v, 0.0);
	d->true_peak_dbtp = aud_truepeak_dbtp(tp, FLOOR_DB);
}

static int reader_init(struct reader *rd, SNDFILE *sf, const SF_INFO *in,
		       size_t out_cap)
{
	memset(rd, 0, sizeof(*rd));
	rd->sf = sf;
	rd->channels = in->channels;
	rd->rate = in->samplerate;
	rd->out_cap = out_cap;
	rd->r128 = ebur128_init(
		(unsigned)in->channels, (unsigned long)in->samplerate,
		EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_HISTOGRAM);
	aud_truepeak_init(&rd->tp, in->channels);
	rd->block = ms_mallocarray((size_t)BLOCK_FRAMES * (size_t)in->channels,
				   sizeof(float));
	rd->mono = ms_mallocarray(BLOCK_FRAMES, sizeof(float));
	rd->out = ms_mallocarray(out_cap, sizeof(float));
	if (!rd->r128 || !rd->block || !rd->mono || !rd->out ||
	    aud_resampler_init(&rd->rs, in->samplerate))
		return MS_ENOMEM;
	return MS_OK;
}

static void reader_release(struct reader *rd)
{
	if (rd->r128)
		ebur128_destroy(&rd->r128);
	aud_resampler_release(&rd->rs);
	free(rd->block);
	free(rd->mono);
	free(rd->out);
}

static int decode_open(SNDFILE *sf, const SF_INFO *in,
		       const struct aud_limits *lim, struct aud_decoded *out,
		       char *err, size_t errlen)
{
	int64_t start[MAX_WINDOWS], len[MAX_WINDOWS], want = 0;
	int nwin = plan_windows(in, lim, start, len), rc;
	struct reader rd;
	size_t out_cap;

	for (int k = 0; k < nwin; k++)
		want += len[k];
	out_cap = (size_t)((double)want * AUD_RATE / in->samplerate) + 64;
	rc = reader_init(&rd, sf, in, out_cap);
	if (rc) {
		rc = ms_errf(err, errlen, rc, "out of memory");
		goto out_release;
	}
	for (int k = 0; k < nwin && rc == MS_OK; k++) {
		if (start[k] > 0 && sf_seek(sf, start[k], SEEK_SET) < 0)
			break; /* keep the windows read so far */
		rc = read_window(&rd, len[k]);
	}
	if (rc) {
		rc = ms_errf(err, errlen, rc, "out of memory");
		goto out_release;
	}
	if (rd.frames_read == 0 || rd.nout == 0) {
		rc = ms_errf(err, errlen, MS_EFORMAT, "no decodable audio");
		goto out_release;
	}
	memset(out, 0, sizeof(*out));
	loudness_results(rd.r128, &rd.tp, out);
	out->sample_rate = in->samplerate;
	out->channels = in->channels;
	out->duration_s = (double)in->frames / in->samplerate;
	if (in->frames == SF_COUNT_MAX || (nwin == 1 && rd.frames_read < want))
		out->duration_s = (double)rd.frames_read / in->samplerate;
	out->mono = rd.out;
	out->n = rd.nout;
	rd.out = NULL;
out_release:
	reader_release(&rd);
	return rc;
}

int aud_decode(int src_fd, const void *data, size_t len,
	       const struct aud_limits *lim, struct aud_tags *tags,
	       struct aud_decoded *out, char *err, size_t errlen)
{
	SF_VIRTUAL_IO vio = {mem_len, mem_seek, mem_read, mem_write, mem_tell};
	struct memsrc mem = {data, (sf_count_t)len, 0};
	SF_INFO info;
	SNDFILE *sf;
	int rc;

	memset(&info, 0, sizeof(info));
	sf = src_fd >= 0 ? sf_open_fd(src_fd, SFM_READ, &info, SF_FALSE)
			 : sf_open_virtual(&vio, SFM_READ, &info, &mem);
	if (!sf)
		return open_error(err, errlen);
	rc = check_caps(&info, lim, err, errlen);
	if (rc)
		goto out_close;
	if (tags) {
		copy_tag(sf, SF_STR_TITLE, tags->title, sizeof(tags->title));
		copy_tag(sf, SF_STR_ARTIST, tags->artist, sizeof(tags->artist));
		copy_tag(sf, SF_STR_ALBUM, tags->album, sizeof(tags->album));
		copy_tag(sf, SF_STR_GENRE, tags->genre, sizeof(tags->genre));
	}
	rc = decode_open(sf, &info, lim, out, err, errlen);
out_close:
	sf_close(sf);
	return rc;
}

void aud_decoded_release(struct aud_decoded *d)
{
	free(d->mono);
	memset(d, 0, sizeof(*d));
}

int aud_loudness_mono(const float *x, size_t n, int rate, double *lufs,
		      double *lra, double *peak_db, char *err, size_t errlen)
{
	ebur128_state *st = ebur128_init(1, (unsigned long)rate,
					 EBUR128_MODE_I | EBUR128_MODE_LRA |
						 EBUR128_MODE_HISTOGRAM);
	struct aud_truepeak tp;
	struct aud_decoded d;
	int rc = MS_OK;

	if (!st)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	if (ebur128_add_frames_float(st, x, n)) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		goto out_destroy;
	}
	aud_truepeak_init(&tp, 1);
	aud_truepeak_add(&tp, x, n);
	loudness_results(st, &tp, &d);
	*lufs = d.loudness_lufs;
	*lra = d.loudness_range_lu;
	*peak_db = d.true_peak_dbtp;
out_destroy:
	ebur128_destroy(&st);
	return rc;
}
