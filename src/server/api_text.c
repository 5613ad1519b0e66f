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

static int json_probs(struct ms_buf *b, const float *p)
{
	int rc = ms_buf_puts(b, "{");

	for (int i = 0; i < MUSIC_MOODS; i++)
		rc |= ms_buf_printf(b, "%s\"%s\":%.4f", i ? "," : "",
				    music_mood_names[i],
				    isfinite(p[i]) ? (double)p[i] : 0.0);
	return rc | ms_buf_puts(b, "}");
}

static int top_of(const float *p)
{
	int top = 0;

	for (int i = 1; i < MUSIC_MOODS; i++)
		if (p[i] > p[top])
			top = i;
	return top;
}

int api_fusion_json(struct ms_buf *b, const struct api_fusion *f)
{
	const struct music_fused *u = &f->fused;
	int rc, first = 1;

	rc = ms_buf_printf(
	    b,
	    "\"valence\":%.3f,\"arousal\":%.3f,"
	    "\"feeling\":\"%s\",\"fused_mood\":\"%s\","
	    "\"source\":\"%s\",\"sources\":{",
	    u->va.valence, u->va.arousal, music_feeling_names[u->feeling],
	    music_mood_names[u->mood], music_fused_source_name(u));
	for (int k = 0; k < MUSIC_SOURCES; k++) {
		const struct music_reading *r = &f->in[k];

		if (!r->present)
			continue;
		rc |= ms_buf_printf(
		    b, "%s\"%s\":{\"mood\":\"%s\",\"probs\":", first ? "" : ",",
		    music_source_names[k], music_mood_names[top_of(r->probs)]);
		rc |= json_probs(b, r->probs);
		rc |= ms_buf_printf(b, ",\"age_s\":%.1f,\"share\":%.3f}",
				    r->age_s, u->share[k]);
		first = 0;
	}
	return rc | ms_buf_puts(b, "}");
}

/* Reads the body's "text" into *out; a reply-ready error otherwise. */
static int parse_body(struct srv_req *req, struct txt_model *m,
		      struct txt_result *out)
{
	const uint8_t *body;
	const cJSON *jt;
	cJSON *root;
	size_t len;
	int rc = MS_OK;

	if (!api_content_type_is(srv_req_header(req, "Content-Type"),
				 "application/json"))
		return srv_req_fail(req, MS_EUNSUPPORTED,
				    "Content-Type must be application/json");
	if (!m)
		return srv_req_fail(req, MS_EBUSY, "no text model loaded");
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
	if (out->tokens == 0)
		rc = srv_req_fail(req, MS_EINVAL,
				  "no words to read in the text");
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
	struct ms_buf b;
	int rc = parse_body(req, app->text_model, &r);

	if (rc)
		return rc;
	rc = remember(req, &r);
	if (rc)
		return rc;
	va = music_affect_point(r.probs);
	ms_buf_init(&b, JSON_MAX);
	rc = ms_buf_puts(&b, "{\"probs\":");
	rc |= json_probs(&b, r.probs);
	rc |= ms_buf_printf(&b,
			    ",\"mood\":\"%s\",\"feeling\":\"%s\","
			    "\"valence\":%.3f,\"arousal\":%.3f,"
			    "\"truncated\":%s,\"fused\":",
			    music_mood_names[r.top],
			    music_feeling_names[music_feeling_of(r.probs, va)],
			    va.valence, va.arousal,
			    r.truncated ? "true" : "false");
	if (!rc)
		rc = api_mood_json(req, &b);
	rc = rc ? rc : ms_buf_puts(&b, "}");
	if (!rc)
		rc = srv_reply_json(req, 200, b.data, b.len);
	ms_buf_release(&b);
	return rc;
}
