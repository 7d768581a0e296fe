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

// Rush-proof registration (issue 15, registration/rushproof.py): when the service answers
// 503 or 429 (or the network fails), the form stays as typed, a countdown shows the
// Retry-After seconds, and the same request goes again with the same key, so nobody types
// twice and nobody registers twice. Any other answer is shown as a normal submit would,
// and so is a 429 to "send code".
(function () {
  var form = document.querySelector("form[data-rushproof]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var note = form.querySelector(".rush-wait");
  var busy = false;
  function show(response) {
    if (response.redirected) { location.assign(response.url); return null; }
    return response.text().then(function (html) {
      document.open(); document.write(html); document.close();
    });
  }
  function wait(data, seconds) {
    var left = Math.min(Math.max(isNaN(seconds) ? 5 : seconds, 1), 900);
    note.hidden = false;
    (function tick() {
      if (left <= 0) { note.textContent = note.dataset.sending; send(data); return; }
      note.textContent = note.dataset.wait.replace("{n}", left);
      left -= 1;
      setTimeout(tick, 1000);
    })();
  }
  function send(data) {
    busy = true;
    fetch(form.getAttribute("action") || location.href, {  // form.action: the "action" button
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Idempotency-Key": form.elements.form_key.value },
    }).then(function (response) {
      // A refused "send code" (429: too many codes to this phone) is shown, never re-sent
      // by itself: the resident may already have a code, and each resend is an SMS.
      var codeRefused = response.status === 429 && data.get("action") === "send_code";
      if (!codeRefused && (response.status === 503 || response.status === 429)) {
        wait(data, parseInt(response.headers.get("Retry-After"), 10));
        return null;
      }
      return show(response);
    }).catch(function () { wait(data, 5); });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }  // a second press while one is on its way sends nothing
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) {
      data.append(event.submitter.name, event.submitter.value);
    }
    send(data);
  });
})();
