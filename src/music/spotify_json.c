/* spotify_json.c - reading Spotify's answers with cJSON: error bodies and
 * their kinds, back-off decisions, token responses, search results (with
 * their null items), devices and what is playing. Every field is type- and
 * length-checked; nothing from the wire is trusted to be present. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "moodsync/spotify.h"

/* Copies a JSON string field into dst; 0 when absent, not a string or too
 * long (dst is then ""). */
static int json_str(const cJSON *obj, const char *name, char *dst, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	size_t n;

	dst[0] = '\0';
	if (!cJSON_IsString(v) || !v->valuestring)
		return 0;
	n = strlen(v->valuestring);
	if (n >= size)
		return 0;
	memcpy(dst, v->valuestring, n + 1);
	return 1;
}

/* Like json_str, but cuts a long value (names shown to people). */
static void json_str_cut(const cJSON *obj, const char *name, char *dst,
			 size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	dst[0] = '\0';
	if (cJSON_IsString(v) && v->valuestring)
		snprintf(dst, size, "%s", v->valuestring);
}

static int64_t json_i64(const cJSON *obj, const char *name, int64_t def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < -9e15 ||
	    v->valuedouble > 9e15)
		return def;
	return (int64_t)v->valuedouble;
}

static int json_bool(const cJSON *obj, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

static cJSON *json_parse(const char *body, size_t len)
{
	if (!body || len == 0 || len > MUSIC_SPOTIFY_MAX_BODY)
		return NULL;
	return cJSON_ParseWithLength(body, len);
}

/* ---- Errors ----------------------------------------------------------- */

static const struct {
	const char *code, *message;
} kind_text[MUSIC_SPOTIFY_KINDS] = {
	[MUSIC_SPOTIFY_OK] = {"ok", "OK."},
	[MUSIC_SPOTIFY_UNAUTHORIZED] =
		{"unauthorized",
		 "Spotify did not accept our sign-in; please connect again."},
	[MUSIC_SPOTIFY_INVALID_GRANT] =
		{"signin_required",
		 "Your Spotify sign-in has expired or was revoked: click "
		 "Connect to sign in again."},
	[MUSIC_SPOTIFY_RATE_LIMITED] =
		{"rate_limited",
		 "Spotify asked us to slow down; retrying shortly. "
		 "Recommendations continue from the cache."},
	[MUSIC_SPOTIFY_QUOTA] =
		{"quota_exceeded",
		 "This app has used up its Spotify API quota; Spotify calls "
		 "are "
		 "paused for a long while. Recommendations continue offline."},
	[MUSIC_SPOTIFY_PREMIUM] = {"premium_required",
				   "Playback control needs Spotify Premium. "
				   "Recommendations still "
				   "work: open the playlist link to listen."},
	[MUSIC_SPOTIFY_FORBIDDEN] =
		{"forbidden",
		 "Spotify refused: in Development Mode only users added to the "
		 "app's allow-list (at most 5) may use it."},
	[MUSIC_SPOTIFY_RESTRICTED] =
		{"restricted",
		 "Spotify cannot do that right now (for example pause when "
		 "nothing is playing, or skip during an ad)."},
	[MUSIC_SPOTIFY_NO_DEVICE] = {"no_active_device",
				     "No active Spotify device: open Spotify "
				     "on a phone or computer, "
				     "or pick a device from the list."},
	[MUSIC_SPOTIFY_NOT_FOUND] =
		{"not_found",
		 "Spotify could not find that (playlist or device)."},
	[MUSIC_SPOTIFY_BAD_REQUEST] = {"bad_request",
				       "Spotify rejected the request."},
	[MUSIC_SPOTIFY_SERVER] =
		{"spotify_unavailable",
		 "Spotify is having trouble; backing off. Recommendations "
		 "continue from the cache."},
	[MUSIC_SPOTIFY_TIMEOUT] =
		{"timeout",
		 "Spotify did not answer in time; backing off. Recommendations "
		 "continue from the cache."},
	[MUSIC_SPOTIFY_NETWORK] =
		{"unreachable",
		 "Spotify is unreachable; recommendations continue from the "
		 "cache and the offline catalog."},
	[MUSIC_SPOTIFY_BAD_RESPONSE] =
		{"bad_response", "Spotify sent an answer we could not read."},
};

const char *music_spotify_kind_code(enum music_spotify_kind k)
{
	return (unsigned)k < MUSIC_SPOTIFY_KINDS ? kind_text[k].code
						 : "unknown";
}

const char *music_spotify_kind_message(enum music_spotify_kind k)
{
	return (unsigned)k < MUSIC_SPOTIFY_KINDS ? kind_text[k].message
						 : "Unknown Spotify error.";
}

int music_spotify_kind_err(enum music_spotify_kind k)
{
	switch (k) {
	case MUSIC_SPOTIFY_OK:
		return MS_OK;
	case MUSIC_SPOTIFY_UNAUTHORIZED:
	case MUSIC_SPOTIFY_INVALID_GRANT:
	case MUSIC_SPOTIFY_FORBIDDEN:
	case MUSIC_SPOTIFY_PREMIUM:
		return MS_EAUTH;
	case MUSIC_SPOTIFY_RATE_LIMITED:
	case MUSIC_SPOTIFY_QUOTA:
		return MS_EBUSY;
	case MUSIC_SPOTIFY_NO_DEVICE:
	case MUSIC_SPOTIFY_NOT_FOUND:
		return MS_ENOTFOUND;
	case MUSIC_SPOTIFY_RESTRICTED:
	case MUSIC_SPOTIFY_BAD_REQUEST:
		return MS_EINVAL;
	case MUSIC_SPOTIFY_TIMEOUT:
		return MS_ETIMEOUT;
	case MUSIC_SPOTIFY_BAD_RESPONSE:
		return MS_EFORMAT;
	default:
		return MS_EUPSTREAM;
	}
}

static int ci_contains(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

void music_spotify_classify(int http_status, const char *body, size_t len,
			    const char *retry_after,
			    struct music_spotify_result *out)
{
	cJSON *root;
	const cJSON *e;
	int64_t ra;

	memset(out, 0, sizeof(*out));
	out->http_status = http_status;
	out->retry_after_s = -1;
	if (retry_after) {
		while (*retry_after == ' ')
			retry_after++;
		if (ms_parse_i64_n(retry_after, strcspn(retry_after, " \r\n"),
				   0, 86400 * 7, &ra) == MS_OK)
			out->retry_after_s = (int)ra;
	}
	root = http_status >= 400 ? json_parse(body, len) : NULL;
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (cJSON_IsObject(
		    e)) { /* Web API: {"error":{status,message,reason}} */
		json_str_cut(e, "reason", out->reason, sizeof(out->reason));
		json_str_cut(e, "message", out->message, sizeof(out->message));
	} else if (cJSON_IsString(e)) { /* accounts: OAuth 2.0 error */
		json_str_cut(root, "error", out->reason, sizeof(out->reason));
		json_str_cut(root, "error_description", out->message,
			     sizeof(out->message));
	}
	cJSON_Delete(root);

	if (http_status >= 200 && http_status < 300)
		out->kind = MUSIC_SPOTIFY_OK;
	else if (strcmp(out->reason, "invalid_grant") == 0)
		out->kind = MUSIC_SPOTIFY_INVALID_GRANT;
	else if (http_status == 401)
		out->kind = MUSIC_SPOTIFY_UNAUTHORIZED;
	else if (http_status == 429)
		out->kind = strcmp(out->reason, "QUOTA_EXCEEDED") == 0
				    ? MUSIC_SPOTIFY_QUOTA
				    : MUSIC_SPOTIFY_RATE_LIMITED;
	else if (http_status == 403 &&
		 (strcmp(out->reason, "PREMIUM_REQUIRED") == 0 ||
		  ci_contains(out->message, "premium")))
		out->kind = MUSIC_SPOTIFY_PREMIUM;
	else if (http_status == 403)
		out->kind = ci_contains(out->message, "restriction violated")
				    ? MUSIC_SPOTIFY_RESTRICTED
				    : MUSIC_SPOTIFY_FORBIDDEN;
	else if (http_status == 404)
		out->kind = strcmp(out->reason, "NO_ACTIVE_DEVICE") == 0 ||
					    ci_contains(out->message,
							"no active device")
				    ? MUSIC_SPOTIFY_NO_DEVICE
				    : MUSIC_SPOTIFY_NOT_FOUND;
	else if (http_status >= 500 && http_status < 600)
		out->kind = MUSIC_SPOTIFY_SERVER;
	else if (http_status >= 400 && http_status < 500)
		out->kind = MUSIC_SPOTIFY_BAD_REQUEST;
	else
		out->kind = MUSIC_SPOTIFY_BAD_RESPONSE;
}

int64_t music_spotify_backoff_ms(const struct music_spotify_result *r,
				 int failures)
{
	int64_t ra =
		r->retry_after_s >= 0 ? (int64_t)r->retry_after_s * 1000 : -1;
	int64_t exp;
	int shift = failures < 1 ? 0 : MS_MIN(failures - 1, 6);

	switch (r->kind) {
	case MUSIC_SPOTIFY_RATE_LIMITED:
		return ra >= 0 ? MS_MAX(MS_MIN(ra, 3600000), 1000) : 1000;
	case MUSIC_SPOTIFY_QUOTA:
		return MS_MAX(ra, 3600000);
	case MUSIC_SPOTIFY_SERVER:
	case MUSIC_SPOTIFY_TIMEOUT:
	case MUSIC_SPOTIFY_NETWORK:
		exp = MS_MIN((int64_t)1000 << shift, 60000);
		return MS_MAX(exp, MS_MIN(ra, 3600000));
	default:
		return 0;
	}
}

/* ---- Tokens ----------------------------------------------------------- */

int music_spotify_token_parse(const char *body, size_t len, int64_t now,
			      const char *old_refresh,
			      struct store_spotify_token *out, char *err,
			      size_t errlen)
{
	struct store_spotify_token t;
	cJSON *root = json_parse(body, len);
	const cJSON *v;
	char type[16];
	int64_t expires;
	int rc = MS_OK;

	memset(&t, 0, sizeof(t));
	if (!cJSON_IsObject(root)) {
		rc = ms_errf(err, errlen, MS_EFORMAT, "token answer: not JSON");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	if (!cJSON_IsString(v) || !v->valuestring || !v->valuestring[0]) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "token answer: no access_token");
		goto out;
	}
	if (!json_str(root, "access_token", t.access, sizeof(t.access))) {
		rc = ms_errf(err, errlen, MS_ELIMIT,
			     "token answer: access_token too long");
		goto out;
	}
	if (!json_str(root, "token_type", type, sizeof(type)) ||
	    strcasecmp(type, "Bearer") != 0) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "token answer: token_type is not Bearer");
		goto out;
	}
	expires = json_i64(root, "expires_in", -1);
	if (expires <= 0 || expires > 86400 * 30) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "token answer: bad expires_in");
		goto out;
	}
	t.expires_at = now + expires;
	t.issued_at = now;
	v = cJSON_GetObjectItemCaseSensitive(root, "refresh_token");
	if (cJSON_IsString(v) && v->valuestring && v->valuestring[0]) {
		if (!json_str(root, "refresh_token", t.refresh,
			      sizeof(t.refresh))) {
			rc = ms_errf(err, errlen, MS_ELIMIT,
				     "token answer: refresh_token too long");
			goto out;
		}
	} else if (old_refresh) {
		snprintf(t.refresh, sizeof(t.refresh), "%s", old_refresh);
	}
	json_str_cut(root, "scope", t.scope, sizeof(t.scope));
	*out = t;
