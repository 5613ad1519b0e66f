/* api_calib.c - per-person calibration over HTTP: POST /api/mood/calibrate
 * {"seconds": S} or {"frames": N} makes the next faces the session's
 * resting face, DELETE forgets it; the frame path reads faces relative to
 * the baseline (api_calib_frame) and the mood object reports its state.
 * The state machine is server/calib.c; sessions are touched only under
 * their lock. */
#include <math.h>
#include <string.h>

#include "server/api.h"
#include "server/api_calib.h"

int api_calib_frame(const struct srv_app *app, struct srv_session *s,
		    struct pipe_frame *f, double now_ms, float raw[NN_CLASSES],
		    int *calibrated, int *fresh)
{
	const struct nn_calib *active;
	const float *person = NULL;
	int automatic;

	*calibrated = 0;
	if (f->nfaces > 0 && f->faces[0].emotion >= 0)
		person = f->faces[0].probs;
	if (srv_calib_frame(&s->calib, &app->calib, person, now_ms))
		return 1;
	if (srv_calib_take_fresh(&s->calib))
		*fresh = 1;
	active = srv_calib_active(&s->calib, &app->calib, &automatic);
	if (!active || !person)
		return 0;
	/* The baseline is the listener's: only their face (the largest, the
	 * one the step learnt from) is read relative to it; other people in
	 * view (group mode) are read as they are. */
	memcpy(raw, f->faces[0].probs, sizeof(float) * NN_CLASSES);
	srv_calib_apply(active, &app->calib, f->faces[0].probs,
			f->faces[0].probs);
	f->faces[0].emotion = nn_argmax(f->faces[0].probs);
	*calibrated = 1;
	return 0;
}

void api_calib_members(struct ms_json *j, const struct srv_calib_view *v)
{
	ms_json_obj_open(j, "calibration");
	ms_json_str(j, "state", srv_calib_state_names[v->state]);
	ms_json_bool(j, "calibrated", v->applied);
	ms_json_str(j, "baseline",
		    !v->applied	   ? "none"
		    : v->automatic ? "auto"
				   : "explicit");
	ms_json_int(j, "frames", v->frames);
	ms_json_num(j, "progress", v->progress, 3);
	ms_json_num(j, "seconds_left", v->seconds_left, 2);
	ms_json_num(j, "strength", v->strength, 3);
	ms_json_bool(j, "auto", v->auto_on);
	if (v->frames > 0) {
		ms_json_obj_open(j, "probs");
		for (int k = 0; k < NN_CLASSES; k++)
			ms_json_num(j, nn_emotion_names[k],
				    isfinite(v->base[k]) ? (double)v->base[k]
							 : 0.0,
				    4);
		ms_json_obj_close(j);
	} else {
		ms_json_null(j, "probs");
	}
	ms_json_obj_close(j);
}

int api_mood_calibrate_post(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct srv_session *s;
	const uint8_t *body;
	char msg[160];
	double seconds;
	size_t len;
	int frames, rc;

	if (!api_content_type_is(srv_req_header(req, "Content-Type"),
				 "application/json"))
		return srv_req_fail(req, MS_EUNSUPPORTED,
				    "Content-Type must be application/json");
	if (!app->has_model)
		return srv_reply_err(req, MS_EBUSY, "no_model", 0,
				     "this server runs without an emotion "
				     "model: there is nothing to calibrate");
	body = srv_req_body(req, &len);
	rc = srv_calib_parse(body, len, &seconds, &frames, msg, sizeof(msg));
	if (rc)
		return srv_req_fail(req, rc, "%s", msg);
	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s)
		srv_calib_start(&s->calib, seconds, frames, ms_now_ms());
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	return api_mood(req);
}

int api_mood_calibrate_delete(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct srv_session *s;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s)
		srv_calib_clear(&s->calib);
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	return api_mood(req);
}
