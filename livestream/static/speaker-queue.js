// The speakers' list follows itself: each event of the list fetches the live part again,
// and the clock counts down in the browser from the server's numbers (time left when the
// part was made, and whether it runs), so it never trusts this computer's own clock.
(function () {
  "use strict";
  const root = document.getElementById("speakers");
  if (!root) return;
  let delay = 1000;
  let pending = null;
  let reconnecting = false;
  let shownAt = performance.now();

  function format(ms) {
    const over = ms < 0;
    const seconds = over ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000);
    return (over ? "−" : "") + Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }

  function tick() {
    const clock = document.getElementById("clock");
    if (!clock || clock.dataset.running !== "true") return;
    const left = Number(clock.dataset.leftMs) - (performance.now() - shownAt);
    clock.textContent = format(left);
    const card = document.getElementById("current");
    if (left < 0 && card && !card.classList.contains("over")) {
      card.classList.remove("running");
      card.classList.add("over");
      const note = document.getElementById("clock-note");
      if (note) note.textContent = note.dataset.over;
    }
  }
  setInterval(tick, 250);

  function refresh() {
    if (pending) return;
    pending = setTimeout(async function () {
      pending = null;
      const response = await fetch(root.dataset.part, { credentials: "same-origin" });
      if (response.ok) {
        root.innerHTML = await response.text();
        shownAt = performance.now();
      }
    }, 200);
  }

  if (!window.WebSocket) return;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + root.dataset.socket);
    socket.onopen = function () {
      delay = 1000;
      if (reconnecting) refresh();  // what happened while the socket was down
    };
    socket.onmessage = refresh;
    socket.onclose = function () {
      reconnecting = true;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
