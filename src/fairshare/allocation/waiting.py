"""Who is waiting: the one definition, used by the engine, carry-over and the benchmark.

A registration of a round is **waiting** when

* it is servable: its status is ``verified`` (``SERVABLE``). A registration pending
  review keeps its place (its queue number) but waits for staff, not for a voucher:
  it is **held** (``held=True`` names the waiting and the held ones together, e.g. for
  carry-over, which must not drop a household whose review is still open); a void one
  (also the ``superseded`` ones) never waits,
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
# Statuses that are served; pending review is held (keeps its place, gets no voucher).
SERVABLE = (Registration.Status.VERIFIED,)
HELD = (Registration.Status.PENDING_REVIEW,)
_SERVABLE = ", ".join(f"'{status}'" for status in SERVABLE)
_SERVABLE_OR_HELD = ", ".join(f"'{status}'" for status in SERVABLE + HELD)
_HELD = ", ".join(f"'{status}'" for status in HELD)
_DROPPED = f"'{Requeue.Outcome.DROPPED}'"


def waiting_sql(
    *,
    round_id: int,
    committee_ids: Sequence[int] | None = None,
    alias: str = "r",
    held: bool = False,
    held_only: bool = False,
) -> tuple[str, list[int]]:
    """(WHERE condition on the registration table as ``alias``, its parameters).

    ``committee_ids`` limits the rule to those committees (ids are written as integer
    literals); ``None`` means every committee of the round. ``held`` adds the
    registrations held for review to the waiting ones; ``held_only`` names only them.
    """
    statuses = _HELD if held_only else _SERVABLE_OR_HELD if held else _SERVABLE
    registrations = vouchers = ""
    if committee_ids is not None:
        ids = ", ".join(str(int(i)) for i in committee_ids) or "NULL"
        registrations = f" AND {alias}.committee_id IN ({ids})"
        vouchers = f" AND v.committee_id IN ({ids})"
    sql = (
        f"{alias}.round_id = %s{registrations} AND {alias}.status IN ({statuses}) "
        f"AND {alias}.household_id NOT IN (SELECT v.household_id FROM {_VOUCHER} v "
        f"WHERE v.round_id = %s{vouchers} AND v.status IN ({_LIVE})) "
        f"AND {alias}.household_id NOT IN (SELECT d.household_id FROM {_REQUEUE} d "
        f"WHERE d.round_id = %s AND d.outcome = {_DROPPED})"
    )
    return sql, [int(round_id)] * 3


def waiting_registrations(
    *,
    round: Round,
    committee_ids: Sequence[int] | None = None,
    held: bool = False,
    held_only: bool = False,
) -> QuerySet[Registration]:
    """The waiting registrations as a queryset (the rule of ``waiting_sql``)."""
    where, params = waiting_sql(
        round_id=round.pk,
        committee_ids=committee_ids,
        alias="w",
        held=held,
        held_only=held_only,
    )
    return Registration.objects.filter(
        pk__in=RawSQL(f"SELECT w.id FROM {_REG} w WHERE {where}", params)  # noqa: S611
    )


def waiting_exists(*, round_id: int, committee_ids: Sequence[int] | None = None) -> bool:
    """Whether anybody waits (the rule of ``waiting_sql``, one indexed probe)."""
    where, params = waiting_sql(round_id=round_id, committee_ids=committee_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {_REG} r WHERE {where} LIMIT 1", params)
        return cursor.fetchone() is not None


def held_ahead_counts(*, round_id: int, last_served: dict[int, int]) -> dict[int, int]:
    """Per committee: registrations held for review ahead of its last served number.

    ``last_served`` maps a committee id to the highest queue number a run served there;
    the answer counts the held registrations (``held_only``) with a lower queue number:
    the households the run passed over because their review is still open
    (``docs/fairness.md``, "The review gate").
    """
    counts: dict[int, int] = {}
    for committee_id, last in last_served.items():
        where, params = waiting_sql(round_id=round_id, committee_ids=[committee_id], held_only=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {_REG} r WHERE {where} AND r.queue_number < %s",
                [*params, int(last)],
            )
            row = cursor.fetchone()
        counts[committee_id] = int(row[0]) if row else 0
    return counts
