/* recommend.c - the recommendation policy: which catalog playlists answer
 * a mood under a strategy, and which one of them to lead with. GET
 * /api/recommendation shows its answer; the Spotify service searches
 * Spotify for the same candidates, in the same order. */
#include <string.h>

#include "moodsync/music.h"
#include "moodsync/store.h"

int music_recommend(struct store *s, int mood, int strategy, int64_t since_ms,
		    struct music_rec *out, char *err, size_t errlen)
{
	int based_on = mood >= 0 && mood < MUSIC_MOODS ? mood : MUSIC_NEUTRAL;
	int rc;

	if (strategy < 0 || strategy >= MUSIC_STRATEGIES)
		return ms_errf(err, errlen, MS_EINVAL, "unknown strategy %d",
			       strategy);
	memset(out, 0, sizeof(*out));
	out->mood = based_on == mood ? mood : -1;
	out->based_on = based_on;
	out->strategy = strategy;
	rc = store_catalog_list(
		s, music_mood_names[based_on],
		music_strategy_names[music_strategy_catalog(strategy)],
		out->items, MUSIC_REC_MAX, &out->n);
	if (rc) {
		out->n = 0;
		return ms_errf(err, errlen, rc, "catalog unavailable");
	}
	/* a different pick for each mood change, stable in between */
	out->primary = out->n > 0 ? (int)((since_ms / 1000) % out->n) : -1;
	return MS_OK;
}
