// Voting on the delegate's phone: the open polls with their ballots, the receipt, the
// announced results. delegate.js's websocket only says "polls changed" (an event "refresh"
// on the part); this script then asks /delegate/polls again. Nothing about a ballot is kept
// on the phone except its retry key and its receipt.
(function () {
  "use strict";
  const root = document.getElementById("part-polls");
  const textsNode = document.getElementById("poll-texts");
  if (!root || !textsNode || !window.fetch) return;
  const texts = textsNode.dataset;
  const plurals = new Intl.PluralRules(texts.lang || "vi");
  const TIMEOUT_MS = 10000;               // no answer by then: the network is down
  const RESEND_MS = [1000, 2000, 4000, 8000];  // automatic resends before asking the delegate
  const JITTER_MS = 1500;                 // a whole hall asks at once when a poll opens
  const RECHECK_MS = 20000;               // "not checked in": look again after a while
  // Codes after which the poll's card must be asked for again (its state changed).
  const RELOAD_ON = ["poll_closed", "counted_before_close", "poll_not_open", "already_voted", "voted_on_paper", "not_by_phone"];
  // Codes after which the delegate can change the ballot and send it again.
  const CHANGE_ON = ["too_many_names", "no_choice", "too_many_choices", "unknown_option", "duplicate_option", "not_checked_in"];

  let polls = [];
  let failed = false;
  let loading = false, loadAgain = false, recheck = null, refreshTimer = null, retryTimer = null;
  const drafts = new Map();  // poll id -> {step, choice, struck: Set, message, code}
  const checks = new Map();  // poll id -> "checking" | "counted" | "missing"

  // ---- Texts: translated by the template, placeholders like {seats} filled in here ------
  function text(key, values) {
    let result = texts[key] || "";
    for (const [name, value] of Object.entries(values || {})) {
      result = result.split("{" + name + "}").join(String(value));
    }
    return result;
  }
  function votes(n) {
    return text(plurals.select(n) === "one" ? "votesOne" : "votesOther", { votes: n });
  }

  // ---- Small helpers ----------------------------------------------------------------------
  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "text") node.textContent = value;
      else if (name === "onclick") node.addEventListener("click", value);
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  function newKey() {
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function csrf() {
    const match = /(?:^|;\s*)congress_csrf=([^;]*)/.exec(document.cookie);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // ---- What the phone keeps: per delegate and poll, the retry key and the receipt --------
  const memory = {};  // where localStorage is not allowed (private tabs)
  function slot(pollId) { return "vote." + root.dataset.delegate + "." + pollId; }
  function mine(pollId) {
    let raw = memory[slot(pollId)];
    try { raw = localStorage.getItem(slot(pollId)) || raw; } catch (e) { /* memory only */ }
    try { return JSON.parse(raw) || {}; } catch (e) { return {}; }
  }
  function keep(pollId, value) {
    memory[slot(pollId)] = JSON.stringify(value);
    try { localStorage.setItem(slot(pollId), memory[slot(pollId)]); } catch (e) { /* memory only */ }
  }
  // Made once per poll and kept: a resend after a lost answer gets the same receipt back.
  function retryKey(pollId) {
    const saved = mine(pollId);
    if (!saved.key) { saved.key = newKey(); keep(pollId, saved); }
    return saved.key;
  }

  // ---- The server ------------------------------------------------------------------------
  class Offline extends Error {}
  class Refused extends Error {
    constructor(code, message) { super(code); this.code = code; this.text = message; }
  }
  // Offline: no network, no answer in time, a 5xx, or not our JSON (a captive portal).
  // Refused: the server answered with its code and translated message.
  async function api(method, path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    let response, data = null;
    try {
      response = await fetch(path, {
        method: method,
        credentials: "same-origin",
        cache: "no-store",
        headers: body
          ? { "Accept": "application/json", "Content-Type": "application/json", "x-csrf-token": csrf() }
          : { "Accept": "application/json" },
        body: body,
        signal: controller.signal,
      });
      data = await response.json();
    } catch (e) {
      throw new Offline();
    } finally {
      clearTimeout(timer);
    }
    if (response.ok) return data;
    if (response.status >= 500 || !data || !data.code) throw new Offline();
    throw new Refused(data.code, data.message);
  }

  async function load() {
    if (loading) { loadAgain = true; return; }
    loading = true;
    try {
      polls = await api("GET", root.dataset.source);
      failed = false;
    } catch (e) {
      failed = true;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(load, 5000 + Math.random() * JITTER_MS);
    }
    loading = false;
    render();
    if (loadAgain) { loadAgain = false; load(); }
  }

  // ---- Drawing -----------------------------------------------------------------------------
  function render() {
    for (const id of drafts.keys()) {
      const poll = polls.find((p) => p.id === id);
      if (!poll || (poll.status !== "open" && drafts.get(id).step !== "sending")) drafts.delete(id);
    }
    root.hidden = polls.length === 0 && !failed;
    root.replaceChildren(el("h2", { text: texts.heading }), ...polls.map(card));
    if (failed) root.firstChild.after(el("p", { class: "notice", text: texts.loadFailed }));
    clearTimeout(recheck);
    if (polls.some((p) => p.reason === "not_checked_in")) recheck = setTimeout(load, RECHECK_MS);
  }

  function redraw(pollId) {
    const poll = polls.find((p) => p.id === pollId);
    const old = root.querySelector('[data-poll="' + pollId + '"]');
    if (poll && old) old.replaceWith(card(poll));
  }

  function card(poll) {
    const status = poll.status === "open" ? texts.open : poll.status === "published" ? texts.published : "";
    const box = el("article", { class: "poll " + poll.status + " " + poll.kind, "data-poll": poll.id }, [
      el("p", { class: "poll-kind", text: (poll.kind === "motion" ? texts.motion : texts.election) + (status ? " · " + status : "") }),
      el("h3", { text: poll.title }),
      poll.question ? el("p", { class: "question", text: poll.question }) : null,
    ]);
    if (poll.status === "open") openPoll(poll, box);
    else if (poll.status === "closed") {
      box.append(el("p", { class: "notice", text: texts.closed }));
      if (mine(poll.id).receipt) box.append(receiptLine(poll));
    } else published(poll, box);
    return box;
  }

  function secrecy(poll) {
    return el("p", { class: poll.named ? "secret named" : "secret", text: poll.named ? texts.named : texts.secret });
  }

  function openPoll(poll, box) {
    const saved = mine(poll.id);
    const draft = drafts.get(poll.id);
    if (saved.receipt) { box.append(receipt(saved.receipt), secrecy(poll)); return; }
    if (draft && draft.step !== "choose" && draft.step !== "confirm") { box.append(...sending(poll, draft)); return; }
    if (!poll.may_vote) {
      box.append(el("p", { class: "notice " + (poll.reason || ""), role: "status", text: poll.message }));
      return;
    }
    const current = draft || newDraft(poll);
    box.append(secrecy(poll));
    if (current.step === "confirm") box.append(...confirmation(poll, current));
    else if (poll.kind === "motion") box.append(motion(poll, current));
    else box.append(ballot(poll, current));
  }

  function newDraft(poll) {
    const draft = { step: "choose", choice: null, struck: new Set() };
    drafts.set(poll.id, draft);
    return draft;
  }

  // Three large buttons; a tap goes to the confirmation, nothing is sent yet.
  function motion(poll, draft) {
    return el("div", { class: "choices" }, poll.options.map((option) =>
      el("button", {
        type: "button",
        class: "choice " + option.key,
        text: option.label,
        onclick: () => { draft.choice = option.key; draft.step = "confirm"; redraw(poll.id); },
      })
    ));
  }

  function kept(poll, draft) {
    return poll.options.filter((o) => !draft.struck.has(o.key));
  }

  // Like the paper ballot: every name listed, a tap strikes it out, another tap restores it.
  function ballot(poll, draft) {
    const counter = el("p", { class: "counter", "aria-live": "polite" });
    const warning = el("p", { class: "too-many", role: "alert" });
    const next = el("button", {
      type: "button",
      class: "primary",
      text: texts.continue,
      onclick: () => { draft.step = "confirm"; redraw(poll.id); },
    });
    function update() {
      const n = kept(poll, draft).length;
      counter.textContent = text("kept", { kept: n, seats: poll.seats });
      counter.classList.toggle("over", n > poll.seats);
      warning.hidden = n <= poll.seats;
      warning.textContent = text("tooMany", { kept: n, seats: poll.seats, more: n - poll.seats });
      next.disabled = n > poll.seats;
    }
    const names = el("ol", { class: "names" }, poll.options.map((option) => {
      const button = el("button", { type: "button", class: "name", "aria-pressed": String(draft.struck.has(option.key)) }, [
        el("span", { class: "label", text: option.label }),
        option.note ? el("span", { class: "note", text: option.note }) : null,
        el("span", { class: "struck-word", text: texts.struck }),
      ]);
      button.addEventListener("click", () => {
        if (draft.struck.has(option.key)) draft.struck.delete(option.key); else draft.struck.add(option.key);
        button.setAttribute("aria-pressed", String(draft.struck.has(option.key)));
        update();
      });
      return el("li", {}, [button]);
    }));
    update();
    return el("div", { class: "ballot" }, [
      el("p", { class: "elect", text: text("elect", { seats: poll.seats, count: poll.options.length }) }),
      el("p", { class: "help", text: texts.strikeHelp }),
      names,
      el("div", { class: "tally" }, [counter, warning, next]),
    ]);
  }

  function confirmation(poll, draft) {
    const parts = [el("h4", { text: texts.confirm })];
    if (poll.kind === "motion") {
      const option = poll.options.find((o) => o.key === draft.choice);
      parts.push(el("p", { class: "muted", text: texts.youChose }), el("p", { class: "chosen " + option.key, text: option.label }));
    } else {
      const keep = kept(poll, draft);
      const struck = poll.options.filter((o) => draft.struck.has(o.key));
      parts.push(el("p", { class: "muted", text: texts.youKeep }));
      parts.push(keep.length
        ? el("ol", { class: "kept" }, keep.map((o) => el("li", { text: o.label })))
        : el("p", { class: "chosen", text: texts.blank }));
      if (struck.length) {
        parts.push(el("p", { class: "muted", text: texts.youStruck }));
        parts.push(el("ul", { class: "struck" }, struck.map((o) => el("li", { text: o.label }))));
      }
    }
    parts.push(el("div", { class: "actions" }, [
      el("button", { type: "button", class: "primary", text: texts.send, onclick: () => submit(poll.id) }),
      el("button", { type: "button", class: "secondary", text: texts.change, onclick: () => { draft.step = "choose"; redraw(poll.id); } }),
    ]));
    return parts;
  }

  // Sending, resending, refused: what happened to the ballot the delegate confirmed.
  function sending(poll, draft) {
    const parts = [el("p", { class: "notice " + draft.step, role: "status", text: draft.message })];
    if (draft.step === "failed") {
      parts.push(el("div", { class: "actions" }, [
        el("button", { type: "button", class: "primary", text: texts.sendAgain, onclick: () => submit(poll.id) }),
      ]));
    } else if (draft.step === "refused" && CHANGE_ON.includes(draft.code)) {
      parts.push(el("div", { class: "actions" }, [
        el("button", { type: "button", class: "secondary", text: texts.change, onclick: () => { draft.step = "choose"; redraw(poll.id); } }),
      ]));
    }
    return parts;
  }

  function receipt(code) {
    return el("div", { class: "receipt", role: "status" }, [
      el("p", { class: "received", text: texts.received }),
      el("p", { class: "receipt-label", text: texts.receipt }),
      el("p", { class: "receipt-code", text: code }),
      el("p", { class: "help", text: texts.receiptHelp }),
    ]);
  }

  function receiptLine(poll) {
    const code = mine(poll.id).receipt;
    const state = checks.get(poll.id);
    const line = el("p", { class: "receipt-line" }, [
      el("span", { text: texts.receipt + ": " }),
      el("strong", { class: "receipt-code-small", text: code }),
    ]);
    if (poll.status !== "published") return line;
    if (!state) check(poll.id, code);
    const verdict = state === "counted" ? texts.counted : state === "missing" ? texts.notCounted : texts.checking;
    return el("div", { class: "check " + (state || "checking") }, [line, el("p", { class: "verdict-line", text: verdict })]);
  }

  async function check(pollId, code) {
    checks.set(pollId, "checking");
    try {
      const listed = await api("GET", "/delegate/polls/" + pollId + "/receipts");
      checks.set(pollId, listed.receipts.includes(code) ? "counted" : "missing");
    } catch (e) {
      checks.delete(pollId);  // asked again at the next drawing
      return;
    }
    redraw(pollId);
  }

  function published(poll, box) {
    const result = poll.result;
    if (!result) return;
    const labels = new Map(poll.options.map((o) => [o.key, o.label]));
    if (poll.kind === "motion") {
      box.append(el("p", { class: "verdict " + (result.passed ? "passed" : "failed"), text: result.passed ? texts.passed : texts.notPassed }));
    } else if (!result.elected.length && !result.tied.length) {
      box.append(el("p", { class: "verdict failed", text: texts.nobodyElected }));
    }
    box.append(el("ul", { class: "outcomes" }, result.outcomes.map((o) =>
      el("li", { class: o.elected ? "elected" : o.tied ? "tied" : "" }, [
        el("span", { class: "label", text: labels.get(o.option) || o.option }),
        poll.kind === "election" && o.elected ? el("span", { class: "tag", text: texts.elected }) : null,
        el("strong", { text: votes(o.votes) }),
      ])
    )));
    if (result.tied.length) {
      box.append(el("p", { class: "notice", text: texts.tied + " " + result.tied.map((k) => labels.get(k) || k).join(", ") }));
    }
    box.append(
      el("p", { class: "muted", text: text("collected", { collected: result.ballots_collected, valid: result.ballots_valid }) }),
      el("p", { class: "fingerprint" }, [el("span", { text: texts.fingerprint + ": " }), el("code", { text: poll.fingerprint })])
    );
    if (mine(poll.id).receipt) box.append(receiptLine(poll));
  }

  // ---- Sending a ballot --------------------------------------------------------------------
  // On the hall's Wi-Fi the traffic is encrypted but its size is not: "agree" is shorter than
  // "disagree", three names shorter than thirty. Every ballot of a poll is therefore sent
  // padded with spaces to one length, that of the longest ballot the poll allows, rounded
  // up to BALLOT_BLOCK bytes (the keys are ASCII, so characters are bytes).
  const BALLOT_BLOCK = 512;
  function paddedBallot(poll, choices) {
    const longest = JSON.stringify({
      choices: poll.options.map((o) => o.key), retry_key: "x".repeat(64), padding: "",
    }).length;
    const size = Math.ceil((longest + 1) / BALLOT_BLOCK) * BALLOT_BLOCK;
    const ballot = { choices: choices, retry_key: retryKey(poll.id), padding: "" };
    ballot.padding = " ".repeat(size - JSON.stringify(ballot).length);
    return JSON.stringify(ballot);
  }

  async function submit(pollId) {
    const poll = polls.find((p) => p.id === pollId);
    const draft = drafts.get(pollId);
    if (!poll || !draft || draft.step === "sending") return;
    const choices = poll.kind === "motion" ? [draft.choice] : kept(poll, draft).map((o) => o.key);
    const body = paddedBallot(poll, choices);
    draft.step = "sending";
    draft.message = texts.sending;
    redraw(pollId);
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await api("POST", "/delegate/polls/" + pollId + "/ballot", body);
        keep(pollId, Object.assign(mine(pollId), { receipt: answer.receipt }));
        drafts.delete(pollId);
        const current = polls.find((p) => p.id === pollId);
        if (current) { current.voted = "phone"; current.may_vote = false; }
        redraw(pollId);
        return;
      } catch (error) {
        if (error instanceof Refused) {
          draft.step = "refused";
          draft.code = error.code;
          draft.message = error.text;
          redraw(pollId);
          if (RELOAD_ON.includes(error.code)) { drafts.delete(pollId); setTimeout(load, 4000); }
          return;
        }
        if (attempt >= RESEND_MS.length) {
          draft.step = "failed";
          draft.message = texts.notSent;
          redraw(pollId);
          return;
        }
        draft.message = texts.retrying;
        redraw(pollId);
        await sleep(RESEND_MS[attempt]);
      }
    }
  }

  root.addEventListener("refresh", () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(load, Math.random() * JITTER_MS);
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
  load();
})();
