// Keeps the delegate's page current without reload: a websocket says which part changed,
// the page fetches that part again. Reconnects by itself with back-off.
(function () {
  "use strict";
  // Where the browser shows PDFs itself, use it; cheap phones keep the page pictures.
  const viewer = document.getElementById("viewer");
  if (viewer && navigator.pdfViewerEnabled === true) {
    const frame = document.createElement("iframe");
    frame.src = viewer.dataset.file;
    frame.title = viewer.dataset.title;
    frame.className = "pdf";
    viewer.replaceChildren(frame);
  }
})();

(function () {
  "use strict";
  const live = document.getElementById("live");
  if (!live || !window.WebSocket) return;
  const status = document.getElementById("live-status");
  let delay = 1000;

  async function refresh(part) {
    const target = document.getElementById("part-" + part);
    if (!target) return;
    // A part drawn by its own script (the polls, voting.js) is told, not replaced.
    if (target.dataset.source) { target.dispatchEvent(new Event("refresh")); return; }
    const response = await fetch("/delegate/parts/" + part, { credentials: "same-origin" });
    if (response.ok) target.innerHTML = await response.text();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + live.dataset.socket);
    socket.onopen = function () {
      if (delay > 1000) { refresh("documents"); refresh("agenda"); refresh("polls"); }
      delay = 1000;
      status.hidden = true;
    };
    socket.onmessage = function (message) {
      const data = JSON.parse(message.data);
      if (data.refresh) refresh(data.refresh);
    };
    socket.onclose = function (event) {
      if (event.code === 4401) return;  // the card was replaced or withdrawn
      status.hidden = false;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
