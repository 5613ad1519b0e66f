/* spotify_service.c - the Spotify service's state: per-session records
 * (LRU-evicted), the bounded job queue, and the JSON snapshots the routes
 * send to the page. The worker threads are in spotify_worker.c, the jobs
 * themselves (network calls) in spotify_jobs.c. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/music.h"
#include "moodsync/store.h"
#include "music/spotify_internal.h"

void sp_session_key(const char *sid, char key[65])
{
	uint8_t d[32];
	int i;

	music_sha256(sid, strlen(sid), d);
	for (i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", d[i]);
}

static int sid_valid(const char *sid)
{
	size_t n = sid ? strlen(sid) : 0, i;

	if (n < 16 || n > 39)
		return 0;
	for (i = 0; i < n; i++)
		if (!((sid[i] >= '0' && sid[i] <= '9') ||
		      (sid[i] >= 'a' && sid[i] <= 'f') ||
		      (sid[i] >= 'A' && sid[i] <= 'F')))
			return 0;
	return 1;
}

#define SEEN_SAVE_EVERY_S 3600 /* a session's last visit, stored hourly */

/* Tells the store the session was seen (its tokens outlive 30 days of
 * absence only). With the lock held; one small write an hour a session. */
static void seen_save(struct music_spotify_svc *sp, struct sp_session *s,
		      int64_t now)
{
	s->seen_saved = now;
	if (store_spotify_token_seen(sp->store, s->key, now))
		ms_warn("spotify: last visit not stored (database)");
}

static void session_init(struct music_spotify_svc *sp, struct sp_session *s,
			 const char *sid)
{
	struct store_spotify_token t;

	memset(s, 0, sizeof(*s));
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	sp_session_key(sid, s->key);
	s->rec_mood = s->rec_strategy = -1;
	s->state = store_spotify_token_get(sp->store, s->key, &t) == MS_OK
			   ? SP_CONNECTED
			   : SP_DISCONNECTED;
	memset(&t, 0, sizeof(t));
	if (store_spotify_prefs_get(sp->store, s->key, s->device_id))
		s->device_id[0] = '\0';
	if (s->state == SP_CONNECTED)
		seen_save(sp, s, ms_unix_time());
}

struct sp_session *sp_session_find(struct music_spotify_svc *sp,
				   const char *sid, int create)
{
	struct sp_session *free_slot = NULL, *lru = NULL;
	int64_t now = ms_unix_time();
	size_t i;

	for (i = 0; i < MUSIC_SPOTIFY_SESSIONS; i++) {
		struct sp_session *s = &sp->sessions[i];
		if (s->sid[0] && strcmp(s->sid, sid) == 0) {
			s->touched = now;
			if (s->state == SP_CONNECTED &&
			    now - s->seen_saved >= SEEN_SAVE_EVERY_S)
				seen_save(sp, s, now);
			return s;
		}
		if (!s->sid[0] && !free_slot)
			free_slot = s;
		else if (s->sid[0] && s->npending == 0 && !s->has_retry &&
			 (!lru || s->touched < lru->touched))
			lru = s;
	}
	if (!create || !sid_valid(sid))
		return NULL;
	if (!free_slot)
		free_slot = lru; /* its tokens stay in the store */
	if (!free_slot)
		return NULL;
	session_init(sp, free_slot, sid);
	free_slot->touched = now;
	return free_slot;
}

int music_spotify_svc_new(struct store *store,
			  const struct music_spotify_config *cfg,
			  struct music_spotify_svc **out, char *err,
			  size_t errlen)
{
	struct music_spotify_svc *sp = calloc(1, sizeof(*sp));
	int rc = MS_OK;

	if (!sp)
		return ms_errf(err, errlen, MS_ENOMEM,
			       "spotify: out of memory");
	sp->cfg = *cfg;
	sp->store = store;
	pthread_mutex_init(&sp->lock, NULL);
	pthread_cond_init(&sp->cond, NULL);
	sp->queue = ms_calloc(MUSIC_SPOTIFY_QUEUE, sizeof(*sp->queue));
	sp->sessions = ms_calloc(MUSIC_SPOTIFY_SESSIONS, sizeof(*sp->sessions));
	if (!sp->queue || !sp->sessions) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "spotify: out of memory");
		goto out_free;
	}
	if (!cfg->client_id[0]) { /* not configured: no worker, no calls */
		*out = sp;
		return MS_OK;
	}
	rc = sp_workers_start(sp, err, errlen);
	if (rc)
		goto out_free;
	*out = sp;
	return MS_OK;
