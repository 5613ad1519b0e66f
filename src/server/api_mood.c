/* api_mood.c - the listener's own mood: POST /api/mood/override {"mood":
 * NAME} keeps the choice as the session's override source, which the
 * fusion (src/music/fusion.c) lets decide alone until DELETE clears it;
 * srv_session_affect(), the mood the music follows. Sessions are touched
 * only under their lock. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "server/api.h"
#include "server/api_text.h"

void srv_session_affect(const struct srv_app *app, const struct srv_session *s,
			double now_ms, struct srv_affect *out)
{
	struct api_fusion fu;

	api_session_fuse(app, s, now_ms, &fu);
	out->mood = api_session_music_mood(&fu, s);
	out->feeling = fu.fused.any ? (int)fu.fused.feeling : -1;
	out->va = fu.fused.any ? fu.fused.va : music_mood_anchor[MUSIC_NEUTRAL];
	out->overridden = fu.fused.any && fu.fused.source == MUSIC_SRC_OVERRIDE;
}

/* Parses {"mood": NAME}: one of the seven moods (that mood alone) or a
 * feeling name (the mix of moods that names it, music_feeling_probs), into
 * out[MUSIC_MOODS] and its leading mood. */
static int override_parse(struct srv_req *req, float *out, int *mood)
{
	const uint8_t *body;
	const cJSON *jm;
	cJSON *root;
	size_t len;
	int rc = MS_EINVAL, feeling;

	body = srv_req_body(req, &len);
	root = cJSON_ParseWithLength((const char *)body, len);
	jm = cJSON_IsObject(root)
		     ? cJSON_GetObjectItemCaseSensitive(root, "mood")
		     : NULL;
	memset(out, 0, sizeof(float) * MUSIC_MOODS);
	if (cJSON_IsString(jm)) {
		if (music_mood_parse(jm->valuestring, mood) == MS_OK) {
			out[*mood] = 1.0f;
			rc = MS_OK;
		} else if (music_feeling_parse(jm->valuestring, &feeling) ==
			   MS_OK) {
			music_feeling_probs((enum music_feeling)feeling, out);
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
	struct srv_affect before;
	struct srv_session *s;
	float probs[MUSIC_MOODS];
	double now = ms_now_ms();
	int mood, rc;

	if (!api_content_type_is(srv_req_header(req, "Content-Type"),
				 "application/json"))
		return srv_req_fail(req, MS_EUNSUPPORTED,
				    "Content-Type must be application/json");
	rc = override_parse(req, probs, &mood);
	if (rc)
		return rc;
	memset(&ev, 0, sizeof(ev));
	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		srv_session_affect(app, s, now, &before);
		memcpy(s->src_probs[MUSIC_SRC_OVERRIDE], probs, sizeof(probs));
		s->src_ms[MUSIC_SRC_OVERRIDE] = now;
		snprintf(ev.session_id, sizeof(ev.session_id), "%s", s->id);
		ev.mood = mood;
		ev.previous = before.mood;
		ev.strategy = s->strategy;
		ev.autoplay = s->autoplay;
		ev.unix_ms = (int64_t)ms_unix_time() * 1000;
	}
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	if (ev.previous != mood) /* the modules (Spotify) follow the choice */
		srv_bg_mood(app->bg, &ev);
	return api_mood(req);
}

int api_mood_override_delete(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct srv_session *s;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s)
		s->src_ms[MUSIC_SRC_OVERRIDE] = 0;
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	return api_mood(req);
}
