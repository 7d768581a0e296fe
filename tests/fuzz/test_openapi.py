"""API fuzzing with schemathesis against ``/api/v1/openapi.json`` (in-process WSGI).

Every operation in the document is exercised, so operations that other branches
add are fuzzed without touching this file. For each generated request, as an
anonymous caller and as staff (committee01, subdistrict) with a valid bearer
token: no 5xx answer, and the answer conforms to the documented schema.
Examples are bounded (``FUZZ_MAX_EXAMPLES``, default 25 per operation) to keep
CI quick; set it higher for a deeper local run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from fairshare.wsgi import application
from tests.factories import CommitteeFactory, HouseholdFactory, RoundFactory, UserFactory

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
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


def test_the_document_lists_the_foundation_operations():
    paths = schema.raw_schema["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/rounds", "/api/v1/committees"):
        assert path in paths
