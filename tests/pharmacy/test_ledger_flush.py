"""Sales join the public chain in batches (``allocation.chain.ledger_redeemed_flush``):
a till's sale never touches the queue counter; ``fairshare ledger_flush`` appends one
"redeemed" link per (round, committee) with the sales since the last one, offline
batches included; ``verify_database`` checks the link against the vouchers."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from fairshare.allocation.models import Voucher
from fairshare.allocation.tokens import token_sign, voucher_claims
from fairshare.core.locking import write_transaction
from fairshare.registration import queue
from fairshare.registration.models import LedgerEntry, QueueCounter
from fairshare.registration.selectors import registered_payload_for
from fairshare.registration.verify import verify_database
from tests.pharmacy.conftest import bearer_for
from tests.pharmacy.factories import sibling_voucher
from tests.pharmacy.test_offline import item, sync

pytestmark = pytest.mark.django_db


def _with_link(voucher: Voucher) -> Voucher:
    """The voucher's registration with its "registered" link, as the service writes it."""
    reg = voucher.registration
    with write_transaction():
        counter = queue.counter_lock(round_id=reg.round_id, committee_id=reg.committee_id)
        counter.last_number = max(counter.last_number, reg.queue_number)
        link = ("registered", reg, lambda seq: registered_payload_for(reg, seq=seq))
        queue.ledger_append(counter, [link])
    return voucher


def _counter(voucher: Voucher):
    return QueueCounter.objects.values_list("last_number", "ledger_seq", "head_hash").get(
        round=voucher.round, committee=voucher.committee
    )


def _redeem(client: Client, voucher: Voucher, headers: dict):
    response = client.post(
        f"/api/v1/vouchers/{voucher.code}/redeem", {}, content_type="application/json", **headers
    )
    assert response.status_code == 200, response.content
    return response


def _flush() -> str:
    out = StringIO()
    call_command("ledger_flush", stdout=out)
    return out.getvalue()


def _redeemed_links():
    payloads = LedgerEntry.objects.filter(kind="redeemed").order_by("seq")
    return [json.loads(p) for p in payloads.values_list("payload", flat=True)]


def test_till_sale_leaves_the_counter_and_the_flush_appends_it_once(client, voucher, owner):
    _with_link(voucher)
    before = _counter(voucher)
    _redeem(client, voucher, bearer_for(owner))
    assert _counter(voucher) == before  # the till never touched the chain
    assert not LedgerEntry.objects.filter(kind="redeemed").exists()
    assert "appended 1" in _flush()
    (link,) = _redeemed_links()
    assert link["queue_numbers"] == [voucher.registration.queue_number] and link["seq"] == 2
    voucher.refresh_from_db()
    assert voucher.ledger_seq == 2 and _counter(voucher)[1:] != before[1:]
    assert "appended 0" in _flush()  # nothing new: no empty link
    assert len(_redeemed_links()) == 1
    assert all(r.ok for r in verify_database())


def test_offline_sales_are_picked_up_by_the_next_flush(client, voucher, owner):
    from datetime import timedelta

    from django.utils import timezone

    _with_link(voucher)
    # Issued yesterday: a sale a few minutes ago is after the issue (offline rule).
    Voucher.objects.filter(pk=voucher.pk).update(issued_at=timezone.now() - timedelta(days=1))
    other = _with_link(sibling_voucher(voucher))
    Voucher.objects.filter(pk=other.pk).update(issued_at=timezone.now() - timedelta(days=1))
    headers = bearer_for(owner)
    _redeem(client, other, headers)
    _flush()
    voucher.refresh_from_db()
    token = token_sign(voucher_claims(voucher))
    response = sync(client, voucher.pharmacy.code, headers, "b-1", [item(token)])
    assert response.json()["items"][0]["outcome"] == "redeemed"
    _flush()
    links = _redeemed_links()
    assert [link["queue_numbers"] for link in links] == [
        [other.registration.queue_number],
        [voucher.registration.queue_number],
    ]
    assert all(r.ok for r in verify_database())


def test_a_sale_undone_in_the_database_is_a_break(client, voucher, owner):
    _with_link(voucher)
    _redeem(client, voucher, bearer_for(owner))
    _flush()
    Voucher.objects.filter(pk=voucher.pk).update(status="issued", redeemed_at=None)
    (report,) = verify_database()
    assert report.broken_seq == 2 and "redeemed" in report.reason
