#!/usr/bin/env python3
"""fake_spotify.py - a small stand-in for Spotify's accounts service and Web
API, for MoodSync's end-to-end tests. It follows the documented request and
response shapes: /authorize (Authorization Code with PKCE), /api/token
(authorization_code and refresh_token grants, S256 verifier check, single-use
codes and rotating refresh tokens), /v1/search?type=playlist (with null
items, limit <= 10), /v1/me/player/devices, play (checks the bearer token and
the JSON body), currently-playing, pause and next.

Test hooks (not Spotify's): POST /_control with JSON
  {"deny": true}                       next /authorize answers access_denied
  {"fail": {"path": "/v1/me/player/play", "status": 403,
            "reason": "PREMIUM_REQUIRED", "retry_after": 2,
            "times": 1, "delay": 0}}   queue a failure (delay: seconds to
                                       sleep first, for timeouts)
  {"expire_access": true}              every access token now answers 401
  {"revoke_refresh": true}             every refresh token is now invalid
  {"devices": [...]}                   replace the device list
  {"expires_in": 30}                   lifetime of the tokens issued next
GET /_log gives every request seen (method, path, query, auth, body);
POST /_reset clears log, failures and flags.

Use as a module (FakeSpotify(client_id).start() -> base URL) or run it:
  fake_spotify.py [--port N] [--client-id ID]
"""
import base64
import hashlib
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def b62_id(seed):
    """A deterministic 22-char base62 id from a string."""
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    out = []
    for _ in range(22):
        n, r = divmod(n, 62)
        out.append(B62[r])
    return "".join(out)


def s256(verifier):
    d = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(d).rstrip(b"=").decode()


DEFAULT_DEVICES = [
    {"id": "dev-laptop-1", "is_active": True, "is_private_session": False,
     "is_restricted": False, "name": "Test Laptop", "type": "Computer",
     "volume_percent": 60, "supports_volume": True},
    {"id": "dev-phone-2", "is_active": False, "is_private_session": False,
     "is_restricted": False, "name": "Test Phone", "type": "Smartphone",
     "volume_percent": 40, "supports_volume": True},
]


