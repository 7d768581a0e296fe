"""API fuzzing with schemathesis against ``/api/v1/openapi.json`` (in-process WSGI).

Every operation in the document is exercised, so operations that other branches
add are fuzzed without touching this file. For each generated request, as an
anonymous caller and as staff (committee01, subdistrict) with a valid bearer
token: no 5xx answer, and the answer conforms to the documented schema.
Examples are bounded (``FUZZ_MAX_EXAMPLES``, default 25 per operation) to keep
CI quick; set it higher for a deeper local run.

Two runs: the derandomized one (the same examples every run, so a red CI is
reproducible) and a seeded one (``FUZZ_SEEDED_MAX_EXAMPLES``, default 8 per
operation) whose seed comes from the commit (``git rev-parse HEAD``), so each commit
explores new inputs and a run can still be repeated. The seed is printed; set
``FAIRSHARE_FUZZ_SEED`` to replay one (it wins over the commit), and without git the
seed is a fixed value.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from fairshare.wsgi import application
from tests.factories import CommitteeFactory, HouseholdFactory, RoundFactory, UserFactory

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
SEEDED_MAX_EXAMPLES = int(os.environ.get("FUZZ_SEEDED_MAX_EXAMPLES", "8"))
FALLBACK_SEED = 20200202  # the day Yangpu's registrations opened


def fuzz_seed() -> tuple[int, str]:
    """The seed of the second run and where it came from."""
    explicit = os.environ.get("FAIRSHARE_FUZZ_SEED", "").strip()
    if explicit:
        return int(explicit), "FAIRSHARE_FUZZ_SEED"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        return int(head[:16], 16), f"commit {head[:12]}"
    except (OSError, subprocess.SubprocessError, ValueError):
        return FALLBACK_SEED, "fixed fallback (no git)"


SEED, SEED_SOURCE = fuzz_seed()
CHECKS = [not_a_server_error, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The document declares bearer auth; random Authorization headers only measure the
# refusal. Callers below send a real token (or none).
schema.config.generation.update(with_security_parameters=False, max_examples=MAX_EXAMPLES)

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples every run: a red CI is reproducible
    database=None,
    suppress_health_check=list(HealthCheck),
)
SEEDED_SETTINGS = settings(
    FUZZ_SETTINGS,
    max_examples=SEEDED_MAX_EXAMPLES,
    derandomize=False,  # the seed below decides, and it changes with the commit
)


@pytest.fixture(autouse=True, scope="module")
def _print_seed(pytestconfig):
    """Show the seed in the test output (past pytest's capture), once per module."""
    line = f"API fuzz seed: {SEED} ({SEED_SOURCE}); replay: FAIRSHARE_FUZZ_SEED={SEED}"
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print(line)
    else:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """As Django's test client does: the app must not close the test's DB connection
    at the end of each request (the test's transaction lives on it)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, settings):
    """A small district: two committees with households, an open round, staff logins."""
    from fairshare.accounts.models import ApiToken

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    mine = CommitteeFactory(code="KJ01")
    other = CommitteeFactory(code="KJ02", subdistrict=mine.subdistrict)
    for committee in (mine, other):
        for room in ("101", "102"):
            HouseholdFactory(building__committee=committee, room=room)
    RoundFactory(district=mine.subdistrict.district)
    users = {
        "committee": UserFactory(username="committee01", role="committee", committee=mine),
        "subdistrict": UserFactory(
            username="subdistrict", role="subdistrict", subdistrict=mine.subdistrict
        ),
    }

    def token(role: str) -> str:
        raw = ApiToken.new_raw()
        ApiToken.objects.create(user=users[role], token_hash=ApiToken.hash(raw), label="fuzz")
        return raw

    return token


def _call_and_check(case, headers: dict[str, str] | None = None) -> None:
    response = case.call(headers=headers or {})
    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_anonymous(case, world):
    _call_and_check(case)


@schema.parametrize()
@FUZZ_SETTINGS
@pytest.mark.parametrize("role", ["committee", "subdistrict"])
def test_staff(case, world, role):
    # A fresh token per request: DELETE /auth/token revokes the one it is called with.
    _call_and_check(case, {"Authorization": f"Bearer {world(role)}"})


@schema.parametrize()
@SEEDED_SETTINGS
@seed(SEED)
def test_anonymous_seeded(case, world):
    _call_and_check(case)


@schema.parametrize()
@SEEDED_SETTINGS
@seed(SEED)
@pytest.mark.parametrize("role", ["committee", "subdistrict"])
def test_staff_seeded(case, world, role):
    _call_and_check(case, {"Authorization": f"Bearer {world(role)}"})


def test_the_checks_include_no_server_error():
    assert not_a_server_error in CHECKS


def test_the_seed_follows_the_commit(monkeypatch):
    monkeypatch.setenv("FAIRSHARE_FUZZ_SEED", "12345")
    assert fuzz_seed() == (12345, "FAIRSHARE_FUZZ_SEED")
    monkeypatch.delenv("FAIRSHARE_FUZZ_SEED")
    value, source = fuzz_seed()
    assert source.startswith("commit ") or value == FALLBACK_SEED


def test_the_document_lists_the_foundation_operations():
    paths = schema.raw_schema["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/rounds", "/api/v1/committees"):
        assert path in paths
