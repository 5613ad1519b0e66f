/* mood.c - per-session mood smoothing: an exponential moving average of
 * the seven probabilities with a time constant (so it does not depend on
 * the frame rate) and hysteresis (a new mood must lead the current one by
 * a margin, continuously, for a hold time before it becomes stable). */
#include <math.h>
#include <string.h>

#include "moodsync/music.h"

const char *const music_mood_names[MUSIC_MOODS] = {
	"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
};

const char *const music_strategy_names[MUSIC_STRATEGIES] = {"match", "lift",
							    "calm", "energise"};

int music_mood_parse(const char *s, int *out)
{
	for (int i = 0; s && i < MUSIC_MOODS; i++)
		if (strcmp(s, music_mood_names[i]) == 0) {
			*out = i;
			return MS_OK;
		}
	return MS_EINVAL;
}

int music_strategy_parse(const char *s, int *out)
{
	for (int i = 0; s && i < MUSIC_STRATEGIES; i++)
		if (strcmp(s, music_strategy_names[i]) == 0) {
			*out = i;
			return MS_OK;
		}
	return MS_EINVAL;
}

int music_strategy_catalog(int strategy)
{
	return strategy == MUSIC_MATCH ? MUSIC_MATCH : MUSIC_LIFT;
}

void music_mood_params_default(struct music_mood_params *p)
{
	p->tau_ms = 800.0;
	p->margin = 0.10;
	p->hold_ms = 2500.0;
}

void music_mood_init(struct music_mood *m, const struct music_mood_params *p)
{
	memset(m, 0, sizeof(*m));
	if (p)
		m->params = *p;
	else
		music_mood_params_default(&m->params);
	m->stable = -1;
	m->candidate = -1;
}

int music_mood_leader(const struct music_mood *m)
{
	int best = 0;

	if (m->samples == 0)
		return -1;
	for (int i = 1; i < MUSIC_MOODS; i++)
		if (m->probs[i] > m->probs[best])
			best = i;
	return best;
}

int music_mood_update(struct music_mood *m, const float *probs, double now_ms)
{
	float in[MUSIC_MOODS];
	double sum = 0.0, alpha, dt;
	int lead;

	for (int i = 0; i < MUSIC_MOODS; i++) {
		if (!isfinite(probs[i]) || probs[i] < 0.0f)
			return MS_EINVAL;
		sum += probs[i];
	}
	if (!(sum > 1e-9))
		return MS_EINVAL;
	for (int i = 0; i < MUSIC_MOODS; i++)
		in[i] = (float)(probs[i] / sum);
	if (m->samples == 0) {
		memcpy(m->probs, in, sizeof(in));
		m->samples = 1;
		m->last_ms = now_ms;
		m->stable = music_mood_leader(m);
		m->candidate = -1;
		return 1;
	}
	dt = now_ms - m->last_ms;
	if (dt < 0.0)
		dt = 0.0;
	alpha = m->params.tau_ms > 0.0 ? 1.0 - exp(-dt / m->params.tau_ms)
				       : 1.0;
	for (int i = 0; i < MUSIC_MOODS; i++)
		m->probs[i] += (float)(alpha * (in[i] - m->probs[i]));
	m->samples++;
	m->last_ms = now_ms;

	lead = music_mood_leader(m);
	if (lead == m->stable ||
	    m->probs[lead] - m->probs[m->stable] < m->params.margin) {
		m->candidate = -1; /* no contender, or it lost its lead */
		return 0;
	}
	if (lead != m->candidate) {
		m->candidate = lead;
		m->candidate_ms = now_ms;
	}
	if (now_ms - m->candidate_ms < m->params.hold_ms)
		return 0;
	m->stable = lead;
	m->candidate = -1;
	return 1;
}
