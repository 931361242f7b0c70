// A DMS checker's passkey ceremony (issue 18). The server's options (with a challenge bound
// to the request and the decision) are in #passkey-options; the assertion goes back in the
// form's "credential" field. A failed or cancelled ceremony is posted too: it counts as a
// wrong Authorisation Code would.
(function () {
  "use strict";
  var data = document.getElementById("passkey-options");
  var form = document.getElementById("passkey-form");
  if (!data || !form) { return; }
  var options = JSON.parse(data.textContent);

  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    return bytes.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = document.getElementById("use-passkey");
    if (button) { button.disabled = true; }
    var publicKey = {
      challenge: toBuffer(options.challenge),
      rpId: options.rpId,
      timeout: options.timeout,
      userVerification: options.userVerification,
      allowCredentials: (options.allowCredentials || []).map(function (c) {
        return { type: c.type, id: toBuffer(c.id), transports: c.transports };
      })
    };
    navigator.credentials.get({ publicKey: publicKey }).then(function (credential) {
      var r = credential.response;
      form.elements.credential.value = JSON.stringify({
        id: credential.id,
        rawId: toText(credential.rawId),
        type: credential.type,
        authenticatorAttachment: credential.authenticatorAttachment,
        response: {
          clientDataJSON: toText(r.clientDataJSON),
          authenticatorData: toText(r.authenticatorData),
          signature: toText(r.signature),
          userHandle: r.userHandle ? toText(r.userHandle) : null
        },
        clientExtensionResults: credential.getClientExtensionResults()
      });
    }, function () {
      form.elements.action.value = "cancelled";
    }).then(function () { form.submit(); });
  });
})();
