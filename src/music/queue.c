/* queue.c - the listener's journey across the valence/arousal plane: which
 * track plays next, and a plain-words reason. Pure functions on plain
 * values (no store, no threads), so the policy is unit-tested in full.
 *
 * The iso principle of music therapy: start where the listener is, then
 * move a little toward the goal with every track. The queue keeps a
 * position `pos` on the plane. At each track boundary:
 *   - the journey restarts at the listener's point when it is new or when
 *     the listener moved more than RESTART away from where it began (the
 *     mood changed: meet them where they are now);
 *   - match aims at the listener's point itself; lift, calm and energise
 *     aim at the goal's point, each step at most MUSIC_STEP from `pos`;
 *   - each candidate scores its distance to that target, plus:
 *       played in this queue             excluded (until all are played)
 *       more than 1.6 steps from `pos`   +1.0 (only when nothing is near)
 *       same artist as the last track    +0.35 (the one before: +0.20)
 *       liked                            -0.15
 *       each late skip (max 3)           +0.10
 *       each early skip (max 3)          +0.30 (a skip in the first 30 s)
 *       "not this mood" near this mood   +0.60 per press (max 2), when the
 *                                        listener is within 0.5 of where
 *                                        they were when pressing it
 *   - the lowest score plays (ties: lowest id); `pos` moves to the target.
 * The reason names the track with the analyser's words when it has them
 * ("calm, minor, slow"), else with words for its point on the plane. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "moodsync/library.h"

#define RESTART 0.45  /* listener moved this far: journey restarts */
#define FAR_STEPS 1.6 /* candidates beyond this many steps are "far" */
#define FAR_PENALTY 1.0
#define ARTIST_PENALTY 0.35
#define ARTIST_PENALTY2 0.20
#define LIKE_PULL 0.15
#define SKIP_PUSH 0.10
#define EARLY_SKIP_PUSH 0.30
#define NOT_MOOD_PUSH 0.60
#define NOT_MOOD_NEAR 0.5
#define AT_GOAL 0.08 /* closer than this to the goal: holding there */

void music_queue_init(struct music_queue *q)
{
	memset(q, 0, sizeof(*q));
}

void music_queue_reset_played(struct music_queue *q)
{
	q->nplayed = 0;
	q->played_head = 0;
}

uint32_t music_artist_hash(const char *name)
{
	uint32_t h = 2166136261u;

	if (!name || !*name)
		return 0;
	for (; *name; name++) {
		h ^= (uint32_t)tolower((unsigned char)*name);
		h *= 16777619u;
	}
	return h ? h : 1;
}

