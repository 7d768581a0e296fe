"""A made-up subdistrict (五角场街道) as a roster workbook in the documented
format (docs/import-format.md, Chinese headers): 3 committees, 2 pharmacies, 600
households of 1–3 members, 4 staff accounts. Deterministic (a seeded random generator),
so each run builds the same workbook."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field

from openpyxl import Workbook
from stdnum.cn import ric

from tests.accounts.roster_files import HH_ZH

# The sheets name the subdistrict (``街道``): the command creates it with that text as
# its code and name; the upload page's test creates it first, with the code WJC.
SUB_CODE, SUB_NAME = "WJC", "五角场街道"
COMMITTEES = [
    ["WJC01", "政通路居委会", "021-65110001", "周一至周五 8:30-17:00", "政通路100号"],
    ["WJC02", "国定路居委会", "021-65110002", "周一至周六 9:00-16:00", "国定路200号"],
    ["WJC03", "翔殷路居委会", "", "", "翔殷路300号"],
]
STREETS = {"WJC01": "政通路", "WJC02": "国定路", "WJC03": "翔殷路"}
PHARMACIES = [
    ["WJCP1", "五角场大药房", "邯郸路10号", "08:30-20:00", "12", "WJC01、WJC02"],
    ["WJCP2", "翔殷路药店", "翔殷路5号", "9:00～18:00", "10", "WJC03"],
]
STAFF = [
    ["wjc-desk1", "committee", "WJC01", ""],
    ["wjc-desk2", "居委会", "WJC02", ""],
    ["wjc-pharm1", "药店", "WJCP1", "2099-12-31"],
    ["wjc-office", "街道", SUB_NAME, ""],
]
HH_HEADERS = HH_ZH  # the documented households sheet, as the import tests write it
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华玉兰"
HOUSEHOLDS_PER_COMMITTEE = 200
ROOMS_PER_BUILDING = 20  # floors 1–4, rooms 01–05


@dataclass(frozen=True)
class Home:
    committee: str
    building: str  # as stored ("3号")
    room: str
    members: tuple[str, ...]


@dataclass
class Roster:
    rows: list[list[object]] = field(default_factory=list)
    homes: list[Home] = field(default_factory=list)

    @property
    def members(self) -> int:
        return len(self.rows)

    def of(self, committee: str) -> list[Home]:
        return [h for h in self.homes if h.committee == committee]


def _id_number(rng: random.Random, serial: int) -> str:
    birth = f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"310110{birth}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def roster() -> Roster:
    rng = random.Random(19)
    out = Roster()
    serial = 0
    for code, *_rest in COMMITTEES:
        for index in range(HOUSEHOLDS_PER_COMMITTEE):
            building_no, slot = divmod(index, ROOMS_PER_BUILDING)
            room = f"{slot // 5 + 1}{slot % 5 + 1:02d}"
            written = [f"{building_no + 1}号", f"{building_no + 1}", f"{building_no + 1}栋"]
            building = written[index % 3]  # the forms residents write, all one building
            key = f"{code}-{index + 1:04d}"
            names: list[str] = []
            for _m in range(rng.randint(1, 3)):
                serial += 1
                name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
                names.append(name)
                out.rows.append(
                    [
                        SUB_NAME,
                        code,
                        building,
                        room + ("室" if serial % 4 == 0 else ""),
                        name,
                        _id_number(rng, serial) if serial % 3 == 0 else "",
                        f"139{serial:08d}" if serial % 2 == 0 else "",
                        "是" if len(names) == 1 and serial % 7 == 0 else "否",
                        "是" if serial % 11 == 0 else "",
                        f"{STREETS[code]}{building_no + 1}弄" if building == written[0] else "",
                        key,
                    ]
                )
            out.homes.append(Home(code, f"{building_no + 1}号", room, tuple(names)))
    return out


def workbook(data: Roster) -> bytes:
    book = Workbook()
    book.remove(book.active)
    notes = book.create_sheet("说明")  # an instructions sheet: ignored by the import
    notes.append(["本表由五角场街道办事处整理"])
    sheets = {
        "住户": (HH_HEADERS, data.rows),
        "居委会": (["编码", "名称", "电话", "办公时间", "地址"], COMMITTEES),
        "药店": (["药店编码", "名称", "地址", "营业时间", "每时段人数", "服务居委会"], PHARMACIES),
        "人员": (["登录名", "角色", "范围", "有效期至"], STAFF),
    }
    for title, (headers, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
