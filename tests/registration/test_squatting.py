"""No squatting (docs/fairness.md): a made-up name never blocks the household's own
registration and never gets a voucher; the resident photo channel takes the SMS code."""

from __future__ import annotations

import io

import pytest

from fairshare.allocation.engine import allocation_run
from fairshare.allocation.models import Voucher
from fairshare.allocation.services import supply_declare
from fairshare.core.models import OutboxMessage
from fairshare.core.sms import sms_render
from fairshare.registration.models import LedgerEntry, Registration
from fairshare.registration.selectors import review_superseded
from fairshare.registration.verify import verify_database_chain
from fairshare.rounds.models import Round
from tests.factories import HouseholdFactory, MemberFactory

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _api_register(client, place, *, name, phone):
    return client.post(
        f"/api/v1/rounds/{place['round'].pk}/registrations",
        {
            "committee": "KJ01",
            "building": "12号",
            "room": "301",
            "name": name,
            "phone": phone,
        },
        content_type="application/json",
    )


def test_squatter_gets_no_voucher_and_the_real_household_is_accepted_and_served(
    client, place, staff
):
    # An earlier, honest neighbour: the squatter must not change their order either.
    neighbour = HouseholdFactory(building=place["building"], room="302")
    MemberFactory(household=neighbour, name="李四")
    squat = _api_register(client, place, name="王小二", phone="13900000001")
    assert squat.status_code == 201 and squat.json()["status"] == "pending_review"
    assert squat.json()["queue_number"] == 1
    other = client.post(
        f"/api/v1/rounds/{place['round'].pk}/registrations",
        {
            "committee": "KJ01",
            "building": "12号",
            "room": "302",
            "name": "李四",
            "phone": "13900000002",
        },
        content_type="application/json",
    )
    assert other.status_code == 201 and other.json()["queue_number"] == 2

    real = _api_register(client, place, name="张三明", phone="13812345678")
    assert real.status_code == 201, real.json()
    body = real.json()
    assert body["status"] == "verified" and body["queue_number"] == 3  # its own place

    squatter = Registration.objects.get(queue_number=1)
    assert squatter.status == "void" and squatter.void_reason == "superseded"
    kinds = list(LedgerEntry.objects.order_by("seq").values_list("kind", flat=True))
    assert kinds == ["registered", "registered", "voided", "registered"]
    assert '"reason":"superseded"' in LedgerEntry.objects.get(seq=3).payload
    report = verify_database_chain(
        round_id=place["round"].pk, committee_id=place["committee"].pk, committee_code="KJ01"
    )
    assert report.ok, report
    assert list(review_superseded(user=staff)) == [squatter]  # staff see it

    # The squatter cannot register again over the real household.
    again = _api_register(client, place, name="王小二", phone="13900000001")
    assert again.status_code == 409

    _allocate(place)
    served = set(Voucher.objects.values_list("registration__queue_number", flat=True))
    assert served == {2, 3}  # the neighbour, then the real household; never the squatter


def _allocate(place):
    from django.utils import timezone

    today = timezone.localdate()
    supply_declare(
        pharmacy=place["committee"].pharmacy,
        date=today,
        packs=10,
        manufacturer="厂家",
        style="平面",
        unit_price="2.50",
        actor=None,
    )
    allocation_run(round=place["round"], date=today, pharmacy=place["committee"].pharmacy)


def _photo_post(client, place, **extra):
    upload = io.BytesIO(PNG)
    upload.name = "id.png"
    data = {
        "building": place["building"].pk,
        "room": place["household"].pk,
        "name": "张三明",
        "phone": "13812345678",
        "photo": upload,
        **extra,
    }
    return client.post(f"/r/{place['round'].pk}/KJ01/photo/", data)


def test_photo_channel_asks_for_the_sms_code_when_the_round_does(client, place, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    Round.objects.filter(pk=place["round"].pk).update(phone_verification=True)
    page = client.get(f"/r/{place['round'].pk}/KJ01/photo/?building={place['building'].pk}")
    assert 'name="sms_code"' in page.content.decode()
    missing = _photo_post(client, place)
    assert missing.status_code == 422 and not Registration.objects.exists()
    client.post(
        f"/r/{place['round'].pk}/KJ01/photo/",
        {
            "building": place["building"].pk,
            "room": place["household"].pk,
            "phone": "13812345678",
            "action": "send_code",
        },
    )
    text = sms_render(OutboxMessage.objects.get(kind="sms").payload)
    code = "".join(ch for ch in text if ch.isdigit())[:6]
    assert _photo_post(client, place, sms_code=code).status_code == 302
    assert Registration.objects.get().channel == "photo"


def test_photo_channel_needs_no_code_when_the_round_does_not(client, place, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    page = client.get(f"/r/{place['round'].pk}/KJ01/photo/?building={place['building'].pk}")
    assert 'name="sms_code"' not in page.content.decode()
    assert _photo_post(client, place).status_code == 302
    assert Registration.objects.get().channel == "photo"


def test_staff_channels_stay_exempt_from_the_code(place, staff):
    from fairshare.registration.services import registration_create

    Round.objects.filter(pk=place["round"].pk).update(phone_verification=True)
    place["round"].refresh_from_db()
    reg = registration_create(
        round=place["round"],
        household=place["household"],
        name="张三明",
        phone="13812345678",
        channel="desk",
        actor=staff,
    ).registration
    assert reg.created_by == staff and reg.status == "verified"
