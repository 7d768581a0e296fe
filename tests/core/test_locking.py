"""The locking helper's bounded waits (rule 5): a held lock becomes Busy, never a hang."""

from __future__ import annotations

import fcntl
import os
import time

import pytest
from django.db import connection

from fairshare.core.locking import Busy, write_transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the writer queue is SQLite's")
def test_sqlite_writer_queue_wait_is_bounded(settings):
    settings.LOCK_TIMEOUT_MS = 200
    path = str(connection.settings_dict["NAME"]) + ".writelock"
    other = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # another process's turn
    fcntl.flock(other, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with pytest.raises(Busy), write_transaction():
            pass
        assert time.monotonic() - started < 2
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    with write_transaction():  # free again: the next writer gets its turn at once
        pass
