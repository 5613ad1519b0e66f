/* test_store.c - unit tests for src/store: migrations (fresh, reopen, a
 * newer database refused untouched), catalog, sessions, mood history, and
 * that bad input fails cleanly without losing stored rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <math.h>
#include <sqlite3.h>

#include "moodsync/store.h"
#include "store/store_internal.h"

#define SID "0123456789abcdef0123456789abcdef"
#define SID2 "fedcba9876543210fedcba9876543210"

static struct store *open_mem(void)
{
	struct store *s = NULL;
	char err[MS_ERRLEN];

	assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), MS_OK);
	return s;
}

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/tmp/ms_test_store_%d/sub/%s", (int)getpid(), name);
}

static void cleanup_dir(const char *path)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/ms_test_store_%d",
		 (int)getpid());
	(void)path;
	assert_int_equal(system(cmd), 0);
}

static void test_migrations_fresh_and_reopen(void **state)
{
	char path[256], err[MS_ERRLEN];
	struct store *s = NULL;
	struct store_playlist p;
	int64_t n = 0;

	(void)state;
	tmp_path(path, sizeof(path), "a.db");
	/* parent directories are created */
	assert_int_equal(store_open(path, &s, err, sizeof(err)), MS_OK);
	assert_int_equal(store_schema_version(s), (int)store_migrations_count);
	memset(&p, 0, sizeof(p));
	snprintf(p.mood, sizeof(p.mood), "sad");
	snprintf(p.strategy, sizeof(p.strategy), "lift");
	snprintf(p.name, sizeof(p.name), "Gentle");
	snprintf(p.query, sizeof(p.query), "gentle uplifting");
	snprintf(p.url, sizeof(p.url),
		 "https://open.spotify.com/search/gentle%%20uplifting");
	assert_int_equal(store_catalog_add(s, &p), MS_OK);
	assert_true(p.id > 0);
	store_close(s);
	/* reopening applies nothing and keeps the data */
	assert_int_equal(store_open(path, &s, err, sizeof(err)), MS_OK);
	assert_int_equal(store_schema_version(s), (int)store_migrations_count);
	assert_int_equal(store_catalog_count(s, &n), MS_OK);
	assert_int_equal(n, 1);
	store_close(s);
	assert_int_equal(access(path, R_OK), 0);
	cleanup_dir(path);
}

static void test_newer_database_refused(void **state)
{
	char path[256], err[MS_ERRLEN], sql[128];
	struct store *s = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	tmp_path(path, sizeof(path), "new.db");
	assert_int_equal(store_open(path, &s, err, sizeof(err)), MS_OK);
	store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE keep (x); INSERT INTO keep VALUES (42);"
		 "PRAGMA user_version = %zu",
		 store_migrations_count + 5);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s = NULL;
	assert_int_equal(store_open(path, &s, err, sizeof(err)),
			 MS_EUNSUPPORTED);
	assert_null(s);
	assert_non_null(strstr(err, "newer"));
	/* untouched */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(db, "SELECT x FROM keep", -1, &st, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 42);
	sqlite3_finalize(st);
	sqlite3_close(db);
	cleanup_dir(path);
}

static void test_not_a_database(void **state)
{
	char path[256], err[MS_ERRLEN];
	struct store *s = NULL;
	FILE *f;

	(void)state;
	tmp_path(path, sizeof(path), "junk.db");
	assert_int_equal(store_open(path, &s, err, sizeof(err)), MS_OK);
	store_close(s);
	unlink(path);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("this is not an SQLite file, but it is somebody's data\n", f);
	fclose(f);
	s = NULL;
	assert_int_not_equal(store_open(path, &s, err, sizeof(err)), MS_OK);
	assert_null(s);
	{
		char line[128] = "";

		f = fopen(path, "rb");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		assert_non_null(strstr(line, "somebody's data"));
	}
	cleanup_dir(path);
}

