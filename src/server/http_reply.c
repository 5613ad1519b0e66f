/* http_reply.c - building the reply of a request (server/http.h): bytes,
 * files, JSON, the one error body, redirects, extra headers and cookies,
 * the one ms_err -> HTTP status mapping, and the static files of the
 * embedded web/ assets. http.c queues what is built here. */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/app.h"
#include "server/assets.h"
#include "server/http_internal.h"

int srv_http_status(int err)
{
	switch (err) {
	case MS_OK:
		return 200;
	case MS_EINVAL:
	case MS_EFORMAT:
		return 400;
	case MS_EAUTH:
		return 401;
	case MS_ENOTFOUND:
		return 404;
	case SRV_EFORBIDDEN:
		return 403;
	case SRV_EMETHOD:
		return 405;
	case MS_ELIMIT:
		return 413;
	case MS_EUNSUPPORTED:
		return 415;
	case SRV_EHOST:
		return 421;
	case SRV_ERANGE:
		return 416;
	case SRV_ERATE:
		return 429;
	case MS_EUPSTREAM:
		return 502;
	case MS_EBUSY:
		return 503;
	case MS_ETIMEOUT:
		return 504;
	default:
		return 500;
	}
}

const char *srv_err_code(int err)
{
	switch (err) {
	case MS_EINVAL:
	case MS_EFORMAT:
		return "bad_request";
	case MS_EAUTH:
		return "unauthorized";
	case MS_ENOTFOUND:
		return "not_found";
	case SRV_EFORBIDDEN:
		return "forbidden";
	case SRV_EMETHOD:
		return "method_not_allowed";
	case MS_ELIMIT:
		return "too_large";
	case MS_EUNSUPPORTED:
		return "unsupported_media_type";
	case SRV_EHOST:
		return "bad_host";
	case SRV_ERANGE:
		return "range_not_satisfiable";
	case SRV_ERATE:
		return "rate_limited";
	case MS_EUPSTREAM:
		return "upstream_failed";
	case MS_EBUSY:
		return "busy";
	case MS_ETIMEOUT:
		return "timeout";
	default:
		return "internal";
	}
}

/* ---- replies ------------------------------------------------------------ */

int srv_http_reply_set(struct srv_req *req, int status,
		       struct MHD_Response *resp, const char *type)
{
	if (!resp)
		return MS_ENOMEM;
	if (req->resp) /* a second reply: keep the first */
		MHD_destroy_response(req->resp);
	req->resp = resp;
	req->status = status;
	req->replied = 1;
	if (type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					type);
	return MS_OK;
}

int srv_reply_bytes(struct srv_req *req, int status, const char *type,
		    const void *data, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);

	return srv_http_reply_set(req, status, r, type);
}

int srv_reply_fd(struct srv_req *req, int status, const char *type, int fd,
		 uint64_t offset, uint64_t len)
{
	struct MHD_Response *r;

	if (offset > INT64_MAX || len > INT64_MAX - offset) {
		close(fd);
		return MS_EINVAL;
	}
	r = MHD_create_response_from_fd_at_offset64(len, fd, offset);
	if (!r)
		close(fd);
	return srv_http_reply_set(req, status, r, type);
}

struct body_stream {
	srv_body_read_fn read;
	void (*done)(void *);
	void *cls;
	uint64_t offset; /* of the body's first byte in the source */
};

static ssize_t body_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct body_stream *b = cls;
	long n = b->read(b->cls, b->offset + pos, buf, max);

	return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void body_free(void *cls)
{
	struct body_stream *b = cls;

	b->done(b->cls);
	free(b);
}

int srv_reply_stream(struct srv_req *req, int status, const char *type,
		     uint64_t offset, uint64_t len, srv_body_read_fn read,
		     void (*done)(void *), void *cls)
{
	struct body_stream *b = malloc(sizeof(*b));
	struct MHD_Response *r = NULL;

	if (b) {
		*b = (struct body_stream){read, done, cls, offset};
		r = MHD_create_response_from_callback(len, 64 * 1024, body_read,
						      b, body_free);
		if (!r)
			free(b);
	}
	if (!r)
		done(cls);
	return srv_http_reply_set(req, status, r, type);
}

