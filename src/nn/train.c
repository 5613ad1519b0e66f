/* train.c - the trainer behind `moodsync train`: augmentation, SGD with
 * Nesterov momentum and weight decay, warmup + cosine schedule, per-epoch
 * validation, best-model and checkpoint files (atomic), and resume from a
 * checkpoint with the exact RNG state so a resumed run continues the
 * same sequence of batches. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "nn/nn_internal.h"

#define STATE_VERSION 1u
/* "train.state": u32 version, epochs_done, epochs, batch, seed; f32 lr,
 * wd, momentum, smoothing, warmup; u32 augment, best_epoch; f32 best_val;
 * u64 step, limit; u64 rng[4]. Little-endian, STATE_LEN bytes. */
#define STATE_LEN 100u

struct train_state {
	uint32_t epochs_done;
	uint32_t epochs;
	uint32_t batch;
	uint32_t seed;
	float lr, wd, momentum, smoothing, warmup;
	uint32_t augment;
	uint32_t best_epoch; /* 1-based, 0 = none yet */
	float best_val;
	uint64_t step;	   /* optimiser steps taken */
	uint64_t limit;	   /* training subset size, 0 = all */
	struct nn_rng rng; /* at the start of epoch epochs_done+1 */
};

static void put32(uint8_t **p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		(*p)[i] = (uint8_t)(v >> (8 * i));
	*p += 4;
}

static void put64(uint8_t **p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p, (uint32_t)(v >> 32));
}

static void putf(uint8_t **p, float f)
{
	uint32_t v;

	memcpy(&v, &f, 4);
	put32(p, v);
}

