/* test_server.c - unit tests for src/server (not the pipeline): the
 * ms_err -> HTTP status mapping, the session table (ids, LRU eviction,
 * token bucket, admission, anonymous-first eviction), the Host list and
 * cross-site guard, the header deadline, per-session key/values, and one
 * in-process server that answers real HTTP on a loopback port (run under
 * ASan in CI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "loopback.h"
#include "server/api_text.h"
#include "server/app.h"
#include "moodsync/pipeline.h"

static void test_status_mapping(void **state)
{
	(void)state;
	assert_int_equal(srv_http_status(MS_OK), 200);
	assert_int_equal(srv_http_status(MS_EINVAL), 400);
	assert_int_equal(srv_http_status(MS_EFORMAT), 400);
	assert_int_equal(srv_http_status(MS_EAUTH), 401);
	assert_int_equal(srv_http_status(MS_ENOTFOUND), 404);
	assert_int_equal(srv_http_status(MS_ELIMIT), 413);
	assert_int_equal(srv_http_status(MS_EUNSUPPORTED), 415);
	assert_int_equal(srv_http_status(MS_EUPSTREAM), 502);
	assert_int_equal(srv_http_status(MS_EBUSY), 503);
	assert_int_equal(srv_http_status(MS_ETIMEOUT), 504);
	assert_int_equal(srv_http_status(MS_EDB), 500);
	assert_int_equal(srv_http_status(MS_ENOMEM), 500);
	assert_int_equal(srv_http_status(-999), 500);
	assert_int_equal(srv_http_status(SRV_EMETHOD), 405);
	assert_int_equal(srv_http_status(SRV_ERATE), 429);
	/* every error status has its own snake_case code */
	assert_string_equal(srv_err_code(MS_EINVAL), "bad_request");
	assert_string_equal(srv_err_code(MS_ELIMIT), "too_large");
	assert_string_equal(srv_err_code(SRV_ERATE), "rate_limited");
	assert_string_equal(srv_err_code(MS_EBUSY), "busy");
	assert_string_equal(srv_err_code(MS_EDB), "internal");
}

