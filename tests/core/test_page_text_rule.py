"""Every page that writes applies the one text rule (``core/schemas.py``) per field.

A control character in a posted value is a per-field error (422, in Chinese by
default), and nothing is written; a line break is refused in single-line fields and
allowed in multi-line ones (notes, notice bodies, the batch lines). Posted ids that
are not ids are a per-field error or a 404, never a 500.

The writing pages (each in :data:`PAGES`: URL, role, a valid body, the single-line
fields that show their errors, the hidden/choice fields whose errors show at the top,
the multi-line fields, and what the page writes):

* ``entry``       ``POST /r/<round>/<committee>/``            resident   a registration
* ``send_code``   ``POST /r/<round>/<committee>/`` (send_code) resident   a phone code
* ``photo``       ``POST /r/<round>/<committee>/photo/``      resident   a registration
* ``desk``        ``POST /r/desk/<round>/<committee>/``        committee  a registration
* ``batch``       ``POST /r/desk/<round>/<committee>/batch/``  committee  registrations
* ``void``        ``POST /r/review/<pk>/void/``                committee  a void
* ``status``      ``POST /r/status/``                          resident   (reads only)
* ``supply``      ``POST /vouchers/supply/``                   pharmacy   a declaration
* ``allocate``    ``POST /vouchers/allocate/``                 subdistrict vouchers
* ``redeem``      ``POST /pharmacy/scan/`` (redeem)            pharmacy   a redemption
* ``notice``      ``POST /public/staff/notices/``              subdistrict a notice

(``POST /r/review/<pk>/approve/`` posts no text; the accounts pages use forms with
``TextRuleMixin``, tested with them.)
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.allocation.models import SupplyDeclaration, Voucher
from fairshare.core.forms import parse_id, posted_text_errors
from fairshare.pharmacy.models import Redemption
from fairshare.registration.models import PhoneCode, Registration
from fairshare.registration.services import registration_create
from fairshare.transparency.models import Notice
from tests.allocation.factories import Entry, queue_build
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
    UserFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db

CONTROL = "请删除文字中的控制字符"
ONE_LINE = "此项只能填写一行"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(db, settings, tmp_path, monkeypatch):
    from fairshare.allocation import engine

    settings.RATELIMIT_ENABLED = False
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    moment = timezone.make_aware(datetime.combine(timezone.localdate(), time(7, 0)))
    monkeypatch.setattr(engine, "_local_now", lambda: moment)  # all of today's slots ahead
    committee = CommitteeFactory(code="KJ01")
    building = BuildingFactory(committee=committee, label="12号")
    homes = [HouseholdFactory(building=building, room=room) for room in ("301", "302", "303")]
    HouseholdFactory(building=building, room="304")
    MemberFactory(household=homes[0], name="张三明")
    rnd = RoundFactory(district=committee.subdistrict.district)
    pending = registration_create(
        round=rnd, household=homes[1], name="李四", phone="13812345670", channel="online"
    ).registration
    holder = registration_create(
        round=rnd, household=homes[2], name="王五", phone="13812345679", channel="online"
    ).registration
    voucher = VoucherFactory(registration=holder)
    other = CommitteeFactory(subdistrict=committee.subdistrict, pharmacy=committee.pharmacy)
    queue_build(round=rnd, committee=other, entries=[Entry()] * 2)  # for the allocation run
    sub = committee.subdistrict
    return {
        "committee": committee,
        "building": building,
        "homes": homes,
        "round": rnd,
        "pending": pending,
        "voucher": voucher,
        "sub": sub,
        "committee_user": UserFactory(role="committee", committee=committee),
        "pharmacy_user": UserFactory(role="pharmacy", pharmacy=voucher.pharmacy),
        "subdistrict_user": UserFactory(role="subdistrict", subdistrict=sub),
    }


@dataclass
class Page:
    url: str
    user: Any  # None: a resident (anonymous)
    body: Callable[[], dict[str, Any]]  # fresh each post (a file is read once)
    count: Callable[[], int] | None  # what the page writes (None: it reads only)
    single: tuple[str, ...] = ()  # single-line fields that show their errors
    hidden: tuple[str, ...] = ()  # hidden / choice fields: errors at the top of the page
    multi: tuple[str, ...] = ()
    ok: tuple[int, ...] = (200, 302)
    extra: dict[str, Any] = field(default_factory=dict)


def _photo() -> io.BytesIO:
    upload = io.BytesIO(PNG)
    upload.name = "id.png"
    return upload


def _allocation_confirmation(w: dict[str, Any]) -> str:
    """The allocation page's confirmation of its current preview (allocation/preview.py)."""
    from fairshare.allocation.preview import figures_of, preview_rows, preview_token
    from fairshare.allocation.services import allocation_run_as

    user = w["subdistrict_user"]
    result = allocation_run_as(
        actor=user, round=w["round"], date=timezone.localdate(), dry_run=True
    )
    figures = figures_of(result, preview_rows(result))
    return preview_token(figures, user_id=user.pk, pharmacy="")


