"""A round (轮) of registration and purchase, with its allocation policy."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Round(models.Model):
    class Policy(models.TextChoices):
        FCFS = "fcfs", _("first come, first served")
        PER_BUILDING = "per_building", _("even split across buildings")
        LOTTERY = "lottery", _("lottery with a published seed")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        ARCHIVED = "archived", _("archived")

    district = models.ForeignKey(
        "community.District",
        on_delete=models.PROTECT,
        related_name="rounds",
        verbose_name=_("district"),
    )
    # A round covers one subdistrict, or the whole district when empty (so subdistricts
    # can run on their own dates); ``rounds.selectors.round_committees_q`` applies it.
    subdistrict = models.ForeignKey(
        "community.Subdistrict",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rounds",
        verbose_name=_("subdistrict"),
        help_text=_("Leave empty for a round of the whole district."),
    )
    name = models.CharField(_("name"), max_length=100)
    registration_opens_at = models.DateTimeField(_("registration opens"))
    registration_closes_at = models.DateTimeField(_("registration closes"))
    valid_from = models.DateField(_("purchases from"))
    valid_until = models.DateField(_("purchases until"))
    pack_description = models.CharField(_("pack"), max_length=64, default="1包(5只)")
    packs_per_household = models.PositiveSmallIntegerField(_("packs per household"), default=1)
    policy = models.CharField(
        _("allocation policy"), max_length=16, choices=Policy.choices, default=Policy.FCFS
    )
    offline_reserve_pct = models.PositiveSmallIntegerField(
        _("offline reserve (%)"),
        default=0,
        help_text=_(
            "Share of each committee's portion kept for the earliest offline registrations."
        ),
    )
    phone_verification = models.BooleanField(_("verify phone by SMS code"), default=False)
    desk_id_check_required = models.BooleanField(
        _("desk registrations need the ID checked"), default=False
    )
    voucher_valid_days = models.PositiveSmallIntegerField(_("voucher valid for (days)"), default=1)
    requeue_expired = models.BooleanField(
        _("expired voucher returns household to the head of the queue once"), default=True
    )
    # Lottery rounds: households carried over from ``carry_over_from`` are drawn before
    # the others (each group in lottery order); the allocation links carry it.
    carried_first = models.BooleanField(
        _("carried households are drawn before the others"), default=False
    )
    carry_over_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carried_into",
        verbose_name=_("carry unserved households over from"),
    )
    lottery_commitment = models.CharField(
        _("lottery seed commitment (SHA-256)"), max_length=64, blank=True
    )
    lottery_seed = models.CharField(_("revealed lottery seed"), max_length=128, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["-registration_opens_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(registration_closes_at__gt=F("registration_opens_at")),
                name="round_registration_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("valid_from")), name="round_validity_ordered"
            ),
            models.CheckConstraint(
                condition=Q(offline_reserve_pct__lte=100), name="round_offline_reserve_pct_range"
            ),
            models.CheckConstraint(
                condition=Q(packs_per_household__gte=1), name="round_packs_positive"
            ),
            models.CheckConstraint(
                condition=Q(voucher_valid_days__gte=1), name="round_voucher_valid_days_positive"
            ),
            models.CheckConstraint(
                condition=Q(policy__in=["fcfs", "per_building", "lottery"]),
                name="round_policy_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "open", "closed", "archived"]),
                name="round_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def registration_is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return (
            self.status == self.Status.OPEN
            and self.registration_opens_at <= at < self.registration_closes_at
        )
