/* player.c - the library as the server uses it: background scans, an
 * in-memory snapshot of the playable tracks (rebuilt when a scan has
 * changed the store), and one queue per listener (LRU, in memory: "no
 * repeats" holds for a session). Each listener's feedback is read from the
 * store at each queue call and applied to a copy of the snapshot, so a
 * like or a dragged point changes what plays next. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/library.h"
#include "moodsync/store.h"

#define MAX_QUEUES 1024	  /* listeners remembered */
#define MAX_FEEDBACK 4096 /* feedback rows applied per listener */
#define SNAP_TTL_MS                                                            \
	5000.0 /* rebuilt at least this often (another                         \
		* process may scan into the same store) */

struct listener_queue {
	char user[40];
	double used_ms;
	struct music_queue q;
};

struct music_player {
	struct store *store;
	struct music_scan_opts opts;
	char dirs[MUSIC_SCAN_DIRS][4096];

	pthread_mutex_t lock;	 /* everything below */
	struct music_scan *scan; /* last or running scan, NULL none */
	long scan_seen;		 /* scan generation the snapshot reflects */
	long scan_gen;		 /* bumped when a scan starts */
	struct music_cand *snap; /* playable tracks, by id */
	int nsnap;
	int snap_valid;
	double snap_ms; /* when it was built, monotonic ms */
	struct listener_queue *queues[MAX_QUEUES];
};

int music_player_new(struct store *s, const struct music_scan_opts *opts,
		     struct music_player **out, char *err, size_t errlen)
{
	struct music_player *p = calloc(1, sizeof(*p));

	if (!p)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	p->store = s;
	p->opts = *opts;
	p->opts.ndirs = MS_MIN(MS_MAX(opts->ndirs, 0), MUSIC_SCAN_DIRS);
	for (int i = 0; i < p->opts.ndirs; i++) {
		snprintf(p->dirs[i], sizeof(p->dirs[i]), "%s", opts->dirs[i]);
		p->opts.dirs[i] = p->dirs[i];
	}
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return MS_OK;
}

