/* api_library.c - the music library's JSON routes: GET /api/library,
 * POST /api/library/scan, GET /api/queue, POST /api/queue/next, POST
 * /api/tracks/{id}/feedback and /point; and the "library" module that
 * owns the player (src/music/player.c) and starts a background scan when
 * the server starts. The audio bytes are served by api_audio.c. Policy
 * lives in music; this file parses, calls and formats. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "moodsync/library.h"
#include "moodsync/store.h"
#include "server/api.h"
#include "server/api_library.h"
#include "server/app.h"

#define JSON_MAX (64u << 10) /* bytes of one response */
#define EARLY_SKIP_S 30.0    /* a skip before this is a strong no */

/* ---- the module -------------------------------------------------------- */

int library_module_start(struct srv_app *app, char *err, size_t errlen)
{
	struct music_scan_opts o;
	char(*defaults)[4096] = NULL;
	int rc, n = 0;

	memset(&o, 0, sizeof(o));
	o.analyze = music_analyze_file;
	o.analyser = music_analyser_version;
	o.background = 1; /* frames first */
	o.jobs = app->cfg.music_jobs;
	if (app->cfg.music_ndirs < 0) {
		defaults = ms_calloc(MUSIC_SCAN_DIRS, sizeof(*defaults));
		if (!defaults)
			return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		music_default_dirs(defaults, MUSIC_SCAN_DIRS, &n);
		for (int i = 0; i < n; i++)
			o.dirs[i] = defaults[i];
	} else {
		n = MS_MIN(app->cfg.music_ndirs, MUSIC_SCAN_DIRS);
		for (int i = 0; i < n; i++)
			o.dirs[i] = app->cfg.music_dirs[i];
	}
	o.ndirs = n;
	rc = music_player_new(app->store, &o, &app->player, err, errlen);
	free(defaults); /* the player copied the folders */
	if (rc)
		return rc;
	for (int i = 0; i < n; i++)
		ms_info("library: folder %s", o.dirs[i]);
	if (n > 0)
		music_player_scan(app->player);
	return MS_OK;
}

void library_module_stop(struct srv_app *app)
{
	music_player_free(app->player);
	app->player = NULL;
}

/* ---- helpers ------------------------------------------------------------- */

static struct music_player *player_of(struct srv_req *req)
{
	return srv_app_player(srv_req_app(req));
}

/* The listener as the queue sees them: the session's smoothed mood on
 * the plane, its feeling and goal. */
static void listener_of(struct srv_req *req, struct music_listener *l)
{
	struct srv_session_info info;

	memset(&info, 0, sizeof(info));
	info.strategy = MUSIC_MATCH;
	/* the listener's own choice counts, as the page shows it; zeros
	 * (neutral) when evicted */
	if (srv_session_info_get(req, &info) == MS_OK && info.feeling >= 0) {
		l->point.valence = info.valence;
		l->point.arousal = info.arousal;
		l->feeling = (enum music_feeling)info.feeling;
	} else {
		l->point = music_affect_point(info.probs);
		l->feeling = music_feeling_of(info.probs, l->point);
	}
	l->goal = info.strategy;
	l->mood = info.mood;
	l->mood_since_ms = info.mood_since;
}

/* The track id in /api/tracks/{id}/...; 0 when it is not a number. */
static int64_t track_id_of(struct srv_req *req)
{
	const char *p = srv_req_path(req) + strlen("/api/tracks/");
	const char *slash = strchr(p, '/');
	int64_t id = 0;

	if (!slash || ms_parse_i64_n(p, (size_t)(slash - p), 1, INT64_MAX, &id))
		return 0;
	return id;
}

/* The request's JSON object body (an empty body counts as {}). NULL with
 * the reply's message recorded when it is not one. */
