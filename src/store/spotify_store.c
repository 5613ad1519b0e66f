/* spotify_store.c - queries on the Spotify module's tables (tokens, search
 * cache, preferences; schema in spotify_store.h, applied by schema.c; API in
 * moodsync/store.h). Each call prepares its statement on the store's serialized
 * connection, so it may run on any thread. Token values are bound, never
 * formatted or logged. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "moodsync/store.h"
#include "store/store_internal.h"

#define CACHE_MAX_JSON (256u * 1024u)

/* Session keys: a SHA-256 in hex. */
static int key_valid(const char *key)
{
	return store_hex_valid(key, 64, 64);
}

static sqlite3_stmt *prep(struct store *s, const char *sql)
{
	return store_prep(s, "spotify store", sql);
}

/* Copies a text column into out (outlen bytes); MS_ELIMIT if it does not
 * fit (a corrupted row). */
static int col_text(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= outlen)
		return MS_ELIMIT;
	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
	return MS_OK;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? MS_OK : MS_EDB;
}

int store_spotify_token_put(struct store *s, const char *key,
			    const struct store_spotify_token *t)
{
	sqlite3_stmt *st;

	if (!key_valid(key) || !t->access[0])
		return MS_EINVAL;
	st = prep(s, "INSERT OR REPLACE INTO spotify_tokens (session_key,"
		     " access, refresh, scope, expires_at, updated)"
		     " VALUES (?1, ?2, ?3, ?4, ?5, strftime('%s','now'))");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->access, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->refresh, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->scope, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t->expires_at);
	return step_done(st);
}

int store_spotify_token_get(struct store *s, const char *key,
			    struct store_spotify_token *out)
{
	struct store_spotify_token t;
	sqlite3_stmt *st;
	int rc;

	if (!key_valid(key))
		return MS_EINVAL;
	st = prep(s, "SELECT access, refresh, scope, expires_at, updated"
		     " FROM spotify_tokens WHERE session_key = ?1");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		rc = col_text(st, 0, t.access, sizeof(t.access));
		if (!rc)
			rc = col_text(st, 1, t.refresh, sizeof(t.refresh));
		if (!rc)
			rc = col_text(st, 2, t.scope, sizeof(t.scope));
		t.expires_at = sqlite3_column_int64(st, 3);
		t.issued_at = sqlite3_column_int64(st, 4); /* when stored */
		if (!rc)
			*out = t;
		memset(&t, 0, sizeof(t));
	} else {
		rc = rc == SQLITE_DONE ? MS_ENOTFOUND : MS_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

int store_spotify_token_delete(struct store *s, const char *key)
{
	sqlite3_stmt *st;

	if (!key_valid(key))
		return MS_EINVAL;
	st = prep(s, "DELETE FROM spotify_tokens WHERE session_key = ?1");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return step_done(st);
}

int store_spotify_token_seen(struct store *s, const char *key, int64_t now)
{
	sqlite3_stmt *st;

	if (!key_valid(key))
		return MS_EINVAL;
	st = prep(s, "UPDATE spotify_tokens SET last_seen = ?2"
		     " WHERE session_key = ?1 AND last_seen < ?2");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return step_done(st);
}

int store_spotify_token_purge(struct store *s, int64_t before, int64_t *deleted)
{
	sqlite3_stmt *st;
	int rc;

	st = prep(s, "DELETE FROM spotify_tokens"
		     " WHERE max(last_seen, updated) < ?1");
	if (!st)
		return MS_EDB;
	sqlite3_bind_int64(st, 1, before);
	rc = step_done(st);
	if (rc)
		return rc;
	*deleted = sqlite3_changes64(store_sqlite(s));
	st = prep(s, "DELETE FROM spotify_prefs WHERE session_key NOT IN"
		     " (SELECT session_key FROM spotify_tokens)");
	return st ? step_done(st) : MS_EDB;
}

int store_spotify_cache_put(struct store *s, const char *query,
			    const char *json, int64_t now)
{
	sqlite3_stmt *st;
	size_t qn = query ? strlen(query) : 0;

	if (qn == 0 || qn > 200 || !json || strlen(json) > CACHE_MAX_JSON)
		return MS_EINVAL;
	st = prep(s, "INSERT OR REPLACE INTO spotify_search_cache (query,"
		     " fetched, body) VALUES (?1, ?2, ?3)");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
	return step_done(st);
}

int store_spotify_cache_get(struct store *s, const char *query,
			    int64_t max_age_s, int64_t now, struct ms_buf *out,
			    int64_t *fetched)
{
	sqlite3_stmt *st;
	int rc;

	if (!query || !query[0])
		return MS_EINVAL;
	st = prep(s, "SELECT body, fetched FROM spotify_search_cache"
		     " WHERE query = ?1 AND (?2 < 0 OR fetched >= ?3 - ?2)");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, max_age_s);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		ms_buf_reset(out);
		rc = t ? ms_buf_append(out, t, (size_t)n) : MS_EDB;
		if (!rc)
			*fetched = sqlite3_column_int64(st, 1);
	} else {
		rc = rc == SQLITE_DONE ? MS_ENOTFOUND : MS_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

int store_spotify_prefs_put(struct store *s, const char *key,
			    const char *device_id)
{
	sqlite3_stmt *st;

	if (!key_valid(key) || !device_id || strlen(device_id) > 95)
		return MS_EINVAL;
	st = prep(s, "INSERT OR REPLACE INTO spotify_prefs (session_key,"
		     " device_id) VALUES (?1, ?2)");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, device_id, -1, SQLITE_STATIC);
	return step_done(st);
}

int store_spotify_prefs_get(struct store *s, const char *key,
			    char device_id[96])
{
	sqlite3_stmt *st;
	int rc;

	if (!key_valid(key))
		return MS_EINVAL;
	st = prep(s, "SELECT device_id FROM spotify_prefs"
		     " WHERE session_key = ?1");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = col_text(st, 0, device_id, 96);
	} else if (rc == SQLITE_DONE) {
		device_id[0] = '\0';
		rc = MS_OK;
	} else {
		rc = MS_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}
