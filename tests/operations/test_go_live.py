"""Going live in a new subdistrict (issue 19): a subdistrict that is not Kongjiang, given
as a workbook in the documented format, imports through the command line and through the
upload page; then, with no other set-up, staff sign in with their one-time passwords,
create and open a round on the round pages, residents register, supply is declared,
vouchers are allocated and one is redeemed at the pharmacy (the next day)."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fairshare.accounts.models import User
from fairshare.allocation.models import SupplyDay, Voucher
from fairshare.community.models import Building, Committee, Household, Member, Pharmacy, Subdistrict
from fairshare.core.outbox import outbox_drain
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round
from tests.operations import golive_book as book

pytestmark = pytest.mark.django_db

NEW_PASSWORDS = {
    "wjc-desk1": "zhengtong-desk-2020",
    "wjc-desk2": "guoding-desk-2020",
    "wjc-pharm1": "wujiaochang-pharm-2020",
    "wjc-office": "wujiaochang-office-2020",
}
SUPPLY = 3  # packs at WJCP1 for the day: fewer than the households waiting there


@pytest.fixture(scope="module")
def roster() -> book.Roster:
    return book.roster()


@pytest.fixture(scope="module")
def workbook(roster) -> bytes:
    return book.workbook(roster)


def _import(tmp_path, data: bytes) -> tuple[str, str]:
    path = tmp_path / "五角场街道.xlsx"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_roster", str(path), "--district", "杨浦区", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _assert_places(roster: book.Roster) -> None:
    sub = Subdistrict.objects.get(name=book.SUB_NAME)
    assert sub.name == book.SUB_NAME and sub.district.name == "杨浦区"
    committees = Committee.objects.filter(subdistrict=sub)
    assert sorted(committees.values_list("code", flat=True)) == ["WJC01", "WJC02", "WJC03"]
    served = dict(committees.values_list("code", "pharmacy__code"))
    assert served == {"WJC01": "WJCP1", "WJC02": "WJCP1", "WJC03": "WJCP2"}
    assert Pharmacy.objects.filter(subdistrict=sub).count() == 2
    households = Household.objects.filter(committee__subdistrict=sub)
    assert households.count() == 600 == len(roster.homes)
    assert Member.objects.filter(household__committee__subdistrict=sub).count() == roster.members
    # "3", "3号" and "3栋" are one building; 10 buildings per committee.
    assert Building.objects.filter(committee__subdistrict=sub).count() == 30
    staff = dict(User.objects.filter(username__startswith="wjc-").values_list("username", "role"))
    assert staff == {
        "wjc-desk1": "committee",
        "wjc-desk2": "committee",
        "wjc-pharm1": "pharmacy",
        "wjc-office": "subdistrict",
    }


def _first_login(username: str, one_time: str) -> Client:
    """Sign in with the one-time password: only the change page, then a new password."""
    client = Client()
    login = client.post("/accounts/login/", {"username": username, "password": one_time})
    assert login.status_code == 302, login.content[:500]
    assert client.get("/accounts/")["Location"] == "/accounts/password/"
    new = NEW_PASSWORDS[username]
    changed = client.post(
        "/accounts/password/",
        {"old_password": one_time, "new_password1": new, "new_password2": new},
    )
    assert (changed.status_code, changed["Location"]) == (302, "/accounts/"), username
    assert client.get("/accounts/").status_code == 200
    return client


def _round_form() -> dict[str, str]:
    now = timezone.localtime()
    tomorrow = now.date() + timedelta(days=1)
    return {
        "name": "五角场第一轮",
        "subdistrict": str(Subdistrict.objects.get(name=book.SUB_NAME).pk),
        "registration_opens_at": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
        "registration_closes_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "valid_from": tomorrow.isoformat(),
        "valid_until": (tomorrow + timedelta(days=6)).isoformat(),
        "policy": "fcfs",
        "offline_reserve_pct": "0",
    }


def _create_and_open_round(office: Client) -> Round:
    assert office.get("/staff/rounds/new/").status_code == 200
    created = office.post("/staff/rounds/new/", _round_form())
    assert created.status_code == 302, created.content.decode()[:3000]
    round_ = Round.objects.get(name="五角场第一轮")
    assert round_.status == "draft" and round_.subdistrict.name == book.SUB_NAME
    page = office.get(f"/staff/rounds/{round_.pk}/").content.decode()
    assert all(code in page for code in ("WJC01", "WJC02", "WJC03"))
    assert office.post(f"/staff/rounds/{round_.pk}/open/").status_code == 302
    round_.refresh_from_db()
    assert round_.status == "open" and round_.registration_is_open()
    return round_


def _resident_registers(round_: Round, home: book.Home, phone: str) -> None:
    """A resident scans the committee's QR code: picks the building, the room, types the
    name of a household member and a phone number."""
    resident = Client()
    url = f"/r/{round_.pk}/{home.committee}/"
    page = resident.get(url)
    assert page.status_code == 200 and page.context["open_now"]
    building = next(b for b in page.context["buildings"] if b.label == home.building)
    rooms = resident.get(url, {"building": building.pk}).context["rooms"]
    room = next(r for r in rooms if r["room"] == home.room)
    answer = resident.post(
        url,
        {"building": building.pk, "room": room["id"], "name": home.members[-1], "phone": phone},
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    assert resident.get(answer["Location"]).status_code == 200  # the confirmation


def _desk_registers(desk: Client, round_: Round, home: book.Home, phone: str) -> None:
    """Committee staff at the desk type the address as the resident says it."""
    url = f"/r/desk/{round_.pk}/{home.committee}/"
    typed = f"{home.building} {home.room}室"
    found = desk.get(url, {"q": typed})
    assert found.status_code == 200, found.content.decode()[:3000]
    household = found.context["household"]
    assert (household.building.label, household.room) == (home.building, home.room)
    answer = desk.post(
        url,
        {"household": household.pk, "name": home.members[0], "phone": phone, "id_checked": "on"},
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    assert desk.get(answer["Location"]).status_code == 200  # the slip


def _supply_and_allocate(office: Client, round_: Round) -> None:
    day = round_.valid_from.isoformat()
    supply = {
        "pharmacy": "WJCP1",
        "date": day,
        "packs": str(SUPPLY),
        "manufacturer": "上海某医疗用品有限公司",
        "style": "一次性使用医用口罩",
        "unit_price": "9.90",
    }
    declared = office.post("/vouchers/supply/", supply)
    assert declared.status_code == 302, declared.content.decode()[:3000]
    assert SupplyDay.objects.get(pharmacy__code="WJCP1", date=round_.valid_from).packs == SUPPLY
    run = {"round": str(round_.pk), "date": day, "pharmacy": "WJCP1"}
    preview = office.post("/vouchers/allocate/", run)
    assert preview.status_code == 200, preview.content.decode()[:3000]
    assert not Voucher.objects.exists()
    allocated = office.post("/vouchers/allocate/", run | {"confirm": preview.context["token"]})
    assert allocated.status_code == 200, allocated.content.decode()[:3000]


def _board(round_: Round, code: str) -> dict[tuple[str, str], str]:
    """The public board of a committee: (building, room) → status, registered rows."""
    page = Client().get(f"/public/rounds/{round_.pk}/committees/{code}/")
    assert page.status_code == 200
    assert page.context["committee"].name in page.content.decode()
    entries = page.context["board"].entries
    return {
        (e["building"], e["room"]): e["status"] for e in entries if e["status"] != "not_registered"
    }


def _next_day(monkeypatch, voucher) -> None:
    """Move "now" into the voucher's time slot on its day (10:00 when it has none): the
    resident comes when the voucher says."""
    real_now = timezone.now
    at = voucher.slot_start or time(10, 0)
    target = timezone.make_aware(datetime.combine(voucher.date, at)) + timedelta(minutes=1)
    shift = target - real_now()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + shift)


def test_command_line_import_then_a_whole_round(tmp_path, roster, workbook, monkeypatch):
    out, err = _import(tmp_path, workbook)
    one_time = dict(line.split("\t") for line in out.splitlines())
    assert set(one_time) == set(NEW_PASSWORDS), err
    assert '"households": {"created": 600' in err
    _assert_places(roster)

    clients = {name: _first_login(name, password) for name, password in one_time.items()}
    office, desk1 = clients["wjc-office"], clients["wjc-desk1"]
    round_ = _create_and_open_round(office)

    phones = iter(f"1361234{n:04d}" for n in range(100))
    online = [roster.of("WJC01")[0], roster.of("WJC01")[57], roster.of("WJC02")[133]]
    online.append(roster.of("WJC03")[199])  # served by the other pharmacy
    for home in online:
        _resident_registers(round_, home, next(phones))
    _desk_registers(desk1, round_, roster.of("WJC01")[21], next(phones))
    registrations = Registration.objects.filter(round=round_)
    assert registrations.count() == 5
    assert set(registrations.values_list("status", flat=True)) == {"verified"}
    waiting_at_p1 = registrations.filter(committee__pharmacy__code="WJCP1").count()
    assert waiting_at_p1 == 4
    # Committee staff see only their own committee's desk.
    assert desk1.get(f"/r/desk/{round_.pk}/WJC02/").status_code == 404

    _supply_and_allocate(office, round_)
    vouchers = Voucher.objects.filter(round=round_)
    assert vouchers.count() == min(SUPPLY, waiting_at_p1)
    assert set(vouchers.values_list("pharmacy__code", flat=True)) == {"WJCP1"}
    assert set(vouchers.values_list("date", flat=True)) == {round_.valid_from}

    wjc01 = _board(round_, "WJC01")
    assert set(wjc01) == {(h.building, h.room) for h in [*online[:2], roster.of("WJC01")[21]]}
    issued = [*wjc01.values(), *_board(round_, "WJC02").values()].count("voucher_issued")
    assert issued == SUPPLY and set(_board(round_, "WJC03").values()) == {"waiting"}

    voucher = vouchers.order_by("pk").first()
    assert voucher.date == timezone.localdate() + timedelta(days=1)
    _next_day(monkeypatch, voucher)  # yesterday's sessions have ended: the pharmacist signs in
    pharm = Client()
    signed_in = pharm.post(
        "/accounts/login/", {"username": "wjc-pharm1", "password": NEW_PASSWORDS["wjc-pharm1"]}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] != "/accounts/password/"
    assert pharm.get("/pharmacy/scan/").status_code == 200
    shown = pharm.post("/pharmacy/scan/", {"code": voucher.code, "action": "lookup"})
    assert shown.status_code == 200 and "error" not in shown.context, shown.context.get("error")
    assert shown.context["voucher"]["code"]
    sold = pharm.post("/pharmacy/scan/", {"code": voucher.code, "action": "redeem"})
    assert sold.status_code == 200 and "error" not in sold.context, sold.context.get("error")
    assert vouchers.filter(status=Voucher.Status.REDEEMED).count() == 1
    home = voucher.household
    bought = _board(round_, voucher.committee.code)[(home.building.label, home.room)]
    assert bought == "bought"
    again = pharm.post("/pharmacy/scan/", {"code": voucher.code, "action": "redeem"})
    assert again.status_code == 409
    assert vouchers.filter(status=Voucher.Status.REDEEMED).count() == 1


def _job(client: Client, answer) -> dict:
    assert answer.status_code == 302, answer.content.decode()[:3000]
    outbox_drain()
    page = client.get(answer["Location"])
    assert page.status_code == 200 and page.context["status"]["state"] == "done", page.context[
        "status"
    ]
    return page.context


def test_upload_page_imports_the_same_workbook(roster, workbook):
    from tests.factories import SubdistrictFactory, UserFactory

    sub = SubdistrictFactory(code=book.SUB_CODE, name=book.SUB_NAME, district__name="杨浦区")
    uploader = UserFactory(role="subdistrict", subdistrict=sub)
    client = Client()
    client.force_login(uploader)
    upload = SimpleUploadedFile("五角场街道.xlsx", workbook)
    check = _job(client, client.post("/accounts/import/", {"action": "check", "upload": [upload]}))
    assert not Household.objects.exists()  # the check writes nothing
    confirm = {"action": "confirm", "job": check["job"].pk}
    done = _job(client, client.post("/accounts/import/", confirm))
    assert not done["dry_run"]
    _assert_places(roster)
    counts = done["job"].result["counts"]
    assert counts["households"]["created"] == 600
    assert counts["households"]["members"] == roster.members
    assert counts["staff"]["created"] == 4
    assert (
        User.objects.filter(username__startswith="wjc-", password_change_required=True).count() == 4
    )
