"""The allocation page's preview and confirmation (issue 15).

The page first runs the engine's dry run and shows, per committee, the vouchers that
would be issued, the registrations held for review and the SMS that would be sent, and
per pharmacy the packs that would stay unused. Its figures travel in a signed token with
the confirmation; confirming runs the dry run again and only runs the allocation when
the figures are still the same. Otherwise the page shows the new preview with what
changed, and staff confirm again. The token proves what the staff member saw, not a
right: the run itself checks the caller's permission again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core import signing

from fairshare.allocation.results import AllocationResult
from fairshare.core.phones import has_mobile
from fairshare.registration.models import Registration

SALT = "fairshare.allocation.preview.v1"
MAX_AGE = 30 * 60  # a preview older than this is previewed again
_CHUNK = 5000


@dataclass(frozen=True)
class Change:
    """One figure that moved between the preview staff saw and the current one."""

    where: str  # committee or pharmacy code
    figure: str  # "issued", "held_for_review", "sms" or "packs_unused"
    before: int
    now: int


def _sms_counts(registration_ids: list[int]) -> dict[int, int]:
    """Per committee id, how many of these registrations have a mobile to text."""
    counts: dict[int, int] = {}
    for start in range(0, len(registration_ids), _CHUNK):
        rows = (
            Registration.objects.filter(id__in=registration_ids[start : start + _CHUNK])
            .exclude(phone="")
            .values_list("committee_id", "phone")
        )
        for committee_id, phone in rows:
            if has_mobile(phone):  # a landline is told by hand, not texted
                counts[committee_id] = counts.get(committee_id, 0) + 1
    return counts


def preview_rows(result: AllocationResult) -> list[dict[str, Any]]:
    """The dry run's rows per committee, each with the SMS it would send (``sms``)."""
    ids_by_code: dict[str, int] = {}
    registration_ids = []
    for voucher in result.vouchers:
        ids_by_code[voucher.committee_code] = voucher.committee_id
        registration_ids.append(voucher.registration_id)
    sms = _sms_counts(registration_ids)
    rows = []
    for row in result.by_committee:
        committee_id = ids_by_code.get(row["committee"])
        rows.append({**row, "sms": sms.get(committee_id, 0) if committee_id else 0})
    return rows


def figures_of(result: AllocationResult, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What the staff member sees and confirms: the run's scope and its figures."""
    return {
        "round": result.round.pk,
        "date": result.date.isoformat(),
        "committees": {
            r["committee"]: [r["issued"], r.get("held_for_review", 0), r["sms"]] for r in rows
        },
        "pharmacies": {p.pharmacy.code: result.packs_unused_at(p) for p in result.pharmacies},
    }


def preview_token(figures: dict[str, Any], *, user_id: int, pharmacy: str) -> str:
    return signing.dumps({"f": figures, "u": user_id, "p": pharmacy}, salt=SALT, compress=True)


def preview_seen(token: str, *, user_id: int, pharmacy: str) -> dict[str, Any] | None:
    """The figures a token carries, if it is this user's, for this choice and recent."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("u") != user_id or data.get("p") != pharmacy:
        return None
    figures = data.get("f")
    return figures if isinstance(figures, dict) else None


_NAMES = ("issued", "held_for_review", "sms")


def preview_changes(seen: dict[str, Any], now: dict[str, Any]) -> list[Change]:
    """What moved from the figures seen to the current ones (empty: still current)."""
    changes: list[Change] = []
    if (seen.get("round"), seen.get("date")) != (now["round"], now["date"]):
        return [Change("", "scope", 0, 1)]
    before_c, now_c = seen.get("committees", {}), now["committees"]
    for code in sorted(set(before_c) | set(now_c)):
        old, new = before_c.get(code, [0, 0, 0]), now_c.get(code, [0, 0, 0])
        changes += [Change(code, n, o, v) for n, o, v in zip(_NAMES, old, new, strict=False)]
    before_p, now_p = seen.get("pharmacies", {}), now["pharmacies"]
    for code in sorted(set(before_p) | set(now_p)):
        changes.append(Change(code, "packs_unused", before_p.get(code, 0), now_p.get(code, 0)))
    return [c for c in changes if c.before != c.now]
