/* app.c - the server application: loading (pipeline, store, catalog),
 * starting and stopping the libmicrohttpd daemon and the background
 * threads, the bounded pool of frame slots (503 when overloaded), the
 * per-thread pipeline workers, and the session/app accessors of http.h. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "moodsync/library.h"
#include "server/acceptor.h"
#include "server/app.h"
#include "server/http_internal.h"

#define SESSION_IDLE_MS (6.0 * 3600 * 1000)
#define SPOTIFY_ORIGIN "https://open.spotify.com"
#define SPOTIFY_EMBED_SCRIPT SPOTIFY_ORIGIN "/embed/iframe-api/v1"

static atomic_long app_generation;

void srv_config_default(struct srv_config *c, int ncpu)
{
	if (ncpu < 1)
		ncpu = 1;
	memset(c, 0, sizeof(*c));
	c->host = "127.0.0.1";
	c->port = 5000;
	c->tta = NN_TTA_FLIP; /* the shipped configuration (models/README.md) */
	c->db_path = ":memory:";
	/* a worker per core: frames are CPU work, and the acceptor spreads
	 * connections evenly (docs/server.md, "Threads and limits") */
	c->threads = MS_MIN(MS_MAX(ncpu, 2), 32);
	c->frame_slots = MS_MIN(ncpu, 16);
	c->queue_ms = 250;
	c->max_waiting = 64;
	c->max_connections = 1000;
	c->conn_timeout_s = 30;
	c->header_timeout_s = 10;
	c->max_sessions = 1024;
	c->sessions_per_s = 20.0;
	c->sessions_burst = 100.0;
	c->rate_per_s = 30.0;
	c->burst = 30.0;
	c->history_ms = 1000;
	c->calib_strength = SRV_CALIB_STRENGTH;
	c->calib_auto_tau = SRV_CALIB_AUTO_TAU;
}

/* Writes the origin ("https://host:port") of an http(s) URL into out;
 * MS_EINVAL for anything else or a character a CSP cannot carry. */
static int url_origin(const char *url, char *out, size_t outlen)
{
	size_t n = strlen(url), skip, end;

	if (strncmp(url, "https://", 8) == 0)
		skip = 8;
	else if (strncmp(url, "http://", 7) == 0)
		skip = 7;
	else
		return MS_EINVAL;
	if (n >= outlen || n <= skip ||
	    strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789-._~:/?=&%") != n)
		return MS_EINVAL;
	end = skip + strcspn(url + skip, "/?");
	if (end == skip)
		return MS_EINVAL;
	memcpy(out, url, end);
	out[end] = '\0';
	return MS_OK;
}

/* The page's CSP: our own origin, plus Spotify's player (the iFrame API
 * script and its frames) and the origin of a configured substitute. */
static int csp_build(struct srv_app *app, char *err, size_t errlen)
{
	const char *url = app->cfg.spotify_embed_url;
	char origin[256] = SPOTIFY_ORIGIN, extra[260] = "";
	int n;

	if (!url)
		url = SPOTIFY_EMBED_SCRIPT;
	if (url_origin(url, origin, sizeof(origin)))
		return ms_errf(err, errlen, MS_EINVAL,
			       "the Spotify embed script must be an http(s) "
			       "URL of plain characters, got '%.80s'",
			       url);
	if (strcmp(origin, SPOTIFY_ORIGIN) != 0)
		snprintf(extra, sizeof(extra), " %s", origin);
	snprintf(app->embed_script, sizeof(app->embed_script), "%s", url);
	n = snprintf(app->csp, sizeof(app->csp),
		     "default-src 'self'; img-src 'self' data: blob:; "
		     "media-src 'self' blob: mediastream:; style-src 'self'; "
		     "script-src 'self' " SPOTIFY_ORIGIN "%s; "
		     "frame-src " SPOTIFY_ORIGIN "%s; connect-src 'self'; "
		     "object-src 'none'; base-uri 'none'; "
		     "frame-ancestors 'none'; form-action 'self'",
		     extra, extra);
	if (n < 0 || (size_t)n >= sizeof(app->csp))
		return ms_errf(err, errlen, MS_ELIMIT, "CSP too long");
	return MS_OK;
}

int srv_app_new(const struct srv_config *cfg, struct srv_app **out, char *err,
		size_t errlen)
{
	struct srv_app *app = calloc(1, sizeof(*app));
	int rc, added = 0;

	if (!app)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	app->cfg = *cfg;
	app->generation = atomic_fetch_add(&app_generation, 1) + 1;
	app->listen_fd = -1;
	pthread_mutex_init(&app->slot_lock, NULL);
	pthread_cond_init(&app->slot_cond, NULL);
	pthread_mutex_init(&app->workers_lock, NULL);
	rc = csp_build(app, err, errlen);
	if (rc)
		goto out_free;
	rc = pipe_load(cfg->cascade_path, cfg->model_path, &app->pipe, err,
		       errlen);
	if (rc)
		goto out_free;
	if (cfg->eye_cascade_path) {
		rc = pipe_load_eyes(app->pipe, cfg->eye_cascade_path, err,
				    errlen);
		if (rc)
			goto out_free;
	}
	app->has_model = pipe_has_model(app->pipe);
	music_fusion_params_default(&app->fusion);
	app->calib.strength =
		(float)MS_MIN(MS_MAX(cfg->calib_strength, 0.0), 1.0);
	app->calib.auto_tau = cfg->calib_auto_tau > 0 ? cfg->calib_auto_tau : 0;
	if (cfg->text_model_path) {
		rc = txt_model_load(cfg->text_model_path, &app->text_model, err,
				    errlen);
		if (rc)
			goto out_free;
	}
	rc = store_open(cfg->db_path, &app->store, err, errlen);
	if (rc)
		goto out_free;
	rc = music_catalog_seed(app->store, &added, err, errlen);
	if (rc)
		goto out_free;
	if (added)
		ms_info("store: catalog seeded with %d playlists", added);
	app->sessions =
		srv_sessions_new(cfg->max_sessions, SESSION_IDLE_MS,
				 cfg->sessions_per_s, cfg->sessions_burst);
	if (!app->sessions) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		goto out_free;
	}
	*out = app;
	return MS_OK;
out_free:
	srv_app_free(app);
	return rc;
}

