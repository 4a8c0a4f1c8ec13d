// The attendance page follows the doors: each check-in or undo updates the count at once
// and the table soon after (at most once a second), over a websocket that reconnects.
(function () {
  "use strict";
  const root = document.getElementById("attendance");
  if (!root || !window.WebSocket) return;
  let delay = 1000;
  let pending = null;

  function refreshTable() {
    if (pending) return;
    pending = setTimeout(async function () {
      pending = null;
      const response = await fetch(root.dataset.part, { credentials: "same-origin" });
      if (response.ok) root.innerHTML = await response.text();
    }, 1000);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + root.dataset.socket);
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (message) {
      const data = JSON.parse(message.data);
      const present = document.getElementById("present");
      if (present && String(data.present) !== present.textContent) {
        present.textContent = data.present;
        refreshTable();
      }
    };
    socket.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
