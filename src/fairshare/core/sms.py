"""SMS: messages as kind + variables, and the backends that deliver them.

Every SMS is enqueued as an ``sms`` outbox message whose payload keeps the recipient,
the message kind (``SMS_KINDS``: code, registration, voucher, carry_over, shortfall),
its variables (str → str) and the language it was asked in. The console and file
backends render the text from the kind's translated template at send time
(``sms_render``); provider backends (``send_template``, e.g. ``aliyun``:
core/sms_aliyun.py) send the provider's template code with the variables. Payloads
written before kinds existed (``{"phone", "text"}``) still send on text backends.

A text backend is any object with ``send(*, phone: str, text: str) -> None``; a
provider backend has ``send_template(*, phone: str, kind: str, variables: dict) ->
None``. Choose it with ``FAIRSHARE_SMS_BACKEND``: ``console`` (log), ``file`` (append
one JSON line per message to ``<data dir>/sms.log``), ``failing`` (always raises; for
fault tests), ``aliyun`` (Alibaba Cloud SMS, docs/sms.md) or the dotted path of a
class taking no arguments. A backend raises ``SmsRetryLater`` (throttled: try later),
``SmsRejected`` (invalid number, bad template: give up) or any other exception (a
transient fault: retried with back-off); core/outbox.py applies the rule.

The file backend's log holds phone numbers and message texts: the personal-data purge
removes the lines of a round's period (``sms_log_purge``); the file is created
owner-only (0600).

Messages are never sent inside a business transaction: services enqueue an
``sms`` outbox message, and the outbox worker calls the backend after commit.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from fairshare.core.fastsql import WriteBatch
from fairshare.core.outbox import OutboxGiveUp, OutboxRetryLater, outbox_enqueue, outbox_handler
from fairshare.core.phones import has_mobile

log = logging.getLogger(__name__)
_file_lock = threading.Lock()


class SmsRetryLater(OutboxRetryLater):
    """The provider asks to wait (throttled); the outbox tries again later."""


class SmsRejected(OutboxGiveUp):
    """The provider refused the message for good (invalid number, bad template)."""


@dataclass(frozen=True)
class SmsKind:
    """One message kind: its translated template and its variables. ``exact`` variables
    (codes, numbers) are never shortened to fit a provider's limit."""

    template: StrOrPromise
    variables: tuple[str, ...]
    exact: frozenset[str]


SMS_KINDS: dict[str, SmsKind] = {
    "code": SmsKind(
        _("Fairshare: your registration code is %(code)s, valid for %(minutes)s minutes."),
        ("code", "minutes"),
        frozenset({"code", "minutes"}),
    ),
    "registration": SmsKind(
        _(
            "Fairshare, %(committee)s: your household is %(status)s (%(round)s), queue "
            "number %(number)s, ticket %(ticket)s, public list link %(seq)s (%(hash)s). "
            "Registering is not a voucher; you will get another SMS when vouchers are issued."
        ),
        # seq, hash: the registration's own link in the public chain (registration/links.py:
        # its sequence number and the hash's first 12 characters)
        ("committee", "status", "round", "number", "ticket", "seq", "hash"),
        frozenset({"number", "ticket", "seq", "hash"}),
    ),
    "voucher": SmsKind(
        _(
            "Fairshare: your mask voucher %(code)s. %(when)s, pharmacy: %(pharmacy)s "
            "(%(address)s), %(product)s, %(packs)s packs at %(price)s yuan each. Valid "
            "until %(until)s; do not pass it on."
        ),
        ("code", "when", "pharmacy", "address", "product", "packs", "price", "until"),
        frozenset({"code", "packs", "price"}),
    ),
    "carry_over": SmsKind(
        _(
            "Fairshare, %(committee)s: your household was carried over to %(round)s, queue "
            "number %(number)s, ticket %(ticket)s."
        ),
        ("committee", "round", "number", "ticket"),
        frozenset({"number", "ticket"}),
    ),
    "shortfall": SmsKind(
        _(
            "Fairshare, %(committee)s: there are not enough masks for your household on "
            "%(day)s; you keep your place (queue number %(number)s)."
        ),
        ("committee", "day", "number"),
        frozenset({"number"}),
    ),
    "appointment": SmsKind(
        _(
            "Fairshare, %(committee)s: your time to register at desk %(desk)s is %(when)s. "
            "The queue number is given at the desk, in arrival order."
        ),
        ("committee", "desk", "when"),
        frozenset({"when"}),
    ),
}