static cJSON *json_body(struct srv_req *req, int *rc)
{
	const char *ct = srv_req_header(req, "Content-Type");
	const uint8_t *body;
	size_t len;
	cJSON *root;

	body = srv_req_body(req, &len);
	if (len > 0 && !api_content_type_is(ct, "application/json")) {
		*rc = srv_req_fail(req, MS_EUNSUPPORTED,
				   "Content-Type must be application/json");
		return NULL;
	}
	root = len ? cJSON_ParseWithLength((const char *)body, len)
		   : cJSON_CreateObject();
	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		*rc = srv_req_fail(req, MS_EINVAL,
				   "body must be a JSON object");
		return NULL;
	}
	*rc = MS_OK;
	return root;
}

static void json_va(struct ms_json *j, const char *key, struct music_va p)
{
	ms_json_obj_open(j, key);
	ms_json_num(j, "valence", p.valence, 3);
	ms_json_num(j, "arousal", p.arousal, 3);
	ms_json_obj_close(j);
}

/* A track object as `key` (null when it was removed meanwhile); `why`
 * NULL: none. */
static void json_track(struct ms_json *j, const char *key, struct srv_req *req,
		       int64_t id, const char *why)
{
	struct store_track *t = malloc(sizeof(*t));
	char url[64];
	struct music_va pt;
	int liked = 0;

	if (!t || music_player_track(player_of(req), srv_req_session_id(req),
				     id, t, &pt, &liked) != MS_OK) {
		ms_json_null(j, key);
		free(t);
		return;
	}
	snprintf(url, sizeof(url), "/api/tracks/%lld/audio", (long long)id);
	ms_json_obj_open(j, key);
	ms_json_int(j, "id", id);
	ms_json_str(j, "title", t->title);
	ms_json_str(j, "artist", t->artist);
	ms_json_str(j, "album", t->album);
	ms_json_num(j, "duration_s", t->duration_s, 1);
	ms_json_num(j, "valence", pt.valence, 3);
	ms_json_num(j, "arousal", pt.arousal, 3);
	ms_json_str(j, "mime", t->mime);
	ms_json_str(j, "url", url);
	ms_json_bool(j, "liked", liked);
	if (why)
		ms_json_str(j, "why", why);
	ms_json_obj_close(j);
	free(t);
}

/* ---- GET /api/library, POST /api/library/scan ---------------------------- */

static int library_reply(struct srv_req *req)
{
	struct music_library_status st;
	struct ms_buf b;
	struct ms_json j;

	music_player_status(player_of(req), &st);
	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_int(&j, "tracks", st.tracks);
	ms_json_bool(&j, "scanning", st.scan.running);
	ms_json_int(&j, "done", st.scan.done);
	ms_json_int(&j, "total", st.scan.total);
	ms_json_num(&j, "eta_s", st.scan.eta_s, 1);
	ms_json_int(&j, "skipped", st.skipped);
	ms_json_int(&j, "found", st.scan.found);
	ms_json_int(&j, "unchanged", st.scan.unchanged);
	ms_json_int(&j, "removed", st.scan.removed);
	ms_json_int(&j, "problems", st.scan.problems);
	ms_json_num(&j, "elapsed_s", st.scan.elapsed_s, 1);
	ms_json_arr_open(&j, "folders");
	for (int i = 0; i < st.ndirs; i++)
		ms_json_str(&j, NULL, st.dirs[i]);
	ms_json_arr_close(&j);
	ms_json_obj_close(&j);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}

int api_library(struct srv_req *req)
{
	if (!player_of(req))
		return srv_req_fail(req, MS_EBUSY, "the library is not ready");
	return library_reply(req);
}

int api_library_scan(struct srv_req *req)
{
	int rc;

	if (!player_of(req))
		return srv_req_fail(req, MS_EBUSY, "the library is not ready");
	rc = music_player_scan(player_of(req));
	if (rc && rc != MS_EBUSY) /* already scanning: report progress */
		return srv_req_fail(req, rc, "cannot start a scan");
	return library_reply(req);
}

/* ---- GET /api/queue, POST /api/queue/next -------------------------------- */

