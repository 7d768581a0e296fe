"""Registrations (预约登记), their per-committee queue and the public hash chain."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# PrivateMediaStorage: the name registration migration 0003 gives the local storage.
from fairshare.core.filestore import LocalPrivateStorage as PrivateMediaStorage  # noqa: F401
from fairshare.core.filestore import private_storage


class Channel(models.TextChoices):
    ONLINE = "online", _("online")
    DESK = "desk", _("committee desk")
    PHONE = "phone", _("by phone")
    PHOTO = "photo", _("one photo")
    SHEET = "sheet", _("building sheet")
    # Staff delivered to a resident who could not register (allocation/emergency.py):
    # recorded with its voucher at once, outside the queue order; never a normal entry.
    EMERGENCY = "emergency", _("emergency delivery")


OFFLINE_CHANNELS = (Channel.DESK, Channel.PHONE, Channel.PHOTO, Channel.SHEET)


class Registration(models.Model):
    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", _("pending review")
        VERIFIED = "verified", _("verified")
        VOID = "void", _("void")

    round = models.ForeignKey(
        "rounds.Round",
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("round"),
    )
    committee = models.ForeignKey(
        "community.Committee",
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("committee"),
    )
    household = models.ForeignKey(
        "community.Household",
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("household"),
    )
    queue_number = models.PositiveIntegerField(_("queue number"))
    ticket = models.CharField(_("ticket"), max_length=16, unique=True)
    channel = models.CharField(_("channel"), max_length=9, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    name = models.CharField(_("representative name"), max_length=64)
    phone = models.CharField(_("mobile phone"), max_length=20)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), default=timezone.now)
    # The time written on a building sheet or noted for a phone call, when staff enter
    # it later: shown next to the entry time, never used for the order (docs/fairness.md).
    written_at = models.DateTimeField(_("time written on the sheet"), null=True, blank=True)
    returned_recently = models.BooleanField(
        _("returned from outside the city in the last 14 days"), default=False
    )
    returned_from = models.CharField(_("returned from"), max_length=64, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=200, blank=True)
    id_checked = models.BooleanField(_("ID checked by staff"), default=False)
    personal_data_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["round", "committee", "queue_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "household"],
                condition=~Q(status="void"),
                name="registration_one_live_per_household",
            ),
            models.UniqueConstraint(
                fields=["round", "committee", "queue_number"],
                name="registration_queue_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(queue_number__gte=1), name="registration_queue_number_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending_review", "verified", "void"]),
                name="registration_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["online", "desk", "phone", "photo", "sheet", "emergency"]),
                name="registration_channel_valid",
            ),
        ]
        indexes = [models.Index(fields=["round", "status"], name="registration_round_status_idx")]

    def __str__(self) -> str:
        return f"{self.committee.code}#{self.queue_number}"


class QueueCounter(models.Model):
    """The queue of one (round, committee): last number handed out and the ledger head.

    This row is what registration locks (see fairshare.core.locking): numbers are
    taken from it inside the transaction that stores the registration, so they are
    unique and gapless, and the hash chain is extended in the same step.
    """

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="+")
    committee = models.ForeignKey("community.Committee", on_delete=models.PROTECT, related_name="+")
    last_number = models.PositiveIntegerField(default=0)
    ledger_seq = models.PositiveIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "committee"], name="queue_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.committee_id}: {self.last_number}"


class LedgerEntry(models.Model):
    """One link of the public hash chain of a (round, committee).

    ``payload`` is the canonical JSON text of the public fields exactly as hashed;
    ``hash = sha256(prev_hash + "\\n" + payload)``. Entries are only appended.
    """

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("registered")
        VOIDED = "voided", _("voided")
        APPROVED = "approved", _("approved")
        CORRECTED = "corrected", _("corrected")
        ALLOCATION = "allocation", _("vouchers issued")
        REDEEMED = "redeemed", _("bought")
        EXPIRED = "expired", _("expired")
        CARRIED = "carried", _("carried over")
        SHORTFALL = "shortfall", _("cancelled for a supply shortfall")
        EMERGENCY = "emergency", _("emergency delivery outside the queue order")

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="+")
    committee = models.ForeignKey("community.Committee", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, null=True, related_name="ledger_entries"
    )
    payload = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["round", "committee", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["round", "committee", "seq"], name="ledger_seq_unique"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="ledger_seq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.committee_id}#{self.seq} {self.hash[:12]}"


class PhoneCode(models.Model):
    """A one-time SMS code proving a resident holds a phone. Only a keyed hash is stored."""

    phone = models.CharField(max_length=20, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.phone[:3]}… {self.created_at:%H:%M:%S}"


class RegistrationPhoto(models.Model):
    """A photo (户口本/ID with the phone number) sent through the photo channel.

    The file lives in the private storage (``core/filestore.py``: local folder, database
    or S3-compatible store, shared by every node) and is
    served only to the staff of the registration's committee through a scoped view. It is
    a real FileField so that the personal-data purge finds and deletes it.
    """

    registration = models.OneToOneField(
        Registration, on_delete=models.PROTECT, related_name="photo"
    )
    file = models.FileField(
        max_length=200,
        storage=private_storage,
        db_column="path",
        help_text="name in the private storage (core/filestore.py)",
    )
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        """The file's name in the private storage ("" once purged)."""
        return self.file.name or ""


