/* fuzz_spotify.c - libFuzzer harness for every parser of outside input in
 * the Spotify client: .env text, error bodies (Web API and OAuth shapes)
 * with a Retry-After value, token answers, search results (re-serialized
 * and parsed again, as the cache does), devices and currently-playing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moodsync/spotify.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

static int count_cb(void *ctx, const char *key, const char *val)
{
	(void)key;
	(void)val;
	++*(int *)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const int statuses[] = {200, 204, 400, 401, 403, 404, 429, 500};
	struct music_spotify_playlist items[MUSIC_SPOTIFY_MAX_RESULTS];
	struct music_spotify_playlist again[MUSIC_SPOTIFY_MAX_RESULTS];
	struct music_spotify_device devs[MUSIC_SPOTIFY_MAX_DEVICES];
	struct music_spotify_result res;
	struct store_spotify_token tok;
	struct music_spotify_now now;
	const char *body = (const char *)buf;
	char err[MS_ERRLEN], ra[16];
	struct ms_buf b;
	size_t n = 0, m = 0;
	int entries = 0;

	music_dotenv_parse(body, len, count_cb, &entries, err, sizeof(err));
	snprintf(ra, sizeof(ra), "%.*s", (int)MS_MIN(len, 8), body);
	music_spotify_classify(statuses[len % MS_ARRAY_LEN(statuses)], body,
			       len, ra, &res);
	music_spotify_backoff_ms(&res, (int)(len % 9));
	music_spotify_token_parse(body, len, 1000, "old", &tok, err,
				  sizeof(err));
	music_spotify_devices_parse(body, len, devs, MUSIC_SPOTIFY_MAX_DEVICES,
				    &n, err, sizeof(err));
	music_spotify_now_parse(body, len, &now, err, sizeof(err));
	if (music_spotify_search_parse(body, len, items,
				       MUSIC_SPOTIFY_MAX_RESULTS, &n, err,
				       sizeof(err)) == MS_OK) {
		ms_buf_init(&b, 1u << 20);
		/* what we wrote must read back the same */
		if (music_spotify_playlists_json(items, n, &b) != MS_OK ||
		    music_spotify_search_parse(b.data, b.len, again,
					       MUSIC_SPOTIFY_MAX_RESULTS, &m,
					       err, sizeof(err)) != MS_OK ||
		    m != n || memcmp(items, again, n * sizeof(items[0])) != 0)
			__builtin_trap();
		ms_buf_release(&b);
	}
	return 0;
}
