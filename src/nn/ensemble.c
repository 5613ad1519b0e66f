/* ensemble.c - ensembles of emotion nets and the model loader: the
 * ".msens" manifest parser, nn_model_load (a net file goes to infer.c's
 * nn_model_parse, a manifest's member nets are loaded here), and
 * classifying with every member (weighted mean of their softmax
 * probabilities). An ensemble is a struct nn_model whose `ens` is set.
 *
 * Manifest format, version 1: ASCII text, at most 16 KiB, no NUL bytes,
 * lines ended by "\n" (a "\r" before it is dropped), at most 1,024 bytes
 * each.
 *   line 1       exactly "msens 1"
 *   then         blank lines, comment lines (first non-blank byte '#'),
 *                and 1..8 member lines:
 *                  member FILE [WEIGHT]
 *                fields separated by spaces or tabs; FILE is 1..511
 *                printable non-space bytes, relative to the manifest's
 *                folder unless it starts with '/'; WEIGHT a finite decimal
 *                number in (0, 1000], default 1.
 * Weights are normalised to sum 1. Every member must be a net file (no
 * nested manifests) and all must take faces of the same side. */
#include <stdio.h>
#include <string.h>

#include "nn/nn_internal.h"

#define ENS_MAGIC "msens 1"
#define ENS_MAX_FILE (16u << 10)
#define ENS_MAX_LINE 1024
#define ENS_MAX_WEIGHT 1000.0

struct nn_ens {
	int n;
	struct nn_model *m[NN_ENS_MAX];
	float w[NN_ENS_MAX]; /* normalised, sum 1 */
};

struct nn_ens_ctx {
	const struct nn_ens *e;
	struct nn_ctx *c[NN_ENS_MAX];
};

int nn_manifest_is(const uint8_t *buf, size_t len)
{
	size_t n = sizeof(ENS_MAGIC) - 1;

	if (len < n || memcmp(buf, ENS_MAGIC, n) != 0)
		return 0;
	if (len > n && buf[n] == '\r')
		n++;
	return len == n || buf[n] == '\n';
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* Splits the line [p, end) into at most `max` fields; returns the count,
 * or max + 1 when there are more. */
static int split_fields(const char *p, const char *end, const char **f,
			size_t *flen, int max)
{
	int n = 0;

	for (;;) {
		while (p < end && is_blank(*p))
			p++;
		if (p == end)
			return n;
		if (n == max)
			return max + 1;
		f[n] = p;
		while (p < end && !is_blank(*p))
			p++;
		flen[n] = (size_t)(p - f[n]);
		n++;
	}
}

/* One "member FILE [WEIGHT]" line (fields already split) into out. */
static int parse_member(const char **f, const size_t *flen, int nf,
			struct nn_manifest *out, int line, char *err,
			size_t errlen)
{
	char num[32];
	double w = 1;

	if (nf < 2 || nf > 3)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "line %d: expected \"member FILE [WEIGHT]\"",
			       line);
	if (out->n == NN_ENS_MAX)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "line %d: more than %d members", line,
			       NN_ENS_MAX);
	if (flen[1] >= NN_ENS_PATH)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "line %d: file name longer than %d bytes", line,
			       NN_ENS_PATH - 1);
	for (size_t i = 0; i < flen[1]; i++)
		if (f[1][i] < 0x21 || f[1][i] > 0x7e)
			return ms_errf(err, errlen, MS_EFORMAT,
				       "line %d: file name has a byte outside "
				       "printable ASCII",
				       line);
	if (nf == 3 && (flen[2] >= sizeof(num) ||
			(memcpy(num, f[2], flen[2]), num[flen[2]] = 0,
			 ms_parse_double(num, 0, ENS_MAX_WEIGHT, &w)) ||
			!(w > 0)))
		return ms_errf(err, errlen, MS_EFORMAT,
			       "line %d: weight must be a number in (0, %g]",
			       line, ENS_MAX_WEIGHT);
	memcpy(out->path[out->n], f[1], flen[1]);
	out->path[out->n][flen[1]] = 0;
	out->weight[out->n] = (float)w;
	out->n++;
	return MS_OK;
}