/* A listening socket on host:port (port 0: a free one), non-blocking.
 * *port gets the port bound. */
static int listen_on(const char *host, int *port, int *out, char *err,
		     size_t errlen)
{
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	int fd, one = 1;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)*port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
		return ms_errf(err, errlen, MS_EINVAL,
			       "--host must be an IPv4 address, got '%s'",
			       host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ms_errf(err, errlen, MS_EIO, "socket: %s",
			       strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(fd, 512) != 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
		int e = errno;

		close(fd);
		return ms_errf(err, errlen, MS_EIO,
			       "cannot listen on %s:%d (%s)", host, *port,
			       strerror(e));
	}
	*port = ntohs(addr.sin_port);
	*out = fd;
	return MS_OK;
}

/* The acceptor's two hooks: room while fewer than --max-conns are open;
 * a connection goes to the pool worker "fd mod pool size" with room
 * (libmicrohttpd closes it when none has). */
static int accept_room(void *ctx)
{
	struct srv_app *app = ctx;
	int open;
	long cut;

	srv_conns_stats(app->conns, &open, &cut);
	return open < app->cfg.max_connections;
}

static void accept_add(void *ctx, int fd, const struct sockaddr *addr,
		       socklen_t addrlen)
{
	struct srv_app *app = ctx;

	MHD_add_connection(app->daemon, fd, addr, addrlen);
}

int srv_app_start(struct srv_app *app, char *err, size_t errlen)
{
	struct srv_config *c = &app->cfg;
	struct MHD_Daemon *d;
	int rc, fd = -1;

	rc = listen_on(c->host, &c->port, &fd, err, errlen);
	if (rc)
		return rc;
	/* Everything a request reads is set before the daemon serves one. */
	snprintf(app->base_url, sizeof(app->base_url), "http://%s:%d", c->host,
		 c->port);
	app->started_ms = ms_now_ms();
	rc = srv_hosts_init(&app->hosts, c->host, c->port, c->allow_hosts,
			    c->nallow_hosts);
	if (rc) {
		rc = ms_errf(err, errlen, rc,
			     "--allow-host: bad or too many "
			     "values (at most %d)",
			     SRV_HOSTS_MAX - 8);
		goto out_close;
	}
	app->conns = srv_conns_new(1000.0 * MS_MAX(c->header_timeout_s, 1));
	if (!app->conns) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "cannot start threads");
		goto out_close;
	}
	for (const struct srv_module *m = srv_modules; m->name; m++) {
		if (!m->start)
			continue;
		rc = m->start(app, err, errlen);
		if (rc)
			goto out_close;
	}
	rc = srv_bg_start(app, &app->bg);
	if (rc) {
		rc = ms_errf(err, errlen, rc, "cannot start threads");
		goto out_close;
	}
	/* Every local client is 127.0.0.1, so a per-IP cap would be the
	 * whole server's: only the total is capped. The daemon has no
	 * listening socket: the acceptor hands it each connection. */
	/* one option and its values a line */
	/* clang-format off */
	d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, srv_http_access, app,
		MHD_OPTION_EXTERNAL_LOGGER, srv_http_log, app,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->conn_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
		MHD_OPTION_NOTIFY_COMPLETED, srv_http_completed, app,
		MHD_OPTION_NOTIFY_CONNECTION, srv_http_connection, app,
		MHD_OPTION_END);
	/* clang-format on */
	if (!d) {
		rc = ms_errf(err, errlen, MS_EIO,
			     "cannot start the HTTP server on %s:%d", c->host,
			     c->port);
		goto out_bg;
	}
	app->daemon = d;
	app->listen_fd = fd;
	rc = srv_acceptor_start(fd, accept_room, accept_add, app,
				&app->acceptor);
	if (rc) {
		srv_app_stop(app); /* closes fd */
		return ms_errf(err, errlen, rc, "cannot start threads");
	}
	return MS_OK;
