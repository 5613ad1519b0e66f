/* model.c - the text mood model: a linear softmax over hashed features,
 * its file (".mstx") writer and validating parser, and inference.
 *
 * Format, version 1. All integers and floats little-endian.
 *   offset 0  char[4] magic "MSTX"
 *          4  u32 version       1
 *          8  u32 classes       7 (FER order: angry disgust fear happy
 *                               sad surprise neutral)
 *         12  u32 buckets       hash rows, 1 .. 2^22
 *         16  u32 ngram_min     character n-grams, 0 = none, else 1..6
 *         20  u32 ngram_max     ngram_min .. 6 (0 when ngram_min is 0)
 *         24  u32 bigrams       0 or 1: word-pair features
 *         28  u32 neg_window    0 (to punctuation) .. 64 words
 *         32  f32 bias[7]       finite
 *         60  f16 w[buckets][7] IEEE half floats, finite
 * The file is exactly 60 + 14 * buckets bytes; anything else (other
 * magic, version, class count, sizes, ranges, non-finite values) is
 * rejected with a reason. The features and their hashing are defined in
 * src/text/token.c; a text's logits are bias + sum(w[f]) / sqrt(nfeat). */
#include <math.h>
#include <string.h>

#include "moodsync/text.h"
#include "text/text_internal.h"

#define TXT_MAGIC "MSTX"
#define TXT_VERSION 1u
#define TXT_HEADER 60u

struct txt_model *txt_model_new(const struct txt_config *c)
{
	struct txt_model *m;

	if (txt_config_check(c, NULL, 0))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *c;
	m->w = ms_calloc((size_t)c->buckets * TXT_CLASSES, sizeof(float));
	if (!m->w) {
		free(m);
		return NULL;
	}
	return m;
}

void txt_model_free(struct txt_model *m)
{
	if (!m)
		return;
	free(m->w);
	free(m);
}

const struct txt_config *txt_model_config(const struct txt_model *m)
{
	return &m->cfg;
}

/* ---- half floats ---- */

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F,
		 man = h & 0x3FF, bits;
	float f;

	if (exp == 0) { /* zero or subnormal: man * 2^-24 */
		f = ldexpf((float)man, -24);
		return sign ? -f : f;
	}
	bits = sign | ((exp + 112) << 23) | (man << 13);
	memcpy(&f, &bits, 4);
	return f;
}

/* Round to nearest even; values past the half range saturate. */
static uint16_t float_to_half(float f)
{
	uint32_t bits, sign, man;
	int exp;

	if (f > 65504.f)
		f = 65504.f;
	if (f < -65504.f)
		f = -65504.f;
	memcpy(&bits, &f, 4);
	sign = (bits >> 16) & 0x8000;
	exp = (int)((bits >> 23) & 0xFF) - 127 + 15;
	man = bits & 0x7FFFFF;
	if (exp <= 0) {				 /* subnormal half or zero */
		float a = fabsf(f) * 16777216.f; /* / 2^-24 */
		uint32_t q = (uint32_t)lrintf(a);

		return (uint16_t)(sign | MS_MIN(q, 0x3FFu + 1));
	}
	{
		uint32_t h = ((uint32_t)exp << 10) | (man >> 13);
		uint32_t rest = man & 0x1FFF;

		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++; /* may carry into the exponent: still right */
		return (uint16_t)(sign | h);
	}
}

/* ---- writer ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int txt_model_save(const struct txt_model *m, const char *path, char *err,
		   size_t errlen)
{
	size_t n = (size_t)m->cfg.buckets * TXT_CLASSES,
	       size = TXT_HEADER + 2 * n;
	uint8_t *b = malloc(size);
	FILE *f = NULL;
	int rc = MS_OK;

	if (!b)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	memcpy(b, TXT_MAGIC, 4);
	put_u32(b + 4, TXT_VERSION);
	put_u32(b + 8, TXT_CLASSES);
	put_u32(b + 12, m->cfg.buckets);
	put_u32(b + 16, m->cfg.ngram_min);
	put_u32(b + 20, m->cfg.ngram_max);
	put_u32(b + 24, m->cfg.bigrams);
	put_u32(b + 28, m->cfg.neg_window);
	for (int c = 0; c < TXT_CLASSES; c++) {
		uint32_t v;

		memcpy(&v, &m->bias[c], 4);
		put_u32(b + 32 + 4 * c, v);
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t h = float_to_half(m->w[i]);

		b[TXT_HEADER + 2 * i] = (uint8_t)h;
		b[TXT_HEADER + 2 * i + 1] = (uint8_t)(h >> 8);
	}
	f = fopen(path, "wb");
	if (!f) {
		rc = ms_errf(err, errlen, MS_EIO, "%s: cannot create", path);
		goto out_free;
	}
	if (fwrite(b, 1, size, f) != size)
		rc = ms_errf(err, errlen, MS_EIO, "%s: write failed", path);
	if (fclose(f) && !rc)
		rc = ms_errf(err, errlen, MS_EIO, "%s: write failed", path);
out_free:
	free(b);
	return rc;
}

/* ---- parser ---- */

