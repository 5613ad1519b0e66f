/* routes_spotify.c - HTTP side of the Spotify module: sign-in (/login,
 * /callback with a single-use state and PKCE verifier kept in the session),
 * status/devices/now-playing snapshots, player commands queued for the
 * worker, and the module hooks (start, stop, mood changes). No handler
 * waits on Spotify; results show up in /api/spotify/status. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "moodsync/spotify.h"
#include "moodsync/spotify_service.h"
#include "server/api.h"
#include "server/routes_spotify.h"

#define KV_STATE "sp_state"
#define KV_VERIFIER "sp_verifier"

static struct music_spotify_svc *service(struct srv_req *req)
{
	return srv_app_spotify(srv_req_app(req));
}

/* A browser that lands on /login or /callback gets a short page with a way
 * back instead of raw JSON. `message` is one of our own sentences. */
static int reply_page(struct srv_req *req, int status, const char *message)
{
	struct ms_buf b;
	const char *p;
	int rc;

	ms_buf_init(&b, 4096);
	rc = ms_buf_puts(&b, "<!doctype html><html lang=\"en\"><meta charset="
			     "\"utf-8\"><title>MoodSync - Spotify</title>"
			     "<link rel=\"stylesheet\" href=\"/style.css\">"
			     "<main><section><h1>Spotify sign-in</h1><p "
			     "class=\"status error\" role=\"alert\">");
	for (p = message; !rc && *p; p++) /* escape, though it is ours */
		rc = *p == '<'	 ? ms_buf_puts(&b, "&lt;")
		     : *p == '&' ? ms_buf_puts(&b, "&amp;")
				 : ms_buf_append(&b, p, 1);
	if (!rc)
		rc = ms_buf_puts(&b,
				 "</p><p><a class=\"button-link\" href=\"/\">"
				 "Back to MoodSync</a></p></section></main>"
				 "</html>\n");
	if (!rc)
		rc = srv_reply_bytes(req, status, "text/html; charset=utf-8",
				     b.data, b.len);
	ms_buf_release(&b);
	return rc;
}

static int wants_html(struct srv_req *req)
{
	const char *accept = srv_req_header(req, "Accept");
	const char *path = srv_req_path(req);

	return accept && strstr(accept, "text/html") &&
	       (strcmp(path, "/login") == 0 || strcmp(path, "/callback") == 0);
}

/* The server's one error reply (srv_reply_err), except that a browser
 * navigating to /login or /callback gets the same message as a page. */
static int reply_err(struct srv_req *req, int err, const char *code,
		     const char *message, int retry_after_s)
{
	if (wants_html(req))
		return reply_page(req, srv_http_status(err), message);
	return srv_reply_err(req, err, code, retry_after_s, "%s", message);
}

static int not_configured(struct srv_req *req)
{
	return reply_err(req, MS_EBUSY, "not_configured",
			 "Spotify is not set up: put MOODSYNC_SPOTIFY_CLIENT_ID"
			 "=<your app's client ID> in .env and restart (see "
			 "docs/spotify.md). Recommendations work offline.",
			 0);
}

/* Time-safe comparison of two NUL-terminated strings. */
static int same_secret(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), i;
	unsigned diff = na != nb;

	for (i = 0; i < na && i < nb; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return diff == 0;
}

/* The scheme://authority of a URL, into out. 0 when it has none. */
static int url_origin(const char *url, char *out, size_t outlen)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (!p)
		return 0;
	n = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
	if (n >= outlen)
		return 0;
	memcpy(out, url, n);
	out[n] = '\0';
	return 1;
}

/* ---- sign-in ---------------------------------------------------------- */

/* The redirect URI: the configured one, or this server's own /callback
 * (http://127.0.0.1:5000/callback with the defaults). */
static void redirect_uri(struct music_spotify_svc *sp, struct srv_app *app,
			 char *out, size_t outlen)
{
	const struct music_spotify_config *cfg = music_spotify_svc_config(sp);
	const char *base = srv_app_base_url(app);

	if (cfg->redirect_explicit || !base || !base[0])
		snprintf(out, outlen, "%s", cfg->redirect_uri);
	else
		snprintf(out, outlen, "%s/callback", base);
}

