"""Operators' pages for the access matrix."""

from __future__ import annotations

from tests.accounts.access_registry import AREA, staff

ENTRIES = {
    # Counts only (no names, no area strings): the same figures for every area login;
    # FAIRSHARE_METRICS_ALLOWED_IPS (empty in tests) adds scrapers without a login.
    ("GET", "/metrics"): staff(*AREA, scoped=False, own=frozenset({200})),
}