int srv_reply_json(struct srv_req *req, int status, const char *json,
		   size_t len)
{
	return srv_reply_bytes(req, status, "application/json", json, len);
}

int srv_reply_doc(struct srv_req *req, int status, struct ms_json *j)
{
	int rc = ms_json_finish(j);

	if (!rc)
		rc = srv_reply_json(req, status, j->b->data, j->b->len);
	ms_buf_release(j->b);
	return rc;
}

int srv_reply_err(struct srv_req *req, int err, const char *code,
		  int retry_after_s, const char *fmt, ...)
{
	char msg[256], ra[16];
	struct ms_buf b;
	struct ms_json j;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ms_buf_init(&b, 1024);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_str(&j, "error", msg);
	ms_json_str(&j, "code", code ? code : srv_err_code(err));
	if (retry_after_s > 0) {
		ms_json_int(&j, "retry_after_s", retry_after_s);
		snprintf(ra, sizeof(ra), "%d", retry_after_s);
		srv_req_header_add(req, "Retry-After", ra);
	}
	ms_json_obj_close(&j);
	rc = ms_json_finish(&j);
	if (!rc)
		rc = srv_reply_json(req,
				    srv_http_status(err < 0 ? err : MS_EIO),
				    b.data, b.len);
	ms_buf_release(&b);
	return rc;
}

int srv_reply_redirect(struct srv_req *req, const char *location)
{
	int rc;

	if (strchr(location, '\r') || strchr(location, '\n'))
		return MS_EINVAL;
	rc = srv_reply_bytes(req, SRV_HTTP_FOUND, "text/plain; charset=utf-8",
			     "", 0);
	if (!rc)
		rc = srv_req_header_add(req, MHD_HTTP_HEADER_LOCATION,
					location);
	return rc;
}

int srv_req_header_add(struct srv_req *req, const char *name, const char *value)
{
	struct srv_hdr *h;

	if (req->nhdr >= SRV_MAX_EXTRA_HEADERS)
		return MS_ELIMIT;
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return MS_EINVAL;
	if (strcasecmp(name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0)
		req->own_cache = 1;
	h = &req->hdr[req->nhdr];
	if (snprintf(h->name, sizeof(h->name), "%s", name) >=
		    (int)sizeof(h->name) ||
	    snprintf(h->value, sizeof(h->value), "%s", value) >=
		    (int)sizeof(h->value))
		return MS_ELIMIT;
	req->nhdr++;
	return MS_OK;
}

int srv_req_cookie_set(struct srv_req *req, const char *name, const char *value,
		       long max_age_s)
{
	char c[512];
	int n;

	if (strpbrk(name, "=;, \r\n") || strpbrk(value, ";, \r\n"))
		return MS_EINVAL;
	n = snprintf(c, sizeof(c),
		     "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%ld", name,
		     value, max_age_s > 0 ? max_age_s : 0L);
	if (n < 0 || (size_t)n >= sizeof(c))
		return MS_ELIMIT;
	return srv_req_header_add(req, MHD_HTTP_HEADER_SET_COOKIE, c);
}

int srv_req_fail(struct srv_req *req, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->errmsg, sizeof(req->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

/* ---- static files ------------------------------------------------------- */

int srv_http_static(struct srv_req *req)
{
	const char *path =
		strcmp(req->path, "/") == 0 ? "/index.html" : req->path;
	struct MHD_Response *r;

	for (const struct srv_asset *a = srv_assets; a->path; a++) {
		if (strcmp(a->path, path) != 0)
			continue;
		r = MHD_create_response_from_buffer(a->len,
						    (void *)(uintptr_t)a->data,
						    MHD_RESPMEM_PERSISTENT);
		req->is_static = 1;
		if (srv_http_reply_set(req, SRV_HTTP_OK, r, a->type))
			return MS_ENOMEM;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-cache");
		return MS_OK;
	}
	return srv_reply_err(req, MS_ENOTFOUND, NULL, 0, "no such page: %s",
			     req->path);
}
