/* spectral.c - the features computed from the short-time spectrum of the
 * mono AUD_RATE signal: frame loudness (RMS), spectral centroid and 85%
 * rolloff (of the magnitude spectrum), flatness, bass share, flux, the onset
 * envelope that rhythm.c turns into tempo and onset rate, the sensory roughness
 * of spectral peaks and (with a longer window, for pitch resolution) the chroma
 * key.c reads. Formulas: docs/music-mood.md. */
#include <math.h>

#include "audio/audio_internal.h"

#define NFFT 2048  /* 93 ms at 22050 Hz */
#define HOP 512	   /* 23 ms: the onset envelope runs at ~43 Hz */
#define CNFFT 8192 /* chroma: 2.7 Hz bins, 371 ms */
#define CHOP 4096
#define NBINS (NFFT / 2 + 1)
#define SILENT_RMS 1e-4 /* -80 dBFS: frames below are skipped */
#define ROLLOFF 0.85
#define BASS_HZ 250.0
#define ONSET_GAIN 100.0 /* log(1 + g |X|) compression of the flux */
#define ROUGH_EVERY 4	 /* roughness on every 4th frame (93 ms) */
#define NPEAKS 24	 /* strongest spectral peaks it considers */
#define PEAK_MIN_HZ 50.0
#define PEAK_MAX_HZ 5000.0
#define CHROMA_MIN_HZ 55.0
#define CHROMA_MAX_HZ 5000.0

typedef void (*frame_fn)(void *ctx, size_t t, const double *pow);

/* Runs a Hann-windowed STFT over x[n], two frames per complex FFT, and
 * calls fn for each frame with its power spectrum (nfft / 2 + 1 bins). */
static int stft_run(const float *x, size_t n, int nfft, int hop, frame_fn fn,
		    void *ctx)
{
	struct aud_fft fft;
	size_t nfr =
		n >= (size_t)nfft ? (n - (size_t)nfft) / (size_t)hop + 1 : 0;
	double *win = ms_mallocarray((size_t)nfft, sizeof(double));
	double *buf = ms_mallocarray(
		2 * (size_t)nfft + 2 * (size_t)(nfft / 2 + 1), sizeof(double));
	int rc = aud_fft_init(&fft, nfft);

	if (rc || !win || !buf) {
		rc = MS_ENOMEM;
		goto out_free;
	}
	double *re = buf, *im = buf + nfft, *pa = im + nfft,
	       *pb = pa + nfft / 2 + 1;

	for (int i = 0; i < nfft; i++)
		win[i] = 0.5 - 0.5 * cos(2.0 * M_PI * i / nfft);
	for (size_t t = 0; t < nfr; t += 2) {
		const float *a = x + t * (size_t)hop;
		int two = t + 1 < nfr;

		for (int i = 0; i < nfft; i++) {
			re[i] = win[i] * a[i];
			im[i] = two ? win[i] * a[i + hop] : 0.0;
		}
		aud_fft_power2(&fft, re, im, pa, pb);
		fn(ctx, t, pa);
		if (two)
			fn(ctx, t + 1, pb);
	}
out_free:
	aud_fft_release(&fft);
	free(win);
	free(buf);
	return rc;
}

/* ---- The main pass ------------------------------------------------------ */
struct main_ctx {
	const float *x;
	float *env;	 /* (nframes) onset envelope */
	float *rms;	 /* (nframes) frame RMS, linear */
	double *prev;	 /* (NBINS) previous frame, L2-normalised magnitude */
	double *prevlog; /* (NBINS) previous frame, log-compressed magnitude */
	double *mag;	 /* (NBINS) scratch */
	int have_prev;
	double centroid, rolloff, flatness, bass, flux, rough;
	size_t nactive, nflux, nrough;
};

/* Roughness of one frame from its NPEAKS strongest local maxima. */
static double frame_roughness(const double *mag)
{
	double f[NPEAKS], a[NPEAKS];
	int np = 0;
	int lo = (int)(PEAK_MIN_HZ * NFFT / AUD_RATE);
	int hi = (int)(PEAK_MAX_HZ * NFFT / AUD_RATE);

	for (int k = MS_MAX(lo, 1); k <= hi; k++) {
		int j;

		if (!(mag[k] > mag[k - 1] && mag[k] >= mag[k + 1]))
			continue;
		if (np == NPEAKS && mag[k] <= a[np - 1])
			continue;
		j = np < NPEAKS ? np++ : np - 1;
		while (j > 0 && a[j - 1] < mag[k]) { /* keep a[] sorted down */
			a[j] = a[j - 1];
			f[j] = f[j - 1];
			j--;
		}
		a[j] = mag[k];
		f[j] = (double)k * AUD_RATE / NFFT;
	}
	return aud_dissonance(f, a, np);
}

