/* http.h - the server's internal contract for route handlers: requests,
 * replies, sessions, the routing table and module hooks. The core routes
 * (src/server/api.c) and the Spotify routes (src/server/routes_spotify.c)
 * are written against this header only; libmicrohttpd stays inside
 * src/server/http.c.
 *
 * The contract, short version:
 *  - Add a route: declare `int my_handler(struct srv_req *req);` in your
 *    own header (e.g. src/server/routes_spotify.h), include it from
 *    src/server/routes.c and add a row {"GET", "/api/x", my_handler,
 *    max_body, NULL} to srv_routes[] there.
 *  - A handler runs on an HTTP worker thread. It either sends exactly one
 *    reply (srv_reply_doc, srv_reply_json, srv_reply_err,
 *    srv_reply_redirect, srv_reply_bytes) and returns MS_OK, or returns a
 *    negative error code after srv_req_fail() (or with no message) and the
 *    dispatcher answers through srv_reply_err: {"error": "...", "code":
 *    "..."} with srv_http_status(err). Build JSON with the ms_json writer
 *    (moodsync/common.h). Never block on Spotify in a handler that the
 *    page polls; never block the frame path.
 *  - Every routed request but /healthz has a session (cookie "ms_sid",
 *    created by the page's first API call, at a bounded rate: 429 past
 *    it); static files and /healthz have none (srv_req_session_id() is
 *    ""). The id is stable for a browser and across restarts for sessions
 *    with saved settings or a sign-in (srv_session_keep); use it as the
 *    key of per-user rows.
 *    srv_session_info_get() copies settings and the smoothed mood.
 *    srv_session_kv_set/get hold small per-session strings in memory
 *    (PKCE verifier, OAuth state).
 *  - Module hooks: add a row to srv_modules[] in routes.c. start() runs
 *    once before the server listens, stop() after it stopped.
 *    mood_changed() runs on one background thread (never a request
 *    thread) each time a session's stable (hysteresis) mood changes, in
 *    order; it may block (e.g. call Spotify) without slowing frames.
 *  - The SQLite store: srv_app_store(app) (include moodsync/store.h); the
 *    connection is in serialized mode and may be used from any thread.
 */
#ifndef MOODSYNC_SERVER_HTTP_H
#define MOODSYNC_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"

struct srv_app;
struct srv_req;
struct store;
struct music_player;
struct music_spotify_svc;

/* ---- Status codes and error codes -------------------------------------- */

/* Error codes only the HTTP layer uses, next to enum ms_err's. */
enum srv_err {
	SRV_EMETHOD = -100,    /* the path exists, not with this method */
	SRV_ERATE = -101,      /* the client sends faster than allowed */
	SRV_EHOST = -102,      /* a Host the server does not answer for */
	SRV_EFORBIDDEN = -103, /* refused whoever asks (cross-site) */
	SRV_ERANGE = -104,     /* a byte range past the end of the file */
};

/* Success statuses a handler may send. */
#define SRV_HTTP_OK 200
#define SRV_HTTP_ACCEPTED 202	  /* queued for a worker */
#define SRV_HTTP_FOUND 302	  /* redirect (srv_reply_redirect) */
#define SRV_HTTP_PARTIAL 206	  /* one byte range (the audio route) */
#define SRV_HTTP_NOT_MODIFIED 304 /* the client's copy is current */

/* The one mapping from an error code to an HTTP status (MS_OK -> 200,
 * MS_EINVAL/MS_EFORMAT -> 400, MS_EAUTH -> 401, MS_ENOTFOUND -> 404,
 * SRV_EFORBIDDEN -> 403, SRV_EMETHOD -> 405, MS_ELIMIT -> 413,
 * MS_EUNSUPPORTED -> 415, SRV_ERANGE -> 416, SRV_EHOST -> 421,
 * SRV_ERATE -> 429, MS_EUPSTREAM -> 502, MS_EBUSY -> 503,
 * MS_ETIMEOUT -> 504, anything else -> 500). */
int srv_http_status(int err);
/* The default snake_case "code" of an error body for `err`
 * ("bad_request", "not_found", "too_large", "rate_limited", "busy",
 * "internal", ...; see docs/api.md). */
const char *srv_err_code(int err);

/* ---- Requests (all borrowed; valid during the handler call) ------------ */

const char *srv_req_method(const struct srv_req *req); /* "GET" */
const char *srv_req_path(const struct srv_req *req);   /* "/api/mood" */
/* A query-string parameter (already URL-decoded), NULL when absent. */
const char *srv_req_query(struct srv_req *req, const char *key);
/* A request header (case-insensitive name), NULL when absent. */
const char *srv_req_header(struct srv_req *req, const char *name);
/* A request cookie, NULL when absent. */
const char *srv_req_cookie(struct srv_req *req, const char *name);
/* The request body (NUL-terminated; `*len` excludes the NUL). Bodies are
 * only read for routes whose row allows one (max_body > 0). */
