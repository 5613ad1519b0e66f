/* spotify_internal.h - what spotify_service.c (state, queue, JSON),
 * spotify_jobs.c (the worker's jobs) and spotify_calls.c (one call under
 * the budget, the pause and the tokens) share: the service struct and the
 * per-session record. Not for other files. All fields are guarded by
 * `lock` except those marked "worker only". */
#ifndef MOODSYNC_SERVER_SPOTIFY_INTERNAL_H
#define MOODSYNC_SERVER_SPOTIFY_INTERNAL_H

#include <pthread.h>

#include "moodsync/spotify_service.h"

enum sp_state {
	SP_DISCONNECTED,
	SP_CONNECTING,	    /* code received, exchange queued */
	SP_CONNECTED,	    /* tokens stored */
	SP_SIGNIN_REQUIRED, /* tokens rejected (invalid_grant): sign in again */
};

struct sp_play {
	int mood;	 /* enum music_mood_id, -1 for a manual play */
	int autoplay;	 /* 1: started by a mood change */
	char uri[64];	 /* context_uri sent, "" for resume */
	char device[96]; /* device_id sent, "" for the active device */
	int ok;
	int64_t at; /* unix s */
};

struct sp_error {
	char action[16];   /* "play", "autoplay", "search", "signin", ... */
	char code[32];	   /* music_spotify_kind_code() or our own */
	char message[256]; /* for the user */
	int64_t at;	   /* unix s */
};

struct sp_session {
	char sid[40];	    /* "" marks a free slot */
	char key[65];	    /* hex SHA-256 of sid: the store's key */
	int64_t touched;    /* unix s, for eviction */
	int64_t seen_saved; /* unix s the store last heard it was seen */
	int npending;	    /* jobs queued or running: not evictable */
	unsigned queued;    /* bit per job kind, to coalesce refreshes */
	enum sp_state state;
	char device_id[96];
	struct music_spotify_device devices[MUSIC_SPOTIFY_MAX_DEVICES];
	size_t ndevices;
	int64_t devices_at; /* unix s, 0 never */
	struct music_spotify_now now;
	int64_t now_at;		    /* unix s, 0 never */
	int rec_mood, rec_strategy; /* -1: no recommendation yet */
	char rec_source[16]; /* "spotify", "cache", "stale_cache", "offline" */
	struct music_spotify_playlist rec[MUSIC_SPOTIFY_MAX_RESULTS];
	size_t nrec;
	uint64_t mood_gen;   /* bumped per mood change */
	uint64_t played_gen; /* the mood change auto-play last fired for */
	struct sp_play play;
	int has_play;
	struct sp_error error;
	int has_error;
	uint64_t seq;  /* jobs finished for this session */
	int running;   /* a worker runs one of its jobs: one at a time,
			* so a token is never refreshed twice at once */
	int has_retry; /* an auto-play hit a pause: run the mood again */
	int retry_mood, retry_strategy; /* ... with these, */
	uint64_t retry_gen; /* ... if no newer mood came meanwhile */
};

#define SP_WORKERS 2 /* one slow call never holds up other users */
#define SP_BUDGET 90 /* Spotify calls per rolling window, app-wide */
#define SP_BUDGET_MS 30000.0
#define SP_BUDGET_REFRESH                                                      \
	60 /* refreshes (devices, now playing) only                            \
	    * while fewer calls were made in the window */

struct sp_worker {
	struct music_spotify_svc *sp;
	struct music_spotify_client *client; /* this thread's only */
	pthread_t thread;
	int started;
};

struct music_spotify_svc {
	struct music_spotify_config cfg; /* immutable */
	struct store *store;		 /* borrowed */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* queue, sessions, pause, budget */
	struct sp_worker workers[SP_WORKERS];
	int stopping;
	struct music_spotify_job *queue; /* ring, MUSIC_SPOTIFY_QUEUE */
	size_t qhead, qlen;
	struct sp_session *sessions; /* MUSIC_SPOTIFY_SESSIONS */
	double paused_until;	     /* ms_now_ms() clock */
	enum music_spotify_kind paused_kind;
	int failures;		 /* consecutive 5xx/timeouts */
	double calls[SP_BUDGET]; /* ring: times of the last calls */
	int calls_head;		 /* the oldest of them */
};

/* With the lock held: the session's record, created (and loaded from the
 * store) when `create`; NULL when absent or no slot is free. */
struct sp_session *sp_session_find(struct music_spotify_svc *sp,
				   const char *sid, int create);
/* Runs one job on a worker thread with that worker's client, lock not
 * held. */
void sp_job_run(struct music_spotify_svc *sp,
		struct music_spotify_client *client,
		const struct music_spotify_job *job);

/* spotify_worker.c: starts SP_WORKERS threads (each with its own client);
 * MS_ENOMEM or the client's error. */
int sp_workers_start(struct music_spotify_svc *sp, char *err, size_t errlen);
/* Stops and joins them; jobs still queued are dropped. */
void sp_workers_stop(struct music_spotify_svc *sp);
/* With the lock held: 1 when the app-wide budget has room for a refresh
 * (fewer than SP_BUDGET_REFRESH calls in the window). */
int sp_budget_room(struct music_spotify_svc *sp);
/* Takes one call from the budget, waiting (lock not held by the caller)
 * while SP_BUDGET calls were made in the last SP_BUDGET_MS. 0, or -1
 * when the service is stopping. */
int sp_budget_take(struct music_spotify_svc *sp);
/* Hex SHA-256 of a session id into key[65]. */
void sp_session_key(const char *sid, char key[65]);

/* ---- calls to Spotify (spotify_calls.c); lock not held by the caller */

/* Fills res as if Spotify had answered `kind` with `msg`. */
void sp_result_fake(struct music_spotify_result *res,
		    enum music_spotify_kind kind, const char *msg);
/* 1 (and res filled) while Spotify calls are paused, else 0. */
int sp_paused(struct music_spotify_svc *sp, struct music_spotify_result *res);
/* Takes one call from the app-wide budget; 0, or -1 (res filled) when
 * the service is stopping. */
int sp_call(struct music_spotify_svc *sp, struct music_spotify_result *res);
/* Updates the global pause (and its failure count) from an answer. */
void sp_account(struct music_spotify_svc *sp,
		const struct music_spotify_result *res);
/* Records the outcome of `action` in session sid: a failure becomes its
 * last error; a success clears that error when `clears`. */
void sp_note(struct music_spotify_svc *sp, const char *sid, const char *action,
	     const struct music_spotify_result *res, int clears);
void sp_set_state(struct music_spotify_svc *sp, const char *sid,
		  enum sp_state st);

/* One Spotify API call with an access token, on the worker's client. */
typedef int (*sp_api_fn)(struct music_spotify_client *client,
			 const char *access, void *arg,
			 struct music_spotify_result *res);
/* Runs fn for session sid with a valid access token: pauses and budget
 * honoured, a token about to expire refreshed first, and refreshed then
 * retried once after a 401 (invalid_grant deletes the tokens and asks for
 * a new sign-in). Returns fn's result or MS_EAUTH/MS_EBUSY, res filled. */
int sp_authed(struct music_spotify_svc *sp, struct music_spotify_client *client,
	      const char *sid, sp_api_fn fn, void *arg,
	      struct music_spotify_result *res);

#endif