out:
	cJSON_Delete(root);
	memset(&t, 0, sizeof(t));
	return rc;
}

int music_spotify_token_stale(const struct store_spotify_token *t, int64_t now)
{
	int64_t life = t->issued_at > 0 ? t->expires_at - t->issued_at : 0;
	int64_t margin = life > 0 ? MS_MIN(60, life / 2) : 60;

	return t->expires_at - now < margin;
}

/* ---- Data ------------------------------------------------------------- */

static int base62(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

int music_spotify_uri_valid(const char *s)
{
	return s && strncmp(s, "spotify:playlist:", 17) == 0 &&
	       base62(s + 17, 10, 30);
}

int music_spotify_device_id_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n > 95)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

/* One search item into p; 0 when it is not a usable playlist. */
static int playlist_read(const cJSON *it, struct music_spotify_playlist *p)
{
	const cJSON *owner, *images, *tracks;

	memset(p, 0, sizeof(*p));
	if (!cJSON_IsObject(it) || !json_str(it, "id", p->id, sizeof(p->id)) ||
	    !base62(p->id, 10, 30) || strncmp(p->id, "37i9dQZF1", 9) == 0)
		return 0;
	if (!json_str(it, "uri", p->uri, sizeof(p->uri)) ||
	    !music_spotify_uri_valid(p->uri) || strcmp(p->uri + 17, p->id) != 0)
		return 0;
	json_str_cut(it, "name", p->name, sizeof(p->name));
	if (!p->name[0])
		return 0;
	owner = cJSON_GetObjectItemCaseSensitive(it, "owner");
	if (cJSON_IsObject(owner))
		json_str_cut(owner, "display_name", p->owner, sizeof(p->owner));
	snprintf(p->url, sizeof(p->url), "https://open.spotify.com/playlist/%s",
		 p->id);
	images = cJSON_GetObjectItemCaseSensitive(it, "images");
	if (cJSON_IsArray(images) && cJSON_GetArraySize(images) > 0) {
		const cJSON *img = cJSON_GetArrayItem(images, 0);
		if (cJSON_IsObject(img) &&
		    json_str(img, "url", p->image, sizeof(p->image)) &&
		    strncmp(p->image, "https://", 8) != 0)
			memset(p->image, 0, sizeof(p->image));
	}
	tracks = cJSON_GetObjectItemCaseSensitive(it, "tracks");
	if (!cJSON_IsObject(tracks)) /* newer answers call it "items" */
		tracks = cJSON_GetObjectItemCaseSensitive(it, "items");
	p->tracks =
		cJSON_IsObject(tracks)
			? (int)MS_MIN(json_i64(tracks, "total", -1), 1 << 30)
			: -1;
	return p->tracks != 0; /* an empty playlist plays nothing */
}

