/* parse.c - strict number parsing (the whole string, in range) and small
 * shared helpers: UTF-8 sequences, clocks and box overlap. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "moodsync/common.h"

int ms_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || *s == ' ' || *s == '\t' || *s == '\n')
		return MS_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return MS_EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return MS_ELIMIT;
	*out = (int64_t)v;
	return MS_OK;
}

int ms_parse_i64_n(const char *s, size_t n, int64_t min, int64_t max,
		   int64_t *out)
{
	char tmp[32];

	if (n == 0 || n >= sizeof(tmp))
		return n ? MS_ELIMIT : MS_EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return ms_parse_i64(tmp, min, max, out);
}

int ms_parse_int(const char *s, int min, int max, int *out)
{
	int64_t v;
	int rc = ms_parse_i64(s, min, max, &v);

	if (rc == MS_OK)
		*out = (int)v;
	return rc;
}

int ms_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == ' ' || *s == '\t' || *s == '\n')
		return MS_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || isnan(v))
		return MS_EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return MS_ELIMIT;
	*out = v;
	return MS_OK;
}

double ms_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int64_t ms_unix_time(void)
{
	return (int64_t)time(NULL);
}

double ms_rect_iou(struct ms_rect a, struct ms_rect b)
{
	long ix0 = MS_MAX(a.x, b.x), iy0 = MS_MAX(a.y, b.y);
	long ix1 = MS_MIN((long)a.x + a.w, (long)b.x + b.w);
	long iy1 = MS_MIN((long)a.y + a.h, (long)b.y + b.h);
	double inter, uni;

	if (a.w <= 0 || a.h <= 0 || b.w <= 0 || b.h <= 0 || ix1 <= ix0 ||
	    iy1 <= iy0)
		return 0.0;
	inter = (double)(ix1 - ix0) * (double)(iy1 - iy0);
	uni = (double)a.w * a.h + (double)b.w * b.h - inter;
	return inter / uni;
}

size_t ms_utf8_len(const unsigned char *s, size_t left)
{
	size_t n = s[0] < 0x80			  ? 1
		   : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
		   : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
		   : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
						  : 0;

	if (n == 0 || n > left)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return n;
}
