"""The roster upload page's staged files, in the private storage shared by every node.

The upload request stores them and the outbox worker that runs the import job reads
them, and with several nodes these are often two different nodes: so they live in
``core.filestore``'s private storage (``FAIRSHARE_PRIVATE_STORAGE``: ``database`` or
``s3`` when ``FAIRSHARE_NODES`` > 1), under ``roster-imports/<token>/``. A file is
stored as ``NN-<its name, base64url>`` so the import sees the uploader's file name
unchanged (storages rewrite names with spaces or other characters).

An upload no import job has used within ``KEEP_SECONDS`` (and older than that itself:
the token starts with its time) is deleted by the next upload.
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.utils import timezone

from fairshare.core.filestore import private_storage
from fairshare.core.models import Job

PREFIX = "roster-imports"
KEEP_SECONDS = 3600
_TOKEN = re.compile(r"^(?:(\d+)-)?[A-Za-z0-9_-]{16,40}$")


def _encode(name: str) -> str:
    return base64.urlsafe_b64encode(name[:100].encode()).decode().rstrip("=")


def _decode(stored: str) -> str:
    raw = stored[3:]
    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()


def _names(token: str) -> list[str]:
    if not _TOKEN.match(token):
        return []
    try:
        return sorted(private_storage().listdir(f"{PREFIX}/{token}")[1])
    except (FileNotFoundError, NotADirectoryError):
        return []


def staged_save(files: list[Any]) -> str:
    """Store the uploaded files; the token that names them."""
    token = f"{int(time.time())}-{secrets.token_urlsafe(16)}"
    storage = private_storage()
    for index, upload in enumerate(files):
        name = Path(upload.name or "upload").name
        storage.save(f"{PREFIX}/{token}/{index:02d}-{_encode(name)}", upload)
    return token


def staged_exists(token: str) -> bool:
    return bool(_names(token))


def staged_open(token: str) -> list[tuple[str, IO[bytes]]]:
    """(file name, open file) of each staged file, in upload order."""
    storage = private_storage()
    folder = f"{PREFIX}/{token}"
    return [(_decode(name), storage.open(f"{folder}/{name}", "rb")) for name in _names(token)]


def staged_delete(token: str) -> None:
    storage = private_storage()
    for name in _names(token):
        storage.delete(f"{PREFIX}/{token}/{name}")
    # A local folder: remove the emptied directory too (other storages have no paths).
    with contextlib.suppress(OSError, NotImplementedError):
        Path(storage.path(f"{PREFIX}/{token}")).rmdir()


def staged_forget_old(kind: str) -> None:
    """Delete uploads older than an hour that no job of ``kind`` used within the hour."""
    try:
        tokens = private_storage().listdir(PREFIX)[0]
    except (FileNotFoundError, NotADirectoryError):
        return
    cutoff = timezone.now() - timedelta(seconds=KEEP_SECONDS)
    for token in tokens:
        match = _TOKEN.match(token)
        if match and match.group(1) and int(match.group(1)) > time.time() - KEEP_SECONDS:
            continue
        if not Job.objects.filter(kind=kind, params__folder=token, created_at__gte=cutoff).exists():
            staged_delete(token)
