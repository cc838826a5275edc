/* Small behaviours htmx does not cover: the clock, and a visible state when the server
   cannot be reached (htmx 2 would otherwise leave a dead tap). No inline code: the CSP
   allows scripts from this server only. */
(function () {
  "use strict";

  function tickClock() {
    var clock = document.getElementById("clock");
    if (!clock || !window.Intl) return;
    var now = new Date();
    var zone = clock.dataset.tz;
    var locale = clock.dataset.locale;
    try {
      clock.querySelector(".clock-date").textContent =
        new Intl.DateTimeFormat(locale, { dateStyle: "full", timeZone: zone }).format(now);
      clock.querySelector(".clock-time").textContent =
        new Intl.DateTimeFormat(locale, { timeStyle: "short", timeZone: zone }).format(now);
    } catch (e) { /* keep the server-rendered time */ }
  }

  function connectionLost(lost) {
    var banner = document.getElementById("connection-lost");
    if (banner) banner.hidden = !lost;
  }

  document.addEventListener("DOMContentLoaded", function () {
    tickClock();
    setInterval(tickClock, 15000);
  });
  document.addEventListener("htmx:sendError", function () { connectionLost(true); });
  document.addEventListener("htmx:timeout", function () { connectionLost(true); });
  // An error answer htmx does not swap: a page load shows the localized error page;
  // a failed action says so, instead of leaving a dead tap.
  document.addEventListener("htmx:responseError", function (event) {
    var config = event.detail.requestConfig || {};
    if ((config.verb || "get").toLowerCase() === "get" && config.path) {
      window.location.assign(config.path);
      return;
    }
    var failed = document.getElementById("request-failed");
    if (failed) {
      failed.hidden = false;
      setTimeout(function () { failed.hidden = true; }, 6000);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.xhr && event.detail.xhr.status) connectionLost(false);
  });
})();
