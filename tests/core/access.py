"""Core pages for the access matrix (``/``, ``/healthz`` are declared in accounts)."""

from __future__ import annotations

from tests.accounts.access_registry import public

ENTRIES = {
    ("GET", "/ping"): public(),
}
