"""The committee desk (issues 15 and 16): a walk-in without a mobile, one address
normaliser, lookup by name or phone, "ID checked" required by the round, and the
pre-filled mailbox forms whose signed QR opens the household at the desk."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fairshare.core.errors import FieldErrors
from fairshare.core.models import OutboxMessage
from fairshare.core.outbox import outbox_drain
from fairshare.core.phones import has_mobile
from fairshare.core.sms import sms_enqueue
from fairshare.registration.address import address_parse
from fairshare.registration.mailbox import mailbox_code_make
from fairshare.registration.models import Registration
from fairshare.registration.services import registration_create
from fairshare.rounds.models import Round
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
)

pytestmark = pytest.mark.django_db


def _desk(place):
    return f"/r/desk/{place['round'].pk}/KJ01/"


def _register(client, place, **fields):
    data = {"household": place["household"].pk, "name": "张三明", "phone": ""}
    return client.post(_desk(place), {**data, **fields})


def _sms_count():
    return OutboxMessage.objects.filter(kind="sms").count()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("", ""), ("无", ""), ("no phone", ""), ("021-65431234", "021 6543 1234")],
)
def test_walk_in_without_a_mobile_is_registered_without_sms(client, place, staff, typed, stored):
    client.force_login(staff)
    response = _register(client, place, phone=typed, id_checked="on")
    assert response.status_code == 302 and response["Location"].endswith("?print=1")
    reg = Registration.objects.get()
    assert reg.phone == stored and reg.channel == "desk" and reg.status == "verified"
    assert not has_mobile(reg.phone)  # the notify-by-hand rule (allocation/by_hand.py)
    assert _sms_count() == 0
    slip = client.get(response["Location"]).content.decode()
    assert "data-autoprint" in slip and "已查验证件" in slip


def test_desk_with_a_mobile_still_texts(client, place, staff):
    client.force_login(staff)
    assert _register(client, place, phone="13812345678").status_code == 302
    assert Registration.objects.get().phone == "13812345678" and _sms_count() == 1


def test_desk_refuses_an_unreadable_phone(client, place, staff):
    client.force_login(staff)
    response = _register(client, place, phone="12345")
    assert response.status_code == 422 and "phone" in response.context["errors"]
    assert not Registration.objects.exists()


@pytest.mark.parametrize("channel", ["online", "photo"])
def test_resident_channels_still_need_a_mobile(place, channel):
    for phone in ("", "021-65431234"):
        with pytest.raises(FieldErrors) as caught:
            registration_create(
                round=place["round"],
                household=place["household"],
                name="张三明",
                phone=phone,
                channel=channel,
                photo_attached=True,
            )
        assert "phone" in caught.value.errors
    assert not Registration.objects.exists()


def test_round_requiring_id_check_refuses_desk_entry_without_it(client, place, staff):
    Round.objects.filter(pk=place["round"].pk).update(desk_id_check_required=True)
    client.force_login(staff)
    page = client.get(_desk(place), {"q": "12-301"}).content.decode()
    assert 'id="id-check-required"' in page
    refused = _register(client, place)
    assert refused.status_code == 422 and "id_checked" in refused.context["errors"]
    assert not Registration.objects.exists()
    assert _register(client, place, id_checked="on").status_code == 302
    assert Registration.objects.get().id_checked


_FULL = str.maketrans("0123456789-", "０１２３４５６７８９－")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lane=st.one_of(st.none(), st.integers(1, 999)),
    number=st.integers(1, 99),
    room=st.integers(101, 2999),
    building_suffix=st.sampled_from(["", "号", "栋", "幢", "号楼"]),
    separator=st.sampled_from(["-", " ", "/", "－", " - "]),
    room_suffix=st.sampled_from(["", "室"]),
    full_width=st.booleans(),
)
def test_address_forms_normalise_to_one_household(
    lane, number, room, building_suffix, separator, room_suffix, full_width
):
    prefix = f"{lane}弄" if lane else ""
    sep = separator if not building_suffix else separator.strip()
    typed = f"{prefix}{number}{building_suffix}{sep}{room}{room_suffix}"
    if full_width:
        typed = typed.translate(_FULL)
    parsed = address_parse(typed)
    assert parsed is not None, typed
    assert parsed.building == f"{prefix}{number}号" and parsed.room == str(room)
    assert parsed.bare_building == f"{number}号"


@pytest.mark.parametrize(
    "typed", ["12号301", "12-301", "61弄12号301室", "１２－３０１", "12栋 301"]
)
def test_desk_finds_the_household_from_every_form(client, place, staff, typed):
    client.force_login(staff)
    response = client.get(_desk(place), {"q": typed})
    assert response.status_code == 200 and response.context["household"] == place["household"]


def test_lookup_by_name_and_phone(client, place, staff):
    other = HouseholdFactory(building=place["building"], room="302")
    MemberFactory(household=other, name="张三丰", phone="13912340000")
    client.force_login(staff)
    one = client.get(_desk(place), {"q": "张三明"})
    assert one.context["household"] == place["household"]
    several = client.get(_desk(place), {"q": "张三"})
    assert several.context.get("household") is None
    assert set(several.context["matches"]) == {place["household"], other}
    assert f'href="?h={other.pk}"' in several.content.decode()
    picked = client.get(_desk(place), {"h": other.pk})
    assert picked.context["household"] == other
    by_phone = client.get(_desk(place), {"q": "139 1234 0000"})
    assert by_phone.context["household"] == other
    nobody = client.get(_desk(place), {"q": "王五"})
    assert nobody.status_code == 404 and "q" in nobody.context["errors"]
    foreign = HouseholdFactory(building=BuildingFactory(committee=CommitteeFactory()))
    assert client.get(_desk(place), {"h": foreign.pk}).status_code == 404


def test_mailbox_forms_pdf_per_building(client, place, staff):
    client.force_login(staff)
    page = client.get(f"/vouchers/mailbox/{place['round'].pk}/KJ01/")
    url = f"/vouchers/mailbox/{place['round'].pk}/KJ01/{place['building'].pk}.pdf"
    assert page.status_code == 200 and url in page.content.decode()
    pdf = client.get(url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    foreign = BuildingFactory(committee=CommitteeFactory())
    foreign_url = url.replace(f"/{place['building'].pk}.", f"/{foreign.pk}.")
    assert client.get(foreign_url).status_code == 404


def test_mailbox_code_opens_the_household_and_registers_once(client, place, staff):
    client.force_login(staff)
    code = mailbox_code_make(round_id=place["round"].pk, household_id=place["household"].pk)
    opened = client.get(_desk(place), {"q": code})
    assert opened.status_code == 200 and opened.context["household"] == place["household"]
    assert opened.context["from_form"] and opened.context["default_name"] == "张三明"
    assert _register(client, place, id_checked="on").status_code == 302
    reused = client.get(_desk(place), {"q": code})
    assert reused.status_code == 409
    assert reused.context["existing"] == Registration.objects.get()
    assert "这张登记表已经用过" in reused.content.decode()


def test_forged_or_foreign_mailbox_codes_are_refused(client, place, staff):
    client.force_login(staff)
    genuine = mailbox_code_make(round_id=place["round"].pk, household_id=place["household"].pk)
    other_round = RoundFactory(district=place["committee"].subdistrict.district)
    elsewhere = HouseholdFactory(building=BuildingFactory(committee=CommitteeFactory()))
    forged = [
        genuine[:-2] + ("AA" if genuine[-2:] != "AA" else "BB"),  # changed signature
        genuine.replace(f"FSM{place['round'].pk}.", f"FSM{place['round'].pk + 1}."),
        "FSM1.1:" + "x" * 43,
    ]
    for code in [
        *forged,
        mailbox_code_make(round_id=other_round.pk, household_id=place["household"].pk),
        mailbox_code_make(round_id=place["round"].pk, household_id=elsewhere.pk),
    ]:
        response = client.get(_desk(place), {"q": code})
        assert response.status_code == 422, code
        assert response.context.get("household") is None and "q" in response.context["errors"]
    assert not Registration.objects.exists()


def test_no_sms_ever_goes_to_a_household_without_a_mobile(settings, tmp_path):
    """For a landline or no phone no SMS is even queued (they are told by hand), so the
    outbox has nothing to give up and count as failed; a mobile's message is sent."""
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    for phone in ("", "021 6543 1234", "13812345678"):
        sms_enqueue(phone=phone, kind="code", variables={"code": "1", "minutes": "1"})
    assert outbox_drain() == {"sent": 1, "retried": 0, "failed": 0}
    assert settings.SMS_FILE_PATH.read_text(encoding="utf-8").count("\n") == 1
