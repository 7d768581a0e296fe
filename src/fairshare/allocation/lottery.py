"""Lottery ranks that anyone can recompute from the public chain (no database, no Django).

Protocol
--------
1. Before registration closes the operator runs ``fairshare lottery commit --round R``:
   a random seed is drawn and kept secret; ``commitment = sha256_hex(seed)`` is stored
   on the round and published.
2. After registration closes, ``fairshare lottery reveal --round R`` publishes the seed;
   it is accepted only when ``sha256_hex(seed) == commitment``.
3. A registration's rank key is ``HMAC-SHA256(key=seed, msg=hash of its "registered"
   link)`` in hex (both as UTF-8 text): the link hash is public (the committee's ledger
   export), so the export plus the revealed seed recompute every rank, with this module
   alone or with the few lines in ``docs/ledger.md`` ("The lottery"). Lower keys are
   served first; ties (practically impossible) by queue number.
4. With the round's ``carried_first`` set, households carried over from the previous
   round (``carried_from`` in their "registered" link) are drawn before the others,
   each group in rank-key order (``draw_key``); the allocation links say so
   (``carried_first``).

The secret tickets play no part: a ticket is a resident's credential, not public data.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def seed_new() -> str:
    return secrets.token_hex(32)


def commitment_of(seed: str) -> str:
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def seed_matches(seed: str, commitment: str) -> bool:
    return bool(seed) and hmac.compare_digest(commitment_of(seed), (commitment or "").lower())


def rank_key(seed: str, link_hash: str) -> str:
    """HMAC-SHA256(key=seed, msg=the registration's "registered" link hash), hex."""
    return hmac.new(seed.encode("utf-8"), link_hash.encode("utf-8"), hashlib.sha256).hexdigest()


def draw_key(
    seed: str, *, link_hash: str, queue_number: int, carried: bool, carried_first: bool
) -> tuple[bool, str, int]:
    """The sort key of the lottery order (smallest first): carried households ahead
    when ``carried_first``, then the rank key, ties by queue number."""
    return (carried_first and not carried, rank_key(seed, link_hash), queue_number)
