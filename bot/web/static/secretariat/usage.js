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

  function frenchDate(iso) { return iso.split("-").reverse().join("/"); }

  /* The handoff service figures: each chart (SVG drawn by the server, shown as an image) next to its table. */
  function showService(view) {
    var box = document.getElementById("service");
    box.textContent = "";
    box.appendChild(el("h2", { text: "Service d'aide par une personne" }));
    box.appendChild(el("p", { text: "Du " + frenchDate(view.period.since) + " au " + frenchDate(view.period.until) +
      " (30 derniers jours si aucune date n'est choisie). Aucune personne ni aucun agent n'est nommé." }));
    box.appendChild(el("p", {}, [el("a", {
      href: "data:text/csv;charset=utf-8," + encodeURIComponent(view.csv),
      download: "numecrivain-service-" + view.period.since + "-" + view.period.until + ".csv",
      text: "Télécharger les chiffres du service (CSV)" })]));
    view.blocks.forEach(function (block) {
      var section = el("section", { "class": "figure-block" }, [el("h3", { text: block.heading })]);
      if (block.note) section.appendChild(el("p", { text: block.note }));
      var rows = block.rows.map(function (row) {
        return el("tr", {}, [el("th", { scope: "row", text: row[0] })].concat(row.slice(1).map(function (cell) {
          return el("td", { text: cell });
        })));
      });
      if (!rows.length) rows = [el("tr", {}, [el("td", { colspan: String(block.headers.length), text: block.empty })])];
      var table = el("table", {}, [
        el("caption", { text: block.caption }),
        el("thead", {}, [el("tr", {}, block.headers.map(function (h) { return el("th", { scope: "col", text: h }); }))]),
        el("tbody", {}, rows)
      ]);
      section.appendChild(el("div", { "class": "figure-pair" }, [
        el("img", { "class": "chart", src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(block.svg),
                    alt: block.title + ". " + block.description + " Les chiffres exacts sont dans le tableau." }),
        el("div", { "class": "table-scroll", role: "region", "aria-label": "Tableau : " + block.caption,
                    tabindex: "0" }, [table])
      ]));
      box.appendChild(section);
    });
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
    S.api("/api/v1/usage/service" + (params.length ? "?" + params.join("&") : "")).then(function (result) {
      if (result.status === 200) showService(result.body);
      else S.say(S.errorText(result), true);
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
