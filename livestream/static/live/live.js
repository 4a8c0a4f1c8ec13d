// The public live page: the player, what is on now, and what happens, over one websocket.
// Everything from the server is put in with textContent, never as HTML.
"use strict";
(function () {
  const body = document.body;
  const congress = body.dataset.congress;
  const texts = document.getElementById("texts").dataset;
  const connection = document.getElementById("connection");
  let lastSeq = Number(body.dataset.seq || 0);
  let retry = 1000;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  const timeFormat = new Intl.DateTimeFormat("vi-VN", {
    timeZone: body.dataset.tz || "Asia/Ho_Chi_Minh",
    hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", hour12: false,
  });

  function shortTime(iso) {
    const parts = {};
    for (const p of timeFormat.formatToParts(new Date(iso))) parts[p.type] = p.value;
    return `${parts.hour}:${parts.minute} ${parts.day}/${parts.month}`;
  }

  // --- the player ----------------------------------------------------------------------------

  function startHls(player) {
    const video = player.querySelector("video");
    if (!video) return;
    const src = player.dataset.src;
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
      return;
    }
    if (!window.MediaSource) return fallbackLink(player);
    const script = document.createElement("script");
    script.src = "/static/vendor/hls.js/hls.light.min.js";
    script.onload = function () {
      if (!window.Hls || !window.Hls.isSupported()) return fallbackLink(player);
      const hls = new window.Hls({ enableWorker: false });
      hls.loadSource(src);
      hls.attachMedia(video);
    };
    script.onerror = function () { fallbackLink(player); };
    document.head.appendChild(script);
  }

  function fallbackLink(player) {
    player.textContent = "";
    const p = el("p", "no-stream");
    const a = el("a", "", texts.openStream);
    a.href = player.dataset.url;
    a.target = "_blank";
    a.rel = "noopener";
    p.appendChild(a);
    player.appendChild(p);
  }

  function showStream(stream) {
    const player = document.getElementById("player");
    if ((stream ? stream.embed_url : "") === (player.dataset.src || "")) return;
    player.textContent = "";
    if (!stream) {
      delete player.dataset.src;
      player.appendChild(el("p", "no-stream", texts.noStream));
      return;
    }
    player.dataset.kind = stream.kind;
    player.dataset.src = stream.embed_url;
    player.dataset.url = stream.url;
    if (stream.kind === "hls") {
      const video = el("video");
      video.controls = true;
      video.playsInline = true;
      video.preload = "none";
      player.appendChild(video);
      startHls(player);
      return;
    }
    const frame = el("iframe");
    frame.src = stream.embed_url;
    frame.title = texts.player;
    frame.allow = "autoplay; encrypted-media; picture-in-picture; fullscreen";
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    player.appendChild(frame);
  }

  // --- what is on now, the timeline, the results, the papers ---------------------------------

  function showNow(now) {
    const sitting = document.getElementById("now-sitting");
    sitting.textContent = now.sitting || "";
    sitting.hidden = !now.sitting;
    document.getElementById("now-item").textContent = now.agenda_item || texts.between;
    showStream(now.stream);
  }

  function addEntry(entry) {
    const list = document.getElementById("timeline");
    if (list.querySelector(`[data-seq="${entry.seq}"]`)) return;
    const item = el("li", `entry kind-${entry.kind} fresh`);
    item.dataset.seq = entry.seq;
    const time = el("time", "", shortTime(entry.at));
    time.dateTime = entry.at;
    const text = el("div");
    text.appendChild(el("span", "label", entry.label));
    text.appendChild(document.createTextNode(" "));
    if (entry.url) {
      const link = el("a", "title", entry.title);
      link.href = entry.url;
      link.target = "_blank";
      link.rel = "noopener";
      text.appendChild(link);
    } else {
      text.appendChild(el("span", "title", entry.title));
    }
    if (entry.summary) {
      text.appendChild(document.createTextNode(" "));
      text.appendChild(el("span", "summary", entry.summary));
    }
    item.append(time, text);
    list.prepend(item);
    document.getElementById("timeline-empty").hidden = true;
    if (entry.result) addResult(entry.result, entry.summary);
  }

  function addResult(result, summary) {
    const box = document.getElementById("results");
    if (box.querySelector(`[data-poll="${result.poll_id}"]`)) return;
    let verdict = "";
    if (result.passed === true) verdict = " passed";
    if (result.passed === false) verdict = " failed";
    const card = el("article", `result ${result.kind}${verdict} fresh`);
    card.dataset.poll = result.poll_id;
    card.appendChild(el("h3", "", result.title));
    card.appendChild(el("p", "verdict", summary));
    card.appendChild(el("p", "ballots",
      `${texts.collected}: ${result.ballots_collected} · ${texts.valid}: ${result.ballots_valid}`));
    box.prepend(card);
    document.getElementById("results-empty").hidden = true;
  }

  function showDocuments(documents) {
    const list = document.getElementById("documents");
    list.textContent = "";
    for (const d of documents) {
      const item = el("li");
      const link = el("a", "", d.title);
      link.href = d.url;
      link.target = "_blank";
      link.rel = "noopener";
      item.append(link, " ", el("span", "category", d.category));
      list.appendChild(item);
    }
    document.getElementById("documents-empty").hidden = documents.length > 0;
  }

  // --- the socket ------------------------------------------------------------------------------

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const address = `${scheme}//${location.host}/live/${congress}/feed` +
      `?after=${lastSeq}&lang=${encodeURIComponent(body.dataset.lang || "vi")}`;
    const socket = new WebSocket(address);
    socket.onopen = function () {
      retry = 1000;
      connection.textContent = connection.dataset.live;
      body.classList.remove("offline");
    };
    socket.onmessage = function (message) {
      const data = JSON.parse(message.data);
      lastSeq = Math.max(lastSeq, data.seq || 0);
      if (data.now) showNow(data.now);
      if (data.entry) addEntry(data.entry);
      if (data.documents) showDocuments(data.documents);
    };
    socket.onclose = function () {
      connection.textContent = connection.dataset.lost;
      body.classList.add("offline");
      setTimeout(connect, retry + Math.random() * 1000);
      retry = Math.min(retry * 2, 30000);
    };
  }

  const player = document.getElementById("player");
  if (player.dataset.kind === "hls") startHls(player);
  connect();
})();