int music_spotify_search_parse(const char *body, size_t len,
			       struct music_spotify_playlist *items, size_t max,
			       size_t *n, char *err, size_t errlen)
{
	cJSON *root = json_parse(body, len);
	const cJSON *pl, *arr, *it;
	size_t k = 0;
	int rc = MS_OK;

	pl = cJSON_GetObjectItemCaseSensitive(root, "playlists");
	arr = cJSON_GetObjectItemCaseSensitive(pl, "items");
	if (!cJSON_IsArray(arr)) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "search answer: no playlists.items array");
		goto out;
	}
	cJSON_ArrayForEach(it, arr)
	{
		size_t j;
		if (k >= max)
			break;
		if (!playlist_read(it, &items[k]))
			continue;
		for (j = 0; j < k; j++) /* the same playlist twice */
			if (strcmp(items[j].id, items[k].id) == 0)
				break;
		if (j == k)
			k++;
	}
	*n = k;
out:
	cJSON_Delete(root);
	return rc;
}

int music_spotify_devices_parse(const char *body, size_t len,
				struct music_spotify_device *devs, size_t max,
				size_t *n, char *err, size_t errlen)
{
	cJSON *root = json_parse(body, len);
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "devices");
	const cJSON *it;
	size_t k = 0;
	int rc = MS_OK;

	if (!cJSON_IsArray(arr)) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "devices answer: no devices array");
		goto out;
	}
	cJSON_ArrayForEach(it, arr)
	{
		struct music_spotify_device *d = &devs[k];
		if (k >= max)
			break;
		memset(d, 0, sizeof(*d));
		if (!cJSON_IsObject(it) ||
		    !json_str(it, "id", d->id, sizeof(d->id)) ||
		    !music_spotify_device_id_valid(d->id))
			continue;
		json_str_cut(it, "name", d->name, sizeof(d->name));
		json_str_cut(it, "type", d->type, sizeof(d->type));
		d->is_active = json_bool(it, "is_active");
		d->is_restricted = json_bool(it, "is_restricted");
		d->volume = (int)json_i64(it, "volume_percent", -1);
		if (d->volume < -1 || d->volume > 100)
			d->volume = -1;
		k++;
	}
	*n = k;
