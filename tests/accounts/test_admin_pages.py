"""Every page of every registered ModelAdmin, for every staff role of the access world.

The admins are read from ``django.contrib.admin.site``, so a new admin is covered
without editing this test. For each role of side "a" (tests/accounts/world.py) and a
superuser: the admin index, every app index, and per admin the changelist (plain, with a
search, with each list filter's first choices), the add page and the change page of one
object of the role's own scope. The answer is what the admin's permission methods say
(200 or 403; never 500), and the pages never show the other side's data. The change page
of an object that only the other side's same role sees answers 302/403/404.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.accounts.world import Side, World, build_world

pytestmark = pytest.mark.django_db

ROLES = ("district", "subdistrict", "committee", "helper", "pharmacy", "superuser")
MAX_FILTER_CHOICES = 2


@pytest.fixture
def world() -> World:
    return build_world()


def _foreign_strings(b: Side) -> list[str]:
    """Strings private to side b: its people, codes and notes, and the names of its places."""
    places = [b.committee, b.other_committee, b.pharmacy, b.subdistrict, b.district]
    return [*b.markers, *(p.name for p in places), *(p.code for p in places)]


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


class Walker:
    def __init__(self, user, foreign: list[str] | None) -> None:
        self.user = user
        self.client = Client()
        self.client.force_login(user)
        self.foreign = foreign or []
        self.problems: list[str] = []

    def get(self, url: str, allowed: set[int], what: str):
        """One GET in a rolled-back savepoint (a failed statement on PostgreSQL must not
        poison the test's transaction); a raised exception is a 500."""
        sid = transaction.savepoint()
        try:
            response = self.client.get(url)
        except Exception as exc:  # the page would have answered 500
            self.problems.append(f"{what} {url}: 500 ({type(exc).__name__}: {exc})")
            return None
        finally:
            transaction.savepoint_rollback(sid)
        if response.status_code not in allowed:
            self.problems.append(f"{what} {url}: got {response.status_code}, want {allowed}")
        text = response.content.decode("utf-8", "replace")
        # A short code ("S09") must stand alone: inside a random token (CSRF) it is chance.
        leaked = [
            s
            for s in self.foreign
            if s and re.search(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])", text)
        ]
        if leaked:
            self.problems.append(f"{what} {url}: shows the other scope's {leaked}")
        return response

    def changelists(self, model_admin, base: str, may_view: bool) -> None:
        want = {200} if may_view else {403}
        response = self.get(base, want, "changelist")
        self.get(base + "?q=x", want, "search")
        if response is None or response.status_code != 200 or response.context is None:
            return
        changelist = response.context["cl"]
        if model_admin.date_hierarchy:
            year = timezone.localdate().year
            self.get(f"{base}?{model_admin.date_hierarchy}__year={year}", {200}, "date drill-down")
        for spec in changelist.filter_specs:
            choices = [c for c in spec.choices(changelist) if not c.get("selected")]
            for choice in choices[:MAX_FILTER_CHOICES]:
                self.get(base + choice["query_string"], {200, 302}, f"filter {spec.title}")

    def model(self, model, model_admin, other_user) -> None:
        request = _request(self.user)
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        may_view = model_admin.has_view_or_change_permission(request)
        self.changelists(model_admin, reverse(f"{prefix}_changelist"), may_view)
        may_add = model_admin.has_add_permission(request)
        self.get(reverse(f"{prefix}_add"), {200} if may_add else {403}, "add")
        own = model_admin.get_queryset(request)
        obj = own.first()
        if obj is not None:
            may = model_admin.has_view_or_change_permission(request, obj)
            url = reverse(f"{prefix}_change", args=(quote(obj.pk),))
            self.get(url, {200} if may else {403}, "change (own scope)")
        if other_user is None:
            return
        theirs = model_admin.get_queryset(_request(other_user)).exclude(pk__in=own.values("pk"))
        foreign = theirs.first()
        if foreign is not None:
            url = reverse(f"{prefix}_change", args=(quote(foreign.pk),))
            self.get(url, {302, 403, 404}, "change (other scope)")

    def walk(self, other_user) -> list[str]:
        self.get(reverse("admin:index"), {200}, "index")
        for app_label in sorted({m._meta.app_label for m in admin.site._registry}):
            self.get(reverse("admin:app_list", args=(app_label,)), {200, 404}, "app index")
        for model, model_admin in admin.site._registry.items():
            self.model(model, model_admin, other_user)
        return self.problems


def _users(world: World, role: str):
    if role == "superuser":
        from tests.factories import UserFactory

        return UserFactory(username="admin-super", role="", is_superuser=True), None
    return world.a.users[role], world.b.users[role]


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_answers_as_permissions_say(world: World, role: str):
    user, other = _users(world, role)
    foreign = None if role == "superuser" else _foreign_strings(world.b)
    problems = Walker(user, foreign).walk(other)
    assert not problems, f"{role}:\n  " + "\n  ".join(problems)


def test_the_walk_covers_every_registered_admin():
    """The scoped community admins and the plain ones are both in the registry walked."""
    names = {model._meta.label for model in admin.site._registry}
    assert {"community.Pharmacy", "community.Household", "rounds.Round"} <= names
    assert {"core.AuditLog", "accounts.User", "transparency.Notice"} <= names


def test_the_walk_reports_a_500(world: World, monkeypatch):
    """Negative control: a changelist that raises is reported, not swallowed."""
    from fairshare.community.models import Pharmacy

    model_admin = admin.site._registry[Pharmacy]

    def broken(request):
        raise RuntimeError("boom")

    monkeypatch.setattr(model_admin, "get_queryset", broken)
    walker = Walker(world.a.users["committee"], [])
    walker.changelists(model_admin, reverse("admin:community_pharmacy_changelist"), True)
    assert any("500 (RuntimeError: boom)" in p for p in walker.problems)
