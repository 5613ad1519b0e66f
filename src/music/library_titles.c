/* library_titles.c - the titles the library shows: the title tag, or one
 * made from the file name when there is none or when other files in the
 * folder carry the same title, artist and album tags (game soundtracks
 * often tag every file alike). Each scan settles every row's title, so a
 * rescan also fixes a database written before this rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/library.h"
#include "moodsync/store.h"
#include "music/library_internal.h"

/* Rows read per settle; a library has at most a few scans' worth. */
#define SETTLE_ROWS_MAX (4 * MUSIC_SCAN_FILES)

/* The title made from a file name: the base name up to its last '.',
 * '_' and '-' as spaces, runs of spaces as one, none at either end
 * ("hr3-caves.ogg" -> "hr3 caves"); control characters and bytes that are
 * not UTF-8 as '?' (names are bytes, titles text). A name of separators
 * only keeps them ("--.ogg" -> "--"). */
void music_title_from_name(const char *path, char *out, size_t outlen)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(name, '.');
	size_t n = dot && dot > name ? (size_t)(dot - name) : strlen(name);
	size_t i = 0, k = 0;
	int space = 0; /* a space is owed before the next character */

	if (outlen == 0)
		return;
	while (i < n && k + 6 < outlen) {
		const unsigned char *s = (const unsigned char *)name + i;
		size_t len = ms_utf8_len(s, n - i);

		if (s[0] == ' ' || s[0] == '_' || s[0] == '-') {
			space = k > 0;
			i++;
			continue;
		}
		if (space)
			out[k++] = ' ';
		space = 0;
		if (len == 0 || s[0] < 0x20 || s[0] == 0x7f) {
			out[k++] = '?';
			i++;
			continue;
		}
		memcpy(out + k, s, len);
		k += len;
		i += len;
	}
	out[k] = '\0';
	if (k == 0 && n > 0) /* separators only: keep them */
		snprintf(out, outlen, "%.*s", (int)MS_MIN(n, outlen - 1), name);
}

/* ---- settling the titles of all rows --------------------------------- */

struct title_row {
	int64_t id;
	char *path, *tag, *artist, *album, *title; /* one heap block */
	size_t dirlen; /* bytes of path up to its last '/' */
};

struct title_rows {
	struct title_row *rows;
	size_t n, cap;
};

static int rows_add(const struct store_track *t, void *ctx)
{
	struct title_rows *r = ctx;
	struct title_row *row;
	size_t lp = strlen(t->path) + 1, lt = strlen(t->tag_title) + 1;
	size_t la = strlen(t->artist) + 1, lb = strlen(t->album) + 1;
	size_t lh = strlen(t->title) + 1;
	char *p;

	if (r->n >= SETTLE_ROWS_MAX)
		return MS_ELIMIT;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct title_row *q = realloc(r->rows, cap * sizeof(*q));

		if (!q)
			return MS_ENOMEM;
		r->rows = q;
		r->cap = cap;
	}
	p = malloc(lp + lt + la + lb + lh);
	if (!p)
		return MS_ENOMEM;
	row = &r->rows[r->n++];
	row->id = t->id;
	row->path = memcpy(p, t->path, lp);
	row->tag = memcpy(p += lp, t->tag_title, lt);
	row->artist = memcpy(p += lt, t->artist, la);
	row->album = memcpy(p += la, t->album, lb);
	row->title = memcpy(p + lb, t->title, lh);
	row->dirlen = (size_t)(strrchr(row->path, '/') - row->path);
	return MS_OK;
}

/* Orders rows by folder, then title tag, artist and album. */
static int row_cmp(const void *pa, const void *pb)
{
	const struct title_row *a = pa, *b = pb;
	size_t n = MS_MIN(a->dirlen, b->dirlen);
	int c = memcmp(a->path, b->path, n);

	if (!c && a->dirlen != b->dirlen)
		c = a->dirlen < b->dirlen ? -1 : 1;
	if (!c)
		c = strcmp(a->tag, b->tag);
	if (!c)
		c = strcmp(a->artist, b->artist);
	if (!c)
		c = strcmp(a->album, b->album);
	return c;
}

/* 1 when tag is the file's name less its extension: databases written
 * before tag_title existed hold such titles for files without tags. */
static int tag_is_name(const char *path, const char *tag)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(name, '.');
	size_t n = dot && dot > name ? (size_t)(dot - name) : strlen(name);

	return strlen(tag) == n && memcmp(name, tag, n) == 0;
}

static void rows_free(struct title_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rows[i].path);
	free(r->rows);
}

int music_titles_settle(struct store *s, long long *changed)
{
	struct title_rows r = {0};
	char want[STORE_TAG_MAX];
	long long nchanged = 0;
	int rc = store_track_each(s, 0, rows_add, &r);

	if (rc)
		goto out;
	if (r.n)
		qsort(r.rows, r.n, sizeof(*r.rows), row_cmp);
	for (size_t i = 0, end; i < r.n; i = end) {
		for (end = i + 1;
		     end < r.n && !row_cmp(&r.rows[i], &r.rows[end]);)
			end++;
		for (size_t k = i; k < end; k++) {
			struct title_row *row = &r.rows[k];

			if (row->tag[0] && end - i == 1 &&
			    !tag_is_name(row->path, row->tag))
				snprintf(want, sizeof(want), "%s", row->tag);
			else
				music_title_from_name(row->path, want,
						      sizeof(want));
			if (strcmp(want, row->title) == 0)
				continue;
			rc = store_track_set_title(s, row->id, want);
			if (rc == MS_ENOTFOUND) /* deleted meanwhile */
				rc = MS_OK;
			else if (rc)
				goto out;
			else
				nchanged++;
		}
	}
out:
	rows_free(&r);
	if (!rc && changed)
		*changed = nchanged;
	return rc;
}
