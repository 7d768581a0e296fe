"""Signed ledger checkpoints (docs/ledger.md, "Signed checkpoints"): take one, read the latest.

``checkpoint_take`` is the one way a checkpoint is made (the daily ``fairshare
ledger_checkpoint`` and district/subdistrict staff on demand, page and API): it
re-verifies every (round, committee) chain as ``verify_ledger`` does, records the heads
in the audit log (action ``ledger.checkpoint``) and, when every chain verifies, signs
the statement of the heads (``registration/checkpoint_format.py``) with the ledger key
and stores it as a ``LedgerCheckpoint``. A broken ledger is recorded but never signed.

The ledger key is ``FAIRSHARE_LEDGER_KEY`` or generated once into the data folder as
``ledger_signing_key`` (``core/edkeys.py``, as the voucher key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fairshare.accounts.models import User
from fairshare.accounts.permissions import is_area_staff
from fairshare.community.models import Committee
from fairshare.core.audit import audit_record
from fairshare.core.edkeys import b64url, key_fingerprint, private_key_load, public_key_b64
from fairshare.core.errors import Forbidden
from fairshare.core.locking import write_transaction
from fairshare.registration.checkpoint_format import (
    ALGORITHM,
    checkpoint_statement,
    statement_chain,
)
from fairshare.registration.selectors import ledger_at_iso
from fairshare.registration.verify import ChainReport, verify_database
from fairshare.rounds.models import Round
from fairshare.transparency.board import board_export
from fairshare.transparency.models import LedgerCheckpoint

ACTION = "ledger.checkpoint"


def ledger_private_key() -> Ed25519PrivateKey:
    return private_key_load(
        setting="FAIRSHARE_LEDGER_KEY",
        value=settings.FAIRSHARE_LEDGER_KEY,
        path=settings.DATA_DIR / "ledger_signing_key",
    )


def ledger_key_info() -> dict[str, str]:
    """The ledger's public key as the public pages show it."""
    public = public_key_b64(ledger_private_key())
    return {"alg": ALGORITHM, "public_key": public, "fingerprint": key_fingerprint(public)}


@dataclass(frozen=True)
class CheckpointResult:
    record: dict[str, Any]  # the audit row's ``after`` (and the --file JSON line)
    reports: list[ChainReport]
    checkpoint: LedgerCheckpoint | None  # None when a chain is broken

    @property
    def ok(self) -> bool:
        return self.checkpoint is not None


def checkpoint_take(*, actor: User | None) -> CheckpointResult:
    """Verify every chain, audit the heads and, when all verify, sign and store them.

    ``actor`` None is the scheduled run; a user must be district or subdistrict staff.
    """
    if actor is not None and not is_area_staff(actor):
        raise Forbidden(_("Only district and subdistrict staff take ledger checkpoints."))
    reports = verify_database()
    at = timezone.now().replace(microsecond=0)
    chains = [
        {
            "round": r.round_id,
            "committee": r.committee,
            "links": r.links,
            "head": r.head_hash,
            **({} if r.ok else {"broken_seq": r.broken_seq, "reason": r.reason}),
        }
        for r in reports
    ]
    ok = all(r.ok for r in reports)
    record: dict[str, Any] = {"at": at.isoformat(), "ok": ok, "chains": chains}
    checkpoint = None
    with write_transaction():
        if ok:
            key = ledger_private_key()
            statement = checkpoint_statement(at_iso=ledger_at_iso(at), chains=chains)
            checkpoint = LedgerCheckpoint.objects.create(
                created_at=at,
                chains=chains,
                statement=statement,
                signature=b64url(key.sign(statement.encode("utf-8"))),
                public_key=public_key_b64(key),
                created_by=actor,
            )
            record |= {
                "checkpoint": checkpoint.pk,
                "statement": statement,
                "signature": checkpoint.signature,
                "public_key": checkpoint.public_key,
            }
        audit_record(
            actor=actor,
            action=ACTION,
            obj=checkpoint,
            after=record,
            note=f"{len(chains)} chain(s), {'verified, signed' if ok else 'BROKEN'}",
        )
    return CheckpointResult(record=record, reports=reports, checkpoint=checkpoint)


def checkpoint_broken_message(result: CheckpointResult) -> str:
    """What staff are told when a checkpoint found a broken chain (nothing was signed)."""
    first = next(r for r in result.reports if not r.ok)
    message = gettext(
        "The ledger is broken: round %(round)s, committee %(committee)s, link %(seq)s. "
        "It was recorded in the audit log and not signed."
    )
    return message % {
        "round": first.round_id,
        "committee": first.committee,
        "seq": first.broken_seq,
    }


def checkpoint_latest() -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.order_by("-created_at", "-id").first()


def checkpoint_out(checkpoint: LedgerCheckpoint) -> dict[str, Any]:
    """A checkpoint as the API gives it (JSON-ready)."""
    return {
        "id": checkpoint.pk,
        "at": ledger_at_iso(checkpoint.created_at),
        "alg": ALGORITHM,
        "chains": checkpoint.chains,
        "statement": checkpoint.statement,
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
        "fingerprint": key_fingerprint(checkpoint.public_key),
    }


def export_checkpoint(*, round: Round, committee: Committee) -> dict[str, Any] | None:
    """The latest checkpoint as an export carries it, with this chain's entry (or null)."""
    latest = checkpoint_latest()
    if latest is None:
        return None
    statement = json.loads(latest.statement)
    entry = statement_chain(statement, round=round.pk, committee=committee.code)
    return {
        "statement": latest.statement,
        "signature": latest.signature,
        "public_key": latest.public_key,
        "chain": entry,
    }


def export_with_checkpoint(*, round: Round, committee: Committee) -> dict[str, Any]:
    """The public export of a chain (``board.board_export``) with the latest checkpoint."""
    return {
        **board_export(round=round, committee=committee),
        "checkpoint": export_checkpoint(round=round, committee=committee),
    }
