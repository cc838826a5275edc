/* The staff console's few behaviours beyond htmx. */
(function () {
  "use strict";

  // A page shown again after a refused form: its own address back in the address bar, so
  // that a reload shows the page rather than sending the form again.
  var pageUrl = document.documentElement.getAttribute("data-page-url");
  if (pageUrl && window.history && history.replaceState) history.replaceState(null, "", pageUrl);

  // A print button (a sign-up slip, a sign-in sheet): the browser's print dialog.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
    // A copy button (the text to paste into a WeChat group): select it and copy it.
    var copy = event.target.closest && event.target.closest("[data-copy]");
    if (copy) {
      var field = document.getElementById(copy.getAttribute("data-copy"));
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value);
      else document.execCommand("copy");
    }
  });

  // "Select all on this page" for the bulk approval of the wall's queue.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-select-all]")) return;
    var boxes = document.querySelectorAll('input[type="checkbox"][form="' + box.getAttribute("data-select-all") + '"]');
    Array.prototype.forEach.call(boxes, function (each) { each.checked = box.checked; });
  });

  /* Moderation queue shortcuts: j / k move between posts, a approves (and moves on to
     the next post), r rejects. */
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".queue-row")); }

  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest(".queue-row") : null;
  }

  function move(step, from) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(from || current());
    var next = all[Math.min(all.length - 1, Math.max(0, index + step))] || all[0];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  var advanceFrom = null;  // the row approved with "a": the next one takes the keyboard

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.matches && target.matches("input, textarea, select")) return;
    var row = current();
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "a" && row) {
      var approve = row.querySelector('button[data-shortcut="approve"]');
      if (approve) { advanceFrom = row.id; approve.click(); event.preventDefault(); }
    } else if (event.key === "r" && row) {
      var reason = row.querySelector('[data-shortcut="reject-reason"]');
      if (reason) { reason.focus(); event.preventDefault(); }
    }
  });
  // After an action swaps a row, keep the keyboard on it, or on the next after "a".
  document.addEventListener("htmx:afterSwap", function (event) {
    var id = event.detail.target && event.detail.target.id;
    var row = id && document.getElementById(id);
    if (!row || !row.classList.contains("queue-row")) return;
    if (advanceFrom === id && !row.querySelector('.error')) move(1, row);
    else row.focus();
    advanceFrom = null;
  });
})();
