/* conns.h - the server's open connections and their header deadline:
 * libmicrohttpd's own timeout only counts idle time, so a client that
 * sends its headers a byte at a time would hold a connection forever.
 * Every connection gets `header_ms` from its start (or from the end of
 * its previous request, for keep-alive) to finish its request headers;
 * a reaper thread shuts down the socket of any that has not, and
 * libmicrohttpd then closes it as a normal end of stream. */
#ifndef MOODSYNC_SERVER_CONNS_H
#define MOODSYNC_SERVER_CONNS_H

#include <stddef.h>

struct srv_conns;
struct srv_conn;

/* Starts the reaper thread. `header_ms` > 0. NULL when out of memory or
 * threads. */
struct srv_conns *srv_conns_new(double header_ms);
/* Stops the reaper. Call after the daemon stopped (no connection left).
 * NULL is a no-op. */
void srv_conns_free(struct srv_conns *t);

/* A new connection on socket `fd`: the entry to keep as libmicrohttpd's
 * socket context, NULL when out of memory (the connection then has no
 * deadline). */
struct srv_conn *srv_conns_open(struct srv_conns *t, int fd);
/* The connection is closing (before its socket is closed). NULL ok. */
void srv_conns_close(struct srv_conns *t, struct srv_conn *c);
/* Its request headers are complete: no deadline until the request ends. */
void srv_conns_request_begin(struct srv_conns *t, struct srv_conn *c);
/* Its request ended: the next request's headers have `header_ms`. */
void srv_conns_request_end(struct srv_conns *t, struct srv_conn *c);

/* Connections open now, and cut at their deadline since the start. */
void srv_conns_stats(struct srv_conns *t, int *open, long *cut);

#endif
