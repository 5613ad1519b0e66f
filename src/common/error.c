/* error.c - error codes, their names, and the assertion failure path. */
#include <stdio.h>
#include <stdlib.h>

#include "moodsync/common.h"

const char *ms_strerror(int err)
{
	switch (err) {
	case MS_OK:
		return "ok";
	case MS_ENOMEM:
		return "out of memory";
	case MS_EINVAL:
		return "invalid argument";
	case MS_EFORMAT:
		return "malformed input";
	case MS_EUNSUPPORTED:
		return "unsupported";
	case MS_ELIMIT:
		return "over a limit";
	case MS_EIO:
		return "i/o error";
	case MS_ENOTFOUND:
		return "not found";
	case MS_EUPSTREAM:
		return "upstream service failed";
	case MS_EDB:
		return "database error";
	case MS_EBUSY:
		return "busy";
	case MS_EAUTH:
		return "not authorized";
	case MS_ETIMEOUT:
		return "timed out";
	}
	return "unknown error";
}

int ms_errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

_Noreturn void ms_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "moodsync: assertion failed: %s (%s:%d)\n", expr, file,
		line);
	abort();
}
