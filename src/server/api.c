/* api.c - the core JSON API: POST /api/frame (image -> faces, emotions,
 * smoothed mood), GET /api/mood, /api/recommendation (settings and health
 * are in api_settings.c, history in api_history.c, the listener's own mood
 * choice in api_mood.c, words and the fusion in api_text.c). Responses are
 * built with the ms_json writer. Every handler touches only its own
 * session, under the session table's lock. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "server/api_calib.h"
#include "server/api_text.h"
#include "server/app.h"
#include "moodsync/pipeline.h"

_Static_assert((int)MUSIC_MOODS == (int)NN_CLASSES,
	       "moods are the FER classes");

#define JSON_MAX (256u << 10) /* bytes of one response */
#define HINT_TTL_MS 1500.0    /* forget the last face after this */
#define HINT_RESCAN 10	      /* every 10th frame scans the whole frame */

/* What a frame or /api/mood reports about the session's mood. */
struct mood_view {
	int stable, leader, candidate, strategy, changed;
	float probs[MUSIC_MOODS];
	int64_t since;
	struct api_fusion fu; /* the fused mood of every source */
	int faces;	      /* in the last frame */
	int group;	      /* 1: the last reading blended several faces */
	struct srv_calib_view calib; /* the person's baseline */
};

static void mood_view_fill(const struct srv_app *app,
			   const struct srv_session *s, double now_ms,
			   struct mood_view *v)
{
	api_session_fuse(app, s, now_ms, &v->fu);
	v->stable = s->mood.stable;
	v->leader = music_mood_leader(&s->mood);
	v->candidate = s->mood.candidate;
	v->strategy = s->strategy;
	v->since = s->mood_since;
	v->changed = 0;
	v->faces = s->last_nfaces;
	v->group = s->group;
	memcpy(v->probs, s->mood.probs, sizeof(v->probs));
	srv_calib_view(&s->calib, &app->calib, now_ms, &v->calib);
}

void api_json_probs(struct ms_json *j, const char *key, const float *p)
{
	ms_json_obj_open(j, key);
	for (int i = 0; i < MUSIC_MOODS; i++)
		ms_json_num(j, music_mood_names[i],
			    isfinite(p[i]) ? (double)p[i] : 0.0, 4);
	ms_json_obj_close(j);
}

/* The members of a mood view, inside an object the caller opened. */
static void json_mood_members(struct ms_json *j, const struct mood_view *v)
{
	ms_json_name(j, "mood", v->stable, music_mood_names, MUSIC_MOODS);
	ms_json_name(j, "leader", v->leader, music_mood_names, MUSIC_MOODS);
	ms_json_name(j, "candidate", v->candidate, music_mood_names,
		     MUSIC_MOODS);
	ms_json_num(j, "confidence",
		    v->stable >= 0 ? (double)v->probs[v->stable] : 0.0, 4);
	api_json_probs(j, "probs", v->probs);
	ms_json_int(j, "since", v->since);
	ms_json_bool(j, "changed", v->changed);
	ms_json_str(j, "strategy", music_strategy_names[v->strategy]);
	api_fusion_members(j, &v->fu);
	ms_json_int(j, "faces", v->faces);
	ms_json_bool(j, "group", v->group);
	api_calib_members(j, &v->calib);
}

/* ---- POST /api/frame ---------------------------------------------------- */

int api_content_type_is(const char *ct, const char *want)
{
	return srv_ctype_is(ct, want);
}

int api_frame_precheck(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	const char *ct = srv_req_header(req, "Content-Type");
	struct srv_session *s;
	int ok;

	if (!api_content_type_is(ct, "image/jpeg") &&
	    !api_content_type_is(ct, "image/png"))
		return srv_reply_err(req, MS_EUNSUPPORTED, NULL, 0,
				     "Content-Type must be image/jpeg or "
				     "image/png, not '%s'",
				     ct ? ct : "(none)");
	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	ok = !s || srv_session_take_token(s, app->cfg.rate_per_s,
					  app->cfg.burst, ms_now_ms());
	srv_sessions_unlock(app->sessions);
	if (ok)
		return MS_OK;
	atomic_fetch_add(&app->n_rejected_429, 1);
	return srv_reply_err(req, SRV_ERATE, NULL, 1,
			     "too many frames: at most %.0f per second",
			     app->cfg.rate_per_s);
}

/* `raw` (NULL: no face was calibrated) holds the listener's face's
 * (faces[0]) probabilities before they were read relative to their
 * baseline. */
