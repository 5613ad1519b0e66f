/* http.c - the libmicrohttpd glue: the access handler (Host allow-list,
 * cross-site guard, session cookie, routing, bounded body streaming,
 * early 413/415/429), the request accessors of server/http.h and the
 * queuing of each reply with the security headers. Building replies is
 * http_reply.c. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/app.h"
#include "server/http_internal.h"

#define SESSION_COOKIE "ms_sid"
#define SESSION_MAX_AGE (180L * 24 * 3600) /* seconds */

/* ---- request accessors ------------------------------------------------ */

const char *srv_req_method(const struct srv_req *req)
{
	return req->method;
}

const char *srv_req_path(const struct srv_req *req)
{
	return req->path;
}

const char *srv_req_query(struct srv_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   key);
}

const char *srv_req_header(struct srv_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *srv_req_cookie(struct srv_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const uint8_t *srv_req_body(const struct srv_req *req, size_t *len)
{
	*len = req->body.len;
	return req->body.data ? (const uint8_t *)req->body.data
			      : (const uint8_t *)"";
}

struct srv_app *srv_req_app(const struct srv_req *req)
{
	return req->app;
}

const char *srv_req_session_id(const struct srv_req *req)
{
	return req->sid;
}

struct srv_session *srv_req_session_locked(struct srv_req *req)
{
	return srv_sessions_ensure(req->app->sessions, req->sid, ms_now_ms());
}

/* ---- the access handler ------------------------------------------------- */

/* Finds the session named by the cookie (in memory, else restored from
 * the store) or creates a new one if the app-wide rate allows; fills
 * req->sid. SRV_ERATE past the rate. */
static int resolve_session(struct srv_req *req)
{
	struct srv_app *app = req->app;
	const char *c = srv_req_cookie(req, SESSION_COOKIE);
	struct store_session saved;
	struct srv_session *s = NULL;
	double now = ms_now_ms();
	int restore = 0, strategy, admitted;

	if (srv_session_id_valid(c)) {
		srv_sessions_lock(app->sessions);
		s = srv_sessions_find(app->sessions, c, now);
		srv_sessions_unlock(app->sessions);
		if (s) {
			snprintf(req->sid, sizeof(req->sid), "%s", c);
			return MS_OK;
		}
		restore = store_session_get(app->store, c, &saved) == MS_OK;
	}
	if (!restore) {
		srv_sessions_lock(app->sessions);
		admitted = srv_sessions_admit(app->sessions, now);
		srv_sessions_unlock(app->sessions);
		if (!admitted)
			return SRV_ERATE;
	}
	if (restore) {
		snprintf(req->sid, sizeof(req->sid), "%s", c);
	} else if (srv_session_id_new(req->sid) != MS_OK) {
		return MS_EIO;
	}
	req->new_cookie = !restore || !c;
	srv_sessions_lock(app->sessions);
	s = srv_sessions_ensure(app->sessions, req->sid, now);
	if (s && restore) {
		if (music_strategy_parse(saved.strategy, &strategy) == MS_OK)
			s->strategy = strategy;
		s->autoplay = saved.autoplay != 0;
		s->created = saved.created;
		s->keep = 1;
	}
	srv_sessions_unlock(app->sessions);
	return s ? MS_OK : MS_ENOMEM;
}

/* 1 when `path` matches the route pattern `pat`, where a "*" segment
 * matches one non-empty segment without '/'. */
static int path_match(const char *pat, const char *path)
{
	const char *p0 = pat;

	while (*pat && *path) {
		if (pat[0] == '*' && (pat[1] == '/' || !pat[1]) && pat > p0 &&
		    pat[-1] == '/') {
			if (*path == '/')
				return 0;
			while (*path && *path != '/')
				path++;
			pat++;
			continue;
		}
		if (*pat++ != *path++)
			return 0;
	}
	return !*pat && !*path;
}

/* The Host allow-list: 0 when the request may go on, else the refusal
 * is set. */
static int host_guard(struct srv_req *req)
{
	const char *host = srv_req_header(req, MHD_HTTP_HEADER_HOST);

	if (srv_hosts_allowed(&req->app->hosts, host))
		return 0;
	ms_log_limited(MS_LOG_INFO, "http-host",
		       "http: refused a request for another host (421)");
	srv_reply_err(req, SRV_EHOST, NULL, 0,
		      "this server answers only for its own address "
		      "(127.0.0.1, localhost or an --allow-host name)");
	return -1;
}

/* The cross-site guard for a routed request: 0 when it may go on, else
 * the refusal is set. */
static int site_guard(struct srv_req *req)
{
	const char *host = srv_req_header(req, MHD_HTTP_HEADER_HOST);

	switch (srv_guard_check(
		req->method, host, srv_req_header(req, "Origin"),
		srv_req_header(req, "Sec-Fetch-Site"),
		srv_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE),
		srv_req_header(req, SRV_PAGE_HEADER))) {
	case SRV_GUARD_CROSS_ORIGIN:
		srv_reply_err(req, SRV_EFORBIDDEN, "cross_origin", 0,
			      "refused: this request comes from another site");
		return -1;
	case SRV_GUARD_NEEDS_TYPE:
		srv_reply_err(req, MS_EUNSUPPORTED, NULL, 0,
			      "send Content-Type: application/json (an empty "
			      "{} is fine) or the header " SRV_PAGE_HEADER
			      ": 1");
		return -1;
	default:
		return 0;
	}
}

static const struct srv_route *route_find(const char *method, const char *path,
					  int *path_known)
{
	*path_known = 0;
	for (const struct srv_route *r = srv_routes; r->path; r++) {
		if (!path_match(r->path, path))
			continue;
		*path_known = 1;
		if (strcmp(r->method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 &&
		     strcmp(r->method, "GET") == 0))
			return r;
	}
	return NULL;
}

/* Routes (or answers) a request whose headers are in. Returns 1 when the
 * request needs its body read. */
static int request_begin(struct srv_req *req)
{
	const char *cl;
	int known, rc;
	int64_t len = 0;

	if (host_guard(req))
		return 0;
	req->route = route_find(req->method, req->path, &known);
	if (!req->route) {
		if (strcmp(req->method, "GET") == 0 ||
		    strcmp(req->method, "HEAD") == 0) {
			if (!known)
				srv_http_static(req);
			else
				srv_reply_err(req, SRV_EMETHOD, NULL, 0,
					      "method not allowed");
		} else {
			srv_reply_err(req, known ? SRV_EMETHOD : MS_ENOTFOUND,
				      NULL, 0, "%s",
				      known ? "method not allowed"
					    : "no such endpoint");
		}
		return 0;
	}
	if (site_guard(req))
		return 0;
	/* /healthz and static files make no session: a flood of them
	 * cannot push a user's session out. */
	rc = strcmp(req->path, "/healthz") == 0 ? MS_OK : resolve_session(req);
	if (rc == SRV_ERATE) {
		ms_log_limited(MS_LOG_WARN, "http-sessions",
			       "http: new sessions over the rate limit (429)");
		srv_reply_err(req, SRV_ERATE, NULL, 1,
			      "too many new sessions; try again in a second");
		return 0;
	}
	if (rc) {
		srv_reply_err(req, MS_EIO, NULL, 0, "cannot create a session");
		return 0;
	}
	cl = srv_req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && ms_parse_i64(cl, 0, INT64_MAX, &len) == MS_OK &&
	    (uint64_t)len > req->route->max_body) {
		if (req->route->max_body == 0)
			srv_reply_err(req, MS_ELIMIT, NULL, 0,
				      "this endpoint takes no body");
		else
			srv_reply_err(req, MS_ELIMIT, NULL, 0,
				      "body too large (%lld bytes, at most "
				      "%zu)",
				      (long long)len, req->route->max_body);
		return 0;
	}
	if (req->route->precheck) {
		rc = req->route->precheck(req);
		if (rc && !req->replied)
			srv_reply_err(req, rc, NULL, 0, "%s",
				      req->errmsg[0] ? req->errmsg
						     : ms_strerror(rc));
		if (req->replied)
			return 0;
	}
	ms_buf_init(&req->body, req->route->max_body);
	return 1;
}

