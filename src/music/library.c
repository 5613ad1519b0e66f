/* library.c - scanning music folders into the store. One scan walks its
 * roots (bounded depth; every folder and file visited once by device and
 * inode, which also cuts symlink loops), compares each audio file's size
 * and mtime with its stored row, analyses the new and changed ones on a
 * few threads with the caller's analyser, stores each result as it comes,
 * and finally deletes the rows of files that are gone. Problems (an
 * unreadable folder, a file that vanished, a corrupt file) are logged as
 * one line each and counted; they never stop the scan. Progress counters
 * are atomics, readable from any thread while the scan runs. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moodsync/library.h"
#include "moodsync/store.h"
#include "music/library_internal.h"

#define MAX_JOBS 8
#define SCAN_NICE 10 /* niceness of background analyser threads */

struct scan_file {
	char *path; /* absolute, heap */
	int64_t size, mtime_ns;
};

struct music_scan {
	struct store *store;
	struct music_scan_opts opts;
	char roots[MUSIC_SCAN_DIRS][PATH_MAX]; /* canonical roots */
	int walked[MUSIC_SCAN_DIRS];	       /* 1: root walked */
	int nroots;

	struct scan_file *files; /* found audio files */
	size_t nfiles, capfiles;
	struct music_idset seen; /* device/inode of folders and files */
	size_t *work;		 /* indices into files needing analysis */
	size_t nwork;
	atomic_size_t next_work;

	pthread_t thread; /* background run */
	int thread_started;
	atomic_int running, cancel;
	atomic_llong found, total, done, skipped, unchanged, removed, problems;
	_Atomic double start_ms, analyse_ms, end_ms; /* monotonic ms */
	atomic_int rc; /* outcome of a background run */
};

const char *music_mime_of(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
		{".ogg", "audio/ogg"},	 {".oga", "audio/ogg"},
		{".opus", "audio/ogg"},	 {".mp3", "audio/mpeg"},
		{".flac", "audio/flac"}, {".wav", "audio/wav"},
	};
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return NULL;
	for (size_t i = 0; i < MS_ARRAY_LEN(types); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].mime;
	return NULL;
}

int music_scan_new(struct store *s, const struct music_scan_opts *opts,
		   struct music_scan **out, char *err, size_t errlen)
{
	struct music_scan *sc;
	long ncpu;

	if (!opts->analyze || opts->ndirs <= 0 || opts->ndirs > MUSIC_SCAN_DIRS)
		return ms_errf(err, errlen, MS_EINVAL,
			       "a scan needs 1 to %d folders and an analyser",
			       MUSIC_SCAN_DIRS);
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	sc->store = s;
	sc->opts = *opts;
	if (sc->opts.jobs <= 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		sc->opts.jobs = ncpu > 0 ? (int)ncpu : 1;
	}
	sc->opts.jobs = MS_MIN(sc->opts.jobs, MAX_JOBS);
	*out = sc;
	return MS_OK;
}

static void problem(struct music_scan *sc, const char *path, const char *why)
{
	atomic_fetch_add(&sc->problems, 1);
	ms_warn("library: %s: %s", path, why);
}

/* ---- walking ------------------------------------------------------------ */

static int file_add(struct music_scan *sc, const char *path,
		    const struct stat *st)
{
	struct scan_file *f;

	if (sc->nfiles >= MUSIC_SCAN_FILES)
		return MS_ELIMIT;
	if (sc->nfiles == sc->capfiles) {
		size_t cap = sc->capfiles ? sc->capfiles * 2 : 256;
		struct scan_file *p = ms_mallocarray(cap, sizeof(*p));

		if (!p)
			return MS_ENOMEM;
		if (sc->nfiles)
			memcpy(p, sc->files, sc->nfiles * sizeof(*p));
		free(sc->files);
		sc->files = p;
		sc->capfiles = cap;
	}
	f = &sc->files[sc->nfiles];
	f->path = strdup(path);
	if (!f->path)
		return MS_ENOMEM;
	f->size = (int64_t)st->st_size;
	f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL +
		      st->st_mtim.tv_nsec;
	sc->nfiles++;
	atomic_fetch_add(&sc->found, 1);
	return MS_OK;
}

/* Looks at one directory entry `path`; recurses into folders. Returns
 * MS_ENOMEM/MS_ELIMIT only (everything else is a logged problem). */
static int walk_dir(struct music_scan *sc, const char *dir, int depth);

