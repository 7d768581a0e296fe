"""What people type into a roster, normalised: full-width characters, building labels as
residents say them, rooms, yes/no, opening hours, dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time

_DIGIT_LABEL = re.compile(r"^(?:(?P<lane>\d+[A-Z]?)弄)?(?P<no>\d+[A-Z]?)(?:号楼|号|栋|幢|楼)?$")
_HOURS = re.compile(r"^(\d{1,2})[:.](\d{2})\s*[-~—–至到]+\s*(\d{1,2})[:.](\d{2})$")
_YES = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
_NO = {"", "否", "无", "n", "no", "false", "0", "×"}
_LIST_SEP = re.compile(r"[、,，;；/\s]+")


def fold(text: str | None) -> str:
    """NFKC (full-width digits, letters and punctuation to ASCII), trimmed."""
    return unicodedata.normalize("NFKC", text or "").strip()


def compact(text: str | None) -> str:
    """``fold`` without any whitespace inside (codes, rooms, labels, numbers)."""
    return "".join(fold(text).split())


def name_text(text: str | None) -> str:
    """A person's name: NFC (never NFKC: it would change some CJK characters), single spaces."""
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def building_label(text: str | None) -> str:
    """``12``, ``12号``, ``12 号``, ``12栋``, ``12号楼`` → ``12号``; ``61弄12号`` stays;
    other labels (``A座``) are kept as written, folded."""
    value = compact(text).upper()
    match = _DIGIT_LABEL.match(value)
    if not match:
        return value
    lane = f"{match['lane']}弄" if match["lane"] else ""
    return f"{lane}{match['no']}号"


def room_label(text: str | None) -> str:
    """``301室``, ``３０１`` → ``301``."""
    return compact(text).upper().removesuffix("室")


def yes_no(text: str | None) -> bool | None:
    """True/False for the accepted spellings (empty is no), None when unreadable."""
    value = compact(text).casefold()
    if value in _YES:
        return True
    if value in _NO:
        return False
    return None


def opening_hours(text: str | None) -> tuple[time, time] | None:
    """``08:30-20:00`` (also ``8:30～20:00``, ``8.30至20.00``) → (opens, closes)."""
    match = _HOURS.match(fold(text))
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    opens, closes = time(h1, m1), time(h2, m2)
    return (opens, closes) if closes > opens else None


def code_list(text: str | None) -> list[str]:
    """Committee codes separated by 、 , ， ; or spaces, in order, without repeats."""
    return list(dict.fromkeys(c for c in _LIST_SEP.split(fold(text)) if c))


def day(text: str | None) -> date | None:
    """``2026-03-01``, ``2026/3/1``, ``2026.3.1``, ``2026年3月1日`` (and the date part of a
    datetime written by a spreadsheet) → date; None when unreadable."""
    value = fold(text)
    match = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$", value)
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def cell_text(value: object) -> str:
    """A spreadsheet cell's value as the text a person would read in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time() else f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)
