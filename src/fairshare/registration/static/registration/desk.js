// Keyboard-first desk: Enter submits from anywhere in the form (also on the checkbox),
// Escape goes back to the address field; an empty phone gets the focus after ticking
// (Enter then registers a household without a mobile). Several matches: arrow keys
// move along the list, Enter opens one. A mailbox form's QR: a USB scanner types it
// into the address field (+ Enter); or the camera (vendored jsQR) fills and sends it.
(function () {
  var form = document.getElementById("desk-form");
  var q = document.getElementById("id_q");
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && q) { q.focus(); q.select(); }
  });
  var links = Array.prototype.slice.call(document.querySelectorAll(".desk-matches a"));
  document.addEventListener("keydown", function (event) {
    if (!links.length || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) { return; }
    var at = links.indexOf(document.activeElement);
    var next = event.key === "ArrowDown" ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
    event.preventDefault();
    links[next].focus();
  });
  setupCamera(q);
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

  function setupCamera(field) {
    var button = document.querySelector(".js-scan");
    var video = document.querySelector(".js-scan-video");
    if (!field || !button || !video || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
    button.hidden = false;
    var canvas = document.createElement("canvas");
    var stream = null;
    function tick() {
      if (!stream) { return; }
      if (video.readyState === video.HAVE_ENOUGH_DATA && window.jsQR) {
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        var ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        var hit = window.jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
        if (hit && hit.data) {
          stream.getTracks().forEach(function (t) { t.stop(); });
          stream = null;
          field.value = hit.data;
          field.form.requestSubmit();
          return;
        }
      }
      window.requestAnimationFrame(tick);
    }
    button.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (s) { stream = s; video.srcObject = s; video.hidden = false; return video.play(); })
        .then(function () { window.requestAnimationFrame(tick); })
        .catch(function () { video.hidden = true; });
    });
  }
})();
