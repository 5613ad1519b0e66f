/* library.c - queries on the music library's tables (schema in
 * library_store.h): tracks keyed by path, and per-listener feedback.
 * Statements are prepared per call on the store's serialized connection;
 * a walk over all tracks holds the store's lock. Values are bound, never
 * formatted into SQL. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "moodsync/store.h"
#include "store/library_store.h"
#include "store/store_internal.h"

static sqlite3_stmt *prep(struct store *s, const char *sql)
{
	return store_prep(s, "library store", sql);
}

static int in_unit(double x)
{
	return isfinite(x) && x >= -1.0 && x <= 1.0;
}

/* Listeners are session ids: 16 to 39 hex digits. */
static int valid_user(const char *id)
{
	return store_hex_valid(id, 16, 39);
}

/* ---- tracks ------------------------------------------------------------- */

#define TRACK_COLS                                                             \
	"id, path, size, mtime_ns, title, artist, album, genre, mime, "        \
	"duration_s, valence, arousal, tempo_bpm, mode, features, "            \
	"analysed_at, error, analyser, words, tag_title"

static void track_read(sqlite3_stmt *st, struct store_track *t)
{
	t->id = sqlite3_column_int64(st, 0);
	store_col_copy(st, 1, t->path, sizeof(t->path));
	t->size = sqlite3_column_int64(st, 2);
	t->mtime_ns = sqlite3_column_int64(st, 3);
	store_col_copy(st, 4, t->title, sizeof(t->title));
	store_col_copy(st, 5, t->artist, sizeof(t->artist));
	store_col_copy(st, 6, t->album, sizeof(t->album));
	store_col_copy(st, 7, t->genre, sizeof(t->genre));
	store_col_copy(st, 8, t->mime, sizeof(t->mime));
	t->duration_s = sqlite3_column_double(st, 9);
	t->valence = sqlite3_column_double(st, 10);
	t->arousal = sqlite3_column_double(st, 11);
	t->tempo_bpm = sqlite3_column_double(st, 12);
	t->mode = sqlite3_column_double(st, 13);
	store_col_copy(st, 14, t->features, sizeof(t->features));
	t->analysed_at = sqlite3_column_int64(st, 15);
	store_col_copy(st, 16, t->error, sizeof(t->error));
	store_col_copy(st, 17, t->analyser, sizeof(t->analyser));
	store_col_copy(st, 18, t->words, sizeof(t->words));
	store_col_copy(st, 19, t->tag_title, sizeof(t->tag_title));
}

int store_track_put(struct store *s, struct store_track *t)
{
	sqlite3_stmt *st;
	int rc, src;

	if (t->path[0] != '/' || t->size < 0 || !in_unit(t->valence) ||
	    !in_unit(t->arousal) || !isfinite(t->duration_s) ||
	    t->duration_s < 0 || !isfinite(t->tempo_bpm) || !isfinite(t->mode))
		return MS_EINVAL;
	st = prep(s, "INSERT INTO tracks (path, size, mtime_ns, title, artist,"
		     " album, genre, mime, duration_s, valence, arousal,"
		     " tempo_bpm, mode, features, analysed_at, error, analyser,"
		     " words, tag_title)"
		     " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
		     "?15,?16,?17,?18,?19)"
		     " ON CONFLICT (path) DO UPDATE SET size = excluded.size,"
		     " mtime_ns = excluded.mtime_ns, title = excluded.title,"
		     " artist = excluded.artist, album = excluded.album,"
		     " genre = excluded.genre, mime = excluded.mime,"
		     " duration_s = excluded.duration_s,"
		     " valence = excluded.valence, arousal = excluded.arousal,"
		     " tempo_bpm = excluded.tempo_bpm, mode = excluded.mode,"
		     " features = excluded.features,"
		     " analysed_at = excluded.analysed_at,"
		     " error = excluded.error, analyser = excluded.analyser,"
		     " words = excluded.words, tag_title = excluded.tag_title"
		     " RETURNING id");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, t->path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, t->size);
	sqlite3_bind_int64(st, 3, t->mtime_ns);
	sqlite3_bind_text(st, 4, t->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, t->artist, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, t->album, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, t->genre, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, t->mime, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 9, t->duration_s);
	sqlite3_bind_double(st, 10, t->valence);
	sqlite3_bind_double(st, 11, t->arousal);
	sqlite3_bind_double(st, 12, t->tempo_bpm);
	sqlite3_bind_double(st, 13, t->mode);
	sqlite3_bind_text(st, 14, t->features[0] ? t->features : "{}", -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, t->analysed_at);
	sqlite3_bind_text(st, 16, t->error, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, t->analyser, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, t->words, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 19, t->tag_title, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	rc = store_write_rc(src);
	if (src == SQLITE_ROW) {
		t->id = sqlite3_column_int64(st, 0);
		src = sqlite3_step(st); /* finish the statement */
		if (src != SQLITE_DONE)
			rc = store_write_rc(src);
	} else if (!rc) {
		rc = MS_EDB; /* RETURNING gave no row */
	}
	sqlite3_finalize(st);
	return rc;
}

