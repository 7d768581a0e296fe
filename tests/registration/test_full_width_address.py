"""A full-width building number (``１２``) names the same building at every entry point
that takes an address: the desk search, batch (sheet and phone) lines, the building
lookup behind the appointment desk, and the home page's address search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.registration.lookup import building_find, household_resolve
from fairshare.registration.models import Registration

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("typed", "found"), [("１２号３０１", True), ("１３号３０１", False)])
def test_desk_search(client, place, staff, typed, found):
    client.force_login(staff)
    response = client.get(f"/r/desk/{place['round'].pk}/KJ01/", {"q": typed})
    assert (response.context.get("household") == place["household"]) is found


@pytest.mark.parametrize("channel", ["sheet", "phone"])
def test_batch_lines(client, place, staff, channel):
    client.force_login(staff)
    at = (timezone.localtime() - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    rows = f"１２－３０１, 张三明, 13812345678, {at}\n１３－３０１, 王五, 13912345678, {at}"
    response = client.post(
        f"/r/desk/{place['round'].pk}/KJ01/batch/", {"rows": rows, "channel": channel}
    )
    assert response.status_code == 200
    # The full-width line registers; the unknown building 13 (negative control) does not.
    assert [r.household for r in Registration.objects.all()] == [place["household"]]


def test_building_lookups_fold_full_width(place):
    committee = place["household"].committee
    assert building_find(committee=committee, text="１２") == place["building"]
    assert building_find(committee=committee, text="１３") is None
    assert (
        household_resolve(committee_code="KJ01", building="１２号", room="３０１")
        == (place["household"])
    )


def test_home_address_search(client, place):
    building = place["building"]
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    query = f"{building.compound}１２号".translate(full_width)
    response = client.get("/", {"q": query})
    assert response.status_code == 302 and f"building={building.pk}" in response["Location"]
    assert (
        client.get("/", {"q": f"{building.compound}１９号"}).get("Location", "")
        != (response["Location"])
    )
