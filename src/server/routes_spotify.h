/* routes_spotify.h - the Spotify routes and module hooks, wired
 * into srv_routes[] / srv_modules[] by routes.c. Handlers follow the
 * srv_handler contract of server/http.h and never wait on Spotify: they
 * read the service's snapshot and queue jobs for its worker. */
#ifndef MOODSYNC_SERVER_ROUTES_SPOTIFY_H
#define MOODSYNC_SERVER_ROUTES_SPOTIFY_H

#include "server/http.h"

/* Largest JSON body a Spotify route accepts, bytes. */
#define SPOTIFY_MAX_BODY 1024

int spotify_login(struct srv_req *req);	     /* GET /login */
int spotify_callback(struct srv_req *req);   /* GET /callback */
int spotify_disconnect(struct srv_req *req); /* POST /api/spotify/disconnect */
int spotify_status(struct srv_req *req);     /* GET /api/spotify/status */
int spotify_devices(struct srv_req *req);    /* GET /api/spotify/devices */
int spotify_device(struct srv_req *req);     /* POST /api/spotify/device */
int spotify_play(struct srv_req *req);	     /* POST /api/spotify/play */
int spotify_pause(struct srv_req *req);	     /* POST /api/spotify/pause */
int spotify_next(struct srv_req *req);	     /* POST /api/spotify/next */
int spotify_now(struct srv_req *req);	     /* GET /api/spotify/now-playing */
int spotify_autoplay(struct srv_req *req);   /* POST /api/spotify/autoplay */

/* Module hooks: config from the environment / ./.env, the worker. */
int spotify_module_start(struct srv_app *app, char *err, size_t errlen);
void spotify_module_stop(struct srv_app *app);
void spotify_module_mood(struct srv_app *app, const struct srv_mood_event *ev);

#endif
