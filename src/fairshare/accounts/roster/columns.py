"""The sheets of the import and their columns, with the Chinese and English headers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

HOUSEHOLDS, COMMITTEES, PHARMACIES, STAFF = "households", "committees", "pharmacies", "staff"
KINDS = (HOUSEHOLDS, COMMITTEES, PHARMACIES, STAFF)


@dataclass(frozen=True)
class Column:
    key: str
    headers: tuple[str, ...]  # accepted spellings; the first is the Chinese, then English
    required: bool = False


SHEET_NAMES = {
    "住户": HOUSEHOLDS,
    "households": HOUSEHOLDS,
    "居委会": COMMITTEES,
    "committees": COMMITTEES,
    "药店": PHARMACIES,
    "pharmacies": PHARMACIES,
    "人员": STAFF,
    "staff": STAFF,
}

COLUMNS: dict[str, tuple[Column, ...]] = {
    HOUSEHOLDS: (
        Column("subdistrict", ("街道", "subdistrict")),
        Column("committee", ("居委会", "committee"), required=True),
        Column("building", ("楼栋", "楼号", "building"), required=True),
        Column("room", ("室号", "房号", "room"), required=True),
        Column("name", ("姓名", "name"), required=True),
        Column("id_number", ("证件号", "身份证号", "id_number")),
        Column("phone", ("手机", "手机号", "phone")),
        Column("lives_alone", ("独居", "lives_alone")),
        Column("mobility_impaired", ("行动不便", "mobility_impaired")),
        Column("address", ("地址", "address")),
        Column("household_id", ("户号", "household_id")),
    ),
    COMMITTEES: (
        Column("code", ("编码", "居委会编码", "code"), required=True),
        Column("name", ("名称", "name"), required=True),
        Column("phone", ("电话", "phone")),
        Column("desk_hours", ("办公时间", "desk_hours")),
        Column("address", ("地址", "address")),
    ),
    PHARMACIES: (
        Column("code", ("药店编码", "编码", "code"), required=True),
        Column("name", ("名称", "name"), required=True),
        Column("address", ("地址", "address"), required=True),
        Column("opening_hours", ("营业时间", "opening_hours")),
        Column("slot_capacity", ("每时段人数", "slot_capacity")),
        Column("committees", ("服务居委会", "committees"), required=True),
    ),
    STAFF: (
        Column("username", ("登录名", "username"), required=True),
        Column("role", ("角色", "role"), required=True),
        Column("scope", ("范围", "scope"), required=True),
        Column("expires", ("有效期至", "expires")),
    ),
}


def header_key(text: str) -> str:
    """How a header is compared: NFKC, case-folded, spaces/hyphens as underscores."""
    folded = unicodedata.normalize("NFKC", text or "").strip().casefold()
    return re.sub(r"[\s\-]+", "_", folded)


_LOOKUP = {
    kind: {header_key(h): col.key for col in cols for h in col.headers}
    for kind, cols in COLUMNS.items()
}


def column_for(kind: str, header: str) -> str | None:
    """The column key a header names in a sheet of ``kind``, or None."""
    return _LOOKUP[kind].get(header_key(header))


def required_keys(kind: str) -> list[str]:
    return [c.key for c in COLUMNS[kind] if c.required]


def display_header(kind: str, key: str) -> str:
    """The documented header of a column ("居委会/committee"), for messages."""
    col = next(c for c in COLUMNS[kind] if c.key == key)
    return f"{col.headers[0]}/{col.headers[-1]}"


def kind_of_headers(headers: list[str]) -> str | None:
    """The sheet kind a CSV file's headers belong to: every header known to the kind and
    all of its required columns present; None when no kind (or more than one) fits."""
    keys = [h for h in headers if h.strip()]
    fits = [
        kind
        for kind in KINDS
        if keys
        and all(column_for(kind, h) for h in keys)
        and set(required_keys(kind)) <= {column_for(kind, h) for h in keys}
    ]
    return fits[0] if len(fits) == 1 else None


def kind_of_sheet_name(name: str) -> str | None:
    return SHEET_NAMES.get(header_key(name))
