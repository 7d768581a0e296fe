"""Cross-cutting records: audit log, idempotency answers and the outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLog(models.Model):
    """Append-only record of a staff action.

    Rows are only ever inserted (``fairshare.core.audit.audit_record``); database
    triggers installed by this app's migrations refuse UPDATE and DELETE, with one
    exception: the personal-data purge may redact a row once, blanking ``note``,
    ``before`` and ``after`` and setting ``redacted_at`` (migration 0004).
    """

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # Scope columns let the audit log be filtered by the same scoping rules as the data.
    subdistrict = models.ForeignKey(
        "community.Subdistrict", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    committee = models.ForeignKey(
        "community.Committee", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pharmacy = models.ForeignKey(
        "community.Pharmacy", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    redacted_at = models.DateTimeField(_("redacted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"


class IdempotencyRecord(models.Model):
    """The first answer to a write request carrying an Idempotency-Key."""

    key = models.CharField(max_length=128)
    scope = models.CharField(max_length=200, help_text="caller identity + method + path")
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class OutboxMessage(models.Model):
    """A slow side effect (SMS, PDF) recorded in the business transaction.

    Workers claim due rows (``fairshare.core.outbox``); several workers can drain
    the outbox at once because claiming is a conditional update.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=32, db_index=True)
    payload = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Optional link for "notification log per household" style queries.
    household = models.ForeignKey(
        "community.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbox_messages",
    )

    class Meta:
        indexes = [models.Index(fields=["status", "available_at"], name="outbox_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sent", "failed"]),
                name="outbox_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"


class Job(models.Model):
    """A long task run by the outbox worker (``fairshare.core.jobs``): a roster import, say.

    While it runs, its progress is in a small file beside the uploads (the task's own
    transaction would hide row updates until it ends); ``done``/``total`` here are the
    last figures once it has finished.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    kind = models.CharField(_("kind"), max_length=32, db_index=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(_("stage"), max_length=32, blank=True)
    done = models.PositiveBigIntegerField(_("done"), default=0)
    total = models.PositiveBigIntegerField(_("total"), default=0)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "running", "done", "failed"]),
                name="job_state_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.state}"


class StoredFile(models.Model):
    """A private file kept in the database (``core/filestore.DatabaseStorage``), so that
    every app node reads the same uploads (``FAIRSHARE_PRIVATE_STORAGE=database``)."""

    name = models.CharField(max_length=255, unique=True)
    content = models.BinaryField()
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.name
