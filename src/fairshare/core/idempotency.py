"""Idempotency-Key support: a retried write returns the first answer.

The business operation and the stored answer are written in one transaction, so
two concurrent requests with the same key cannot both take effect: the second
one's insert of the record fails, its transaction rolls back, and it returns the
first one's answer.

The request fingerprint is an HMAC-SHA256 of the request (keyed with a key derived from
SECRET_KEY), not a plain hash: the body holds a name, phone and address, and an unkeyed
hash of it could be checked against guessed values. The personal-data purge deletes the
records of a round's period (``idempotency_purge``); they are only needed for retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError

from fairshare.core.fastsql import insert_model, select_models
from fairshare.core.locking import write_transaction
from fairshare.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 128


class IdempotencyMismatch(Exception):
    """The key was used before for a different request body."""


def _key() -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"fairshare.idempotency.v1", hashlib.sha256
    ).digest()


def _hash(payload: Any) -> str:
    raw = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hmac.new(_key(), raw.encode(), hashlib.sha256).hexdigest()


def idempotency_purge(*, start: datetime, end: datetime) -> int:
    """Delete the records created in [start, end) (the personal-data purge of a round)."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__gte=start, created_at__lt=end
    ).delete()
    return deleted


def _find(scope: str, key: str) -> IdempotencyRecord | None:
    # Hot path (every keyed registration and redemption): no ORM compilation.
    found = select_models(IdempotencyRecord, '"scope" = %s AND "key" = %s', [scope, key])
    return found[0] if found else None


def idempotent_call(
    *, key: str | None, scope: str, payload: Any, call: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run ``call`` once per (scope, key); answer retries with the stored result.

    ``call`` returns (status_code, json_body). 5xx answers are not stored, so a
    retry after a server fault runs again.
    """
    if not key:
        return call()
    key = key.strip()[:MAX_KEY_LENGTH]
    request_hash = _hash(payload)
    existing = _find(scope, key)
    if existing is not None:
        return _replay(existing, request_hash)
    try:
        with write_transaction():
            status, body = call()
            if status < 500:
                record = IdempotencyRecord(
                    key=key, scope=scope, request_hash=request_hash, status_code=status, body=body
                )
                insert_model(record)
            return status, body
    except IntegrityError:
        existing = _find(scope, key)
        if existing is None:
            raise
        return _replay(existing, request_hash)


def _replay(record: IdempotencyRecord, request_hash: str) -> tuple[int, Any]:
    if record.request_hash != request_hash:
        raise IdempotencyMismatch()
    return record.status_code, record.body
