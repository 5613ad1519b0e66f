/* spotify_store.h - the Spotify module's tables in the MoodSync database:
 * OAuth tokens per session (keyed by a 64-hex-char key the caller derives
 * from the session id, e.g. its SHA-256, never the id itself), a TTL'd cache of playlist searches, and per-session Spotify
 * preferences (chosen device, auto-play). Functions take the shared
 * struct store and use its serialized SQLite handle: thread-safe. */
#ifndef MOODSYNC_STORE_SPOTIFY_STORE_H
#define MOODSYNC_STORE_SPOTIFY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"
#include "moodsync/store.h"

/* Appended to store_migrations[] by src/store/schema.c. */
#define STORE_SPOTIFY_MIGRATION_NAME "spotify tokens, search cache, prefs"
#define STORE_SPOTIFY_MIGRATION_SQL \
	"CREATE TABLE spotify_tokens (" \
	" session_key TEXT PRIMARY KEY CHECK (length(session_key) = 64)," \
	" access TEXT NOT NULL CHECK (length(access) > 0)," \
	" refresh TEXT NOT NULL," \
	" scope TEXT NOT NULL DEFAULT ''," \
	" expires_at INTEGER NOT NULL," \
	" updated INTEGER NOT NULL);" \
	"CREATE TABLE spotify_search_cache (" \
	" query TEXT PRIMARY KEY CHECK (length(query) BETWEEN 1 AND 200)," \
	" fetched INTEGER NOT NULL," \
	" body TEXT NOT NULL);" \
	"CREATE TABLE spotify_prefs (" \
	" session_key TEXT PRIMARY KEY CHECK (length(session_key) = 64)," \
	" device_id TEXT NOT NULL DEFAULT '');" \

/* Appended after it: when each token's session was last seen. */
#define STORE_SPOTIFY_SEEN_MIGRATION_NAME "spotify tokens: last seen"
#define STORE_SPOTIFY_SEEN_MIGRATION_SQL \
	"ALTER TABLE spotify_tokens ADD COLUMN" \
	" last_seen INTEGER NOT NULL DEFAULT 0;"

/* Tokens of a session unseen for this long are deleted. */
#define STORE_SPOTIFY_KEEP_S (30LL * 24 * 3600)

/* Token fields as stored (the music component's token, copied). */
struct store_spotify_token {
	char access[1024];
	char refresh[1024];
	char scope[256];
	int64_t expires_at; /* unix seconds */
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
			    int64_t max_age_s, int64_t now,
			    struct ms_buf *out, int64_t *fetched);

/* The session's chosen device; get gives "" when none was stored.
 * device_id holds at most 95 chars. */
int store_spotify_prefs_put(struct store *s, const char *key,
			    const char *device_id);
int store_spotify_prefs_get(struct store *s, const char *key,
			    char device_id[96]);

#endif
