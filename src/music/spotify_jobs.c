/* spotify_jobs.c - what the Spotify worker thread does for each job: token
 * exchange, mood -> music_recommend's candidates ->
 * search (SQLite cache first, then Spotify, then stale cache, then the
 * offline catalog's links) -> auto-play once per
 * mood change, and manual play/pause/next/devices/now-playing. Each call
 * to Spotify goes through spotify_calls.c (budget, pause, tokens). Runs
 * with the service lock released except around the record updates. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/music.h"
#include "moodsync/store.h"
#include "music/spotify_internal.h"

/* The running worker's HTTP client (one per worker thread, set by
 * sp_job_run): a client is never shared between threads. */
static _Thread_local struct music_spotify_client *cur_client;

static int kind_pauses(enum music_spotify_kind k)
{
	return k == MUSIC_SPOTIFY_RATE_LIMITED || k == MUSIC_SPOTIFY_SERVER ||
	       k == MUSIC_SPOTIFY_TIMEOUT || k == MUSIC_SPOTIFY_NETWORK;
}

/* ---- API calls as sp_api_fn ------------------------------------------- */

struct search_arg {
	const char *query;
	struct music_spotify_playlist *items;
	size_t n;
};

static int fn_search(struct music_spotify_client *client, const char *access,
		     void *arg, struct music_spotify_result *res)
{
	struct search_arg *a = arg;

	return music_spotify_search(client, access, a->query,
				    MUSIC_SPOTIFY_MAX_RESULTS, a->items,
				    MUSIC_SPOTIFY_MAX_RESULTS, &a->n, res);
}

struct devices_arg {
	struct music_spotify_device devs[MUSIC_SPOTIFY_MAX_DEVICES];
	size_t n;
};

static int fn_devices(struct music_spotify_client *client, const char *access,
		      void *arg, struct music_spotify_result *res)
{
	struct devices_arg *a = arg;

	return music_spotify_devices(client, access, a->devs,
				     MUSIC_SPOTIFY_MAX_DEVICES, &a->n, res);
}

struct player_arg {
	enum music_spotify_job_kind kind;
	const char *device; /* NULL: active device */
	const char *uri;    /* PLAY: NULL resumes */
	struct music_spotify_now now;
};

static int fn_player(struct music_spotify_client *client, const char *access,
		     void *arg, struct music_spotify_result *res)
{
	struct player_arg *a = arg;

	switch (a->kind) {
	case MUSIC_SPOTIFY_JOB_PLAY:
		return music_spotify_play(client, access, a->device, a->uri,
					  res);
	case MUSIC_SPOTIFY_JOB_PAUSE:
		return music_spotify_pause(client, access, a->device, res);
	case MUSIC_SPOTIFY_JOB_NEXT:
		return music_spotify_next(client, access, a->device, res);
	default:
		return music_spotify_now_playing(client, access, &a->now, res);
	}
}

/* ---- jobs ------------------------------------------------------------- */

static void job_exchange(struct music_spotify_svc *sp,
			 const struct music_spotify_job *job)
{
	struct store_spotify_token tok;
	struct music_spotify_result res;
	char key[65];

	if (sp_paused(sp, &res)) {
		sp_set_state(sp, job->sid, SP_DISCONNECTED);
		sp_note(sp, job->sid, "signin", &res, 0);
		return;
	}
	if (sp_call(sp, &res))
		return;
	music_spotify_exchange_code(cur_client, job->code, job->verifier,
				    job->redirect[0] ? job->redirect : NULL,
				    &tok, &res);
	sp_account(sp, &res);
	if (res.kind != MUSIC_SPOTIFY_OK) {
		sp_set_state(sp, job->sid, SP_SIGNIN_REQUIRED);
		sp_note(sp, job->sid, "signin", &res, 0);
		return;
	}
	sp_session_key(job->sid, key);
	if (store_spotify_token_put(sp->store, key, &tok)) {
		sp_result_fake(&res, MUSIC_SPOTIFY_BAD_RESPONSE, "database");
		sp_set_state(sp, job->sid, SP_DISCONNECTED);
		sp_note(sp, job->sid, "signin", &res, 0);
	} else {
		sp_set_state(sp, job->sid, SP_CONNECTED);
		sp_note(sp, job->sid, "signin", &res, 1);
		ms_info("spotify: a session connected");
	}
	memset(&tok, 0, sizeof(tok));
}

static void job_devices(struct music_spotify_svc *sp,
			const struct music_spotify_job *job);

/* Signs in, then fetches the devices so the picker is filled at once. */
static void job_signin(struct music_spotify_svc *sp,
		       const struct music_spotify_job *job)
{
	job_exchange(sp, job);
	if (music_spotify_svc_connected(sp, job->sid))
		job_devices(sp, job);
}

