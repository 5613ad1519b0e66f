/* store.c - opening the SQLite database (WAL, busy timeout, migrations)
 * and the catalog, session and history queries. Every query is a prepared
 * statement owned by the store and used under its (recursive) lock, so one
 * store serves all server threads. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moodsync/store.h"
#include "store/library_store.h"
#include "store/store_internal.h"

#define BUSY_TIMEOUT_MS 5000

enum stmt_id {
	ST_CATALOG_COUNT,
	ST_CATALOG_ADD,
	ST_CATALOG_LIST,
	ST_SESSION_PUT,
	ST_SESSION_GET,
	ST_SESSION_TOUCH,
	ST_HISTORY_ADD,
	ST_HISTORY_LIST,
	ST_HISTORY_PRUNE,
	ST_HISTORY_DELETE,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_CATALOG_COUNT] = "SELECT count(*) FROM catalog",
	[ST_CATALOG_ADD] = "INSERT INTO catalog (mood, strategy, name, "
			   "description, query, url) VALUES (?,?,?,?,?,?)",
	[ST_CATALOG_LIST] = "SELECT id, mood, strategy, name, description, "
			    "query, url FROM catalog WHERE mood = ? AND "
			    "strategy = ? ORDER BY id LIMIT ?",
	[ST_SESSION_PUT] =
		"INSERT INTO sessions (id, strategy, goal, autoplay, created, "
		"last_seen) VALUES (?1, CASE WHEN ?2 = 'match' THEN 'match' "
		"ELSE 'lift' END, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE "
		"SET strategy = excluded.strategy, goal = excluded.goal, "
		"autoplay = excluded.autoplay, last_seen = excluded.last_seen",
	[ST_SESSION_GET] = "SELECT id, goal, autoplay, created, last_seen "
			   "FROM sessions WHERE id = ?",
	[ST_SESSION_TOUCH] =
		"INSERT INTO sessions (id, created, last_seen) VALUES (?,?,?) "
		"ON CONFLICT (id) DO UPDATE SET last_seen = "
		"max(last_seen, excluded.last_seen)",
	[ST_HISTORY_ADD] = "INSERT INTO history (session, t, mood, "
			   "confidence, feeling) VALUES (?,?,?,?,?)",
	[ST_HISTORY_LIST] = "SELECT session, t, mood, confidence, feeling "
			    "FROM (SELECT id, session, t, mood, confidence, "
			    "feeling FROM history WHERE session = ? AND t >= ? "
			    "ORDER BY t DESC, id DESC LIMIT ?) ORDER BY t, id",
	[ST_HISTORY_PRUNE] = "DELETE FROM history WHERE t < ?",
	[ST_HISTORY_DELETE] = "DELETE FROM history WHERE session = ?",
};

struct store {
	sqlite3 *db;
	pthread_mutex_t lock; /* recursive: held across begin..commit */
	sqlite3_stmt *st[ST_COUNT];
};

/* Creates the parent directories of `path` (mode 0700), like mkdir -p. */
static int make_parents(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	int n = snprintf(dir, sizeof(dir), "%s", path);

	if (n < 0 || (size_t)n >= sizeof(dir))
		return ms_errf(err, errlen, MS_ELIMIT,
			       "database path too long");
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return ms_errf(err, errlen, MS_EIO, "mkdir %s: %s", dir,
				       strerror(errno));
		*p = '/';
	}
	return MS_OK;
}

static int db_fail(struct store *s, char *err, size_t errlen, const char *what)
{
	return ms_errf(err, errlen, MS_EDB, "%s: %s", what,
		       sqlite3_errmsg(s->db));
}

static int exec_sql(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return MS_OK;
	rc = ms_errf(err, errlen, MS_EDB, "%s", msg ? msg : "sqlite error");
	sqlite3_free(msg);
	return rc;
}

