/* http_internal.h - the libmicrohttpd callbacks of http.c and
 * http_hooks.c, registered by app.c when it starts the daemon. Not for
 * route handlers. */
#ifndef MOODSYNC_SERVER_HTTP_INTERNAL_H
#define MOODSYNC_SERVER_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdarg.h>

struct srv_conn;

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