class BuildingSheet(models.Model):
    """A printed lobby sheet of one building for one round (``registration/sheets.py``).

    Issued (printed) by staff, hung in the lobby, collected and entered whole: its lines
    take queue numbers in the sheet's own line order. ``entered_at`` empty: still out.
    """

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="+")
    committee = models.ForeignKey("community.Committee", on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey("community.Building", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("sheet id"), max_length=16, unique=True)
    lines = models.PositiveSmallIntegerField(_("lines"), default=20)
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)
    entered_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_count = models.PositiveSmallIntegerField(_("lines entered"), default=0)

    class Meta:
        verbose_name = _("building sheet")
        verbose_name_plural = _("building sheets")
        ordering = ["round", "building", "issued_at"]

    def __str__(self) -> str:
        return f"{self.building} · {self.code}"


class AppointmentWindow(models.Model):
    """A desk's appointment window (大连路): households come at their slot to register.

    ``capacity`` = minutes / minutes per household; ``booked`` is the locked counter
    (``registration/appointments.py``), and the constraint ``booked <= capacity`` is the
    database's last guard. An appointment never changes the queue number rule: the
    number is given at the desk, in arrival order (docs/fairness.md).
    """

    round = models.ForeignKey("rounds.Round", on_delete=models.PROTECT, related_name="+")
    committee = models.ForeignKey("community.Committee", on_delete=models.PROTECT, related_name="+")
    desk = models.CharField(_("desk"), max_length=32, default="1")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    minutes_per_household = models.PositiveSmallIntegerField(_("minutes per household"), default=2)
    capacity = models.PositiveIntegerField(_("capacity"))
    booked = models.PositiveIntegerField(_("booked"), default=0)

    class Meta:
        ordering = ["starts_at", "desk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="appointment_window_not_overbooked"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.desk} {self.starts_at:%Y-%m-%d %H:%M}"


class Appointment(models.Model):
    """One household's slot in a window: ``slot`` from 0, its time ``at``."""

    window = models.ForeignKey(AppointmentWindow, on_delete=models.PROTECT, related_name="slots")
    household = models.ForeignKey("community.Household", on_delete=models.PROTECT, related_name="+")
    slot = models.PositiveIntegerField()
    at = models.DateTimeField(_("appointment time"))
    name = models.CharField(_("name"), max_length=64)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]
        constraints = [
            models.UniqueConstraint(fields=["window", "slot"], name="appointment_slot_unique"),
            models.UniqueConstraint(fields=["window", "household"], name="appointment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.at:%H:%M}"
