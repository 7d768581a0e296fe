"""Who may call which endpoint: the registry behind tests/accounts/test_matrix.py.

Every API operation in ``/api/v1/openapi.json`` and every page URL pattern (outside
admin, static, i18n and the API) must be declared here, or the matrix test fails.

How to declare an endpoint (a few lines)
----------------------------------------
Put the entries of your app in ``tests/<app>/access.py`` (picked up automatically, so
apps do not collide in one file)::

    from tests.accounts.access_registry import public, staff

    ENTRIES = {
        # API: (METHOD, path template exactly as in openapi.json)
        ("GET", "/api/v1/vouchers/{code}"): staff(
            "pharmacy", params=lambda c: {"code": c.voucher.code}
        ),
        ("POST", "/api/v1/pharmacies/{code}/supplies"): staff(
            "pharmacy",
            params=lambda c: {"code": c.pharmacy.code},
            body=lambda c: {"date": "2020-02-03", "packs": 10, ...},
        ),
        # Pages: (METHOD, "/" + Django route, converters included)
        ("GET", "/r/<str:ticket>/"): public(params=lambda c: {"ticket": c.registration.ticket}),
    }

``c`` is a ``Ctx``: the objects of the side the call targets (``c.committee``,
``c.pharmacy``, ``c.round``, ``c.registration``, ``c.voucher``, ``c.household``,
``c.subdistrict``, ``c.district``, ``c.other_committee``; see tests/accounts/world.py)
plus ``c.role`` and ``c.user``/``c.token_row`` of that side for the calling role.

What the matrix checks, for roles district, subdistrict, committee, helper (a
committee user assigned to the target committee), pharmacy, an expired helper and
anonymous:

* ``staff(roles...)``: listed roles get an answer that is not 401/403/404/405/5xx on
  their own scope; other roles get 403/404; anonymous and expired users get 401
  (API) or a redirect to the login page (pages). The same role from the other scope
  calling with this scope's identifiers gets 403/404 when ``scoped`` (the default
  when the endpoint has path params or a body; ``scoped=False`` for lists filtered
  by the caller), and in every case the answer never contains the other scope's
  private strings (names, phones, tickets, voucher codes, audit notes).
* ``public()``: nobody gets 401/403/5xx, and the answer never contains a full name or
  a phone number (docs/invariants.md, invariant 6; opt out with ``pii_ok=True`` for a resident's own
  lookup by ticket + phone).
* ``public(staff=(roles...))``: anonymous callers are served as by ``public()``, but a
  bearer token changes who acts (e.g. staff registering at the desk): an expired
  token gets 401, and every role is then checked as by ``staff(roles...)``.
* ``public(bearer_checked=True)``: served as by ``public()`` to every caller, a valid
  bearer only adding staff figures, but a sent token that is not live (bad, revoked,
  expired) gets 401 (``fairshare.accounts.auth.optional_bearer``).

Options: ``query=`` (query string), ``body=`` (JSON for the API, form fields for pages),
``own=`` (a set of statuses the allowed roles must get), ``foreign=`` (statuses a
foreign scope may get, default {403, 404}; a form page that refuses an out-of-scope
choice with 422 may add 422).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from tests.accounts.world import PASSWORD

STAFF_ROLES = frozenset({"district", "subdistrict", "committee", "pharmacy"})
PUBLIC = "public"


class Ctx:
    """The target side's objects plus the calling role's user on that side."""

    def __init__(self, side: Any, role: str) -> None:
        self.side = side
        self.role = role
        key = role if role in side.users else "committee"
        self.user = side.users[key]
        self.token_row = side.token_rows[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.side, name)


Builder = Callable[[Ctx], dict[str, Any]]


def _none(ctx: Ctx) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Access:
    roles: frozenset[str] | str
    params: Builder = _none
    query: Builder | None = None
    body: Builder | None = None
    scoped: bool | None = None
    own: frozenset[int] | None = None
    foreign: frozenset[int] = frozenset({403, 404})
    pii_ok: bool = False
    optional_staff: frozenset[str] | None = None  # public, but a bearer acts as staff
    # Public, a bearer only adds figures; a sent bearer is still checked (bad/expired → 401).
    bearer_checked: bool = False

    @property
    def public(self) -> bool:
        return self.roles == PUBLIC

    @property
    def public_only(self) -> bool:
        return self.public and self.optional_staff is None

    def allows(self, role: str) -> bool:
        if self.public_only:
            return True
        roles = self.optional_staff if self.public else self.roles
        return (role if role != "helper" else "committee") in roles

    def is_scoped(self, ctx: Ctx) -> bool:
        if self.scoped is not None:
            return self.scoped
        return bool(self.params(ctx)) or self.body is not None


def staff(*roles: str, **options: Any) -> Access:
    unknown = set(roles) - STAFF_ROLES
    assert not unknown, f"unknown roles {unknown}; use {sorted(STAFF_ROLES)}"
    return Access(roles=frozenset(roles or STAFF_ROLES), **options)


def public(*, staff: tuple[str, ...] | None = None, **options: Any) -> Access:
    if staff is not None:
        unknown = set(staff) - STAFF_ROLES
        assert not unknown, f"unknown roles {unknown}; use {sorted(STAFF_ROLES)}"
        options["optional_staff"] = frozenset(staff)
    return Access(roles=PUBLIC, **options)


ALL = tuple(sorted(STAFF_ROLES))
AREA = ("district", "subdistrict")


def _later(days: int = 3) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def _helper_form(c: Ctx) -> dict[str, Any]:
    later = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    return {
        "action": "create",
        "new-username": f"new-helper-{c.role}",
        "new-password": "a-long-enough-pass-42",
        "new-committee": str(c.committee.pk),
        "new-expires_at": later,
    }


ENTRIES: dict[tuple[str, str], Access] = {
    # --- API: accounts -----------------------------------------------------------
    ("POST", "/api/v1/auth/token"): public(
        body=lambda c: {
            "username": c.side.users["committee"].username,
            "password": PASSWORD,
        }
    ),
    ("DELETE", "/api/v1/auth/token"): staff(scoped=False),
    ("GET", "/api/v1/auth/tokens"): staff(scoped=False, own=frozenset({200})),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): staff(
        params=lambda c: {"token_id": c.token_row.pk}, own=frozenset({200})
    ),
    ("GET", "/api/v1/auth/helpers/assignments"): staff(*AREA, scoped=False),
    ("POST", "/api/v1/auth/helpers/assignments"): staff(
        *AREA,
        body=lambda c: {
            "username": c.side.users["helper"].username,
            "committee": c.committee.code,
            "expires_at": _later(),
        },
        own=frozenset({201}),
    ),
    # --- API: public reads (rounds, community) -------------------------------------
    ("GET", "/api/v1/rounds"): public(),
    ("GET", "/api/v1/committees"): public(),
    ("GET", "/api/v1/committees/{code}/households"): public(
        params=lambda c: {"code": c.committee.code}
    ),
    # --- Pages -----------------------------------------------------------------
    ("GET", "/"): public(),
    ("GET", "/healthz"): public(),
    ("GET", "/accounts/login/"): public(),
    ("POST", "/accounts/logout/"): public(),
    ("GET", "/accounts/"): staff(*ALL, scoped=False, own=frozenset({200})),
    ("GET", "/accounts/helpers/"): staff(*AREA, scoped=False, own=frozenset({200})),
    ("POST", "/accounts/helpers/"): staff(
        *AREA, body=_helper_form, own=frozenset({302}), foreign=frozenset({403, 404, 422})
    ),
    ("GET", "/accounts/audit/"): staff(*ALL, scoped=False, own=frozenset({200})),
}


def registry() -> dict[tuple[str, str], Access]:
    """ENTRIES plus ``ENTRIES`` of every ``tests/<app>/access.py``."""
    merged = dict(ENTRIES)
    tests_dir = Path(__file__).resolve().parent.parent
    for info in pkgutil.iter_modules([str(tests_dir)]):
        name = f"tests.{info.name}.access"
        if not info.ispkg or importlib.util.find_spec(f"tests.{info.name}") is None:
            continue
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        for key, entry in module.ENTRIES.items():
            assert key not in merged, f"{key} declared twice (in {name})"
            merged[key] = entry
    return merged
