"""Building posters: the staff list, "print all" as one PDF, phone and desk hours shown."""

from __future__ import annotations

import pytest

from tests.factories import BuildingFactory, CommitteeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def posters(place):
    committee = place["committee"]
    committee.phone, committee.desk_hours = "021-65011234", "周一至周五 8:30-17:00"
    committee.save()
    BuildingFactory(committee=committee, label="13号")
    return f"/r/posters/{place['round'].pk}/KJ01/"


def test_staff_list_every_building_and_print_them_all_in_one_pdf(client, place, staff, posters):
    client.force_login(staff)
    page = client.get(posters).content.decode()
    assert "12号" in page and "13号" in page and "021-65011234" in page
    assert f"/r/{place['round'].pk}/KJ01/poster/{place['building'].pk}/" in page
    pdf = client.get(f"{posters}all.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.content.count(b"/Type /Page\n") == 2


def test_the_poster_and_the_form_carry_the_phone_and_desk_hours(client, place, posters):
    poster = client.get(f"/r/{place['round'].pk}/KJ01/poster/{place['building'].pk}/")
    entry = client.get(f"/r/{place['round'].pk}/KJ01/")
    for body in (poster.content.decode(), entry.content.decode()):
        assert "021-65011234" in body and "周一至周五 8:30-17:00" in body


def test_staff_of_another_committee_are_refused(client, place, posters):
    other = CommitteeFactory(subdistrict=place["committee"].subdistrict)
    client.force_login(UserFactory(role="committee", committee=other))
    assert client.get(posters).status_code == 404
    assert client.get(f"{posters}all.pdf").status_code == 404


def test_residents_and_pharmacy_staff_cannot_open_the_staff_page(client, place, posters):
    assert client.get(posters).status_code == 302  # to the login page
    client.force_login(UserFactory(role="pharmacy", pharmacy=place["committee"].pharmacy))
    assert client.get(posters).status_code == 403


def test_the_room_picker_groups_rooms_by_floor_and_works_without_script(client, place):
    from tests.factories import HouseholdFactory

    for room in ("302", "101", "1201"):
        HouseholdFactory(building=place["building"], room=room)
    body = client.get(f"/r/{place['round'].pk}/KJ01/", {"building": place["building"].pk})
    html = body.content.decode()
    floors = [html.index(f'<optgroup label="{f}楼">') for f in ("1", "3", "12")]
    assert floors == sorted(floors)
    assert html.index(">301<") > floors[1] and html.index(">1201<") > floors[2]
    # The type-to-filter box is hidden until the script shows it; the <select> is the control.
    assert 'class="picker-filter" hidden' in html and 'name="building"' in html
