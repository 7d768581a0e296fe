"""Files → sheets of text cells. XLSX through openpyxl (read-only), CSV through the csv
module (UTF-8 with or without BOM, or GB18030 as Chinese Excel writes it)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import IO

from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from fairshare.accounts.roster.columns import (
    column_for,
    display_header,
    kind_of_headers,
    kind_of_sheet_name,
    required_keys,
)
from fairshare.accounts.roster.errors import ErrorList
from fairshare.accounts.roster.text import cell_text

Row = tuple[int, dict[str, str]]


@dataclass
class Sheet:
    kind: str
    name: str  # the sheet's name in the workbook, or the CSV file's name
    headers: dict[str, str] = field(default_factory=dict)  # column key → header as written
    rows: list[Row] = field(default_factory=list)

    def header(self, key: str) -> str:
        return self.headers.get(key) or display_header(self.kind, key)


def _decode(data: bytes) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _map_headers(kind: str, name: str, raw: list[str], errors: ErrorList) -> dict[int, str]:
    """Column index → key; errors for unknown, repeated and missing required columns."""
    by_index: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, header in enumerate(raw):
        if not header.strip():
            continue
        key = column_for(kind, header)
        if key is None:
            errors.add(name, 1, header, _("Unknown column."))
        elif key in seen:
            errors.add(name, 1, header, _("This column appears twice."))
        else:
            seen[key] = header.strip()
            by_index[index] = key
    for key in required_keys(kind):
        if key not in seen:
            errors.add(name, 1, display_header(kind, key), _("This column is missing."))
    return by_index


def _sheet_rows(
    sheet: Sheet, columns: dict[int, str], rows: Iterable[tuple[int, list[str]]]
) -> None:
    """Rows as {column key: stripped text}; blank rows left out. A row shorter than the
    header lacks the keys of its missing cells (callers read cells with ``.get``)."""
    index = sorted(columns)
    keys = [columns[i] for i in index]
    width = index[-1] + 1 if index else 0
    getter = itemgetter(*index) if len(index) > 1 else (lambda v: tuple(v[i] for i in index))
    strip, append = str.strip, sheet.rows.append
    for number, values in rows:
        if len(values) >= width:
            texts = tuple(map(strip, getter(values)))
            if any(texts):
                append((number, dict(zip(keys, texts, strict=True))))
            continue
        cells = {key: values[i].strip() for i, key in columns.items() if i < len(values)}
        if any(cells.values()):
            append((number, cells))


def read_csv(name: str, data: bytes, errors: ErrorList) -> Sheet | None:
    text = _decode(data)
    if text is None:
        errors.add(name, None, "", _("The file is neither UTF-8 nor GB18030 text."))
        return None
    lines = csv.reader(io.StringIO(text, newline=""))
    header = next(lines, [])
    kind = kind_of_headers(header)
    if kind is None:
        errors.add(name, 1, "", _("The headers do not match any sheet of the format."))
        return None
    sheet = Sheet(kind, name)
    columns = _map_headers(kind, name, header, errors)
    sheet.headers = {key: header[i].strip() for i, key in columns.items()}
    _sheet_rows(sheet, columns, enumerate(lines, start=2))
    return sheet


def _xlsx_rows(ws: object, name: str, errors: ErrorList) -> Iterator[tuple[int, list[str]]]:
    for cells in ws.iter_rows():  # type: ignore[attr-defined]
        values = []
        number = 0
        for cell in cells:
            number = getattr(cell, "row", None) or number
            if getattr(cell, "data_type", None) == "f":
                errors.add(name, number, "", _("A formula cell: paste the values instead."))
                values.append("")
            else:
                values.append(cell_text(cell.value))
        if number:
            yield number, values


def read_xlsx(name: str, data: IO[bytes], errors: ErrorList) -> list[Sheet]:
    try:
        workbook = load_workbook(data, read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        errors.add(name, None, "", _("The file cannot be read as an XLSX workbook."))
        return []
    sheets = []
    try:
        for ws in workbook.worksheets:
            rows = _xlsx_rows(ws, ws.title, errors)
            first = next(rows, None)
            if first is None:
                continue
            header = first[1]
            kind = kind_of_sheet_name(ws.title) or kind_of_headers(header)
            if kind is None:
                continue  # an instructions sheet, say: not part of the import
            sheet = Sheet(kind, ws.title)
            columns = _map_headers(kind, ws.title, header, errors)
            sheet.headers = {key: header[i].strip() for i, key in columns.items()}
            _sheet_rows(sheet, columns, rows)
            sheets.append(sheet)
    finally:
        workbook.close()
    return sheets


def read_files(files: Iterable[tuple[str, IO[bytes]]], errors: ErrorList) -> list[Sheet]:
    """Every sheet of every file; XLSX recognised by its zip signature, else CSV."""
    sheets: list[Sheet] = []
    for name, handle in files:
        head = handle.read(4)
        handle.seek(0)
        if head.startswith(b"PK"):
            sheets.extend(read_xlsx(name, handle, errors))
        else:
            sheet = read_csv(name, handle.read(), errors)
            if sheet is not None:
                sheets.append(sheet)
    return sheets
