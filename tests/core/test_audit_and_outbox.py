import pytest
from django.db import DatabaseError, transaction

from fairshare.core.audit import audit_record
from fairshare.core.masking import mask_name, mask_phone
from fairshare.core.models import AuditLog, OutboxMessage
from fairshare.core.outbox import outbox_drain, outbox_enqueue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_audit_log_is_append_only_in_the_database():
    entry = audit_record(actor=UserFactory(), action="test.action", note="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(note="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert AuditLog.objects.get(pk=entry.pk).note == "x"


def test_outbox_sends_after_claim_and_retries_failures():
    sent = []
    ok = outbox_enqueue(kind="t-ok", payload={"n": 1})
    bad = outbox_enqueue(kind="t-bad", payload={"n": 2})

    def fail(payload):
        raise ConnectionError("gateway down")

    counts = outbox_drain(handlers={"t-ok": sent.append, "t-bad": fail})
    assert counts == {"sent": 1, "retried": 1, "failed": 0}
    assert sent == [{"n": 1}]
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert ok.status == OutboxMessage.Status.SENT
    assert bad.status == OutboxMessage.Status.PENDING and bad.attempts == 1
    assert "gateway down" in bad.last_error
    # Not due again until its back-off has passed: a second drain sends nothing.
    assert outbox_drain(handlers={"t-ok": sent.append, "t-bad": fail})["sent"] == 0
    assert sent == [{"n": 1}]


def test_outbox_message_is_claimed_once():
    outbox_enqueue(kind="t", payload={})
    first = outbox_drain(handlers={"t": lambda p: None})
    second = outbox_drain(handlers={"t": lambda p: None})
    assert first["sent"] == 1 and second["sent"] == 0


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳小明", "欧**明"),
        ("李", "*"),
        ("John Smith", "J*** S****"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
