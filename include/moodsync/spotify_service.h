/* spotify_service.h - the music component's Spotify service: per-session
 * Spotify state (sign-in, devices, recommendation, playback, last error),
 * a bounded job queue and the one worker thread that makes every Spotify
 * call, so no HTTP handler and no frame ever waits on Spotify. The server's
 * Spotify routes hold a struct music_spotify_svc, read its snapshots and
 * submit jobs; everything here is thread-safe. Depends on the Spotify
 * client (moodsync/spotify.h), the recommendation policy (moodsync/music.h)
 * and the store. */
#ifndef MOODSYNC_SPOTIFY_SERVICE_H
#define MOODSYNC_SPOTIFY_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"
#include "moodsync/spotify.h"

struct store;
struct music_spotify_svc;

#define MUSIC_SPOTIFY_QUEUE 64	   /* pending jobs, all sessions */
#define MUSIC_SPOTIFY_SESSIONS 256 /* sessions with Spotify state in memory */
#define MUSIC_SPOTIFY_CACHE_TTL_S (6 * 3600) /* search results stay fresh */
#define MUSIC_SPOTIFY_CODE_MAX 600 /* longest authorization code accepted */

enum music_spotify_job_kind {
	MUSIC_SPOTIFY_JOB_EXCHANGE, /* code + verifier -> tokens */
	MUSIC_SPOTIFY_JOB_MOOD, /* a stable mood changed: find music, auto-play
				 */
	MUSIC_SPOTIFY_JOB_DEVICES, /* refresh the device list */
	MUSIC_SPOTIFY_JOB_PLAY,	   /* play `uri`, or resume when uri is "" */
	MUSIC_SPOTIFY_JOB_PAUSE,
	MUSIC_SPOTIFY_JOB_NEXT,
	MUSIC_SPOTIFY_JOB_NOW, /* refresh what is playing */
	MUSIC_SPOTIFY_JOB_KINDS
};

struct music_spotify_job {
	enum music_spotify_job_kind kind;
	char sid[40];			       /* session id */
	int mood, strategy, autoplay;	       /* MOOD: enum music_mood_id... */
	char code[MUSIC_SPOTIFY_CODE_MAX + 1]; /* EXCHANGE */
	char verifier[129];		       /* EXCHANGE */
	char redirect[256]; /* EXCHANGE: as sent to /authorize */
	char uri[64];	    /* PLAY: "" resumes */
	uint64_t gen;	    /* set by submit */
};

/* Starts the worker. `store` is borrowed for the service's life. With an
 * empty cfg->client_id the service still answers status ("not
 * configured") and never calls out. */
int music_spotify_svc_new(struct store *store,
			  const struct music_spotify_config *cfg,
			  struct music_spotify_svc **out, char *err,
			  size_t errlen);
/* Stops and joins the worker (jobs still queued are dropped). NULL ok. */
void music_spotify_svc_free(struct music_spotify_svc *sp);

int music_spotify_svc_configured(const struct music_spotify_svc *sp);
const struct music_spotify_config *
music_spotify_svc_config(const struct music_spotify_svc *sp);

/* Queues a job without waiting. MS_EBUSY when the queue is full,
 * MS_EINVAL for a bad session id. A newer MOOD job for a session makes
 * older queued ones moot. */
int music_spotify_svc_submit(struct music_spotify_svc *sp,
			     const struct music_spotify_job *job);

/* 1 when the session has stored tokens. */
int music_spotify_svc_connected(struct music_spotify_svc *sp, const char *sid);
/* Marks the sign-in as under way (between /callback and the exchange). */
void music_spotify_svc_mark_connecting(struct music_spotify_svc *sp,
				       const char *sid);
/* Records a user-facing error for the session (e.g. denied consent). */
void music_spotify_svc_note_error(struct music_spotify_svc *sp, const char *sid,
				  const char *action, const char *code,
				  const char *message);
/* Deletes the session's tokens and forgets its Spotify state. */
int music_spotify_svc_disconnect(struct music_spotify_svc *sp, const char *sid);
/* Remembers the device to play on ("" = the active one). MS_EINVAL for a
 * malformed id. */
int music_spotify_svc_set_device(struct music_spotify_svc *sp, const char *sid,
				 const char *device_id);
/* Milliseconds until Spotify calls resume (0: not paused); *code gets
 * the reason's code ("rate_limited", "quota_exceeded", ...). */
int64_t music_spotify_svc_paused_ms(struct music_spotify_svc *sp,
				    const char **code);

/* Writes the session's state as one JSON object (see docs/spotify.md):
 * configured, connected, state, autoplay, paused_s, paused_reason,
 * device_id, devices, now_playing, recommendation, last_play, error, seq.
 * `autoplay` is the session setting (included as is). Errors stick in
 * the writer. */
void music_spotify_svc_status_json(struct music_spotify_svc *sp,
				   const char *sid, int autoplay,
				   struct ms_json *j);
/* {"devices": [...], "device_id": "...", "updated": unix_s} */
void music_spotify_svc_devices_json(struct music_spotify_svc *sp,
				    const char *sid, struct ms_json *j);
/* {"now_playing": {...}|null, "updated": unix_s} */
void music_spotify_svc_now_json(struct music_spotify_svc *sp, const char *sid,
				struct ms_json *j);
/* Seconds since the session's devices / now-playing were fetched
 * (a large number when never). */
int64_t music_spotify_svc_devices_age(struct music_spotify_svc *sp,
				      const char *sid);
int64_t music_spotify_svc_now_age(struct music_spotify_svc *sp,
				  const char *sid);

#endif
