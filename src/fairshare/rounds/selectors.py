"""Reads of rounds."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fairshare.core.errors import NotFound
from fairshare.core.fastsql import select_models
from fairshare.rounds.models import Round

MAX_ID = 2**63 - 1  # bigint; a larger id is no round (and would overflow the driver)


def round_get(*, round_id: int | str) -> Round:
    """The round with this id; ``NotFound`` "unknown_round" for an unknown, malformed or
    out-of-range id. One statement without ORM compilation (registration's hot path)."""
    try:
        pk = int(round_id)
    except (TypeError, ValueError):
        pk = 0
    found = select_models(Round, "id = %s", [pk]) if 0 < pk <= MAX_ID else []
    if not found:
        raise NotFound(_("Unknown round."), code="unknown_round")
    return found[0]


# --- which committees a round covers: the one rule ---------------------------------
# A round covers the committees of its subdistrict when it has one, else every committee
# of its district. Every list of a round's committees (registration, allocation,
# carry-over, the boards) filters through ``round_committees_q``; code holding a
# committee and its subdistrict already asks ``round_covers_committee`` (same rule,
# without a query); rounds offered to a committee come from ``rounds_covering_q``.


def round_committees_q(round: Round, committee_path: str = "") -> Q:
    """A Q limiting Committee rows (through ``committee_path``; "" for Committee itself)
    to the committees the round covers."""
    prefix = f"{committee_path}__" if committee_path else ""
    if round.subdistrict_id is not None:
        return Q(**{f"{prefix}subdistrict_id": round.subdistrict_id})
    return Q(**{f"{prefix}subdistrict__district_id": round.district_id})


def round_covers_committee(round: Round, *, subdistrict_id: int, district_id: int) -> bool:
    """Whether the round covers a committee of this subdistrict (in this district)."""
    if round.subdistrict_id is not None:
        return round.subdistrict_id == subdistrict_id
    return round.district_id == district_id


def rounds_covering_q(*, subdistrict_id: int, district_id: int) -> Q:
    """A Q limiting Round rows to those covering the committees of this subdistrict."""
    return Q(district_id=district_id) & (
        Q(subdistrict__isnull=True) | Q(subdistrict_id=subdistrict_id)
    )