static void frame_spectral(struct main_ctx *c, size_t t, const double *pow)
{
	double sum = 0.0, wsum = 0.0, logsum = 0.0, bass = 0.0, acc = 0.0;
	double l2 = 0.0, flux = 0.0;
	int kb = (int)(BASS_HZ * NFFT / AUD_RATE);

	for (int k = 1; k < NBINS; k++) {
		sum += c->mag[k];
		wsum += c->mag[k] * k;
		logsum += log(pow[k] + 1e-12);
		if (k <= kb)
			bass += pow[k];
		l2 += pow[k];
	}
	if (sum <= 0.0 || l2 <= 0.0)
		return;
	c->centroid += wsum / sum * AUD_RATE / NFFT;
	c->bass += bass / l2;
	c->flatness += exp(logsum / (NBINS - 1)) / (l2 / (NBINS - 1) + 1e-12);
	for (int k = 1; k < NBINS; k++) {
		acc += c->mag[k];
		if (acc >= ROLLOFF * sum) {
			c->rolloff += (double)k * AUD_RATE / NFFT;
			break;
		}
	}
	l2 = sqrt(l2) * 4.0 / NFFT; /* the L2 norm of mag[] */
	for (int k = 1; k < NBINS; k++) {
		double m = c->mag[k] / l2;

		if (c->have_prev)
			flux += (m - c->prev[k]) * (m - c->prev[k]);
		c->prev[k] = m;
	}
	if (c->have_prev) {
		c->flux += sqrt(flux);
		c->nflux++;
	}
	if (t % ROUGH_EVERY == 0) {
		c->rough += frame_roughness(c->mag);
		c->nrough++;
	}
	c->nactive++;
}

static void main_frame(void *ctx, size_t t, const double *pow)
{
	struct main_ctx *c = ctx;
	const float *seg = c->x + t * HOP + (NFFT - HOP) / 2;
	double e = 0.0, onset = 0.0;

	for (int i = 0; i < HOP; i++)
		e += (double)seg[i] * seg[i];
	c->rms[t] = (float)sqrt(e / HOP);
	for (int k = 0; k < NBINS; k++) {
		/* magnitude in units of a sine's amplitude (Hann gain N/4) */
		double m = sqrt(pow[k]) * 4.0 / NFFT,
		       lg = log1p(ONSET_GAIN * m);

		c->mag[k] = m;
		if (t > 0 && lg > c->prevlog[k])
			onset += lg - c->prevlog[k];
		c->prevlog[k] = lg;
	}
	c->env[t] = (float)onset;
	if (c->rms[t] < SILENT_RMS) {
		c->have_prev = 0;
		return;
	}
	frame_spectral(c, t, pow);
	c->have_prev = 1;
}

/* ---- Chroma ------------------------------------------------------------- */
struct chroma_ctx {
	const float *x;
	int lo, hi;	 /* bin range */
	signed char *pc; /* (CNFFT / 2 + 1) pitch class of each bin */
	float *w;	 /* (CNFFT / 2 + 1) weight: how close to a semitone */
	double sum[12];
	double prev[12]; /* previous voting frame, normalised */
	int have_prev;
	double flux; /* sum of half the L1 change between voting frames */
	size_t nflux, nvote, nmajor;
};

/* Whether the strongest major triad in v[] outweighs the strongest minor. */
static int major_triad_leads(const double v[12])
{
	double bmaj = 0.0, bmin = 0.0;

	for (int r = 0; r < 12; r++) {
		double maj = v[r] + v[(r + 4) % 12] + v[(r + 7) % 12];
		double min = v[r] + v[(r + 3) % 12] + v[(r + 7) % 12];

		bmaj = MS_MAX(bmaj, maj);
		bmin = MS_MAX(bmin, min);
	}
	return bmaj > bmin;
}

static void chroma_frame(void *ctx, size_t t, const double *pow)
{
	struct chroma_ctx *c = ctx;
	double v[12] = {0}, tot = 0.0;

	(void)t;
	for (int k = c->lo; k <= c->hi; k++)
		v[c->pc[k]] += c->w[k] * sqrt(pow[k]);
	for (int i = 0; i < 12; i++)
		tot += v[i];
	if (tot <= 1e-9 * CNFFT) {
		c->have_prev = 0;
		return; /* silence: no vote */
	}
	double d = 0.0;

	for (int i = 0; i < 12; i++) {
		v[i] /= tot;
		c->sum[i] += v[i];
		d += fabs(v[i] - c->prev[i]);
		c->prev[i] = v[i];
	}
	if (c->have_prev) {
		c->flux += 0.5 * d;
		c->nflux++;
	}
	c->have_prev = 1;
	c->nvote++;
	c->nmajor += (size_t)major_triad_leads(v);
}