int spotify_login(struct srv_req *req)
{
	struct music_spotify_svc *sp = service(req);
	struct srv_app *app = srv_req_app(req);
	const char *sid = srv_req_session_id(req);
	const char *host = srv_req_header(req, "Host");
	char verifier[72], state[48], challenge[44], origin[300], redirect[256];
	struct music_spotify_config cfg;
	const char *authority;
	struct ms_buf url;
	int rc;

	if (!music_spotify_svc_configured(sp))
		return not_configured(req);
	/* The callback must find this session's cookie: sign in from the
	 * redirect URI's own host (127.0.0.1 and localhost keep separate
	 * cookies). */
	redirect_uri(sp, app, redirect, sizeof(redirect));
	authority = url_origin(redirect, origin, sizeof(origin))
			    ? strstr(origin, "://") + 3
			    : NULL;
	if (authority && host && strcasecmp(host, authority) != 0) {
		ms_buf_init(&url, 1024);
		rc = ms_buf_printf(&url, "%s/login", origin);
		if (!rc)
			rc = srv_reply_redirect(req, url.data);
		ms_buf_release(&url);
		return rc;
	}
	rc = music_random_string(48, verifier, sizeof(verifier));
	if (!rc)
		rc = music_random_string(24, state, sizeof(state));
	if (!rc)
		rc = music_pkce_challenge(verifier, challenge);
	if (rc)
		return srv_req_fail(req, MS_EIO, "no randomness for sign-in");
	rc = srv_session_kv_set(app, sid, KV_STATE, state);
	if (!rc)
		rc = srv_session_kv_set(app, sid, KV_VERIFIER, verifier);
	memset(verifier, 0, sizeof(verifier));
	if (rc)
		return srv_req_fail(req, MS_EBUSY, "session storage full");
	ms_buf_init(&url, 4096);
	cfg = *music_spotify_svc_config(sp);
	snprintf(cfg.redirect_uri, sizeof(cfg.redirect_uri), "%s", redirect);
	rc = music_spotify_authorize_url(&cfg, state, challenge, &url);
	if (!rc)
		rc = srv_reply_redirect(req, url.data);
	ms_buf_release(&url);
	return rc;
}

static int code_ok(const char *code)
{
	size_t n = strlen(code), i;

	if (n == 0 || n > MUSIC_SPOTIFY_CODE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)code[i] <= ' ' ||
		    (unsigned char)code[i] >= 127)
			return 0;
	return 1;
}

int spotify_callback(struct srv_req *req)
{
	struct music_spotify_svc *sp = service(req);
	struct srv_app *app = srv_req_app(req);
	const char *sid = srv_req_session_id(req);
	const char *state = srv_req_query(req, "state");
	const char *code = srv_req_query(req, "code");
	const char *error = srv_req_query(req, "error");
	struct music_spotify_job *job;
	char want[64];
	int rc;

	if (!music_spotify_svc_configured(sp))
		return not_configured(req);
	if (srv_session_kv_get(app, sid, KV_STATE, want, sizeof(want)) != MS_OK)
		return reply_err(req, MS_EINVAL, "bad_state",
				 "This Spotify sign-in link was already used "
				 "or is not from this browser. Go back to "
				 "MoodSync and click Connect again.",
				 0);
	if (!state || !same_secret(state, want))
		return reply_err(req, MS_EINVAL, "bad_state",
				 "Spotify sign-in refused: the state does not "
				 "match the sign-in this browser started (a "
				 "stale or forged link). Click Connect again.",
				 0);
	job = calloc(1, sizeof(*job));
	if (!job)
		return MS_ENOMEM;
	job->kind = MUSIC_SPOTIFY_JOB_EXCHANGE;
	snprintf(job->sid, sizeof(job->sid), "%s", sid);
	if (srv_session_kv_get(app, sid, KV_VERIFIER, job->verifier,
			       sizeof(job->verifier)) != MS_OK)
		job->verifier[0] = '\0';
	/* single use, whatever happens next */
	srv_session_kv_set(app, sid, KV_STATE, NULL);
	srv_session_kv_set(app, sid, KV_VERIFIER, NULL);
	if (error) {
		int denied = strcmp(error, "access_denied") == 0;
		music_spotify_svc_note_error(
			sp, sid, "signin",
			denied ? "access_denied" : "signin_failed",
			denied ? "You declined access on Spotify, so MoodSync "
				 "cannot play music there. Click Connect to "
				 "try "
				 "again; recommendations keep working offline."
			       : "Spotify sign-in failed. Click Connect to try "
				 "again.");
		rc = srv_reply_redirect(req, denied ? "/?spotify=denied"
						    : "/?spotify=failed");
		goto out;
	}
	if (!code || !code_ok(code) || !job->verifier[0]) {
		rc = reply_err(req, MS_EINVAL, "bad_callback",
			       "Spotify sign-in: the answer has no usable "
			       "authorization code. Click Connect again.",
			       0);
		goto out;
	}
	snprintf(job->code, sizeof(job->code), "%s", code);
	redirect_uri(sp, app, job->redirect, sizeof(job->redirect));
	/* a signed-in session outlives floods, evictions and restarts */
	if (srv_session_keep(app, sid))
		ms_warn("spotify: session not saved (database)");
	music_spotify_svc_mark_connecting(sp, sid);
	if (music_spotify_svc_submit(sp, job) != MS_OK) {
		music_spotify_svc_note_error(
			sp, sid, "signin", "busy",
			"MoodSync is busy; click Connect again.");
		rc = reply_err(req, MS_EBUSY, "busy",
			       "MoodSync is busy; click Connect again.", 1);
		goto out;
	}
	rc = srv_reply_redirect(req, "/?spotify=connecting");
out:
	memset(job, 0, sizeof(*job));
	free(job);
	return rc;
}

