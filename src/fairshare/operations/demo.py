"""Deterministic synthetic demo data for a Yangpu-like district (杨浦区).

Everything comes from one ``random.Random(seed)``: the same seed and size give the same
rows. Small tables go through the ORM; buildings, households and roster members are
written with explicitly assigned primary keys by ``executemany`` (SQLite) or ``COPY``
(PostgreSQL). Callers wrap ``seed_demo`` (and ``wipe_demo_data``) in one transaction.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from itertools import accumulate, count

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connections, models
from django.db.models import Max
from django.utils import timezone
from faker.providers.person.zh_CN import Provider as ZhPerson

from fairshare.accounts.models import User
from fairshare.community.models import (
    Building,
    Committee,
    District,
    Household,
    Member,
    Pharmacy,
    Subdistrict,
)
from fairshare.rounds.models import Round

DEFAULT_HOUSEHOLDS = 44_270
DEFAULT_SEED = 2020
DEMO_PASSWORD = "demo"
FLOORS = 6
ROOMS_PER_FLOOR = (2, 2, 3, 3, 4)
FLUSH_ROWS = 20_000  # households buffered before a write
# fmt: off
# Pharmacy hours: 15 people per 30-minute slot, about 2 minutes each.
HOURS = {"opens_at": time(8, 30), "closes_at": time(20, 0), "slot_minutes": 30,
         "customers_per_slot": 15}
# 控江路街道: committee, street, lane, households at the default size (sum: 44,270).
KJ_COMMITTEES: tuple[tuple[str, str, int, int], ...] = (
    ("图们居委会", "图们路", 61, 2430), ("凤联居委会", "凤城路", 181, 1985),
    ("1200弄居委会", "控江路", 1200, 1620), ("凤城一村居委会", "凤城路", 30, 2110),
    ("凤城二村居委会", "凤城路", 95, 1460), ("控江一村居委会", "控江路", 868, 1875),
    ("控江二村居委会", "控江路", 936, 1730), ("靖宇东居委会", "靖宇东路", 275, 2260),
    ("双阳居委会", "双阳路", 421, 1390), ("松花居委会", "松花江路", 2601, 1540),
    ("图们东居委会", "图们路", 215, 1945), ("凤南居委会", "凤城路", 248, 1680),
    ("凤北居委会", "凤城路", 312, 2040), ("1018弄居委会", "控江路", 1018, 1210),
    ("靖宇新村居委会", "靖宇东路", 120, 1820), ("延吉东居委会", "延吉东路", 149, 1595),
    ("控江西居委会", "控江路", 745, 1760), ("双阳南居委会", "双阳路", 388, 2185),
    ("江浦北居委会", "江浦路", 1801, 1330), ("凤城三村居委会", "凤城路", 401, 1905),
    ("图们西居委会", "图们路", 36, 1650), ("松花新村居委会", "松花江路", 2551, 1465),
    ("控江东居委会", "控江路", 1500, 2075), ("靖宇南居委会", "靖宇东路", 335, 1715),
    ("凤江居委会", "凤城路", 560, 1495),
)
KJ_PHARMACIES: tuple[tuple[str, str], ...] = (
    ("华氏大药房控江店", "杨浦区控江路1228号"), ("第一医药凤城店", "杨浦区凤城路215号"),
    ("雷允上药房图们店", "杨浦区图们路86号"), ("国大药房靖宇店", "杨浦区靖宇东路301号"),
    ("余天成堂药号双阳店", "杨浦区双阳路452号"),
)
# The scaled-up district: code, name, committees, streets (KJ stays first and unchanged).
SUBDISTRICTS: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("KJ", "控江路街道", 25, ()),
    ("SP", "四平路街道", 24, ("四平路", "鞍山路", "阜新路", "抚顺路", "铁岭路")),
    ("DQ", "大桥街道", 27, ("杨树浦路", "许昌路", "眉州路", "长阳路", "隆昌路")),
    ("JP", "江浦路街道", 22, ("江浦路", "辽源西路", "松潘路", "景星路", "昆明路")),
    ("PL", "平凉路街道", 23, ("平凉路", "通北路", "临青路", "齐齐哈尔路", "河间路")),
    ("YH", "殷行街道", 30, ("殷行路", "开鲁路", "民京路", "国和路", "嫩江路")),
    ("CB", "长白新村街道", 25, ("长白路", "敦化路", "安图路", "延吉东路", "军工路")),
    ("YJ", "延吉新村街道", 26, ("延吉中路", "靖宇中路", "松花江路", "延吉西路", "白城路")),
    ("DH", "定海路街道", 24, ("定海路", "内江路", "黎平路", "腾越路", "双阳路")),
    ("WJC", "五角场街道", 28, ("国定路", "政通路", "淞沪路", "邯郸路", "翔殷路")),
    ("XJW", "新江湾城街道", 14, ("殷高东路", "政立路", "国晓路", "民府路", "国浩路")),
    ("CH", "长海路街道", 26, ("长海路", "中原路", "市光路", "民星路", "国权北路")),
)
NAME_SUFFIXES = ("一村", "二村", "三村", "新村", "东", "西", "南", "北", "中", "苑", "花园")
PHARMACY_BRANDS = ("华氏大药房", "第一医药", "雷允上药房", "国大药房", "益丰大药房", "余天成堂")
# Columns written by the bulk writer, in row-tuple order.
COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    Building: ("id", "committee", "compound", "label", "sort_order", "floors"),
    Household: ("id", "committee", "building", "room"),
    Member: ("id", "household", "name", "id_hash", "lives_alone", "mobility_impaired",
             "elderly"),
}
# fmt: on

# Name parts from Faker's zh_CN person provider, drawn with our own seeded Random (fast).
_SURNAMES = tuple(ZhPerson.last_names)
_SURNAME_CUM = tuple(accumulate(ZhPerson.last_names.values()))


def _given_names(names: list[str]) -> tuple[str, ...]:
    singles = [n for n in names if len(n) == 1][:40]
    return tuple(names) + tuple(a + b for a in singles for b in singles if a != b)


_GIVEN = (_given_names(ZhPerson.first_names_male), _given_names(ZhPerson.first_names_female))


@dataclass(frozen=True)
class CommitteePlan:
    code: str
    name: str
    subdistrict: str
    pharmacy: str
    compound: str
    households: int


@dataclass(frozen=True)
class PharmacyPlan:
    code: str
    name: str
    address: str
    phone: str


def split_exactly(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` proportionally to ``weights`` (largest remainder; sums exactly)."""
    weight_sum = sum(weights)
    shares = [total * w // weight_sum for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _street_stem(street: str) -> str:
    stem = street.removesuffix("路")
    return stem[:-1] if len(stem) > 2 and stem[-1] in "东西南北中" else stem


def plan_places(
    *, households: int, rng: random.Random
) -> tuple[list[tuple[str, str]], list[tuple[str, PharmacyPlan]], list[CommitteePlan]]:
    """Subdistricts, pharmacies and committees with their household counts (sum: ``households``)."""
    big = households > DEFAULT_HOUSEHOLDS
    subdistricts = SUBDISTRICTS if big else SUBDISTRICTS[:1]
    pharmacies: list[PharmacyPlan] = []
    pharmacy_subs: list[str] = []  # subdistrict code of each pharmacy
    committees: list[tuple[str, str, str, str, str]] = []  # code, name, sub, pharmacy, compound
    weights: list[int] = []
    for sub_code, _sub_name, n_committees, streets in subdistricts:
        n_pharmacies = max(1, round(n_committees / 5))
        first = len(pharmacies)
        for k in range(n_pharmacies):
            if sub_code == "KJ":
                name, address = KJ_PHARMACIES[k]
            else:
                street = rng.choice(streets)
                name = f"{rng.choice(PHARMACY_BRANDS)}{_street_stem(street)}店"
                address = f"杨浦区{street}{rng.randint(10, 1800)}号"
            phone = f"021-{rng.randint(55000000, 65999999)}"
            pharmacies.append(PharmacyPlan(f"P{len(pharmacies) + 1:02d}", name, address, phone))
            pharmacy_subs.append(sub_code)
        used: set[str] = set()
        for k in range(n_committees):
            pharmacy = pharmacies[first + k * n_pharmacies // n_committees].code
            if sub_code == "KJ":
                name, street, lane, weight = KJ_COMMITTEES[k]
            else:
                while True:
                    street, lane = rng.choice(streets), rng.randint(2, 1600)
                    name = f"{lane}弄居委会"  # a quarter are named after their lane
                    if rng.random() >= 0.25:
                        name = f"{_street_stem(street)}{rng.choice(NAME_SUFFIXES)}居委会"
                    if name not in used:
                        break
                weight = rng.randint(1100, 2600)
            used.add(name)
            code, compound = f"{sub_code}{k + 1:02d}", f"{street}{lane}弄"
            committees.append((code, name, sub_code, pharmacy, compound))
            weights.append(weight)
    sizes = split_exactly(households, weights)
    plans = [CommitteePlan(*row, households=n) for row, n in zip(committees, sizes, strict=True)]
    subs = [(code, name) for code, name, *_ in subdistricts]
    return subs, list(zip(pharmacy_subs, pharmacies, strict=True)), plans


def _column(model: type[models.Model], name: str) -> str:
    """The database column of ``model.name`` (COLUMNS lists concrete fields only)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} has no column")
    return field.column


class _BulkWriter:
    """Buffers rows of the big tables and writes them with explicit primary keys."""

    def __init__(self, *, using: str) -> None:
        self.connection = connections[using]
        self.rows: dict[type[models.Model], list[tuple]] = {model: [] for model in COLUMNS}
        # Primary keys are assigned here (the tables are empty, but be safe) ...
        self.ids = {
            model: count((model._default_manager.using(using).aggregate(m=Max("pk"))["m"] or 0) + 1)
            for model in COLUMNS
        }
        self.counts = dict.fromkeys(COLUMNS, 0)

    def flush(self) -> None:
        qn = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for model, fields in COLUMNS.items():  # parents before children
                rows = self.rows[model]
                if not rows:
                    continue
                table = qn(model._meta.db_table)
                cols = ", ".join(qn(_column(model, f)) for f in fields)
                if self.connection.vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(fields))
                    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
                    cursor.executemany(sql, rows)
                self.counts[model] += len(rows)
                rows.clear()

    def finish(self) -> None:
        self.flush()  # ... so PostgreSQL's sequences must be moved past them
        if self.connection.vendor == "postgresql":
            sql_list = self.connection.ops.sequence_reset_sql(no_style(), list(COLUMNS))
            with self.connection.cursor() as cursor:
                for sql in sql_list:
                    cursor.execute(sql)


def _add_committee_rows(
    writer: _BulkWriter, rng: random.Random, *, committee_id: int, plan: CommitteePlan
) -> None:
    """One compound (弄) of buildings "1号".."N号" with 6 floors × 2–4 rooms per floor.

    Buildings are full (floors × rooms households); a remainder of fewer than 6 households
    becomes a small low house with one room per floor.
    """
    full, rest = divmod(plan.households, FLOORS)
    shapes: list[tuple[int, int]] = []  # (floors, rooms per floor)
    while full > 0:
        rooms = min(full, rng.choice(ROOMS_PER_FLOOR))
        if full - rooms == 1:
            rooms += 1
        shapes.append((FLOORS, rooms))
        full -= rooms
    if rest:
        shapes.append((rest, 1))
    household_ids: list[int] = []
    for number, (floors, rooms) in enumerate(shapes, start=1):
        building_id = next(writer.ids[Building])
        writer.rows[Building].append(
            (building_id, committee_id, plan.compound, f"{number}号", number, floors)
        )
        for floor in range(1, floors + 1):
            for room in range(1, rooms + 1):
                household_id = next(writer.ids[Household])
                household_ids.append(household_id)
                writer.rows[Household].append(
                    (household_id, committee_id, building_id, f"{floor}{room:02d}")
                )
    _add_members(writer, rng, household_ids)


def _add_members(writer: _BulkWriter, rng: random.Random, household_ids: list[int]) -> None:
    """1–3 members per household; a child (third member) shares the first member's surname."""
    sizes = rng.choices((1, 2, 3), cum_weights=(25, 70, 100), k=len(household_ids))
    total = sum(sizes)
    surnames = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM, k=total)
    male, female = rng.choices(_GIVEN[0], k=total), rng.choices(_GIVEN[1], k=total)
    rows, ids, pick = writer.rows[Member], writer.ids[Member], rng.random
    i = 0
    for household_id, size in zip(household_ids, sizes, strict=True):
        for k in range(size):
            surname = surnames[i - 2] if k == 2 else surnames[i]
            given = male[i] if pick() < 0.5 else female[i]
            # ~5% of members live alone (40% of single-member households), ~20% elderly,
            # ~2% mobility impaired (mostly among the elderly).
            alone = size == 1 and pick() < 0.41
            elderly = pick() < (0.6 if alone else 0.18)
            impaired = pick() < (0.07 if elderly else 0.0075)
            rows.append((next(ids), household_id, surname + given, "", alone, impaired, elderly))
            i += 1


def _create_places(
    *,
    using: str,
    subdistricts: list[tuple[str, str]],
    pharmacies: list[tuple[str, PharmacyPlan]],
    committees: list[CommitteePlan],
) -> tuple[District, dict[str, Subdistrict], dict[str, int]]:
    """The district, its subdistricts, pharmacies and committees (the small tables)."""
    district = District.objects.using(using).create(code="YP", name="杨浦区")
    Subdistrict.objects.using(using).bulk_create(
        Subdistrict(district=district, code=code, name=name) for code, name in subdistricts
    )
    subs = {s.code: s for s in Subdistrict.objects.using(using).all()}
    Pharmacy.objects.using(using).bulk_create(
        Pharmacy(subdistrict=subs[sub], **asdict(plan), **HOURS) for sub, plan in pharmacies
    )
    by_code = {p.code: p for p in Pharmacy.objects.using(using).all()}
    Committee.objects.using(using).bulk_create(
        Committee(
            subdistrict=subs[c.subdistrict],
            code=c.code,
            name=c.name,
            address=f"{c.compound}1号底楼",
            pharmacy=by_code[c.pharmacy],
        )
        for c in committees
    )
    committee_ids = dict(Committee.objects.using(using).values_list("code", "id"))
    return district, subs, committee_ids


def _create_round(*, using: str, district: District) -> Round:
    """The demo's open first-come-first-served round: registration from today 00:00."""
    today = timezone.localdate()
    opens = timezone.make_aware(datetime.combine(today, time.min))
    return Round.objects.using(using).create(
        district=district,
        name="第一轮口罩预约",
        policy=Round.Policy.FCFS,
        offline_reserve_pct=20,
        phone_verification=False,
        packs_per_household=1,
        pack_description="1包(5只)",
        status=Round.Status.OPEN,
        registration_opens_at=opens,
        registration_closes_at=opens + timedelta(days=10),
        valid_from=today,
        valid_until=today + timedelta(days=11),
    )


def seed_demo(
    *, households: int = DEFAULT_HOUSEHOLDS, seed: int = DEFAULT_SEED, using: str = "default"
) -> dict[str, int]:
    """Create the demo district, round and logins; return row counts.

    The caller owns the transaction (and checks that the database is empty).
    """
    if households < 1:
        raise ValueError("households must be at least 1")
    rng = random.Random(seed)
    sub_plans, pharmacy_plans, committee_plans = plan_places(households=households, rng=rng)

    district, subs, committee_ids = _create_places(
        using=using, subdistricts=sub_plans, pharmacies=pharmacy_plans, committees=committee_plans
    )

    writer = _BulkWriter(using=using)
    for plan in committee_plans:
        _add_committee_rows(writer, rng, committee_id=committee_ids[plan.code], plan=plan)
        if len(writer.rows[Household]) >= FLUSH_ROWS:
            writer.flush()
    writer.finish()

    _create_round(using=using, district=district)
    users = _create_demo_users(using=using, district=district, subdistrict=subs["KJ"])
    counts = {
        "subdistricts": len(sub_plans),
        "committees": len(committee_plans),
        "pharmacies": len(pharmacy_plans),
        "users": users,
    }
    return counts | {f"{model._meta.model_name}s": n for model, n in writer.counts.items()}


KJ_CODES = [f"KJ{i:02d}" for i in range(1, 26)]
KJ_PHARMACY_CODES = [f"P{i:02d}" for i in range(1, 6)]


def demo_usernames() -> list[str]:
    return [
        "district",
        "subdistrict",
        *(f"committee{code[2:]}" for code in KJ_CODES),
        *(f"pharmacy{code[1:]}" for code in KJ_PHARMACY_CODES),
    ]


def _create_demo_users(*, using: str, district: District, subdistrict: Subdistrict) -> int:
    """All demo logins share one password hash, computed once (Argon2 is slow on purpose)."""
    password = make_password(DEMO_PASSWORD)
    committees = Committee.objects.using(using).filter(code__in=KJ_CODES).order_by("code")
    pharmacies = Pharmacy.objects.using(using).filter(code__in=KJ_PHARMACY_CODES).order_by("code")
    scopes: list[tuple[str, str, District | Subdistrict | Committee | Pharmacy]] = [
        ("district", "district", district),
        ("subdistrict", "subdistrict", subdistrict),
        *((f"committee{c.code[2:]}", "committee", c) for c in committees),
        *((f"pharmacy{p.code[1:]}", "pharmacy", p) for p in pharmacies),
    ]
    # The role names the scope field: role "committee" is scoped by User.committee, etc.
    users = [
        User(
            username=username,
            role=role,
            first_name=place.name,
            password=password,
            is_staff=True,
            is_superuser=False,
            **{role: place},
        )
        for username, role, place in scopes
    ]
    User.objects.using(using).bulk_create(users)
    return len(users)