int store_schema_version(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	pthread_mutex_lock(&s->lock);
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static int migrate(struct store *s, char *err, size_t errlen)
{
	int v = store_schema_version(s);
	char sql[64];
	int rc = MS_OK;

	if (v < 0)
		return db_fail(s, err, errlen, "reading user_version");
	if ((size_t)v > store_migrations_count)
		return ms_errf(err, errlen, MS_EUNSUPPORTED,
			       "database schema version %d is newer than this "
			       "program (%zu); not touching it",
			       v, store_migrations_count);
	for (size_t i = (size_t)v; i < store_migrations_count; i++) {
		rc = exec_sql(s, "BEGIN IMMEDIATE", err, errlen);
		if (rc)
			return rc;
		rc = exec_sql(s, store_migrations[i].sql, err, errlen);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if (!rc)
			rc = exec_sql(s, sql, err, errlen);
		if (!rc)
			rc = exec_sql(s, "COMMIT", err, errlen);
		if (rc) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		ms_info("store: migration %zu applied (%s)", i + 1,
			store_migrations[i].name);
	}
	return MS_OK;
}

/* chmod 0600 the WAL and shared-memory files of `path` where they exist
 * (left by an earlier run, perhaps with a looser mode); SQLite gives the
 * ones it creates the database file's mode. */
static int private_journals(const char *path, char *err, size_t errlen)
{
	static const char *const suffix[] = {"-wal", "-shm", "-journal"};
	char p[4096];

	for (size_t i = 0; i < MS_ARRAY_LEN(suffix); i++) {
		int n = snprintf(p, sizeof(p), "%s%s", path, suffix[i]);

		if (n < 0 || (size_t)n >= sizeof(p))
			return ms_errf(err, errlen, MS_ELIMIT,
				       "database path too long");
		if (chmod(p, 0600) != 0 && errno != ENOENT)
			return ms_errf(err, errlen, MS_EIO, "%s: %s", p,
				       strerror(errno));
	}
	return MS_OK;
}

int store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));
	pthread_mutexattr_t attr;
	int rc, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			SQLITE_OPEN_FULLMUTEX;

	if (!s)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (strcmp(path, ":memory:") != 0) {
		int fd;

		rc = make_parents(path, err, errlen);
		if (rc)
			goto out_free;
		/* SQLite would create it 0644; tokens live here: 0600,
		 * whatever mode an existing file had. */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0 || fchmod(fd, 0600) != 0) {
			rc = ms_errf(err, errlen, MS_EIO, "%s: %s", path,
				     strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out_free;
		}
		close(fd);
		rc = private_journals(path, err, errlen);
		if (rc)
			goto out_free;
	}
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		rc = ms_errf(err, errlen, MS_EDB, "%s: %s", path,
			     s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto out_close;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(s->db, 1);
	rc = exec_sql(s,
		      "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
		      " PRAGMA synchronous = NORMAL;",
		      err, errlen);
	if (!rc)
		rc = migrate(s, err, errlen);
	if (rc)
		goto out_close;
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			rc = db_fail(s, err, errlen, "preparing statements");
			goto out_close;
		}
	}
	*out = s;
	return MS_OK;
out_close:
	store_close(s);
	return rc;
out_free:
	pthread_mutex_destroy(&s->lock);
	free(s);
	return rc;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct sqlite3 *store_sqlite(struct store *s)
{
	return s->db;
}

int store_begin(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		pthread_mutex_unlock(&s->lock);
		return MS_EDB;
	}
	return MS_OK; /* the lock stays held until commit or rollback */
}

int store_commit(struct store *s)
{
	int rc = MS_OK;

	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		rc = MS_EDB;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void store_rollback(struct store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&s->lock);
}

void store_lock(struct store *s)
{
	pthread_mutex_lock(&s->lock);
}

void store_unlock(struct store *s)
{
	pthread_mutex_unlock(&s->lock);
}

/* Takes the lock and returns the reset statement `id`. */
static sqlite3_stmt *stmt_take(struct store *s, enum stmt_id id)
{
	pthread_mutex_lock(&s->lock);
	sqlite3_reset(s->st[id]);
	sqlite3_clear_bindings(s->st[id]);
	return s->st[id];
}

