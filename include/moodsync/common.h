/* common.h - the base every MoodSync component stands on: error codes,
 * bounded byte buffers, logging, safe number parsing and overflow-checked
 * size arithmetic. Depends on nothing but libc; everything depends on it. */
#ifndef MOODSYNC_COMMON_H
#define MOODSYNC_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Errors ----------------------------------------------------------
 * Functions that can fail return one of these. MS_OK is zero, failures
 * are negative. Detail for humans goes into a caller-owned `err` buffer
 * (see ms_errf), never into a global. */
enum ms_err {
	MS_OK = 0,
	MS_ENOMEM = -1,	      /* allocation failed */
	MS_EINVAL = -2,	      /* bad argument or bad request */
	MS_EFORMAT = -3,      /* input is malformed (corrupt, truncated) */
	MS_EUNSUPPORTED = -4, /* well-formed but not something we handle */
	MS_ELIMIT = -5,	      /* input exceeds a hard cap */
	MS_EIO = -6,	      /* file or socket error */
	MS_ENOTFOUND = -7,    /* no such file, key, or route */
	MS_EUPSTREAM = -8,    /* a remote service failed */
	MS_EDB = -9,	      /* SQLite failed */
	MS_EBUSY = -10,	      /* overloaded or rate limited: try later */
	MS_EAUTH = -11,	      /* missing or rejected credentials */
	MS_ETIMEOUT = -12,    /* a deadline passed */
};

/* A static, human-readable name for an error code ("out of memory"). */
const char *ms_strerror(int err);

/* Size of the detail buffers callers hand to fallible functions. */
#define MS_ERRLEN 256

/* Writes a formatted one-line reason into `err` (may be NULL; `errlen`
 * bytes, always terminated) and returns `code`, so a failure site reads
 * `return ms_errf(err, errlen, MS_EFORMAT, "bad magic");`. */