int store_track_get(struct store *s, int64_t id, struct store_track *out)
{
	sqlite3_stmt *st =
		prep(s, "SELECT " TRACK_COLS " FROM tracks WHERE id = ?1");
	int src, rc;

	if (!st)
		return MS_EDB;
	sqlite3_bind_int64(st, 1, id);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		track_read(st, out);
		rc = MS_OK;
	} else {
		rc = src == SQLITE_DONE ? MS_ENOTFOUND : MS_EDB;
	}
	sqlite3_finalize(st);
	return rc;
}

int store_track_set_title(struct store *s, int64_t id, const char *title)
{
	sqlite3_stmt *st =
		prep(s, "UPDATE tracks SET title = ?2 WHERE id = ?1");
	int rc;

	if (!st)
		return MS_EDB;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
	store_lock(s); /* the change count is the connection's */
	rc = store_write_rc(sqlite3_step(st));
	if (!rc && sqlite3_changes(store_sqlite(s)) == 0)
		rc = MS_ENOTFOUND;
	store_unlock(s);
	sqlite3_finalize(st);
	return rc;
}

int store_track_delete(struct store *s, int64_t id)
{
	sqlite3_stmt *st = prep(s, "DELETE FROM tracks WHERE id = ?1");
	int rc;

	if (!st)
		return MS_EDB;
	sqlite3_bind_int64(st, 1, id);
	rc = store_write_rc(sqlite3_step(st));
	sqlite3_finalize(st);
	return rc;
}

int store_track_count(struct store *s, int64_t *n, int64_t *skipped)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*), coalesce(sum(error <> ''),"
				   " 0) FROM tracks");
	int rc = MS_EDB;

	if (!st)
		return MS_EDB;
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (n)
			*n = sqlite3_column_int64(st, 0);
		if (skipped)
			*skipped = sqlite3_column_int64(st, 1);
		rc = MS_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int store_track_each(struct store *s, int playable_only, store_track_fn fn,
		     void *ctx)
{
	struct store_track *t = calloc(1, sizeof(*t));
	sqlite3_stmt *st;
	int rc = MS_OK, src;

	if (!t)
		return MS_ENOMEM;
	store_lock(s);
	st = prep(s, playable_only ? "SELECT " TRACK_COLS " FROM tracks"
				     " WHERE error = '' ORDER BY id"
				   : "SELECT " TRACK_COLS " FROM tracks"
				     " ORDER BY id");
	if (!st) {
		rc = MS_EDB;
		goto out_unlock;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		track_read(st, t);
		rc = fn(t, ctx);
		if (rc)
			break;
	}
	if (!rc && src != SQLITE_DONE)
		rc = MS_EDB;
	sqlite3_finalize(st);
out_unlock:
	store_unlock(s);
	free(t);
	return rc;
}

/* ---- feedback ----------------------------------------------------------- */

/* One upsert per kind; ?1 user, ?2 track, ?3 v, ?4 a, ?5 now. */
static const char *const feedback_sql[] = {
	[STORE_FB_LIKE] = "liked = 1",
	[STORE_FB_UNLIKE] = "liked = 0",
	[STORE_FB_SKIP] = "skips = skips + 1",
	[STORE_FB_EARLY_SKIP] = "early_skips = early_skips + 1",
	[STORE_FB_NOT_MOOD] = "not_mood = not_mood + 1, "
			      "not_mood_valence = ?3, not_mood_arousal = ?4",
	[STORE_FB_POINT] = "has_point = 1, point_valence = ?3, "
			   "point_arousal = ?4",
};

/* Creates the row when missing (defaults), then applies `kind`: the
 * update clause reads the row's own columns (skips + 1). */
