/* train_state.c - the trainer's files: the run state blob a checkpoint
 * carries (format below), checkpoint save and load, a model file's
 * weights as the start of a new run, and the order in which the run
 * draws the training records. */
#include <stdio.h>
#include <string.h>

#include "nn/train_internal.h"

#define STATE_VERSION 3u
/* "train.state": u32 version, epochs_done, epochs, batch, seed; f32 lr,
 * wd, momentum, smoothing, warmup; u32 augment, best_epoch; f32 best_val;
 * u64 step, limit; u64 rng[4]; then (version 2) f32 ferplus_share, erase,
 * mixup; then (version 3) f32 class weight[NN_CLASSES]. Little-endian,
 * STATE_LEN bytes; older versions are shorter (STATE_LEN_V1, _V2) and
 * their runs had none of the later fields (share, erase, mixup 0, class
 * weights 1). */
#define STATE_LEN_V1 100u
#define STATE_LEN_V2 112u
#define STATE_LEN (STATE_LEN_V2 + 4u * NN_CLASSES)

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

static void state_encode(const struct nn_train_state *s, uint8_t *b)
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
	putf(&b, s->share);
	putf(&b, s->erase);
	putf(&b, s->mixup);
	for (int c = 0; c < NN_CLASSES; c++)
		putf(&b, s->cw[c]);
}

static int state_decode(const uint8_t *b, size_t len, struct nn_train_state *s)
{
	uint32_t version;

	if (len < 4)
		return MS_EFORMAT;
	version = get32(&b);
	if (!(version == 1 && len == STATE_LEN_V1) &&
	    !(version == 2 && len == STATE_LEN_V2) &&
	    !(version == STATE_VERSION && len == STATE_LEN))
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
	s->share = s->erase = s->mixup = 0;
	if (version >= 2) {
		s->share = getf(&b);
		s->erase = getf(&b);
		s->mixup = getf(&b);
	}
	for (int c = 0; c < NN_CLASSES; c++)
		s->cw[c] = version >= 3 ? getf(&b) : 1.0f;
	if (nn_class_weight_bad(s->cw) >= 0)
		return MS_EFORMAT;
	if (!(s->share >= 0 && s->share <= 1) ||
	    !(s->erase >= 0 && s->erase <= 1) ||
	    !(s->mixup >= 0 && s->mixup <= 10))
		return MS_EFORMAT;
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

int nn_train_weighted(const struct nn_train_state *s)
{
	for (int c = 0; c < NN_CLASSES; c++)
		if (s->cw[c] != 1.0f)
			return 1;
	return 0;
}

int nn_train_ckpt_save(const struct nn_net *net, const struct nn_train_state *s,
		       const char *path, char *err, size_t errlen)
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

int nn_train_ckpt_load(const char *path, struct nn_net **net,
		       struct nn_train_state *s, char *err, size_t errlen)
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

int nn_train_ckpt_export(const char *ckpt, const char *out, char *err,
			 size_t errlen)
{
	struct nn_train_state s;
	struct nn_net *net;
	int rc = nn_train_ckpt_load(ckpt, &net, &s, err, errlen);

	if (rc)
		return rc;
	rc = nn_net_save(net, out, err, errlen);
	nn_net_free(net);
	return rc;
}

/* A model file's weights as a trainable net (momenta zero). */
int nn_net_load_weights(const char *path, struct nn_net **net, char *err,
			size_t errlen)
{
	uint8_t *buf;
	size_t len;
	uint32_t kind;
	int rc = ms_file_read(path, 256u << 20, &buf, &len, err, errlen);

	if (rc)
		return rc;
	rc = nn_net_parse(buf, len, 1, net, &kind, NULL, NULL, err, errlen);
	free(buf);
	if (rc) {
		char why[MS_ERRLEN];

		snprintf(why, sizeof(why), "%s", err);
		rc = ms_errf(err, errlen, rc, "%s: %s", path, why);
	} else if (kind != NN_FILE_MODEL) {
		nn_net_free(*net);
		*net = NULL;
		rc = ms_errf(err, errlen, MS_EINVAL,
			     "%s: a checkpoint; use --resume", path);
	}
	return rc;
}

/* The training records the run draws from: all, or with FER+ targets
 * only those that have one. Writes them to pool, returns the count. */
size_t nn_train_pool(const struct nn_train_state *s, const struct nn_fer *train,
		     uint32_t *pool)
{
	size_t m = 0;

	for (size_t i = 0; i < train->n; i++)
		if (s->share <= 0 || nn_fer_has_target(train, i))
			pool[m++] = (uint32_t)i;
	return m;
}

/* This epoch's order: perm[0..n_use) is a subset of the pool fixed by the
 * seed (all of it without --limit), reshuffled from the run's RNG. */
void nn_train_epoch_order(struct nn_train_state *s, const uint32_t *pool,
			  size_t m, size_t n_use, uint32_t *perm)
{
	struct nn_rng subset;

	nn_rng_seed(&subset, s->seed ^ 0x5eedull);
	memcpy(perm, pool, m * sizeof(*perm));
	if (n_use < m)
		for (size_t i = 0; i < n_use; i++) {
			size_t j = i + nn_rng_below(&subset, (uint32_t)(m - i));
			uint32_t tmp = perm[i];

			perm[i] = perm[j];
			perm[j] = tmp;
		}
	for (size_t i = n_use; i > 1; i--) {
		size_t j = nn_rng_below(&s->rng, (uint32_t)i);
		uint32_t tmp = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = tmp;
	}
}