static void stmt_give(struct store *s, sqlite3_stmt *st)
{
	sqlite3_reset(st);
	pthread_mutex_unlock(&s->lock);
}

/* ---- helpers of the query files (store_internal.h) ---------------------- */

sqlite3_stmt *store_prep(struct store *s, const char *who, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		ms_warn("%s: %s", who, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int store_write_rc(int src)
{
	if (src == SQLITE_DONE || src == SQLITE_ROW)
		return MS_OK;
	if ((src & 0xff) == SQLITE_CONSTRAINT)
		return MS_EINVAL;
	return MS_EDB;
}

void store_col_copy(sqlite3_stmt *st, int col, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, outlen, "%s", t ? (const char *)t : "");
}

int store_hex_valid(const char *id, size_t min, size_t max)
{
	size_t n = 0;

	if (!id)
		return 0;
	for (; id[n]; n++)
		if (!((id[n] >= '0' && id[n] <= '9') ||
		      (id[n] >= 'a' && id[n] <= 'f')) ||
		    n >= max)
			return 0;
	return n >= min;
}

/* Session ids: 16 to 39 hex digits (the sessions table's CHECK). */
static int valid_id(const char *id)
{
	return store_hex_valid(id, 16, 39);
}

int store_catalog_count(struct store *s, int64_t *n)
{
	sqlite3_stmt *st = stmt_take(s, ST_CATALOG_COUNT);
	int rc = MS_EDB;

	if (sqlite3_step(st) == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		rc = MS_OK;
	}
	stmt_give(s, st);
	return rc;
}

int store_catalog_add(struct store *s, struct store_playlist *p)
{
	sqlite3_stmt *st;
	int rc;

	if (!p->name[0] || !p->query[0] || !p->url[0] || !p->mood[0] ||
	    !p->strategy[0])
		return MS_EINVAL;
	st = stmt_take(s, ST_CATALOG_ADD);
	sqlite3_bind_text(st, 1, p->mood, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->strategy, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->query, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, p->url, -1, SQLITE_STATIC);
	rc = store_write_rc(sqlite3_step(st));
	if (!rc)
		p->id = sqlite3_last_insert_rowid(s->db);
	stmt_give(s, st);
	return rc;
}

int store_catalog_list(struct store *s, const char *mood, const char *strategy,
		       struct store_playlist *out, int max, int *n)
{
	sqlite3_stmt *st = stmt_take(s, ST_CATALOG_LIST);
	int k = 0, src;

	sqlite3_bind_text(st, 1, mood, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, strategy, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, max);
	while (k < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_playlist *p = &out[k++];

		p->id = sqlite3_column_int64(st, 0);
		store_col_copy(st, 1, p->mood, sizeof(p->mood));
		store_col_copy(st, 2, p->strategy, sizeof(p->strategy));
		store_col_copy(st, 3, p->name, sizeof(p->name));
		store_col_copy(st, 4, p->description, sizeof(p->description));
		store_col_copy(st, 5, p->query, sizeof(p->query));
		store_col_copy(st, 6, p->url, sizeof(p->url));
	}
	stmt_give(s, st);
	*n = k;
	return MS_OK;
}

int store_session_put(struct store *s, const struct store_session *sess)
{
	sqlite3_stmt *st;
	int rc;

	if (!valid_id(sess->id))
		return MS_EINVAL;
	st = stmt_take(s, ST_SESSION_PUT);
	sqlite3_bind_text(st, 1, sess->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sess->strategy, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, sess->autoplay ? 1 : 0);
	sqlite3_bind_int64(st, 4, sess->created);
	sqlite3_bind_int64(st, 5, sess->last_seen);
	rc = store_write_rc(sqlite3_step(st));
	stmt_give(s, st);
	return rc;
}

int store_session_touch(struct store *s, const char *id, int64_t created,
			int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (!valid_id(id))
		return MS_EINVAL;
	st = stmt_take(s, ST_SESSION_TOUCH);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, created);
	sqlite3_bind_int64(st, 3, now);
	rc = store_write_rc(sqlite3_step(st));
	stmt_give(s, st);
	return rc;
}

