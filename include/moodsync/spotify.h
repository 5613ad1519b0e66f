/* spotify.h - the Spotify Web API client of the music component: config
 * (env / .env), OAuth 2.0 Authorization Code with PKCE, token exchange and
 * refresh, playlist search, devices and playback control, and the rules for
 * reading Spotify's answers (error kinds, Retry-After, back-off). No HTTP
 * server, no SQLite here: the Spotify service's worker (spotify_service.h)
 * drives this, src/store keeps the tokens (struct store_spotify_token).
 * Depends on libcurl, cJSON, common and store's token type. */
#ifndef MOODSYNC_SPOTIFY_H
#define MOODSYNC_SPOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"
#include "moodsync/store.h"

/* The scopes playback control needs, space separated as /authorize wants. */
#define MUSIC_SPOTIFY_SCOPES                                                   \
	"user-read-playback-state user-modify-playback-state "                 \
	"user-read-currently-playing"
/* Development Mode caps search at 10 results per type. */
#define MUSIC_SPOTIFY_MAX_RESULTS 10
#define MUSIC_SPOTIFY_MAX_DEVICES 16
/* Hard caps on what we accept from outside. */
#define MUSIC_SPOTIFY_MAX_BODY (1u << 20) /* response bytes */
#define MUSIC_DOTENV_MAX (64u * 1024u)	  /* .env file bytes */

/* ---- Configuration ---------------------------------------------------- */
struct music_spotify_config {
	char client_id[128];	 /* "" when Spotify is not configured */
	char client_secret[128]; /* "" for PKCE only (the normal case) */
	char redirect_uri[256];	 /* registered in the dashboard */
	int redirect_explicit;	 /* 1: redirect_uri came from env/.env */
	char accounts_url[256];	 /* no trailing '/' */
	char api_url[256];	 /* no trailing '/' */
	int timeout_ms;		 /* whole request, milliseconds */
	int connect_timeout_ms;	 /* TCP + TLS connect, milliseconds */
};

/* Fills `cfg` from the environment, then from the .env file at
 * `dotenv_path` (may be NULL or absent) for keys the environment does not
 * set (a variable set to "" counts as set: it switches that key off):
 * MOODSYNC_SPOTIFY_CLIENT_ID, _CLIENT_SECRET, _REDIRECT_URI (default
 * http://127.0.0.1:5000/callback), _ACCOUNTS_URL
 * (https://accounts.spotify.com), _API_URL (https://api.spotify.com),
 * _TIMEOUT_MS (8000). Returns MS_OK (client_id may still be "": Spotify off),
 * MS_EFORMAT/MS_ELIMIT/MS_EINVAL for a malformed .env or value, with the reason
 * in err. */
int music_spotify_config_load(struct music_spotify_config *cfg,
			      const char *dotenv_path, char *err,
			      size_t errlen);

/* Parses .env text: `KEY=VALUE` lines, optional `export `, blank lines and
 * `#` comments, values optionally in matching '' or "" quotes, unquoted
 * values end at " #". Calls cb(ctx, key, value) per entry (strings valid
 * for the call only); a non-zero return from cb stops and is returned.
 * MS_EFORMAT names the bad line in err; MS_ELIMIT past MUSIC_DOTENV_MAX or
 * a 4 KiB line. */
int music_dotenv_parse(const char *text, size_t len,
		       int (*cb)(void *ctx, const char *key, const char *val),
		       void *ctx, char *err, size_t errlen);

/* ---- PKCE and encoding ------------------------------------------------ */
/* SHA-256 (FIPS 180-4) of `len` bytes. */
void music_sha256(const void *data, size_t len, uint8_t out[32]);
/* Base64url without padding (RFC 4648 section 5). Writes a terminated
 * string; returns its length, or 0 when `outlen` is too small. */
size_t music_base64url(const uint8_t *in, size_t len, char *out, size_t outlen);
/* `nbytes` (<= 96) bytes from getrandom, base64url-encoded into out.
 * MS_EIO when the kernel refuses, MS_ELIMIT when out is too small. */
int music_random_string(size_t nbytes, char *out, size_t outlen);
/* S256 challenge of a verifier: base64url(sha256(verifier)), 43 chars.
 * MS_EINVAL unless the verifier is 43..128 chars of [A-Za-z0-9-._~]. */
int music_pkce_challenge(const char *verifier, char out[44]);
/* Appends `s` percent-encoded (RFC 3986 unreserved kept). */
int music_url_encode(struct ms_buf *b, const char *s);
/* The accounts /authorize URL for this state and challenge. */
int music_spotify_authorize_url(const struct music_spotify_config *cfg,
				const char *state, const char *challenge,
				struct ms_buf *out);