def sms_render(payload: dict[str, Any]) -> str:
    """The text of an ``sms`` payload, in the language it was enqueued in."""
    if "kind" not in payload:
        return str(payload["text"])  # enqueued before messages had kinds
    with translation.override(payload.get("lang") or settings.LANGUAGE_CODE):
        text: str = str(SMS_KINDS[payload["kind"]].template) % payload["vars"]
        return text


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class ConsoleBackend:
    def send(self, *, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


class FileBackend:
    def send(self, *, phone: str, text: str) -> None:
        line = json.dumps(
            {"at": timezone.now().isoformat(), "phone": phone, "text": text}, ensure_ascii=False
        )
        with _file_lock:
            fd = os.open(settings.SMS_FILE_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")


def sms_log_purge(*, start: datetime, end: datetime) -> int:
    """Remove the file backend's lines sent in [start, end) (and unreadable lines) from
    ``settings.SMS_FILE_PATH``; returns how many went. The file is rewritten beside the
    old one and renamed over it, so a crash leaves either the old or the new file."""
    path = Path(settings.SMS_FILE_PATH)
    with _file_lock:
        if not path.exists():
            return 0
        kept, removed = [], 0
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                at = datetime.fromisoformat(json.loads(line)["at"])
                keep = not (start <= at < end)
            except (ValueError, TypeError, KeyError):
                keep = False
            if keep:
                kept.append(line + "\n")
            else:
                removed += 1
        if removed:
            temporary = path.with_name(path.name + ".purge")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.writelines(kept)
            os.replace(temporary, path)
    return removed


class FailingBackend:
    def send(self, *, phone: str, text: str) -> None:
        raise ConnectionError("SMS gateway unreachable (failing backend)")


_BUILTIN: dict[str, Callable[[], Any]] = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "failing": FailingBackend,
    "aliyun": lambda: import_string("fairshare.core.sms_aliyun.AliyunBackend")(),
}


def get_backend() -> Any:
    """The configured backend: a text backend (``send``) or a provider (``send_template``)."""
    name = settings.SMS_BACKEND
    cls: Callable[[], Any] = _BUILTIN.get(name) or import_string(name)
    return cls()


def sms_enqueue(
    *,
    phone: str,
    kind: str,
    variables: dict[str, str],
    household_id: int | None = None,
    batch: WriteBatch | None = None,
    lang: str | None = None,
) -> None:
    """Record an SMS of ``kind`` (``SMS_KINDS``) to send after the current transaction
    commits, in ``lang`` (default: the active language); nothing for a number that is not
    a mobile (``core.phones.has_mobile``). ``batch``: a
    fairshare.core.fastsql.WriteBatch to join, see outbox_enqueue."""
    expected = SMS_KINDS[kind].variables
    if not has_mobile(phone):  # a landline or "no phone": the committee tells them by hand
        return  # (allocation.by_hand lists them), so nothing is queued to fail later
    if set(variables) != set(expected) or not all(isinstance(v, str) for v in variables.values()):
        raise ValueError(f"SMS {kind!r} takes the str variables {expected}, got {variables!r}")
    payload = {
        "phone": phone,
        "kind": kind,
        "vars": variables,
        "lang": lang or translation.get_language() or settings.LANGUAGE_CODE,
    }
    outbox_enqueue(kind="sms", payload=payload, household_id=household_id, batch=batch)


@outbox_handler("sms")
def _send_sms(payload: dict[str, Any]) -> None:
    if "kind" not in payload and "text" not in payload:  # blanked by the personal-data purge
        raise SmsRejected("nothing to send (the message was purged)")
    if not has_mobile(payload.get("phone")):  # e.g. a voucher SMS for a desk walk-in
        raise SmsRejected("no mobile number: the committee tells the household by hand")
    backend = get_backend()
    if not hasattr(backend, "send_template"):
        backend.send(phone=payload["phone"], text=sms_render(payload))
    elif "kind" in payload:
        backend.send_template(
            phone=payload["phone"], kind=payload["kind"], variables=payload["vars"]
        )
    else:
        raise SmsRejected("a plain-text message (enqueued before kinds) has no provider template")
