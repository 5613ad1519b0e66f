/* train.c - the trainer behind `moodsync train`: SGD with Nesterov
 * momentum and weight decay, warmup + cosine schedule, data-parallel
 * workers, per-epoch validation, best-model and checkpoint files, and
 * resume from a checkpoint with the exact RNG state so a resumed run
 * continues the same sequence of batches. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "nn/train_internal.h"

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
	for (int c = 0; c < NN_CLASSES; c++)
		o->class_weight[c] = 1.0f;
}

static float schedule(const struct nn_train_state *s, uint64_t step,
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

static void sgd_step(struct nn_net *net, const struct nn_train_state *s,
		     float lr)
{
	float mu = s->momentum;

	for (int i = 0; i < net->n_params; i++) {
		struct nn_param *p = &net->params[i];
		float wd = p->decay ? s->wd : 0.0f;

		if (!p->trainable)
			continue;
		nn_train_sgd_update(p->w, p->m, p->g, p->n, wd, mu, lr);
	}
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
	float *targets;	     /* (ws.bmax, NN_CLASSES) */
	size_t plus_hits;    /* val: hits on FER+ majority labels */
	size_t first, count; /* this step's slice of perm */
	double loss;	     /* train: mean over slice; val: sum */
	size_t hits;
	pthread_t th;
};

struct trainer {
	const struct nn_fer *train, *val;
	const struct nn_train_state *s;
	const uint32_t *perm;
	int nw, B;
	int soft; /* targets through nn_target_mix (FER+, mixup, weights) */
	const float *cw; /* class weights of the loss, NULL: unweighted */
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
			nn_augment_face(a, px, w->ws.act[0] + j * crop2,
					&w->rng);
		else
			nn_prep_center(a, px, 0, w->ws.act[0] + j * crop2);
		nn_augment_erase(a->crop, w->t->s->erase,
				 w->ws.act[0] + j * crop2, &w->rng);
		if (w->t->soft)
			nn_target_mix(w->labels[j],
				      w->t->train->votes
					      ? w->t->train->votes +
							id * NN_CLASSES
					      : NULL,
				      w->t->s->smoothing, w->t->s->share,
				      w->targets + (size_t)j * NN_CLASSES);
	}
	if (w->t->soft) {
		nn_augment_mixup(w->t->s->mixup, B, crop2, w->ws.act[0],
				 w->targets, &w->rng);
		nn_net_forward(w->net, &w->ws, B, 1, &w->rng);
		w->loss = nn_softmax_ce_soft(w->ws.act[L], w->targets, B,
					     w->t->cw, w->labels, w->ws.grad[L],
					     &c);
	} else {
		nn_net_forward(w->net, &w->ws, B, 1, &w->rng);
		w->loss = nn_softmax_ce(w->ws.act[L], w->labels, B,
					w->t->s->smoothing, w->ws.grad[L], &c);
	}
	w->hits = (size_t)c;
	for (size_t i = 0; i < ny; i++)
		w->ws.grad[L][i] *= scale;
	nn_net_backward(w->net, &w->ws, B);
}

/* How many of B logit columns [NN_CLASSES][B] have their argmax at
 * labels[n] (labels of NN_FERPLUS_NONE never match). */