static int walk_entry(struct music_scan *sc, const char *path, int depth)
{
	struct stat st;
	int fresh;

	if (stat(path, &st) != 0) {
		problem(sc, path,
			errno == ENOENT ? "vanished or a broken link"
					: strerror(errno));
		return MS_OK;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return MS_OK;
	if (S_ISREG(st.st_mode) && !music_mime_of(path))
		return MS_OK;
	fresh = music_idset_add(&sc->seen, (uint64_t)st.st_dev,
				(uint64_t)st.st_ino);
	if (fresh < 0)
		return MS_ENOMEM;
	if (!fresh) {
		if (S_ISDIR(st.st_mode))
			problem(sc, path,
				"folder seen before (a symlink "
				"loop or a second link); skipped");
		return MS_OK;
	}
	if (S_ISREG(st.st_mode))
		return file_add(sc, path, &st);
	if (depth >= MUSIC_SCAN_DEPTH) {
		problem(sc, path, "deeper than the scan goes; skipped");
		return MS_OK;
	}
	return walk_dir(sc, path, depth + 1);
}

static int walk_dir(struct music_scan *sc, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	int rc = MS_OK, n;

	if (!d) {
		problem(sc, dir, strerror(errno));
		return MS_OK;
	}
	while (!rc && !atomic_load(&sc->cancel) && (e = readdir(d))) {
		if (e->d_name[0] == '.') /* ., .., hidden files */
			continue;
		n = snprintf(path, sizeof(path), "%s/%s",
			     strcmp(dir, "/") == 0 ? "" : dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			problem(sc, dir, "a name in it is too long; skipped");
			continue;
		}
		rc = walk_entry(sc, path, depth);
	}
	closedir(d);
	return rc;
}

static int walk_roots(struct music_scan *sc, char *err, size_t errlen)
{
	char real[PATH_MAX];
	int rc;

	for (int i = 0; i < sc->opts.ndirs; i++) {
		if (!realpath(sc->opts.dirs[i], real)) {
			problem(sc, sc->opts.dirs[i], strerror(errno));
			continue;
		}
		snprintf(sc->roots[sc->nroots], PATH_MAX, "%s", real);
		rc = walk_entry(sc, real, 0);
		if (rc == MS_ELIMIT)
			return ms_errf(err, errlen, rc,
				       "more than %d audio files; scan fewer "
				       "folders",
				       MUSIC_SCAN_FILES);
		if (rc)
			return ms_errf(err, errlen, rc, "out of memory");
		/* a root that is a file, or unreadable, removes nothing */
		sc->walked[sc->nroots] = access(real, R_OK | X_OK) == 0;
		sc->nroots++;
	}
	return MS_OK;
}

/* ---- comparing with the stored rows ------------------------------------ */

struct stored_row {
	char *path;
	int64_t id, size, mtime_ns;
	int same_analyser;
	int matched;
};

struct stored_rows {
	struct stored_row *rows;
	size_t n, cap;
	const char *analyser; /* the scan's analyser version */
};

static int stored_collect(const struct store_track *t, void *ctx)
{
	struct stored_rows *r = ctx;
	struct stored_row *row;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct stored_row *p = ms_mallocarray(cap, sizeof(*p));

		if (!p)
			return MS_ENOMEM;
		if (r->n)
			memcpy(p, r->rows, r->n * sizeof(*p));
		free(r->rows);
		r->rows = p;
		r->cap = cap;
	}
	row = &r->rows[r->n];
	row->path = strdup(t->path);
	if (!row->path)
		return MS_ENOMEM;
	row->id = t->id;
	row->size = t->size;
	row->mtime_ns = t->mtime_ns;
	row->same_analyser = strcmp(t->analyser, r->analyser) == 0;
	row->matched = 0;
	r->n++;
	return MS_OK;
}

static int row_cmp(const void *a, const void *b)
{
	return strcmp(((const struct stored_row *)a)->path,
		      ((const struct stored_row *)b)->path);
}

static void stored_free(struct stored_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rows[i].path);
	free(r->rows);
}

/* 1 when `path` lies under a root that was walked. */
static int under_walked_root(const struct music_scan *sc, const char *path)
{
	for (int i = 0; i < sc->nroots; i++) {
		size_t n = strlen(sc->roots[i]);

		if (sc->walked[i] && strncmp(path, sc->roots[i], n) == 0 &&
		    (path[n] == '/' || path[n] == '\0' ||
		     strcmp(sc->roots[i], "/") == 0))
			return 1;
	}
	return 0;
}