void music_player_free(struct music_player *p)
{
	if (!p)
		return;
	if (p->scan)
		music_scan_cancel(p->scan);
	music_scan_free(p->scan);
	for (int i = 0; i < MAX_QUEUES; i++)
		free(p->queues[i]);
	free(p->snap);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int music_player_scan(struct music_player *p)
{
	struct music_scan_progress pr;
	struct music_scan *sc = NULL;
	char err[MS_ERRLEN];
	int rc = MS_OK;

	if (p->opts.ndirs == 0)
		return MS_OK; /* nothing to scan */
	pthread_mutex_lock(&p->lock);
	if (p->scan) {
		music_scan_progress(p->scan, &pr);
		if (pr.running) {
			rc = MS_EBUSY;
			goto out;
		}
		music_scan_free(p->scan);
		p->scan = NULL;
	}
	rc = music_scan_new(p->store, &p->opts, &sc, err, sizeof(err));
	if (!rc)
		rc = music_scan_start(sc);
	if (rc) {
		ms_warn("library: cannot start a scan: %s", ms_strerror(rc));
		music_scan_free(sc);
		goto out;
	}
	p->scan = sc;
	p->scan_gen++;
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void music_player_status(struct music_player *p,
			 struct music_library_status *out)
{
	memset(out, 0, sizeof(*out));
	store_track_count(p->store, &out->tracks, &out->skipped);
	out->tracks -= out->skipped;
	pthread_mutex_lock(&p->lock);
	if (p->scan)
		music_scan_progress(p->scan, &out->scan);
	pthread_mutex_unlock(&p->lock);
	out->ndirs = p->opts.ndirs;
	for (int i = 0; i < p->opts.ndirs; i++)
		out->dirs[i] = p->dirs[i];
}

/* ---- the snapshot ----------------------------------------------------------
 */

struct snap_build {
	struct music_cand *c;
	int n, cap;
};

static int snap_add(const struct store_track *t, void *ctx)
{
	struct snap_build *b = ctx;
	struct music_cand *c;

	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 256;
		struct music_cand *nc =
			ms_mallocarray((size_t)cap, sizeof(*nc));

		if (!nc)
			return MS_ENOMEM;
		if (b->n)
			memcpy(nc, b->c, (size_t)b->n * sizeof(*nc));
		free(b->c);
		b->c = nc;
		b->cap = cap;
	}
	c = &b->c[b->n++];
	memset(c, 0, sizeof(*c));
	c->id = t->id;
	c->artist = music_artist_hash(t->artist);
	c->point.valence = t->valence;
	c->point.arousal = t->arousal;
	c->tempo_bpm = t->tempo_bpm;
	c->mode = t->mode;
	snprintf(c->words, sizeof(c->words), "%s", t->words);
	return MS_OK;
}

/* Under p->lock: rebuilds the snapshot when a scan stored something since
 * the last build (a running scan: every call, so tracks appear as they
 * are analysed). */
static int snap_refresh(struct music_player *p)
{
	struct music_scan_progress pr = {0};
	struct snap_build b = {0};
	int rc;

	if (p->scan)
		music_scan_progress(p->scan, &pr);
	if (p->snap_valid && !pr.running && p->scan_seen == p->scan_gen &&
	    ms_now_ms() - p->snap_ms < SNAP_TTL_MS)
		return MS_OK;
	rc = store_track_each(p->store, 1, snap_add, &b);
	if (rc) {
		free(b.c);
		return rc;
	}
	free(p->snap);
	p->snap = b.c;
	p->nsnap = b.n;
	p->snap_valid = 1;
	p->snap_ms = ms_now_ms();
	if (!pr.running)
		p->scan_seen = p->scan_gen;
	return MS_OK;
}

static int cand_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct music_cand *)a)->id;
	int64_t y = ((const struct music_cand *)b)->id;

	return x < y ? -1 : x > y;
}

/* The listener's copy of the snapshot with their feedback applied. */
static int cands_for(struct music_player *p, const char *user,
		     struct music_cand **out, int *n)
{
	struct store_feedback *fb = ms_calloc(MAX_FEEDBACK, sizeof(*fb));
	struct music_cand *c =
		ms_mallocarray(p->nsnap ? (size_t)p->nsnap : 1, sizeof(*c));
	int nfb = 0, rc = MS_ENOMEM;

	if (!fb || !c)
		goto out_free;
	if (p->nsnap)
		memcpy(c, p->snap, (size_t)p->nsnap * sizeof(*c));
	rc = store_feedback_list(p->store, user, fb, MAX_FEEDBACK, &nfb);
	if (rc == MS_EINVAL) /* not a listener id we can key feedback by */
		rc = MS_OK, nfb = 0;
	if (rc)
		goto out_free;
	for (int i = 0; i < nfb; i++) {
		struct music_cand key = {.id = fb[i].track}, *m;

		m = bsearch(&key, c, (size_t)p->nsnap, sizeof(*c), cand_cmp);
		if (!m)
			continue;
		m->liked = fb[i].liked;
		m->skips = fb[i].skips;
		m->early_skips = fb[i].early_skips;
		m->not_mood = fb[i].not_mood;
		m->not_mood_at.valence = fb[i].not_mood_valence;
		m->not_mood_at.arousal = fb[i].not_mood_arousal;
		if (fb[i].has_point) { /* the analyser's words may not fit */
			m->point.valence = fb[i].point_valence;
			m->point.arousal = fb[i].point_arousal;
			m->words[0] = '\0';
		}
	}
	free(fb);
	*out = c;
	*n = p->nsnap;
	return MS_OK;
out_free:
	free(fb);
	free(c);
	return rc;
}

/* ---- queues -----------------------------------------------------------------
 */

/* Under p->lock: the listener's queue, created (evicting the least
 * recently used) when missing. */