static void test_session_ids(void **state)
{
	char a[SRV_SID_LEN + 1], b[SRV_SID_LEN + 1];

	(void)state;
	assert_int_equal(srv_session_id_new(a), MS_OK);
	assert_int_equal(srv_session_id_new(b), MS_OK);
	assert_int_equal(strlen(a), SRV_SID_LEN);
	assert_string_not_equal(a, b);
	assert_true(srv_session_id_valid(a));
	assert_false(srv_session_id_valid(NULL));
	assert_false(srv_session_id_valid(""));
	assert_false(srv_session_id_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(srv_session_id_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(srv_session_id_valid("0123456789abcdef"));
}

static void test_session_lru(void **state)
{
	struct srv_sessions *t = srv_sessions_new(3, 1e9, 0.0, 0.0);
	char ids[5][SRV_SID_LEN + 1];

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 5; i++)
		snprintf(ids[i], sizeof(ids[i]), "%032d", i);
	srv_sessions_lock(t);
	for (int i = 0; i < 3; i++)
		assert_non_null(srv_sessions_add(t, ids[i], i));
	/* touch 0: 1 becomes the least recently used */
	assert_non_null(srv_sessions_find(t, ids[0], 10));
	assert_non_null(srv_sessions_add(t, ids[3], 11));
	assert_null(srv_sessions_find(t, ids[1], 12));
	assert_non_null(srv_sessions_find(t, ids[0], 12));
	assert_non_null(srv_sessions_find(t, ids[2], 12));
	srv_sessions_unlock(t);
	assert_int_equal(srv_sessions_count(t), 3);
	srv_sessions_free(t);

	/* idle sessions expire when a new one arrives */
	t = srv_sessions_new(10, 1000.0, 0.0, 0.0);
	srv_sessions_lock(t);
	assert_non_null(srv_sessions_add(t, ids[0], 0));
	assert_non_null(srv_sessions_add(t, ids[1], 500));
	assert_non_null(srv_sessions_add(t, ids[2], 1200));
	assert_null(srv_sessions_find(t, ids[0], 1200));
	assert_non_null(srv_sessions_ensure(t, ids[4], 1300));
	srv_sessions_unlock(t);
	assert_int_equal(srv_sessions_count(t), 3);
	srv_sessions_free(t);
}

/* The mood the music follows: the face's stable mood alone, the fused
 * mood once words weigh in, the face again when the words are stale. */
static void test_session_music_mood(void **state)
{
	struct srv_sessions *t = srv_sessions_new(2, 1e12, 0.0, 0.0);
	struct srv_app app;
	struct srv_session *s;
	struct api_fusion fu;
	double now = 1e6;

	(void)state;
	memset(&app, 0, sizeof(app));
	music_fusion_params_default(&app.fusion);
	srv_sessions_lock(t);
	s = srv_sessions_add(t, "0123456789abcdef0123456789abcdef", 0);
	assert_non_null(s);
	api_session_fuse(&app, s, now, &fu);
	assert_int_equal(fu.fused.any, 0);
	assert_int_equal(api_session_music_mood(&fu, s), -1);
	/* a face that reads happy */
	s->mood.samples = 10;
	s->mood.stable = MUSIC_HAPPY;
	s->mood.last_ms = now;
	memset(s->mood.probs, 0, sizeof(s->mood.probs));
	s->mood.probs[MUSIC_HAPPY] = 0.6f;
	s->mood.probs[MUSIC_SAD] = 0.4f;
	api_session_fuse(&app, s, now, &fu);
	assert_int_equal(fu.fused.source, MUSIC_SRC_FACE);
	assert_int_equal(api_session_music_mood(&fu, s), MUSIC_HAPPY);
	/* sad words just now: they weigh in and lead */
	memset(s->src_probs[MUSIC_SRC_TEXT], 0, sizeof(s->src_probs[0]));
	s->src_probs[MUSIC_SRC_TEXT][MUSIC_SAD] = 1.0f;
	s->src_ms[MUSIC_SRC_TEXT] = now - 1000;
	api_session_fuse(&app, s, now, &fu);
	assert_int_equal(fu.fused.source, -1);
	assert_true(fu.in[MUSIC_SRC_TEXT].present);
	assert_float_equal(fu.in[MUSIC_SRC_TEXT].age_s, 1.0, 1e-9);
	assert_int_equal(api_session_music_mood(&fu, s), MUSIC_SAD);
	/* 20 minutes later (the face still fresh), the words no longer count */
	s->mood.last_ms = now + 1200e3;
	api_session_fuse(&app, s, now + 1200e3, &fu);
	assert_int_equal(fu.fused.source, MUSIC_SRC_FACE);
	assert_int_equal(api_session_music_mood(&fu, s), MUSIC_HAPPY);
	srv_sessions_unlock(t);
	srv_sessions_free(t);
}

static void test_session_admit_and_keep(void **state)
{
	struct srv_sessions *t = srv_sessions_new(3, 1e9, 2.0, 3.0);
	char ids[5][SRV_SID_LEN + 1];
	struct srv_session *s;
	int n = 0;

	(void)state;
	assert_non_null(t);
	for (int i = 0; i < 5; i++)
		snprintf(ids[i], sizeof(ids[i]), "%032d", i);
	srv_sessions_lock(t);
	/* a burst of 3, then 2 a second */
	for (int i = 0; i < 10; i++)
		n += srv_sessions_admit(t, ms_now_ms());
	assert_int_equal(n, 3);
	assert_int_equal(srv_sessions_admit(t, ms_now_ms() + 600.0), 1);
	assert_int_equal(srv_sessions_admit(t, ms_now_ms() + 600.0), 0);

	/* 0 is kept and the oldest: the anonymous 1 goes first */
	s = srv_sessions_add(t, ids[0], 0);
	assert_non_null(s);
	s->keep = 1;
	assert_non_null(srv_sessions_add(t, ids[1], 1));
	assert_non_null(srv_sessions_add(t, ids[2], 2));
	assert_non_null(srv_sessions_add(t, ids[3], 3));
	assert_non_null(srv_sessions_find(t, ids[0], 4));
	assert_null(srv_sessions_find(t, ids[1], 4));
	/* only kept ones left: the least recently used of them goes */
	for (int i = 2; i <= 3; i++)
		srv_sessions_find(t, ids[i], 5)->keep = 1;
	assert_non_null(srv_sessions_add(t, ids[4], 6));
	assert_null(srv_sessions_find(t, ids[0], 7));
	srv_sessions_unlock(t);
	srv_sessions_free(t);
}

static void test_hosts_and_guard(void **state)
{
	static const char *const extra[] = {"Music.Example.org"};
	struct srv_hosts h;

	(void)state;
	assert_int_equal(srv_hosts_init(&h, "127.0.0.1", 5000, extra, 1),
			 MS_OK);
	assert_true(srv_hosts_allowed(&h, "127.0.0.1:5000"));
	assert_true(srv_hosts_allowed(&h, "LOCALHOST:5000"));
	assert_true(srv_hosts_allowed(&h, "[::1]:5000"));
	assert_true(srv_hosts_allowed(&h, "music.example.org"));
	assert_false(srv_hosts_allowed(&h, NULL));
	assert_false(srv_hosts_allowed(&h, "127.0.0.1"));
	assert_false(srv_hosts_allowed(&h, "127.0.0.1:5001"));
	assert_false(srv_hosts_allowed(&h, "evil.example:5000"));
	assert_false(srv_hosts_allowed(&h, "localhost:5000.evil.example"));
	assert_int_equal(srv_hosts_init(&h, "0.0.0.0", 80, NULL, 0), MS_OK);
	assert_true(srv_hosts_allowed(&h, "localhost"));
	assert_true(srv_hosts_allowed(&h, "localhost:80"));
	assert_int_equal(srv_hosts_init(&h, "127.0.0.1", 1,
					(const char *const[]){"a b"}, 1),
			 MS_EINVAL);

	/* GET is never refused; a POST needs a same-origin sender */
	assert_int_equal(srv_guard_check("GET", "h:1", "http://evil",
					 "cross-site", NULL, NULL),
			 SRV_GUARD_OK);
	assert_int_equal(srv_guard_check("POST", "h:1", NULL, NULL,
					 "application/json", NULL),
			 SRV_GUARD_OK);
	assert_int_equal(srv_guard_check("POST", "h:1", "http://h:1",
					 "same-origin", NULL, "1"),
			 SRV_GUARD_OK);
	assert_int_equal(srv_guard_check("POST", "h:1", "http://h:2", NULL,
					 "application/json", "1"),
			 SRV_GUARD_CROSS_ORIGIN);
	assert_int_equal(srv_guard_check("POST", "m.org", "https://M.org", NULL,
					 "application/json", NULL),
			 SRV_GUARD_OK); /* behind a TLS proxy */
	assert_int_equal(srv_guard_check("POST", "m.org", "https://m.org.evil",
					 NULL, "application/json", NULL),
			 SRV_GUARD_CROSS_ORIGIN);
	assert_int_equal(srv_guard_check("POST", "h:1", "null", NULL,
					 "application/json", NULL),
			 SRV_GUARD_CROSS_ORIGIN);
	assert_int_equal(srv_guard_check("POST", "h:1", NULL, "same-site",
					 "application/json", NULL),
			 SRV_GUARD_CROSS_ORIGIN);
	assert_int_equal(srv_guard_check("POST", "h:1", NULL, NULL, NULL, NULL),
			 SRV_GUARD_NEEDS_TYPE);
	assert_int_equal(srv_guard_check("DELETE", "h:1", NULL, NULL,
					 "text/plain;charset=UTF-8", "0"),
			 SRV_GUARD_NEEDS_TYPE);
	assert_int_equal(
		srv_guard_check("POST", "h:1", NULL, NULL, "image/jpeg", NULL),
		SRV_GUARD_OK);
}

/* 1 when the peer of `fd` sees the connection shut down (EOF). */
static int peer_cut(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_conns_deadline(void **state)
{
	struct srv_conns *t = srv_conns_new(200.0);
	struct srv_conn *slow, *busy;
	int a[2], b[2], open;
	long cut;

	(void)state;
	assert_non_null(t);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	slow = srv_conns_open(t, a[0]);
	busy = srv_conns_open(t, b[0]);
	assert_non_null(slow);
	assert_non_null(busy);
	srv_conns_request_begin(t, busy); /* headers in: no deadline */
	usleep(100 * 1000);
	assert_false(peer_cut(a[1]));
	usleep(600 * 1000);
	assert_true(peer_cut(a[1]));  /* past 200 ms without headers */
	assert_false(peer_cut(b[1])); /* its request is running */
	srv_conns_stats(t, &open, &cut);
	assert_int_equal(open, 2);
	assert_int_equal(cut, 1);
	srv_conns_request_end(t, busy); /* keep-alive: a new deadline */
	usleep(700 * 1000);
	assert_true(peer_cut(b[1]));
	srv_conns_close(t, slow);
	srv_conns_close(t, busy);
	srv_conns_stats(t, &open, &cut);
	assert_int_equal(open, 0);
	srv_conns_free(t);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
}

static void test_token_bucket(void **state)
{
	struct srv_session s;
	int ok = 0;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.tokens = -1.0;
	/* burst of 5, then 10 per second */
	for (int i = 0; i < 20; i++)
		ok += srv_session_take_token(&s, 10.0, 5.0, 0.0);
	assert_int_equal(ok, 5);
	assert_false(srv_session_take_token(&s, 10.0, 5.0, 50.0));
	assert_true(srv_session_take_token(&s, 10.0, 5.0, 150.0));
	/* a long pause refills only up to the burst */
	ok = 0;
	for (int i = 0; i < 20; i++)
		ok += srv_session_take_token(&s, 10.0, 5.0, 100000.0);
	assert_int_equal(ok, 5);
	/* rate 0: unlimited */
	for (int i = 0; i < 100; i++)
		assert_true(srv_session_take_token(&s, 0.0, 1.0, 0.0));
}

static void test_image_dims(void **state)
{
	/* PNG signature + IHDR 640x480 */
	static const uint8_t png[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0,
		0,    13,  'I', 'H', 'D',  'R',	 0,    0,    2, 128,
		0,    0,   1,	224, 8,	   0,	 0,    0,    0};
	/* SOI, APP0 (length 4), a fill byte, SOF2 320x240 */
	static const uint8_t jpg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 4,    'J',
				      'F',  0xff, 0xff, 0xc2, 0, 17,   8,
				      0,    240,  1,	64,   3, 1,    0x22,
				      0,    2,	  0x11, 1,    3, 0x11, 1};
	/* SOI, DHT (C4 is not a frame header) then SOF0 16x8 */
	static const uint8_t dht[] = {0xff, 0xd8, 0xff, 0xc4, 0, 2, 0xff,
				      0xc0, 0,	  11,	8,    0, 8, 0,
				      16,   1,	  1,	0x11, 0};
	uint8_t junk[64];
	uint32_t w = 0, h = 0;

	(void)state;
	assert_true(pipe_image_dims(png, sizeof(png), &w, &h));
	assert_int_equal(w, 640);
	assert_int_equal(h, 480);
	assert_true(pipe_image_dims(jpg, sizeof(jpg), &w, &h));
	assert_int_equal(w, 320);
	assert_int_equal(h, 240);
	assert_true(pipe_image_dims(dht, sizeof(dht), &w, &h));
	assert_int_equal(w, 16);
	assert_int_equal(h, 8);
	/* every truncation is "unknown", never a read past the end */
	for (size_t n = 0; n < 24; n++)
		assert_false(pipe_image_dims(png, n, &w, &h));
	for (size_t n = 0; n < 18; n++)
		assert_false(pipe_image_dims(jpg, n, &w, &h));
	for (unsigned seed = 1; seed < 2000; seed++) {
		unsigned x = seed;

		for (size_t i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245u + 12345u;
			junk[i] = (uint8_t)(x >> 16);
		}
		junk[0] = 0xff;
		junk[1] = 0xd8;
		junk[2] = 0xff;
		(void)pipe_image_dims(junk, sizeof(junk), &w, &h);
	}
}

/* Sends `request` to 127.0.0.1:port and reads the reply into buf. */
static size_t http_roundtrip(int port, const char *request, char *buf,
			     size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd = loopback_dial(port);

	assert_int_equal(write(fd, request, strlen(request)),
			 (ssize_t)strlen(request));
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	return got;
}

/* A started app on an ephemeral port that accepts Host "x" (as
 * --allow-host x), with an in-memory store. */
static int app_setup(void **state)
{
	static const char *const proxy_hosts[] = {"x"};
	struct srv_config cfg;
	struct srv_app *app = NULL;
	char err[MS_ERRLEN];

	srv_config_default(&cfg, 2);
	cfg.port = 0;
	cfg.allow_hosts = proxy_hosts;
	cfg.nallow_hosts = 1;
	cfg.cascade_path = MS_DEFAULT_CASCADE;
	cfg.db_path = ":memory:";
	if (access(cfg.cascade_path, R_OK) != 0) {
		print_message("cascade %s missing (apt install opencv-data)\n",
			      cfg.cascade_path);
		return -1;
	}
	if (srv_app_new(&cfg, &app, err, sizeof(err)) ||
	    srv_app_start(app, err, sizeof(err))) {
		print_message("app: %s\n", err);
		srv_app_free(app);
		return -1;
	}
	*state = app;
	return 0;
}

static int app_teardown(void **state)
{
	srv_app_free(*state);
	return 0;
}

/* GET path with Host x; the response in buf. */
static void http_get(int port, const char *path, char *buf, size_t len)
{
	char req[512];

	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		 path);
	http_roundtrip(port, req, buf, len);
}

