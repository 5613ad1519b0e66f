/* api_audio.c - GET/HEAD /api/tracks/{id}/audio: a library track's bytes
 * for the page's audio element. The file is found by the track's id in
 * the store, never by a path from the request. One byte range per request
 * (206 with Content-Range; 416 with "bytes * /size" when past the end),
 * ETag and Last-Modified from the file's size and mtime (304 on a
 * matching If-None-Match; If-Range falls back to the whole file when the
 * validator differs), and the bytes go from the file descriptor to the
 * socket without being read into memory. With ?as=wav the same for the
 * track decoded to 16-bit PCM WAV as it is sent: the page's fallback for
 * a file its browser cannot decode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "moodsync/audio.h"
#include "moodsync/library.h"
#include "moodsync/store.h"
#include "server/api_library.h"
#include "server/app.h"
#include "server/range.h"

/* Audio changes only when a rescan sees a new file: revalidate with the
 * ETag each time rather than trusting a cached copy. */
#define AUDIO_CACHE_CONTROL "private, no-cache"

struct audio_file {
	int fd;
	uint64_t size;
	char etag[64];
	char last_modified[40];
	char mime[32];
};

/* Opens the file of track `id`: MS_ENOTFOUND when there is no such
 * (playable) track or its file is gone. */
static int audio_open(struct srv_req *req, int64_t id, struct audio_file *f)
{
	struct store_track *t = malloc(sizeof(*t));
	struct stat st;
	struct tm tm;
	int rc;

	if (!t)
		return MS_ENOMEM;
	f->fd = -1;
	rc = store_track_get(srv_app_store(srv_req_app(req)), id, t);
	if (!rc && t->error[0])
		rc = MS_ENOTFOUND; /* a file the scan could not analyse */
	if (!rc) {
		f->fd = open(t->path, O_RDONLY | O_CLOEXEC);
		if (f->fd < 0 || fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode))
			rc = MS_ENOTFOUND;
	}
	if (!rc) {
		f->size = (uint64_t)st.st_size;
		snprintf(f->etag, sizeof(f->etag), "\"%llx-%llx\"",
			 (unsigned long long)st.st_size,
			 (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
				 (unsigned long long)st.st_mtim.tv_nsec);
		gmtime_r(&st.st_mtim.tv_sec, &tm);
		strftime(f->last_modified, sizeof(f->last_modified),
			 "%a, %d %b %Y %H:%M:%S GMT", &tm);
		snprintf(f->mime, sizeof(f->mime), "%s",
			 t->mime[0] ? t->mime : "application/octet-stream");
	} else if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	free(t);
	return rc;
}

/* 1 when an If-None-Match list names our ETag (or is "*"). */
static int etag_listed(const char *list, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = list;

	if (!list)
		return 0;
	if (strcmp(list, "*") == 0)
		return 1;
	while ((p = strstr(p, etag)) != NULL) {
		if (p[n] == '\0' || p[n] == ',' || p[n] == ' ')
			return 1;
		p += n;
	}
	return 0;
}

static void common_headers(struct srv_req *req, const struct audio_file *f)
{
	srv_req_header_add(req, "Accept-Ranges", "bytes");
	srv_req_header_add(req, "ETag", f->etag);
	srv_req_header_add(req, "Last-Modified", f->last_modified);
	srv_req_header_add(req, "Cache-Control", AUDIO_CACHE_CONTROL);
}

/* ?as=wav: the track decoded to 16-bit PCM WAV while it is sent
 * (aud_wav), for a browser that cannot decode the file itself. The
 * validators are the file's, marked as another representation. */
static long wav_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	return aud_wav_read(cls, pos, buf, max);
}

static void wav_done(void *cls)
{
	aud_wav_close(cls);
}

/* Longest track served as WAV: a range behind the decoder costs a decode
 * from the start (~500x real time), on an HTTP worker. */
#define WAV_MAX_S 3600.0

/* Turns the opened file into its WAV image: f->fd is taken, size, ETag and
 * type become the WAV's. */
