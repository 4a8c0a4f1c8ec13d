// Asking to speak from the delegate's phone: the button, the place in the queue, withdrawing.
// delegate.js's websocket says "speakers changed" (an event "refresh" on the part); this
// script then asks /delegate/speakers again, a moment later so a hall does not ask at once.
(function () {
  "use strict";
  const root = document.getElementById("part-speakers");
  const textsNode = document.getElementById("speaker-texts");
  if (!root || !textsNode || !window.fetch) return;
  const texts = textsNode.dataset;
  const JITTER_MS = 1500;
  let state = null, message = "", busy = false, timer = null;

  function text(key, values) {
    let result = texts[key] || "";
    for (const [name, value] of Object.entries(values || {})) result = result.split("{" + name + "}").join(String(value));
    return result;
  }
  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "text") node.textContent = value;
      else if (name === "onclick") node.addEventListener("click", value);
      else node.setAttribute(name, value);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }
  function csrf() {
    const match = /(?:^|;\s*)congress_csrf=([^;]*)/.exec(document.cookie);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (method !== "GET") { headers["Content-Type"] = "application/json"; headers["x-csrf-token"] = csrf(); }
    let response, data;
    try {
      response = await fetch(path, { method: method, credentials: "same-origin", cache: "no-store", headers: headers, body: body && JSON.stringify(body) });
      data = await response.json();
    } catch (e) {
      throw new Error(texts.offline);
    }
    if (!response.ok) throw new Error((data && data.message) || texts.offline);
    return data;
  }

  async function load() {
    try { state = await api("GET", root.dataset.source); } catch (e) { return; }
    render();
  }
  async function act(method, path, body) {
    if (busy) return;
    busy = true; message = texts.sending; render();
    try { state = await api(method, path, body); message = ""; } catch (e) { message = e.message; }
    busy = false;
    render();
  }

  function render() {
    root.hidden = !state || !state.sitting_id;
    if (root.hidden) return;
    const parts = [el("h2", { text: texts.heading }), el("p", { class: "muted", text: text("sitting", { title: state.sitting_title }) })];
    if (state.speaking_now) parts.push(el("p", { text: text("speakingNow", { name: state.speaking_now }) }));
    const mine = state.mine;
    if (!mine) {
      const topic = el("input", { id: "speak-topic", maxlength: "500", autocomplete: "off" });
      parts.push(
        el("p", { text: texts.invite }),
        el("label", { for: "speak-topic", text: texts.topic }), topic,
        el("button", { class: "primary", type: "button", onclick: () => act("POST", root.dataset.source, { topic: topic.value }) }, [texts.ask]));
    } else {
      const line = mine.status === "speaking" ? texts.speaking
        : mine.status === "queued" ? (mine.place === 1 ? texts.next : text("place", { place: mine.place }))
        : texts.requested;
      parts.push(el("p", { class: "state " + mine.status, text: line }));
      if (mine.topic) parts.push(el("p", { class: "muted", text: text("yourTopic", { topic: mine.topic }) }));
      if (mine.status !== "speaking") {
        parts.push(el("button", { class: "secondary", type: "button", onclick: function () {
          if (window.confirm(texts.confirmWithdraw)) act("POST", root.dataset.source + "/" + mine.id + "/withdraw", {});
        } }, [texts.withdraw]));
      }
    }
    if (message) parts.push(el("p", { class: "notice", role: "status", text: message }));
    root.replaceChildren(...parts);
  }

  root.addEventListener("refresh", function () {
    clearTimeout(timer);
    timer = setTimeout(load, Math.random() * JITTER_MS);
  });
  // delegate.js shows #live-status while its socket is down; when it hides it again, what
  // happened meanwhile is fetched.
  const status = document.getElementById("live-status");
  if (status && window.MutationObserver) {
    new MutationObserver(function () { if (status.hidden) load(); }).observe(status, { attributes: true, attributeFilter: ["hidden"] });
  }
  load();
})();
