/* api.h - the core JSON API handlers (src/server/api.c, api_settings.c),
 * wired into srv_routes[] by routes.c; static files are served by http.c
 * for any GET no route matches. Each follows the srv_handler contract of
 * server/http.h. */
#ifndef MOODSYNC_SERVER_API_H
#define MOODSYNC_SERVER_API_H

#include "server/http.h"

/* Largest accepted POST /api/frame body, bytes. */
#define SRV_MAX_FRAME_BODY (8u << 20)
/* Largest accepted JSON body (settings), bytes. */
#define SRV_MAX_JSON_BODY 4096

/* 1 when Content-Type `ct` is `want` (case-insensitive, parameters
 * allowed). */
int api_content_type_is(const char *ct, const char *want);

int api_frame(struct srv_req *req); /* POST /api/frame */
/* Content-Type (415) and rate limit (429) before the body is read. */
int api_frame_precheck(struct srv_req *req);
int api_mood(struct srv_req *req);	     /* GET /api/mood */
int api_history(struct srv_req *req);	     /* GET /api/history */
int api_history_delete(struct srv_req *req); /* DELETE /api/history */
/* POST /api/mood/override {"mood": NAME}; DELETE clears it. Both reply
 * with the mood object of GET /api/mood. */
int api_mood_override_post(struct srv_req *req);
int api_mood_override_delete(struct srv_req *req);
/* POST /api/mood/calibrate {"seconds": S} or {"frames": N}: the faces of
 * the next S seconds (default 3) or N frames are the session's resting
 * face; DELETE forgets it (api_calib.c). Both reply with the mood object
 * of GET /api/mood. */
int api_mood_calibrate_post(struct srv_req *req);
int api_mood_calibrate_delete(struct srv_req *req);
int api_recommendation(struct srv_req *req); /* GET /api/recommendation */
int api_settings_get(struct srv_req *req);   /* GET /api/settings */
int api_settings_post(struct srv_req *req);  /* POST /api/settings */
int api_healthz(struct srv_req *req);	     /* GET /healthz */
int api_text(struct srv_req *req);	     /* POST /api/text */

/* Largest accepted POST /api/text body, bytes (the model reads the first
 * TXT_MAX_INPUT bytes of the text; JSON escapes can take 6 per byte). */
#define SRV_MAX_TEXT_BODY (32u << 10)

/* The members of the request's session's GET /api/mood object, into an
 * object the caller opened. MS_ENOMEM when the session is gone. */
int api_mood_members(struct srv_req *req, struct ms_json *j);

/* Writes {"angry": p[0], ...} for the seven moods under `key` (4 decimals;
 * a value that is not finite as 0). */
void api_json_probs(struct ms_json *j, const char *key, const float *p);

#endif
