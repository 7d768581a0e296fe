"""Who is waiting: the one definition, used by the engine, carry-over and the benchmark.

A registration of a round is **waiting** when

* it is live (its status is not ``void``),
* its household holds no live voucher of the round (``Voucher.LIVE_STATUSES``: an
  expired or cancelled voucher does not count, so an expired household waits again),
* and its household was not dropped after an expiry (a ``Requeue`` with outcome
  ``dropped``: it had its second chance and no longer waits).

The rule is written once, as SQL (``waiting_sql``), because the set-based engine
(``setbased``) needs it inside its window-function queries; the ORM form
(``waiting_registrations``) is derived from the same text, and ``waiting_exists`` is
the engine's "is anybody waiting" check on it. The exclusions are written as
``NOT IN (subquery)`` so both databases hash the excluded households once
(PostgreSQL: hashed subplan; SQLite: a temporary index) whatever the table statistics
say; a correlated ``NOT EXISTS`` degraded to a nested loop on PostgreSQL right after a
bulk load (stale statistics).
"""

# The SQL here is built from table names, model constants and integers it computes itself;
# every outside value (the round id) is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from fairshare.allocation.models import Requeue, Voucher
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round

_REG = Registration._meta.db_table
_VOUCHER = Voucher._meta.db_table
_REQUEUE = Requeue._meta.db_table
# Fixed strings of the models written as SQL literals (not outside input).
_LIVE = ", ".join(f"'{status}'" for status in Voucher.LIVE_STATUSES)
_VOID = f"'{Registration.Status.VOID}'"
_DROPPED = f"'{Requeue.Outcome.DROPPED}'"


def waiting_sql(
    *, round_id: int, committee_ids: Sequence[int] | None = None, alias: str = "r"
) -> tuple[str, list[int]]:
    """(WHERE condition on the registration table as ``alias``, its parameters).

    ``committee_ids`` limits the rule to those committees (ids are written as integer
    literals); ``None`` means every committee of the round.
    """
    registrations = vouchers = ""
    if committee_ids is not None:
        ids = ", ".join(str(int(i)) for i in committee_ids) or "NULL"
        registrations = f" AND {alias}.committee_id IN ({ids})"
        vouchers = f" AND v.committee_id IN ({ids})"
    sql = (
        f"{alias}.round_id = %s{registrations} AND {alias}.status <> {_VOID} "
        f"AND {alias}.household_id NOT IN (SELECT v.household_id FROM {_VOUCHER} v "
        f"WHERE v.round_id = %s{vouchers} AND v.status IN ({_LIVE})) "
        f"AND {alias}.household_id NOT IN (SELECT d.household_id FROM {_REQUEUE} d "
        f"WHERE d.round_id = %s AND d.outcome = {_DROPPED})"
    )
    return sql, [int(round_id)] * 3


def waiting_registrations(
    *, round: Round, committee_ids: Sequence[int] | None = None
) -> QuerySet[Registration]:
    """The waiting registrations as a queryset (the rule of ``waiting_sql``)."""
    where, params = waiting_sql(round_id=round.pk, committee_ids=committee_ids, alias="w")
    return Registration.objects.filter(
        pk__in=RawSQL(f"SELECT w.id FROM {_REG} w WHERE {where}", params)  # noqa: S611
    )


def waiting_exists(*, round_id: int, committee_ids: Sequence[int] | None = None) -> bool:
    """Whether anybody waits (the rule of ``waiting_sql``, one indexed probe)."""
    where, params = waiting_sql(round_id=round_id, committee_ids=committee_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {_REG} r WHERE {where} LIMIT 1", params)
        return cursor.fetchone() is not None
