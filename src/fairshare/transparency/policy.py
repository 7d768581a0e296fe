"""The policy statement of a round: how its order is decided, in words and parameters.

One selector (``policy_statement``) states the rule once for the three public outputs
that show it: the public round and board pages, the board API and the printed poster.
It returns the machine-readable parameters (policy, offline reserve share, requeue
rule, review gate, lottery commitment and seed) together with ``lines``: human
sentences in the active language (Chinese by default), each with a short label, which
the pages and the poster print as they are.

The sentences follow the engine: the requeue rule is ``allocation.services
.voucher_expire_due`` (an expired voucher requeues the household once, a second expiry
or a round without requeue drops it), the review gate is ``allocation.waiting``
(``SERVABLE``/``HELD``, docs/fairness.md), the classes and their order are
``allocation.setbased`` (requeued first, then the offline reserve, then the queue).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fairshare.allocation.lottery import seed_matches
from fairshare.rounds.models import Round


def _order_text(round: Round) -> str:
    if round.policy == Round.Policy.PER_BUILDING:
        return _(
            "Each day's vouchers of a committee are split evenly across its buildings "
            "(by how many wait in each); within a building, in order of queue number."
        )
    if round.policy == Round.Policy.LOTTERY:
        return _(
            "Households are served in the order of a lottery: each registration's rank "
            "is computed from the published seed and its ticket, lowest first."
        )
    return _("Households are served in order of their queue number: first come, first served.")


def _reserve_text(round: Round) -> str:
    if not round.offline_reserve_pct:
        return _("No offline reserve: offline registrations wait in the same queue as online.")
    return _(
        "%(pct)s%% of each committee's vouchers of a day are kept for the earliest "
        "registrations made offline (desk, phone, photo, building sheet) that still wait, "
        "so they may be served before earlier online numbers."
    ) % {"pct": round.offline_reserve_pct}


def _requeue_text(round: Round) -> str:
    if round.requeue_expired:
        return _(
            "A voucher not used within its %(days)s day(s) expires; the household goes back "
            "to the head of its committee's queue once (served first at the next "
            "allocation). If the second voucher expires too, it loses its place."
        ) % {"days": round.voucher_valid_days}
    return _(
        "A voucher not used within its %(days)s day(s) expires and the household loses "
        "its place (this round does not requeue)."
    ) % {"days": round.voucher_valid_days}


def _review_text() -> str:
    return _(
        "Registrations waiting for review (a name not matching the roster, or a photo) "
        "keep their queue number but get a voucher only after staff approve them; "
        "later numbers may be served meanwhile. Once approved, a registration is served "
        "at its place at the next allocation."
    )


def _lottery(round: Round) -> dict[str, Any] | None:
    if round.policy != Round.Policy.LOTTERY:
        return None
    closes = timezone.localtime(round.registration_closes_at)
    revealed = seed_matches(round.lottery_seed, round.lottery_commitment)
    if round.lottery_commitment:
        commitment = _(
            "Commitment (SHA-256 of the secret seed, published before registration "
            "closes at %(closes)s): %(commitment)s"
        ) % {"closes": closes.strftime("%Y-%m-%d %H:%M"), "commitment": round.lottery_commitment}
    else:
        commitment = _(
            "The commitment to the seed is not published yet; it must be before "
            "registration closes at %(closes)s."
        ) % {"closes": closes.strftime("%Y-%m-%d %H:%M")}
    if revealed:
        seed = _(
            "Revealed seed: %(seed)s (its SHA-256 equals the commitment; anyone can "
            "recompute the ranks with `fairshare lottery verify`)."
        ) % {"seed": round.lottery_seed}
    else:
        seed = _("The seed is revealed after registration closes; no voucher is issued before.")
    return {
        "commitment": round.lottery_commitment or None,
        "seed": round.lottery_seed if revealed else None,
        "seed_revealed": revealed,
        "registration_closes_at": closes.isoformat(),
        "commitment_text": commitment,
        "seed_text": seed,
    }


def policy_statement(*, round: Round) -> dict[str, Any]:
    """The round's order rules: parameters and human sentences (``lines``).

    Keys: ``policy`` (code) and ``policy_label``, ``offline_reserve_pct``,
    ``requeue_expired``, ``voucher_valid_days``, ``review_gate`` (always true: the
    engine serves only verified registrations), ``lottery`` (None unless the round is a
    lottery: commitment, seed once revealed, ``seed_revealed``), and ``lines``: a list
    of ``{"key", "label", "text"}`` in display order.
    """
    lottery = _lottery(round)
    lines = [
        {"key": "policy", "label": _("Allocation policy"), "text": _order_text(round)},
        {"key": "offline_reserve", "label": _("Offline reserve"), "text": _reserve_text(round)},
        {"key": "requeue", "label": _("Expired vouchers"), "text": _requeue_text(round)},
        {"key": "review_gate", "label": _("Review"), "text": _review_text()},
    ]
    if lottery is not None:
        lines.append(
            {
                "key": "commitment",
                "label": _("Lottery commitment"),
                "text": lottery["commitment_text"],
            }
        )
        lines.append({"key": "seed", "label": _("Lottery seed"), "text": lottery["seed_text"]})
    return {
        "policy": round.policy,
        "policy_label": str(Round.Policy(round.policy).label),
        "offline_reserve_pct": round.offline_reserve_pct,
        "requeue_expired": round.requeue_expired,
        "voucher_valid_days": round.voucher_valid_days,
        "review_gate": True,
        "lottery": lottery,
        "lines": lines,
    }
