"""The scoped admin screens of community and rounds models (fairshare/accounts/admin_scoping.py)
open for every staff role that may view them, list only the rows of the role's scope, and
answer 403 to the others. Regression: /admin/community/pharmacy/ answered 500 to committee
and subdistrict staff ("Cannot resolve keyword 'committees_id'")."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import (
    CommitteeFactory,
    DistrictFactory,
    PharmacyFactory,
    RoundFactory,
    SubdistrictFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def area():
    """District YP: S1 (c1, c2 served by p1; c3 by p2), S2 (c4 by p3); district HK: S3 (c5, p4)."""
    yp, hk = DistrictFactory(code="YP"), DistrictFactory(code="HK")
    s1, s2 = SubdistrictFactory(district=yp), SubdistrictFactory(district=yp)
    s3 = SubdistrictFactory(district=hk)
    p1, p2 = PharmacyFactory(subdistrict=s1), PharmacyFactory(subdistrict=s1)
    p3, p4 = PharmacyFactory(subdistrict=s2), PharmacyFactory(subdistrict=s3)
    c1 = CommitteeFactory(subdistrict=s1, pharmacy=p1)
    CommitteeFactory(subdistrict=s1, pharmacy=p1)
    CommitteeFactory(subdistrict=s1, pharmacy=p2)
    CommitteeFactory(subdistrict=s2, pharmacy=p3)
    CommitteeFactory(subdistrict=s3, pharmacy=p4)
    RoundFactory(district=yp), RoundFactory(district=hk)
    return {
        "district": UserFactory(role="district", district=yp),
        "subdistrict": UserFactory(role="subdistrict", subdistrict=s1),
        "committee": UserFactory(role="committee", committee=c1),
        "pharmacy": UserFactory(role="pharmacy", pharmacy=p1),
    }


# (admin path, {role: rows listed}); a role left out gets 403.
SCREENS = [
    (
        "/admin/community/pharmacy/",
        {"district": 3, "subdistrict": 2, "committee": 1, "pharmacy": 1},
    ),
    ("/admin/community/subdistrict/", {"district": 2, "subdistrict": 1}),
    ("/admin/community/committee/", {"district": 4, "subdistrict": 3, "committee": 1}),
    ("/admin/rounds/round/", {"district": 1, "subdistrict": 1}),
]


@pytest.mark.parametrize("role", ["district", "subdistrict", "committee", "pharmacy"])
@pytest.mark.parametrize(("path", "rows"), SCREENS, ids=[s[0] for s in SCREENS])
def test_each_role_sees_its_rows_or_403(client: Client, area, role, path, rows):
    client.force_login(area[role])
    response = client.get(path)
    if role not in rows:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows[role]


def test_the_admin_index_lists_the_screens_of_the_role(client: Client, area):
    client.force_login(area["committee"])
    response = client.get("/admin/")
    assert response.status_code == 200
    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert {"Pharmacy", "Committee", "Building", "Household"} <= models
    assert not {"Subdistrict", "Round"} & models
