/* range.c - parsing one HTTP byte range (see range.h). Grammar accepted
 * (RFC 9110 14.1.1, a single range-spec; optional whitespace around it):
 *   "bytes" "=" ( first "-" [ last ] / "-" suffix )
 * where first, last and suffix are 1..19 digits. */
#include <string.h>
#include <strings.h>

#include "server/range.h"

#define VALUE_MAX 200

/* Reads 1..19 digits at *p into *out, advancing *p; 0 when none or too
 * many (no overflow: 19 digits fit in uint64_t). */
static int digits(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > 19)
			return 0;
		v = v * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	*out = v;
	return n > 0;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

enum srv_range srv_range_parse(const char *value, uint64_t size,
			       uint64_t *start, uint64_t *len)
{
	const char *p;
	uint64_t first = 0, last = 0;
	int has_first, has_last = 0;

	if (!value || strnlen(value, VALUE_MAX + 1) > VALUE_MAX)
		return SRV_RANGE_NONE;
	p = skip_ws(value);
	if (strncasecmp(p, "bytes", 5) != 0)
		return SRV_RANGE_NONE;
	p = skip_ws(p + 5);
	if (*p++ != '=')
		return SRV_RANGE_NONE;
	p = skip_ws(p);
	has_first = digits(&p, &first);
	if (*p++ != '-')
		return SRV_RANGE_NONE;
	has_last = digits(&p, &last);
	p = skip_ws(p);
	if (*p != '\0' || (!has_first && !has_last))
		return SRV_RANGE_NONE; /* several ranges, junk, or "-" */
	if (!has_first) {	       /* suffix: the last `last` bytes */
		if (last == 0 || size == 0)
			return SRV_RANGE_UNSATISFIABLE;
		*len = last < size ? last : size;
		*start = size - *len;
		return SRV_RANGE_OK;
	}
	if (has_last && last < first)
		return SRV_RANGE_NONE; /* invalid: ignored */
	if (first >= size)
		return SRV_RANGE_UNSATISFIABLE;
	if (!has_last || last >= size)
		last = size - 1;
	*start = first;
	*len = last - first + 1;
	return SRV_RANGE_OK;
}