def _pages(w: dict[str, Any]) -> dict[str, Page]:
    entry_url = f"/r/{w['round'].pk}/KJ01/"
    resident = {
        "building": str(w["building"].pk),
        "room": str(w["homes"][0].pk),
        "name": "张三明",
        "phone": "13812345678",
        "returned_from": "武汉",
    }
    regs = Registration.objects.count
    now = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return {
        "entry": Page(
            entry_url,
            None,
            lambda: resident | {"action": "register"},
            regs,
            single=("name", "phone", "returned_from", "room"),
            hidden=("action",),
        ),
        "send_code": Page(
            entry_url,
            None,
            lambda: resident | {"action": "send_code"},
            PhoneCode.objects.count,
            single=("phone",),
            hidden=("action",),
        ),
        "photo": Page(
            f"{entry_url}photo/",
            None,
            lambda: resident | {"photo": _photo()},
            regs,
            single=("name", "phone", "returned_from"),
        ),
        "desk": Page(
            f"/r/desk/{w['round'].pk}/KJ01/",
            w["committee_user"],
            lambda: {
                "household": str(w["homes"][0].pk),
                "name": "张三明",
                "phone": "13812345678",
                "channel": "desk",
            },
            regs,
            single=("name", "phone"),
            hidden=("channel",),
        ),
        "batch": Page(
            f"/r/desk/{w['round'].pk}/KJ01/batch/",
            w["committee_user"],
            lambda: {"rows": f"12-301, 张三明, 13812345678, {now}", "channel": "sheet"},
            regs,
            hidden=("channel",),
            multi=("rows",),
        ),
        "void": Page(
            f"/r/review/{w['pending'].pk}/void/",
            w["committee_user"],
            lambda: {"reason": "not_resident", "note": "租客已搬走"},
            Registration.objects.filter(status=Registration.Status.VOID).count,
            single=("reason",),
            multi=("note",),
        ),
        "status": Page(
            "/r/status/",
            None,
            lambda: {"ticket": w["voucher"].registration.ticket, "phone": "13812345679"},
            None,
            single=("ticket", "phone"),
        ),
        "supply": Page(
            "/vouchers/supply/",
            w["pharmacy_user"],
            lambda: {
                "pharmacy": w["voucher"].pharmacy.code,
                "date": timezone.localdate().isoformat(),
                "packs": "3",
                "manufacturer": "上海某医疗用品有限公司",
                "style": "一次性医用口罩",
                "unit_price": "9.90",
            },
            SupplyDeclaration.objects.count,
            single=("date", "packs", "manufacturer", "style", "unit_price"),  # "pharmacy": 404
        ),
        "allocate": Page(
            "/vouchers/allocate/",
            w["subdistrict_user"],
            lambda: {
                "round": str(w["round"].pk),
                "date": timezone.localdate().isoformat(),
                "pharmacy": "",
                "confirm": _allocation_confirmation(w),
            },
            Voucher.objects.count,
            single=("round", "date", "pharmacy"),
        ),
        "redeem": Page(
            "/pharmacy/scan/",
            w["pharmacy_user"],
            lambda: {"code": w["voucher"].code, "action": "redeem"},
            Redemption.objects.count,
            single=("code",),
            hidden=("action",),
        ),
        "notice": Page(
            "/public/staff/notices/",
            w["subdistrict_user"],
            lambda: {"title": "停水通知", "body": "明天停水", "subdistrict": w["sub"].code},
            Notice.objects.count,
            single=("title",),
            hidden=("subdistrict",),
            multi=("body",),
        ),
    }


def _client(page: Page) -> Client:
    client = Client()
    if page.user is not None:
        client.force_login(page.user)
    return client


def _pages_without_db() -> dict[str, Page]:
    """The table for parametrizing (nothing of it is called)."""
    fake: dict[str, Any] = {
        "round": type("R", (), {"pk": 1})(),
        "building": type("B", (), {"pk": 1})(),
        "homes": [type("H", (), {"pk": 1})()],
        "pending": type("P", (), {"pk": 1})(),
    }
    fake |= {k: None for k in ("voucher", "sub", "committee_user")}
    fake |= {k: None for k in ("pharmacy_user", "subdistrict_user", "committee")}
    return _pages(fake)


def _cases(kind: str) -> list[tuple[str, str]]:
    """(page, field) pairs of one kind."""
    return [(name, f) for name, page in _pages_without_db().items() for f in getattr(page, kind)]


def _inject(value: str, char: str) -> str:
    return f"{value or 'a'}{char}b"


