/* log.c - leveled one-line logging to stderr. The level is a process-wide
 * setting made once at start-up; each line goes out in a single write so
 * lines from server threads never interleave. */
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

void ms_log(enum ms_log_level level, const char *fmt, ...)
{
	static const char tags[] = "DIWE";
	char line[1024];
	struct tm tm;
	time_t now;
	size_t n;
	va_list ap;

	if ((int)level < atomic_load(&log_level) || level >= MS_LOG_QUIET)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%c ", tags[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}
