"""Test workbooks and CSV files for the roster import, built in the test (no fixtures)."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook

HH_ZH = [
    "街道",
    "居委会",
    "楼栋",
    "室号",
    "姓名",
    "证件号",
    "手机",
    "独居",
    "行动不便",
    "地址",
    "户号",
]
HH_EN = [
    "subdistrict",
    "committee",
    "building",
    "room",
    "name",
    "id_number",
    "phone",
    "lives_alone",
    "mobility_impaired",
    "address",
    "household_id",
]
PH_ZH = ["药店编码", "名称", "地址", "营业时间", "每时段人数", "服务居委会"]
PH_EN = ["code", "name", "address", "opening_hours", "slot_capacity", "committees"]
CM_ZH = ["编码", "名称", "电话", "办公时间", "地址"]
ST_ZH = ["登录名", "角色", "范围", "有效期至"]
ST_EN = ["username", "role", "scope", "expires"]

# Valid resident ID numbers (checksums correct).
IDS = [
    "110101199003074477",
    "110101199003071006",
    "110101199003071014",
    "110101199003071022",
    "110101199003071030",
]

HOUSEHOLDS = [
    [
        "新华街道",
        "XH01",
        "12号",
        "301",
        "张伟",
        IDS[0],
        "13800138000",
        "否",
        "否",
        "新华路61弄",
        "H1",
    ],
    ["新华街道", "XH01", "12号", "301", "李娜", IDS[1], "", "否", "否", "新华路61弄", "H1"],
    ["新华街道", "XH01", "12号", "302", "王芳", "", "13900139000", "是", "是", "新华路61弄", "H2"],
    ["新华街道", "XH02", "3号", "101", "刘洋", IDS[2], "", "", "", "", "H3"],
]
PHARMACIES = [
    ["XHP1", "新华大药房", "新华路1号", "08:30-20:00", "12", "XH01、XH02"],
]
COMMITTEES = [
    ["XH01", "新华一村居委会", "021-65011234", "周一至周五 8:30-17:00", "新华路61弄1号"],
    ["XH02", "新华二村居委会", "", "", ""],
]
STAFF = [
    ["xh-desk", "committee", "XH01", ""],
    ["xh-pharm", "药店", "XHP1", "2099-12-31"],
    ["xh-office", "subdistrict", "新华街道", ""],
]


def workbook(sheets: dict[str, tuple[list[str], Iterable[list[object]]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, (headers, rows) in sheets.items():
        ws = book.create_sheet(title)
        ws.append(headers)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def standard_workbook(
    households: list[list[object]] | None = None, *, english: bool = False, staff: bool = True
) -> bytes:
    sheets = {
        ("households" if english else "住户"): (
            HH_EN if english else HH_ZH,
            households if households is not None else HOUSEHOLDS,
        ),
        ("pharmacies" if english else "药店"): (PH_EN if english else PH_ZH, PHARMACIES),
        "居委会": (CM_ZH, COMMITTEES),
    }
    if staff:
        sheets["人员"] = (ST_EN if english else ST_ZH, STAFF)
    return workbook(sheets)


def csv_bytes(
    headers: list[str], rows: Iterable[list[object]], encoding: str = "utf-8-sig"
) -> bytes:
    lines = [",".join(headers)] + [",".join(str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def as_files(*named: tuple[str, bytes]) -> list[tuple[str, io.BytesIO]]:
    return [(name, io.BytesIO(data)) for name, data in named]
