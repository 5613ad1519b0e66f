/* serve.c - `moodsync serve`: parses flags, picks the default model,
 * cascade and database paths, starts the web server (src/server/) and
 * waits for SIGINT/SIGTERM to stop it cleanly. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opt.h"
#include "moodsync/common.h"
#include "moodsync/server.h"

static int file_exists(const char *p)
{
	return access(p, R_OK) == 0;
}

/* The default database path into buf; NULL when no home is known. */
static const char *default_db(char *buf, size_t len)
{
	const char *env = getenv("MOODSYNC_DB");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		return env;
	if (xdg && *xdg == '/')
		n = snprintf(buf, len, "%s/moodsync/moodsync.db", xdg);
	else if (home && *home)
		n = snprintf(buf, len, "%s/.local/share/moodsync/moodsync.db",
			     home);
	else
		return NULL;
	return n > 0 && (size_t)n < len ? buf : NULL;
}

/* Fills `c` and the model from the command line. Returns 0 to go on,
 * else a negative cli_parse() result. */
static int parse_args(int argc, char **argv, struct srv_config *c,
		      const char **model, int *model_explicit)
{
	double rate = c->rate_per_s;
	int parsed;
	const struct cli_opt opts[] = {
		CLI_OPT_STR("--host", "A", &c->host,
			    "IPv4 address to listen on"),
		CLI_OPT_INT("--port", "N", &c->port, 0, 65535,
			    "TCP port, 0 picks a free one"),
		{CLI_STR, "--model", "F", model, 0, 0, NULL,
		 "emotion model, none: faces only (default $MOODSYNC_MODEL "
		 "or " MS_DEFAULT_MODEL
		 "; when the default is missing the app runs "
		 "without emotions)",
		 model_explicit},
		CLI_OPT_STR("--cascade", "F", &c->cascade_path,
			    "Haar cascade XML"),
		CLI_OPT_STR("--db", "F", &c->db_path,
			    "SQLite database (default $MOODSYNC_DB, else "
			    "$XDG_DATA_HOME/moodsync/moodsync.db, else "
			    "~/.local/share/moodsync/moodsync.db)"),
		CLI_OPT_INT("--threads", "N", &c->threads, 1, 64,
			    "HTTP worker threads (default 2 x cores)"),
		CLI_OPT_INT("--frames", "N", &c->frame_slots, 1, 64,
			    "frames processed at once (default cores); more "
			    "wait..."),
		CLI_OPT_INT("--queue-ms", "N", &c->queue_ms, 0, 60000,
			    "... at most N ms, then get 503"),
		CLI_OPT_NUM("--rate", "R", &rate, 0.0, 10000.0,
			    "frames per second per browser before 429, 0: "
			    "unlimited"),
		CLI_OPT_STR("--spotify-embed-url", "U", &c->spotify_embed_url,
			    "Spotify's iFrame API script (default "
			    "$MOODSYNC_SPOTIFY_EMBED_URL, else Spotify's own); "
			    "its origin is allowed by the page's CSP"),
		CLI_OPT_END,
	};
	const struct cli_command cmd = {
		"serve",
		"[options]",
		"Runs the MoodSync web app: open http://HOST:PORT/ and press "
		"Detect my mood.",
		opts,
		NULL,
		0,
		0};

	parsed = cli_parse(&cmd, argc, argv);
	if (parsed < 0)
		return parsed;
	c->rate_per_s = rate;
	c->burst = rate > 30.0 ? rate : 30.0;
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct srv_config cfg;
	struct srv_app *app = NULL;
	char err[MS_ERRLEN], dbbuf[4096];
	const char *model;
	int model_explicit, rc, sig;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t set;

	srv_config_default(&cfg, ncpu > 0 ? (int)ncpu : 1);
	cfg.cascade_path = MS_DEFAULT_CASCADE;
	cfg.db_path = default_db(dbbuf, sizeof(dbbuf));
	cfg.spotify_embed_url = getenv("MOODSYNC_SPOTIFY_EMBED_URL");
	if (cfg.spotify_embed_url && !*cfg.spotify_embed_url)
		cfg.spotify_embed_url = NULL;
	model = cli_default_model(&model_explicit);
	rc = parse_args(argc, argv, &cfg, &model, &model_explicit);
	if (rc)
		return cli_parse_status(rc);
	if (!cfg.db_path) {
		fprintf(stderr, "moodsync serve: no HOME: pass --db FILE\n");
		return 2;
	}
	if (strcmp(model, "none") == 0) {
		model = NULL;
	} else if (!model_explicit && !file_exists(model)) {
		ms_warn("serve: no emotion model at %s; running without "
			"emotions (faces only)",
			model);
		model = NULL;
	}
	cfg.model_path = model;

	/* Block the signals before any thread starts, so every thread
	 * inherits the mask and only sigwait() below sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = srv_app_new(&cfg, &app, err, sizeof(err));
	if (!rc)
		rc = srv_app_start(app, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "moodsync serve: %s\n", err);
		srv_app_free(app);
		return 1;
	}
	ms_info("serve: listening on http://%s:%d/ (model: %s, db: %s)",
		cfg.host, srv_app_port(app), model ? model : "none",
		cfg.db_path);
	/* A line on stdout for scripts that start us on port 0. */
	printf("listening on http://%s:%d/\n", cfg.host, srv_app_port(app));
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	ms_info("serve: %s received, stopping",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	srv_app_free(app);
	return 0;
}
