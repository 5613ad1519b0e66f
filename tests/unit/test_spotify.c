/* test_spotify.c - unit tests for the Spotify client's offline parts: SHA-256
 * and PKCE against published vectors, base64url, .env parsing and config,
 * error bodies and back-off decisions, token/search/devices/now parsing,
 * and the store's Spotify tables (tokens, search cache TTL, prefs). */
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

static void hex32(const uint8_t d[32], char out[65])
{
	static const char h[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = h[d[i] >> 4];
		out[2 * i + 1] = h[d[i] & 15];
	}
	out[64] = '\0';
}

static void test_sha256_vectors(void **state)
{
	uint8_t d[32];
	char hex[65];
	char *big;

	(void)state;
	music_sha256("", 0, d); /* FIPS 180-4 examples */
	hex32(d, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
	music_sha256("abc", 3, d);
	hex32(d, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	music_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		     56, d); /* padding spills into a second block */
	hex32(d, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
				 "a33ce45964ff2167f6ecedd419db06c1");
	big = malloc(1000000);
	assert_non_null(big);
	memset(big, 'a', 1000000);
	music_sha256(big, 1000000, d);
	free(big);
	hex32(d, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
				 "f1809a48a497200e046d39ccc7112cd0");
}

static void test_base64url(void **state)
{
	char out[16];
	const uint8_t odd[] = {0xfb, 0xff, 0xbf};

	(void)state;
	assert_int_equal(music_base64url((const uint8_t *)"f", 1, out, 16), 2);
	assert_string_equal(out, "Zg");
	assert_int_equal(music_base64url((const uint8_t *)"fo", 2, out, 16), 3);
	assert_string_equal(out, "Zm8");
	assert_int_equal(music_base64url((const uint8_t *)"foo", 3, out, 16),
			 4);
	assert_string_equal(out, "Zm9v");
	assert_int_equal(music_base64url((const uint8_t *)"foob", 4, out, 16),
			 6);
	assert_string_equal(out, "Zm9vYg");
	/* the url alphabet: '-' and '_' instead of '+' and '/' */
	assert_int_equal(music_base64url(odd, 3, out, 16), 4);
	assert_string_equal(out, "-_-_");
	assert_int_equal(music_base64url((const uint8_t *)"", 0, out, 16), 0);
	assert_string_equal(out, "");
	/* too small: 0, nothing written past the buffer */
	assert_int_equal(music_base64url((const uint8_t *)"foob", 4, out, 6),
			 0);
}

static void test_pkce_rfc7636(void **state)
{
	char ch[44];
	char v[130];

	(void)state;
	/* RFC 7636 appendix B */
	assert_int_equal(
		music_pkce_challenge(
			"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch),
		MS_OK);
	assert_string_equal(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	/* 42 chars is too short, 129 too long, '+' is not allowed */
	memset(v, 'a', sizeof(v));
	v[42] = '\0';
	assert_int_equal(music_pkce_challenge(v, ch), MS_EINVAL);
	v[42] = 'a';
	v[43] = '\0';
	assert_int_equal(music_pkce_challenge(v, ch), MS_OK);
	v[43] = 'a';
	v[129] = '\0';
	assert_int_equal(music_pkce_challenge(v, ch), MS_EINVAL);
	v[128] = '\0';
	assert_int_equal(music_pkce_challenge(v, ch), MS_OK);
	v[5] = '+';
	assert_int_equal(music_pkce_challenge(v, ch), MS_EINVAL);
	assert_int_equal(music_pkce_challenge(NULL, ch), MS_EINVAL);
}

static void test_random_string(void **state)
{
	char a[129], b[129], ch[44];

	(void)state;
	assert_int_equal(music_random_string(48, a, sizeof(a)), MS_OK);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(music_random_string(48, b, sizeof(b)), MS_OK);
	assert_string_not_equal(a, b);
	/* a fresh verifier is a valid PKCE verifier */
	assert_int_equal(music_pkce_challenge(a, ch), MS_OK);
	assert_int_equal(music_random_string(48, a, 10), MS_ELIMIT);
	assert_int_equal(music_random_string(0, a, sizeof(a)), MS_EINVAL);
	assert_int_equal(music_random_string(97, a, sizeof(a)), MS_EINVAL);
}

static void test_authorize_url(void **state)
{
	struct music_spotify_config cfg;
	struct ms_buf b;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.client_id, sizeof(cfg.client_id), "abc123");
	snprintf(cfg.redirect_uri, sizeof(cfg.redirect_uri),
		 "http://127.0.0.1:5000/callback");
	snprintf(cfg.accounts_url, sizeof(cfg.accounts_url),
		 "https://accounts.spotify.com");
	ms_buf_init(&b, 4096);
	assert_int_equal(music_spotify_authorize_url(&cfg, "st-_.~x", "CH", &b),
			 MS_OK);
	assert_string_equal(
		b.data,
		"https://accounts.spotify.com/authorize?response_type=code"
		"&client_id=abc123&scope=user-read-playback-state%20"
		"user-modify-playback-state%20user-read-currently-playing"
		"&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback"
		"&state=st-_.~x&code_challenge_method=S256&code_challenge=CH");
	ms_buf_release(&b);
}

struct kv_log {
	char text[512];
};

static int kv_cb(void *ctx, const char *k, const char *v)
{
	struct kv_log *log = ctx;
	size_t n = strlen(log->text);

	snprintf(log->text + n, sizeof(log->text) - n, "[%s=%s]", k, v);
	return 0;
}

static void test_dotenv_parse(void **state)
{
	static const char good[] = "# MoodSync settings\n"
				   "\n"
				   "A=1\n"
				   "  export B = two words  \n"
				   "C=\"quoted # not a comment\"  # a comment\n"
				   "D='single'\r\n"
				   "E=value # trailing\n"
				   "F=\n"
				   "G=a=b";
	struct kv_log log;
	char err[MS_ERRLEN], *big;

	(void)state;
	memset(&log, 0, sizeof(log));
	assert_int_equal(music_dotenv_parse(good, strlen(good), kv_cb, &log,
					    err, sizeof(err)),
			 MS_OK);
	assert_string_equal(log.text, "[A=1][B=two words][C=quoted # not a "
				      "comment][D=single][E=value][F=][G=a=b]");

	memset(&log, 0, sizeof(log));
	assert_int_equal(music_dotenv_parse("A=1\nnot a pair\n", 16, kv_cb,
					    &log, err, sizeof(err)),
			 MS_EFORMAT);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(music_dotenv_parse("A=\"open\n", 8, kv_cb, &log, err,
					    sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(
		music_dotenv_parse("1A=x\n", 5, kv_cb, &log, err, sizeof(err)),
		MS_EFORMAT);
	assert_int_equal(
		music_dotenv_parse("A-B=x\n", 6, kv_cb, &log, err, sizeof(err)),
		MS_EFORMAT);
	assert_int_equal(music_dotenv_parse("A=\"x\" y\n", 8, kv_cb, &log, err,
					    sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(music_dotenv_parse("A=x\0y\n", 6, kv_cb, &log, err,
					    sizeof(err)),
			 MS_EFORMAT);
	/* caps: a 5000-byte line, a file over 64 KiB */
	big = malloc(MUSIC_DOTENV_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', MUSIC_DOTENV_MAX + 1);
	big[0] = 'A';
	big[1] = '=';
	assert_int_equal(
		music_dotenv_parse(big, 5000, kv_cb, &log, err, sizeof(err)),
		MS_ELIMIT);
	assert_int_equal(music_dotenv_parse(big, MUSIC_DOTENV_MAX + 1, kv_cb,
					    &log, err, sizeof(err)),
			 MS_ELIMIT);
	free(big);
}

static void test_config_load(void **state)
{
	struct music_spotify_config cfg;
	char path[] = "/tmp/test_spotify_envXXXXXX", err[MS_ERRLEN];
	const char *text = "MOODSYNC_SPOTIFY_CLIENT_ID=from-file\n"
			   "MOODSYNC_SPOTIFY_API_URL=http://127.0.0.1:9/\n"
			   "MOODSYNC_SPOTIFY_TIMEOUT_MS=1500\n";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	unsetenv("MOODSYNC_SPOTIFY_CLIENT_ID");
	unsetenv("MOODSYNC_SPOTIFY_API_URL");
	unsetenv("MOODSYNC_SPOTIFY_ACCOUNTS_URL");
	unsetenv("MOODSYNC_SPOTIFY_REDIRECT_URI");
	unsetenv("MOODSYNC_SPOTIFY_TIMEOUT_MS");
	unsetenv("MOODSYNC_SPOTIFY_CLIENT_SECRET");

	/* no env, no file: defaults, Spotify off */
	assert_int_equal(music_spotify_config_load(&cfg, "/nonexistent/.env",
						   err, sizeof(err)),
			 MS_OK);
	assert_string_equal(cfg.client_id, "");
	assert_string_equal(cfg.redirect_uri, "http://127.0.0.1:5000/callback");
	assert_int_equal(cfg.redirect_explicit, 0);
	assert_string_equal(cfg.accounts_url, "https://accounts.spotify.com");
	assert_string_equal(cfg.api_url, "https://api.spotify.com");
	assert_int_equal(cfg.timeout_ms, 8000);

	/* the file fills in; trailing slashes go */
	assert_int_equal(
		music_spotify_config_load(&cfg, path, err, sizeof(err)), MS_OK);
	assert_string_equal(cfg.client_id, "from-file");
	assert_string_equal(cfg.api_url, "http://127.0.0.1:9");
	assert_int_equal(cfg.timeout_ms, 1500);

	/* the environment wins over the file */
	setenv("MOODSYNC_SPOTIFY_CLIENT_ID", "from-env", 1);
	assert_int_equal(
		music_spotify_config_load(&cfg, path, err, sizeof(err)), MS_OK);
	assert_string_equal(cfg.client_id, "from-env");
	assert_int_equal(cfg.redirect_explicit, 0);
	setenv("MOODSYNC_SPOTIFY_REDIRECT_URI", "http://127.0.0.1:8080/cb", 1);
	assert_int_equal(
		music_spotify_config_load(&cfg, path, err, sizeof(err)), MS_OK);
	assert_string_equal(cfg.redirect_uri, "http://127.0.0.1:8080/cb");
	assert_int_equal(cfg.redirect_explicit, 1);
	unsetenv("MOODSYNC_SPOTIFY_REDIRECT_URI");

	/* set to "": off, whatever the file says */
	setenv("MOODSYNC_SPOTIFY_CLIENT_ID", "", 1);
	assert_int_equal(
		music_spotify_config_load(&cfg, path, err, sizeof(err)), MS_OK);
	assert_string_equal(cfg.client_id, "");

	/* bad values are refused with a reason */
	setenv("MOODSYNC_SPOTIFY_ACCOUNTS_URL", "file:///etc/passwd", 1);
	assert_int_equal(
		music_spotify_config_load(&cfg, NULL, err, sizeof(err)),
		MS_EINVAL);
	assert_non_null(strstr(err, "ACCOUNTS_URL"));
	unsetenv("MOODSYNC_SPOTIFY_ACCOUNTS_URL");
	setenv("MOODSYNC_SPOTIFY_TIMEOUT_MS", "12abc", 1);
	assert_int_equal(
		music_spotify_config_load(&cfg, NULL, err, sizeof(err)),
		MS_EINVAL);
	unsetenv("MOODSYNC_SPOTIFY_TIMEOUT_MS");
	unsetenv("MOODSYNC_SPOTIFY_CLIENT_ID");
	unlink(path);
}

static void classify(int status, const char *body, const char *ra,
		     struct music_spotify_result *r)
{
	music_spotify_classify(status, body, body ? strlen(body) : 0, ra, r);
}

static void test_classify(void **state)
{
	struct music_spotify_result r;

	(void)state;
	classify(200, "{}", NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_OK);
	classify(204, NULL, NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_OK);
	classify(401,
		 "{\"error\":{\"status\":401,\"message\":\"The access "
		 "token expired\"}}",
		 NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_UNAUTHORIZED);
	assert_string_equal(r.message, "The access token expired");
	classify(400,
		 "{\"error\":\"invalid_grant\",\"error_description\":"
		 "\"Invalid refresh token\"}",
		 NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_INVALID_GRANT);
	assert_string_equal(r.reason, "invalid_grant");
	assert_string_equal(r.message, "Invalid refresh token");
	classify(429, "", " 7\r\n", &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_RATE_LIMITED);
	assert_int_equal(r.retry_after_s, 7);
	classify(429,
		 "{\"error\":{\"status\":429,\"message\":\"quota\","
		 "\"reason\":\"QUOTA_EXCEEDED\"}}",
		 "30", &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_QUOTA);
	classify(403,
		 "{\"error\":{\"status\":403,\"message\":\"Player command "
		 "failed: Premium required\",\"reason\":\"PREMIUM_REQUIRED\""
		 "}}",
		 NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_PREMIUM);
	classify(403, "{\"error\":{\"status\":403,\"message\":\"Forbidden\"}}",
		 NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_FORBIDDEN);
	classify(403,
		 "{\"error\":{\"status\":403,\"message\":\"Player command "
		 "failed: Restriction violated\",\"reason\":\"UNKNOWN\"}}",
		 NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_RESTRICTED);
	assert_string_equal(music_spotify_kind_code(r.kind), "restricted");
	assert_null(strstr(music_spotify_kind_message(r.kind), "allow-list"));
	classify(404,
		 "{\"error\":{\"status\":404,\"message\":\"Player command "
		 "failed: No active device found\",\"reason\":"
		 "\"NO_ACTIVE_DEVICE\"}}",
		 NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_NO_DEVICE);
	classify(404,
		 "{\"error\":{\"status\":404,\"message\":\"Resource not "
		 "found\"}}",
		 NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_NOT_FOUND);
	classify(503, "<html>oops</html>", "x",
		 &r); /* garbage body, bad header */
	assert_int_equal(r.kind, MUSIC_SPOTIFY_SERVER);
	assert_int_equal(r.retry_after_s, -1);
	assert_string_equal(r.message, "");
	classify(400, "{\"error\":[1,2,{\"error\":\"deep\"}]}", NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_BAD_REQUEST);
	classify(302, "", NULL, &r);
	assert_int_equal(r.kind, MUSIC_SPOTIFY_BAD_RESPONSE);
	assert_string_equal(music_spotify_kind_code(MUSIC_SPOTIFY_PREMIUM),
			    "premium_required");
	assert_non_null(strstr(
		music_spotify_kind_message(MUSIC_SPOTIFY_PREMIUM), "Premium"));
	assert_int_equal(music_spotify_kind_err(MUSIC_SPOTIFY_TIMEOUT),
			 MS_ETIMEOUT);
}

static void test_backoff(void **state)
{
	struct music_spotify_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.retry_after_s = -1;
	r.kind = MUSIC_SPOTIFY_RATE_LIMITED; /* no header: a short pause */
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 1000);
	r.retry_after_s = 12;
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 12000);
	r.retry_after_s =
		0; /* "retry now" still waits a second: no hammering */
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 1000);
	r.retry_after_s = 86400; /* capped at an hour */
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 3600000);
	r.kind = MUSIC_SPOTIFY_QUOTA; /* a quota: at least an hour */
	r.retry_after_s = 5;
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 3600000);
	r.retry_after_s = 7200;
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 7200000);
	r.kind = MUSIC_SPOTIFY_SERVER; /* exponential from 1 s to 60 s */
	r.retry_after_s = -1;
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 1000);
	assert_int_equal(music_spotify_backoff_ms(&r, 2), 2000);
	assert_int_equal(music_spotify_backoff_ms(&r, 4), 8000);
	assert_int_equal(music_spotify_backoff_ms(&r, 7), 60000);
	assert_int_equal(music_spotify_backoff_ms(&r, 1000), 60000);
	r.retry_after_s = 30; /* a 503 that says how long */
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 30000);
	r.kind = MUSIC_SPOTIFY_TIMEOUT;
	r.retry_after_s = -1;
	assert_int_equal(music_spotify_backoff_ms(&r, 3), 4000);
	r.kind = MUSIC_SPOTIFY_PREMIUM; /* not a reason to stop calling */
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 0);
	r.kind = MUSIC_SPOTIFY_NO_DEVICE;
	assert_int_equal(music_spotify_backoff_ms(&r, 1), 0);
}

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
		cmocka_unit_test(test_sha256_vectors),
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_pkce_rfc7636),
		cmocka_unit_test(test_random_string),
		cmocka_unit_test(test_authorize_url),
		cmocka_unit_test(test_dotenv_parse),
		cmocka_unit_test(test_config_load),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_token_parse),
		cmocka_unit_test(test_search_parse),
		cmocka_unit_test(test_devices_now_parse),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_store_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
