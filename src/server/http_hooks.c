/* http_hooks.c - libmicrohttpd's per-connection and log hooks: each
 * connection is registered with the header-deadline tracker
 * (server/conns.h) as its socket context, and libmicrohttpd's own
 * messages go through the rate-limited log. */
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "server/app.h"
#include "server/http_internal.h"

struct srv_conn *srv_http_conn_entry(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void srv_http_connection(void *cls, struct MHD_Connection *conn,
			 void **socket_context,
			 enum MHD_ConnectionNotificationCode toe)
{
	struct srv_app *app = cls;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context =
			ci ? srv_conns_open(app->conns, ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		srv_conns_close(app->conns, *socket_context);
		*socket_context = NULL;
	}
}

void srv_http_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* one key per message kind: its format string */
	ms_log_limited(MS_LOG_WARN, fmt, "http: %s", msg);
}
