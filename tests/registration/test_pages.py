from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.core.sms import sms_render
from fairshare.registration.models import LedgerEntry, Registration, RegistrationPhoto
from fairshare.registration.services import registration_create
from fairshare.rounds.models import Round
from tests.factories import CommitteeFactory, UserFactory

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _entry_url(place, suffix=""):
    return f"/r/{place['round'].pk}/KJ01/{suffix}"


def _login(client, user):
    client.force_login(user)
    return client


def test_entry_building_then_room_then_confirmation(client: Client, place):
    page = client.get(_entry_url(place))
    assert page.status_code == 200 and "12号" in page.content.decode()
    assert "<script" not in page.content.decode().split("</main>")[0]  # no inline scripts
    rooms = client.get(_entry_url(place), {"building": place["building"].pk})
    assert f'value="{place["household"].pk}"' in rooms.content.decode()
    response = client.post(
        _entry_url(place),
        {
            "building": place["building"].pk,
            "room": place["household"].pk,
            "name": "张三明",
            "phone": "13812345678",
        },
    )
    assert response.status_code == 302
    done = client.get(response["Location"])
    text = done.content.decode()
    assert done.status_code == 200 and "登记不等于购买凭证" in text
    reg = Registration.objects.get()
    assert str(reg.queue_number) in text and reg.ticket[:4] in text
    # Another browser cannot open the confirmation page of this ticket.
    assert Client().get(response["Location"]).status_code == 302


def test_entry_shows_field_errors_and_writes_nothing(client, place):
    response = client.post(
        _entry_url(place),
        {
            "building": place["building"].pk,
            "room": place["household"].pk,
            "name": "",
            "phone": "123",
        },
    )
    text = response.content.decode()
    assert response.status_code == 422 and "请填写姓名" in text and "手机号码" in text
    assert not Registration.objects.exists()


def test_entry_refused_outside_window(client, place):
    Round.objects.filter(pk=place["round"].pk).update(
        registration_closes_at=timezone.now() - timedelta(minutes=1),
        registration_opens_at=timezone.now() - timedelta(days=1),
    )
    page = client.get(_entry_url(place))
    assert "现在不接受登记" in page.content.decode() or "not open" in page.content.decode()
    response = client.post(
        _entry_url(place),
        {
            "building": place["building"].pk,
            "room": place["household"].pk,
            "name": "张三明",
            "phone": "13812345678",
        },
    )
    assert response.status_code == 200 and not Registration.objects.exists()


