"""Official notices (答复口径): publish (audited), show on the board, API, tag, command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.template import Context, Template

from fairshare.core.errors import FieldErrors, Forbidden
from fairshare.core.models import AuditLog
from fairshare.transparency.models import Notice
from fairshare.transparency.services import notice_publish, notice_withdraw
from tests.factories import CommitteeFactory, SubdistrictFactory, UserFactory
from tests.transparency.factories import board_world

pytestmark = pytest.mark.django_db

TITLE = "关于口罩价格与款式的说明"
BODY = "各批次口罩的厂家、款式和价格以购买凭证所示为准。"


def test_publish_is_audited_and_shown_on_board_and_api(client):
    world = board_world(households_per_building=3, buildings=1)
    sub = world.committee.subdistrict
    staff = UserFactory(role="subdistrict", subdistrict=sub)
    notice = notice_publish(actor=staff, subdistrict=sub, title=TITLE, body=BODY)
    log = AuditLog.objects.get(action="notice.publish")
    assert log.object_id == str(notice.pk) and log.actor == staff and log.subdistrict == sub

    html = client.get(
        f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/"
    ).content.decode()
    assert TITLE in html and BODY in html
    body = client.get("/api/v1/public/notices", {"subdistrict": sub.code}).json()
    assert [n["title"] for n in body] == [TITLE]
    assert client.get("/api/v1/public/notices", {"subdistrict": "NOPE"}).json() == []

    notice_withdraw(actor=staff, notice_id=notice.pk)
    assert client.get("/api/v1/public/notices", {"subdistrict": sub.code}).json() == []
    assert AuditLog.objects.filter(action="notice.withdraw").count() == 1


def test_only_own_subdistrict_staff_may_publish_and_bad_input_changes_nothing():
    sub = SubdistrictFactory()
    other = UserFactory(role="subdistrict", subdistrict=SubdistrictFactory())
    with pytest.raises(Forbidden):
        notice_publish(actor=other, subdistrict=sub, title=TITLE, body=BODY)
    own = UserFactory(role="subdistrict", subdistrict=sub)
    with pytest.raises(FieldErrors) as exc:
        notice_publish(actor=own, subdistrict=sub, title="", body="x" * 2001)
    assert set(exc.value.errors) == {"title", "body"}
    assert Notice.objects.count() == 0 and AuditLog.objects.count() == 0


def test_template_tag_for_resident_pages():
    sub = SubdistrictFactory()
    notice_publish(
        actor=UserFactory(role="subdistrict", subdistrict=sub),
        subdistrict=sub,
        title=TITLE,
        body=BODY,
    )
    html = Template("{% load transparency_tags %}{% official_notices sub %}").render(
        Context({"sub": sub})
    )
    assert TITLE in html
    assert (
        Template("{% load transparency_tags %}{% official_notices None %}")
        .render(Context())
        .strip()
        == ""
    )


def test_staff_page_and_command(client):
    sub = SubdistrictFactory()
    staff = UserFactory(role="subdistrict", subdistrict=sub)
    client.force_login(staff)
    response = client.post("/public/staff/notices/", {"title": TITLE, "body": BODY})
    assert response.status_code == 302
    assert Notice.objects.get().subdistrict == sub
    bad = client.post("/public/staff/notices/", {"title": "", "body": ""})
    assert bad.status_code == 422 and Notice.objects.count() == 1

    call_command(
        "publish_notice", subdistrict=sub.code, title="第二条", body="内容", user=staff.username
    )
    assert Notice.objects.count() == 2
    with pytest.raises(CommandError):
        call_command("publish_notice", subdistrict="NOPE", title="t", body="b", user=staff.username)


def test_admin_add_goes_through_the_audited_service(client):
    sub = SubdistrictFactory()
    staff = UserFactory(role="subdistrict", subdistrict=sub)
    client.force_login(staff)
    assert client.get("/admin/transparency/notice/add/").status_code == 200
    response = client.post(
        "/admin/transparency/notice/add/",
        {"subdistrict": sub.pk, "title": TITLE, "body": BODY},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    notice = Notice.objects.get()
    assert notice.published_by == staff
    assert AuditLog.objects.filter(action="notice.publish", object_id=str(notice.pk)).exists()
    # Another subdistrict cannot be chosen.
    other = SubdistrictFactory()
    bad = client.post(
        "/admin/transparency/notice/add/",
        {"subdistrict": other.pk, "title": TITLE, "body": BODY},
    )
    assert bad.status_code == 200 and Notice.objects.count() == 1
    # Committee staff do not see notices in the admin.
    client.force_login(UserFactory(role="committee", committee=CommitteeFactory(subdistrict=sub)))
    assert client.get("/admin/transparency/notice/add/").status_code in (302, 403)
