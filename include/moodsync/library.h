/* library.h - the local music library (part of the music component):
 * scanning folders into the store with an analyser callback and a small
 * worker pool, the listener's journey across the valence/arousal plane
 * (which track plays next, and why), and the player object the server
 * uses: a library snapshot plus one queue per listener. Depends on
 * common, store and music.h; knows nothing of HTTP or how audio is
 * decoded (the analyser is passed in). */
#ifndef MOODSYNC_LIBRARY_H
#define MOODSYNC_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"
#include "moodsync/music.h"

struct store;
struct store_track;

/* ---- Analysing one file -------------------------------------------------- */

/* What an analyser reports for one audio file. */
struct music_track_info {
	char title[256], artist[256], album[256], genre[256]; /* "" absent */
	double duration_s;				      /* seconds, > 0 */
	double valence, arousal; /* the track's point, each in [-1, 1] */
	double tempo_bpm;	 /* 0 unknown */
	double mode;		 /* -1 minor .. +1 major, 0 unknown */
	char features[1024];	 /* JSON object of the features, or "" */
	char mime[32];		 /* from the content; "": by extension */
	char words[64]; /* a few words ("calm, minor, slow"), "" none */
};

/* Decodes and analyses `path` into *out. Returns MS_OK or an ms_err with
 * a one-line reason in err. Called from several scan threads at once. */
typedef int (*music_analyze_fn)(void *ctx, const char *path,
				struct music_track_info *out, char *err,
				size_t errlen);

/* The MIME type for a file name by extension ("audio/ogg", "audio/mpeg",
 * "audio/flac", "audio/wav", "audio/opus"), NULL when not an audio file
 * the library takes. */
const char *music_mime_of(const char *path);

/* ---- Scanning ------------------------------------------------------------ */

#define MUSIC_SCAN_DIRS 16	/* folders per scan */
#define MUSIC_SCAN_DEPTH 16	/* folder depth below each root */
#define MUSIC_SCAN_FILES 100000 /* audio files per scan */

struct music_scan_opts {
	const char *dirs[MUSIC_SCAN_DIRS]; /* roots, borrowed for the scan */
	int ndirs;
	int jobs; /* analyser threads; 0: online cores (<= 8) */
	music_analyze_fn analyze;
	void *analyze_ctx;
	const char *analyser; /* its version: rows analysed by another one
			       * are analysed again ("" allowed) */
	int background;	      /* 1: analyser threads run at nice 10, so a
			       * scan in a serving process yields the CPU */
};

/* Progress and outcome; every field readable while the scan runs. */
struct music_scan_progress {
	int running;	   /* 1 while walking or analysing */
	int64_t found;	   /* audio files found so far */
	int64_t total;	   /* files needing analysis (new or changed) */
	int64_t done;	   /* ... analysed so far (including skipped) */
	int64_t skipped;   /* files that failed (one-line reasons logged) */
	int64_t unchanged; /* files whose size and mtime match their row */
	int64_t removed;   /* rows deleted: their file is gone */
	int64_t problems;  /* unreadable folders, loops, vanished files */
	double elapsed_s;  /* since the start */
	double eta_s;	   /* seconds left (estimate), 0 when done */
	int rc;		   /* MS_OK, or why the scan could not go on */
};

struct music_scan;

/* Prepares a scan of opts->dirs into store `s` (both borrowed until
 * music_scan_free). MS_EINVAL without dirs or analyser. */
int music_scan_new(struct store *s, const struct music_scan_opts *opts,
		   struct music_scan **out, char *err, size_t errlen);
/* Runs the scan on the calling thread: walks the folders (bounded depth,
 * symlink loops cut by device/inode, unreadable folders and vanishing
 * files logged and skipped), analyses new and changed files on
 * opts->jobs threads, stores each result, and deletes rows of files that
 * are gone from the folders walked. One bad file never stops it. MS_OK,
 * or MS_EDB/MS_ENOMEM when it could not go on (err says why). */
int music_scan_run(struct music_scan *sc, char *err, size_t errlen);
/* The same on a background thread; poll music_scan_progress. */
int music_scan_start(struct music_scan *sc);
/* Asks a running scan to stop early (files in flight finish). */
void music_scan_cancel(struct music_scan *sc);
/* Thread-safe snapshot of the progress. */
void music_scan_progress(const struct music_scan *sc,
			 struct music_scan_progress *out);
/* Waits for a background scan and frees; NULL is a no-op. */
void music_scan_free(struct music_scan *sc);

/* Default folders: the XDG music folder ($XDG_MUSIC_DIR from
 * $HOME/.config/user-dirs.dirs, else $HOME/Music) and the demo library
 * folders, those that exist. Writes up to `max` paths of `len` bytes
 * into dirs; *n gets the count. */
void music_default_dirs(char (*dirs)[4096], int max, int *n);

/* Parses user-dirs.dirs text (`len` bytes, any content) for the line
 * XDG_MUSIC_DIR="..." ($HOME expanded with `home`) into out. MS_OK,
 * MS_ENOTFOUND when absent, MS_EFORMAT when malformed or not absolute,
 * MS_ELIMIT when it does not fit. */
int music_user_dirs_parse(const char *text, size_t len, const char *home,
			  char *out, size_t outlen);

/* ---- The journey: which track next, and why (pure) ---------------------- */

/* A track as the queue sees it, with one listener's feedback applied. */
struct music_cand {
	int64_t id;
	uint32_t artist;	/* hash of the artist name, 0 unknown */
	struct music_va point;	/* analysed point, or the listener's own */
	double tempo_bpm, mode; /* for the "why"; 0 unknown */
	int liked, skips, early_skips, not_mood;
	struct music_va not_mood_at; /* listener's point at "not this mood" */
	char words[64]; /* the analyser's words for the "why", "" none */
};

