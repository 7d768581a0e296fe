from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.core.errors import Conflict, FieldErrors, Forbidden, NotFound
from fairshare.core.models import AuditLog, OutboxMessage
from fairshare.core.sms import sms_render
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.services import (
    AlreadyRegistered,
    registration_approve,
    registration_create,
    registration_submit,
    registration_void,
)
from fairshare.registration.tickets import ticket_display, ticket_new, ticket_normalize
from fairshare.rounds.models import Round
from tests.factories import CommitteeFactory, HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db


def _register(place, **kw):
    args = {
        "round": place["round"],
        "household": place["household"],
        "name": "张三明",
        "phone": "13812345678",
        "channel": "online",
    }
    args.update(kw)
    return registration_create(**args)


def test_roster_name_is_verified_and_numbers_start_at_one(place):
    result = _register(place)
    reg = result.registration
    assert result.created and reg.queue_number == 1 and reg.status == "verified"
    assert ticket_normalize(reg.ticket) == reg.ticket
    counter = QueueCounter.objects.get(round=place["round"], committee=place["committee"])
    assert (counter.last_number, counter.ledger_seq) == (1, 1)
    link = LedgerEntry.objects.get()
    assert counter.head_hash == link.hash
    assert '"name":"张*明"' in link.payload and "13812345678" not in link.payload
    sms = OutboxMessage.objects.get(kind="sms")
    assert sms.payload["phone"] == "13812345678"
    assert "排队号1" in sms_render(sms.payload) and "登记不等于购买凭证" in sms_render(sms.payload)


def test_name_not_in_roster_is_pending_and_keeps_its_place(place):
    reg = _register(place, name="李四").registration
    assert reg.status == "pending_review" and reg.queue_number == 1
    other = HouseholdFactory(building=place["building"], room="302")
    assert _register(place, household=other, name="王五").registration.queue_number == 2


def test_same_household_name_and_phone_returns_the_original(place):
    first = _register(place)
    again = _register(place, name=" 张三明 ", phone="+86 138 1234 5678")
    assert not again.created and again.registration.pk == first.registration.pk
    assert Registration.objects.count() == 1 and LedgerEntry.objects.count() == 1


def test_another_person_for_the_household_is_a_conflict_with_the_number(place):
    _register(place)
    with pytest.raises(AlreadyRegistered) as exc:
        _register(place, name="李四", phone="13912345678")
    assert exc.value.status_code == 409 and exc.value.extra == {"queue_number": 1}
    assert Registration.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("phone", {"phone": "12345"}),
        ("phone", {"phone": "021 6543 2100"}),  # a Shanghai landline is not a mobile
        ("phone", {"phone": ""}),
        ("name", {"name": "   "}),
        ("name", {"name": "张" * 65}),
        ("name", {"name": "张三\x00明"}),
        ("name", {"name": "张\u200b三"}),
        ("channel", {"channel": "desk"}),  # anonymous callers are online only
        ("channel", {"channel": "fax"}),
        ("written_at", {"written_at": timezone.now() - timedelta(minutes=5)}),  # staff only
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(place, field, overrides):
    with pytest.raises(FieldErrors) as exc:
        _register(place, **overrides)
    assert field in exc.value.errors
    assert not Registration.objects.exists() and not LedgerEntry.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_closed_or_not_yet_open_round_is_refused(place):
    round_obj = place["round"]
    Round.objects.filter(pk=round_obj.pk).update(status="closed")
    round_obj.refresh_from_db()
    with pytest.raises(FieldErrors) as exc:
        _register(place)
    assert "round" in exc.value.errors
    Round.objects.filter(pk=round_obj.pk).update(
        status="open",
        registration_opens_at=timezone.now() + timedelta(hours=1),
        registration_closes_at=timezone.now() + timedelta(days=1),
    )
    round_obj.refresh_from_db()
    with pytest.raises(FieldErrors):
        _register(place)
    assert not Registration.objects.exists()


def test_staff_desk_registration_with_sheet_time_and_audit(place, staff):
    at = timezone.now() - timedelta(minutes=20)
    reg = _register(
        place, channel="sheet", actor=staff, written_at=at, id_checked=True
    ).registration
    # The sheet's time is kept as written; the entry time (now) fixes the queue number.
    assert reg.channel == "sheet" and reg.written_at == at and reg.id_checked
    assert reg.acknowledged_at > at
    assert reg.created_by == staff
    assert AuditLog.objects.filter(action="registration.create", object_id=str(reg.pk)).exists()


