/* schema.c - the database schema as an append-only list of migrations.
 * store_open() applies store_migrations[user_version..] in order, each in
 * one transaction together with its PRAGMA user_version bump. Never edit a
 * migration that has shipped: append a new one. */
#include <stddef.h>

#include "moodsync/store.h"
#include "store/library_store.h"
#include "store/spotify_store.h"

const struct store_migration store_migrations[] = {
	{"catalog, sessions, mood history",
	 "CREATE TABLE catalog ("
	 " id INTEGER PRIMARY KEY,"
	 " mood TEXT NOT NULL CHECK (mood IN ('angry','disgust','fear',"
	 "  'happy','sad','surprise','neutral')),"
	 " strategy TEXT NOT NULL CHECK (strategy IN ('match','lift')),"
	 " name TEXT NOT NULL CHECK (length(name) > 0),"
	 " description TEXT NOT NULL,"
	 " query TEXT NOT NULL CHECK (length(query) > 0),"
	 " url TEXT NOT NULL CHECK (url LIKE 'https://open.spotify.com/%'));"
	 "CREATE INDEX catalog_mood ON catalog (mood, strategy);"
	 "CREATE TABLE sessions ("
	 " id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 16 AND 39),"
	 " strategy TEXT NOT NULL DEFAULT 'match'"
	 "  CHECK (strategy IN ('match','lift')),"
	 " autoplay INTEGER NOT NULL DEFAULT 1 CHECK (autoplay IN (0,1)),"
	 " created INTEGER NOT NULL,"
	 " last_seen INTEGER NOT NULL);"
	 "CREATE TABLE history ("
	 " id INTEGER PRIMARY KEY,"
	 " session TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
	 " t INTEGER NOT NULL,"
	 " mood TEXT NOT NULL CHECK (mood IN ('angry','disgust','fear',"
	 "  'happy','sad','surprise','neutral')),"
	 " confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1));"
	 "CREATE INDEX history_session_t ON history (session, t);"},
	/* Spotify: tokens, search cache, prefs. */
	{STORE_SPOTIFY_MIGRATION_NAME, STORE_SPOTIFY_MIGRATION_SQL},
	{STORE_SPOTIFY_SEEN_MIGRATION_NAME, STORE_SPOTIFY_SEEN_MIGRATION_SQL},
	/* The local music library, listener feedback, four goals. */
	{STORE_LIBRARY_MIGRATION_NAME, STORE_LIBRARY_MIGRATION_SQL},
	/* The finer feeling of the fused mood (face + words) with each row;
	 * NULL for rows written before it existed. */
	{"history: fused feeling",
	 "ALTER TABLE history ADD COLUMN feeling TEXT CHECK (feeling IS NULL"
	 " OR feeling IN ('excited','happy','calm','tired','sad','anxious',"
	 "'tense','surprised','neutral'));"},
	/* The title tag apart from the title shown, so a scan can show a
	 * title made from the file name when tracks of a folder share their
	 * tags, and go back to the tag when they no longer do. */
	{"tracks: title tag", "ALTER TABLE tracks ADD COLUMN tag_title TEXT"
			      " NOT NULL DEFAULT '';"
			      "UPDATE tracks SET tag_title = title;"},
};

const size_t store_migrations_count =
	sizeof(store_migrations) / sizeof(store_migrations[0]);