static void test_catalog_bad_input(void **state)
{
	struct store *s = open_mem();
	struct store_playlist p, out[4];
	int64_t n = 0;
	int k = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	snprintf(p.mood, sizeof(p.mood), "happy");
	snprintf(p.strategy, sizeof(p.strategy), "match");
	snprintf(p.name, sizeof(p.name), "Happy hits");
	snprintf(p.description, sizeof(p.description), "pop");
	snprintf(p.query, sizeof(p.query), "happy hits");
	snprintf(p.url, sizeof(p.url),
		 "https://open.spotify.com/search/happy%%20hits");
	assert_int_equal(store_catalog_add(s, &p), MS_OK);
	/* unknown mood, bad strategy, empty name, foreign link: refused */
	snprintf(p.mood, sizeof(p.mood), "bored");
	assert_int_equal(store_catalog_add(s, &p), MS_EINVAL);
	snprintf(p.mood, sizeof(p.mood), "happy");
	snprintf(p.strategy, sizeof(p.strategy), "drop");
	assert_int_equal(store_catalog_add(s, &p), MS_EINVAL);
	snprintf(p.strategy, sizeof(p.strategy), "match");
	p.name[0] = '\0';
	assert_int_equal(store_catalog_add(s, &p), MS_EINVAL);
	snprintf(p.name, sizeof(p.name), "x");
	snprintf(p.url, sizeof(p.url), "https://evil.example/x");
	assert_int_equal(store_catalog_add(s, &p), MS_EINVAL);
	assert_int_equal(store_catalog_count(s, &n), MS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_catalog_list(s, "happy", "match", out, 4, &k),
			 MS_OK);
	assert_int_equal(k, 1);
	assert_string_equal(out[0].name, "Happy hits");
	assert_int_equal(store_catalog_list(s, "happy", "lift", out, 4, &k),
			 MS_OK);
	assert_int_equal(k, 0);
	store_close(s);
}

static struct store_mood_row row(const char *sid, int64_t t, const char *mood,
				 float c)
{
	struct store_mood_row r;

	memset(&r, 0, sizeof(r));
	snprintf(r.session, sizeof(r.session), "%s", sid);
	r.t = t;
	snprintf(r.mood, sizeof(r.mood), "%s", mood);
	r.confidence = c;
	return r;
}

static void test_history(void **state)
{
	struct store *s = open_mem();
	struct store_mood_row rows[8], out[8];
	int64_t del = 0;
	int n = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		rows[i] = row(SID, 1000 + i * 1000, i < 3 ? "sad" : "happy",
			      0.5f + 0.1f * (float)i);
	rows[5] = row(SID2, 2500, "angry", 0.9f);
	assert_int_equal(store_history_add(s, rows, 6), MS_OK);
	assert_int_equal(store_history_list(s, SID, 0, out, 8, &n), MS_OK);
	assert_int_equal(n, 5);
	assert_int_equal(out[0].t, 1000);
	assert_string_equal(out[4].mood, "happy");
	/* the newest `max`, oldest first */
	assert_int_equal(store_history_list(s, SID, 0, out, 2, &n), MS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].t, 4000);
	assert_int_equal(out[1].t, 5000);
	/* since */
	assert_int_equal(store_history_list(s, SID, 3000, out, 8, &n), MS_OK);
	assert_int_equal(n, 3);
	/* sessions do not see each other */
	assert_int_equal(store_history_list(s, SID2, 0, out, 8, &n), MS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].mood, "angry");
	/* a batch with one bad row stores nothing and keeps the old rows */
	rows[0] = row(SID, 9000, "happy", 0.5f);
	rows[1] = row(SID, 9001, "ecstatic", 0.5f);
	assert_int_equal(store_history_add(s, rows, 2), MS_EINVAL);
	rows[1] = row(SID, 9001, "happy", 1.5f);
	assert_int_equal(store_history_add(s, rows, 2), MS_EINVAL);
	rows[1] = row("not-hex!", 9001, "happy", 0.5f);
	assert_int_equal(store_history_add(s, rows, 2), MS_EINVAL);
	rows[1] = row(SID, 9001, "happy", NAN);
	assert_int_equal(store_history_add(s, rows, 2), MS_EINVAL);
	assert_int_equal(store_history_list(s, SID, 0, out, 8, &n), MS_OK);
	assert_int_equal(n, 5);
	assert_int_equal(out[4].t, 5000);
	/* bad ids read as empty, not as errors */
	assert_int_equal(store_history_list(s, "x' OR 1=1 --", 0, out, 8, &n),
			 MS_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_history_prune(s, 3000, &del), MS_OK);
	assert_int_equal(del, 3); /* 1000, 2000 of SID and 2500 of SID2 */
	/* one session's delete leaves the others' rows */
	rows[0] = row(SID2, 9500, "fear", 0.4f);
	assert_int_equal(store_history_add(s, rows, 1), MS_OK);
	assert_int_equal(store_history_delete(s, SID, &del), MS_OK);
	assert_int_equal(del, 3);
	assert_int_equal(store_history_list(s, SID, 0, out, 8, &n), MS_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_history_list(s, SID2, 0, out, 8, &n), MS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].mood, "fear");
	assert_int_equal(store_history_delete(s, "x' OR 1=1 --", &del),
			 MS_EINVAL);
	assert_int_equal(store_history_list(s, SID2, 0, out, 8, &n), MS_OK);
	assert_int_equal(n, 1);
	store_close(s);
}

