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
#include "moodsync/common.h"
#include "moodsync/server.h"


static void usage(FILE *f)
{
	fprintf(f,
		"usage: moodsync serve [--host 127.0.0.1] [--port 5000] "
		"[--model F|none]\n"
		"                      [--cascade F] [--db F] [--threads N] "
		"[--frames N] [--queue-ms N]\n"
		"                      [--rate R] [--spotify-embed-url U]\n\n"
		"Runs the MoodSync web app: open http://HOST:PORT/ and press "
		"Start.\n\n"
		"  --host A     IPv4 address to listen on (default 127.0.0.1)\n"
		"  --port N     TCP port (default 5000; 0 picks a free one)\n"
		"  --model F    emotion model (default $MOODSYNC_MODEL or "
		MS_DEFAULT_MODEL ";\n"
		"               when the default is missing the app runs "
		"without emotions)\n"
		"  --cascade F  Haar cascade XML (default " MS_DEFAULT_CASCADE
		")\n"
		"  --db F       SQLite database (default $MOODSYNC_DB, else\n"
		"               $XDG_DATA_HOME/moodsync/moodsync.db, else\n"
		"               ~/.local/share/moodsync/moodsync.db)\n"
		"  --threads N  HTTP worker threads (default 2 x cores)\n"
		"  --frames N   frames processed at once (default cores); more "
		"wait,\n"
		"  --queue-ms N ... at most N ms (default 250), then get 503\n"
		"  --rate R     frames per second per browser before 429 "
		"(default 30,\n"
		"               0 = unlimited)\n"
		"  --spotify-embed-url U  Spotify's iFrame API script (default "
		"$MOODSYNC_SPOTIFY_EMBED_URL,\n"
		"               else Spotify's own); its origin is allowed by the "
		"page's CSP\n");
}

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

static int parse_args(int argc, char **argv, struct srv_config *c,
		      const char **model, int *model_explicit)
{
	double rate;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (!v) {
			fprintf(stderr, "moodsync serve: %s needs a value (or "
					"unknown option; try --help)\n",
				a);
			return 2;
		}
		i++;
		if (strcmp(a, "--host") == 0) {
			c->host = v;
		} else if (strcmp(a, "--port") == 0) {
			if (ms_parse_int(v, 0, 65535, &c->port))
				goto bad;
		} else if (strcmp(a, "--model") == 0) {
			*model = v;
			*model_explicit = 1;
		} else if (strcmp(a, "--cascade") == 0) {
			c->cascade_path = v;
		} else if (strcmp(a, "--db") == 0) {
			c->db_path = v;
		} else if (strcmp(a, "--threads") == 0) {
			if (ms_parse_int(v, 1, 64, &c->threads))
				goto bad;
		} else if (strcmp(a, "--frames") == 0) {
			if (ms_parse_int(v, 1, 64, &c->frame_slots))
				goto bad;
		} else if (strcmp(a, "--queue-ms") == 0) {
			if (ms_parse_int(v, 0, 60000, &c->queue_ms))
				goto bad;
		} else if (strcmp(a, "--rate") == 0) {
			if (ms_parse_double(v, 0.0, 10000.0, &rate))
				goto bad;
			c->rate_per_s = rate;
			c->burst = rate > 30.0 ? rate : 30.0;
		} else if (strcmp(a, "--spotify-embed-url") == 0) {
			c->spotify_embed_url = v;
		} else {
			fprintf(stderr,
				"moodsync serve: unknown option '%s' (try "
				"--help)\n",
				a);
			return 2;
		}
		continue;
bad:
		fprintf(stderr, "moodsync serve: bad value '%s' for %s\n", v, a);
		return 2;
	}
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
		return rc == 1 ? 0 : rc;
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
