/* bg.c - the server's two background threads, so request threads never
 * wait on SQLite or on modules: the history writer (rows queued by the
 * frame path, written in one transaction every FLUSH_MS) and the mood
 * notifier (calls srv_modules[].mood_changed in order, may block). The
 * writer also prunes, hourly, history and Spotify sign-ins past 30 days. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/app.h"

#define HISTORY_QUEUE 4096 /* rows waiting for the writer */
#define MOOD_QUEUE 256	   /* events waiting for the notifier */
#define FLUSH_MS 500
#define PRUNE_EVERY_MS (3600.0 * 1000)		  /* once an hour */
#define HISTORY_KEEP_MS (30LL * 24 * 3600 * 1000) /* 30 days of history */

struct srv_bg {
	struct srv_app *app;
	pthread_mutex_t lock;
	pthread_cond_t wake_writer, wake_notifier, flushed;
	int stopping;
	struct store_mood_row *rows;  /* HISTORY_QUEUE, filled by requests */
	struct store_mood_row *batch; /* HISTORY_QUEUE, the writer's copy */
	int nrows;
	long queued, done; /* rows queued / written (or given up) so far */
	int flush_want;
	struct srv_mood_event *events; /* ring of MOOD_QUEUE */
	int ev_head, ev_count;
	long dropped;
	pthread_t writer, notifier;
	int writer_up, notifier_up;
};

static void write_rows(struct srv_bg *bg, struct store_mood_row *rows, int n)
{
	int rc;

	if (n == 0)
		return;
	rc = store_history_add(bg->app->store, rows, n);
	if (rc == MS_EINVAL) { /* keep the good rows of a bad batch */
		for (int i = 0; i < n; i++)
			if (store_history_add(bg->app->store, &rows[i], 1))
				ms_warn("history: row dropped (bad input)");
	} else if (rc) {
		ms_warn("history: %d rows not written: %s", n, ms_strerror(rc));
	}
}