int spotify_disconnect(struct srv_req *req)
{
	struct music_spotify_svc *sp = service(req);
	static const char body[] = "{\"connected\":false}";

	if (!music_spotify_svc_configured(sp))
		return not_configured(req);
	if (music_spotify_svc_disconnect(sp, srv_req_session_id(req)))
		return srv_req_fail(req, MS_EDB, "could not forget the tokens");
	return srv_reply_json(req, SRV_HTTP_OK, body, sizeof(body) - 1);
}

/* ---- snapshots -------------------------------------------------------- */

/* Queues a refresh job when the data is older than `max_age` s. */
static void refresh_if_old(struct music_spotify_svc *sp, const char *sid,
			   enum music_spotify_job_kind kind, int64_t age,
			   int64_t max_age)
{
	struct music_spotify_job job;

	if (age < max_age || music_spotify_svc_paused_ms(sp, NULL) > 0)
		return;
	memset(&job, 0, sizeof(job));
	job.kind = kind;
	snprintf(job.sid, sizeof(job.sid), "%s", sid);
	if (music_spotify_svc_submit(sp, &job))
		ms_debug("spotify: refresh not queued (busy)");
}

int spotify_status(struct srv_req *req)
{
	struct music_spotify_svc *sp = service(req);
	struct srv_session_info info;
	const char *sid = srv_req_session_id(req);
	struct ms_json j;
	struct ms_buf b;
	int autoplay = 1, rc;

	if (!sp)
		return not_configured(req);
	if (srv_session_info_get(req, &info) == MS_OK)
		autoplay = info.autoplay;
	if (music_spotify_svc_configured(sp) &&
	    music_spotify_svc_connected(sp, sid))
		refresh_if_old(sp, sid, MUSIC_SPOTIFY_JOB_DEVICES,
			       music_spotify_svc_devices_age(sp, sid), 30);
	ms_buf_init(&b, 64 * 1024);
	ms_json_init(&j, &b);
	music_spotify_svc_status_json(sp, sid, autoplay, &j);
	rc = ms_json_finish(&j);
	if (!rc && b.len > 0 && b.data[b.len - 1] == '}') {
		/* splice the script the page loads the Embed player from */
		b.len--;
		rc = ms_buf_puts(&b, ",\"embed_script\":");
		if (!rc)
			rc = ms_buf_json_str(
				&b, srv_app_embed_script(srv_req_app(req)));
		if (!rc)
			rc = ms_buf_puts(&b, "}");
	}
	if (!rc)
		rc = srv_reply_json(req, SRV_HTTP_OK, b.data, b.len);
	ms_buf_release(&b);
	return rc;
}

/* 1 when the session is signed in; otherwise the reply (503 not set up or
 * 401 not connected) is sent, its status in *rc, and 0 is returned. */
