"""purge_personal_data: names, phones and photos go; counts, queue and ledger stay verifiable."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.utils import timezone

from fairshare.core.models import AuditLog, OutboxMessage
from fairshare.registration import ledger
from fairshare.registration.models import LedgerEntry, Registration
from fairshare.registration.selectors import registered_payload_for
from fairshare.rounds.models import Round
from tests.factories import HouseholdFactory, RegistrationFactory, RoundFactory


def _chain(round_, committee, registrations) -> None:
    prev = ledger.GENESIS
    for seq, reg in enumerate(registrations, start=1):
        # The same payload the registration service writes.
        payload = ledger.canonical(registered_payload_for(reg, seq=seq))
        digest = ledger.link_hash(prev, payload)
        LedgerEntry.objects.create(
            round=round_,
            committee=committee,
            seq=seq,
            kind="registered",
            registration=reg,
            payload=payload,
            prev_hash=prev,
            hash=digest,
        )
        prev = digest


def _verify(round_, committee):
    links = LedgerEntry.objects.filter(round=round_, committee=committee).order_by("seq")
    return ledger.verify_chain(links.values("seq", "payload", "prev_hash", "hash"))


@pytest.fixture
def photo_model(tmp_path):
    """A photo model in the registration app, as the registration engineer may add one:
    the purge must find its FileField through _meta without knowing the model."""
    storage = FileSystemStorage(location=tmp_path)

    class IdPhotoForTest(models.Model):  # noqa: DJ008
        registration = models.ForeignKey(Registration, on_delete=models.CASCADE)
        image = models.FileField(storage=storage, upload_to="photos/")

        class Meta:
            app_label = "registration"

    with connection.schema_editor() as editor:
        editor.create_model(IdPhotoForTest)
    yield IdPhotoForTest
    with connection.schema_editor() as editor:
        editor.delete_model(IdPhotoForTest)
    del apps.all_models["registration"]["idphotofortest"]
    apps.clear_cache()


@pytest.fixture
def closed_round_with_data(photo_model, tmp_path):
    household = HouseholdFactory()
    committee = household.committee
    round_ = RoundFactory(district=committee.subdistrict.district)
    regs = [
        RegistrationFactory(
            household=household,
            round=round_,
            name="张三明",
            phone="13812345678",
            returned_recently=True,
            returned_from="武汉",
            returned_on=timezone.localdate(),
        )
    ]
    for _ in range(2):
        regs.append(
            RegistrationFactory(
                household=HouseholdFactory(building__committee=committee),
                round=round_,
                name="李四",
                phone="13987654321",
            )
        )
    other_round = RoundFactory(district=committee.subdistrict.district)
    untouched = RegistrationFactory(household=household, round=other_round, name="王五")
    photo = photo_model(registration=regs[0])
    photo.image.save("id.jpg", ContentFile(b"\xff\xd8fake-jpeg"), save=True)
    other_photo = photo_model(registration=untouched)
    other_photo.image.save("other.jpg", ContentFile(b"\xff\xd8other"), save=True)
    _chain(round_, committee, regs)
    sent = OutboxMessage.objects.create(
        kind="sms",
        payload={"phone": "13812345678", "text": "排队号1"},
        household=household,
        status="sent",
    )
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.CLOSED)
    round_.refresh_from_db()
    return round_, committee, regs, photo, other_photo, untouched, sent


@pytest.mark.django_db(transaction=True)
def test_purge_clears_names_phones_photos_and_ledger_still_verifies(closed_round_with_data):
    round_, committee, regs, photo, other_photo, untouched, sent = closed_round_with_data
    head_before, broken = _verify(round_, committee)
    assert broken is None
    call_command("verify_ledger", stdout=StringIO())  # exits non-zero on any broken link
    photo_path = photo.image.path
    queue_before = list(
        Registration.objects.filter(round=round_)
        .order_by("queue_number")
        .values_list("queue_number", "status", "returned_recently")
    )

    out = StringIO()
    call_command("purge_personal_data", "--round", str(round_.pk), "--dry-run", stdout=out)
    assert "would purge 3 registration(s), 1 file(s)" in out.getvalue()
    assert Registration.objects.get(pk=regs[0].pk).name == "张三明"  # dry run wrote nothing

    call_command("purge_personal_data", "--round", str(round_.pk), stdout=out)
    for reg in Registration.objects.filter(round=round_):
        assert reg.name == "" and reg.phone == "" and reg.returned_from == ""
        assert reg.returned_on is None and reg.personal_data_purged_at is not None
    photo.refresh_from_db()
    assert photo.image.name == ""
    sent.refresh_from_db()
    assert "13812345678" not in str(sent.payload)
    import os

    assert not os.path.exists(photo_path)
    # Kept: queue numbers, statuses, the returnee count, another round's data, the ledger.
    assert queue_before == list(
        Registration.objects.filter(round=round_)
        .order_by("queue_number")
        .values_list("queue_number", "status", "returned_recently")
    )
    untouched.refresh_from_db()
    other_photo.refresh_from_db()
    assert untouched.name == "王五" and os.path.exists(other_photo.image.path)
    head_after, broken = _verify(round_, committee)
    assert broken is None and head_after == head_before
    # The operators' command still verifies every chain, links against stored rows too.
    call_command("verify_ledger", stdout=StringIO())
    assert AuditLog.objects.filter(action="personal_data.purge", object_id=str(round_.pk)).exists()


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
