/* test_library.c - unit tests for the music library: the track and
 * feedback queries (src/store/library.c), the folder scan with a fake
 * analyser (src/music/library.c: new, unchanged, changed, removed, bad
 * and vanished files, symlink loops), the user-dirs.dirs parser, and the
 * player over the store's tracks and feedback (the journey itself:
 * test_journey.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "moodsync/library.h"
#include "moodsync/store.h"
#include "music/library_internal.h"

#define USER "0123456789abcdef0123456789abcdef"
#define USER2 "fedcba9876543210fedcba9876543210"

static struct store *open_mem(void)
{
	struct store *s = NULL;
	char err[MS_ERRLEN];

	assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), MS_OK);
	return s;
}

static void track_fill(struct store_track *t, const char *path, double v,
		       double a)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	snprintf(t->title, sizeof(t->title), "title of %s", path);
	snprintf(t->mime, sizeof(t->mime), "audio/ogg");
	t->size = 1000;
	t->mtime_ns = 42;
	t->duration_s = 120;
	t->valence = v;
	t->arousal = a;
}

/* ---- store ----------------------------------------------------------------
 */

static void test_store_tracks(void **state)
{
	struct store *s = open_mem();
	struct store_track *t = calloc(2, sizeof(*t));
	int64_t n = -1, skipped = -1, id;

	(void)state;
	track_fill(&t[0], "/music/a.ogg", 0.5, -0.5);
	assert_int_equal(store_track_put(s, &t[0]), MS_OK);
	id = t[0].id;
	assert_true(id > 0);
	/* an update keeps the id */
	t[0].valence = -0.25;
	t[0].size = 2000;
	assert_int_equal(store_track_put(s, &t[0]), MS_OK);
	assert_int_equal(t[0].id, id);
	assert_int_equal(store_track_get(s, id, &t[1]), MS_OK);
	assert_string_equal(t[1].path, "/music/a.ogg");
	assert_true(fabs(t[1].valence + 0.25) < 1e-9);
	assert_int_equal(t[1].size, 2000);
	assert_string_equal(t[1].features, "{}");
	/* bad input changes nothing */
	t[1].valence = 1.5;
	assert_int_equal(store_track_put(s, &t[1]), MS_EINVAL);
	t[1].valence = NAN;
	assert_int_equal(store_track_put(s, &t[1]), MS_EINVAL);
	track_fill(&t[1], "relative.ogg", 0, 0);
	assert_int_equal(store_track_put(s, &t[1]), MS_EINVAL);
	assert_int_equal(store_track_get(s, id, &t[1]), MS_OK);
	assert_true(fabs(t[1].valence + 0.25) < 1e-9);
	/* a skipped file counts apart */
	track_fill(&t[1], "/music/bad.mp3", 0, 0);
	snprintf(t[1].error, sizeof(t[1].error), "not an mp3");
	assert_int_equal(store_track_put(s, &t[1]), MS_OK);
	assert_int_equal(store_track_count(s, &n, &skipped), MS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, 1);
	assert_int_equal(store_track_get(s, 9999, &t[1]), MS_ENOTFOUND);
	assert_int_equal(store_track_delete(s, id), MS_OK);
	assert_int_equal(store_track_get(s, id, &t[1]), MS_ENOTFOUND);
	free(t);
	store_close(s);
}

