/* test_spotify.c - unit tests for the Spotify client's offline parts: SHA-256
 * and PKCE against published vectors, base64url, .env parsing and config,
 * error bodies and back-off decisions (replies and stored state:
 * test_spotify_json.c). */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