out_bg:
	srv_bg_stop(app->bg);
	app->bg = NULL;
out_close:
	close(fd);
	return rc;
}

int srv_app_port(const struct srv_app *app)
{
	return app->cfg.port;
}

int srv_app_has_model(const struct srv_app *app)
{
	return app->has_model;
}

void srv_app_stop(struct srv_app *app)
{
	if (!app || !app->daemon)
		return;
	srv_acceptor_stop(app->acceptor); /* no connection comes after */
	app->acceptor = NULL;
	MHD_stop_daemon(app->daemon); /* joins the worker threads */
	app->daemon = NULL;
	close(app->listen_fd);
	app->listen_fd = -1;
	srv_conns_free(app->conns);
	app->conns = NULL;
	srv_bg_stop(app->bg); /* writes pending history, delivers moods */
	app->bg = NULL;
	for (const struct srv_module *m = srv_modules; m->name; m++)
		if (m->stop)
			m->stop(app); /* no handler and no mood thread runs */
}

void srv_app_free(struct srv_app *app)
{
	if (!app)
		return;
	srv_app_stop(app);
	srv_conns_free(app->conns);
	for (int i = 0; i < app->nworkers; i++)
		pipe_worker_free(app->workers[i]);
	free(app->workers);
	srv_sessions_free(app->sessions);
	music_player_free(app->player); /* when stop() did not run */
	store_close(app->store);
	pipe_free(app->pipe);
	txt_model_free(app->text_model);
	pthread_mutex_destroy(&app->slot_lock);
	pthread_cond_destroy(&app->slot_cond);
	pthread_mutex_destroy(&app->workers_lock);
	free(app);
}

/* ---- frame slots -------------------------------------------------------- */

int srv_app_slot_acquire(struct srv_app *app)
{
	struct timespec ts;
	int rc = MS_OK;

	pthread_mutex_lock(&app->slot_lock);
	if (app->running >= app->cfg.frame_slots) {
		if (app->waiting >= app->cfg.max_waiting) {
			pthread_mutex_unlock(&app->slot_lock);
			return MS_EBUSY;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)app->cfg.queue_ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		app->waiting++;
		while (app->running >= app->cfg.frame_slots && rc == MS_OK)
			if (pthread_cond_timedwait(&app->slot_cond,
						   &app->slot_lock, &ts))
				rc = MS_EBUSY;
		app->waiting--;
		if (rc == MS_EBUSY && app->running < app->cfg.frame_slots)
			rc = MS_OK; /* freed at the deadline */
	}
	if (rc == MS_OK)
		app->running++;
	pthread_mutex_unlock(&app->slot_lock);
	return rc;
}

void srv_app_slot_release(struct srv_app *app)
{
	pthread_mutex_lock(&app->slot_lock);
	app->running--;
	pthread_cond_signal(&app->slot_cond);
	pthread_mutex_unlock(&app->slot_lock);
}

/* A thread's worker belongs to the app of generation tls_gen (an address
 * could be reused by a later app; a generation is not). */
static _Thread_local struct pipe_worker *tls_worker;
static _Thread_local long tls_gen;

struct pipe_worker *srv_app_worker(struct srv_app *app)
{
	struct pipe_worker *w;

	if (tls_worker && tls_gen == app->generation)
		return tls_worker;
	w = pipe_worker_new(app->pipe);
	if (!w)
		return NULL;
	pthread_mutex_lock(&app->workers_lock);
	if (app->nworkers == app->cap_workers) {
		int cap = app->cap_workers ? 2 * app->cap_workers : 8;
		struct pipe_worker **p =
			realloc(app->workers, (size_t)cap * sizeof(*p));

		if (!p) {
			pthread_mutex_unlock(&app->workers_lock);
			pipe_worker_free(w);
			return NULL;
		}
		app->workers = p;
		app->cap_workers = cap;
	}
	app->workers[app->nworkers++] = w;
	pthread_mutex_unlock(&app->workers_lock);
	tls_worker = w;
	tls_gen = app->generation;
	return w;
}