static void *writer_main(void *arg)
{
	struct srv_bg *bg = arg;
	struct store_mood_row *batch = bg->batch;
	double pruned = 0.0;
	int stop = 0;

	while (!stop) {
		struct timespec ts;
		int n;

		pthread_mutex_lock(&bg->lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += FLUSH_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		while (!bg->stopping && !bg->flush_want &&
		       pthread_cond_timedwait(&bg->wake_writer, &bg->lock,
					      &ts) == 0)
			;
		stop = bg->stopping;
		n = bg->nrows;
		if (n)
			memcpy(batch, bg->rows, (size_t)n * sizeof(*batch));
		bg->nrows = 0;
		pthread_mutex_unlock(&bg->lock);

		write_rows(bg, batch, n);
		if (pruned == 0.0 || ms_now_ms() - pruned > PRUNE_EVERY_MS) {
			int64_t gone = 0;

			pruned = ms_now_ms();
			if (store_history_prune(bg->app->store,
						ms_unix_time() * 1000LL -
							HISTORY_KEEP_MS,
						&gone) == MS_OK &&
			    gone > 0)
				ms_info("history: %lld rows older than 30 days "
					"removed",
					(long long)gone);
			gone = 0;
			if (store_spotify_token_purge(
				    bg->app->store,
				    ms_unix_time() - STORE_SPOTIFY_KEEP_S,
				    &gone) == MS_OK &&
			    gone > 0)
				ms_info("spotify: sign-ins of %lld sessions "
					"unseen for 30 days removed",
					(long long)gone);
		}

		pthread_mutex_lock(&bg->lock);
		bg->done += n;
		bg->flush_want = 0;
		pthread_cond_broadcast(&bg->flushed);
		pthread_mutex_unlock(&bg->lock);
	}
	return NULL;
}

static void *notifier_main(void *arg)
{
	struct srv_bg *bg = arg;

	for (;;) {
		struct srv_mood_event ev;

		pthread_mutex_lock(&bg->lock);
		while (!bg->stopping && bg->ev_count == 0)
			pthread_cond_wait(&bg->wake_notifier, &bg->lock);
		if (bg->ev_count == 0) { /* stopping and drained */
			pthread_mutex_unlock(&bg->lock);
			break;
		}
		ev = bg->events[bg->ev_head];
		bg->ev_head = (bg->ev_head + 1) % MOOD_QUEUE;
		bg->ev_count--;
		pthread_mutex_unlock(&bg->lock);
		for (const struct srv_module *m = srv_modules; m->name; m++)
			if (m->mood_changed)
				m->mood_changed(bg->app, &ev);
	}
	return NULL;
}

int srv_bg_start(struct srv_app *app, struct srv_bg **out)
{
	struct srv_bg *bg = calloc(1, sizeof(*bg));

	if (!bg)
		return MS_ENOMEM;
	bg->app = app;
	bg->rows = ms_calloc(HISTORY_QUEUE, sizeof(*bg->rows));
	bg->batch = ms_calloc(HISTORY_QUEUE, sizeof(*bg->batch));
	bg->events = ms_calloc(MOOD_QUEUE, sizeof(*bg->events));
	pthread_mutex_init(&bg->lock, NULL);
	pthread_cond_init(&bg->wake_writer, NULL);
	pthread_cond_init(&bg->wake_notifier, NULL);
	pthread_cond_init(&bg->flushed, NULL);
	if (!bg->rows || !bg->batch || !bg->events)
		goto out_fail;
	if (pthread_create(&bg->writer, NULL, writer_main, bg) != 0)
		goto out_fail;
	bg->writer_up = 1;
	if (pthread_create(&bg->notifier, NULL, notifier_main, bg) != 0)
		goto out_fail;
	bg->notifier_up = 1;
	*out = bg;
	return MS_OK;
out_fail:
	srv_bg_stop(bg);
	return MS_ENOMEM;
}

void srv_bg_stop(struct srv_bg *bg)
{
	if (!bg)
		return;
	pthread_mutex_lock(&bg->lock);
	bg->stopping = 1;
	pthread_cond_broadcast(&bg->wake_writer);
	pthread_cond_broadcast(&bg->wake_notifier);
	pthread_mutex_unlock(&bg->lock);
	if (bg->writer_up)
		pthread_join(bg->writer, NULL);
	if (bg->notifier_up)
		pthread_join(bg->notifier, NULL);
	pthread_cond_destroy(&bg->wake_writer);
	pthread_cond_destroy(&bg->wake_notifier);
	pthread_cond_destroy(&bg->flushed);
	pthread_mutex_destroy(&bg->lock);
	free(bg->rows);
	free(bg->batch);
	free(bg->events);
	free(bg);
}

void srv_bg_history(struct srv_bg *bg, const struct store_mood_row *row)
{
	pthread_mutex_lock(&bg->lock);
	if (bg->nrows < HISTORY_QUEUE) {
		bg->rows[bg->nrows++] = *row;
		bg->queued++;
	} else
		bg->dropped++;
	pthread_mutex_unlock(&bg->lock);
}

void srv_bg_mood(struct srv_bg *bg, const struct srv_mood_event *ev)
{
	pthread_mutex_lock(&bg->lock);
	if (bg->ev_count == MOOD_QUEUE) { /* drop the oldest */
		bg->ev_head = (bg->ev_head + 1) % MOOD_QUEUE;
		bg->ev_count--;
		bg->dropped++;
	}
	bg->events[(bg->ev_head + bg->ev_count) % MOOD_QUEUE] = *ev;
	bg->ev_count++;
	pthread_cond_signal(&bg->wake_notifier);
	pthread_mutex_unlock(&bg->lock);
}

void srv_bg_flush(struct srv_bg *bg)
{
	long target;

	pthread_mutex_lock(&bg->lock);
	target = bg->queued;
	while (!bg->stopping && bg->done < target) {
		bg->flush_want = 1;
		pthread_cond_signal(&bg->wake_writer);
		pthread_cond_wait(&bg->flushed, &bg->lock);
	}
	pthread_mutex_unlock(&bg->lock);
}

long srv_bg_dropped(const struct srv_bg *bg)
{
	return bg->dropped;
}
