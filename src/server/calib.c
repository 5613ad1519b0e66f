/* calib.c - a session's per-person calibration: the state of the explicit
 * "resting face" step, the slow automatic baseline, which of the two a
 * face is read against, and the step's request body (see server/calib.h).
 * Arithmetic over nn_calib; the caller holds the session lock. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "server/calib.h"

const char *const srv_calib_state_names[SRV_CALIB_STATES] = {
	"off", "calibrating", "on", "failed"};

/* Derived from ../shared/data/fer2013/train.ferplus.txt: the 9,563 records
 * whose unique FER+ majority is neutral, each record's votes for the seven
 * FER classes normalised, then averaged (scripts/calib_rest.py prints
 * them). The crowd's own reading of a resting face: mostly neutral, a
 * little sad. */
const float srv_calib_rest[NN_CLASSES] = {
	0.0327f, /* angry */
	0.0115f, /* disgust */
	0.0070f, /* fear */
	0.0320f, /* happy */
	0.1148f, /* sad */
	0.0213f, /* surprise */
	0.7807f, /* neutral */
};

void srv_calib_init(struct srv_calib *c)
{
	memset(c, 0, sizeof(*c));
	c->state = SRV_CALIB_OFF;
	nn_calib_init(&c->base);
	nn_calib_init(&c->pending);
	nn_calib_init(&c->autob);
}

void srv_calib_start(struct srv_calib *c, double seconds, int frames,
		     double now_ms)
{
	nn_calib_init(&c->pending);
	c->started_ms = now_ms;
	c->want = frames > 0 ? frames : 0;
	c->until_ms = frames > 0 ? 0.0 : now_ms + seconds * 1000.0;
	c->state = SRV_CALIB_RUNNING;
}

void srv_calib_clear(struct srv_calib *c)
{
	srv_calib_init(c);
	c->fresh = 1;
}

/* A running step ends: its faces become the baseline, or it failed. */
static void finish(struct srv_calib *c)
{
	if (c->pending.weight >= SRV_CALIB_MIN_FRAMES) {
		c->base = c->pending;
		c->state = SRV_CALIB_ON;
		c->fresh = 1; /* read relative from the next face on */
	} else {
		c->state = c->base.weight > 0 ? SRV_CALIB_ON : SRV_CALIB_FAILED;
	}
	nn_calib_init(&c->pending);
}

void srv_calib_tick(struct srv_calib *c, double now_ms)
{
	if (c->state == SRV_CALIB_RUNNING && c->until_ms > 0 &&
	    now_ms >= c->until_ms)
		finish(c);
}

int srv_calib_frame(struct srv_calib *c, const struct srv_calib_params *p,
		    const float *probs, double now_ms)
{
	srv_calib_tick(c, now_ms);
	if (c->state == SRV_CALIB_RUNNING) {
		if (probs)
			nn_calib_add(&c->pending, probs);
		if (c->want > 0 && c->pending.weight >= c->want)
			finish(c);
		return 1;
	}
	if (probs && p->auto_tau > 0)
		nn_calib_track(&c->autob, probs, p->auto_tau);
	return 0;
}

const struct nn_calib *srv_calib_active(const struct srv_calib *c,
					const struct srv_calib_params *p,
					int *automatic)
{
	*automatic = 0;
	if (c->base.weight > 0 &&
	    (c->state == SRV_CALIB_ON || c->state == SRV_CALIB_RUNNING))
		return &c->base;
	if (p->auto_tau > 0 && c->autob.weight >= SRV_CALIB_AUTO_WARMUP) {
		*automatic = 1;
		return &c->autob;
	}
	return NULL;
}

void srv_calib_apply(const struct nn_calib *active,
		     const struct srv_calib_params *p,
		     const float p_in[NN_CLASSES], float out[NN_CLASSES])
{
	if (!active) {
		memmove(out, p_in, sizeof(float) * NN_CLASSES);
		return;
	}
	nn_calib_apply(active, srv_calib_rest, p->strength, p_in, out);
}

int srv_calib_take_fresh(struct srv_calib *c)
{
	int f = c->fresh;

	c->fresh = 0;
	return f;
}

void srv_calib_view(const struct srv_calib *c, const struct srv_calib_params *p,
		    double now_ms, struct srv_calib_view *out)
{
	const struct nn_calib *shown;

	memset(out, 0, sizeof(*out));
	out->state = c->state;
	out->strength = p->strength;
	out->auto_on = p->auto_tau > 0;
	shown = srv_calib_active(c, p, &out->automatic);
	out->applied = shown != NULL;
	if (c->state == SRV_CALIB_RUNNING) {
		shown = &c->pending;
		if (c->want > 0) {
			out->progress = c->pending.weight / c->want;
		} else {
			double span = c->until_ms - c->started_ms;

			out->seconds_left = (c->until_ms - now_ms) / 1000.0;
			if (out->seconds_left < 0)
				out->seconds_left = 0;
			out->progress =
				span > 0 ? (now_ms - c->started_ms) / span
					 : 1.0;
		}
		if (out->progress > 1)
			out->progress = 1;
		if (out->progress < 0)
			out->progress = 0;
	} else if (shown) {
		out->progress = 1;
	}
	if (shown && shown->weight > 0) {
		out->frames = (int)(shown->weight < 2e9 ? shown->weight : 2e9);
		memcpy(out->base, shown->base, sizeof(out->base));
	}
}

int srv_calib_parse(const void *body, size_t len, double *seconds, int *frames,
		    char *msg, size_t msglen)
{
	const cJSON *it;
	cJSON *root;
	int rc = MS_OK, given = 0;

	*seconds = SRV_CALIB_DEFAULT_SECONDS;
	*frames = 0;
	if (len == 0)
		return MS_OK;
	root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(root)) {
		rc = ms_errf(msg, msglen, MS_EINVAL,
			     "body must be a JSON object");
		goto out;
	}
	cJSON_ArrayForEach(it, root)
	{
		double v = it->valuedouble;

		if (strcmp(it->string, "seconds") == 0 && cJSON_IsNumber(it) &&
		    v > 0 && v <= SRV_CALIB_MAX_SECONDS) {
			*seconds = v;
		} else if (strcmp(it->string, "frames") == 0 &&
			   cJSON_IsNumber(it) && v >= 1 &&
			   v <= SRV_CALIB_MAX_FRAMES && v == floor(v)) {
			*frames = (int)v;
		} else {
			rc = ms_errf(msg, msglen, MS_EINVAL,
				     "body must be {\"seconds\": S} with "
				     "0 < S <= %.0f or {\"frames\": N} with N "
				     "in 1..%d",
				     SRV_CALIB_MAX_SECONDS,
				     SRV_CALIB_MAX_FRAMES);
			goto out;
		}
		given++;
	}
	if (given > 1)
		rc = ms_errf(msg, msglen, MS_EINVAL,
			     "give \"seconds\" or \"frames\", not both");
out:
	cJSON_Delete(root);
	if (rc) {
		*seconds = SRV_CALIB_DEFAULT_SECONDS;
		*frames = 0;
	}
	return rc;
}
