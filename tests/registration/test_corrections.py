"""Corrections by committee staff (issue 18): a name or phone corrected, a wrong address
moved, through the service, the API and the staff page, with their negative controls."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from fairshare.core.errors import Conflict, FieldErrors, Forbidden
from fairshare.core.models import AuditLog
from fairshare.registration.corrections import registration_correct, registration_move
from fairshare.registration.ledger import verify_chain
from fairshare.registration.models import LedgerEntry, QueueCounter, Registration
from fairshare.registration.selectors import ledger_export
from fairshare.registration.services import registration_create
from fairshare.registration.verify import verify_database, verify_export
from tests.factories import (
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    UserFactory,
    VoucherFactory,
)

pytestmark = pytest.mark.django_db


def _register(place, name="张三明", phone="13812345678", household=None):
    return registration_create(
        round=place["round"],
        household=household or place["household"],
        name=name,
        phone=phone,
        channel="online",
    ).registration


def _links(place, kind=None):
    qs = LedgerEntry.objects.filter(round=place["round"], committee=place["committee"])
    return list(qs.filter(kind=kind) if kind else qs)


def _chain_ok(place) -> bool:
    export = ledger_export(round=place["round"], committee=place["committee"])
    return verify_export(json.loads(json.dumps(export))).ok


@pytest.fixture
def neighbour(place):
    household = HouseholdFactory(building=place["building"], room="302")
    MemberFactory(household=household, name="李四")
    return household


@pytest.fixture
def foreign_staff(place):
    other = CommitteeFactory(code="KJ09", subdistrict=place["committee"].subdistrict)
    return UserFactory(username="kj09", role="committee", committee=other)


# --- the service -----------------------------------------------------------------


def test_name_correction_appends_one_corrected_link_with_the_masked_name(place, staff):
    reg = _register(place, name="张三")  # not the roster name: pending review
    before = len(_links(place))
    result = registration_correct(registration=reg, actor=staff, name="张三明")
    assert result.changed == ("name",) and result.roster_match
    reg.refresh_from_db()
    assert reg.name == "张三明"
    # Still pending: a correction is not an approval (a person approves it next).
    assert reg.status == Registration.Status.PENDING_REVIEW
    corrected = _links(place, LedgerEntry.Kind.CORRECTED)
    assert len(corrected) == 1 and len(_links(place)) == before + 1
    body = json.loads(corrected[0].payload)
    assert body["field"] == "name" and body["value"] == "张*明"
    assert body["queue_number"] == reg.queue_number and "张三明" not in corrected[0].payload
    assert _chain_ok(place)
    audit = AuditLog.objects.get(action="registration.correct")
    assert audit.before == {"name": "张三"} and audit.after == {"name": "张三明"}


def test_verify_database_passes_after_a_name_correction(place, staff):
    reg = _register(place, name="张三")
    registration_correct(registration=reg, actor=staff, name="张三明")
    assert all(report.ok for report in verify_database(round_id=place["round"].pk))
    # Negative control: a name edited behind the service's back breaks the chain at the
    # correction's link.
    Registration.objects.filter(pk=reg.pk).update(name="李四")
    reports = verify_database(round_id=place["round"].pk)
    assert [r.reason for r in reports if not r.ok] == [
        "stored name differs from its last corrected link"
    ]


def test_phone_correction_appends_no_link_and_masks_the_phone_in_the_audit(place, staff):
    reg = _register(place)
    links = len(_links(place))
    result = registration_correct(registration=reg, actor=staff, phone="139 1234 5678")
    assert result.changed == ("phone",)
    reg.refresh_from_db()
    assert reg.phone == "13912345678" and len(_links(place)) == links
    assert all(report.ok for report in verify_database(round_id=place["round"].pk))
    audit = AuditLog.objects.get(action="registration.correct")
    assert audit.before == {"phone": "138****5678"} and audit.after == {"phone": "139****5678"}
    assert "13812345678" not in json.dumps([audit.before, audit.after])


def test_bad_phone_is_refused_and_nothing_changes(place, staff):
    reg = _register(place)
    head = QueueCounter.objects.get(round=place["round"]).head_hash
    with pytest.raises(FieldErrors) as caught:
        registration_correct(registration=reg, actor=staff, name="张三明明", phone="021-6543")
    assert "phone" in caught.value.errors
    reg.refresh_from_db()
    assert (reg.name, reg.phone) == ("张三明", "13812345678")
    assert QueueCounter.objects.get(round=place["round"]).head_hash == head
    assert not AuditLog.objects.filter(action="registration.correct").exists()


def test_out_of_scope_staff_cannot_correct(place, foreign_staff):
    reg = _register(place)
    with pytest.raises(Forbidden):
        registration_correct(registration=reg, actor=foreign_staff, name="王五")
    reg.refresh_from_db()
    assert reg.name == "张三明" and not _links(place, LedgerEntry.Kind.CORRECTED)


def test_same_values_change_nothing_and_a_void_one_is_refused(place, staff):
    reg = _register(place)
    result = registration_correct(registration=reg, actor=staff, name="张三明", phone=reg.phone)
    assert result.changed == () and not _links(place, LedgerEntry.Kind.CORRECTED)
    assert not AuditLog.objects.filter(action="registration.correct").exists()
    Registration.objects.filter(pk=reg.pk).update(status=Registration.Status.VOID)
    with pytest.raises(Conflict):
        registration_correct(registration=reg, actor=staff, name="王五")


def test_move_voids_and_registers_the_right_household_with_the_next_number(place, staff, neighbour):
    other = _register(
        place,
        name="王五",
        phone="13700000000",
        household=HouseholdFactory(building=place["building"], room="303"),
    )
    wrong = _register(place, name="李四", phone="13912345678")  # entered as 301, lives in 302
    assert (other.queue_number, wrong.queue_number) == (1, 2)
    result = registration_move(registration=wrong, actor=staff, household=neighbour)
    wrong.refresh_from_db()
    moved = result.registration
    assert wrong.status == Registration.Status.VOID and wrong.void_reason == "wrong_address"
    assert moved.household == neighbour and moved.queue_number == 3  # never the old place
    assert moved.status == Registration.Status.VERIFIED and moved.channel == "desk"
    assert (moved.name, moved.phone) == ("李四", "13912345678")
    kinds = [e.kind for e in _links(place)]
    assert kinds[-2:] == [LedgerEntry.Kind.VOIDED, LedgerEntry.Kind.REGISTERED]
    assert all(report.ok for report in verify_database(round_id=place["round"].pk))
    assert AuditLog.objects.filter(action="registration.move", object_id=str(wrong.pk)).exists()


def test_move_is_refused_while_the_household_holds_a_live_voucher(place, staff, neighbour):
    reg = _register(place)
    VoucherFactory(registration=reg)
    links = len(_links(place))
    with pytest.raises(Conflict) as caught:
        registration_move(registration=reg, actor=staff, household=neighbour)
    assert caught.value.code == "holds_voucher"
    reg.refresh_from_db()
    assert reg.status == Registration.Status.VERIFIED and len(_links(place)) == links
    assert not Registration.objects.filter(household=neighbour).exists()


def test_move_to_a_registered_household_changes_nothing(place, staff, neighbour):
    reg = _register(place)
    _register(place, name="李四", phone="13912345678", household=neighbour)
    with pytest.raises(Conflict):  # AlreadyRegistered: the void is rolled back too
        registration_move(registration=reg, actor=staff, household=neighbour, name="张三明")
    reg.refresh_from_db()
    assert reg.status == Registration.Status.VERIFIED


def test_move_by_out_of_scope_staff_is_refused(place, foreign_staff, neighbour):
    reg = _register(place)
    with pytest.raises(Forbidden):
        registration_move(registration=reg, actor=foreign_staff, household=neighbour)
    reg.refresh_from_db()
    assert reg.status == Registration.Status.VERIFIED


# --- the API ---------------------------------------------------------------------


def _patch(client: Client, reg, body, token, **headers):
    return client.patch(
        f"/api/v1/registrations/{reg.pk}",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def test_api_patch_corrects_the_name_once_per_idempotency_key(client, place, staff_token):
    reg = _register(place, name="张三")
    first = _patch(client, reg, {"name": "张三明"}, staff_token, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["changed"] == ["name"] and body["roster_match"] and body["name"] == "张三明"
    assert body["phone"] == "138****5678"
    again = _patch(client, reg, {"name": "张三明"}, staff_token, HTTP_IDEMPOTENCY_KEY="k1")
    assert again.json() == body
    assert len(_links(place, LedgerEntry.Kind.CORRECTED)) == 1


def test_api_patch_bad_input_is_422_per_field_and_changes_nothing(client, place, staff_token):
    reg = _register(place)
    response = _patch(client, reg, {"phone": "12345", "name": ""}, staff_token)
    assert response.status_code == 422
    assert {"phone", "name"} <= set(response.json()["errors"])
    reg.refresh_from_db()
    assert (reg.name, reg.phone) == ("张三明", "13812345678")
    empty = _patch(client, reg, {}, staff_token)
    assert empty.status_code == 422 and "name" in empty.json()["errors"]


def test_api_patch_outside_the_callers_committees_is_404(client, place, foreign_staff):
    from fairshare.accounts.models import ApiToken

    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=foreign_staff, token_hash=ApiToken.hash(raw))
    reg = _register(place)
    assert _patch(client, reg, {"name": "王五"}, raw).status_code == 404
    assert client.patch(f"/api/v1/registrations/{reg.pk}", "{}").status_code == 401
    reg.refresh_from_db()
    assert reg.name == "张三明"


def test_api_move_and_its_voucher_refusal(client, place, staff_token, neighbour):
    reg = _register(place, name="李四")
    held = _register(
        place,
        name="王五",
        phone="13700000000",
        household=HouseholdFactory(building=place["building"], room="303"),
    )
    VoucherFactory(registration=held)
    url = "/api/v1/registrations/{}/move"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {staff_token}"}
    refused = client.post(
        url.format(held.pk), {"building": "12", "room": "302"}, "application/json", **auth
    )
    assert refused.status_code == 409 and refused.json()["code"] == "holds_voucher"
    bad = client.post(
        url.format(reg.pk), {"building": "12", "room": "999"}, "application/json", **auth
    )
    assert bad.status_code == 422 and "room" in bad.json()["errors"]
    moved = client.post(
        url.format(reg.pk), {"building": "12", "room": "302"}, "application/json", **auth
    )
    assert moved.status_code == 201, moved.content
    body = moved.json()
    assert body["voided"]["status"] == "void" and body["registration"]["queue_number"] == 3
    assert all(report.ok for report in verify_database(round_id=place["round"].pk))


def test_the_deprecated_status_get_still_answers_next_to_the_patch(client, place):
    reg = _register(place)
    response = client.get(f"/api/v1/registrations/{reg.ticket}", {"phone": reg.phone})
    assert response.status_code == 200


# --- the page --------------------------------------------------------------------


def test_page_corrects_the_phone_and_shows_per_field_errors(client, place, staff):
    reg = _register(place)
    client.force_login(staff)
    page = client.get(f"/r/staff/{reg.pk}/")
    assert page.status_code == 200 and "13812345678" in page.content.decode()
    bad = client.post(f"/r/staff/{reg.pk}/correct/", {"name": "张三明", "phone": "not a phone"})
    assert bad.status_code == 422 and "errorlist" in bad.content.decode()
    reg.refresh_from_db()
    assert reg.phone == "13812345678"
    ok = client.post(f"/r/staff/{reg.pk}/correct/", {"name": "张三明", "phone": "13912345678"})
    assert ok.status_code == 302
    reg.refresh_from_db()
    assert reg.phone == "13912345678" and not _links(place, LedgerEntry.Kind.CORRECTED)


def test_page_move_prints_the_new_slip_and_foreign_staff_get_404(
    client, place, staff, neighbour, foreign_staff
):
    reg = _register(place, name="李四")
    client.force_login(foreign_staff)
    assert client.get(f"/r/staff/{reg.pk}/").status_code == 404
    assert (
        client.post(f"/r/staff/{reg.pk}/move/", {"building": "12", "room": "302"}).status_code
        == 404
    )
    client.force_login(staff)
    response = client.post(f"/r/staff/{reg.pk}/move/", {"building": "12", "room": "302"})
    assert response.status_code == 302 and "/r/slip/" in response["Location"]
    reg.refresh_from_db()
    assert reg.status == Registration.Status.VOID
    assert Registration.objects.get(household=neighbour).queue_number == 2


def test_page_hides_the_move_form_when_a_voucher_is_held(client, place, staff, neighbour):
    reg = _register(place)
    VoucherFactory(registration=reg)
    client.force_login(staff)
    text = client.get(f"/r/staff/{reg.pk}/").content.decode()
    assert f"/r/staff/{reg.pk}/move/" not in text
    refused = client.post(f"/r/staff/{reg.pk}/move/", {"building": "12", "room": "302"})
    assert refused.status_code == 409
    assert not Registration.objects.filter(household=neighbour).exists()


def test_chain_of_hashes_is_unbroken_after_corrections(place, staff):
    reg = _register(place, name="张三")
    registration_correct(registration=reg, actor=staff, name="张三明")
    registration_correct(registration=reg, actor=staff, phone="13912345678")
    links = [
        {"seq": e.seq, "payload": e.payload, "prev_hash": e.prev_hash, "hash": e.hash}
        for e in _links(place)
    ]
    head, broken = verify_chain(links)
    assert broken is None and head == QueueCounter.objects.get(round=place["round"]).head_hash


def test_page_refuses_control_characters_per_field(client, place, staff, neighbour):
    reg = _register(place)
    client.force_login(staff)
    bad = client.post(f"/r/staff/{reg.pk}/correct/", {"name": "张\x01三", "phone": reg.phone})
    assert bad.status_code == 422 and "请删除文字中的控制字符" in bad.content.decode()
    moved = client.post(f"/r/staff/{reg.pk}/move/", {"building": "12\x01", "room": "302"})
    assert moved.status_code == 422 and "请删除文字中的控制字符" in moved.content.decode()
    reg.refresh_from_db()
    assert reg.name == "张三明" and reg.status == Registration.Status.VERIFIED
    assert not Registration.objects.filter(household=neighbour).exists()
