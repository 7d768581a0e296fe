"""purge_personal_data on the real models: names, phones, photos and notes go; counts, queue
and ledger stay verifiable; the audit log allows exactly one redaction. The complete
scan over every table and file is tests/accounts/test_purge_scan.py."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from fairshare.accounts.purge import audit_redact
from fairshare.core.audit import audit_record
from fairshare.core.idempotency import idempotent_call
from fairshare.core.models import AuditLog, IdempotencyRecord, OutboxMessage
from fairshare.registration import ledger
from fairshare.registration.models import LedgerEntry, Registration, RegistrationPhoto
from fairshare.registration.photos import registration_create_with_photo
from fairshare.registration.services import registration_create, registration_void
from fairshare.rounds.models import Round
from tests.factories import HouseholdFactory, RegistrationFactory, RoundFactory, UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _verify(round_, committee):
    links = LedgerEntry.objects.filter(round=round_, committee=committee).order_by("seq")
    return ledger.verify_chain(links.values("seq", "payload", "prev_hash", "hash"))


def _close(round_) -> Round:
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.CLOSED)
    round_.refresh_from_db()
    return round_


@pytest.fixture
def closed_round_with_data(settings, tmp_path):
    """Three registrations through the services (one with a real photo, one voided with a
    note), and another round's registration with its photo, which must stay."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    household = HouseholdFactory()
    committee = household.committee
    staff = UserFactory(role="committee", committee=committee)
    round_ = RoundFactory(district=committee.subdistrict.district)
    first = registration_create_with_photo(
        round=round_,
        household=household,
        name="张三明",
        phone="13812345678",
        photo=PNG,
        returned_recently=True,
        returned_from="武汉",
        returned_on=timezone.localdate(),
    ).registration
    regs = [first]
    for phone in ("13987654321", "13987654322"):
        regs.append(
            registration_create(
                round=round_,
                household=HouseholdFactory(building__committee=committee),
                name="李四",
                phone=phone,
                channel="desk",
                actor=staff,
            ).registration
        )
    registration_void(registration=regs[2], actor=staff, reason="other", note="李四的邻居王二麻")
    other_round = RoundFactory(district=committee.subdistrict.district)
    untouched = registration_create_with_photo(
        round=other_round, household=household, name="王五", phone="13700001111", photo=PNG
    ).registration
    return _close(round_), committee, regs, untouched