static void frame_json(struct ms_json *j, const struct pipe_frame *f,
		       const float *raw, int has_model,
		       const struct mood_view *v, double total_ms)
{
	ms_json_obj_open(j, NULL);
	ms_json_int(j, "width", f->width);
	ms_json_int(j, "height", f->height);
	ms_json_bool(j, "model", has_model);
	ms_json_bool(j, "calibrated", raw != NULL);
	ms_json_arr_open(j, "faces");
	for (int i = 0; i < f->nfaces; i++) {
		const struct pipe_face *fc = &f->faces[i];

		ms_json_obj_open(j, NULL);
		ms_json_obj_open(j, "box");
		ms_json_int(j, "x", fc->box.x);
		ms_json_int(j, "y", fc->box.y);
		ms_json_int(j, "w", fc->box.w);
		ms_json_int(j, "h", fc->box.h);
		ms_json_obj_close(j);
		ms_json_name(j, "emotion", fc->emotion, music_mood_names,
			     MUSIC_MOODS);
		ms_json_num(j, "confidence",
			    fc->emotion >= 0 ? (double)fc->probs[fc->emotion]
					     : 0.0,
			    4);
		if (fc->emotion >= 0)
			api_json_probs(j, "probs", fc->probs);
		else
			ms_json_null(j, "probs");
		if (raw && i == 0)
			api_json_probs(j, "raw_probs", raw);
		ms_json_obj_close(j);
	}
	ms_json_arr_close(j);
	ms_json_int(j, "used_face", f->nfaces > 0 ? 0 : -1);
	ms_json_obj_open(j, "mood");
	json_mood_members(j, v);
	ms_json_obj_close(j);
	ms_json_obj_open(j, "server_ms");
	ms_json_num(j, "decode", f->ms_decode, 3);
	ms_json_num(j, "detect", f->ms_detect, 3);
	ms_json_num(j, "classify", f->ms_classify, 3);
	ms_json_num(j, "total", total_ms, 3);
	ms_json_obj_close(j);
	ms_json_obj_close(j);
}

/* The probabilities a frame feeds the smoother: the largest face's, or in
 * group mode with several faces the mean of all classified faces'. Returns
 * 0 when no face was classified, 2 when faces were blended, else 1. */
static int frame_probs(const struct srv_session *s, const struct pipe_frame *f,
		       float *out)
{
	int n = 0;

	if (f->nfaces == 0 || f->faces[0].emotion < 0)
		return 0;
	if (!s->group_mode || f->nfaces < 2) {
		memcpy(out, f->faces[0].probs, sizeof(float) * MUSIC_MOODS);
		return 1;
	}
	memset(out, 0, sizeof(float) * MUSIC_MOODS);
	for (int i = 0; i < f->nfaces; i++) {
		if (f->faces[i].emotion < 0)
			continue;
		for (int k = 0; k < MUSIC_MOODS; k++)
			out[k] += f->faces[i].probs[k];
		n++;
	}
	for (int k = 0; k < MUSIC_MOODS; k++)
		out[k] /= (float)n;
	return n > 1 ? 2 : 1;
}

/* Feeds a frame's result into the session (`whole_frame`: it was scanned
 * without a hint; `fresh`: a new reading that replaces the smoothed one;
 * `resting`: a calibration sample, which leaves the mood alone); fills the
 * view for the reply and *ev (returns 1) when the mood the music follows
 * changed. */
static int session_update(struct srv_app *app, struct srv_session *s,
			  const struct pipe_frame *f, int whole_frame,
			  int fresh, int resting, struct mood_view *v,
			  struct srv_mood_event *ev)
{
	double now = ms_now_ms();
	int64_t unix_ms = (int64_t)ms_unix_time() * 1000;
	int prev, changed = 0, music, used;
	float probs[MUSIC_MOODS];

