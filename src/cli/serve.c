/* serve.c - `moodsync serve`: parses flags, picks the default model,
 * cascade and database paths, starts the web server (src/server/) and
 * waits for SIGINT/SIGTERM to stop it cleanly. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/opt.h"
#include "moodsync/common.h"
#include "moodsync/nn.h"
#include "moodsync/server.h"

static int file_exists(const char *p)
{
	return access(p, R_OK) == 0;
}

#define MAX_ALLOW_HOSTS 8

static const char *allow_hosts[MAX_ALLOW_HOSTS];

/* Collects every --allow-host value (the option table keeps only the
 * last): every serve option takes a value, so argv is read in pairs.
 * Returns the count, or -1 past MAX_ALLOW_HOSTS (message printed). */
static int collect_allow_hosts(int argc, char **argv)
{
	static const char opt[] = "--allow-host";
	const size_t n = sizeof(opt) - 1;
	int k = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (strcmp(a, "--") == 0)
			break;
		if (strcmp(a, opt) == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(a, opt, n) == 0 && a[n] == '=')
			v = a + n + 1;
		else if (strncmp(a, "--", 2) == 0 && !strchr(a, '='))
			i++; /* its value */
		if (!v)
			continue;
		if (k == MAX_ALLOW_HOSTS) {
			fprintf(stderr,
				"moodsync serve: at most %d --allow-host "
				"values\n",
				MAX_ALLOW_HOSTS);
			return -1;
		}
		allow_hosts[k++] = v;
	}
	return k;
}

/* Room for `conns` sockets plus the database, model and logs: raises the
 * soft descriptor limit towards the hard one (often 1024 by default, too
 * few for 1000 connections); warns when it stays short. */
static void fd_room(int conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want
			      ? want
			      : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		ms_warn("serve: only %lu file descriptors for %d connections; "
			"lower --max-conns or raise the limit (ulimit -n)",
			(unsigned long)rl.rlim_cur, conns);
}

/* Fills `c` and the model from the command line. Returns 0 to go on,
 * else a negative cli_parse() result. */
static int parse_args(int argc, char **argv, struct srv_config *c,
		      const char **model, int *model_explicit,
		      const char **music, int align[2])
{
	double rate = c->rate_per_s;
	const char *allow_last = NULL;
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
		CLI_OPT_ENUM("--tta-mode", &c->tta, nn_tta_names,
			     "test-time augmentation of the emotion model: "
			     "none, flip (2 passes a face), crops (10)"),
		CLI_OPT_STR("--text-model", "F", &c->text_model_path,
			    "text mood model for POST /api/text, none: off "
			    "(default $MOODSYNC_TEXT_MODEL "
			    "or " MS_DEFAULT_TEXT_MODEL ")"),
		CLI_OPT_STR("--cascade", "F", &c->cascade_path,
			    "Haar cascade XML"),
		CLI_OPT_FLAG("--align", &align[0],
			     "turn each face upright from its eyes before "
			     "reading its emotion" ALIGN_DEFAULT_NOTE
			     " (docs/alignment.md)"),
		CLI_OPT_FLAG("--no-align", &align[1],
			     "read each face as the detector boxed "
			     "it" NO_ALIGN_DEFAULT_NOTE),
		CLI_OPT_STR("--eyes", "F", &c->eye_cascade_path,
			    "eye cascade XML for alignment (default "
			    "haarcascade_eye.xml of opencv-data)"),
		CLI_OPT_STR("--db", "F", &c->db_path,
			    "SQLite database (default $MOODSYNC_DB, else "
			    "$XDG_DATA_HOME/moodsync/moodsync.db, else "
			    "~/.local/share/moodsync/moodsync.db)"),
		CLI_OPT_INT("--threads", "N", &c->threads, 1, 64,
			    "HTTP worker threads (default: cores, at least 2)"),
		CLI_OPT_INT("--frames", "N", &c->frame_slots, 1, 64,
			    "frames processed at once (default cores); more "
			    "wait..."),
		CLI_OPT_INT("--queue-ms", "N", &c->queue_ms, 0, 60000,
			    "... at most N ms, then get 503"),
		CLI_OPT_NUM("--rate", "R", &rate, 0.0, 10000.0,
			    "frames per second per browser before 429, 0: "
			    "unlimited"),
		CLI_OPT_STR("--music", "DIRS", music,
			    "music library folders, ':' between them, none: "
			    "no library (default: the XDG music folder and "
			    "the demo library); scanned in the background at "
			    "start"),
		CLI_OPT_INT("--scan-jobs", "N", &c->music_jobs, 1, 8,
			    "analyser threads of a scan (default: cores)"),
		CLI_OPT_STR("--allow-host", "H", &allow_last,
			    "also answer for Host H as the browser sends it "
			    "(music.example.org, or with :PORT) behind a "
			    "reverse proxy; repeatable, at most 8; other "
			    "hosts get 421"),
		CLI_OPT_INT("--max-conns", "N", &c->max_connections, 8, 100000,
			    "open connections at once"),
		CLI_OPT_INT("--max-sessions", "N", &c->max_sessions, 1, 1000000,
			    "browser sessions kept in memory"),
		CLI_OPT_INT("--header-timeout", "S", &c->header_timeout_s, 1,
			    3600,
			    "seconds a client has to send its request "
			    "headers"),
		CLI_OPT_STR("--spotify-embed-url", "U", &c->spotify_embed_url,
			    "Spotify's iFrame API script (default "
			    "$MOODSYNC_SPOTIFY_EMBED_URL, else Spotify's own); "
			    "its origin is allowed by the page's CSP"),
		CLI_OPT_NUM("--calib-strength", "S", &c->calib_strength, 0.0,
			    1.0,
			    "how strongly a calibrated session reads faces "
			    "relative to its resting face, 0: not at all"),
		CLI_OPT_NUM("--calib-auto", "N", &c->calib_auto_tau, 0.0, 1e6,
			    "automatic baseline when no calibration was "
			    "done: a moving average of the person's faces "
			    "with a time constant of N faces, 0: off "
			    "(default 0)"),
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
	c->nallow_hosts = collect_allow_hosts(argc, argv);
	if (c->nallow_hosts < 0)
		return CLI_PARSE_ERROR;
	c->allow_hosts = allow_hosts;
	return 0;
}