out_free:
	music_spotify_svc_free(sp);
	return rc;
}

void music_spotify_svc_free(struct music_spotify_svc *sp)
{
	if (!sp)
		return;
	sp_workers_stop(sp);
	if (sp->queue)
		memset(sp->queue, 0, MUSIC_SPOTIFY_QUEUE * sizeof(*sp->queue));
	free(sp->queue);
	free(sp->sessions);
	pthread_cond_destroy(&sp->cond);
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

int music_spotify_svc_configured(const struct music_spotify_svc *sp)
{
	return sp && sp->cfg.client_id[0] != '\0';
}

const struct music_spotify_config *
music_spotify_svc_config(const struct music_spotify_svc *sp)
{
	return &sp->cfg;
}

int music_spotify_svc_submit(struct music_spotify_svc *sp,
			     const struct music_spotify_job *job)
{
	struct sp_session *s;
	struct music_spotify_job *slot;
	unsigned bit = 1u << job->kind;
	int rc = MS_OK;

	if (!music_spotify_svc_configured(sp) ||
	    (unsigned)job->kind >= MUSIC_SPOTIFY_JOB_KINDS)
		return MS_EINVAL;
	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, job->sid, 1);
	if (!s) {
		rc = sid_valid(job->sid) ? MS_EBUSY : MS_EINVAL;
		goto out;
	}
	if ((job->kind == MUSIC_SPOTIFY_JOB_DEVICES ||
	     job->kind == MUSIC_SPOTIFY_JOB_NOW) &&
	    (s->queued & bit))
		goto out; /* the queued one will answer this too */
	if (sp->qlen >= MUSIC_SPOTIFY_QUEUE) {
		rc = MS_EBUSY;
		goto out;
	}
	slot = &sp->queue[(sp->qhead + sp->qlen) % MUSIC_SPOTIFY_QUEUE];
	*slot = *job;
	if (job->kind == MUSIC_SPOTIFY_JOB_MOOD)
		slot->gen = ++s->mood_gen;
	sp->qlen++;
	s->npending++;
	s->queued |= bit;
	pthread_cond_broadcast(&sp->cond);
out:
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

int music_spotify_svc_connected(struct music_spotify_svc *sp, const char *sid)
{
	struct sp_session *s;
	int on;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 1);
	on = s && s->state == SP_CONNECTED;
	pthread_mutex_unlock(&sp->lock);
	return on;
}

void music_spotify_svc_mark_connecting(struct music_spotify_svc *sp,
				       const char *sid)
{
	struct sp_session *s;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 1);
	if (s) {
		s->state = SP_CONNECTING;
		s->has_error = 0;
	}
	pthread_mutex_unlock(&sp->lock);
}

void music_spotify_svc_note_error(struct music_spotify_svc *sp, const char *sid,
				  const char *action, const char *code,
				  const char *message)
{
	struct sp_session *s;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 1);
	if (s) {
		snprintf(s->error.action, sizeof(s->error.action), "%s",
			 action);
		snprintf(s->error.code, sizeof(s->error.code), "%s", code);
		snprintf(s->error.message, sizeof(s->error.message), "%s",
			 message);
		s->error.at = ms_unix_time();
		s->has_error = 1;
		s->seq++;
	}
	pthread_mutex_unlock(&sp->lock);
}

int music_spotify_svc_disconnect(struct music_spotify_svc *sp, const char *sid)
{
	struct sp_session *s;
	char key[65];
	int rc;

	if (!sid_valid(sid))
		return MS_EINVAL;
	sp_session_key(sid, key);
	rc = store_spotify_token_delete(sp->store, key);
	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 0);
	if (s) {
		s->state = SP_DISCONNECTED;
		s->ndevices = 0;
		s->devices_at = 0;
		s->now_at = 0;
		s->has_error = 0;
		s->has_play = 0;
		s->seq++;
	}
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