	api_session_fuse(app, s, now, &v->fu);
	prev = api_session_music_mood(&v->fu, s);
	s->frames++;
	if (fresh) { /* a new reading (a photo, a new look): old frames go */
		struct music_mood_params mp = s->mood.params;

		music_mood_init(&s->mood, &mp);
	}
	s->last_nfaces = f->nfaces;
	if (whole_frame)
		s->scan_nfaces = f->nfaces;
	if (f->nfaces > 0) {
		s->hint = f->faces[0].box;
		s->hint_ms = now;
		s->last_frame = unix_ms;
		used = frame_probs(s, f, probs);
		s->group = used == 2;
		if (used && !resting &&
		    music_mood_update(&s->mood, probs, now) == 1) {
			changed = 1;
			s->mood_since = unix_ms;
		}
	}
	if (s->mood.stable >= 0 &&
	    (s->hist_ms == 0.0 || now - s->hist_ms >= app->cfg.history_ms)) {
		struct store_mood_row row;

		memset(&row, 0, sizeof(row));
		snprintf(row.session, sizeof(row.session), "%s", s->id);
		row.t = unix_ms;
		snprintf(row.mood, sizeof(row.mood), "%s",
			 music_mood_names[s->mood.stable]);
		row.confidence = s->mood.probs[s->mood.stable];
		if (row.confidence > 1.0f)
			row.confidence = 1.0f;
		api_session_fuse(app, s, now, &v->fu);
		snprintf(row.feeling, sizeof(row.feeling), "%s",
			 music_feeling_names[v->fu.fused.feeling]);
		srv_bg_history(app->bg, &row);
		s->hist_ms = now;
	}
	mood_view_fill(app, s, now, v);
	v->changed = changed;
	/* The modules follow the music's mood: the face's stable mood, or
	 * the fused one while words weigh in; a frame moves it only when the
	 * face's stable mood changed (hysteresis), never on every flicker. */
	music = api_session_music_mood(&v->fu, s);
	changed = changed && music != prev && music >= 0;
	if (changed) {
		memset(ev, 0, sizeof(*ev));
		snprintf(ev->session_id, sizeof(ev->session_id), "%s", s->id);
		ev->mood = music;
		ev->previous = prev;
		ev->strategy = s->strategy;
		ev->autoplay = s->autoplay;
		ev->unix_ms = unix_ms;
	}
	return changed;
}

/* Under the session lock: the last face as a search hint (1, *hint set),
 * unless it is stale, the stream is due for a full-frame scan, or several
 * faces are in view (then every frame scans the whole image for all). */
static int take_hint(struct srv_app *app, struct srv_req *req, double now,
		     struct ms_rect *hint)
{
	struct srv_session *s;
	int have = 0;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s && s->hint_ms > 0.0 && now - s->hint_ms < HINT_TTL_MS &&
	    s->hinted < HINT_RESCAN && s->scan_nfaces <= 1) {
		*hint = s->hint; /* near the last face: cheap */
		have = 1;
		s->hinted++;
	} else if (s) {
		s->hinted = 0; /* now and then the whole frame, for new faces */
	}
	srv_sessions_unlock(app->sessions);
	return have;
}

/* Runs the pipeline on one of the app's frame slots. MS_EBUSY when no
 * slot frees up in time, else pipe_frame_run's code. */
static int run_on_slot(struct srv_app *app, const uint8_t *body, size_t len,
		       const struct ms_rect *hint, struct pipe_frame *f,
		       char *err, size_t errlen)
{
	struct pipe_frame_opts opts;
	struct pipe_worker *w;
	int rc;

	if (srv_app_slot_acquire(app))
		return MS_EBUSY;
	w = srv_app_worker(app);
	memset(&opts, 0, sizeof(opts));
	opts.fast = 1;
	opts.tta = app->cfg.tta;
	opts.hint = hint;
	opts.align = app->cfg.eye_cascade_path != NULL;
	rc = w ? pipe_frame_run(w, body, len, &opts, f, err, errlen)
	       : MS_ENOMEM;
	srv_app_slot_release(app);
	return rc;
}

/* The reply for a frame the pipeline refused. */
static int frame_fail(struct srv_req *req, int rc, const char *err)
{
	struct srv_app *app = srv_req_app(req);

	switch (rc) {
	case MS_EBUSY:
		atomic_fetch_add(&app->n_rejected_503, 1);
		return srv_reply_err(req, MS_EBUSY, NULL, 1,
				     "server busy, try again shortly");
	case MS_ELIMIT:
		return srv_req_fail(req, MS_ELIMIT, "image too large: %s", err);
	case MS_EFORMAT:
	case MS_EUNSUPPORTED:
	case MS_EINVAL:
		return srv_req_fail(req, MS_EINVAL, "bad image: %s", err);
	case MS_ENOMEM:
		return MS_ENOMEM;
	default:
		return srv_req_fail(req, rc, "frame failed: %s", err);
	}
}

