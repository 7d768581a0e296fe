"""Every resident page carries the short privacy notice (issue 14), in the page's
language, with the purge delay read from FAIRSHARE_PURGE_AFTER_DAYS."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from fairshare.registration.models import Registration
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _no_ratelimit(settings):
    settings.RATELIMIT_ENABLED = False


@pytest.fixture
def place(db):
    committee = CommitteeFactory(code="KJ01", name="图们居委会")
    building = BuildingFactory(committee=committee, label="12号")
    household = HouseholdFactory(building=building, room="301")
    MemberFactory(household=household, name="张三明")
    spare = HouseholdFactory(building=building, room="302")
    return {
        "committee": committee,
        "building": building,
        "household": household,
        "spare": spare,
        "round": RoundFactory(district=committee.subdistrict.district),
    }


def _resident_pages(client: Client, place) -> dict[str, str]:
    """Every resident-facing page (registering along the way), by name: its text."""
    entry = f"/r/{place['round'].pk}/KJ01/"
    building = place["building"].pk
    registered = client.post(
        entry,
        {"building": building, "room": place["household"].pk, "name": "张三明", "phone": PHONE},
    )
    assert registered.status_code == 302
    ticket = Registration.objects.get(household=place["household"]).ticket
    pages = {
        "home": client.get("/"),
        "entry": client.get(entry, {"building": building}),
        "photo entry": client.get(f"{entry}photo/", {"building": building}),
        "confirmation": client.get(registered["Location"]),
        "status form": client.get("/r/status/"),
        "status": client.post("/r/status/", {"ticket": ticket, "phone": PHONE}),
    }
    staff = Client()
    staff.cookies = client.cookies  # the same language choice
    staff.force_login(UserFactory(role="committee", committee=place["committee"]))
    desk = staff.post(
        f"/r/desk/{place['round'].pk}/KJ01/",
        {
            "household": place["spare"].pk,
            "name": "李四",
            "phone": "13912345678",
            "id_checked": "on",
        },
    )
    assert desk.status_code == 302
    pages["desk slip (printed for the resident)"] = staff.get(desk["Location"])
    for name, page in pages.items():
        assert page.status_code == 200, (name, page.status_code)
    return {name: _notice_text(page.content.decode()) for name, page in pages.items()}


def _notice_text(page: str) -> str:
    """The text of the page's privacy notice ("" when it has none)."""
    found = re.search(r'<aside class="privacy-notice".*?</aside>', page, re.S)
    if not found:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split())


def test_every_resident_page_has_the_notice_in_chinese_by_default(client, place):
    for name, notice in _resident_pages(client, place).items():
        assert "您的个人信息" in notice, name
        assert "身份证号只保存加密散列值" in notice and "公示名单只显示隐去部分的姓名" in notice
        assert "删除时间：本轮最后购买日之后 30 天。" in notice, name
        assert "Your personal data" not in notice, name  # one language at a time


def test_the_notice_follows_the_language_switch(client, place):
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert switched.status_code == 302
    for name, notice in _resident_pages(client, place).items():
        assert "Your personal data" in notice, name
        assert "keyed hash" in notice and "masked names only" in notice, name
        assert "Deleted: 30 days after the round's last purchase day." in notice, name
        assert "您的个人信息" not in notice, name


def test_the_full_notice_page_in_both_languages(client, settings):
    settings.FAIRSHARE_PURGE_AFTER_DAYS = 30
    chinese = client.get("/privacy/").content.decode()
    assert "<h1>隐私说明</h1>" in chinese and "本轮最后购买日之后 30 天" in chinese
    assert "Privacy notice" not in chinese
    client.post("/i18n/setlang/", {"language": "en", "next": "/privacy/"})
    english = html.unescape(client.get("/privacy/").content.decode())
    assert "<h1>Privacy notice</h1>" in english
    assert "30 days after the round's last purchase day" in english and "隐私说明" not in english


@pytest.mark.parametrize(
    ("days", "chinese", "english"),
    [
        (12, "本轮最后购买日之后 12 天。", "Deleted: 12 days after"),
        (1, "本轮最后购买日之后 1 天。", "Deleted: 1 day after"),
    ],
)
def test_the_days_follow_the_setting(client, place, settings, days, chinese, english):
    settings.FAIRSHARE_PURGE_AFTER_DAYS = days
    assert chinese in _notice_text(client.get("/").content.decode())
    full = client.get("/privacy/").content.decode()
    assert f"本轮最后购买日之后 {days} 天" in full
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert english in _notice_text(client.get("/r/status/").content.decode())
    assert "30 day" not in client.get("/privacy/").content.decode()
