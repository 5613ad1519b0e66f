/* calib.c - per-person calibration of the emotion model's output: a
 * baseline probability vector (explicit resting-face samples or a slow
 * moving average) and the relative reading against it. Pure arithmetic on
 * NN_CLASSES-vectors; see the contract in include/moodsync/nn.h. */
#include <math.h>
#include <string.h>

#include "moodsync/nn.h"

/* Floor on baseline probabilities, so a class the baseline never shows
 * cannot be boosted without bound. */
#define CALIB_FLOOR 1e-3f

void nn_calib_init(struct nn_calib *c)
{
	for (int k = 0; k < NN_CLASSES; k++)
		c->base[k] = 1.0f / NN_CLASSES;
	c->weight = 0;
}

static int probs_ok(const float p[NN_CLASSES])
{
	for (int k = 0; k < NN_CLASSES; k++)
		if (!(p[k] >= 0 && p[k] <= 1))
			return 0;
	return 1;
}

void nn_calib_add(struct nn_calib *c, const float probs[NN_CLASSES])
{
	double w;

	if (!probs_ok(probs))
		return;
	w = c->weight + 1;
	for (int k = 0; k < NN_CLASSES; k++)
		c->base[k] += (float)((probs[k] - c->base[k]) / w);
	c->weight = w;
}

void nn_calib_track(struct nn_calib *c, const float probs[NN_CLASSES],
		    double tau)
{
	float a;

	if (!probs_ok(probs))
		return;
	if (c->weight <= 0) {
		memcpy(c->base, probs, sizeof(c->base));
		c->weight = 1;
		return;
	}
	/* a running mean over the first tau samples, then the moving
	 * average: a fixed 1/tau from the start would leave the first face
	 * dominating the baseline for tau samples */
	if (tau < 1)
		tau = 1;
	a = (float)(1.0 / (c->weight + 1 < tau ? c->weight + 1 : tau));
	for (int k = 0; k < NN_CLASSES; k++)
		c->base[k] += a * (probs[k] - c->base[k]);
	c->weight += 1;
}

void nn_calib_apply(const struct nn_calib *c, const float *target,
		    float strength, const float p[NN_CLASSES],
		    float out[NN_CLASSES])
{
	float r[NN_CLASSES], sum = 0;

	if (c->weight <= 0 || !(strength > 0)) {
		memmove(out, p, sizeof(r));
		return;
	}
	if (strength > 1)
		strength = 1;
	for (int k = 0; k < NN_CLASSES; k++) {
		float t = target ? target[k] : 1.0f / NN_CLASSES;
		float b = c->base[k] > CALIB_FLOOR ? c->base[k] : CALIB_FLOOR;

		t = t > CALIB_FLOOR ? t : CALIB_FLOOR;
		r[k] = p[k] * powf(t / b, strength);
		sum += r[k];
	}
	for (int k = 0; k < NN_CLASSES; k++)
		out[k] = sum > 0 ? r[k] / sum : p[k];
}