int music_spotify_svc_set_device(struct music_spotify_svc *sp, const char *sid,
				 const char *device_id)
{
	struct sp_session *s;
	int rc = MS_OK;

	if (device_id[0] && !music_spotify_device_id_valid(device_id))
		return MS_EINVAL;
	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 1);
	if (!s) {
		rc = MS_EBUSY;
	} else {
		snprintf(s->device_id, sizeof(s->device_id), "%s", device_id);
		rc = store_spotify_prefs_put(sp->store, s->key, device_id);
	}
	pthread_mutex_unlock(&sp->lock);
	return rc;
}

/* Milliseconds the calls stay paused (sp->lock held). */
static int64_t paused_left(const struct music_spotify_svc *sp)
{
	double left = sp->paused_until - ms_now_ms();

	return left > 0 ? (int64_t)left + 1 : 0;
}

int64_t music_spotify_svc_paused_ms(struct music_spotify_svc *sp,
				    const char **code)
{
	int64_t left;

	pthread_mutex_lock(&sp->lock);
	left = paused_left(sp);
	if (code)
		*code = music_spotify_kind_code(sp->paused_kind);
	pthread_mutex_unlock(&sp->lock);
	return left;
}

/* ---- JSON ------------------------------------------------------------- */

static void devices_json(struct ms_json *j, const char *key,
			 const struct sp_session *s)
{
	ms_json_arr_open(j, key);
	for (size_t i = 0; s && i < s->ndevices; i++) {
		const struct music_spotify_device *d = &s->devices[i];

		ms_json_obj_open(j, NULL);
		ms_json_str(j, "id", d->id);
		ms_json_str(j, "name", d->name);
		ms_json_str(j, "type", d->type);
		ms_json_bool(j, "is_active", d->is_active);
		ms_json_bool(j, "is_restricted", d->is_restricted);
		ms_json_int(j, "volume", d->volume);
		ms_json_obj_close(j);
	}
	ms_json_arr_close(j);
}

static void now_json(struct ms_json *j, const char *key,
		     const struct sp_session *s)
{
	const struct music_spotify_now *n = s ? &s->now : NULL;

	if (!s || !s->now_at || !n->has_item) {
		ms_json_null(j, key);
		return;
	}
	ms_json_obj_open(j, key);
	ms_json_bool(j, "is_playing", n->is_playing);
	ms_json_str(j, "track", n->track);
	ms_json_str(j, "artists", n->artists);
	ms_json_str(j, "uri", n->uri);
	ms_json_str(j, "context_uri", n->context_uri);
	ms_json_int(j, "progress_ms", n->progress_ms);
	ms_json_int(j, "duration_ms", n->duration_ms);
	ms_json_obj_close(j);
}

static void rec_json(struct ms_json *j, const char *key,
		     const struct sp_session *s)
{
	if (!s || s->rec_mood < 0) {
		ms_json_null(j, key);
		return;
	}
	ms_json_obj_open(j, key);
	ms_json_str(j, "mood", music_mood_names[s->rec_mood]);
	ms_json_str(j, "strategy", music_strategy_names[s->rec_strategy]);
	ms_json_str(j, "source", s->rec_source);
	ms_json_arr_open(j, "playlists");
	for (size_t i = 0; i < s->nrec; i++) {
		const struct music_spotify_playlist *p = &s->rec[i];

		ms_json_obj_open(j, NULL);
		ms_json_str(j, "name", p->name);
		ms_json_str(j, "uri", p->uri);
		ms_json_str(j, "url", p->url);
		ms_json_str(j, "owner", p->owner);
		ms_json_str(j, "image", p->image);
		ms_json_int(j, "tracks", p->tracks);
		ms_json_obj_close(j);
	}
	ms_json_arr_close(j);
	ms_json_obj_close(j);
}

