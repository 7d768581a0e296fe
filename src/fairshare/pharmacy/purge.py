"""The pharmacy's step of the personal-data purge (registered in ``apps.py``; the purge
itself is in ``accounts/purge.py``): the names of the people who received the packs of
the round's vouchers (hand-overs and deliveries), the resolution notes of their
redemption conflicts (free text), and the audit data of the round's vouchers. The
hand-over's kind and time, the conflicts and the redemptions stay (counts, accounting).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from fairshare.accounts.purge import PurgeResult, audit_redact
from fairshare.allocation.models import Voucher
from fairshare.core.models import AuditLog
from fairshare.pharmacy.models import Handover, RedemptionConflict
from fairshare.rounds.models import Round


def pharmacy_personal_data_purge(*, round: Round, dry_run: bool, result: PurgeResult) -> None:
    """Count, and unless ``dry_run`` clear, the round's pharmacy personal data."""
    handovers = Handover.objects.filter(voucher__round=round).exclude(recipient_name="")
    conflicts = RedemptionConflict.objects.filter(voucher__round=round).exclude(resolution_note="")
    if dry_run:
        result.count("hand-over names", handovers.count())
        result.count("conflict notes", conflicts.count())
        return
    result.count("hand-over names", handovers.update(recipient_name=""))
    result.count("conflict notes", conflicts.update(resolution_note=""))
    vouchers = Voucher.objects.filter(round=round).values_list("pk", flat=True)
    voucher_audit = AuditLog.objects.filter(
        object_type=Voucher._meta.label_lower, object_id__in=[str(pk) for pk in vouchers]
    )
    result.count("audit entries redacted", audit_redact(voucher_audit))


def rounds_with_pharmacy_personal_data() -> QuerySet[Any]:
    """Ids of the rounds with a hand-over name or a conflict note left."""
    return Voucher.objects.filter(
        (Q(handover__isnull=False) & ~Q(handover__recipient_name=""))
        | (Q(redemption_conflicts__isnull=False) & ~Q(redemption_conflicts__resolution_note=""))
    ).values("round_id")