out:
	cJSON_Delete(root);
	return rc;
}

int music_spotify_now_parse(const char *body, size_t len,
			    struct music_spotify_now *out, char *err,
			    size_t errlen)
{
	struct music_spotify_now now;
	cJSON *root;
	const cJSON *item, *ctx, *artists, *a;
	int rc = MS_OK;

	memset(&now, 0, sizeof(now));
	if (len == 0) { /* 204: nothing playing */
		*out = now;
		return MS_OK;
	}
	root = json_parse(body, len);
	if (!cJSON_IsObject(root)) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "currently-playing answer: not a JSON object");
		goto out;
	}
	now.is_playing = json_bool(root, "is_playing");
	now.progress_ms = json_i64(root, "progress_ms", 0);
	ctx = cJSON_GetObjectItemCaseSensitive(root, "context");
	if (cJSON_IsObject(ctx))
		json_str(ctx, "uri", now.context_uri, sizeof(now.context_uri));
	item = cJSON_GetObjectItemCaseSensitive(root, "item");
	if (cJSON_IsObject(item)) {
		size_t used = 0;
		now.has_item = 1;
		json_str_cut(item, "name", now.track, sizeof(now.track));
		json_str(item, "uri", now.uri, sizeof(now.uri));
		now.duration_ms = json_i64(item, "duration_ms", 0);
		artists = cJSON_GetObjectItemCaseSensitive(item, "artists");
		cJSON_ArrayForEach(a, artists)
		{
			char name[96];
			int w;
			if (!cJSON_IsObject(a) ||
			    !json_str(a, "name", name, sizeof(name)))
				continue;
			w = snprintf(now.artists + used,
				     sizeof(now.artists) - used, "%s%s",
				     used ? ", " : "", name);
			if (w < 0 || (size_t)w >= sizeof(now.artists) - used)
				break;
			used += (size_t)w;
		}
	}
	*out = now;
