/* Usage figures page (administration token only): tables built from /api/v1/usage, text only. */
"use strict";
(function () {
  var S = window.Secretariat, el = S.el;

  function table(caption, headers, rows) {
    return el("table", {}, [
      el("caption", { text: caption }),
      el("thead", {}, [el("tr", {}, headers.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
      el("tbody", {}, rows.map(function (row) {
        return el("tr", {}, row.map(function (cell) { return el("td", { text: String(cell) }); }));
      }))
    ]);
  }

  function show(report) {
    var figures = document.getElementById("figures");
    figures.textContent = "";
    var h = report.handoff;
    figures.appendChild(el("p", { text: "Conversations : " + report.conversations }));
    figures.appendChild(table("Conversations par canal", ["Canal", "Conversations"],
      Object.keys(report.conversations_by_channel).map(function (c) { return [c, report.conversations_by_channel[c]]; })));
    figures.appendChild(table("Conversations par semaine", ["Semaine", "Par canal"],
      Object.keys(report.conversations_by_week).map(function (w) {
        var byChannel = report.conversations_by_week[w];
        return [w, Object.keys(byChannel).map(function (c) { return c + " : " + byChannel[c]; }).join(", ")];
      })));
    figures.appendChild(table("Démarches les plus demandées", ["Démarche", "Demandes"],
      report.top_procedures.map(function (p) { return [p.title, p.count]; })));
    figures.appendChild(table("Questions non comprises (données personnelles masquées)", ["Question", "Fois"],
      report.not_understood.map(function (q) { return [q.text, q.count]; })));
    figures.appendChild(table("Mise en relation avec une personne", ["Indicateur", "Valeur"], [
      ["Demandes", h.requests],
      ["Part des conversations", (h.rate * 100).toFixed(1) + " %"],
      ["Prises par un agent", h.answered_by_agent],
      ["Attente médiane (s)", h.wait_seconds_median === null ? "–" : h.wait_seconds_median],
      ["Attente, 90e centile (s)", h.wait_seconds_p90 === null ? "–" : h.wait_seconds_p90]
    ]));
  }

  function load() {
    var params = [];
    ["since", "until"].forEach(function (name) {
      var value = document.getElementById(name).value;
      if (value) { params.push(name + "=" + encodeURIComponent(value)); }
    });
    S.say("Chargement…");
    S.api("/api/v1/usage" + (params.length ? "?" + params.join("&") : "")).then(function (result) {
      if (result.status !== 200) { S.say(S.errorText(result), true); return; }
      S.say("Chiffres au " + result.body.generated_at + ".");
      show(result.body);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    S.setUpLogin(function (who) {
      if (!who.admin) {
        S.say("Ce code d'accès n'ouvre pas les chiffres d'usage : ils sont réservés à l'administration métropolitaine.", true);
        return;
      }
      load();
    });
    document.getElementById("period-form").addEventListener("submit", function (event) {
      event.preventDefault();
      load();
    });
  });
})();
