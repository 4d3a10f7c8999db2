// Region picker: when a province, kabupaten or kecamatan changes, clear the lists below it and reload the
// form with the next list (the same as pressing "Show the next list", which works without JavaScript).
// With this script the button and its "press the button" help are not needed, so they are hidden.
(function () {
  "use strict";
  document.querySelectorAll("[data-region-picker]").forEach(function (picker) {
    var form = picker.closest("form");
    var refresh = picker.querySelector("[data-region-refresh]");
    if (!form || !refresh) {
      return;
    }
    refresh.hidden = true;
    picker.querySelectorAll("[data-region-help]").forEach(function (help) {
      help.hidden = true;
    });
    picker.querySelectorAll("select[data-region-select]").forEach(function (select) {
      var level = Number(select.getAttribute("data-region-select"));
      if (level >= 4) {
        return;
      }
      select.addEventListener("change", function () {
        picker.querySelectorAll("select[data-region-select]").forEach(function (other) {
          if (Number(other.getAttribute("data-region-select")) > level) {
            other.value = "";
          }
        });
        if (typeof form.requestSubmit === "function") {
          form.requestSubmit(refresh);
        } else {
          refresh.click();
        }
      });
    });
  });
})();
