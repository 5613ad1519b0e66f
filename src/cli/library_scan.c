/* library_scan.c - `moodsync library scan [DIR...]`: scans music folders
 * (default: the XDG music folder and the demo library) into the database
 * that `serve` uses, with a progress bar and ETA on stderr, then prints
 * one summary line on stdout. Bad files are skipped with a one-line
 * reason each; the exit status is 0 unless the scan itself could not run.
 * The work is src/music/library.c; this file parses and reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opt.h"
#include "moodsync/library.h"
#include "moodsync/store.h"

#define BAR_WIDTH 30

static void draw_bar(const struct music_scan_progress *p)
{
	char bar[BAR_WIDTH + 1];
	int fill = p->total > 0 ? (int)(BAR_WIDTH * p->done / p->total) : 0;

	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	if (p->total > 0)
		fprintf(stderr, "\r[%s] %lld/%lld analysed, ETA %.0f s   ", bar,
			(long long)p->done, (long long)p->total, p->eta_s);
	else
		fprintf(stderr, "\rwalking: %lld audio files found   ",
			(long long)p->found);
}

/* Parses the options into `o`, `db` and `quiet`; the folders named go
 * into o->dirs. Returns 0 to go on, else a negative cli_parse() result. */
static int parse_args(int argc, char **argv, struct music_scan_opts *o,
		      const char **db, int *quiet)
{
	const struct cli_opt opts[] = {
		CLI_OPT_STR("--db", "F", db,
			    "SQLite database (default as for serve: "
			    "$MOODSYNC_DB, else "
			    "~/.local/share/moodsync/moodsync.db)"),
		CLI_OPT_INT("--jobs", "N", &o->jobs, 1, 8,
			    "analyser threads (default: cores)"),
		CLI_OPT_FLAG("--quiet", quiet, "no progress bar"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"library scan",
		"[options] [DIR...]",
		"Finds audio files (.ogg .opus .mp3 .flac .wav) under each DIR "
		"(default: the XDG music folder and the demo library), "
		"analyses "
		"the new and changed ones (size, mtime and the analyser's "
		"version decide) and stores them in the database serve uses; "
		"rows of removed files are deleted.",
		opts,
		NULL,
		0,
		MUSIC_SCAN_DIRS};
	int first = cli_parse(&cmd, argc, argv);

	if (first < 0)
		return first;
	for (int i = first; i < argc; i++)
		o->dirs[o->ndirs++] = argv[i];
	return 0;
}

/* Runs the scan in the background and draws progress until it ends. */
static int run_scan(struct music_scan *sc, int quiet)
{
	struct music_scan_progress p;
	struct timespec tick = {0, 200 * 1000 * 1000};

	if (music_scan_start(sc))
		return MS_ENOMEM;
	do {
		nanosleep(&tick, NULL);
		music_scan_progress(sc, &p);
		if (!quiet)
			draw_bar(&p);
	} while (p.running);
	if (!quiet)
		fprintf(stderr, "\n");
	return MS_OK;
}

int cmd_library_scan(int argc, char **argv)
{
	char(*defaults)[4096] = ms_calloc(MUSIC_SCAN_DIRS, sizeof(*defaults));
	char err[MS_ERRLEN], dbbuf[4096];
	struct music_scan_opts o;
	struct music_scan_progress p;
	struct music_scan *sc = NULL;
	struct store *s = NULL;
	const char *db = cli_default_db(dbbuf, sizeof(dbbuf));
	int rc, quiet = 0, n = 0, status = 1;

	memset(&o, 0, sizeof(o));
	o.analyze = music_analyze_file;
	o.analyser = music_analyser_version;
	if (!defaults) {
		fprintf(stderr, "moodsync library scan: out of memory\n");
		return 1;
	}
	rc = parse_args(argc, argv, &o, &db, &quiet);
	if (rc) {
		free(defaults);
		return cli_parse_status(rc);
	}
	if (o.ndirs == 0) {
		music_default_dirs(defaults, MUSIC_SCAN_DIRS, &n);
		for (int i = 0; i < n; i++)
			o.dirs[i] = defaults[i];
		o.ndirs = n;
	}
	if (o.ndirs == 0 || !db) {
		fprintf(stderr, "moodsync library scan: %s\n",
			!db ? "no HOME: pass --db FILE"
			    : "no music folder found: name one");
		goto out;
	}
	rc = store_open(db, &s, err, sizeof(err));
	if (!rc)
		rc = music_scan_new(s, &o, &sc, err, sizeof(err));
	if (!rc)
		rc = run_scan(sc, quiet || !isatty(2));
	if (rc) {
		fprintf(stderr, "moodsync library scan: %s\n", err);
		goto out;
	}
	music_scan_progress(sc, &p);
	if (p.rc) {
		fprintf(stderr, "moodsync library scan: stopped: %s\n",
			ms_strerror(p.rc));
		goto out;
	}
	printf("scanned %d folder(s) in %.2f s: %lld audio files, %lld "
	       "analysed, %lld unchanged, %lld skipped, %lld removed, %lld "
	       "problems\n",
	       o.ndirs, p.elapsed_s, (long long)p.found, (long long)p.done,
	       (long long)p.unchanged, (long long)p.skipped,
	       (long long)p.removed, (long long)p.problems);
	status = 0;
out:
	music_scan_free(sc);
	store_close(s);
	free(defaults);
	return status;
}