int ms_errf(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Programmer-error check that stays on in release builds (redis style). */
#define ms_assert(e) ((e) ? (void)0 : ms_assert_fail(#e, __FILE__, __LINE__))
_Noreturn void ms_assert_fail(const char *expr, const char *file, int line);

#define MS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MS_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- Overflow-checked size arithmetic --------------------------------
 * Each returns 0 and writes *out on success, or MS_ELIMIT on overflow. */
int ms_size_add(size_t a, size_t b, size_t *out);
int ms_size_mul(size_t a, size_t b, size_t *out);
int ms_size_mul3(size_t a, size_t b, size_t c, size_t *out);

/* calloc/malloc of n*size bytes with the multiplication checked. NULL on
 * overflow or failure. Free with free(). */
void *ms_calloc(size_t n, size_t size);
void *ms_mallocarray(size_t n, size_t size);

/* ---- Bounded growable byte buffer ------------------------------------
 * Like curl's dynbuf: it grows on demand but never past `max` bytes, so a
 * hostile peer cannot make it eat memory. The content is always
 * NUL-terminated (the terminator is not counted in `len`). */
struct ms_buf {
	char *data; /* NULL until the first append */
	size_t len; /* bytes used, excluding the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* hard limit on len */
};

void ms_buf_init(struct ms_buf *b, size_t max);
void ms_buf_release(struct ms_buf *b); /* frees data, back to empty */
void ms_buf_reset(struct ms_buf *b);   /* len = 0, keeps memory */
/* Append bytes. MS_ELIMIT if len would pass max, MS_ENOMEM on failure;
 * the buffer is unchanged on error. */
int ms_buf_append(struct ms_buf *b, const void *p, size_t n);
int ms_buf_puts(struct ms_buf *b, const char *s);
int ms_buf_printf(struct ms_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends `s` as a JSON string literal, quotes included. */
int ms_buf_json_str(struct ms_buf *b, const char *s);
/* Hands the data to the caller (who frees it) and empties the buffer. */
char *ms_buf_steal(struct ms_buf *b, size_t *len);

/* ---- JSON writer -------------------------------------------------------
 * Writes a JSON document into an ms_buf with a sticky error, like SQLite's
 * sqlite3_str: appends return nothing, the first failure (MS_ELIMIT when
 * the buffer's max is reached, MS_ENOMEM) sticks and makes every later
 * append a no-op, and the caller checks once with ms_json_finish(). Commas
 * are placed automatically. `key` names the member inside an object and
 * must be NULL inside an array or for the top-level value. Strings are
 * escaped; a NULL string is written as null. Not thread-safe (one writer
 * per buffer); the buffer is borrowed for the writer's life.
 *
 *	struct ms_json j;
 *	ms_json_init(&j, &buf);
 *	ms_json_obj_open(&j, NULL);
 *	ms_json_str(&j, "mood", "happy");
 *	ms_json_num(&j, "confidence", 0.91, 4);
 *	ms_json_obj_close(&j);
 *	rc = ms_json_finish(&j);   // MS_OK, or the first error
 */
#define MS_JSON_MAX_DEPTH 16

struct ms_json {
	struct ms_buf *b; /* borrowed output */
	int err;	  /* first error, MS_OK until one */
	int depth;	  /* open objects/arrays */
	unsigned char
		has_member[MS_JSON_MAX_DEPTH]; /* per level: 1 after a value */
};

void ms_json_init(struct ms_json *j, struct ms_buf *out);
/* `{` / `[`; MS_ELIMIT past MS_JSON_MAX_DEPTH levels. */
void ms_json_obj_open(struct ms_json *j, const char *key);
void ms_json_obj_close(struct ms_json *j);
void ms_json_arr_open(struct ms_json *j, const char *key);
void ms_json_arr_close(struct ms_json *j);
void ms_json_str(struct ms_json *j, const char *key, const char *v);
void ms_json_int(struct ms_json *j, const char *key, long long v);
/* `v` with `decimals` (0..9) digits after the point; null when not finite. */
void ms_json_num(struct ms_json *j, const char *key, double v, int decimals);
void ms_json_bool(struct ms_json *j, const char *key, int v);
void ms_json_null(struct ms_json *j, const char *key);
/* names[idx] as a string, or null when idx is outside 0..n-1. */
void ms_json_name(struct ms_json *j, const char *key, int idx,
		  const char *const *names, int n);
/* The first error, MS_EINVAL when an object or array is still open
 * (or was closed twice), else MS_OK. */
int ms_json_finish(struct ms_json *j);

/* Reads a whole file into a new heap buffer (NUL-terminated, `*len`
 * excludes the NUL). MS_ELIMIT if it is larger than `max` bytes. */
int ms_file_read(const char *path, size_t max, uint8_t **data, size_t *len,
		 char *err, size_t errlen);

/* ---- Logging ---------------------------------------------------------
 * One line per call on stderr: "2026-11-25T10:00:00Z W detector: ...".
 * Thread-safe (each line is a single write). */
enum ms_log_level {
	MS_LOG_DEBUG,
	MS_LOG_INFO,
	MS_LOG_WARN,
	MS_LOG_ERROR,
	MS_LOG_QUIET, /* nothing */
};

void ms_log_set_level(enum ms_log_level level);
enum ms_log_level ms_log_get_level(void);
/* Parses "debug|info|warn|error|quiet". MS_EINVAL otherwise. */
int ms_log_level_parse(const char *s, enum ms_log_level *out);
void ms_log(enum ms_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define ms_debug(...) ms_log(MS_LOG_DEBUG, __VA_ARGS__)
#define ms_info(...) ms_log(MS_LOG_INFO, __VA_ARGS__)
#define ms_warn(...) ms_log(MS_LOG_WARN, __VA_ARGS__)
#define ms_error(...) ms_log(MS_LOG_ERROR, __VA_ARGS__)

/* For lines that can repeat without bound (one per refused connection):
 * like ms_log, but at most MS_LOG_BURST lines per `key` in any window of
 * MS_LOG_WINDOW_MS; the rest are counted, and the next line that goes out
 * for that key ends with "(suppressed N similar lines)". Keys are short
 * strings (47 bytes kept); 32 keys are tracked at once. Thread-safe. */
#define MS_LOG_BURST 5
#define MS_LOG_WINDOW_MS 10000.0
void ms_log_limited(enum ms_log_level level, const char *key, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* The decision behind ms_log_limited at time `now_ms` (monotonic): 1 when
 * a line for `key` may go out, and *suppressed gets the count held back
 * since the last one that did (then reset); 0 when it is held back. */
int ms_log_limit_check(const char *key, double now_ms, long *suppressed);

/* ---- Safe number parsing ---------------------------------------------
 * The whole string must be a number in [min, max]; no trailing garbage,
 * no empty string. MS_EINVAL or MS_ELIMIT otherwise, *out untouched. */
int ms_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int ms_parse_int(const char *s, int min, int max, int *out);
int ms_parse_double(const char *s, double min, double max, double *out);
/* Parses `n` bytes (need not be NUL-terminated), same rules. */
int ms_parse_i64_n(const char *s, size_t n, int64_t min, int64_t max,
		   int64_t *out);

/* Length of the valid UTF-8 sequence at s (at most `left` >= 1 bytes), 0
 * if it is not one: no overlongs, surrogates or code points past
 * U+10FFFF. */
size_t ms_utf8_len(const unsigned char *s, size_t left);

/* ---- Time ------------------------------------------------------------- */
double ms_now_ms(void);	    /* monotonic clock, milliseconds */
int64_t ms_unix_time(void); /* wall clock, seconds since the epoch */

/* ---- Plain values shared by components ------------------------------- */
struct ms_rect {
	int x, y, w, h; /* pixels, top-left origin */
};

/* Intersection over union of two boxes, 0 when either is empty. */
double ms_rect_iou(struct ms_rect a, struct ms_rect b);

#endif
