"""The ``seed_demo`` management command (synthetic demo data)."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F
from django.utils import timezone

from fairshare.accounts.models import User
from fairshare.allocation.models import Voucher
from fairshare.community.models import (
    Building,
    Committee,
    District,
    Household,
    Member,
    Pharmacy,
    Subdistrict,
)
from fairshare.core.models import AuditLog, OutboxMessage
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round
from tests.factories import VoucherFactory

pytestmark = pytest.mark.django_db

SMALL = 600


@pytest.fixture(autouse=True)
def _fast_password_hasher(request, settings):
    """Argon2 costs ~0.3 s per hash; only tests asking for ``real_hasher`` keep it."""
    if "real_hasher" not in request.fixturenames:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def real_hasher():
    """Keep the project's password hasher (Argon2) for this test."""


def _seed(**options) -> None:
    call_command("seed_demo", households=SMALL, quiet=True, **options)


def _fingerprint() -> str:
    """Hash of the generated places and people, independent of primary keys."""
    digest = hashlib.sha256()
    rows = Member.objects.order_by(
        "household__committee__code", "household__building__sort_order", "household__room", "id"
    ).values_list(
        "household__committee__code",
        "household__committee__name",
        "household__building__compound",
        "household__building__label",
        "household__room",
        "name",
        "lives_alone",
        "elderly",
        "mobility_impaired",
    )
    for row in rows:
        digest.update(repr(row).encode())
    return digest.hexdigest()


def test_small_seed_builds_one_subdistrict():
    _seed()
    assert District.objects.get().code == "YP"
    assert list(Subdistrict.objects.values_list("code", "name")) == [("KJ", "控江路街道")]
    assert Committee.objects.count() == 25
    assert sorted(Committee.objects.values_list("code", flat=True)) == [
        f"KJ{i:02d}" for i in range(1, 26)
    ]
    pharmacies = Pharmacy.objects.annotate(n=Count("committees"))
    assert sorted(p.code for p in pharmacies) == ["P01", "P02", "P03", "P04", "P05"]
    for pharmacy in pharmacies:
        assert pharmacy.n == 5
        assert pharmacy.slot_minutes == 30 and pharmacy.customers_per_slot == 15
        assert (pharmacy.opens_at.isoformat(), pharmacy.closes_at.isoformat()) == (
            "08:30:00",
            "20:00:00",
        )
    assert not Committee.objects.exclude(subdistrict=F("pharmacy__subdistrict")).exists()
    assert Household.objects.count() == SMALL
    assert not Household.objects.exclude(committee=F("building__committee")).exists()
    assert Building.objects.filter(floors=6).exists()
    sizes = Household.objects.values("id").annotate(n=Count("members")).values_list("n", flat=True)
    assert set(sizes) <= {1, 2, 3}
    assert not Member.objects.exclude(id_hash="").exists()


def test_demo_users_have_roles_scopes_and_password(real_hasher):
    _seed()
    users = {u.username: u for u in User.objects.all()}
    assert len(users) == 32  # district, subdistrict, 25 committees, 5 pharmacies
    assert users["district"].role == "district" and users["district"].district.code == "YP"
    assert users["subdistrict"].role == "subdistrict"
    assert users["subdistrict"].subdistrict.code == "KJ"
    for i in range(1, 26):
        user = users[f"committee{i:02d}"]
        assert (user.role, user.committee.code) == ("committee", f"KJ{i:02d}")
    for i in range(1, 6):
        user = users[f"pharmacy{i:02d}"]
        assert (user.role, user.pharmacy.code) == ("pharmacy", f"P{i:02d}")
    assert all(u.is_staff and not u.is_superuser for u in users.values())
    assert users["committee07"].password.startswith("argon2")
    assert users["committee07"].check_password("demo")
    assert not users["committee07"].check_password("wrong")
    assert not any(u.password_change_required for u in users.values())  # not one-time