/* Chroma, then key, mode, chord quality and harmonic change into f. */
static int chroma_run(const float *x, size_t n, struct aud_features *f)
{
	struct chroma_ctx c;
	int nb = CNFFT / 2 + 1, rc;

	memset(&c, 0, sizeof(c));
	c.x = x;
	c.lo = (int)ceil(CHROMA_MIN_HZ * CNFFT / AUD_RATE);
	c.hi = (int)(CHROMA_MAX_HZ * CNFFT / AUD_RATE);
	c.pc = ms_calloc((size_t)nb, 1);
	c.w = ms_calloc((size_t)nb, sizeof(float));
	if (!c.pc || !c.w) {
		rc = MS_ENOMEM;
		goto out_free;
	}
	for (int k = c.lo; k <= c.hi; k++) {
		double midi = 69.0 +
			      12.0 * log2((double)k * AUD_RATE / CNFFT / 440.0);
		double near = floor(midi + 0.5), dev = midi - near;

		c.pc[k] = (signed char)(((long)near % 12 + 12) % 12);
		c.w[k] = (float)(cos(M_PI * dev) * cos(M_PI * dev));
	}
	rc = stft_run(x, n, CNFFT, CHOP, chroma_frame, &c);
	aud_key_from_chroma(c.sum, &f->key, &f->key_strength, &f->mode_major);
	f->chord_major = c.nvote ? (double)c.nmajor / (double)c.nvote : 0.5;
	f->chroma_flux = c.nflux ? c.flux / (double)c.nflux : 0.0;
out_free:
	free(c.pc);
	free(c.w);
	return rc;
}

/* ---- Putting it together ------------------------------------------------ */
static void frame_level_stats(const float *rms, size_t nfr,
			      struct aud_features *f)
{
	double mean = 0.0, db = 0.0, s = 0.0, s2 = 0.0;
	size_t low = 0, loud = 0;

	for (size_t t = 0; t < nfr; t++) {
		double l = 20.0 * log10(MS_MAX((double)rms[t], 1e-5));

		mean += rms[t];
		db += l;
		if (rms[t] >= SILENT_RMS) {
			s += l;
			s2 += l * l;
			loud++;
		}
	}
	mean /= (double)nfr;
	for (size_t t = 0; t < nfr; t++)
		low += rms[t] < mean;
	f->rms_db = db / (double)nfr;
	f->low_energy = (double)low / (double)nfr;
	f->rms_std_db =
		loud > 1 ? sqrt(MS_MAX(0.0, s2 / (double)loud -
						    (s / (double)loud) *
							    (s / (double)loud)))
			 : 0.0;
}

int aud_features_compute(const float *x, size_t n, struct aud_features *f,
			 char *err, size_t errlen)
{
	/* at least one chroma frame (0.37 s) */
	size_t nfr = n >= CNFFT ? (n - NFFT) / HOP + 1 : 0;
	struct main_ctx c;
	double d;
	int rc;

	if (nfr == 0)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "too short to analyse (%.2f s)",
			       (double)n / AUD_RATE);
	memset(&c, 0, sizeof(c));
	c.x = x;
	c.env = ms_calloc(nfr, sizeof(float));
	c.rms = ms_calloc(nfr, sizeof(float));
	c.prev = ms_calloc(NBINS, sizeof(double));
	c.prevlog = ms_calloc(NBINS, sizeof(double));
	c.mag = ms_calloc(NBINS + 1, sizeof(double));
	rc = !c.env || !c.rms || !c.prev || !c.prevlog || !c.mag ? MS_ENOMEM
								 : MS_OK;
	if (!rc)
		rc = stft_run(x, n, NFFT, HOP, main_frame, &c);
	if (!rc)
		rc = chroma_run(x, n, f);
	if (rc) {
		rc = ms_errf(err, errlen, rc, "out of memory");
		goto out_free;
	}
	d = c.nactive ? (double)c.nactive : 1.0;
	f->centroid_hz = c.centroid / d;
	f->rolloff_hz = c.rolloff / d;
	f->flatness = c.flatness / d;
	f->bass_ratio = c.bass / d;
	f->flux = c.nflux ? c.flux / (double)c.nflux : 0.0;
	f->roughness = c.nrough ? c.rough / (double)c.nrough : 0.0;
	frame_level_stats(c.rms, nfr, f);
	f->onset_strength = 0.0;
	for (size_t t = 0; t < nfr; t++)
		f->onset_strength += c.env[t];
	f->onset_strength /= (double)nfr;
	aud_rhythm(c.env, nfr, (double)AUD_RATE / HOP, &f->tempo_bpm,
		   &f->tempo_confidence, &f->onset_rate);
out_free:
	free(c.env);
	free(c.rms);
	free(c.prev);
	free(c.prevlog);
	free(c.mag);
	return rc;
}
