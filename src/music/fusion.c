/* fusion.c - one mood from several sources: a table of sources (face,
 * text, override; add a row for another, e.g. voice), each weighted by how
 * much it says and how fresh it is, fused into seven probabilities and
 * named on the valence/arousal plane (affect.c).
 *
 * The numbers: a sentence the listener typed says more about the mood than
 * a face (which reads calm, tired and anxious poorly), so a fresh text
 * counts twice a face. Words go stale: the text's weight halves about
 * every 2 minutes (tau 180 s, 0.37 after 3 min, 0.19 after 5) and is
 * dropped after 15 minutes unless renewed. The face's smoothed mood is
 * renewed with every frame; when the camera stops it fades faster (tau
 * 60 s) and is dropped after 5 minutes. An override is the listener saying
 * outright how they feel: while set, it alone decides. */
#include <math.h>
#include <string.h>

#include "moodsync/music.h"

const char *const music_source_names[MUSIC_SOURCES] = {
	"face",
	"text",
	"override",
};

void music_fusion_params_default(struct music_fusion_params *p)
{
	memset(p, 0, sizeof(*p));
	p->src[MUSIC_SRC_FACE] = (struct music_source_params){1.0, 60, 300, 0};
	p->src[MUSIC_SRC_TEXT] = (struct music_source_params){2.0, 180, 900, 0};
	p->src[MUSIC_SRC_OVERRIDE] = (struct music_source_params){1.0, 0, 0, 1};
}

/* The normalised probabilities of a reading; 0 when unusable. */
static int usable(const struct music_reading *r, double out[MUSIC_MOODS])
{
	double sum = 0;

	if (!r->present || !(r->age_s >= 0) || !isfinite(r->age_s))
		return 0;
	for (int i = 0; i < MUSIC_MOODS; i++) {
		if (!isfinite(r->probs[i]) || r->probs[i] < 0)
			return 0;
		sum += r->probs[i];
	}
	if (!(sum > 0))
		return 0;
	for (int i = 0; i < MUSIC_MOODS; i++)
		out[i] = r->probs[i] / sum;
	return 1;
}

static double weight_of(const struct music_source_params *sp, double age_s)
{
	if (sp->max_age_s > 0 && age_s > sp->max_age_s)
		return 0;
	return sp->tau_s > 0 ? sp->weight * exp(-age_s / sp->tau_s)
			     : sp->weight;
}

void music_fusion_fuse(const struct music_fusion_params *p,
		       const struct music_reading in[MUSIC_SOURCES],
		       struct music_fused *out)
{
	double acc[MUSIC_MOODS] = {0}, w[MUSIC_SOURCES] = {0}, total = 0;
	double norm[MUSIC_SOURCES][MUSIC_MOODS];
	int exclusive = -1;

	memset(out, 0, sizeof(*out));
	for (int s = 0; s < MUSIC_SOURCES; s++) {
		if (!usable(&in[s], norm[s]))
			continue;
		w[s] = weight_of(&p->src[s], in[s].age_s);
		if (p->src[s].exclusive && w[s] > 0 && exclusive < 0)
			exclusive = s;
	}
	if (exclusive >= 0)
		for (int s = 0; s < MUSIC_SOURCES; s++)
			w[s] = s == exclusive ? 1 : 0;
	for (int s = 0; s < MUSIC_SOURCES; s++) {
		total += w[s];
		for (int i = 0; w[s] > 0 && i < MUSIC_MOODS; i++)
			acc[i] += w[s] * norm[s][i];
	}
	out->source = -1;
	out->any = total > 0;
	for (int i = 0; i < MUSIC_MOODS; i++)
		out->probs[i] = out->any ? (float)(acc[i] / total)
					 : (float)(i == MUSIC_NEUTRAL);
	for (int s = 0; s < MUSIC_SOURCES; s++) {
		out->share[s] = out->any ? w[s] / total : 0;
		if (out->share[s] >= 0.9)
			out->source = s;
	}
	out->mood = MUSIC_NEUTRAL;
	for (int i = 0; i < MUSIC_MOODS; i++)
		if (out->probs[i] > out->probs[out->mood])
			out->mood = i;
	out->va = music_affect_point(out->probs);
	/* With no source at all there is no reading to name: neutral, not
	 * whatever the neutral anchor's point would be called. */
	out->feeling = out->any ? music_feeling_of(out->probs, out->va)
				: MUSIC_FEEL_NEUTRAL;
}

/* Mixes chosen so that affect.c's naming rules give back each feeling
 * (checked for every feeling by the unit tests). */
static const struct {
	float p[MUSIC_MOODS]; /* angry disgust fear happy sad surprise neutral
			       */
} feeling_mix[MUSIC_FEELINGS] = {
	[MUSIC_FEEL_EXCITED] = {{0, 0, 0, 0.7f, 0, 0.3f, 0}},
	[MUSIC_FEEL_HAPPY] = {{0, 0, 0, 0.6f, 0, 0, 0.4f}},
	[MUSIC_FEEL_CALM] = {{0, 0, 0, 0, 0, 0, 1.0f}},
	[MUSIC_FEEL_TIRED] = {{0, 0, 0, 0, 0.45f, 0, 0.55f}},
	[MUSIC_FEEL_SAD] = {{0, 0, 0, 0, 1.0f, 0, 0}},
	[MUSIC_FEEL_ANXIOUS] = {{0, 0, 1.0f, 0, 0, 0, 0}},
	[MUSIC_FEEL_TENSE] = {{1.0f, 0, 0, 0, 0, 0, 0}},
	[MUSIC_FEEL_SURPRISED] = {{0, 0, 0, 0, 0, 1.0f, 0}},
	[MUSIC_FEEL_NEUTRAL] = {{0, 0, 0, 0.1f, 0.1f, 0, 0.8f}},
};

void music_feeling_probs(enum music_feeling f, float probs[MUSIC_MOODS])
{
	if ((int)f < 0 || f >= MUSIC_FEELINGS)
		f = MUSIC_FEEL_NEUTRAL;
	memcpy(probs, feeling_mix[f].p, sizeof(feeling_mix[f].p));
}

const char *music_fused_source_name(const struct music_fused *f)
{
	if (!f->any)
		return "none";
	if (f->source >= 0 && f->source < MUSIC_SOURCES)
		return music_source_names[f->source];
	return "fused";
}
