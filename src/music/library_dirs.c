/* library_dirs.c - where the library looks by default (the XDG music
 * folder and the demo library), the parser of user-dirs.dirs, and the
 * (device, inode) set the folder walk uses against loops.
 *
 * user-dirs.dirs (xdg-user-dirs): text lines, '#' comments, and lines
 *   XDG_MUSIC_DIR="$HOME/Music"     or     XDG_MUSIC_DIR="/abs/path"
 * The value is double-quoted; inside, a backslash escapes the next
 * character. "$HOME/" alone means the folder is disabled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "moodsync/library.h"
#include "music/library_internal.h"

#define USER_DIRS_MAX (64u << 10) /* bytes of user-dirs.dirs read */

/* The demo library: Debian's singularity-music and hyperrogue-music
 * (music only; hyperrogue's sound effects live elsewhere). */
static const char *const demo_dirs[] = {
	"/usr/share/games/singularity/music",
	"/usr/share/hyperrogue/music",
};

/* ---- user-dirs.dirs ------------------------------------------------------ */

/* Copies the quoted value at text[*i..len) (after the opening quote)
 * into val (unescaped); MS_EFORMAT when unterminated, MS_ELIMIT when it
 * does not fit. */
static int quoted_value(const char *text, size_t len, size_t i, char *val,
			size_t vlen)
{
	size_t k = 0;

	for (; i < len && text[i] != '"' && text[i] != '\n'; i++) {
		if (text[i] == '\\' && i + 1 < len && text[i + 1] != '\n')
			i++;
		if (text[i] == '\0')
			return MS_EFORMAT;
		if (k + 1 >= vlen)
			return MS_ELIMIT;
		val[k++] = text[i];
	}
	if (i >= len || text[i] != '"')
		return MS_EFORMAT;
	val[k] = '\0';
	return MS_OK;
}

int music_user_dirs_parse(const char *text, size_t len, const char *home,
			  char *out, size_t outlen)
{
	static const char key[] = "XDG_MUSIC_DIR=";
	char val[4096];
	size_t i = 0;
	int rc = MS_ENOTFOUND, n;

	while (i < len) {
		size_t eol = i;

		while (eol < len && text[eol] != '\n')
			eol++;
		while (i < eol && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (eol - i > sizeof(key) &&
		    memcmp(text + i, key, sizeof(key) - 1) == 0) {
			i += sizeof(key) - 1;
			if (text[i] != '"')
				return MS_EFORMAT;
			rc = quoted_value(text, eol, i + 1, val, sizeof(val));
			if (rc)
				return rc;
			break; /* the first definition wins */
		}
		i = eol + 1;
	}
	if (rc)
		return rc;
	if (strncmp(val, "$HOME", 5) == 0 && (val[5] == '/' || !val[5])) {
		if (!home || home[0] != '/')
			return MS_EFORMAT;
		if (!val[5] || !val[6])
			return MS_ENOTFOUND; /* "$HOME/": disabled */
		n = snprintf(out, outlen, "%s%s", home, val + 5);
	} else if (val[0] == '/') {
		n = snprintf(out, outlen, "%s", val);
	} else {
		return MS_EFORMAT;
	}
	return n >= 0 && (size_t)n < outlen ? MS_OK : MS_ELIMIT;
}

static int is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The XDG music folder into out; 0 when there is none. */
static int xdg_music_dir(char *out, size_t outlen)
{
	const char *home = getenv("HOME");
	const char *cfg = getenv("XDG_CONFIG_HOME");
	char path[4096];
	uint8_t *text = NULL;
	size_t len = 0;
	int n, rc;

	if (!home || home[0] != '/')
		return 0;
	if (cfg && cfg[0] == '/')
		n = snprintf(path, sizeof(path), "%s/user-dirs.dirs", cfg);
	else
		n = snprintf(path, sizeof(path), "%s/.config/user-dirs.dirs",
			     home);
	rc = MS_ENOTFOUND;
	if (n > 0 && (size_t)n < sizeof(path) &&
	    ms_file_read(path, USER_DIRS_MAX, &text, &len, NULL, 0) == MS_OK)
		rc = music_user_dirs_parse((const char *)text, len, home, out,
					   outlen);
	free(text);
	if (rc == MS_OK)
		return is_dir(out);
	n = snprintf(out, outlen, "%s/Music", home);
	return n > 0 && (size_t)n < outlen && is_dir(out);
}

void music_default_dirs(char (*dirs)[4096], int max, int *n)
{
	int k = 0;

	if (k < max && xdg_music_dir(dirs[k], sizeof(dirs[k])))
		k++;
	for (size_t i = 0; i < MS_ARRAY_LEN(demo_dirs) && k < max; i++)
		if (is_dir(demo_dirs[i]))
			snprintf(dirs[k++], sizeof(dirs[0]), "%s",
				 demo_dirs[i]);
	*n = k;
}

/* ---- (device, inode) set ------------------------------------------------- */

int music_idset_init(struct music_idset *s, size_t cap)
{
	size_t c = 16;

	while (c < cap)
		c *= 2;
	s->keys = ms_calloc(c * 2, sizeof(*s->keys));
	s->cap = s->keys ? c : 0;
	s->n = 0;
	return s->keys ? MS_OK : MS_ENOMEM;
}

void music_idset_release(struct music_idset *s)
{
	free(s->keys);
	s->keys = NULL;
	s->cap = s->n = 0;
}

static size_t slot_of(uint64_t dev, uint64_t ino, size_t cap)
{
	uint64_t h =
		(dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full);

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Inserts without growing; 1 added, 0 present. */
static int insert(uint64_t *keys, size_t cap, uint64_t dev, uint64_t ino1)
{
	size_t i = slot_of(dev, ino1, cap);

	for (;; i = (i + 1) & (cap - 1)) {
		if (keys[2 * i + 1] == 0) {
			keys[2 * i] = dev;
			keys[2 * i + 1] = ino1;
			return 1;
		}
		if (keys[2 * i] == dev && keys[2 * i + 1] == ino1)
			return 0;
	}
}

int music_idset_add(struct music_idset *s, uint64_t dev, uint64_t ino)
{
	int added;

	if (!s->keys)
		return MS_ENOMEM;
	if ((s->n + 1) * 2 > s->cap) { /* keep the load under 1/2 */
		size_t cap = s->cap * 2;
		uint64_t *k = ms_calloc(cap * 2, sizeof(*k));

		if (!k)
			return MS_ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->keys[2 * i + 1])
				insert(k, cap, s->keys[2 * i],
				       s->keys[2 * i + 1]);
		free(s->keys);
		s->keys = k;
		s->cap = cap;
	}
	added = insert(s->keys, s->cap, dev, ino + 1);
	s->n += (size_t)added;
	return added;
}
