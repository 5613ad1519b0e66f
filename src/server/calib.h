/* calib.h - a session's per-person calibration (src/server/calib.c): the
 * explicit "resting face" step (the faces of the next few seconds, or of
 * the next N frames, become the person's baseline) and the optional slow
 * automatic baseline, both over nn_calib (moodsync/nn.h). Plain values in
 * the session; every function runs under the session table's lock. */
#ifndef MOODSYNC_SERVER_CALIB_H
#define MOODSYNC_SERVER_CALIB_H

#include <stddef.h>

#include "moodsync/nn.h"

/* A calibration step lasts at most this long, seconds, or this many
 * frames; it needs at least SRV_CALIB_MIN_FRAMES faces to succeed. */
#define SRV_CALIB_MAX_SECONDS 30.0
#define SRV_CALIB_MAX_FRAMES 300
#define SRV_CALIB_MIN_FRAMES 3
/* The step the page runs: three seconds of frames. */
#define SRV_CALIB_DEFAULT_SECONDS 3.0
/* How strongly a face is read relative to the baseline (nn_calib_apply's
 * strength) unless the server is told otherwise; see models/README.md,
 * "Per-person calibration", for the measurement behind it. */
#define SRV_CALIB_STRENGTH 0.75f
/* The automatic baseline's time constant by default, faces (0: off);
 * `moodsync serve --calib-auto N` sets it. Off: the measurement in
 * models/README.md found no gain for a typical person. */
#define SRV_CALIB_AUTO_TAU 0.0
/* The automatic baseline reads faces relative to itself only after this
 * many faces (a fresh average of a few frames is noise, not a person). */
#define SRV_CALIB_AUTO_WARMUP 50

enum srv_calib_state {
	SRV_CALIB_OFF,	   /* no explicit baseline */
	SRV_CALIB_RUNNING, /* collecting the resting face */
	SRV_CALIB_ON,	   /* an explicit baseline is in use */
	SRV_CALIB_FAILED,  /* the last step saw too few faces */
	SRV_CALIB_STATES
};
extern const char *const srv_calib_state_names[SRV_CALIB_STATES];

/* Server-wide settings (struct srv_config). */
struct srv_calib_params {
	float strength;	 /* 0..1, nn_calib_apply's strength */
	double auto_tau; /* automatic baseline time constant, faces; 0 off */
};

struct srv_calib {
	int state;		 /* enum srv_calib_state */
	struct nn_calib base;	 /* explicit baseline (state ON) */
	struct nn_calib pending; /* being collected (state RUNNING) */
	struct nn_calib autob;	 /* slow automatic baseline */
	double started_ms;	 /* step began, monotonic ms */
	double until_ms;	 /* a timed step ends then; 0: counted */
	int want;		 /* a counted step's frames; 0: timed */
	int fresh;		 /* 1: the next reading starts the mood anew */
};

/* What the API reports (GET /api/mood's "calibration"). */
struct srv_calib_view {
	int state;	     /* enum srv_calib_state */
	int applied;	     /* 1: faces are read relative to a baseline */
	int automatic;	     /* 1: ... and it is the automatic one */
	int frames;	     /* faces behind the baseline shown */
	double progress;     /* 0..1 of a running step, 1 when on */
	double seconds_left; /* of a timed running step, else 0 */
	float strength;
	int auto_on;		/* the automatic baseline is enabled */
	float base[NN_CLASSES]; /* the baseline shown (frames > 0) */
};

/* Parses a POST /api/mood/calibrate body: {"seconds": S} (0 < S <=
 * SRV_CALIB_MAX_SECONDS), {"frames": N} (integer, 1..SRV_CALIB_MAX_FRAMES),
 * or empty / {} (SRV_CALIB_DEFAULT_SECONDS). *frames is 0 for a timed
 * step. MS_EINVAL with a sentence for the user in `msg` for anything else
 * (not an object, an unknown key, both keys, a value out of range). Any
 * bytes; fuzzed (tests/fuzz/fuzz_http.c). */
int srv_calib_parse(const void *body, size_t len, double *seconds, int *frames,
		    char *msg, size_t msglen);

/* No baseline, not running. */
void srv_calib_init(struct srv_calib *c);
/* Starts a step at `now_ms` (monotonic): the faces of the next `seconds`
 * (when frames == 0) or of the next `frames` frames are the resting face.
 * A baseline already in use stays until the step succeeds. The caller
 * checks the ranges (0 < seconds <= MAX, 0 < frames <= MAX). */
void srv_calib_start(struct srv_calib *c, double seconds, int frames,
		     double now_ms);
/* Forgets both baselines and any running step; the next reading starts
 * the mood anew. */
void srv_calib_clear(struct srv_calib *c);
/* Ends a timed step whose time is up (ON with enough faces, else FAILED,
 * keeping the previous baseline). Call before reading the state. */
void srv_calib_tick(struct srv_calib *c, double now_ms);
/* Feeds one frame's person (the largest face's raw probabilities; NULL
 * when no face was classified). Returns 1 when the frame was taken by a
 * running step (a resting-face sample: the caller leaves the mood alone),
 * else 0 (the automatic baseline, when enabled, learnt from it). */
int srv_calib_frame(struct srv_calib *c, const struct srv_calib_params *p,
		    const float *probs, double now_ms);
/* The baseline faces are read against now: the explicit one when on, the
 * automatic one once warm, else NULL (faces are read as they are). */
const struct nn_calib *srv_calib_active(const struct srv_calib *c,
					const struct srv_calib_params *p,
					int *automatic);
/* Reads p relative to `active` (srv_calib_active) towards the resting
 * target below, into out (may alias p). */
void srv_calib_apply(const struct nn_calib *active,
		     const struct srv_calib_params *p,
		     const float p_in[NN_CLASSES], float out[NN_CLASSES]);
/* 1 (and clears the flag) when the mood should start anew. */
int srv_calib_take_fresh(struct srv_calib *c);
void srv_calib_view(const struct srv_calib *c, const struct srv_calib_params *p,
		    double now_ms, struct srv_calib_view *out);

/* The target a resting face reads as after calibration: the mean FER+
 * crowd vote of the FER-2013 training faces whose majority is neutral
 * (FER class order). */
extern const float srv_calib_rest[NN_CLASSES];

#endif