static void play_json(struct ms_json *j, const char *key,
		      const struct sp_session *s)
{
	if (!s || !s->has_play) {
		ms_json_null(j, key);
		return;
	}
	ms_json_obj_open(j, key);
	ms_json_name(j, "mood", s->play.mood, music_mood_names, MUSIC_MOODS);
	ms_json_bool(j, "autoplay", s->play.autoplay);
	ms_json_bool(j, "ok", s->play.ok);
	ms_json_int(j, "at", s->play.at);
	ms_json_str(j, "context_uri", s->play.uri);
	ms_json_str(j, "device_id", s->play.device);
	ms_json_obj_close(j);
}

static void error_json(struct ms_json *j, const char *key,
		       const struct sp_session *s)
{
	if (!s || !s->has_error) {
		ms_json_null(j, key);
		return;
	}
	ms_json_obj_open(j, key);
	ms_json_str(j, "action", s->error.action);
	ms_json_str(j, "code", s->error.code);
	ms_json_str(j, "message", s->error.message);
	ms_json_int(j, "at", s->error.at);
	ms_json_obj_close(j);
}

static const char *state_name(enum sp_state st)
{
	switch (st) {
	case SP_CONNECTING:
		return "connecting";
	case SP_CONNECTED:
		return "connected";
	case SP_SIGNIN_REQUIRED:
		return "signin_required";
	default:
		return "disconnected";
	}
}

void music_spotify_svc_status_json(struct music_spotify_svc *sp,
				   const char *sid, int autoplay,
				   struct ms_json *j)
{
	int configured = music_spotify_svc_configured(sp);
	struct sp_session *s;
	int64_t paused;

	/* The pause and the session's error under one lock: the worker sets
	 * the pause, then notes the error; a pause read before the lock could
	 * show an error that paused the calls with paused_s 0. */
	pthread_mutex_lock(&sp->lock);
	paused = paused_left(sp);
	s = configured ? sp_session_find(sp, sid, 1) : NULL;
	ms_json_obj_open(j, NULL);
	ms_json_bool(j, "configured", configured);
	ms_json_bool(j, "connected", s && s->state == SP_CONNECTED);
	ms_json_str(j, "state", s ? state_name(s->state) : "disconnected");
	ms_json_bool(j, "autoplay", autoplay);
	ms_json_int(j, "paused_s", (paused + 999) / 1000);
	ms_json_str(j, "paused_reason",
		    paused ? music_spotify_kind_code(sp->paused_kind) : "");
	ms_json_str(j, "device_id", s ? s->device_id : "");
	devices_json(j, "devices", s);
	now_json(j, "now_playing", s);
	rec_json(j, "recommendation", s);
	play_json(j, "last_play", s);
	error_json(j, "error", s);
	ms_json_int(j, "seq", s ? (long long)s->seq : 0);
	ms_json_obj_close(j);
	pthread_mutex_unlock(&sp->lock);
}

void music_spotify_svc_devices_json(struct music_spotify_svc *sp,
				    const char *sid, struct ms_json *j)
{
	struct sp_session *s;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 1);
	ms_json_obj_open(j, NULL);
	devices_json(j, "devices", s);
	ms_json_str(j, "device_id", s ? s->device_id : "");
	ms_json_int(j, "updated", s ? s->devices_at : 0);
	ms_json_obj_close(j);
	pthread_mutex_unlock(&sp->lock);
}

void music_spotify_svc_now_json(struct music_spotify_svc *sp, const char *sid,
				struct ms_json *j)
{
	struct sp_session *s;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 1);
	ms_json_obj_open(j, NULL);
	now_json(j, "now_playing", s);
	ms_json_int(j, "updated", s ? s->now_at : 0);
	ms_json_obj_close(j);
	pthread_mutex_unlock(&sp->lock);
}

static int64_t age_of(struct music_spotify_svc *sp, const char *sid, int now)
{
	struct sp_session *s;
	int64_t at, age = INT64_MAX / 2;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 1);
	at = s ? (now ? s->now_at : s->devices_at) : 0;
	if (at)
		age = ms_unix_time() - at;
	pthread_mutex_unlock(&sp->lock);
	return age;
}

int64_t music_spotify_svc_devices_age(struct music_spotify_svc *sp,
				      const char *sid)
{
	return age_of(sp, sid, 0);
}

int64_t music_spotify_svc_now_age(struct music_spotify_svc *sp, const char *sid)
{
	return age_of(sp, sid, 1);
}