/* Rows carry the fused feeling; none reads back as "", a bad one fails. */
static void test_history_feeling(void **state)
{
	struct store *s = open_mem();
	struct store_mood_row rows[2], out[4];
	int n = 0;

	(void)state;
	rows[0] = row(SID, 1000, "sad", 0.7f);
	snprintf(rows[0].feeling, sizeof(rows[0].feeling), "tired");
	rows[1] = row(SID, 2000, "happy", 0.6f);
	assert_int_equal(store_history_add(s, rows, 2), MS_OK);
	assert_int_equal(store_history_list(s, SID, 0, out, 4, &n), MS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].feeling, "tired");
	assert_string_equal(out[1].feeling, "");
	rows[0] = row(SID, 3000, "sad", 0.7f);
	snprintf(rows[0].feeling, sizeof(rows[0].feeling), "gloomy");
	assert_int_equal(store_history_add(s, rows, 1), MS_EINVAL);
	assert_int_equal(store_history_list(s, SID, 0, out, 4, &n), MS_OK);
	assert_int_equal(n, 2);
	store_close(s);
}

static void test_sessions(void **state)
{
	struct store *s = open_mem();
	struct store_session a, b;

	(void)state;
	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), SID);
	snprintf(a.strategy, sizeof(a.strategy), "lift");
	a.autoplay = 0;
	a.created = 111;
	a.last_seen = 222;
	assert_int_equal(store_session_get(s, SID, &b), MS_ENOTFOUND);
	assert_int_equal(store_session_put(s, &a), MS_OK);
	assert_int_equal(store_session_get(s, SID, &b), MS_OK);
	assert_string_equal(b.strategy, "lift");
	assert_int_equal(b.autoplay, 0);
	assert_int_equal(b.created, 111);
	/* a bad update changes nothing */
	snprintf(a.strategy, sizeof(a.strategy), "wild");
	assert_int_equal(store_session_put(s, &a), MS_EINVAL);
	snprintf(a.id, sizeof(a.id), "short");
	assert_int_equal(store_session_put(s, &a), MS_EINVAL);
	assert_int_equal(store_session_get(s, SID, &b), MS_OK);
	assert_string_equal(b.strategy, "lift");
	store_close(s);
}

static void test_helpers(void **state)
{
	struct store *s = open_mem();
	sqlite3_stmt *st;
	char out[4];

	(void)state;
	assert_true(store_hex_valid("0123456789abcdef", 16, 39));
	assert_true(store_hex_valid("0123456789abcdef0123456789abcdef0123456",
				    16, 39));
	assert_false(store_hex_valid("0123456789abcdef0123456789abcdef01234567",
				     16, 39));
	assert_false(store_hex_valid("0123456789abcde", 16, 39));
	assert_false(store_hex_valid("0123456789ABCDEF", 16, 39));
	assert_false(store_hex_valid("0123456789abcdeg", 16, 39));
	assert_false(store_hex_valid(NULL, 0, 4));
	assert_true(store_hex_valid("", 0, 4));
	assert_int_equal(store_write_rc(SQLITE_DONE), MS_OK);
	assert_int_equal(store_write_rc(SQLITE_CONSTRAINT_CHECK), MS_EINVAL);
	assert_int_equal(store_write_rc(SQLITE_BUSY), MS_EDB);
	assert_null(store_prep(s, "test", "SELECT nonsense FROM nowhere"));
	st = store_prep(s, "test", "SELECT 'abcdef', NULL");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	store_col_copy(st, 0, out, sizeof(out));
	assert_string_equal(out, "abc"); /* cut to fit */
	store_col_copy(st, 1, out, sizeof(out));
	assert_string_equal(out, "");
	sqlite3_finalize(st);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations_fresh_and_reopen),
		cmocka_unit_test(test_newer_database_refused),
		cmocka_unit_test(test_not_a_database),
		cmocka_unit_test(test_catalog_bad_input),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_history_feeling),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_helpers),
	};

	ms_log_set_level(MS_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
