/* api_mood.h - the parts of the mood reply beyond the smoother (api_mood.c):
 * the listener's point on the valence/arousal plane, its named feeling,
 * where it comes from (face, the listener's own choice) and group mode.
 * api.c copies these under the session lock and writes them into every
 * mood object it sends. */
#ifndef MOODSYNC_SERVER_API_MOOD_H
#define MOODSYNC_SERVER_API_MOOD_H

#include "moodsync/common.h"
#include "server/app.h"

/* A copy of what the mood JSON needs beyond the smoother. */
struct api_mood_extra {
	struct srv_affect aff;	       /* the effective mood (override first) */
	int face_mood;		       /* the face's stable mood, -1 none */
	float face_probs[MUSIC_MOODS]; /* smoothed face probabilities */
	int faces;		       /* faces in the last frame */
	int group;		       /* 1: the last update blended faces */
	int64_t last_frame;	       /* unix ms of the last face, 0 none */
	int override_mood;	       /* -1: no override */
	int override_feeling;	       /* -1: the override named a mood */
	int64_t override_since;	       /* unix ms */
};

/* Under the session lock: copies `s` into `x`. */
void api_mood_extra_fill(const struct srv_session *s, struct api_mood_extra *x);

/* Writes the members "valence", "arousal", "feeling", "source",
 * "sources" {..}, "faces" and "group" into the object the caller opened.
 * `now_ms` is unix ms, for the ages of the sources. */
void api_mood_extra_json(struct ms_json *j, const struct api_mood_extra *x,
			 int64_t now_ms);

#endif
