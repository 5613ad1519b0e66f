/* server.h - the server component's public face: configuring, loading,
 * starting and stopping the MoodSync web server (used by src/cli/serve.c
 * and the tests). Routes, sessions and static files stay inside
 * src/server. */
#ifndef MOODSYNC_SERVER_H
#define MOODSYNC_SERVER_H

#include <stddef.h>

struct srv_app;

struct srv_config {
	const char *host;	     /* listen address, "127.0.0.1" */
	int port;		     /* TCP port; 0 picks a free one */
	const char *model_path;	     /* emotion model, NULL: faces only */
	int tta;		     /* the model's enum nn_tta */
	const char *text_model_path; /* text mood model, NULL: no /api/text */
	const char *cascade_path;
	const char *db_path;   /* SQLite file or ":memory:" */
	int threads;	       /* HTTP worker threads */
	int frame_slots;       /* frames processed at once */
	int queue_ms;	       /* a frame waits at most this for a slot */
	int max_waiting;       /* frames waiting beyond that: 503 */
	int max_connections;   /* open connections at once */
	int conn_timeout_s;    /* idle connection timeout, seconds */
	int header_timeout_s;  /* whole request headers within, seconds */
	int max_sessions;      /* sessions kept in memory */
	double sessions_per_s; /* new sessions per second, app-wide */
	double sessions_burst; /* ... in a burst of at most */
	/* extra Host values served (behind a proxy); borrowed */
	const char *const *allow_hosts;
	int nallow_hosts;  /* entries in allow_hosts */
	double rate_per_s; /* frames per second per session (bucket) */
	double burst;	   /* bucket size, frames */
	int history_ms;	   /* at most one history row per session per */
	const char *music_dirs[16]; /* music library folders (borrowed) */
	int music_ndirs;	    /* -1: the default folders, 0: no library */
	int music_jobs;		    /* analyser threads of a scan, 0: cores */
	/* Spotify's iFrame API script (http(s) URL; NULL: Spotify's own). Its
	 * origin is the only other one the page's CSP allows for scripts and
	 * frames besides https://open.spotify.com. */
	const char *spotify_embed_url;
	/* Per-person calibration: how strongly a face is read relative to
	 * the session's baseline (0..1), and the automatic baseline's time
	 * constant in faces (0: off; docs/api.md, "Calibration"). */
	double calib_strength;
	double calib_auto_tau;
};

/* Sensible defaults for `ncpu` cores (threads 2*ncpu, slots ncpu, ...). */
void srv_config_default(struct srv_config *c, int ncpu);

/* Loads cascade and model, opens (creating, migrating, seeding) the
 * database. Does not listen yet. */
int srv_app_new(const struct srv_config *cfg, struct srv_app **out, char *err,
		size_t errlen);
/* Binds the socket, then starts the modules, the background threads and
 * the HTTP daemon (which serves from its first request with the port,
 * base URL and Host allow-list already set). */
int srv_app_start(struct srv_app *app, char *err, size_t errlen);
/* The port actually bound (after start). */
int srv_app_port(const struct srv_app *app);
/* 1 when an emotion model is loaded. */
int srv_app_has_model(const struct srv_app *app);
/* Stops listening, waits for handlers, stops modules and threads. */
void srv_app_stop(struct srv_app *app);
void srv_app_free(struct srv_app *app);

#endif
