"""lib_fakecam.py - a fake camera for the browser tests that can switch
faces: a script injected before the page loads (Chrome DevTools protocol,
Page.addScriptToEvaluateOnNewDocument, through chromedriver) replaces
navigator.mediaDevices.getUserMedia with a 640x480 canvas stream on which
the test draws real photos from the shared data (window.__fakeCam.show).
Also: viewport emulation, and picking photos by what the server reads in
them (so no test hard-codes what the model says)."""
import base64
import json
import os

import lib_server as L

FAKECAM_JS = r"""
(function () {
  var c = null, g = null, img = null, crop = null, timer = null;
  function paint(ctx, im, box) {
    ctx.fillStyle = "#303030"; ctx.fillRect(0, 0, 640, 480);
    if (im && im.complete && im.naturalWidth)
      ctx.drawImage(im, box[0], box[1], box[2], box[3], 0, 0, 640, 480);
  }
  function draw() { if (g) paint(g, img, crop); }
  window.__fakeCam = {
    streams: 0,
    show: function (dataUrl, box, done) {
      var im = new Image();
      im.onload = function () { img = im; crop = box; draw(); if (done) done(true); };
      im.onerror = function () { if (done) done(false); };
      im.src = dataUrl;
    },
    blank: function () { img = null; draw(); },
    /* one frame as the camera would show it, as base64 JPEG */
    jpeg: function (dataUrl, box, done) {
      var im = new Image();
      im.onload = function () {
        var f = document.createElement("canvas");
        f.width = 640; f.height = 480;
        paint(f.getContext("2d"), im, box);
        done(f.toDataURL("image/jpeg", 0.92).split(",")[1]);
      };
      im.onerror = function () { done(null); };
      im.src = dataUrl;
    }
  };
  var md = navigator.mediaDevices || {};
  md.getUserMedia = function () {
    if (!c) {
      c = document.createElement("canvas"); c.width = 640; c.height = 480;
      g = c.getContext("2d");
      timer = setInterval(draw, 50);
    }
    draw();
    window.__fakeCam.streams++;
    return Promise.resolve(c.captureStream(20));
  };
})();
"""


def cdp(drv, s, cmd, params):
    return drv.call("POST", "/session/%s/goog/cdp/execute" % s.sid, {"cmd": cmd, "params": params})


def install(drv, s):
    """Call before s.go(): every page of the session gets the fake camera."""
    cdp(drv, s, "Page.addScriptToEvaluateOnNewDocument", {"source": FAKECAM_JS})


def viewport(drv, s, w, h, mobile):
    cdp(drv, s, "Emulation.setDeviceMetricsOverride",
        {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile})


def data_url(rel):
    return "data:image/jpeg;base64," + base64.b64encode(L.read_photo(rel)).decode()


def show(s, photo):
    """Puts photo = (rel, crop) in front of the fake camera."""
    rel, crop = photo
    return s.js_async("window.__fakeCam.show(arguments[0], arguments[1], arguments[2]);",
                      data_url(rel), crop, timeout=20)


def image_sizes():
    sizes = {}
    with open(os.path.join(L.data_dir(), "faces", "images.txt")) as f:
        for line in f:
            p = line.split()
            try:
                sizes[p[0]] = (int(p[1]), int(p[2]))
            except (ValueError, IndexError):
                pass
    return sizes


def crop_43(boxes, size, grow=2.4):
    """A 4:3 crop around the union of `boxes`, `grow` times its size."""
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    iw, ih = size
    cw = min(iw, max((x1 - x0) * grow, (y1 - y0) * grow * 4 / 3, 160))
    ch = cw * 3 / 4
    if ch > ih:
        ch = ih
        cw = ch * 4 / 3
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    sx = min(max(0, cx - cw / 2), iw - cw)
    sy = min(max(0, cy - ch / 2), ih - ch)
    return [int(sx), int(sy), int(cw), int(ch)]


def read_photos(client):
    """[(rel, crop, reply)] for every photo the server reads, with the
    server's own reading of the whole photo (faces, their emotions)."""
    ann, sizes, out = L.load_annotations(), image_sizes(), []
    for rel in sorted(ann):
        if not rel.endswith(".jpg") or rel not in sizes:
            continue
        r = client.post("/api/frame?reset=1", L.read_photo(rel), "image/jpeg")
        if r.status == 200:
            out.append((rel, crop_43(ann[rel], sizes[rel]), r.json(), ann[rel]))
    return out


def read_crops(s, client, photos):
    """read_photos' one-face photos, each read again as the fake camera
    shows it: a frame of its 4:3 crop from the fake camera of session s
    (install()ed, on a page), as JPEG, posted to the server, the annotated box
    moved into the crop's coordinates. A face near the border between two
    moods can read one way in the whole photo and the other in the crop;
    picks from these readings hold for what the page will see."""
    out = []
    for rel, crop, rep, boxes in photos:
        if len(boxes) != 1 or len(rep["faces"]) != 1:
            continue
        b64 = s.js_async("window.__fakeCam.jpeg(arguments[0], arguments[1], arguments[2]);",
                         data_url(rel), crop, timeout=20)
        r = b64 and client.post("/api/frame?reset=1", base64.b64decode(b64), "image/jpeg")
        if not r or r.status != 200:
            continue
        kx, ky = 640.0 / crop[2], 480.0 / crop[3]
        x, y, w, h = boxes[0]
        out.append((rel, crop, r.json(), [((x - crop[0]) * kx, (y - crop[1]) * ky, w * kx, h * ky)]))
    return out


def pick(photos, mood, single=True):
    """The photo whose one face the server reads as `mood` most surely. The
    face read must be the annotated one (IoU >= 0.4): a stray box elsewhere
    in the photo may be gone from the webcam-sized crop the camera shows."""
    best = None
    for rel, crop, rep, boxes in photos:
        if single and (len(boxes) != 1 or len(rep["faces"]) != 1):
            continue
        f = rep["faces"][0] if rep["faces"] else None
        b = f and f["box"]
        if not f or max(L.iou((b["x"], b["y"], b["w"], b["h"]), a) for a in boxes) < 0.4:
            continue
        if f["emotion"] == mood and (best is None or f["confidence"] > best[2]):
            best = (rel, crop, f["confidence"])
    return best


def pick_negative(photos, avoid):
    """A one-face photo read as another mood than `avoid`: a negative one
    (sad first), else neutral or surprise (a net trained on the crowd's
    votes reads none of the shared single faces as negative)."""
    for m in ("sad", "angry", "fear", "disgust", "neutral", "surprise"):
        p = pick(photos, m)
        if p and m != avoid:
            return p, m
    return None, None


def pick_group(photos):
    """Photos with two or three annotated faces that the server finds all
    of, largest faces first."""
    out = []
    for rel, crop, rep, boxes in photos:
        if 2 <= len(boxes) <= 3 and len(rep["faces"]) == len(boxes):
            out.append((min(b[2] for b in boxes), rel, crop_43(boxes, image_sizes()[rel], 1.5)))
    out.sort(reverse=True)
    return [(rel, crop) for _, rel, crop in out]


def dumps(x):
    return json.dumps(x)
