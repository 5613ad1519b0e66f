/* spotify_http.c - the wire half of the Spotify client on libcurl's easy
 * API: one handle per thread, http/https only, no redirects, connect and
 * total timeouts, response bodies capped in the write callback. Token
 * requests go to the accounts service, the rest to the Web API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "moodsync/spotify.h"

struct music_spotify_client {
	struct music_spotify_config cfg; /* a copy, immutable */
	CURL *curl;
	struct ms_buf body;   /* last response body */
	char retry_after[32]; /* last Retry-After header value */
};

int music_spotify_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? MS_OK
								 : MS_EIO;
}

int music_spotify_client_new(const struct music_spotify_config *cfg,
			     struct music_spotify_client **out, char *err,
			     size_t errlen)
{
	struct music_spotify_client *c = calloc(1, sizeof(*c));

	if (!c)
		return ms_errf(err, errlen, MS_ENOMEM,
			       "spotify: out of memory");
	c->cfg = *cfg;
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return ms_errf(err, errlen, MS_ENOMEM,
			       "spotify: curl init failed");
	}
	ms_buf_init(&c->body, MUSIC_SPOTIFY_MAX_BODY);
	*out = c;
	return MS_OK;
}

void music_spotify_client_free(struct music_spotify_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	ms_buf_release(&c->body);
	free(c);
}

/* Appends to the capped body; returning less than asked makes curl stop
 * with CURLE_WRITE_ERROR, which is how an oversized answer ends. */
static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct music_spotify_client *c = ud;
	size_t n = size * nmemb;

	return ms_buf_append(&c->body, p, n) == MS_OK ? n : 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct music_spotify_client *c = ud;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";

	if (n > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		size_t vlen = MS_MIN(n - (sizeof(name) - 1),
				     sizeof(c->retry_after) - 1);
		memcpy(c->retry_after, p + sizeof(name) - 1, vlen);
		c->retry_after[vlen] = '\0';
	}
	return n;
}

/* One request. `body` (may be NULL) is sent with `ctype`; `auth` is the full
 * Authorization header value or NULL. Fills res from the answer; the body
 * stays in c->body. */
static int http_do(struct music_spotify_client *c, const char *method,
		   const char *url, const char *ctype, const char *body,
		   const char *auth, struct music_spotify_result *res)
{
	struct curl_slist *hdrs = NULL, *h;
	struct ms_buf line;
	long status = 0;
	CURLcode cc;
	int rc = MS_OK;

	ms_buf_reset(&c->body);
	c->retry_after[0] = '\0';
	ms_buf_init(&line, 4096);
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)c->cfg.timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)c->cfg.connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "MoodSync/1.0");
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(body));
	} else if (strcmp(method, "GET") != 0) {
		/* PUT/POST without a body still says Content-Length: 0 */
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (ctype && ms_buf_printf(&line, "Content-Type: %s", ctype) == MS_OK &&
	    (h = curl_slist_append(hdrs, line.data)))
		hdrs = h;
	ms_buf_reset(&line);
	if (auth && ms_buf_printf(&line, "Authorization: %s", auth) == MS_OK &&
	    (h = curl_slist_append(hdrs, line.data)))
		hdrs = h;
	if ((h = curl_slist_append(hdrs, "Expect:")))
		hdrs = h;
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(c->curl);
	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		res->kind = MUSIC_SPOTIFY_TIMEOUT;
	} else if (cc == CURLE_WRITE_ERROR) {
		res->kind = MUSIC_SPOTIFY_BAD_RESPONSE;
		snprintf(res->message, sizeof(res->message),
			 "answer larger than %u bytes", MUSIC_SPOTIFY_MAX_BODY);
	} else if (cc != CURLE_OK) {
		res->kind = MUSIC_SPOTIFY_NETWORK;
		snprintf(res->message, sizeof(res->message), "%s",
			 curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
		music_spotify_classify(
			(int)status, c->body.data, c->body.len,
			c->retry_after[0] ? c->retry_after : NULL, res);
	}
	rc = music_spotify_kind_err(res->kind);
	/* the Authorization line held a secret */
	if (line.data)
		memset(line.data, 0, line.cap);
	ms_buf_release(&line);
	for (h = hdrs; h; h = h->next)
		if (h->data)
			memset(h->data, 0, strlen(h->data));
	curl_slist_free_all(hdrs);
	return rc;
}

/* POST form to /api/token; the client secret, when set, goes in HTTP Basic
 * (confidential client), otherwise client_id in the form (PKCE). */
static int token_request(struct music_spotify_client *c, struct ms_buf *form,
			 const char *old_refresh,
			 struct store_spotify_token *tok,
			 struct music_spotify_result *res)
{
	struct ms_buf url, basic;
	char auth[416], perr[MS_ERRLEN];
	int rc;

