"""Masking of personal data for anything shown beyond the household's own committee."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张三明 → 张*明, 张三 → 张*, 欧阳小明 → 欧**明; latin names keep initials only."""
    name = (name or "").strip()
    if not name:
        return ""
    if name.isascii():
        # A one-letter part ("A B", "Li Y") is hidden completely, or nothing would be masked.
        return " ".join(
            part[0] + "*" * (len(part) - 1) if len(part) > 1 else "*" for part in name.split()
        )
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
