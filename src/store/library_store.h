/* library_store.h - the schema of the local music library's tables,
 * appended to store_migrations[] by src/store/schema.c; the queries are
 * declared in moodsync/store.h and live in src/store/library.c.
 *
 * tracks: one row per audio file, keyed by its absolute path; size, mtime
 * (ns) and the analyser's version decide whether a rescan must analyse it
 * again. A row with a
 * non-empty `error` is a file that could not be analysed (kept so the
 * rescan does not retry it until it changes; never played). `title` is
 * the title shown, `tag_title` the title tag (src/music/library_titles.c
 * chooses between the tag and the file name).
 * track_feedback: per listener (session id) and track: like, skips, early
 * skips, "not this mood" (with the listener's point at the time) and the
 * listener's own point for the track. Deleted with the track.
 * sessions.goal: the four goals; the older `strategy` column keeps the
 * catalog's two (match, lift). */
#ifndef MOODSYNC_STORE_LIBRARY_STORE_H
#define MOODSYNC_STORE_LIBRARY_STORE_H

#define STORE_LIBRARY_MIGRATION_NAME "music library, listener feedback, goals"
#define STORE_LIBRARY_MIGRATION_SQL                                            \
	"CREATE TABLE tracks ("                                                \
	" id INTEGER PRIMARY KEY,"                                             \
	" path TEXT NOT NULL UNIQUE CHECK (substr(path, 1, 1) = '/'),"         \
	" size INTEGER NOT NULL CHECK (size >= 0),"                            \
	" mtime_ns INTEGER NOT NULL,"                                          \
	" title TEXT NOT NULL DEFAULT '',"                                     \
	" artist TEXT NOT NULL DEFAULT '',"                                    \
	" album TEXT NOT NULL DEFAULT '',"                                     \
	" genre TEXT NOT NULL DEFAULT '',"                                     \
	" mime TEXT NOT NULL DEFAULT '',"                                      \
	" duration_s REAL NOT NULL DEFAULT 0 CHECK (duration_s >= 0),"         \
	" valence REAL NOT NULL DEFAULT 0 CHECK (valence BETWEEN -1 AND 1),"   \
	" arousal REAL NOT NULL DEFAULT 0 CHECK (arousal BETWEEN -1 AND 1),"   \
	" tempo_bpm REAL NOT NULL DEFAULT 0,"                                  \
	" mode REAL NOT NULL DEFAULT 0,"                                       \
	" words TEXT NOT NULL DEFAULT '',"                                     \
	" features TEXT NOT NULL DEFAULT '{}',"                                \
	" analysed_at INTEGER NOT NULL,"                                       \
	" analyser TEXT NOT NULL DEFAULT '',"                                  \
	" error TEXT NOT NULL DEFAULT '');"                                    \
	"CREATE TABLE track_feedback ("                                        \
	" user TEXT NOT NULL CHECK (length(user) BETWEEN 16 AND 39),"          \
	" track INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,"    \
	" liked INTEGER NOT NULL DEFAULT 0 CHECK (liked IN (0,1)),"            \
	" skips INTEGER NOT NULL DEFAULT 0,"                                   \
	" early_skips INTEGER NOT NULL DEFAULT 0,"                             \
	" not_mood INTEGER NOT NULL DEFAULT 0,"                                \
	" not_mood_valence REAL NOT NULL DEFAULT 0,"                           \
	" not_mood_arousal REAL NOT NULL DEFAULT 0,"                           \
	" has_point INTEGER NOT NULL DEFAULT 0 CHECK (has_point IN (0,1)),"    \
	" point_valence REAL NOT NULL DEFAULT 0"                               \
	"  CHECK (point_valence BETWEEN -1 AND 1),"                            \
	" point_arousal REAL NOT NULL DEFAULT 0"                               \
	"  CHECK (point_arousal BETWEEN -1 AND 1),"                            \
	" updated INTEGER NOT NULL,"                                           \
	" PRIMARY KEY (user, track));"                                         \
	"CREATE INDEX track_feedback_track ON track_feedback (track);"         \
	"ALTER TABLE sessions ADD COLUMN goal TEXT NOT NULL DEFAULT 'match'"   \
	" CHECK (goal IN ('match','lift','calm','energise'));"                 \
	"UPDATE sessions SET goal = strategy;"

#endif