def test_places_and_households_go_through_the_roster_import(monkeypatch):
    from fairshare.operations import demo_roster

    calls = []
    real = demo_roster.roster_import_sheets
    monkeypatch.setattr(
        demo_roster, "roster_import_sheets", lambda **kw: calls.append(kw) or real(**kw)
    )
    _seed()
    assert len(calls) == 1 and calls[0]["actor"] is None
    kinds = {sheet.kind: len(sheet.rows) for sheet in calls[0]["sheets"]}
    assert kinds == {"pharmacies": 5, "committees": 25, "households": Member.objects.count()}
    entry = AuditLog.objects.get(action="roster.import")  # the import's own record
    assert entry.after["counts"]["households"]["created"] == SMALL
    assert Committee.objects.get(code="KJ01").address.endswith("1号底楼")
    assert Pharmacy.objects.exclude(phone="").count() == 5


def test_open_round_is_open_today():
    _seed()
    round_ = Round.objects.get()
    today = timezone.localdate()
    assert round_.name == "第一轮口罩预约"
    assert (round_.district.code, round_.policy, round_.status) == ("YP", "fcfs", "open")
    assert (round_.offline_reserve_pct, round_.packs_per_household) == (20, 1)
    assert round_.phone_verification is False
    assert round_.pack_description == "1包(5只)"
    assert timezone.localtime(round_.registration_opens_at).date() == today
    assert timezone.localtime(round_.registration_opens_at).hour == 0
    assert (round_.registration_closes_at - round_.registration_opens_at).days == 10
    assert (round_.valid_from, (round_.valid_until - today).days) == (today, 11)
    assert round_.registration_is_open()


def test_refuses_second_run_without_force_then_force_reloads():
    _seed()
    with pytest.raises(CommandError, match="already has data; use --force"):
        _seed()
    # Registrations and vouchers on demo households are wiped with --force.
    household = Household.objects.select_related("committee").first()
    VoucherFactory(registration__household=household, registration__round=Round.objects.get())
    OutboxMessage.objects.create(kind="sms", payload={}, household=household)
    _seed(force=True)
    assert Household.objects.count() == SMALL
    assert User.objects.count() == 32
    assert not Registration.objects.exists() and not Voucher.objects.exists()
    assert OutboxMessage.objects.get().household is None


def test_force_refuses_when_audit_log_references_demo_data():
    _seed()
    AuditLog.objects.create(action="test", committee=Committee.objects.first())
    with pytest.raises(CommandError, match="audit log"):
        _seed(force=True)
    assert Household.objects.count() == SMALL


def test_same_seed_gives_same_data():
    _seed(seed=7)
    first = _fingerprint()
    _seed(seed=7, force=True)
    assert _fingerprint() == first
    _seed(seed=8, force=True)
    assert _fingerprint() != first


@pytest.mark.slow
def test_default_size():
    call_command("seed_demo", quiet=True)
    assert Household.objects.count() == 44_270
    assert Committee.objects.count() == 25 and Pharmacy.objects.count() == 5
    assert Household.objects.filter(committee__code="KJ01").count() == 2_430
    assert Committee.objects.get(code="KJ01").name == "图们居委会"


@pytest.mark.slow
def test_larger_than_default_is_a_whole_district():
    call_command("seed_demo", households=44_271, quiet=True)
    assert Household.objects.count() == 44_271
    assert Subdistrict.objects.count() == 12
    assert Committee.objects.filter(subdistrict__code="KJ").count() == 25
    assert not Committee.objects.exclude(subdistrict=F("pharmacy__subdistrict")).exists()
    served = Pharmacy.objects.annotate(n=Count("committees")).values_list("n", flat=True)
    assert min(served) >= 4 and max(served) <= 6
    assert set(
        Pharmacy.objects.get(code="P03").committees.values_list("subdistrict__code", flat=True)
    ) == {"KJ"}
    assert User.objects.get(username="committee25").committee.code == "KJ25"
