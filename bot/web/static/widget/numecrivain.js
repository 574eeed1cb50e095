/* Numécrivain web chat: one <script> tag, no framework, no third-party request.
 * Transport: the few Engine.IO v4 / Socket.IO v5 packets Rasa's socket.io channel needs, over a WebSocket.
 * Safety: every text goes through textContent; links only http(s), tel and mailto. See docs/widget.md. */
(function () {
  "use strict";
  if (window.numecrivainWidget) return;
  var script = document.currentScript || document.querySelector('script[src*="numecrivain.js"]');
  var BASE = script ? script.src.replace(/[^/?#]*([?#].*)?$/, "") : "/widget/";
  var SERVER = ((script && script.getAttribute("data-server")) || location.origin).replace(/\/+$/, "");
  /* History lives in this tab only (sessionStorage) and is forgotten on "Fermer", at the end of a conversation
   * with a person and after IDLE without a message: on a shared computer, the next person starts afresh. */
  var MAX = 500, IDLE = 15 * 60 * 1000, KEEP = 200;
  /* The help line, put in by the server from data/knowledge/contacts.yml (bot/web/widget.py). */
  var HELP = /*help-contact*/{"name": "Allô Service Public", "phone": "39 39", "tel": "tel:3939"}/*end-help-contact*/;
  var KEY = "numecrivain:" + SERVER;
  var NEWTAB = " (nouvelle fenêtre)";

  /* ---------- state kept across reloads of this tab ---------- */
  function fresh() { return { sid: null, at: Date.now(), open: false, big: false, msgs: [], queue: [] }; }
  var state = fresh(), persist = true;
  try {
    localStorage.removeItem(KEY); /* older versions kept the conversation there */
    var saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (saved && Date.now() - saved.at < IDLE && saved.msgs) state = saved;
    else sessionStorage.removeItem(KEY);
  } catch (e) { /* private mode or broken JSON: start afresh */ }
  function save() {
    state.at = Date.now();
    state.msgs = state.msgs.slice(-KEEP);
    if (!persist) return;
    try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* storage full or disabled */ }
  }
  function unsave() {
    try { sessionStorage.removeItem(KEY); } catch (e) { /* storage disabled */ }
  }
  function uid() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }

  /* ---------- DOM helpers ---------- */
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function button(text, cls, onclick) {
    var b = el("button", cls, text);
    b.type = "button";
    if (onclick) b.addEventListener("click", onclick);
    return b;
  }
  function hiddenText(text) { return el("span", "nc-sr", text); }
  function safeUrl(url) {
    return /^(https?:\/\/[^\s]+|tel:[+\d][\d .-]*|mailto:[^\s@]+@[^\s@]+)$/i.test(url || "") ? url : null;
  }
  function link(text, url, label) {
    var a = el("a", null, text);
    a.href = url;
    if (/^https?:/i.test(url)) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      add(a, hiddenText((label || "") + NEWTAB));
    }
    return a;
  }

  /* ---------- safe Markdown subset: paragraphs, line breaks, lists, bold, italics, links ---------- */
  var INLINE = /\[([^\]\n]+)\]\(([^)\s]+)\)|\*\*([^*\n]+)\*\*|(^|[\s(])_([^_\n]+)_(?![A-Za-z0-9])|\*([^*\n]+)\*|(https?:\/\/[^\s<>()"]*[^\s<>()".,;:!?'])/g;
  function inline(text, parent) {
    var last = 0, m, re = new RegExp(INLINE.source, "g");
    while ((m = re.exec(text))) {
      var start = m.index + (m[4] ? m[4].length : 0);
      parent.appendChild(document.createTextNode(text.slice(last, start)));
      if (m[1]) {
        var url = safeUrl(m[2]);
        parent.appendChild(url ? link(m[1], url) : document.createTextNode(m[1]));
      } else if (m[3]) inline(m[3], parent.appendChild(el("strong")));
      else if (m[5]) inline(m[5], parent.appendChild(el("em")));
      else if (m[6]) inline(m[6], parent.appendChild(el("em")));
      else parent.appendChild(link(m[7], m[7]));
      last = re.lastIndex;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }
  function markdown(text, parent) {
    String(text).replace(/\r/g, "").split(/\n\s*\n/).forEach(function (block) {
      var list = null, para = null;
      block.split("\n").forEach(function (line) {
        var item = /^\s*(?:([-*•])|(\d+)[.)])\s+(.*)$/.exec(line);
        if (item) {
          var tag = item[1] ? "ul" : "ol";
          if (!list || list.tagName.toLowerCase() !== tag) {
            list = parent.appendChild(el(tag));
            if (item[2] && item[2] !== "1") list.start = +item[2];
          }
          para = null;
          inline(item[3], list.appendChild(el("li")));
        } else if (line.trim()) {
          list = null;
          if (para) para.appendChild(el("br"));
          else para = parent.appendChild(el("p"));
          inline(line, para);
        }
      });
    });
  }
  function plain(text) {
    return String(text || "").replace(/\[([^\]]+)\]\([^)]*\)/g, "$1").replace(/[*_]{1,2}([^*_\n]+)[*_]{1,2}/g, "$1");
  }

  /* ---------- the widget's DOM ---------- */
  var host = el("aside", "numecrivain");
  host.setAttribute("aria-label", "Assistant Numécrivain");
  host.lang = "fr";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("link");
  css.rel = "stylesheet";
  css.href = BASE + "numecrivain.css";
  (root === host ? document.head : root).appendChild(css);
  var box = root.appendChild(el("div", "nc-root"));

  var launcher = button("", "nc-launcher", function () { open(true); });
  var unread = el("span", "nc-unread", " (nouveau message)");
  unread.hidden = true;
  add(launcher, el("span", "nc-launcher-icon"), el("span", null, "Une question ? Écrire à Numécrivain"), unread);
  launcher.setAttribute("aria-controls", "nc-panel");
  launcher.setAttribute("aria-expanded", "false");

  var panel = el("section", "nc-panel");
  panel.id = "nc-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "nc-title");
  panel.setAttribute("aria-describedby", "nc-subtitle");

  var title = el("h2", "nc-title", "Numécrivain");
  title.id = "nc-title";
  var subtitle = el("p", "nc-subtitle", "Assistant (robot) de la Métropole Européenne de Lille pour vos démarches.");
  subtitle.id = "nc-subtitle";
  var bigButton = button("Texte plus grand", "nc-tool", function () { setBig(!state.big); save(); });
  var clearButton = button("Effacer", "nc-tool", clearConversation);
  clearButton.setAttribute("aria-label", "Effacer la conversation");
  var closeButton = button("Fermer", "nc-tool", function () { close(); });
  closeButton.setAttribute("aria-label", "Fermer la discussion");
  var header = add(el("div", "nc-header"), add(el("div", "nc-heading"), title, subtitle), closeButton,
    add(el("div", "nc-tools"), bigButton, clearButton));

  var alertBox = el("div", "nc-alert");
  alertBox.setAttribute("role", "alert");
  var log = el("ol", "nc-log");
  log.setAttribute("aria-label", "Messages de la conversation");
  log.tabIndex = 0;
  var typing = el("p", "nc-typing");
  add(typing, el("span", "nc-dots"), el("span", null, "Numécrivain écrit…"));
  typing.hidden = true;
  var live = el("div", "nc-sr");
  live.setAttribute("aria-live", "polite");

  var humanButton = button("Parler à une personne", "nc-action", function () {
    send("/request_human", "Parler à une personne", { button: true });
  });
  var placeButton = button("Utiliser ma position", "nc-action", askConsent);
  if (!navigator.geolocation || window.isSecureContext === false) placeButton.hidden = true;
  var consent = el("div", "nc-consent");
  consent.hidden = true;
  consent.tabIndex = -1;
  var consentText = el("p", null, "Pour trouver un lieu d'aide près de vous, Numécrivain peut utiliser votre position. " +
    "Elle sert seulement à cette recherche, arrondie à environ 100 mètres. Votre navigateur va aussi vous demander votre accord.");
  consentText.id = "nc-consent-text";
  consent.setAttribute("role", "group");
  consent.setAttribute("aria-labelledby", "nc-consent-text");
  add(consent, consentText, add(el("div", "nc-choices"),
    button("Oui, utiliser ma position", "nc-choice", shareLocation),
    button("Non, merci", "nc-choice", function () { consent.hidden = true; placeButton.focus(); })));

  var form = el("form", "nc-form");
  var label = el("label", "nc-label", "Votre message");
  label.htmlFor = "nc-input";
  var input = el("textarea", "nc-input");
  input.id = "nc-input";
  input.rows = 2;
  input.setAttribute("aria-describedby", "nc-count");
  input.setAttribute("autocomplete", "off");
  var counter = el("p", "nc-count", "500 caractères au maximum.");
  counter.id = "nc-count";
  var sendButton = el("button", "nc-send", "Envoyer");
  sendButton.type = "submit";
  add(form, label, add(el("div", "nc-row"), input, sendButton), counter);

  add(panel, header, alertBox, log, typing,
    add(el("div", "nc-actions"), humanButton, placeButton), consent, form);
  add(box, launcher, panel, live);

  /* ---------- messages ---------- */
  var known = {};
  var announceTimer;
  function announce(text) {
    live.textContent = "";
    clearTimeout(announceTimer);
    announceTimer = setTimeout(function () { live.textContent = text; }, 100);
  }
  function placeCards(places) {
    var list = el("ul", "nc-places");
    list.setAttribute("aria-label", "Lieux d'aide");
    places.slice(0, 10).forEach(function (p) {
      var name = p && (p.nom || p.name);
      if (!name) return;
      var card = add(el("li", "nc-place"), el("h3", "nc-place-name", String(name)));
      var address = p.adresse || p.address;
      if (address) add(card, el("p", null, String(address) + (p.complement_adresse ? " (" + p.complement_adresse + ")" : "")));
      if (typeof p.distance_km === "number") {
        add(card, el("p", null, "À " + p.distance_km.toLocaleString("fr-FR", { maximumFractionDigits: 1 }) + " km" +
          (p.walking_minutes ? ", environ " + p.walking_minutes + " min à pied" : "")));
      }
      var today = p.today || p.hours_today;
      if (today) add(card, el("p", null, /^aujourd/i.test(today) ? today : "Aujourd'hui : " + today));
      if (p.itinerant) add(card, el("p", null, "Lieu itinérant : appelez avant de venir."));
      if (p.position_approximative) add(card, el("p", null, "Position approximative (centre de la commune)."));
      var links = el("p", "nc-place-links"), phone = p.telephone || p.phone;
      if (phone) add(links, link("Tél. " + (p.telephone_display || phone), "tel:" + String(phone).replace(/[^\d+]/g, "")));
      var map = safeUrl(p.map_url);
      if (map && /^https?:/i.test(map)) add(links, link("Voir sur la carte", map, " : " + name));
      var rdv = safeUrl(p.prise_rdv || p.website);
      if (rdv && /^https?:/i.test(rdv)) add(links, link("Prendre rendez-vous", rdv, " : " + name));
      if (links.firstChild) add(card, links);
      list.appendChild(card);
    });
    return list.firstChild ? list : null;
  }
  function render(msg) {
    var who = msg.who, item = el("li", "nc-msg nc-" + who);
    var bubble = el("div", "nc-bubble");
    if (who === "agent") {
      add(item, el("p", "nc-author", (msg.agent || "Un conseiller") + " · une personne vous répond"));
    } else if (who === "note") {
      bubble.setAttribute("role", "note");
    } else {
      add(item, hiddenText(who === "user" ? "Vous avez écrit : " : "Numécrivain a écrit : "));
    }
    if (who === "bot" || who === "agent") markdown(msg.text || "", bubble);
    else add(bubble, el("p", null, msg.text));
    if (msg.places) add(bubble, placeCards(msg.places));
    if (bubble.firstChild) add(item, bubble);
    var choices = (msg.buttons || []).filter(function (b) { return b.payload !== "/request_human"; });
    if (choices.length) {
      var group = el("div", "nc-choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Choix proposés");
      choices.forEach(function (b) {
        add(group, button(b.title, "nc-choice", function () { send(b.payload, b.title, { button: true }); }));
      });
      add(item, group);
    }
    if (msg.pending) add(item, el("p", "nc-pending", "En attente d'envoi : il partira dès le retour de la connexion."));
    item.setAttribute("data-id", msg.id);
    return item;
  }
  function show(msg, isNew) {
    if (known[msg.id]) return;
    known[msg.id] = true;
    var item = render(msg);
    log.appendChild(item);
    if (!isNew) return;
    if (msg.who === "user") log.scrollTop = log.scrollHeight;
    else {
      var prev = item.previousSibling;
      var firstOfTurn = !prev || / nc-user/.test(" " + prev.className);
      if (firstOfTurn) log.scrollTop = item.offsetTop - 8;
      if (panel.hidden) unread.hidden = false;
      announce((msg.who === "agent" ? (msg.agent || "Un conseiller") + ", une personne : " : msg.who === "note" ? "" : "Numécrivain : ") +
        plain(msg.text) + (msg.places ? " " + msg.places.length + " lieux proposés." : ""));
    }
  }
  function remember(msg) {
    if (known[msg.id]) return;
    state.msgs.push(msg);
    save();
    show(msg, true);
  }
  function markSent(id) {
    state.msgs.forEach(function (m) { if (m.id === id) delete m.pending; });
    var item = log.querySelector('[data-id="' + id + '"] .nc-pending');
    if (item) item.parentNode.removeChild(item);
  }
  function note(text) { remember({ id: uid(), who: "note", text: text }); }

  /* ---------- sending, with a queue that survives disconnections and reloads ---------- */
  function send(text, shown, metadata) {
    var id = uid();
    if (shown) remember({ id: id, who: "user", text: shown, pending: !ready });
    state.queue.push({ id: id, text: text, meta: metadata });
    save();
    flush();
  }
  function flush() {
    if (!ready) return;
    state.queue.forEach(function (q) {
      if (inflight[q.id]) return;
      inflight[q.id] = true;
      setTyping(true);
      emit("user_uttered", { message: q.text, metadata: meta(q) }, function (args) {
        var ack = args && args[0];
        if (ack && typeof ack.session_id === "string" && state.sid) state.sid = ack.session_id;
        delete inflight[q.id];
        state.queue = state.queue.filter(function (x) { return x.id !== q.id; });
        markSent(q.id);
        save();
        if (!state.queue.length) setTyping(false);
      });
    });
  }
  function meta(q) {
    var m = { message_id: q.id };
    for (var k in q.meta || {}) m[k] = q.meta[k];
    return m;
  }
  var typingTimer;
  function setTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, 30000);
  }
  function receive(data) {
    if (!data || typeof data !== "object") return;
    var msg = { id: typeof data.id === "string" ? data.id : uid(), who: data.from === "agent" ? "agent" : "bot", text: "" };
    if (typeof data.text === "string") msg.text = data.text;
    if (typeof data.agent === "string") msg.agent = data.agent;
    var buttons = data.quick_replies || data.buttons;
    if (buttons && buttons.length) {
      msg.buttons = buttons.filter(function (b) { return b && typeof b.title === "string" && typeof b.payload === "string"; })
        .map(function (b) { return { title: b.title, payload: b.payload }; });
    }
    var custom = data.custom;
    if (custom && custom.type === "places" && custom.places && custom.places.length) {
      var prev = state.msgs[state.msgs.length - 1];
      if (!msg.text && prev && prev.who === "bot" && !prev.places && !known[msg.id]) return withCards(prev, msg.id, custom.places);
      msg.places = custom.places;
    }
    if (msg.text || msg.places || (msg.buttons && msg.buttons.length)) remember(msg);
    if (data.handoff_ended === true) afterHandoff();
  }
  /* The person has gone back to the bot: this conversation is no longer kept, even on reload. */
  function afterHandoff() {
    persist = false;
    state.sid = null;
    unsave();
  }
  /* The places answer comes as a text list, then as cards: show the cards in place of the list. */
  function withCards(prev, id, places) {
    known[id] = true;
    prev.text = prev.text.split("\n").filter(function (line) { return !/^\s*\d+[.)]\s|^\s{2,}\S/.test(line); }).join("\n");
    prev.places = places;
    save();
    var old = log.querySelector('[data-id="' + prev.id + '"]');
    if (old) log.replaceChild(render(prev), old);
    announce(places.length + " lieux proposés, sous forme de fiches.");
  }

  /* ---------- Engine.IO v4 / Socket.IO v5 over a WebSocket ---------- */
  var ws = null, ready = false, attempts = 0, retryTimer, watchdog, alertTimer, ackSeq = 0, acks = {}, inflight = {};
  function wsUrl() { return SERVER.replace(/^http/i, "ws") + "/socket.io/?EIO=4&transport=websocket"; }
  function emit(name, data, onAck) {
    var id = "";
    if (onAck) { id = String(++ackSeq); acks[id] = onAck; }
    ws.send("42" + id + JSON.stringify([name, data]));
  }
  function arm(ms) {
    clearTimeout(watchdog);
    watchdog = setTimeout(function () { drop(); }, ms);
  }
  function connect() {
    clearTimeout(retryTimer);
    if (ws) return;
    try { ws = new WebSocket(wsUrl()); } catch (e) { ws = null; return retry(); }
    var timeout = 20000;
    arm(timeout);
    ws.onmessage = function (event) {
      var d = String(event.data), type = d.charAt(0);
      if (type === "0") {
        try { var info = JSON.parse(d.slice(1)); timeout = info.pingInterval + info.pingTimeout; } catch (e) { /* keep */ }
        arm(timeout);
        ws.send("40");
      } else if (type === "2") {
        arm(timeout);
        ws.send("3");
      } else if (type === "1") drop();
      else if (type === "4") packet(d.slice(1));
    };
    ws.onclose = function () { drop(); };
  }
  function packet(d) {
    var kind = d.charAt(0), m = /^(\d*)(.*)$/.exec(d.slice(1)), args;
    try { args = m[2] ? JSON.parse(m[2]) : []; } catch (e) { return; }
    if (kind === "0") emit("session_request", { session_id: state.sid });
    else if (kind === "1" || kind === "4") drop();
    else if (kind === "3" && acks[m[1]]) { var cb = acks[m[1]]; delete acks[m[1]]; cb(args); }
    else if (kind === "2" && args[0] === "session_confirm" && typeof args[1] === "string") {
      state.sid = args[1];
      ready = true;
      attempts = 0;
      online(true);
      save();
      flush();
    } else if (kind === "2" && args[0] === "bot_uttered") receive(args[1]);
    else if (kind === "2" && args[0] === "session_refused" && args[1] && typeof args[1].text === "string") note(args[1].text);
  }
  function drop() {
    clearTimeout(watchdog);
    if (ws) {
      ws.onclose = ws.onmessage = null;
      try { ws.close(); } catch (e) { /* already closed */ }
    }
    ws = null;
    ready = false;
    acks = {};
    inflight = {};
    setTyping(false);
    online(false);
    retry();
  }
  function retry() {
    clearTimeout(retryTimer);
    var delay = Math.min(30000, 1000 * Math.pow(2, attempts++)) * (0.8 + Math.random() * 0.4);
    retryTimer = setTimeout(connect, delay);
  }
  function online(up) {
    clearTimeout(alertTimer);
    if (up) { alertBox.textContent = ""; alertBox.className = "nc-alert"; return; }
    alertTimer = setTimeout(function () {
      if (ready) return;
      alertBox.textContent = "";
      add(alertBox, el("p", null, "Numécrivain ne répond pas pour le moment. Nous réessayons tout seuls ; " +
        "vos messages partiront dès le retour de la connexion."),
        add(el("p"), document.createTextNode("Besoin d'aide tout de suite ? Appelez " + HELP.name + " au "),
          link(HELP.phone, HELP.tel), document.createTextNode(".")),
        button("Réessayer maintenant", "nc-choice", function () { attempts = 0; connect(); }));
      alertBox.className = "nc-alert nc-alert-on";
    }, 1500);
  }
  window.addEventListener("online", function () { if (!ws) { attempts = 0; connect(); } });

  /* ---------- opening, closing, settings ---------- */
  function open(focus) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    unread.hidden = true;
    state.open = true;
    if (!state.msgs.length && !state.queue.length) send("/greet", null, { button: true });
    save();
    log.scrollTop = log.scrollHeight;
    if (focus) input.focus();
  }
  /* Escape only hides the chat; "Fermer" ends the conversation: nothing stays in the tab, the next opening
   * starts a new one. */
  function hide() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    launcher.focus();
  }
  function close() {
    hide();
    forget(false);
  }
  function forget(keepOpen) {
    var big = state.big;
    state = fresh();
    state.big = big;
    state.open = !!keepOpen;
    persist = true;
    known = {};
    log.textContent = "";
    unsave();
    if (ws) { drop(); attempts = 0; connect(); }
  }
  setInterval(function () {
    if (state.msgs.length && !state.queue.length && Date.now() - state.at > IDLE) {
      var wasOpen = !panel.hidden;
      forget(wasOpen);
      if (wasOpen) show({ id: uid(), who: "note", text: "Conversation effacée après " + IDLE / 60000 + " minutes sans message." }, true);
    }
  }, 30000);
  function setBig(on) {
    state.big = on;
    box.className = on ? "nc-root nc-big" : "nc-root";
    bigButton.setAttribute("aria-pressed", on ? "true" : "false");
  }
  function clearConversation() {
    forget(true);
    announce("Conversation effacée.");
    send("/greet", null, { button: true });
    input.focus();
  }
  function askConsent() {
    consent.hidden = false;
    consent.focus();
  }
  function shareLocation() {
    consent.hidden = true;
    input.focus();
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = Math.round(pos.coords.latitude * 1000) / 1000, lon = Math.round(pos.coords.longitude * 1000) / 1000;
      send("/find_help_nearby", "Ma position (pour trouver un lieu proche)",
        { button: true, location: { latitude: lat, longitude: lon } });
    }, function () {
      note("Votre position n'est pas disponible. Écrivez plutôt le nom de votre commune ou votre code postal.");
    }, { timeout: 15000, maximumAge: 600000 });
  }
  panel.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") return;
    event.preventDefault();
    if (!consent.hidden) { consent.hidden = true; placeButton.focus(); } else hide();
  });

  /* ---------- typing and sending ---------- */
  var tooLong = false;
  function count() {
    var n = input.value.length, over = n > MAX;
    counter.textContent = over ? "Message trop long : " + n + " caractères. " + MAX + " au maximum : gardez l'essentiel de votre question."
      : n > MAX - 50 ? "Encore " + (MAX - n) + " caractères possibles." : MAX + " caractères au maximum.";
    counter.className = over ? "nc-count nc-error" : "nc-count";
    if (over) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    if (over && !tooLong) announce("Message trop long : " + MAX + " caractères au maximum.");
    tooLong = over;
    return !over;
  }
  input.addEventListener("input", count);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  function submit() {
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (!count()) { announce(counter.textContent); input.focus(); return; }
    input.value = "";
    count();
    send(text, text);
    input.focus();
  }

  /* ---------- start ---------- */
  state.msgs.forEach(function (m) { show(m, false); });
  setBig(!!state.big);
  function start() {
    document.body.appendChild(host);
    if (state.open) open(false);
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
  window.numecrivainWidget = { open: open, close: close, server: SERVER };
})();
