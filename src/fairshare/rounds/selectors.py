"""Reads of rounds."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fairshare.core.errors import NotFound
from fairshare.core.fastsql import select_models
from fairshare.rounds.models import Round

MAX_ID = 2**63 - 1  # bigint; a larger id is no round (and would overflow the driver)


def round_get(*, round_id: int | str) -> Round:
    """The round with this id; ``NotFound`` "unknown_round" for an unknown, malformed or
    out-of-range id. One statement without ORM compilation (registration's hot path)."""
    try:
        pk = int(round_id)
    except (TypeError, ValueError):
        pk = 0
    found = select_models(Round, "id = %s", [pk]) if 0 < pk <= MAX_ID else []
    if not found:
        raise NotFound(_("Unknown round."), code="unknown_round")
    return found[0]
