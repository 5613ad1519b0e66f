#!/usr/bin/env python3
"""slow_clients.py - a normal client's latency while N connections send
their request headers a byte a second (slow-loris), against the same
server with no slow clients measured in the same run (the peer).
Prints the per-request latencies (page, /healthz, a frame) for both, the
ratio, how many slow connections the header deadline cut, and the log
length. Usage: bench/slow_clients.py [--conns 300] [--hold 60]
(MOODSYNC_BIN picks the server binary, default build/release/moodsync)."""
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import lib_server as L  # noqa: E402
from test_hardening import SlowClients  # noqa: E402


def normal_client(srv, seconds):
    """Page, /healthz and a frame in turn for `seconds`; latencies (s)
    and failures."""
    face = L.png_gray(96, 72)
    c = srv.client()
    lat, fails = [], 0
    end = time.time() + seconds
    while time.time() < end:
        for what in ("page", "healthz", "frame"):
            t0 = time.time()
            try:
                if what == "page":
                    r = c.get("/", timeout=10)
                elif what == "healthz":
                    r = c.get("/healthz", timeout=10)
                else:
                    r = c.post("/api/frame", face, "image/png", timeout=10)
                ok = r.status == 200
            except OSError:
                ok = False
            lat.append(time.time() - t0)
            fails += not ok
        time.sleep(0.25)
    return sorted(lat), fails


def summary(lat):
    return "n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms" % (
        len(lat), 1000 * lat[len(lat) // 2], 1000 * lat[int(len(lat) * 0.99)],
        1000 * lat[-1])


def main(argv):
    conns, hold = 300, 60.0
    while argv:
        a = argv.pop(0)
        if a == "--conns":
            conns = int(argv.pop(0))
        elif a == "--hold":
            hold = float(argv.pop(0))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    with L.Server() as srv:
        base, bfails = normal_client(srv, 10.0)
        slow = SlowClients(srv.port, conns)
        th = threading.Thread(target=slow.run, args=(hold,))
        th.start()
        time.sleep(1.0)
        loaded, lfails = normal_client(srv, hold - 2.0)
        th.join(hold + 30)
        log_lines = len(srv.log_text().splitlines())
    print("peer (no slow clients, 10 s):      %s, %d failed" % (summary(base), bfails))
    print("%d slow-header clients, %.0f s:    %s, %d failed" % (
        conns, hold, summary(loaded), lfails))
    print("ratio loaded/peer: p50 %.2fx, max %.2fx; requests over 1 s: %d" % (
        loaded[len(loaded) // 2] / base[len(base) // 2], loaded[-1] / base[-1],
        sum(1 for x in loaded if x > 1.0)))
    lives = sorted(slow.lifetimes)
    print("slow connections cut at the header deadline: %d (lived %.1f..%.1f s), "
          "refused at connect: %d; server log: %d lines" % (
              len(lives), lives[0] if lives else -1, lives[-1] if lives else -1,
              slow.refused, log_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
