/* spotify_worker.c - the Spotify service's worker threads: SP_WORKERS of
 * them, each with its own HTTP client, take queued jobs in order but never
 * two of one session at once (so one slow call holds up only its own
 * user, and a session's token is refreshed by one thread at a time); an
 * auto-play that met a pause runs again when the pause ends; and every
 * call draws on one app-wide budget of SP_BUDGET calls per SP_BUDGET_MS.
 * Shares the service lock with spotify_service.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "music/spotify_internal.h"

/* With the lock held: the first queued job whose session is idle, moved
 * into *out (its session marked running). 0 when there is none. */
static int take_job(struct music_spotify_svc *sp, struct music_spotify_job *out,
		    struct sp_session **sess)
{
	for (size_t i = 0; i < sp->qlen; i++) {
		size_t at = (sp->qhead + i) % MUSIC_SPOTIFY_QUEUE;
		struct sp_session *s =
			sp_session_find(sp, sp->queue[at].sid, 0);

		if (s && s->running)
			continue;
		*out = sp->queue[at];
		for (size_t k = i; k + 1 < sp->qlen; k++) /* close the gap */
			sp->queue[(sp->qhead + k) % MUSIC_SPOTIFY_QUEUE] =
				sp->queue[(sp->qhead + k + 1) %
					  MUSIC_SPOTIFY_QUEUE];
		memset(&sp->queue[(sp->qhead + sp->qlen - 1) %
				  MUSIC_SPOTIFY_QUEUE],
		       0, sizeof(*out));
		sp->qlen--;
		if (s)
			s->running = 1;
		*sess = s;
		return 1;
	}
	return 0;
}

/* With the lock held: queues again the mood jobs whose auto-play met a
 * pause, once the pause is over. Returns 1 when some still wait for it. */
static int requeue_due(struct music_spotify_svc *sp)
{
	int waiting = 0;

	for (size_t i = 0; i < MUSIC_SPOTIFY_SESSIONS; i++) {
		struct sp_session *s = &sp->sessions[i];
		struct music_spotify_job *slot;

		if (!s->sid[0] || !s->has_retry)
			continue;
		if (s->retry_gen != s->mood_gen) { /* a newer mood took over */
			s->has_retry = 0;
			continue;
		}
		if (ms_now_ms() < sp->paused_until ||
		    sp->qlen >= MUSIC_SPOTIFY_QUEUE) {
			waiting = 1;
			continue;
		}
		slot = &sp->queue[(sp->qhead + sp->qlen) % MUSIC_SPOTIFY_QUEUE];
		memset(slot, 0, sizeof(*slot));
		slot->kind = MUSIC_SPOTIFY_JOB_MOOD;
		memcpy(slot->sid, s->sid, sizeof(slot->sid));
		slot->mood = s->retry_mood;
		slot->strategy = s->retry_strategy;
		slot->autoplay = 1;
		slot->gen = s->retry_gen;
		sp->qlen++;
		s->npending++;
		s->queued |= 1u << MUSIC_SPOTIFY_JOB_MOOD;
		s->has_retry = 0;
	}
	return waiting;
}

/* Waits on the service's condition for at most `ms` (lock held). */
static void wait_ms(struct music_spotify_svc *sp, double ms)
{
	struct timespec ts;
	long ns = (long)(MS_MIN(MS_MAX(ms, 1.0), 60000.0) * 1e6);

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec += ns % 1000000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&sp->cond, &sp->lock, &ts);
}

static void *worker_main(void *arg)
{
	struct sp_worker *w = arg;
	struct music_spotify_svc *sp = w->sp;
	struct music_spotify_job *job = malloc(sizeof(*job));
	struct sp_session *s;
	char sid[sizeof(job->sid)];

	if (!job) {
		ms_error("spotify: worker out of memory");
		return NULL;
	}
	pthread_mutex_lock(&sp->lock);
	while (!sp->stopping) {
		int waiting = requeue_due(sp);

		if (!take_job(sp, job, &s)) {
			if (waiting)
				wait_ms(sp,
					MS_MAX(sp->paused_until - ms_now_ms(),
					       0.0) +
						50.0);
			else
				pthread_cond_wait(&sp->cond, &sp->lock);
			continue;
		}
		pthread_mutex_unlock(&sp->lock);
		sp_job_run(sp, w->client, job);
		memcpy(sid, job->sid, sizeof(sid));
		memset(job, 0, sizeof(*job)); /* codes and verifiers */
		pthread_mutex_lock(&sp->lock);
		s = sp_session_find(sp, sid, 0);
		if (s)
			s->running = 0;
		pthread_cond_broadcast(&sp->cond); /* its next job may go */
	}
	pthread_mutex_unlock(&sp->lock);
	free(job);
	return NULL;
}

int sp_workers_start(struct music_spotify_svc *sp, char *err, size_t errlen)
{
	int rc;

	for (int i = 0; i < SP_WORKERS; i++) {
		struct sp_worker *w = &sp->workers[i];

		w->sp = sp;
		rc = music_spotify_client_new(&sp->cfg, &w->client, err,
					      errlen);
		if (rc)
			return rc;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
			return ms_errf(err, errlen, MS_ENOMEM,
				       "spotify: no worker thread");
		w->started = 1;
	}
	return MS_OK;
}

void sp_workers_stop(struct music_spotify_svc *sp)
{
	pthread_mutex_lock(&sp->lock);
	sp->stopping = 1;
	pthread_cond_broadcast(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	for (int i = 0; i < SP_WORKERS; i++) {
		struct sp_worker *w = &sp->workers[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		w->started = 0;
		music_spotify_client_free(w->client);
		w->client = NULL;
	}
}

/* ---- the app-wide call budget ---------------------------------------- */

/* With the lock held: calls made in the window that ends now. */
static int budget_used(const struct music_spotify_svc *sp, double now)
{
	int n = 0;

	for (int i = 0; i < SP_BUDGET; i++)
		n += sp->calls[i] > 0.0 && now - sp->calls[i] < SP_BUDGET_MS;
	return n;
}

int sp_budget_room(struct music_spotify_svc *sp)
{
	return budget_used(sp, ms_now_ms()) < SP_BUDGET_REFRESH;
}

int sp_budget_take(struct music_spotify_svc *sp)
{
	int rc = 0;

	pthread_mutex_lock(&sp->lock);
	/* calls[calls_head] is the oldest of the last SP_BUDGET calls: while
	 * it is inside the window, the window is full */
	while (!sp->stopping && sp->calls[sp->calls_head] > 0.0 &&
	       ms_now_ms() - sp->calls[sp->calls_head] < SP_BUDGET_MS)
		wait_ms(sp, SP_BUDGET_MS -
				    (ms_now_ms() - sp->calls[sp->calls_head]));
	if (sp->stopping) {
		rc = -1;
	} else {
		sp->calls[sp->calls_head] = ms_now_ms();
		sp->calls_head = (sp->calls_head + 1) % SP_BUDGET;
	}
	pthread_mutex_unlock(&sp->lock);
	return rc;
}
