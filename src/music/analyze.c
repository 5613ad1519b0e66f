/* analyze.c - the one place the library's scan meets audio analysis:
 * music_analyze_file, the music_analyze_fn the CLI and the server pass to
 * a scan. It runs the audio component's analyser (src/audio: decode,
 * loudness, rhythm, spectrum, key; the track's valence and arousal) and
 * copies what the library keeps: tags, duration, the point, tempo, mode,
 * a few words for the "why", the MIME type from the content, and the
 * features as a JSON object. */
#include <stdio.h>
#include <string.h>

#include "moodsync/audio.h"
#include "moodsync/library.h"

/* Bumped when the analysis changes, so that a rescan analyses again. */
const char music_analyser_version[] = "audio-1";

#define TEMPO_CONFIDENT 0.3 /* below this the tempo is not worth saying */

/* The features as {"name":value,...}, as many as fit in out. */
static void features_json(const struct aud_features *f, char *out,
			  size_t outlen)
{
	size_t nf, k = 0;
	const struct aud_field *fl = aud_feature_fields(&nf);
	int n = snprintf(out, outlen, "{");

	for (size_t i = 0; n > 0 && i < nf; i++) {
		size_t at = (size_t)n;

		k = (size_t)snprintf(out + at, outlen - at, "%s\"%s\":%.6g",
				     i ? "," : "", fl[i].name,
				     aud_field_value(f, &fl[i]));
		if (k + 2 >= outlen - at) { /* keep room for the brace */
			out[at] = '\0';
			break;
		}
		n += (int)k;
	}
	snprintf(out + strlen(out), outlen - strlen(out), "}");
}

int music_analyze_file(void *ctx, const char *path,
		       struct music_track_info *out, char *err, size_t errlen)
{
	struct aud_tags tags;
	struct aud_features f;
	struct aud_mood m;
	const char *mime = NULL;
	int rc;

	(void)ctx;
	rc = aud_analyze_file(path, NULL, &tags, &f, &m, err, errlen);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->title, sizeof(out->title), "%s", tags.title);
	snprintf(out->artist, sizeof(out->artist), "%s", tags.artist);
	snprintf(out->album, sizeof(out->album), "%s", tags.album);
	snprintf(out->genre, sizeof(out->genre), "%s", tags.genre);
	out->duration_s = f.duration_s;
	out->valence = m.valence;
	out->arousal = m.arousal;
	out->tempo_bpm =
		f.tempo_confidence >= TEMPO_CONFIDENT ? f.tempo_bpm : 0;
	out->mode = 2.0 * f.mode_major - 1.0;
	features_json(&f, out->features, sizeof(out->features));
	aud_describe(&f, &m, out->words, sizeof(out->words));
	if (aud_probe_mime(path, &mime) == MS_OK && mime)
		snprintf(out->mime, sizeof(out->mime), "%s", mime);
	return MS_OK;
}
