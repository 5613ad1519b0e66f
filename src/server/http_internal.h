/* http_internal.h - the libmicrohttpd callbacks of http.c and
 * http_hooks.c, registered by app.c when it starts the daemon, and the
 * request that http.c runs and http_reply.c fills. Not for route
 * handlers. */
#ifndef MOODSYNC_SERVER_HTTP_INTERNAL_H
#define MOODSYNC_SERVER_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdarg.h>

#include "server/http.h"

struct srv_conn;
struct srv_app;
struct srv_route;

#define SRV_MAX_EXTRA_HEADERS 8

struct srv_hdr {
	char name[40];
	char value[512];
};

struct srv_req {
	struct srv_app *app;
	struct MHD_Connection *conn;
	const char *method, *path; /* owned by MHD, valid for the request */
	const struct srv_route *route;
	struct ms_buf body; /* bounded by route->max_body */
	int too_big;	    /* body passed the cap: discarded */
	char sid[SRV_SID_LEN + 1];
	int new_cookie; /* send Set-Cookie for sid */
	int replied;
	int is_static;
	int own_cache;		   /* the handler set Cache-Control */
	struct MHD_Response *resp; /* the reply, queued at the end */
	int status;
	char errmsg[200];
	struct srv_hdr hdr[SRV_MAX_EXTRA_HEADERS];
	int nhdr;
};

/* Makes resp (owned from here; NULL: MS_ENOMEM) the reply of req with
 * `status` and Content-Type `type` (NULL: none), replacing an earlier one. */
int srv_http_reply_set(struct srv_req *req, int status,
		       struct MHD_Response *resp, const char *type);
/* Replies with the embedded asset at req's path ("/" is /index.html), or
 * 404 when there is none. */
int srv_http_static(struct srv_req *req);

enum MHD_Result srv_http_access(void *cls, struct MHD_Connection *conn,
				const char *url, const char *method,
				const char *version, const char *upload_data,
				size_t *upload_data_size, void **con_cls);
void srv_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe);
/* The connection's entry in the header-deadline tracker (its socket
 * context; NULL when it has none). */
struct srv_conn *srv_http_conn_entry(struct MHD_Connection *conn);
/* Connection start/end: the header deadline (server/conns.h). */
void srv_http_connection(void *cls, struct MHD_Connection *conn,
			 void **socket_context,
			 enum MHD_ConnectionNotificationCode toe);
/* libmicrohttpd's own messages, through the rate-limited log. */
void srv_http_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
