document.querySelectorAll(".js-print").forEach(function (el) {
  el.addEventListener("click", function (event) { event.preventDefault(); window.print(); });
});
// A slip just registered at the desk opens the print dialog by itself.
if (document.querySelector("[data-autoprint]")) {
  window.addEventListener("load", function () { window.print(); });
}
