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
  /* Shared with the bot and put in by the server (bot/web/widget.py), never copied here: the help line
   * (data/knowledge/contacts.yml), the "person" and "places" choices (bot/replies.py), the message limit. */
  var SHARED = /*server-texts*/null/*end-server-texts*/;
  var HELP = SHARED.help, HUMAN = SHARED.human, PLACES_PAYLOAD = SHARED.places.payload;
  var MAX = SHARED.max_chars, IDLE = 15 * 60 * 1000, KEEP = 200;
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

  /* ---------- replies: the server reads their Markdown once (bot/markdown.py) and sends its parts ---------- */
  function inlines(nodes, parent) {
    nodes.forEach(function (n) {
      if (typeof n === "string") parent.appendChild(document.createTextNode(n));
      else if (n.type === "link") {
        var url = safeUrl(n.href);
        parent.appendChild(url ? link(n.text, url) : document.createTextNode(n.text));
      } else if (n.type === "strong" || n.type === "em") inlines(n.children || [], parent.appendChild(el(n.type)));
    });
  }
  function lines(list, parent) {
    list.forEach(function (line, i) { if (i) parent.appendChild(el("br")); inlines(line, parent); });
  }
  /* In a list item, lines follow one another without paragraph spacing. */
  function blocks(parts, parent, inItem) {
    parts.forEach(function (b, i) {
      if (b.type === "list") {
        var list = parent.appendChild(el(b.ordered ? "ol" : "ul"));
        if (b.ordered && b.start > 1) list.start = b.start;
        (b.items || []).forEach(function (item) { blocks(item, list.appendChild(el("li")), true); });
      } else if (b.type === "paragraph") {
        if (!inItem) lines(b.lines || [], parent.appendChild(el("p")));
        else {
          if (i && parts[i - 1].type === "paragraph") parent.appendChild(el("br"));
          lines(b.lines || [], parent);
        }
      }
    });
  }
  /* A message saved in this tab before parts existed: its text, as typed, in paragraphs. */
  function paragraphs(text, parent) {
    String(text).replace(/\r/g, "").split(/\n[ \t]*\n/).forEach(function (block) {
      if (block.trim()) lines(block.trim().split("\n").map(function (l) { return [l]; }), parent.appendChild(el("p")));
    });
  }
  function words(nodes) {
    return nodes.map(function (n) { return typeof n === "string" ? n : n.type === "link" ? n.text : words(n.children || []); }).join("");
  }
  function partsText(parts) {
    return parts.map(function (b) {
      return b.type === "list" ? (b.items || []).map(function (item, n) { return (b.ordered ? b.start + n + ". " : "") + partsText(item); }).join("\n")
        : (b.lines || []).map(words).join("\n");
    }).join("\n");
  }
  /* What a message says, without its marks. */
  function plain(msg) { return msg.parts ? partsText(msg.parts) : String(msg.text || ""); }

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
  var subtitle = el("p", "nc-sr", "Assistant (robot) de la Métropole Européenne de Lille pour vos démarches.");
  subtitle.id = "nc-subtitle";
  /* The tools live in a small menu (a disclosure: Tab and Enter, Escape closes it) so the header keeps one line. */
  var menuButton = button("Menu", "nc-tool nc-menu-button", function () { setMenu(menu.hidden); });
  menuButton.setAttribute("aria-label", "Menu des options");
  menuButton.setAttribute("aria-expanded", "false");
  menuButton.setAttribute("aria-controls", "nc-menu");
  var bigButton = button("Texte plus grand", "nc-choice", function () { setBig(!state.big); save(); });
  var clearButton = button("Effacer la conversation", "nc-choice", function () { setMenu(false); clearConversation(); });
  var menu = add(el("div", "nc-menu"), bigButton, clearButton);
  menu.id = "nc-menu";
  menu.hidden = true;
  menu.setAttribute("role", "group");
  menu.setAttribute("aria-label", "Options");
  var closeButton = button("Fermer", "nc-tool", function () { close(); });
  closeButton.setAttribute("aria-label", "Fermer la discussion");
  var header = add(el("div", "nc-header"), add(el("div", "nc-heading"), title, subtitle), menuButton, closeButton, menu);

  var alertBox = el("div", "nc-alert");
  alertBox.setAttribute("role", "alert");
  /* The list is a log for screen readers, but silent: the live region below speaks once per turn. */
  var scroller = el("div", "nc-log");
  scroller.setAttribute("role", "log");
  scroller.setAttribute("aria-live", "off");
  scroller.setAttribute("aria-label", "Messages de la conversation");
  scroller.tabIndex = 0;
  var log = scroller.appendChild(el("ol", "nc-list"));
  var typing = el("p", "nc-typing");
  var typingText = el("span", null, "Numécrivain écrit…");
  add(typing, el("span", "nc-dots"), typingText);
  typing.hidden = true;
  var live = el("div", "nc-sr");
  live.setAttribute("aria-live", "polite");
  live.setAttribute("aria-atomic", "true");

  var humanButton = button(HUMAN.title, "nc-action", function () {
    send(HUMAN.payload, HUMAN.title, { button: true });
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
  input.rows = 1;
  input.placeholder = "Votre question";
  input.setAttribute("aria-describedby", "nc-count");
  input.setAttribute("autocomplete", "off");
  var counter = el("p", "nc-count nc-sr", MAX + " caractères au maximum.");
  counter.id = "nc-count";
  var sendButton = el("button", "nc-send", "Envoyer");
  sendButton.type = "submit";
  add(form, label, add(el("div", "nc-row"), input, sendButton), counter);

  var actions = add(el("div", "nc-actions"), humanButton, placeButton);
  add(panel, header, alertBox, scroller, typing, actions, consent, form);
  add(box, launcher, panel, live);

  /* On a very short screen (400 % zoom, phone on its side with the keyboard open) the actions join the menu,
   * so that the messages keep some room. */
  function placeActions(inMenu) {
    if ((humanButton.parentNode === menu) === inMenu) return;
    add(inMenu ? menu : actions, humanButton, placeButton);
    humanButton.className = placeButton.className = inMenu ? "nc-choice" : "nc-action";
    actions.hidden = inMenu;
  }
  function setMenu(on) {
    menu.hidden = !on;
    menuButton.setAttribute("aria-expanded", on ? "true" : "false");
    if (on) (menu.querySelector("button:not([hidden])") || menuButton).focus();
  }
  document.addEventListener("click", function (event) {
    if (!menu.hidden && event.composedPath && event.composedPath().indexOf(header) < 0) setMenu(false);
  });

  /* The panel follows the visual viewport: with the phone keyboard open, the input stays above it. */
  function fit() {
    var vv = window.visualViewport, height = window.innerHeight;
    var fromBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (!vv || Math.abs((vv.scale || 1) - 1) > 0.01) {
      box.style.removeProperty("--nc-vh");
      box.style.removeProperty("--nc-vtop");
    } else {
      height = vv.height;
      box.style.setProperty("--nc-vh", Math.round(vv.height) + "px");
      box.style.setProperty("--nc-vtop", Math.round(vv.offsetTop) + "px");
    }
    var rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    box.classList.toggle("nc-short", height < 36 * rem);
    placeActions(height < 20 * rem);
    scroller.scrollTop = scroller.scrollHeight - scroller.clientHeight - Math.max(0, fromBottom);
  }
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", fit);
    window.visualViewport.addEventListener("scroll", fit);
  }
  window.addEventListener("resize", fit);

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
      if (today) add(card, el("p", null, /^(aujourd|fermé|horaires)/i.test(today) ? today : "Aujourd'hui : " + today));
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
  /* Who speaks, in words: the robot is always called the robot, a person by the name the server sends. */
  var ROBOT = "Numécrivain";
  function speaker(msg) {
    if (msg.who === "user") return "Vous";
    if (msg.who === "agent") return (msg.agent || "Un conseiller") + " (conseiller)";
    return msg.who === "bot" ? ROBOT + " (robot)" : "";
  }
  /* Every message starts with its speaker for screen readers; the first of a run shows it on screen too. */
  function render(msg, prevWho) {
    var who = msg.who, item = el("li", "nc-msg nc-" + who);
    var bubble = el("div", "nc-bubble");
    if (who === "note") bubble.setAttribute("role", "note");
    else if (who === "user") add(item, hiddenText("Vous : "));
    else {
      var author = add(el("p", "nc-author" + (prevWho === who && who === "bot" ? " nc-sr" : ""), speaker(msg)), hiddenText(" :"));
      add(item, author);
    }
    if ((who === "bot" || who === "agent") && msg.parts) blocks(msg.parts, bubble);
    else if (who === "bot" || who === "agent") paragraphs(msg.text || "", bubble);
    else add(bubble, el("p", null, msg.text));
    if (msg.places) add(bubble, placeCards(msg.places));
    if (bubble.firstChild) add(item, bubble);
    var choices = (msg.buttons || []).filter(function (b) { return b.payload !== HUMAN.payload; });
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
    item.setAttribute("data-who", who);
    return item;
  }
  function show(msg, isNew) {
    if (known[msg.id]) return;
    known[msg.id] = true;
    var last = log.lastChild;
    var item = render(msg, last && last.getAttribute("data-who"));
    log.appendChild(item);
    if (!isNew) return;
    if (msg.who === "user") scroller.scrollTop = scroller.scrollHeight;
    else {
      var firstOfTurn = !last || last.getAttribute("data-who") === "user";
      if (firstOfTurn) scroller.scrollTop = item.offsetTop - 8;
      if (panel.hidden) unread.hidden = false;
      heard(msg);
    }
  }

  /* ---------- what screen readers hear: one announcement per turn, once its messages have arrived ---------- */
  var SPOKEN_MAX = 600, turn = [], turnTimer, typingSaid, turnPrefix = "";
  function heard(msg) {
    turn.push(msg);
    clearTimeout(turnTimer);
    clearTimeout(typingSaid);
    turnTimer = setTimeout(endTurn, waiting() ? 8000 : 700); /* the receipt of the question ends the turn sooner */
  }
  function waiting() { return state.queue.length > 0; }
  function endTurn() {
    clearTimeout(turnTimer);
    if (turn.length) announce(turnPrefix + spokenTurn(turn));
    turn = [];
    turnPrefix = "";
  }
  function spokenTurn(msgs) {
    var parts = [], who = null, choices = [], places = 0;
    msgs.forEach(function (m) {
      var text = plain(m).replace(/\s*\n\s*/g, " ").trim();
      if (m.who !== who && speaker(m)) text = speaker(m) + " : " + text;
      who = m.who;
      if (text) parts.push(text);
      places += m.places ? m.places.length : 0;
      (m.buttons || []).forEach(function (b) { if (b.payload !== HUMAN.payload) choices.push(b.title); });
    });
    var tail = (places ? " " + places + (places > 1 ? " lieux proposés." : " lieu proposé.") : "") +
      (choices.length ? " Choix proposés : " + choices.join(", ") + "." : "");
    var whole = parts.join(" ") + tail;
    if (whole.length <= SPOKEN_MAX) return whole;
    /* Too long to hear at once: the subject and the size of the answer, to be read in the list of messages. */
    var first = msgs[0], subject = plain(first).split("\n")[0].split(/\s:\s|[.!?](?:\s|$)/)[0].trim();
    if (subject.length > 90) subject = subject.slice(0, 90).replace(/\s+\S*$/, "") + "…";
    var by = first.who === "agent" ? (first.agent || "Un conseiller") : ROBOT;
    return by + " a répondu : " + subject + ", " + msgs.length + (msgs.length > 1 ? " parties" : " partie") +
      ", à lire dans la liste des messages." + tail;
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
        if (ack && ack.handled === false && ack.error === "unavailable" && (q.tries || 0) < 6) {
          /* Not handled (the server is restarting): kept in the queue, sent again later with the same id. */
          q.tries = (q.tries || 0) + 1;
          save();
          setTimeout(flush, Math.min(30000, 1000 * Math.pow(2, q.tries)));
          return;
        }
        state.queue = state.queue.filter(function (x) { return x.id !== q.id; });
        markSent(q.id);
        save();
        if (!state.queue.length) { setTyping(false); endTurn(); }
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
    typingText.textContent = ROBOT + " écrit…";
    agentTyping = false;
    if (on && typing.hidden) {
      clearTimeout(typingSaid);
      typingSaid = setTimeout(function () { if (!turn.length && waiting()) announce(ROBOT + " écrit…"); }, 400);
    }
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { typing.hidden = true; }, 30000);
  }
  function receive(data) {
    if (!data || typeof data !== "object") return;
    /* Only a person's words are shown as a person's: the robot's own closing message is the robot's, and news of
     * the service ("Inès, de l'équipe, a rejoint la conversation") is a note that says itself who it is about. */
    var notice = data.kind === "notice";
    var byAgent = data.from === "agent" && !notice && data.handoff_ended !== true && data.agent !== ROBOT;
    var msg = { id: typeof data.id === "string" ? data.id : uid(), who: notice ? "note" : byAgent ? "agent" : "bot", text: "" };
    if (typeof data.text === "string") msg.text = data.text;
    if (msg.text && Array.isArray(data.parts)) msg.parts = data.parts;
    if (byAgent && typeof data.agent === "string") msg.agent = data.agent.slice(0, 80);
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
    if (byAgent || notice) state.person = data.handoff_ended !== true;  /* a person answers: "écrit…" both ways */
    if (byAgent && agentTyping) setTyping(false);
    if (msg.text || msg.places || (msg.buttons && msg.buttons.length)) remember(msg);
    if (data.handoff_ended === true) afterHandoff();
  }
  /* The person has gone back to the bot: this conversation is no longer kept, even on reload. */
  function afterHandoff() {
    state.person = false;
    persist = false;
    state.sid = null;
    unsave();
  }
  /* The places answer comes as a text list, then as cards: show the cards in place of the list. */
  function withCards(prev, id, places) {
    known[id] = true;
    prev.text = prev.text.split("\n").filter(function (line) { return !/^\s*\d+[.)]\s|^\s{2,}\S/.test(line); }).join("\n");
    if (prev.parts) prev.parts = prev.parts.filter(function (b) { return !(b.type === "list" && b.ordered); });
    prev.places = places;
    save();
    var old = log.querySelector('[data-id="' + prev.id + '"]');
    if (old) log.replaceChild(render(prev, old.previousSibling && old.previousSibling.getAttribute("data-who")), old);
    if (turn.indexOf(prev) < 0) announce(places.length + " lieux proposés, sous forme de fiches.");
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
    else if (kind === "2" && args[0] === "agent_typing" && args[1] && typeof args[1].agent === "string") personTyping(args[1].agent);
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
    fit();
    scroller.scrollTop = scroller.scrollHeight;
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
    turn = [];
    clearTimeout(turnTimer);
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
    box.classList.toggle("nc-big", on);
    bigButton.setAttribute("aria-pressed", on ? "true" : "false");
    grow();
  }
  function clearConversation() {
    forget(true);
    announce(turnPrefix = "Conversation effacée. ");
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
      send(PLACES_PAYLOAD, "Ma position (pour trouver un lieu proche)",
        { button: true, location: { latitude: lat, longitude: lon } });
    }, function () {
      note("Votre position n'est pas disponible. Écrivez plutôt le nom de votre commune ou votre code postal.");
    }, { timeout: 15000, maximumAge: 600000 });
  }
  panel.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") return;
    event.preventDefault();
    if (!menu.hidden) { setMenu(false); menuButton.focus(); }
    else if (!consent.hidden) { consent.hidden = true; placeButton.focus(); } else hide();
  });

  /* ---------- typing and sending ---------- */
  var tooLong = false;
  function count() {
    var n = input.value.length, over = n > MAX;
    counter.textContent = over ? "Message trop long : " + n + " caractères. " + MAX + " au maximum : gardez l'essentiel de votre question."
      : n > MAX - 50 ? "Encore " + (MAX - n) + " caractères possibles." : MAX + " caractères au maximum.";
    counter.className = over ? "nc-count nc-error" : n > MAX - 50 ? "nc-count" : "nc-count nc-sr";
    if (over) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    if (over && !tooLong) announce("Message trop long : " + MAX + " caractères au maximum.");
    tooLong = over;
    return !over;
  }
  /* The input grows with the text, up to a few lines (the CSS max-height), then scrolls. */
  function grow() {
    input.style.height = "";
    if (input.scrollHeight > input.clientHeight) input.style.height = input.scrollHeight + 4 + "px";
  }
  input.addEventListener("input", function () { count(); grow(); signalTyping(); });
  /* ---------- "écrit…" with a person (never the text itself): at most one signal every 2 s each way ---------- */
  var TYPING_EVERY = 2000, TYPING_SHOWN = 5000, typingSentAt = 0, agentTyping = false;
  function signalTyping() {
    if (!state.person || !ready || !input.value.trim() || Date.now() - typingSentAt < TYPING_EVERY) return;
    typingSentAt = Date.now();
    emit("typing", {});
  }
  /* "Inès écrit…" for a few seconds; screen readers hear it once, when it appears, not on every signal. */
  function personTyping(name) {
    name = name.slice(0, 80);
    if (!agentTyping || typing.hidden) announce(name + " écrit…");
    typingText.textContent = name + " écrit…";
    typing.hidden = false;
    agentTyping = true;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typing.hidden = true; agentTyping = false; }, TYPING_SHOWN);
  }
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
    grow();
    send(text, text);
    input.focus();
  }

  /* ---------- start ---------- */
  state.msgs.forEach(function (m) { show(m, false); });
  setBig(!!state.big);
  function start() {
    document.body.appendChild(host);
    fit();
    if (state.open) open(false);
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
  window.numecrivainWidget = { open: open, close: close, server: SERVER };
})();