/* ---- Spotify's answers ------------------------------------------------ */
enum music_spotify_kind {
	MUSIC_SPOTIFY_OK,
	MUSIC_SPOTIFY_UNAUTHORIZED,  /* 401: access token expired/revoked */
	MUSIC_SPOTIFY_INVALID_GRANT, /* code/refresh token rejected: sign in */
	MUSIC_SPOTIFY_RATE_LIMITED,  /* 429, a burst: wait Retry-After */
	MUSIC_SPOTIFY_QUOTA,	     /* 429 QUOTA_EXCEEDED: stop for long */
	MUSIC_SPOTIFY_PREMIUM,	     /* 403 PREMIUM_REQUIRED */
	MUSIC_SPOTIFY_FORBIDDEN,     /* other 403 (e.g. not allow-listed) */
	MUSIC_SPOTIFY_RESTRICTED,    /* 403 "Restriction violated": not in
				      * this playback state (pause when
				      * nothing plays) */
	MUSIC_SPOTIFY_NO_DEVICE,     /* 404 NO_ACTIVE_DEVICE */
	MUSIC_SPOTIFY_NOT_FOUND,     /* other 404 */
	MUSIC_SPOTIFY_BAD_REQUEST,   /* other 4xx */
	MUSIC_SPOTIFY_SERVER,	     /* 5xx */
	MUSIC_SPOTIFY_TIMEOUT,	     /* no answer in time */
	MUSIC_SPOTIFY_NETWORK,	     /* could not connect / transfer */
	MUSIC_SPOTIFY_BAD_RESPONSE,  /* an answer we cannot read */
	MUSIC_SPOTIFY_KINDS
};

struct music_spotify_result {
	int http_status; /* 0 when no HTTP answer came */
	enum music_spotify_kind kind;
	int retry_after_s; /* Retry-After seconds, -1 when absent */
	char reason[48];   /* error.reason or the OAuth "error" */
	char message[192]; /* error.message / error_description */
};

/* Reads an HTTP answer into `out`: the kind from the status and the error
 * body (Web API {"error":{"status","message","reason"}} or OAuth
 * {"error","error_description"}), `retry_after` is the header's value (may
 * be NULL). Never fails: an unreadable body keeps the status's kind. */
void music_spotify_classify(int http_status, const char *body, size_t len,
			    const char *retry_after,
			    struct music_spotify_result *out);
/* Stable code for JSON ("rate_limited"), and a sentence for the user. */
const char *music_spotify_kind_code(enum music_spotify_kind k);
const char *music_spotify_kind_message(enum music_spotify_kind k);
/* Maps a kind to an ms_err (MS_OK, MS_EAUTH, MS_EBUSY, MS_ETIMEOUT,
 * MS_ENOTFOUND, MS_EUPSTREAM...). */
int music_spotify_kind_err(enum music_spotify_kind k);
/* How long every call to Spotify should pause after this answer, in ms:
 * 429 honours Retry-After (1 s when absent, capped at an hour), a quota
 * stops calls for max(Retry-After, 1 h), 5xx/timeouts/network back off
 * exponentially from 1 s to 60 s with `failures` (consecutive, >= 1) unless
 * Retry-After says longer; everything else 0. */
int64_t music_spotify_backoff_ms(const struct music_spotify_result *r,
				 int failures);

/* ---- Tokens (struct store_spotify_token, moodsync/store.h) ------------- */

/* Parses a /api/token answer. Keeps `old_refresh` (may be NULL) when the
 * answer carries no new refresh_token. MS_EFORMAT if access_token,
 * token_type Bearer or expires_in is missing, MS_ELIMIT if a field is too
 * long. */
int music_spotify_token_parse(const char *body, size_t len, int64_t now,
			      const char *old_refresh,
			      struct store_spotify_token *out, char *err,
			      size_t errlen);
/* 1 when the access token expires within min(60 s, half its lifetime)
 * of `now` (60 s when the lifetime is unknown), so a short-lived token is
 * not refreshed before every call. */
int music_spotify_token_stale(const struct store_spotify_token *t, int64_t now);

/* ---- Data ------------------------------------------------------------- */
struct music_spotify_playlist {
	char id[32];  /* base62 id */
	char uri[64]; /* "spotify:playlist:<id>" */
	char name[160];
	char owner[96];	 /* owner display name, may be "" */
	char url[96];	 /* https://open.spotify.com/playlist/<id> */
	char image[256]; /* cover URL, may be "" */
	int tracks;	 /* track count, -1 unknown */
};

