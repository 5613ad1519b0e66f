/* api.c - the core JSON API: POST /api/frame (image -> faces, emotions,
 * smoothed mood), GET /api/mood, /api/recommendation (settings and health
 * are in api_settings.c, history in api_history.c, the listener's own mood
 * choice in api_mood.c). Responses are built
 * with ms_buf. Every handler touches only its own session, under the
 * session table's lock. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/api.h"
#include "server/api_mood.h"
#include "server/app.h"
#include "moodsync/pipeline.h"

_Static_assert((int)MUSIC_MOODS == (int)NN_CLASSES, "moods are the FER classes");

#define JSON_MAX (256u << 10) /* bytes of one response */
#define HINT_TTL_MS 1500.0    /* forget the last face after this */
#define HINT_RESCAN 10        /* every 10th frame scans the whole frame */

/* What a frame or /api/mood reports about the session's mood. */
struct mood_view {
	int stable, leader, candidate, strategy, changed;
	float probs[MUSIC_MOODS];
	int64_t since;
	struct api_mood_extra x; /* plane, feeling, sources, group */
	int64_t now;             /* unix ms of the copy */
};

static void mood_view_fill(const struct srv_session *s, struct mood_view *v)
{
	api_mood_extra_fill(s, &v->x);
	v->now = (int64_t)ms_unix_time() * 1000;
	v->stable = v->x.aff.mood; /* the listener's choice wins */
	v->leader = music_mood_leader(&s->mood);
	v->candidate = s->mood.candidate;
	v->strategy = s->strategy;
	v->since = s->mood_since;
	v->changed = 0;
	memcpy(v->probs, s->mood.probs, sizeof(v->probs));
}

static int json_name_or_null(struct ms_buf *b, int idx,
			     const char *const *names, int n)
{
	if (idx < 0 || idx >= n)
		return ms_buf_puts(b, "null");
	return ms_buf_json_str(b, names[idx]);
}

static int json_probs(struct ms_buf *b, const float *p)
{
	int rc = ms_buf_puts(b, "{");

	for (int i = 0; !rc && i < MUSIC_MOODS; i++)
		rc = ms_buf_printf(b, "%s\"%s\":%.4f", i ? "," : "",
				   music_mood_names[i],
				   isfinite(p[i]) ? (double)p[i] : 0.0);
	return rc ? rc : ms_buf_puts(b, "}");
}

static int json_mood(struct ms_buf *b, const struct mood_view *v)
{
	int rc = ms_buf_puts(b, "{\"mood\":");

	if (!rc)
		rc = json_name_or_null(b, v->stable, music_mood_names,
				       MUSIC_MOODS);
	if (!rc)
		rc = ms_buf_puts(b, ",\"leader\":");
	if (!rc)
		rc = json_name_or_null(b, v->leader, music_mood_names,
				       MUSIC_MOODS);
	if (!rc)
		rc = ms_buf_puts(b, ",\"candidate\":");
	if (!rc)
		rc = json_name_or_null(b, v->candidate, music_mood_names,
				       MUSIC_MOODS);
	if (!rc)
		rc = ms_buf_printf(b, ",\"confidence\":%.4f,\"probs\":",
				   v->x.override_mood >= 0 ? 1.0
				   : v->stable >= 0 ? (double)v->probs[v->stable]
						    : 0.0);
	if (!rc)
		rc = json_probs(b, v->probs);
	if (!rc)
		rc = ms_buf_printf(b,
				   ",\"since\":%lld,\"changed\":%s,"
				   "\"strategy\":\"%s\"",
				   (long long)v->since,
				   v->changed ? "true" : "false",
				   music_strategy_names[v->strategy]);
	if (!rc)
		rc = api_mood_extra_json(b, &v->x, v->now);
	return rc ? rc : ms_buf_puts(b, "}");
}

static int reply_buf(struct srv_req *req, int rc, struct ms_buf *b)
{
	if (!rc)
		rc = srv_reply_json(req, 200, b->data, b->len);
	ms_buf_release(b);
	return rc;
}

/* ---- POST /api/frame ---------------------------------------------------- */

