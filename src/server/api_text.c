/* api_text.c - mood from words and the fusion of mood sources: POST
 * /api/text reads a sentence with the text model and keeps its
 * probabilities as the session's text source; api_session_fuse() combines
 * face, text and override (src/music/fusion.c) for GET /api/mood, the
 * frame path and the history. Sessions are touched only under their lock. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "server/api.h"
#include "server/api_text.h"

#define JSON_MAX (16u << 10) /* bytes of one response */

void api_session_fuse(const struct srv_app *app, const struct srv_session *s,
		      double now_ms, struct api_fusion *out)
{
	memset(out->in, 0, sizeof(out->in));
	for (int k = 0; k < MUSIC_SOURCES; k++) {
		struct music_reading *r = &out->in[k];
		double at = s->src_ms[k];

		if (k == MUSIC_SRC_FACE) { /* the smoothed face mood */
			if (s->mood.samples <= 0)
				continue;
			at = s->mood.last_ms;
			memcpy(r->probs, s->mood.probs, sizeof(r->probs));
		} else {
			if (at <= 0)
				continue;
			memcpy(r->probs, s->src_probs[k], sizeof(r->probs));
		}
		r->present = 1;
		r->age_s = MS_MAX(0.0, (now_ms - at) / 1000.0);
	}
	music_fusion_fuse(&app->fusion, out->in, &out->fused);
}

int api_session_music_mood(const struct api_fusion *f,
			   const struct srv_session *s)
{
	if (f->fused.any && f->fused.source != MUSIC_SRC_FACE)
		return f->fused.mood;
	return s->mood.stable;
}

static int top_of(const float *p)
{
	int top = 0;

	for (int i = 1; i < MUSIC_MOODS; i++)
		if (p[i] > p[top])
			top = i;
	return top;
}

void api_fusion_members(struct ms_json *j, const struct api_fusion *f)
{
	const struct music_fused *u = &f->fused;

	ms_json_num(j, "valence", u->va.valence, 3);
	ms_json_num(j, "arousal", u->va.arousal, 3);
	ms_json_str(j, "feeling", music_feeling_names[u->feeling]);
	ms_json_str(j, "fused_mood", music_mood_names[u->mood]);
	ms_json_str(j, "source", music_fused_source_name(u));
	ms_json_obj_open(j, "sources");
	for (int k = 0; k < MUSIC_SOURCES; k++) {
		const struct music_reading *r = &f->in[k];

		if (!r->present)
			continue;
		ms_json_obj_open(j, music_source_names[k]);
		ms_json_str(j, "mood", music_mood_names[top_of(r->probs)]);
		api_json_probs(j, "probs", r->probs);
		ms_json_num(j, "age_s", r->age_s, 1);
		ms_json_num(j, "share", u->share[k], 3);
		ms_json_obj_close(j);
	}
	ms_json_obj_close(j);
}

/* Reads the body's "text" into *out. MS_OK to go on; otherwise the error
 * (a negative code) and *replied = 1 when the error reply, with its own
 * code, was already sent. */
static int parse_body(struct srv_req *req, struct txt_model *m,
		      struct txt_result *out, int *replied)
{
	const uint8_t *body;
	const cJSON *jt;
	cJSON *root;
	size_t len;
	int rc = MS_OK;

	*replied = 0;
	if (!api_content_type_is(srv_req_header(req, "Content-Type"),
				 "application/json"))
		return srv_req_fail(req, MS_EUNSUPPORTED,
				    "Content-Type must be application/json");
	if (!m) {
		*replied = srv_reply_err(req, MS_EBUSY, "no_text_model", 0,
					 "this server runs without a text "
					 "model") == MS_OK;
		return MS_EBUSY;
	}
	body = srv_req_body(req, &len);
	root = cJSON_ParseWithLength((const char *)body, len);
	if (!cJSON_IsObject(root)) {
		rc = srv_req_fail(req, MS_EINVAL, "body must be a JSON object");
		goto out;
	}
	jt = cJSON_GetObjectItemCaseSensitive(root, "text");
	if (!cJSON_IsString(jt)) {
		rc = srv_req_fail(req, MS_EINVAL, "\"text\" must be a string");
		goto out;
	}
	txt_predict(m, jt->valuestring, strlen(jt->valuestring), out);
	if (out->tokens == 0) {
		*replied =
			srv_reply_err(req, MS_EINVAL, "empty_text", 0,
				      "no words to read in the text") == MS_OK;
		rc = MS_EINVAL;
	}
out:
	cJSON_Delete(root);
	return rc;
}

/* Keeps the reading as the session's text source, queues a history row
 * of the fused mood and, when the mood the music follows changed, a mood
 * event for the modules (Spotify auto-play). MS_ENOMEM when the session
 * is gone. */
static int remember(struct srv_req *req, const struct txt_result *r)
{
	struct srv_app *app = srv_req_app(req);
	double now = ms_now_ms();
	struct srv_mood_event ev;
	struct store_mood_row row;
	struct srv_session *s;
	struct api_fusion fu;

	memset(&row, 0, sizeof(row));
	memset(&ev, 0, sizeof(ev));
	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		api_session_fuse(app, s, now, &fu);
		ev.previous = api_session_music_mood(&fu, s);
		memcpy(s->src_probs[MUSIC_SRC_TEXT], r->probs,
		       sizeof(s->src_probs[0]));
		s->src_ms[MUSIC_SRC_TEXT] = now;
		api_session_fuse(app, s, now, &fu);
		ev.mood = api_session_music_mood(&fu, s);
		ev.strategy = s->strategy;
		ev.autoplay = s->autoplay;
		snprintf(row.session, sizeof(row.session), "%s", s->id);
		snprintf(ev.session_id, sizeof(ev.session_id), "%s", s->id);
	}
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	row.t = (int64_t)ms_unix_time() * 1000;
	ev.unix_ms = row.t;
	if (ev.mood >= 0 && ev.mood != ev.previous)
		srv_bg_mood(app->bg, &ev);
	snprintf(row.mood, sizeof(row.mood), "%s",
		 music_mood_names[fu.fused.mood]);
	row.confidence = MS_MIN(1.0f, fu.fused.probs[fu.fused.mood]);
	snprintf(row.feeling, sizeof(row.feeling), "%s",
		 music_feeling_names[fu.fused.feeling]);
	srv_bg_history(app->bg, &row);
	return MS_OK;
}

int api_text(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct txt_result r;
	struct music_va va;
	struct ms_json j;
	struct ms_buf b;
	int replied, rc = parse_body(req, app->text_model, &r, &replied);

	if (rc)
		return replied ? MS_OK : rc;
	rc = remember(req, &r);
	if (rc)
		return rc;
	va = music_affect_point(r.probs);
	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	api_json_probs(&j, "probs", r.probs);
	ms_json_str(&j, "mood", music_mood_names[r.top]);
	ms_json_str(&j, "feeling",
		    music_feeling_names[music_feeling_of(r.probs, va)]);
	ms_json_num(&j, "valence", va.valence, 3);
	ms_json_num(&j, "arousal", va.arousal, 3);
	ms_json_bool(&j, "truncated", r.truncated);
	ms_json_obj_open(&j, "fused");
	rc = api_mood_members(req, &j);
	ms_json_obj_close(&j);
	ms_json_obj_close(&j);
	if (rc) {
		ms_buf_release(&b);
		return rc;
	}
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}
