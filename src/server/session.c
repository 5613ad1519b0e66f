/* session.c - the in-memory session table: a hash of random ids to
 * per-browser state (smoothing, settings, rate limiter, hint), bounded in
 * size with an LRU list; idle sessions, then anonymous ones, then the
 * least recently used are evicted, and new sessions are admitted at a
 * bounded rate. One mutex guards it; callers hold it only for short
 * copies/updates. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/app.h"

struct srv_sessions {
	pthread_mutex_t lock;
	struct srv_session **buckets;
	size_t nbuckets; /* power of two */
	int count, max;
	double idle_ms;		  /* evict when idle longer */
	double per_s, burst;	  /* new sessions: rate and bucket size */
	double tokens, tokens_ms; /* bucket: tokens left, last refill */
	struct srv_session *head; /* most recently used */
	struct srv_session *tail; /* least recently used */
};

static size_t id_hash(const char *id, size_t nbuckets)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ull;
	return (size_t)(h & (nbuckets - 1));
}

struct srv_sessions *srv_sessions_new(int max, double idle_ms, double per_s,
				      double burst)
{
	struct srv_sessions *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = 64;
	while ((int)t->nbuckets < max && t->nbuckets < (1u << 20))
		t->nbuckets *= 2;
	t->buckets = ms_calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->max = max > 0 ? max : 1;
	t->idle_ms = idle_ms;
	t->per_s = per_s;
	t->burst = burst >= 1.0 ? burst : 1.0;
	t->tokens = t->burst;
	t->tokens_ms = ms_now_ms();
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void srv_sessions_free(struct srv_sessions *t)
{
	struct srv_session *s, *next;

	if (!t)
		return;
	for (s = t->head; s; s = next) {
		next = s->lnext;
		free(s->kv);
		free(s);
	}
	pthread_mutex_destroy(&t->lock);
	free(t->buckets);
	free(t);
}

void srv_sessions_lock(struct srv_sessions *t)
{
	pthread_mutex_lock(&t->lock);
}

void srv_sessions_unlock(struct srv_sessions *t)
{
	pthread_mutex_unlock(&t->lock);
}

int srv_sessions_count(struct srv_sessions *t)
{
	int n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}

static void lru_unlink(struct srv_sessions *t, struct srv_session *s)
{
	if (s->lprev)
		s->lprev->lnext = s->lnext;
	else
		t->head = s->lnext;
	if (s->lnext)
		s->lnext->lprev = s->lprev;
	else
		t->tail = s->lprev;
	s->lprev = s->lnext = NULL;
}

static void lru_push(struct srv_sessions *t, struct srv_session *s)
{
	s->lprev = NULL;
	s->lnext = t->head;
	if (t->head)
		t->head->lprev = s;
	t->head = s;
	if (!t->tail)
		t->tail = s;
}

static void remove_session(struct srv_sessions *t, struct srv_session *s)
{
	struct srv_session **pp = &t->buckets[id_hash(s->id, t->nbuckets)];

	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	lru_unlink(t, s);
	t->count--;
	free(s->kv);
	free(s);
}

struct srv_session *srv_sessions_find(struct srv_sessions *t, const char *id,
				      double now_ms)
{
	struct srv_session *s = t->buckets[id_hash(id, t->nbuckets)];

	for (; s; s = s->hnext)
		if (strcmp(s->id, id) == 0)
			break;
	if (s) {
		s->seen_ms = now_ms;
		if (t->head != s) {
			lru_unlink(t, s);
			lru_push(t, s);
		}
	}
	return s;
}

int srv_sessions_admit(struct srv_sessions *t, double now_ms)
{
	if (t->per_s <= 0.0)
		return 1;
	t->tokens += (now_ms - t->tokens_ms) * t->per_s / 1000.0;
	if (t->tokens > t->burst)
		t->tokens = t->burst;
	t->tokens_ms = now_ms;
	if (t->tokens < 1.0)
		return 0;
	t->tokens -= 1.0;
	return 1;
}

/* Nothing in it that the store cannot give back: no saved settings, no
 * sign-in, no per-session strings (an OAuth state in flight). */
static int anonymous(const struct srv_session *s)
{
	if (s->keep)
		return 0;
	for (int i = 0; s->kv && i < SRV_KV_MAX; i++)
		if (s->kv[i].key[0])
			return 0;
	return 1;
}

/* The session to evict for room: the least recently used anonymous one,
 * else the least recently used. */
static struct srv_session *victim(struct srv_sessions *t)
{
	for (struct srv_session *s = t->tail; s; s = s->lprev)
		if (anonymous(s))
			return s;
	return t->tail;
}

struct srv_session *srv_sessions_add(struct srv_sessions *t, const char *id,
				     double now_ms)
{
	struct srv_session *s;
	size_t b;

	/* expire idle ones from the old end, then make room */
	while (t->tail && now_ms - t->tail->seen_ms > t->idle_ms)
		remove_session(t, t->tail);
	while (t->count >= t->max && t->tail)
		remove_session(t, victim(t));
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->id, sizeof(s->id), "%s", id);
	music_mood_init(&s->mood, NULL);
	s->strategy = MUSIC_MATCH;
	s->autoplay = 1;
	s->group_mode = 1;
	srv_calib_init(&s->calib);
	s->tokens = -1.0; /* full on first use */
	s->created = ms_unix_time() * 1000;
	s->seen_ms = now_ms;
	b = id_hash(s->id, t->nbuckets);
	s->hnext = t->buckets[b];
	t->buckets[b] = s;
	lru_push(t, s);
	t->count++;
	return s;
}

struct srv_session *srv_sessions_ensure(struct srv_sessions *t, const char *id,
					double now_ms)
{
	struct srv_session *s = srv_sessions_find(t, id, now_ms);

	return s ? s : srv_sessions_add(t, id, now_ms);
}

int srv_session_id_new(char out[SRV_SID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[SRV_SID_LEN / 2];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return MS_EIO;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[SRV_SID_LEN] = '\0';
	return MS_OK;
}

int srv_session_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (n >= SRV_SID_LEN || !((s[n] >= '0' && s[n] <= '9') ||
					  (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == SRV_SID_LEN;
}

int srv_session_take_token(struct srv_session *s, double rate_per_s,
			   double burst, double now_ms)
{
	if (rate_per_s <= 0.0)
		return 1; /* unlimited */
	if (s->tokens < 0.0) {
		s->tokens = burst;
	} else {
		s->tokens += (now_ms - s->tokens_ms) * rate_per_s / 1000.0;
		if (s->tokens > burst)
			s->tokens = burst;
	}
	s->tokens_ms = now_ms;
	if (s->tokens < 1.0)
		return 0;
	s->tokens -= 1.0;
	return 1;
}