static int connected_or_reply(struct srv_req *req, struct music_spotify_svc *sp,
			      int *rc)
{
	if (!music_spotify_svc_configured(sp)) {
		*rc = not_configured(req);
		return 0;
	}
	if (!music_spotify_svc_connected(sp, srv_req_session_id(req))) {
		*rc = reply_err(req, MS_EAUTH, "not_connected",
				"Connect Spotify first (the Connect button).",
				0);
		return 0;
	}
	return 1;
}

int spotify_devices(struct srv_req *req)
{
	struct music_spotify_svc *sp = service(req);
	const char *sid = srv_req_session_id(req);
	struct ms_json j;
	struct ms_buf b;
	int rc = MS_OK;

	if (!connected_or_reply(req, sp, &rc))
		return rc;
	refresh_if_old(sp, sid, MUSIC_SPOTIFY_JOB_DEVICES,
		       music_spotify_svc_devices_age(sp, sid), 2);
	ms_buf_init(&b, 16 * 1024);
	ms_json_init(&j, &b);
	music_spotify_svc_devices_json(sp, sid, &j);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}

int spotify_now(struct srv_req *req)
{
	struct music_spotify_svc *sp = service(req);
	const char *sid = srv_req_session_id(req);
	struct ms_json j;
	struct ms_buf b;
	int rc = MS_OK;

	if (!connected_or_reply(req, sp, &rc))
		return rc;
	refresh_if_old(sp, sid, MUSIC_SPOTIFY_JOB_NOW,
		       music_spotify_svc_now_age(sp, sid), 3);
	ms_buf_init(&b, 4096);
	ms_json_init(&j, &b);
	music_spotify_svc_now_json(sp, sid, &j);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}

/* ---- commands --------------------------------------------------------- */

/* Parses the JSON object body (may be empty: *root NULL). */
static int json_body(struct srv_req *req, cJSON **root)
{
	const char *ct = srv_req_header(req, "Content-Type");
	const uint8_t *body;
	size_t len;

	*root = NULL;
	body = srv_req_body(req, &len);
	if (!body || len == 0)
		return MS_OK;
	if (!ct || strncasecmp(ct, "application/json", 16) != 0)
		return srv_req_fail(req, MS_EUNSUPPORTED,
				    "Content-Type must be application/json");
	*root = cJSON_ParseWithLength((const char *)body, len);
	if (!cJSON_IsObject(*root)) {
		cJSON_Delete(*root);
		*root = NULL;
		return srv_req_fail(req, MS_EINVAL,
				    "body must be a JSON object");
	}
	return MS_OK;
}

int spotify_device(struct srv_req *req)
{
	struct music_spotify_svc *sp = service(req);
	const cJSON *d;
	cJSON *root;
	struct ms_json j;
	struct ms_buf b;
	int rc = MS_OK;

	if (!connected_or_reply(req, sp, &rc))
		return rc;
	rc = json_body(req, &root);
	if (rc)
		return rc;
	d = cJSON_GetObjectItemCaseSensitive(root, "device_id");
	if (!cJSON_IsString(d) ||
	    (d->valuestring[0] &&
	     !music_spotify_device_id_valid(d->valuestring))) {
		cJSON_Delete(root);
		return srv_req_fail(req, MS_EINVAL,
				    "device_id must be a device id or \"\"");
	}
	rc = music_spotify_svc_set_device(sp, srv_req_session_id(req),
					  d->valuestring);
	ms_buf_init(&b, 256);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "device_id", d->valuestring);
	ms_json_obj_close(&j);
	cJSON_Delete(root);
	if (rc) {
		ms_buf_release(&b);
		return srv_req_fail(req, rc, "could not save the device");
	}
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}