def test_staff_of_another_committee_is_forbidden(place):
    other = UserFactory(role="committee", committee=CommitteeFactory())
    with pytest.raises(Forbidden):
        _register(place, channel="desk", actor=other)
    assert not Registration.objects.exists()


def test_void_keeps_number_appends_link_and_frees_the_household(place, staff):
    reg = _register(place, name="李四").registration
    registration_void(registration=reg, actor=staff, reason="not_resident", note="checked")
    reg.refresh_from_db()
    assert reg.status == "void" and reg.queue_number == 1
    links = list(LedgerEntry.objects.order_by("seq"))
    assert [link.kind for link in links] == ["registered", "voided"]
    assert links[1].prev_hash == links[0].hash and '"reason":"not_resident"' in links[1].payload
    assert "checked" not in links[1].payload  # the free-text note never goes public
    again = _register(place).registration
    assert again.queue_number == 2 and again.status == "verified"
    with pytest.raises(FieldErrors):
        registration_void(registration=again, actor=staff, reason="because")


def test_approve_only_pending_and_only_own_committee(place, staff):
    reg = _register(place, name="李四").registration
    outsider = UserFactory(role="committee", committee=CommitteeFactory())
    with pytest.raises(Forbidden):
        registration_approve(registration=reg, actor=outsider)
    approved = registration_approve(registration=reg, actor=staff)
    assert approved.status == "verified" and approved.reviewed_by == staff
    with pytest.raises(Conflict) as exc:
        registration_approve(registration=reg, actor=staff)
    assert exc.value.code == "not_pending"


def test_tickets_have_a_check_character():
    ticket = ticket_new()
    assert len(ticket) == 9 and ticket_normalize(ticket_display(ticket).lower()) == ticket
    wrong = ("3" if ticket[0] != "3" else "4") + ticket[1:]
    assert ticket_normalize(wrong) is None
    assert ticket_normalize("O0I1L") is None


def test_constraint_violation_becomes_conflict_not_500(place, monkeypatch):
    """If the pre-check misses a live registration, the partial unique index answers 409."""
    from fairshare.registration import services

    _register(place)
    real = services._live_registration
    calls = {"n": 0}

    def blind_first(**kw):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(**kw)

    monkeypatch.setattr(services, "_live_registration", blind_first)
    with pytest.raises(AlreadyRegistered):
        _register(place, name="李四", phone="13912345678")
    assert Registration.objects.count() == 1 and LedgerEntry.objects.count() == 1


def test_confirmation_sms_goes_out_after_commit_through_the_outbox(place, settings, tmp_path):
    import json

    from fairshare.core.outbox import outbox_drain

    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    reg = _register(place).registration
    assert not settings.SMS_FILE_PATH.exists()  # nothing sent inside the transaction
    assert outbox_drain()["sent"] == 1
    line = json.loads(settings.SMS_FILE_PATH.read_text(encoding="utf-8"))
    assert line["phone"] == "13812345678" and ticket_display(reg.ticket) in line["text"]


def _submit(place, **kw):
    args = {
        "round_id": place["round"].pk,
        "committee_code": "KJ01",
        "building": "12",
        "room": "301室",
        "name": "张三明",
        "phone": "13812345678",
        "channel": "online",
    }
    args.update(kw)
    return registration_submit(**args)


def test_submit_finds_round_and_household_as_typed(place):
    result = _submit(place)
    assert result.created and result.registration.household == place["household"]
    assert _submit(place, building="12 号", room="301").created is False


@pytest.mark.parametrize("round_id", [0, -1, 10**6, 2**63])
def test_submit_unknown_or_out_of_range_round_is_404(place, round_id):
    with pytest.raises(NotFound) as caught:
        _submit(place, round_id=round_id)
    assert caught.value.code == "unknown_round"


@pytest.mark.parametrize(
    ("typed", "field"),
    [
        ({"committee_code": "XX99"}, "committee"),
        ({"building": "99"}, "building"),
        ({"room": "9"}, "room"),
    ],
)
def test_submit_address_errors_name_their_field(place, typed, field):
    with pytest.raises(FieldErrors) as caught:
        _submit(place, **typed)
    assert field in caught.value.errors
    assert not Registration.objects.exists()


@pytest.mark.parametrize("channel", ["desk", "photo"])
def test_submit_anonymous_may_only_register_online(place, channel):
    # a photo registration needs the photo (registration/photos.py), the others staff
    with pytest.raises(FieldErrors) as caught:
        _submit(place, channel=channel)
    assert "channel" in caught.value.errors
    assert not Registration.objects.exists()
