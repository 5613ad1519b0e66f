/* api_history.c - the session's mood history, which the listener owns:
 * GET /api/history (the page's chart, or an export with ?format=json|csv)
 * and DELETE /api/history (empties it). Each row is the stable mood at
 * that moment with its smoothed probability and its point on the
 * valence/arousal plane (the mood's anchor, music_mood_anchor) and the
 * feeling of the fused mood at that moment (face and words). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/api.h"
#include "server/app.h"

#define HISTORY_DEFAULT 600 /* rows for the page */
#define HISTORY_MAX 3600
#define EXPORT_DEFAULT 20000 /* rows in an export */
#define EXPORT_MAX 20000
#define REPLY_MAX (4u << 20) /* bytes of one reply */

enum history_format { FMT_PAGE, FMT_JSON, FMT_CSV };

static struct music_va row_point(const struct store_mood_row *r)
{
	int m = -1;

	if (music_mood_parse(r->mood, &m))
		m = MUSIC_NEUTRAL;
	return music_mood_anchor[m];
}

static void history_json(struct ms_json *j, const struct store_mood_row *rows,
			 int n)
{
	ms_json_obj_open(j, NULL);
	ms_json_arr_open(j, "points");
	for (int i = 0; i < n; i++) {
		struct music_va p = row_point(&rows[i]);

		ms_json_obj_open(j, NULL);
		ms_json_int(j, "t", rows[i].t);
		ms_json_str(j, "mood", rows[i].mood);
		ms_json_num(j, "confidence", rows[i].confidence, 3);
		ms_json_num(j, "valence", p.valence, 2);
		ms_json_num(j, "arousal", p.arousal, 2);
		ms_json_str(j, "feeling",
			    rows[i].feeling[0] ? rows[i].feeling : "neutral");
		ms_json_obj_close(j);
	}
	ms_json_arr_close(j);
	ms_json_obj_close(j);
}

static int history_csv(struct ms_buf *b, const struct store_mood_row *rows,
		       int n)
{
	int rc = ms_buf_puts(b, "time_utc,unix_ms,mood,confidence,valence,"
				"arousal,feeling\r\n");

	for (int i = 0; !rc && i < n; i++) {
		struct music_va p = row_point(&rows[i]);
		time_t sec = (time_t)(rows[i].t / 1000);
		struct tm tm;
		char when[32] = "";

		if (gmtime_r(&sec, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/* mood names are fixed words: no quoting needed */
		rc = ms_buf_printf(
			b, "%s,%lld,%s,%.3f,%.2f,%.2f,%s\r\n", when,
			(long long)rows[i].t, rows[i].mood,
			(double)rows[i].confidence, p.valence, p.arousal,
			rows[i].feeling[0] ? rows[i].feeling : "neutral");
	}
	return rc;
}

static int parse_query(struct srv_req *req, int64_t *since, int *limit,
		       enum history_format *fmt)
{
	const char *qs = srv_req_query(req, "since");
	const char *ql = srv_req_query(req, "limit");
	const char *qf = srv_req_query(req, "format");
	int max = HISTORY_MAX;

	*fmt = FMT_PAGE;
	if (qf && strcmp(qf, "json") == 0)
		*fmt = FMT_JSON;
	else if (qf && strcmp(qf, "csv") == 0)
		*fmt = FMT_CSV;
	else if (qf)
		return srv_req_fail(req, MS_EINVAL,
				    "format must be json or csv");
	if (*fmt != FMT_PAGE)
		max = EXPORT_MAX;
	*limit = *fmt == FMT_PAGE ? HISTORY_DEFAULT : EXPORT_DEFAULT;
	*since = 0;
	if (qs && ms_parse_i64(qs, 0, INT64_MAX, since))
		return srv_req_fail(req, MS_EINVAL,
				    "since must be unix milliseconds");
	if (ql && ms_parse_int(ql, 1, max, limit))
		return srv_req_fail(req, MS_EINVAL, "limit must be 1..%d", max);
	return MS_OK;
}

int api_history(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	struct store_mood_row *rows;
	enum history_format fmt;
	struct ms_json j;
	struct ms_buf b;
	int64_t since;
	int limit, n = 0, rc;

	rc = parse_query(req, &since, &limit, &fmt);
	if (rc)
		return rc;
	rows = ms_calloc((size_t)limit, sizeof(*rows));
	if (!rows)
		return MS_ENOMEM;
	srv_bg_flush(app->bg);
	rc = store_history_list(app->store, srv_req_session_id(req), since,
				rows, limit, &n);
	if (rc) {
		free(rows);
		return srv_req_fail(req, rc, "history unavailable");
	}
	if (fmt != FMT_PAGE)
		rc = srv_req_header_add(
			req, "Content-Disposition",
			fmt == FMT_CSV ? "attachment; "
					 "filename=\"moodsync-history.csv\""
				       : "attachment; "
					 "filename=\"moodsync-history.json\"");
	ms_buf_init(&b, REPLY_MAX);
	if (!rc && fmt == FMT_CSV) {
		rc = history_csv(&b, rows, n);
		if (!rc)
			rc = srv_reply_bytes(req, SRV_HTTP_OK,
					     "text/csv; charset=utf-8",
					     b.data ? b.data : "", b.len);
		ms_buf_release(&b);
	} else if (!rc) {
		ms_json_init(&j, &b);
		history_json(&j, rows, n);
		rc = srv_reply_doc(req, SRV_HTTP_OK, &j);
	}
	free(rows);
	return rc;
}

int api_history_delete(struct srv_req *req)
{
	struct srv_app *app = srv_req_app(req);
	int64_t deleted = 0;
	struct ms_json j;
	struct ms_buf b;
	int rc;

	srv_bg_flush(app->bg); /* rows still queued go too */
	rc = store_history_delete(app->store, srv_req_session_id(req),
				  &deleted);
	if (rc)
		return srv_req_fail(req, rc, "history could not be deleted");
	ms_buf_init(&b, 256);
	ms_json_init(&j, &b);
	ms_json_obj_open(&j, NULL);
	ms_json_bool(&j, "ok", 1);
	ms_json_int(&j, "deleted", deleted);
	ms_json_obj_close(&j);
	return srv_reply_doc(req, SRV_HTTP_OK, &j);
}
