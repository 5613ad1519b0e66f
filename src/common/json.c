/* json.c - the JSON writer (see moodsync/common.h): appends to an ms_buf,
 * puts the commas and `"key":` prefixes itself, and keeps the first error
 * so that callers write a whole document and check once at the end, in
 * the way SQLite's sqlite3_str does. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "moodsync/common.h"

void ms_json_init(struct ms_json *j, struct ms_buf *out)
{
	memset(j, 0, sizeof(*j));
	j->b = out;
}

static void put(struct ms_json *j, int rc)
{
	if (rc && !j->err)
		j->err = rc;
}

/* The separator and key before a value at the current level. */
static void value_prefix(struct ms_json *j, const char *key)
{
	if (j->err)
		return;
	if (j->has_member[j->depth])
		put(j, ms_buf_puts(j->b, ","));
	j->has_member[j->depth] = 1;
	if (key && !j->err) {
		put(j, ms_buf_json_str(j->b, key));
		if (!j->err)
			put(j, ms_buf_puts(j->b, ":"));
	}
}

static void open_level(struct ms_json *j, const char *key, const char *tok)
{
	value_prefix(j, key);
	if (j->err)
		return;
	if (j->depth + 1 >= MS_JSON_MAX_DEPTH) {
		put(j, MS_ELIMIT);
		return;
	}
	put(j, ms_buf_puts(j->b, tok));
	j->depth++;
	j->has_member[j->depth] = 0;
}

static void close_level(struct ms_json *j, const char *tok)
{
	if (j->err)
		return;
	if (j->depth == 0) {
		put(j, MS_EINVAL); /* more closes than opens */
		return;
	}
	j->depth--;
	put(j, ms_buf_puts(j->b, tok));
}

void ms_json_obj_open(struct ms_json *j, const char *key)
{
	open_level(j, key, "{");
}

void ms_json_obj_close(struct ms_json *j)
{
	close_level(j, "}");
}

void ms_json_arr_open(struct ms_json *j, const char *key)
{
	open_level(j, key, "[");
}

void ms_json_arr_close(struct ms_json *j)
{
	close_level(j, "]");
}

void ms_json_str(struct ms_json *j, const char *key, const char *v)
{
	value_prefix(j, key);
	if (!j->err)
		put(j,
		    v ? ms_buf_json_str(j->b, v) : ms_buf_puts(j->b, "null"));
}

void ms_json_int(struct ms_json *j, const char *key, long long v)
{
	value_prefix(j, key);
	if (!j->err)
		put(j, ms_buf_printf(j->b, "%lld", v));
}

void ms_json_num(struct ms_json *j, const char *key, double v, int decimals)
{
	value_prefix(j, key);
	if (j->err)
		return;
	if (!isfinite(v))
		put(j, ms_buf_puts(j->b, "null"));
	else
		put(j, ms_buf_printf(j->b, "%.*f",
				     MS_MIN(MS_MAX(decimals, 0), 9), v));
}

void ms_json_bool(struct ms_json *j, const char *key, int v)
{
	value_prefix(j, key);
	if (!j->err)
		put(j, ms_buf_puts(j->b, v ? "true" : "false"));
}

void ms_json_null(struct ms_json *j, const char *key)
{
	value_prefix(j, key);
	if (!j->err)
		put(j, ms_buf_puts(j->b, "null"));
}

void ms_json_name(struct ms_json *j, const char *key, int idx,
		  const char *const *names, int n)
{
	ms_json_str(j, key, idx >= 0 && idx < n ? names[idx] : NULL);
}

int ms_json_finish(struct ms_json *j)
{
	if (!j->err && j->depth != 0)
		j->err = MS_EINVAL; /* an object or array left open */
	return j->err;
}
