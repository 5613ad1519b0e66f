/* routes.c - the routing table (method, path, handler, body cap) and the
 * module table of the HTTP server. Static files (web/, embedded) are served
 * for any GET that matches no row. See server/http.h for the contract. */
#include <stddef.h>

#include "server/api.h"
#include "server/api_library.h"
#include "server/http.h"
#include "server/routes_spotify.h"

const struct srv_route srv_routes[] = {
	{"POST", "/api/frame", api_frame, SRV_MAX_FRAME_BODY,
	 api_frame_precheck},
	{"GET", "/api/mood", api_mood, 0, NULL},
	{"POST", "/api/mood/override", api_mood_override_post,
	 SRV_MAX_JSON_BODY, NULL},
	{"DELETE", "/api/mood/override", api_mood_override_delete,
	 SRV_MAX_JSON_BODY, NULL},
	{"POST", "/api/mood/calibrate", api_mood_calibrate_post,
	 SRV_MAX_JSON_BODY, NULL},
	{"DELETE", "/api/mood/calibrate", api_mood_calibrate_delete,
	 SRV_MAX_JSON_BODY, NULL},
	{"GET", "/api/history", api_history, 0, NULL},
	{"DELETE", "/api/history", api_history_delete, SRV_MAX_JSON_BODY, NULL},
	{"GET", "/api/recommendation", api_recommendation, 0, NULL},
	{"GET", "/api/settings", api_settings_get, 0, NULL},
	{"POST", "/api/settings", api_settings_post, SRV_MAX_JSON_BODY, NULL},
	{"GET", "/healthz", api_healthz, 0, NULL},
	/* The music library, its queue and the audio. */
	{"GET", "/api/library", api_library, 0, NULL},
	{"POST", "/api/library/scan", api_library_scan, LIBRARY_MAX_BODY, NULL},
	{"GET", "/api/queue", api_queue, 0, NULL},
	{"POST", "/api/queue/next", api_queue_next, LIBRARY_MAX_BODY, NULL},
	{"POST", "/api/tracks/*/feedback", api_track_feedback, LIBRARY_MAX_BODY,
	 NULL},
	{"POST", "/api/tracks/*/point", api_track_point, LIBRARY_MAX_BODY,
	 NULL},
	{"GET", "/api/tracks/*/audio", api_track_audio, 0, NULL},
	{"POST", "/api/text", api_text, SRV_MAX_TEXT_BODY, NULL},
	/* Spotify: sign-in, snapshots and player commands */
	{"GET", "/login", spotify_login, 0, NULL},
	{"GET", "/callback", spotify_callback, 0, NULL},
	{"POST", "/api/spotify/disconnect", spotify_disconnect,
	 SRV_MAX_EMPTY_BODY, NULL},
	{"GET", "/api/spotify/status", spotify_status, 0, NULL},
	{"GET", "/api/spotify/devices", spotify_devices, 0, NULL},
	{"POST", "/api/spotify/device", spotify_device, SPOTIFY_MAX_BODY, NULL},
	{"POST", "/api/spotify/play", spotify_play, SPOTIFY_MAX_BODY, NULL},
	{"POST", "/api/spotify/pause", spotify_pause, SRV_MAX_EMPTY_BODY, NULL},
	{"POST", "/api/spotify/next", spotify_next, SRV_MAX_EMPTY_BODY, NULL},
	{"GET", "/api/spotify/now-playing", spotify_now, 0, NULL},
	{"POST", "/api/spotify/autoplay", spotify_autoplay, SPOTIFY_MAX_BODY,
	 NULL},
	{NULL, NULL, NULL, 0, NULL},
};

const struct srv_module srv_modules[] = {
	{"library", library_module_start, library_module_stop, NULL},
	{"spotify", spotify_module_start, spotify_module_stop,
	 spotify_module_mood},
	{NULL, NULL, NULL, NULL},
};
