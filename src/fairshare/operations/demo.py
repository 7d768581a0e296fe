"""Deterministic synthetic demo data for a Yangpu-like district (杨浦区).

Everything comes from one ``random.Random(seed)``: the same seed and size give the same
rows. The district and its subdistricts are created here; pharmacies, committees,
buildings, households and roster members are built as roster sheets in memory and
written by the roster import engine (``operations/demo_roster.py``). Callers wrap
``seed_demo`` (and ``wipe_demo_data``) in one transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import accumulate

from django.contrib.auth.hashers import make_password
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
from fairshare.operations.demo_roster import (
    DemoMember,
    apply_demo_extras,
    committees_sheet,
    households_sheet,
    import_demo_sheets,
    pharmacies_sheet,
)
from fairshare.rounds.models import Round

DEFAULT_HOUSEHOLDS = 44_270
DEFAULT_SEED = 2020
DEMO_PASSWORD = "demo"
FLOORS = 6
ROOMS_PER_FLOOR = (2, 2, 3, 3, 4)
# fmt: off
# Pharmacy hours: 15 people per 30-minute slot, about 2 minutes each.
HOURS, PER_SLOT = "8:30-20:00", 15  # the import's default slot is 30 minutes
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


def _add_committee_rows(
    out: list[DemoMember],
    floors: dict[tuple[str, str], int],
    rng: random.Random,
    plan: CommitteePlan,
) -> None:
    """One compound (弄) of buildings "1号".."N号" with 6 floors × 2–4 rooms per floor.

    Buildings are full (floors × rooms households); a remainder of fewer than 6 households
    becomes a small low house with one room per floor (its floors noted in ``floors``).
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
    addresses: list[tuple[str, str]] = []
    for number, (n_floors, rooms) in enumerate(shapes, start=1):
        label = f"{number}号"
        if n_floors != FLOORS:
            floors[(plan.code, label)] = n_floors
        addresses.extend(
            (label, f"{floor}{room:02d}")
            for floor in range(1, n_floors + 1)
            for room in range(1, rooms + 1)
        )
    _add_members(out, rng, plan.code, addresses)


def _add_members(
    out: list[DemoMember], rng: random.Random, committee: str, addresses: list[tuple[str, str]]
) -> None:
    """1–3 members per household; a child (third member) shares the first member's surname."""
    sizes = rng.choices((1, 2, 3), cum_weights=(25, 70, 100), k=len(addresses))
    total = sum(sizes)
    surnames = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM, k=total)
    male, female = rng.choices(_GIVEN[0], k=total), rng.choices(_GIVEN[1], k=total)
    pick, append = rng.random, out.append
    i = 0
    for (building, room), size in zip(addresses, sizes, strict=True):
        for k in range(size):
            surname = surnames[i - 2] if k == 2 else surnames[i]
            given = male[i] if pick() < 0.5 else female[i]
            # ~5% of members live alone (40% of single-member households), ~20% elderly,
            # ~2% mobility impaired (mostly among the elderly).
            alone = size == 1 and pick() < 0.41
            elderly = pick() < (0.6 if alone else 0.18)
            impaired = pick() < (0.07 if elderly else 0.0075)
            append(DemoMember(committee, building, room, surname + given, alone, impaired, elderly))
            i += 1


def _create_subdistricts(*, using: str, subdistricts: list[tuple[str, str]]) -> District:
    """The district and its subdistricts (with their short codes, which the import, whose
    new subdistricts are named by their name, would not give)."""
    district = District.objects.using(using).create(code="YP", name="杨浦区")
    Subdistrict.objects.using(using).bulk_create(
        Subdistrict(district=district, code=code, name=name) for code, name in subdistricts
    )
    return district


def _import_places(
    *,
    pharmacies: list[tuple[str, PharmacyPlan]],
    committees: list[CommitteePlan],
    members: list[DemoMember],
) -> None:
    served: dict[str, list[str]] = {}
    for c in committees:
        served.setdefault(c.pharmacy, []).append(c.code)
    sheets = [
        pharmacies_sheet(
            [(p.code, p.name, p.address, HOURS, PER_SLOT, served[p.code]) for _s, p in pharmacies]
        ),
        committees_sheet([(c.code, c.name, f"{c.compound}1号底楼") for c in committees]),
        households_sheet(
            {c.code: c.subdistrict for c in committees},
            members,
            {c.code: c.compound for c in committees},
        ),
    ]
    import_demo_sheets(sheets)


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

    The caller owns the transaction (and checks that the database is empty). The roster
    import writes to the default database only.
    """
    if households < 1:
        raise ValueError("households must be at least 1")
    if using != "default":
        raise ValueError("the demo is written by the roster import: default database only")
    rng = random.Random(seed)
    sub_plans, pharmacy_plans, committee_plans = plan_places(households=households, rng=rng)
    district = _create_subdistricts(using=using, subdistricts=sub_plans)
    members: list[DemoMember] = []
    floors: dict[tuple[str, str], int] = {}
    for plan in committee_plans:
        _add_committee_rows(members, floors, rng, plan)
    _import_places(pharmacies=pharmacy_plans, committees=committee_plans, members=members)
    apply_demo_extras(
        members=members, phones={p.code: p.phone for _s, p in pharmacy_plans}, floors=floors
    )
    _create_round(using=using, district=district)
    kj = Subdistrict.objects.using(using).get(code="KJ")
    users = _create_demo_users(using=using, district=district, subdistrict=kj)
    counts = {
        "subdistricts": len(sub_plans),
        "committees": len(committee_plans),
        "pharmacies": len(pharmacy_plans),
        "users": users,
    }
    return counts | {
        f"{model._meta.model_name}s": model._default_manager.using(using).count()
        for model in (Building, Household, Member)
    }


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
            password_change_required=False,  # the demo's shared password, not one-time
            is_staff=True,
            is_superuser=False,
            **{role: place},
        )
        for username, role, place in scopes
    ]
    User.objects.using(using).bulk_create(users)
    return len(users)
