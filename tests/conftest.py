"""Shared test set-up.

Tests marked ``postgres`` need row locks. On SQLite they are deselected (with a
printed count); the PostgreSQL pass of ``make test`` runs them. With
FAIRSHARE_REQUIRE_POSTGRES=1 (set by that pass) a non-PostgreSQL database is an
error, so a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from tests.factories import (  # noqa: F401  (re-exported fixtures use them)
    CommitteeFactory,
    HouseholdFactory,
    RoundFactory,
    UserFactory,
)


def _vendor() -> str:
    return "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"


def pytest_report_header(config):
    return f"database: {_vendor()} ({settings.DATABASES['default']['NAME']})"


def pytest_collection_modifyitems(config, items):
    vendor = _vendor()
    if os.environ.get("FAIRSHARE_REQUIRE_POSTGRES") == "1" and vendor != "postgresql":
        raise pytest.UsageError("FAIRSHARE_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL")
    if vendor == "postgresql":
        return
    pg_only = [item for item in items if item.get_closest_marker("postgres")]
    if pg_only:
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]
        config.hook.pytest_deselected(items=pg_only)
        config._fairshare_pg_deselected = len(pg_only)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    count = getattr(config, "_fairshare_pg_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"{count} PostgreSQL-only test(s) deselected on SQLite; `make test-postgres` runs them."
        )


@pytest.fixture
def committee(db):
    return CommitteeFactory()


@pytest.fixture
def open_round(db, committee):
    return RoundFactory(district=committee.subdistrict.district)


@pytest.fixture
def household(db, committee):
    return HouseholdFactory(building__committee=committee)