/* "fallback": the catalog's playlists when nothing can play. */
static void json_fallback(struct ms_json *j, const struct music_rec *r)
{
	ms_json_obj_open(j, "fallback");
	ms_json_name(j, "based_on", r->based_on, music_mood_names, MUSIC_MOODS);
	ms_json_name(j, "strategy", r->strategy, music_strategy_names,
		     MUSIC_STRATEGIES);
	ms_json_int(j, "primary", r->primary);
	ms_json_arr_open(j, "playlists");
	for (int i = 0; i < r->n; i++) {
		ms_json_obj_open(j, NULL);
		ms_json_str(j, "name", r->items[i].name);
		ms_json_str(j, "description", r->items[i].description);
		ms_json_str(j, "url", r->items[i].url);
		ms_json_obj_close(j);
	}
	ms_json_arr_close(j);
	ms_json_obj_close(j);
}

static int queue_reply(struct srv_req *req, const struct music_listener *l,
		       const struct music_queue_view *v)
{
	struct ms_buf b;
	struct ms_json j;

	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_name(&j, "goal", l->goal, music_strategy_names,
		     MUSIC_STRATEGIES);
	ms_json_obj_open(&j, "listener");
	ms_json_num(&j, "valence", l->point.valence, 3);
	ms_json_num(&j, "arousal", l->point.arousal, 3);
	ms_json_name(&j, "feeling", (int)l->feeling, music_feeling_names,
		     MUSIC_FEELINGS);
	ms_json_obj_close(&j);
	json_va(&j, "target", v->now ? v->target : l->point);
	if (v->now)
		json_track(&j, "now", req, v->now, v->why);
	else
		ms_json_null(&j, "now");
	ms_json_arr_open(&j, "next");
	for (int i = 0; i < v->nnext; i++)
		json_track(&j, NULL, req, v->next[i], v->next_why[i]);
	ms_json_arr_close(&j);
	if (v->has_rec)
		json_fallback(&j, &v->rec);
	ms_json_obj_close(&j);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}

static int queue_run(struct srv_req *req, int advance)
{
	struct music_queue_view *v;
	struct music_listener l;
	int rc;

	if (!player_of(req))
		return srv_req_fail(req, MS_EBUSY, "the library is not ready");
	v = malloc(sizeof(*v));
	if (!v)
		return MS_ENOMEM;
	listener_of(req, &l);
	rc = music_player_queue(player_of(req), srv_req_session_id(req), &l,
				advance, v);
	if (!rc)
		rc = queue_reply(req, &l, v);
	else
		srv_req_fail(req, rc, "the library is unavailable");
	free(v);
	return rc;
}

int api_queue(struct srv_req *req)
{
	return queue_run(req, 0);
}

int api_queue_next(struct srv_req *req)
{
	const cJSON *jp, *jr;
	const char *reason = "user";
	double pos = -1;
	int64_t now;
	cJSON *root;
	int rc;

	if (!player_of(req))
		return srv_req_fail(req, MS_EBUSY, "the library is not ready");
	root = json_body(req, &rc);
	if (!root)
		return rc;
	jp = cJSON_GetObjectItemCaseSensitive(root, "position_s");
	jr = cJSON_GetObjectItemCaseSensitive(root, "reason");
	if (jp && (!cJSON_IsNumber(jp) || !isfinite(jp->valuedouble) ||
		   jp->valuedouble < 0 || jp->valuedouble > 1e6))
		rc = srv_req_fail(req, MS_EINVAL,
				  "position_s must be a number of seconds");
	else if (jp)
		pos = jp->valuedouble;
	if (!rc && jr &&
	    (!cJSON_IsString(jr) || (strcmp(jr->valuestring, "ended") &&
				     strcmp(jr->valuestring, "skip") &&
				     strcmp(jr->valuestring, "user") &&
				     strcmp(jr->valuestring, "error"))))
		rc = srv_req_fail(req, MS_EINVAL,
				  "reason must be ended, skip, user or error");
	else if (!rc && jr)
		reason =
			strcmp(jr->valuestring, "skip") == 0 ? "skip" : "other";
	cJSON_Delete(root);
	if (rc)
		return rc;
	now = music_player_now(player_of(req), srv_req_session_id(req));
	if (now && strcmp(reason, "skip") == 0 &&
	    store_feedback_add(srv_app_store(srv_req_app(req)),
			       srv_req_session_id(req), now,
			       pos >= 0 && pos < EARLY_SKIP_S
				       ? STORE_FB_EARLY_SKIP
				       : STORE_FB_SKIP,
			       0, 0, ms_unix_time()) != MS_OK)
		ms_warn("library: a skip was not recorded");
	return queue_run(req, 1);
}