static void test_store_feedback(void **state)
{
	struct store *s = open_mem();
	struct store_track t;
	struct store_feedback f;
	int n = 0;

	(void)state;
	track_fill(&t, "/music/a.ogg", 0.1, 0.2);
	assert_int_equal(store_track_put(s, &t), MS_OK);
	assert_int_equal(store_feedback_get(s, USER, t.id, &f), MS_OK);
	assert_int_equal(f.liked + f.skips + f.has_point, 0);
	assert_int_equal(
		store_feedback_add(s, USER, t.id, STORE_FB_LIKE, 0, 0, 1),
		MS_OK);
	assert_int_equal(
		store_feedback_add(s, USER, t.id, STORE_FB_SKIP, 0, 0, 2),
		MS_OK);
	assert_int_equal(
		store_feedback_add(s, USER, t.id, STORE_FB_EARLY_SKIP, 0, 0, 3),
		MS_OK);
	assert_int_equal(
		store_feedback_add(s, USER, t.id, STORE_FB_EARLY_SKIP, 0, 0, 3),
		MS_OK);
	assert_int_equal(store_feedback_add(s, USER, t.id, STORE_FB_NOT_MOOD,
					    -0.7, -0.4, 4),
			 MS_OK);
	assert_int_equal(
		store_feedback_add(s, USER, t.id, STORE_FB_POINT, 0.9, -0.9, 5),
		MS_OK);
	assert_int_equal(store_feedback_get(s, USER, t.id, &f), MS_OK);
	assert_int_equal(f.liked, 1);
	assert_int_equal(f.skips, 1);
	assert_int_equal(f.early_skips, 2);
	assert_int_equal(f.not_mood, 1);
	assert_true(fabs(f.not_mood_valence + 0.7) < 1e-9);
	assert_int_equal(f.has_point, 1);
	assert_true(fabs(f.point_arousal + 0.9) < 1e-9);
	assert_int_equal(
		store_feedback_add(s, USER, t.id, STORE_FB_UNLIKE, 0, 0, 6),
		MS_OK);
	assert_int_equal(store_feedback_get(s, USER, t.id, &f), MS_OK);
	assert_int_equal(f.liked, 0);
	assert_int_equal(f.skips, 1); /* the rest stays */
	/* bad input: nothing recorded */
	assert_int_equal(
		store_feedback_add(s, "nope", t.id, STORE_FB_LIKE, 0, 0, 7),
		MS_EINVAL);
	assert_int_equal(
		store_feedback_add(s, USER, t.id, STORE_FB_POINT, 2, 0, 7),
		MS_EINVAL);
	assert_int_equal(
		store_feedback_add(s, USER, t.id, STORE_FB_POINT, NAN, 0, 7),
		MS_EINVAL);
	assert_int_equal(
		store_feedback_add(s, USER, 777, STORE_FB_LIKE, 0, 0, 7),
		MS_ENOTFOUND);
	assert_int_equal(store_feedback_add(s, USER, t.id,
					    (enum store_feedback_kind)99, 0, 0,
					    7),
			 MS_EINVAL);
	assert_int_equal(store_feedback_list(s, USER, &f, 1, &n), MS_OK);
	assert_int_equal(n, 1);
	/* feedback goes with its track */
	assert_int_equal(store_track_delete(s, t.id), MS_OK);
	assert_int_equal(store_feedback_list(s, USER, &f, 1, &n), MS_OK);
	assert_int_equal(n, 0);
	store_close(s);
}

static void test_store_goal(void **state)
{
	struct store *s = open_mem();
	struct store_session in, out;

	(void)state;
	memset(&in, 0, sizeof(in));
	snprintf(in.id, sizeof(in.id), USER);
	snprintf(in.strategy, sizeof(in.strategy), "energise");
	in.created = in.last_seen = 1;
	assert_int_equal(store_session_put(s, &in), MS_OK);
	assert_int_equal(store_session_get(s, USER, &out), MS_OK);
	assert_string_equal(out.strategy, "energise");
	snprintf(in.strategy, sizeof(in.strategy), "bogus");
	assert_int_equal(store_session_put(s, &in), MS_EINVAL);
	assert_int_equal(store_session_get(s, USER, &out), MS_OK);
	assert_string_equal(out.strategy, "energise");
	store_close(s);
}

/* ---- scan ------------------------------------------------------------------
 */

/* Fake analyser: the file holds "valence arousal duration [artist
 * [title]]" (the title and album tags are both `title`);
 * "bad..." is a corrupt file, "vanish" one deleted while it is read. */
static int fake_analyze(void *ctx, const char *path,
			struct music_track_info *out, char *err, size_t errlen)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	(*(int *)ctx)++;
	if (!f)
		return ms_errf(err, errlen, MS_EIO, "cannot open");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (strncmp(buf, "vanish", 6) == 0) { /* gone while we read it */
		unlink(path);
		return ms_errf(err, errlen, MS_EIO, "read error");
	}
	if (strncmp(buf, "bad", 3) == 0 || n == 0)
		return ms_errf(err, errlen, MS_EFORMAT, "not audio");
	if (sscanf(buf, "%lf %lf %lf %255s %255s", &out->valence, &out->arousal,
		   &out->duration_s, out->artist, out->title) < 3)
		return ms_errf(err, errlen, MS_EFORMAT, "unreadable");
	snprintf(out->album, sizeof(out->album), "%s", out->title);
	return MS_OK;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *analyser_version = "fake-1";

