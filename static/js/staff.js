/* Moderation queue shortcuts: j / k move between posts, a approves, r rejects. */
(function () {
  "use strict";

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".queue-row")); }

  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest(".queue-row") : null;
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(current());
    var next = all[Math.min(all.length - 1, Math.max(0, index + step))] || all[0];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.matches && target.matches("input, textarea, select")) return;
    var row = current();
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "a" && row) {
      var approve = row.querySelector('button[data-shortcut="approve"]');
      if (approve) { approve.click(); event.preventDefault(); }
    } else if (event.key === "r" && row) {
      var reason = row.querySelector('[data-shortcut="reject-reason"]');
      if (reason) { reason.focus(); event.preventDefault(); }
    }
  });
  // After an action swaps a row, keep the keyboard on it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var id = event.detail.target && event.detail.target.id;
    var row = id && document.getElementById(id);
    if (row && row.classList.contains("queue-row")) row.focus();
  });
})();
