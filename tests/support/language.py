"""Checks that a user-visible message is in one language only (never "中文 / English")."""

from __future__ import annotations

import re

CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]")
# Latin words, except technical names a Chinese message may carry (JSON, API, QR).
LATIN_WORD = re.compile(r"\b(?!(?:JSON|API|QR|ID|SMS)\b)[A-Za-z]{3,}\b")


def is_chinese_only(text: str) -> bool:
    return bool(CJK.search(text)) and not LATIN_WORD.search(text)


def is_english_only(text: str) -> bool:
    return not CJK.search(text) and bool(LATIN_WORD.search(text))
