/* test_spotify_json.c - unit tests for what the Spotify client reads and
 * keeps: token, search, devices and now-playing replies (good and hostile),
 * URI and device id checks, and the store's Spotify tables (tokens, search
 * cache TTL, prefs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "moodsync/spotify.h"
#include "moodsync/store.h"

static int token_parse(const char *body, const char *old,
		       struct store_spotify_token *t)
{
	char err[MS_ERRLEN];

	return music_spotify_token_parse(body, strlen(body), 1000, old, t, err,
					 sizeof(err));
}

static void test_token_parse(void **state)
{
	struct store_spotify_token t;
	char big[3000];

	(void)state;
	assert_int_equal(
		token_parse("{\"access_token\":\"AT1\",\"token_type\":"
			    "\"Bearer\",\"scope\":\"a b\",\"expires_in\":"
			    "3600,\"refresh_token\":\"RT1\"}",
			    NULL, &t),
		MS_OK);
	assert_string_equal(t.access, "AT1");
	assert_string_equal(t.refresh, "RT1");
	assert_string_equal(t.scope, "a b");
	assert_int_equal(t.expires_at, 4600);
	assert_false(music_spotify_token_stale(&t, 1000));
	assert_true(music_spotify_token_stale(&t, 4550));
	/* a 30 s token: refreshed in its last 15 s, not before every call */
	t.issued_at = 1000;
	t.expires_at = 1030;
	assert_false(music_spotify_token_stale(&t, 1000));
	assert_false(music_spotify_token_stale(&t, 1014));
	assert_true(music_spotify_token_stale(&t, 1016));
	t.issued_at = 0; /* lifetime unknown: 60 s */
	assert_true(music_spotify_token_stale(&t, 1000));
	/* no new refresh token: keep the old one; a new one replaces it */
	assert_int_equal(token_parse("{\"access_token\":\"AT2\",\"token_type\":"
				     "\"bearer\",\"expires_in\":60}",
				     "RT1", &t),
			 MS_OK);
	assert_string_equal(t.refresh, "RT1");
	assert_int_equal(token_parse("{\"access_token\":\"AT3\",\"token_type\":"
				     "\"Bearer\",\"expires_in\":60,"
				     "\"refresh_token\":\"RT2\"}",
				     "RT1", &t),
			 MS_OK);
	assert_string_equal(t.refresh, "RT2");
	/* missing or wrong fields */
	assert_int_equal(token_parse("{\"token_type\":\"Bearer\",\"expires_in\""
				     ":60}",
				     NULL, &t),
			 MS_EFORMAT);
	assert_int_equal(token_parse("{\"access_token\":\"A\",\"token_type\":"
				     "\"MAC\",\"expires_in\":60}",
				     NULL, &t),
			 MS_EFORMAT);
	assert_int_equal(token_parse("{\"access_token\":\"A\",\"token_type\":"
				     "\"Bearer\",\"expires_in\":-5}",
				     NULL, &t),
			 MS_EFORMAT);
	assert_int_equal(token_parse("{\"access_token\":\"A\",\"token_type\":"
				     "\"Bearer\",\"expires_in\":\"60\"}",
				     NULL, &t),
			 MS_EFORMAT);
	assert_int_equal(token_parse("[]", NULL, &t), MS_EFORMAT);
	assert_int_equal(token_parse("{\"access_token\":", NULL, &t),
			 MS_EFORMAT);
	snprintf(big, sizeof(big),
		 "{\"access_token\":\"%02000d\","
		 "\"token_type\":\"Bearer\",\"expires_in\":60}",
		 0);
	assert_int_equal(token_parse(big, NULL, &t), MS_ELIMIT);
	/* out untouched on failure */
	assert_string_equal(t.access, "AT3");
}

