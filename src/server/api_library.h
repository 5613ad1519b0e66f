/* api_library.h - the music library's routes (api_library.c: library
 * status and scans, the queue, feedback, points; api_audio.c: the audio
 * bytes) and the "library" module that owns the player. Wired into
 * srv_routes[] and srv_modules[] by routes.c; each handler follows the
 * srv_handler contract of server/http.h. */
#ifndef MOODSYNC_SERVER_API_LIBRARY_H
#define MOODSYNC_SERVER_API_LIBRARY_H

#include "server/http.h"

#define LIBRARY_MAX_BODY 1024 /* bytes of a library request's JSON body */

int api_library(struct srv_req *req);	     /* GET /api/library */
int api_library_scan(struct srv_req *req);   /* POST /api/library/scan */
int api_queue(struct srv_req *req);	     /* GET /api/queue */
int api_queue_next(struct srv_req *req);     /* POST /api/queue/next */
int api_track_feedback(struct srv_req *req); /* POST .../{id}/feedback */
int api_track_point(struct srv_req *req);    /* POST .../{id}/point */
int api_track_audio(struct srv_req *req);    /* GET/HEAD .../{id}/audio */

/* Creates the player over the app's store with the configured (or the
 * default) folders and starts a background scan. */
int library_module_start(struct srv_app *app, char *err, size_t errlen);
/* Stops a running scan and frees the player. */
void library_module_stop(struct srv_app *app);

#endif