int nn_manifest_parse(const uint8_t *buf, size_t len, struct nn_manifest *out,
		      char *err, size_t errlen)
{
	struct nn_manifest *m;
	const char *p = (const char *)buf, *end = p + len;
	double sum = 0;
	int line = 0, rc = MS_OK;

	if (len > ENS_MAX_FILE)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "manifest larger than %u bytes", ENS_MAX_FILE);
	if (!nn_manifest_is(buf, len))
		return ms_errf(err, errlen, MS_EFORMAT,
			       "line 1: expected \"" ENS_MAGIC "\"");
	if (memchr(buf, 0, len))
		return ms_errf(err, errlen, MS_EFORMAT, "NUL byte in manifest");
	m = ms_calloc(1, sizeof(*m));
	if (!m)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	while (p < end && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *f[4];
		size_t flen[4];
		int nf;

		line++;
		if (e - p > ENS_MAX_LINE) {
			rc = ms_errf(err, errlen, MS_ELIMIT,
				     "line %d: longer than %d bytes", line,
				     ENS_MAX_LINE);
			break;
		}
		if (e > p && e[-1] == '\r')
			e--;
		nf = split_fields(p, e, f, flen, 3);
		p = nl ? nl + 1 : end;
		if (line == 1 || nf == 0 || f[0][0] == '#')
			continue;
		if (flen[0] == 6 && memcmp(f[0], "member", 6) == 0)
			rc = parse_member(f, flen, nf, m, line, err, errlen);
		else
			rc = ms_errf(err, errlen, MS_EFORMAT,
				     "line %d: unknown keyword (expected "
				     "\"member\" or '#')",
				     line);
	}
	if (!rc && m->n == 0)
		rc = ms_errf(err, errlen, MS_EFORMAT, "no member lines");
	if (!rc) {
		for (int i = 0; i < m->n; i++)
			sum += m->weight[i];
		for (int i = 0; i < m->n; i++)
			m->weight[i] = (float)(m->weight[i] / sum);
		*out = *m;
	}
	free(m);
	return rc;
}

/* The member path as the process opens it: `rel` beside the manifest at
 * `manifest` unless absolute. */
static int member_path(const char *manifest, const char *rel, char *out,
		       size_t outlen)
{
	const char *slash = strrchr(manifest, '/');
	int dir = slash ? (int)(slash - manifest) + 1 : 0, n;

	if (rel[0] == '/')
		dir = 0;
	n = snprintf(out, outlen, "%.*s%s", dir, manifest, rel);
	return n < 0 || (size_t)n >= outlen ? MS_ELIMIT : MS_OK;
}

void nn_ens_free(struct nn_ens *e)
{
	if (!e)
		return;
	for (int i = 0; i < e->n; i++)
		nn_model_free(e->m[i]);
	free(e);
}

/* Loads every member of the parsed manifest `mf` (read from `path`). */
static int load_members(const char *path, const struct nn_manifest *mf,
			struct nn_ens *e, char *err, size_t errlen)
{
	char file[4096], why[MS_ERRLEN];
	int rc;

	for (int i = 0; i < mf->n; i++) {
		if (member_path(path, mf->path[i], file, sizeof(file)))
			return ms_errf(err, errlen, MS_ELIMIT,
				       "member %d: path too long", i + 1);
		rc = nn_net_model_load(file, &e->m[i], why, sizeof(why));
		if (rc)
			return ms_errf(err, errlen, rc, "member %d: %s", i + 1,
				       why);
		e->w[i] = mf->weight[i];
		e->n = i + 1;
		if (nn_model_input_size(e->m[i]) !=
		    nn_model_input_size(e->m[0]))
			return ms_errf(err, errlen, MS_EFORMAT,
				       "member %d takes %dx%d faces, member 1 "
				       "%dx%d",
				       i + 1, nn_model_input_size(e->m[i]),
				       nn_model_input_size(e->m[i]),
				       nn_model_input_size(e->m[0]),
				       nn_model_input_size(e->m[0]));
	}
	return MS_OK;
}

int nn_ens_load(const char *path, const uint8_t *buf, size_t len,
		struct nn_ens **out, char *err, size_t errlen)
{
	struct nn_manifest *mf = ms_calloc(1, sizeof(*mf));
	struct nn_ens *e = ms_calloc(1, sizeof(*e));
	int rc = mf && e ? MS_OK : MS_ENOMEM;

