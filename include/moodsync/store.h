/* store.h - MoodSync's SQLite database: a versioned schema (migrations in
 * src/store/schema.c, PRAGMA user_version), the offline playlist catalog,
 * sessions and their mood history. Depends on common and SQLite only.
 *
 * Thread-safety: one struct store may be used from any number of threads
 * (the connection is opened in serialized mode and each call takes the
 * store's lock around its prepared statement). The music library's
 * tables and queries are in the "Library" section below. Strings passed in are
 * borrowed for the call. */
#ifndef MOODSYNC_STORE_H
#define MOODSYNC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"

struct store;
struct sqlite3;

/* Schema migrations, applied in order; migration i brings the database
 * from user_version i to i+1. Append only: never edit a shipped one. */
struct store_migration {
	const char *name; /* one line, for the log */
	const char *sql;  /* executed in one transaction with user_version */
};
extern const struct store_migration store_migrations[];
extern const size_t store_migrations_count;

/* Opens (creating when missing, with parent directories) the database at
 * `path` (":memory:" works too), sets WAL, foreign keys and a busy
 * timeout, and applies pending migrations. A database newer than this
 * program (user_version past the known migrations) is refused with
 * MS_EUNSUPPORTED and left untouched. MS_EDB/MS_EIO with a reason in err. */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
/* Closes the database; NULL is a no-op. */
void store_close(struct store *s);

/* PRAGMA user_version of the open database. */
int store_schema_version(struct store *s);

/* The raw SQLite handle (serialized mode) for code that owns its own
 * tables (the Spotify module). Borrowed. */
struct sqlite3 *store_sqlite(struct store *s);

/* Runs BEGIN IMMEDIATE / COMMIT / ROLLBACK under the store's lock. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* ---- Catalog --------------------------------------------------------- */

#define STORE_NAME_MAX 96
#define STORE_TEXT_MAX 256
#define STORE_URL_MAX 512

/* One playlist suggestion: a Spotify search, not an invented playlist id. */
struct store_playlist {
	int64_t id;			  /* row id, 0 when not stored */
	char mood[16];			  /* detected mood, "sad" */
	char strategy[8];		  /* "match" or "lift" */
	char name[STORE_NAME_MAX];	  /* "Rainy-day acoustic" */
	char description[STORE_TEXT_MAX]; /* one sentence */
	char query[STORE_NAME_MAX];	  /* Spotify search query */
	char url[STORE_URL_MAX]; /* https://open.spotify.com/search/... */
};

/* Rows in the catalog table. */
int store_catalog_count(struct store *s, int64_t *n);
/* Adds a row (every text field non-empty, mood/strategy valid): MS_EINVAL
 * otherwise, MS_EDB on SQLite failure. Writes the new id into p->id. */
int store_catalog_add(struct store *s, struct store_playlist *p);
/* Up to `max` rows for mood and strategy, in id order. */
int store_catalog_list(struct store *s, const char *mood, const char *strategy,
		       struct store_playlist *out, int max, int *n);

/* ---- Sessions -------------------------------------------------------- */

struct store_session {
	char id[40];	   /* hex id */
	char strategy[16]; /* the goal: "match" | "lift" | "calm" | "energise"
			    */
	int autoplay;	   /* 0/1 */
	int64_t created;   /* unix ms */
	int64_t last_seen; /* unix ms */
};

/* Inserts or updates a session row. MS_EINVAL on a bad id or strategy. */
int store_session_put(struct store *s, const struct store_session *sess);
/* Creates the row with default settings when missing (`created`,
 * `now`: unix ms), else moves its last_seen forward to `now`. */
int store_session_touch(struct store *s, const char *id, int64_t created,
			int64_t now);
/* Reads one; MS_ENOTFOUND when absent. */
int store_session_get(struct store *s, const char *id,
		      struct store_session *out);

/* ---- Mood history ---------------------------------------------------- */

struct store_mood_row {
	char session[40]; /* session id */
	int64_t t;	  /* unix ms */
	char mood[16];	  /* stable mood name */
	float confidence; /* smoothed probability of that mood, 0..1 */
	char feeling[16]; /* named feeling of the fused mood (music_feeling_
			   * names), "" when unknown (stored as NULL) */
};

