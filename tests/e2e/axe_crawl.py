"""Reach every GET page of the access matrix a role may open, following the links the
pages themselves show (one visit per route), so axe-core checks pages with path
parameters on the demo data, not only the fixed ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve

from tests.accounts.access_registry import registry

FILES = (".pdf", ".csv", ".xlsx", ".json")


def route_of(path: str) -> str | None:
    """The matrix key of a page path: "/" + its Django route, converters included."""
    try:
        return "/" + str(resolve(path).route)
    except Resolver404:
        return None


def pages_for(role: str) -> set[str]:
    """HTML GET pages (matrix routes) ``role`` may open: for "anonymous" the public ones;
    for a staff role its staff pages and the public pages where being staff changes
    something (the residents' own pages are checked as anonymous)."""
    routes = set()
    for (method, path), access in registry().items():
        if method != "GET" or path.startswith(("/api/", "/admin/")) or path.endswith(FILES):
            continue
        if path.endswith("/pdf/"):  # a file too (a building sheet's PDF)
            continue
        if path in ("/healthz", "/ping"):
            continue
        if access.public if role == "anonymous" else access.allows(role) and not access.public_only:
            routes.add(path)
    return routes


def crawl(
    page, base: str, *, wanted: set[str], starts: Iterable[str], check: Callable[[str], list[str]]
) -> tuple[dict[str, str], list[str]]:
    """Visit ``starts`` and then every same-site link whose route is wanted and not yet
    seen; ``check(url)`` runs on each page (it navigates). Returns route → first path
    visited, and what ``check`` found."""
    seen: dict[str, str] = {}
    found: list[str] = []
    queue = list(starts)
    while queue:
        path = queue.pop(0)
        route = route_of(urlsplit(path).path)
        if route is None or route not in wanted or route in seen:
            continue
        seen[route] = path
        found += check(base + path)
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        for href in hrefs:
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" == base:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen, found
