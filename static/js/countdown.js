// Live countdowns on the e-mail OTP pages. The page already shows the time left
// when it is served (so it works without JavaScript); this keeps it ticking.
// Targets are on the portal's clock, which a demo may run ahead of real time.
(function () {
  "use strict";
  var box = document.querySelector("[data-portal-now]");
  if (!box) { return; }
  var skew = Number(box.getAttribute("data-portal-now")) - Date.now();
  var items = Array.prototype.slice.call(document.querySelectorAll(".countdown[data-until]"));
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now() + skew;
    items.forEach(function (el) {
      var left = Math.max(0, Math.ceil((Number(el.getAttribute("data-until")) - now) / 1000));
      el.textContent = left > 0 ? Math.floor(left / 60) + ":" + pad(left % 60) : el.getAttribute("data-done");
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
