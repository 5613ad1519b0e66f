/* app.h - the server's internals shared by http.c, api.c, session.c and
 * bg.c: the application object, the session table and the background
 * threads (history writer, mood-event notifier). Route handlers outside
 * the core use server/http.h instead. */
#ifndef MOODSYNC_SERVER_APP_H
#define MOODSYNC_SERVER_APP_H

#include <pthread.h>
#include <stdatomic.h>

#include "moodsync/music.h"
#include "moodsync/pipeline.h"
#include "moodsync/server.h"
#include "moodsync/text.h"
#include "moodsync/store.h"
#include "server/calib.h"
#include "server/conns.h"
#include "server/http.h"
#include "server/http_guard.h"

/* ---- Sessions (session.c) -------------------------------------------- */

#define SRV_KV_MAX 8

struct srv_kv {
	char key[32];
	char val[512];
};

struct srv_session {
	char id[SRV_SID_LEN + 1];
	int keep;		/* 1: settings, sign-in or store row: evict
				 * only when no anonymous session is left */
	struct music_mood mood; /* smoothing + hysteresis state */
	int strategy;		/* enum music_strategy */
	int autoplay;		/* 0/1 */
	double tokens;		/* rate limiter bucket, frames */
	double tokens_ms;	/* its last refill, monotonic ms */
	struct ms_rect hint;	/* last face seen (fast path hint) */
	double hint_ms;		/* when, monotonic ms; 0 none */
	int hinted;		/* frames in a row searched near the hint */
	double hist_ms;		/* last history row queued, monotonic ms */
	int64_t created;	/* unix ms */
	int64_t mood_since;	/* unix ms the stable mood began, 0 none */
	int64_t last_frame;	/* unix ms of the last frame with a face */
	long frames;		/* frames received */
	int last_nfaces;	/* faces in the last frame */
	int scan_nfaces;	/* faces in the last whole-frame scan */
	int group_mode;		/* 1: several faces blend, 0: largest only */
	int group;		/* 1: the last mood update blended faces */
	double seen_ms;		/* last request, monotonic ms (LRU) */
	struct srv_kv *kv;	/* SRV_KV_MAX slots, NULL until used */
	/* Mood sources other than the face (whose reading is `mood`), in
	 * enum music_source order: the latest probabilities of each and when
	 * they were given (monotonic ms; 0 = none). See api_text.c. */
	float src_probs[MUSIC_SOURCES][MUSIC_MOODS];
	double src_ms[MUSIC_SOURCES];
	struct srv_calib calib;	   /* the person's baseline (server/calib.h) */
	struct srv_session *hnext; /* hash chain */
	struct srv_session *lprev, *lnext; /* LRU list, head = newest */
};

struct srv_sessions;

/* A table of at most `max` sessions. To make room, sessions idle for over
 * `idle_ms` go first, then the least recently used anonymous one (keep
 * == 0 and no per-session strings), then the least recently used. New
 * sessions are admitted at `per_s` a second in bursts of `burst`
 * (per_s <= 0: no limit). */
struct srv_sessions *srv_sessions_new(int max, double idle_ms, double per_s,
				      double burst);
/* Under the lock: 1 and takes a token when a new session may be created
 * now, else 0 (the caller answers 429). */
int srv_sessions_admit(struct srv_sessions *t, double now_ms);
void srv_sessions_free(struct srv_sessions *t);
void srv_sessions_lock(struct srv_sessions *t);
void srv_sessions_unlock(struct srv_sessions *t);
/* Under the lock: the session with `id` (touched as used), or NULL. */
struct srv_session *srv_sessions_find(struct srv_sessions *t, const char *id,
				      double now_ms);
/* Under the lock: a new session with `id` (fresh state), evicting one if
 * full (see srv_sessions_new). NULL when out of memory. */
struct srv_session *srv_sessions_add(struct srv_sessions *t, const char *id,
				     double now_ms);
/* Under the lock: find, or add with defaults when missing. */
struct srv_session *srv_sessions_ensure(struct srv_sessions *t, const char *id,
					double now_ms);