static void request_run(struct srv_req *req)
{
	int rc;

	if (req->too_big) {
		srv_reply_err(req, MS_ELIMIT, NULL, 0,
			      "body too large (at most %zu bytes)",
			      req->route->max_body);
		return;
	}
	rc = req->route->handler(req);
	if (!req->replied) {
		if (rc == MS_OK)
			rc = MS_EINVAL; /* a handler that forgot to reply */
		srv_reply_err(req, rc, NULL, 0, "%s",
			      req->errmsg[0] ? req->errmsg : ms_strerror(rc));
	}
}

static enum MHD_Result queue_reply(struct srv_req *req)
{
	struct MHD_Response *r = req->resp;
	enum MHD_Result ok;
	char cookie[128];

	if (!r) {
		r = MHD_create_response_from_buffer(0, (void *)"",
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		req->status = srv_http_status(MS_ENOMEM);
	}
	MHD_add_response_header(r, "Content-Security-Policy", req->app->csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (!req->is_static && !req->own_cache)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-store");
	if (req->new_cookie) {
		snprintf(cookie, sizeof(cookie),
			 SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; "
					"Max-Age=%ld",
			 req->sid, SESSION_MAX_AGE);
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
	for (int i = 0; i < req->nhdr; i++)
		MHD_add_response_header(r, req->hdr[i].name, req->hdr[i].value);
	ok = MHD_queue_response(req->conn, (unsigned)req->status, r);
	MHD_destroy_response(r);
	req->resp = NULL;
	return ok;
}

enum MHD_Result srv_http_access(void *cls, struct MHD_Connection *conn,
				const char *url, const char *method,
				const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls)
{
	struct srv_req *req = *con_cls;

	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->app = cls;
		req->conn = conn;
		srv_conns_request_begin(req->app->conns,
					srv_http_conn_entry(conn));
		req->method = method;
		req->path = url;
		*con_cls = req;
		atomic_fetch_add(&req->app->n_requests, 1);
		if (!request_begin(req))
			return queue_reply(req); /* early: body never read */
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!req->too_big &&
		    ms_buf_append(&req->body, upload_data, *upload_data_size))
			req->too_big = 1; /* keep draining, store nothing */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->replied && !req->resp)
		return MHD_YES; /* already queued */
	request_run(req);
	return queue_reply(req);
}

void srv_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	struct srv_req *req = *con_cls;

	(void)toe;
	srv_conns_request_end(((struct srv_app *)cls)->conns,
			      srv_http_conn_entry(conn));
	if (!req)
		return;
	if (req->resp)
		MHD_destroy_response(req->resp);
	ms_buf_release(&req->body);
	free(req);
	*con_cls = NULL;
}