static const char search_body[] =
	"{\"playlists\":{\"href\":\"x\",\"limit\":10,\"total\":900,\"items\":["
	"null,"
	"{\"id\":\"37i9dQZF1DXdPec7aLTmlC\",\"uri\":\"spotify:playlist:"
	"37i9dQZF1DXdPec7aLTmlC\",\"name\":\"Happy Hits!\",\"tracks\":"
	"{\"total\":100}},"
	"{\"id\":\"1AbCdEfGhIjKlMnOpQrStU\",\"uri\":\"spotify:playlist:"
	"1AbCdEfGhIjKlMnOpQrStU\",\"name\":\"Sunny mood\",\"owner\":"
	"{\"display_name\":\"ana\"},\"images\":[{\"url\":\"https://i.scdn.co/"
	"image/ab\"}],\"tracks\":{\"href\":\"h\",\"total\":42}},"
	"{},"
	"{\"id\":\"2AbCdEfGhIjKlMnOpQrStU\",\"uri\":\"spotify:playlist:"
	"2AbCdEfGhIjKlMnOpQrStU\",\"name\":\"\"},"
	"{\"id\":\"3AbCdEfGhIjKlMnOpQrStU\",\"uri\":\"spotify:playlist:"
	"XXXXXXXXXXXXXXXXXXXXXX\",\"name\":\"uri mismatch\"},"
	"{\"id\":\"4AbC/../x\",\"uri\":\"spotify:playlist:4AbC/../x\","
	"\"name\":\"bad id\"},"
	"{\"id\":\"5AbCdEfGhIjKlMnOpQrStU\",\"uri\":\"spotify:playlist:"
	"5AbCdEfGhIjKlMnOpQrStU\",\"name\":\"empty\",\"tracks\":{\"total\":0}},"
	"{\"id\":\"1AbCdEfGhIjKlMnOpQrStU\",\"uri\":\"spotify:playlist:"
	"1AbCdEfGhIjKlMnOpQrStU\",\"name\":\"Sunny mood again\"},"
	"{\"id\":\"6AbCdEfGhIjKlMnOpQrStU\",\"uri\":\"spotify:playlist:"
	"6AbCdEfGhIjKlMnOpQrStU\",\"name\":\"Good vibes\",\"images\":"
	"[{\"url\":\"javascript:alert(1)\"}],\"items\":{\"total\":7}},"
	"null]}}";

