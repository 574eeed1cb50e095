// Numécrivain agents' console: plain JavaScript, polling the portal's API every 2 seconds.
"use strict";

(function () {
  const POLL_MS = 2000;
  const csrf = document.getElementById("csrf").dataset.token;
  const statusBox = document.getElementById("status");
  const queueList = document.getElementById("queue");
  const mineList = document.getElementById("mine");
  const callbackList = document.getElementById("callbacks");
  const transcript = document.getElementById("transcript");
  const info = document.getElementById("conversation-info");
  const title = document.getElementById("conversation-title");
  const form = document.getElementById("reply-form");
  const replyBox = document.getElementById("reply");
  const closeButton = document.getElementById("close");
  const available = document.getElementById("available");
  const CHANNELS = { webchat: "chat web", sms: "SMS", rest: "application (REST)" };
  let openId = null;
  let lastQueue = "";
  let lastTranscript = "";
  let lastCallbacks = -1;

  function say(text) { statusBox.textContent = text; }

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

  function waited(seconds) {
    if (seconds < 60) return "moins d'une minute";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0");
  }

  // Requests have random references (never sequential ids); six characters are enough to tell them apart.
  function short(id) { return String(id).slice(0, 6); }

  function describe(r) {
    const parts = ["n° " + short(r.id), CHANNELS[r.channel] || r.channel];
    if (r.commune) parts.push(r.commune);
    if (r.topic) parts.push("sujet : " + r.topic.replace(/^procedure_/, "").replace(/_/g, " "));
    return parts.join(" · ");
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderQueue(data) {
    const key = JSON.stringify([data.waiting.map(r => [r.id, Math.floor(r.waiting_seconds / 60)]),
                                data.mine.map(r => r.id), data.callbacks]);
    if (key === lastQueue) return;
    lastQueue = key;
    queueList.replaceChildren();
    if (!data.waiting.length) queueList.append(element("li", "empty", "Personne n'attend."));
    for (const r of data.waiting) {
      const li = element("li", "card");
      li.append(element("p", "what", describe(r)), element("p", "when", "Attend depuis " + waited(r.waiting_seconds)));
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

  async function loadCallbacks() {
    const { ok, data } = await api("GET", "/agents/api/callbacks");
    if (!ok) return;
    callbackList.replaceChildren();
    if (!data.callbacks.length) callbackList.append(element("li", "empty", "Aucun rappel à faire."));
    for (const c of data.callbacks) {
      const li = element("li", "card");
      const when = new Date(c.requested_at * 1000).toLocaleString("fr-FR");
      li.append(element("p", "what", c.phone + (c.commune ? " · " + c.commune : "") + (c.topic ? " · " + c.topic : "")),
                element("p", "when", "Demandé le " + when));
      const button = element("button", "secondary", "Rappel fait : effacer le numéro");
      button.type = "button";
      button.addEventListener("click", async () => {
        const res = await api("POST", "/agents/api/callbacks/" + c.id + "/done");
        say(res.ok ? "Rappel noté comme fait ; le numéro est effacé." : res.data.error);
        lastCallbacks = -1;
      });
      li.append(button);
      callbackList.append(li);
    }
  }

  async function take(id) {
    const { ok, data } = await api("POST", "/agents/api/requests/" + encodeURIComponent(id) + "/take");
    if (!ok) { say(data.error || "Impossible de prendre cette conversation."); lastQueue = ""; return; }
    say("Vous avez pris la conversation n° " + short(id) + ".");
    lastQueue = "";
    await open(id);
  }

  async function open(id) {
    openId = id;
    lastTranscript = "";
    form.hidden = false;
    title.textContent = "Conversation n° " + short(id);
    await refreshConversation();
    title.focus();
    lastQueue = "";
  }

  function renderTranscript(data) {
    const key = JSON.stringify([data.request.status, data.live, data.messages]);
    if (key === lastTranscript) return;
    lastTranscript = key;
    const r = data.request;
    info.textContent = describe(r) + (data.live ? "" : " · historique en direct indisponible (le robot ne répond pas)");
    transcript.replaceChildren();
    const who = { user: "Usager", bot: "Robot", agent: "", system: "Numécrivain" };
    for (const m of data.messages) {
      const li = element("li", "msg " + m.role + (m.while_waiting ? " waiting" : ""));
      const label = m.role === "agent" ? (m.agent || "Agent") : who[m.role];
      const meta = element("p", "meta", label + (m.timestamp ? " · " + new Date(m.timestamp * 1000).toLocaleTimeString("fr-FR") : "")
        + (m.while_waiting && m.role === "user" ? " · écrit pendant l'attente" : "")
        + (m.delivery === "failed" ? " · pas encore livré, nouvel essai automatique" : "")
        + (m.delivery === "outbox" ? " · à lire par l'application de l'usager" : "")
        + (m.delivery === "refused" ? " · non envoyé : la personne a demandé à ne plus recevoir de messages" : ""));
      li.append(meta, element("p", "text", m.text));
      if (m.choices && m.choices.length) li.append(element("p", "choices", "Choix proposés : " + m.choices.join(", ")));
      transcript.append(li);
    }
    transcript.scrollTop = transcript.scrollHeight;
    const closed = r.status !== "taken";
    replyBox.disabled = closed;
    form.querySelectorAll("button").forEach(b => { b.disabled = closed; });
    if (closed) say("La conversation n° " + short(r.id) + " est terminée : le robot a repris la main.");
  }

  // A conversation that ended (or is no longer ours) cannot be read any more: clear it from the screen.
  function leaveConversation(note) {
    openId = null;
    lastTranscript = "";
    transcript.replaceChildren();
    replyBox.disabled = true;
    form.querySelectorAll("button").forEach(b => { b.disabled = true; });
    info.textContent = "Cette conversation n'est plus affichée : elle est terminée, ou elle n'est plus à vous.";
    if (note) say(note);
  }

  async function refreshConversation() {
    if (openId === null) return;
    const { ok, status, data } = await api("GET", "/agents/api/requests/" + openId);
    if (ok) renderTranscript(data);
    else if (status === 404) leaveConversation(data.error);
    else say(data.error || "Conversation indisponible.");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = replyBox.value.trim();
    if (!text || openId === null) { replyBox.focus(); return; }
    const { ok, data } = await api("POST", "/agents/api/requests/" + openId + "/messages", { text });
    if (ok) {
      replyBox.value = "";
      say(data.delivery === "failed" ? "Message gardé : il sera livré dès que possible."
        : data.delivery === "refused" ? "Message non envoyé : la personne a demandé à ne plus recevoir de messages."
        : "Message envoyé.");
      await refreshConversation();
    } else {
      say(data.error || "Message non envoyé.");
    }
    replyBox.focus();
  });

  closeButton.addEventListener("click", async () => {
    if (openId === null) return;
    if (!window.confirm("Terminer la conversation ? Le robot reprendra la main.")) return;
    const { ok, data } = await api("POST", "/agents/api/requests/" + openId + "/close");
    if (ok) {
      leaveConversation("Conversation terminée : le robot a repris la main.");
    } else {
      say(data.error || "Impossible de terminer.");
      await refreshConversation();
    }
    lastQueue = "";
  });

  available.addEventListener("change", async () => {
    const { ok, data } = await api("POST", "/agents/api/presence", { available: available.checked });
    say(ok ? (data.available ? "Vous êtes disponible." : "Vous n'êtes plus disponible.") : data.error);
  });

  async function poll() {
    try {
      const { ok, data } = await api("GET", "/agents/api/queue");
      if (ok) renderQueue(data);
      await refreshConversation();
    } catch (e) {
      if (e.message !== "session") say("Connexion au serveur perdue, nouvel essai…");
    }
    window.setTimeout(poll, POLL_MS);
  }
  poll();
})();
