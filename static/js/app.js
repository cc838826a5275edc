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

  // "12 characters left" under a text box with data-counter="<id of the counter>".
  function updateCounter(box) {
    var counter = document.getElementById(box.dataset.counter);
    if (!counter) return;
    var left = Math.max(0, (parseInt(box.getAttribute("maxlength"), 10) || 0) - box.value.length);
    counter.textContent = counter.dataset.template.replace("{n}", String(left));
  }

  // An on-screen pad (digits, or letters): buttons with data-key type into the form's
  // [data-keypad-input].
  function pressKey(button) {
    var form = button.closest("form");
    // The pad types into the number box last touched (a form may have two), else the first.
    var input = form && (form.querySelector('[data-keypad-input][data-keypad-current]') ||
                         form.querySelector("[data-keypad-input]"));
    if (!input) return;
    var key = button.dataset.key;
    if (key === "clear") input.value = "";
    else if (key === "back") input.value = input.value.slice(0, -1);
    else if (input.value.length < (parseInt(input.getAttribute("maxlength"), 10) || 12)) input.value += key;
    // As if typed: a search form listening for "input" answers every tap.
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // "5 minutes ago", kept current between the server's renders.
  function tickRelativeTimes() {
    if (!window.Intl || !Intl.RelativeTimeFormat) return;
    var clock = document.getElementById("clock");
    var format = new Intl.RelativeTimeFormat(clock ? clock.dataset.locale : undefined, { numeric: "auto" });
    document.querySelectorAll("time[data-relative]").forEach(function (el) {
      var minutes = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 60000);
      if (minutes > -1) return;  // "just now" stays as the server wrote it
      el.textContent = minutes > -60 ? format.format(minutes, "minute")
        : minutes > -1440 ? format.format(Math.round(minutes / 60), "hour")
        : format.format(Math.round(minutes / 1440), "day");
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target.dataset && event.target.dataset.counter) updateCounter(event.target);
  });
  document.addEventListener("focusin", function (event) {
    var box = event.target;
    if (!box.hasAttribute || !box.hasAttribute("data-keypad-input") || !box.form) return;
    box.form.querySelectorAll("[data-keypad-current]").forEach(function (other) {
      other.removeAttribute("data-keypad-current");
    });
    box.setAttribute("data-keypad-current", "");
  });
  document.addEventListener("click", function (event) {
    var key = event.target.closest && event.target.closest("[data-key]");
    if (key) pressKey(key);
  });
  document.addEventListener("DOMContentLoaded", function () {
    tickClock();
    setInterval(tickClock, 15000);
    setInterval(tickRelativeTimes, 60000);
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
  // A live list waits while the resident is busy with it (a report's reasons open, older
  // messages loaded): replacing it would take that away. The next poll catches up.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var poller = event.detail.elt;
    if (!poller.hasAttribute || !poller.hasAttribute("data-live-poll")) return;
    var list = poller.parentElement;
    if (list.querySelector(".report-form") || list.querySelector("[data-older]")) event.preventDefault();
  });

  // Over a per-device limit: what was typed stays; a banner says how long to wait.
  document.addEventListener("limit-reached", function (event) {
    var banner = document.getElementById("limit-reached");
    if (!banner) return;
    banner.textContent = banner.dataset.template.replace("{n}", String(event.detail.seconds));
    banner.hidden = false;
    setTimeout(function () { banner.hidden = true; }, Math.min(event.detail.seconds, 30) * 1000);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.xhr && event.detail.xhr.status) connectionLost(false);
  });
})();