static int player(struct srv_req *req, enum music_spotify_job_kind kind,
		  const char *action)
{
	struct music_spotify_svc *sp = service(req);
	struct music_spotify_job job;
	const char *code = NULL;
	const cJSON *u;
	cJSON *root = NULL;
	struct ms_json j;
	struct ms_buf b;
	int64_t paused;
	int rc = MS_OK;

	if (!connected_or_reply(req, sp, &rc))
		return rc;
	memset(&job, 0, sizeof(job));
	job.kind = kind;
	snprintf(job.sid, sizeof(job.sid), "%s", srv_req_session_id(req));
	if (kind == MUSIC_SPOTIFY_JOB_PLAY) {
		rc = json_body(req, &root);
		if (rc)
			return rc;
		u = cJSON_GetObjectItemCaseSensitive(root, "uri");
		if (u && (!cJSON_IsString(u) ||
			  !music_spotify_uri_valid(u->valuestring))) {
			cJSON_Delete(root);
			return srv_req_fail(
				req, MS_EINVAL,
				"uri must be spotify:playlist:<id>");
		}
		if (u)
			snprintf(job.uri, sizeof(job.uri), "%s",
				 u->valuestring);
		cJSON_Delete(root);
	}
	paused = music_spotify_svc_paused_ms(sp, &code);
	if (paused > 0)
		return reply_err(req, MS_EBUSY, code,
				 "Spotify asked us to wait; playback commands "
				 "resume after the pause.",
				 (int)MS_MIN((paused + 999) / 1000, 86400 * 7));
	if (music_spotify_svc_submit(sp, &job))
		return reply_err(req, MS_EBUSY, "busy",
				 "Too many Spotify requests queued; try again "
				 "in a moment.",
				 1);
	ms_buf_init(&b, 128);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_bool(&j, "queued", 1);
	ms_json_str(&j, "action", action);
	ms_json_obj_close(&j);
	return srv_reply_doc(req, SRV_HTTP_ACCEPTED, &j);
}

int spotify_play(struct srv_req *req)
{
	return player(req, MUSIC_SPOTIFY_JOB_PLAY, "play");
}

int spotify_pause(struct srv_req *req)
{
	return player(req, MUSIC_SPOTIFY_JOB_PAUSE, "pause");
}

int spotify_next(struct srv_req *req)
{
	return player(req, MUSIC_SPOTIFY_JOB_NEXT, "next");
}

int spotify_autoplay(struct srv_req *req)
{
	/* One switch for the whole app: the session's autoplay setting,
	 * which POST /api/settings also sets ({"autoplay": bool}). */
	return api_settings_post(req);
}

/* ---- module hooks ----------------------------------------------------- */

int spotify_module_start(struct srv_app *app, char *err, size_t errlen)
{
	struct music_spotify_config cfg;
	struct music_spotify_svc *sp = NULL;
	char why[MS_ERRLEN];
	int rc;

	rc = music_spotify_config_load(&cfg, ".env", why, sizeof(why));
	if (rc) {
		ms_warn("spotify: %s; running without Spotify", why);
		memset(&cfg, 0, sizeof(cfg));
	}
	if (cfg.client_id[0]) {
		rc = music_spotify_global_init();
		if (rc)
			return ms_errf(err, errlen, rc,
				       "spotify: curl init failed");
	}
	rc = music_spotify_svc_new(srv_app_store(app), &cfg, &sp, err, errlen);
	if (rc)
		return rc;
	srv_app_spotify_set(app, sp);
	if (cfg.client_id[0])
		ms_info("spotify: on (accounts %s, api %s, redirect %s)",
			cfg.accounts_url, cfg.api_url,
			cfg.redirect_explicit ? cfg.redirect_uri
					      : "<this server>/callback");
	else
		ms_info("spotify: off (no MOODSYNC_SPOTIFY_CLIENT_ID); offline "
			"catalog only");
	return MS_OK;
}

void spotify_module_stop(struct srv_app *app)
{
	struct music_spotify_svc *sp = srv_app_spotify(app);

	srv_app_spotify_set(app, NULL);
	music_spotify_svc_free(sp);
}

void spotify_module_mood(struct srv_app *app, const struct srv_mood_event *ev)
{
	struct music_spotify_job job;
	struct music_spotify_svc *sp = srv_app_spotify(app);

	memset(&job, 0, sizeof(job));
	job.kind = MUSIC_SPOTIFY_JOB_MOOD;
	snprintf(job.sid, sizeof(job.sid), "%s", ev->session_id);
	job.mood = ev->mood;
	job.strategy = ev->strategy;
	job.autoplay = ev->autoplay;
	if (music_spotify_svc_configured(sp) &&
	    music_spotify_svc_submit(sp, &job))
		ms_debug("spotify: mood change dropped (queue full)");
}
