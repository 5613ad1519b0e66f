#!/usr/bin/env python3
"""test_library_analyze.py - end-to-end checks of `moodsync library analyze`:
WAV files written here (a click track with RIFF INFO tags, a loud busy
track and a quiet calm one) come back as one JSON line each with tags,
features, tempo and a mood in [-1, 1] that ranks them; bad files (empty,
garbage, a cut header, missing, a directory) each get one line on stderr
while the good files are still done and the exit status is 1; a clip of
the shared dev set decodes as MP3 with its ID3 title. `library scan` of
copies of one tagged WAV in a folder shows titles from the file names,
also after a database with the tag as every title is scanned again."""
import json
import math
import os
import random
import sqlite3
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib_server import Tap, data_dir, moodsync_bin  # noqa: E402


def run(args, timeout=300):
    p = subprocess.run([moodsync_bin()] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def wav_bytes(samples, rate=44100, channels=2, tags=None):
    """16-bit PCM WAV of mono float samples copied to every channel, with an
    optional LIST/INFO chunk (INAM title, IART artist, IGNR genre)."""
    frames = b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32767)) * channels
                      for s in samples)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2, channels * 2, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if tags:
        info = b"INFO"
        for key, val in tags.items():
            v = val.encode() + b"\0"
            if len(v) % 2:
                v += b"\0"
            info += key.encode() + struct.pack("<I", len(v)) + v
        chunks += b"LIST" + struct.pack("<I", len(info)) + info
    chunks += b"data" + struct.pack("<I", len(frames)) + frames
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def clicks(bpm, seconds, rate=44100):
    rnd = random.Random(1)
    x = [0.0] * int(seconds * rate)
    t = 0.2
    while t < seconds - 0.05:
        at = int(t * rate)
        for i in range(int(0.01 * rate)):
            x[at + i] = 0.8 * rnd.uniform(-1, 1) * math.exp(-i / (0.002 * rate))
        t += 60.0 / bpm
    return x


def busy(seconds, rate=44100):
    """Loud, dense, bright: noise bursts on every 16th note at 150 BPM."""
    rnd = random.Random(2)
    step = 60.0 / 150 / 4
    return [0.7 * rnd.uniform(-1, 1) * math.exp(-((i / rate) % step) * 30)
            for i in range(int(seconds * rate))]


def calm(seconds, rate=44100):
    """Quiet, steady, consonant: a soft C major chord."""
    hz = [261.63, 329.63, 392.0]
    return [0.03 * sum(math.sin(2 * math.pi * f * i / rate) for f in hz)
            for i in range(int(seconds * rate))]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def scan_titles(tmp, root):
    """Scans root into tmp/titles.db; {path relative to root: title}."""
    db = os.path.join(tmp, "titles.db")
    rc, out, err = run(["library", "scan", "--quiet", "--db", db, root])
    if rc != 0:
        return {"error": err}
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        rows = con.execute("SELECT path, title FROM tracks").fetchall()
    finally:
        con.close()
    return {os.path.relpath(p, root): title for p, title in rows}


def check_shared_tags(t, tmp):
    root = os.path.join(tmp, "music")
    game, other = os.path.join(root, "game"), os.path.join(root, "other")
    os.makedirs(game)
    os.makedirs(other)
    same = wav_bytes(calm(2), tags={"INAM": "Living Caves", "IART": "NeonCorridor"})
    for name in ["hr3-caves.wav", "hr3_desert.wav", "hr3-hell.wav"]:
        write(os.path.join(game, name), same)
    write(os.path.join(game, "solo.wav"),
          wav_bytes(calm(2), tags={"INAM": "Solo", "IART": "NeonCorridor"}))
    write(os.path.join(other, "copy.wav"), same)
    want = {"game/hr3-caves.wav": "hr3 caves", "game/hr3_desert.wav": "hr3 desert",
            "game/hr3-hell.wav": "hr3 hell", "game/solo.wav": "Solo",
            "other/copy.wav": "Living Caves"}
    got = scan_titles(tmp, root)
    t.ok(got == want, "files of a folder that share their tags show titles from their names",
         json.dumps(got))
    con = sqlite3.connect(os.path.join(tmp, "titles.db"))
    with con:  # as a scan before the rule left it
        con.execute("UPDATE tracks SET title = tag_title")
    con.close()
    got = scan_titles(tmp, root)
    t.ok(got == want, "a rescan that analyses nothing settles an old database's titles",
         json.dumps(got))


