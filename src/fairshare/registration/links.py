"""A registration's own link in the public chain: the "registered" link that put it in line.

A resident can look for it in any later posting (the export of the committee's list):
the slip, the status page and the confirmation SMS give its sequence number and hash
(the SMS the hash's first ``SMS_HASH_CHARS`` characters, within the providers' limits).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fairshare.registration.models import LedgerEntry, Registration

SMS_HASH_CHARS = 12


@dataclass(frozen=True)
class OwnLink:
    seq: int
    hash: str

    @property
    def short_hash(self) -> str:
        return self.hash[:SMS_HASH_CHARS]


def own_link_variables(entry: LedgerEntry) -> dict[str, str]:
    """The "registration" SMS's ``seq`` and ``hash`` (first 12 characters) of its link."""
    return {"seq": str(entry.seq), "hash": entry.hash[:SMS_HASH_CHARS]}


def registered_link(registration: Registration) -> OwnLink | None:
    """The registration's "registered" link (None only for a row written without one)."""
    row = (
        LedgerEntry.objects.filter(registration=registration, kind=LedgerEntry.Kind.REGISTERED)
        .order_by("seq")
        .values_list("seq", "hash")
        .first()
    )
    return OwnLink(*row) if row else None


def registered_links(registration_ids: Iterable[int]) -> dict[int, OwnLink]:
    """registration id → its "registered" link, for many registrations in one query."""
    rows = LedgerEntry.objects.filter(
        registration_id__in=list(registration_ids), kind=LedgerEntry.Kind.REGISTERED
    ).values_list("registration_id", "seq", "hash")
    return {reg: OwnLink(seq, h) for reg, seq, h in rows if reg is not None}
