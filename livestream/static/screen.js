// A hall screen: draws /S/<key>/state and follows /S/<key>/live. It never needs a person:
// when the network or the server goes away it keeps the last picture, reconnects with
// exponential back-off, and then loads the state and the events it missed by number.
(function () {
  "use strict";
  var base = location.pathname.replace(/\/+$/, "");
  var texts = document.getElementById("texts").dataset;
  var lang = document.body.dataset.lang || "vi";
  var stage = document.getElementById("stage");
  var bar = { congress: document.getElementById("congress"), clock: document.getElementById("clock"), link: document.getElementById("link") };
  var ticker = document.getElementById("ticker");
  var lastSeq = null, offset = 0, drawn = "", timezone = "Asia/Ho_Chi_Minh";
  var timer = null, rotation = null, socket = null, delay = 500, watchdog = null, gone = false;
  var numbers = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB");

  function t(key, values) {
    var text = texts[key.replace(/-([a-z])/g, function (_, c) { return c.toUpperCase(); })] || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function now() { return Date.now() + offset; }

  // --- fitting type to the wall ---------------------------------------------------------
  // Each [data-fit] block gets the largest font size (up to data-fit × the stage's smaller
  // side, in %) at which its text neither overflows its box nor breaks inside a word.
  function fit(root) {
    var side = Math.min(stage.clientWidth, stage.clientHeight);
    root.querySelectorAll("[data-fit]").forEach(function (node) {
      var hi = side * parseFloat(node.dataset.fit) / 100, lo = Math.max(8, side * 0.02);
      node.style.fontSize = hi + "px";
      if (fits(node)) return;
      for (var i = 0; i < 14 && hi - lo > 0.5; i++) {
        var mid = (hi + lo) / 2;
        node.style.fontSize = mid + "px";
        if (fits(node)) lo = mid; else hi = mid;
      }
      node.style.fontSize = lo + "px";
    });
  }
  function fits(node) {
    var parts = [node].concat(Array.prototype.slice.call(node.querySelectorAll(".who, .votes, .tag")));

    // Stacked Vietnamese diacritics reach above the line box: inner parts are held to
    // their width only, the block as a whole to its height as well.
    return node.scrollHeight <= node.clientHeight + 1 && parts.every(function (part) {
      return part.scrollWidth <= part.clientWidth + 1;
    });
  }

  // --- the views ----------------------------------------------------------------------
  function block(view, cls, text, size) {
    var node = el("div", cls, text);
    node.dataset.fit = size;
    view.appendChild(node);
    return node;
  }

  var views = {
    title: function (v, view) {
      block(view, "congress", v.congress, 14);
      if (v.sitting) block(view, "sitting", v.sitting, 7);
      view.appendChild(el("div", "rule"));
      if (v.agenda_item) block(view, "item", v.agenda_item, 11);
      if (v.presenter) block(view, "presenter", t("presenter") + ": " + v.presenter, 6);
      if (!v.sitting && !v.agenda_item) {
        var union = [v.organizing_union, v.term, v.venue].filter(Boolean).join(" · ");
        if (union) block(view, "sitting", union, 7);
      }
    },
    speaker: function (v, view) {
      if (!v.speaking) {
        block(view, "name muted", t("no-speaker"), 10);
        if (v.next_name) block(view, "next", t("next") + ": " + v.next_name + (v.next_delegation ? " – " + v.next_delegation : ""), 6);
        view.style.gridTemplateRows = "3fr 1fr";
        return;
      }
      block(view, "name", v.name, 14);
      block(view, "delegation", v.delegation, 7);
      block(view, "topic", v.topic, 6);
      var clock = block(view, "timer", "", 70);
      block(view, "next", v.next_name ? t("next") + ": " + v.next_name : "", 5);
      var deadline = now() + v.remaining_ms, frozen = v.remaining_ms;
      function tick() {
        var left = v.running ? deadline - now() : frozen;
        var over = left < 0, s = Math.ceil(Math.abs(left) / 1000);
        if (over) s = Math.floor(Math.abs(left) / 1000);
        var text = (over ? "+" : "") + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
        if (clock.textContent !== text) clock.textContent = text;
        clock.className = "timer" + (over ? " over" : left <= 30000 ? " low" : "") + (v.running ? "" : " paused");
      }
      tick();
      timer = setInterval(tick, 200);
    },
    attendance: function (v, view) {
      block(view, "sitting muted", v.sitting || "", 6);
      var count = block(view, "count", "", 40);
      count.appendChild(document.createTextNode(numbers.format(v.present)));
      count.appendChild(el("small", null, "/ " + numbers.format(v.expected)));
      block(view, "caption muted", t("present") + " · " + t("quorum-rule", { required: numbers.format(v.required) }), 6);
      block(view, "quorum " + (v.reached ? "yes" : "no"), t(v.reached ? "quorum-reached" : "quorum-missing"), 10);
    },
    poll: function (v, view) {
      if (!v.found) { view.appendChild(el("div", "empty", t("no-poll"))).dataset.fit = 10; return; }
      var head = el("div", "head");
      head.dataset.fit = v.status === "open" || v.status === "draft" ? 12 : 8;
      head.appendChild(el("div", "status", statusText(v)));
      head.appendChild(el("div", "title", v.title));
      if (v.question && !v.result) head.appendChild(el("div", "question", v.question));
      view.appendChild(head);
      if (v.status === "open") {
        var turnout = el("div", "turnout");
        var n = el("div", "numbers", numbers.format(v.voted || 0));
        n.appendChild(el("small", null, " / " + numbers.format(v.eligible || 0) + " " + t("voted")));
        turnout.appendChild(n);
        var meter = el("div", "meter"), fill = el("div");
        fill.style.width = (v.eligible ? Math.min(100, 100 * v.voted / v.eligible) : 0) + "%";
        meter.appendChild(fill);
        turnout.appendChild(meter);
        view.appendChild(turnout);
        head.style.flex = "1.6 1 0";
      } else if (v.counting) {
        block(view, "counting", t("counting"), 12);
      } else if (v.result) {
        result(v, view);
      }
    },
    document: function (v, view) {
      if (!v.found) { block(view, "empty", t("no-document"), 8); return; }
      view.classList.add("v-picture");
      var frame = el("div", "frame"), img = el("img");
      img.alt = v.title;
      img.src = base + "/" + v.url + "?width=" + pictureWidth();
      frame.appendChild(img);
      view.appendChild(frame);
      var page = v.page_count && v.page_count > 1 ? " · " + t("page", { page: v.page, count: v.page_count }) : "";
      view.appendChild(el("div", "caption", v.title + page));
    },
    announcement: function (v, view) {
      if (!v.text) { block(view, "empty", t("no-announcement"), 8); return; }
      block(view, "text", v.text, 16);
    },
    playlist: function (v, view) {
      if (!v.pictures.length) { block(view, "empty", t("no-pictures"), 8); return; }
      view.classList.add("v-picture");
      var frame = el("div", "frame"), caption = el("div", "caption");
      var shown = el("img"), next = el("img", "hidden");
      frame.appendChild(shown); frame.appendChild(next);
      view.appendChild(frame); view.appendChild(caption);
      var index = 0;
      function url(i) { return base + "/" + v.pictures[i].url + "?width=" + pictureWidth(); }
      shown.src = url(0);
      caption.textContent = v.pictures[0].title;
      if (v.pictures.length < 2) return;
      rotation = setInterval(function () {
        var i = (index + 1) % v.pictures.length;
        next.onload = function () {  // swap only once loaded: offline, the last one stays
          next.classList.remove("hidden"); shown.classList.add("hidden");
          var swap = shown; shown = next; next = swap;
          index = i; caption.textContent = v.pictures[i].title;
        };
        next.src = url(i);
      }, v.interval_ms);
    }
  };

  function statusText(v) {
    if (v.status === "draft") return t("poll-draft");
    if (v.status === "open") return t("poll-open");
    if (v.counting) return t("counting");
    return t("result");
  }

  function result(v, view) {
    var r = v.result, lines = el("div", "lines");
    var rows = r.lines.length, wide = stage.clientWidth / stage.clientHeight > 2.2;
    var columns = rows > 6 && wide ? 2 : rows > 12 ? 2 : 1;
    var perColumn = Math.ceil(rows / columns);
    lines.style.gridTemplateRows = "repeat(" + perColumn + ", minmax(0, 1fr))";
    lines.dataset.fit = 9;
    r.lines.forEach(function (line) {
      var row = el("div", "line" + (line.elected ? " elected" : line.tied ? " tied" : " out") + (v.poll_kind === "election" ? " has-tag" : ""));
      row.appendChild(el("div", "who", line.label));
      var barBox = el("div", "bar"), fill = el("div");
      fill.style.width = (r.base ? Math.min(100, 100 * line.votes / r.base) : 0) + "%";
      barBox.appendChild(fill);
      row.appendChild(barBox);
      var votes = el("div", "votes");
      votes.appendChild(el("b", null, numbers.format(line.votes)));
      var percent = r.base ? " (" + numbers.format(Math.round(1000 * line.votes / r.base) / 10) + "%)" : "";
      votes.appendChild(document.createTextNode(percent));
      if (v.poll_kind === "election") {
        row.appendChild(el("div", "tag", line.elected ? t("elected") : line.tied ? t("tied") : t("not-elected")));
      }
      row.insertBefore(votes, row.querySelector(".tag"));
      lines.appendChild(row);
    });
    view.appendChild(lines);
    if (v.poll_kind === "motion" && r.passed !== null) {
      view.appendChild(el("div", "verdict " + (r.passed ? "yes" : "no"), t(r.passed ? "passed" : "not-passed")));
    }
    view.appendChild(el("div", "totals",
      t("collected") + ": " + numbers.format(r.collected) + " · " + t("valid") + " " +
      numbers.format(r.valid) + " · " + t("invalid") + " " + numbers.format(r.invalid) +
      " · " + r.base_label));
  }

  function pictureWidth() {
    var w = Math.round(stage.clientWidth * (window.devicePixelRatio || 1));
    return Math.max(200, Math.min(2400, Math.ceil(w / 200) * 200));
  }

  // --- drawing the state ------------------------------------------------------------------
  function draw(state) {
    offset = state.now - Date.now();
    timezone = state.timezone || timezone;
    bar.congress.textContent = state.congress;
    var key = JSON.stringify([state.view, stage.clientWidth, stage.clientHeight]);
    if (key !== drawn) {
      drawn = key;
      clearInterval(timer); clearInterval(rotation);
      var view = el("div", "view v-" + state.view.kind);
      stage.replaceChildren(view);
      views[state.view.kind](state.view, view);
      fit(view);
    }
    var text = state.ticker ? state.announcement : "";
    ticker.hidden = !text;
    var run = ticker.querySelector(".run span");
    if (run.textContent !== text) {
      run.textContent = text;
      ticker.classList.toggle("still", text.length * 0.5 * ticker.clientHeight < ticker.clientWidth * 0.9);
      ticker.querySelector(".run").style.animationDuration = Math.max(8, text.length / 4) + "s";
    }
    tickClock();
  }

  var clockFormat = null, clockZone = null;
  function tickClock() {
    if (clockZone !== timezone) {
      clockFormat = new Intl.DateTimeFormat(lang === "vi" ? "vi-VN" : "en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: timezone });
      clockZone = timezone;
    }
    var text = clockFormat.format(new Date(now()));
    if (bar.clock.textContent !== text) bar.clock.textContent = text;
  }
  setInterval(tickClock, 1000);

  var lastState = null;
  window.addEventListener("resize", function () { if (lastState) draw(lastState); });
  function apply(state) { lastState = state; draw(state); }

  function switchedOff() {
    gone = true;
    clearInterval(timer); clearInterval(rotation);
    var view = el("div", "view center");
    block(view, "empty", t("gone"), 8);
    stage.replaceChildren(view);
    fit(view);
    ticker.hidden = true;
  }

  // --- staying connected ------------------------------------------------------------------
  function loadState() {
    return fetch(base + "/state", { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 404 || response.status === 410) { switchedOff(); return false; }
        if (!response.ok) throw new Error("state " + response.status);
        return response.json().then(function (state) {
          apply(state);
          if (lastSeq === null || state.seq < lastSeq) lastSeq = state.seq;  // a fresh database starts over
          return true;
        });
      });
  }

  function retry() {
    if (gone) return;
    bar.link.className = "down";
    var wait = delay * (0.75 + Math.random() / 2);
    delay = Math.min(delay * 2, 30000);
    setTimeout(connect, wait);
  }

  function connect() {
    loadState().then(function (ok) {
      if (!ok) return;
      var scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(scheme + "//" + location.host + base + "/live?after=" + lastSeq);
      socket.onmessage = function (message) {
        delay = 500;
        bar.link.className = "";
        alive();
        var data = JSON.parse(message.data);
        if (data.event) lastSeq = Math.max(lastSeq, data.event.seq);
        if (data.state) apply(data.state);
        if (data.now) offset = data.now - Date.now();
      };
      socket.onclose = function (event) {
        clearTimeout(watchdog);
        socket = null;
        if (event.code === 4403 || event.code === 4401) { loadState().then(function (ok) { if (ok) retry(); }, retry); return; }
        retry();
      };
      alive();
    }).catch(retry);
  }

  // The server speaks at least every 20 seconds; silence means a dead link the browser has
  // not noticed (a Wi-Fi that vanished), so the screen reconnects by itself.
  function alive() {
    clearTimeout(watchdog);
    watchdog = setTimeout(function () { if (socket) socket.close(); }, 45000);
  }

  window.screenFeed = { lastSeq: function () { return lastSeq; } };
  connect();
})();
