/* api_settings.c - GET/POST /api/settings (strategy, autoplay, group; the body
 * is parsed by srv_settings_parse) and GET /healthz. The same rules as
 * api.c: replies built with the ms_json writer, sessions touched only
 * under their lock. */
#include <stdio.h>
#include <string.h>

#include "server/api.h"
#include "server/app.h"

#define JSON_MAX (16u << 10) /* bytes of one response */

/* ---- GET/POST /api/settings ------------------------------------------- */

static int settings_reply(struct srv_req *req, int strategy, int autoplay,
			  int group)
{
	struct ms_json j;
	struct ms_buf b;

	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "strategy", music_strategy_names[strategy]);
	ms_json_bool(&j, "autoplay", autoplay);
	ms_json_bool(&j, "group", group);
	ms_json_obj_close(&j);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}

int api_settings_get(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct srv_session *s;
	int strategy = MUSIC_MATCH, autoplay = 1, group = 1;

	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		strategy = s->strategy;
		autoplay = s->autoplay;
		group = s->group_mode;
	}
	srv_sessions_unlock(app->sessions);
	return settings_reply(req, strategy, autoplay, group);
}

int api_settings_post(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	const char *ct = srv_req_header(req, "Content-Type");
	struct store_session row;
	struct srv_session *s;
	const uint8_t *body;
	size_t len;
	char msg[128];
	int strategy = -1, autoplay = -1, group = -1, rc;

	if (!api_content_type_is(ct, "application/json"))
		return srv_req_fail(req, MS_EUNSUPPORTED,
				    "Content-Type must be application/json");
	body = srv_req_body(req, &len);
	rc = srv_settings_parse(body, len, &strategy, &autoplay, &group, msg,
				sizeof(msg));
	if (rc)
		return srv_req_fail(req, rc, "%s", msg);

	memset(&row, 0, sizeof(row));
	srv_sessions_lock(app->sessions);
	s = srv_req_session_locked(req);
	if (s) {
		if (strategy >= 0)
			s->strategy = strategy;
		if (autoplay >= 0)
			s->autoplay = autoplay;
		if (group >= 0)
			s->group_mode = group;
		strategy = s->strategy;
		autoplay = s->autoplay;
		group = s->group_mode;
		s->keep = 1;
		snprintf(row.id, sizeof(row.id), "%s", s->id);
		row.created = s->created;
	}
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOMEM;
	snprintf(row.strategy, sizeof(row.strategy), "%s",
		 music_strategy_names[strategy]);
	row.autoplay = autoplay;
	row.last_seen = (int64_t)ms_unix_time() * 1000;
	if (store_session_put(app->store, &row))
		ms_warn("settings: not saved for a session (database)");
	return settings_reply(req, strategy, autoplay, group);
}

/* ---- GET /healthz ------------------------------------------------------ */

int api_healthz(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	int64_t catalog = -1;
	struct ms_json j;
	struct ms_buf b;

	store_catalog_count(app->store, &catalog);
	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "status", "ok");
	ms_json_bool(&j, "model", app->has_model);
	ms_json_bool(&j, "emotions", app->has_model);
	ms_json_str(&j, "note",
		    app->has_model ? "emotion model loaded"
				   : "no emotion model: faces only");
	ms_json_int(&j, "model_nets", pipe_model_nets(app->pipe));
	ms_json_str(&j, "tta", nn_tta_names[app->cfg.tta]);
	ms_json_str(&j, "kernels", nn_kernels_name());
	ms_json_int(&j, "sessions", srv_sessions_count(app->sessions));
	ms_json_int(&j, "frames", atomic_load(&app->n_frames));
	ms_json_int(&j, "rejected_429", atomic_load(&app->n_rejected_429));
	ms_json_int(&j, "rejected_503", atomic_load(&app->n_rejected_503));
	ms_json_int(&j, "frame_slots", app->cfg.frame_slots);
	ms_json_int(&j, "threads", app->cfg.threads);
	ms_json_int(&j, "schema_version", store_schema_version(app->store));
	ms_json_int(&j, "catalog", catalog);
	ms_json_num(&j, "uptime_s", (ms_now_ms() - app->started_ms) / 1000.0,
		    1);
	ms_json_obj_close(&j);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}
