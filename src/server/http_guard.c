/* http_guard.c - Host allow-list, cross-site request guard and settings
 * body parser (see http_guard.h). Header checks are bounded string work
 * without allocation; bodies go through cJSON. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "moodsync/common.h"
#include "moodsync/music.h"
#include "server/http_guard.h"

/* 1 when every byte of `s` may appear in a Host header value. */
static int host_chars_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 127 || strchr("\"<>\\^`{|}/?#@", c))
			return 0;
	}
	return 1;
}

static int hosts_add(struct srv_hosts *h, const char *name, int port)
{
	char v[SRV_HOST_LEN];
	int n;

	if (port >= 0)
		n = snprintf(v, sizeof(v), "%s:%d", name, port);
	else
		n = snprintf(v, sizeof(v), "%s", name);
	if (n < 0 || (size_t)n >= sizeof(v) || h->n >= SRV_HOSTS_MAX)
		return MS_ELIMIT;
	if (!v[0] || !host_chars_ok(v))
		return MS_EINVAL;
	for (char *p = v; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	for (int i = 0; i < h->n; i++)
		if (strcmp(h->name[i], v) == 0)
			return MS_OK;
	memcpy(h->name[h->n++], v, (size_t)n + 1);
	return MS_OK;
}

int srv_hosts_init(struct srv_hosts *h, const char *listen_host, int port,
		   const char *const *extra, int nextra)
{
	static const char *const local[] = {"127.0.0.1", "localhost", "[::1]"};
	int rc = MS_OK;

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; !rc && i < MS_ARRAY_LEN(local); i++) {
		rc = hosts_add(h, local[i], port);
		if (!rc && port == 80)
			rc = hosts_add(h, local[i], -1);
	}
	if (!rc && listen_host && listen_host[0])
		rc = hosts_add(h, listen_host, port);
	if (!rc && listen_host && listen_host[0] && port == 80)
		rc = hosts_add(h, listen_host, -1);
	for (int i = 0; !rc && i < nextra; i++)
		rc = hosts_add(h, extra[i], -1);
	return rc;
}

int srv_hosts_allowed(const struct srv_hosts *h, const char *host)
{
	if (!host)
		return 0;
	for (int i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], host) == 0)
			return 1;
	return 0;
}

int srv_ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct && strncasecmp(ct, want, n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int srv_method_unsafe(const char *method)
{
	return !method ||
	       (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
		strcmp(method, "OPTIONS") != 0);
}

/* 1 when `origin` is exactly "http://" or "https://" (a TLS reverse
 * proxy) + host, case-insensitive. */
static int origin_same(const char *origin, const char *host)
{
	static const char *const schemes[] = {"http://", "https://"};

	for (size_t i = 0; host && i < MS_ARRAY_LEN(schemes); i++) {
		size_t ns = strlen(schemes[i]);

		if (strncasecmp(origin, schemes[i], ns) == 0 &&
		    strcasecmp(origin + ns, host) == 0)
			return 1;
	}
	return 0;
}

enum srv_guard srv_guard_check(const char *method, const char *host,
			       const char *origin, const char *fetch_site,
			       const char *ctype, const char *page_hdr)
{
	if (!srv_method_unsafe(method))
		return SRV_GUARD_OK;
	/* Browsers send Origin on every cross-origin POST and
	 * Sec-Fetch-Site on every request; either is enough to refuse. */
	if (origin && !origin_same(origin, host))
		return SRV_GUARD_CROSS_ORIGIN;
	if (fetch_site && strcmp(fetch_site, "same-origin") != 0 &&
	    strcmp(fetch_site, "none") != 0)
		return SRV_GUARD_CROSS_ORIGIN;
	/* A page on another site can send these types (or no body) with a
	 * plain form or fetch, without asking first; any other type or a
	 * custom header needs a CORS preflight, which this server never
	 * grants. */
	if (page_hdr && strcmp(page_hdr, "1") == 0)
		return SRV_GUARD_OK;
	if (!ctype || !ctype[0] || srv_ctype_is(ctype, "text/plain") ||
	    srv_ctype_is(ctype, "application/x-www-form-urlencoded") ||
	    srv_ctype_is(ctype, "multipart/form-data"))
		return SRV_GUARD_NEEDS_TYPE;
	return SRV_GUARD_OK;
}

int srv_settings_parse(const void *body, size_t len, int *strategy,
		       int *autoplay, int *group, char *msg, size_t msglen)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *js, *ja, *jg;
	int rc = MS_OK;

	*strategy = *autoplay = *group = -1;
	if (!root || !cJSON_IsObject(root)) {
		rc = ms_errf(msg, msglen, MS_EINVAL,
			     "body must be a JSON object");
		goto out;
	}
	js = cJSON_GetObjectItemCaseSensitive(root, "strategy");
	ja = cJSON_GetObjectItemCaseSensitive(root, "autoplay");
	jg = cJSON_GetObjectItemCaseSensitive(root, "group");
	if (js && (!cJSON_IsString(js) ||
		   music_strategy_parse(js->valuestring, strategy))) {
		*strategy = -1;
		rc = ms_errf(msg, msglen, MS_EINVAL,
			     "strategy must be match, lift, calm or energise");
		goto out;
	}
	if (ja && !cJSON_IsBool(ja)) {
		rc = ms_errf(msg, msglen, MS_EINVAL,
			     "autoplay must be true or false");
		goto out;
	}
	if (ja)
		*autoplay = cJSON_IsTrue(ja);
	if (jg && !cJSON_IsBool(jg)) {
		rc = ms_errf(msg, msglen, MS_EINVAL,
			     "group must be true or false");
		goto out;
	}
	if (jg)
		*group = cJSON_IsTrue(jg);
out:
	cJSON_Delete(root);
	return rc;
}