out:
	cJSON_Delete(root);
	return rc;
}

int music_spotify_playlists_json(const struct music_spotify_playlist *items,
				 size_t n, struct ms_buf *out)
{
	struct ms_json j;

	ms_json_init(&j, out);
	ms_json_obj_open(&j, NULL);
	ms_json_obj_open(&j, "playlists");
	ms_json_arr_open(&j, "items");
	for (size_t i = 0; i < n; i++) {
		const struct music_spotify_playlist *p = &items[i];

		ms_json_obj_open(&j, NULL);
		ms_json_str(&j, "id", p->id);
		ms_json_str(&j, "uri", p->uri);
		ms_json_str(&j, "name", p->name);
		ms_json_obj_open(&j, "owner");
		ms_json_str(&j, "display_name", p->owner);
		ms_json_obj_close(&j);
		ms_json_arr_open(&j, "images");
		ms_json_obj_open(&j, NULL);
		ms_json_str(&j, "url", p->image);
		ms_json_obj_close(&j);
		ms_json_arr_close(&j);
		ms_json_obj_open(&j, "tracks");
		ms_json_int(&j, "total", p->tracks);
		ms_json_obj_close(&j);
		ms_json_obj_close(&j);
	}
	ms_json_arr_close(&j);
	ms_json_obj_close(&j);
	ms_json_obj_close(&j);
	return ms_json_finish(&j);
}