/* Appends rows (one transaction; the session row is created when
 * missing). A bad row (unknown mood, bad id, confidence out of range)
 * fails the whole batch with MS_EINVAL and stores nothing. */
int store_history_add(struct store *s, const struct store_mood_row *rows,
		      int n);
/* The newest `max` rows of a session with t >= since, oldest first. */
int store_history_list(struct store *s, const char *session, int64_t since,
		       struct store_mood_row *out, int max, int *n);
/* Deletes history rows older than `before` (unix ms); *deleted gets the
 * count. */
int store_history_prune(struct store *s, int64_t before, int64_t *deleted);
/* Deletes every history row of a session; *deleted (may be NULL) gets the
 * count. MS_EINVAL on a bad id. */
int store_history_delete(struct store *s, const char *session,
			 int64_t *deleted);

/* ---- Spotify --------------------------------------------------------- *
 * The Spotify service's tables: OAuth tokens per session (keyed by a
 * 64-hex-char key the caller derives from the session id, e.g. its
 * SHA-256, never the id itself), a TTL'd cache of playlist searches, and
 * per-session Spotify preferences (chosen device). */

/* A session's Spotify OAuth tokens: the one token type, parsed by the
 * music component's client (music_spotify_token_parse) and stored here
 * as is. */
struct store_spotify_token {
	char access[1024];  /* bearer token, never logged */
	char refresh[1024]; /* "" when none */
	char scope[256];
	int64_t expires_at; /* unix seconds */
	int64_t issued_at;  /* unix seconds it was obtained, 0 unknown */
};

/* Inserts or replaces the session's tokens. MS_EINVAL unless `key` is 64
 * hex chars and the access token non-empty, MS_EDB on SQLite failure. */
int store_spotify_token_put(struct store *s, const char *key,
			    const struct store_spotify_token *t);
/* MS_ENOTFOUND when the session has none. */
int store_spotify_token_get(struct store *s, const char *key,
			    struct store_spotify_token *out);
/* Deletes them (MS_OK when there were none). */
int store_spotify_token_delete(struct store *s, const char *key);
/* Records that the session behind `key` was seen at `now` (unix s); a
 * no-op when it has no tokens. */
int store_spotify_token_seen(struct store *s, const char *key, int64_t now);
/* Tokens of a session unseen for this long are deleted. */
#define STORE_SPOTIFY_KEEP_S (30LL * 24 * 3600)
/* Deletes the tokens (and device preference) of every session neither
 * seen nor refreshed since `before` (unix s); *deleted gets the count. */
int store_spotify_token_purge(struct store *s, int64_t before,
			      int64_t *deleted);

/* Stores a search answer (JSON text, at most 256 KiB) for `query`. */
int store_spotify_cache_put(struct store *s, const char *query,
			    const char *json, int64_t now);
/* Reads the cached answer for `query` if fetched at or after
 * now - max_age_s (max_age_s < 0: any age). The JSON goes into `out`
 * (reset first); *fetched gets its unix time. MS_ENOTFOUND otherwise. */
int store_spotify_cache_get(struct store *s, const char *query,
			    int64_t max_age_s, int64_t now, struct ms_buf *out,
			    int64_t *fetched);

/* The session's chosen device; get gives "" when none was stored.
 * device_id holds at most 95 chars. */
int store_spotify_prefs_put(struct store *s, const char *key,
			    const char *device_id);
int store_spotify_prefs_get(struct store *s, const char *key,
			    char device_id[96]);

/* ---- Library: tracks and listener feedback (src/store/library.c) -----
 * A track row per audio file, keyed by absolute path; (size, mtime_ns)
 * tell a rescan whether the file changed. Feedback rows are per listener
 * (a session id, 16..39 lower-case hex chars) and track, and go with the
 * track when it is deleted. */

#define STORE_PATH_MAX 4096
#define STORE_TAG_MAX 256

