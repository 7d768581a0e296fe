"""Phone-list batches keep the failed lines, with their messages, for correcting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.registration.models import Registration
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def test_failed_lines_stay_in_the_form_successes_show_their_numbers(client, place, staff):
    HouseholdFactory(building=place["building"], room="302")
    client.force_login(staff)
    at = (timezone.localtime() - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M")
    bad = [f"12-999, 某人, 13912345678, {at}", f"12-302, 王五, 1, {at}"]
    rows = "\n".join([f"12-301, 张三明, 13812345678, {at}", *bad])
    response = client.post(
        f"/r/desk/{place['round'].pk}/KJ01/batch/", {"rows": rows, "channel": "phone"}
    )
    assert response.status_code == 200
    assert Registration.objects.count() == 1
    kept = response.context["kept_rows"].splitlines()
    assert kept == bad
    assert "\n".join(bad) + "</textarea>" in response.content.decode()
    ok = [r for r in response.context["results"] if not r.get("error")]
    assert [r["queue_number"] for r in ok] == [1]
    assert all(r["error"] for r in response.context["failed"])
