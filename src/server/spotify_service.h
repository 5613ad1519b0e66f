/* spotify_service.h - the server's Spotify module: per-session Spotify state
 * (sign-in, devices, recommendation, playback, last error), a bounded job
 * queue and the one worker thread that makes every Spotify call, so no HTTP
 * handler and no frame ever waits on Spotify. Routes (routes_spotify.c)
 * read snapshots and submit jobs; everything here is thread-safe. */
#ifndef MOODSYNC_SERVER_SPOTIFY_SERVICE_H
#define MOODSYNC_SERVER_SPOTIFY_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"
#include "moodsync/spotify.h"

struct store;
struct srv_spotify;

#define SRV_SPOTIFY_QUEUE 64     /* pending jobs, all sessions */
#define SRV_SPOTIFY_SESSIONS 256 /* sessions with Spotify state in memory */
#define SRV_SPOTIFY_CACHE_TTL_S (6 * 3600) /* search results stay fresh */
#define SRV_SPOTIFY_CODE_MAX 600 /* longest authorization code accepted */

enum srv_spotify_job_kind {
	SRV_SPOTIFY_EXCHANGE, /* code + verifier -> tokens */
	SRV_SPOTIFY_MOOD,     /* a stable mood changed: find music, auto-play */
	SRV_SPOTIFY_DEVICES,  /* refresh the device list */
	SRV_SPOTIFY_PLAY,     /* play `uri`, or resume when uri is "" */
	SRV_SPOTIFY_PAUSE,
	SRV_SPOTIFY_NEXT,
	SRV_SPOTIFY_NOW,      /* refresh what is playing */
	SRV_SPOTIFY_JOB_KINDS
};

struct srv_spotify_job {
	enum srv_spotify_job_kind kind;
	char sid[40];                        /* session id */
	int mood, strategy, autoplay;        /* MOOD: enum music_mood_id... */
	char code[SRV_SPOTIFY_CODE_MAX + 1]; /* EXCHANGE */
	char verifier[129];                  /* EXCHANGE */
	char redirect[256];                  /* EXCHANGE: as sent to /authorize */
	char uri[64];                        /* PLAY: "" resumes */
	uint64_t gen;                        /* set by submit */
};

/* Starts the worker. `store` is borrowed for the service's life. With an
 * empty cfg->client_id the service still answers status ("not
 * configured") and never calls out. */
int srv_spotify_new(struct store *store, const struct music_spotify_config *cfg,
		    struct srv_spotify **out, char *err, size_t errlen);
/* Stops and joins the worker (jobs still queued are dropped). NULL ok. */
void srv_spotify_free(struct srv_spotify *sp);

int srv_spotify_configured(const struct srv_spotify *sp);
const struct music_spotify_config *srv_spotify_config(
	const struct srv_spotify *sp);

/* Queues a job without waiting. MS_EBUSY when the queue is full,
 * MS_EINVAL for a bad session id. A newer MOOD job for a session makes
 * older queued ones moot. */
int srv_spotify_submit(struct srv_spotify *sp, const struct srv_spotify_job *job);

/* 1 when the session has stored tokens. */
int srv_spotify_connected(struct srv_spotify *sp, const char *sid);
/* Marks the sign-in as under way (between /callback and the exchange). */
void srv_spotify_mark_connecting(struct srv_spotify *sp, const char *sid);
/* Records a user-facing error for the session (e.g. denied consent). */
void srv_spotify_note_error(struct srv_spotify *sp, const char *sid,
			    const char *action, const char *code,
			    const char *message);
/* Deletes the session's tokens and forgets its Spotify state. */
int srv_spotify_disconnect(struct srv_spotify *sp, const char *sid);
/* Remembers the device to play on ("" = the active one). MS_EINVAL for a
 * malformed id. */
int srv_spotify_set_device(struct srv_spotify *sp, const char *sid,
			   const char *device_id);
/* Milliseconds until Spotify calls resume (0: not paused); *code gets
 * the reason's code ("rate_limited", "quota_exceeded", ...). */
int64_t srv_spotify_paused_ms(struct srv_spotify *sp, const char **code);

/* Appends the session's state as one JSON object (see docs/spotify.md):
 * configured, connected, state, device_id, devices, now_playing,
 * recommendation, last_play, error, paused_s, seq. `autoplay` is the
 * session setting (included as is). */
int srv_spotify_status_json(struct srv_spotify *sp, const char *sid,
			    int autoplay, struct ms_buf *out);
/* {"devices": [...], "device_id": "...", "updated": unix_s} */
int srv_spotify_devices_json(struct srv_spotify *sp, const char *sid,
			     struct ms_buf *out);
/* {"now_playing": {...}|null, "updated": unix_s} */
int srv_spotify_now_json(struct srv_spotify *sp, const char *sid,
			 struct ms_buf *out);
/* Seconds since the session's devices / now-playing were fetched
 * (a large number when never). */
int64_t srv_spotify_devices_age(struct srv_spotify *sp, const char *sid);
int64_t srv_spotify_now_age(struct srv_spotify *sp, const char *sid);

#endif
