// Choosing a building reloads the page with its rooms (the button does the same without JS).
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
  form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
  form.querySelectorAll("select").forEach(function (select) {
    select.addEventListener("change", function () { if (select.value) { form.submit(); } });
  });
});

// Type-to-filter for the building list: the plain <select> stays the control (native
// keyboard and screen-reader support); the box above narrows its options. Full-width
// digits count as digits (NFKC), and "12栋" / "12号楼" find "12号".
(function () {
  function fold(text) {
    return (text || "").normalize("NFKC").replace(/\s+/g, "").toUpperCase()
      .replace(/(号楼|栋|幢|楼)$/, "号");
  }
  document.querySelectorAll("input[data-filter-for]").forEach(function (input) {
    var select = document.getElementById(input.dataset.filterFor);
    var count = document.getElementById(input.getAttribute("aria-describedby"));
    if (!select) { return; }
    var options = Array.prototype.slice.call(select.options);
    var placeholder = options.shift();
    input.closest("[hidden]").hidden = false;
    function matches() {
      var wanted = fold(input.value);
      return options.filter(function (o) { return fold(o.text).indexOf(wanted) !== -1; });
    }
    input.addEventListener("input", function () {
      var found = matches();
      select.replaceChildren.apply(select, [placeholder].concat(found));
      select.size = input.value && found.length > 1 ? Math.min(found.length + 1, 8) : 0;
      if (count) { count.textContent = input.value ? count.dataset.found.replace("{n}", found.length) : ""; }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        var found = matches();
        if (found.length === 1) { select.value = found[0].value; input.form.submit(); }
        else { select.focus(); }
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        select.focus();
      }
    });
  });
})();
