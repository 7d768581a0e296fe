"""Deleting the personal data of a finished round (PIPL: keep only what is needed).

``personal_data_purge`` deletes every uploaded file (any FileField/ImageField of a
model of the registration app, discovered through ``_meta`` so photo models added
later are covered) linked to the round's registrations, and clears the
registrations' names, phones and returnee details. Queue numbers, statuses,
vouchers, counts and the ledger (which holds masked names only) stay, so the public
board and its hash chain remain verifiable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fairshare.core.audit import audit_record
from fairshare.core.errors import Conflict
from fairshare.core.locking import write_transaction
from fairshare.core.models import OutboxMessage
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round

FINISHED = (Round.Status.CLOSED, Round.Status.ARCHIVED)


@dataclass
class PurgeResult:
    round_id: int
    registrations: int = 0
    files: list[str] = field(default_factory=list)
    dry_run: bool = False
    messages: int = 0


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


def _outbox_purge(round: Round) -> int:
    """Blank the phone numbers of delivered or failed SMS sent to the round's households
    during the round (from its opening to the day after its last purchase day)."""
    start = round.registration_opens_at
    end = timezone.make_aware(datetime.combine(round.valid_until + timedelta(days=2), time.min))
    household_ids = Registration.objects.filter(round=round).values("household_id")
    return (
        OutboxMessage.objects.filter(
            kind="sms", household_id__in=household_ids, created_at__gte=start, created_at__lt=end
        )
        .exclude(status=OutboxMessage.Status.PENDING)
        .update(payload={"purged": True})
    )


def personal_data_purge(
    *, round: Round, actor: Any = None, force: bool = False, dry_run: bool = False
) -> PurgeResult:
    """Purge the round's personal data (refused while the round is not finished)."""
    if round.status not in FINISHED and not force:
        raise Conflict(
            _("The round is still open; close it first (or force)."), code="round_not_closed"
        )
    result = PurgeResult(round_id=round.pk, dry_run=dry_run)
    regs = Registration.objects.filter(round=round)
    to_delete: list[tuple[Any, str]] = []
    with write_transaction():
        for model, names, path in _file_models():
            rows = model.objects.filter(**{path: round})
            for row in rows:
                for name in names:
                    file = getattr(row, name)
                    if file and file.name:
                        to_delete.append((file.storage, file.name))
                        result.files.append(file.name)
            if not dry_run:
                rows.update(**dict.fromkeys(names, ""))
        pending = regs.exclude(name="", phone="", returned_from="", returned_on__isnull=True)
        result.registrations = pending.count()
        if dry_run:
            return result
        regs.update(name="", phone="", returned_from="", returned_on=None)
        result.messages = _outbox_purge(round)
        regs.filter(personal_data_purged_at__isnull=True).update(
            personal_data_purged_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="personal_data.purge",
            obj=round,
            after={
                "registrations": result.registrations,
                "files": len(result.files),
                "messages": result.messages,
            },
            note="forced while open" if round.status not in FINISHED else "",
        )
    # Files go after the commit: a rolled-back purge must not lose photos.
    for storage, name in to_delete:
        storage.delete(name)
    return result


def rounds_due_for_purge(*, days: int | None = None, today=None) -> list[Round]:
    """Finished rounds whose last purchase day is more than ``days`` days ago."""
    days = settings.FAIRSHARE_PURGE_AFTER_DAYS if days is None else days
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=days)
    unpurged = Registration.objects.filter(
        round=OuterRef("pk"), personal_data_purged_at__isnull=True
    )
    rounds = Round.objects.filter(status__in=FINISHED, valid_until__lt=cutoff)
    return list(rounds.filter(Exists(unpurged)).order_by("id"))
