/* analyze.c - the public face of src/audio: caps, opening a file or a
 * buffer safely, running decode + features + mood, the feature table and
 * the MIME sniffing the streaming server uses. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_internal.h"

void aud_limits_default(struct aud_limits *lim)
{
	lim->max_file_bytes = (int64_t)2 << 30;
	lim->max_channels = 8;
	lim->min_rate = 4000;
	lim->max_rate = 384000;
	lim->max_duration_s = 6 * 3600.0;
	lim->max_analysis_s = 120.0;
}

/* Replaces anything non-finite so every published feature is a number. */
static void sanitize(struct aud_features *f)
{
	size_t n;
	const struct aud_field *fl = aud_feature_fields(&n);

	for (size_t i = 0; i < n; i++) {
		double *p;

		if (fl[i].is_int)
			continue;
		p = (double *)((char *)f + fl[i].offset);
		if (!isfinite(*p))
			*p = 0.0;
	}
}

static int finish(struct aud_decoded *d, const struct aud_tags *tags,
		  struct aud_features *f_out, struct aud_mood *m_out, char *err,
		  size_t errlen)
{
	struct aud_features f;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = aud_features_compute(d->mono, d->n, &f, err, errlen);
	if (rc)
		return rc;
	f.duration_s = d->duration_s;
	f.analysed_s = (double)d->n / AUD_RATE;
	f.sample_rate = d->sample_rate;
	f.channels = d->channels;
	f.loudness_lufs = d->loudness_lufs;
	f.loudness_range_lu = d->loudness_range_lu;
	f.true_peak_dbtp = d->true_peak_dbtp;
	sanitize(&f);
	if (m_out)
		aud_mood_from_features(&f, tags, m_out);
	if (f_out)
		*f_out = f;
	return MS_OK;
}

static int analyze(int fd, const void *data, size_t len,
		   const struct aud_limits *lim, struct aud_tags *tags_out,
		   struct aud_features *f, struct aud_mood *m, char *err,
		   size_t errlen)
{
	struct aud_limits def;
	struct aud_decoded d;
	struct aud_tags tags;
	int rc;

	if (!lim) {
		aud_limits_default(&def);
		lim = &def;
	}
	memset(&tags, 0, sizeof(tags));
	rc = aud_decode(fd, data, len, lim, &tags, &d, err, errlen);
	if (rc)
		return rc;
	rc = finish(&d, &tags, f, m, err, errlen);
	if (rc == MS_OK && tags_out)
		*tags_out = tags;
	aud_decoded_release(&d);
	return rc;
}

int aud_analyze_file(const char *path, const struct aud_limits *lim,
		     struct aud_tags *tags, struct aud_features *f,
		     struct aud_mood *m, char *err, size_t errlen)
{
	struct aud_limits def;
	struct stat st;
	int fd, rc;

	if (!lim) {
		aud_limits_default(&def);
		lim = &def;
	}
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return ms_errf(err, errlen,
			       errno == ENOENT ? MS_ENOTFOUND : MS_EIO,
			       "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = ms_errf(err, errlen, MS_EIO, "cannot stat: %s",
			     strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ms_errf(err, errlen, MS_EUNSUPPORTED,
			     "not a regular file");
		goto out_close;
	}
	if (st.st_size == 0) {
		rc = ms_errf(err, errlen, MS_EFORMAT, "empty file");
		goto out_close;
	}
	if (st.st_size > lim->max_file_bytes) {
		rc = ms_errf(err, errlen, MS_ELIMIT,
			     "file of %lld bytes (at most %lld)",
			     (long long)st.st_size,
			     (long long)lim->max_file_bytes);
		goto out_close;
	}
	rc = analyze(fd, NULL, 0, lim, tags, f, m, err, errlen);
out_close:
	close(fd);
	return rc;
}

int aud_analyze_memory(const void *data, size_t len,
		       const struct aud_limits *lim, struct aud_tags *tags,
		       struct aud_features *f, struct aud_mood *m, char *err,
		       size_t errlen)
{
	struct aud_limits def;

	if (!lim) {
		aud_limits_default(&def);
		lim = &def;
	}
	if (len == 0)
		return ms_errf(err, errlen, MS_EFORMAT, "empty file");
	if ((uint64_t)len > (uint64_t)lim->max_file_bytes)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "file of %zu bytes (at most %lld)", len,
			       (long long)lim->max_file_bytes);
	return analyze(-1, data, len, lim, tags, f, m, err, errlen);
}

int aud_analyze_samples(const float *samples, size_t n, int rate,
			struct aud_features *f_out, char *err, size_t errlen)
{
	struct aud_resampler rs;
	struct aud_decoded d;
	float *clean = NULL;
	size_t cap;
	int rc;

