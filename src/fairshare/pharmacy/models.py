"""Redemptions, offline batches and their conflicts, forged tokens, proxy purchases, hand-overs.

The voucher row itself (allocation.Voucher) carries the status; these tables record
*how* each redemption happened so that a 409 can say when and where, and so that the
daily reconciliation can show offline conflicts and hand-overs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    ONLINE = "online", _("terminal online")
    OFFLINE = "offline", _("terminal offline, synced later")
    PROXY = "proxy", _("committee proxy purchase")


class Redemption(models.Model):
    """One per redeemed voucher, written in the transaction of the conditional update.

    The one-to-one on ``voucher`` is a second, database-level guard for "redeemed at
    most once": even code that bypassed the conditional update could not record two.
    """

    voucher = models.OneToOneField(
        "allocation.Voucher", on_delete=models.PROTECT, related_name="redemption"
    )
    pharmacy = models.ForeignKey(
        "community.Pharmacy", on_delete=models.PROTECT, related_name="redemptions"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    redeemed_at = models.DateTimeField(_("bought at"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    terminal_id = models.CharField(_("terminal"), max_length=64, blank=True)
    offline_batch = models.ForeignKey(
        "OfflineBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proxy_batch = models.ForeignKey(
        "ProxyBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="redemptions",
    )

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-redeemed_at"]
        indexes = [models.Index(fields=["pharmacy", "redeemed_at"], name="redemption_pharm_at_idx")]

    def __str__(self) -> str:
        return f"{self.voucher_id} {self.channel} {self.redeemed_at:%Y-%m-%d %H:%M}"


class OfflineBatch(models.Model):
    """A set of redemptions a terminal recorded while offline, synced in one request."""

    pharmacy = models.ForeignKey(
        "community.Pharmacy", on_delete=models.PROTECT, related_name="offline_batches"
    )
    batch_id = models.CharField(_("batch id"), max_length=64)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("synced at"), default=timezone.now)
    request_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("offline batch")
        verbose_name_plural = _("offline batches")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["pharmacy", "batch_id"], name="offline_batch_unique")
        ]

    def __str__(self) -> str:
        return f"{self.pharmacy_id}:{self.batch_id}"


class OfflineItem(models.Model):
    """One entry of an offline batch and what the server made of it. Never deleted."""

    class Outcome(models.TextChoices):
        REDEEMED = "redeemed", _("redeemed")
        DUPLICATE = "duplicate", _("same voucher twice in this batch")
        CONFLICT = "conflict", _("conflict: already redeemed")
        REJECTED = "rejected", _("rejected")

    batch = models.ForeignKey(OfflineBatch, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField()
    raw = models.CharField(_("code or token"), max_length=2000)
    code = models.CharField(_("voucher code"), max_length=16, blank=True)
    voucher = models.ForeignKey(
        "allocation.Voucher", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    redeemed_at = models.DateTimeField(_("bought at (terminal clock)"))
    terminal_id = models.CharField(_("terminal"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("offline redemption")
        verbose_name_plural = _("offline redemptions")
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="offline_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.batch} #{self.position} {self.outcome}"


class RedemptionConflict(models.Model):
    """A voucher sold offline although it had already been redeemed (online or in another
    batch). The pack left the shelf twice; staff follow it up. Never silently dropped."""

    voucher = models.ForeignKey(
        "allocation.Voucher", on_delete=models.PROTECT, related_name="redemption_conflicts"
    )
    pharmacy = models.ForeignKey(
        "community.Pharmacy", on_delete=models.PROTECT, related_name="redemption_conflicts"
    )
    item = models.OneToOneField(OfflineItem, on_delete=models.PROTECT, related_name="conflict")
    first_redemption = models.ForeignKey(
        Redemption, on_delete=models.PROTECT, null=True, blank=True, related_name="conflicts"
    )
    offline_redeemed_at = models.DateTimeField(_("sold offline at"))
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("redemption conflict")
        verbose_name_plural = _("redemption conflicts")
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"conflict {self.voucher_id}"


class ForgedTokenLog(models.Model):
    """A QR token that failed its signature check or did not match its voucher."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    pharmacy = models.ForeignKey(
        "community.Pharmacy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="forged_tokens",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    reason = models.CharField(max_length=32)
    token = models.CharField(max_length=2000)
    terminal_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("forged token")
        verbose_name_plural = _("forged tokens")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.reason}"


class ProxyBatch(models.Model):
    """Committee staff buying a batch of their residents' vouchers at once (代购)."""

    committee = models.ForeignKey(
        "community.Committee", on_delete=models.PROTECT, related_name="proxy_batches"
    )
    pharmacy = models.ForeignKey(
        "community.Pharmacy", on_delete=models.PROTECT, related_name="proxy_batches"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("proxy purchase")
        verbose_name_plural = _("proxy purchases")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"proxy {self.committee_id} {self.created_at:%Y-%m-%d %H:%M}"


class Handover(models.Model):
    """A pack handed to the household: at the committee's pick-up point, or at home."""

    class Kind(models.TextChoices):
        PICKUP_POINT = "pickup_point", _("handed over at the committee's pick-up point")
        DELIVERY = "delivery", _("delivered to the home")

    voucher = models.OneToOneField(
        "allocation.Voucher", on_delete=models.PROTECT, related_name="handover"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)

    class Payment(models.TextChoices):
        SCAN = "scan", _("paid by scanning a code")
        CASH = "cash", _("paid in cash")

    recipient_name = models.CharField(_("received by"), max_length=64)
    at = models.DateTimeField(_("handed over at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # At a committee pickup point (九龙仓): which one, and how the resident paid.
    pickup_point = models.ForeignKey(
        "PickupPoint", on_delete=models.PROTECT, null=True, blank=True, related_name="handovers"
    )
    payment = models.CharField(_("payment"), max_length=4, choices=Payment.choices, blank=True)

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["-at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["pickup_point", "delivery"]), name="handover_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(pickup_point__isnull=True, payment="")
                | Q(pickup_point__isnull=False, payment__in=["scan", "cash"]),
                name="handover_point_payment_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voucher_id} {self.kind}"


class PickupPoint(models.Model):
    """A committee's pickup point (九龙仓): a bulk purchase of its households' vouchers at
    its pharmacy (``batch``: one redemption per voucher), handed out at ``place`` between
    ``starts_at`` and ``ends_at`` (``pharmacy/pickup.py``)."""

    committee = models.ForeignKey(
        "community.Committee", on_delete=models.PROTECT, related_name="pickup_points"
    )
    batch = models.OneToOneField(ProxyBatch, on_delete=models.PROTECT, related_name="pickup_point")
    place = models.CharField(_("place"), max_length=100)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("pickup point")
        verbose_name_plural = _("pickup points")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="pickup_point_times_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.committee_id} {self.place} {self.starts_at:%Y-%m-%d %H:%M}"
