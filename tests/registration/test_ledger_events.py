"""Ledger format 2 for registrations: the "registered" link's review / written_at /
carried_from, the staff's written time (never the entry time), "approved" links, and
``verify_database`` re-deriving ``review`` from the rows and the chain."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.core.errors import FieldErrors
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.selectors import ledger_at_iso
from fairshare.registration.services import (
    registration_approve,
    registration_create,
    registration_void,
)
from fairshare.registration.verify import verify_database
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def _links(kind=None):
    entries = LedgerEntry.objects.order_by("seq")
    if kind is not None:
        entries = entries.filter(kind=kind)
    return [json.loads(e.payload) for e in entries]


def _register(place, **options):
    defaults = {"name": "张三明", "phone": "13812345678", "channel": "online"}
    defaults.update(options)
    household = defaults.pop("household", place["household"])
    return registration_create(round=place["round"], household=household, **defaults)


def _ok():
    reports = verify_database()
    assert reports and all(r.ok for r in reports), [r.reason for r in reports if not r.ok]


def test_online_registration_link_has_review_false_and_no_written_time(place):
    reg = _register(place).registration
    (link,) = _links()
    assert link["v"] == 2 and link["kind"] == "registered" and link["review"] is False
    assert link["written_at"] is None and link["carried_from"] is None
    assert link["at"] == ledger_at_iso(reg.acknowledged_at)
    _ok()


def test_pending_registration_link_says_review_then_approved_link(place, staff):
    reg = _register(place, name="王小二").registration  # not on the roster
    assert reg.status == Registration.Status.PENDING_REVIEW
    assert _links()[0]["review"] is True
    _ok()
    registration_approve(registration=reg, actor=staff)
    approved = _links("approved")
    assert len(approved) == 1
    assert approved[0]["queue_number"] == reg.queue_number and approved[0]["seq"] == 2
    _ok()  # review=true, row verified, with its approved link


def test_rejected_pending_registration_keeps_review_true_and_verifies(place, staff):
    reg = _register(place, name="王小二").registration
    registration_void(registration=reg, actor=staff, reason="not_resident")
    assert [link["kind"] for link in _links()] == ["registered", "voided"]
    _ok()


def test_staff_sheet_time_is_written_at_and_the_entry_time_orders(place, staff):
    written = timezone.now() - timedelta(minutes=30)
    before = timezone.now()
    reg = _register(
        place, channel="sheet", actor=staff, written_at=written, id_checked=True
    ).registration
    assert reg.written_at == written and reg.acknowledged_at >= before
    (link,) = _links()
    assert link["written_at"] == ledger_at_iso(written)
    assert link["at"] == ledger_at_iso(reg.acknowledged_at) != link["written_at"]
    _ok()


def test_written_time_in_the_future_is_a_field_error_and_writes_nothing(place, staff):
    with pytest.raises(FieldErrors) as exc:
        _register(
            place, channel="sheet", actor=staff, written_at=timezone.now() + timedelta(hours=1)
        )
    assert "written_at" in exc.value.errors
    assert not Registration.objects.exists() and not LedgerEntry.objects.exists()


def test_residents_cannot_set_a_written_time(place):
    with pytest.raises(FieldErrors) as exc:
        _register(place, written_at=timezone.now() - timedelta(minutes=5))
    assert "written_at" in exc.value.errors
    assert not Registration.objects.exists()


def _post(client: Client, place, token, body):
    data = {
        "committee": "KJ01",
        "building": "12号",
        "room": "301",
        "name": "张三明",
        "phone": "13812345678",
        "channel": "phone",
        **body,
    }
    return client.post(
        f"/api/v1/rounds/{place['round'].pk}/registrations",
        data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.mark.parametrize("field", ["written_at", "acknowledged_at"])
def test_api_takes_written_at_and_its_deprecated_alias(client, place, staff_token, field):
    written = (timezone.localtime() - timedelta(minutes=40)).replace(microsecond=0)
    response = _post(client, place, staff_token, {field: written.isoformat()})
    assert response.status_code == 201, response.content
    reg = Registration.objects.get()
    assert reg.written_at == written and reg.acknowledged_at > written
    assert _links()[0]["written_at"] == ledger_at_iso(written)


def test_api_refuses_a_future_written_time_per_field(client, place, staff_token):
    future = (timezone.localtime() + timedelta(hours=1)).isoformat()
    response = _post(client, place, staff_token, {"written_at": future})
    assert response.status_code == 422
    assert "written_at" in response.json()["errors"]
    assert not Registration.objects.exists()


def test_batch_lines_keep_their_sheet_times_as_written_time(client, place, staff):
    HouseholdFactory(building=place["building"], room="302")
    client.force_login(staff)
    t1 = timezone.localtime() - timedelta(minutes=20)
    t2 = timezone.localtime() - timedelta(minutes=30)  # written earlier, entered later
    rows = (
        f"12-301, 张三明, 13812345678, {t1:%Y-%m-%d %H:%M}\n"
        f"12-302, 王五, 13912345678, {t2:%Y-%m-%d %H:%M}"
    )
    client.post(f"/r/desk/{place['round'].pk}/KJ01/batch/", {"rows": rows, "channel": "sheet"})
    regs = list(Registration.objects.order_by("queue_number"))
    assert [timezone.localtime(r.written_at).strftime("%H:%M") for r in regs] == [
        f"{t1:%H:%M}",
        f"{t2:%H:%M}",
    ]
    assert regs[0].acknowledged_at <= regs[1].acknowledged_at  # line order = entry order
    _ok()


@pytest.mark.parametrize(
    ("status", "name"),
    [
        # a verified registration whose link says review, without an approved link
        ("verified", "王小二"),
        # a pending registration whose link says no review
        ("pending_review", "张三明"),
    ],
)
def test_tampered_status_against_the_review_flag_is_a_break(place, status, name):
    reg = _register(place, name=name).registration
    _ok()
    Registration.objects.filter(pk=reg.pk).update(status=status)
    (report,) = verify_database()
    assert report.broken_seq == 1 and "review" in report.reason


def test_tampered_written_time_is_a_break(place, staff):
    reg = _register(
        place, channel="phone", actor=staff, written_at=timezone.now() - timedelta(minutes=30)
    ).registration
    Registration.objects.filter(pk=reg.pk).update(written_at=timezone.now() - timedelta(minutes=50))
    (report,) = verify_database()
    assert report.broken_seq == 1 and "written_at" in report.reason


def test_approved_link_of_a_registration_put_back_to_pending_is_a_break(place, staff):
    reg = _register(place, name="王小二").registration
    registration_approve(registration=reg, actor=staff)
    Registration.objects.filter(pk=reg.pk).update(status="pending_review")
    (report,) = verify_database()
    assert not report.ok and report.broken_seq == 2 and "pending" in report.reason


def test_format_1_links_in_an_existing_database_still_verify(place):
    """A chain written before format 2 (``v`` 1, no review/written_at/carried_from)."""
    from fairshare.core.masking import mask_name
    from fairshare.registration.ledger import GENESIS, canonical, link_hash

    reg = _register(place).registration
    LedgerEntry.objects.all().delete()
    payload = canonical(
        {
            "v": 1,
            "kind": "registered",
            "seq": 1,
            "queue_number": reg.queue_number,
            "name": mask_name(reg.name),
            "building": "12号",
            "room": "301",
            "channel": "online",
            "at": ledger_at_iso(reg.acknowledged_at),
        }
    )
    digest = link_hash(GENESIS, payload)
    LedgerEntry.objects.create(
        round=reg.round,
        committee=reg.committee,
        seq=1,
        kind="registered",
        registration=reg,
        payload=payload,
        prev_hash=GENESIS,
        hash=digest,
    )
    QueueCounter.objects.filter(round=reg.round).update(ledger_seq=1, head_hash=digest)
    _ok()
    Registration.objects.filter(pk=reg.pk).update(channel="desk")
    assert not verify_database()[0].ok
