/* log.c - leveled one-line logging to stderr. The level is a process-wide
 * setting made once at start-up; each line goes out in a single write so
 * lines from server threads never interleave. Lines that can repeat
 * without bound go through a per-key rate limit (ms_log_limited). */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "moodsync/common.h"

static _Atomic int log_level = MS_LOG_INFO;

void ms_log_set_level(enum ms_log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum ms_log_level ms_log_get_level(void)
{
	return (enum ms_log_level)atomic_load(&log_level);
}

int ms_log_level_parse(const char *s, enum ms_log_level *out)
{
	static const char *const names[] = {"debug", "info", "warn", "error",
					    "quiet"};

	for (size_t i = 0; i < MS_ARRAY_LEN(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum ms_log_level)i;
			return MS_OK;
		}
	}
	return MS_EINVAL;
}

static void log_v(enum ms_log_level level, long suppressed, const char *fmt,
		  va_list ap) __attribute__((format(printf, 3, 0)));

static void log_v(enum ms_log_level level, long suppressed, const char *fmt,
		  va_list ap)
{
	static const char tags[] = "DIWE";
	char line[1024];
	struct tm tm;
	time_t now;
	size_t n;

	now = time(NULL);
	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%c ", tags[level]);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = strlen(line);
	if (suppressed > 0 && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n,
			 " (suppressed %ld similar lines)", suppressed);
	n = strlen(line);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

void ms_log(enum ms_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level < atomic_load(&log_level) || level >= MS_LOG_QUIET)
		return;
	va_start(ap, fmt);
	log_v(level, 0, fmt, ap);
	va_end(ap);
}

/* ---- rate-limited lines ------------------------------------------------ */

#define LIMIT_KEYS 32

struct limit_slot {
	char key[48];
	double window_ms; /* start of the current window, monotonic */
	int lines;	  /* lines out in the current window */
	long held;	  /* lines held back since the last one out */
};

static pthread_mutex_t limit_lock = PTHREAD_MUTEX_INITIALIZER;
static struct limit_slot limit_slots[LIMIT_KEYS];

/* With limit_lock held: the slot of `key`, taking a free or the stalest
 * one for a new key. */
static struct limit_slot *limit_slot(const char *key, double now_ms)
{
	struct limit_slot *old = &limit_slots[0];

	for (int i = 0; i < LIMIT_KEYS; i++) {
		struct limit_slot *s = &limit_slots[i];

		if (s->key[0] && strncmp(s->key, key, sizeof(s->key) - 1) == 0)
			return s;
		if (!s->key[0] ||
		    (old->key[0] && s->window_ms < old->window_ms))
			old = s;
	}
	memset(old, 0, sizeof(*old));
	snprintf(old->key, sizeof(old->key), "%s", key);
	old->window_ms = now_ms;
	return old;
}

int ms_log_limit_check(const char *key, double now_ms, long *suppressed)
{
	struct limit_slot *s;
	int go = 0;

	pthread_mutex_lock(&limit_lock);
	s = limit_slot(key && key[0] ? key : "-", now_ms);
	if (now_ms - s->window_ms >= MS_LOG_WINDOW_MS) {
		s->window_ms = now_ms;
		s->lines = 0;
	}
	if (s->lines < MS_LOG_BURST) {
		s->lines++;
		*suppressed = s->held;
		s->held = 0;
		go = 1;
	} else {
		s->held++;
	}
	pthread_mutex_unlock(&limit_lock);
	return go;
}

void ms_log_limited(enum ms_log_level level, const char *key, const char *fmt,
		    ...)
{
	long held = 0;
	va_list ap;

	if ((int)level < atomic_load(&log_level) || level >= MS_LOG_QUIET)
		return;
	if (!ms_log_limit_check(key, ms_now_ms(), &held))
		return;
	va_start(ap, fmt);
	log_v(level, held, fmt, ap);
	va_end(ap);
}