static uint32_t get32(const uint8_t **p)
{
	const uint8_t *b = *p;

	*p += 4;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static uint64_t get64(const uint8_t **p)
{
	uint64_t lo = get32(p);

	return lo | (uint64_t)get32(p) << 32;
}

static float getf(const uint8_t **p)
{
	uint32_t v = get32(p);
	float f;

	memcpy(&f, &v, 4);
	return f;
}

static void state_encode(const struct train_state *s, uint8_t *b)
{
	put32(&b, STATE_VERSION);
	put32(&b, s->epochs_done);
	put32(&b, s->epochs);
	put32(&b, s->batch);
	put32(&b, s->seed);
	putf(&b, s->lr);
	putf(&b, s->wd);
	putf(&b, s->momentum);
	putf(&b, s->smoothing);
	putf(&b, s->warmup);
	put32(&b, s->augment);
	put32(&b, s->best_epoch);
	putf(&b, s->best_val);
	put64(&b, s->step);
	put64(&b, s->limit);
	for (int i = 0; i < 4; i++)
		put64(&b, s->rng.s[i]);
}

static int state_decode(const uint8_t *b, size_t len, struct train_state *s)
{
	if (len != STATE_LEN || get32(&b) != STATE_VERSION)
		return MS_EFORMAT;
	s->epochs_done = get32(&b);
	s->epochs = get32(&b);
	s->batch = get32(&b);
	s->seed = get32(&b);
	s->lr = getf(&b);
	s->wd = getf(&b);
	s->momentum = getf(&b);
	s->smoothing = getf(&b);
	s->warmup = getf(&b);
	s->augment = get32(&b);
	s->best_epoch = get32(&b);
	s->best_val = getf(&b);
	s->step = get64(&b);
	s->limit = get64(&b);
	for (int i = 0; i < 4; i++)
		s->rng.s[i] = get64(&b);
	if (s->batch < 1 || s->batch > 4096 || s->epochs < 1 ||
	    s->epochs > 100000 || s->epochs_done > s->epochs ||
	    !(s->lr > 0 && s->lr < 10) ||
	    !(s->momentum >= 0 && s->momentum < 1) ||
	    !(s->smoothing >= 0 && s->smoothing < 1) ||
	    !(s->wd >= 0 && s->wd < 1) ||
	    !(s->warmup >= 0 && s->warmup <= s->epochs))
		return MS_EFORMAT;
	return MS_OK;
}

void nn_train_opts_init(struct nn_train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->arch = "base";
	o->epochs = 30;
	o->batch = 64;
	o->threads = 2;
	o->seed = 1;
	o->lr = 0.05f;
	o->wd = 5e-4f;
	o->momentum = 0.9f;
	o->smoothing = 0.1f;
	o->warmup = 1.0f;
	o->augment = 1;
}

/* Random shift (+-3 px), rotation (+-12 deg), scale (+-10%), flip and
 * brightness/contrast jitter, bilinear with edge clamping. */
static void augment(const struct nn_arch *a, const uint8_t *src, float *dst,
		    struct nn_rng *r)
{
	float ang = (2 * nn_rng_uniform(r) - 1) * 12.0f * 3.14159265f / 180.0f;
	float sc = 1.0f + (2 * nn_rng_uniform(r) - 1) * 0.10f;
	float tx = (2 * nn_rng_uniform(r) - 1) * 3.0f;
	float ty = (2 * nn_rng_uniform(r) - 1) * 3.0f;
	int flip = nn_rng_uniform(r) < 0.5f;
	float contrast = 1.0f + (2 * nn_rng_uniform(r) - 1) * 0.25f;
	float bright = (2 * nn_rng_uniform(r) - 1) * 25.0f;
	float ca = cosf(ang) / sc, sa = sinf(ang) / sc;
	float co = (a->crop - 1) * 0.5f, cs = (a->side - 1) * 0.5f;
	float nsc = 1.0f / (255.0f * a->norm_std),
	      nsh = -a->norm_mean / a->norm_std;
	int S = a->side;
	float mean = 0;

	for (int i = 0; i < S * S; i++)
		mean += src[i];
	mean /= (float)(S * S);
	for (int y = 0; y < a->crop; y++)
		for (int x = 0; x < a->crop; x++) {
			float u = (flip ? a->crop - 1 - x : x) - co, v = y - co;
			float sx = ca * u - sa * v + cs + tx;
			float sy = sa * u + ca * v + cs + ty;
			int x0 = (int)floorf(sx), y0 = (int)floorf(sy);
			float fx = sx - x0, fy = sy - y0, val;
			int xa = MS_MIN(MS_MAX(x0, 0), S - 1);
			int xb = MS_MIN(MS_MAX(x0 + 1, 0), S - 1);
			int ya = MS_MIN(MS_MAX(y0, 0), S - 1);
			int yb = MS_MIN(MS_MAX(y0 + 1, 0), S - 1);

			val = (1 - fy) * ((1 - fx) * src[ya * S + xa] +
					  fx * src[ya * S + xb]) +
			      fy * ((1 - fx) * src[yb * S + xa] +
				    fx * src[yb * S + xb]);
			val = (val - mean) * contrast + mean + bright;
			val = val < 0 ? 0 : val > 255 ? 255 : val;
			dst[y * a->crop + x] = val * nsc + nsh;
		}
}

static float schedule(const struct train_state *s, uint64_t step,
		      uint64_t total, uint64_t warm)
{
	if (step < warm)
		return s->lr * (0.1f + 0.9f * (float)step / (float)warm);
	if (total <= warm)
		return s->lr;
	return s->lr * 0.5f *
	       (1.0f + cosf(3.14159265f * (float)(step - warm) /
			    (float)(total - warm)));
}

static void sgd_step(struct nn_net *net, const struct train_state *s, float lr)
{
	float mu = s->momentum;

	for (int i = 0; i < net->n_params; i++) {
		struct nn_param *p = &net->params[i];
		float wd = p->decay ? s->wd : 0.0f;

		if (!p->trainable)
			continue;
		for (size_t j = 0; j < p->n; j++) {
			float g = p->g[j] + wd * p->w[j];

			p->m[j] = mu * p->m[j] + g;
			p->w[j] -= lr * (g + mu * p->m[j]);
		}
	}
}

static int save_checkpoint(const struct nn_net *net,
			   const struct train_state *s, const char *path,
			   char *err, size_t errlen)
{
	uint8_t blob[STATE_LEN], *buf;
	size_t len;
	int rc;

	state_encode(s, blob);
	rc = nn_net_serialize(net, NN_FILE_CHECKPOINT, blob, STATE_LEN, &buf,
			      &len);
	if (rc)
		return ms_errf(err, errlen, rc, "cannot serialise checkpoint");
	rc = nn_file_write_atomic(path, buf, len, err, errlen);
	free(buf);
	return rc;
}

static int load_checkpoint(const char *path, struct nn_net **net,
			   struct train_state *s, char *err, size_t errlen)
{
	uint8_t *buf, *blob = NULL;
	size_t len, blen = 0;
	uint32_t kind;
	int rc = ms_file_read(path, 256u << 20, &buf, &len, err, errlen);

	if (rc)
		return rc;
	rc = nn_net_parse(buf, len, 1, net, &kind, &blob, &blen, err, errlen);
	free(buf);
	if (rc)
		return rc;
	if (kind != NN_FILE_CHECKPOINT || state_decode(blob, blen, s)) {
		nn_net_free(*net);
		*net = NULL;
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "%s: not a training checkpoint", path);
	}
	free(blob);
	return rc;
}

