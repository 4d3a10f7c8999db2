// Destructive one-tap actions (archive, delete, remove, suspend ...) ask first:
// <form data-confirm="Archive this product?"> is only sent when the user confirms.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) {
      return;
    }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
