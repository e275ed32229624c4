// The sign form: "Show that I sign as a man/woman/…" follows the visibility chosen until
// the signer touches it (named entries show it by default; anonymous and organization-only
// ones do not). The server applies the same rule without script (show_role_proposed).
(function () {
  "use strict";
  var box = document.querySelector("input[data-shown-by-default-for]");
  var proposed = document.querySelector("input[name='show_role_proposed']");
  if (!box || !proposed) {
    return;
  }
  var shownFor = box.getAttribute("data-shown-by-default-for").split(" ");
  box.addEventListener("change", function () {
    proposed.value = ""; // the signer's own choice from now on
  });
  document.querySelectorAll("input[name='visibility']").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!radio.checked || proposed.value === "") {
        return;
      }
      box.checked = shownFor.indexOf(radio.value) !== -1;
      proposed.value = box.checked ? "on" : "off";
    });
  });
})();
