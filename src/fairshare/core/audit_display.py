"""The audit log as people read it (the staff audit page and the admin; issue 15).

An entry's action is shown as a label in the user's language, its ``before`` and
``after`` as ``label: value`` lines (a field's label and choice labels come from the
entry's model when the key is one of its fields), times in local time
(``settings.TIME_ZONE``), and the actor by name. The stored row keeps the raw values.
Labels have the message context "audit" (one word such as "waiting" means something
else on the public board).
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
from django.utils.translation import pgettext, pgettext_lazy

from fairshare.core.models import AuditLog

ACTIONS: dict[str, Promise] = {
    "allocation.run": pgettext_lazy("audit", "allocation run"),
    "by_hand.told": pgettext_lazy("audit", "household told by hand"),
    "committee.pharmacy": pgettext_lazy("audit", "serving pharmacy set"),
    "helper.assign": pgettext_lazy("audit", "helper assigned"),
    "helper.create": pgettext_lazy("audit", "helper created"),
    "lottery.commit": pgettext_lazy("audit", "lottery seed committed"),
    "lottery.reveal": pgettext_lazy("audit", "lottery seed revealed"),
    "notice.publish": pgettext_lazy("audit", "notice published"),
    "notice.withdraw": pgettext_lazy("audit", "notice withdrawn"),
    "offline_batch.sync": pgettext_lazy("audit", "offline sales synced"),
    "password.change": pgettext_lazy("audit", "password changed"),
    "personal_data.purge": pgettext_lazy("audit", "personal data purged"),
    "proxy_batch.redeem": pgettext_lazy("audit", "proxy purchase recorded"),
    "registration.approve": pgettext_lazy("audit", "registration approved"),
    "registration.correct": pgettext_lazy("audit", "registration corrected"),
    "registration.create": pgettext_lazy("audit", "registration entered"),
    "registration.move": pgettext_lazy("audit", "registration moved"),
    "registration.void": pgettext_lazy("audit", "registration voided"),
    "roster.import": pgettext_lazy("audit", "roster imported"),
    "round.admin_change": pgettext_lazy("audit", "round changed in the admin"),
    "round.carry_over": pgettext_lazy("audit", "households carried over"),
    "round.close": pgettext_lazy("audit", "round closed"),
    "round.create": pgettext_lazy("audit", "round created"),
    "round.open": pgettext_lazy("audit", "round opened"),
    "round.update": pgettext_lazy("audit", "round edited"),
    "session.login": pgettext_lazy("audit", "signed in"),
    "session.logout": pgettext_lazy("audit", "signed out"),
    "staff.password_reset": pgettext_lazy("audit", "staff password reset"),
    "staff.reactivate": pgettext_lazy("audit", "staff account reactivated"),
    "supply.declare": pgettext_lazy("audit", "supply declared"),
    "supply.shortfall": pgettext_lazy("audit", "supply shortfall"),
    "token.issue": pgettext_lazy("audit", "API token issued"),
    "token.revoke": pgettext_lazy("audit", "API token revoked"),
    "voucher.expire": pgettext_lazy("audit", "vouchers expired"),
    "voucher.fulfilment": pgettext_lazy("audit", "pickup or delivery changed"),
    "voucher.redeem": pgettext_lazy("audit", "voucher redeemed"),
}

# Keys of before/after that are not a field of the entry's model.
KEYS: dict[str, Promise] = {
    "by_committee": pgettext_lazy("audit", "by committee"),
    "committee": pgettext_lazy("audit", "committee"),
    "date": pgettext_lazy("audit", "date"),
    "issued": pgettext_lazy("audit", "vouchers issued"),
    "label": pgettext_lazy("audit", "label"),
    "packs": pgettext_lazy("audit", "packs"),
    "packs_available": pgettext_lazy("audit", "packs available"),
    "pharmacy": pgettext_lazy("audit", "pharmacy"),
    "reason": pgettext_lazy("audit", "reason"),
    "seed": pgettext_lazy("audit", "seed"),
    "waiting": pgettext_lazy("audit", "waiting"),
    "held_for_review": pgettext_lazy("audit", "held for review"),
}


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


def actor_name(entry: AuditLog) -> str:
    """The actor's full name with the username, or the username alone (system: "")."""
    user = entry.actor if entry.actor_id else None
    name = user.get_full_name().strip() if user is not None else ""
    if name and name != entry.actor_username:
        return f"{name} ({entry.actor_username})"
    return entry.actor_username or pgettext("audit", "system")


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
        return pgettext("audit", "yes") if value else pgettext("audit", "no")
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
