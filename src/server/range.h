/* range.h - the HTTP Range request header (RFC 9110 section 14), as the
 * audio route needs it: one byte range of a representation of known
 * size. Pure function on outside input; fuzzed by tests/fuzz/fuzz_range.c. */
#ifndef MOODSYNC_SERVER_RANGE_H
#define MOODSYNC_SERVER_RANGE_H

#include <stddef.h>
#include <stdint.h>

enum srv_range {
	SRV_RANGE_NONE,		 /* no header, or one we ignore: send it all */
	SRV_RANGE_OK,		 /* one satisfiable range: 206 */
	SRV_RANGE_UNSATISFIABLE, /* well-formed, but past the end: 416 */
};

/* Parses `value` (the header's value, NULL when absent; at most 200
 * characters are considered) for a body of `size` bytes. On
 * SRV_RANGE_OK, *start and *len (>= 1) give the bytes to send. Accepted:
 * "bytes=A-B", "bytes=A-" and "bytes=-N" (the last N bytes), with B
 * clipped to the end. Several ranges, other units, malformed or reversed
 * ranges are ignored (SRV_RANGE_NONE), as RFC 9110 allows. */
enum srv_range srv_range_parse(const char *value, uint64_t size,
			       uint64_t *start, uint64_t *len);

#endif