/* Fills sc->work with the files whose row is missing or differs. */
static int plan_work(struct music_scan *sc, struct stored_rows *rows)
{
	sc->work =
		ms_mallocarray(sc->nfiles ? sc->nfiles : 1, sizeof(*sc->work));
	if (!sc->work)
		return MS_ENOMEM;
	if (rows->n)
		qsort(rows->rows, rows->n, sizeof(*rows->rows), row_cmp);
	for (size_t i = 0; i < sc->nfiles; i++) {
		struct stored_row key = {.path = sc->files[i].path};
		struct stored_row *r =
			rows->n ? bsearch(&key, rows->rows, rows->n,
					  sizeof(key), row_cmp)
				: NULL;

		if (r) {
			r->matched = 1;
			if (r->size == sc->files[i].size &&
			    r->mtime_ns == sc->files[i].mtime_ns &&
			    r->same_analyser) {
				atomic_fetch_add(&sc->unchanged, 1);
				continue;
			}
		}
		sc->work[sc->nwork++] = i;
	}
	atomic_store(&sc->total, (long long)sc->nwork);
	return MS_OK;
}

/* Deletes rows under the walked roots whose file no longer exists. A file
 * that exists but was not reached (an unreadable folder, too deep) keeps
 * its row. */
static void remove_gone(struct music_scan *sc, struct stored_rows *rows)
{
	struct stat st;

	for (size_t i = 0; i < rows->n; i++) {
		struct stored_row *r = &rows->rows[i];

		if (r->matched || !under_walked_root(sc, r->path))
			continue;
		if (stat(r->path, &st) == 0 ||
		    (errno != ENOENT && errno != ENOTDIR))
			continue;
		if (store_track_delete(sc->store, r->id) == MS_OK)
			atomic_fetch_add(&sc->removed, 1);
	}
}

/* ---- analysing ------------------------------------------------------------
 */

static void info_to_track(const struct music_track_info *in,
			  struct store_track *t)
{
	snprintf(t->title, sizeof(t->title), "%s", in->title);
	snprintf(t->tag_title, sizeof(t->tag_title), "%s", in->title);
	snprintf(t->artist, sizeof(t->artist), "%s", in->artist);
	snprintf(t->album, sizeof(t->album), "%s", in->album);
	snprintf(t->genre, sizeof(t->genre), "%s", in->genre);
	snprintf(t->features, sizeof(t->features), "%s",
		 in->features[0] ? in->features : "{}");
	t->duration_s = in->duration_s;
	t->valence = in->valence;
	t->arousal = in->arousal;
	t->tempo_bpm = in->tempo_bpm;
	t->mode = in->mode;
	snprintf(t->words, sizeof(t->words), "%s", in->words);
	if (in->mime[0])
		snprintf(t->mime, sizeof(t->mime), "%s", in->mime);
}

/* Analyses and stores one file; `t` and `info` are the thread's scratch. */
static void analyse_one(struct music_scan *sc, const struct scan_file *f,
			struct store_track *t, struct music_track_info *info)
{
	char reason[MS_ERRLEN] = "";
	struct stat st;
	int rc;

	memset(t, 0, sizeof(*t));
	memset(info, 0, sizeof(*info));
	snprintf(t->path, sizeof(t->path), "%s", f->path);
	snprintf(t->mime, sizeof(t->mime), "%s", music_mime_of(f->path));
	t->size = f->size;
	t->mtime_ns = f->mtime_ns;
	t->analysed_at = ms_unix_time();
	snprintf(t->analyser, sizeof(t->analyser), "%s",
		 sc->opts.analyser ? sc->opts.analyser : "");
	rc = sc->opts.analyze(sc->opts.analyze_ctx, f->path, info, reason,
			      sizeof(reason));
	if (rc == MS_OK && !(info->duration_s > 0 && info->valence >= -1 &&
			     info->valence <= 1 && info->arousal >= -1 &&
			     info->arousal <= 1)) {
		rc = MS_EFORMAT;
		snprintf(reason, sizeof(reason),
			 "analyser gave no duration or a point off the plane");
	}
	if (rc) {
		if (stat(f->path, &st) != 0 && errno == ENOENT) {
			problem(sc, f->path, "vanished during the scan");
			return;
		}
		atomic_fetch_add(&sc->skipped, 1);
		ms_warn("library: skipped %s: %s", f->path,
			reason[0] ? reason : ms_strerror(rc));
		snprintf(t->error, sizeof(t->error), "%s",
			 reason[0] ? reason : ms_strerror(rc));
	} else {
		info_to_track(info, t);
	}
	if (!t->title[0]) /* settled with the others at the end of the run */
		music_title_from_name(f->path, t->title, sizeof(t->title));
	if (store_track_put(sc->store, t) != MS_OK)
		problem(sc, f->path, "could not be stored (database)");
}