int srv_sessions_count(struct srv_sessions *t);
/* Writes a new random id (SRV_SID_LEN hex + NUL) from getrandom(). */
int srv_session_id_new(char out[SRV_SID_LEN + 1]);
/* 1 when `s` looks like an id we issue (SRV_SID_LEN lower-case hex). */
int srv_session_id_valid(const char *s);
/* Token bucket: 1 and takes a token when a frame may go, else 0. */
int srv_session_take_token(struct srv_session *s, double rate_per_s,
			   double burst, double now_ms);

/* ---- Background work (bg.c) ------------------------------------------ */

struct srv_bg;
struct srv_acceptor;

/* Starts the history writer (batched rows, one transaction every
 * `flush_ms`) and the mood notifier (calls srv_modules[].mood_changed). */
int srv_bg_start(struct srv_app *app, struct srv_bg **out);
/* Flushes pending history and stops both threads. NULL: no-op. */
void srv_bg_stop(struct srv_bg *bg);
/* Queues a history row; drops it (counted) when the queue is full. */
void srv_bg_history(struct srv_bg *bg, const struct store_mood_row *row);
/* Queues a mood event for the modules; drops the oldest when full. */
void srv_bg_mood(struct srv_bg *bg, const struct srv_mood_event *ev);
/* Writes pending history now (tests, /api/history freshness). */
void srv_bg_flush(struct srv_bg *bg);
long srv_bg_dropped(const struct srv_bg *bg);

/* ---- The application ------------------------------------------------- */

struct srv_app {
	struct srv_config cfg;	      /* copy; strings borrowed from caller */
	struct pipeline *pipe;	      /* shared, immutable */
	int has_model;		      /* 1 when emotions are classified */
	struct txt_model *text_model; /* shared, immutable; NULL: no text */
	struct music_fusion_params fusion; /* weights of the mood sources */
	struct srv_calib_params calib;	   /* per-person calibration */
	struct store *store;
	struct srv_sessions *sessions;
	struct srv_bg *bg;
	void *daemon;		       /* struct MHD_Daemon */
	struct srv_acceptor *acceptor; /* hands connections to the daemon */
	int listen_fd;		       /* -1 when not started */
	char base_url[96];	       /* "http://127.0.0.1:5000" */
	char csp[640];		       /* Content-Security-Policy of replies */
	char embed_script[256];	       /* Spotify iFrame API script URL */
	double started_ms;	       /* monotonic */
	struct srv_hosts hosts;	       /* Host values served (set before) */
	struct srv_conns *conns;       /* open connections, header deadline */
	long generation;	       /* unique per app in this process */

	/* frames in flight: running holds pipeline slots, waiting queues */
	pthread_mutex_t slot_lock;
	pthread_cond_t slot_cond;
	int running, waiting;

	/* per-thread pipeline workers, freed at stop */
	pthread_mutex_t workers_lock;
	struct pipe_worker **workers;
	int nworkers, cap_workers;

	/* written by the Spotify module's start() before any thread runs
	 * and by its stop() after they all stopped: read without a lock */
	struct music_spotify_svc *spotify;

	/* the music library: set by the library module's start() before
	 * the server listens, cleared by its stop() after every handler
	 * stopped, so handlers read it without a lock */
	struct music_player *player;

	atomic_long n_requests, n_frames, n_rejected_429, n_rejected_503;
};

/* Takes a pipeline slot, waiting up to cfg.queue_ms. MS_EBUSY when the
 * server is overloaded (too many waiting, or the wait timed out). */
int srv_app_slot_acquire(struct srv_app *app);
void srv_app_slot_release(struct srv_app *app);
/* This thread's pipeline worker (created on first use). NULL on ENOMEM. */
struct pipe_worker *srv_app_worker(struct srv_app *app);

/* The listener's mood as the music should see it (api_mood.c): the fusion
 * of the session's sources (face, words, the listener's own choice, which
 * wins alone while it holds). Under the session lock; `now_ms` monotonic. */
struct srv_affect {
	int mood;	    /* the mood the music follows, -1 none yet */
	int feeling;	    /* enum music_feeling, -1 none yet */
	struct music_va va; /* the fused point (neutral anchor before any) */
	int overridden;	    /* 1 while the listener's choice holds */
};
void srv_session_affect(const struct srv_app *app, const struct srv_session *s,
			double now_ms, struct srv_affect *out);

/* Request internals used by api.c. */
struct srv_session *srv_req_session_locked(struct srv_req *req);

#endif