class State:
    def __init__(self, client_id):
        self.lock = threading.Lock()
        self.client_id = client_id
        self.reset()

    def reset(self):
        self.codes = {}      # code -> dict(challenge, redirect_uri, scope)
        self.access = {}     # token -> expires_at
        self.refresh = {}    # token -> True
        self.log = []
        self.fails = []
        self.deny = False
        self.devices = [dict(d) for d in DEFAULT_DEVICES]
        self.playing = None  # dict(context_uri, device_id, is_playing)
        self.expires_in = 3600

    def issue(self, scope):
        at = "AT-" + secrets.token_urlsafe(24)
        rt = "RT-" + secrets.token_urlsafe(24)
        self.access[at] = time.time() + self.expires_in
        self.refresh[rt] = True
        return {"access_token": at, "token_type": "Bearer", "scope": scope,
                "expires_in": self.expires_in, "refresh_token": rt}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSpotify/1.0"

    def log_message(self, fmt, *args):  # quiet
        pass

    @property
    def st(self):
        return self.server.state

    # ---- plumbing ----
    def send(self, status, obj=None, headers=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def api_error(self, status, message, reason=None, headers=None):
        err = {"status": status, "message": message}
        if reason:
            err["reason"] = reason
        self.send(status, {"error": err}, headers)

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        body = self.read_body()
        if not url.path.startswith("/_"):
            with self.st.lock:
                self.st.log.append({
                    "method": method, "path": url.path, "query": query,
                    "auth": self.headers.get("Authorization"),
                    "content_type": self.headers.get("Content-Type"),
                    "body": body.decode("utf-8", "replace"),
                    "t": time.time()})
        if url.path.startswith("/_"):
            return self.control(method, url.path, body)
        rule = self.take_failure(url.path)
        if rule:
            if rule.get("delay"):
                time.sleep(rule["delay"])
            if rule.get("status"):
                headers = {}
                if rule.get("retry_after") is not None:
                    headers["Retry-After"] = rule["retry_after"]
                if url.path == "/api/token":
                    return self.send(rule["status"], {
                        "error": rule.get("reason", "server_error"),
                        "error_description": rule.get("message", "failed")},
                        headers)
                return self.api_error(rule["status"],
                                      rule.get("message", "Failure"),
                                      rule.get("reason"), headers)
        route = (method, url.path)
        if route == ("GET", "/authorize"):
            return self.authorize(query)
        if route == ("POST", "/api/token"):
            return self.token(body)
        if url.path.startswith("/v1/"):
            if not self.authorized():
                return
            if route == ("GET", "/v1/search"):
                return self.search(query)
            if route == ("GET", "/v1/me/player/devices"):
                with self.st.lock:
                    return self.send(200, {"devices": self.st.devices})
            if route == ("PUT", "/v1/me/player/play"):
                return self.play(query, body)
            if route == ("GET", "/v1/me/player/currently-playing"):
                return self.now_playing()
            if route == ("PUT", "/v1/me/player/pause"):
                return self.player_cmd(query, "pause")
            if route == ("POST", "/v1/me/player/next"):
                return self.player_cmd(query, "next")
        return self.api_error(404, "Service not found")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def take_failure(self, path):
        with self.st.lock:
            for rule in self.st.fails:
                if path.startswith(rule.get("path", "")):
                    if rule.get("times", 1) > 0:
                        rule["times"] = rule.get("times", 1) - 1
                    if rule.get("times", 1) == 0:
                        self.st.fails.remove(rule)
                    return dict(rule)
        return None

    # ---- test hooks ----
    def control(self, method, path, body):
        st = self.st
        if method == "GET" and path == "/_log":
            with st.lock:
                return self.send(200, {"log": st.log, "playing": st.playing})
        if method == "POST" and path == "/_reset":
            with st.lock:
                st.reset()
            return self.send(200, {"ok": True})
        if method == "POST" and path == "/_control":
            cmd = json.loads(body or b"{}")
            with st.lock:
                if "deny" in cmd:
                    st.deny = bool(cmd["deny"])
                if "fail" in cmd:
                    rule = dict(cmd["fail"])
                    rule.setdefault("times", 1)
                    st.fails.append(rule)
                if cmd.get("expire_access"):
                    st.access = {k: 0 for k in st.access}
                if cmd.get("revoke_refresh"):
                    st.refresh = {}
                if "devices" in cmd:
                    st.devices = cmd["devices"]
                if "expires_in" in cmd:
                    st.expires_in = int(cmd["expires_in"])
            return self.send(200, {"ok": True})
        return self.send(404, {"error": "no such control"})

    # ---- accounts service ----
    def authorize(self, q):
        st = self.st
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != st.client_id:
            return self.send(400, {"error": "invalid_client",
                                   "error_description": "Invalid client"})
        if not redirect.startswith("http://127.0.0.1"):
            return self.send(400, {"error": "invalid_request",
                                   "error_description": "Invalid redirect URI"})
        if q.get("response_type") != "code" or \
                q.get("code_challenge_method") != "S256" or \
                len(q.get("code_challenge", "")) != 43:
            return self.send(400, {"error": "invalid_request",
                                   "error_description": "bad PKCE request"})
        state = q.get("state", "")
        sep = "&" if "?" in redirect else "?"
        with st.lock:
            if st.deny:
                st.deny = False
                return self.redirect(redirect + sep + urllib.parse.urlencode(
                    {"error": "access_denied", "state": state}))
            code = "CODE-" + secrets.token_urlsafe(32)
            st.codes[code] = {"challenge": q["code_challenge"],
                              "redirect_uri": redirect,
                              "scope": q.get("scope", "")}
        return self.redirect(redirect + sep + urllib.parse.urlencode(
            {"code": code, "state": state}))

    def token(self, body):
        st = self.st
        if not (self.headers.get("Content-Type") or "").startswith(
                "application/x-www-form-urlencoded"):
            return self.send(400, {"error": "invalid_request",
                                   "error_description": "bad content type"})
        f = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
        if f.get("client_id") != st.client_id:
            return self.send(400, {"error": "invalid_client",
                                   "error_description": "Invalid client"})
        grant = f.get("grant_type")
        with st.lock:
            if grant == "authorization_code":
                c = st.codes.pop(f.get("code", ""), None)  # single use
                if not c:
                    return self.send(400, {
                        "error": "invalid_grant",
                        "error_description": "Invalid authorization code"})
                if f.get("redirect_uri") != c["redirect_uri"]:
                    return self.send(400, {
                        "error": "invalid_grant",
                        "error_description": "Invalid redirect URI"})
                v = f.get("code_verifier", "")
                if not 43 <= len(v) <= 128 or s256(v) != c["challenge"]:
                    return self.send(400, {
                        "error": "invalid_grant",
                        "error_description": "code_verifier was incorrect"})
                return self.send(200, st.issue(c["scope"]))
            if grant == "refresh_token":
                rt = f.get("refresh_token", "")
                if not st.refresh.pop(rt, None):  # rotating: single use
                    return self.send(400, {
                        "error": "invalid_grant",
                        "error_description": "Invalid refresh token"})
                return self.send(200, st.issue(
                    "user-read-playback-state user-modify-playback-state "
                    "user-read-currently-playing"))
        return self.send(400, {"error": "unsupported_grant_type",
                               "error_description": "grant_type"})

    # ---- Web API ----
    def authorized(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            self.api_error(401, "No token provided")
            return False
        with self.st.lock:
            exp = self.st.access.get(auth[7:])
        if exp is None:
            self.api_error(401, "Invalid access token")
            return False
        if exp < time.time():
            self.api_error(401, "The access token expired")
            return False
        return True

    def search(self, q):
        if q.get("type") != "playlist" or not q.get("q"):
            return self.api_error(400, "Bad search type field")
        try:
            limit = int(q.get("limit", "20"))
        except ValueError:
            return self.api_error(400, "Invalid limit")
        if not 1 <= limit <= 10:
            return self.api_error(400, "Invalid limit")
        items = [None]  # Spotify's search really does this
        for i in range(limit - 1):
            pid = b62_id(q["q"] + str(i))
            items.append({
                "collaborative": False, "description": "",
                "external_urls": {"spotify":
                                  "https://open.spotify.com/playlist/" + pid},
                "href": "https://api.spotify.com/v1/playlists/" + pid,
                "id": pid, "images": [{"url": "https://i.scdn.co/image/" + pid,
                                        "height": None, "width": None}],
                "name": "%s #%d" % (q["q"].title(), i + 1),
                "owner": {"display_name": "fan%d" % i, "id": "fan%d" % i,
                          "type": "user", "uri": "spotify:user:fan%d" % i},
                "public": True, "snapshot_id": "x",
                # the February 2026 shape: "tracks" is null, "items" counts
                "tracks": None, "items": {"href": "h", "total": 20 + i},
                "type": "playlist", "uri": "spotify:playlist:" + pid})
        return self.send(200, {"playlists": {
            "href": "h", "limit": limit, "next": None, "offset": 0,
            "previous": None, "total": 1000, "items": items}})

    def device_ok(self, device_id):
        with self.st.lock:
            if device_id:
                return any(d["id"] == device_id for d in self.st.devices)
            return any(d.get("is_active") for d in self.st.devices)

    def play(self, q, body):
        device_id = q.get("device_id")
        if body:
            if not (self.headers.get("Content-Type") or "").startswith(
                    "application/json"):
                return self.api_error(400, "Content-Type must be JSON")
            try:
                obj = json.loads(body)
            except ValueError:
                return self.api_error(400, "Malformed json")
            uri = obj.get("context_uri")
            if not isinstance(uri, str) or not uri.startswith(
                    "spotify:playlist:"):
                return self.api_error(400, "Invalid context uri")
        else:
            uri = None
        if not self.device_ok(device_id):
            if device_id:
                return self.api_error(404, "Device not found")
            return self.api_error(404, "Player command failed: No active "
                                  "device found", "NO_ACTIVE_DEVICE")
        with self.st.lock:
            if uri:
                self.st.playing = {"context_uri": uri, "device_id": device_id,
                                   "is_playing": True, "track": 0}
            elif self.st.playing:
                self.st.playing["is_playing"] = True
            else:
                return self.api_error(404, "Player command failed: No active "
                                      "device found", "NO_ACTIVE_DEVICE")
        return self.send(204)

    def player_cmd(self, q, verb):
        if not self.device_ok(q.get("device_id")):
            return self.api_error(404, "Player command failed: No active "
                                  "device found", "NO_ACTIVE_DEVICE")
        with self.st.lock:
            p = self.st.playing
            if not p:
                return self.api_error(404, "Player command failed: No active "
                                      "device found", "NO_ACTIVE_DEVICE")
            if verb == "pause":
                p["is_playing"] = False
            else:
                p["track"] += 1
        return self.send(204)

    def now_playing(self):
        with self.st.lock:
            p = dict(self.st.playing) if self.st.playing else None
        if not p:
            return self.send(204)
        return self.send(200, {
            "timestamp": int(time.time() * 1000), "progress_ms": 1000,
            "is_playing": p["is_playing"],
            "context": {"type": "playlist", "uri": p["context_uri"]},
            "currently_playing_type": "track",
            "item": {"name": "Track %d" % (p["track"] + 1),
                     "uri": "spotify:track:" + b62_id(str(p["track"])),
                     "duration_ms": 180000,
                     "artists": [{"name": "Fake Artist"}, None]}})


class FakeSpotify:
    """Runs the fake on 127.0.0.1 in a daemon thread."""

    def __init__(self, client_id="test-client-id", port=0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        # a client that timed out closes the socket under a slow answer
        self.httpd.handle_error = lambda request, address: None
        self.httpd.state = State(client_id)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self.url

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def state(self):
        return self.httpd.state

    def control(self, cmd):
        """POSTs a /_control command (see Handler.control) to the fake."""
        import http.client
        c = http.client.HTTPConnection("127.0.0.1",
                                       self.httpd.server_address[1])
        c.request("POST", "/_control", json.dumps(cmd).encode(),
                  {"Content-Type": "application/json"})
        c.getresponse().read()
        c.close()

    def log(self):
        """A copy of the requests the fake received, oldest first."""
        with self.state.lock:
            return list(self.state.log)

    def calls(self, method, path):
        return [e for e in self.log() if e["method"] == method and
                e["path"] == path]


def main(argv):
    port, cid = 0, "test-client-id"
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--port" and args:
            port = int(args.pop(0))
        elif a == "--client-id" and args:
            cid = args.pop(0)
        else:
            print("usage: fake_spotify.py [--port N] [--client-id ID]",
                  file=sys.stderr)
            return 2
    fake = FakeSpotify(cid, port)
    print("fake spotify on %s (client id %s)" % (fake.url, cid), flush=True)
    try:
        fake.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
