"""Data helpers for the browser flow tests: seeded places, and API calls that set up a
step a test does not drive through the pages itself (supply, allocation, redemption).

Each flow test takes its own household (by committee and position in the seeded list),
so the tests run alone, in any order, against the one session server.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.support.liveserver import api_token, http

TZ = ZoneInfo("Asia/Shanghai")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def today() -> str:
    return datetime.now(TZ).date().isoformat()


def get_json(url: str) -> Any:
    status, _, body = http("GET", url)
    assert status == 200, (url, status, body[:300])
    return json.loads(body)


def committee(base_url: str, code: str) -> dict[str, Any]:
    return next(c for c in get_json(base_url + "/api/v1/committees") if c["code"] == code)


def open_round_id(base_url: str) -> int:
    """The open round (the home page links to /r/<round>/<committee>/)."""
    rounds = get_json(base_url + "/api/v1/rounds")
    return next(r["id"] for r in rounds if r.get("status") == "open")


def household(base_url: str, code: str, index: int) -> dict[str, Any]:
    """The ``index``-th household of a committee (negative counts from the end)."""
    households = get_json(base_url + f"/api/v1/committees/{code}/households")
    return households[index]


# The seeded places, joined: household → building → committee.
_PLACES = (
    "JOIN community_building b ON b.id = h.building_id "
    "JOIN community_committee c ON c.id = b.committee_id "
)


def server_rows(data_dir: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows read from the e2e server's own SQLite file (read-only)."""
    with sqlite3.connect(f"file:{data_dir}/fairshare.sqlite3?mode=ro", uri=True) as db:
        return list(db.execute(sql, params).fetchall())


def roster_name(data_dir: str, *, code: str, building: str, room: str) -> str:
    """The roster name of a seeded household, read from the server's SQLite file: a
    registration with a made-up name waits for review and gets no voucher before staff
    approve it (the review gate, docs/fairness.md), so a flow that wants a voucher at
    once registers with the household's roster name."""
    rows = server_rows(
        data_dir,
        "SELECT m.name FROM community_member m "
        "JOIN community_household h ON h.id = m.household_id " + _PLACES + "WHERE c.code = ? "
        "AND b.label = ? AND h.room = ? ORDER BY m.id LIMIT 1",
        (code, building, room),
    )
    assert rows, (code, building, room)
    return str(rows[0][0])


