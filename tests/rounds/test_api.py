"""The round life cycle through the staff API (issue 19)."""

from __future__ import annotations

import json

import pytest

from fairshare.core.models import AuditLog
from fairshare.rounds.models import Round
from tests.factories import HouseholdFactory, RoundFactory
from tests.rounds.conftest import bearer_for, round_body

pytestmark = pytest.mark.django_db


def post(client, url, user, body=None, **headers):
    return client.post(
        url, json.dumps(body or {}), content_type="application/json", **bearer_for(user), **headers
    )


def patch(client, url, user, body):
    return client.patch(url, json.dumps(body), content_type="application/json", **bearer_for(user))


def test_create_open_close(client, place):
    body = round_body(subdistrict=place.sub.name)
    created = post(client, "/api/v1/rounds", place.sub_user, body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["status"] == "draft" and data["subdistrict"] == place.sub.code
    assert data["phone_verification"] is True and data["offline_reserve_pct"] == 10
    assert data["purge"]["after_days"] >= 0
    rid = data["id"]
    opened = post(client, f"/api/v1/rounds/{rid}/open", place.sub_user)
    assert opened.status_code == 200 and opened.json()["status"] == "open"
    again = post(client, f"/api/v1/rounds/{rid}/open", place.sub_user)
    assert again.status_code == 409
    closed = post(client, f"/api/v1/rounds/{rid}/close", place.district_user)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    actions = list(
        AuditLog.objects.filter(object_id=str(rid), object_type="rounds.round")
        .order_by("id")
        .values_list("action", "before", "after")
    )
    assert [a for a, _b, _a in actions] == ["round.create", "round.open", "round.close"]
    assert actions[1][1] == {"status": "draft"} and actions[1][2] == {"status": "open"}


def test_district_round_by_district_code(client, place):
    created = post(
        client, "/api/v1/rounds", place.district_user, round_body(district=place.district.code)
    )
    assert created.status_code == 201, created.content
    assert created.json()["subdistrict"] is None
    # subdistrict staff may not create a district-wide round
    refused = post(
        client, "/api/v1/rounds", place.sub_user, round_body(40, district=place.district.code)
    )
    assert refused.status_code == 422 and "district" in refused.json()["errors"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"registration_closes_at": "2000-01-01T00:00:00+08:00"}, "registration_closes_at"),
        ({"valid_until": "2000-01-01"}, "valid_until"),
        ({"offline_reserve_pct": 101}, "offline_reserve_pct"),
    ],
)
def test_backwards_dates_are_422_per_field(client, place, change, field):
    response = post(client, "/api/v1/rounds", place.sub_user, round_body(**change))
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert not Round.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        # found by the API fuzz test on PostgreSQL: a 500 ("time zone displacement out of range")
        ({"registration_opens_at": "0436-04-05T15:39:19.92034-20:52"}, "registration_opens_at"),
        ({"registration_closes_at": "3151-12-03T01:59:43Z"}, "registration_closes_at"),
        ({"valid_from": "1338-05-02"}, "valid_from"),
    ],
)
def test_dates_out_of_range_are_422_per_field_and_change_nothing(client, place, change, field):
    response = post(client, "/api/v1/rounds", place.sub_user, round_body(**change))
    assert response.status_code == 422, response.content
    assert "2000" in response.json()["errors"][field][0]
    assert not Round.objects.exists()


def test_overlapping_rounds_are_422(client, place):
    assert post(client, "/api/v1/rounds", place.district_user, round_body()).status_code == 201
    overlap = post(
        client, "/api/v1/rounds", place.sub_user, round_body(31, subdistrict=place.sub.code)
    )
    assert overlap.status_code == 422
    errors = overlap.json()["errors"]
    assert "registration_opens_at" in errors and "valid_from" in errors
    # another subdistrict's own round does not overlap a sibling subdistrict's
    mine = post(
        client, "/api/v1/rounds", place.sub_user, round_body(60, subdistrict=place.sub.code)
    )
    sibling = post(
        client,
        "/api/v1/rounds",
        place.district_user,
        round_body(60, subdistrict=place.other_sub.code),
    )
    assert mine.status_code == 201 and sibling.status_code == 201


def test_policy_change_after_registrations_is_422(client, place):
    from fairshare.registration.services import registration_create

    round_ = RoundFactory(district=place.district, subdistrict=place.sub)
    url = f"/api/v1/rounds/{round_.pk}"
    assert patch(client, url, place.sub_user, {"policy": "lottery"}).status_code == 200
    household = HouseholdFactory(building__committee=place.committee)
    registration_create(
        round=round_, household=household, name="王五", phone="13912345678", channel="online"
    )
    refused = patch(client, url, place.sub_user, {"policy": "fcfs"})
    assert refused.status_code == 422 and "policy" in refused.json()["errors"]
    round_.refresh_from_db()
    assert round_.policy == "lottery"
    entry = AuditLog.objects.filter(action="round.update", object_id=str(round_.pk)).get()
    assert entry.before == {"policy": "fcfs"} and entry.after == {"policy": "lottery"}


