/* Fairshare pharmacy terminal: camera QR scanning (jsQR), typed codes, offline sales.
 *
 * Online: look up and redeem through the API (session cookie + CSRF header,
 * Idempotency-Key per sale). Offline: QR tokens are verified on this device with the
 * cached Ed25519 public key (WebCrypto); sales are kept in localStorage and synced as
 * a batch to POST /api/v1/pharmacies/{code}/offline-redemptions when the network is
 * back. A batch, once sent, is frozen and re-sent unchanged until answered, so a
 * lost answer never redeems twice (the server replays the stored answer).
 * Without WebCrypto Ed25519 the sale is accepted and flagged; the server checks the
 * signature at sync (forged tokens are rejected and logged there).
 */
(function () {
  "use strict";
  var root = document.getElementById("terminal");
  if (!root) { return; }
  var pharmacy = root.dataset.pharmacy;
  var api = root.dataset.api;
  var text = document.getElementById("tpl-strings").dataset;
  var store = window.localStorage;
  var K = {
    key: "fs.voucherKey",
    terminal: "fs.terminalId",
    queue: "fs.offline.queue." + pharmacy,
    pending: "fs.offline.pending." + pharmacy,
    sold: "fs.offline.sold." + pharmacy
  };
  var resultBox = document.getElementById("result");
  var netStatus = document.getElementById("net-status");
  var syncStatus = document.getElementById("sync-status");
  var forceOffline = false; // for tests: window.fairshareTerminal.setOffline(true)

  function load(key, fallback) {
    try { var v = JSON.parse(store.getItem(key)); return v === null ? fallback : v; }
    catch (e) { return fallback; }
  }
  function save(key, value) { store.setItem(key, JSON.stringify(value)); }
  function randomId() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var terminalId = store.getItem(K.terminal);
  if (!terminalId) { terminalId = "T-" + randomId().slice(0, 8); store.setItem(K.terminal, terminalId); }

  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }
  function isOnline() { return !forceOffline && navigator.onLine !== false; }

  function b64urlToBytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function todayLocal() {
    var d = new Date();
    return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
  }

  // --- public key cache and offline verification -----------------------------------
  function refreshKey() {
    return fetch(api + "public/voucher-key", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body && body.key) { save(K.key, body); } })
      .catch(function () { /* offline: keep the cached key */ });
  }

  /* Resolves {ok: true|false|null, claims}; ok null = cannot verify in this browser. */
  function verifyToken(token) {
    var parts = token.split(".");
    if (parts.length !== 3 || parts[0] !== "FS1") { return Promise.resolve({ ok: false }); }
    var claims;
    try { claims = JSON.parse(new TextDecoder().decode(b64urlToBytes(parts[1]))); }
    catch (e) { return Promise.resolve({ ok: false }); }
    var cached = load(K.key, null);
    if (!cached || !window.crypto || !crypto.subtle) { return Promise.resolve({ ok: null, claims: claims }); }
    return crypto.subtle.importKey("raw", b64urlToBytes(cached.key), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) {
        return crypto.subtle.verify({ name: "Ed25519" }, key, b64urlToBytes(parts[2]),
          new TextEncoder().encode(parts[0] + "." + parts[1]));
      })
      .then(function (ok) { return { ok: ok, claims: claims }; },
            function () { return { ok: null, claims: claims }; });
  }

  // --- rendering ----------------------------------------------------------------------
  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (content !== undefined) { e.textContent = content; }
    return e;
  }
  function notice(message, kind) {
    resultBox.replaceChildren(el("p", "notice notice-" + (kind || "error"), message));
    resultBox.firstChild.id = kind === "success" ? "result-ok" : "result-error";
  }
  function showVoucher(v, onComplete, label) {
    var card = el("article", "voucher-card status-" + v.status);
    card.id = "voucher-card";
    var head = el("header");
    head.append(el("code", "voucher-code", v.code_display || v.code), " · ", el("span", "", v.status_label || v.status));
    card.append(head);
    var dl = el("dl", "voucher-facts");
    var rows = [
      [text.household, v.household ? v.household + (v.committee ? " (" + v.committee + ")" : "") : "—"],
      [text.packs, String(v.packs)],
      [text.slot, v.date + " " + (v.slot_start ? v.slot_start + "–" + (v.slot_end || "") : text.anyTime)],
      [text.batch, v.batch ? v.batch.manufacturer + " " + v.batch.style : "—"],
      [text.price, v.price ? "¥" + v.price : "—"]
    ];
    rows.forEach(function (r) { dl.append(el("dt", "", r[0]), el("dd", "", r[1])); });
    card.append(dl);
    resultBox.replaceChildren(card);
    if (onComplete) {
      var button = el("button", "big-button", label || text.complete);
      button.type = "button"; button.id = "complete-sale";
      button.addEventListener("click", function () { button.disabled = true; onComplete(); });
      resultBox.append(button);
    }
  }
  // --- the full-screen verdict (same kinds and markup as pharmacy/_verdict.html) -----
  var codeInput = document.getElementById("code-input");
  var ICONS = { ok: "\u2713", sold: "\u2713", slot: "!", used: "\u2715", other: "\u26a0", invalid: "\u2715" };
  var TITLES = { ok: text.vOk, sold: text.vSold, slot: text.vSlot, used: text.vUsed, other: text.vOther, invalid: text.vInvalid };
  var audio = null;
  function beep(good) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tones = good ? [[880, 0, 0.15]] : [[220, 0, 0.18], [220, 0.25, 0.18]];
      tones.forEach(function (t) {
        var osc = audio.createOscillator(), gain = audio.createGain();
        osc.type = good ? "sine" : "square"; osc.frequency.value = t[0];
        gain.gain.value = 0.15; osc.connect(gain); gain.connect(audio.destination);
        osc.start(audio.currentTime + t[1]); osc.stop(audio.currentTime + t[1] + t[2]);
      });
    } catch (e) { /* no audio: the colour, icon and text still say it */ }
  }
  function focusCode(clear) {
    if (clear) { codeInput.value = ""; }
    codeInput.focus();
  }
  function dismissVerdict() {
    var panel = document.getElementById("verdict");
    if (panel) { panel.remove(); }
    focusCode(true);
  }
  /* kind: ok | sold | slot | used | other | invalid; action: {label, run} for ok/slot. */
  function showVerdict(kind, detail, v, action) {
    var old = document.getElementById("verdict");
    if (old) { old.remove(); }
    var panel = el("div", "verdict verdict-" + kind);
    panel.id = "verdict"; panel.dataset.verdict = kind;
    panel.setAttribute("role", "alertdialog"); panel.setAttribute("aria-modal", "true");
    var box = el("div", "verdict-box");
    var icon = el("div", "verdict-icon", ICONS[kind]); icon.setAttribute("aria-hidden", "true");
    box.append(icon, el("p", "verdict-title", TITLES[kind]), el("p", "verdict-detail", detail || ""));
    if (v && v.code) {
      var facts = el("p", "verdict-facts");
      facts.append(el("code", "", v.code_display || v.code),
        " \u00b7 " + v.packs + (v.slot_start ? " \u00b7 " + v.slot_start + "\u2013" + (v.slot_end || "") : ""));
      box.append(facts);
    }
    var dismiss = el("a", "verdict-dismiss", action ? text.cancel : text.next);
    dismiss.href = "#"; dismiss.setAttribute("role", "button"); dismiss.id = "verdict-dismiss";
    dismiss.addEventListener("click", function (e) { e.preventDefault(); e.stopPropagation(); dismissVerdict(); });
    if (action) {
      var button = el("button", "big-button", action.label);
      button.type = "button"; button.id = "complete-sale";
      button.addEventListener("click", function (e) {
        e.stopPropagation(); button.disabled = true; action.run();
      });
      box.append(button);
    }
    box.append(dismiss);
    panel.append(box);
    panel.addEventListener("click", function (e) { if (e.target === panel || !action) { dismissVerdict(); } });
    resultBox.append(panel);
    beep(kind === "ok" || kind === "sold");
    if (action) { button.focus(); } else { focusCode(true); }
  }
  function bindVerdict() { // a verdict the server rendered (the page's no-JS answer)
    var panel = document.getElementById("verdict");
    if (!panel) { return; }
    var link = document.getElementById("verdict-dismiss");
    link.addEventListener("click", function (e) { e.preventDefault(); dismissVerdict(); });
    if (!document.getElementById("complete-sale")) {
      panel.addEventListener("click", dismissVerdict);
      focusCode(true);
    }
  }
  document.addEventListener("keydown", function (e) {
    var panel = document.getElementById("verdict");
    if (!panel || e.key !== "Enter") { return; }
    var t = e.target;
    if (t.tagName === "BUTTON" || (t.tagName === "A" && t.id !== "verdict-dismiss")) { return; }
    if (t === codeInput && codeInput.value.trim()) { panel.remove(); return; } // the next code
    e.preventDefault(); dismissVerdict();
  });
  codeInput.addEventListener("input", function () {
    var panel = document.getElementById("verdict");
    if (panel && codeInput.value) { panel.remove(); } // typing the next code dismisses it
  });
  function errorKind(res) {
    if (res.status === 403) { return "other"; }
    if (res.body && res.body.code === "already_redeemed") { return "used"; }
    return "invalid";
  }
  function hhmm() { var d = new Date(); return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2); }
  /* The slot as the cashier should see it when now is outside it, else null. */
  function outsideSlot(v) {
    if (!v.slot_start || !v.slot_end) { return null; }
    var onDay = todayLocal() === v.date, now = hhmm();
    if (onDay && v.slot_start <= now && now <= v.slot_end) { return null; }
    var slot = v.slot_start + "\u2013" + v.slot_end;
    return onDay ? slot : v.date + " " + slot;
  }
  function lookupVerdict(v, sell) {
    if (v.status === "redeemed") { showVerdict("used", v.redeemed_note, v); return; }
    if (v.pharmacy && v.pharmacy !== pharmacy) { showVerdict("other", text.wrongPharmacy, v); return; }
    var today = todayLocal();
    if (v.status !== "issued" || today < v.date || (v.valid_until && today > v.valid_until)) {
      showVerdict("invalid", text.notValid, v); return;
    }
    var slot = outsideSlot(v);
    if (slot) { showVerdict("slot", text.slotIs.replace("%(slot)s", slot), v, { label: text.sellAnyway, run: sell }); return; }
    showVerdict("ok", "", v, { label: text.complete, run: sell });
  }

  function errorText(body) {
    if (!body) { return "?"; }
    if (body.errors) { return Object.keys(body.errors).map(function (k) { return body.errors[k].join(" "); }).join(" "); }
    return body.detail || body.code || "?";
  }

  // --- online path --------------------------------------------------------------------
  function apiFetch(path, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ "X-CSRFToken": csrf(), "Content-Type": "application/json" }, options.headers || {});
    return fetch(api + path, options).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) { return { status: r.status, body: body }; });
    });
  }

  function lookupOnline(codeOrToken) {
    return apiFetch("vouchers/" + encodeURIComponent(codeOrToken)).then(function (res) {
      if (res.status !== 200) { notice(errorText(res.body)); showVerdict(errorKind(res), errorText(res.body)); return; }
      var v = res.body;
      showVoucher(v);
      if (v.redeemed_note) {
        var note = el("p", "notice notice-error", v.redeemed_note);
        note.id = "result-error";
        resultBox.prepend(note);
      }
      lookupVerdict(v, function () { redeemOnline(codeOrToken, v); });
    });
  }

  function redeemOnline(codeOrToken, v) {
    var key = "sale-" + randomId();
    var at = new Date().toISOString();
    apiFetch("vouchers/" + encodeURIComponent(codeOrToken) + "/redeem", {
      method: "POST", headers: { "Idempotency-Key": key }, body: JSON.stringify({ terminal_id: terminalId })
    }).then(function (res) {
      if (res.status === 200) {
        showVoucher(res.body); resultBox.prepend(el("p", "notice notice-success", text.sold));
        showVerdict("sold", text.sold, res.body); return;
      }
      notice(errorText(res.body)); showVerdict(errorKind(res), errorText(res.body));
    }, function () {
      // The network dropped during the sale: keep it for the offline sync (a sale the
      // server did record shows up there as a conflict to check, never as a loss).
      if (codeOrToken.indexOf("FS1.") === 0) { recordOffline(codeOrToken, v.code, at); }
      else { notice(text.typedOffline); }
    });
  }

  // --- offline path -------------------------------------------------------------------
  function recordOffline(token, code, at) {
    // Only signed tokens are ever queued: a typed code carries no signature (the server
    // records one as a conflict, never as a sale).
    if (token.indexOf("FS1.") !== 0) { notice(text.typedOffline); return; }
    var queue = load(K.queue, []);
    queue.push({ code: token, redeemed_at: at || new Date().toISOString(), terminal_id: terminalId });
    save(K.queue, queue);
    var sold = load(K.sold, {}); sold[code] = at || new Date().toISOString(); save(K.sold, sold);
    notice(text.soldOffline, "success");
    showVerdict("sold", text.soldOffline);
    showQueue();
  }

  function checkOffline(token) {
    return verifyToken(token).then(function (res) {
      if (res.ok === false) { notice(text.forged); showVerdict("invalid", text.forged); return; }
      var c = res.claims, today = todayLocal();
      if (c.p !== pharmacy) { notice(text.wrongPharmacy); showVerdict("other", text.wrongPharmacy); return; }
      if (today < c.d || today > c.u) { notice(text.notValid); showVerdict("invalid", text.notValid); return; }
      if (load(K.sold, {})[c.c]) { notice(text.localDup); showVerdict("used", text.localDup); return; }
      var v = { code: c.c, status: "issued", packs: c.k, date: c.d };
      showVoucher(v);
      var note = res.ok ? text.verifiedOffline : text.unverified;
      resultBox.prepend(el("p", res.ok ? "notice notice-success" : "notice", note));
      showVerdict("ok", note, v, { label: text.complete, run: function () { recordOffline(token, c.c); } });
    });
  }

  function showQueue() {
    var n = load(K.queue, []).length + ((load(K.pending, null) || { items: [] }).items.length);
    if (n) { syncStatus.textContent = text.pending + " " + n; }
  }

  var syncing = false;
  function sync() {
    if (syncing || !isOnline()) { return Promise.resolve(); }
    var pending = load(K.pending, null);
    if (!pending) {
      var queue = load(K.queue, []);
      if (!queue.length) { return Promise.resolve(); }
      pending = { batch_id: terminalId + "-" + Date.now(), items: queue };
      save(K.pending, pending); // freeze this batch before sending it
      save(K.queue, []);
    }
    syncing = true;
    return apiFetch("pharmacies/" + encodeURIComponent(pharmacy) + "/offline-redemptions", {
      method: "POST", body: JSON.stringify(pending)
    }).then(function (res) {
      if (res.status === 200) {
        store.removeItem(K.pending);
        save(K.sold, {});
        syncStatus.textContent = text.synced + " " + res.body.counts.conflict;
        window.fairshareTerminal.lastSync = res.body;
      } else if (res.status === 422 || res.status === 403) {
        // Refused as a whole: keep it visible for staff, do not loop.
        save("fs.offline.refused." + pending.batch_id, { pending: pending, answer: res.body });
        store.removeItem(K.pending);
      }
    }, function () { /* still offline */ }).then(function () { syncing = false; showQueue(); });
  }

  // --- entry points -------------------------------------------------------------------
  function handleCode(raw) {
    raw = (raw || "").trim();
    if (!raw) { return Promise.resolve(); }
    var isToken = raw.indexOf("FS1.") === 0;
    if (isOnline()) {
      return lookupOnline(raw).catch(function () {
        return isToken ? checkOffline(raw) : notice(text.typedOffline);
      });
    }
    if (isToken) { return checkOffline(raw); }
    notice(text.typedOffline);
    return Promise.resolve();
  }

  /* Decode a frame (ImageData) with jsQR; exposed so the camera path can be tested
   * by feeding an image of a QR code. */
  function decodeImageData(imageData) {
    var hit = window.jsQR(imageData.data, imageData.width, imageData.height, { inversionAttempts: "dontInvert" });
    return hit ? hit.data : null;
  }

  var video = document.getElementById("camera-video");
  var canvas = document.getElementById("camera-canvas");
  var startBtn = document.getElementById("camera-start");
  var stopBtn = document.getElementById("camera-stop");
  var stream = null, lastHit = "", lastHitAt = 0;

  function tick() {
    if (!stream) { return; }
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      var ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var data = decodeImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
      if (data && (data !== lastHit || Date.now() - lastHitAt > 5000)) {
        lastHit = data; lastHitAt = Date.now();
        handleCode(data);
      }
    }
    window.requestAnimationFrame(tick);
  }
  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { notice(text.cameraError); return; }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s; video.srcObject = s; video.classList.remove("hidden");
        startBtn.classList.add("hidden"); stopBtn.classList.remove("hidden");
        return video.play();
      })
      .then(function () { window.requestAnimationFrame(tick); })
      .catch(function () { notice(text.cameraError); });
  }
  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null; video.classList.add("hidden");
    startBtn.classList.remove("hidden"); stopBtn.classList.add("hidden");
  }
  startBtn.addEventListener("click", startCamera);
  stopBtn.addEventListener("click", stopCamera);

  var form = document.getElementById("typed-form");
  form.addEventListener("submit", function (event) {
    event.preventDefault(); // JS path; without JS the form posts to the page itself
    handleCode(document.getElementById("code-input").value);
  });

  function showNet() {
    var on = isOnline();
    netStatus.textContent = on ? text.online : text.offline;
    netStatus.className = "net-status " + (on ? "online" : "offline");
    if (on) { refreshKey(); sync(); }
  }
  window.addEventListener("online", showNet);
  window.addEventListener("offline", showNet);
  window.setInterval(sync, 30000);

  window.fairshareTerminal = {
    handleCode: handleCode, decodeImageData: decodeImageData, verifyToken: verifyToken,
    sync: sync, refreshKey: refreshKey,
    setOffline: function (value) { forceOffline = !!value; showNet(); }
  };
  showNet();
  showQueue();
  bindVerdict();
  if (root.dataset.sw && "serviceWorker" in navigator) {
    // Scope /pharmacy/: a reload of the scan page while offline comes from its cache.
    navigator.serviceWorker.register(root.dataset.sw, { scope: "/pharmacy/" })
      .then(function () { document.documentElement.dataset.swReady = "1"; })
      .catch(function () { /* no offline reload; the rest works */ });
  }
  // The page is driven by this script from here on (tests wait for this mark).
  document.documentElement.dataset.scanReady = "1";
})();
