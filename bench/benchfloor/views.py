"""The benchmark's registration floor: the core work of a registration in hand-written SQL.

Issue 8 calibrates its targets against "a hand-written raw-SQL Django view doing the same
core work (lock the committee's counter row, insert the registration, extend the hash
chain, commit)". This is that view, served by the same gunicorn workers, middleware and
database as the real endpoint, so ``make bench`` can measure in the same run what this
machine allows before validation, rate limits, idempotency, the SMS outbox and the
ledger's canonical payload are added. It is NOT a way to register: it is part of the
benchmark, not of the product, and is mounted only by ``benchfloor/urls.py`` (the URL
configuration the harness selects with ``DJANGO_SETTINGS_MODULE=benchfloor.settings``);
it skips every check and writes a placeholder ledger payload that ``verify_ledger``
rejects.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

_HOUSEHOLD = (
    "SELECT h.id, c.id FROM community_household h "
    "JOIN community_building b ON b.id = h.building_id "
    "JOIN community_committee c ON c.id = b.committee_id "
    "WHERE c.code = %s AND b.label = %s AND h.room = %s"
)
_COUNTER = (
    "SELECT id, last_number, ledger_seq, head_hash FROM registration_queuecounter "
    "WHERE round_id = %s AND committee_id = %s"
)
_INSERT = (
    "INSERT INTO registration_registration (round_id, committee_id, household_id, "
    "queue_number, ticket, channel, status, name, phone, acknowledged_at, returned_recently, "
    "returned_from, void_reason, id_checked) "
    "VALUES (%s, %s, %s, %s, %s, 'online', 'verified', %s, %s, %s, false, '', '', false)"
)
_LEDGER = (
    "INSERT INTO registration_ledgerentry (round_id, committee_id, seq, kind, registration_id, "
    "payload, prev_hash, hash, created_at) VALUES (%s, %s, %s, 'registered', %s, %s, %s, %s, %s)"
)


@csrf_exempt
@require_POST
def floor_register(request: HttpRequest, round_id: int) -> HttpResponse:
    data = json.loads(request.body)
    with connection.cursor() as cur:
        cur.execute(_HOUSEHOLD, [data["committee"], data["building"], data["room"]])
        household_id, committee_id = cur.fetchone()
        with transaction.atomic():  # BEGIN IMMEDIATE on SQLite
            cur.execute(
                "INSERT INTO registration_queuecounter (round_id, committee_id, last_number, "
                "ledger_seq, head_hash) VALUES (%s, %s, 0, 0, %s) ON CONFLICT DO NOTHING",
                [round_id, committee_id, "0" * 64],
            )
            cur.execute(
                _COUNTER + (" FOR UPDATE" if connection.vendor == "postgresql" else ""),
                [round_id, committee_id],
            )
            counter_id, last, seq, head = cur.fetchone()
            now = timezone.now()
            ticket = secrets.token_hex(5).upper()[:9]
            cur.execute(
                _INSERT + " RETURNING id",
                [round_id, committee_id, household_id, last + 1, ticket, data["name"][:64],
                 data["phone"][:20], now],
            )  # fmt: skip
            reg_id = cur.fetchone()[0]
            payload = json.dumps({"q": last + 1, "t": ticket}, separators=(",", ":"))
            new_hash = hashlib.sha256(f"{head}\n{payload}".encode()).hexdigest()
            cur.execute(
                _LEDGER, [round_id, committee_id, seq + 1, reg_id, payload, head, new_hash, now]
            )
            cur.execute(
                "UPDATE registration_queuecounter SET last_number = %s, ledger_seq = %s, "
                "head_hash = %s WHERE id = %s",
                [last + 1, seq + 1, new_hash, counter_id],
            )
    return JsonResponse({"ticket": ticket, "queue_number": last + 1}, status=201)
