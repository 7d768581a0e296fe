"""The signed ledger checkpoint: its statement and how to check one (docs/ledger.md,
"Signed checkpoints").

A checkpoint states the head of every (round, committee) chain at a time, signed with
the service's ledger key (Ed25519). The **statement** is canonical JSON
(``ledger.canonical``)::

    {"alg":"Ed25519","at":"2026-02-03T02:30:00+08:00","chains":[{"committee":"KJ01",
     "head":"<64 hex>","links":120,"round":1}, ...],"kind":"checkpoint","v":1}

chains sorted by (round, committee code); the **signature** is Ed25519 over the
statement's UTF-8 bytes, and signature and public key travel as base64url without
padding (the key: its 32 raw bytes). An export carries the latest checkpoint as
``{"statement", "signature", "public_key", "chain"}``, ``chain`` being this chain's
entry of the statement (null when the chain began after the checkpoint).

Pure functions, no database: the service signs in ``transparency/checkpoints.py``;
``verify_ledger`` checks exports with ``checkpoint_check``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fairshare.core.edkeys import signature_valid
from fairshare.registration.ledger import GENESIS, canonical

STATEMENT_VERSION = 1
ALGORITHM = "Ed25519"


def checkpoint_statement(*, at_iso: str, chains: Sequence[Mapping[str, Any]]) -> str:
    """The canonical statement of the heads ``chains`` (round, committee, links, head)."""
    entries = sorted(
        (
            {
                "round": c["round"],
                "committee": c["committee"],
                "links": c["links"],
                "head": c["head"],
            }
            for c in chains
        ),
        key=lambda c: (c["round"], c["committee"]),
    )
    return canonical(
        {
            "v": STATEMENT_VERSION,
            "kind": "checkpoint",
            "alg": ALGORITHM,
            "at": at_iso,
            "chains": entries,
        }
    )


def statement_chain(statement: Mapping[str, Any], *, round: Any, committee: str) -> dict | None:
    """The entry of chain (round, committee) in a parsed statement, or None."""
    for entry in statement.get("chains") or []:
        if isinstance(entry, dict) and (entry.get("round"), entry.get("committee")) == (
            round,
            committee,
        ):
            return entry
    return None


@dataclass(frozen=True)
class CheckpointReport:
    reason: str = ""  # "" when the checkpoint is genuine and matches the chain
    at: str = ""
    public_key: str = ""
    chain: dict | None = None  # this chain's entry of the statement

    @property
    def ok(self) -> bool:
        return self.reason == ""


def checkpoint_check(
    checkpoint: Any,
    *,
    round: Any,
    committee: str,
    links: Sequence[Mapping[str, Any]],
    public_key: str | None = None,
) -> CheckpointReport:
    """Check an export's ``checkpoint``: signed by ``public_key`` (default: the key it
    names), its statement names this chain as the export does, and the signed head is
    the link of that number in ``links`` (the chain extends what was signed)."""
    if not isinstance(checkpoint, dict) or not all(
        isinstance(checkpoint.get(k), str) for k in ("statement", "signature", "public_key")
    ):
        return CheckpointReport("the checkpoint lacks its statement, signature or public key")
    key = checkpoint["public_key"]
    if public_key is not None and public_key.strip() != key:
        return CheckpointReport("the checkpoint is signed with another key than the one given")
    text = checkpoint["statement"]
    if not signature_valid(
        public_b64=key, message=text.encode("utf-8"), signature_b64=checkpoint["signature"]
    ):
        return CheckpointReport("the checkpoint's signature does not match its statement")
    try:
        statement = json.loads(text)
    except ValueError:
        statement = None
    if not isinstance(statement, dict) or canonical(statement) != text:
        return CheckpointReport("the checkpoint's statement is not canonical JSON")
    at = str(statement.get("at", ""))
    entry = statement_chain(statement, round=round, committee=committee)
    if entry != checkpoint.get("chain"):
        return CheckpointReport("the checkpoint's chain entry differs from its statement", at, key)
    if entry is None:
        return CheckpointReport("", at, key, None)
    count = entry.get("links")
    if not isinstance(count, int) or count < 0 or count > len(links):
        return CheckpointReport(
            f"the signed head (link {count}) is beyond this chain's {len(links)} links", at, key
        )
    try:
        head = links[count - 1]["hash"] if count else GENESIS
    except (KeyError, TypeError, IndexError):
        return CheckpointReport(f"link {count} of this chain is malformed", at, key)
    if head != entry.get("head"):
        return CheckpointReport(
            f"link {count} is not the signed head: the chain was rewritten since", at, key
        )
    return CheckpointReport("", at, key, entry)
