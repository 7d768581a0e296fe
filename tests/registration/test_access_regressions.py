"""Regressions found by the access matrix (tests/accounts/test_matrix.py): photos are shown
only to the committee's own staff; pharmacy staff do not get the committee pages."""

from __future__ import annotations

import pytest

from fairshare.registration.photos import registration_create_with_photo
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_photo_only_for_the_committees_staff(client, place, staff):
    reg = registration_create_with_photo(
        round=place["round"],
        household=place["household"],
        name="张三",
        phone="13812345678",
        photo=PNG,
    ).registration
    url = f"/r/photos/{reg.pk}/"
    committee = place["committee"]
    for user in (
        UserFactory(role="subdistrict", subdistrict=committee.subdistrict),
        UserFactory(role="district", district=committee.subdistrict.district),
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404
        review = client.get("/r/review/")
        assert review.status_code == 200 and url not in review.content.decode()
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert url in client.get("/r/review/").content.decode()


def test_pharmacy_staff_are_refused_the_committee_pages(client, place):
    client.force_login(UserFactory(role="pharmacy", pharmacy=place["committee"].pharmacy))
    assert client.get("/r/review/").status_code == 403
    assert client.get("/r/desk/").status_code == 403