static void job_devices(struct music_spotify_svc *sp,
			const struct music_spotify_job *job)
{
	struct devices_arg a;
	struct music_spotify_result res;
	struct sp_session *s;

	memset(&a, 0, sizeof(a));
	sp_authed(sp, cur_client, job->sid, fn_devices, &a, &res);
	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, job->sid, 0);
	if (s && res.kind == MUSIC_SPOTIFY_OK) {
		memcpy(s->devices, a.devs, a.n * sizeof(a.devs[0]));
		s->ndevices = a.n;
		s->devices_at = ms_unix_time();
	}
	pthread_mutex_unlock(&sp->lock);
	sp_note(sp, job->sid, "devices", &res, 0);
}

/* Plays (or pauses, skips, resumes) on the session's chosen device and
 * records the outcome; `mood` >= 0 marks an auto-play. Returns the
 * answer's kind. */
static enum music_spotify_kind do_player(struct music_spotify_svc *sp,
					 const char *sid,
					 enum music_spotify_job_kind kind,
					 const char *uri, int mood)
{
	struct player_arg a;
	struct music_spotify_result res;
	struct sp_session *s;
	char device[96] = "";
	const char *action = mood >= 0			       ? "autoplay"
			     : kind == MUSIC_SPOTIFY_JOB_PLAY  ? "play"
			     : kind == MUSIC_SPOTIFY_JOB_PAUSE ? "pause"
			     : kind == MUSIC_SPOTIFY_JOB_NEXT  ? "next"
							       : "now_playing";

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 0);
	if (s)
		memcpy(device, s->device_id, sizeof(device));
	pthread_mutex_unlock(&sp->lock);
	memset(&a, 0, sizeof(a));
	a.kind = kind;
	a.device = device[0] ? device : NULL;
	a.uri = uri && uri[0] ? uri : NULL;
	sp_authed(sp, cur_client, sid, fn_player, &a, &res);
	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 0);
	if (s && kind == MUSIC_SPOTIFY_JOB_PLAY) {
		s->play.mood = mood;
		s->play.autoplay = mood >= 0;
		snprintf(s->play.uri, sizeof(s->play.uri), "%s",
			 uri ? uri : "");
		memcpy(s->play.device, device, sizeof(device));
		s->play.ok = res.kind == MUSIC_SPOTIFY_OK;
		s->play.at = ms_unix_time();
		s->has_play = 1;
	}
	if (s && kind == MUSIC_SPOTIFY_JOB_NOW &&
	    res.kind == MUSIC_SPOTIFY_OK) {
		s->now = a.now;
		s->now_at = ms_unix_time();
	}
	if (s && kind != MUSIC_SPOTIFY_JOB_NOW && res.kind == MUSIC_SPOTIFY_OK)
		s->now_at = 0; /* what plays changed: fetch it again */
	pthread_mutex_unlock(&sp->lock);
	sp_note(sp, sid, action, &res, kind != MUSIC_SPOTIFY_JOB_NOW);
	return res.kind;
}

/* Reads a cached search for `query` (max_age_s < 0: any age). */
static size_t cache_read(struct music_spotify_svc *sp, const char *query,
			 int64_t max_age_s,
			 struct music_spotify_playlist *items)
{
	struct ms_buf b;
	char err[MS_ERRLEN];
	int64_t fetched;
	size_t n = 0;

	ms_buf_init(&b, 1u << 18);
	if (store_spotify_cache_get(sp->store, query, max_age_s, ms_unix_time(),
				    &b, &fetched) != MS_OK ||
	    music_spotify_search_parse(b.data, b.len, items,
				       MUSIC_SPOTIFY_MAX_RESULTS, &n, err,
				       sizeof(err)) != MS_OK)
		n = 0;
	ms_buf_release(&b);
	return n;
}

static void cache_write(struct music_spotify_svc *sp, const char *query,
			const struct music_spotify_playlist *items, size_t n)
{
	struct ms_buf b;

	ms_buf_init(&b, 1u << 18);
	if (music_spotify_playlists_json(items, n, &b) ||
	    store_spotify_cache_put(sp->store, query, b.data, ms_unix_time()))
		ms_warn("spotify: search not cached");
	ms_buf_release(&b);
}

/* music_recommend's candidates searched per mood, at most, in its order */
#define MOOD_QUERIES 3

/* The auto-play of this mood change met a pause (429, 5xx, no answer):
 * the worker runs the mood job again when the pause ends, unless a newer
 * mood comes first. */
static void mood_retry(struct music_spotify_svc *sp,
		       const struct music_spotify_job *job)
{
	struct sp_session *s;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, job->sid, 0);
	if (s && job->gen == s->mood_gen) {
		s->has_retry = 1;
		s->retry_mood = job->mood;
		s->retry_strategy = job->strategy;
		s->retry_gen = job->gen;
		s->played_gen = 0; /* it did not play: it may once more */
	}
	pthread_cond_broadcast(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
}

