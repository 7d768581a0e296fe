"""The committee's notify-by-hand list (issues 15 and 18): households without a mobile.

Listed when their voucher is issued, cancelled by a shortfall, or they were carried
over; a "told" tick is recorded per item (who, when; audited); staff of another
committee cannot see the list; the CSV has the same rows.
"""

from __future__ import annotations

import csv
import io

from fairshare.allocation.by_hand import hand_list, has_mobile
from fairshare.allocation.models import HandNotice, Voucher
from fairshare.allocation.services import allocation_run, supply_declare
from fairshare.allocation.shortfall import supply_shortfall
from fairshare.core.models import AuditLog
from fairshare.registration.models import Registration
from tests.allocation.factories import Entry, queue_build
from tests.factories import CommitteeFactory, UserFactory


def _world(s):
    committee = s["committees"][0]
    regs = queue_build(round=s["round"], committee=committee, entries=[Entry()] * 4)
    Registration.objects.filter(pk=regs[0].pk).update(phone="021-65431234")  # landline
    Registration.objects.filter(pk=regs[3].pk).update(phone="")  # no phone
    supply_declare(
        pharmacy=s["pharmacy"],
        date=s["today"],
        packs=4,
        manufacturer="厂",
        style="平面",
        unit_price="1.00",
        actor=None,
    )
    allocation_run(round=s["round"], date=s["today"], pharmacy=s["pharmacy"])
    supply_shortfall(pharmacy=s["pharmacy"], date=s["today"], packs=3, actor=None)
    return committee, regs


def test_the_mobile_rule():
    assert has_mobile("13912345678") and has_mobile(" 13912345678 ")
    assert not has_mobile("") and not has_mobile("021-65431234") and not has_mobile(None)


def test_list_has_issued_and_shortfall_items_of_households_without_mobile(pharmacy_setup):
    s = pharmacy_setup
    committee, regs = _world(s)
    items = hand_list(committee=committee, round=s["round"])
    kinds = sorted((i.kind, i.queue_number) for i in items)
    # queue 1 (landline) holds an issued voucher; queue 4 (no phone) was cancelled
    assert kinds == [("issued", 1), ("shortfall", 4)]
    shortfall = next(i for i in items if i.kind == "shortfall")
    assert "作废" in shortfall.message or "cancelled" in shortfall.message
    issued = next(i for i in items if i.kind == "issued")
    assert s["pharmacy"].name in issued.message
    assert issued.address == str(regs[0].household)


def test_told_is_recorded_and_audited_and_scoped(pharmacy_setup, client):
    s = pharmacy_setup
    committee, _regs = _world(s)
    staff = UserFactory(role="committee", committee=committee)
    client.force_login(staff)
    url = f"/vouchers/committees/{committee.code}/by-hand/"
    page = client.get(url)
    assert page.status_code == 200
    assert "当面告知" in page.content.decode()
    key = next(i.key for i in hand_list(committee=committee, round=s["round"]))
    done = client.post(url, {"round": str(s["round"].pk), "told": [key]})
    assert done.status_code == 302
    notice = HandNotice.objects.get()
    assert notice.told_by == staff and f"{notice.kind}:{notice.ref_id}" == key
    assert AuditLog.objects.filter(action="by_hand.told").count() == 1
    # ticking it again records nothing new; an unknown item is a field error
    client.post(url, {"round": str(s["round"].pk), "told": [key]})
    assert HandNotice.objects.count() == 1
    bad = client.post(url, {"round": str(s["round"].pk), "told": ["issued:999999"]})
    assert bad.status_code == 422
    assert HandNotice.objects.count() == 1
    rows = list(
        csv.reader(io.StringIO(client.get(url.rstrip("/") + ".csv").content.decode("utf-8-sig")))
    )
    assert len(rows) == 3 and staff.username in {rows[1][-1], rows[2][-1]}
    other = UserFactory(role="committee", committee=CommitteeFactory())
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(url, {"told": [key]}).status_code == 404


def test_carried_households_without_mobile_are_listed(pharmacy_setup):
    from fairshare.allocation.carryover import carry_over_run
    from tests.factories import RoundFactory

    s = pharmacy_setup
    committee = s["committees"][0]
    regs = queue_build(round=s["round"], committee=committee, entries=[Entry()] * 2)
    Registration.objects.filter(pk=regs[1].pk).update(phone="")
    target = RoundFactory(district=s["round"].district, carry_over_from=s["round"])
    result = carry_over_run(round=target)
    assert result["without_mobile"] == 1
    items = hand_list(committee=committee, round=target)
    assert [(i.kind, i.queue_number) for i in items] == [("carried", 2)]
    assert not Voucher.objects.exists()


def test_no_sms_is_queued_for_a_household_without_mobile(pharmacy_setup):
    """Issue and shortfall messages go to the two mobiles only: the landline and the
    "no phone" household are told by hand, so no outbox row is left to fail (and count
    as a failed SMS) for them. Negative control: the mobiles' messages are queued."""
    from fairshare.core.models import OutboxMessage

    _world(pharmacy_setup)
    phones = [m.payload.get("phone") for m in OutboxMessage.objects.filter(kind="sms")]
    assert phones and all(has_mobile(p) for p in phones), phones
    assert {"021-65431234", ""}.isdisjoint(phones)
