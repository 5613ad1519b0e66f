/* api_text.h - the session's fused mood (face, words, override), shared by
 * the mood, frame and text handlers (src/server/api_text.c). */
#ifndef MOODSYNC_SERVER_API_TEXT_H
#define MOODSYNC_SERVER_API_TEXT_H

#include "moodsync/music.h"
#include "server/app.h"

struct api_fusion {
	struct music_reading in[MUSIC_SOURCES]; /* what each source said */
	struct music_fused fused;
};

/* Under the session lock: the readings of `s` at `now_ms` (monotonic) and
 * their fusion with the app's weights. */
void api_session_fuse(const struct srv_app *app, const struct srv_session *s,
		      double now_ms, struct api_fusion *out);

/* The mood the music follows: the fused top mood when words or an override
 * weigh in (the fused source is not the face alone), else the face's
 * stable mood; -1 before any. Under the session lock. */
int api_session_music_mood(const struct api_fusion *f,
			   const struct srv_session *s);

/* Writes the fused members of a mood object (inside an object the caller
 * opened): "valence", "arousal", "feeling", "fused_mood", "source" and
 * "sources" (one object per source that has spoken: mood, probs, age_s,
 * share). */
void api_fusion_members(struct ms_json *j, const struct api_fusion *f);

#endif