static int feedback_upsert(struct store *s, const char *user, int64_t track,
			   enum store_feedback_kind kind, double v, double a,
			   int64_t now)
{
	char sql[512];
	sqlite3_stmt *st;
	int rc;

	st = prep(s, "INSERT INTO track_feedback (user, track, updated) VALUES"
		     " (?1, ?2, ?3) ON CONFLICT (user, track) DO NOTHING");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, track);
	sqlite3_bind_int64(st, 3, now);
	rc = store_write_rc(sqlite3_step(st));
	sqlite3_finalize(st);
	if (rc)
		return rc;
	snprintf(sql, sizeof(sql),
		 "UPDATE track_feedback SET %s, updated = ?5 WHERE user = ?1"
		 " AND track = ?2",
		 feedback_sql[kind]);
	st = prep(s, sql);
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, track);
	sqlite3_bind_double(st, 3, v);
	sqlite3_bind_double(st, 4, a);
	sqlite3_bind_int64(st, 5, now);
	rc = store_write_rc(sqlite3_step(st));
	sqlite3_finalize(st);
	return rc;
}

int store_feedback_add(struct store *s, const char *user, int64_t track,
		       enum store_feedback_kind kind, double v, double a,
		       int64_t now)
{
	struct store_track *t;
	int rc, exists;

	if (!valid_user(user) || (unsigned)kind >= MS_ARRAY_LEN(feedback_sql))
		return MS_EINVAL;
	if ((kind == STORE_FB_NOT_MOOD || kind == STORE_FB_POINT) &&
	    (!in_unit(v) || !in_unit(a)))
		return MS_EINVAL;
	t = malloc(sizeof(*t));
	if (!t)
		return MS_ENOMEM;
	exists = store_track_get(s, track, t);
	if (!exists && t->error[0])
		exists = MS_ENOTFOUND; /* not a playable track */
	free(t);
	if (exists)
		return exists;
	rc = store_begin(s);
	if (rc)
		return rc;
	rc = feedback_upsert(s, user, track, kind, v, a, now);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

#define FEEDBACK_COLS                                                          \
	"track, liked, skips, early_skips, not_mood, not_mood_valence, "       \
	"not_mood_arousal, has_point, point_valence, point_arousal"

static void feedback_read(sqlite3_stmt *st, struct store_feedback *f)
{
	f->track = sqlite3_column_int64(st, 0);
	f->liked = sqlite3_column_int(st, 1);
	f->skips = sqlite3_column_int(st, 2);
	f->early_skips = sqlite3_column_int(st, 3);
	f->not_mood = sqlite3_column_int(st, 4);
	f->not_mood_valence = sqlite3_column_double(st, 5);
	f->not_mood_arousal = sqlite3_column_double(st, 6);
	f->has_point = sqlite3_column_int(st, 7);
	f->point_valence = sqlite3_column_double(st, 8);
	f->point_arousal = sqlite3_column_double(st, 9);
}

int store_feedback_get(struct store *s, const char *user, int64_t track,
		       struct store_feedback *out)
{
	sqlite3_stmt *st;
	int src, rc = MS_OK;

	memset(out, 0, sizeof(*out));
	out->track = track;
	if (!valid_user(user))
		return MS_EINVAL;
	st = prep(s, "SELECT " FEEDBACK_COLS " FROM track_feedback"
		     " WHERE user = ?1 AND track = ?2");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, track);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		feedback_read(st, out);
	else if (src != SQLITE_DONE)
		rc = MS_EDB;
	sqlite3_finalize(st);
	return rc;
}

int store_feedback_list(struct store *s, const char *user,
			struct store_feedback *out, int max, int *n)
{
	sqlite3_stmt *st;
	int k = 0, src = SQLITE_DONE;

	*n = 0;
	if (!valid_user(user))
		return MS_EINVAL;
	st = prep(s, "SELECT " FEEDBACK_COLS " FROM track_feedback"
		     " WHERE user = ?1 ORDER BY updated DESC LIMIT ?2");
	if (!st)
		return MS_EDB;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, max);
	while (k < max && (src = sqlite3_step(st)) == SQLITE_ROW)
		feedback_read(st, &out[k++]);
	sqlite3_finalize(st);
	*n = k;
	return src == SQLITE_ROW || src == SQLITE_DONE ? MS_OK : MS_EDB;
}
