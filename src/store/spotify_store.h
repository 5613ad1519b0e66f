/* spotify_store.h - private to src/store: the migration that creates the
 * Spotify tables (tokens, search cache, prefs) and the one that adds the
 * tokens' last-seen time. Their queries are declared
 * in moodsync/store.h and implemented in spotify_store.c. */
#ifndef MOODSYNC_STORE_SPOTIFY_STORE_H
#define MOODSYNC_STORE_SPOTIFY_STORE_H

/* Appended to store_migrations[] by src/store/schema.c. */
#define STORE_SPOTIFY_MIGRATION_NAME "spotify tokens, search cache, prefs"
#define STORE_SPOTIFY_MIGRATION_SQL                                            \
	"CREATE TABLE spotify_tokens ("                                        \
	" session_key TEXT PRIMARY KEY CHECK (length(session_key) = 64),"      \
	" access TEXT NOT NULL CHECK (length(access) > 0),"                    \
	" refresh TEXT NOT NULL,"                                              \
	" scope TEXT NOT NULL DEFAULT '',"                                     \
	" expires_at INTEGER NOT NULL,"                                        \
	" updated INTEGER NOT NULL);"                                          \
	"CREATE TABLE spotify_search_cache ("                                  \
	" query TEXT PRIMARY KEY CHECK (length(query) BETWEEN 1 AND 200),"     \
	" fetched INTEGER NOT NULL,"                                           \
	" body TEXT NOT NULL);"                                                \
	"CREATE TABLE spotify_prefs ("                                         \
	" session_key TEXT PRIMARY KEY CHECK (length(session_key) = 64),"      \
	" device_id TEXT NOT NULL DEFAULT '');"

/* Appended after it: when each token's session was last seen. */
#define STORE_SPOTIFY_SEEN_MIGRATION_NAME "spotify tokens: last seen"
#define STORE_SPOTIFY_SEEN_MIGRATION_SQL                                       \
	"ALTER TABLE spotify_tokens ADD COLUMN"                                \
	" last_seen INTEGER NOT NULL DEFAULT 0;"

#endif