	ms_buf_init(&url, 1024);
	ms_buf_init(&basic, 512);
	rc = ms_buf_printf(&url, "%s/api/token", c->cfg.accounts_url);
	if (!rc && c->cfg.client_secret[0]) {
		char b64[400];
		size_t i, n;
		rc = ms_buf_printf(&basic, "%s:%s", c->cfg.client_id,
				   c->cfg.client_secret);
		n = rc ? 0
		       : music_base64url((const uint8_t *)basic.data, basic.len,
					 b64, sizeof(b64));
		/* Basic wants standard base64 with padding */
		for (i = 0; i < n; i++)
			b64[i] = b64[i] == '-'	 ? '+'
				 : b64[i] == '_' ? '/'
						 : b64[i];
		while (n && n % 4 && n + 1 < sizeof(b64))
			b64[n++] = '=';
		b64[n] = '\0';
		snprintf(auth, sizeof(auth), "Basic %s", b64);
		memset(b64, 0, sizeof(b64));
	}
	if (!rc && !c->cfg.client_secret[0]) {
		rc = ms_buf_puts(form, "&client_id=");
		if (!rc)
			rc = music_url_encode(form, c->cfg.client_id);
	}
	if (rc) {
		memset(res, 0, sizeof(*res));
		res->kind = MUSIC_SPOTIFY_BAD_REQUEST;
		goto out;
	}
	rc = http_do(c, "POST", url.data, "application/x-www-form-urlencoded",
		     form->data, c->cfg.client_secret[0] ? auth : NULL, res);
	if (rc)
		goto out;
	rc = music_spotify_token_parse(c->body.data, c->body.len,
				       ms_unix_time(), old_refresh, tok, perr,
				       sizeof(perr));
	if (rc) {
		res->kind = MUSIC_SPOTIFY_BAD_RESPONSE;
		snprintf(res->message, sizeof(res->message), "%.190s", perr);
		rc = music_spotify_kind_err(res->kind);
	}
out:
	memset(auth, 0, sizeof(auth));
	if (basic.data)
		memset(basic.data, 0, basic.cap);
	if (c->body.data) /* the answer held tokens */
		memset(c->body.data, 0, c->body.cap);
	ms_buf_release(&basic);
	ms_buf_release(&url);
	return rc;
}

/* Sends a token request's form unless building it failed (build_rc: the
 * form would not fit, MS_EINVAL); the form is wiped and released. */
static int token_form_send(struct music_spotify_client *c, struct ms_buf *form,
			   int build_rc, const char *refresh_token,
			   struct store_spotify_token *tok,
			   struct music_spotify_result *res)
{
	int rc;

	if (build_rc) {
		memset(res, 0, sizeof(*res));
		res->kind = MUSIC_SPOTIFY_BAD_REQUEST;
		snprintf(res->message, sizeof(res->message),
			 "token request too long");
		rc = MS_EINVAL;
	} else {
		rc = token_request(c, form, refresh_token, tok, res);
	}
	if (form->data)
		memset(form->data, 0, form->cap);
	ms_buf_release(form);
	return rc;
}

int music_spotify_exchange_code(struct music_spotify_client *c,
				const char *code, const char *verifier,
				const char *redirect_uri,
				struct store_spotify_token *tok,
				struct music_spotify_result *res)
{
	struct ms_buf form;
	int rc;

	ms_buf_init(&form, 8192);
	rc = ms_buf_puts(&form, "grant_type=authorization_code&code=");
	if (!rc)
		rc = music_url_encode(&form, code);
	if (!rc)
		rc = ms_buf_puts(&form, "&redirect_uri=");
	if (!rc)
		rc = music_url_encode(&form, redirect_uri
						     ? redirect_uri
						     : c->cfg.redirect_uri);
	if (!rc)
		rc = ms_buf_puts(&form, "&code_verifier=");
	if (!rc)
		rc = music_url_encode(&form, verifier);
	return token_form_send(c, &form, rc, NULL, tok, res);
}

int music_spotify_refresh(struct music_spotify_client *c,
			  const char *refresh_token,
			  struct store_spotify_token *tok,
			  struct music_spotify_result *res)
{
	struct ms_buf form;
	int rc;

	ms_buf_init(&form, 8192);
	rc = ms_buf_puts(&form, "grant_type=refresh_token&refresh_token=");
	if (!rc)
		rc = music_url_encode(&form, refresh_token);
	return token_form_send(c, &form, rc, refresh_token, tok, res);
}

/* A Web API call: method, path (with query), optional JSON body. */
static int api_call(struct music_spotify_client *c, const char *method,
		    const char *path, const char *json, const char *access,
		    struct music_spotify_result *res)
{
	struct ms_buf url, auth;
	int rc;

	ms_buf_init(&url, 4096);
	ms_buf_init(&auth, 2048);
	rc = ms_buf_printf(&url, "%s%s", c->cfg.api_url, path);
	if (!rc)
		rc = ms_buf_printf(&auth, "Bearer %s", access);
	if (rc) {
		memset(res, 0, sizeof(*res));
		res->kind = MUSIC_SPOTIFY_BAD_REQUEST;
		res->retry_after_s = -1;
	} else {
		rc = http_do(c, method, url.data,
			     json ? "application/json" : NULL, json, auth.data,
			     res);
	}
	if (auth.data)
		memset(auth.data, 0, auth.cap);
	ms_buf_release(&auth);
	ms_buf_release(&url);
	return rc;
}

