"""Role × endpoint matrix: every API operation and page, every role, own and foreign scope.

An endpoint that is not declared in tests/accounts/access_registry.py (or a
``tests/<app>/access.py``) fails ``test_every_endpoint_is_declared``; see the
registry's docstring for how to declare one.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.accounts.access_registry import Access, Ctx, public, registry, staff
from tests.accounts.world import World, build_world

API_PREFIX = "/api/v1/"
EXCLUDED_PAGE_PREFIXES = ("/admin/", "/api/", "/i18n/", "/static/", "/media/", "/__debug__/")
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
REGISTRY = registry()
AUTH_FAIL = {401, 403, 404, 405}


def api_operations(client: Client) -> set[tuple[str, str]]:
    doc = client.get(f"{API_PREFIX}openapi.json").json()
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def page_routes() -> set[str]:
    routes: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                routes.add("/" + route)

    walk(get_resolver().url_patterns, "")
    return {r for r in routes if not r.startswith(EXCLUDED_PAGE_PREFIXES)}


def _declared_pages() -> set[str]:
    return {path for (_m, path) in REGISTRY if not path.startswith(API_PREFIX)}


def undeclared(client: Client, declared) -> list:
    api_missing = api_operations(client) - set(declared)
    pages = {path for (_m, path) in declared if not path.startswith(API_PREFIX)}
    return sorted(api_missing) + sorted(page_routes() - pages)


@pytest.mark.django_db
def test_every_endpoint_is_declared(client: Client):
    missing = undeclared(client, REGISTRY)
    message = (
        "Undeclared endpoints: declare who may call them in tests/<app>/access.py "
        "(see tests/accounts/access_registry.py): "
    )
    assert not missing, message + repr(missing)


@pytest.mark.django_db
def test_an_undeclared_endpoint_is_reported(client: Client):
    partial = {
        k: v for k, v in REGISTRY.items() if k[1] not in ("/api/v1/rounds", "/accounts/audit/")
    }
    missing = undeclared(client, partial)
    assert ("GET", "/api/v1/rounds") in missing and "/accounts/audit/" in missing


@pytest.mark.django_db
def test_no_stale_declarations(client: Client):
    existing = api_operations(client) | {("*", r) for r in page_routes()}
    stale = [key for key in REGISTRY if key not in existing and ("*", key[1]) not in existing]
    assert not stale, f"declared but no such endpoint (remove or fix the key): {stale}"


def _fill(path: str, params: dict) -> str:
    def sub(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        assert name in params, f"{path}: no value for path parameter {name!r}"
        return str(params[name])

    return re.sub(r"\{(\w+)\}|<(?:\w+:)?(\w+)>", sub, path)


def _call(method: str, path: str, entry: Access, target: Ctx, *, user=None, token=None):
    """One request in a savepoint that is rolled back, so calls do not affect each other."""
    url = _fill(path, entry.params(target))
    if entry.query:
        url += "?" + urlencode(entry.query(target))
    is_api = path.startswith(API_PREFIX)
    client = Client()
    if user is not None and not is_api:
        client.force_login(user)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token and is_api else {}
    kwargs: dict = {}
    if entry.body is not None:
        body = entry.body(target)
        if is_api:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        else:
            kwargs = {"data": urlencode(body), "content_type": "application/x-www-form-urlencoded"}
    sid = transaction.savepoint()
    try:
        return client.generic(method, url, **kwargs, **headers)
    finally:
        transaction.savepoint_rollback(sid)


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.fixture
def world(db) -> World:
    return build_world()


def _check(key: tuple[str, str], entry: Access, world: World) -> list[str]:
    method, path = key
    is_api = path.startswith(API_PREFIX)
    a, b = world.a, world.b
    problems: list[str] = []

    def body_of(response) -> str:
        return response.content.decode("utf-8", "replace")

    def leak(response, side, what: str, strings) -> None:
        text = body_of(response)
        found = [s for s in strings if s in text]
        if found:
            problems.append(f"{what}: answer contains {side.key}'s private data {found}")

    def status(response, what: str, allowed) -> None:
        if response.status_code not in allowed:
            problems.append(
                f"{what}: got {response.status_code}, expected one of {sorted(allowed)}"
            )

    def ok(response, what: str) -> None:
        code = response.status_code
        if entry.own is not None:
            status(response, what, entry.own)
        elif code in AUTH_FAIL or code >= 500:
            problems.append(f"{what}: got {code}, expected an answer (not 401/403/404/405/5xx)")

    # Anonymous and expired helper.
    anon = _call(method, path, entry, Ctx(a, "committee"))
    expired = _call(
        method, path, entry, Ctx(a, "expired"), user=a.users["expired"], token=a.tokens["expired"]
    )
    if entry.public:
        callers = ((anon, "anonymous"), (expired, "expired helper"))
        if not entry.public_only or entry.bearer_checked:  # an expired token is refused
            status(expired, "expired helper (bearer on a public endpoint)", {401})
            leak(expired, a, "expired helper", a.markers)
            callers = callers[:1]
        for resp, who in callers:
            if resp.status_code in (401, 403) or resp.status_code >= 500:
                problems.append(f"{who} on a public endpoint: got {resp.status_code}")
            if not entry.pii_ok:
                leak(resp, a, f"{who} (public, invariant 6)", a.pii + b.pii)
    else:
        for resp, who in ((anon, "anonymous"), (expired, "expired helper")):
            if is_api:
                status(resp, who, {401})
            elif not _is_login_redirect(resp):
                problems.append(f"{who}: got {resp.status_code}, expected a redirect to login")
            leak(resp, a, who, a.markers)

    for role in ("district", "subdistrict", "committee", "helper", "pharmacy"):
        own = _call(method, path, entry, Ctx(a, role), user=a.users[role], token=a.tokens[role])
        foreign = _call(method, path, entry, Ctx(a, role), user=b.users[role], token=b.tokens[role])
        if entry.public_only:
            for resp, who in ((own, f"{role} own"), (foreign, f"{role} foreign")):
                if resp.status_code in (401, 403) or resp.status_code >= 500:
                    problems.append(f"{who} on a public endpoint: got {resp.status_code}")
            continue
        if entry.allows(role):
            ok(own, f"{role} on own scope")
        else:
            status(own, f"{role} (not allowed) on own scope", {403, 404})
        if entry.is_scoped(Ctx(a, role)):
            status(foreign, f"{role} of the other scope", entry.foreign)
        elif entry.allows(role):
            ok(foreign, f"{role} of the other scope (unscoped list)")
        else:
            status(foreign, f"{role} of the other scope (not allowed)", {403, 404})
        leak(foreign, a, f"{role} of the other scope", a.markers)
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(REGISTRY), ids=lambda k: f"{k[0]} {k[1]}")
def test_role_matrix(key, world):
    problems = _check(key, REGISTRY[key], world)
    assert not problems, f"{key[0]} {key[1]}:\n  " + "\n  ".join(problems)


@pytest.mark.django_db
def test_the_matrix_catches_wrong_declarations(world):
    """A staff endpoint declared public, or a public one declared staff-only, is reported."""
    assert any(
        "public endpoint: got 401" in p
        for p in _check(("GET", "/api/v1/auth/tokens"), public(), world)
    )
    problems = _check(("GET", "/api/v1/rounds"), staff("district"), world)
    assert any(p.startswith("anonymous: got 200") for p in problems)
    assert any(p.startswith("pharmacy (not allowed) on own scope: got 200") for p in problems)