struct music_spotify_device {
	char id[96];
	char name[128];
	char type[32]; /* "Computer", "Smartphone", ... */
	int is_active;
	int is_restricted; /* 1: no Web API control */
	int volume;	   /* percent, -1 unknown */
};

struct music_spotify_now {
	int has_item; /* 0: nothing playing (204) */
	int is_playing;
	char track[160];
	char artists[192]; /* comma separated */
	char uri[64];
	char context_uri[96];
	int64_t progress_ms, duration_ms;
};

/* Parses GET /v1/search?type=playlist: drops null items, items without a
 * valid id/uri/name, and Spotify editorial ids (37i9dQZF1...: 404 for new
 * apps). Writes up to `max` into items, *n the count. MS_EFORMAT when the
 * body is not a search answer. */
int music_spotify_search_parse(const char *body, size_t len,
			       struct music_spotify_playlist *items, size_t max,
			       size_t *n, char *err, size_t errlen);
/* Parses GET /v1/me/player/devices, skipping devices without an id. */
int music_spotify_devices_parse(const char *body, size_t len,
				struct music_spotify_device *devs, size_t max,
				size_t *n, char *err, size_t errlen);
/* Parses GET /v1/me/player/currently-playing; len 0 means 204 (idle). */
int music_spotify_now_parse(const char *body, size_t len,
			    struct music_spotify_now *out, char *err,
			    size_t errlen);
/* Writes items back in the search answer's shape ({"playlists":{"items":
 * [...]}}), so a cached list reads back through music_spotify_search_parse. */
int music_spotify_playlists_json(const struct music_spotify_playlist *items,
				 size_t n, struct ms_buf *out);
/* 1 when `s` is a playable "spotify:playlist:<base62>" URI. */
int music_spotify_uri_valid(const char *s);
/* 1 when `s` is a plausible device id (1..95 chars of [A-Za-z0-9_-]). */
int music_spotify_device_id_valid(const char *s);

/* ---- HTTP client ------------------------------------------------------
 * One client per thread (it owns a curl easy handle): not thread-safe. Each
 * call fills `res` (kind MUSIC_SPOTIFY_OK on success) and returns
 * music_spotify_kind_err(res->kind); outputs are written only on success.
 * Only http/https, no redirects followed, bodies capped at
 * MUSIC_SPOTIFY_MAX_BODY, timeouts from the config. */
struct music_spotify_client;

/* Call music_spotify_global_init() once from main before threads start. */
int music_spotify_global_init(void);
int music_spotify_client_new(const struct music_spotify_config *cfg,
			     struct music_spotify_client **out, char *err,
			     size_t errlen);
void music_spotify_client_free(struct music_spotify_client *c);

/* POST /api/token grant_type=authorization_code with the PKCE verifier;
 * `redirect_uri` must be the one /authorize got (NULL: the config's). */
int music_spotify_exchange_code(struct music_spotify_client *c,
				const char *code, const char *verifier,
				const char *redirect_uri,
				struct store_spotify_token *tok,
				struct music_spotify_result *res);
/* POST /api/token grant_type=refresh_token. Keeps the old refresh token
 * when Spotify sends none; INVALID_GRANT means sign in again. */
int music_spotify_refresh(struct music_spotify_client *c,
			  const char *refresh_token,
			  struct store_spotify_token *tok,
			  struct music_spotify_result *res);
/* GET /v1/search?type=playlist&q=<query>&limit=<1..10>. */
int music_spotify_search(struct music_spotify_client *c, const char *access,
			 const char *query, int limit,
			 struct music_spotify_playlist *items, size_t max,
			 size_t *n, struct music_spotify_result *res);
int music_spotify_devices(struct music_spotify_client *c, const char *access,
			  struct music_spotify_device *devs, size_t max,
			  size_t *n, struct music_spotify_result *res);
/* PUT /v1/me/player/play[?device_id=]: with `context_uri` starts that
 * playlist, with NULL resumes. device_id may be NULL (active device). */
int music_spotify_play(struct music_spotify_client *c, const char *access,
		       const char *device_id, const char *context_uri,
		       struct music_spotify_result *res);
int music_spotify_pause(struct music_spotify_client *c, const char *access,
			const char *device_id,
			struct music_spotify_result *res);
int music_spotify_next(struct music_spotify_client *c, const char *access,
		       const char *device_id, struct music_spotify_result *res);
int music_spotify_now_playing(struct music_spotify_client *c,
			      const char *access, struct music_spotify_now *now,
			      struct music_spotify_result *res);

#endif
