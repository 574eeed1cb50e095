/* Secretariat page: search, full answers, one-page print, copy-to-SMS, "signaler une erreur". */
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

  function printOne(article) {
    document.body.classList.add("printing-one");
    article.classList.add("to-print");
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
    var article = el("article", { "class": "answer", "aria-labelledby": headingId, "data-procedure": p.id }, [
      el("p", { "class": "rank no-print", text: (index + 1) + "e réponse – confiance " + confidence + " %" }),
      el("h3", { id: headingId, text: p.title }),
      el("p", { "class": "summary", text: p.summary }),
      section("Les étapes", [list("ol", p.steps)]),
      section("À apporter", p.documents.length ? [list("ul", p.documents)] : [el("p", { text: "Aucun document." })]),
      section("Coût et délai", [el("p", {}, [el("strong", { text: "Coût : " }), p.cost]),
                                el("p", {}, [el("strong", { text: "Délai : " }), p.delay])]),
      section("Sans Internet", [el("p", { text: p.offline })]),
      section("Où aller", [el("p", { text: p.where.map(function (w) { return w.label; }).join(" · ") })]),
      section("Sites officiels", [links]),
      el("p", { "class": "checked" + (p.review_overdue ? " overdue" : "") },
         [p.date_note.replace(/\.$/, "") + (p.review_overdue ? " (à revérifier)" : "") +
          ". Source : " + p.sources.knowledge_file + ", " + p.sources.licence + "."]),
      el("div", { "class": "actions no-print" }, [printButton]),
      smsBlock,
      reportForm(p, index)
    ]);
    printButton.addEventListener("click", function () { printOne(article); });
    return article;
  }

  function search(question) {
    var results = document.getElementById("results");
    S.say("Recherche en cours…");
    S.api("/api/v1/answers?q=" + encodeURIComponent(question) + "&limit=3").then(function (result) {
      results.textContent = "";
      if (result.status !== 200) { S.say(S.errorText(result), true); return; }
      var answers = result.body.answers;
      if (!answers.length) {
        S.say("Aucune fiche ne correspond. Reformulez avec d'autres mots, ou signalez le besoin à la MEL.");
        return;
      }
      S.say(answers.length + " fiche(s) trouvée(s) pour « " + result.body.question + " ».");
      answers.forEach(function (answer, index) { results.appendChild(answerArticle(answer, index)); });
      var first = results.querySelector("h3");
      if (first) { first.setAttribute("tabindex", "-1"); first.focus(); }
    }).catch(function () { S.say("Le serveur ne répond pas. Réessayez dans un instant.", true); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    S.setUpLogin(function () {
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
