/* acceptor.c - the server's accept loop (see acceptor.h). The thread
 * sleeps in poll() on the listening socket and a pipe that stop() writes
 * to; at the connection limit it looks again every FULL_WAIT_MS. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "moodsync/common.h"
#include "server/acceptor.h"

#define FULL_WAIT_MS 20 /* at the limit or out of descriptors */
#define ACCEPT_BATCH 16 /* connections taken per wake-up at most */

struct srv_acceptor {
	pthread_t thread;
	int fd;
	int wake[2]; /* stop() writes to wake[1] */
	srv_accept_room_fn room;
	srv_accept_add_fn add;
	void *ctx;
};

/* Accepts what waits, while there is room. */
static void accept_some(struct srv_acceptor *a)
{
	for (int n = 0; n < ACCEPT_BATCH && a->room(a->ctx); n++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int c = accept4(a->fd, (struct sockaddr *)&sa, &len,
				SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (c < 0) {
			/* out of descriptors: the client stays queued,
			 * and poll() would say "readable" at once */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				poll(NULL, 0, FULL_WAIT_MS);
			return;
		}
		a->add(a->ctx, c, (struct sockaddr *)&sa, len);
	}
}

static void *accept_loop(void *arg)
{
	struct srv_acceptor *a = arg;

	for (;;) {
		struct pollfd p[2] = {{a->wake[0], POLLIN, 0},
				      {a->fd, POLLIN, 0}};
		int full = !a->room(a->ctx);

		if (poll(p, full ? 1 : 2, full ? FULL_WAIT_MS : -1) < 0) {
			/* EINTR, or ENOMEM: look again, rather than stop
			 * accepting for the rest of the server's life */
			if (errno != EINTR)
				poll(NULL, 0, FULL_WAIT_MS);
			continue;
		}
		if (p[0].revents)
			break;
		if (!full && p[1].revents)
			accept_some(a);
	}
	return NULL;
}

int srv_acceptor_start(int fd, srv_accept_room_fn room, srv_accept_add_fn add,
		       void *ctx, struct srv_acceptor **out)
{
	struct srv_acceptor *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return MS_ENOMEM;
	a->fd = fd;
	a->room = room;
	a->add = add;
	a->ctx = ctx;
	if (pipe2(a->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		free(a);
		return MS_EIO;
	}
	if (pthread_create(&a->thread, NULL, accept_loop, a) != 0) {
		close(a->wake[0]);
		close(a->wake[1]);
		free(a);
		return MS_EIO;
	}
	*out = a;
	return MS_OK;
}

void srv_acceptor_stop(struct srv_acceptor *a)
{
	ssize_t w;

	if (!a)
		return;
	do
		w = write(a->wake[1], "x", 1);
	while (w < 0 && errno == EINTR);
	pthread_join(a->thread, NULL);
	close(a->wake[0]);
	close(a->wake[1]);
	free(a);
}
