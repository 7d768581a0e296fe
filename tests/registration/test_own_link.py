"""A resident's own link (issue 18): the registration's "registered" link in the public
chain, on the desk slip and in the confirmation SMS (seq and the hash's first 12
characters, within the provider's variable limit)."""

from __future__ import annotations

import pytest

from fairshare.core.models import OutboxMessage
from fairshare.core.sms import sms_render
from fairshare.core.sms_aliyun import VARIABLE_MAX, fit_variables
from fairshare.registration.links import registered_link
from fairshare.registration.models import LedgerEntry, Registration
from fairshare.registration.services import registration_create
from tests.factories import HouseholdFactory, MemberFactory

pytestmark = pytest.mark.django_db


def _register(place, household, name: str, phone: str) -> Registration:
    return registration_create(
        round=place["round"], household=household, name=name, phone=phone, channel="online"
    ).registration


def test_the_sms_carries_the_seq_and_the_first_12_characters_of_the_hash(place):
    first = _register(place, place["household"], "张三明", "13812345678")
    other = HouseholdFactory(building=place["building"], room="302")
    second = _register(place, other, "李四", "13812345679")
    link = LedgerEntry.objects.get(registration=second, kind="registered")
    assert link.seq == 2
    sms = OutboxMessage.objects.filter(kind="sms").order_by("id")
    variables = sms[1].payload["vars"]
    assert (variables["seq"], variables["hash"]) == ("2", link.hash[:12])
    assert sms[0].payload["vars"]["seq"] == "1" and first.queue_number == 1
    text = sms_render(sms[1].payload)
    assert f"公示链第2条（{link.hash[:12]}）" in text
    fitted = fit_variables("registration", variables)  # the provider's limits keep them whole
    assert (fitted["seq"], fitted["hash"]) == ("2", link.hash[:12])
    assert all(len(v) <= VARIABLE_MAX for v in fitted.values())


def test_a_superseding_registration_gets_its_own_link_not_the_voided_one(place):
    # The squatter's pending registration is superseded by the roster name's: the void
    # link comes first, the SMS names the new registration's own link after it.
    squatter = _register(place, place["household"], "冒名", "13900000001")
    assert squatter.status == "pending_review"
    own = _register(place, place["household"], "张三明", "13812345678")
    link = registered_link(own)
    assert link is not None and link.seq == 3  # 1 squatter, 2 voided, 3 own
    sms = OutboxMessage.objects.filter(kind="sms").order_by("-id").first()
    assert sms.payload["vars"]["seq"] == "3" and sms.payload["vars"]["hash"] == link.short_hash


def test_the_desk_slip_shows_the_seq_and_hash_of_the_own_link(client, place, staff):
    MemberFactory(household=HouseholdFactory(building=place["building"], room="302"))
    _register(place, HouseholdFactory(building=place["building"], room="303"), "甲", "13800000003")
    client.force_login(staff)
    response = client.post(
        f"/r/desk/{place['round'].pk}/KJ01/",
        {"household": place["household"].pk, "name": "张三明", "phone": "13812345678"},
    )
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    reg = Registration.objects.get(household=place["household"])
    link = registered_link(reg)
    assert link.seq == 2 and link.hash in html and "第2条" in html
    other = registered_link(Registration.objects.exclude(pk=reg.pk).get())
    assert other.hash not in html  # negative control: only the own link
