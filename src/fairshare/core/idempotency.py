"""Idempotency-Key support: a retried write returns the first answer.

The business operation and the stored answer are written in one transaction, so
two concurrent requests with the same key cannot both take effect: the second
one's insert of the record fails, its transaction rolls back, and it returns the
first one's answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError

from fairshare.core.fastsql import insert_model, select_models
from fairshare.core.locking import write_transaction
from fairshare.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 128


class IdempotencyMismatch(Exception):
    """The key was used before for a different request body."""


def _hash(payload: Any) -> str:
    raw = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


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
