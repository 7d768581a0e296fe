from __future__ import annotations

import pytest

from fairshare.transparency.board import board_cache_clear


@pytest.fixture(autouse=True)
def _fresh_board_cache():
    board_cache_clear()
    yield
    board_cache_clear()