static void test_search_parse(void **state)
{
	struct music_spotify_playlist p[MUSIC_SPOTIFY_MAX_RESULTS];
	char err[MS_ERRLEN];
	size_t n = 99;

	(void)state;
	assert_int_equal(music_spotify_search_parse(search_body,
						    strlen(search_body), p, 10,
						    &n, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(p[0].id, "1AbCdEfGhIjKlMnOpQrStU");
	assert_string_equal(p[0].uri,
			    "spotify:playlist:1AbCdEfGhIjKlMnOpQrStU");
	assert_string_equal(p[0].name, "Sunny mood");
	assert_string_equal(p[0].owner, "ana");
	assert_string_equal(p[0].url, "https://open.spotify.com/playlist/"
				      "1AbCdEfGhIjKlMnOpQrStU");
	assert_string_equal(p[0].image, "https://i.scdn.co/image/ab");
	assert_int_equal(p[0].tracks, 42);
	assert_string_equal(p[1].name, "Good vibes");
	assert_string_equal(p[1].image, ""); /* only https images */
	assert_int_equal(p[1].tracks, 7);
	/* the cache's round trip: serialized, read back the same */
	{
		struct music_spotify_playlist q[MUSIC_SPOTIFY_MAX_RESULTS];
		struct ms_buf b;
		size_t m = 0;

		ms_buf_init(&b, 1 << 16);
		assert_int_equal(music_spotify_playlists_json(p, n, &b), MS_OK);
		assert_int_equal(music_spotify_search_parse(b.data, b.len, q,
							    10, &m, err,
							    sizeof(err)),
				 MS_OK);
		assert_int_equal(m, 2);
		assert_memory_equal(p, q, 2 * sizeof(p[0]));
		ms_buf_release(&b);
	}
	/* max respected */
	assert_int_equal(music_spotify_search_parse(search_body,
						    strlen(search_body), p, 1,
						    &n, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(n, 1);
	/* all null: zero results is fine */
	assert_int_equal(music_spotify_search_parse(
				 "{\"playlists\":{\"items\":[null,null]}}", 35,
				 p, 10, &n, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(n, 0);
	/* not a search answer */
	assert_int_equal(music_spotify_search_parse("{\"tracks\":{}}", 13, p,
						    10, &n, err, sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(music_spotify_search_parse("{\"playlists\":", 13, p,
						    10, &n, err, sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(
		music_spotify_search_parse("", 0, p, 10, &n, err, sizeof(err)),
		MS_EFORMAT);
}

static void test_devices_now_parse(void **state)
{
	static const char devs[] =
		"{\"devices\":[{\"id\":\"dev-1_A\",\"is_active\":true,"
		"\"is_restricted\":false,\"name\":\"Kitchen\",\"type\":"
		"\"Speaker\","
		"\"volume_percent\":55},{\"id\":null,\"name\":\"no id\"},"
		"{\"id\":\"bad id!\",\"name\":\"x\"},{\"id\":\"d2\",\"name\":"
		"\"Phone\",\"type\":\"Smartphone\",\"volume_percent\":900}]}";
	static const char now[] =
		"{\"is_playing\":true,\"progress_ms\":1234,\"context\":{"
		"\"uri\":"
		"\"spotify:playlist:1AbCdEfGhIjKlMnOpQrStU\"},\"item\":{"
		"\"name\":"
		"\"Song\",\"uri\":\"spotify:track:abc\",\"duration_ms\":200000,"
		"\"artists\":[{\"name\":\"A\"},{\"name\":\"B\"},7]}}";
	struct music_spotify_device d[MUSIC_SPOTIFY_MAX_DEVICES];
	struct music_spotify_now np;
	char err[MS_ERRLEN];
	size_t n;

	(void)state;
	assert_int_equal(music_spotify_devices_parse(devs, strlen(devs), d, 16,
						     &n, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].id, "dev-1_A");
	assert_string_equal(d[0].name, "Kitchen");
	assert_int_equal(d[0].is_active, 1);
	assert_int_equal(d[0].volume, 55);
	assert_string_equal(d[1].id, "d2");
	assert_int_equal(d[1].volume, -1);
	assert_int_equal(music_spotify_devices_parse("{}", 2, d, 16, &n, err,
						     sizeof(err)),
			 MS_EFORMAT);

	assert_int_equal(music_spotify_now_parse(now, strlen(now), &np, err,
						 sizeof(err)),
			 MS_OK);
	assert_int_equal(np.has_item, 1);
	assert_int_equal(np.is_playing, 1);
	assert_string_equal(np.track, "Song");
	assert_string_equal(np.artists, "A, B");
	assert_string_equal(np.context_uri,
			    "spotify:playlist:1AbCdEfGhIjKlMnOpQrStU");
	assert_int_equal(np.progress_ms, 1234);
	assert_int_equal(np.duration_ms, 200000);
	assert_int_equal(
		music_spotify_now_parse(NULL, 0, &np, err, sizeof(err)), MS_OK);
	assert_int_equal(np.has_item, 0);
	assert_int_equal(
		music_spotify_now_parse("nope", 4, &np, err, sizeof(err)),
		MS_EFORMAT);
}

static void test_ids(void **state)
{
	(void)state;
	assert_true(music_spotify_uri_valid(
		"spotify:playlist:1AbCdEfGhIjKlMnOpQrStU"));
	assert_false(
		music_spotify_uri_valid("spotify:album:1AbCdEfGhIjKlMnOpQ"));
	assert_false(music_spotify_uri_valid("spotify:playlist:abc\"}"));
	assert_false(music_spotify_uri_valid(NULL));
	assert_true(music_spotify_device_id_valid("a1-b_2"));
	assert_false(music_spotify_device_id_valid(""));
	assert_false(music_spotify_device_id_valid("a&b"));
}

static void test_store_tables(void **state)
{
	struct store *s = NULL;
	struct store_spotify_token t, u;
	struct ms_buf b;
	char err[MS_ERRLEN], key[65], dev[96];
	uint8_t d[32];
	int64_t fetched = 0;
	int i;

	(void)state;
	assert_int_equal(store_open(":memory:", &s, err, sizeof(err)), MS_OK);
	music_sha256("0123456789abcdef0123456789abcdef", 32, d);
	for (i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", d[i]);
	memset(&t, 0, sizeof(t));
	snprintf(t.access, sizeof(t.access), "AT");
	snprintf(t.refresh, sizeof(t.refresh), "RT");
	t.expires_at = 1234;
	assert_int_equal(store_spotify_token_get(s, key, &u), MS_ENOTFOUND);
	assert_int_equal(store_spotify_token_put(s, key, &t), MS_OK);
	assert_int_equal(store_spotify_token_get(s, key, &u), MS_OK);
	assert_string_equal(u.access, "AT");
	assert_string_equal(u.refresh, "RT");
	assert_int_equal(u.expires_at, 1234);
	/* a rotated refresh token replaces the old one */
	snprintf(t.refresh, sizeof(t.refresh), "RT2");
	assert_int_equal(store_spotify_token_put(s, key, &t), MS_OK);
	assert_int_equal(store_spotify_token_get(s, key, &u), MS_OK);
	assert_string_equal(u.refresh, "RT2");
	assert_int_equal(store_spotify_token_delete(s, key), MS_OK);
	assert_int_equal(store_spotify_token_get(s, key, &u), MS_ENOTFOUND);
	/* the raw session id is not a key */
	assert_int_equal(store_spotify_token_put(s, "0123456789abcdef", &t),
			 MS_EINVAL);

	/* cache: fresh within the TTL, stale after, any age with -1 */
	ms_buf_init(&b, 1 << 20);
	assert_int_equal(
		store_spotify_cache_put(s, "happy upbeat", "{\"x\":1}", 1000),
		MS_OK);
	assert_int_equal(store_spotify_cache_get(s, "happy upbeat", 60, 1050,
						 &b, &fetched),
			 MS_OK);
	assert_string_equal(b.data, "{\"x\":1}");
	assert_int_equal(fetched, 1000);
	assert_int_equal(store_spotify_cache_get(s, "happy upbeat", 60, 1061,
						 &b, &fetched),
			 MS_ENOTFOUND);
	assert_int_equal(store_spotify_cache_get(s, "happy upbeat", -1, 99999,
						 &b, &fetched),
			 MS_OK);
	assert_int_equal(
		store_spotify_cache_get(s, "sad", -1, 1000, &b, &fetched),
		MS_ENOTFOUND);
	ms_buf_release(&b);

	/* the chosen device: none, then stored, then replaced */
	assert_int_equal(store_spotify_prefs_get(s, key, dev), MS_OK);
	assert_string_equal(dev, "");
	assert_int_equal(store_spotify_prefs_put(s, key, "dev-1"), MS_OK);
	assert_int_equal(store_spotify_prefs_get(s, key, dev), MS_OK);
	assert_string_equal(dev, "dev-1");
	assert_int_equal(store_spotify_prefs_put(s, key, "dev-2"), MS_OK);
	assert_int_equal(store_spotify_prefs_get(s, key, dev), MS_OK);
	assert_string_equal(dev, "dev-2");
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_parse),
		cmocka_unit_test(test_search_parse),
		cmocka_unit_test(test_devices_now_parse),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_store_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
