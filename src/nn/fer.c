/* fer.c - FER-2013 split files (label byte + 48x48 gray pixels per record,
 * see ../shared/data/README.md) and whole-split evaluation of a model. */
#include <pthread.h>
#include <string.h>

#include "nn/nn_internal.h"

#define NN_FER_MAX_RECORDS 1000000u

int nn_fer_load(const char *path, struct nn_fer *out, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len, n;
	int rc = ms_file_read(path, (size_t)NN_FER_MAX_RECORDS * NN_FER_RECORD,
			      &buf, &len, err, errlen);

	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	if (len == 0 || len % NN_FER_RECORD) {
		rc = ms_errf(
			err, errlen, MS_EFORMAT,
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
	free(f->votes);
	free(f->major);
	memset(f, 0, sizeof(*f));
}

struct eval_job {
	const struct nn_model *m;
	const struct nn_fer *set;
	float *probs; /* (set->n, NN_CLASSES), rows id, id+n, ... written */
	int flip, id, n;
	int rc;
	pthread_t th;
};

static void *eval_main(void *arg)
{
	struct eval_job *j = arg;
	struct nn_ctx *ctx = nn_ctx_new(j->m);
	const struct nn_fer *set = j->set;

	if (!ctx) {
		j->rc = MS_ENOMEM;
		return NULL;
	}
	for (size_t i = (size_t)j->id; i < set->n; i += (size_t)j->n)
		nn_classify(ctx, set->pixels + i * NN_FER_SIDE * NN_FER_SIDE,
			    j->flip, j->probs + i * NN_CLASSES);
	nn_ctx_free(ctx);
	return NULL;
}

int nn_eval_probs(const struct nn_model *m, const struct nn_fer *set, int tta,
		  int threads, float *probs)
{
	struct eval_job *jobs;
	int n = MS_MAX(1, MS_MIN(threads, 64)), started = 0, rc = MS_OK;

	if (nn_model_input_size(m) != NN_FER_SIDE)
		return MS_EINVAL;
	jobs = ms_calloc((size_t)n, sizeof(*jobs));
	if (!jobs)
		return MS_ENOMEM;
	for (int i = 0; i < n; i++) {
		jobs[i].m = m;
		jobs[i].set = set;
		jobs[i].probs = probs;
		jobs[i].flip = tta;
		jobs[i].id = i;
		jobs[i].n = n;
		if (i > 0 &&
		    pthread_create(&jobs[i].th, NULL, eval_main, &jobs[i]))
			break;
		started = i + 1;
	}
	if (started < n)
		rc = MS_ENOMEM;
	else
		eval_main(&jobs[0]);
	for (int i = 1; i < started; i++)
		pthread_join(jobs[i].th, NULL);
	for (int i = 0; i < started && !rc; i++)
		rc = jobs[i].rc;
	free(jobs);
	return rc;
}

void nn_eval_score(const struct nn_fer *set, const float *probs,
		   struct nn_fer_eval *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < set->n; i++) {
		int pred = nn_argmax(probs + i * NN_CLASSES);
		int target = set->votes && nn_fer_has_target(set, i);
		int major = target ? set->major[i] : NN_FERPLUS_NONE;

		out->confusion[set->labels[i]][pred]++;
		if (!set->votes)
			continue;
		out->neither += pred != set->labels[i] && pred != major;
		if (!target)
			continue;
		out->plus_n++;
		if (major != NN_FERPLUS_NONE) {
			out->plus_confusion[major][pred]++;
			out->plus_hits += pred == major;
		}
		if (major == set->labels[i]) {
			out->agree_n++;
			out->agree_hits += pred == major;
		}
	}
}

int nn_eval_split(const struct nn_model *m, const struct nn_fer *set, int tta,
		  int threads, struct nn_fer_eval *out)
{
	float *probs =
		ms_mallocarray(set->n ? set->n : 1, NN_CLASSES * sizeof(float));
	int rc;

	if (!probs)
		return MS_ENOMEM;
	rc = nn_eval_probs(m, set, tta, threads, probs);
	if (!rc)
		nn_eval_score(set, probs, out);
	free(probs);
	return rc;
}

int nn_eval_fer(const struct nn_model *m, const struct nn_fer *set, int tta,
		int threads, int confusion[NN_CLASSES][NN_CLASSES])
{
	struct nn_fer_eval *r = ms_calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return MS_ENOMEM;
	rc = nn_eval_split(m, set, tta, threads, r);
	if (!rc)
		memcpy(confusion, r->confusion, sizeof(r->confusion));
	free(r);
	return rc;
}