int api_content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct && strncasecmp(ct, want, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int api_frame_precheck(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	const char *ct = srv_req_header(req, "Content-Type");
	struct srv_session *s;
	int ok;

	if (!api_content_type_is(ct, "image/jpeg") &&
	    !api_content_type_is(ct, "image/png"))
		return srv_reply_error(req, 415,
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
	srv_req_header_add(req, "Retry-After", "1");
	return srv_reply_error(req, 429,
			       "too many frames: at most %.0f per second",
			       app->cfg.rate_per_s);
}

static int frame_json(struct ms_buf *b, const struct pipe_frame *f,
		      int has_model, const struct mood_view *v,
		      double total_ms)
{
	int rc = ms_buf_printf(b, "{\"width\":%d,\"height\":%d,\"model\":%s,"
				  "\"faces\":[",
			       f->width, f->height,
			       has_model ? "true" : "false");

	for (int i = 0; !rc && i < f->nfaces; i++) {
		const struct pipe_face *fc = &f->faces[i];

		rc = ms_buf_printf(b,
				   "%s{\"box\":{\"x\":%d,\"y\":%d,\"w\":%d,"
				   "\"h\":%d},\"emotion\":",
				   i ? "," : "", fc->box.x, fc->box.y,
				   fc->box.w, fc->box.h);
		if (!rc)
			rc = json_name_or_null(b, fc->emotion,
					       music_mood_names, MUSIC_MOODS);
		if (!rc)
			rc = ms_buf_printf(b, ",\"confidence\":%.4f,\"probs\":",
					   fc->emotion >= 0
						   ? (double)fc->probs[fc->emotion]
						   : 0.0);
		if (!rc)
			rc = fc->emotion >= 0 ? json_probs(b, fc->probs)
					      : ms_buf_puts(b, "null");
		if (!rc)
			rc = ms_buf_puts(b, "}");
	}
	if (!rc)
		rc = ms_buf_printf(b, "],\"used_face\":%d,\"mood\":",
				   f->nfaces > 0 ? 0 : -1);
	if (!rc)
		rc = json_mood(b, v);
	if (!rc)
		rc = ms_buf_printf(b,
				   ",\"server_ms\":{\"decode\":%.3f,"
				   "\"detect\":%.3f,\"classify\":%.3f,"
				   "\"total\":%.3f}}",
				   f->ms_decode, f->ms_detect, f->ms_classify,
				   total_ms);
	return rc;
}

/* Feeds a frame's result into the session; fills the view for the reply
 * and *ev (returns 1) when the stable mood changed. */
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

static int session_update(struct srv_app *app, struct srv_session *s,
			  const struct pipe_frame *f, int whole_frame, int fresh,
			  struct mood_view *v, struct srv_mood_event *ev)
{
	double now = ms_now_ms();
	int64_t unix_ms = (int64_t)ms_unix_time() * 1000;
	int prev = s->mood.stable, changed = 0, used;
	float probs[MUSIC_MOODS];

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
		if (used && music_mood_update(&s->mood, probs, now) == 1 &&
		    s->mood.stable != prev) {
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
		srv_bg_history(app->bg, &row);
		s->hist_ms = now;
	}
	mood_view_fill(s, v);
	v->changed = changed;
	if (changed && s->override_mood < 0) { /* a choice outranks faces */
		memset(ev, 0, sizeof(*ev));
		snprintf(ev->session_id, sizeof(ev->session_id), "%s", s->id);
		ev->mood = s->mood.stable;
		ev->previous = prev;
		ev->strategy = s->strategy;
		ev->autoplay = s->autoplay;
		ev->unix_ms = unix_ms;
	}
	return changed;
}

int api_frame(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct pipe_frame_opts opts;
	struct pipe_frame *f = NULL;
	struct srv_mood_event ev;
	struct mood_view view;
	struct pipe_worker *w;
	struct srv_session *s;
	struct ms_rect hint;
	struct ms_buf b;
	char err[MS_ERRLEN];
	const uint8_t *body;
	size_t len;
	const char *qr = srv_req_query(req, "reset");
	double t0 = ms_now_ms();
	int rc, have_hint = 0, changed = 0, fresh = 0;

	if (qr && (strcmp(qr, "1") == 0 || strcmp(qr, "true") == 0))
		fresh = 1;
	else if (qr && strcmp(qr, "0") != 0 && strcmp(qr, "false") != 0)
		return srv_req_fail(req, MS_EINVAL, "reset must be 0 or 1");
	body = srv_req_body(req, &len);
	if (len == 0)
		return srv_req_fail(req, MS_EINVAL, "empty body: send a JPEG "
						    "or PNG image");
	/* refuse a huge image before the decoder allocates it */
	if (pipe_frame_check_size(body, len, err, sizeof(err)))
		return srv_req_fail(req, MS_ELIMIT, "%s", err);
	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	/* several faces seen: keep scanning the whole frame for all of them */
	if (s && s->hint_ms > 0.0 && t0 - s->hint_ms < HINT_TTL_MS &&
	    s->hinted < HINT_RESCAN && s->scan_nfaces <= 1) {
		hint = s->hint; /* near the last face: cheap */
		have_hint = 1;
		s->hinted++;
	} else if (s) {
		s->hinted = 0; /* now and then the whole frame, for new faces */
	}
	srv_sessions_unlock(app->sessions);

	rc = srv_app_slot_acquire(app);
	if (rc) {
		atomic_fetch_add(&app->n_rejected_503, 1);
		srv_req_header_add(req, "Retry-After", "1");
		return srv_req_fail(req, MS_EBUSY,
				    "server busy, try again shortly");
	}
	f = malloc(sizeof(*f));
	w = srv_app_worker(app);
	if (!f || !w) {
		srv_app_slot_release(app);
		free(f);
		return MS_ENOMEM;
	}
	memset(&opts, 0, sizeof(opts));
	opts.fast = 1;
	opts.hint = have_hint ? &hint : NULL;
	rc = pipe_frame_run(w, body, len, &opts, f, err, sizeof(err));
	srv_app_slot_release(app);
	if (rc) {
		free(f);
		if (rc == MS_ELIMIT)
			return srv_req_fail(req, MS_ELIMIT, "image too large: %s",
					    err);
		if (rc == MS_EFORMAT || rc == MS_EUNSUPPORTED ||
		    rc == MS_EINVAL)
			return srv_req_fail(req, MS_EINVAL, "bad image: %s",
					    err);
		return srv_req_fail(req, rc, "frame failed: %s", err);
	}
	atomic_fetch_add(&app->n_frames, 1);

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s)
		changed = session_update(app, s, f, !have_hint, fresh, &view,
					 &ev);
	srv_sessions_unlock(app->sessions);
	if (!s) {
		free(f);
		return MS_ENOMEM;
	}
	if (changed)
		srv_bg_mood(app->bg, &ev);

	ms_buf_init(&b, JSON_MAX);
	rc = frame_json(&b, f, app->has_model, &view, ms_now_ms() - t0);
	free(f);
	return reply_buf(req, rc, &b);
}

/* ---- GET /api/mood ---------------------------------------------------- */

int api_mood(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct srv_session *s;
	struct mood_view v;
	struct ms_buf b;
	int rc;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s)
		mood_view_fill(s, &v);
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	ms_buf_init(&b, JSON_MAX);
	rc = json_mood(&b, &v);
	if (!rc) { /* splice one more field before the closing brace */
		b.len--;
		rc = ms_buf_printf(&b, ",\"last_face\":%lld}",
				   (long long)v.x.last_frame);
	}
	return reply_buf(req, rc, &b);
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
	struct ms_buf b;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		mood = s->mood.stable;
		strategy = s->strategy;
		since = s->mood_since;
	}
	srv_sessions_unlock(app->sessions);
	if (qs && music_strategy_parse(qs, &strategy))
		return srv_req_fail(req, MS_EINVAL,
				    "strategy must be \"match\" or \"lift\"");
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
	rc = ms_buf_puts(&b, "{\"mood\":");
	if (!rc)
		rc = json_name_or_null(&b, rec->mood, music_mood_names,
				       MUSIC_MOODS);
	if (!rc)
		rc = ms_buf_printf(&b,
				   ",\"based_on\":\"%s\",\"strategy\":\"%s\","
				   "\"target\":",
				   music_mood_names[rec->based_on],
				   music_strategy_names[rec->strategy]);
	if (!rc)
		rc = ms_buf_json_str(&b, music_target_describe(rec->based_on,
							       rec->strategy));
	if (!rc)
		rc = ms_buf_printf(&b, ",\"primary\":%d,\"playlists\":[",
				   rec->primary);
	for (int i = 0; !rc && i < rec->n; i++) {
		const struct store_playlist *pl = &rec->items[i];

		rc = ms_buf_printf(&b, "%s{\"id\":%lld,\"name\":", i ? "," : "",
				   (long long)pl->id);
		if (!rc)
			rc = ms_buf_json_str(&b, pl->name);
		if (!rc)
			rc = ms_buf_puts(&b, ",\"description\":");
		if (!rc)
			rc = ms_buf_json_str(&b, pl->description);
		if (!rc)
			rc = ms_buf_puts(&b, ",\"query\":");
		if (!rc)
			rc = ms_buf_json_str(&b, pl->query);
		if (!rc)
			rc = ms_buf_puts(&b, ",\"url\":");
		if (!rc)
			rc = ms_buf_json_str(&b, pl->url);
		if (!rc)
			rc = ms_buf_puts(&b, "}");
	}
	if (!rc)
		rc = ms_buf_puts(&b, "]}");
	free(rec);
	return reply_buf(req, rc, &b);
}