/* ---- accessors of http.h ------------------------------------------------ */

struct store *srv_app_store(struct srv_app *app)
{
	return app->store;
}

const char *srv_app_embed_script(const struct srv_app *app)
{
	return app->embed_script;
}

struct music_player *srv_app_player(const struct srv_app *app)
{
	return app->player;
}

const char *srv_app_base_url(const struct srv_app *app)
{
	return app->base_url;
}

struct music_spotify_svc *srv_app_spotify(const struct srv_app *app)
{
	return app->spotify;
}

void srv_app_spotify_set(struct srv_app *app, struct music_spotify_svc *sp)
{
	app->spotify = sp;
}

static void info_fill(const struct srv_app *app, const struct srv_session *s,
		      struct srv_session_info *o)
{
	struct srv_affect aff;

	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "%s", s->id);
	o->strategy = s->strategy;
	o->autoplay = s->autoplay;
	o->mood = s->mood.stable;
	o->leader = music_mood_leader(&s->mood);
	memcpy(o->probs, s->mood.probs, sizeof(o->probs));
	o->mood_since = s->mood_since;
	o->last_frame = s->last_frame;
	o->frames = s->frames;
	srv_session_affect(app, s, ms_now_ms(), &aff);
	o->valence = aff.va.valence;
	o->arousal = aff.va.arousal;
	o->feeling = aff.feeling;
	o->overridden = aff.overridden;
}

int srv_session_info_by_id(struct srv_app *app, const char *sid,
			   struct srv_session_info *out)
{
	struct srv_session *s;

	srv_sessions_lock(app->sessions);
	s = srv_sessions_find(app->sessions, sid, ms_now_ms());
	if (s)
		info_fill(app, s, out);
	srv_sessions_unlock(app->sessions);
	return s ? MS_OK : MS_ENOTFOUND;
}

int srv_session_info_get(struct srv_req *req, struct srv_session_info *out)
{
	return srv_session_info_by_id(srv_req_app(req), srv_req_session_id(req),
				      out);
}

int srv_session_keep(struct srv_app *app, const char *sid)
{
	struct srv_session *s;
	int64_t created = 0;

	srv_sessions_lock(app->sessions);
	s = srv_sessions_find(app->sessions, sid, ms_now_ms());
	if (s) {
		s->keep = 1;
		created = s->created;
	}
	srv_sessions_unlock(app->sessions);
	if (!s)
		return MS_ENOTFOUND;
	return store_session_touch(app->store, sid, created,
				   (int64_t)ms_unix_time() * 1000)
		       ? MS_EDB
		       : MS_OK;
}

int srv_session_kv_set(struct srv_app *app, const char *sid, const char *key,
		       const char *value)
{
	struct srv_session *s;
	struct srv_kv *slot = NULL;
	int rc = MS_OK;

	if (strlen(key) >= sizeof(slot->key) || !key[0] ||
	    (value && strlen(value) >= sizeof(slot->val)))
		return MS_ELIMIT;
	srv_sessions_lock(app->sessions);
	s = srv_sessions_find(app->sessions, sid, ms_now_ms());
	if (!s) {
		rc = MS_ENOTFOUND;
		goto out_unlock;
	}
	if (!s->kv && value) {
		s->kv = ms_calloc(SRV_KV_MAX, sizeof(*s->kv));
		if (!s->kv) {
			rc = MS_ENOMEM;
			goto out_unlock;
		}
	}
	for (int i = 0; s->kv && i < SRV_KV_MAX; i++) {
		if (strcmp(s->kv[i].key, key) == 0) {
			slot = &s->kv[i];
			break;
		}
		if (!slot && !s->kv[i].key[0])
			slot = &s->kv[i];
	}
	if (!value) {
		if (slot && strcmp(slot->key, key) == 0)
			memset(slot, 0, sizeof(*slot));
	} else if (!slot) {
		rc = MS_ELIMIT;
	} else {
		snprintf(slot->key, sizeof(slot->key), "%s", key);
		snprintf(slot->val, sizeof(slot->val), "%s", value);
	}
out_unlock:
	srv_sessions_unlock(app->sessions);
	return rc;
}

int srv_session_kv_get(struct srv_app *app, const char *sid, const char *key,
		       char *out, size_t outlen)
{
	struct srv_session *s;
	int rc = MS_ENOTFOUND;

	srv_sessions_lock(app->sessions);
	s = srv_sessions_find(app->sessions, sid, ms_now_ms());
	for (int i = 0; s && s->kv && i < SRV_KV_MAX; i++)
		if (strcmp(s->kv[i].key, key) == 0) {
			snprintf(out, outlen, "%s", s->kv[i].val);
			rc = MS_OK;
			break;
		}
	srv_sessions_unlock(app->sessions);
	return rc;
}
