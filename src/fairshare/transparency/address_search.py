"""Find your place: an address as residents say it (street, 弄, building) → the committee
and building whose registration form to open.

``图们路61弄12号``, ``61弄12号301室``, ``控江路1200弄``, ``控江路１２００弄１２号`` all
work: the text is folded (full-width → ASCII) and the building part goes through the roster
import's ``building_label`` (the one normaliser for buildings as residents say them).
Three indexed queries at most, whatever the number of buildings: the buildings of the
compound(s), the covering open rounds, nothing per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Q

from fairshare.accounts.roster.text import building_label, compact
from fairshare.community.models import Building
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_covers_committee

MAX_RESULTS = 20
# "<street>?<lane>弄<building>?<room>?"; the building part may carry 号/栋/幢/号楼.
_WITH_LANE = re.compile(
    r"^(?P<street>.*?)(?P<lane>\d+[A-Z]?弄)(?P<building>\d+[A-Z]?(?:号楼|号|栋|幢)?)?"
    r"(?:(?P<room>\d+)室?)?$"
)
# "<street>" alone, or "<street><building>号": compounds named after the street only.
_STREET_ONLY = re.compile(r"^(?P<street>\D+?)(?P<building>\d+[A-Z]?(?:号楼|号|栋|幢))?$")


@dataclass(frozen=True)
class Place:
    """One match: a building (``building_id`` set) or a whole compound, with the open
    rounds covering its committee."""

    committee_code: str
    committee_name: str
    compound: str
    label: str
    building_id: int | None
    rounds: tuple[tuple[int, str], ...] = ()


@dataclass
class SearchResult:
    query: str
    places: list[Place] = field(default_factory=list)
    understood: bool = True
    truncated: bool = False

    def single_target(self) -> tuple[int, str, int | None] | None:
        """(round id, committee code, building id or None) when one place in one round."""
        if len(self.places) != 1 or len(self.places[0].rounds) != 1:
            return None
        place = self.places[0]
        return place.rounds[0][0], place.committee_code, place.building_id


def _parse(query: str) -> tuple[str, str, str] | None:
    """(street, lane, building label) from the folded query; None when not an address."""
    text = re.sub(r"(\d)[-#](\d)", r"\1号\2", compact(query).upper())  # 12-301 → 12号301
    match = _WITH_LANE.match(text)
    if match:
        label = building_label(match["building"]) if match["building"] else ""
        return match["street"], match["lane"], label
    match = _STREET_ONLY.match(text)
    if match and match["street"]:
        label = building_label(match["building"]) if match["building"] else ""
        return match["street"], "", label
    return None


def _compound_q(street: str, lane: str) -> Q:
    if street and lane:
        return Q(compound=f"{street}{lane}")
    if lane:
        return Q(compound__endswith=lane)
    return Q(compound__startswith=street)


def _lane_fits(compound: str, lane: str) -> bool:
    """``61弄`` must not match ``161弄``."""
    if not lane:
        return True
    head = compound[: -len(lane)]
    return not head or not head[-1].isdigit()


def address_search(*, query: str) -> SearchResult:
    """The buildings (or compounds) matching ``query``, with the open rounds covering them."""
    result = SearchResult(query=query)
    parsed = _parse(query)
    if parsed is None:
        result.understood = False
        return result
    street, lane, label = parsed
    buildings = Building.objects.filter(_compound_q(street, lane))
    if label:
        # A committee with several compounds may label its buildings "61弄12号".
        buildings = buildings.filter(
            Q(label=label) | Q(label=f"{lane}{label}") if lane else Q(label=label)
        )
    rows = list(
        buildings.order_by("compound", "committee__code", "sort_order", "label").values(
            "id",
            "compound",
            "label",
            "committee__code",
            "committee__name",
            "committee__subdistrict_id",
            "committee__subdistrict__district_id",
        )[: MAX_RESULTS * 50]
    )
    rows = [r for r in rows if _lane_fits(r["compound"], lane)]
    if not rows:
        return result
    open_rounds = list(
        Round.objects.filter(status=Round.Status.OPEN).order_by("registration_opens_at", "pk")
    )
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["committee__code"], row["compound"] if not label else str(row["id"]))
        if key in seen:
            continue
        seen.add(key)
        rounds = tuple(
            (r.pk, r.name)
            for r in open_rounds
            if round_covers_committee(
                r,
                subdistrict_id=row["committee__subdistrict_id"],
                district_id=row["committee__subdistrict__district_id"],
            )
        )
        result.places.append(
            Place(
                committee_code=row["committee__code"],
                committee_name=row["committee__name"],
                compound=row["compound"],
                label=row["label"] if label else "",
                building_id=row["id"] if label else None,
                rounds=rounds,
            )
        )
        if len(result.places) >= MAX_RESULTS:
            result.truncated = True
            break
    return result
