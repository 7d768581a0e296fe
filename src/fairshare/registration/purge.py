"""Registration's steps of the personal-data purge (registered in ``apps.py``; the purge
itself, its transaction and audit entry are in ``accounts/purge.py``).

``registration_personal_data_purge``: every uploaded file (any FileField/ImageField of a
model of the registration app, discovered through ``_meta`` so photo models added later
are covered) linked to the round's registrations is listed for deletion, the photo rows
are deleted, and the registrations' names, phones, returnee details and void notes are
cleared (the void reason's code stays: the ledger's "voided" link holds it).

``core_personal_data_purge``: the core records of the round's period that may hold a
name or phone (core must not know rounds, so this step lives here): the phone codes and
the SMS outbox payloads (the round's households' messages, and the SMS codes, which have
no household), the idempotency records (their stored answers and request fingerprints),
the audit entries of the round's registrations and every audit note of the period in the
round's district (free text), and the file SMS backend's log lines of the period.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from fairshare.accounts.purge import PurgeResult, audit_redact, round_period
from fairshare.core.idempotency import idempotency_purge
from fairshare.core.models import AuditLog, OutboxMessage
from fairshare.core.sms import sms_log_purge
from fairshare.registration.models import PhoneCode, Registration, RegistrationPhoto
from fairshare.rounds.models import Round


def _file_models() -> list[tuple[type[models.Model], list[str], str]]:
    """(model, file field names, lookup from the model to the Round) for registration models."""
    found = []
    for model in apps.get_app_config("registration").get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
        if not names:
            continue
        if model is Registration:
            path = "round"
        else:
            path = ""
            for f in model._meta.concrete_fields:
                if f.is_relation and f.related_model is Registration:
                    path = f"{f.name}__round"
                    break
                if f.is_relation and f.related_model is Round:
                    path = f.name
            if not path:
                raise RuntimeError(f"{model._meta.label} has files but no link to a round")
        found.append((model, names, path))
    return found


def _files_purge(round: Round, dry_run: bool, result: PurgeResult) -> None:
    for model, names, path in _file_models():
        rows = model._default_manager.filter(**{path: round})
        for row in rows:
            for name in names:
                file = getattr(row, name)
                if file and file.name:
                    result.deletions.append((file.storage, file.name))
                    result.files.append(file.name)
        if not dry_run:
            rows.update(**dict.fromkeys(names, ""))
    if not dry_run:
        # The photo rows go too: nothing in them is needed once the file is gone.
        deleted, _ = RegistrationPhoto.objects.filter(registration__round=round).delete()
        result.count("photo rows", deleted)


def _void_notes_purge(regs: QuerySet[Registration]) -> None:
    """``void_reason`` is "code: note"; the free-text note goes, the code stays."""
    for pk, reason in regs.filter(void_reason__contains=":").values_list("pk", "void_reason"):
        Registration.objects.filter(pk=pk).update(void_reason=reason.split(":", 1)[0].strip())


def registration_personal_data_purge(*, round: Round, dry_run: bool, result: PurgeResult) -> None:
    """Count, and unless ``dry_run`` clear, the round's registration personal data."""
    _files_purge(round, dry_run, result)
    regs = Registration.objects.filter(round=round)
    pending = regs.filter(
        ~Q(name="")
        | ~Q(phone="")
        | ~Q(returned_from="")
        | Q(returned_on__isnull=False)
        | Q(void_reason__contains=":")
    )
    result.registrations = pending.count()
    if dry_run:
        return
    regs.update(name="", phone="", returned_from="", returned_on=None)
    _void_notes_purge(regs)
    regs.filter(personal_data_purged_at__isnull=True).update(personal_data_purged_at=timezone.now())


def _outbox_purge(round: Round, start: datetime, end: datetime) -> int:
    """Blank the payloads of the SMS of the round's period: those to the round's
    households, and those without a household (the SMS codes). One still waiting to be
    sent is given up (a message about a purged round is stale): failed, "purged"."""
    household_ids = Registration.objects.filter(round=round).values("household_id")
    messages = (
        OutboxMessage.objects.filter(kind="sms", created_at__gte=start, created_at__lt=end)
        .filter(Q(household_id__in=household_ids) | Q(household__isnull=True))
        .exclude(payload={"purged": True})
    )
    pending = messages.filter(status=OutboxMessage.Status.PENDING).update(
        payload={"purged": True}, status=OutboxMessage.Status.FAILED, last_error="purged"
    )
    return pending + messages.update(payload={"purged": True}, last_error="")


def _audit_purge(round: Round, start: datetime, end: datetime, personal: set[str]) -> int:
    """Redact the audit entries of the round's registrations, every entry of the period
    with a note (free text) in the round's district or without a scope, and every entry
    of the period whose data holds one of the round's names or phones."""
    registration_ids = Registration.objects.filter(round=round).values_list("pk", flat=True)
    district = round.district_id
    in_period = AuditLog.objects.filter(at__gte=start, at__lt=end, redacted_at__isnull=True)
    scoped = (
        Q(subdistrict__district_id=district)
        | Q(committee__subdistrict__district_id=district)
        | Q(pharmacy__subdistrict__district_id=district)
        | Q(subdistrict__isnull=True, committee__isnull=True, pharmacy__isnull=True)
    )
    ids = set(in_period.filter(scoped).exclude(note="").values_list("pk", flat=True))
    for pk, before, after in in_period.exclude(before=None, after=None).values_list(
        "pk", "before", "after"
    ):
        text = json.dumps([before, after], ensure_ascii=False)
        if any(value in text for value in personal):
            ids.add(pk)
    rows = AuditLog.objects.filter(
        Q(pk__in=ids)
        | Q(
            object_type=Registration._meta.label_lower,
            object_id__in=[str(pk) for pk in registration_ids],
        )
    )
    return audit_redact(rows)


def _personal_values(round: Round) -> set[str]:
    """The round's names and phones (read before the registration step clears them)."""
    values: set[str] = set()
    for name, phone in Registration.objects.filter(round=round).values_list("name", "phone"):
        values.update(v for v in (name, phone, phone[-8:]) if len(v) >= 2)
    return values


def core_personal_data_purge(*, round: Round, dry_run: bool, result: PurgeResult) -> None:
    """Clear the core records of the round's period (see the module's docstring)."""
    if dry_run:
        return
    start, end = round_period(round)
    personal = _personal_values(round)
    deleted, _ = PhoneCode.objects.filter(created_at__gte=start, created_at__lt=end).delete()
    result.count("phone codes", deleted)
    result.messages = _outbox_purge(round, start, end)
    result.count("idempotency records", idempotency_purge(start=start, end=end))
    result.count("audit entries redacted", _audit_purge(round, start, end, personal))
    result.after_commit.append(partial(sms_log_purge, start=start, end=end))


def rounds_with_personal_data() -> QuerySet[Any]:
    """Ids of the rounds with registrations not purged yet."""
    return Registration.objects.filter(personal_data_purged_at__isnull=True).values("round_id")
