/* loopback.h - a TCP client socket connected to 127.0.0.1, for the server
 * unit tests. Include after <cmocka.h>; everything here is static. */
#ifndef MOODSYNC_TESTS_LOOPBACK_H
#define MOODSYNC_TESTS_LOOPBACK_H

#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* A blocking socket connected to 127.0.0.1:port (the test fails if not). */
static inline int loopback_dial(int port)
{
	struct sockaddr_in a = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

#endif
