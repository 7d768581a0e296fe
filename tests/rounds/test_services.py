"""Round services and the one rule for a round's committees (issue 19)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fairshare.allocation.carryover import round_carry_over  # noqa: F401  (layer check)
from fairshare.community.models import Committee
from fairshare.core.errors import Conflict, FieldErrors
from fairshare.core.models import AuditLog
from fairshare.registration.services import registration_create
from fairshare.rounds.models import Round
from fairshare.rounds.selectors import round_committees_q
from fairshare.rounds.services import RoundArea, round_close, round_create, round_open
from tests.factories import HouseholdFactory, RoundFactory, UserFactory

pytestmark = pytest.mark.django_db


def values(days=30, **extra):
    start = timezone.now() + timedelta(days=days)
    data = {
        "name": "第三轮",
        "registration_opens_at": start,
        "registration_closes_at": start + timedelta(days=2),
        "valid_from": timezone.localtime(start).date() + timedelta(days=1),
        "valid_until": timezone.localtime(start).date() + timedelta(days=3),
    }
    data.update(extra)
    return data


def test_subdistrict_round_lists_only_its_committees(place):
    sub_round = RoundFactory(district=place.district, subdistrict=place.sub)
    district_round = RoundFactory(district=place.district)
    mine = set(Committee.objects.filter(round_committees_q(sub_round)))
    assert mine == {place.committee}
    assert set(Committee.objects.filter(round_committees_q(district_round))) == {
        place.committee,
        place.other_committee,
    }


def test_registration_refused_outside_the_round_subdistrict(place):
    sub_round = RoundFactory(district=place.district, subdistrict=place.sub)
    outside = HouseholdFactory(building__committee=place.other_committee)
    with pytest.raises(FieldErrors) as refused:
        registration_create(
            round=sub_round, household=outside, name="李四", phone="13911112222", channel="online"
        )
    assert "committee" in dict(refused.value.items())
    inside = HouseholdFactory(building__committee=place.committee)
    registration_create(
        round=sub_round, household=inside, name="李四", phone="13911112223", channel="online"
    )


def test_life_cycle_audited_and_state_rechecked(place):
    area = RoundArea(district_id=place.district.pk, subdistrict_id=place.sub.pk)
    round_ = round_create(area=area, values=values(), actor=place.sub_user)
    created = AuditLog.objects.get(action="round.create")
    assert created.before == {} and created.after["name"] == "第三轮"
    stale = Round.objects.get(pk=round_.pk)
    round_open(round=round_, actor=place.sub_user)
    with pytest.raises(Conflict):
        round_open(round=stale, actor=place.sub_user)  # re-checked under the lock
    round_close(round=round_, actor=place.sub_user)
    assert Round.objects.get(pk=round_.pk).status == "closed"
    assert AuditLog.objects.filter(object_id=str(round_.pk)).count() == 3


def test_backwards_and_overlap(place):
    area = RoundArea(district_id=place.district.pk, subdistrict_id=place.sub.pk)
    with pytest.raises(FieldErrors) as backwards:
        round_create(area=area, values=values(valid_until=timezone.localdate()))
    assert "valid_until" in dict(backwards.value.items())
    round_create(area=area, values=values())
    with pytest.raises(FieldErrors) as overlap:
        round_create(area=RoundArea(district_id=place.district.pk), values=values(31))
    assert {"registration_opens_at", "valid_from"} <= set(dict(overlap.value.items()))


def test_admin_edit_is_audited(client, place):
    admin = UserFactory(is_superuser=True)
    round_ = RoundFactory(district=place.district, subdistrict=place.sub)
    client.force_login(admin)
    page = client.get(f"/admin/rounds/round/{round_.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "name": "后台改名",
            "district": place.district.pk,
            "subdistrict": place.sub.pk,
            "registration_opens_at_0": timezone.localtime(round_.registration_opens_at).strftime(
                "%Y-%m-%d"
            ),
            "registration_opens_at_1": timezone.localtime(round_.registration_opens_at).strftime(
                "%H:%M:%S"
            ),
            "registration_closes_at_0": timezone.localtime(round_.registration_closes_at).strftime(
                "%Y-%m-%d"
            ),
            "registration_closes_at_1": timezone.localtime(round_.registration_closes_at).strftime(
                "%H:%M:%S"
            ),
            "created_at_0": timezone.localtime(round_.created_at).strftime("%Y-%m-%d"),
            "created_at_1": timezone.localtime(round_.created_at).strftime("%H:%M:%S"),
        }
    )
    data = {
        k: v
        for k, v in data.items()
        if not hasattr(v, "pk")
        and k not in ("registration_opens_at", "registration_closes_at", "created_at")
    }
    data["carry_over_from"] = ""
    data["phone_verification"] = ""
    data["requeue_expired"] = "on"
    for k in ("valid_from", "valid_until"):
        data[k] = getattr(round_, k).isoformat()
    response = client.post(f"/admin/rounds/round/{round_.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditLog.objects.get(action="round.admin_change")
    assert entry.before["name"] == round_.name and entry.after["name"] == "后台改名"
