"""The audit log as people read it (issue 15): the staff audit page and the admin show
the action as a label, before/after as ``label: value`` lines, the actor by name and
times in local time (Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from fairshare.core.models import AuditLog
from tests.factories import CommitteeFactory, UserFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def entry():
    committee = CommitteeFactory()
    actor = UserFactory(
        username="c-wang", first_name="小明", last_name="王", role="committee", committee=committee
    )
    return AuditLog.objects.create(
        at=datetime(2026, 3, 1, 0, 30, tzinfo=SHANGHAI),  # = 2026-02-28 16:30 UTC
        actor=actor,
        actor_username=actor.username,
        action="voucher.fulfilment",
        object_type="allocation.voucher",
        object_id="7",
        committee=committee,
        before={"fulfilment": "pickup", "packs": 1},
        after={"fulfilment": "delivery", "at": "2026-02-28T16:45:00+00:00"},
    )


def _page(client: Client, entry: AuditLog, language: str = "zh-hans") -> str:
    client.cookies["django_language"] = language
    client.force_login(entry.actor)
    response = client.get("/accounts/audit/")
    assert response.status_code == 200
    return response.content.decode()


def test_audit_page_shows_labels_names_and_local_time(client, entry):
    html = _page(client, entry)
    assert "2026-03-01 00:30:00" in html
    assert "2026-02-28 16:30" not in html  # the negative control: not UTC
    assert "王小明 (c-wang)" in html or "小明 王 (c-wang)" in html
    assert "领取方式变更" in html or "到店自取或送货上门已更改" in html
    assert "送货上门" in html and "到店自取" in html
    assert "{'fulfilment'" not in html and "'delivery'" not in html  # no Python dict
    assert "2026-03-01 00:45:00" in html  # a time inside after, in local time too


def test_audit_page_in_english(client, entry):
    html = _page(client, entry, "en")
    assert "pickup or delivery changed" in html and "home delivery" in html
    assert "2026-03-01 00:30:00" in html


def test_admin_shows_the_same(client, entry):
    client.force_login(UserFactory(username="root", role="", is_superuser=True, is_staff=True))
    client.cookies["django_language"] = "en"
    listing = client.get("/admin/core/auditlog/").content.decode()
    assert "2026-03-01 00:30:00" in listing and "pickup or delivery changed" in listing
    detail = client.get(f"/admin/core/auditlog/{entry.pk}/change/").content.decode()
    assert "home delivery" in detail and "pharmacy pickup" in detail
    assert "{&#x27;fulfilment" not in detail and "{'fulfilment" not in detail
