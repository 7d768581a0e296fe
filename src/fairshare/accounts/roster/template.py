"""An empty roster workbook in the documented format (docs/import-format.md): an
instructions sheet, then the four sheets with their Chinese headers."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fairshare.accounts.roster.columns import COLUMNS, COMMITTEES, HOUSEHOLDS, PHARMACIES, STAFF
from fairshare.core.spreadsheet import xlsx_append

SHEETS = ((HOUSEHOLDS, "住户"), (COMMITTEES, "居委会"), (PHARMACIES, "药店"), (STAFF, "人员"))
# Wider columns for the cells that hold longer text.
_WIDE = {"address": 28, "name": 14, "id_number": 22, "committees": 24, "desk_hours": 20}

INSTRUCTIONS = (
    "填写说明 / Instructions",
    "",
    "住户：每行一名住户成员；同一户号（或同一居委会+楼栋+室号）的各行是一户。"
    "必填：居委会、楼栋、室号、姓名。",
    "居委会（可选）：编码、名称、电话、办公时间、地址。住户表中出现的新居委会由导入创建。",
    "药店：药店编码、名称、地址、营业时间（如 08:30-20:00）、每时段人数、"
    "服务居委会（编码以、或,分隔）。",
    "人员（可选）：登录名、角色（committee、pharmacy、subdistrict）、"
    "范围（居委会或药店编码，或街道）、有效期至。",
    "独居、行动不便：填 是 或 否。证件号只以加密散列保存。请勿使用公式。",
    "",
    "households: one row per member; rows with the same household_id (or committee + building "
    "+ room) are one household. Required: committee, building, room, name.",
    "The format is described in docs/import-format.md. English headers are accepted too.",
    "Import: fairshare import_roster FILE.xlsx, or the upload page /accounts/import/.",
)


def roster_template_write(path: Path) -> None:
    """Write the empty template workbook to ``path``."""
    book = Workbook()
    notes = book.active
    notes.title = "说明"
    for line in INSTRUCTIONS:
        xlsx_append(notes, [line])  # as every writer: a formula-like text stays text
    notes["A1"].font = Font(bold=True)
    notes.column_dimensions["A"].width = 110
    for kind, title in SHEETS:
        sheet = book.create_sheet(title)
        xlsx_append(sheet, [column.headers[0] for column in COLUMNS[kind]])
        for index, column in enumerate(COLUMNS[kind], start=1):
            sheet.cell(row=1, column=index).font = Font(bold=column.required)
            width = _WIDE.get(column.key, max(10, 2 * len(column.headers[0]) + 4))
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
    book.save(path)
