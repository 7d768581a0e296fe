// Choosing a building reloads the page with its rooms (the button does the same without JS).
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
  form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  form.querySelectorAll("select").forEach(function (select) {
    select.addEventListener("change", function () { if (select.value) { form.submit(); } });
  });
});
