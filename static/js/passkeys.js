// The portal's side of the passkey pages. The library's script (django-otp-webauthn) runs
// the ceremony; this one gives it its texts in the page's language, reports a cancelled
// ceremony to the server (it counts like a wrong OTP), shows the server's reasons, and
// follows where the server sends the page. Loaded before the library's module script.
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("passkey_texts").textContent || "{}");
  var configElement = document.getElementById("otp_webauthn_config");
  var config = JSON.parse(configElement.textContent);
  // The page's own CSRF token, handed to the library's script before it reads its config.
  var csrf = document.querySelector("input[name='csrfmiddlewaretoken']");
  config.csrfToken = csrf ? csrf.value : "";
  configElement.textContent = JSON.stringify(config);
  if (typeof window.gettext !== "function") {
    window.gettext = function (text) { return texts[text] || text; };
  }

  function show(text) {
    var status = document.querySelector(".passkey-status");
    if (status && text) {
      status.textContent = text;
      status.classList.add("visible");
      status.setAttribute("role", "alert");
    }
  }

  function follow(body) {
    show(body.detail);
    if (body.redirect_url) { window.location.assign(body.redirect_url); }
  }

  function post(target) {
    return fetch(target, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": config.csrfToken, Accept: "application/json" },
    }).then(function (response) { return response.json(); });
  }

  function failed(event) {
    var detail = event.detail || {};
    if (detail.error) {
      // Cancelled, timed out or not allowed in the browser: the server counts it and answers.
      post(config.cancelUrl).then(follow);
    } else if (detail.response && !detail.response.bodyUsed) {
      detail.response.json().then(follow, function () {});
    } else if (detail.response && detail.response.status === 403) {
      window.location.assign(config.loginUrl);
    }
  }

  document.addEventListener("otp_webauthn.verification_failed", failed);
  document.addEventListener("otp_webauthn.register_failed", failed);
  document.addEventListener("otp_webauthn.register_complete", function (event) {
    var body = (event.detail || {}).response || {};
    if (body.redirect_url) { window.location.assign(body.redirect_url); }
  });
})();
