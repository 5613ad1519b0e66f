/* spotify_calls.c - one call to Spotify for a session, under the
 * service's rules: the app-wide call budget, the global pause after
 * 429/quota/5xx/timeouts (and its accounting), the session's last error
 * and state, and a valid access token (refreshed before expiry, and once
 * after a 401). The worker's jobs (spotify_jobs.c) make their calls here. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "moodsync/music.h"
#include "moodsync/store.h"
#include "music/spotify_internal.h"

void sp_result_fake(struct music_spotify_result *res,
		    enum music_spotify_kind kind, const char *msg)
{
	memset(res, 0, sizeof(*res));
	res->kind = kind;
	res->retry_after_s = -1;
	snprintf(res->message, sizeof(res->message), "%s", msg);
}

/* 1 (and res filled) while Spotify calls are paused. */
int sp_paused(struct music_spotify_svc *sp, struct music_spotify_result *res)
{
	double left;
	enum music_spotify_kind kind;
	char msg[96];

	pthread_mutex_lock(&sp->lock);
	left = sp->paused_until - ms_now_ms();
	kind = sp->paused_kind;
	pthread_mutex_unlock(&sp->lock);
	if (left <= 0)
		return 0;
	snprintf(msg, sizeof(msg), "Spotify calls paused for %.0f more s",
		 left / 1000.0 + 0.5);
	sp_result_fake(res, kind, msg);
	return 1;
}

/* 1 for the answers that pause every call for a while (429, 5xx, no
 * answer): an auto-play they stopped is worth another try after it. */
/* Takes one call from the app-wide budget; 0, or -1 (res filled) when
 * the service is stopping. */
int sp_call(struct music_spotify_svc *sp, struct music_spotify_result *res)
{
	if (sp_budget_take(sp) == 0)
		return 0;
	sp_result_fake(res, MUSIC_SPOTIFY_NETWORK, "stopping");
	return -1;
}

/* Updates the global pause from an answer. */
void sp_account(struct music_spotify_svc *sp,
		const struct music_spotify_result *res)
{
	int64_t wait;

	pthread_mutex_lock(&sp->lock);
	if (res->kind == MUSIC_SPOTIFY_OK) {
		sp->failures = 0;
	} else {
		if (res->kind == MUSIC_SPOTIFY_SERVER ||
		    res->kind == MUSIC_SPOTIFY_TIMEOUT ||
		    res->kind == MUSIC_SPOTIFY_NETWORK)
			sp->failures++;
		wait = music_spotify_backoff_ms(res, MS_MAX(sp->failures, 1));
		if (wait > 0 && ms_now_ms() + (double)wait > sp->paused_until) {
			sp->paused_until = ms_now_ms() + (double)wait;
			sp->paused_kind = res->kind;
		}
		if (wait > 0)
			ms_log_limited(MS_LOG_WARN, "spotify-pause",
				       "spotify: %s (HTTP %d); calls paused "
				       "%lld ms",
				       music_spotify_kind_code(res->kind),
				       res->http_status, (long long)wait);
	}
	pthread_mutex_unlock(&sp->lock);
}

/* The user-facing sentence for a failed answer. */
static void error_text(const struct music_spotify_result *res, char *out,
		       size_t outlen)
{
	if ((res->kind == MUSIC_SPOTIFY_RATE_LIMITED ||
	     res->kind == MUSIC_SPOTIFY_QUOTA) &&
	    res->retry_after_s >= 0)
		snprintf(out, outlen, "%s (Spotify said: retry after %d s)",
			 music_spotify_kind_message(res->kind),
			 res->retry_after_s);
	else
		snprintf(out, outlen, "%s",
			 music_spotify_kind_message(res->kind));
}

