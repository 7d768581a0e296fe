"""Registration's step of the personal-data purge (registered in ``apps.py``; the purge
itself, its transaction and audit entry are in ``accounts/purge.py``).

Every uploaded file (any FileField/ImageField of a model of the registration app,
discovered through ``_meta`` so photo models added later are covered) linked to the
round's registrations is listed for deletion, and the registrations' names, phones and
returnee details are cleared, as are the phone numbers of the SMS sent to the round's
households during the round.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from fairshare.accounts.purge import PurgeResult
from fairshare.core.models import OutboxMessage
from fairshare.registration.models import Registration
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


def registration_personal_data_purge(*, round: Round, dry_run: bool, result: PurgeResult) -> None:
    """Count, and unless ``dry_run`` clear, the round's registration personal data."""
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
    regs = Registration.objects.filter(round=round)
    pending = regs.exclude(name="", phone="", returned_from="", returned_on__isnull=True)
    result.registrations = pending.count()
    if dry_run:
        return
    regs.update(name="", phone="", returned_from="", returned_on=None)
    result.messages = _outbox_purge(round)
    regs.filter(personal_data_purged_at__isnull=True).update(personal_data_purged_at=timezone.now())


def rounds_with_personal_data() -> QuerySet[Any]:
    """Ids of the rounds with registrations not purged yet."""
    return Registration.objects.filter(personal_data_purged_at__isnull=True).values("round_id")