static double clampd(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static double dist(struct music_va a, struct music_va b)
{
	return hypot(a.valence - b.valence, a.arousal - b.arousal);
}

struct music_va music_goal_point(int goal, struct music_va from)
{
	struct music_va g = from;

	switch (goal) {
	case MUSIC_LIFT: /* brighter, at a moderate energy */
		g.valence = 0.75;
		g.arousal = clampd(from.arousal, -0.2, 0.5);
		break;
	case MUSIC_CALM:
		g.valence = clampd(from.valence, 0.2, 0.5);
		g.arousal = -0.70;
		break;
	case MUSIC_ENERGISE:
		g.valence = clampd(from.valence, 0.3, 0.6);
		g.arousal = 0.80;
		break;
	default: /* match: where the listener is */
		break;
	}
	return g;
}

/* `from` moved toward `to` by at most `step`. */
static struct music_va step_toward(struct music_va from, struct music_va to,
				   double step)
{
	double d = dist(from, to);
	struct music_va r = to;

	if (d > step) {
		r.valence =
			from.valence + (to.valence - from.valence) * step / d;
		r.arousal =
			from.arousal + (to.arousal - from.arousal) * step / d;
	}
	return r;
}

static int was_played(const struct music_queue *q, int64_t id)
{
	for (int i = 0; i < q->nplayed; i++)
		if (q->played[i] == id)
			return 1;
	return 0;
}

static double score(const struct music_queue *q, const struct music_cand *c,
		    const struct music_listener *l, struct music_va target)
{
	double s = dist(c->point, target);

	if (dist(c->point, q->pos) > FAR_STEPS * MUSIC_STEP &&
	    l->goal != MUSIC_MATCH)
		s += FAR_PENALTY;
	if (c->artist && c->artist == q->recent[0])
		s += ARTIST_PENALTY;
	else if (c->artist && c->artist == q->recent[1])
		s += ARTIST_PENALTY2;
	if (c->liked)
		s -= LIKE_PULL;
	s += SKIP_PUSH * MS_MIN(c->skips, 3);
	s += EARLY_SKIP_PUSH * MS_MIN(c->early_skips, 3);
	if (c->not_mood && dist(l->point, c->not_mood_at) < NOT_MOOD_NEAR)
		s += NOT_MOOD_PUSH * MS_MIN(c->not_mood, 2);
	return s;
}

/* Index of the best unplayed candidate for `target`, -1 when all are
 * played (or n == 0). */
static int best(const struct music_queue *q, const struct music_cand *c, int n,
		const struct music_listener *l, struct music_va target)
{
	double bs = INFINITY;
	int bi = -1;

	for (int i = 0; i < n; i++) {
		double s;

		if (was_played(q, c[i].id))
			continue;
		s = score(q, &c[i], l, target);
		if (s < bs || (s == bs && bi >= 0 && c[i].id < c[bi].id)) {
			bs = s;
			bi = i;
		}
	}
	return bi;
}

static const char *energy_word(double a)
{
	return a < -0.45  ? "calm"
	       : a < -0.1 ? "gentle"
	       : a < 0.35 ? "steady"
			  : "energetic";
}

static const char *valence_word(double v)
{
	return v < -0.45  ? "dark"
	       : v < -0.1 ? "wistful"
	       : v < 0.35 ? "warm"
			  : "bright";
}

static const char *goal_phrase(int goal)
{
	switch (goal) {
	case MUSIC_LIFT:
		return "brighter";
	case MUSIC_CALM:
		return "calm";
	case MUSIC_ENERGISE:
		return "energy";
	default:
		return "your mood";
	}
}

/* "calm, minor, slow: matches your tired mood; moving toward calm". */
static void why_write(char *out, size_t len, const struct music_cand *c,
		      const struct music_listener *l, struct music_va target,
		      struct music_va goal_pt)
{
	char desc[96];
	const char *mode = c->mode < -0.2  ? ", minor"
			   : c->mode > 0.2 ? ", major"
					   : "";
	const char *tempo = c->tempo_bpm <= 0	 ? ""
			    : c->tempo_bpm < 90	 ? ", slow"
			    : c->tempo_bpm > 125 ? ", fast"
						 : ", mid-tempo";
	const char *feel = music_feeling_names[l->feeling < MUSIC_FEELINGS
						       ? l->feeling
						       : MUSIC_FEEL_NEUTRAL];
	double dl = dist(c->point, l->point);
	const char *rel = dl < 0.35  ? "matches"
			  : dl < 0.7 ? "close to"
				     : "a step from";
	const char *extra = c->liked ? " (you liked it)" : "";

	if (c->words[0]) /* the analyser's own words for the track */
		snprintf(desc, sizeof(desc), "%s", c->words);
	else
		snprintf(desc, sizeof(desc), "%s, %s%s%s",
			 energy_word(c->point.arousal),
			 valence_word(c->point.valence), mode, tempo);
	if (l->goal == MUSIC_MATCH)
		snprintf(out, len, "%s: %s your %s mood; staying with it%s",
			 desc, rel, feel, extra);
	else if (dist(target, goal_pt) < AT_GOAL)
		snprintf(out, len, "%s: %s your %s mood; holding at %s%s", desc,
			 rel, feel, goal_phrase(l->goal), extra);
	else
		snprintf(out, len, "%s: %s your %s mood; moving toward %s%s",
			 desc, rel, feel, goal_phrase(l->goal), extra);
}

/* The next target from the queue's state; restarts the journey (writes
 * q->pos, q->origin) when the listener moved. */
static struct music_va next_target(struct music_queue *q,
				   const struct music_listener *l,
				   struct music_va *goal_pt)
{
	if (!q->started || dist(l->point, q->origin) > RESTART) {
		q->started = 1;
		q->pos = l->point;
		q->origin = l->point;
		*goal_pt = music_goal_point(l->goal, l->point);
		/* the first track meets the listener where they are */
		return l->goal == MUSIC_MATCH ? l->point : q->pos;
	}
	*goal_pt = music_goal_point(l->goal, q->origin);
	if (l->goal == MUSIC_MATCH)
		return l->point;
	return step_toward(q->pos, *goal_pt, MUSIC_STEP);
}

int music_queue_advance(struct music_queue *q, const struct music_cand *c,
			int n, const struct music_listener *l,
			struct music_pick *pick)
{
	struct music_va target, goal_pt;
	int i;

	if (n <= 0)
		return MS_ENOTFOUND;
	target = next_target(q, l, &goal_pt);
	i = best(q, c, n, l, target);
	if (i < 0) { /* everything played: start the round again */
		music_queue_reset_played(q);
		i = best(q, c, n, l, target);
	}
	if (i < 0)
		return MS_ENOTFOUND;
	pick->index = i;
	pick->target = target;
	why_write(pick->why, sizeof(pick->why), &c[i], l, target, goal_pt);
	q->pos = target;
	q->now = c[i].id;
	q->now_target = target;
	snprintf(q->why, sizeof(q->why), "%s", pick->why);
	q->played[q->played_head] = c[i].id;
	q->played_head = (q->played_head + 1) % MUSIC_QUEUE_PLAYED;
	if (q->nplayed < MUSIC_QUEUE_PLAYED)
		q->nplayed++;
	q->recent[1] = q->recent[0];
	q->recent[0] = c[i].artist;
	return MS_OK;
}

void music_queue_peek(const struct music_queue *q, const struct music_cand *c,
		      int n, const struct music_listener *l,
		      struct music_pick *out, int max, int *nout)
{
	struct music_queue sim = *q;
	int k = 0;

	while (k < max && k < n &&
	       music_queue_advance(&sim, c, n, l, &out[k]) == MS_OK)
		k++;
	*nout = k;
}