def test_carried_first_is_a_round_setting_fixed_once_households_registered(client, place):
    from fairshare.registration.services import registration_create

    round_ = RoundFactory(district=place.district, subdistrict=place.sub, policy="lottery")
    url = f"/api/v1/rounds/{round_.pk}"
    changed = patch(client, url, place.sub_user, {"carried_first": True})
    assert changed.status_code == 200 and changed.json()["carried_first"] is True
    household = HouseholdFactory(building__committee=place.committee)
    registration_create(
        round=round_, household=household, name="王五", phone="13912345678", channel="online"
    )
    refused = patch(client, url, place.sub_user, {"carried_first": False})
    assert refused.status_code == 422 and "carried_first" in refused.json()["errors"]
    round_.refresh_from_db()
    assert round_.carried_first is True
    unchanged = patch(client, url, place.sub_user, {"carried_first": True, "name": "第二轮"})
    assert unchanged.status_code == 200  # the same value again is no change


def test_edit_refused_for_field_locked_by_state(client, place):
    round_ = RoundFactory(district=place.district, subdistrict=place.sub, status="closed")
    refused = patch(
        client, f"/api/v1/rounds/{round_.pk}", place.sub_user, {"phone_verification": True}
    )
    assert refused.status_code == 422 and "phone_verification" in refused.json()["errors"]


def test_scope(client, place):
    district_round = RoundFactory(district=place.district)
    other_round = RoundFactory(
        district=place.district,
        subdistrict=place.other_sub,
        registration_opens_at=district_round.registration_opens_at,
    )
    # subdistrict staff see the district round but do not manage it
    assert (
        post(client, f"/api/v1/rounds/{district_round.pk}/close", place.sub_user).status_code == 403
    )
    # a sibling subdistrict's round is not theirs to see
    assert post(client, f"/api/v1/rounds/{other_round.pk}/close", place.sub_user).status_code == 404
    assert (
        post(
            client, f"/api/v1/rounds/{district_round.pk}/close", place.foreign_sub_user
        ).status_code
        == 404
    )
    assert (
        post(client, f"/api/v1/rounds/{district_round.pk}/close", place.committee_user).status_code
        == 403
    )
    outside = post(
        client, "/api/v1/rounds", place.foreign_sub_user, round_body(subdistrict=place.sub.code)
    )
    assert outside.status_code == 422 and "subdistrict" in outside.json()["errors"]
    committee = post(
        client, "/api/v1/rounds", place.committee_user, round_body(subdistrict=place.sub.code)
    )
    assert committee.status_code == 403
    district_round.refresh_from_db()
    assert district_round.status == "open"


def test_idempotent_retry_returns_first_answer(client, place):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-round-1"}
    body = round_body(subdistrict=place.sub.code)
    first = post(client, "/api/v1/rounds", place.sub_user, body, **headers)
    second = post(client, "/api/v1/rounds", place.sub_user, body, **headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Round.objects.count() == 1


def test_purge_schedule_and_confirmation(client, place, settings):
    settings.FAIRSHARE_PURGE_AFTER_DAYS = 7
    round_ = RoundFactory(district=place.district, subdistrict=place.sub, status="closed")
    schedule = client.get(f"/api/v1/rounds/{round_.pk}/purge", **bearer_for(place.sub_user)).json()
    assert schedule["after_days"] == 7 and schedule["finished"] is True
    unconfirmed = post(client, f"/api/v1/rounds/{round_.pk}/purge", place.sub_user, {})
    assert unconfirmed.status_code == 422 and "confirm" in unconfirmed.json()["errors"]
    done = post(client, f"/api/v1/rounds/{round_.pk}/purge", place.sub_user, {"confirm": True})
    assert done.status_code == 200, done.content
    assert AuditLog.objects.filter(action="personal_data.purge", object_id=str(round_.pk)).exists()


def test_lottery_commit_and_expiry(client, place):
    round_ = RoundFactory(district=place.district, subdistrict=place.sub, policy="lottery")
    committed = post(client, f"/api/v1/rounds/{round_.pk}/lottery/commit", place.sub_user)
    assert committed.status_code == 200 and len(committed.json()["commitment"]) == 64
    early = post(client, f"/api/v1/rounds/{round_.pk}/lottery/reveal", place.sub_user)
    assert early.status_code == 409
    expired = post(client, f"/api/v1/rounds/{round_.pk}/expiry", place.sub_user)
    assert expired.status_code == 200 and expired.json() == {"expired": 0}


def test_committee_pharmacy_mapping(client, place):
    from tests.factories import PharmacyFactory

    new = PharmacyFactory(subdistrict=place.sub)
    url = f"/api/v1/committees/{place.committee.code}/pharmacy"
    body = json.dumps({"pharmacy": new.code})
    done = client.put(url, body, content_type="application/json", **bearer_for(place.sub_user))
    assert done.status_code == 200 and done.json()["pharmacy"] == new.code
    entry = AuditLog.objects.get(action="committee.pharmacy")
    assert entry.before == {"pharmacy": place.pharmacy.pk} and entry.after == {"pharmacy": new.pk}
    foreign = PharmacyFactory(subdistrict=place.other_sub)
    refused = client.put(
        url,
        json.dumps({"pharmacy": foreign.code}),
        content_type="application/json",
        **bearer_for(place.sub_user),
    )
    assert refused.status_code == 422 and "pharmacy" in refused.json()["errors"]