/* ---- data-parallel workers ----
 * Each of `nw` workers takes a slice of every batch through its own copy
 * of the net (weights shared, gradients and BN statistics its own, batch
 * norm over its slice) with single-threaded BLAS; the main thread is
 * worker 0 and sums the gradients. Two workers on two cores beat one
 * worker with two BLAS threads because the non-GEMM layers run in
 * parallel too. */
#define NN_MAX_WORKERS 16

enum job { JOB_TRAIN, JOB_VAL, JOB_QUIT };

struct trainer;

struct worker {
	struct trainer *t;
	int id;
	struct nn_net *net; /* the master for id 0, a replica otherwise */
	struct nn_ws ws;
	struct nn_rng rng;   /* reseeded from the run's RNG every step */
	uint8_t *labels;     /* (ws.bmax) */
	size_t first, count; /* this step's slice of perm */
	double loss;	     /* train: mean over slice; val: sum */
	size_t hits;
	pthread_t th;
};

struct trainer {
	const struct nn_fer *train, *val;
	const struct train_state *s;
	const uint32_t *perm;
	int nw, B;
	enum job job;
	pthread_barrier_t start, done;
	struct worker w[NN_MAX_WORKERS];
};

static void worker_train(struct worker *w)
{
	const struct nn_arch *a = &w->net->arch;
	size_t crop2 = (size_t)a->crop * a->crop;
	int L = a->n_layers, B = (int)w->count, c;
	float scale = (float)w->count / (float)w->t->B;
	size_t ny = (size_t)NN_CLASSES * B;

	for (int j = 0; j < B; j++) {
		size_t id = w->t->perm[w->first + (size_t)j];
		const uint8_t *px =
		    w->t->train->pixels + id * NN_FER_SIDE * NN_FER_SIDE;

		w->labels[j] = w->t->train->labels[id];
		if (w->t->s->augment)
			augment(a, px, w->ws.act[0] + j * crop2, &w->rng);
		else
			nn_prep_center(a, px, 0, w->ws.act[0] + j * crop2);
	}
	nn_net_forward(w->net, &w->ws, B, 1, &w->rng);
	w->loss = nn_softmax_ce(w->ws.act[L], w->labels, B, w->t->s->smoothing,
				w->ws.grad[L], &c);
	w->hits = (size_t)c;
	for (size_t i = 0; i < ny; i++)
		w->ws.grad[L][i] *= scale;
	nn_net_backward(w->net, &w->ws, B);
}

/* Validation (no smoothing, BN running statistics) of the batches
 * id, id+nw, ... of the validation set. */