static int scan(struct store *s, const char *dir, int *calls,
		struct music_scan_progress *p)
{
	struct music_scan_opts o;
	struct music_scan *sc = NULL;
	char err[MS_ERRLEN];
	int rc;

	memset(&o, 0, sizeof(o));
	o.dirs[0] = dir;
	o.dirs[1] = "/nonexistent/moodsync/folder";
	o.ndirs = 2;
	o.jobs = 2;
	o.analyze = fake_analyze;
	o.analyze_ctx = calls;
	o.analyser = analyser_version;
	*calls = 0;
	assert_int_equal(music_scan_new(s, &o, &sc, err, sizeof(err)), MS_OK);
	rc = music_scan_run(sc, err, sizeof(err));
	music_scan_progress(sc, p);
	music_scan_free(sc);
	return rc;
}

static void test_scan(void **state)
{
	char dir[128], sub[160], cmd[256];
	struct store *s = open_mem();
	struct music_scan_progress p;
	int64_t n = 0, skipped = 0;
	int calls = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ms_test_library_%d", (int)getpid());
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "a.ogg", "0.5 0.5 100 ann");
	write_file(dir, "b.WAV", "-0.5 -0.5 50 bob");
	write_file(dir, "notes.txt", "0 0 1");
	write_file(sub, "c.mp3", "bad file");
	write_file(sub, "empty.flac", "");
	write_file(sub, "d.flac", "0.1 0.9 10");
	write_file(sub, "gone.ogg", "vanish");
	snprintf(cmd, sizeof(cmd), "%s/loop", sub);
	assert_int_equal(symlink(dir, cmd), 0); /* a loop back to the root */
	snprintf(cmd, sizeof(cmd), "%s/dangling.ogg", sub);
	assert_int_equal(symlink("/nonexistent/x.ogg", cmd), 0);

	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(p.found, 6);
	assert_int_equal(p.total, 6);
	assert_int_equal(p.done, 6);
	assert_int_equal(p.skipped, 2);
	/* loop, dangling link, missing root, the file that vanished */
	assert_int_equal(p.problems, 4);
	assert_int_equal(p.running, 0);
	assert_int_equal(calls, 6);
	assert_int_equal(store_track_count(s, &n, &skipped), MS_OK);
	assert_int_equal(n, 5);
	assert_int_equal(skipped, 2);

	/* nothing changed: nothing analysed */
	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(calls, 0);
	assert_int_equal(p.unchanged, 5);
	assert_int_equal(p.total, 0);

	/* a changed file, a removed file */
	write_file(dir, "a.ogg", "0.25 0.5 100 ann2");
	snprintf(cmd, sizeof(cmd), "%s/d.flac", sub);
	assert_int_equal(unlink(cmd), 0);
	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(calls, 1);
	assert_int_equal(p.removed, 1);
	assert_int_equal(store_track_count(s, &n, &skipped), MS_OK);
	assert_int_equal(n, 4);

	/* a new analyser version analyses everything again */
	analyser_version = "fake-2";
	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(calls, 4);
	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(calls, 0);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	store_close(s);
}

/* The shown title of the row of dir/name. */
static const char *title_of(struct store *s, const char *dir, const char *name,
			    struct store_track *t)
{
	char p[512];
	int64_t n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(store_track_count(s, &n, NULL), MS_OK);
	for (int64_t id = 1; id <= n + 16; id++)
		if (store_track_get(s, id, t) == MS_OK && !strcmp(t->path, p))
			return t->title;
	fail_msg("no row for %s", p);
	return NULL;
}

static void test_title_from_name(void **state)
{
	char out[64];

	(void)state;
	music_title_from_name("/m/hr3-caves.ogg", out, sizeof(out));
	assert_string_equal(out, "hr3 caves");
	music_title_from_name("__a -_ b--.ogg", out, sizeof(out));
	assert_string_equal(out, "a b");
	music_title_from_name("/m/caf\xc3\xa9\xff\x01.ogg", out, sizeof(out));
	assert_string_equal(out, "caf\xc3\xa9??");
	music_title_from_name("/m/--.ogg", out, sizeof(out));
	assert_string_equal(out, "--");
	music_title_from_name("/m/.ogg", out, sizeof(out));
	assert_string_equal(out, ".ogg");
	music_title_from_name("/m/abcdefghij.ogg", out, 8); /* bounded */
	assert_true(strlen(out) < 8);
	assert_int_equal(strncmp(out, "ab", 2), 0);
}

