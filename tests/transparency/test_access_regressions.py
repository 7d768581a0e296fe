"""Regressions found by the access matrix (tests/accounts/test_matrix.py) in transparency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.accounts.models import CommitteeAssignment
from fairshare.transparency.models import Notice
from tests.factories import CommitteeFactory, SubdistrictFactory, UserFactory
from tests.transparency.factories import board_world

pytestmark = pytest.mark.django_db


def test_helper_sees_the_dashboard_and_export_of_the_assigned_committee(client):
    world = board_world(households_per_building=2, buildings=1)
    committee = world.committee
    home = CommitteeFactory(subdistrict=committee.subdistrict)
    helper = UserFactory(role="committee", committee=home)
    client.force_login(helper)
    base = f"/public/staff/rounds/{world.round.pk}"
    query = {"committee": committee.code}
    assert client.get(f"{base}/dashboard/", query).status_code == 403
    CommitteeAssignment.objects.create(
        user=helper, committee=committee, expires_at=timezone.now() + timedelta(days=1)
    )
    assert client.get(f"{base}/dashboard/", query).status_code == 200
    assert client.get(f"{base}/export/registrations.xlsx", query).status_code == 200


def test_notices_page_only_for_area_staff_and_only_their_subdistricts(client):
    committee = CommitteeFactory()
    client.force_login(UserFactory(role="committee", committee=committee))
    assert client.get("/public/staff/notices/").status_code == 403
    client.force_login(UserFactory(role="pharmacy", pharmacy=committee.pharmacy))
    assert client.get("/public/staff/notices/").status_code == 403

    foreign = SubdistrictFactory()
    client.force_login(UserFactory(role="subdistrict", subdistrict=committee.subdistrict))
    form = {"title": "说明", "body": "内容", "subdistrict": foreign.code}
    assert client.post("/public/staff/notices/", form).status_code == 403
    assert not Notice.objects.exists()  # not silently published to the user's own either
    form["subdistrict"] = committee.subdistrict.code
    assert client.post("/public/staff/notices/", form).status_code == 302
    assert Notice.objects.get().subdistrict == committee.subdistrict
