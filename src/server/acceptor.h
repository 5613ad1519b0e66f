/* acceptor.h - the server's own accept loop. One thread takes each new
 * connection off the listening socket and hands it on (app.c: to
 * MHD_add_connection, which gives it to the pool worker "socket mod pool
 * size" that has room). libmicrohttpd's own accept in a thread pool lets
 * the first worker to wake take up to ten waiting connections at once, so
 * a client that opens a few long-lived connections together could find
 * them all on one worker thread, served one frame at a time on one core.
 *
 * While `room` says no, nothing is accepted: new clients wait in the
 * listen backlog, as they did when libmicrohttpd stopped accepting at its
 * connection limit. */
#ifndef MOODSYNC_SERVER_ACCEPTOR_H
#define MOODSYNC_SERVER_ACCEPTOR_H

#include <sys/socket.h>

struct srv_acceptor;

/* 1 when one more connection may be accepted now. */
typedef int (*srv_accept_room_fn)(void *ctx);
/* Takes the accepted socket `fd` (non-blocking, close-on-exec) and owns it
 * from then on. */
typedef void (*srv_accept_add_fn)(void *ctx, int fd,
				  const struct sockaddr *addr,
				  socklen_t addrlen);

/* Starts the thread on listening socket `fd` (which stays the caller's).
 * MS_OK, MS_ENOMEM, or MS_EIO when no thread or pipe could be made. */
int srv_acceptor_start(int fd, srv_accept_room_fn room, srv_accept_add_fn add,
		       void *ctx, struct srv_acceptor **out);
/* Stops and joins the thread: once it returns, `add` is not called again.
 * NULL is a no-op. */
void srv_acceptor_stop(struct srv_acceptor *a);

#endif
