/* fuzz_http.c - libFuzzer harness for the HTTP request checks that take
 * outside input without a socket (src/server/http_guard.c): the Host
 * allow-list (built from a fuzzed --allow-host value, queried with a
 * fuzzed Host), the cross-site guard (method, Origin, Sec-Fetch-Site,
 * Content-Type, the page header), the settings and calibrate JSON bodies,
 * the Spotify
 * command bodies' fields, and query-string numbers as the API parses them.
 * Input: up to 8 header-ish lines separated by '\n', then the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "moodsync/common.h"
#include "moodsync/spotify.h"
#include "server/calib.h"
#include "server/http_guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

#define FIELDS 8

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	static const char *const methods[] = {"GET", "POST",   "HEAD",
					      "PUT", "DELETE", "OPTIONS"};
	char *copy, *f[FIELDS], *p, *body, msg[128];
	const char *extra[1];
	struct srv_hosts hosts;
	int strategy, autoplay, group, n = 0, port, iv, frames;
	int64_t i64;
	double dv, seconds;
	size_t blen;

	if (len > 1 << 16)
		return 0;
	copy = malloc(len + 1);
	if (!copy)
		return 0;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	p = copy;
	for (n = 0; n < FIELDS; n++) {
		char *nl = memchr(p, '\n', (size_t)(copy + len - p));

		f[n] = p;
		if (!nl) {
			p = copy + len;
			n++;
			break;
		}
		*nl = '\0';
		p = nl + 1;
	}
	for (int i = n; i < FIELDS; i++)
		f[i] = NULL;
	body = p;
	blen = (size_t)(copy + len - p);

	/* f[0] Host, f[1] --allow-host, f[2] Origin, f[3] Sec-Fetch-Site,
	 * f[4] Content-Type, f[5] page header, f[6] query value, f[7] the
	 * listen address */
	port = len ? buf[0] * 256 + (len > 1 ? buf[1] : 0) : 0;
	extra[0] = f[1] ? f[1] : "";
	if (srv_hosts_init(&hosts, f[7] ? f[7] : "127.0.0.1", port, extra,
			   f[1] ? 1 : 0) == MS_OK)
		(void)srv_hosts_allowed(&hosts, f[0]);
	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
		(void)srv_guard_check(methods[m], f[0], f[2], f[3], f[4], f[5]);
	(void)srv_ctype_is(f[4], "application/json");
	if (f[6]) {
		(void)ms_parse_i64(f[6], 0, INT64_MAX, &i64);
		(void)ms_parse_int(f[6], 1, 3600, &iv);
		(void)ms_parse_double(f[6], 0.0, 10000.0, &dv);
	}

	/* the body as /api/settings and the Spotify commands read it */
	if (srv_settings_parse(body, blen, &strategy, &autoplay, &group, msg,
			       sizeof(msg)) == MS_OK &&
	    (strategy < -1 || strategy > 1 || autoplay < -1 || autoplay > 1 ||
	     group < -1 || group > 1))
		abort();
	if (srv_calib_parse(body, blen, &seconds, &frames, msg, sizeof(msg)) ==
		    MS_OK &&
	    !(frames == 0 ? seconds > 0 && seconds <= SRV_CALIB_MAX_SECONDS
			  : frames >= 1 && frames <= SRV_CALIB_MAX_FRAMES))
		abort();
	{
		cJSON *root = cJSON_ParseWithLength(body, blen);
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "uri");
		const cJSON *d =
			cJSON_GetObjectItemCaseSensitive(root, "device_id");

		if (cJSON_IsString(u))
			(void)music_spotify_uri_valid(u->valuestring);
		if (cJSON_IsString(d))
			(void)music_spotify_device_id_valid(d->valuestring);
		cJSON_Delete(root);
	}
	free(copy);
	return 0;
}