static void worker_val(struct worker *w)
{
	const struct nn_fer *val = w->t->val;
	const struct nn_arch *a = &w->net->arch;
	size_t bm = (size_t)w->ws.bmax, crop2 = (size_t)a->crop * a->crop;
	int L = a->n_layers;

	w->loss = 0;
	w->hits = 0;
	for (size_t i = bm * (size_t)w->id; i < val->n;
	     i += bm * (size_t)w->t->nw) {
		int B = (int)MS_MIN(bm, val->n - i), c;

		for (int j = 0; j < B; j++)
			nn_prep_center(a,
				       val->pixels +
					   (i + j) * NN_FER_SIDE * NN_FER_SIDE,
				       0, w->ws.act[0] + j * crop2);
		nn_net_forward(w->net, &w->ws, B, 0, NULL);
		w->loss += nn_softmax_ce(w->ws.act[L], val->labels + i, B, 0.0f,
					 NULL, &c) *
			   B;
		w->hits += (size_t)c;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		pthread_barrier_wait(&w->t->start);
		if (w->t->job == JOB_QUIT)
			break;
		if (w->t->job == JOB_TRAIN)
			worker_train(w);
		else
			worker_val(w);
		pthread_barrier_wait(&w->t->done);
	}
	return NULL;
}

/* Runs the current job on every worker (the caller is worker 0). */
static void run_job(struct trainer *t, enum job job)
{
	t->job = job;
	if (t->nw > 1)
		pthread_barrier_wait(&t->start);
	if (job == JOB_TRAIN)
		worker_train(&t->w[0]);
	else if (job == JOB_VAL)
		worker_val(&t->w[0]);
	if (t->nw > 1 && job != JOB_QUIT)
		pthread_barrier_wait(&t->done);
}

/* Sums replica gradients into the master and averages BN statistics. */
static void reduce(struct trainer *t)
{
	struct nn_net *m = t->w[0].net;

	for (int k = 1; k < t->nw; k++) {
		struct nn_net *r = t->w[k].net;

		for (int i = 0; i < m->n_params; i++) {
			struct nn_param *p = &m->params[i];

			if (p->trainable)
				for (size_t j = 0; j < p->n; j++)
					p->g[j] += r->params[i].g[j];
			else
				for (size_t j = 0; j < p->n; j++)
					p->w[j] += r->params[i].w[j];
		}
	}
	for (int i = 0; i < m->n_params && t->nw > 1; i++) {
		struct nn_param *p = &m->params[i];

		if (p->trainable)
			continue;
		for (size_t j = 0; j < p->n; j++)
			p->w[j] /= (float)t->nw;
		for (int k = 1; k < t->nw; k++)
			memcpy(t->w[k].net->params[i].w, p->w,
			       p->n * sizeof(float));
	}
}

static void validate(struct trainer *t, double *acc, double *loss)
{
	size_t hits = 0;
	double l = 0;

	run_job(t, JOB_VAL);
	for (int k = 0; k < t->nw; k++) {
		hits += t->w[k].hits;
		l += t->w[k].loss;
	}
	*acc = t->val->n ? (double)hits / (double)t->val->n : 0;
	*loss = t->val->n ? l / (double)t->val->n : 0;
}

static void trainer_release(struct trainer *t, int started)
{
	if (started > 1) {
		t->job = JOB_QUIT;
		pthread_barrier_wait(&t->start);
		for (int k = 1; k < started; k++)
			pthread_join(t->w[k].th, NULL);
	}
	if (t->nw > 1) {
		pthread_barrier_destroy(&t->start);
		pthread_barrier_destroy(&t->done);
	}
	for (int k = 0; k < t->nw; k++) {
		nn_ws_release(&t->w[k].ws);
		free(t->w[k].labels);
		if (k > 0)
			nn_net_free(t->w[k].net);
	}
}

/* Sets up nw workers over `net`; returns how many threads run (incl. the
 * caller) in *started, which trainer_release needs. */