/* Files of one folder that share title, artist and album tags show titles
 * from their file names; the tag comes back when they no longer share
 * it, and a rescan with nothing to analyse settles an old database. */
static void test_scan_titles(void **state)
{
	char dir[128], x[160], y[160], cmd[256];
	struct store *s = open_mem();
	struct store_track *t = calloc(1, sizeof(*t));
	struct music_scan_progress p;
	int calls = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ms_test_titles_%d", (int)getpid());
	snprintf(x, sizeof(x), "%s/x", dir);
	snprintf(y, sizeof(y), "%s/y", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(x, 0700), 0);
	assert_int_equal(mkdir(y, 0700), 0);
	write_file(x, "hr3-caves.ogg", "0 0 10 neon Living");
	write_file(x, "hr3_desert.ogg", "0.1 0 10 neon Living");
	write_file(x, "solo.ogg", "0.2 0 10 neon Solo");
	write_file(x, "other-artist.ogg", "0.3 0 10 ann Living");
	write_file(x, "no_tags.ogg", "0.4 0 10");
	write_file(y, "elsewhere.ogg", "0.5 0 10 neon Living");

	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(calls, 6);
	assert_string_equal(title_of(s, x, "hr3-caves.ogg", t), "hr3 caves");
	assert_string_equal(t->tag_title, "Living");
	assert_string_equal(title_of(s, x, "hr3_desert.ogg", t), "hr3 desert");
	assert_string_equal(title_of(s, x, "solo.ogg", t), "Solo");
	assert_string_equal(title_of(s, x, "other-artist.ogg", t), "Living");
	assert_string_equal(title_of(s, x, "no_tags.ogg", t), "no tags");
	assert_string_equal(title_of(s, y, "elsewhere.ogg", t), "Living");

	/* a database written before the rule: the rescan analyses nothing
	 * and still settles the titles */
	title_of(s, x, "hr3-caves.ogg", t);
	assert_int_equal(store_track_set_title(s, t->id, "Living"), MS_OK);
	assert_int_equal(store_track_set_title(s, 999999, "x"), MS_ENOTFOUND);
	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(calls, 0);
	assert_string_equal(title_of(s, x, "hr3-caves.ogg", t), "hr3 caves");
	/* ... and a tagless file, whose old rows hold its bare name as tag */
	title_of(s, x, "no_tags.ogg", t);
	snprintf(t->tag_title, sizeof(t->tag_title), "no_tags");
	snprintf(t->title, sizeof(t->title), "no_tags");
	assert_int_equal(store_track_put(s, t), MS_OK);
	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(calls, 0);
	assert_string_equal(title_of(s, x, "no_tags.ogg", t), "no tags");

	/* the tags differ again: each shows its tag */
	write_file(x, "hr3_desert.ogg", "0.1 0 10 neon Desert");
	assert_int_equal(scan(s, dir, &calls, &p), MS_OK);
	assert_int_equal(calls, 1);
	assert_string_equal(title_of(s, x, "hr3-caves.ogg", t), "Living");
	assert_string_equal(title_of(s, x, "hr3_desert.ogg", t), "Desert");

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(t);
	store_close(s);
}

static void test_scan_bad_opts(void **state)
{
	struct music_scan_opts o;
	struct music_scan *sc = NULL;
	char err[MS_ERRLEN];

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(music_scan_new(NULL, &o, &sc, err, sizeof(err)),
			 MS_EINVAL);
	assert_null(music_mime_of("x.txt"));
	assert_null(music_mime_of("noext"));
	assert_null(music_mime_of("dir.ogg/file"));
	assert_string_equal(music_mime_of("/a/b.Ogg"), "audio/ogg");
	assert_string_equal(music_mime_of("b.mp3"), "audio/mpeg");
	assert_string_equal(music_mime_of("b.flac"), "audio/flac");
	assert_string_equal(music_mime_of("b.wav"), "audio/wav");
}

