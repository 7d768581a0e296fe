"""The staff review queue (issue 15): counts, filters, bulk approval through the
approval service, a visible note field and the voucher flag, through the pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from fairshare.core.models import AuditLog
from fairshare.registration.models import Registration
from fairshare.registration.services import (
    registration_approve,
    registration_create,
    registration_void,
)
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    UserFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db


def _household(building, room, roster="张三明"):
    household = HouseholdFactory(building=building, room=room)
    MemberFactory(household=household, name=roster)
    return household


def _register(place, household, name, *, channel="online", actor=None, phone="13812345678"):
    return registration_create(
        round=place["round"],
        household=household,
        name=name,
        phone=phone,
        channel=channel,
        actor=actor,
    ).registration


@pytest.fixture
def queue(place, staff):
    """In KJ01: three pending (one by phone in building 14号), one approved today, one
    rejected, one superseded; in KJ09 (same subdistrict, another committee) one pending."""
    building = place["building"]
    other_building = BuildingFactory(committee=place["committee"], label="14号")
    a = _register(place, place["household"], "路人甲")
    b = _register(place, _household(building, "302"), "路人乙", phone="13812345679")
    c = _register(
        place,
        _household(other_building, "101"),
        "路人丙",
        channel="phone",
        actor=staff,
        phone="13812345670",
    )
    approved = _register(place, _household(building, "303"), "路人丁", phone="13812345671")
    registration_approve(registration=approved, actor=staff)
    rejected = _register(place, _household(building, "304"), "路人戊", phone="13812345672")
    registration_void(registration=rejected, actor=staff, reason="not_resident")
    squatted = _household(building, "305", roster="王五")
    superseded = _register(place, squatted, "冒名", phone="13812345673")
    _register(place, squatted, "王五", phone="13812345674")  # supersedes the pending one
    foreign = CommitteeFactory(code="KJ09", subdistrict=place["committee"].subdistrict)
    foreign_pending = _register(
        place,
        _household(BuildingFactory(committee=foreign, label="1号"), "101"),
        "外人",
        phone="13812345675",
    )
    return {
        "pending": [a, b, c],
        "approved": approved,
        "rejected": rejected,
        "superseded": superseded,
        "foreign": foreign_pending,
        "other_building": other_building,
    }


def _count(text: str, label: str) -> int:
    match = re.search(rf"<dt>{label}</dt><dd>(\d+)</dd>", text)
    assert match, f"no count {label!r}"
    return int(match.group(1))


def _shown(text: str, regs) -> list[bool]:
    return [f'value="{r.pk}" form="bulk-approve"' in text for r in regs]


def test_counts_and_default_list_are_the_committees_pending(client: Client, place, staff, queue):
    client.force_login(staff)
    text = client.get("/r/review/").content.decode()
    assert _count(text, "待审核") == 3
    assert _count(text, "今日已通过") == 1
    assert _count(text, "工作人员驳回或作废") == 1
    assert _count(text, "已被取代") == 1
    assert _shown(text, queue["pending"]) == [True, True, True]
    assert "外人" not in text  # another committee's pending one


def test_filters_building_channel_status_and_name_match(client, place, staff, queue):
    client.force_login(staff)
    building = queue["other_building"]
    text = client.get("/r/review/", {"building": building.pk}).content.decode()
    assert _shown(text, queue["pending"]) == [False, False, True]
    assert _count(text, "待审核") == 1
    by_phone = client.get("/r/review/", {"channel": "phone"}).content.decode()
    assert _shown(by_phone, queue["pending"]) == [False, False, True]
    rejected = client.get("/r/review/", {"status": "rejected"}).content.decode()
    assert "路人戊" in rejected and "路人甲" not in rejected
    superseded = client.get("/r/review/", {"status": "superseded"}).content.decode()
    assert "冒名" in superseded and "路人戊" not in superseded
    # Nobody pending has a roster name: "name in the roster" shows none of them.
    assert _shown(
        client.get("/r/review/", {"match": "yes"}).content.decode(), queue["pending"]
    ) == [
        False,
        False,
        False,
    ]
    unmatched = client.get("/r/review/", {"match": "no"}).content.decode()
    assert _shown(unmatched, queue["pending"]) == [True, True, True]


def test_committee_filter_only_offers_committees_in_scope(client, place, staff, queue):
    client.force_login(staff)
    text = client.get("/r/review/", {"committee": "KJ09"}).content.decode()
    assert "外人" not in text and 'value="KJ09"' not in text  # a foreign code is no filter
    area = UserFactory(
        username="area", role="subdistrict", subdistrict=place["committee"].subdistrict
    )
    client.force_login(area)
    both = client.get("/r/review/").content.decode()
    assert "外人" in both and "路人甲" in both
    only = client.get("/r/review/", {"committee": "KJ09"}).content.decode()
    assert "外人" in only and "路人甲" not in only


def test_bulk_approve_asks_once_then_approves_only_in_scope_pending(client, place, staff, queue):
    client.force_login(staff)
    a, b, c = queue["pending"]
    ids = [a.pk, b.pk, queue["approved"].pk, queue["foreign"].pk]
    confirm = client.post("/r/review/bulk/", {"ids": ids})
    assert confirm.status_code == 200 and "路人甲" in confirm.content.decode()
    assert "外人" not in confirm.content.decode()
    assert Registration.objects.filter(pk__in=[a.pk, b.pk], status="pending_review").count() == 2
    done = client.post("/r/review/bulk/", {"ids": ids, "confirm": "yes"}, follow=True)
    text = done.content.decode()
    assert "已通过 2 条登记" in text
    assert "2 条未通过" in text and f"#{queue['foreign'].pk}" in text
    assert f"KJ01 #{queue['approved'].queue_number}" in text
    statuses = dict(Registration.objects.values_list("pk", "status"))
    assert statuses[a.pk] == statuses[b.pk] == "verified"
    assert statuses[c.pk] == "pending_review"  # not selected
    assert statuses[queue["foreign"].pk] == "pending_review"  # not in scope
    # Each approval went through the approval service: one audit entry each.
    assert AuditLog.objects.filter(action="registration.approve").count() == 3  # + fixture's


def test_bulk_approve_needs_a_selection_and_staff(client, place, staff, queue):
    client.force_login(staff)
    response = client.post("/r/review/bulk/", {}, follow=True)
    assert "请先勾选" in response.content.decode()
    assert Registration.objects.filter(status="pending_review").count() == 4
    client.logout()
    anonymous = client.post("/r/review/bulk/", {"ids": [queue["pending"][0].pk], "confirm": "yes"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Registration.objects.filter(status="pending_review").count() == 4


def test_note_is_a_labelled_text_area_and_a_held_voucher_is_flagged(client, place, staff, queue):
    a = queue["pending"][0]
    VoucherFactory(registration=a)  # e.g. issued before the review gate existed
    client.force_login(staff)
    text = client.get("/r/review/").content.decode()
    assert f'<label for="note-{a.pk}">' in text and f'id="note-{a.pk}"' in text
    assert "<textarea" in text
    flagged = text.split(f'value="{a.pk}" form="bulk-approve"')[1].split("</article>")[0]
    assert "已有购买凭证" in flagged
    others = text.split(f'value="{queue["pending"][1].pk}" form="bulk-approve"')[1]
    assert "已有购买凭证" not in others.split("</article>")[0]


def test_void_from_the_queue_keeps_the_filters(client, place, staff, queue):
    client.force_login(staff)
    a = queue["pending"][0]
    response = client.post(
        f"/r/review/{a.pk}/void/",
        {"reason": "not_resident", "note": "不是本户", "next": "/r/review/?channel=online"},
    )
    assert response.status_code == 302 and response["Location"] == "/r/review/?channel=online"
    away = client.post(
        f"/r/review/{queue['pending'][1].pk}/approve/", {"next": "https://evil.example/"}
    )
    assert away["Location"] == "/r/review/"


def _form_token(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found is not None, "the form carries a one-time token"
    return found.group(1)


def test_double_submitted_review_bulk_applies_once(client, place, staff, queue):
    """A double click on the bulk confirmation: the second post is redirected with a
    notice and approves (and audits) nothing more."""
    client.force_login(staff)
    ids = [r.pk for r in queue["pending"]]
    confirm = client.post("/r/review/bulk/", {"ids": ids})
    body = {"ids": ids, "confirm": "yes", "form_token": _form_token(confirm.content.decode())}
    before = AuditLog.objects.filter(action="registration.approve").count()
    first = client.post("/r/review/bulk/", body)
    second = client.post("/r/review/bulk/", body, HTTP_REFERER="http://testserver/r/review/")
    assert first.status_code == 302 and second.status_code == 302
    assert second["Location"] == "http://testserver/r/review/"
    assert AuditLog.objects.filter(action="registration.approve").count() == before + 3
    page = client.get("/r/review/").content.decode()
    assert "此表单已提交过" in page
