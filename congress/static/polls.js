// A poll's page follows the poll: the turnout arrives as numbers at a fixed interval and is
// written in place; any other change of the poll (opened, counts entered, closed, result,
// announced) fetches the live part again. The forms below it are left alone, so nothing
// typed is lost. The websocket reconnects, and catches up when it does.
(function () {
  "use strict";
  const root = document.getElementById("poll");
  if (!root || !window.WebSocket) return;
  let delay = 1000;
  let pending = null;
  let reconnecting = false;

  function refresh() {
    if (pending) return;
    pending = setTimeout(async function () {
      pending = null;
      const response = await fetch(root.dataset.part, { credentials: "same-origin" });
      if (response.ok) root.innerHTML = await response.text();
    }, 300);
  }

  function showTurnout(data) {
    const voted = document.getElementById("voted");
    const eligible = document.getElementById("eligible");
    if (voted) voted.textContent = data.voted;
    if (eligible) eligible.textContent = data.eligible;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + root.dataset.socket);
    socket.onopen = function () {
      delay = 1000;
      if (reconnecting) refresh();  // what happened while the socket was down
    };
    socket.onmessage = function (message) {
      const data = JSON.parse(message.data);
      if (data.type === "PollTurnout") showTurnout(data);
      else refresh();
    };
    socket.onclose = function () {
      reconnecting = true;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
