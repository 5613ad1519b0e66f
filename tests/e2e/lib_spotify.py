"""lib_spotify.py - shared helpers for the e2e tests that sign in to the
fake Spotify (fake_spotify.py) through MoodSync's real routes: the
server's environment for the fake, the PKCE sign-in through the
redirects as a browser follows them, the page's status polling, and a
command sent the way the page sends it."""
import http.client
import os
import time
import urllib.parse

CLIENT_ID = "test-client-id"


def spotify_env(fake, timeout_ms=2000):
    """The server environment pointing MoodSync at `fake` (and dropping a
    redirect URI or client secret the caller's environment may hold)."""
    for k in ("MOODSYNC_SPOTIFY_REDIRECT_URI", "MOODSYNC_SPOTIFY_CLIENT_SECRET"):
        os.environ.pop(k, None)
    return {"MOODSYNC_SPOTIFY_CLIENT_ID": CLIENT_ID,
            "MOODSYNC_SPOTIFY_ACCOUNTS_URL": fake.url,
            "MOODSYNC_SPOTIFY_API_URL": fake.url,
            "MOODSYNC_SPOTIFY_TIMEOUT_MS": str(timeout_ms)}


def follow(location):
    """GET an absolute URL on the fake (no cookies: a different site)."""
    u = urllib.parse.urlsplit(location)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        c.request("GET", u.path + ("?" + u.query if u.query else ""))
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("Location")
    finally:
        c.close()


def local_path(location):
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def sign_in(c, fake, deny=False):
    """/login -> fake /authorize -> our /callback; returns (callback path,
    final response)."""
    if deny:
        fake.control({"deny": True})
    r = c.get("/login")
    if r.status != 302:
        return None, r
    st, loc = follow(r.header("Location"))
    if st != 302 or not loc:
        return None, r
    path = local_path(loc)
    return path, c.get(path)


def status(c):
    return c.get("/api/spotify/status").json()


def wait_for(c, pred, timeout=8.0):
    """Polls the status until pred(status) holds; returns the last one."""
    deadline = time.time() + timeout
    s = status(c)
    while not pred(s) and time.time() < deadline:
        time.sleep(0.05)
        s = status(c)
    return s


def wait_unpaused(c, timeout=10.0):
    return wait_for(c, lambda s: s["paused_s"] == 0, timeout)


def command(c, path):
    """A body-less command as the page sends it (with its X-MoodSync
    header; without it the server refuses: cross-site guard)."""
    return c.post(path, b"", None, headers={"X-MoodSync": "1"})