@pytest.mark.parametrize("name", list(_pages_without_db()))
def test_every_valid_body_is_accepted_and_writes(world, name):
    """The positive control: each body of the table passes and writes (so the refusals
    below are the rule's, and their unchanged counts mean something)."""
    page = _pages(world)[name]
    before = page.count() if page.count else 0
    response = _client(page).post(page.url, page.body())
    assert response.status_code in page.ok, response.content.decode()[:800]
    if page.count is not None:
        assert page.count() > before


@pytest.mark.parametrize("char", ["\x01", "\x7f", "\u0085", "\n"])
@pytest.mark.parametrize(("name", "field_name"), _cases("single") + _cases("hidden"))
def test_control_character_in_a_single_line_field_is_refused(world, name, field_name, char):
    page = _pages(world)[name]
    before = page.count() if page.count else None
    body = page.body()
    body[field_name] = _inject(body[field_name], char)
    response = _client(page).post(page.url, body)
    html = response.content.decode()
    message = ONE_LINE if char == "\n" else CONTROL
    assert response.status_code == 422, (name, field_name, html[:800])
    assert message in html
    if field_name in page.single:  # shown next to its field (after it on the page)
        assert html.rindex(message) > html.index(f'name="{field_name}"'), (name, field_name)
    if page.count is not None:
        assert page.count() == before


@pytest.mark.parametrize("char", ["\x01", "\x7f", "\u0085"])
@pytest.mark.parametrize(("name", "field_name"), _cases("multi"))
def test_control_character_in_a_multi_line_field_is_refused(world, name, field_name, char):
    page = _pages(world)[name]
    before = page.count() if page.count else None
    body = page.body()
    body[field_name] = _inject(body[field_name], char)
    response = _client(page).post(page.url, body)
    html = response.content.decode()
    assert response.status_code == 422 and CONTROL in html, (name, html[:800])
    assert html.rindex(CONTROL) > html.index(f'name="{field_name}"')
    if page.count is not None:
        assert page.count() == before


@pytest.mark.parametrize(("name", "field_name"), _cases("multi"))
def test_line_break_and_tab_in_a_multi_line_field_are_accepted(world, name, field_name):
    page = _pages(world)[name]
    before = page.count()
    body = page.body()
    body[field_name] = body[field_name] + "\n\t" + body[field_name].replace("301", "304")
    response = _client(page).post(page.url, body)
    assert response.status_code in page.ok, response.content.decode()[:800]
    assert page.count() > before


def test_helper_files_errors_per_field_and_hidden_fields_at_the_top():
    errors = posted_text_errors(
        {"name": "a\x01", "note": "a\nb", "title": "a\nb", "action": "x\x7f"},
        fields=("name", "title"),
        multiline=("note",),
    )
    assert set(errors.errors) == {"name", "title", "general"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (" 7 ", 7), ("abc", None), ("1.5", None), ("-1", None), ("0", None),
     ("", None), (None, None), ("99999999999999999999", None), ("١٢", None), ("²", None)],
)  # fmt: skip
def test_parse_id(value, expected):
    assert parse_id(value) == expected


@pytest.mark.parametrize("bad", ["abc", "1.5", "-1", "", "99999999999999999999", "１２"])
def test_desk_bad_household_id_is_not_found_never_500(world, bad):
    page = _pages(world)["desk"]
    body = page.body() | {"household": bad}
    before = Registration.objects.count()
    assert _client(page).post(page.url, body).status_code == 404
    assert Registration.objects.count() == before


@pytest.mark.parametrize("bad", ["abc", "1.5", "99999999999999999999"])
def test_entry_bad_building_or_room_is_a_field_error(world, bad):
    page = _pages(world)["entry"]
    before = Registration.objects.count()
    for field_name in ("building", "room"):
        response = _client(page).post(page.url, page.body() | {field_name: bad})
        assert response.status_code == 422, field_name
    assert Registration.objects.count() == before
    assert _client(page).get(page.url, {"building": bad}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/r/{big}/KJ01/",
        "/r/{big}/KJ01/photo/",
        "/r/{round}/KJ01/poster/{big}/",
        "/r/desk/{big}/KJ01/",
        "/r/desk/{big}/KJ01/batch/",
        "/r/slip/{big}/",
        "/r/review/{big}/void/",
        "/r/photos/{big}/",
        "/public/rounds/{big}/",
        "/public/staff/rounds/{big}/dashboard/",
    ],
)
def test_ids_too_large_for_the_database_are_not_found(world, path):
    client = Client()
    client.force_login(world["committee_user"])
    url = path.format(big="9" * 20, round=world["round"].pk)
    response = client.post(url, {}) if "void" in url else client.get(url)
    assert response.status_code == 404, response.content.decode()[:500]