int api_frame(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct pipe_frame *f = NULL;
	float raw[NN_CLASSES];
	struct srv_mood_event ev;
	struct mood_view view;
	struct srv_session *s;
	struct ms_rect hint;
	struct ms_json j;
	struct ms_buf b;
	char err[MS_ERRLEN] = "";
	const uint8_t *body;
	size_t len;
	const char *qr = srv_req_query(req, "reset");
	double t0 = ms_now_ms();
	int rc, have_hint, changed = 0, fresh = 0, resting, calibrated = 0;

	if (qr && (strcmp(qr, "1") == 0 || strcmp(qr, "true") == 0))
		fresh = 1;
	else if (qr && strcmp(qr, "0") != 0 && strcmp(qr, "false") != 0)
		return srv_req_fail(req, MS_EINVAL, "reset must be 0 or 1");
	body = srv_req_body(req, &len);
	if (len == 0)
		return srv_req_fail(req, MS_EINVAL,
				    "empty body: send a JPEG "
				    "or PNG image");
	/* refuse a huge image before the decoder allocates it */
	if (pipe_frame_check_size(body, len, err, sizeof(err)))
		return srv_req_fail(req, MS_ELIMIT, "%s", err);
	have_hint = take_hint(app, req, t0, &hint);
	f = malloc(sizeof(*f));
	if (!f) {
		rc = MS_ENOMEM;
		goto out_free;
	}
	rc = run_on_slot(app, body, len, have_hint ? &hint : NULL, f, err,
			 sizeof(err));
	if (rc) {
		rc = frame_fail(req, rc, err);
		goto out_free;
	}
	atomic_fetch_add(&app->n_frames, 1);

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		resting = api_calib_frame(app, s, f, ms_now_ms(), raw,
					  &calibrated, &fresh);
		changed = session_update(app, s, f, !have_hint, fresh, resting,
					 &view, &ev);
	}
	srv_sessions_unlock(app->sessions);
	if (!s) {
		rc = MS_ENOMEM;
		goto out_free;
	}
	if (changed)
		srv_bg_mood(app->bg, &ev);

	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	frame_json(&j, f, calibrated ? raw : NULL, app->has_model, &view,
		   ms_now_ms() - t0);
	rc = srv_reply_doc(req, SRV_HTTP_OK, &j);
out_free:
	free(f);
	return rc;
}

/* ---- GET /api/mood ---------------------------------------------------- */

int api_mood_members(struct srv_req *req, struct ms_json *j)
{
	struct srv_app *app = srv_req_app(req);
	struct srv_session *s;
	struct mood_view v;
	int64_t last = 0;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		srv_calib_tick(&s->calib, ms_now_ms());
		mood_view_fill(app, s, ms_now_ms(), &v);
		last = s->last_frame;
	}
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	json_mood_members(j, &v);
	ms_json_int(j, "last_face", last);
	return MS_OK;
}

int api_mood(struct srv_req *req)
{
	struct ms_json j;
	struct ms_buf b;
	int rc;

	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	rc = api_mood_members(req, &j);
	ms_json_obj_close(&j);
	if (rc) {
		ms_buf_release(&b);
		return rc;
	}
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}

/* ---- GET /api/recommendation ------------------------------------------ */

int api_recommendation(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct music_rec *rec;
	struct srv_session *s;
	const char *qs = srv_req_query(req, "strategy");
	int mood = -1, strategy = MUSIC_MATCH, rc;
	int64_t since = 0;
	char err[MS_ERRLEN];
	struct ms_json j;
	struct ms_buf b;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		struct api_fusion fu;

		/* Words or an override steer the music; the face alone keeps
		 * its stable (hysteresis) mood. */
		api_session_fuse(app, s, ms_now_ms(), &fu);
		mood = api_session_music_mood(&fu, s);
		strategy = s->strategy;
		since = s->mood_since;
	}
	srv_sessions_unlock(app->sessions);
	if (qs && music_strategy_parse(qs, &strategy))
		return srv_req_fail(req, MS_EINVAL,
				    "strategy must be match, lift, calm or "
				    "energise");
	rec = malloc(sizeof(*rec));
	if (!rec)
		return MS_ENOMEM;
	rc = music_recommend(app->store, mood, strategy, since, rec, err,
			     sizeof(err));
	if (rc) {
		free(rec);
		return srv_req_fail(req, rc, "%s", err);
	}
	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_name(&j, "mood", rec->mood, music_mood_names, MUSIC_MOODS);
	ms_json_str(&j, "based_on", music_mood_names[rec->based_on]);
	ms_json_str(&j, "strategy", music_strategy_names[rec->strategy]);
	ms_json_str(&j, "target",
		    music_target_describe(rec->based_on, rec->strategy));
	ms_json_int(&j, "primary", rec->primary);
	ms_json_arr_open(&j, "playlists");
	for (int i = 0; i < rec->n; i++) {
		const struct store_playlist *pl = &rec->items[i];

		ms_json_obj_open(&j, NULL);
		ms_json_int(&j, "id", pl->id);
		ms_json_str(&j, "name", pl->name);
		ms_json_str(&j, "description", pl->description);
		ms_json_str(&j, "query", pl->query);
		ms_json_str(&j, "url", pl->url);
		ms_json_obj_close(&j);
	}
	ms_json_arr_close(&j);
	ms_json_obj_close(&j);
	free(rec);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}
