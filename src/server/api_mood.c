/* api_mood.c - the listener's mood beyond the face smoother: the point on
 * the valence/arousal plane and its feeling (music_affect_point and
 * music_feeling_of on the smoothed face probabilities), the listener's own
 * choice (POST/DELETE /api/mood/override), which wins until cleared, and
 * the JSON fields every mood object carries about them. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "server/api.h"
#include "server/api_mood.h"

void srv_session_affect(const struct srv_session *s, struct srv_affect *out)
{
	const float *probs = NULL;

	out->mood = -1;
	out->feeling = -1;
	out->va = music_mood_anchor[MUSIC_NEUTRAL];
	out->source = NULL;
	if (s->override_mood >= 0) {
		probs = s->override_probs;
		out->mood = s->override_mood;
		out->source = "override";
	} else if (s->mood.stable >= 0) {
		probs = s->mood.probs;
		out->mood = s->mood.stable;
		out->source = "face";
	}
	if (probs) {
		out->va = music_affect_point(probs);
		out->feeling = (int)music_feeling_of(probs, out->va);
	}
}

void api_mood_extra_fill(const struct srv_session *s, struct api_mood_extra *x)
{
	srv_session_affect(s, &x->aff);
	x->face_mood = s->mood.stable;
	memcpy(x->face_probs, s->mood.probs, sizeof(x->face_probs));
	x->faces = s->last_nfaces;
	x->group = s->group;
	x->last_frame = s->last_frame;
	x->override_mood = s->override_mood;
	x->override_feeling = s->override_feeling;
	x->override_since = s->override_since;
}

static void json_probs7(struct ms_json *j, const char *key, const float *p)
{
	ms_json_obj_open(j, key);
	for (int i = 0; i < MUSIC_MOODS; i++)
		ms_json_num(j, music_mood_names[i],
			    isfinite(p[i]) ? (double)p[i] : 0.0, 4);
	ms_json_obj_close(j);
}

static double age_s(int64_t now_ms, int64_t then_ms)
{
	return then_ms > 0 && now_ms > then_ms ? (now_ms - then_ms) / 1000.0
					       : 0.0;
}

/* "sources": the face's reading and the listener's choice, each only when
 * present. */
static void json_sources(struct ms_json *j, const struct api_mood_extra *x,
			 int64_t now_ms)
{
	ms_json_obj_open(j, "sources");
	if (x->face_mood >= 0) {
		ms_json_obj_open(j, "face");
		ms_json_str(j, "mood", music_mood_names[x->face_mood]);
		json_probs7(j, "probs", x->face_probs);
		ms_json_num(j, "age_s", age_s(now_ms, x->last_frame), 1);
		ms_json_obj_close(j);
	}
	if (x->override_mood >= 0) {
		ms_json_obj_open(j, "override");
		ms_json_str(j, "mood", music_mood_names[x->override_mood]);
		ms_json_name(j, "feeling", x->override_feeling,
			     music_feeling_names, MUSIC_FEELINGS);
		ms_json_num(j, "age_s", age_s(now_ms, x->override_since), 1);
		ms_json_obj_close(j);
	}
	ms_json_obj_close(j);
}

void api_mood_extra_json(struct ms_json *j, const struct api_mood_extra *x,
			 int64_t now_ms)
{
	const struct srv_affect *a = &x->aff;

	if (a->source) {
		ms_json_num(j, "valence", a->va.valence, 3);
		ms_json_num(j, "arousal", a->va.arousal, 3);
	} else {
		ms_json_null(j, "valence");
		ms_json_null(j, "arousal");
	}
	ms_json_name(j, "feeling", a->source ? a->feeling : -1,
		     music_feeling_names, MUSIC_FEELINGS);
	if (a->source)
		ms_json_str(j, "source", a->source);
	else
		ms_json_null(j, "source");
	json_sources(j, x, now_ms);
	ms_json_int(j, "faces", x->faces);
	ms_json_bool(j, "group", x->group);
}

/* ---- POST/DELETE /api/mood/override ---------------------------------- */

/* Parses {"mood": NAME}: one of the seven moods or a feeling name, into
 * probabilities (out[MUSIC_MOODS]), their leading mood and the feeling
 * named (-1 for a mood name). */
static int override_parse(struct srv_req *req, float *out, int *mood,
			  int *feeling)
{
	const uint8_t *body;
	const cJSON *jm;
	cJSON *root;
	size_t len;
	int rc = MS_EINVAL;

	body = srv_req_body(req, &len);
	root = cJSON_ParseWithLength((const char *)body, len);
	jm = cJSON_IsObject(root)
		     ? cJSON_GetObjectItemCaseSensitive(root, "mood")
		     : NULL;
	*feeling = -1;
	memset(out, 0, sizeof(float) * MUSIC_MOODS);
	if (cJSON_IsString(jm)) {
		if (music_mood_parse(jm->valuestring, mood) == MS_OK) {
			out[*mood] = 1.0f;
			rc = MS_OK;
		} else if (music_feeling_parse(jm->valuestring, feeling) ==
			   MS_OK) {
			music_feeling_probs((enum music_feeling) * feeling,
					    out);
			*mood = 0;
			for (int i = 1; i < MUSIC_MOODS; i++)
				if (out[i] > out[*mood])
					*mood = i;
			rc = MS_OK;
		}
	}
	cJSON_Delete(root);
	if (rc)
		return srv_req_fail(req, MS_EINVAL,
				    "body must be {\"mood\": NAME} with NAME "
				    "a mood (angry disgust fear happy sad "
				    "surprise neutral) or a feeling (excited "
				    "happy calm tired sad anxious tense "
				    "surprised neutral)");
	return MS_OK;
}

int api_mood_override_post(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct srv_mood_event ev;
	struct srv_session *s;
	float probs[MUSIC_MOODS];
	int mood, feeling, prev = -1, rc;

	if (!api_content_type_is(srv_req_header(req, "Content-Type"),
				 "application/json"))
		return srv_req_fail(req, MS_EUNSUPPORTED,
				    "Content-Type must be application/json");
	rc = override_parse(req, probs, &mood, &feeling);
	if (rc)
		return rc;
	memset(&ev, 0, sizeof(ev));
	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		prev = s->override_mood >= 0 ? s->override_mood
					     : s->mood.stable;
		memcpy(s->override_probs, probs, sizeof(probs));
		s->override_mood = mood;
		s->override_feeling = feeling;
		s->override_since = (int64_t)ms_unix_time() * 1000;
		snprintf(ev.session_id, sizeof(ev.session_id), "%s", s->id);
		ev.mood = mood;
		ev.previous = prev;
		ev.strategy = s->strategy;
		ev.autoplay = s->autoplay;
		ev.unix_ms = s->override_since;
	}
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	if (prev != mood) /* the modules (Spotify) follow the choice */
		srv_bg_mood(app->bg, &ev);
	return api_mood(req);
}

int api_mood_override_delete(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct srv_session *s;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		s->override_mood = -1;
		s->override_feeling = -1;
		s->override_since = 0;
	}
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	return api_mood(req);
}
