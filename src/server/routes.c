/* routes.c - the routing table (method, path, handler, body cap) and the
 * module table of the HTTP server. Static files (web/, embedded) are served
 * for any GET that matches no row. See server/http.h for the contract. */
#include <stddef.h>

#include "server/api.h"
#include "server/http.h"

/* Spotify (issue 5): include your handlers' header here. */

const struct srv_route srv_routes[] = {
	{"POST", "/api/frame", api_frame, SRV_MAX_FRAME_BODY,
	 api_frame_precheck},
	{"GET", "/api/mood", api_mood, 0, NULL},
	{"GET", "/api/history", api_history, 0, NULL},
	{"GET", "/api/recommendation", api_recommendation, 0, NULL},
	{"GET", "/api/settings", api_settings_get, 0, NULL},
	{"POST", "/api/settings", api_settings_post, SRV_MAX_JSON_BODY, NULL},
	{"GET", "/healthz", api_healthz, 0, NULL},
	/* Spotify (issue 5): rows for handlers in routes_spotify.c go here. */
	{NULL, NULL, NULL, 0, NULL},
};

const struct srv_module srv_modules[] = {
	/* Spotify (issue 5): {"spotify", start, stop, mood_changed}, */
	{NULL, NULL, NULL, NULL},
};
