// Numécrivain agents' console: plain JavaScript. The queue and the open conversation arrive as server-sent
// events (no polling); when a stream is cut, the browser reconnects, and after an error we retry with a delay.
"use strict";

(function () {
  const csrf = document.getElementById("csrf").dataset.token;
  const statusBox = document.getElementById("status");
  const linkBox = document.getElementById("link");
  const queueList = document.getElementById("queue");
  const mineList = document.getElementById("mine");
  const callbackList = document.getElementById("callbacks");
  const transcript = document.getElementById("transcript");
  const info = document.getElementById("conversation-info");
  const resident = document.getElementById("resident");
  const earlier = document.getElementById("earlier");
  const earlierTitle = document.getElementById("earlier-title");
  const earlierList = document.getElementById("earlier-list");
  const title = document.getElementById("conversation-title");
  const form = document.getElementById("reply-form");
  const replyBox = document.getElementById("reply");
  const closeButton = document.getElementById("close");
  const available = document.getElementById("available");
  const soundBox = document.getElementById("sound");
  const notifyButton = document.getElementById("notify");
  const PAGE_TITLE = document.title;
  const STATUS_NAMES = { waiting: "en attente", taken: "en cours", closed: "terminée", expired: "expirée" };
  let openId = null;
  let current = null;            // the last conversation received: { request, messages, online, ... }
  let queueData = null;
  let clockOffset = 0;           // server time minus browser time, in seconds
  let knownWaiting = null;       // ids already seen waiting (null until the first queue arrives)
  let lastCallbacks = -1;
  let queueSource = null;
  let conversationSource = null;
  let queueRetry = 0;
  let conversationRetry = 0;

  // « La personne écrit… » while the person types in the web chat (the server pushes the fact, never the text):
  // gone after a few seconds without news, or as soon as their message arrives.
  const typingLine = element("p", "typing", "La personne écrit…");
  typingLine.id = "typing";
  typingLine.hidden = true;
  transcript.parentElement.after(typingLine);
  let typingTimer = null;
  let typingSentAt = 0;
  const TYPING_EVERY_MS = 2000;  // the agent's own "écrit…" signal: at most one every 2 s (the server refuses more)

  function say(text) { statusBox.textContent = text; }
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  // Requests have random references (never sequential ids); six characters are enough to tell them apart.
  function showTyping(active, seconds) {
    window.clearTimeout(typingTimer);
    typingLine.hidden = !active;
    if (active) typingTimer = window.setTimeout(() => { typingLine.hidden = true; }, 1000 * (seconds || 5));
  }
  function short(id) { return String(id).slice(0, 6); }
  function nowSeconds() { return Date.now() / 1000 + clockOffset; }
  function waited(seconds) {
    if (seconds < 60) return "moins d'une minute";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0");
  }
  function dateTime(epoch) { return new Date(epoch * 1000).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" }); }
  function time(epoch) { return new Date(epoch * 1000).toLocaleTimeString("fr-FR"); }

  async function api(method, url, body) {
    const options = { method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = csrf;
      options.body = JSON.stringify(body || {});
    }
    const resp = await fetch(url, options);
    if (resp.status === 401) { window.location.assign("/agents/login"); throw new Error("session"); }
    let data = {};
    try { data = await resp.json(); } catch (e) { data = {}; }
    return { ok: resp.ok, status: resp.status, data };
  }

  function describe(r) {
    const parts = ["n° " + short(r.id), r.channel_label || r.channel];
    if (r.commune) parts.push(r.commune);
    if (r.topic_label) parts.push("sujet : " + r.topic_label);
    return parts.join(" · ");
  }

  // ----- alerts: sound, desktop notification, count in the tab title -----

  let audio = null;
  function beep() {
    if (!soundBox.checked) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start();
      oscillator.stop(audio.currentTime + 0.6);
    } catch (e) { /* no sound card: the title and the status line still tell */ }
  }
  function notifyDesktop(count) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const note = new Notification("Numécrivain : une personne attend", {
      body: count > 1 ? count + " personnes attendent une réponse." : "Une personne attend une réponse.",
      tag: "numecrivain-queue",
    });
    note.onclick = () => { window.focus(); queueList.querySelector("button")?.focus(); note.close(); };
  }
  function updateTitle(count) { document.title = count ? "(" + count + ") " + PAGE_TITLE : PAGE_TITLE; }
  function alertOnNewRequests(waiting) {
    const ids = waiting.map(r => r.id);
    if (knownWaiting !== null) {
      const fresh = ids.filter(id => !knownWaiting.has(id));
      if (fresh.length) {
        beep();
        notifyDesktop(ids.length);
        say(fresh.length > 1 ? fresh.length + " nouvelles demandes dans la file d'attente."
          : "Nouvelle demande dans la file d'attente.");
      }
    }
    knownWaiting = new Set(ids);
    updateTitle(ids.length);
  }
  soundBox.checked = window.localStorage.getItem("numecrivain.sound") !== "off";
  soundBox.addEventListener("change", () => {
    window.localStorage.setItem("numecrivain.sound", soundBox.checked ? "on" : "off");
    say(soundBox.checked ? "Le son des nouvelles demandes est activé." : "Le son des nouvelles demandes est coupé.");
  });
  function showNotificationState() {
    if (!("Notification" in window)) { notifyButton.hidden = true; return; }
    if (Notification.permission === "granted") {
      notifyButton.textContent = "Notifications sur le bureau activées";
      notifyButton.disabled = true;
    } else if (Notification.permission === "denied") {
      notifyButton.textContent = "Notifications bloquées par le navigateur";
      notifyButton.disabled = true;
    }
  }
  notifyButton.addEventListener("click", async () => {
    const answer = await Notification.requestPermission();
    say(answer === "granted" ? "Vous recevrez une notification à chaque nouvelle demande."
      : "Pas de notification : le navigateur ne l'a pas permis.");
    showNotificationState();
  });
  showNotificationState();

  // ----- queue -----

  function renderQueue(data) {
    queueData = data;
    clockOffset = data.now - Date.now() / 1000;
    alertOnNewRequests(data.waiting);
    queueList.replaceChildren();
    if (!data.waiting.length) queueList.append(element("li", "empty", "Personne n'attend."));
    for (const r of data.waiting) {
      const li = element("li", "card");
      li.append(element("p", "what", describe(r)),
                element("p", "when", "Attend depuis " + waited(nowSeconds() - r.requested_at)));
      const button = element("button", "", "Prendre la conversation n° " + short(r.id));
      button.type = "button";
      button.addEventListener("click", () => take(r.id));
      li.append(button);
      queueList.append(li);
    }
    mineList.replaceChildren();
    if (!data.mine.length) mineList.append(element("li", "empty", "Aucune conversation en cours."));
    for (const r of data.mine) {
      const li = element("li", "card" + (r.id === openId ? " current" : ""));
      li.append(element("p", "what", describe(r)));
      const button = element("button", "secondary", r.id === openId ? "Conversation ouverte" : "Ouvrir la conversation n° " + short(r.id));
      button.type = "button";
      button.disabled = r.id === openId;
      button.addEventListener("click", () => open(r.id));
      li.append(button);
      mineList.append(li);
    }
    if (data.callbacks !== lastCallbacks) { lastCallbacks = data.callbacks; loadCallbacks(); }
  }
  // Waiting times move on even when nothing else changes.
  window.setInterval(() => { if (queueData) renderQueue(queueData); }, 30000);

  async function loadCallbacks() {
    const { ok, data } = await api("GET", "/agents/api/callbacks");
    if (!ok) return;
    callbackList.replaceChildren();
    if (!data.callbacks.length) callbackList.append(element("li", "empty", "Aucun rappel à faire."));
    for (const c of data.callbacks) {
      const li = element("li", "card");
      li.append(element("p", "what", c.phone + (c.commune ? " · " + c.commune : "") + (c.topic ? " · " + c.topic : "")),
                element("p", "when", "Demandé le " + dateTime(c.requested_at)));
      const button = element("button", "secondary", "Rappel fait : effacer le numéro");
      button.type = "button";
      button.addEventListener("click", async () => {
        const res = await api("POST", "/agents/api/callbacks/" + c.id + "/done");
        say(res.ok ? "Rappel noté comme fait ; le numéro est effacé." : res.data.error);
        lastCallbacks = -1;
        loadCallbacks();
      });
      li.append(button);
      callbackList.append(li);
    }
  }

  // ----- live streams, with a fallback when they fail -----

  function showLink(text) { linkBox.textContent = text; }
  async function sessionStillValid() {
    try { await api("GET", "/agents/api/me"); return true; } catch (e) { return false; }
  }
  function connectQueue() {
    if (queueSource) queueSource.close();
    queueSource = new EventSource("/agents/api/stream");
    queueSource.addEventListener("open", () => { queueRetry = 0; showLink(""); });
    queueSource.addEventListener("queue", (event) => renderQueue(JSON.parse(event.data)));
    queueSource.addEventListener("session", () => window.location.assign("/agents/login"));
    queueSource.addEventListener("error", async () => {
      showLink("Connexion au serveur perdue : reconnexion en cours…");
      if (queueSource.readyState !== EventSource.CLOSED) return;  // the browser retries by itself
      if (!(await sessionStillValid())) return;
      queueRetry = Math.min(queueRetry + 1, 5);
      window.setTimeout(connectQueue, 1000 * 2 ** queueRetry);
    });
  }

  function connectConversation(id) {
    if (conversationSource) conversationSource.close();
    conversationSource = new EventSource("/agents/api/requests/" + encodeURIComponent(id) + "/stream");
    conversationSource.addEventListener("open", () => { conversationRetry = 0; });
    conversationSource.addEventListener("conversation", (event) => {
      if (openId === id) renderConversation(JSON.parse(event.data));
    });
    conversationSource.addEventListener("typing", (event) => {
      if (openId !== id) return;
      const data = JSON.parse(event.data);
      showTyping(data.active === true, data.seconds);
    });
    conversationSource.addEventListener("gone", (event) => {
      conversationSource.close();
      if (openId === id) leaveConversation(JSON.parse(event.data).error);
    });
    conversationSource.addEventListener("session", () => window.location.assign("/agents/login"));
    conversationSource.addEventListener("error", async () => {
      if (conversationSource.readyState !== EventSource.CLOSED || openId !== id) return;
      // Refused outright (a 404 or a server error): ask once plainly to know why, then retry later.
      const { ok, status, data } = await api("GET", "/agents/api/requests/" + encodeURIComponent(id));
      if (status === 404) { leaveConversation(data.error); return; }
      if (ok) renderConversation(data);
      conversationRetry = Math.min(conversationRetry + 1, 5);
      window.setTimeout(() => { if (openId === id) connectConversation(id); }, 1000 * 2 ** conversationRetry);
    });
  }

  // ----- conversation -----

  async function take(id) {
    const { ok, data } = await api("POST", "/agents/api/requests/" + encodeURIComponent(id) + "/take");
    if (!ok) { say(data.error || "Impossible de prendre cette conversation."); return; }
    say("Vous avez pris la conversation n° " + short(id) + ". La personne est prévenue de votre arrivée.");
    open(id);
  }

  function open(id) {
    openId = id;
    current = null;
    showTyping(false);
    transcript.replaceChildren();
    form.hidden = false;
    title.textContent = "Conversation n° " + short(id);
    connectConversation(id);
    title.focus();
    if (queueData) renderQueue(queueData);
  }

  // The person's last message came after the last answer from an agent: closing now would leave it unanswered.
  function unansweredMessage() {
    if (!current) return null;
    let last = null;
    for (const m of current.messages) {
      if (m.role === "user" && !m.command) last = m;
      else if (m.role === "agent") last = null;
    }
    return last;
  }

  function messageItem(m) {
    const li = element("li", "msg " + m.role + (m.while_waiting ? " waiting" : ""));
    const who = m.role === "user" ? "Usager" : m.role === "bot" ? "Robot Numécrivain"
      : m.role === "agent" ? (m.agent || "Agent")
      : m.role === "note" ? "Note interne de " + (m.agent || "l'équipe") + " (non envoyée)"
      : "Numécrivain (message automatique)";
    const meta = element("p", "meta", who + (m.timestamp ? " · " + time(m.timestamp) : "")
      + (m.while_waiting && m.role === "user" ? " · écrit pendant l'attente" : "")
      + (m.delivery === "failed" ? " · pas encore livré, nouvel essai automatique" : "")
      + (m.delivery === "outbox" ? " · à lire par l'application de l'usager" : "")
      + (m.delivery === "refused" ? " · non envoyé : la personne a demandé à ne plus recevoir de messages" : ""));
    li.append(meta);
    if (m.role === "bot") {
      const details = element("details", "folded");
      details.append(element("summary", "", "Réponse du robot : " + (m.summary || "(sans texte)")));
      const body = element("div", "text rich");
      body.innerHTML = m.html;  // built by the server from escaped text (bot/handoff/render.py)
      details.append(body);
      if (m.choices && m.choices.length) details.append(element("p", "choices", "Choix proposés : " + m.choices.join(", ")));
      li.append(details);
    } else if (m.html !== undefined) {
      const body = element("div", "text rich");
      body.innerHTML = m.html;
      li.append(body);
    } else {
      li.append(element("p", "text" + (m.command ? " command" : ""), m.text));
    }
    return li;
  }

  function renderResident(data) {
    const r = data.request;
    const lastUser = [...data.messages].reverse().find(m => m.role === "user");
    let text;
    if (data.online === true) text = "La personne a la conversation ouverte en ce moment.";
    else if (data.online === false) text = "La personne a fermé la conversation (elle peut revenir et lire plus tard).";
    else if (r.channel === "sms") text = "Par SMS : la personne lira votre réponse sur son téléphone.";
    else text = "Ce canal ne dit pas si la personne est encore là.";
    if (lastUser && lastUser.timestamp) text += " Son dernier message date de " + time(lastUser.timestamp) + ".";
    resident.textContent = text;
    resident.className = "resident" + (data.online === false ? " away" : "");
    resident.hidden = false;
  }

  function renderEarlier(list) {
    earlierList.replaceChildren();
    earlier.hidden = !list.length;
    earlierTitle.textContent = "Conversations précédentes de cette personne (" + list.length + ")";
    for (const e of list) {
      const how = e.status === "closed" && e.agent ? "répondu par " + e.agent
        : e.status === "expired" ? "personne n'a pu répondre" : STATUS_NAMES[e.status] || e.status;
      earlierList.append(element("li", "", dateTime(e.requested_at) + " · " + (e.topic_label || "sujet inconnu") + " · " + how));
    }
  }

  function renderConversation(data) {
    current = data;
    const r = data.request;
    info.textContent = describe(r) + " · " + (STATUS_NAMES[r.status] || r.status)
      + (data.live ? "" : " · historique en direct indisponible (le robot ne répond pas)");
    renderResident(data);
    renderEarlier(data.earlier || []);
    const openDetails = new Set([...transcript.querySelectorAll("details[open]")].map(d => d.dataset.key));
    const atBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
    transcript.replaceChildren();
    data.messages.forEach((m, index) => {
      const li = messageItem(m);
      const details = li.querySelector("details");
      if (details) { details.dataset.key = String(index); details.open = openDetails.has(String(index)); }
      transcript.append(li);
    });
    if (atBottom) transcript.scrollTop = transcript.scrollHeight;
    const closed = r.status !== "taken";
    tools.hidden = closed;
    replyBox.disabled = closed;
    form.querySelectorAll("button").forEach(b => { b.disabled = closed; });
    if (r.status === "closed" || r.status === "expired") say("La conversation n° " + short(r.id) + " est terminée : le robot a repris la main.");
  }

  // A conversation that ended (or is no longer ours) cannot be read any more: clear it from the screen.
  function leaveConversation(note) {
    if (conversationSource) conversationSource.close();
    openId = null;
    current = null;
    showTyping(false);
    transcript.replaceChildren();
    resident.hidden = true;
    earlier.hidden = true;
    replyBox.disabled = true;
    tools.hidden = true;
    form.querySelectorAll("button").forEach(b => { b.disabled = true; });
    info.textContent = "Cette conversation n'est plus affichée : elle est terminée, ou elle n'est plus à vous.";
    if (note) say(note);
    if (queueData) renderQueue(queueData);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = replyBox.value.trim();
    if (!text || openId === null) { replyBox.focus(); return; }
    // Emptied at once: what the agent types or inserts while the message travels is not wiped on its return.
    replyBox.value = "";
    const { ok, data } = await api("POST", "/agents/api/requests/" + openId + "/messages", { text })
      .catch(() => ({ ok: false, data: {} }));
    if (!ok) {  // not sent: back in the box, to resend, before what was typed meanwhile
      const typed = replyBox.value.trim();
      replyBox.value = typed ? text + "\n" + typed : text;
    }
    if (ok) {
      say(data.delivery === "failed" ? "Message gardé : il sera livré dès que possible."
        : data.delivery === "refused" ? "Message non envoyé : la personne a demandé à ne plus recevoir de messages."
        : "Message envoyé.");
    } else {
      say(data.error || "Message non envoyé.");
    }
    replyBox.focus();
  });

  // The person sees « Inès écrit… » in their web chat while the agent types (the fact only, never the text).
  replyBox.addEventListener("input", () => {
    if (openId === null || !current || current.request.status !== "taken" || current.request.channel !== "webchat") return;
    if (!replyBox.value.trim() || Date.now() - typingSentAt < TYPING_EVERY_MS) return;
    typingSentAt = Date.now();
    api("POST", "/agents/api/requests/" + encodeURIComponent(openId) + "/typing", {}).catch(() => {});
  });

  closeButton.addEventListener("click", async () => {
    if (openId === null) return;
    const waiting = unansweredMessage();
    const question = waiting
      ? "Attention : le dernier message de la personne n'a pas de réponse (« " + waiting.text.slice(0, 120)
        + " »). Terminer quand même ? Le robot reprendra la main."
      : "Terminer la conversation ? Le robot reprendra la main.";
    if (!window.confirm(question)) { replyBox.focus(); return; }
    const { ok, data } = await api("POST", "/agents/api/requests/" + openId + "/close");
    if (ok) leaveConversation("Conversation terminée : le robot a repris la main.");
    else say(data.error || "Impossible de terminer.");
  });

  // Leaving the page with an unanswered message: the browser asks first.
  window.addEventListener("beforeunload", (event) => {
    if (openId !== null && current && current.request.status === "taken" && unansweredMessage()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ----- tools: canned answers, procedures, notes, transfer; canned answers kept by admins -----

  const tools = document.getElementById("tools");
  const cannedSelect = document.getElementById("canned");
  const procedureSelect = document.getElementById("procedure");
  const noteBox = document.getElementById("note");
  const transferSelect = document.getElementById("transfer-to");
  const admin = document.getElementById("admin");
  const cannedForm = document.getElementById("canned-form");
  const cannedList = document.getElementById("canned-list");

  function fillSelect(select, items, empty) {
    select.replaceChildren();
    if (!items.length) { select.append(new Option(empty, "")); select.disabled = true; return; }
    select.disabled = false;
    for (const item of items) select.append(new Option(item.title, String(item.id)));
  }

  async function loadTools() {
    const { ok, data } = await api("GET", "/agents/api/tools");
    if (!ok) return;
    fillSelect(cannedSelect, data.canned, "Aucune réponse type pour l'instant");
    fillSelect(procedureSelect, data.procedures, "Aucune démarche");
    admin.hidden = !data.is_admin;
    cannedList.replaceChildren();
    for (const c of data.canned) {
      const li = element("li", "card");
      li.append(element("p", "what", c.title), element("p", "when", c.text));
      const button = element("button", "secondary", "Supprimer « " + c.title + " »");
      button.type = "button";
      button.addEventListener("click", async () => {
        const res = await api("POST", "/agents/api/canned/" + c.id + "/delete");
        say(res.ok ? "Réponse type supprimée." : res.data.error);
        loadTools();
      });
      li.append(button);
      cannedList.append(li);
    }
  }

  function insertText(text) {
    const start = replyBox.selectionStart ?? replyBox.value.length;
    const before = replyBox.value.slice(0, start);
    const glue = before && !before.endsWith("\n") ? "\n" : "";
    replyBox.value = before + glue + text + replyBox.value.slice(replyBox.selectionEnd ?? start);
    replyBox.focus();
  }

  async function insertFrom(url, done) {
    if (openId === null) return;
    const { ok, data } = await api("GET", url);
    if (!ok) { say(data.error || "Insertion impossible."); return; }
    insertText(data.text);
    say(done);
  }

  document.getElementById("insert-canned").addEventListener("click", () => {
    if (!cannedSelect.value) return;
    insertFrom("/agents/api/requests/" + openId + "/canned/" + cannedSelect.value,
      "Réponse type insérée dans votre réponse : relisez-la, puis envoyez.");
  });
  document.getElementById("insert-procedure").addEventListener("click", () => {
    if (!procedureSelect.value) return;
    insertFrom("/agents/api/requests/" + openId + "/procedure/" + encodeURIComponent(procedureSelect.value),
      "Démarche insérée dans votre réponse : relisez-la, puis envoyez.");
  });
  document.getElementById("add-note").addEventListener("click", async () => {
    if (openId === null) return;
    const { ok, data } = await api("POST", "/agents/api/requests/" + openId + "/notes", { text: noteBox.value });
    if (ok) { noteBox.value = ""; say("Note enregistrée (visible par l'équipe seulement)."); }
    else say(data.error || "Note non enregistrée.");
    noteBox.focus();
  });

  async function loadColleagues() {
    const { ok, data } = await api("GET", "/agents/api/colleagues");
    if (!ok) return;
    const keep = transferSelect.value;
    transferSelect.replaceChildren(new Option("Remettre dans la file d'attente", "queue"));
    for (const c of data.colleagues) transferSelect.append(new Option("À " + c.name + " (disponible)", String(c.id)));
    if ([...transferSelect.options].some(o => o.value === keep)) transferSelect.value = keep;
  }
  transferSelect.addEventListener("focus", loadColleagues);
  document.getElementById("transfer").addEventListener("click", async () => {
    if (openId === null) return;
    const to = transferSelect.value === "queue" ? null : Number(transferSelect.value);
    const id = openId;
    const { ok, data } = await api("POST", "/agents/api/requests/" + id + "/transfer", { to });
    if (!ok) { say(data.error || "Transfert impossible."); loadColleagues(); return; }
    leaveConversation(data.to ? "Conversation n° " + short(id) + " confiée à " + data.to + "."
      : "Conversation n° " + short(id) + " remise dans la file d'attente.");
  });

  cannedForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const titleBox = document.getElementById("canned-title");
    const textBox = document.getElementById("canned-text");
    const { ok, data } = await api("POST", "/agents/api/canned", { title: titleBox.value, text: textBox.value });
    if (ok) { titleBox.value = ""; textBox.value = ""; say("Réponse type ajoutée pour toute l'équipe."); loadTools(); }
    else say(data.error || "Réponse type non enregistrée.");
  });

  available.addEventListener("change", async () => {
    const { ok, data } = await api("POST", "/agents/api/presence", { available: available.checked });
    say(ok ? (data.available ? "Vous êtes disponible." : "Vous n'êtes plus disponible.") : data.error);
  });

  connectQueue();
  loadTools();
})();