#define MUSIC_QUEUE_PLAYED 512 /* tracks remembered against repeats */
#define MUSIC_QUEUE_WHY 200    /* bytes of a "why" sentence */
#define MUSIC_STEP 0.25	       /* largest move per track on the plane */

/* One listener's queue; a plain value (copy it freely). */
struct music_queue {
	int started;		/* 0 until the first track */
	struct music_va pos;	/* the journey's position (last target) */
	struct music_va origin; /* listener's point the journey began at */
	int64_t now;		/* playing track id, 0 none */
	struct music_va now_target;
	char why[MUSIC_QUEUE_WHY];
	int64_t played[MUSIC_QUEUE_PLAYED]; /* ring of played ids */
	int nplayed;	    /* ids in the ring (<= MUSIC_QUEUE_PLAYED) */
	int played_head;    /* next slot of the ring */
	uint32_t recent[2]; /* artists of the last two tracks */
};

/* A choice: the candidate's index, where the journey aimed, and why. */
struct music_pick {
	int index;
	struct music_va target;
	char why[MUSIC_QUEUE_WHY];
};

/* The listener as the queue sees them. */
struct music_listener {
	struct music_va point;
	enum music_feeling feeling;
	int goal;	       /* enum music_strategy */
	int mood;	       /* stable mood (enum music_mood_id), -1 none */
	int64_t mood_since_ms; /* unix ms it became stable, 0 none */
};

void music_queue_init(struct music_queue *q);

/* The goal's destination on the plane for a listener at `from`. */
struct music_va music_goal_point(int goal, struct music_va from);

/* At a track boundary: picks the next track among cands[0..n) (never one
 * played in this queue while others remain; artists spread; likes pull,
 * skips and "not this mood" push) on a journey from the queue's position
 * a step of at most MUSIC_STEP toward the goal, and makes it the playing
 * track. *pick gets the choice; MS_ENOTFOUND when n == 0. */
int music_queue_advance(struct music_queue *q, const struct music_cand *c,
			int n, const struct music_listener *l,
			struct music_pick *pick);
/* What would play after the current track: up to `max` picks, the queue
 * left unchanged. *nout gets how many. */
void music_queue_peek(const struct music_queue *q, const struct music_cand *c,
		      int n, const struct music_listener *l,
		      struct music_pick *out, int max, int *nout);
/* Forgets the played set (a new session, or the library ran out). */
void music_queue_reset_played(struct music_queue *q);

/* 32-bit FNV-1a of an artist name folded to lower case; 0 for "". */
uint32_t music_artist_hash(const char *name);

/* ---- The player: the library as the server uses it ---------------------- */

/* The analyser the program uses (src/music/analyze.c): decodes and
 * analyses with the audio component. A music_analyze_fn; ctx unused. */
int music_analyze_file(void *ctx, const char *path,
		       struct music_track_info *out, char *err, size_t errlen);
/* Its version, for music_scan_opts.analyser. */
extern const char music_analyser_version[];

struct music_player;

/* A library over store `s` (borrowed, must outlive the player) scanning
 * opts->dirs (copied). No scan starts yet. */
int music_player_new(struct store *s, const struct music_scan_opts *opts,
		     struct music_player **out, char *err, size_t errlen);
/* Cancels a running scan, waits for it, frees. NULL is a no-op. */
void music_player_free(struct music_player *p);

/* Starts a background scan of the folders; MS_EBUSY when one runs. */
int music_player_scan(struct music_player *p);

struct music_library_status {
	int64_t tracks;			 /* playable tracks in the store */
	int64_t skipped;		 /* files that could not be analysed */
	struct music_scan_progress scan; /* the last or running scan */
	int ndirs;
	const char *dirs[MUSIC_SCAN_DIRS]; /* borrowed from the player */
};
void music_player_status(struct music_player *p,
			 struct music_library_status *out);

#define MUSIC_NEXT_MAX 5 /* upcoming tracks shown */

/* A listener's queue as the page shows it: the playing track and what
 * follows, each with its reason. Track ids 0: the library is empty. */
struct music_queue_view {
	struct music_va target; /* where the journey aims now */
	int64_t now;
	char why[MUSIC_QUEUE_WHY];
	int nnext;
	int64_t next[MUSIC_NEXT_MAX];
	char next_why[MUSIC_NEXT_MAX][MUSIC_QUEUE_WHY];
	int has_rec; /* 1: no playable track; rec holds the catalog's
		      * answer (music_recommend) instead */
	struct music_rec rec;
};

/* What plays for `user` (a session id), listener `l`: the one entry point
 * of the music policy. With playable tracks, the listener's queue:
 * advance = 0 gives the current state (the first call starts the first
 * track), 1 a track boundary (the next track plays). Without, view->now
 * is 0 and view->rec holds the playlist catalog's answer for the
 * listener's mood and goal (music_recommend, as the Spotify service
 * uses). Thread-safe. MS_OK, MS_ENOMEM, MS_EDB. */
int music_player_queue(struct music_player *p, const char *user,
		       const struct music_listener *l, int advance,
		       struct music_queue_view *view);
/* The track `user` is playing now (0 none). */
int64_t music_player_now(struct music_player *p, const char *user);

/* A track's point as `user` sees it (their own point when they placed
 * it) and whether they liked it. MS_ENOTFOUND for an unknown track. */
int music_player_track(struct music_player *p, const char *user, int64_t id,
		       struct store_track *out, struct music_va *point,
		       int *liked);

#endif
