// "Leave this page quickly": the link works without script; where script runs, the link
// and pressing Shift three times replace this page, so the Back button does not return to it.
(function () {
  "use strict";
  var link = document.querySelector("[data-quick-exit]");
  if (!link) {
    return;
  }
  // The shortcut is offered only where it works: here, with script running.
  var hint = document.getElementById("quick-exit-hint");
  if (hint) {
    hint.hidden = false;
    link.setAttribute("aria-describedby", hint.id);
  }
  var PRESSES = 3;
  var WINDOW_MS = 5000; // as GOV.UK's "Exit this page": three presses within five seconds
  var presses = [];

  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    document.body.classList.add("quick-exit-leaving");
    document.title = ".";
    window.location.replace(link.href);
  }

  link.addEventListener("click", leave);
  document.addEventListener("keyup", function (event) {
    if (event.key !== "Shift") {
      presses = [];
      return;
    }
    var now = Date.now();
    presses = presses.filter(function (at) { return now - at < WINDOW_MS; });
    presses.push(now);
    if (presses.length >= PRESSES) {
      presses = [];
      leave();
    }
  });
})();