def main():
    t = Tap()
    rc, out, _ = run(["library", "--help"])
    t.ok(rc == 0 and "analyze" in out, "library --help lists analyze")
    rc, _, err = run(["library", "nope"])
    t.ok(rc == 2 and err.count("\n") == 1, "an unknown verb is one line, status 2", err)
    rc, _, _ = run(["library", "analyze"])
    t.ok(rc == 2, "analyze with no files is a usage error")
    rc, _, err = run(["library", "analyze", "--max-seconds", "x", "a.wav"])
    t.ok(rc == 2 and err.count("\n") == 1, "a bad --max-seconds is one line, status 2", err)

    with tempfile.TemporaryDirectory() as tmp:
        p = {k: os.path.join(tmp, k) for k in
             ["click.wav", "busy.wav", "calm.wav", "empty.wav", "junk.mp3", "cut.wav"]}
        write(p["click.wav"], wav_bytes(clicks(120, 12), tags={
            "INAM": "Click \u00e9", "IART": "Metronome", "IGNR": "Test"}))
        write(p["busy.wav"], wav_bytes(busy(12)))
        write(p["calm.wav"], wav_bytes(calm(12)))
        write(p["empty.wav"], b"")
        write(p["junk.mp3"], bytes(random.Random(3).getrandbits(8) for _ in range(20000)))
        write(p["cut.wav"], wav_bytes(calm(1))[:30])
        missing = os.path.join(tmp, "missing.ogg")
        bad = [p["empty.wav"], p["junk.mp3"], p["cut.wav"], missing, tmp]
        args = ["library", "analyze", "--json", p["click.wav"], bad[0], p["busy.wav"],
                bad[1], bad[2], p["calm.wav"], bad[3], bad[4]]
        rc, out, err = run(args)
        lines = out.splitlines()
        t.ok(rc == 1, "exit status 1 when some files fail", "rc=%d" % rc)
        errs = err.splitlines()
        t.ok(len(errs) == len(bad) and all(b in e for b, e in zip(bad, errs)),
             "each bad file gets one line on stderr, in order", err)
        docs = {}
        for line in lines:
            try:
                d = json.loads(line)
                docs[os.path.basename(d["path"])] = d
            except (ValueError, KeyError):
                pass
        t.ok(sorted(docs) == ["busy.wav", "calm.wav", "click.wav"],
             "the good files are still analysed, one JSON line each", out)
        c = docs.get("click.wav", {})
        f = c.get("features", {})
        t.ok(all(k in c for k in ["path", "duration_s", "valence", "arousal", "words", "tags",
                                  "features"]),
             "the JSON has path, duration_s, valence, arousal, words, tags, features")
        t.ok(abs(c.get("duration_s", 0) - 12.0) < 0.01 and f.get("sample_rate") == 44100
             and f.get("channels") == 2, "duration, rate and channels of the WAV")
        t.ok(c.get("tags", {}).get("title") == "Click \u00e9"
             and c["tags"].get("artist") == "Metronome" and c["tags"].get("genre") == "Test",
             "RIFF INFO tags come back (UTF-8 intact)", json.dumps(c.get("tags")))
        t.ok(abs(f.get("tempo_bpm", 0) - 120) < 2.5,
             "a 120 BPM click track measures 120 BPM", "tempo %s" % f.get("tempo_bpm"))
        moods = [docs.get(k, {}) for k in ["busy.wav", "calm.wav"]]
        t.ok(all(-1 <= m.get("valence", 9) <= 1 and -1 <= m.get("arousal", 9) <= 1 for m in moods),
             "valence and arousal lie in [-1, 1]")
        t.ok(moods[0].get("arousal", -9) > moods[1].get("arousal", 9) + 0.3,
             "the loud busy track is more aroused than the quiet chord",
             "%s vs %s" % (moods[0].get("arousal"), moods[1].get("arousal")))
        t.ok(moods[1]["features"]["mode_major"] > 0.5 if moods[1] else False,
             "the C major chord reads as major")
        check_shared_tags(t, tmp)

    clip = os.path.join(data_dir(), "music", "clips", "rock", "102.mp3")
    if os.path.exists(clip):
        rc, out, err = run(["library", "analyze", "--json", clip])
        d = json.loads(out) if rc == 0 and out else {}
        t.ok(abs(d.get("duration_s", 0) - 30.015) < 0.05 and d.get("tags", {}).get("title"),
             "an MP3 clip of the dev set decodes with its ID3 title", err)
    else:
        t.diag("dev set not found: MP3 check skipped")

    demo = "/usr/share/hyperrogue/music"
    if os.path.isdir(demo):
        tracks = sorted(os.path.join(demo, f) for f in os.listdir(demo) if f.endswith(".ogg"))
        rc, out, err = run(["library", "analyze", "--json"] + tracks)
        docs = [json.loads(line) for line in out.splitlines()]
        t.ok(rc == 0 and len(docs) == len(tracks) > 0
             and all(d["duration_s"] > 30 and -1 < d["arousal"] < 1 and -1 < d["valence"] < 1
                     for d in docs),
             "the hyperrogue-music demo tracks all analyse (%d Ogg Vorbis files)" % len(tracks),
             err)
    else:
        t.diag("hyperrogue-music not installed: demo library check skipped")
    return t.exit_code()


if __name__ == "__main__":
    sys.exit(main())
