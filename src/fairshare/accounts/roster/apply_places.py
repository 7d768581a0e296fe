"""Districts, subdistricts, pharmacies, committees and buildings: compared with the
database (counts for the dry run) and written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model

from fairshare.accounts.roster.context import Context, sub_key
from fairshare.accounts.roster.wanted import Wanted
from fairshare.community.models import Building, Committee, District, Pharmacy, Subdistrict

BATCH = 2000


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class Ids:
    """Primary keys by code, filled as rows are written (new rows get theirs then)."""

    subdistricts: dict[str, int] = field(default_factory=dict)  # sub_key → id
    committees: dict[str, int] = field(default_factory=dict)
    pharmacies: dict[str, int] = field(default_factory=dict)
    buildings: dict[tuple[str, str], int] = field(default_factory=dict)


def _changes(obj: Model, values: dict[str, Any]) -> list[str]:
    """Set the fields whose wanted value (None: keep) differs; the changed field names."""
    changed = []
    for name, value in values.items():
        if value is not None and getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def write_subdistricts(ctx: Context, wanted: Wanted, ids: Ids, *, write: bool) -> Tally:
    tally = Tally()
    for ref in {sub_key(r): r for r in wanted.subdistricts.values()}.values():
        if isinstance(ref, Subdistrict):
            ids.subdistricts[sub_key(ref)] = ref.pk
            continue
        tally.created += 1
        if write:
            name = ctx.district_name or ""
            district = (
                District.objects.filter(name=name).first()
                or District.objects.filter(code=name).first()
                or District.objects.create(code=name[:16], name=name[:64])
            )
            sub = Subdistrict.objects.create(district=district, code=ref, name=ref)
            ids.subdistricts[sub_key(ref)] = sub.pk
    return tally


def write_pharmacies(ctx: Context, wanted: Wanted, ids: Ids, *, write: bool) -> Tally:
    tally = Tally()
    for code, want in wanted.pharmacies.items():
        opens, closes = want.hours if want.hours else (None, None)
        values = {
            "name": want.name,
            "address": want.address,
            "opens_at": opens,
            "closes_at": closes,
            "customers_per_slot": want.capacity,
        }
        existing = ctx.pharmacies.get(code)
        if existing is None:
            tally.created += 1
            if write:
                assert want.subdistrict is not None
                obj = Pharmacy(
                    code=code,
                    subdistrict_id=ids.subdistricts[sub_key(want.subdistrict)],
                    **{k: v for k, v in values.items() if v is not None},
                )
                obj.save()
                ids.pharmacies[code] = obj.pk
            continue
        ids.pharmacies[code] = existing.pk
        changed = _changes(existing, values)
        if changed:
            tally.updated += 1
            if write:
                existing.save(update_fields=changed)
        else:
            tally.unchanged += 1
    for code, pharmacy in ctx.pharmacies.items():
        ids.pharmacies.setdefault(code, pharmacy.pk)
    return tally


def write_committees(ctx: Context, wanted: Wanted, ids: Ids, *, write: bool) -> Tally:
    tally = Tally()
    for code, want in wanted.committees.items():
        pharmacy_id = ids.pharmacies.get(want.pharmacy) if want.pharmacy else None
        values = {
            "name": want.name,
            "phone": want.phone,
            "desk_hours": want.desk_hours,
            "address": want.address,
        }
        existing = ctx.committees.get(code)
        if existing is None:
            tally.created += 1
            if write:
                assert want.subdistrict is not None and pharmacy_id is not None  # planned
                obj = Committee.objects.create(
                    code=code,
                    subdistrict_id=ids.subdistricts[sub_key(want.subdistrict)],
                    pharmacy_id=pharmacy_id,
                    **{k: v for k, v in values.items() if v is not None},
                )
                ids.committees[code] = obj.pk
            continue
        ids.committees[code] = existing.pk
        changed = _changes(existing, values)
        if want.pharmacy and existing.pharmacy.code != want.pharmacy:
            changed.append("pharmacy")
            if write:
                existing.pharmacy_id = ids.pharmacies[want.pharmacy]
        if changed:
            tally.updated += 1
            if write:
                existing.save(update_fields=changed)
        else:
            tally.unchanged += 1
    return tally


def write_buildings(ctx: Context, wanted: Wanted, ids: Ids, *, write: bool) -> int:
    """New buildings and changed addresses (compounds); returns how many were created."""
    committee_ids = [c.pk for code, c in ctx.committees.items() if code in wanted.committees]
    existing = {
        (b.committee.code, b.label): b
        for b in Building.objects.filter(committee_id__in=committee_ids).select_related("committee")
    }
    new, changed = [], []
    for key, compound in wanted.buildings.items():
        building = existing.get(key)
        if building is None:
            new.append((key, compound))
        elif compound is not None and building.compound != compound:
            building.compound = compound
            changed.append(building)
        if building is not None:
            ids.buildings[key] = building.pk
    if write:
        Building.objects.bulk_update(changed, ["compound"], batch_size=BATCH)
        rows = [
            Building(
                committee_id=ids.committees[code],
                label=label,
                compound=compound or "",
                sort_order=_sort_order(label),
            )
            for (code, label), compound in new
        ]
        code_of = {pk: code for code, pk in ids.committees.items()}
        for building in Building.objects.bulk_create(rows, batch_size=BATCH):
            ids.buildings[(code_of[building.committee_id], building.label)] = building.pk
    return len(new)


def _sort_order(label: str) -> int:
    digits = "".join(ch for ch in label.split("弄")[-1] if ch.isdigit())
    return int(digits[:6]) if digits else 0
