"""Spreadsheet cells that can never be formulas: the one helper of every CSV and XLSX export.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel, LibreOffice and WPS as a formula (or DDE command): a resident's name
``=HYPERLINK("http://…?"&D2,"点击核实")`` in the registrations export would send the
phone numbers of column D to anyone who clicks. Every export writes its cells through
``csv_row`` / ``xlsx_append`` below:

* CSV: such a text gets a leading apostrophe (``'=cmd…``), which spreadsheet programs
  show as text; nothing else changes.
* XLSX: such a text is written as a string cell (``data_type='s'``) with the "quote
  prefix" style, so the workbook holds the exact text and no formula.

Numbers, dates and booleans stay what they are; only text is examined. Characters an
XLSX file cannot hold (control characters other than tab, newline and carriage return)
are replaced by U+FFFD instead of failing the whole export.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.functional import Promise

# The first characters that make a spreadsheet program treat a text as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_SCALARS = (int, float, decimal.Decimal, datetime.date, datetime.time, datetime.timedelta)


def is_formula_like(value: object) -> bool:
    """True for a text a spreadsheet program would read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def _text(value: object) -> object:
    """Lazy translations become text; everything else is returned unchanged."""
    return str(value) if isinstance(value, Promise) else value


def safe_cell(value: object) -> object:
    """One CSV cell: a formula-like text gets a leading apostrophe; others unchanged."""
    value = _text(value)
    if is_formula_like(value):
        return f"'{value}"
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    """A row for ``csv.writer``, every cell through ``safe_cell``."""
    return [safe_cell(value) for value in values]


def csv_dict(row: Mapping[str, object]) -> dict[str, object]:
    """A row for ``csv.DictWriter``, every cell through ``safe_cell``."""
    return {key: safe_cell(value) for key, value in row.items()}


def _xlsx_clean(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return str(ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))


def xlsx_cell(sheet: Any, value: object) -> object:
    """One XLSX cell value for ``sheet.append``: a formula-like text becomes a string
    cell with the quote prefix; other texts are cleaned of characters XLSX cannot hold;
    numbers, dates, booleans and None are returned unchanged."""
    value = _text(value)
    if not isinstance(value, str):
        if value is None or isinstance(value, (bool, *_SCALARS)):
            return value
        value = str(value)  # anything else is written as its text
    value = _xlsx_clean(value)
    if not is_formula_like(value):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # the value setter made it a formula; a string it stays
    cell.quotePrefix = True  # and a spreadsheet program keeps it text when edited
    return cell


def xlsx_append(sheet: Any, values: Iterable[object]) -> None:
    """Append one row to an openpyxl worksheet (normal or write-only), every cell
    through ``xlsx_cell``. The only way an export writes a row."""
    sheet.append([xlsx_cell(sheet, value) for value in values])