struct store_track {
	int64_t id;		       /* row id; 0 before insert */
	char path[STORE_PATH_MAX];     /* absolute path */
	int64_t size;		       /* bytes */
	int64_t mtime_ns;	       /* modification time, ns since epoch */
	char title[STORE_TAG_MAX];     /* the title shown: the title tag, or
					* one made from the file name */
	char tag_title[STORE_TAG_MAX]; /* the title tag as read */
	char artist[STORE_TAG_MAX];    /* tags, "" when absent */
	char album[STORE_TAG_MAX];
	char genre[STORE_TAG_MAX];
	char mime[32];		 /* "audio/ogg", ... */
	double duration_s;	 /* seconds */
	double valence, arousal; /* analysed point, each in [-1, 1] */
	double tempo_bpm;	 /* 0 unknown */
	double mode;		 /* -1 minor .. +1 major, 0 unknown */
	char words[64];		 /* "calm, minor, slow": the analyser's
				  * words for the track, "" none */
	char features[1024];	 /* JSON object behind the point, "{}" */
	int64_t analysed_at;	 /* unix s */
	char analyser[32];	 /* version of the analyser that ran */
	char error[256];	 /* "" playable; else why it was skipped */
};

/* Inserts or updates the row of t->path (keeping its id, so feedback
 * survives a re-analysis); writes the id into t->id. MS_EINVAL when the
 * path is not absolute or a value is out of range (nothing written). */
int store_track_put(struct store *s, struct store_track *t);
/* Reads one track by id; MS_ENOTFOUND when absent. */
int store_track_get(struct store *s, int64_t id, struct store_track *out);
/* Sets the shown title of track `id` (tag_title is kept). MS_ENOTFOUND
 * when there is no such track. */
int store_track_set_title(struct store *s, int64_t id, const char *title);
/* Deletes a track (and its feedback). MS_OK when it was not there. */
int store_track_delete(struct store *s, int64_t id);
/* Rows: all (*n) and those with an error (*skipped). Either may be NULL. */
int store_track_count(struct store *s, int64_t *n, int64_t *skipped);

/* Calls fn(t, ctx) for every row in id order (playable_only: rows without
 * an error); fn returning non-zero stops the walk and that value is
 * returned. `t` is reused between calls. The store's lock is held during
 * the walk: fn must not call back into the store. */
typedef int (*store_track_fn)(const struct store_track *t, void *ctx);
int store_track_each(struct store *s, int playable_only, store_track_fn fn,
		     void *ctx);

/* One listener's feedback on one track. */
struct store_feedback {
	int64_t track;
	int liked;		 /* 0/1 */
	int skips;		 /* skips after the first 30 s */
	int early_skips;	 /* skips in the first 30 s: a strong no */
	int not_mood;		 /* "not this mood" presses */
	double not_mood_valence; /* the listener's point at the last press */
	double not_mood_arousal;
	int has_point; /* 1: the listener placed the track */
	double point_valence, point_arousal; /* ... here, each in [-1, 1] */
};

enum store_feedback_kind {
	STORE_FB_LIKE,
	STORE_FB_UNLIKE,
	STORE_FB_SKIP,
	STORE_FB_EARLY_SKIP,
	STORE_FB_NOT_MOOD, /* (v, a): the listener's point */
	STORE_FB_POINT,	   /* (v, a): the listener's point for the track */
};

/* Records feedback of `user` on `track` at unix time `now`. v and a are
 * used by NOT_MOOD and POINT and must lie in [-1, 1]. MS_EINVAL on a bad
 * user id, kind or point; MS_ENOTFOUND when the track does not exist or
 * is a skipped (unplayable) file. */
int store_feedback_add(struct store *s, const char *user, int64_t track,
		       enum store_feedback_kind kind, double v, double a,
		       int64_t now);
/* The feedback of `user` on `track`; all zero (MS_OK) when none. */
int store_feedback_get(struct store *s, const char *user, int64_t track,
		       struct store_feedback *out);
/* Up to `max` rows of `user` (any order); *n gets the count. */
int store_feedback_list(struct store *s, const char *user,
			struct store_feedback *out, int max, int *n);

#endif
