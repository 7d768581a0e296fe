{% load static %}/* Fairshare terminal service worker: the scan page reloads while offline.
 *
 * Hand-written with the Cache API rather than Workbox: workbox-sw fetches its modules
 * from a CDN unless every module is vendored too, and the needs here are two rules.
 * - The scan page (a navigation): network first, the cached copy when offline; each good
 *   online answer refreshes the copy (so its CSRF token and strings stay current).
 * - Its JS/CSS: cache first (the files are versioned by this worker's cache name).
 * Nothing else is touched: API calls, POSTs and other pages go to the network as usual.
 */
"use strict";
var CACHE = "{{ version }}";
var PAGE = "{{ scan_url }}";
var ASSETS = [
  "{% static 'vendor/pico/pico.min.css' %}",
  "{% static 'fairshare/site.css' %}",
  "{% static 'pharmacy/pharmacy.css' %}",
  "{% static 'vendor/jsqr/jsQR.js' %}",
  "{% static 'pharmacy/scan.js' %}"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS).then(function () {
      return fetch(PAGE, { credentials: "same-origin" }).then(function (r) {
        if (r.ok && !r.redirected) { return cache.put(PAGE, r); }
      });
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("fs-terminal-") === 0 && n !== CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === PAGE && request.mode === "navigate") {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(PAGE, copy); });
      }
      return response;
    }, function () {
      return caches.match(PAGE).then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  if (ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(url.pathname).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
