"""Staff accounts, their scope in the hierarchy, and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A staff user. Residents do not have accounts; they use ticket + phone."""

    class Role(models.TextChoices):
        DISTRICT = "district", _("district administrator")
        SUBDISTRICT = "subdistrict", _("subdistrict administrator")
        COMMITTEE = "committee", _("committee staff")
        PHARMACY = "pharmacy", _("pharmacy staff")
        NONE = "", _("no role")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True, default="")
    district = models.ForeignKey(
        "community.District",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("district"),
    )
    subdistrict = models.ForeignKey(
        "community.Subdistrict",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("subdistrict"),
    )
    committee = models.ForeignKey(
        "community.Committee",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("committee"),
    )
    pharmacy = models.ForeignKey(
        "community.Pharmacy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("pharmacy"),
    )
    access_expires_at = models.DateTimeField(
        _("access expires"),
        null=True,
        blank=True,
        help_text=_("For helpers sent down from the subdistrict (下沉干部)."),
    )
    password_change_required = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_(
            "The password is a one-time password (from the roster import or a reset): "
            "the user must choose a new one before doing anything else."
        ),
    )

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        constraints = [
            models.CheckConstraint(
                name="user_role_scope_consistent",
                condition=(
                    Q(role="")
                    | Q(role="district", district__isnull=False)
                    | Q(role="subdistrict", subdistrict__isnull=False)
                    | Q(role="committee", committee__isnull=False)
                    | Q(role="pharmacy", pharmacy__isnull=False)
                ),
            )
        ]


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} {self.label}".strip()

    @classmethod
    def hash(cls, raw: str) -> str:
        return _hash_token(raw)

    @staticmethod
    def new_raw() -> str:
        return secrets.token_urlsafe(32)


class CommitteeAssignment(models.Model):
    """A helper sent down from the subdistrict (下沉干部) working for a committee until a date.

    Scoping (``fairshare.accounts.scoping.scope_q``) adds the committees of a user's
    assignments that have not expired to the committees the user may see.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("helper")
    )
    committee = models.ForeignKey(
        "community.Committee",
        on_delete=models.PROTECT,
        related_name="helper_assignments",
        verbose_name=_("committee"),
    )
    expires_at = models.DateTimeField(_("assignment expires"))
    assigned_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("helper assignment")
        verbose_name_plural = _("helper assignments")
        ordering = ["-expires_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "committee"], name="committee_assignment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.committee} ({self.expires_at:%Y-%m-%d})"

    @property
    def active(self) -> bool:
        return self.expires_at > timezone.now()
