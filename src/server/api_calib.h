/* api_calib.h - per-person calibration in the API (src/server/api_calib.c):
 * the frame path's use of the session's baseline and the "calibration"
 * member of the mood object; the routes are declared in server/api.h. */
#ifndef MOODSYNC_SERVER_API_CALIB_H
#define MOODSYNC_SERVER_API_CALIB_H

#include "moodsync/common.h"
#include "moodsync/pipeline.h"
#include "server/app.h"

/* Under the session lock: feeds the frame's person (the largest face) to
 * the session's calibration, then reads that face relative to the
 * baseline in use, in place (probs and emotion), keeping its raw
 * probabilities in `raw`; other faces (other people) stay as they are.
 * *calibrated = 1 when the face was read relative to a baseline; *fresh
 * is set when the mood should start anew. Returns 1 when the frame was a
 * resting-face sample of a running step (the caller leaves the mood
 * alone), else 0. */
int api_calib_frame(const struct srv_app *app, struct srv_session *s,
		    struct pipe_frame *f, double now_ms, float raw[NN_CLASSES],
		    int *calibrated, int *fresh);

/* Writes "calibration": {...} (docs/api.md) into an open object. */
void api_calib_members(struct ms_json *j, const struct srv_calib_view *v);

#endif
