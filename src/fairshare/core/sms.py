"""SMS delivery backends.

A backend is any object with ``send(*, phone: str, text: str) -> None`` that raises
on failure. Choose it with ``FAIRSHARE_SMS_BACKEND``: ``console`` (log), ``file``
(append one JSON line per message to ``<data dir>/sms.log``), ``failing`` (always
raises; for fault tests) or the dotted path of a class taking no arguments. A
real gateway adapter implements ``send`` by calling the provider's HTTP API and
raising on any non-success answer; the outbox retries it.

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
from datetime import datetime
from pathlib import Path
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
