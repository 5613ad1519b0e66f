/* library_internal.h - helpers shared by the library's files in
 * src/music/: a set of (device, inode) pairs for the folder walk. */
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

#endif
