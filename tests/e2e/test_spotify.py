#!/usr/bin/env python3
"""test_spotify.py - end-to-end test of MoodSync's Spotify connection against
a fake Spotify (fake_spotify.py) on loopback: the full PKCE sign-in through
redirects, a real photo whose mood starts the playlist on the chosen device,
the search cache, then every failure a user meets (Premium, no device, 401,
429, quota, 5xx, timeout, revoked sign-in, denied consent, wrong and replayed
state, disconnect, unreachable API, no configuration) and the JSON the page
gets for each.
Prints TAP lines; exits non-zero on any failure."""
import json
import os
import socket
import stat
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib_server as L  # noqa: E402
from fake_spotify import FakeSpotify  # noqa: E402
from lib_spotify import (CLIENT_ID, command, follow, local_path,  # noqa: E402
                         sign_in, status, wait_for, wait_unpaused)

T = L.Tap()


def err_code(s):
    return s["error"]["code"] if s.get("error") else None


def post_json(c, path, obj):
    return c.post(path, json.dumps(obj).encode(), "application/json")


def main():
    fake = FakeSpotify(CLIENT_ID)
    fake.start()
    env = {"MOODSYNC_SPOTIFY_CLIENT_ID": CLIENT_ID,
           "MOODSYNC_SPOTIFY_ACCOUNTS_URL": fake.url,
           "MOODSYNC_SPOTIFY_API_URL": fake.url,
           "MOODSYNC_SPOTIFY_TIMEOUT_MS": "2000"}
    for k in ("MOODSYNC_SPOTIFY_REDIRECT_URI", "MOODSYNC_SPOTIFY_CLIENT_SECRET"):
        os.environ.pop(k, None)
    model = L.classifier_model()
    ann = L.load_annotations()
    photos = [L.read_photo(rel) for rel in sorted(ann)[:12]]
    photo = None

    with L.Server(model=model, env=env) as srv:
        c = srv.client()
        s = status(c)
        T.ok(s["configured"] and not s["connected"] and
             s["state"] == "disconnected", "status before sign-in", s)
        r = command(c, "/api/spotify/play")
        T.ok(r.status == 401 and r.json()["code"] == "not_connected",
             "play before sign-in: 401 not_connected", r.body)

        # ---- sign-in through the redirects ----
        r = c.get("/login")
        loc = r.header("Location") or ""
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        T.ok(r.status == 302 and loc.startswith(fake.url + "/authorize?") and
             q.get("client_id") == CLIENT_ID and
             q.get("code_challenge_method") == "S256" and
             len(q.get("code_challenge", "")) == 43 and
             len(q.get("state", "")) >= 32 and
             q.get("redirect_uri") == "http://127.0.0.1:%d/callback" % srv.port
             and set(q.get("scope", "").split()) == {
                 "user-read-playback-state", "user-modify-playback-state",
                 "user-read-currently-playing"},
             "/login redirects to /authorize with PKCE S256, state, scopes",
             loc)
        st, cb = follow(loc)
        T.ok(st == 302 and cb.startswith("http://127.0.0.1:%d/callback?" %
                                         srv.port),
             "fake accounts redirects back with a code", cb)
        cb_path = local_path(cb)
        r = c.get(cb_path)
        T.ok(r.status == 302 and r.header("Location") == "/?spotify=connecting",
             "/callback accepts the state and redirects to the page",
             (r.status, r.header("Location"), r.body))
        s = wait_for(c, lambda s: s["connected"] and s["devices"])
        T.ok(s["connected"] and s["state"] == "connected",
             "signed in: status connected", s)
        tok = fake.calls("POST", "/api/token")
        form = dict(urllib.parse.parse_qsl(tok[0]["body"])) if tok else {}
        T.ok(len(tok) == 1 and form.get("grant_type") == "authorization_code"
             and form.get("client_id") == CLIENT_ID and
             43 <= len(form.get("code_verifier", "")) <= 128 and
             "client_secret" not in form,
             "token exchange: authorization_code with verifier, no secret",
             tok)
        T.ok([d["id"] for d in s["devices"]] == ["dev-laptop-1",
                                                 "dev-phone-2"],
             "devices fetched after sign-in", s["devices"])
        r = c.get(cb_path)
        T.ok(r.status == 400 and r.json().get("code") == "bad_state",
             "replayed callback: 400 bad_state", r.body)
        bad = [
            (c.post("/api/spotify/play", b"{not json", "application/json"),
             400, "play: malformed JSON"),
            (post_json(c, "/api/spotify/play", {"uri": "spotify:track:1"}),
             400, "play: not a playlist URI"),
            (post_json(c, "/api/spotify/play", {"uri": 7}), 400,
             "play: uri not a string"),
            (c.post("/api/spotify/play", b'{"uri":"x"}', "text/plain"), 415,
             "play: wrong content type"),
            (c.post("/api/spotify/device", b"{" + b" " * 5000 + b"}",
                    "application/json"), 413, "device: body too large"),
            (post_json(c, "/api/spotify/device", {"device_id": 3}), 400,
             "device: id not a string"),
            (post_json(c, "/api/spotify/autoplay", {"autoplay": "yes"}), 400,
             "autoplay: not a boolean"),
            (c.get("/callback?code=" + "A" * 5000 + "&state=x"), 400,
             "callback: huge code, bad state"),
            (c.get("/callback"), 400, "callback: no parameters"),
        ]
        for r, want, name in bad:
            T.ok(r.status == want and r.error(),
                 "bad input, %s: %d in the error shape" % (name, want),
                 (r.status, r.body))
        mode = stat.S_IMODE(os.stat(srv.db).st_mode)
        T.ok(mode == 0o600, "database file mode 0600", oct(mode))

        # ---- choose a device, then a frame changes the mood ----
        r = post_json(c, "/api/spotify/device", {"device_id": "dev-phone-2"})
        T.ok(r.status == 200 and r.json()["device_id"] == "dev-phone-2",
             "device chosen", r.body)
        r = post_json(c, "/api/spotify/device", {"device_id": "x&y"})
        T.ok(r.status == 400, "malformed device id: 400", r.body)
        mood = None
        for p in photos:  # the first photo with a detected face sets it
            r = c.post_image(None, p)
            mood = (r.json().get("mood") or {}).get("mood") \
                if r.status == 200 else None
            if mood:
                photo = p
                break
        T.ok(mood, "a real photo gives a mood", r.body[:300])
        if not mood:
            return T.exit_code()
        s = wait_for(c, lambda s: s["last_play"] is not None)
        plays = fake.calls("PUT", "/v1/me/player/play")
        searches = fake.calls("GET", "/v1/search")
        rec = s["recommendation"] or {}
        uris = [p["uri"] for p in rec.get("playlists", [])]
        body = json.loads(plays[0]["body"]) if plays else {}
        T.ok(rec.get("mood") == mood and rec.get("source") == "spotify" and
             len(uris) >= 1 and all(u.startswith("spotify:playlist:")
                                    for u in uris),
             "recommendation from Spotify search for the mood", rec)
        T.ok(len(searches) == 1 and searches[0]["query"]["type"] ==
             "playlist" and int(searches[0]["query"]["limit"]) <= 10,
             "one search, type=playlist, limit <= 10", searches)
        T.ok(len(plays) == 1 and plays[0]["query"].get("device_id") ==
             "dev-phone-2" and body.get("context_uri") == uris[0] and
             plays[0]["auth"].startswith("Bearer AT-"),
             "auto-play reaches Spotify with device_id and context_uri",
             plays)
        lp = s["last_play"] or {}
        T.ok(lp.get("ok") and lp.get("autoplay") and
             lp.get("mood") == mood and s["error"] is None,
             "status shows the auto-play", s["last_play"])
        for _ in range(3):
            c.post_image(None, photo)
        time.sleep(0.5)
        T.ok(len(fake.calls("PUT", "/v1/me/player/play")) == 1,
             "same mood again: no second auto-play")
        s = status(c)
        T.ok(s["autoplay"] is True, "auto-play on by default")

        # ---- a second browser: same mood costs no search (cache) ----
        c2 = srv.client()
        sign_in(c2, fake)
        wait_for(c2, lambda s: s["connected"])
        r = post_json(c2, "/api/spotify/autoplay", {"autoplay": False})
        T.ok(r.status == 200 and r.json()["autoplay"] is False,
             "auto-play switched off", r.body)
        c2.post_image(None, photo)
        s2 = wait_for(c2, lambda s: s["recommendation"] is not None)
        T.ok(s2["recommendation"] and s2["recommendation"]["source"] ==
             "cache" and len(fake.calls("GET", "/v1/search")) == 1,
             "repeat mood served from the cache, no request",
             s2["recommendation"])
        time.sleep(0.3)
        T.ok(len(fake.calls("PUT", "/v1/me/player/play")) == 1 and
             status(c2)["last_play"] is None,
             "auto-play off: nothing played")

        # ---- now playing, pause, next ----
        r = c.get("/api/spotify/now-playing")
        T.ok(r.status == 200, "now-playing answers at once", r.body)
        deadline = time.time() + 5
        np = None
        while time.time() < deadline and not np:
            time.sleep(0.1)
            np = c.get("/api/spotify/now-playing").json()["now_playing"]
        T.ok(np and np["context_uri"] == uris[0] and np["track"],
             "now playing shows the playlist", np)
        n0 = status(c)["seq"]
        r = command(c, "/api/spotify/pause")
        T.ok(r.status == 202, "pause queued: 202", r.body)
        wait_for(c, lambda s: s["seq"] > n0)
        T.ok(fake.state.playing and not fake.state.playing["is_playing"],
             "pause reached Spotify", fake.state.playing)

        # ---- 403 PREMIUM_REQUIRED ----
        fake.control({"fail": {"path": "/v1/me/player/play", "status": 403,
                               "reason": "PREMIUM_REQUIRED",
                               "message": "Player command failed: Premium "
                                          "required"}})
        r = post_json(c, "/api/spotify/play", {"uri": uris[1]})
        T.ok(r.status == 202, "play queued", r.body)
        s = wait_for(c, lambda s: err_code(s) == "premium_required")
        T.ok(err_code(s) == "premium_required" and
             "Premium" in s["error"]["message"] and
             s["recommendation"]["playlists"],
             "403 PREMIUM_REQUIRED: says Premium, keeps recommending",
             s["error"])
        T.ok(s["paused_s"] == 0, "Premium is no reason to stop calling")

        # ---- 404 NO_ACTIVE_DEVICE ----
        post_json(c, "/api/spotify/device", {"device_id": ""})
        fake.control({"devices": [dict(d, is_active=False) for d in
                                  fake.state.devices]})
        post_json(c, "/api/spotify/play", {"uri": uris[1]})
        s = wait_for(c, lambda s: err_code(s) == "no_active_device")
        T.ok(err_code(s) == "no_active_device" and
             "open Spotify" in s["error"]["message"],
             "404 NO_ACTIVE_DEVICE: asks to open Spotify", s["error"])
        r = c.get("/api/spotify/devices")
        T.ok(r.status == 200 and len(r.json()["devices"]) == 2,
             "device list offered", r.body)
        post_json(c, "/api/spotify/device", {"device_id": "dev-laptop-1"})
        post_json(c, "/api/spotify/play", {"uri": uris[1]})
        s = wait_for(c, lambda s: s["error"] is None)
        T.ok(s["error"] is None and s["last_play"]["ok"] and
             s["last_play"]["context_uri"] == uris[1] and
             s["last_play"]["device_id"] == "dev-laptop-1",
             "after picking a device, play works and the error clears", s)

        # ---- 401: refresh and retry once; the new refresh token is kept --
        for round_ in (1, 2):
            n_tok = len(fake.calls("POST", "/api/token"))
            fake.control({"expire_access": True})
            n0 = status(c)["seq"]
            command(c, "/api/spotify/next")
            s = wait_for(c, lambda s: s["seq"] > n0)
            toks = fake.calls("POST", "/api/token")[n_tok:]
            nexts = fake.calls("POST", "/v1/me/player/next")
            T.ok(s["error"] is None and len(toks) == 1 and
                 dict(urllib.parse.parse_qsl(toks[0]["body"])).get(
                     "grant_type") == "refresh_token" and
                 nexts[-1]["auth"] != nexts[-2]["auth"],
                 "401 #%d: refreshed (rotated refresh token) and retried"
                 % round_, (s["error"], toks))

        # ---- 5xx: back off ----
        fake.control({"fail": {"path": "/v1/me/player/pause", "status": 503,
                               "message": "Service unavailable"}})
        command(c, "/api/spotify/pause")
        s = wait_for(c, lambda s: err_code(s) == "spotify_unavailable")
        T.ok(err_code(s) == "spotify_unavailable" and s["paused_s"] >= 1,
             "503: backing off", s)
        r = command(c, "/api/spotify/next")
        T.ok(r.status == 503 and r.header("Retry-After") and
             r.json()["code"] == "spotify_unavailable",
             "commands during the back-off: 503 + Retry-After", r.body)
        wait_unpaused(c)

        # ---- timeout ----
        # Spotify hangs 3 s, the client gives up after 2 s: anything that
        # waited on it would take 2 s or more.
        # A frame's own time (long under ThreadSanitizer) is measured
        # first, so only waiting on Spotify could push it past +1 s.
        t0 = time.time()
        c.post_image(None, photo)
        frame_s = time.time() - t0
        fake.control({"fail": {"path": "/v1/me/player/next", "delay": 3}})
        t0 = time.time()
        command(c, "/api/spotify/next")
        T.ok(time.time() - t0 < 1.0, "the request thread never waits")
        t0 = time.time()
        c.post_image(None, photo)  # the frame path does not wait either
        T.ok(time.time() - t0 < frame_s + 1.0,
             "frames keep flowing while Spotify hangs (%.2f s, %.2f s alone)"
             % (time.time() - t0, frame_s))
        s = wait_for(c, lambda s: err_code(s) == "timeout")
        T.ok(err_code(s) == "timeout" and s["paused_s"] >= 1,
             "timeout: backing off", s)
        wait_unpaused(c)

        # ---- 429 with Retry-After: no hammering ----
        fake.control({"fail": {"path": "/v1/me/player/next", "status": 429,
                               "retry_after": 2,
                               "message": "API rate limit exceeded"}})
        command(c, "/api/spotify/next")
        s = wait_for(c, lambda s: err_code(s) == "rate_limited")
        n_api = len([e for e in fake.log() if e["path"].startswith("/v1/")])
        T.ok(err_code(s) == "rate_limited" and 1 <= s["paused_s"] <= 2 and
             s["paused_reason"] == "rate_limited",
             "429: paused for Retry-After", s)
        r = command(c, "/api/spotify/pause")
        T.ok(r.status == 503 and r.json()["code"] == "rate_limited" and
             int(r.header("Retry-After") or 0) >= 1,
             "commands while rate limited: 503 + Retry-After", r.body)
        c.get("/api/spotify/now-playing")
        c.get("/api/spotify/devices")
        time.sleep(0.5)
        T.ok(len([e for e in fake.log() if e["path"].startswith("/v1/")]) ==
             n_api, "nothing reaches Spotify during the pause")
        s = wait_unpaused(c)
        r = command(c, "/api/spotify/pause")
        s = wait_for(c, lambda s: s["error"] is None)
        T.ok(r.status == 202 and s["error"] is None,
             "after Retry-After, calls go through again", s)

        # ---- wrong state, denied consent ----
        r = c.get("/login")
        r = c.get("/callback?code=abc&state=not-the-state")
        T.ok(r.status == 400 and r.json().get("code") == "bad_state" and
             "state" in r.json()["error"],
             "wrong state: 400 with a clear message", r.body)
        r = c.get("/callback?code=abc&state=not-the-state",
                  headers={"Accept": "text/html,*/*"})
        T.ok(r.status == 400 and (r.header("Content-Type") or "")
             .startswith("text/html") and b"Back to MoodSync" in r.body,
             "... a browser gets a page with a way back", r.body[:200])
        cb_path, r = sign_in(c, fake, deny=True)
        T.ok(cb_path and "error=access_denied" in cb_path and
             r.status == 302 and r.header("Location") == "/?spotify=denied",
             "denied consent: back to the page", (cb_path, r.status))
        s = status(c)
        T.ok(err_code(s) == "access_denied" and "declined" in
             s["error"]["message"] and s["connected"],
             "denied consent: clear message, old sign-in kept", s["error"])

        # ---- revoked sign-in (invalid_grant) ----
        fake.control({"expire_access": True, "revoke_refresh": True})
        command(c, "/api/spotify/pause")
        s = wait_for(c, lambda s: s["state"] == "signin_required")
        T.ok(s["state"] == "signin_required" and not s["connected"] and
             err_code(s) == "signin_required" and
             "sign in again" in s["error"]["message"],
             "invalid_grant: asks to sign in again", s)
        r = command(c, "/api/spotify/pause")
        T.ok(r.status == 401, "tokens gone after invalid_grant", r.body)
        sign_in(c, fake)
        s = wait_for(c, lambda s: s["connected"])
        T.ok(s["connected"], "sign in again works", s["state"])

        # ---- disconnect ----
        r = command(c, "/api/spotify/disconnect")
        s = status(c)
        T.ok(r.status == 200 and not s["connected"] and
             command(c, "/api/spotify/pause").status == 401,
             "disconnect forgets the tokens", s)
        sign_in(c, fake)
        wait_for(c, lambda s: s["connected"])

        # ---- quota: stop calling for a long time, keep recommending ----
        fake.control({"fail": {"path": "/v1/me/player/next", "status": 429,
                               "reason": "QUOTA_EXCEEDED", "retry_after": 1,
                               "message": "quota exceeded"}})
        command(c, "/api/spotify/next")
        s = wait_for(c, lambda s: err_code(s) == "quota_exceeded")
        T.ok(err_code(s) == "quota_exceeded" and s["paused_s"] >= 3000 and
             "quota" in s["error"]["message"],
             "QUOTA_EXCEEDED: paused for an hour, user told", s)
        n_api = len(fake.log())
        c3 = srv.client()
        c3.post_image(None, photo)
        s3 = wait_for(c3, lambda s: s["recommendation"] is not None)
        T.ok(s3["recommendation"] and s3["recommendation"]["source"] in
             ("cache", "stale_cache", "offline") and
             s3["recommendation"]["playlists"] and len(fake.log()) == n_api,
             "during the quota pause: recommendations without calls",
             s3["recommendation"])

        log = srv.log_text()
        secrets_seen = [t for t in ("AT-", "RT-", "CODE-") if t in log]
        T.ok(not secrets_seen, "no token or code in the server log",
             secrets_seen)
        T.ok(srv.alive(), "server still up")
        T.ok(srv.stop() == 0, "server stops cleanly")

    # ---- Spotify unreachable: recommendations from the offline catalog ----
    sk = socket.socket()  # a port nobody listens on
    sk.bind(("127.0.0.1", 0))
    dead = sk.getsockname()[1]
    sk.close()
    env_dead = dict(env, MOODSYNC_SPOTIFY_API_URL="http://127.0.0.1:%d" % dead)
    with L.Server(model=model, env=env_dead) as srv:
        c = srv.client()
        sign_in(c, fake)
        s = wait_for(c, lambda s: s["connected"] and s["error"])
        T.ok(s["connected"] and err_code(s) == "unreachable" and
             s["paused_s"] >= 1,
             "API unreachable after sign-in: said so, backing off", s)
        wait_unpaused(c)
        c.post_image(None, photo)
        s = wait_for(c, lambda s: s["recommendation"] is not None)
        rec = s["recommendation"] or {}
        T.ok(rec.get("source") == "offline" and rec.get("playlists") and
             all(p["url"].startswith("https://open.spotify.com/search/") and
                 not p["uri"] for p in rec["playlists"]) and
             s["last_play"] is None,
             "API unreachable: the offline catalog's links, no play", rec)

    # ---- not configured: the app runs as before ----
    env_off = {"MOODSYNC_SPOTIFY_CLIENT_ID": ""}
    with L.Server(model=model, env=env_off) as srv:
        c = srv.client()
        s = status(c)
        r = c.get("/login")
        T.ok(not s["configured"] and r.status == 503 and
             r.json()["code"] == "not_configured" and
             "MOODSYNC_SPOTIFY_CLIENT_ID" in r.json()["error"],
             "without a client ID: Spotify off with a clear message", r.body)
        r = c.post_image(None, photo)
        T.ok(r.status == 200 and c.get("/api/recommendation").status == 200,
             "without a client ID the app still works offline")
    fake.stop()
    return T.exit_code()


if __name__ == "__main__":
    sys.exit(main())
