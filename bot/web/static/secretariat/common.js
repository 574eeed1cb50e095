/* Numécrivain secretariat pages: token kept in sessionStorage, API calls, safe DOM building (no innerHTML). */
"use strict";
window.Secretariat = (function () {
  var KEY = "numecrivain.secretariat.token";

  function token() { return window.sessionStorage.getItem(KEY); }
  function setToken(value) { window.sessionStorage.setItem(KEY, value); }
  function clearToken() { window.sessionStorage.removeItem(KEY); }

  /* Build an element with text content only: whatever the API returns is never parsed as HTML. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function api(path, options) {
    options = options || {};
    var headers = { "Authorization": "Bearer " + (token() || ""), "Accept": "application/json" };
    if (options.body) { headers["Content-Type"] = "application/json"; }
    return fetch(path, { method: options.method || "GET", headers: headers, body: options.body,
                         credentials: "omit", cache: "no-store" })
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          return { status: res.status, body: body };
        });
      });
  }

  function say(message, isError) {
    var status = document.getElementById("status");
    status.textContent = message;
    status.className = isError ? "error" : "";
  }

  function errorText(result) {
    if (result.status === 401) { return "Code d'accès refusé. Vérifiez le code ou demandez-en un nouveau."; }
    return (result.body && result.body.error && result.body.error.message) || ("Erreur " + result.status + ".");
  }

  /* Login once per tab: check the code with /api/v1/me, then show the page. */
  function setUpLogin(onReady) {
    var form = document.getElementById("login-form");
    function enter() {
      api("/api/v1/me").then(function (result) {
        if (result.status !== 200) {
          clearToken();
          document.getElementById("login").hidden = false;
          document.getElementById("session").hidden = true;
          say(errorText(result), true);
          return;
        }
        var who = result.body;
        document.getElementById("who").textContent =
          who.name + " (" + who.commune_name + ", " + who.commune + ")" + (who.admin ? " – administration" : "");
        document.getElementById("login").hidden = true;
        document.getElementById("session").hidden = false;
        say("");
        onReady(who);
      }).catch(function () { say("Le serveur ne répond pas. Réessayez dans un instant.", true); });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("token");
      setToken(input.value.trim());
      input.value = "";
      enter();
    });
    document.getElementById("logout").addEventListener("click", function () {
      clearToken();
      window.location.reload();
    });
    if (token()) { enter(); }
  }

  return { api: api, el: el, say: say, errorText: errorText, setUpLogin: setUpLogin };
})();
