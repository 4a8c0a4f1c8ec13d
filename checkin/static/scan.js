// The check-in tablet at a hall door. It reads delegate cards (camera, or a handheld scanner
// that types the code and Enter), answers green / orange / red at a glance, and keeps working
// when the hall Wi-Fi drops: every scan is written to a queue on the tablet BEFORE it is sent,
// and whatever could not be sent is uploaded by itself when the network is back.
(function () {
  "use strict";
  const root = document.getElementById("scan");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const texts = $("texts").dataset;
  const QUEUE_KEY = "checkin.queue";
  const ROSTER_KEY = "checkin.roster";
  const ANSWER_MS = 2000;   // how long a colour fills the screen
  const REPEAT_MS = 3000;   // the same code seen again this soon is the same card still in view
  const TIMEOUT_MS = 4000;  // no answer by then: treat as offline, the scan stays queued
  const BATCH = 200;
  const HEADERS = { "X-Congress-Device": "1", "Accept": "application/json" };

  let sitting = root.dataset.sitting ? Number(root.dataset.sitting) : null;
  let offline = false, unpaired = false;
  let roster = null;           // {salt: bytes, entries: Map(hash hex -> entry)}
  const inFlight = new Set();  // nonces being sent right now, so the queue does not send them twice
  const recent = [];           // the last answers to scans that were sent from the queue
  const timers = [];

  // ---- Texts: translated by the template, placeholders like {n} filled in here ----------
  const plurals = new Intl.PluralRules(root.dataset.lang || "vi");
  function text(key, values) {
    let result = texts[key] || "";
    for (const [name, value] of Object.entries(values || {})) {
      result = result.split("{" + name + "}").join(String(value));
    }
    return result;
  }
  function plural(key, n) {
    return text(key + (plurals.select(n) === "one" ? "One" : "Other"), { n: n });
  }

  // ---- Small helpers ----------------------------------------------------------------------
  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function bytesOf(hexText) {
    const out = new Uint8Array(hexText.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hexText.substr(i * 2, 2), 16);
    return out;
  }
  function newNonce() {
    return hex(crypto.getRandomValues(new Uint8Array(16)));
  }
  // The tablet's own clock with its offset, e.g. 2026-11-22T07:42:05.120+07:00: when the
  // queue is uploaded an hour later, the server still knows when the delegate came in.
  function isoNow() {
    const d = new Date();
    const off = -d.getTimezoneOffset();
    const pad = (n, width) => String(Math.abs(n)).padStart(width || 2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
      "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) +
      "." + pad(d.getMilliseconds(), 3) + (off >= 0 ? "+" : "-") +
      pad(Math.trunc(off / 60)) + ":" + pad(off % 60);
  }
  // A card's QR code holds HTTP://HOST/D/TOKEN; a scanner may also type the bare token.
  function tokenOf(code) {
    const value = code.trim();
    const match = /\/d\/([a-z2-7]{26})\/?(?:[?#].*)?$/i.exec(value) || /^([a-z2-7]{26})$/i.exec(value);
    return match ? match[1].toUpperCase() : null;
  }

  // ---- The server ------------------------------------------------------------------------
  class Offline extends Error {}
  class Refused extends Error {
    constructor(status) { super("HTTP " + status); this.status = status; }
  }
  class Busy extends Error {}

  // Offline: no network, no answer in time, a 5xx, or not JSON (a captive portal's page).
  // Refused: the server did answer, and asking again will not change its mind.
  // Busy: the server answered 429, too many requests from this tablet; its message says so,
  // and the scan waits in the queue like an offline one, sent again by itself.
  async function busyMessage(response) {
    try {
      const data = await response.json();
      return data && data.code === "too_many_requests" ? String(data.message || "") : "";
    } catch (error) {
      return "";
    }
  }
  async function api(method, path, body, timeout) {
    if (unpaired) throw new Refused(401);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout || TIMEOUT_MS);
    try {
      const response = await fetch(path, {
        method: method,
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
        headers: body ? Object.assign({ "Content-Type": "application/json" }, HEADERS) : HEADERS,
        body: body ? JSON.stringify(body) : undefined,
      });
      if (response.status === 401) { unpair(); throw new Refused(401); }
      if (response.status === 429) throw new Busy(await busyMessage(response));
      if (response.status >= 500 || response.status === 408) {
        throw new Offline("HTTP " + response.status);
      }
      if (!response.ok) throw new Refused(response.status);
      const data = await response.json();
      setOffline(false);
      return data;
    } catch (error) {
      if (error instanceof Refused) throw error;
      if (error instanceof Busy) { setOffline(false); throw error; }
      setOffline(true);
      throw error instanceof Offline ? error : new Offline(String(error));
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- The queue: localStorage, written synchronously before anything is sent -------------
  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY)) || []; } catch (e) { return []; }
  }
  function saveQueue(queue) {
    try { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); } catch (e) { console.error(e); }
    showNet();
  }
  function dequeue(nonces) {
    saveQueue(loadQueue().filter((scan) => !nonces.has(scan.nonce)));
  }

  async function submit(fields, known) {
    const scan = Object.assign({ nonce: newNonce() }, fields, { sitting_id: sitting, scanned_at: isoNow() });
    const queue = loadQueue();
    queue.push(scan);
    saveQueue(queue);
    inFlight.add(scan.nonce);
    try {
      const answer = await api("POST", "/api/checkin/device/scans", scan);
      if (!answer || !answer.result) throw new Offline("no result");
      dequeue(new Set([scan.nonce]));
      showAnswer(answer);
      if (scan.sitting_id === sitting) showCounts(answer);
      scheduleState();
      flush();  // the network works: send whatever was waiting
    } catch (error) {
      if (error instanceof Refused) {
        // A 4xx for this one scan: it cannot succeed later either, so it leaves the queue
        // and the person at the door sees red now.
        if (!unpaired) {
          dequeue(new Set([scan.nonce]));
          paint("red", { message: text("refused", { status: error.status }) });
        }
      } else {
        await showSaved(scan, known, error instanceof Busy ? error.message : "");
      }
    } finally {
      inFlight.delete(scan.nonce);
    }
  }

  // Uploads waiting scans, oldest first, in batches. Their answers are not shown full-screen
  // (the delegate is long gone): the counter goes down and a short list shows the last ones.
  let flushing = false;
  async function flush() {
    if (flushing || unpaired) return;
    const batch = loadQueue().filter((scan) => !inFlight.has(scan.nonce)).slice(0, BATCH);
    if (!batch.length) return;
    flushing = true;
    let again = false;
    try {
      const reply = await api("POST", "/api/checkin/device/scans/batch", { scans: batch }, 15000);
      const done = new Set();
      (reply.results || []).forEach((answer, i) => {
        if (answer && answer.result && batch[i]) { done.add(batch[i].nonce); remember(answer); }
      });
      dequeue(done);
      again = done.size === batch.length;
      loadState();
    } catch (error) {
      // Stays queued; the next tick (every 5 s) or the browser's "online" event tries again.
    } finally {
      flushing = false;
    }
    if (again) flush();
  }

  function remember(answer) {
    recent.unshift(answer);
    recent.length = Math.min(recent.length, 5);
    $("recent-list").replaceChildren(...recent.map((item) => {
      const li = document.createElement("li");
      li.className = item.result;
      li.textContent = (item.delegate ? item.delegate.full_name + " – " : "") + (item.message || "");
      return li;
    }));
    $("recent").hidden = false;
  }

  // ---- Offline roster: only someone holding a card can read that card's name ---------------
  function useRoster(data) {
    if (!data || !data.salt || !Array.isArray(data.entries)) return;
    roster = { salt: bytesOf(data.salt), entries: new Map(data.entries.map((e) => [e.h.toLowerCase(), e])) };
  }
  async function loadRoster() {
    try {
      const data = await api("GET", "/api/checkin/device/roster", null, 30000);
      useRoster(data);
      try { localStorage.setItem(ROSTER_KEY, JSON.stringify(data)); } catch (e) { /* memory only */ }
    } catch (error) { /* keep the copy we have */ }
  }
  async function rosterEntry(code) {
    const token = code && tokenOf(code);
    // crypto.subtle exists only over HTTPS (or localhost): without it there is no name offline.
    if (!token || !roster || !window.crypto || !crypto.subtle) return null;
    try {
      const subtle = crypto.subtle;
      const tokenBytes = new TextEncoder().encode(token);
      const salted = new Uint8Array(roster.salt.length + tokenBytes.length);
      salted.set(roster.salt);
      salted.set(tokenBytes, roster.salt.length);
      const digest = new Uint8Array(await subtle.digest("SHA-256", salted));
      const entry = roster.entries.get(hex(digest.slice(0, 16)));
      if (!entry) return null;
      const ikm = await subtle.importKey("raw", tokenBytes, "HKDF", false, ["deriveKey"]);
      const key = await subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: roster.salt, info: new TextEncoder().encode("congress offline roster") },
        ikm, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
      const plain = await subtle.decrypt({ name: "AES-GCM", iv: bytesOf(entry.iv) }, key, bytesOf(entry.n));
      return JSON.parse(new TextDecoder().decode(plain));
    } catch (error) {
      return null;
    }
  }

  // ---- The answer, full screen --------------------------------------------------------------
  let answerTimer = null, photoUrl = null, photoTurn = 0;

  function showAnswer(answer) {
    const detail = [answer.first_at, answer.first_device].filter(Boolean).join(" · ");
    paint(answer.result, { message: answer.message, delegate: answer.delegate, detail: answer.result === "orange" ? detail : "" });
  }

  async function showSaved(scan, known, why) {
    const person = known || await rosterEntry(scan.code);
    paint("blue", { message: text("saved"), delegate: person, detail: why || text("savedDetail") });
  }

  function paint(colour, parts) {
    const who = parts.delegate || {};
    const kind = $("answer-kind");
    $("answer").className = "answer " + colour;
    $("answer-message").textContent = parts.message || "";
    $("answer-name").textContent = who.full_name || who.name || "";
    $("answer-delegation").textContent = who.delegation || "";
    kind.textContent = who.kind_label || "";
    kind.className = "kind " + (who.kind || "");
    kind.hidden = !who.kind_label;
    $("answer-card").textContent = who.card_number ? text("card", { number: who.card_number }) : "";
    $("answer-detail").textContent = parts.detail || "";
    showPhoto(who.photo_url);
    $("answer").hidden = false;
    signal(colour);
    clearTimeout(answerTimer);
    answerTimer = setTimeout(hideAnswer, ANSWER_MS);
  }

  function hideAnswer() {
    clearTimeout(answerTimer);
    $("answer").hidden = true;
    showPhoto(null);
    refocus();
  }

  // The photo is fetched with the device header (an <img src> cannot send it) and shown from
  // a blob: address. The name is already on screen; the photo follows when it arrives.
  async function showPhoto(url) {
    const img = $("answer-photo");
    const turn = ++photoTurn;
    img.hidden = true;
    if (photoUrl) { URL.revokeObjectURL(photoUrl); photoUrl = null; }
    if (!url) return;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { "X-Congress-Device": "1", "Accept": "image/*" } });
      if (!response.ok) return;
      const blob = await response.blob();
      if (turn !== photoTurn) return;  // another answer came in meanwhile
      photoUrl = URL.createObjectURL(blob);
      img.src = photoUrl;
      img.hidden = false;
    } catch (error) { /* no photo, the name is enough */ }
  }

  // ---- Sound and vibration: one pattern per colour, heard without looking -----------------
  const TONES = {  // [frequency Hz, start s, length s, wave]
    green: [[1320, 0, 0.12, "sine"]],
    orange: [[660, 0, 0.12, "square"], [660, 0.2, 0.12, "square"]],
    red: [[150, 0, 0.7, "sawtooth"]],
    blue: [[880, 0, 0.06, "triangle"]],
  };
  const BUZZ = { green: [80], orange: [80, 80, 80], red: [500], blue: [30] };
  const audio = window.AudioContext ? new AudioContext() : null;

  function signal(colour) {
    if (navigator.vibrate) navigator.vibrate(BUZZ[colour] || 0);
    if (!audio || audio.state !== "running") return;
    for (const [frequency, start, length, wave] of TONES[colour] || []) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      const at = audio.currentTime + start;
      oscillator.type = wave;
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.35, at + 0.01);
      gain.gain.setValueAtTime(0.35, at + length - 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + length + 0.02);
    }
  }
  // Browsers keep sound off until the first tap or key press; say so until it is on.
  function soundHint() {
    $("sound-hint").hidden = !audio || audio.state === "running";
  }
  function wakeAudio() {
    if (audio && audio.state === "suspended") audio.resume().then(soundHint, soundHint);
  }

  // ---- Top bar: counts, quorum, network -----------------------------------------------------
  function showCounts(data) {
    if (typeof data.present === "number") $("present").textContent = data.present;
    if (typeof data.expected === "number") $("expected").textContent = data.expected;
  }
  function showQuorum(quorum) {
    const badge = $("quorum");
    badge.hidden = !quorum;
    if (!quorum) return;
    badge.textContent = quorum.reached ? text("quorumReached") : text("quorumMissing", { required: quorum.required });
    badge.classList.toggle("reached", !!quorum.reached);
  }
  function setOffline(down) {
    if (offline === down) return;
    offline = down;
    showNet();
    if (!down) flush();
  }
  function showNet() {
    const waiting = loadQueue().length;
    const net = $("net");
    if (offline) net.textContent = waiting ? plural("offline", waiting) : text("offline");
    else if (waiting) net.textContent = plural("sending", waiting);
    net.hidden = !offline && !waiting;
    net.classList.toggle("down", offline);
  }

  async function loadState() {
    if (sitting === null) return;
    const asked = sitting;
    try {
      const state = await api("GET", "/api/checkin/device/state?sitting=" + asked);
      if (asked !== sitting) return;
      showCounts(state);
      showQuorum(state.quorum);
    } catch (error) { /* the counts stay as they were */ }
  }
  // The live count comes from the socket; the quorum only from the state, asked for at
  // most every few seconds however many delegates walk in.
  let stateTimer = null;
  function scheduleState() {
    if (!stateTimer) stateTimer = setTimeout(() => { stateTimer = null; loadState(); }, 3000);
  }

  // ---- Live attendance over a websocket, reconnecting with back-off -------------------------
  let socket = null, delay = 1000, reconnectTimer = null;

  function connect() {
    if (unpaired || sitting === null || !window.WebSocket) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + location.host + "/api/checkin/device/live?sitting=" + sitting);
    socket = ws;
    ws.onopen = function () { delay = 1000; loadState(); };
    ws.onmessage = function (message) {
      const data = JSON.parse(message.data);
      if (data.sitting_id !== undefined && data.sitting_id !== sitting) return;
      showCounts(data);
      scheduleState();
    };
    ws.onclose = function () {
      if (socket !== ws || unpaired) return;  // replaced on purpose, or this tablet is done
      reconnectTimer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
      loadState();  // a revoked tablet learns it here (401)
    };
  }
  function disconnect() {
    clearTimeout(reconnectTimer);
    const old = socket;
    socket = null;
    if (old) old.close();
  }

  // ---- Camera: BarcodeDetector where there is one, the vendored jsQR otherwise --------------
  let stream = null, starting = false, detect = null, scanTimer = null;
  let lastCode = "", lastSeen = 0;

  function cameraStatus(key) {
    $("camera-status").textContent = text(key);
    $("stage").classList.toggle("no-camera", key !== "cameraReady");
  }

  async function startCamera() {
    if (stream || starting || unpaired) return;
    // No camera API at all: plain HTTP (only HTTPS may use the camera) or an old browser.
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return cameraStatus("cameraNone");
    starting = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (error) {
      const denied = error.name === "NotAllowedError" || error.name === "SecurityError";
      return cameraStatus(denied ? "cameraDenied" : "cameraNone");
    } finally {
      starting = false;
    }
    if (unpaired || document.hidden) return stopCamera();
    const video = $("camera");
    video.srcObject = stream;
    video.play().catch(() => {});
    try {
      detect = detect || await makeDetector();
    } catch (error) {
      stopCamera();
      return cameraStatus("cameraNone");
    }
    cameraStatus("cameraReady");
    clearTimeout(scanTimer);
    scanLoop();
  }

  function stopCamera() {
    clearTimeout(scanTimer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    $("camera").srcObject = null;
  }

  async function makeDetector() {
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          return async (video) => {
            const codes = await detector.detect(video);
            return codes.length ? codes[0].rawValue : null;
          };
        }
      } catch (error) { /* fall through to jsQR */ }
    }
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = root.dataset.decoder;
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async (video) => {
      // A smaller frame decodes faster; a card held at the door is still many pixels wide.
      const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(pixels.data, canvas.width, canvas.height, { inversionAttempts: "dontInvert" });
      return found ? found.data : null;
    };
  }

  async function scanLoop() {
    const video = $("camera");
    if (!stream || unpaired) return;
    if (video.readyState >= 2 && $("find").hidden) {
      try {
        const code = await detect(video);
        if (code) seen(code);
      } catch (error) { /* a frame that could not be read; the next one will */ }
    }
    scanTimer = setTimeout(scanLoop, 150);
  }

  // A card held in front of the camera is read many times a second: act on it once. Every
  // sighting restarts the 3 s, so a card left in view is not checked in again and again.
  function seen(code) {
    const now = Date.now();
    const repeat = code === lastCode && now - lastSeen < REPEAT_MS;
    lastCode = code;
    lastSeen = now;
    if (!repeat) submit({ code: code });
  }

  // ---- Handheld scanner and keyboard: one input that always has the focus --------------------
  const input = $("code");
  function refocus() {
    if (!unpaired && $("find").hidden && document.activeElement !== input) input.focus({ preventScroll: true });
  }
  $("manual").addEventListener("submit", function (event) {
    event.preventDefault();
    const code = input.value.trim();
    input.value = "";
    // Back to no on-screen keyboard: it would cover the camera, and a scanner does not need it.
    input.inputMode = "none";
    if (code) submit({ code: code });
    refocus();
  });
  $("type").addEventListener("click", function () {
    input.inputMode = "text";
    input.blur();
    input.focus();
  });
  document.addEventListener("pointerdown", function (event) {
    wakeAudio();
    if (!event.target.closest("button, select, input, label, a, #find, #answer")) {
      event.preventDefault();  // keeps the focus where it is
      refocus();
    }
  });
  // On click, not pointerdown: the rest of the tap must not land on a button underneath.
  $("answer").addEventListener("click", hideAnswer);
  document.addEventListener("keydown", function (event) {
    wakeAudio();
    if (event.key === "Escape" && !$("find").hidden) return closeFind();
    // A scanner that starts typing while the focus is elsewhere (e.g. on the sitting picker).
    const active = document.activeElement;
    if (event.key.length === 1 && !(active && active.tagName === "INPUT")) refocus();
  });
  $("sitting").addEventListener("change", function (event) {
    sitting = Number(event.target.value);
    $("present").textContent = "–";
    $("expected").textContent = "–";
    showQuorum(null);
    disconnect();
    delay = 1000;
    connect();
    loadState();
    refocus();
  });

  // ---- Find a delegate who forgot the card ----------------------------------------------------
  let searchTimer = null, searchTurn = 0, picked = null;

  function openFind() {
    $("find").hidden = false;
    $("confirm").hidden = true;
    $("find-status").hidden = true;
    $("find-results").replaceChildren();
    $("find-q").value = "";
    $("find-q").focus();
  }
  function closeFind() {
    $("find").hidden = true;
    refocus();
  }
  function findStatus(key) {
    $("find-status").textContent = key ? text(key) : "";
    $("find-status").hidden = !key;
  }

  async function search() {
    const q = $("find-q").value.trim();
    const turn = ++searchTurn;
    $("confirm").hidden = true;
    if (q.length < 2) { $("find-results").replaceChildren(); return findStatus(null); }
    try {
      const data = await api("GET", "/api/checkin/device/search?q=" + encodeURIComponent(q) +
        "&sitting=" + (sitting === null ? "" : sitting));
      if (turn !== searchTurn) return;  // the staff kept typing
      showResults(data.delegates || []);
    } catch (error) {
      if (turn === searchTurn && !unpaired) findStatus("searchOffline");
    }
  }

  function showResults(delegates) {
    findStatus(delegates.length ? null : "noResults");
    $("find-results").replaceChildren(...delegates.map((d) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = d.present ? "result present" : "result";
      const name = document.createElement("strong");
      name.textContent = d.full_name;
      const about = document.createElement("span");
      about.textContent = [d.delegation, d.kind_label, d.card_number ? text("card", { number: d.card_number }) : ""]
        .filter(Boolean).join(" · ");
      button.append(name, about);
      if (d.present) {
        const mark = document.createElement("em");
        mark.textContent = "✓ " + text("present");
        button.append(mark);
      }
      button.addEventListener("click", () => confirmPick(d));
      li.append(button);
      return li;
    }));
  }

  function confirmPick(delegate) {
    picked = delegate;
    $("confirm-text").textContent = text("confirm", { name: delegate.full_name });
    $("confirm").hidden = false;
    $("confirm-yes").focus();
  }

  $("find-open").addEventListener("click", openFind);
  $("find-close").addEventListener("click", closeFind);
  $("confirm-no").addEventListener("click", () => { $("confirm").hidden = true; $("find-q").focus(); });
  $("confirm-yes").addEventListener("click", function () {
    const delegate = picked;
    if (!delegate) return;
    picked = null;
    closeFind();
    submit({ delegate_id: delegate.id }, { full_name: delegate.full_name, delegation: delegate.delegation, kind_label: delegate.kind_label });
  });
  $("find-q").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 250);
  });
  $("find-form").addEventListener("submit", function (event) {
    event.preventDefault();
    // A card scanned with the handheld scanner while the panel is open is still a card.
    const value = $("find-q").value.trim();
    if (tokenOf(value)) { closeFind(); submit({ code: value }); } else { clearTimeout(searchTimer); search(); }
  });

  // ---- Unpaired: nothing more to do here ---------------------------------------------------
  function unpair() {
    if (unpaired) return;
    unpaired = true;
    $("unpaired").hidden = false;
    $("answer").hidden = true;
    $("find").hidden = true;
    input.disabled = true;
    stopCamera();
    disconnect();
    timers.forEach(clearInterval);
    // A tablet that is no longer ours keeps no list of delegates. Unsent scans stay: if it
    // is paired again they are still worth sending.
    roster = null;
    try { localStorage.removeItem(ROSTER_KEY); } catch (e) { /* nothing to remove */ }
    signal("red");
  }

  // ---- Start -------------------------------------------------------------------------------
  try { useRoster(JSON.parse(localStorage.getItem(ROSTER_KEY))); } catch (e) { /* fetched below */ }
  if (audio) audio.onstatechange = soundHint;
  soundHint();
  showNet();
  loadState();
  loadRoster();
  connect();
  startCamera();
  flush();
  refocus();
  timers.push(setInterval(flush, 5000));
  timers.push(setInterval(loadRoster, 10 * 60 * 1000));
  window.addEventListener("online", function () { flush(); loadState(); });
  window.addEventListener("offline", function () { setOffline(true); });
  window.addEventListener("focus", refocus);
  document.addEventListener("visibilitychange", function () {
    // The camera is off while the tablet sleeps or shows another app, and back after.
    if (document.hidden) stopCamera(); else startCamera();
  });
})();
