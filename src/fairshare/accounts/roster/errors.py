"""Per-row, per-column import errors (the whole import is refused when there is one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.utils.functional import Promise

# A file with more errors than this is refused with the first ones listed.
MAX_ERRORS = 500


@dataclass(frozen=True)
class RowError:
    sheet: str  # the sheet name, or the CSV file's name
    row: int | None  # the spreadsheet row number (the header is row 1); None: the whole sheet
    column: str  # the header as the user wrote it ("" when the error is not about one cell)
    message: str | Promise

    def as_dict(self) -> dict[str, object]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": str(self.message),
        }

    def __str__(self) -> str:
        where = self.sheet if self.row is None else f"{self.sheet}:{self.row}"
        column = f" [{self.column}]" if self.column else ""
        return f"{where}{column}: {self.message}"


@dataclass
class ErrorList:
    items: list[RowError] = field(default_factory=list)
    overflow: int = 0

    def add(self, sheet: str, row: int | None, column: str, message: str | Promise) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append(RowError(sheet, row, column, message))
        else:
            self.overflow += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items) + self.overflow


class ImportRefused(Exception):
    """The import wrote nothing; ``errors`` says why, row by row."""

    def __init__(self, errors: ErrorList) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class Progress(Protocol):
    """Told the stage and, where it is known, how far: ``done`` of ``total`` rows."""

    def __call__(self, stage: str, done: int = 0, total: int = 0) -> None: ...


def no_progress(stage: str, done: int = 0, total: int = 0) -> None:
    return None