	if (rc)
		ms_errf(err, errlen, rc, "out of memory");
	if (!rc)
		rc = nn_manifest_parse(buf, len, mf, err, errlen);
	if (!rc)
		rc = load_members(path, mf, e, err, errlen);
	free(mf);
	if (rc) {
		nn_ens_free(e);
		return rc;
	}
	*out = e;
	return MS_OK;
}

int nn_ens_count(const struct nn_ens *e)
{
	return e->n;
}

const struct nn_model *nn_ens_member(const struct nn_ens *e, int i, float *w)
{
	if (i < 0 || i >= e->n)
		return NULL;
	if (w)
		*w = e->w[i];
	return e->m[i];
}

void nn_ens_info(const struct nn_ens *e, struct nn_model_info *out)
{
	struct nn_model_info mi;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < e->n; i++) {
		nn_model_info(e->m[i], &mi);
		if (i == 0) {
			out->side = mi.side;
			out->crop = mi.crop;
		}
		out->layers += mi.layers;
		out->macs += mi.macs;
		out->params += mi.params;
	}
	out->members = e->n;
}

struct nn_ens_ctx *nn_ens_ctx_new(const struct nn_ens *e)
{
	struct nn_ens_ctx *c = ms_calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->e = e;
	for (int i = 0; i < e->n; i++) {
		c->c[i] = nn_ctx_new(e->m[i]);
		if (!c->c[i]) {
			nn_ens_ctx_free(c);
			return NULL;
		}
	}
	return c;
}

void nn_ens_ctx_free(struct nn_ens_ctx *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->e->n; i++)
		nn_ctx_free(c->c[i]);
	free(c);
}

int nn_ens_classify(struct nn_ens_ctx *c, const uint8_t *gray, int tta,
		    float probs[NN_CLASSES])
{
	float p[NN_CLASSES], acc[NN_CLASSES] = {0};

	for (int i = 0; i < c->e->n; i++) {
		int rc = nn_classify(c->c[i], gray, tta, p);

		if (rc)
			return rc;
		for (int k = 0; k < NN_CLASSES; k++)
			acc[k] += c->e->w[i] * p[k];
	}
	memcpy(probs, acc, sizeof(acc));
	return MS_OK;
}

int nn_model_members(const struct nn_model *m)
{
	return nn_model_ens(m) ? nn_ens_count(nn_model_ens(m)) : 1;
}

const struct nn_model *nn_model_member(const struct nn_model *m, int i,
				       float *weight)
{
	if (nn_model_ens(m))
		return nn_ens_member(nn_model_ens(m), i, weight);
	if (i != 0)
		return NULL;
	if (weight)
		*weight = 1;
	return m;
}

/* An ensemble model over the manifest buf[0..len) read from `path`. */
static int ens_model(const char *path, const uint8_t *buf, size_t len,
		     struct nn_model **out, char *err, size_t errlen)
{
	struct nn_ens *e;
	int rc = nn_ens_load(path, buf, len, &e, err, errlen);

	if (rc)
		return rc;
	if (nn_model_wrap_ens(e, out)) {
		nn_ens_free(e);
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	}
	return MS_OK;
}

/* A net file, or with `ens` also a manifest. */
static int load_file(const char *path, int ens, struct nn_model **out,
		     char *err, size_t errlen)
{
	char why[MS_ERRLEN];
	uint8_t *buf;
	size_t len;
	int rc = ms_file_read(path, 256u << 20, &buf, &len, err, errlen);

	if (rc)
		return rc;
	if (!nn_manifest_is(buf, len))
		rc = nn_model_parse(buf, len, out, why, sizeof(why));
	else if (ens)
		rc = ens_model(path, buf, len, out, why, sizeof(why));
	else
		rc = ms_errf(why, sizeof(why), MS_EFORMAT,
			     "a manifest cannot be an ensemble member");
	if (rc)
		ms_errf(err, errlen, rc, "%s: %s", path, why);
	free(buf);
	return rc;
}

int nn_model_load(const char *path, struct nn_model **out, char *err,
		  size_t errlen)
{
	return load_file(path, 1, out, err, errlen);
}

int nn_net_model_load(const char *path, struct nn_model **out, char *err,
		      size_t errlen)
{
	return load_file(path, 0, out, err, errlen);
}