static size_t argmax_hits(const float *logits, int B, const uint8_t *labels)
{
	size_t hits = 0;

	for (int n = 0; n < B; n++) {
		int arg = 0;

		for (int c = 1; c < NN_CLASSES; c++)
			if (logits[c * B + n] > logits[arg * B + n])
				arg = c;
		hits += arg == labels[n];
	}
	return hits;
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
	w->plus_hits = 0;
	for (size_t i = bm * (size_t)w->id; i < val->n;
	     i += bm * (size_t)w->t->nw) {
		int B = (int)MS_MIN(bm, val->n - i), c;

		for (int j = 0; j < B; j++)
			nn_prep_center(a,
				       val->pixels + (i + j) * NN_FER_SIDE *
							     NN_FER_SIDE,
				       0, w->ws.act[0] + j * crop2);
		nn_net_forward(w->net, &w->ws, B, 0, NULL);
		w->loss += nn_softmax_ce(w->ws.act[L], val->labels + i, B, 0.0f,
					 NULL, &c) *
			   B;
		w->hits += (size_t)c;
		if (val->major)
			w->plus_hits +=
				argmax_hits(w->ws.act[L], B, val->major + i);
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
				nn_train_add(p->g, r->params[i].g, p->n);
			else
				nn_train_add(p->w, r->params[i].w, p->n);
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

/* Validation accuracy on FER labels (*acc), on FER+ majority labels
 * (*plus_acc over records with a FER+ target, -1 without votes), mean
 * loss on FER labels. */
static void validate(struct trainer *t, double *acc, double *plus_acc,
		     double *loss)
{
	size_t hits = 0, plus = 0, n_plus = 0;
	double l = 0;

	run_job(t, JOB_VAL);
	for (int k = 0; k < t->nw; k++) {
		hits += t->w[k].hits;
		plus += t->w[k].plus_hits;
		l += t->w[k].loss;
	}
	*acc = t->val->n ? (double)hits / (double)t->val->n : 0;
	*loss = t->val->n ? l / (double)t->val->n : 0;
	*plus_acc = -1;
	if (t->val->votes) {
		for (size_t i = 0; i < t->val->n; i++)
			n_plus += nn_fer_has_target(t->val, i);
		*plus_acc = n_plus ? (double)plus / (double)n_plus : 0;
	}
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
		free(t->w[k].targets);
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
		w->targets =
			ms_mallocarray((size_t)bm, NN_CLASSES * sizeof(float));
		if (!w->labels || !w->targets || nn_ws_init(&w->ws, w->net, bm))
			return MS_ENOMEM;
	}
	for (int k = 1; k < nw; k++) {
		if (pthread_create(&t->w[k].th, NULL, worker_main, &t->w[k]))
			return MS_ENOMEM;
		*started = k + 1;
	}
	return MS_OK;
}

/* The run's state and net: from a checkpoint (o->resume), else a new
 * run from o's settings with He-initialised or o->init's weights. */
static int run_setup(const struct nn_train_opts *o, struct nn_net **net,
		     struct nn_train_state *s, char *err, size_t errlen)
{
	struct nn_arch arch;
	int rc;

	memset(s, 0, sizeof(*s));
	if (o->resume) {
		rc = nn_train_ckpt_load(o->resume, net, s, err, errlen);
		if (rc || !o->resume_epochs)
			return rc;
		if ((uint32_t)o->epochs < s->epochs_done) {
			nn_net_free(*net);
			*net = NULL;
			return ms_errf(err, errlen, MS_EINVAL,
				       "checkpoint already has %u epochs",
				       s->epochs_done);
		}
		s->epochs = (uint32_t)o->epochs;
		s->warmup = MS_MIN(s->warmup, (float)s->epochs);
		return MS_OK;
	}
	if (o->init) {
		rc = nn_net_load_weights(o->init, net, err, errlen);
		if (rc)
			return rc;
	} else {
		if (nn_arch_preset(o->arch, &arch))
			return ms_errf(err, errlen, MS_EINVAL,
				       "unknown architecture '%s'", o->arch);
		rc = nn_net_new(&arch, 1, net, err, errlen);
		if (rc)
			return rc;
	}
	s->epochs = (uint32_t)o->epochs;
	s->batch = (uint32_t)o->batch;
	s->seed = o->seed;
	s->lr = o->lr;
	s->wd = o->wd;
	s->momentum = o->momentum;
	s->smoothing = o->smoothing;
	s->warmup = o->warmup;
	s->augment = (uint32_t)o->augment;
	s->limit = o->limit;
	s->share = o->ferplus_share;
	s->erase = o->erase;
	s->mixup = o->mixup;
	memcpy(s->cw, o->class_weight, sizeof(s->cw));
	s->best_val = -1.0f;
	nn_rng_seed(&s->rng, o->seed);
	if (!o->init)
		nn_net_init_weights(*net, &s->rng);
	return MS_OK;
}

/* What a run needs besides the trainer: sizes and timing. */
struct run {
	const struct nn_train_opts *o;
	struct nn_train_state *s;
	struct nn_net *net;
	struct trainer *t;
	size_t steps;	/* optimiser steps per epoch */
	uint64_t total; /* steps of the whole run */
	uint64_t warm;	/* warmup steps */
	uint64_t step0; /* s->step when this session started */
	double t_run;	/* ms_now_ms() at the start of the session */
	struct nn_train_progress pr;
};

static void report_step(struct run *r, size_t st, double t0, double lsum,
			size_t hits, float lr)
{
	struct nn_train_progress *pr = &r->pr;
	const struct nn_train_state *s = r->s;
	double el = (ms_now_ms() - t0) / 1000.0;
	double run_ips = (double)(s->step - r->step0) * s->batch /
			 ((ms_now_ms() - r->t_run) / 1000.0);

	pr->done = (st + 1) * s->batch;
	pr->images_per_s = (double)pr->done / el;
	pr->loss = lsum / (double)(st + 1);
	pr->acc = (double)hits / (double)pr->done;
	pr->lr = lr;
	pr->eta_s = (double)(r->total - s->step) * s->batch / run_ips;
	r->o->progress(r->o->user, pr);
}

/* One epoch of optimiser steps over perm. */
static void train_epoch(struct run *r, double t0)
{
	struct nn_train_state *s = r->s;
	struct trainer *t = r->t;
	double lsum = 0;
	size_t hits = 0;
	uint32_t nw = (uint32_t)t->nw;

	for (size_t st = 0; st < r->steps; st++) {
		float lr = schedule(s, s->step, r->total, r->warm);
		size_t first = st * s->batch;

		for (uint32_t k = 0; k < nw; k++) {
			struct worker *w = &t->w[k];

			w->first = first;
			w->count = s->batch / nw + (k < s->batch % nw);
			first += w->count;
			nn_rng_seed(&w->rng, nn_rng_next(&s->rng));
		}
		run_job(t, JOB_TRAIN);
		reduce(t);
		sgd_step(r->net, s, lr);
		s->step++;
		for (uint32_t k = 0; k < nw; k++) {
			lsum += t->w[k].loss * (double)t->w[k].count / s->batch;
			hits += t->w[k].hits;
		}
		if (r->o->progress && ((st & 7) == 7 || st + 1 == r->steps))
			report_step(r, st, t0, lsum, hits, lr);
	}
}

/* Validates, keeps the best model, writes the checkpoint. The best epoch
 * is the one with the highest FER accuracy, or with FER+ votes on the
 * validation split, the highest mean of FER and FER+ majority accuracy. */
static int epoch_finish(struct run *r, double t0, char *err, size_t errlen)
{
	struct nn_train_progress *pr = &r->pr;
	struct nn_train_state *s = r->s;
	double score;
	int rc;

	validate(r->t, &pr->val_acc, &pr->val_plus_acc, &pr->val_loss);
	s->epochs_done++;
	score = pr->val_plus_acc >= 0 ? 0.5 * (pr->val_acc + pr->val_plus_acc)
				      : pr->val_acc;
	pr->best = score > s->best_val;
	if (pr->best) {
		s->best_val = (float)score;
		s->best_epoch = s->epochs_done;
		rc = nn_net_save(r->net, r->o->out_path, err, errlen);
		if (rc)
			return rc;
	}
	if (r->o->ckpt_path) {
		rc = nn_train_ckpt_save(r->net, s, r->o->ckpt_path, err,
					errlen);
		if (rc)
			return rc;
	}
	pr->epoch_end = 1;
	pr->epoch_s = (ms_now_ms() - t0) / 1000.0;
	if (r->o->progress)
		r->o->progress(r->o->user, pr);
	return MS_OK;
}

/* Checks the run against the data; sets its sizes. */
static int run_check(struct run *r, const struct nn_fer *train, size_t m,
		     size_t *n_use, char *err, size_t errlen)
{
	const struct nn_train_state *s = r->s;
	int bad;

	if (r->net->arch.side != NN_FER_SIDE)
		return ms_errf(err, errlen, MS_EINVAL, "net input must be 48");
	if (s->share > 0 && !train->votes)
		return ms_errf(err, errlen, MS_EINVAL,
			       "FER+ targets need the split's FER+ votes");
	bad = nn_class_weight_bad(s->cw);
	if (bad >= 0)
		return ms_errf(err, errlen, MS_EINVAL,
			       "class weight of %s out of range",
			       nn_emotion_names[bad]);
	*n_use = s->limit && s->limit < m ? s->limit : m;
	if (*n_use < s->batch)
		return ms_errf(err, errlen, MS_EINVAL,
			       "fewer training records (%zu) than a batch (%u)",
			       *n_use, s->batch);
	r->steps = *n_use / s->batch;
	r->total = (uint64_t)r->steps * s->epochs;
	r->warm = (uint64_t)(s->warmup * (float)r->steps);
	return MS_OK;
}

int nn_train_run(const struct nn_train_opts *o, const struct nn_fer *train,
		 const struct nn_fer *val, char *err, size_t errlen)
{
	struct nn_train_state s;
	struct run r = {.o = o, .s = &s, .t_run = ms_now_ms()};
	uint32_t *perm = NULL, *pool = NULL;
	size_t n_use = 0, m;
	int rc, nw, started = 0;

	nn_set_threads(1);
	rc = run_setup(o, &r.net, &s, err, errlen);
	if (rc)
		return rc;
	perm = ms_mallocarray(train->n, sizeof(*perm));
	pool = ms_mallocarray(train->n, sizeof(*pool));
	r.t = calloc(1, sizeof(*r.t));
	if (!perm || !pool || !r.t) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		goto out;
	}
	m = nn_train_pool(&s, train, pool);
	rc = run_check(&r, train, m, &n_use, err, errlen);
	if (rc)
		goto out;
	nw = MS_MAX(1,
		    MS_MIN(MS_MIN(o->threads, NN_MAX_WORKERS), (int)s.batch));
	r.t->train = train;
	r.t->val = val;
	r.t->s = &s;
	r.t->perm = perm;
	r.t->cw = nn_train_weighted(&s) ? s.cw : NULL;
	r.t->soft = s.share > 0 || s.mixup > 0 || r.t->cw;
	if (trainer_init(r.t, r.net, nw, (int)s.batch, &started)) {
		rc = ms_errf(err, errlen, MS_ENOMEM,
			     "cannot set up %d training threads", nw);
		goto out;
	}
	r.step0 = s.step;
	while (s.epochs_done < s.epochs &&
	       (o->stop_after <= 0 ||
		s.step - r.step0 < (uint64_t)o->stop_after * r.steps)) {
		double t0 = ms_now_ms();

		nn_train_epoch_order(&s, pool, m, n_use, perm);
		memset(&r.pr, 0, sizeof(r.pr));
		r.pr.epoch = (int)s.epochs_done + 1;
		r.pr.epochs = (int)s.epochs;
		r.pr.total = r.steps * s.batch;
		train_epoch(&r, t0);
		rc = epoch_finish(&r, t0, err, errlen);
		if (rc)
			goto out;
	}
out:
	if (r.t)
		trainer_release(r.t, started);
	free(r.t);
	free(pool);
	free(perm);
	nn_net_free(r.net);
	return rc;
}
