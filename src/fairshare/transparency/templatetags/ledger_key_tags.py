"""``{% load ledger_key_tags %}``: the ledger's public key and latest checkpoint for the
include templates ``transparency/_ledger_key.html`` and ``_checkpoint_button.html``
(so the pages that include them need no view change)."""

from __future__ import annotations

from typing import Any

from django import template

from fairshare.transparency.checkpoints import checkpoint_latest, ledger_key_info

register = template.Library()


@register.simple_tag
def ledger_public_key() -> dict[str, str]:
    """``{"alg", "public_key", "fingerprint"}`` of the key that signs checkpoints."""
    return ledger_key_info()


@register.simple_tag
def ledger_checkpoint_latest() -> Any:
    return checkpoint_latest()
