/* test_server_acceptor.c - the server's accept loop (src/server/acceptor.c)
 * on a real listening socket on 127.0.0.1: every connection is handed on,
 * none is taken while there is no room (it waits in the backlog and is
 * taken once there is), and none after stop. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "loopback.h"
#include "moodsync/common.h"
#include "server/acceptor.h"

struct hooks {
	atomic_int room;  /* what the room hook answers */
	atomic_int added; /* connections handed on */
	atomic_int bad;	  /* handed on without O_NONBLOCK, or a bad fd */
};

static int room(void *ctx)
{
	return atomic_load(&((struct hooks *)ctx)->room);
}

static void add(void *ctx, int fd, const struct sockaddr *addr,
		socklen_t addrlen)
{
	struct hooks *h = ctx;
	const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

	if (fd < 0 || addrlen < sizeof(*in) || in->sin_family != AF_INET ||
	    !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		atomic_fetch_add(&h->bad, 1);
	close(fd);
	atomic_fetch_add(&h->added, 1);
}

/* A non-blocking listening socket on 127.0.0.1, its port in *port. */
static int listener(int *port)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Waits up to 2 s for `added` to reach n; its value then. */
static int wait_added(struct hooks *h, int n)
{
	for (int i = 0; i < 200 && atomic_load(&h->added) < n; i++)
		usleep(10 * 1000);
	return atomic_load(&h->added);
}

static void test_acceptor(void **state)
{
	struct hooks h;
	struct srv_acceptor *a;
	int port, lfd = listener(&port), c[12];

	(void)state;
	atomic_init(&h.room, 1);
	atomic_init(&h.added, 0);
	atomic_init(&h.bad, 0);
	assert_int_equal(srv_acceptor_start(lfd, room, add, &h, &a), MS_OK);
	for (int i = 0; i < 5; i++)
		c[i] = loopback_dial(port);
	assert_int_equal(wait_added(&h, 5), 5);

	/* no room: the next ones wait in the backlog... */
	atomic_store(&h.room, 0);
	usleep(50 * 1000); /* the loop has seen it */
	for (int i = 5; i < 8; i++)
		c[i] = loopback_dial(port);
	usleep(150 * 1000);
	assert_int_equal(atomic_load(&h.added), 5);
	/* ... and are taken once there is room */
	atomic_store(&h.room, 1);
	assert_int_equal(wait_added(&h, 8), 8);

	/* stopped: nothing more is taken, though the socket still listens */
	srv_acceptor_stop(a);
	for (int i = 8; i < 12; i++)
		c[i] = loopback_dial(port);
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&h.added), 8);
	assert_int_equal(atomic_load(&h.bad), 0);
	for (int i = 0; i < 12; i++)
		close(c[i]);
	close(lfd);
	srv_acceptor_stop(NULL); /* a no-op */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acceptor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
