"""Wiping the demo data (``fairshare seed_demo --force``), refused where it would touch
records that must stay (the append-only audit log)."""

from __future__ import annotations

from django.apps import apps
from django.db import connections, models
from django.db.models import Q

from fairshare.accounts.models import User
from fairshare.community.models import District, Household, Member
from fairshare.core.models import AuditLog
from fairshare.operations.demo import demo_usernames

# fmt: off
# Wipe order (--force): rows pointing at households, rounds and places go first.
WIPE_ORDER = (
    "transparency.LedgerCheckpoint",  # signs the chains wiped below
    "allocation.Voucher", "allocation.SupplyDeclaration", "allocation.SupplyDay",
    "registration.LedgerEntry", "registration.QueueCounter", "registration.Registration",
    "community.Member", "community.Household", "community.Building", "rounds.Round",
    "community.Committee", "community.Pharmacy", "community.Subdistrict", "community.District",
)
# fmt: on


class WipeRefused(Exception):
    """The demo data cannot be wiped without touching records that must stay."""


def database_has_data(*, using: str = "default") -> bool:
    return (
        Household.objects.using(using).exists()
        or District.objects.using(using).exists()
        or User.objects.using(using).filter(username__in=demo_usernames()).exists()
    )


def wipe_demo_data(*, using: str = "default") -> None:
    """Delete demo places, rounds, their registrations/vouchers and the scoped staff users.

    The audit log is append-only (database triggers) and protects what it references; if
    any audit row points at a place or at a user to delete, refuse instead of failing.
    """
    labels = {m._meta.label for m in apps.get_models()}
    wiped = [apps.get_model(label) for label in WIPE_ORDER if label in labels]
    # Users and audit rows share the scope columns subdistrict, committee and pharmacy.
    scoped = Q(subdistrict__isnull=False) | Q(committee__isnull=False) | Q(pharmacy__isnull=False)
    users = User.objects.using(using).filter(
        scoped | Q(district__isnull=False) | Q(username__in=demo_usernames())
    )
    audit = AuditLog.objects.using(using).filter(scoped | Q(actor__in=users)).count()
    if audit:
        raise WipeRefused(
            f"{audit} audit log row(s) reference the demo places or staff users; the audit log "
            "is append-only, so the demo data cannot be wiped. Run `fairshare flush` to wipe "
            "the whole database (audit log included), then seed_demo again."
        )
    connection = connections[using]
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Other tables pointing at the wiped ones: clear SET_NULL links, refuse on anything else.
        for model in apps.get_models():
            if model in wiped or model is AuditLog or model is User:  # users: see below
                continue
            for field in model._meta.concrete_fields:
                remote = field.remote_field
                if remote is None or not (field.is_relation and field.related_model in wiped):
                    continue
                linked = model._base_manager.using(using).filter(**{f"{field.name}__isnull": False})
                if remote.on_delete is models.SET_NULL:
                    linked.update(**{field.name: None})
                elif linked.exists():
                    raise WipeRefused(
                        f"{model._meta.label} rows reference {field.related_model._meta.label}; "
                        "delete them first or run `fairshare flush`."
                    )
        for model in wiped:
            if model is Member:  # registrations are gone: staff users can go now
                users.delete()  # ORM: cascades to API tokens and admin log entries
            cursor.execute(f"DELETE FROM {qn(model._meta.db_table)}")  # noqa: S608
