// The event log page: new events appear at the top without reload, over a websocket that
// reconnects by itself and asks only for what it has not seen (by sequence number).
(function () {
  "use strict";
  const table = document.getElementById("events");
  if (!table) return;
  const congress = table.dataset.congress;
  const wanted = table.dataset.type;
  let after = Number(table.dataset.after || 0);
  let delay = 1000;

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function show(event) {
    after = Math.max(after, event.seq);
    if (wanted && event.type !== wanted) return;
    const empty = table.querySelector("tr.empty");
    if (empty) empty.remove();
    const row = document.createElement("tr");
    row.className = "fresh";
    const time = new Date(event.at);
    const payload = Object.entries(event.payload).map(([k, v]) => k + "=" + JSON.stringify(v)).join(" ");
    row.append(
      cell(String(event.seq), "num"),
      cell(time.toLocaleTimeString() + " " + time.toLocaleDateString(undefined, {day: "2-digit", month: "2-digit"})),
      cell(event.type),
      cell(event.actor_name),
      cell(payload, "payload"),
    );
    table.tBodies[0].prepend(row);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(scheme + "//" + location.host + "/api/congresses/" + congress + "/events/live?after=" + after);
    socket.onopen = function () { delay = 1000; };
    socket.onmessage = function (message) { show(JSON.parse(message.data)); };
    socket.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