/* Turns a parse failure after a 2xx into BAD_RESPONSE. */
static int parse_failed(struct music_spotify_result *res, const char *why)
{
	res->kind = MUSIC_SPOTIFY_BAD_RESPONSE;
	snprintf(res->message, sizeof(res->message), "%.190s", why);
	return music_spotify_kind_err(res->kind);
}

int music_spotify_search(struct music_spotify_client *c, const char *access,
			 const char *query, int limit,
			 struct music_spotify_playlist *items, size_t max,
			 size_t *n, struct music_spotify_result *res)
{
	struct ms_buf path;
	char perr[MS_ERRLEN];
	int rc;

	limit = MS_MAX(1, MS_MIN(limit, MUSIC_SPOTIFY_MAX_RESULTS));
	ms_buf_init(&path, 2048);
	rc = ms_buf_puts(&path, "/v1/search?type=playlist&q=");
	if (!rc)
		rc = music_url_encode(&path, query);
	if (!rc)
		rc = ms_buf_printf(&path, "&limit=%d", limit);
	if (rc) {
		memset(res, 0, sizeof(*res));
		res->kind = MUSIC_SPOTIFY_BAD_REQUEST;
		res->retry_after_s = -1;
		rc = MS_EINVAL;
		goto out;
	}
	rc = api_call(c, "GET", path.data, NULL, access, res);
	if (rc)
		goto out;
	if (music_spotify_search_parse(c->body.data, c->body.len, items, max, n,
				       perr, sizeof(perr)))
		rc = parse_failed(res, perr);
out:
	ms_buf_release(&path);
	return rc;
}

int music_spotify_devices(struct music_spotify_client *c, const char *access,
			  struct music_spotify_device *devs, size_t max,
			  size_t *n, struct music_spotify_result *res)
{
	char perr[MS_ERRLEN];
	int rc = api_call(c, "GET", "/v1/me/player/devices", NULL, access, res);

	if (!rc && music_spotify_devices_parse(c->body.data, c->body.len, devs,
					       max, n, perr, sizeof(perr)))
		rc = parse_failed(res, perr);
	return rc;
}

/* "/v1/me/player/<verb>[?device_id=<id>]" into path. */
static int player_path(struct ms_buf *path, const char *verb,
		       const char *device_id)
{
	int rc = ms_buf_printf(path, "/v1/me/player/%s", verb);

	if (!rc && device_id && device_id[0]) {
		rc = ms_buf_puts(path, "?device_id=");
		if (!rc)
			rc = music_url_encode(path, device_id);
	}
	return rc;
}

static int player_cmd(struct music_spotify_client *c, const char *access,
		      const char *method, const char *verb,
		      const char *device_id, const char *json,
		      struct music_spotify_result *res)
{
	struct ms_buf path;
	int rc;

	ms_buf_init(&path, 1024);
	rc = player_path(&path, verb, device_id);
	if (rc) {
		memset(res, 0, sizeof(*res));
		res->kind = MUSIC_SPOTIFY_BAD_REQUEST;
		res->retry_after_s = -1;
		rc = MS_EINVAL;
	} else {
		rc = api_call(c, method, path.data, json, access, res);
	}
	ms_buf_release(&path);
	return rc;
}

int music_spotify_play(struct music_spotify_client *c, const char *access,
		       const char *device_id, const char *context_uri,
		       struct music_spotify_result *res)
{
	struct ms_buf json;
	int rc = MS_OK;

	ms_buf_init(&json, 512);
	if (context_uri) {
		rc = ms_buf_puts(&json, "{\"context_uri\":");
		if (!rc)
			rc = ms_buf_json_str(&json, context_uri);
		if (!rc)
			rc = ms_buf_puts(&json, "}");
	}
	if (rc) {
		memset(res, 0, sizeof(*res));
		res->kind = MUSIC_SPOTIFY_BAD_REQUEST;
		res->retry_after_s = -1;
		rc = MS_EINVAL;
	} else {
		rc = player_cmd(c, access, "PUT", "play", device_id,
				context_uri ? json.data : NULL, res);
	}
	ms_buf_release(&json);
	return rc;
}

int music_spotify_pause(struct music_spotify_client *c, const char *access,
			const char *device_id, struct music_spotify_result *res)
{
	return player_cmd(c, access, "PUT", "pause", device_id, NULL, res);
}

int music_spotify_next(struct music_spotify_client *c, const char *access,
		       const char *device_id, struct music_spotify_result *res)
{
	return player_cmd(c, access, "POST", "next", device_id, NULL, res);
}

int music_spotify_now_playing(struct music_spotify_client *c,
			      const char *access, struct music_spotify_now *now,
			      struct music_spotify_result *res)
{
	char perr[MS_ERRLEN];
	int rc = api_call(c, "GET", "/v1/me/player/currently-playing", NULL,
			  access, res);

	if (!rc &&
	    music_spotify_now_parse(c->body.data,
				    res->http_status == 204 ? 0 : c->body.len,
				    now, perr, sizeof(perr)))
		rc = parse_failed(res, perr);
	return rc;
}
