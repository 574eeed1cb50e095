/* Secretariat page: search, answer first then the full sheet, nearby places, one-page print with commune and
   date, copy-to-SMS, "signaler une erreur", and "signaler un besoin" when no sheet answers the question. */
"use strict";
(function () {
  var S = window.Secretariat, el = S.el;

  function formatDate(iso) {
    var parts = iso.split("-");
    return parts[2] + "/" + parts[1] + "/" + parts[0];
  }

  function list(tag, items) {
    return el(tag, {}, items.map(function (item) { return el("li", { text: item }); }));
  }

  function section(title, content) {
    return el("section", { "class": "part" }, [el("h4", { text: title })].concat(content));
  }

  function today() {
    var now = new Date();
    return String(now.getDate()).padStart(2, "0") + "/" + String(now.getMonth() + 1).padStart(2, "0") + "/" +
      now.getFullYear();
  }

  /* The printed page says for whom and when: commune, date and question (hidden on screen). */
  function fillPrintHeader(question) {
    var who = S.who || {};
    var header = document.getElementById("print-header");
    header.textContent = "";
    header.appendChild(el("p", { "class": "print-title",
      text: "Numécrivain – " + (who.name || "Secrétariat de mairie") +
            (who.commune_name ? " (" + who.commune_name + ")" : "") }));
    header.appendChild(el("p", { text: "Imprimé le " + today() +
      (question ? " – question : « " + question + " »" : "") }));
  }
  window.addEventListener("beforeprint", function () { fillPrintHeader(S.lastQuestion); });

  function printOne(block) {
    fillPrintHeader(S.lastQuestion);
    document.body.classList.add("printing-one");
    block.classList.add("to-print");
    window.print();
  }
  window.addEventListener("afterprint", function () {
    document.body.classList.remove("printing-one");
    Array.prototype.forEach.call(document.querySelectorAll(".to-print"), function (node) {
      node.classList.remove("to-print");
    });
  });

  function copySms(text, feedback) {
    function done() { feedback.textContent = "Texte SMS copié."; }
    function fallback() {
      var area = feedback.parentNode.querySelector("textarea");
      area.focus();
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { feedback.textContent = "Sélectionnez le texte puis Ctrl+C."; }
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  function reportForm(procedure, index) {
    var id = "report-" + index;
    var feedback = el("p", { "class": "feedback", "role": "status" });
    var area = el("textarea", { id: id, name: "message", rows: "3", maxlength: "2000", required: "required" });
    var form = el("form", { "class": "report" }, [
      el("label", { "for": id, text: "Qu'est-ce qui est faux ou périmé dans la fiche « " + procedure.title + " » ?" }),
      area,
      el("button", { type: "submit", text: "Envoyer le signalement" }),
      feedback
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      S.api("/api/v1/reports", { method: "POST",
                                 body: JSON.stringify({ procedure_id: procedure.id, message: area.value }) })
        .then(function (result) {
          if (result.status === 201) {
            feedback.textContent = "Merci : signalement n° " + result.body.id + " enregistré. L'équipe de contenu va vérifier.";
            area.value = "";
          } else {
            feedback.textContent = S.errorText(result);
          }
        });
    });
    return el("details", { "class": "no-print" }, [el("summary", { text: "Signaler une erreur" }), form]);
  }

  function lines(text) {
    return text.split("\n").filter(function (line) { return line.trim(); })
      .map(function (line) { return el("p", { text: line }); });
  }

  function leadBlock(lead) {
    if (!lead || !lead.text) { return null; }
    var title = "Réponse à la question" + (lead.case && lead.case.title ? " – " + lead.case.title : "");
    return el("section", { "class": "lead" }, [el("h4", { text: title })].concat(lines(lead.text)));
  }

  function kilometres(km) {
    return (km < 10 ? (Math.round(km * 10) / 10).toFixed(1) : String(Math.round(km))).replace(".", ",") + " km";
  }

  function placeItem(place) {
    var items = [el("strong", { text: place.nom }),
                 el("span", { text: " – " + place.adresse + " (" + kilometres(place.distance_km) + ")" })];
    var details = [];
    if (place.week) { details.push("Horaires : " + place.week + "."); } else if (place.today) { details.push(place.today); }
    if (place.telephone_display) { details.push("Tél. " + place.telephone_display + "."); }
    return el("li", {}, items.concat(details.map(function (text) { return el("p", { text: text }); })));
  }

  function placesArticle(places) {
    var where = places.origin.label;
    var headingId = "places-title";
    var printButton = el("button", { type: "button", "class": "print-button", text: "Imprimer ces lieux" });
    var article = el("article", { "class": "places printable", "aria-labelledby": headingId }, [
      el("h3", { id: headingId, text: "Lieux d'aide près de " + where }),
      el("p", { "class": "summary", text: places.headline }),
      el("ul", { "class": "place-list" }, places.places.map(placeItem)),
      el("p", { "class": "checked", text: "Source : cartographie nationale des lieux d'inclusion numérique " +
                                          "(data.gouv.fr), import du " + formatDate(places.at.slice(0, 10)) + "." }),
      el("div", { "class": "actions no-print" }, [printButton])
    ]);
    printButton.addEventListener("click", function () { printOne(article); });
    return article;
  }

  function needForm(question) {
    var feedback = el("p", { "class": "feedback", "role": "status" });
    var area = el("textarea", { id: "need-comment", name: "comment", rows: "3", maxlength: "2000" });
    var form = el("form", { "class": "need" }, [
      el("p", { text: "Votre question sera transmise à l'équipe qui rédige les fiches (sans nom ni numéro : " +
                      "les données personnelles sont masquées)." }),
      el("label", { "for": "need-comment", text: "Précision (facultatif)" }),
      area,
      el("button", { type: "submit", text: "Signaler un besoin" }),
      feedback
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      S.api("/api/v1/needs", { method: "POST", body: JSON.stringify({ question: question, comment: area.value }) })
        .then(function (result) {
          if (result.status === 201) {
            feedback.textContent = "Merci : besoin n° " + result.body.id + " transmis à l'équipe de contenu.";
            area.value = "";
          } else {
            feedback.textContent = S.errorText(result);
          }
        });
    });
    return el("section", { "class": "no-match no-print", "aria-labelledby": "no-match-title" }, [
      el("h3", { id: "no-match-title", text: "Aucune fiche ne correspond à cette question." }),
      el("p", { text: "Reformulez avec d'autres mots, ou signalez ce besoin : une fiche pourra être écrite." }),
      form
    ]);
  }

  function answerArticle(answer, index) {
    var p = answer.procedure;
    var headingId = "answer-" + index;
    var confidence = Math.round(answer.confidence * 100);
    var links = el("ul", { "class": "links" }, p.links.map(function (link) {
      return el("li", {}, [el("a", { href: link.url, rel: "noopener noreferrer", target: "_blank", text: link.title }),
                           el("span", { "class": "url", text: " " + link.url })]);
    }));
    var smsId = "sms-" + index;
    var smsFeedback = el("span", { "class": "feedback", "role": "status" });
    var copyButton = el("button", { type: "button", text: "Copier le texte SMS" });
    var smsBlock = el("div", { "class": "sms no-print" }, [
      el("label", { "for": smsId, text: "Texte à envoyer par SMS à l'usager" }),
      el("textarea", { id: smsId, readonly: "readonly", rows: "3" }, [p.sms]),
      copyButton, smsFeedback
    ]);
    copyButton.addEventListener("click", function () { copySms(p.sms, smsFeedback); });
    var printButton = el("button", { type: "button", "class": "print-button", text: "Imprimer cette fiche" });
    var lead = leadBlock(answer.lead);
    var article = el("article", { "class": "answer printable", "aria-labelledby": headingId, "data-procedure": p.id }, [
      el("p", { "class": "rank no-print", text: (index + 1) + "e réponse – confiance " + confidence + " %" }),
      el("h3", { id: headingId, text: p.title })
    ].concat(lead ? [lead] : []).concat(lead && lead.textContent.indexOf(p.summary) >= 0 ? [] : [
      el("p", { "class": "summary", text: p.summary })]).concat([
      section("Les étapes", [list("ol", p.steps)]),
      section("À apporter", p.documents.length ? [list("ul", p.documents)] : [el("p", { text: "Aucun document." })]),
      section("Coût et délai", [el("p", {}, [el("strong", { text: "Coût : " }), p.cost]),
                                el("p", {}, [el("strong", { text: "Délai : " }), p.delay])]),
      section("Sans Internet", [el("p", { text: p.offline })]),
      section("Où aller", [el("p", { text: p.where.map(function (w) { return w.label; }).join(" · ") })]),
      section("Sites officiels", [links]),
      el("p", { "class": "checked" + (p.review_overdue ? " overdue" : "") },
         [p.date_note.replace(/\.$/, "") + (p.review_overdue ? " (à revérifier)" : "") +
          ". Source : " + (p.sources.label || p.title) + ", " + p.sources.licence + "."]),
      el("div", { "class": "actions no-print" }, [printButton]),
      smsBlock,
      reportForm(p, index)
    ]));
    printButton.addEventListener("click", function () { printOne(article); });
    return article;
  }

  function search(question) {
    var results = document.getElementById("results");
    S.say("Recherche en cours…");
    S.lastQuestion = question;
    S.api("/api/v1/answers?q=" + encodeURIComponent(question) + "&limit=3").then(function (result) {
      results.textContent = "";
      if (result.status !== 200) { S.say(S.errorText(result), true); return; }
      var body = result.body, answers = body.answers, places = body.places;
      var placesFirst = places && places.commune_in_question;
      if (places && placesFirst) { results.appendChild(placesArticle(places)); }
      if (!answers.length) {
        S.say("Aucune fiche ne correspond à la question « " + body.question + " ».");
        results.appendChild(needForm(body.question));
      } else {
        S.say(answers.length + " fiche(s) trouvée(s) pour « " + body.question + " ».");
        answers.forEach(function (answer, index) { results.appendChild(answerArticle(answer, index)); });
      }
      if (places && !placesFirst) { results.appendChild(placesArticle(places)); }
      fillPrintHeader(question);
      var first = results.querySelector("h3");
      if (first) { first.setAttribute("tabindex", "-1"); first.focus(); }
    }).catch(function () { S.say("Le serveur ne répond pas. Réessayez dans un instant.", true); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    S.setUpLogin(function (who) {
      S.who = who;
      fillPrintHeader("");
      document.getElementById("search-section").hidden = false;
      document.getElementById("q").focus();
    });
    document.getElementById("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var question = document.getElementById("q").value.trim();
      if (!question) { S.say("Écrivez une question.", true); return; }
      search(question);
    });
  });
})();
