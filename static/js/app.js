/* What htmx does not cover. No inline code: the CSP allows scripts from here only. */
(function () {
  "use strict";
  var root = document.documentElement;
  function $(id) { return document.getElementById(id); }
  function on(type, handler, capture) { document.addEventListener(type, handler, capture); }
  function each(selector, fn) { document.querySelectorAll(selector).forEach(fn); }
  function fill(el, n) { el.textContent = (n === 1 && el.dataset.one || el.dataset.template).replace("{n}", String(n)); }

  function tickClock() {
    var clock = $("clock");
    if (!clock || !window.Intl) return;
    var now = new Date(), zone = clock.dataset.tz, locale = clock.dataset.locale;
    try {
      clock.querySelector(".clock-date").textContent =
        new Intl.DateTimeFormat(locale, { dateStyle: "full", timeZone: zone }).format(now);
      clock.querySelector(".clock-time").textContent =
        new Intl.DateTimeFormat(locale, { timeStyle: "short", timeZone: zone }).format(now);
    } catch (e) { /* keep the server-rendered time */ }
  }

  // Server away: a banner, /healthz asked every 3 s; once it answers the banner goes and
  // what waited (a start-over) goes ahead. Polls carry on by themselves.
  var probing = null, whenBack = [];
  function connectionLost(lost) {
    var banner = $("connection-lost");
    if (banner) banner.hidden = !lost;
    if (lost && !probing) probing = setInterval(probe, 3000);
    if (!lost && probing) {
      clearInterval(probing);
      probing = null;
      whenBack.splice(0).forEach(function (go) { go(); });
    }
  }
  function healthy() {
    return fetch("/healthz", { cache: "no-store" }).then(function (r) { if (!r.ok) throw r; });
  }
  function probe() { healthy().then(function () { connectionLost(false); }, function () {}); }
  function online(go) { healthy().then(go, function () { whenBack.push(go); connectionLost(true); }); }

  // Enrolled kiosks (data-idle set): untouched data-idle s, "Still there?" counts down
  // data-idle-warning s, then POST /reset reloads a clean home page. On a clean home page,
  // after data-attract s the attract loop runs. The touch ending either does nothing else.
  var touched = Date.now(), warned = false, attracting = false;
  function seconds(name) { return parseInt(root.getAttribute("data-" + name), 10); }
  function onCleanHome() { return $("tiles") && root.hasAttribute("data-fresh"); }
  function startOver() {
    if (window.speechSynthesis) speechSynthesis.cancel();
    each("form", function (form) { form.reset(); });
    online(function () { $("start-over").submit(); });
  }
  function showIdle(show) { warned = show; $("idle").hidden = !show; }
  function tickIdle() {
    var quiet = (Date.now() - touched) / 1000;
    if (warned) {
      var left = Math.max(0, Math.ceil(seconds("idle") + seconds("idle-warning") - quiet));
      fill($("idle-countdown"), left);
      if (!left) { showIdle(false); startOver(); }
    } else if (quiet >= seconds("idle") && !onCleanHome()) {
      showIdle(true);
      tickIdle();
    } else if (quiet >= seconds("attract") && onCleanHome() && !attracting) {
      attracting = true;
      htmx.trigger("#attract", "attract-start");
    }
  }
  function touch(event) {
    touched = Date.now();
    if (event.type !== "click" || !(attracting || warned)) return;
    event.preventDefault();
    event.stopPropagation();
    if (warned) showIdle(false);
    if (attracting) {
      attracting = false;
      $("attract").hidden = true;
      $("attract").textContent = "";
      htmx.ajax("GET", location.pathname, { target: "#main", swap: "outerHTML" });
    }
  }

  // "12 characters left" under a text box with data-counter="<id of the counter>".
  function updateCounter(box) {
    var counter = $(box.dataset.counter);
    if (counter) fill(counter, Math.max(0, (parseInt(box.getAttribute("maxlength"), 10) || 0) - box.value.length));
  }

  // An on-screen pad: buttons with data-key type into the form's [data-keypad-input]
  // last touched (a form may have two), else its first; as if typed ("input" fires).
  function pressKey(button) {
    var form = button.closest("form");
    var input = form && (form.querySelector("[data-keypad-input][data-keypad-current]") ||
                         form.querySelector("[data-keypad-input]"));
    if (!input) return;
    var key = button.dataset.key;
    if (key === "clear") input.value = "";
    else if (key === "back") input.value = input.value.slice(0, -1);
    else if (input.value.length < (parseInt(input.getAttribute("maxlength"), 10) || 12)) input.value += key;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // "5 minutes ago", kept current between the server's renders.
  function tickRelativeTimes() {
    if (!window.Intl || !Intl.RelativeTimeFormat) return;
    var clock = $("clock");
    var format = new Intl.RelativeTimeFormat(clock ? clock.dataset.locale : undefined, { numeric: "auto" });
    each("time[data-relative]", function (el) {
      var minutes = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 60000);
      if (minutes > -1) return;  // "just now" stays as the server wrote it
      el.textContent = minutes > -60 ? format.format(minutes, "minute")
        : minutes > -1440 ? format.format(Math.round(minutes / 60), "hour")
        : format.format(Math.round(minutes / 1440), "day");
    });
  }

  // Read aloud with a voice on this machine in the page's language (Chinese voices may
  // say "cmn", not "zh-CN"); speaker buttons stay hidden where there is none.
  var voice = null;
  function pickVoice() {
    var zh = root.lang.indexOf("zh") === 0;
    voice = speechSynthesis.getVoices().filter(function (v) {
      return v.localService && (zh ? /^(zh|cmn)/i : /^en/i).test(v.lang);
    })[0] || null;
    showSpeakers();
  }
  function showSpeakers() { each("[data-speak]", function (button) { button.hidden = !voice; }); }
  function speak(button) {
    var again = button.getAttribute("aria-pressed") === "true", text = [];
    each(button.dataset.speak, function (el) { text.push(el.innerText); });
    speechSynthesis.cancel();
    each("[data-speak]", function (b) { b.setAttribute("aria-pressed", "false"); });
    if (again || !text.length || !voice) return;
    var words = new SpeechSynthesisUtterance(text.join("\n"));
    words.voice = voice;
    words.lang = voice.lang;
    words.onend = words.onerror = function () { button.setAttribute("aria-pressed", "false"); };
    button.setAttribute("aria-pressed", "true");
    speechSynthesis.speak(words);
  }

  on("input", function (event) {
    if (event.target.dataset && event.target.dataset.counter) updateCounter(event.target);
  });
  on("focusin", function (event) {
    var box = event.target;
    if (!box.hasAttribute || !box.hasAttribute("data-keypad-input") || !box.form) return;
    box.form.querySelectorAll("[data-keypad-current]").forEach(function (other) {
      other.removeAttribute("data-keypad-current");
    });
    box.setAttribute("data-keypad-current", "");
  });
  on("click", function (event) {
    var key = event.target.closest && event.target.closest("[data-key]");
    if (key) pressKey(key);
    var speaker = event.target.closest && event.target.closest("[data-speak]");
    if (speaker) speak(speaker);
  });
  on("DOMContentLoaded", function () {
    tickClock();
    setInterval(tickClock, 15000);
    setInterval(tickRelativeTimes, 60000);
    if (root.hasAttribute("data-idle")) {
      ["pointerdown", "keydown", "input", "click"].forEach(function (type) { on(type, touch, true); });
      setInterval(tickIdle, 1000);
    }
    if (window.speechSynthesis) {
      pickVoice();
      speechSynthesis.addEventListener("voiceschanged", pickVoice);
    }
  });
  on("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "attract" && attracting) event.detail.target.hidden = false;
  });
  on("htmx:afterSettle", showSpeakers);
  on("htmx:beforeSwap", function (event) {
    if (window.speechSynthesis && event.detail.target.id === "main") speechSynthesis.cancel();
  });
  // The form went to the resident's phone: this screen starts over shortly after.
  on("kiosk-handoff-opened", function () { setTimeout(startOver, 5000); });
  on("htmx:sendError", function () { connectionLost(true); });
  on("htmx:timeout", function () { connectionLost(true); });
  // An error htmx does not swap: a page load shows the error page, a failed action says
  // so. A proxy's 502-504 while the app is down is no page to show.
  on("htmx:responseError", function (event) {
    var config = event.detail.requestConfig || {}, status = event.detail.xhr.status;
    if (status >= 502 && status <= 504) return connectionLost(true);
    if ((config.verb || "get").toLowerCase() === "get" && config.path) return window.location.assign(config.path);
    var failed = $("request-failed");
    if (failed) {
      failed.hidden = false;
      setTimeout(function () { failed.hidden = true; }, 6000);
    }
  });
  // A live list waits while the resident is busy with it (a report's reasons open, older
  // messages loaded): replacing it would take that away. The next poll catches up.
  on("htmx:beforeRequest", function (event) {
    var poller = event.detail.elt;
    if (!poller.hasAttribute || !poller.hasAttribute("data-live-poll")) return;
    var list = poller.parentElement;
    if (list.querySelector(".report-form") || list.querySelector("[data-older]")) event.preventDefault();
  });
  // Over a per-device limit: what was typed stays; a banner says how long to wait.
  on("limit-reached", function (event) {
    var banner = $("limit-reached");
    if (!banner) return;
    fill(banner, event.detail.seconds);
    banner.hidden = false;
    setTimeout(function () { banner.hidden = true; }, Math.min(event.detail.seconds, 30) * 1000);
  });
  on("htmx:afterRequest", function (event) {
    if (event.detail.xhr && event.detail.xhr.status) connectionLost(false);
  });
})();
