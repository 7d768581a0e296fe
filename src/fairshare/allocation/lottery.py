"""Lottery ranks that anyone can recompute (no database, no Django).

Protocol
--------
1. Before registration closes the operator runs ``fairshare lottery commit --round R``:
   a random seed is drawn and kept secret; ``commitment = sha256_hex(seed)`` is stored
   on the round and published.
2. After registration closes, ``fairshare lottery reveal --round R`` publishes the seed;
   it is accepted only when ``sha256_hex(seed) == commitment``.
3. A registration's rank key is ``HMAC-SHA256(key=seed, msg=ticket)`` in hex; lower
   keys are served first (ties, practically impossible, by ticket). Given the revealed
   seed and the public tickets, anyone can recompute the order with this module alone.
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


def rank_key(seed: str, ticket: str) -> str:
    return hmac.new(seed.encode("utf-8"), ticket.encode("utf-8"), hashlib.sha256).hexdigest()