static void *worker_main(void *arg)
{
	struct music_scan *sc = arg;
	struct store_track *t = malloc(sizeof(*t));
	struct music_track_info *info = malloc(sizeof(*info));
	size_t i;

	if (sc->opts.background) /* Linux: nice of the calling thread only */
		setpriority(PRIO_PROCESS, (id_t)gettid(), SCAN_NICE);
	while (t && info && !atomic_load(&sc->cancel) &&
	       (i = atomic_fetch_add(&sc->next_work, 1)) < sc->nwork) {
		analyse_one(sc, &sc->files[sc->work[i]], t, info);
		atomic_fetch_add(&sc->done, 1);
	}
	free(t);
	free(info);
	return NULL;
}

static int analyse_all(struct music_scan *sc)
{
	pthread_t th[MAX_JOBS];
	int n = 0;

	atomic_store(&sc->analyse_ms, ms_now_ms());
	for (int i = 1; i < sc->opts.jobs && (size_t)i < sc->nwork; i++)
		if (pthread_create(&th[n], NULL, worker_main, sc) == 0)
			n++;
	worker_main(sc); /* this thread is a worker too */
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return MS_OK;
}

int music_scan_run(struct music_scan *sc, char *err, size_t errlen)
{
	struct stored_rows rows = {0};
	int rc;

	rows.analyser = sc->opts.analyser ? sc->opts.analyser : "";
	atomic_store(&sc->running, 1);
	atomic_store(&sc->start_ms, ms_now_ms());
	rc = music_idset_init(&sc->seen, 1024);
	if (rc) {
		rc = ms_errf(err, errlen, rc, "out of memory");
		goto out;
	}
	rc = walk_roots(sc, err, errlen);
	if (rc)
		goto out;
	rc = store_track_each(sc->store, 0, stored_collect, &rows);
	if (rc) {
		rc = ms_errf(err, errlen, rc, "cannot read the library rows");
		goto out;
	}
	rc = plan_work(sc, &rows);
	if (rc) {
		rc = ms_errf(err, errlen, rc, "out of memory");
		goto out;
	}
	analyse_all(sc);
	if (!atomic_load(&sc->cancel))
		remove_gone(sc, &rows);
	if (music_titles_settle(sc->store, NULL) != MS_OK)
		problem(sc, "titles", "could not be settled (database)");
out:
	stored_free(&rows);
	atomic_store(&sc->end_ms, ms_now_ms());
	atomic_store(&sc->running, 0);
	return rc;
}

static void *scan_main(void *arg)
{
	struct music_scan *sc = arg;
	char err[MS_ERRLEN];

	atomic_store(&sc->rc, music_scan_run(sc, err, sizeof(err)));
	if (atomic_load(&sc->rc))
		ms_warn("library: scan stopped: %s", err);
	return NULL;
}

int music_scan_start(struct music_scan *sc)
{
	atomic_store(&sc->running, 1); /* visible before the thread runs */
	if (pthread_create(&sc->thread, NULL, scan_main, sc) != 0) {
		atomic_store(&sc->running, 0);
		return MS_ENOMEM;
	}
	sc->thread_started = 1;
	return MS_OK;
}

void music_scan_cancel(struct music_scan *sc)
{
	atomic_store(&sc->cancel, 1);
}

void music_scan_progress(const struct music_scan *sc,
			 struct music_scan_progress *p)
{
	double now = ms_now_ms(), end = atomic_load(&sc->end_ms);
	double start = atomic_load(&sc->start_ms);
	double an = atomic_load(&sc->analyse_ms), t_an;

	memset(p, 0, sizeof(*p));
	p->running = atomic_load(&sc->running);
	p->found = atomic_load(&sc->found);
	p->total = atomic_load(&sc->total);
	p->done = atomic_load(&sc->done);
	p->skipped = atomic_load(&sc->skipped);
	p->unchanged = atomic_load(&sc->unchanged);
	p->removed = atomic_load(&sc->removed);
	p->problems = atomic_load(&sc->problems);
	p->rc = atomic_load(&sc->rc);
	if (start > 0)
		p->elapsed_s =
			((p->running || end <= 0 ? now : end) - start) / 1000.0;
	t_an = an > 0 ? (now - an) / 1000.0 : 0;
	if (p->running && p->done > 0 && p->total > p->done)
		p->eta_s =
			t_an / (double)p->done * (double)(p->total - p->done);
}

void music_scan_free(struct music_scan *sc)
{
	if (!sc)
		return;
	if (sc->thread_started)
		pthread_join(sc->thread, NULL);
	for (size_t i = 0; i < sc->nfiles; i++)
		free(sc->files[i].path);
	free(sc->files);
	free(sc->work);
	music_idset_release(&sc->seen);
	free(sc);
}
