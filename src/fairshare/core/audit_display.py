"""The audit log as people read it (the staff audit page and the admin; issue 15).

An entry's action is shown as a label in the user's language, its ``before`` and
``after`` as ``label: value`` lines (a field's label and choice labels come from the
entry's model when the key is one of its fields), times in local time
(``settings.TIME_ZONE``), and the actor by name. The stored row keeps the raw values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fairshare.core.models import AuditLog

ACTIONS: dict[str, Promise] = {
    "allocation.run": gettext_lazy("allocation run"),
    "by_hand.told": gettext_lazy("household told by hand"),
    "committee.pharmacy": gettext_lazy("serving pharmacy set"),
    "helper.assign": gettext_lazy("helper assigned"),
    "helper.create": gettext_lazy("helper created"),
    "lottery.commit": gettext_lazy("lottery seed committed"),
    "lottery.reveal": gettext_lazy("lottery seed revealed"),
    "notice.publish": gettext_lazy("notice published"),
    "notice.withdraw": gettext_lazy("notice withdrawn"),
    "offline_batch.sync": gettext_lazy("offline sales synced"),
    "password.change": gettext_lazy("password changed"),
    "personal_data.purge": gettext_lazy("personal data purged"),
    "proxy_batch.redeem": gettext_lazy("proxy purchase recorded"),
    "registration.approve": gettext_lazy("registration approved"),
    "registration.correct": gettext_lazy("registration corrected"),
    "registration.create": gettext_lazy("registration entered"),
    "registration.move": gettext_lazy("registration moved"),
    "registration.void": gettext_lazy("registration voided"),
    "roster.import": gettext_lazy("roster imported"),
    "round.admin_change": gettext_lazy("round changed in the admin"),
    "round.carry_over": gettext_lazy("households carried over"),
    "round.close": gettext_lazy("round closed"),
    "round.create": gettext_lazy("round created"),
    "round.open": gettext_lazy("round opened"),
    "round.update": gettext_lazy("round edited"),
    "session.login": gettext_lazy("signed in"),
    "session.logout": gettext_lazy("signed out"),
    "staff.password_reset": gettext_lazy("staff password reset"),
    "staff.reactivate": gettext_lazy("staff account reactivated"),
    "supply.declare": gettext_lazy("supply declared"),
    "supply.shortfall": gettext_lazy("supply shortfall"),
    "token.issue": gettext_lazy("API token issued"),
    "token.revoke": gettext_lazy("API token revoked"),
    "voucher.expire": gettext_lazy("vouchers expired"),
    "voucher.fulfilment": gettext_lazy("pickup or delivery changed"),
    "voucher.redeem": gettext_lazy("voucher redeemed"),
}

# Keys of before/after that are not a field of the entry's model.
KEYS: dict[str, Promise] = {
    "by_committee": gettext_lazy("by committee"),
    "committee": gettext_lazy("committee"),
    "date": gettext_lazy("date"),
    "issued": gettext_lazy("vouchers issued"),
    "label": gettext_lazy("label"),
    "packs": gettext_lazy("packs"),
    "packs_available": gettext_lazy("packs available"),
    "pharmacy": gettext_lazy("pharmacy"),
    "reason": gettext_lazy("reason"),
    "seed": gettext_lazy("seed"),
    "waiting": gettext_lazy("waiting"),
    "held_for_review": gettext_lazy("held for review"),
}


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


def actor_name(entry: AuditLog) -> str:
    """The actor's full name with the username, or the username alone (system: "")."""
    user = entry.actor if entry.actor_id else None
    name = user.get_full_name().strip() if user is not None else ""  # type: ignore[attr-defined]
    if name and name != entry.actor_username:
        return f"{name} ({entry.actor_username})"
    return entry.actor_username or _("system")


def local_time(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type) if "." in object_type else None
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, key: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def _label(model: type[models.Model] | None, key: str) -> str:
    field = _field(model, key)
    if field is not None and getattr(field, "verbose_name", None):
        return str(field.verbose_name)
    known = KEYS.get(key)
    return str(known) if known is not None else key.replace("_", " ")


def _value(value: Any, field: Any = None) -> str:
    """One value as text: a choice's label, yes/no, a local time, a list, nested pairs."""
    if value is None or value == "":
        return "—"
    choices = dict(getattr(field, "flatchoices", None) or ())
    if choices and isinstance(value, str | int) and value in choices:
        return str(choices[value])
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and "T" in value and len(value) >= 16:
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, timezone.get_default_timezone())
            return local_time(moment)
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{_label(None, str(k))}: {_value(v)}" for k, v in value.items())
    return str(value)


def audit_pairs(entry: AuditLog, which: str) -> list[tuple[str, str]]:
    """``before`` or ``after`` of an entry as (label, value) pairs, in stored order."""
    data = getattr(entry, which)
    if data is None or data == {}:
        return []
    if not isinstance(data, dict):
        return [("", _value(data))]
    model = _model(entry.object_type)
    return [(_label(model, key), _value(value, _field(model, key))) for key, value in data.items()]