static struct music_queue *queue_of(struct music_player *p, const char *user)
{
	int free_i = -1, lru = 0;
	double now = ms_now_ms();
	struct listener_queue *lq;

	for (int i = 0; i < MAX_QUEUES; i++) {
		lq = p->queues[i];
		if (!lq) {
			if (free_i < 0)
				free_i = i;
			continue;
		}
		if (strcmp(lq->user, user) == 0) {
			lq->used_ms = now;
			return &lq->q;
		}
		if (p->queues[lru] && lq->used_ms < p->queues[lru]->used_ms)
			lru = i;
	}
	if (free_i < 0) {
		free_i = lru;
		free(p->queues[lru]);
		p->queues[lru] = NULL;
	}
	lq = calloc(1, sizeof(*lq));
	if (!lq)
		return NULL;
	snprintf(lq->user, sizeof(lq->user), "%s", user);
	lq->used_ms = now;
	music_queue_init(&lq->q);
	p->queues[free_i] = lq;
	return &lq->q;
}

static int in_cands(const struct music_cand *c, int n, int64_t id)
{
	struct music_cand key = {.id = id};

	return id > 0 && bsearch(&key, c, (size_t)n, sizeof(*c), cand_cmp);
}

int music_player_queue(struct music_player *p, const char *user,
		       const struct music_listener *l, int advance,
		       struct music_queue_view *view)
{
	struct music_pick pick, next[MUSIC_NEXT_MAX];
	struct music_cand *c = NULL;
	struct music_queue *q;
	int n = 0, nnext = 0, rc;

	memset(view, 0, sizeof(*view));
	pthread_mutex_lock(&p->lock);
	rc = snap_refresh(p);
	if (!rc)
		rc = cands_for(p, user, &c, &n);
	if (rc)
		goto out;
	q = queue_of(p, user);
	if (!q) {
		rc = MS_ENOMEM;
		goto out;
	}
	if (n > 0 && (advance || !in_cands(c, n, q->now)))
		music_queue_advance(q, c, n, l, &pick);
	if (n == 0) {
		char err[MS_ERRLEN];

		music_queue_init(q);
		view->has_rec = music_recommend(p->store, l->mood, l->goal,
						l->mood_since_ms, &view->rec,
						err, sizeof(err)) == MS_OK;
	}
	view->now = q->now;
	view->target = q->now_target;
	snprintf(view->why, sizeof(view->why), "%s", q->why);
	music_queue_peek(q, c, n, l, next, MUSIC_NEXT_MAX, &nnext);
	for (int i = 0; i < nnext; i++) {
		if (c[next[i].index].id == q->now)
			break; /* the round starts again: stop before a repeat
				*/
		view->next[view->nnext] = c[next[i].index].id;
		snprintf(view->next_why[view->nnext], MUSIC_QUEUE_WHY, "%s",
			 next[i].why);
		view->nnext++;
	}
out:
	pthread_mutex_unlock(&p->lock);
	free(c);
	return rc;
}

int64_t music_player_now(struct music_player *p, const char *user)
{
	int64_t id = 0;

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < MAX_QUEUES; i++)
		if (p->queues[i] && strcmp(p->queues[i]->user, user) == 0)
			id = p->queues[i]->q.now;
	pthread_mutex_unlock(&p->lock);
	return id;
}

int music_player_track(struct music_player *p, const char *user, int64_t id,
		       struct store_track *out, struct music_va *point,
		       int *liked)
{
	struct store_feedback fb;
	int rc = store_track_get(p->store, id, out);

	if (rc)
		return rc;
	point->valence = out->valence;
	point->arousal = out->arousal;
	*liked = 0;
	if (store_feedback_get(p->store, user, id, &fb) == MS_OK) {
		*liked = fb.liked;
		if (fb.has_point) {
			point->valence = fb.point_valence;
			point->arousal = fb.point_arousal;
		}
	}
	return MS_OK;
}
