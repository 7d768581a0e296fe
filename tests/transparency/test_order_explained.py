"""Order explained in public: the policy statement (round page, board page and API,
poster), the reason of each entry served ahead of an earlier one, and both times of
sheet and phone entries. Allocations go through the real engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from reportlab.pdfgen.canvas import Canvas

from fairshare.allocation.engine import allocation_run
from fairshare.allocation.lottery import commitment_of, seed_new
from fairshare.allocation.services import supply_declare, voucher_expire_due
from fairshare.registration.models import Registration
from fairshare.registration.services import registration_approve
from fairshare.rounds.models import Round
from tests.allocation.factories import Entry, queue_build
from tests.factories import CommitteeFactory, RoundFactory, UserFactory

pytestmark = pytest.mark.django_db


def _place(**round_fields):
    committee = CommitteeFactory()
    rnd = RoundFactory(district=committee.subdistrict.district, **round_fields)
    return committee, rnd


def _supply_and_run(committee, rnd, packs):
    """Confirm ``packs`` for today in total (a new declaration corrects the day's figure;
    0 keeps it) and allocate what is free."""
    if packs:
        supply_declare(
            pharmacy=committee.pharmacy,
            date=timezone.localdate(),
            packs=packs,
            manufacturer="厂家",
            style="平面",
            unit_price="2.50",
            actor=None,
        )
    allocation_run(round=rnd, date=timezone.localdate(), pharmacy=committee.pharmacy)


def _board(client, committee, rnd, lang=None):
    url = f"/api/v1/public/rounds/{rnd.pk}/committees/{committee.code}/board"
    if lang:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    body = client.get(url).json()
    return body, {e["queue_number"]: e for e in body["entries"]}


def _reason(entry):
    return entry["ahead_reason"]["code"] if entry["ahead_reason"] else None


def _expire_all():
    return voucher_expire_due(today=timezone.localdate() + timedelta(days=1))


# --- the policy statement ---------------------------------------------------------


def test_fcfs_round_states_its_rules_and_no_lottery(client):
    committee, rnd = _place(offline_reserve_pct=20)
    queue_build(round=rnd, committee=committee, entries=[Entry()])
    body, _ = _board(client, committee, rnd)
    policy = body["policy"]
    assert policy["policy"] == "fcfs" and policy["policy_label"] == "先到先得"
    assert policy["offline_reserve_pct"] == 20 and policy["review_gate"] is True
    assert policy["requeue_expired"] is True and policy["voucher_valid_days"] == 1
    assert policy["lottery"] is None  # negative control: no lottery, no seed, no commitment
    keys = [line["key"] for line in policy["lines"]]
    assert keys == ["policy", "offline_reserve", "requeue", "review_gate"]
    text = " ".join(line["text"] for line in policy["lines"])
    assert "20%" in text and "回到本居委会队首一次" in text and "审核通过后" in text
    for page in (
        f"/public/rounds/{rnd.pk}/",
        f"/public/rounds/{rnd.pk}/committees/{committee.code}/",
    ):
        html = client.get(page).content.decode()
        assert "供应顺序如何决定" in html and "先到先得" in html and "20%" in html
        assert "摇号" not in html


def test_requeue_off_and_english_labels(client):
    committee, rnd = _place(requeue_expired=False, voucher_valid_days=2)
    queue_build(round=rnd, committee=committee, entries=[Entry()])
    body, _ = _board(client, committee, rnd, lang="en")
    requeue = next(line for line in body["policy"]["lines"] if line["key"] == "requeue")
    assert "2 day(s)" in requeue["text"] and "does not requeue" in requeue["text"]
    offline = next(line for line in body["policy"]["lines"] if line["key"] == "offline_reserve")
    assert offline["text"].startswith("No offline reserve")


def test_lottery_round_states_commitment_then_seed(client):
    seed = seed_new()
    committee, rnd = _place(policy=Round.Policy.LOTTERY, lottery_commitment=commitment_of(seed))
    queue_build(round=rnd, committee=committee, entries=[Entry()] * 6)
    lottery = _board(client, committee, rnd)[0]["policy"]["lottery"]
    assert lottery["commitment"] == rnd.lottery_commitment
    assert lottery["seed"] is None and lottery["seed_revealed"] is False
    round_page = client.get(f"/public/rounds/{rnd.pk}/").content.decode()
    assert rnd.lottery_commitment in round_page and seed not in round_page
    Round.objects.filter(pk=rnd.pk).update(lottery_seed=seed)
    rnd.refresh_from_db()
    body, by_q = _board(client, committee, rnd)
    assert body["policy"]["lottery"]["seed"] == seed
    assert seed in client.get(f"/public/rounds/{rnd.pk}/").content.decode()
    # Served by lottery rank, not by queue number: still plain order, so no reason.
    _supply_and_run(committee, rnd, 3)
    _body, by_q = _board(client, committee, rnd)
    assert sum(e["status"] == "voucher_issued" for e in by_q.values()) == 3
    assert all(e["ahead_reason"] is None for e in by_q.values())


def test_poster_states_the_policy(client, monkeypatch):
    committee, rnd = _place(offline_reserve_pct=30)
    queue_build(round=rnd, committee=committee, entries=[Entry()] * 3)
    drawn: list[str] = []
    original = Canvas.drawString

    def spy(self, x, y, text, *args, **kwargs):
        drawn.append(str(text))
        return original(self, x, y, text, *args, **kwargs)

    monkeypatch.setattr(Canvas, "drawString", spy)
    response = client.get(f"/public/rounds/{rnd.pk}/committees/{committee.code}/poster.pdf")
    assert response.status_code == 200
    text = "".join(drawn)
    assert "供应顺序如何决定: 先到先得" in text
    assert "30%" in text and "审核通过后" in text and "回到本居委会队首一次" in text
    assert "摇号" not in text


# --- reasons ----------------------------------------------------------------------


def test_offline_reserve_is_named_and_plain_order_has_no_reason(client):
    committee, rnd = _place(offline_reserve_pct=50)
    entries = [Entry()] * 4 + [Entry(channel="desk"), Entry(channel="phone")]
    queue_build(round=rnd, committee=committee, entries=entries)
    _supply_and_run(committee, rnd, 2)  # quota 2: one from the reserve (No. 5), then No. 1
    _body, by_q = _board(client, committee, rnd)
    assert {q for q, e in by_q.items() if e["status"] == "voucher_issued"} == {1, 5}
    assert by_q[5]["ahead_reason"] == {
        "code": "offline_reserve",
        "label": "线下预留：来自为线下登记保留的份额",
    }
    assert by_q[1]["ahead_reason"] is None  # served in plain order
    assert by_q[2]["ahead_reason"] is None and by_q[2]["status"] == "waiting"
    _supply_and_run(committee, rnd, 6)  # everybody else: nobody earlier is left waiting
    _body, by_q = _board(client, committee, rnd)
    assert [_reason(by_q[q]) for q in range(1, 7)] == [None] * 4 + ["offline_reserve", None]
    html = client.get(f"/public/rounds/{rnd.pk}/committees/{committee.code}/").content.decode()
    assert "提前供应原因" in html and html.count('class="reason reason-offline_reserve"') == 2


def test_waiting_for_review_then_requeued_then_dropped(client):
    committee, rnd = _place()
    entries = [Entry(status="pending_review"), Entry(), Entry()]
    regs = queue_build(round=rnd, committee=committee, entries=entries)
    _supply_and_run(committee, rnd, 1)  # No. 1 is held: No. 2 is served ahead of it
    _body, by_q = _board(client, committee, rnd)
    assert by_q[1]["status"] == "held" and by_q[1]["ahead_reason"] is None
    assert _reason(by_q[2]) == "review" and by_q[3]["ahead_reason"] is None
    assert _expire_all() == 1  # No. 2's voucher expires: back to the head of the queue
    registration_approve(
        registration=regs[0], actor=UserFactory(role="committee", committee=committee)
    )
    _supply_and_run(committee, rnd, 0)  # the expired pack is free again: one voucher
    _body, by_q = _board(client, committee, rnd)
    # No. 1 is approved and waits, but the requeued household comes first.
    assert by_q[2]["status"] == "voucher_issued" and _reason(by_q[2]) == "requeued"
    assert by_q[1]["status"] == "waiting"
    _supply_and_run(committee, rnd, 2)
    _body, by_q = _board(client, committee, rnd)
    assert by_q[1]["status"] == "voucher_issued" and by_q[1]["ahead_reason"] is None
    assert _expire_all() == 2  # No. 2's second expiry: it loses its place
    _body, by_q = _board(client, committee, rnd)
    assert by_q[2]["status"] == "dropped" and by_q[2]["ahead_reason"] is None
    assert by_q[1]["status"] == "waiting"  # its first expiry: requeued


def test_per_building_compares_within_the_building(client):
    committee, rnd = _place(policy=Round.Policy.PER_BUILDING)
    entries = [Entry(building=0, status="pending_review"), Entry(building=1), Entry(building=0)]
    queue_build(round=rnd, committee=committee, entries=entries)
    _supply_and_run(committee, rnd, 2)  # one per building: No. 2 (building 1), No. 3 (building 0)
    body, by_q = _board(client, committee, rnd)
    assert body["policy"]["policy"] == "per_building"
    assert by_q[2]["status"] == by_q[3]["status"] == "voucher_issued"
    assert _reason(by_q[3]) == "review"  # No. 1 of its own building waits for review
    assert by_q[2]["ahead_reason"] is None  # first of its building: plain order


def test_reasons_are_computed_in_bounded_queries(client, django_assert_max_num_queries):
    committee, rnd = _place(offline_reserve_pct=10)
    entries = [Entry(channel=["online", "desk", "sheet"][i % 3]) for i in range(300)]
    queue_build(round=rnd, committee=committee, entries=entries)
    for packs in (40, 80, 120):
        _supply_and_run(committee, rnd, packs)
    from fairshare.transparency.board import board_cache_clear, board_get

    board_cache_clear()
    with django_assert_max_num_queries(8):
        board = board_get(round=rnd, committee=committee, use_cache=False)
    assert sum(e["status"] == "voucher_issued" for e in board.entries) == 120
    assert {e["ahead_reason"] for e in board.entries} <= {None, "offline_reserve"}


# --- times ------------------------------------------------------------------------


def test_sheet_and_phone_entries_show_both_times(client):
    committee, rnd = _place()
    entries = [Entry(), Entry(channel="sheet"), Entry(channel="phone"), Entry(channel="desk")]
    regs = queue_build(round=rnd, committee=committee, entries=entries)
    entered = timezone.now().replace(microsecond=0)
    written = entered - timedelta(hours=5)
    Registration.objects.filter(pk__in=[r.pk for r in regs]).update(
        acknowledged_at=entered, written_at=written
    )
    body, by_q = _board(client, committee, rnd)
    iso = timezone.localtime(entered).isoformat()
    assert all(e["entered_at"] == iso for e in by_q.values())
    assert by_q[2]["written_at"] == by_q[3]["written_at"] == timezone.localtime(written).isoformat()
    # Only sheet and phone entries carry a written time (never used for the order).
    assert by_q[1]["written_at"] is None and by_q[4]["written_at"] is None
    assert body["labels"]["entered_at"].startswith("录入时间")
    assert body["labels"]["written_at"].startswith("表上填写时间")
    html = client.get(f"/public/rounds/{rnd.pk}/committees/{committee.code}/").content.decode()
    assert 'data-label="表上填写时间"' in html
    stamp = timezone.localtime(written).strftime("%m-%d %H:%M")
    assert html.count(f">{stamp}</time>") == 2