/* Splits --music's "DIR:DIR..." (copied into buf, `len` bytes) into
 * c->music_dirs; "none" is no library. 0, or 2 after a one-line error. */
static int music_dirs(const char *list, char *buf, size_t len,
		      struct srv_config *c)
{
	char *p, *save = NULL;
	int n = snprintf(buf, len, "%s", list);

	c->music_ndirs = 0;
	if (strcmp(list, "none") == 0)
		return 0;
	if (n < 0 || (size_t)n >= len || !*list) {
		fprintf(stderr, "moodsync serve: --music: %s\n",
			*list ? "too long" : "empty");
		return 2;
	}
	for (p = strtok_r(buf, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		if (c->music_ndirs >= (int)MS_ARRAY_LEN(c->music_dirs)) {
			fprintf(stderr,
				"moodsync serve: --music: at most %zu "
				"folders\n",
				MS_ARRAY_LEN(c->music_dirs));
			return 2;
		}
		c->music_dirs[c->music_ndirs++] = p;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	struct srv_config cfg;
	struct srv_app *app = NULL;
	char err[MS_ERRLEN], dbbuf[4096], musicbuf[4096];
	const char *model, *music = NULL;
	int model_explicit, rc, sig,
		align[2] = {0, 0}; /* --align, --no-align */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t set;

#ifdef __GLIBC__
	/* A long-running server: blocks of 1 MiB and more (a library scan's
	 * decoded audio, up to 10 MB a track) come from mmap and go back to
	 * the system when freed. Left to itself glibc raises its mmap
	 * threshold after the first such free, and the scan's peak then stays
	 * in its heaps for the life of the process. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
	srv_config_default(&cfg, ncpu > 0 ? (int)ncpu : 1);
	cfg.cascade_path = MS_DEFAULT_CASCADE;
	cfg.db_path = cli_default_db(dbbuf, sizeof(dbbuf));
	cfg.music_ndirs = -1; /* the default folders */
	cfg.spotify_embed_url = getenv("MOODSYNC_SPOTIFY_EMBED_URL");
	if (cfg.spotify_embed_url && !*cfg.spotify_embed_url)
		cfg.spotify_embed_url = NULL;
	model = cli_default_model(&model_explicit);
	rc = parse_args(argc, argv, &cfg, &model, &model_explicit, &music,
			align);
	if (rc)
		return cli_parse_status(rc);
	rc = cli_align_choice("serve", align[0], align[1]);
	if (rc < 0)
		return 2;
	if (!rc)
		cfg.eye_cascade_path = NULL;
	else if (!cfg.eye_cascade_path)
		cfg.eye_cascade_path = MS_DEFAULT_EYE_CASCADE;
	if (music && music_dirs(music, musicbuf, sizeof(musicbuf), &cfg))
		return 2;
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
	if (!cfg.text_model_path) {
		cfg.text_model_path = cli_default_text_model();
		if (!file_exists(cfg.text_model_path)) {
			ms_warn("serve: no text model at %s; POST /api/text "
				"answers 503",
				cfg.text_model_path);
			cfg.text_model_path = NULL;
		}
	} else if (strcmp(cfg.text_model_path, "none") == 0) {
		cfg.text_model_path = NULL;
	}

	/* Block the signals before any thread starts, so every thread
	 * inherits the mask and only sigwait() below sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd_room(cfg.max_connections);

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