int store_session_get(struct store *s, const char *id,
		      struct store_session *out)
{
	sqlite3_stmt *st;
	int rc = MS_ENOTFOUND, src;

	if (!valid_id(id))
		return MS_ENOTFOUND;
	st = stmt_take(s, ST_SESSION_GET);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		store_col_copy(st, 0, out->id, sizeof(out->id));
		store_col_copy(st, 1, out->strategy, sizeof(out->strategy));
		out->autoplay = sqlite3_column_int(st, 2);
		out->created = sqlite3_column_int64(st, 3);
		out->last_seen = sqlite3_column_int64(st, 4);
		rc = MS_OK;
	} else if (src != SQLITE_DONE) {
		rc = MS_EDB;
	}
	stmt_give(s, st);
	return rc;
}

static int history_add_one(struct store *s, const struct store_mood_row *r)
{
	sqlite3_stmt *st;
	int rc;

	if (!valid_id(r->session) || !(r->confidence >= 0.0f) ||
	    r->confidence > 1.0f)
		return MS_EINVAL;
	st = stmt_take(s, ST_SESSION_TOUCH);
	sqlite3_bind_text(st, 1, r->session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->t);
	sqlite3_bind_int64(st, 3, r->t);
	rc = store_write_rc(sqlite3_step(st));
	stmt_give(s, st);
	if (rc)
		return rc;
	st = stmt_take(s, ST_HISTORY_ADD);
	sqlite3_bind_text(st, 1, r->session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->t);
	sqlite3_bind_text(st, 3, r->mood, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 4, r->confidence);
	if (r->feeling[0])
		sqlite3_bind_text(st, 5, r->feeling, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	rc = store_write_rc(sqlite3_step(st));
	stmt_give(s, st);
	return rc;
}

int store_history_add(struct store *s, const struct store_mood_row *rows, int n)
{
	int rc = store_begin(s);

	if (rc)
		return rc;
	for (int i = 0; i < n && !rc; i++)
		rc = history_add_one(s, &rows[i]);
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

int store_history_list(struct store *s, const char *session, int64_t since,
		       struct store_mood_row *out, int max, int *n)
{
	sqlite3_stmt *st;
	int k = 0, src = SQLITE_DONE;

	*n = 0;
	if (!valid_id(session) || max <= 0)
		return MS_OK;
	st = stmt_take(s, ST_HISTORY_LIST);
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	sqlite3_bind_int(st, 3, max);
	while (k < max && (src = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_mood_row *r = &out[k++];

		store_col_copy(st, 0, r->session, sizeof(r->session));
		r->t = sqlite3_column_int64(st, 1);
		store_col_copy(st, 2, r->mood, sizeof(r->mood));
		r->confidence = (float)sqlite3_column_double(st, 3);
		store_col_copy(st, 4, r->feeling, sizeof(r->feeling));
	}
	stmt_give(s, st);
	*n = k;
	return src == SQLITE_ROW || src == SQLITE_DONE ? MS_OK : MS_EDB;
}

int store_history_prune(struct store *s, int64_t before, int64_t *deleted)
{
	sqlite3_stmt *st = stmt_take(s, ST_HISTORY_PRUNE);
	int rc;

	sqlite3_bind_int64(st, 1, before);
	rc = store_write_rc(sqlite3_step(st));
	if (!rc && deleted)
		*deleted = sqlite3_changes64(s->db);
	stmt_give(s, st);
	return rc;
}

int store_history_delete(struct store *s, const char *session, int64_t *deleted)
{
	sqlite3_stmt *st;
	int rc;

	if (!valid_id(session))
		return MS_EINVAL;
	st = stmt_take(s, ST_HISTORY_DELETE);
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	rc = store_write_rc(sqlite3_step(st));
	if (!rc && deleted)
		*deleted = sqlite3_changes64(s->db);
	stmt_give(s, st);
	return rc;
}
