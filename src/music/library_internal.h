/* library_internal.h - helpers shared by the library's files in
 * src/music/: a set of (device, inode) pairs for the folder walk, and the
 * titles the library shows (library_titles.c). */
#ifndef MOODSYNC_MUSIC_LIBRARY_INTERNAL_H
#define MOODSYNC_MUSIC_LIBRARY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Open-addressing hash set of (dev, ino); grows by doubling. */
struct music_idset {
	uint64_t *keys; /* 2 words per slot: dev, ino + 1 (0 = empty) */
	size_t cap;	/* slots, a power of two */
	size_t n;	/* pairs stored */
};

int music_idset_init(struct music_idset *s, size_t cap);
void music_idset_release(struct music_idset *s);
/* 1 when added, 0 when already present, MS_ENOMEM on failure. */
int music_idset_add(struct music_idset *s, uint64_t dev, uint64_t ino);

struct store;

/* Writes the title made from the file name of `path` into out (always
 * terminated when outlen > 0): the base name less its extension, '_' and
 * '-' as spaces, runs of spaces as one, bytes that are not UTF-8 or are
 * control characters as '?'. */
void music_title_from_name(const char *path, char *out, size_t outlen);

/* Sets every row's shown title: its title tag, or the title from its file
 * name when it has no tag or when other rows in the same folder have the
 * same title, artist and album tags. Writes the number of rows changed to
 * *changed (may be NULL). MS_OK, MS_ENOMEM, MS_ELIMIT or MS_EDB; not
 * thread-safe against another settle on the same store. */
int music_titles_settle(struct store *s, long long *changed);

#endif