/* A new session's id (from the cookie GET /api/settings sets) in sid. */
static void new_session(int port, char sid[SRV_SID_LEN + 1])
{
	char buf[8192];
	const char *c;

	http_get(port, "/api/settings", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	c = strstr(buf, "Set-Cookie: ms_sid=");
	assert_non_null(c);
	assert_non_null(strstr(c, "HttpOnly; SameSite=Lax"));
	snprintf(sid, SRV_SID_LEN + 1, "%.*s", SRV_SID_LEN, c + 19);
	assert_true(srv_session_id_valid(sid));
}

static void test_app_hosts_and_session(void **state)
{
	struct srv_app *app = *state;
	struct srv_session_info info;
	char buf[8192], sid[SRV_SID_LEN + 1], req[512];
	int port = srv_app_port(app);

	assert_true(port > 0);
	http_get(port, "/healthz", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "\"status\":\"ok\""));
	assert_non_null(strstr(buf, "X-Content-Type-Options: nosniff"));
	assert_null(strstr(buf, "Set-Cookie")); /* /healthz makes no session */
	http_roundtrip(port,
		       "GET /healthz HTTP/1.1\r\nHost: y\r\n"
		       "Connection: close\r\n\r\n",
		       buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 421"));
	assert_non_null(strstr(buf, "\"code\":\"bad_host\""));
	new_session(port, sid);

	/* the same cookie: same session, settings stick */
	snprintf(req, sizeof(req),
		 "POST /api/settings HTTP/1.1\r\nHost: x\r\n"
		 "Cookie: ms_sid=%s\r\nContent-Type: application/json\r\n"
		 "Content-Length: 19\r\nConnection: close\r\n\r\n"
		 "{\"strategy\":\"lift\"}",
		 sid);
	http_roundtrip(port, req, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_null(strstr(buf, "Set-Cookie"));
	assert_int_equal(srv_session_info_by_id(app, sid, &info), MS_OK);
	assert_int_equal(info.strategy, MUSIC_LIFT);
	assert_int_equal(info.mood, -1);
}

/* static page, unknown path, wrong method, wrong type, bad image, too big */
static void test_app_page_and_errors(void **state)
{
	char buf[8192];
	int port = srv_app_port(*state);

	http_get(port, "/", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "text/html"));
	assert_non_null(strstr(buf, "default-src 'self'"));
	http_get(port, "/nope", buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 404"));
	assert_non_null(strstr(buf, "{\"error\":"));
	http_roundtrip(port,
		       "PUT /api/mood HTTP/1.1\r\nHost: x\r\nConnection: "
		       "close\r\nContent-Length: 0\r\n\r\n",
		       buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 405"));
	http_roundtrip(port,
		       "POST /api/frame HTTP/1.1\r\nHost: x\r\n"
		       "Content-Type: text/plain\r\nContent-Length: 3"
		       "\r\nConnection: close\r\n\r\nabc",
		       buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 415"));
	http_roundtrip(port,
		       "POST /api/frame HTTP/1.1\r\nHost: x\r\n"
		       "Content-Type: image/jpeg\r\nContent-Length: 3"
		       "\r\nConnection: close\r\n\r\nabc",
		       buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 400"));
	http_roundtrip(port,
		       "POST /api/frame HTTP/1.1\r\nHost: x\r\n"
		       "Content-Type: image/png\r\nContent-Length: "
		       "999999999\r\nConnection: close\r\n\r\n",
		       buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 413"));
}

static void test_app_session_strings(void **state)
{
	struct srv_app *app = *state;
	char sid[SRV_SID_LEN + 1], val[64];

	new_session(srv_app_port(app), sid);
	assert_int_equal(srv_session_kv_set(app, sid, "state", "abc"), MS_OK);
	assert_int_equal(
		srv_session_kv_get(app, sid, "state", val, sizeof(val)), MS_OK);
	assert_string_equal(val, "abc");
	assert_int_equal(srv_session_kv_set(app, sid, "state", NULL), MS_OK);
	assert_int_equal(
		srv_session_kv_get(app, sid, "state", val, sizeof(val)),
		MS_ENOTFOUND);
	assert_int_equal(srv_session_kv_set(app,
					    "ffffffffffffffffffffffffffffffff",
					    "k", "v"),
			 MS_ENOTFOUND);
	/* the Spotify module's start() set the typed handle, stop clears it
	 * (the teardown's second stop is a no-op) */
	assert_non_null(srv_app_spotify(app));
	srv_app_stop(app);
	assert_null(srv_app_spotify(app));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_mapping),
		cmocka_unit_test(test_session_ids),
		cmocka_unit_test(test_session_lru),
		cmocka_unit_test(test_session_music_mood),
		cmocka_unit_test(test_session_admit_and_keep),
		cmocka_unit_test(test_hosts_and_guard),
		cmocka_unit_test(test_conns_deadline),
		cmocka_unit_test(test_token_bucket),
		cmocka_unit_test(test_image_dims),
		cmocka_unit_test_setup_teardown(test_app_hosts_and_session,
						app_setup, app_teardown),
		cmocka_unit_test_setup_teardown(test_app_page_and_errors,
						app_setup, app_teardown),
		cmocka_unit_test_setup_teardown(test_app_session_strings,
						app_setup, app_teardown),
	};

	ms_log_set_level(MS_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