/* ---- POST /api/tracks/{id}/feedback and /point -----------------------------
 */

int api_track_feedback(struct srv_req *req)
{
	static const struct {
		const char *name;
		enum store_feedback_kind kind;
	} kinds[] = {
		{"like", STORE_FB_LIKE},
		{"unlike", STORE_FB_UNLIKE},
		{"skip", STORE_FB_SKIP},
		{"not_mood", STORE_FB_NOT_MOOD},
	};
	struct music_listener l;
	int64_t id = track_id_of(req);
	const cJSON *jk, *jp;
	cJSON *root;
	int rc, k = -1;

	if (id <= 0)
		return srv_req_fail(req, MS_ENOTFOUND, "no such track");
	root = json_body(req, &rc);
	if (!root)
		return rc;
	jk = cJSON_GetObjectItemCaseSensitive(root, "kind");
	jp = cJSON_GetObjectItemCaseSensitive(root, "position_s");
	for (size_t i = 0; cJSON_IsString(jk) && i < MS_ARRAY_LEN(kinds); i++)
		if (strcmp(jk->valuestring, kinds[i].name) == 0)
			k = (int)i;
	if (k < 0) {
		cJSON_Delete(root);
		return srv_req_fail(req, MS_EINVAL,
				    "kind must be like, unlike, skip or "
				    "not_mood");
	}
	listener_of(req, &l);
	k = kinds[k].kind;
	if (k == STORE_FB_SKIP && cJSON_IsNumber(jp) && jp->valuedouble >= 0 &&
	    jp->valuedouble < EARLY_SKIP_S)
		k = STORE_FB_EARLY_SKIP;
	cJSON_Delete(root);
	rc = store_feedback_add(srv_app_store(srv_req_app(req)),
				srv_req_session_id(req), id,
				(enum store_feedback_kind)k, l.point.valence,
				l.point.arousal, ms_unix_time());
	if (rc == MS_ENOTFOUND)
		return srv_req_fail(req, rc, "no such track");
	if (rc)
		return srv_req_fail(req, rc, "feedback not recorded");
	return srv_reply_json(req, SRV_HTTP_OK, "{\"ok\":true}", 11);
}

/* Reads a number in [-1, 1] named `name` from obj; 0 when absent/bad. */
static int unit_number(const cJSON *obj, const char *name, double *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) ||
	    j->valuedouble < -1 || j->valuedouble > 1)
		return 0;
	*out = j->valuedouble;
	return 1;
}

int api_track_point(struct srv_req *req)
{
	int64_t id = track_id_of(req);
	double v = 0, a = 0;
	struct ms_buf b;
	struct ms_json j;
	cJSON *root;
	int rc, ok;

	if (id <= 0)
		return srv_req_fail(req, MS_ENOTFOUND, "no such track");
	if (!player_of(req))
		return srv_req_fail(req, MS_EBUSY, "the library is not ready");
	root = json_body(req, &rc);
	if (!root)
		return rc;
	ok = unit_number(root, "valence", &v) &&
	     unit_number(root, "arousal", &a);
	cJSON_Delete(root);
	if (!ok)
		return srv_req_fail(req, MS_EINVAL,
				    "valence and arousal must be numbers "
				    "from -1 to 1");
	rc = store_feedback_add(srv_app_store(srv_req_app(req)),
				srv_req_session_id(req), id, STORE_FB_POINT, v,
				a, ms_unix_time());
	if (rc == MS_ENOTFOUND)
		return srv_req_fail(req, rc, "no such track");
	if (rc)
		return srv_req_fail(req, rc, "point not recorded");
	ms_buf_init(&b, JSON_MAX);
	ms_json_init(&j, &b);
	json_track(&j, NULL, req, id, NULL);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}
