/* text.js - the "How do you feel?" box of the MoodSync page: one line of
 * words sent to POST /api/text, then the fused mood (face + words) with
 * which source said what, refreshed from GET /api/mood. Self-contained:
 * it fills <section id="feel"> and touches nothing else on the page.
 * Server text is always inserted as text, never as HTML. */
(function () {
  "use strict";

  var POLL_MS = 3000, MAX_CHARS = 1000;
  var root = document.getElementById("feel");
  if (!root) return;
  var el = {};
  var LABEL = { face: "face", text: "words", override: "your choice" };

  function make(tag, props, parent) {
    var e = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") e.textContent = props[k];
      else if (k === "class") e.className = props[k];
      else e.setAttribute(k, props[k]);
    });
    if (parent) parent.appendChild(e);
    return e;
  }

  function build() {
    root.setAttribute("aria-labelledby", "feel-title");
    make("h2", { id: "feel-title", text: "How do you feel?" }, root);
    el.form = make("form", { id: "feel-form", class: "controls" }, root);
    el.input = make("input", { id: "feel-text", type: "text", maxlength: String(MAX_CHARS),
                               autocomplete: "off", "aria-label": "How do you feel, in a few words",
                               placeholder: "e.g. I can't sleep and my chest is tight" }, el.form);
    el.send = make("button", { id: "feel-send", type: "submit", text: "Tell" }, el.form);
    el.status = make("p", { id: "feel-status", class: "status", role: "status",
                            "aria-live": "polite" }, root);
    el.now = make("p", { id: "feel-now", class: "mood-now" }, root);
    el.sources = make("ul", { id: "feel-sources", class: "note",
                              "aria-label": "What each source said" }, root);
    el.form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send();
    });
  }

  function pct(x) {
    return Math.round(100 * x) + "%";
  }

  function age(s) {
    return s < 60 ? Math.round(s) + " s ago" : Math.round(s / 60) + " min ago";
  }

  function show(m) {
    if (!m || !m.feeling) return;
    var src = m.source === "fused" ? "face and words together" : (LABEL[m.source] || m.source);
    el.now.textContent = "Feeling " + m.feeling + " (from " + src + ")";
    el.now.setAttribute("data-feeling", m.feeling);
    el.now.setAttribute("data-source", m.source);
    el.sources.textContent = "";
    Object.keys(m.sources || {}).forEach(function (k) {
      var s = m.sources[k];
      make("li", { "data-source": k,
                   text: (LABEL[k] || k) + ": " + s.mood + ", " + age(s.age_s) +
                         ", weight " + pct(s.share) }, el.sources);
    });
  }

  function send() {
    var text = el.input.value.trim();
    if (!text) {
      el.status.textContent = "Type a few words first.";
      return;
    }
    el.send.disabled = true;
    el.status.textContent = "Reading...";
    fetch("/api/text", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-MoodSync": "1" },
      body: JSON.stringify({ text: text.slice(0, MAX_CHARS) })
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, j: j }; });
    }).then(function (res) {
      if (!res.ok) {
        el.status.textContent = res.j.error || "Could not read that.";
        return;
      }
      el.status.textContent = "Your words read " + res.j.mood + " (" + res.j.feeling + ").";
      el.input.value = "";
      show(res.j.fused);
    }).catch(function () {
      el.status.textContent = "The server did not answer.";
    }).then(function () {
      el.send.disabled = false;
    });
  }

  function poll() {
    fetch("/api/mood", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(show).catch(function () {}).then(function () {
      setTimeout(poll, POLL_MS);
    });
  }

  build();
  poll();
})();
