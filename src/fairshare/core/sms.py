"""SMS delivery backends.

A backend is any object with ``send(*, phone: str, text: str) -> None`` that raises
on failure. Choose it with ``FAIRSHARE_SMS_BACKEND``: ``console`` (log), ``file``
(append one JSON line per message to ``<data dir>/sms.log``), ``failing`` (always
raises; for fault tests) or the dotted path of a class taking no arguments. A
real gateway adapter implements ``send`` by calling the provider's HTTP API and
raising on any non-success answer; the outbox retries it.

Messages are never sent inside a business transaction: services enqueue an
``sms`` outbox message, and the outbox worker calls the backend after commit.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from fairshare.core.fastsql import WriteBatch
from fairshare.core.outbox import outbox_enqueue, outbox_handler

log = logging.getLogger(__name__)
_file_lock = threading.Lock()


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
        with _file_lock, open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class FailingBackend:
    def send(self, *, phone: str, text: str) -> None:
        raise ConnectionError("SMS gateway unreachable (failing backend)")


_BUILTIN: dict[str, Callable[[], SmsBackend]] = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "failing": FailingBackend,
}


def get_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    cls: Callable[[], SmsBackend] = _BUILTIN.get(name) or import_string(name)
    return cls()


def sms_enqueue(
    *, phone: str, text: str, household_id: int | None = None, batch: WriteBatch | None = None
) -> None:
    """Record an SMS to send after the current transaction commits (``batch``: a
    fairshare.core.fastsql.WriteBatch to join, see outbox_enqueue)."""
    outbox_enqueue(
        kind="sms", payload={"phone": phone, "text": text}, household_id=household_id, batch=batch
    )


@outbox_handler("sms")
def _send_sms(payload: dict[str, Any]) -> None:
    get_backend().send(phone=payload["phone"], text=payload["text"])
