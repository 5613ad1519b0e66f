/* affect.c - the valence/arousal plane shared by faces, words and music:
 * anchor points of the seven moods, the point of a probability vector, and
 * the named feeling of a point.
 *
 * Anchors follow the circumplex model of affect (Russell 1980) and its
 * usual placement of the basic emotions: happy high valence with moderate
 * arousal; surprise mildly positive and the most aroused; anger and fear
 * negative and aroused, fear a little less negative in valence; disgust
 * negative with moderate arousal; sadness negative and calm; neutral a
 * little below the centre in arousal (a resting face is not energetic).
 *
 * Naming, in order:
 *   1. surprise leads with probability >= 0.45          -> surprised
 *   2. the point is within 0.20 of the centre            -> neutral
 *   3. valence >= 0: arousal >= 0.35 -> excited, arousal >= -0.15 -> happy,
 *      else calm
 *   4. valence < 0, arousal >= 0.15: fear outweighs anger + disgust ->
 *      anxious, else tense
 *   5. valence < 0, arousal < 0.15: valence <= -0.35 -> sad, else tired */
#include <math.h>
#include <string.h>

#include "moodsync/music.h"

const struct music_va music_mood_anchor[MUSIC_MOODS] = {
	[MUSIC_ANGRY] = {-0.65, 0.70},	 [MUSIC_DISGUST] = {-0.70, 0.25},
	[MUSIC_FEAR] = {-0.55, 0.65},	 [MUSIC_HAPPY] = {0.80, 0.45},
	[MUSIC_SAD] = {-0.70, -0.45},	 [MUSIC_SURPRISE] = {0.25, 0.80},
	[MUSIC_NEUTRAL] = {0.05, -0.20},
};

const char *const music_feeling_names[MUSIC_FEELINGS] = {
	"excited", "happy", "calm",	 "tired",   "sad",
	"anxious", "tense", "surprised", "neutral",
};

/* Copies probs into out[] normalised to sum 1; returns 0 when the input is
 * unusable (negative, non-finite or all zero). */
static int normalise(const float *probs, double *out)
{
	double sum = 0;

	for (int i = 0; i < MUSIC_MOODS; i++) {
		if (!isfinite(probs[i]) || probs[i] < 0)
			return 0;
		sum += probs[i];
	}
	if (!(sum > 0))
		return 0;
	for (int i = 0; i < MUSIC_MOODS; i++)
		out[i] = probs[i] / sum;
	return 1;
}

struct music_va music_affect_point(const float *probs)
{
	struct music_va p = {0, 0};
	double w[MUSIC_MOODS];

	if (!normalise(probs, w))
		return music_mood_anchor[MUSIC_NEUTRAL];
	for (int i = 0; i < MUSIC_MOODS; i++) {
		p.valence += w[i] * music_mood_anchor[i].valence;
		p.arousal += w[i] * music_mood_anchor[i].arousal;
	}
	return p;
}

enum music_feeling music_feeling_of(const float *probs, struct music_va p)
{
	double w[MUSIC_MOODS];
	int lead = MUSIC_NEUTRAL;

	if (!normalise(probs, w))
		return MUSIC_FEEL_NEUTRAL;
	for (int i = 0; i < MUSIC_MOODS; i++)
		if (w[i] > w[lead])
			lead = i;
	if (lead == MUSIC_SURPRISE && w[lead] >= 0.45)
		return MUSIC_FEEL_SURPRISED;
	if (hypot(p.valence, p.arousal) < 0.20)
		return MUSIC_FEEL_NEUTRAL;
	if (p.valence >= 0) {
		if (p.arousal >= 0.35)
			return MUSIC_FEEL_EXCITED;
		return p.arousal >= -0.15 ? MUSIC_FEEL_HAPPY : MUSIC_FEEL_CALM;
	}
	if (p.arousal >= 0.15)
		return w[MUSIC_FEAR] > w[MUSIC_ANGRY] + w[MUSIC_DISGUST]
			       ? MUSIC_FEEL_ANXIOUS
			       : MUSIC_FEEL_TENSE;
	return p.valence <= -0.35 ? MUSIC_FEEL_SAD : MUSIC_FEEL_TIRED;
}

int music_feeling_parse(const char *s, int *out)
{
	for (int i = 0; s && i < MUSIC_FEELINGS; i++) {
		if (strcmp(s, music_feeling_names[i]) == 0) {
			*out = i;
			return MS_OK;
		}
	}
	return MS_EINVAL;
}
