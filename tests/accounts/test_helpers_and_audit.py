"""Helpers sent down to committees (service, page, API) and the scoped audit log page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fairshare.accounts.models import CommitteeAssignment, User
from fairshare.accounts.scoping import scope_q
from fairshare.accounts.services import helper_assign, helper_create
from fairshare.community.models import Committee
from fairshare.core.audit import audit_record
from fairshare.core.errors import FieldErrors, Forbidden, NotFound
from fairshare.core.models import AuditLog
from tests.factories import CommitteeFactory, SubdistrictFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    s1, s2 = SubdistrictFactory(), SubdistrictFactory()
    mine = CommitteeFactory(subdistrict=s1)
    mine2 = CommitteeFactory(subdistrict=s1, pharmacy=mine.pharmacy)
    foreign = CommitteeFactory(subdistrict=s2)
    admin = UserFactory(username="sub1", role="subdistrict", subdistrict=s1)
    return {"s1": s1, "mine": mine, "mine2": mine2, "foreign": foreign, "admin": admin}


def later(days: int = 7):
    return timezone.now() + timedelta(days=days)


def test_helper_create_and_assign_with_audit(setup):
    admin, mine, mine2 = setup["admin"], setup["mine"], setup["mine2"]
    helper = helper_create(
        actor=admin,
        username="xia1",
        password="long-enough-pw-42",
        committee=mine,
        expires_at=later(3),
    )
    assert helper.role == "committee" and helper.committee == mine and helper.is_staff
    assert helper.check_password("long-enough-pw-42")
    helper_assign(actor=admin, user=helper, committee=mine2, expires_at=later(10))
    helper.refresh_from_db()
    assert helper.access_expires_at >= later(9)  # account extended to cover the assignment
    visible = Committee.objects.filter(scope_q(helper, ""))
    assert set(visible) == {mine, mine2}
    actions = list(AuditLog.objects.filter(actor=admin).values_list("action", "committee_id"))
    assert sorted(actions) == [("helper.assign", mine2.pk), ("helper.create", mine.pk)]
    # Re-assigning changes the expiry and records before/after.
    helper_assign(actor=admin, user=helper, committee=mine2, expires_at=later(2))
    entry = AuditLog.objects.filter(action="helper.assign").first()
    assert entry.before and entry.after["expires_at"] != entry.before["expires_at"]
    assert CommitteeAssignment.objects.filter(user=helper).count() == 2


def test_helper_services_refuse_out_of_scope_and_bad_input(setup):
    admin, mine, foreign = setup["admin"], setup["mine"], setup["foreign"]
    with pytest.raises(NotFound):
        helper_create(
            actor=admin,
            username="x",
            password="long-enough-pw-42",
            committee=foreign,
            expires_at=later(),
        )
    staff = UserFactory(role="committee", committee=mine)
    with pytest.raises(Forbidden):
        helper_create(
            actor=staff,
            username="x",
            password="long-enough-pw-42",
            committee=mine,
            expires_at=later(),
        )
    with pytest.raises(FieldErrors) as exc:
        helper_create(
            actor=admin,
            username="sub1",
            password="123",
            committee=mine,
            expires_at=timezone.now() - timedelta(days=1),
        )
    assert set(exc.value.errors) == {"username", "password", "expires_at"}
    other_staff = UserFactory(role="committee", committee=foreign)
    with pytest.raises(NotFound):  # a helper of another subdistrict cannot be taken over
        helper_assign(actor=admin, user=other_staff, committee=mine, expires_at=later())
    assert not CommitteeAssignment.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="helper").exists()
    assert not User.objects.filter(username="x").exists()


def test_helpers_page_creates_and_assigns(client: Client, setup):
    client.force_login(setup["admin"])
    page = client.get("/accounts/helpers/")
    assert page.status_code == 200
    options = page.content.decode()
    assert setup["mine"].code in options and setup["foreign"].code not in options
    stamp = later(5).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/accounts/helpers/",
        {
            "action": "create",
            "new-username": "xia2",
            "new-password": "long-enough-pw-42",
            "new-committee": setup["mine"].pk,
            "new-expires_at": stamp,
        },
    )
    assert response.status_code == 302
    helper = User.objects.get(username="xia2")
    response = client.post(
        "/accounts/helpers/",
        {
            "action": "assign",
            "assign-helper": helper.pk,
            "assign-committee": setup["mine2"].pk,
            "assign-expires_at": stamp,
        },
    )
    assert response.status_code == 302
    assert CommitteeAssignment.objects.filter(user=helper, committee=setup["mine2"]).exists()
    refused = client.post(
        "/accounts/helpers/",
        {
            "action": "create",
            "new-username": "xia3",
            "new-password": "long-enough-pw-42",
            "new-committee": setup["foreign"].pk,
            "new-expires_at": stamp,
        },
    )
    assert refused.status_code == 422 and not User.objects.filter(username="xia3").exists()
    client.force_login(UserFactory(role="committee", committee=setup["mine"]))
    assert client.get("/accounts/helpers/").status_code == 403


def test_assignment_api(client: Client, setup):
    from fairshare.accounts.models import ApiToken

    helper = UserFactory(
        username="xia4", role="committee", committee=setup["mine"], access_expires_at=later(1)
    )
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=setup["admin"], token_hash=ApiToken.hash(raw))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    body = {
        "username": "xia4",
        "committee": setup["mine2"].code,
        "expires_at": later(4).isoformat(),
    }
    created = client.post(
        "/api/v1/auth/helpers/assignments", body, content_type="application/json", **auth
    )
    assert created.status_code == 201 and created.json()["active"] is True
    listed = client.get("/api/v1/auth/helpers/assignments", **auth).json()
    assert listed == [created.json()]  # the write answer renders times like the read
    keyed = {"HTTP_IDEMPOTENCY_KEY": "a-1", **auth}
    first = client.post(
        "/api/v1/auth/helpers/assignments", body, content_type="application/json", **keyed
    )
    retry = client.post(
        "/api/v1/auth/helpers/assignments", body, content_type="application/json", **keyed
    )
    assert first.status_code == retry.status_code == 201 and first.json() == retry.json()
    assert [(a["username"], a["committee"]) for a in listed] == [("xia4", setup["mine2"].code)]
    body["committee"] = setup["foreign"].code
    assert (
        client.post(
            "/api/v1/auth/helpers/assignments", body, content_type="application/json", **auth
        ).status_code
        == 404
    )
    body["committee"], body["expires_at"] = setup["mine2"].code, "2000-01-01T00:00:00Z"
    bad = client.post(
        "/api/v1/auth/helpers/assignments", body, content_type="application/json", **auth
    )
    assert bad.status_code == 422 and "expires_at" in bad.json()["errors"]
    helper.refresh_from_db()
    assert helper.access_expires_at >= later(3)


def test_audit_page_is_scoped_and_filterable(client: Client, setup):
    admin, mine, mine2, foreign = setup["admin"], setup["mine"], setup["mine2"], setup["foreign"]
    staff = UserFactory(username="c-mine", role="committee", committee=mine)
    audit_record(actor=staff, action="registration.create", committee_id=mine.pk, note="N-MINE")
    audit_record(actor=staff, action="voucher.issue", committee_id=mine2.pk, note="N-MINE2")
    audit_record(actor=None, action="round.open", subdistrict_id=setup["s1"].pk, note="N-SUB")
    audit_record(
        actor=None, action="registration.create", committee_id=foreign.pk, note="N-FOREIGN"
    )
    client.force_login(admin)
    body = client.get("/accounts/audit/").content.decode()
    assert all(n in body for n in ("N-MINE", "N-MINE2", "N-SUB")) and "N-FOREIGN" not in body
    body = client.get("/accounts/audit/", {"action": "registration"}).content.decode()
    assert "N-MINE" in body and "N-MINE2" not in body and "N-SUB" not in body
    body = client.get("/accounts/audit/", {"committee": mine2.code}).content.decode()
    assert "N-MINE2" in body and "N-SUB" not in body
    body = client.get("/accounts/audit/", {"actor": "c-mine", "since": "2000-01-01"}).content
    assert b"N-MINE" in body and b"N-SUB" not in body
    client.force_login(staff)
    body = client.get("/accounts/audit/").content.decode()
    assert "N-MINE" in body and "N-MINE2" in body  # its own actions, also for another committee
    assert "N-SUB" not in body and "N-FOREIGN" not in body


def test_pages_are_chinese_by_default(client: Client, setup):
    client.force_login(setup["admin"])
    assert "新建下沉干部账户" in client.get("/accounts/helpers/").content.decode()
    assert "操作日志" in client.get("/accounts/audit/").content.decode()
    client.cookies["django_language"] = "en"  # the language switch sets this cookie
    english = client.get("/accounts/helpers/").content.decode()
    assert "New helper account" in english


def test_page_login_and_logout_are_audited_in_scope(client: Client, setup):
    staff = UserFactory(username="c-login", role="committee", committee=setup["mine"])
    assert (
        client.post(
            "/accounts/login/", {"username": "c-login", "password": "pw-for-tests-1"}
        ).status_code
        == 302
    )
    client.post("/accounts/logout/")
    rows = list(AuditLog.objects.filter(actor=staff).values_list("action", "committee_id"))
    assert rows == [("session.logout", setup["mine"].pk), ("session.login", setup["mine"].pk)]
    client.force_login(setup["admin"])
    body = client.get("/accounts/audit/", {"action": "session"}).content.decode()
    assert "c-login" in body