static void job_mood(struct music_spotify_svc *sp,
		     const struct music_spotify_job *job)
{
	struct music_rec *rec;
	const struct store_playlist *cat;
	struct music_spotify_playlist items[MUSIC_SPOTIFY_MAX_RESULTS];
	char err[MS_ERRLEN];
	struct music_spotify_result res;
	struct sp_session *s;
	const char *source = "offline";
	size_t n = 0;
	int ncat = 0, i, connected, network = 1, play = 0;
	enum music_spotify_kind searched_kind = MUSIC_SPOTIFY_OK, played;
	char uri[64] = "";

	if (job->mood < 0 || job->mood >= MUSIC_MOODS || job->strategy < 0 ||
	    job->strategy >= MUSIC_STRATEGIES)
		return;
	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, job->sid, 0);
	if (s && job->gen != s->mood_gen) /* a newer mood is queued */
		s = NULL;
	connected = s && s->state == SP_CONNECTED;
	pthread_mutex_unlock(&sp->lock);
	if (!s)
		return;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return;
	if (music_recommend(sp->store, job->mood, job->strategy, 0, rec, err,
			    sizeof(err)) == MS_OK)
		ncat = MS_MIN(rec->n, MOOD_QUERIES);
	cat = rec->items;
	memset(&res, 0, sizeof(res));
	for (i = 0; i < ncat && n == 0; i++) {
		n = cache_read(sp, cat[i].query, MUSIC_SPOTIFY_CACHE_TTL_S,
			       items);
		if (n) {
			source = "cache";
		} else if (connected && network) {
			struct search_arg a = {cat[i].query, items, 0};
			if (sp_authed(sp, cur_client, job->sid, fn_search, &a,
				      &res) == MS_OK) {
				cache_write(sp, cat[i].query, items, a.n);
				n = a.n;
				source = "spotify";
			} else {
				network = 0; /* one failure is enough */
				searched_kind = res.kind;
				sp_note(sp, job->sid, "search", &res, 0);
			}
		}
	}
	for (i = 0; i < ncat && n == 0; i++) {
		n = cache_read(sp, cat[i].query, -1, items);
		if (n)
			source = "stale_cache";
	}
	if (n == 0) { /* offline: the catalog's search links */
		for (i = 0; i < ncat; i++) {
			memset(&items[n], 0, sizeof(items[n]));
			snprintf(items[n].name, sizeof(items[n].name), "%s",
				 cat[i].name);
			/* a long search link is cut, as the playlist's url */
			snprintf(items[n].url, sizeof(items[n].url), "%.*s",
				 (int)sizeof(items[n].url) - 1, cat[i].url);
			items[n].tracks = -1;
			n++;
		}
	}
	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, job->sid, 0);
	if (s && job->gen == s->mood_gen) {
		memcpy(s->rec, items, n * sizeof(items[0]));
		s->nrec = n;
		s->rec_mood = job->mood;
		s->rec_strategy = job->strategy;
		snprintf(s->rec_source, sizeof(s->rec_source), "%s", source);
		/* once per mood change, however the play turns out */
		if (job->autoplay && s->state == SP_CONNECTED && n > 0 &&
		    items[0].uri[0] && s->played_gen != job->gen) {
			s->played_gen = job->gen;
			memcpy(uri, items[0].uri, sizeof(uri));
			play = 1;
		}
	}
	pthread_mutex_unlock(&sp->lock);
	free(rec);
	played = play ? do_player(sp, job->sid, MUSIC_SPOTIFY_JOB_PLAY, uri,
				  job->mood)
		      : searched_kind;
	if (job->autoplay && connected && (play || !uri[0]) &&
	    kind_pauses(played))
		mood_retry(sp, job);
}

void sp_job_run(struct music_spotify_svc *sp,
		struct music_spotify_client *client,
		const struct music_spotify_job *job)
{
	struct sp_session *s;
	int refresh = job->kind == MUSIC_SPOTIFY_JOB_DEVICES ||
		      job->kind == MUSIC_SPOTIFY_JOB_NOW;

	cur_client = client;
	if (refresh) { /* past the refresh share: the page keeps its snapshot */
		pthread_mutex_lock(&sp->lock);
		refresh = sp_budget_room(sp);
		pthread_mutex_unlock(&sp->lock);
		if (!refresh)
			goto out;
	}
	switch (job->kind) {
	case MUSIC_SPOTIFY_JOB_EXCHANGE:
		job_signin(sp, job);
		break;
	case MUSIC_SPOTIFY_JOB_MOOD:
		job_mood(sp, job);
		break;
	case MUSIC_SPOTIFY_JOB_DEVICES:
		job_devices(sp, job);
		break;
	case MUSIC_SPOTIFY_JOB_PLAY:
	case MUSIC_SPOTIFY_JOB_PAUSE:
	case MUSIC_SPOTIFY_JOB_NEXT:
	case MUSIC_SPOTIFY_JOB_NOW:
		do_player(sp, job->sid, job->kind, job->uri, -1);
		break;
	default:
		break;
	}
out:
	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, job->sid, 0);
	if (s) {
		s->npending--;
		s->queued &= ~(1u << job->kind);
		s->seq++;
	}
	pthread_mutex_unlock(&sp->lock);
}
