// Keyboard-first desk: Enter submits from anywhere in the form (also on the checkbox),
// Escape goes back to the address field; an empty phone gets the focus after ticking.
(function () {
  var form = document.getElementById("desk-form");
  var q = document.getElementById("id_q");
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && q) { q.focus(); q.select(); }
  });
  if (!form) { return; }
  var phone = document.getElementById("id_phone");
  var checkbox = document.getElementById("id_id_checked");
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.type === "checkbox") {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  if (checkbox && phone) {
    checkbox.addEventListener("change", function () {
      if (checkbox.checked && !phone.value) { phone.focus(); }
    });
  }
})();
