/* buf.c - bounded growable byte buffer (see struct ms_buf) and whole-file
 * reading. Every append checks the hard limit before touching memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/common.h"

void ms_buf_init(struct ms_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void ms_buf_release(struct ms_buf *b)
{
	free(b->data);
	ms_buf_init(b, b->max);
}

void ms_buf_reset(struct ms_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Makes room for `n` more bytes plus the terminator. */
static int buf_reserve(struct ms_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (ms_size_add(b->len, n, &need) || need > b->max)
		return MS_ELIMIT;
	if (need < b->cap)
		return MS_OK;
	cap = b->cap ? b->cap : 64;
	while (cap <= need)
		cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return MS_ENOMEM;
	b->data = p;
	b->cap = cap;
	return MS_OK;
}

int ms_buf_append(struct ms_buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return MS_OK;
}

int ms_buf_puts(struct ms_buf *b, const char *s)
{
	return ms_buf_append(b, s, strlen(s));
}

int ms_buf_printf(struct ms_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MS_EINVAL;
	rc = buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return MS_OK;
}

int ms_buf_json_str(struct ms_buf *b, const char *s)
{
	size_t start = b->len;
	int rc = ms_buf_append(b, "\"", 1);

	for (; !rc && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			rc = ms_buf_append(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			rc = ms_buf_append(b, esc, 6);
		} else {
			rc = ms_buf_append(b, s, 1);
		}
	}
	if (!rc)
		rc = ms_buf_append(b, "\"", 1);
	if (rc) { /* leave no half-written string behind */
		b->len = start;
		if (b->data)
			b->data[start] = '\0';
	}
	return rc;
}

char *ms_buf_steal(struct ms_buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	ms_buf_init(b, b->max);
	return p;
}

int ms_file_read(const char *path, size_t max, uint8_t **data, size_t *len,
		 char *err, size_t errlen)
{
	struct ms_buf b;
	char chunk[65536];
	size_t n;
	int rc = MS_OK;
	FILE *f = fopen(path, "rb");

	if (!f)
		return ms_errf(err, errlen,
			       errno == ENOENT ? MS_ENOTFOUND : MS_EIO,
			       "%s: %s", path, strerror(errno));
	ms_buf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = ms_buf_append(&b, chunk, n);
		if (rc == MS_ELIMIT) {
			rc = ms_errf(err, errlen, rc,
				     "%s: file larger than %zu bytes", path,
				     max);
			goto out_free;
		}
		if (rc) {
			rc = ms_errf(err, errlen, rc, "%s: out of memory",
				     path);
			goto out_free;
		}
	}
	if (ferror(f)) {
		rc = ms_errf(err, errlen, MS_EIO, "%s: read error", path);
		goto out_free;
	}
	*data = (uint8_t *)ms_buf_steal(&b, len);
	if (!*data)
		rc = ms_errf(err, errlen, MS_ENOMEM, "%s: out of memory", path);
	goto out_close;
out_free:
	ms_buf_release(&b);
out_close:
	fclose(f);
	return rc;
}