static void test_user_dirs(void **state)
{
	char out[256];
	const char *t1 = "# comment\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\n"
			 "  XDG_MUSIC_DIR=\"$HOME/My \\\"Music\\\"\"\n";
	const char *t2 = "XDG_MUSIC_DIR=\"/srv/music\"";

	(void)state;
	assert_int_equal(music_user_dirs_parse(t1, strlen(t1), "/home/u", out,
					       sizeof(out)),
			 MS_OK);
	assert_string_equal(out, "/home/u/My \"Music\"");
	assert_int_equal(
		music_user_dirs_parse(t2, strlen(t2), "/h", out, sizeof(out)),
		MS_OK);
	assert_string_equal(out, "/srv/music");
	assert_int_equal(music_user_dirs_parse("XDG_MUSIC_DIR=\"$HOME/\"", 22,
					       "/h", out, sizeof(out)),
			 MS_ENOTFOUND);
	assert_int_equal(music_user_dirs_parse("XDG_MUSIC_DIR=\"rel\"", 19,
					       "/h", out, sizeof(out)),
			 MS_EFORMAT);
	assert_int_equal(music_user_dirs_parse("XDG_MUSIC_DIR=\"/open", 20,
					       "/h", out, sizeof(out)),
			 MS_EFORMAT);
	assert_int_equal(music_user_dirs_parse("", 0, "/h", out, sizeof(out)),
			 MS_ENOTFOUND);
	assert_int_equal(music_user_dirs_parse(t2, strlen(t2), "/h", out, 5),
			 MS_ELIMIT);
}

/* ---- the player: the store's tracks and feedback feed the queue -------- */

static void add_track(struct store *s, const char *path, double v, double a,
		      int64_t *id)
{
	struct store_track *t = malloc(sizeof(*t));

	track_fill(t, path, v, a);
	assert_int_equal(store_track_put(s, t), MS_OK);
	*id = t->id;
	free(t);
}

static void test_player(void **state)
{
	struct store *s = open_mem();
	struct music_scan_opts o;
	struct music_player *p = NULL;
	struct music_queue_view *v = malloc(sizeof(*v));
	struct music_listener l = {.point = {0.5, 0.5},
				   .feeling = MUSIC_FEEL_EXCITED,
				   .goal = MUSIC_MATCH,
				   .mood = MUSIC_HAPPY};
	char err[MS_ERRLEN];
	int64_t near, mid, far, added;
	int seeded;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(music_player_new(s, &o, &p, err, sizeof(err)), MS_OK);
	/* empty library: the catalog answers */
	assert_int_equal(music_catalog_seed(s, &seeded, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(music_player_queue(p, USER, &l, 0, v), MS_OK);
	assert_int_equal(v->now, 0);
	assert_true(v->has_rec && v->rec.n >= 3);
	add_track(s, "/m/near.ogg", 0.5, 0.45, &near);
	add_track(s, "/m/mid.ogg", 0.2, 0.2, &mid);
	add_track(s, "/m/far.ogg", -0.8, -0.8, &far);
	/* a fresh player sees them (a running one after a scan, or 5 s) */
	music_player_free(p);
	assert_int_equal(music_player_new(s, &o, &p, err, sizeof(err)), MS_OK);
	assert_int_equal(music_player_queue(p, USER, &l, 0, v), MS_OK);
	assert_int_equal(v->now, near);
	assert_false(v->has_rec);
	assert_int_equal(music_player_now(p, USER), near);
	assert_int_equal(music_player_queue(p, USER, &l, 0, v), MS_OK);
	assert_int_equal(v->now, near); /* no boundary, no change */
	assert_int_equal(v->nnext, 2);
	assert_int_equal(v->next[0], mid);
	/* the listener drags the far track onto their mood: it comes next */
	assert_int_equal(
		store_feedback_add(s, USER, far, STORE_FB_POINT, 0.5, 0.5, 1),
		MS_OK);
	assert_int_equal(music_player_queue(p, USER, &l, 1, v), MS_OK);
	assert_int_equal(v->now, far);
	assert_true(strstr(v->why, "matches your excited mood") != NULL);
	/* ... for them only: another listener's queue is untouched */
	assert_int_equal(music_player_queue(p, USER2, &l, 0, v), MS_OK);
	assert_int_equal(v->now, near);
	assert_int_equal(music_player_queue(p, USER2, &l, 1, v), MS_OK);
	assert_int_equal(v->now, mid);
	added = 0;
	assert_int_equal(store_track_count(s, &added, NULL), MS_OK);
	assert_int_equal(added, 3);
	music_player_free(p);
	free(v);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_tracks),
		cmocka_unit_test(test_store_feedback),
		cmocka_unit_test(test_store_goal),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_title_from_name),
		cmocka_unit_test(test_scan_titles),
		cmocka_unit_test(test_scan_bad_opts),
		cmocka_unit_test(test_user_dirs),
		cmocka_unit_test(test_player),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