def test_phone_verification_code_flow(client, place):
    from fairshare.core.models import OutboxMessage

    Round.objects.filter(pk=place["round"].pk).update(phone_verification=True)
    base = {
        "building": place["building"].pk,
        "room": place["household"].pk,
        "name": "张三明",
        "phone": "13812345678",
    }
    missing = client.post(_entry_url(place), base)
    assert missing.status_code == 422 and not Registration.objects.exists()
    client.post(_entry_url(place), {**base, "action": "send_code"})
    text = sms_render(OutboxMessage.objects.get(kind="sms").payload)
    code = "".join(ch for ch in text if ch.isdigit())[:6]
    wrong = client.post(
        _entry_url(place), {**base, "sms_code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 422 and not Registration.objects.exists()
    assert client.post(_entry_url(place), {**base, "sms_code": code}).status_code == 302
    assert Registration.objects.count() == 1


def test_status_page_and_poster(client, place):
    reg = registration_create(
        round=place["round"],
        household=place["household"],
        name="张三明",
        phone="13812345678",
        channel="online",
    ).registration
    ok = client.post("/r/status/", {"ticket": reg.ticket, "phone": "13812345678"})
    assert ok.status_code == 200 and "登记不等于购买凭证" in ok.content.decode()
    bad = client.post("/r/status/", {"ticket": reg.ticket, "phone": "13912345678"})
    assert bad.status_code == 404
    poster = client.get(_entry_url(place, f"poster/{place['building'].pk}/"))
    assert poster.status_code == 200 and "<svg" in poster.content.decode()
    assert f"?building={place['building'].pk}" in poster.content.decode()


def test_desk_lookup_register_and_slip(client, place, staff):
    _login(client, staff)
    url = f"/r/desk/{place['round'].pk}/KJ01/"
    found = client.get(url, {"q": "12-301"})
    assert found.status_code == 200 and "张三明" in found.content.decode()
    response = client.post(
        url,
        {
            "household": place["household"].pk,
            "name": "张三明",
            "phone": "13812345678",
            "id_checked": "on",
        },
    )
    assert response.status_code == 302
    reg = Registration.objects.get()
    assert reg.channel == "desk" and reg.id_checked and reg.status == "verified"
    assert client.get(response["Location"]).status_code == 200
    again = client.get(url, {"q": "12号 301"})
    assert "排队号" in again.content.decode() or "queue number" in again.content.decode()
    assert client.get("/r/desk/").status_code == 302


def test_desk_of_another_committee_is_not_found(client, place):
    outsider = UserFactory(role="committee", committee=CommitteeFactory())
    _login(client, outsider)
    assert client.get(f"/r/desk/{place['round'].pk}/KJ01/").status_code == 404
    assert Client().get(f"/r/desk/{place['round'].pk}/KJ01/").status_code == 302  # login


def test_photo_channel_review_and_scoped_photo(client, place, staff, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    upload = io.BytesIO(PNG)
    upload.name = "id.png"
    response = client.post(
        _entry_url(place, "photo/"),
        {
            "building": place["building"].pk,
            "room": place["household"].pk,
            "name": "张三明",
            "phone": "13812345678",
            "photo": upload,
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    reg = Registration.objects.get()
    assert reg.channel == "photo" and reg.status == "pending_review" and reg.queue_number == 1
    photo = RegistrationPhoto.objects.get()
    assert (settings.PRIVATE_MEDIA_ROOT / photo.path).read_bytes() == PNG
    assert Client().get(f"/r/photos/{reg.pk}/").status_code == 302
    outsider = UserFactory(role="committee", committee=CommitteeFactory())
    assert _login(Client(), outsider).get(f"/r/photos/{reg.pk}/").status_code == 404
    _login(client, staff)
    served = client.get(f"/r/photos/{reg.pk}/")
    assert served.status_code == 200 and b"".join(served.streaming_content) == PNG
    assert "张三明" in client.get("/r/review/").content.decode()
    client.post(f"/r/review/{reg.pk}/approve/")
    reg.refresh_from_db()
    assert reg.status == "verified"


def test_photo_must_be_an_image(client, place, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    upload = io.BytesIO(b"<html>")
    upload.name = "x.png"
    response = client.post(
        _entry_url(place, "photo/"),
        {
            "building": place["building"].pk,
            "room": place["household"].pk,
            "name": "张三明",
            "phone": "13812345678",
            "photo": upload,
        },
    )
    assert response.status_code == 422 and not Registration.objects.exists()
    assert not any((tmp_path / "private").rglob("*.*"))


def test_review_void_with_reason(client, place, staff):
    reg = registration_create(
        round=place["round"],
        household=place["household"],
        name="李四",
        phone="13812345678",
        channel="online",
    ).registration
    _login(client, staff)
    client.post(f"/r/review/{reg.pk}/void/", {"reason": "not_resident", "note": "租客已搬走"})
    reg.refresh_from_db()
    assert reg.status == "void" and reg.queue_number == 1
    assert LedgerEntry.objects.filter(kind="voided").count() == 1


def test_batch_entry_in_sheet_order_with_sheet_times(client, place, staff):
    from tests.factories import HouseholdFactory

    HouseholdFactory(building=place["building"], room="302")
    _login(client, staff)
    t1 = (timezone.localtime() - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    t2 = (timezone.localtime() - timedelta(minutes=20)).strftime("%Y-%m-%d %H:%M")
    rows = f"12-301, 张三明, 13812345678, {t1}\n12-302, 王五, 13912345678, {t2}\n12-999, 某, 1, x"
    response = client.post(
        f"/r/desk/{place['round'].pk}/KJ01/batch/", {"rows": rows, "channel": "sheet"}
    )
    assert response.status_code == 200
    regs = list(Registration.objects.order_by("queue_number"))
    assert [r.household.room for r in regs] == ["301", "302"]
    assert all(r.channel == "sheet" for r in regs)
    # The sheet's time is the written time; the entry (line) order fixes the numbers.
    assert timezone.localtime(regs[0].written_at).strftime("%Y-%m-%d %H:%M") == t1
    assert regs[0].acknowledged_at <= regs[1].acknowledged_at


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12-301", ("12号", "301")),
        ("12 301", ("12号", "301")),
        ("12号301", ("12号", "301")),
        ("1号-101", ("1号", "101")),
        ("12号 301室", ("12号", "301")),
        ("12/301", ("12号", "301")),
        ("１２－３０１", ("12号", "301")),
        ("12号", ("12号", "")),
    ],
)
def test_desk_address_parsing(typed, expected):
    from fairshare.registration.address import address_split

    assert address_split(typed) == expected
