/* store_internal.h - private to src/store: what the query files
 * (store.c, library.c, spotify_store.c) share: the connection's lock for
 * multi-statement work, preparing a one-off statement, mapping a write's
 * step result, copying a text column, and checking hex ids. */
#ifndef MOODSYNC_STORE_STORE_INTERNAL_H
#define MOODSYNC_STORE_STORE_INTERNAL_H

#include <stddef.h>

struct store;
struct sqlite3_stmt;

/* The store's recursive lock (store.c), for multi-statement reads and for
 * reading the connection's change count after a write. */
void store_lock(struct store *s);
void store_unlock(struct store *s);

/* Prepares sql on the store's connection; NULL (the reason logged with
 * `who`) on failure. The caller finalizes it. */
struct sqlite3_stmt *store_prep(struct store *s, const char *who,
				const char *sql);
/* A write's sqlite3_step() result -> MS_OK, MS_EINVAL (a constraint: bad
 * input) or MS_EDB. */
int store_write_rc(int src);
/* Copies text column `col` into out (outlen > 0 bytes), cut to fit; a
 * NULL column is "". */
void store_col_copy(struct sqlite3_stmt *st, int col, char *out, size_t outlen);
/* 1 when id is min..max lowercase hex digits (NULL: 0). */
int store_hex_valid(const char *id, size_t min, size_t max);

#endif
