// Good news fades away by itself so that it never hides a sticky button for long;
// errors and warnings stay until the user closes them.
(function () {
  "use strict";
  document.querySelectorAll(".flash-stack .alert[data-autohide]").forEach(function (alert) {
    var delay = parseInt(alert.getAttribute("data-autohide"), 10) || 7000;
    window.setTimeout(function () {
      if (window.bootstrap && window.bootstrap.Alert) {
        window.bootstrap.Alert.getOrCreateInstance(alert).close();
      } else {
        alert.remove();
      }
    }, delay);
  });
})();
