"""Short codes people read aloud and type: tickets and voucher codes share this scheme.

The alphabet has 25 symbols and no look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B). A code
is random symbols plus one check symbol chosen so that the weighted sum of all
symbols, the check symbol included, is 0 modulo 25. The position weights are all
coprime with 25 (no multiple of 5: weights 5 and 10 let some single substitutions
through) and neighbouring weights differ by a unit modulo 25, so every single wrong
symbol and every swap of two neighbours, the check symbol included, is caught.
"""

from __future__ import annotations

import secrets

ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
WEIGHTS = (1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 16, 17, 18, 19)
_SEPARATORS = " -_\t"


_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
# Random bytes below 250 map evenly onto the 25 symbols (250 = 10 × 25); the rest are
# dropped, so every symbol is equally likely. bytes.translate does this in C.
_BYTE_TO_SYMBOL = bytes(ord(ALPHABET[b % 25]) if b < 250 else 0 for b in range(256))
_UNEVEN_BYTES = bytes(range(250, 256))
_BYTE_TO_VALUE = bytes(b % 25 if b < 250 else 0 for b in range(256))
_MOD_25 = bytes(b % 25 for b in range(256))
_VALUE_TO_SYMBOL = bytes(ord(ALPHABET[v % 25]) for v in range(256))


def _weighted_sum(symbols: str) -> int:
    return sum(w * _VALUE[ch] for w, ch in zip(WEIGHTS, symbols, strict=False))


def check_symbol(body: str) -> str:
    if len(body) >= len(WEIGHTS):
        raise ValueError(f"codes are at most {len(WEIGHTS) - 1} symbols before the check symbol")
    size = len(ALPHABET)
    check_weight_inverse = pow(WEIGHTS[len(body)], -1, size)
    return ALPHABET[(-_weighted_sum(body) * check_weight_inverse) % size]


def code_generate(body_length: int) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(body_length))
    return body + check_symbol(body)


def codes_generate(body_length: int, count: int) -> list[str]:
    """``count`` codes at once (as ``code_generate``, but drawing the randomness in bulk)."""
    need = body_length * count
    symbols = ""
    while len(symbols) < need:
        raw = secrets.token_bytes(need - len(symbols) + 64)
        symbols += raw.translate(_BYTE_TO_SYMBOL, _UNEVEN_BYTES).decode("ascii")
    bodies = [symbols[i : i + body_length] for i in range(0, need, body_length)]
    return [body + check_symbol(body) for body in bodies]


def codes_generate_packed(body_length: int, count: int) -> bytes:
    """``count`` codes as one ASCII byte string of fixed-width codes (no separator).

    The same codes as ``codes_generate`` (same randomness, same check symbol), built
    without a Python loop per code, for set-based SQL that slices code number k out of
    one parameter. The check symbol is computed column-wise: position i of every body
    is mapped to ``WEIGHTS[i] * value mod 25`` with ``bytes.translate``; the weighted
    columns are added as big integers (every byte stays below 25 × 16 < 256, so no
    byte carries into its neighbour), and the byte sums are translated to the check
    symbol.
    """
    if body_length >= len(WEIGHTS):
        raise ValueError(f"codes are at most {len(WEIGHTS) - 1} symbols before the check symbol")
    if count <= 0:
        return b""
    need = body_length * count
    values = b""
    while len(values) < need:
        raw = secrets.token_bytes(need - len(values) + 64)
        values += raw.translate(_BYTE_TO_VALUE, _UNEVEN_BYTES)
    values = values[:need]
    size = len(ALPHABET)
    width = body_length + 1
    out = bytearray(width * count)
    total = 0
    for i in range(body_length):
        column = values[i::body_length]
        out[i::width] = column.translate(_VALUE_TO_SYMBOL)
        weighted = column.translate(bytes((WEIGHTS[i] * v) % size for v in range(256)))
        total += int.from_bytes(weighted, "big")
        if i % 10 == 9:  # reduce modulo 25 before a byte could pass 255
            total = int.from_bytes(total.to_bytes(count, "big").translate(_MOD_25), "big")
    sums = total.to_bytes(count, "big").translate(_MOD_25)
    inverse = pow(WEIGHTS[body_length], -1, size)
    check = bytes(ord(ALPHABET[(-s * inverse) % size]) for s in range(256))
    out[body_length::width] = sums.translate(check)
    return bytes(out)


def code_parse(raw: str | None, body_length: int) -> str | None:
    """The canonical code (upper case, no separators), or None if malformed or mistyped."""
    text = "".join(ch for ch in (raw or "").upper() if ch not in _SEPARATORS)
    if len(text) != body_length + 1 or any(ch not in ALPHABET for ch in text):
        return None
    return text if _weighted_sum(text) % len(ALPHABET) == 0 else None
