/* conns.c - open connections with a header deadline, and the reaper
 * thread that enforces it (see conns.h). One mutex guards the list; the
 * reaper holds it while it shuts sockets down, and libmicrohttpd calls
 * srv_conns_close() before it closes a socket, so a descriptor is never
 * shut down after it was closed and reused. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <sys/socket.h>

#include "moodsync/common.h"
#include "server/conns.h"

#define REAP_EVERY_MS 250

struct srv_conn {
	int fd;
	int in_request;	    /* headers complete, handler running */
	int cut;	    /* shut down already */
	double deadline_ms; /* monotonic, for the current headers */
	struct srv_conn *prev, *next;
};

struct srv_conns {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t reaper;
	int stopping;
	double header_ms;
	struct srv_conn *head;
	int open;
	long cut;
};

static void reap(struct srv_conns *t)
{
	double now = ms_now_ms();
	int n = 0;

	for (struct srv_conn *c = t->head; c; c = c->next) {
		if (c->in_request || c->cut || now < c->deadline_ms)
			continue;
		shutdown(c->fd, SHUT_RDWR);
		c->cut = 1;
		n++;
	}
	t->cut += n;
	if (n)
		ms_log_limited(MS_LOG_INFO, "conns-cut",
			       "http: closed %d connection(s) that did not "
			       "send their headers within %.0f s",
			       n, t->header_ms / 1000.0);
}

static void *reaper_main(void *arg)
{
	struct srv_conns *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += REAP_EVERY_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&t->wake, &t->lock, &ts);
		if (!t->stopping)
			reap(t);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

struct srv_conns *srv_conns_new(double header_ms)
{
	struct srv_conns *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->header_ms = header_ms;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	if (pthread_create(&t->reaper, NULL, reaper_main, t) != 0) {
		pthread_cond_destroy(&t->wake);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

void srv_conns_free(struct srv_conns *t)
{
	struct srv_conn *c, *next;

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->reaper, NULL);
	for (c = t->head; c; c = next) {
		next = c->next;
		free(c);
	}
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

struct srv_conn *srv_conns_open(struct srv_conns *t, int fd)
{
	struct srv_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = fd;
	c->deadline_ms = ms_now_ms() + t->header_ms;
	pthread_mutex_lock(&t->lock);
	c->next = t->head;
	if (t->head)
		t->head->prev = c;
	t->head = c;
	t->open++;
	pthread_mutex_unlock(&t->lock);
	return c;
}

void srv_conns_close(struct srv_conns *t, struct srv_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->open--;
	pthread_mutex_unlock(&t->lock);
	free(c);
}

void srv_conns_request_begin(struct srv_conns *t, struct srv_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	c->in_request = 1;
	pthread_mutex_unlock(&t->lock);
}

void srv_conns_request_end(struct srv_conns *t, struct srv_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	c->in_request = 0;
	c->deadline_ms = ms_now_ms() + t->header_ms;
	pthread_mutex_unlock(&t->lock);
}

void srv_conns_stats(struct srv_conns *t, int *open, long *cut)
{
	pthread_mutex_lock(&t->lock);
	*open = t->open;
	*cut = t->cut;
	pthread_mutex_unlock(&t->lock);
}