static int as_wav(struct audio_file *f, struct aud_wav **w)
{
	size_t n = strlen(f->etag);
	struct aud_limits lim;
	int rc;

	aud_limits_default(&lim);
	lim.max_duration_s = WAV_MAX_S;
	rc = aud_wav_open(f->fd, &lim, w);

	f->fd = -1;
	if (rc)
		return rc;
	f->size = aud_wav_size(*w);
	if (n >= 2 && n + 4 < sizeof(f->etag))
		memcpy(f->etag + n - 1, "-wav\"", 6);
	snprintf(f->mime, sizeof(f->mime), "audio/wav");
	return MS_OK;
}

/* The body: `len` bytes from `start` of the file or of its WAV image. */
static int reply_body(struct srv_req *req, int status, struct audio_file *f,
		      struct aud_wav *w, uint64_t start, uint64_t len)
{
	if (!w)
		return srv_reply_fd(req, status, f->mime, f->fd, start, len);
	return srv_reply_stream(req, status, f->mime, start, len, wav_read,
				wav_done, w);
}

static void release(struct audio_file *f, struct aud_wav *w)
{
	if (f->fd >= 0)
		close(f->fd);
	aud_wav_close(w);
}

int api_track_audio(struct srv_req *req)
{
	const char *path = srv_req_path(req) + strlen("/api/tracks/");
	const char *if_range = srv_req_header(req, "If-Range");
	const char *as = srv_req_query(req, "as");
	struct aud_wav *w = NULL;
	struct audio_file f;
	uint64_t start = 0, len = 0;
	enum srv_range r;
	char cr[80];
	int64_t id = 0;
	int rc;

	if (ms_parse_i64_n(path, strcspn(path, "/"), 1, INT64_MAX, &id))
		return srv_req_fail(req, MS_ENOTFOUND, "no such track");
	if (as && strcmp(as, "wav") != 0)
		return srv_req_fail(req, MS_EINVAL,
				    "as: only \"wav\" (the track decoded "
				    "to PCM) or nothing (the file)");
	rc = audio_open(req, id, &f);
	if (rc == MS_ENOTFOUND)
		return srv_req_fail(req, rc, "no such track");
	if (!rc && as)
		rc = as_wav(&f, &w);
	if (rc == MS_EFORMAT || rc == MS_ELIMIT)
		return srv_req_fail(req, MS_EUNSUPPORTED,
				    rc == MS_ELIMIT
					    ? "this track is too long to be "
					      "sent as WAV (an hour at most)"
					    : "this track cannot be decoded "
					      "to WAV");
	if (rc)
		return rc;
	common_headers(req, &f);
	if (etag_listed(srv_req_header(req, "If-None-Match"), f.etag)) {
		release(&f, w);
		return srv_reply_bytes(req, SRV_HTTP_NOT_MODIFIED, NULL, "", 0);
	}
	r = srv_range_parse(srv_req_header(req, "Range"), f.size, &start, &len);
	if (r != SRV_RANGE_NONE && if_range && strcmp(if_range, f.etag) != 0 &&
	    strcmp(if_range, f.last_modified) != 0)
		r = SRV_RANGE_NONE; /* the client's copy is stale: all of it */
	if (r == SRV_RANGE_UNSATISFIABLE) {
		const char *what = w ? "WAV" : "file";

		release(&f, w);
		snprintf(cr, sizeof(cr), "bytes */%llu",
			 (unsigned long long)f.size);
		srv_req_header_add(req, "Content-Range", cr);
		return srv_reply_err(req, SRV_ERANGE, NULL, 0,
				     "range not satisfiable (the %s has "
				     "%llu bytes)",
				     what, (unsigned long long)f.size);
	}
	if (r == SRV_RANGE_OK) {
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
			 (unsigned long long)start,
			 (unsigned long long)(start + len - 1),
			 (unsigned long long)f.size);
		srv_req_header_add(req, "Content-Range", cr);
		return reply_body(req, SRV_HTTP_PARTIAL, &f, w, start, len);
	}
	return reply_body(req, SRV_HTTP_OK, &f, w, 0, f.size);
}
