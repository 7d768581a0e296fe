"""Supply declarations (药店次日供应量), the supply of a pharmacy-day, and vouchers."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SupplyDay(models.Model):
    """The confirmed supply of one pharmacy on one day.

    ``packs`` is the sum of the current (non-superseded) declarations of that day,
    written in the same transaction as each declaration. Allocation locks this row
    (it is what allocation uses up), so two runs for the same pharmacy and day are
    serialized and never issue more vouchers than ``packs``.
    """

    pharmacy = models.ForeignKey(
        "community.Pharmacy",
        on_delete=models.PROTECT,
        related_name="supply_days",
        verbose_name=_("pharmacy"),
    )
    date = models.DateField(_("date"))
    packs = models.PositiveIntegerField(_("packs confirmed"), default=0)

    class Meta:
        verbose_name = _("supply day")
        verbose_name_plural = _("supply days")
        ordering = ["-date", "pharmacy"]
        constraints = [
            models.UniqueConstraint(fields=["pharmacy", "date"], name="supply_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pharmacy} {self.date} ({self.packs})"


class SupplyDeclaration(models.Model):
    """A batch the pharmacy declares for a day. Corrections supersede, never edit."""

    supply_day = models.ForeignKey(
        SupplyDay,
        on_delete=models.PROTECT,
        related_name="declarations",
        verbose_name=_("supply day"),
    )
    packs = models.PositiveIntegerField(_("packs"))
    manufacturer = models.CharField(_("manufacturer"), max_length=100)
    style = models.CharField(_("style"), max_length=100)
    unit_price = models.DecimalField(_("price per pack (yuan)"), max_digits=8, decimal_places=2)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("declared by"),
    )
    declared_at = models.DateTimeField(_("declared at"), default=timezone.now)
    superseded_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )

    class Meta:
        verbose_name = _("supply declaration")
        verbose_name_plural = _("supply declarations")
        ordering = ["-declared_at"]
        constraints = [
            models.CheckConstraint(condition=Q(packs__lte=100000), name="supply_packs_sane"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="supply_price_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.style} ×{self.packs}"


class VoucherStatus(models.TextChoices):
    ISSUED = "issued", _("issued")
    REDEEMED = "redeemed", _("bought")
    EXPIRED = "expired", _("expired")
    CANCELLED = "cancelled", _("cancelled")


# The one definition of a live voucher (issued and not yet bought, or bought): a household
# holds at most one per round, its packs count against the supply day, and its household
# is not waiting. Everything else reads ``Voucher.LIVE_STATUSES``.
LIVE_VOUCHER_STATUSES: tuple[str, ...] = (VoucherStatus.ISSUED, VoucherStatus.REDEEMED)
# Vouchers that went out, whatever became of them (the "vouchers issued" figure).
ISSUED_VOUCHER_STATUSES: tuple[str, ...] = (*LIVE_VOUCHER_STATUSES, VoucherStatus.EXPIRED)


class Voucher(models.Model):
    """A purchase voucher (购买凭证) for one household, one pharmacy and one day."""

    Status = VoucherStatus
    LIVE_STATUSES: ClassVar[tuple[str, ...]] = LIVE_VOUCHER_STATUSES
    ISSUED_STATUSES: ClassVar[tuple[str, ...]] = ISSUED_VOUCHER_STATUSES

    class Fulfilment(models.TextChoices):
        PICKUP = "pickup", _("pharmacy pickup")
        PROXY = "proxy", _("committee buys on behalf (代购)")
        DELIVERY = "delivery", _("home delivery")

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="vouchers")
    registration = models.ForeignKey(
        "registration.Registration", on_delete=models.PROTECT, related_name="vouchers"
    )
    household = models.ForeignKey(
        "community.Household", on_delete=models.PROTECT, related_name="vouchers"
    )
    committee = models.ForeignKey(
        "community.Committee", on_delete=models.PROTECT, related_name="vouchers"
    )
    pharmacy = models.ForeignKey(
        "community.Pharmacy", on_delete=models.PROTECT, related_name="vouchers"
    )
    supply_day = models.ForeignKey(SupplyDay, on_delete=models.PROTECT, related_name="vouchers")
    declaration = models.ForeignKey(
        SupplyDeclaration,
        on_delete=models.PROTECT,
        related_name="vouchers",
        verbose_name=_("batch"),
    )
    date = models.DateField(_("date"))
    slot_start = models.TimeField(_("pickup from"), null=True, blank=True)
    slot_end = models.TimeField(_("pickup until"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"))
    code = models.CharField(_("voucher code"), max_length=16, unique=True)
    packs = models.PositiveSmallIntegerField(_("packs"), default=1)
    fulfilment = models.CharField(
        _("fulfilment"), max_length=8, choices=Fulfilment.choices, default=Fulfilment.PICKUP
    )
    status = models.CharField(
        _("status"), max_length=12, choices=VoucherStatus.choices, default=VoucherStatus.ISSUED
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    redeemed_at = models.DateTimeField(_("bought at"), null=True, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expired_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The sequence number of the "redeemed" ledger link that lists this voucher's sale
    # (``chain.ledger_redeemed_flush``); null until the next flush.
    ledger_seq = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["date", "slot_start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "household"],
                condition=Q(status__in=list(LIVE_VOUCHER_STATUSES)),
                name="voucher_one_live_per_household",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VoucherStatus.values),
                name="voucher_status_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="redeemed", redeemed_at__isnull=False)
                    | (~Q(status="redeemed") & Q(redeemed_at__isnull=True))
                ),
                name="voucher_redeemed_iff_time",
            ),
            models.CheckConstraint(condition=Q(packs__gte=1), name="voucher_packs_positive"),
            models.CheckConstraint(
                condition=Q(fulfilment__in=["pickup", "proxy", "delivery"]),
                name="voucher_fulfilment_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["supply_day", "status"], name="voucher_supply_status_idx"),
            models.Index(fields=["round", "committee", "status"], name="voucher_committee_idx"),
            # "has this household a live voucher in this round" (the waiting query).
            models.Index(fields=["household", "round", "status"], name="voucher_household_idx"),
            # The sales not yet in a "redeemed" link (small: at most a few minutes' worth).
            models.Index(
                fields=["round", "committee"],
                condition=Q(status="redeemed", ledger_seq__isnull=True),
                name="voucher_unflushed_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class AllocationRun(models.Model):
    """One (non-dry) allocation run for a pharmacy-day: who ran it and what it issued."""

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="+")
    pharmacy = models.ForeignKey("community.Pharmacy", on_delete=models.PROTECT, related_name="+")
    supply_day = models.ForeignKey(
        SupplyDay, on_delete=models.PROTECT, related_name="allocation_runs"
    )
    date = models.DateField(_("date"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)
    packs_available = models.PositiveIntegerField(_("packs available before the run"))
    issued = models.PositiveIntegerField(_("vouchers issued"))
    by_committee = models.JSONField(_("per committee"), default=list)

    class Meta:
        verbose_name = _("allocation run")
        verbose_name_plural = _("allocation runs")
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"{self.pharmacy_id} {self.date}: {self.issued}"


class Requeue(models.Model):
    """What happened to a household whose voucher expired unredeemed, or was cancelled
    for a supply shortfall (``reason``).

    ``requeued``: the household waits again at the head of its committee's queue
    (after an expiry once per round, when the round's ``requeue_expired`` is on; after
    a shortfall always, and it does not use up that once); ``dropped``: it lost its
    place (requeue off, or its second voucher expired too). A household may have
    several ``requeued`` rows (a shortfall, then an expiry): its latest one is what
    the engine's requeued class orders by (``setbased``). The engine reads these
    records; nothing is counted in a drifting counter.
    """

    class Outcome(models.TextChoices):
        REQUEUED = "requeued", _("back to the head of the queue")
        DROPPED = "dropped", _("lost its place")

    class Reason(models.TextChoices):
        EXPIRY = "expiry", _("voucher expired unbought")
        SHORTFALL = "shortfall", _("voucher cancelled for a supply shortfall")

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey(
        "community.Household", on_delete=models.PROTECT, related_name="requeues"
    )
    registration = models.ForeignKey(
        "registration.Registration", on_delete=models.PROTECT, related_name="requeues"
    )
    voucher = models.OneToOneField(Voucher, on_delete=models.PROTECT, related_name="requeue")
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    # Why the household waits again. Only an expiry uses up the household's one
    # requeue: a shortfall (allocation/shortfall.py) is not the household's fault.
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.EXPIRY)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("requeue")
        verbose_name_plural = _("requeues")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["requeued", "dropped"]), name="requeue_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=["expiry", "shortfall"]), name="requeue_reason_valid"
            ),
            models.UniqueConstraint(
                fields=["round", "household"],
                condition=Q(outcome="requeued", reason="expiry"),
                name="requeue_expiry_once_per_household",
            ),
        ]
        indexes = [models.Index(fields=["household", "round"], name="requeue_household_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.outcome}"


class CarryOver(models.Model):
    """A carry-over that ran: the unserved of ``source`` were queued first in ``target``.

    Its existence fences ``source``: it allocates nothing more (services.py,
    ``allocation_fence_check``), so a carried household is never served in both rounds.
    Written in the carry-over's transaction, under the source round's row lock.
    """

    source = models.ForeignKey(
        "rounds.Round", on_delete=models.PROTECT, related_name="carry_overs_out"
    )
    target = models.OneToOneField(
        "rounds.Round", on_delete=models.PROTECT, related_name="carry_over_in"
    )
    carried = models.PositiveIntegerField(default=0)
    without_mobile = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"carry-over {self.source_id} → {self.target_id}"


class HandNotice(models.Model):
    """A notify-by-hand item a committee's staff marked as told (who, when).

    The list itself is derived (``allocation/by_hand.py``): households without a mobile
    phone whose voucher was issued (``kind`` issued, ``ref_id`` the voucher), whose
    voucher was cancelled for a shortfall (shortfall, the Requeue) or that were carried
    over (carried, the new registration). Only the "told" mark is stored.
    """

    class Kind(models.TextChoices):
        ISSUED = "issued", _("voucher issued")
        SHORTFALL = "shortfall", _("voucher cancelled (shortfall)")
        CARRIED = "carried", _("carried over")

    committee = models.ForeignKey("community.Committee", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ref_id = models.BigIntegerField()
    told_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    told_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("told by hand")
        verbose_name_plural = _("told by hand")
        constraints = [
            models.UniqueConstraint(fields=["kind", "ref_id"], name="hand_notice_once"),
            models.CheckConstraint(
                condition=Q(kind__in=["issued", "shortfall", "carried"]),
                name="hand_notice_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref_id}"


class EmergencyStock(models.Model):
    """Packs a round sets aside for a committee's emergency deliveries (仁恒怡庭).

    From each confirmed day of the committee's pharmacy in the round, ``packs`` are kept
    out of allocation until staff deliver them to residents who could not register
    (``allocation/emergency.py``); the engine and the stock feed count the part not yet
    delivered as unavailable (``emergency.set_aside_unused``).
    """

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="+")
    committee = models.ForeignKey("community.Committee", on_delete=models.PROTECT, related_name="+")
    packs = models.PositiveSmallIntegerField(_("packs set aside per day"), default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "committee"], name="emergency_stock_unique"),
            models.CheckConstraint(condition=Q(packs__lte=1000), name="emergency_stock_sane"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.committee_id}: {self.packs}"


class LotterySecret(models.Model):
    """The secret lottery seed of a round, kept once in the database between commit and reveal.

    ``lottery_commit`` stores it with the round's public commitment (its SHA-256) in one
    transaction, so every node reveals the same seed and draws the same ranks; until the
    reveal copies it to ``Round.lottery_seed`` it is shown nowhere (no API, page or admin).
    """

    round = models.OneToOneField(
        "rounds.Round", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    seed = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"lottery secret of round {self.round_id}"