def post(base_url: str, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, _, raw = http("POST", base_url + path, body=body, headers=headers)
    return status, json.loads(raw) if raw else None


@dataclass(frozen=True)
class IssuedVoucher:
    round_id: int
    committee: dict[str, Any]
    household: dict[str, Any]
    ticket: str
    phone: str
    code: str  # as printed, e.g. "UDCW-W3MHW-KK"


def log_in(page: Any, base_url: str, username: str, next_path: str = "") -> None:
    """Log a demo user in on the login page (keyboard: Enter in the password field) and
    wait until the page has left it."""
    page.goto(base_url + "/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("demo")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def register_online(
    server: Any, *, code: str, index: int, phone: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register the ``index``-th household of ``code`` online (API) with its roster name,
    so it is verified at once: the household (as listed) and the API's answer."""
    home = household(server.url, code, index)
    name = roster_name(
        server.env["FAIRSHARE_DATA_DIR"], code=code, building=home["building"], room=home["room"]
    )
    status, reg = post(
        server.url,
        f"/api/v1/rounds/{open_round_id(server.url)}/registrations",
        {
            "committee": code,
            "building": home["building"],
            "room": home["room"],
            "name": name,
            "phone": phone,
        },
    )
    assert status in (200, 201), reg
    assert reg["status"] == "verified", reg
    return home, reg


def register_and_allocate(server: Any, *, code: str, index: int, phone: str) -> IssuedVoucher:
    """Register one household online (API) with its roster name, declare today's supply
    at its committee's pharmacy and run the allocation: the household's voucher code."""
    base_url = server.url
    round_id = open_round_id(base_url)
    place = committee(base_url, code)
    home, reg = register_online(server, code=code, index=index, phone=phone)
    pharmacy_token = api_token(base_url, "pharmacy" + place["pharmacy"][1:])
    status, body = post(
        base_url,
        f"/api/v1/pharmacies/{place['pharmacy']}/supplies",
        {
            "date": today(),
            "packs": 200,
            "manufacturer": "稳健医疗",
            "style": "一次性使用医用口罩",
            "unit_price": "9.90",
        },
        pharmacy_token,
    )
    assert status == 201, body
    staff_token = api_token(base_url, "subdistrict")
    status, body = post(
        base_url,
        f"/api/v1/rounds/{round_id}/allocations",
        {"date": today(), "pharmacy": place["pharmacy"]},
        staff_token,
    )
    assert status in (200, 201), body
    mine = [
        v
        for v in body["vouchers"]
        if v["committee"] == code and v["queue_number"] == reg["queue_number"]
    ]
    assert len(mine) == 1, body
    return IssuedVoucher(round_id, place, home, reg["ticket"], phone, mine[0]["code"])


def redeem(base_url: str, voucher: IssuedVoucher) -> int:
    """Redeem through the terminal API (200, or 409 when it was already redeemed)."""
    token = api_token(base_url, "pharmacy" + voucher.committee["pharmacy"][1:])
    status, _ = post(base_url, f"/api/v1/vouchers/{voucher.code}/redeem", {}, token)
    return status


def supply_and_allocate(server: Any, *, code: str, packs: int = 200) -> list[dict[str, Any]]:
    """Declare today's supply at a committee's pharmacy and run the allocation as the
    subdistrict's staff do (JSON API): the vouchers the run issued."""
    base_url = server.url
    place = committee(base_url, code)
    pharmacy_token = api_token(base_url, "pharmacy" + place["pharmacy"][1:])
    status, body = post(
        base_url,
        f"/api/v1/pharmacies/{place['pharmacy']}/supplies",
        {
            "date": today(),
            "packs": packs,
            "manufacturer": "稳健医疗",
            "style": "一次性使用医用口罩",
            "unit_price": "9.90",
        },
        pharmacy_token,
    )
    assert status == 201, body
    status, body = post(
        base_url,
        f"/api/v1/rounds/{open_round_id(base_url)}/allocations",
        {"date": today(), "pharmacy": place["pharmacy"]},
        api_token(base_url, "subdistrict"),
    )
    assert status in (200, 201), body
    return list(body["vouchers"])


def roster_household(data_dir: str, *, code: str, delivery: bool) -> tuple[str, str, str, str]:
    """(compound, building, room, roster name) of a not yet registered seeded household of
    ``code`` that has (or has not) a member living alone or with limited mobility: the
    roster's mark that makes the allocation choose home delivery (docs/fairness.md)."""
    flag = "EXISTS" if delivery else "NOT EXISTS"
    rows = server_rows(
        data_dir,
        "SELECT b.compound, b.label, h.room, m.name FROM community_household h "
        + _PLACES
        + "JOIN community_member m ON m.household_id = h.id "
        f"WHERE c.code = ? AND {flag} (SELECT 1 FROM community_member x "
        "WHERE x.household_id = h.id AND (x.lives_alone OR x.mobility_impaired)) "
        "AND NOT EXISTS (SELECT 1 FROM registration_registration r WHERE r.household_id = h.id) "
        "ORDER BY h.id DESC, m.id LIMIT 1",
        (code,),
    )
    assert rows, (code, delivery)
    return str(rows[0][0]), str(rows[0][1]), str(rows[0][2]), str(rows[0][3])


def sms_code(data_dir: str, phone: str) -> str:
    """The last SMS code sent to ``phone`` (the e2e server keeps its outbox unsent)."""
    rows = server_rows(
        data_dir, "SELECT payload FROM core_outboxmessage WHERE kind = 'sms' ORDER BY id DESC"
    )
    for (raw,) in rows:
        payload = json.loads(raw)
        if payload.get("phone") == phone and payload.get("kind") == "code":
            return str(payload["vars"]["code"])
    raise AssertionError(f"no SMS code was sent to {phone}")


def enter_sms_code_if_asked(page: Any, data_dir: str, phone: str) -> None:
    """On a registration form whose round asks for an SMS code: send it, type it in."""
    if page.locator("#id_sms_code").count():
        page.locator("button[name=action][value=send_code]").click()
        page.locator("#id_sms_code").fill(sms_code(data_dir, phone))


def spoken_address(compound: str, building: str, room: str) -> str:
    """``控江路１２００弄１２号３０１室``: the address as a resident types it."""
    spoken = compound + building + (room + "室" if "弄" in compound else "")
    return spoken.translate(FULL_WIDTH)


def register_from_search(page, server, place: dict, *, delivery: bool, phone: str) -> str:
    """Search the address on the home page, register on the form it opens: the personal
    status link the confirmation page gives."""
    data_dir = server.env["FAIRSHARE_DATA_DIR"]
    compound, building, room, name = roster_household(
        data_dir, code=place["code"], delivery=delivery
    )
    page.goto(server.url + "/")
    search = page.get_by_role("searchbox", name=re.compile("查找您的住址"))
    search.fill(spoken_address(compound, building, room))
    search.press("Enter")
    if "/r/" not in page.url:  # several places matched: the result list links each form
        page.get_by_role("link", name=re.compile(re.escape(compound + building))).first.click()
    expect(page).to_have_url(re.compile(rf"/r/\d+/{place['code']}/\?building=\d+$"))
    expect(page.locator("#id_building option:checked")).to_have_text(compound + building)
    page.locator("#id_room").select_option(label=room)
    page.locator("#id_name").fill(name)
    page.locator("#id_phone").fill(phone)
    enter_sms_code_if_asked(page, data_dir, phone)
    page.locator("button[name=action][value=register]").click()
    expect(page).to_have_url(re.compile(r"/r/done/"))
    link = page.locator(".status-link a")
    expect(link).to_have_count(1)
    return str(link.get_attribute("href"))
