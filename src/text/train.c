/* train.c - the text model's trainer (plain SGD on the softmax
 * cross-entropy with soft targets, class weights, linearly decaying rate,
 * seeded shuffling: the same seed gives the same model) and its scoring
 * on a labelled set (Ekman-level accuracy, per-class and macro F1). */
#include <math.h>
#include <string.h>

#include "moodsync/text.h"
#include "text/text_internal.h"

void txt_train_params_default(struct txt_train_params *p)
{
	p->epochs = 5;
	p->lr = 0.5;
	p->class_power = 0.5;
	p->l2 = 0;
	p->seed = 13;
}

/* xorshift64*: small, fast, and the same everywhere. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void class_weights(const struct txt_set *set, double power,
			  float cw[TXT_CLASSES])
{
	double prior[TXT_CLASSES] = {0}, mx = 0;

	for (size_t i = 0; i < set->n; i++)
		for (int c = 0; c < TXT_CLASSES; c++)
			prior[c] += set->ex[i].target[c];
	for (int c = 0; c < TXT_CLASSES; c++)
		mx = MS_MAX(mx, prior[c]);
	for (int c = 0; c < TXT_CLASSES; c++)
		cw[c] = prior[c] > 0 ? (float)pow(prior[c] / mx, -power) : 1.f;
}

/* One SGD step on one example; returns its weighted loss. */
static double step(struct txt_model *m, const struct txt_example *ex,
		   const float cw[TXT_CLASSES], float lr, float decay)
{
	float p[TXT_CLASSES], g[TXT_CLASSES], w = 0;
	float s = ex->nfeat > 0 ? 1.f / sqrtf((float)ex->nfeat) : 0.f;
	double loss = 0;

	txt_predict_features(m, ex->feat, ex->nfeat, p);
	for (int c = 0; c < TXT_CLASSES; c++) {
		w += ex->target[c] * cw[c];
		if (ex->target[c] > 0)
			loss -= ex->target[c] * log(MS_MAX(p[c], 1e-12f));
	}
	for (int c = 0; c < TXT_CLASSES; c++) {
		g[c] = lr * w * (p[c] - ex->target[c]);
		m->bias[c] -= g[c];
		g[c] *= s;
	}
	for (int i = 0; i < ex->nfeat; i++) {
		float *row = m->w + (size_t)ex->feat[i] * TXT_CLASSES;

		for (int c = 0; c < TXT_CLASSES; c++)
			row[c] = row[c] * decay - g[c];
	}
	return loss * w;
}

int txt_train(struct txt_model *m, const struct txt_set *set,
	      const struct txt_train_params *p,
	      void (*progress)(int epoch, double loss, void *ctx), void *ctx,
	      char *err, size_t errlen)
{
	size_t *order, total, t = 0;
	uint64_t rng = p->seed ? p->seed : 1;
	float cw[TXT_CLASSES];

	if (set->n == 0 || p->epochs < 1 || p->epochs > 1000 || !(p->lr > 0) ||
	    !(p->l2 >= 0) || !(p->class_power >= 0) || p->class_power > 2)
		return ms_errf(err, errlen, MS_EINVAL,
			       "bad training parameters or empty set");
	if (ms_size_mul(set->n, (size_t)p->epochs, &total))
		return ms_errf(err, errlen, MS_ELIMIT, "too many steps");
	order = ms_mallocarray(set->n, sizeof(*order));
	if (!order)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	class_weights(set, p->class_power, cw);
	for (size_t i = 0; i < set->n; i++)
		order[i] = i;
	for (int e = 0; e < p->epochs; e++) {
		double loss = 0;

		for (size_t i = set->n - 1; i > 0; i--) {
			size_t j = (size_t)(rng_next(&rng) % (i + 1)), k;

			k = order[i];
			order[i] = order[j];
			order[j] = k;
		}
		for (size_t i = 0; i < set->n; i++, t++) {
			float lr = (float)(p->lr * (1.0 - (double)t / total));

			loss += step(m, &set->ex[order[i]], cw, lr,
				     1.f - lr * (float)p->l2);
		}
		if (progress)
			progress(e + 1, loss / set->n, ctx);
	}
	free(order);
	return MS_OK;
}

void txt_evaluate(const struct txt_model *m, const struct txt_set *set,
		  struct txt_score *out)
{
	int hits = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < set->n; i++) {
		const struct txt_example *ex = &set->ex[i];
		float p[TXT_CLASSES];
		int top = 0, gold;

		txt_predict_features(m, ex->feat, ex->nfeat, p);
		for (int c = 1; c < TXT_CLASSES; c++)
			if (p[c] > p[top])
				top = c;
		gold = (ex->gold >> top) & 1 ? top : ex->first;
		hits += gold == top;
		out->conf[gold][top]++;
	}
	out->n = (int)set->n;
	out->accuracy = set->n ? (double)hits / set->n : 0;
	for (int c = 0; c < TXT_CLASSES; c++) {
		int tp = out->conf[c][c], row = 0, col = 0;

		for (int k = 0; k < TXT_CLASSES; k++) {
			row += out->conf[c][k];
			col += out->conf[k][c];
		}
		out->support[c] = row;
		out->precision[c] = col ? (double)tp / col : 0;
		out->recall[c] = row ? (double)tp / row : 0;
		out->f1[c] = tp ? 2.0 * tp / (row + col) : 0;
		out->macro_f1 += out->f1[c] / TXT_CLASSES;
	}
}
