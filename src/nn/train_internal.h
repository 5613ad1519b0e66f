/* train_internal.h - what the trainer's files share: the run state a
 * checkpoint carries (train_state.c) and the per-face augmentations
 * (augment.c); train.c runs the epochs. */
#ifndef MOODSYNC_NN_TRAIN_INTERNAL_H
#define MOODSYNC_NN_TRAIN_INTERNAL_H

#include "nn/nn_internal.h"

/* Everything a run needs to continue exactly where it stopped. */
struct nn_train_state {
	uint32_t epochs_done;
	uint32_t epochs;
	uint32_t batch;
	uint32_t seed;
	float lr, wd, momentum, smoothing, warmup;
	uint32_t augment;
	uint32_t best_epoch; /* 1-based, 0 = none yet */
	float best_val;
	uint64_t step;	      /* optimiser steps taken */
	uint64_t limit;	      /* training subset size, 0 = all */
	struct nn_rng rng;    /* at the start of epoch epochs_done+1 */
	float share;	      /* FER+ share of the targets */
	float erase;	      /* random-erasing probability */
	float mixup;	      /* mixup Beta parameter, 0 = off */
	float cw[NN_CLASSES]; /* loss weight of each class, 1 = unweighted */
};

/* 1 when some class weight of the run is not 1. */
int nn_train_weighted(const struct nn_train_state *s);

/* Writes net + momenta + state to `path` atomically. */
int nn_train_ckpt_save(const struct nn_net *net, const struct nn_train_state *s,
		       const char *path, char *err, size_t errlen);
/* Reads a checkpoint: a trainable net with momenta, and its state.
 * MS_EFORMAT when the file is a model or the state is invalid. */
int nn_train_ckpt_load(const char *path, struct nn_net **net,
		       struct nn_train_state *s, char *err, size_t errlen);
/* A model file's weights as a trainable net (momenta zero); MS_EINVAL
 * for a checkpoint. */
int nn_net_load_weights(const char *path, struct nn_net **net, char *err,
			size_t errlen);

/* The training records a run draws from into pool: all of them, or with
 * FER+ targets (s->share > 0) those that have one. Returns the count. */
size_t nn_train_pool(const struct nn_train_state *s, const struct nn_fer *train,
		     uint32_t *pool);
/* This epoch's order: perm[0..n_use) is a subset of the m pooled records
 * fixed by the seed (all of them when n_use == m), shuffled from the
 * run's RNG, which advances. */
void nn_train_epoch_order(struct nn_train_state *s, const uint32_t *pool,
			  size_t m, size_t n_use, uint32_t *perm);

/* Random shift, rotation, scale, flip, contrast and brightness of a
 * side*side face into the crop*crop normalised input dst. */
void nn_augment_face(const struct nn_arch *a, const uint8_t *src, float *dst,
		     struct nn_rng *r);
/* Random erasing of one rectangle of a crop*crop input, probability p. */
void nn_augment_erase(int crop, float p, float *x, struct nn_rng *r);
/* Mixup of the B inputs (px floats each) and targets (B, NN_CLASSES)
 * of one slice, Beta(a, a); a <= 0 does nothing. */
void nn_augment_mixup(float a, int B, size_t px, float *x, float *tg,
		      struct nn_rng *r);

/* Nesterov momentum with weight decay over n weights: w, its momentum m
 * and its gradient g (three arrays that never overlap). */
void nn_train_sgd_update(float *restrict w, float *restrict m,
			 const float *restrict g, size_t n, float wd, float mu,
			 float lr);
/* d += s, element by element (d and s never overlap). */
void nn_train_add(float *restrict d, const float *restrict s, size_t n);

#endif