	memset(&d, 0, sizeof(d));
	if (rate < 1000 || rate > 384000)
		return ms_errf(err, errlen, MS_EINVAL, "bad rate %d", rate);
	if ((double)n / rate > 6 * 3600.0)
		return ms_errf(err, errlen, MS_ELIMIT, "longer than 6 hours");
	cap = (size_t)((double)n * AUD_RATE / rate) + 64;
	clean = ms_mallocarray(n ? n : 1, sizeof(float));
	d.mono = ms_mallocarray(cap, sizeof(float));
	rc = clean && d.mono ? aud_resampler_init(&rs, rate) : MS_ENOMEM;
	if (rc) {
		rc = ms_errf(err, errlen, rc, "out of memory");
		goto out_free;
	}
	for (size_t i = 0; i < n; i++)
		clean[i] = isfinite(samples[i]) ? samples[i] : 0.0f;
	aud_resampler_push(&rs, clean, n, d.mono, cap, &d.n);
	aud_resampler_release(&rs);
	rc = aud_loudness_mono(clean, n, rate, &d.loudness_lufs,
			       &d.loudness_range_lu, &d.true_peak_dbtp, err,
			       errlen);
	if (rc)
		goto out_free;
	d.duration_s = (double)n / rate;
	d.sample_rate = rate;
	d.channels = 1;
	rc = finish(&d, NULL, f_out, NULL, err, errlen);
	if (rc == MS_OK && f_out)
		f_out->analysed_s = f_out->duration_s;
out_free:
	free(clean);
	free(d.mono);
	return rc;
}

/* ---- The feature table -------------------------------------------------- */
#define FD(name, unit)                                                         \
	{                                                                      \
#name, unit, offsetof(struct aud_features, name), 0            \
	}
#define FI(name, unit)                                                         \
	{                                                                      \
#name, unit, offsetof(struct aud_features, name), 1            \
	}

static const struct aud_field fields[] = {
	FD(duration_s, "s"),	    FD(analysed_s, "s"),
	FI(sample_rate, "Hz"),	    FI(channels, ""),
	FD(loudness_lufs, "LUFS"),  FD(loudness_range_lu, "LU"),
	FD(true_peak_dbtp, "dBTP"), FD(rms_db, "dBFS"),
	FD(low_energy, ""),	    FD(tempo_bpm, "BPM"),
	FD(tempo_confidence, ""),   FD(onset_rate, "1/s"),
	FD(onset_strength, ""),	    FD(centroid_hz, "Hz"),
	FD(rolloff_hz, "Hz"),	    FD(flux, ""),
	FD(flatness, ""),	    FD(bass_ratio, ""),
	FD(mode_major, ""),	    FI(key, "pitch class"),
	FD(key_strength, ""),	    FD(roughness, ""),
	FD(chord_major, ""),	    FD(chroma_flux, ""),
	FD(rms_std_db, "dB"),
};

const struct aud_field *aud_feature_fields(size_t *n)
{
	*n = MS_ARRAY_LEN(fields);
	return fields;
}

double aud_field_value(const struct aud_features *f,
		       const struct aud_field *fld)
{
	const char *p = (const char *)f + fld->offset;

	return fld->is_int ? (double)*(const int *)p : *(const double *)p;
}

/* ---- MIME sniffing ------------------------------------------------------ */
int aud_probe_mime_buf(const void *head, size_t len, const char **mime)
{
	const unsigned char *b = head;

	if (len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WAVE", 4))
		*mime = "audio/wav";
	else if (len >= 12 && !memcmp(b, "RF64", 4) &&
		 !memcmp(b + 8, "WAVE", 4))
		*mime = "audio/wav";
	else if (len >= 4 && !memcmp(b, "fLaC", 4))
		*mime = "audio/flac";
	else if (len >= 36 && !memcmp(b, "OggS", 4) &&
		 !memcmp(b + 28, "OpusHead", 8))
		*mime = "audio/opus";
	else if (len >= 4 && !memcmp(b, "OggS", 4))
		*mime = "audio/ogg";
	else if (len >= 12 && !memcmp(b, "FORM", 4) &&
		 (!memcmp(b + 8, "AIFF", 4) || !memcmp(b + 8, "AIFC", 4)))
		*mime = "audio/aiff";
	else if (len >= 3 && !memcmp(b, "ID3", 3))
		*mime = "audio/mpeg";
	else if (len >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0 &&
		 (b[1] & 0x06) != 0) /* frame sync, layer I..III */
		*mime = "audio/mpeg";
	else
		return MS_EUNSUPPORTED;
	return MS_OK;
}

int aud_probe_mime(const char *path, const char **mime)
{
	unsigned char head[64];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? MS_ENOTFOUND : MS_EIO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = MS_EUNSUPPORTED;
		goto out_close;
	}
	got = read(fd, head, sizeof(head));
	rc = got < 0 ? MS_EIO : aud_probe_mime_buf(head, (size_t)got, mime);
out_close:
	close(fd);
	return rc;
}
