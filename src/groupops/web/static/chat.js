// groupops sandbox chat: pick a group, join under a name, talk, and watch the bot live.
// Every text from people goes into the page through textContent, never as HTML.
"use strict";

(function () {
  const T = JSON.parse(document.getElementById("texts").textContent);
  const MOVABLE_CLOCK = document.body.dataset.movableClock === "true";
  const POLL_MS = 500;
  const HIDDEN_POLL_MS = 3000;
  const GROUPS_MS = 10000;
  const QUOTED_MAX = 100; // quoted lines older than those shown a poll asks about, at most

  const $ = (id) => document.getElementById(id);
  const state = {
    groups: [],
    chat: null,
    last: 0, // the newest line shown
    first: 0, // the oldest line shown (removals are looked for after it)
    me: null,
    zone: null, // the open group's time zone
    timer: null,
    busy: false,
    generation: 0, // bumps when another group is opened: late answers are dropped
    replyTo: null, // the line the next message answers: {id, name, text}
    loadingOlder: false, // older lines are being loaded up to a quoted line
  };

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, key) => (key in values ? String(values[key]) : m));
  }

  function csrfToken() {
    for (const part of document.cookie.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === "csrftoken") return decodeURIComponent(v.join("="));
    }
    return "";
  }

  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken();
      options.body = JSON.stringify(body || {});
    }
    let response;
    try {
      response = await fetch(path, options);
    } catch (e) {
      throw { status: 0, code: "offline", message: T.offline };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw {
        status: response.status,
        code: error.code || "error",
        field: error.field || null,
        message: error.message || response.statusText,
      };
    }
    return data;
  }

  // -- groups --------------------------------------------------------------------------------
  async function loadGroups() {
    try {
      const data = await api("GET", "/api/groups");
      state.groups = data.groups;
      renderGroups();
    } catch (e) {
      showAlert(fill(T.failed, { reason: e.message }));
    }
  }

  function renderGroups() {
    const list = $("groups");
    list.replaceChildren();
    $("no-groups").hidden = state.groups.length > 0;
    for (const g of state.groups) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "group" + (g.chat_id === state.chat ? " active" : "");
      button.dataset.chat = g.chat_id;
      const title = document.createElement("span");
      title.className = "group-title";
      title.textContent = g.title;
      const count = document.createElement("span");
      count.className = "group-count";
      count.textContent = g.members === 1 ? T.member : fill(T.members, { n: g.members });
      button.append(title, count);
      button.addEventListener("click", () => openGroup(g.chat_id));
      li.append(button);
      list.append(li);
    }
  }

  // -- a group -------------------------------------------------------------------------------
  function openGroup(chatId) {
    const group = state.groups.find((g) => g.chat_id === chatId);
    if (!group) return;
    state.generation += 1;
    state.chat = chatId;
    state.last = 0;
    state.first = 0;
    state.loadingOlder = false;
    state.me = null;
    state.zone = null;
    if (location.hash !== "#" + chatId) history.replaceState(null, "", "#" + encodeURIComponent(chatId));
    $("pick").hidden = true;
    $("chat").hidden = false;
    $("room-title").textContent = group.title;
    $("messages").replaceChildren();
    $("rename-form").hidden = true;
    cancelReply();
    hideAlert();
    renderGroups();
    renderMe();
    poll(true);
  }

  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => poll(false), delay);
  }

  async function poll(initial) {
    if (!state.chat) return;
    if (state.busy && !initial) {
      schedule(POLL_MS);
      return;
    }
    const generation = state.generation;
    const chatId = state.chat;
    state.busy = true;
    let more = false;
    try {
      const quoted = initial ? "" : olderQuoted().map((id) => `&quoted=${id}`).join("");
      const query = initial ? "" : `?after=${state.last}&since=${state.first}${quoted}`;
      const data = await api("GET", `/api/groups/${encodeURIComponent(chatId)}/messages${query}`);
      if (generation !== state.generation) return;
      showTitle(data.title);
      if (initial) state.first = data.messages.length ? data.messages[0].id - 1 : data.last_id;
      for (const m of data.messages) addMessage(m);
      for (const id of data.deleted) markDeleted(id);
      for (const [id, settled] of Object.entries(data.questions || {})) markSettled(id, settled);
      showReactions(data.reactions || {}, data.my_reactions || {});
      state.zone = data.zone;
      renderClock(data.now_local, data.zone);
      state.last = Math.max(state.last, data.last_id);
      state.me = data.me;
      renderMe();
      if ($("alert").dataset.kind === "offline") hideAlert();
      more = data.more;
    } catch (e) {
      if (generation !== state.generation) return;
      showAlert(e.status === 0 ? T.offline : fill(T.failed, { reason: e.message }), "offline");
    } finally {
      if (generation === state.generation) {
        state.busy = false;
        schedule(more ? 0 : document.hidden ? HIDDEN_POLL_MS : POLL_MS);
      }
    }
  }

  function noticeText(notice) {
    const key = "event_" + notice.event;
    return key in T ? fill(T[key], notice) : null;
  }

  // the open group's name as the server says it now (someone renamed it meanwhile)
  function showTitle(title) {
    if (!title) return;
    $("room-title").textContent = title;
    const group = state.groups.find((g) => g.chat_id === state.chat);
    if (group && group.title !== title) {
      group.title = title;
      renderGroups();
    }
  }

  function addMessage(m) {
    const list = $("messages");
    if (list.querySelector(`[data-id="${m.id}"]`)) return;
    list.append(lineElement(m));
    scrollDown();
  }

  // older lines (oldest first) above those shown
  function prependMessages(messages) {
    const list = $("messages");
    const anchor = list.firstChild;
    for (const m of messages) {
      if (!list.querySelector(`[data-id="${m.id}"]`)) list.insertBefore(lineElement(m), anchor);
    }
  }

  function lineElement(m) {
    const li = document.createElement("li");
    li.dataset.id = String(m.id);
    const classes = ["message", "kind-" + m.kind];
    if (m.mine) classes.push("mine");
    if (m.bot) classes.push("bot");
    li.className = classes.join(" ");
    if (m.kind === "system") {
      li.textContent = (m.notice && noticeText(m.notice)) || m.text;
      return li;
    }
    const head = document.createElement("div");
    head.className = "head";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = m.name;
    head.append(name);
    if (m.bot || m.mine) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = m.bot ? T.bot : T.you;
      head.append(badge);
    }
    if (m.kind === "dm") {
      const dm = document.createElement("span");
      dm.className = "badge private";
      dm.textContent = T.private;
      head.append(dm);
    }
    const time = document.createElement("time");
    time.dateTime = m.at;
    time.textContent = new Date(m.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    head.append(time);
    li.append(head);
    if (m.quote) li.append(quoteOf(m.quote));
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = m.text;
    li.append(body);
    if (m.buttons) li.append(buttonRows(m));
    if (m.kind === "message") {
      li.append(reactionBar(m));
      li.addEventListener("dblclick", (event) => {
        if (event.target.closest("button")) return;
        const selection = window.getSelection();
        if (selection) selection.removeAllRanges(); // the double-click selected a word
        startReply(li);
      });
    }
    if (m.deleted) setDeleted(li);
    return li;
  }

  // -- replies -------------------------------------------------------------------------------
  // the line a reply answers, above its text: author and the start of the text (the server
  // cuts it), or "message deleted"; clicking it shows the line, loading the older lines up to
  // it when it is older than those shown (or saying it is gone)
  function quoteOf(quote) {
    const box = document.createElement("button");
    box.type = "button";
    box.className = "quote";
    box.dataset.quote = String(quote.id);
    box.title = T.quote_show;
    const name = document.createElement("span");
    name.className = "quote-name";
    name.textContent = quote.name;
    name.hidden = !quote.name;
    const text = document.createElement("span");
    text.className = "quote-text";
    text.textContent = (quote.notice && noticeText(quote.notice)) || quote.text;
    box.append(name, text);
    if (quote.deleted) quoteDeleted(box);
    box.addEventListener("click", () => showLine(quote.id));
    return box;
  }

  function quoteDeleted(box) {
    box.classList.add("deleted");
    box.querySelector(".quote-text").textContent = T.quote_deleted;
  }

  async function showLine(id) {
    let li = $("messages").querySelector(`[data-id="${id}"]`);
    if (!li) {
      if (!(await loadTo(id))) return;
      li = $("messages").querySelector(`[data-id="${id}"]`);
      if (!li) {
        showAlert(T.quote_gone);
        return;
      }
    }
    li.scrollIntoView({ block: "center", behavior: "smooth" });
    li.classList.remove("flash");
    void li.offsetWidth; // restart the highlight when clicked again
    li.classList.add("flash");
    clearTimeout(li.flashTimer);
    li.flashTimer = setTimeout(() => li.classList.remove("flash"), 2000);
  }

  // the lines from those shown back to line ``id`` (a page at a time); false when it is gone
  // (said), the load failed (said) or another group was opened meanwhile
  async function loadTo(id) {
    if (state.loadingOlder) return false;
    const generation = state.generation;
    const chatId = state.chat;
    state.loadingOlder = true;
    try {
      for (;;) {
        const query = `?before=${state.first + 1}&to=${id}`;
        const data = await api("GET", `/api/groups/${encodeURIComponent(chatId)}/history${query}`);
        if (generation !== state.generation) return false;
        if (!data.found) {
          showAlert(T.quote_gone);
          return false;
        }
        prependMessages(data.messages);
        state.first = Math.min(state.first, data.oldest - 1); // polls now cover them too
        if (!data.more) return true;
      }
    } catch (e) {
      if (generation === state.generation) showAlert(fill(T.failed, { reason: e.message }));
      return false;
    } finally {
      if (generation === state.generation) state.loadingOlder = false;
    }
  }

  // the lines older than those shown that shown replies quote: a poll says which were removed
  function olderQuoted() {
    const ids = new Set();
    for (const quote of $("messages").querySelectorAll(".quote:not(.deleted)")) {
      const id = Number(quote.dataset.quote);
      if (id <= state.first) ids.add(id);
    }
    return [...ids].slice(0, QUOTED_MAX);
  }

  function lineText(li) {
    const body = li.querySelector(".text");
    return body ? body.textContent : "";
  }

  // reply to a line: the bar above the input names it, with a cancel
  function startReply(li) {
    const me = state.me || {};
    if (me.status !== "active" || li.classList.contains("deleted")) return;
    const name = li.querySelector(".head .name");
    state.replyTo = { id: Number(li.dataset.id), name: name ? name.textContent : "" };
    $("reply-name").textContent = fill(T.replying_to, { name: state.replyTo.name });
    $("reply-text").textContent = lineText(li);
    $("reply-bar").classList.remove("deleted");
    $("reply-bar").hidden = false;
    $("text").focus();
  }

  function cancelReply() {
    state.replyTo = null;
    $("reply-bar").hidden = true;
    $("reply-name").textContent = "";
    $("reply-text").textContent = "";
  }

  function buttonRows(m) {
    const box = document.createElement("div");
    box.className = "buttons";
    for (const row of m.buttons) {
      const line = document.createElement("div");
      for (const b of row) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.textContent = b.text;
        button.addEventListener("click", () => pressButton(m.id, b.data));
        line.append(button);
      }
      box.append(line);
    }
    return box;
  }

  function setDeleted(li) {
    li.classList.add("deleted");
    const body = li.querySelector(".text");
    if (body) body.textContent = T.removed;
    const quote = li.querySelector(".quote"); // a removed reply no longer says what it answers
    if (quote) quote.remove();
    const buttons = li.querySelector(".buttons");
    if (buttons) buttons.remove();
    const reactions = li.querySelector(".reactions"); // a removed line takes none
    if (reactions) reactions.remove();
  }

  function reactionBar(m) {
    const bar = document.createElement("div");
    bar.className = "reactions";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "react";
    button.textContent = "👍";
    button.addEventListener("click", () => toggleReaction(m.id, "👍", pressed(button)));
    markGiven(button, "👍", false, T.react);
    const counts = document.createElement("span");
    counts.className = "counts";
    const reply = document.createElement("button");
    reply.type = "button";
    reply.className = "reply";
    reply.textContent = T.reply;
    reply.title = T.reply_title;
    reply.addEventListener("click", () => startReply(reply.closest("[data-id]")));
    bar.append(button, counts, reply);
    return bar;
  }

  function pressed(button) {
    return button.getAttribute("aria-pressed") === "true";
  }

  // a reaction you gave is pressed, and pressing it again takes it back
  function markGiven(button, emoji, given, label) {
    button.setAttribute("aria-pressed", String(given));
    const name = given ? fill(T.take_back, { emoji }) : label;
    button.title = name;
    if (button.classList.contains("react")) button.setAttribute("aria-label", name);
  }

  // the reactions standing on every line shown ({"12": {"👍": 2}}), yours among them
  // ({"12": ["👍"]}): a line missing from them has none (any more)
  function showReactions(reactions, mine) {
    for (const bar of $("messages").querySelectorAll(".reactions")) {
      const id = bar.closest("[data-id]").dataset.id;
      const counts = reactions[id] || {};
      const given = mine[id] || [];
      const box = bar.querySelector(".counts");
      const shown = JSON.stringify([counts, given]);
      if (box.dataset.shown === shown) continue; // unchanged: the chips stay (and their focus)
      box.dataset.shown = shown;
      markGiven(bar.querySelector(".react"), "👍", given.includes("👍"), T.react);
      box.replaceChildren(
        ...Object.entries(counts).map(([emoji, n]) => {
          const chip = document.createElement("button");
          chip.type = "button";
          chip.className = "chip";
          chip.textContent = `${emoji} ${n}`;
          markGiven(chip, emoji, given.includes(emoji), fill(T.react_with, { emoji }));
          chip.addEventListener("click", () => toggleReaction(Number(id), emoji, pressed(chip)));
          return chip;
        }),
      );
    }
  }

  function renderClock(nowLocal, zone) {
    $("clock").hidden = !MOVABLE_CLOCK || !state.chat;
    if (MOVABLE_CLOCK && nowLocal) $("clock-now").textContent = fill(T.clock_now, { time: nowLocal, zone });
  }

  // a question whose buttons no longer count (answered, out of time, the newcomer gone)
  function markSettled(id, settled) {
    const li = $("messages").querySelector(`[data-id="${id}"]`);
    const box = li && li.querySelector(".buttons");
    if (!box || box.dataset.settled === settled) return;
    box.dataset.settled = settled;
    for (const button of box.querySelectorAll("button")) button.disabled = true;
    let note = box.querySelector(".settled");
    if (!note) {
      note = document.createElement("span");
      note.className = "settled";
      box.append(note);
    }
    note.textContent = T["question_" + settled] || settled;
  }

  function markDeleted(id) {
    const list = $("messages");
    const li = list.querySelector(`[data-id="${id}"]`);
    if (li && !li.classList.contains("deleted")) setDeleted(li);
    for (const quote of list.querySelectorAll(`.quote[data-quote="${id}"]:not(.deleted)`)) quoteDeleted(quote);
    if (state.replyTo && state.replyTo.id === Number(id)) {
      $("reply-text").textContent = T.quote_deleted; // sending will be refused: say so now
      $("reply-bar").classList.add("deleted");
    }
  }

  function scrollDown() {
    const list = $("messages");
    list.scrollTop = list.scrollHeight;
  }

  function renderMe() {
    const me = state.me || { status: null };
    const active = me.status === "active";
    $("join-form").hidden = active || me.status === "banned";
    $("send-form").hidden = !active;
    $("messages").classList.toggle("can-reply", active);
    if (!active) cancelReply();
    $("leave").hidden = !active;
    $("admin").hidden = !active;
    // only an admin may rename the group, as on Telegram and Matrix
    $("rename").hidden = !active || !me.admin;
    if (!active || !me.admin) $("rename-form").hidden = true;
    $("admin").textContent = me.admin ? T.drop_admin : T.make_admin;
    let status = "";
    if (active && me.muted_until) {
      // in the group's time zone, named, as the platform's refusal says it
      status = fill(T.status_muted, { time: me.muted_until_local, zone: state.zone || "UTC" });
    } else if (active) {
      status = fill(me.admin ? T.joined_as_admin : T.joined_as, { name: me.name });
    } else if (me.status === "kicked") status = T.status_kicked;
    else if (me.status === "banned") status = T.status_banned;
    else if (me.status === "left") status = T.status_left;
    else status = T.status_none;
    const line = $("status");
    line.textContent = status;
    line.hidden = !status;
    line.classList.toggle("warn", Boolean(me.muted_until) || ["kicked", "banned"].includes(me.status));
  }

  function showAlert(text, kind) {
    const box = $("alert");
    box.textContent = text;
    box.dataset.kind = kind || "error";
    box.hidden = false;
  }

  function hideAlert() {
    const box = $("alert");
    box.hidden = true;
    box.textContent = "";
    delete box.dataset.kind;
  }

  // -- what the person does --------------------------------------------------------------------
  async function join(event) {
    event.preventDefault();
    const input = $("join-name");
    hideAlert();
    try {
      await api("POST", `/api/groups/${encodeURIComponent(state.chat)}/join`, { name: input.value });
      poll(true);
      loadGroups();
      $("text").focus();
    } catch (e) {
      showAlert(fill(T.failed, { reason: e.message }));
    }
  }

  async function send(event) {
    event.preventDefault();
    const input = $("text");
    const text = input.value;
    if (!text.trim()) return;
    hideAlert();
    const body = { text };
    if (state.replyTo) body.reply_to = String(state.replyTo.id);
    try {
      await api("POST", `/api/groups/${encodeURIComponent(state.chat)}/messages`, body);
      input.value = "";
      cancelReply();
      schedule(0);
    } catch (e) {
      if (e.field === "reply_to") {
        // the line answered is gone (removed meanwhile): the text stays, without the reply
        cancelReply();
        showAlert(fill(T.reply_gone, { reason: e.message }));
      } else if (e.code === "sandbox_refused") showAlert(fill(T.refused, { reason: e.message }));
      else showAlert(fill(T.failed, { reason: e.message }));
      schedule(0);
    }
  }

  async function leave() {
    hideAlert();
    try {
      await api("POST", `/api/groups/${encodeURIComponent(state.chat)}/leave`, {});
      schedule(0);
      loadGroups();
    } catch (e) {
      showAlert(fill(T.failed, { reason: e.message }));
    }
  }

  // give a reaction, or take back one you gave
  async function toggleReaction(messageId, emoji, given) {
    hideAlert();
    const path = `/api/groups/${encodeURIComponent(state.chat)}/reactions`;
    try {
      if (given) await api("DELETE", `${path}/${messageId}?emoji=${encodeURIComponent(emoji)}`);
      else await api("POST", path, { message_id: messageId, emoji });
      schedule(0);
    } catch (e) {
      showAlert(e.code === "sandbox_refused" ? fill(T.refused, { reason: e.message }) : fill(T.failed, { reason: e.message }));
    }
  }

  async function toggleAdmin() {
    hideAlert();
    const admin = !(state.me && state.me.admin);
    try {
      const data = await api("POST", `/api/groups/${encodeURIComponent(state.chat)}/admin`, { admin });
      state.me = data.me;
      renderMe();
    } catch (e) {
      showAlert(fill(T.failed, { reason: e.message }));
    }
  }

  function openRename() {
    hideAlert();
    const form = $("rename-form");
    form.hidden = false;
    const input = $("rename-title");
    input.value = $("room-title").textContent;
    input.focus();
    input.select();
  }

  async function rename(event) {
    event.preventDefault();
    hideAlert();
    try {
      const data = await api("POST", `/api/groups/${encodeURIComponent(state.chat)}/rename`, {
        title: $("rename-title").value,
      });
      $("rename-form").hidden = true;
      showTitle(data.title);
      schedule(0);
    } catch (e) {
      showAlert(e.status === 0 ? T.offline : fill(T.not_renamed, { reason: e.message }));
    }
  }

  async function moveClock(step) {
    hideAlert();
    try {
      await api("POST", "/api/clock/advance", { step, chat_id: state.chat });
      schedule(0);
    } catch (e) {
      showAlert(fill(T.failed, { reason: e.message }));
    }
  }

  async function pressButton(messageId, data) {
    hideAlert();
    try {
      await api("POST", `/api/groups/${encodeURIComponent(state.chat)}/buttons`, { message_id: messageId, data });
      schedule(0);
    } catch (e) {
      showAlert(e.code === "sandbox_refused" ? fill(T.refused, { reason: e.message }) : fill(T.failed, { reason: e.message }));
    }
  }

  // -- start -----------------------------------------------------------------------------------
  function keepHashOnLanguageSwitch() {
    for (const link of document.querySelectorAll(".languages a")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        location.assign("?lang=" + encodeURIComponent(link.dataset.lang) + location.hash);
      });
    }
  }

  async function start() {
    $("join-form").addEventListener("submit", join);
    $("send-form").addEventListener("submit", send);
    $("leave").addEventListener("click", leave);
    $("admin").addEventListener("click", toggleAdmin);
    $("rename").addEventListener("click", openRename);
    $("rename-form").addEventListener("submit", rename);
    $("reply-cancel").addEventListener("click", () => {
      cancelReply();
      $("text").focus();
    });
    $("text").addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.replyTo) cancelReply();
    });
    $("rename-cancel").addEventListener("click", () => {
      $("rename-form").hidden = true;
    });
    for (const button of document.querySelectorAll("#clock [data-step]")) {
      button.addEventListener("click", () => moveClock(button.dataset.step));
    }
    keepHashOnLanguageSwitch();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && state.chat) schedule(0);
    });
    await loadGroups();
    const wanted = decodeURIComponent(location.hash.slice(1));
    if (wanted && state.groups.some((g) => g.chat_id === wanted)) openGroup(wanted);
    setInterval(loadGroups, GROUPS_MS);
    document.body.dataset.ready = "true";
  }

  start();
})();
