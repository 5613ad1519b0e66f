/* http_guard.h - the checks http.c makes on a request's headers before
 * routing it: the Host allow-list (DNS rebinding), the cross-site request
 * guard for state-changing methods (Origin, Sec-Fetch-Site, Content-Type
 * or the page's own header), and the settings body parser. Pure functions on
 * strings, no libmicrohttpd, so the fuzzer (tests/fuzz/fuzz_http.c) can
 * drive them directly. All are thread-safe. */
#ifndef MOODSYNC_SERVER_HTTP_GUARD_H
#define MOODSYNC_SERVER_HTTP_GUARD_H

#include <stddef.h>

#define SRV_HOSTS_MAX 16 /* allowed Host values, built-ins included */
#define SRV_HOST_LEN 256 /* bytes of one Host value, NUL included */
#define SRV_PAGE_HEADER "X-MoodSync" /* the page's header on commands */

/* The Host header values the server answers to. */
struct srv_hosts {
	char name[SRV_HOSTS_MAX][SRV_HOST_LEN]; /* lower case */
	int n;
};

/* Fills `h` for a server bound to `listen_host`:`port`: 127.0.0.1:PORT,
 * localhost:PORT, [::1]:PORT, LISTEN_HOST:PORT (also each without the
 * port when PORT is 80) and the `nextra` values of `extra` taken as they
 * are (a reverse proxy's "name" or "name:port"). MS_ELIMIT past
 * SRV_HOSTS_MAX entries or a value of SRV_HOST_LEN bytes or more,
 * MS_EINVAL for a value with characters a Host cannot hold. */
int srv_hosts_init(struct srv_hosts *h, const char *listen_host, int port,
		   const char *const *extra, int nextra);

/* 1 when the Host header value `host` (may be NULL: absent) is one of
 * `h` (case-insensitive), else 0. */
int srv_hosts_allowed(const struct srv_hosts *h, const char *host);

/* What the cross-site guard decided. */
enum srv_guard {
	SRV_GUARD_OK,
	SRV_GUARD_CROSS_ORIGIN, /* Origin or Sec-Fetch-Site says another site */
	SRV_GUARD_NEEDS_TYPE,	/* a type any page may send, no page header */
};

/* The guard for a state-changing request (any method but GET, HEAD and
 * OPTIONS). Refuses an `origin` other than http:// or https:// + `host`
 * (the Host already passed the allow-list; "null" is refused), a
 * `fetch_site` other than "same-origin" or "none", and a request whose
 * `ctype` is absent or one a cross-site form may send without asking
 * (text/plain, application/x-www-form-urlencoded, multipart/form-data)
 * unless `page_hdr` (the SRV_PAGE_HEADER value) is "1". Any argument may
 * be NULL (header absent). */
enum srv_guard srv_guard_check(const char *method, const char *host,
			       const char *origin, const char *fetch_site,
			       const char *ctype, const char *page_hdr);

/* 1 when `method` changes state (anything but GET, HEAD, OPTIONS). */
int srv_method_unsafe(const char *method);

/* 1 when `ct` names media type `want` (case-insensitive), with or
 * without parameters: "application/json; charset=utf-8". */
int srv_ctype_is(const char *ct, const char *want);

/* Parses a POST /api/settings body, a JSON object with optional
 * "strategy" ("match" | "lift"), "autoplay" (bool) and "group" (bool:
 * several faces blend, or the largest leads); other keys are ignored.
 * *strategy (enum music_strategy), *autoplay and *group (0/1) get -1 when
 * absent. MS_EINVAL with a sentence for the user in `msg` when the body is
 * no JSON object or a value is wrong. */
int srv_settings_parse(const void *body, size_t len, int *strategy,
		       int *autoplay, int *group, char *msg, size_t msglen);

#endif