const uint8_t *srv_req_body(const struct srv_req *req, size_t *len);
struct srv_app *srv_req_app(const struct srv_req *req);

/* ---- Replies ------------------------------------------------------------
 * Each returns MS_OK or MS_ENOMEM. At most one reply per request; the
 * session cookie, security headers and "Cache-Control: no-store" (for
 * non-static replies) are added by the server. */

/* Sends `len` bytes of JSON (copied) with Content-Type application/json;
 * `status` is SRV_HTTP_OK or SRV_HTTP_ACCEPTED. */
int srv_reply_json(struct srv_req *req, int status, const char *json,
		   size_t len);
/* Finishes the document `j` wrote and sends it with `status` (as
 * srv_reply_json). When the writer failed, sends nothing and returns its
 * error, so the dispatcher answers 500. Releases the writer's buffer
 * either way. */
int srv_reply_doc(struct srv_req *req, int status, struct ms_json *j);
/* The one error reply: status srv_http_status(err) and the body
 * {"error": "<formatted message>", "code": code} where `code` NULL means
 * srv_err_code(err). retry_after_s > 0 adds the Retry-After header and
 * "retry_after_s": n to the body (the only place either is set). */
int srv_reply_err(struct srv_req *req, int err, const char *code,
		  int retry_after_s, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* 302 Found with Location: `location` (absolute or root-relative). */
int srv_reply_redirect(struct srv_req *req, const char *location);
/* Any body with an explicit Content-Type (copied). */
int srv_reply_bytes(struct srv_req *req, int status, const char *type,
		    const void *data, size_t len);
/* Sends `len` bytes of the open file `fd` from `offset` with Content-Type
 * `type`, straight from the file (sendfile; never read into memory). The
 * reply owns fd and closes it, also on failure. HEAD gets the headers. */
int srv_reply_fd(struct srv_req *req, int status, const char *type, int fd,
		 uint64_t offset, uint64_t len);
/* A body made while it is sent: copies up to `max` bytes from byte `pos`
 * of its source into buf, returning how many, 0 or less to abort the
 * reply (the connection is then closed short). */
typedef long (*srv_body_read_fn)(void *cls, uint64_t pos, char *buf,
				 size_t max);
/* Sends `len` bytes of a source from `offset` that `read` produces, in
 * order, with Content-Type `type` (srv_reply_fd's counterpart for a body
 * made as it goes); `done(cls)` runs once when the reply is gone, also
 * on failure (here or later). HEAD gets the headers. */
int srv_reply_stream(struct srv_req *req, int status, const char *type,
		     uint64_t offset, uint64_t len, srv_body_read_fn read,
		     void (*done)(void *), void *cls);
/* Adds a response header to the reply sent later by this request (e.g.
 * "Retry-After"). Up to 8 extra headers; MS_ELIMIT past that. A handler's
 * own Cache-Control replaces the default "no-store". */
int srv_req_header_add(struct srv_req *req, const char *name,
		       const char *value);
/* Adds a Set-Cookie for `name`=`value` with Path=/; HttpOnly;
 * SameSite=Lax and Max-Age=`max_age_s` (0 deletes the cookie). */
int srv_req_cookie_set(struct srv_req *req, const char *name, const char *value,
		       long max_age_s);
/* Records the message the dispatcher sends (through srv_reply_err, with
 * the default code) when the handler returns `code` (< 0) without
 * replying. Returns `code`, so a handler can write
 * `return srv_req_fail(req, MS_EINVAL, "bad strategy '%s'", s);`. */
int srv_req_fail(struct srv_req *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- Sessions -------------------------------------------------------- */

#define SRV_SID_LEN 32 /* hex characters of a session id (128 random bits) */

/* The id of the request's session: SRV_SID_LEN hex chars, NUL-terminated. */
const char *srv_req_session_id(const struct srv_req *req);

/* A copy of a session's public state. */
struct srv_session_info {
	char id[SRV_SID_LEN + 1];
	int strategy;	    /* enum music_strategy (the session's goal) */
	int autoplay;	    /* 1: the user wants music to follow the mood */
	int mood;	    /* stable mood (enum music_mood_id), -1 none yet */
	int leader;	    /* mood leading the smoothed probs, -1 none */
	float probs[7];	    /* smoothed probabilities, MUSIC_MOODS entries */
	int64_t mood_since; /* unix ms when `mood` became stable, 0 none */
	int64_t last_frame; /* unix ms of the last frame with a face, 0 */
	long frames;	    /* frames received */
	/* The listener's mood as the music should follow it: the fusion of
	 * face, words and their own choice (POST /api/mood/override, which
	 * decides alone while it holds). `feeling` is an enum music_feeling,
	 * -1 before any mood (then the point is the neutral anchor);
	 * `overridden` is 1 while the choice holds. */
	double valence, arousal;
	int feeling;
	int overridden;
};

/* Copies the state of the request's session. MS_OK, or MS_ENOTFOUND when
 * the session was evicted meanwhile. Thread-safe. */
int srv_session_info_get(struct srv_req *req, struct srv_session_info *out);
/* The same by id (from a background thread, e.g. in mood_changed). */
int srv_session_info_by_id(struct srv_app *app, const char *sid,
			   struct srv_session_info *out);

/* Marks a session as one to keep (e.g. at Spotify sign-in): evicted from
 * memory only after every anonymous one, and saved in the store so its
 * cookie finds it again after an eviction or a restart. MS_ENOTFOUND
 * without session, MS_EDB when the row could not be written. */
int srv_session_keep(struct srv_app *app, const char *sid);

/* Small per-session strings kept in memory only (lost on restart or
 * eviction): at most 8 keys of 31 bytes, values of 511 bytes. `value`
 * NULL deletes. MS_ELIMIT past the caps, MS_ENOTFOUND without session. */
int srv_session_kv_set(struct srv_app *app, const char *sid, const char *key,
		       const char *value);
/* Copies the value into `out` (`outlen` bytes, terminated). MS_ENOTFOUND
 * when absent. */
int srv_session_kv_get(struct srv_app *app, const char *sid, const char *key,
		       char *out, size_t outlen);

/* ---- The application ------------------------------------------------- */

/* The SQLite store (borrowed, lives as long as the app). */
struct store *srv_app_store(struct srv_app *app);
/* The Spotify service, NULL until the Spotify module's start() set it
 * (before the server listens; its stop() clears it after every handler
 * and the mood thread stopped, so handlers read it without a lock). */
struct music_spotify_svc *srv_app_spotify(const struct srv_app *app);
void srv_app_spotify_set(struct srv_app *app, struct music_spotify_svc *sp);
/* The music library player, NULL when the library module did not start
 * one. Read without a lock (see struct srv_app). */
struct music_player *srv_app_player(const struct srv_app *app);
/* The address the server listens on, e.g. "http://127.0.0.1:5000" (for
 * building redirect URIs). */
const char *srv_app_base_url(const struct srv_app *app);
/* The URL of Spotify's iFrame API script the page loads (configurable so
 * that tests can serve a stand-in; its origin is in the CSP). */
const char *srv_app_embed_script(const struct srv_app *app);

/* ---- Routing table and modules (src/server/routes.c) ------------------ */

typedef int (*srv_handler)(struct srv_req *req);

struct srv_route {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* path, no query string; a segment that is
			     * a lone '*' matches any one segment */
	srv_handler handler;
	size_t max_body; /* bytes of body accepted, 0: none (413 past) */
	/* NULL, or runs once the headers are in and before the body is read:
	 * it may reply early (415 wrong type, 429 flood) so that a refused
	 * body is never read; return MS_OK to go on. */
	srv_handler precheck;
};

/* The body cap of a command that takes no arguments: it may still carry
 * "{}" with Content-Type: application/json (the cross-site guard). */
#define SRV_MAX_EMPTY_BODY 64

/* Terminated by a row with a NULL path. */
extern const struct srv_route srv_routes[];

/* A stable-mood change, delivered to modules off the request threads. */
struct srv_mood_event {
	char session_id[SRV_SID_LEN + 1];
	int mood;     /* the new stable mood (enum music_mood_id) */
	int previous; /* the one before, -1 for the first */
	int strategy; /* enum music_strategy at the time of the change */
	int autoplay; /* the session's autoplay setting */
	int64_t unix_ms;
};

struct srv_module {
	const char *name;
	/* Before listening; non-zero aborts the start with `err`. NULL: none.
	 */
	int (*start)(struct srv_app *app, char *err, size_t errlen);
	/* After the server stopped (no handler runs any more). */
	void (*stop)(struct srv_app *app);
	/* On the mood thread; may block. NULL: not interested. */
	void (*mood_changed)(struct srv_app *app,
			     const struct srv_mood_event *ev);
};

/* Terminated by a row with a NULL name. */
extern const struct srv_module srv_modules[];

#endif
