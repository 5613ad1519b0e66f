/* fer.c - FER-2013 split files (label byte + 48x48 gray pixels per record,
 * see ../shared/data/README.md) and whole-split evaluation of a model. */
#include <string.h>

#include "nn/nn_internal.h"

#define NN_FER_MAX_RECORDS 1000000u

int nn_fer_load(const char *path, struct nn_fer *out, char *err,
		size_t errlen)
{
	uint8_t *buf;
	size_t len, n;
	int rc = ms_file_read(path, (size_t)NN_FER_MAX_RECORDS * NN_FER_RECORD,
			      &buf, &len, err, errlen);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	if (len == 0 || len % NN_FER_RECORD) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "%s: size %zu is not a multiple of %d-byte records",
			     path, len, NN_FER_RECORD);
		goto out_free;
	}
	n = len / NN_FER_RECORD;
	out->labels = malloc(n);
	out->pixels = ms_mallocarray(n, NN_FER_SIDE * NN_FER_SIDE);
	if (!out->labels || !out->pixels) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = buf + i * NN_FER_RECORD;

		if (r[0] >= NN_CLASSES) {
			rc = ms_errf(err, errlen, MS_EFORMAT,
				     "%s: record %zu has label %u", path, i,
				     (unsigned)r[0]);
			goto out_free;
		}
		out->labels[i] = r[0];
		memcpy(out->pixels + i * NN_FER_SIDE * NN_FER_SIDE, r + 1,
		       NN_FER_SIDE * NN_FER_SIDE);
	}
	out->n = n;
	free(buf);
	return MS_OK;
out_free:
	free(buf);
	nn_fer_release(out);
	return rc;
}

void nn_fer_release(struct nn_fer *f)
{
	free(f->labels);
	free(f->pixels);
	memset(f, 0, sizeof(*f));
}

int nn_eval_fer(const struct nn_model *m, const struct nn_fer *set,
		int flip_tta, int confusion[NN_CLASSES][NN_CLASSES])
{
	struct nn_ctx *ctx;

	if (nn_model_input_size(m) != NN_FER_SIDE)
		return MS_EINVAL;
	ctx = nn_ctx_new(m);
	if (!ctx)
		return MS_ENOMEM;
	memset(confusion, 0, sizeof(int) * NN_CLASSES * NN_CLASSES);
	for (size_t i = 0; i < set->n; i++) {
		float p[NN_CLASSES];
		int best = 0;

		nn_classify(ctx, set->pixels + i * NN_FER_SIDE * NN_FER_SIDE,
			    flip_tta, p);
		for (int c = 1; c < NN_CLASSES; c++)
			if (p[c] > p[best])
				best = c;
		confusion[set->labels[i]][best]++;
	}
	nn_ctx_free(ctx);
	return MS_OK;
}