int txt_model_parse(const uint8_t *buf, size_t len, struct txt_model **out,
		    char *err, size_t errlen)
{
	struct txt_config c;
	struct txt_model *m;
	size_t n;

	if (len < TXT_HEADER || memcmp(buf, TXT_MAGIC, 4) != 0)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "not a MoodSync text model (bad magic or size)");
	if (get_u32(buf + 4) != TXT_VERSION)
		return ms_errf(err, errlen, MS_EUNSUPPORTED,
			       "text model version %u not supported",
			       get_u32(buf + 4));
	if (get_u32(buf + 8) != TXT_CLASSES)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "text model has %u classes, expected %d",
			       get_u32(buf + 8), TXT_CLASSES);
	c.buckets = get_u32(buf + 12);
	c.ngram_min = get_u32(buf + 16);
	c.ngram_max = get_u32(buf + 20);
	c.bigrams = get_u32(buf + 24);
	c.neg_window = get_u32(buf + 28);
	if (txt_config_check(&c, err, errlen))
		return MS_EFORMAT;
	n = (size_t)c.buckets * TXT_CLASSES;
	if (len != TXT_HEADER + 2 * n)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "text model is %zu bytes, its header says %zu",
			       len, TXT_HEADER + 2 * n);
	m = txt_model_new(&c);
	if (!m)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	for (int k = 0; k < TXT_CLASSES; k++) {
		uint32_t v = get_u32(buf + 32 + 4 * k);

		memcpy(&m->bias[k], &v, 4);
		if (!isfinite(m->bias[k]))
			goto out_bad;
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t h = (uint16_t)(buf[TXT_HEADER + 2 * i] |
					buf[TXT_HEADER + 2 * i + 1] << 8);

		if (((h >> 10) & 0x1F) == 0x1F)
			goto out_bad;
		m->w[i] = half_to_float(h);
	}
	*out = m;
	return MS_OK;
out_bad:
	txt_model_free(m);
	return ms_errf(err, errlen, MS_EFORMAT,
		       "text model holds a non-finite weight");
}

int txt_model_load(const char *path, struct txt_model **out, char *err,
		   size_t errlen)
{
	char why[MS_ERRLEN];
	uint8_t *data;
	size_t len;
	int rc = ms_file_read(path, TXT_HEADER + 14u * TXT_MAX_BUCKETS, &data,
			      &len, err, errlen);

	if (rc)
		return rc;
	rc = txt_model_parse(data, len, out, why, sizeof(why));
	free(data);
	if (rc)
		ms_errf(err, errlen, rc, "%s: %s", path, why);
	return rc;
}

/* ---- inference ---- */

void txt_softmax(float *z, int n)
{
	float mx = z[0], sum = 0;

	for (int i = 1; i < n; i++)
		mx = MS_MAX(mx, z[i]);
	for (int i = 0; i < n; i++) {
		z[i] = expf(z[i] - mx);
		sum += z[i];
	}
	for (int i = 0; i < n; i++)
		z[i] /= sum;
}

void txt_predict_features(const struct txt_model *m, const uint32_t *feat,
			  int nfeat, float probs[TXT_CLASSES])
{
	float acc[TXT_CLASSES] = {0};
	float s = nfeat > 0 ? 1.f / sqrtf((float)nfeat) : 0.f;

	for (int i = 0; i < nfeat; i++) {
		const float *w = m->w + (size_t)feat[i] * TXT_CLASSES;

		for (int c = 0; c < TXT_CLASSES; c++)
			acc[c] += w[c];
	}
	for (int c = 0; c < TXT_CLASSES; c++)
		probs[c] = m->bias[c] + s * acc[c];
	txt_softmax(probs, TXT_CLASSES);
}

void txt_predict(const struct txt_model *m, const char *text, size_t len,
		 struct txt_result *out)
{
	struct txt_tokens tok;
	uint32_t feat[TXT_MAX_FEATURES];
	int n, top = 0;

	txt_tokenize(text, len, (int)m->cfg.neg_window, &tok);
	out->tokens = tok.n;
	out->truncated = tok.used < len;
	if (tok.n == 0) {
		for (int c = 0; c < TXT_CLASSES; c++)
			out->probs[c] = c == TXT_CLASSES - 1;
		out->top = TXT_CLASSES - 1;
		return;
	}
	n = txt_features(&m->cfg, &tok, feat, TXT_MAX_FEATURES);
	txt_predict_features(m, feat, n, out->probs);
	for (int c = 1; c < TXT_CLASSES; c++)
		if (out->probs[c] > out->probs[top])
			top = c;
	out->top = top;
}
