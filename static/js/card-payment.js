// The card form of a checkout paid by card: Stripe.js (loaded from the address the server sets) draws the
// card field and sends the card to Stripe; the server only learns that the payment succeeded, by webhook.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) { return; }
  if (typeof window.Stripe !== "function") {
    document.getElementById("card-unavailable").hidden = false;
    return;
  }
  var stripe = window.Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe.confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } }).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message || form.dataset.failedText;
        button.disabled = false;
      } else {
        window.location.assign(form.dataset.doneUrl);
      }
    });
  });
})();