static int trainer_init(struct trainer *t, struct nn_net *net, int nw, int B,
			int *started)
{
	int bm = (B + nw - 1) / nw;

	*started = 1;
	t->nw = nw;
	t->B = B;
	if (nw > 1 && (pthread_barrier_init(&t->start, NULL, (unsigned)nw) ||
		       pthread_barrier_init(&t->done, NULL, (unsigned)nw))) {
		t->nw = 1;
		return MS_ENOMEM;
	}
	for (int k = 0; k < nw; k++) {
		struct worker *w = &t->w[k];

		w->t = t;
		w->id = k;
		if (k == 0)
			w->net = net;
		else if (nn_net_replica(net, &w->net))
			return MS_ENOMEM;
		w->labels = malloc((size_t)bm);
		if (!w->labels || nn_ws_init(&w->ws, w->net, bm))
			return MS_ENOMEM;
	}
	for (int k = 1; k < nw; k++) {
		if (pthread_create(&t->w[k].th, NULL, worker_main, &t->w[k]))
			return MS_ENOMEM;
		*started = k + 1;
	}
	return MS_OK;
}

int nn_train_run(const struct nn_train_opts *o, const struct nn_fer *train,
		 const struct nn_fer *val, char *err, size_t errlen)
{
	struct nn_net *net = NULL;
	struct train_state s;
	struct trainer *t = NULL;
	struct nn_arch arch;
	struct nn_train_progress pr;
	uint32_t *perm = NULL;
	size_t n_use, steps;
	uint64_t total, warm, step0;
	double t_run = ms_now_ms();
	int rc = MS_OK, nw, started = 0;

	memset(&s, 0, sizeof(s));
	nn_set_threads(1);
	if (o->resume) {
		rc = load_checkpoint(o->resume, &net, &s, err, errlen);
		if (rc)
			return rc;
		if (o->resume_epochs) {
			if ((uint32_t)o->epochs < s.epochs_done) {
				rc = ms_errf(err, errlen, MS_EINVAL,
					     "checkpoint already has %u epochs",
					     s.epochs_done);
				goto out;
			}
			s.epochs = (uint32_t)o->epochs;
			s.warmup = MS_MIN(s.warmup, (float)s.epochs);
		}
	} else {
		if (nn_arch_preset(o->arch, &arch))
			return ms_errf(err, errlen, MS_EINVAL,
				       "unknown architecture '%s'", o->arch);
		rc = nn_net_new(&arch, 1, &net, err, errlen);
		if (rc)
			return rc;
		s.epochs = (uint32_t)o->epochs;
		s.batch = (uint32_t)o->batch;
		s.seed = o->seed;
		s.lr = o->lr;
		s.wd = o->wd;
		s.momentum = o->momentum;
		s.smoothing = o->smoothing;
		s.warmup = o->warmup;
		s.augment = (uint32_t)o->augment;
		s.limit = o->limit;
		s.best_val = -1.0f;
		nn_rng_seed(&s.rng, o->seed);
		nn_net_init_weights(net, &s.rng);
	}
	if (net->arch.side != NN_FER_SIDE) {
		rc = ms_errf(err, errlen, MS_EINVAL, "net input must be 48");
		goto out;
	}
	n_use = s.limit && s.limit < train->n ? s.limit : train->n;
	if (n_use < s.batch) {
		rc = ms_errf(err, errlen, MS_EINVAL,
			     "fewer training records (%zu) than a batch (%u)",
			     n_use, s.batch);
		goto out;
	}
	steps = n_use / s.batch;
	total = (uint64_t)steps * s.epochs;
	warm = (uint64_t)(s.warmup * (float)steps);
	nw =
	    MS_MAX(1, MS_MIN(MS_MIN(o->threads, NN_MAX_WORKERS), (int)s.batch));
	perm = ms_mallocarray(train->n, sizeof(*perm));
	t = calloc(1, sizeof(*t));
	if (!perm || !t) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		goto out;
	}
	t->train = train;
	t->val = val;
	t->s = &s;
	t->perm = perm;
	if (trainer_init(t, net, nw, (int)s.batch, &started)) {
		rc = ms_errf(err, errlen, MS_ENOMEM,
			     "cannot set up %d training threads", nw);
		goto out;
	}
	step0 = s.step;
	while (s.epochs_done < s.epochs &&
	       (o->stop_after <= 0 ||
		s.step - step0 < (uint64_t)o->stop_after * steps)) {
		double t0 = ms_now_ms(), lsum = 0;
		size_t hits = 0;
		struct nn_rng subset;

		/* The subset is fixed by the seed; the order is reshuffled
		 * every epoch from the run's RNG. */
		nn_rng_seed(&subset, s.seed ^ 0x5eedull);
		for (size_t i = 0; i < train->n; i++)
			perm[i] = (uint32_t)i;
		if (n_use < train->n)
			for (size_t i = 0; i < n_use; i++) {
				size_t j =
				    i + nn_rng_below(&subset,
						     (uint32_t)(train->n - i));
				uint32_t tmp = perm[i];

				perm[i] = perm[j];
				perm[j] = tmp;
			}
		for (size_t i = n_use; i > 1; i--) {
			size_t j = nn_rng_below(&s.rng, (uint32_t)i);
			uint32_t tmp = perm[i - 1];

			perm[i - 1] = perm[j];
			perm[j] = tmp;
		}
		memset(&pr, 0, sizeof(pr));
		pr.epoch = (int)s.epochs_done + 1;
		pr.epochs = (int)s.epochs;
		pr.total = steps * s.batch;
		for (size_t st = 0; st < steps; st++) {
			float lr = schedule(&s, s.step, total, warm);
			size_t first = st * s.batch;

			for (int k = 0; k < nw; k++) {
				struct worker *w = &t->w[k];

				w->first = first;
				w->count =
				    s.batch / (uint32_t)nw +
				    ((uint32_t)k < s.batch % (uint32_t)nw);
				first += w->count;
				nn_rng_seed(&w->rng, nn_rng_next(&s.rng));
			}
			run_job(t, JOB_TRAIN);
			reduce(t);
			sgd_step(net, &s, lr);
			s.step++;
			for (int k = 0; k < nw; k++) {
				lsum += t->w[k].loss * (double)t->w[k].count /
					s.batch;
				hits += t->w[k].hits;
			}
			if (o->progress && ((st & 7) == 7 || st + 1 == steps)) {
				double el = (ms_now_ms() - t0) / 1000.0;
				double run_ips =
				    (double)(s.step - step0) * s.batch /
				    ((ms_now_ms() - t_run) / 1000.0);

				pr.done = (st + 1) * s.batch;
				pr.images_per_s = (double)pr.done / el;
				pr.loss = lsum / (double)(st + 1);
				pr.acc = (double)hits / (double)pr.done;
				pr.lr = lr;
				pr.eta_s = (double)(total - s.step) * s.batch /
					   run_ips;
				o->progress(o->user, &pr);
			}
		}
		validate(t, &pr.val_acc, &pr.val_loss);
		s.epochs_done++;
		pr.best = pr.val_acc > s.best_val;
		if (pr.best) {
			s.best_val = (float)pr.val_acc;
			s.best_epoch = s.epochs_done;
			rc = nn_net_save(net, o->out_path, err, errlen);
			if (rc)
				goto out;
		}
		if (o->ckpt_path) {
			rc =
			    save_checkpoint(net, &s, o->ckpt_path, err, errlen);
			if (rc)
				goto out;
		}
		pr.epoch_end = 1;
		pr.epoch_s = (ms_now_ms() - t0) / 1000.0;
		if (o->progress)
			o->progress(o->user, &pr);
	}
out:
	if (t)
		trainer_release(t, started);
	free(t);
	free(perm);
	nn_net_free(net);
	return rc;
}