/* Records the outcome of `action` in the session (lock not held). */
void sp_note(struct music_spotify_svc *sp, const char *sid, const char *action,
	     const struct music_spotify_result *res, int clears)
{
	struct sp_session *s;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 0);
	if (s && res->kind != MUSIC_SPOTIFY_OK) {
		snprintf(s->error.action, sizeof(s->error.action), "%s",
			 action);
		snprintf(s->error.code, sizeof(s->error.code), "%s",
			 music_spotify_kind_code(res->kind));
		error_text(res, s->error.message, sizeof(s->error.message));
		s->error.at = ms_unix_time();
		s->has_error = 1;
	} else if (s && clears) {
		s->has_error = 0;
	}
	pthread_mutex_unlock(&sp->lock);
}

void sp_set_state(struct music_spotify_svc *sp, const char *sid,
		  enum sp_state st)
{
	struct sp_session *s;

	pthread_mutex_lock(&sp->lock);
	s = sp_session_find(sp, sid, 0);
	if (s)
		s->state = st;
	pthread_mutex_unlock(&sp->lock);
}

/* Swaps the refresh token for new tokens and stores them (Spotify may
 * rotate the refresh token: the new one is kept). invalid_grant deletes
 * the tokens and asks for a new sign-in. */
static int sp_refresh(struct music_spotify_svc *sp,
		      struct music_spotify_client *client, const char *sid,
		      const char *key, struct store_spotify_token *tok,
		      struct music_spotify_result *res)
{
	struct store_spotify_token fresh;
	int rc;

	if (!tok->refresh[0]) {
		sp_result_fake(res, MUSIC_SPOTIFY_INVALID_GRANT,
			       "no refresh token");
		rc = MS_EAUTH;
	} else if (sp_call(sp, res)) {
		return MS_EBUSY;
	} else {
		rc = music_spotify_refresh(client, tok->refresh, &fresh, res);
		sp_account(sp, res);
	}
	if (res->kind == MUSIC_SPOTIFY_INVALID_GRANT ||
	    res->kind == MUSIC_SPOTIFY_UNAUTHORIZED) {
		res->kind = MUSIC_SPOTIFY_INVALID_GRANT;
		store_spotify_token_delete(sp->store, key);
		sp_set_state(sp, sid, SP_SIGNIN_REQUIRED);
		ms_info("spotify: a session's sign-in expired; asking again");
		return MS_EAUTH;
	}
	if (rc)
		return rc;
	if (store_spotify_token_put(sp->store, key, &fresh))
		ms_warn("spotify: could not store refreshed tokens");
	*tok = fresh;
	memset(&fresh, 0, sizeof(fresh));
	return MS_OK;
}

/* Runs fn with a valid access token: refreshes a token about to expire,
 * and refreshes then retries once after a 401. */
/* fn once, from the budget, its answer accounted. */
static int call_fn(struct music_spotify_svc *sp,
		   struct music_spotify_client *client, const char *access,
		   sp_api_fn fn, void *arg, struct music_spotify_result *res)
{
	int rc;

	if (sp_call(sp, res))
		return MS_EBUSY;
	rc = fn(client, access, arg, res);
	sp_account(sp, res);
	return rc;
}

int sp_authed(struct music_spotify_svc *sp, struct music_spotify_client *client,
	      const char *sid, sp_api_fn fn, void *arg,
	      struct music_spotify_result *res)
{
	struct store_spotify_token tok;
	char key[65];
	int rc;

	if (sp_paused(sp, res))
		return music_spotify_kind_err(res->kind);
	sp_session_key(sid, key);
	if (store_spotify_token_get(sp->store, key, &tok) != MS_OK) {
		sp_result_fake(res, MUSIC_SPOTIFY_INVALID_GRANT,
			       "not connected to Spotify");
		return MS_EAUTH;
	}
	rc = MS_OK;
	if (music_spotify_token_stale(&tok, ms_unix_time()))
		rc = sp_refresh(sp, client, sid, key, &tok, res);
	if (!rc) {
		rc = call_fn(sp, client, tok.access, fn, arg, res);
		if (res->kind == MUSIC_SPOTIFY_UNAUTHORIZED) {
			rc = sp_refresh(sp, client, sid, key, &tok, res);
			if (!rc)
				rc = call_fn(sp, client, tok.access, fn, arg,
					     res);
		}
	}
	memset(&tok, 0, sizeof(tok));
	return rc;
}
