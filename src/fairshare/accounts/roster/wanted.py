"""The state a valid file asks for (built by ``plan``, written by ``apply``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

from fairshare.community.models import Subdistrict

# A subdistrict the file names: an existing row, or the code/name of one to create.
SubdistrictRef = Subdistrict | str


@dataclass
class PharmacyWant:
    code: str
    name: str
    address: str
    hours: tuple[time, time] | None
    capacity: int | None
    committees: list[str]
    row: int
    subdistrict: SubdistrictRef | None = None


@dataclass
class CommitteeWant:
    code: str
    subdistrict: SubdistrictRef | None = None
    name: str | None = None
    phone: str | None = None
    desk_hours: str | None = None
    address: str | None = None
    pharmacy: str | None = None  # the code of the pharmacy the file maps it to
    row: int | None = None  # its row in the committees sheet


MemberTuple = tuple[str, str, str, bool, bool]  # name, id_hash, phone, lives_alone, impaired


@dataclass
class HouseholdWant:
    committee: str  # code
    building: str  # normalised label
    room: str
    external_id: str
    members: list[MemberTuple] = field(default_factory=list)
    row: int = 0


@dataclass
class StaffWant:
    username: str
    role: str
    scope: str  # committee or pharmacy code, or the subdistrict's code
    expires_at: datetime | None
    row: int


@dataclass
class Wanted:
    district_name: str | None
    subdistricts: dict[str, SubdistrictRef] = field(default_factory=dict)  # text → ref
    committees: dict[str, CommitteeWant] = field(default_factory=dict)
    pharmacies: dict[str, PharmacyWant] = field(default_factory=dict)
    buildings: dict[tuple[str, str], str | None] = field(default_factory=dict)  # → compound
    households: list[HouseholdWant] = field(default_factory=list)
    staff: list[StaffWant] = field(default_factory=list)

    def new_subdistricts(self) -> list[str]:
        return sorted({ref for ref in self.subdistricts.values() if isinstance(ref, str)})
