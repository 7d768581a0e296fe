"""A failing SMS gateway never rolls back business writes, and its messages are retried."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.core.models import OutboxMessage
from fairshare.core.outbox import outbox_drain
from fairshare.core.sms import sms_enqueue
from tests.factories import CommitteeFactory, HouseholdFactory, RoundFactory
from tests.faults.conftest import STATUS_PATH

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _make_due(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(available_at=timezone.now())


def test_failing_backend_keeps_the_business_write_and_retries(settings, tmp_path):
    from django.db import transaction

    settings.SMS_BACKEND = "failing"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    with transaction.atomic():  # the business transaction: a write plus its SMS
        household = HouseholdFactory()
        sms_enqueue(
            phone="13800000001",
            kind="code",
            variables={"code": "123456", "minutes": "10"},
            household_id=household.pk,
        )

    before = timezone.now()
    assert outbox_drain() == {"sent": 0, "retried": 1, "failed": 0}
    message = OutboxMessage.objects.get(household_id=household.pk)
    assert message.status == OutboxMessage.Status.PENDING and message.attempts == 1
    assert message.available_at > before  # backed off, not hammered
    assert "ConnectionError" in message.last_error
    assert type(household).objects.filter(pk=household.pk).exists()  # not rolled back
    assert outbox_drain() == {"sent": 0, "retried": 0, "failed": 0}  # not due yet

    settings.SMS_BACKEND = "file"
    _make_due(message)
    assert outbox_drain() == {"sent": 1, "retried": 0, "failed": 0}
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 2
    assert "13800000001" in settings.SMS_FILE_PATH.read_text(encoding="utf-8")


def test_backoff_grows_and_ends_in_failed(settings):
    settings.SMS_BACKEND = "failing"
    sms_enqueue(phone="13800000002", kind="code", variables={"code": "1", "minutes": "1"})
    delays = []
    for _ in range(8):
        message = OutboxMessage.objects.get()
        _make_due(message)
        start = timezone.now()
        outbox_drain()
        message.refresh_from_db()
        delays.append(message.available_at - start)
    assert message.status == OutboxMessage.Status.FAILED and message.attempts == 8
    assert all(b > a for a, b in itertools.pairwise(delays))
    assert delays[0] >= timedelta(seconds=1)


def test_registration_with_failing_sms_is_kept_and_retried(settings, tmp_path):
    client = Client()
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/rounds/{round_id}/registrations"]
    settings.SMS_BACKEND = "failing"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    committee = CommitteeFactory(code="KJ01")
    household = HouseholdFactory(building__committee=committee, room="502")
    round_ = RoundFactory(district=committee.subdistrict.district)
    response = client.post(
        f"/api/v1/rounds/{round_.id}/registrations",
        {
            "committee": "KJ01",
            "building": household.building.label,
            "room": "502",
            "name": "王小明",
            "phone": "13900000001",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    ticket = response.json()["ticket"]
    outbox_drain()
    messages = OutboxMessage.objects.filter(kind="sms")
    assert messages.exists(), "registration enqueued no SMS"
    assert all(m.status == OutboxMessage.Status.PENDING and m.attempts == 1 for m in messages)
    status = client.post(
        STATUS_PATH.replace("{ticket}", ticket),
        {"phone": "13900000001"},
        content_type="application/json",
    )
    assert status.status_code == 200  # the registration stands
    settings.SMS_BACKEND = "file"
    for message in messages:
        _make_due(message)
    outbox_drain()
    assert not OutboxMessage.objects.filter(kind="sms").exclude(status="sent").exists()