@pytest.mark.django_db(transaction=True)
def test_purge_clears_names_phones_photos_notes_and_ledger_still_verifies(closed_round_with_data):
    round_, committee, regs, untouched = closed_round_with_data
    head_before, broken = _verify(round_, committee)
    assert broken is None
    photo_file = Path(RegistrationPhoto.objects.get(registration=regs[0]).file.path)
    other_file = Path(RegistrationPhoto.objects.get(registration=untouched).file.path)
    assert photo_file.read_bytes() == PNG
    queue_before = list(
        Registration.objects.filter(round=round_)
        .order_by("queue_number")
        .values_list("queue_number", "status", "returned_recently")
    )

    out = StringIO()
    call_command("purge_personal_data", "--round", str(round_.pk), "--dry-run", stdout=out)
    assert "would purge 3 registration(s), 1 file(s)" in out.getvalue()
    assert Registration.objects.get(pk=regs[0].pk).name == "张三明"  # dry run wrote nothing
    assert photo_file.exists()

    out = StringIO()
    call_command("purge_personal_data", "--round", str(round_.pk), stdout=out)
    assert "purged 3 registration(s), 1 file(s) deleted" in out.getvalue()
    for reg in Registration.objects.filter(round=round_):
        assert reg.name == "" and reg.phone == "" and reg.returned_from == ""
        assert reg.returned_on is None and reg.personal_data_purged_at is not None
    assert Registration.objects.get(pk=regs[2].pk).void_reason == "other"  # the note went
    assert not photo_file.exists()
    assert not RegistrationPhoto.objects.filter(registration__round=round_).exists()
    sms = OutboxMessage.objects.filter(kind="sms").exclude(status="pending")
    assert not any("13812345678" in json.dumps(m.payload) for m in sms)
    void_audit = AuditLog.objects.get(action="registration.void")
    assert void_audit.note == "" and void_audit.redacted_at is not None
    # Kept: queue numbers, statuses, the returnee count, another round's data, the ledger.
    assert queue_before == list(
        Registration.objects.filter(round=round_)
        .order_by("queue_number")
        .values_list("queue_number", "status", "returned_recently")
    )
    untouched.refresh_from_db()
    assert untouched.name == "王五" and other_file.read_bytes() == PNG
    head_after, broken = _verify(round_, committee)
    assert broken is None and head_after == head_before
    call_command("verify_ledger", stdout=StringIO())  # exits non-zero on any broken link
    entry = AuditLog.objects.get(action="personal_data.purge", object_id=str(round_.pk))
    assert entry.after["files"] == 1 and entry.after["registrations"] == 3
    # Purging again finds nothing left (and the redacted audit rows are not touched again).
    out = StringIO()
    call_command("purge_personal_data", "--round", str(round_.pk), stdout=out)
    assert "purged 0 registration(s), 0 file(s) deleted" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_photo_page_upload_is_a_file_field_the_staff_view_serves(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    registration = registration_create_with_photo(
        round=RoundFactory(),
        household=HouseholdFactory(),
        name="张三明",
        phone="13812345678",
        photo=PNG,
    ).registration
    photo = RegistrationPhoto.objects.get()
    assert photo.path == photo.file.name and photo.path.startswith("photos/")
    assert Path(photo.file.path).is_relative_to(settings.PRIVATE_MEDIA_ROOT)
    assert Path(photo.file.path).stat().st_mode & 0o077 == 0  # owner-only
    staff = UserFactory(role="committee", committee=registration.committee)
    client = Client()
    client.force_login(staff)
    served = client.get(f"/r/photos/{registration.pk}/")
    assert served.status_code == 200 and b"".join(served.streaming_content) == PNG


@pytest.mark.django_db(transaction=True)
def test_audit_log_allows_one_redaction_and_nothing_else():
    entry = audit_record(actor=None, action="test.note", note="张三明 13812345678")
    rows = AuditLog.objects.filter(pk=entry.pk)
    refused = [
        lambda: rows.update(note="changed"),
        lambda: rows.update(action="other", note="", before=None, after=None),
        lambda: rows.update(note="", redacted_at=None),
        lambda: rows.update(note="x", before=None, after=None, redacted_at=timezone.now()),
        lambda: rows.delete(),
    ]
    for change in refused:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    assert audit_redact(rows) == 1
    entry.refresh_from_db()
    assert (entry.note, entry.before, entry.after, entry.action) == ("", None, None, "test.note")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows.update(redacted_at=timezone.now())  # a redacted row never changes again
    assert audit_redact(rows) == 0


@pytest.mark.django_db
def test_idempotency_fingerprint_is_keyed(settings):
    payload = {"name": "张三明", "phone": "13812345678", "room": "301"}
    idempotent_call(key="k", scope="s", payload=payload, call=lambda: (201, {"ok": True}))
    stored = IdempotencyRecord.objects.get().request_hash
    raw = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()
    assert stored not in {hashlib.sha256(raw).hexdigest(), hashlib.md5(raw).hexdigest()}
    settings.SECRET_KEY = "another-secret-key-of-at-least-32-chars"
    idempotent_call(key="k2", scope="s", payload=payload, call=lambda: (201, {"ok": True}))
    assert IdempotencyRecord.objects.get(key="k2").request_hash != stored


@pytest.mark.django_db
def test_sqlite_connections_have_secure_delete_on():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_purge_refuses_an_open_round_unless_forced():
    reg = RegistrationFactory(name="赵六")
    with pytest.raises(CommandError, match="still open"):
        call_command("purge_personal_data", "--round", str(reg.round_id))
    reg.refresh_from_db()
    assert reg.name == "赵六"
    call_command("purge_personal_data", "--round", str(reg.round_id), "--force", stdout=StringIO())
    reg.refresh_from_db()
    assert reg.name == ""
    with pytest.raises(CommandError, match="no round"):
        call_command("purge_personal_data", "--round", "999999")


@pytest.mark.django_db
def test_purge_due_takes_only_finished_rounds_past_the_delay(settings):
    settings.FAIRSHARE_PURGE_AFTER_DAYS = 30
    today = timezone.localdate()
    old = RegistrationFactory(name="旧轮")
    Round.objects.filter(pk=old.round_id).update(
        status=Round.Status.CLOSED,
        valid_from=today - timedelta(days=50),
        valid_until=today - timedelta(days=40),
    )
    recent = RegistrationFactory(name="新轮")
    Round.objects.filter(pk=recent.round_id).update(
        status=Round.Status.CLOSED,
        valid_from=today - timedelta(days=20),
        valid_until=today - timedelta(days=10),
    )
    still_open = RegistrationFactory(name="开放")
    Round.objects.filter(pk=still_open.round_id).update(
        valid_from=today - timedelta(days=50), valid_until=today - timedelta(days=40)
    )
    out = StringIO()
    call_command("purge_due", stdout=out)
    assert f"round {old.round_id}: purged 1" in out.getvalue()
    for reg, name in ((old, ""), (recent, "新轮"), (still_open, "开放")):
        reg.refresh_from_db()
        assert reg.name == name
    out = StringIO()
    call_command("purge_due", stdout=out)  # already purged: nothing to do
    assert "no finished round" in out.getvalue()
