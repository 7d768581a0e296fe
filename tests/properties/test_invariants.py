"""Property tests (hypothesis) for the pure building blocks of the invariants.

* ledger.verify_chain: every honestly built chain verifies; any single-byte change
  to any field of any link is reported at that link or earlier (docs/invariants.md, 2; the ledger).
* allocation.tokens: codes survive any case and grouping; every single-character
  substitution is rejected; any tampered token is rejected (docs/invariants.md, 4).
* core.masking: a masked name is never the full name; a masked phone never shows
  more than 7 digits (docs/invariants.md, 6).
"""

from __future__ import annotations

import string

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fairshare.allocation import tokens
from fairshare.core.codes import ALPHABET, check_symbol
from fairshare.core.masking import mask_name, mask_phone
from fairshare.registration.ledger import (
    GENESIS,
    canonical,
    link_hash,
    registered_payload,
    verify_chain,
)
from fairshare.registration.tickets import ticket_new, ticket_normalize

# --- ledger ------------------------------------------------------------------------

entries = st.fixed_dictionaries(
    {
        "masked_name": st.text(min_size=1, max_size=6),
        "building": st.text(min_size=1, max_size=8),
        "room": st.text(string.digits, min_size=1, max_size=4),
        "channel": st.sampled_from(["online", "desk", "phone", "photo", "sheet"]),
        "at_iso": st.datetimes().map(lambda d: d.isoformat() + "+08:00"),
    }
)


def build_chain(items: list[dict]) -> list[dict]:
    links, prev = [], GENESIS
    for seq, item in enumerate(items, start=1):
        payload = canonical(registered_payload(seq=seq, queue_number=seq, **item))
        digest = link_hash(prev, payload)
        links.append({"seq": seq, "payload": payload, "prev_hash": prev, "hash": digest})
        prev = digest
    return links


@given(st.lists(entries, max_size=12))
def test_honest_chains_verify(items):
    links = build_chain(items)
    head, broken = verify_chain(links)
    assert broken is None
    assert head == (links[-1]["hash"] if links else GENESIS)


def _flip(text: str, index: int, replacement: str) -> str:
    return text[:index] + replacement + text[index + 1 :]


@given(
    st.lists(entries, min_size=1, max_size=8),
    st.data(),
)
def test_any_single_character_tamper_is_detected_at_or_before_its_link(items, data):
    links = build_chain(items)
    victim = data.draw(st.integers(0, len(links) - 1), label="link")
    field = data.draw(st.sampled_from(["payload", "prev_hash", "hash"]), label="field")
    original = links[victim][field]
    index = data.draw(st.integers(0, len(original) - 1), label="position")
    replacement = data.draw(st.characters(codec="utf-8"), label="replacement")
    assume(replacement != original[index])
    links[victim] = {**links[victim], field: _flip(original, index, replacement)}
    _, broken = verify_chain(links)
    assert broken is not None
    assert broken.seq <= victim + 1


@given(st.lists(entries, min_size=2, max_size=8), st.data())
def test_dropped_or_swapped_links_are_detected(items, data):
    links = build_chain(items)
    i = data.draw(st.integers(0, len(links) - 2))
    dropped = links[:i] + links[i + 1 :]
    assert verify_chain(dropped)[1] is not None
    swapped = [*links]
    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    assert verify_chain(swapped)[1] is not None


# --- voucher codes and tokens ------------------------------------------------------


@st.composite
def codes(draw):
    body = draw(st.text(ALPHABET, min_size=tokens.CODE_LENGTH, max_size=tokens.CODE_LENGTH))
    return body + check_symbol(body)


@st.composite
def presentations(draw, code: str):
    """The code as someone might type it: any case, spaces/dashes anywhere."""
    out = []
    for ch in code:
        out.append(ch.lower() if draw(st.booleans()) else ch)
        out.append(draw(st.sampled_from(["", "", "", " ", "-", "  ", "\t"])))
    return "".join(out)


@given(st.data())
def test_code_normalize_accepts_every_new_code_in_any_presentation(data):
    code = tokens.code_new() if data.draw(st.booleans()) else data.draw(codes())
    assert tokens.code_normalize(code) == code
    assert tokens.code_normalize(tokens.code_display(code)) == code
    assert tokens.code_normalize(data.draw(presentations(code))) == code


@given(codes(), st.data())
def test_code_normalize_rejects_every_single_substitution(code, data):
    index = data.draw(st.integers(0, len(code) - 1))
    other = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != code[index]))
    assert tokens.code_normalize(_flip(code, index, other)) is None


@pytest.mark.parametrize(
    ("new", "parse"),
    [(tokens.code_new, tokens.code_normalize), (ticket_new, ticket_normalize)],
    ids=["voucher code", "registration ticket"],
)
def test_every_single_substitution_and_neighbour_swap_is_caught(new, parse):
    for _ in range(20):
        code = new()
        assert parse(code) == code
        for index in range(len(code)):
            for other in ALPHABET:
                if other != code[index]:
                    assert parse(_flip(code, index, other)) is None
            if index + 1 < len(code) and code[index] != code[index + 1]:
                swapped = code[:index] + code[index + 1] + code[index] + code[index + 2 :]
                assert parse(swapped) is None


_KEY = Ed25519PrivateKey.generate()


def _sign(claims: dict, monkeypatch_key=_KEY) -> str:
    import base64
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    body = b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
    signature = monkeypatch_key.sign(f"{tokens.TOKEN_PREFIX}.{body}".encode("ascii"))
    return f"{tokens.TOKEN_PREFIX}.{body}.{b64(signature)}"


claims_strategy = st.fixed_dictionaries(
    {
        "c": codes(),
        "r": st.integers(1, 10**6),
        "p": st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=5),
        "k": st.integers(1, 5),
    }
)


@settings(max_examples=200, deadline=None)
@given(claims_strategy, st.data())
def test_token_verify_rejects_any_tampered_token(claims, data):
    public = _KEY.public_key()
    token = _sign(claims)
    assert tokens.token_verify(token, public) == claims
    index = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-_."))
    assume(replacement != token[index])
    tampered = _flip(token, index, replacement)
    result = tokens.token_verify(tampered, public)
    # base64 padding bits: a change in the last character's unused bits can decode to the
    # same bytes; such a token is the same token, never different claims.
    assert result is None or result == claims
    other_key = Ed25519PrivateKey.generate().public_key()
    assert tokens.token_verify(token, other_key) is None


# --- masking -----------------------------------------------------------------------

names = st.one_of(
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=5),
    st.text(string.ascii_letters + " ", min_size=2, max_size=20),
    st.text(min_size=2, max_size=12),
)


@given(names)
def test_mask_name_never_returns_the_full_name(name):
    assume(len(name.strip()) >= 2 and "*" not in name)
    assert mask_name(name) != name.strip()


@given(st.text(string.digits + " +-()", max_size=20))
def test_mask_phone_never_shows_more_than_seven_digits(phone):
    masked = mask_phone(phone)
    shown = sum(ch.isdigit() for ch in masked)
    assert shown <= 7
    digits = sum(ch.isdigit() for ch in phone)
    if digits >= 7:  # a real number keeps at least its first 3 and last 4 hidden parts apart
        assert shown < digits or digits == 7


def test_bulk_codes_are_valid_distinct_and_use_every_symbol_evenly():
    from collections import Counter

    from fairshare.core.codes import codes_generate

    generated = codes_generate(10, 5000)
    assert len(generated) == 5000 and len(set(generated)) == 5000
    assert all(tokens.code_normalize(code) == code for code in generated)
    counts = Counter("".join(code[:-1] for code in generated))
    assert set(counts) == set(ALPHABET)
    # 50,000 symbols over 25 values: 2,000 expected each; a biased mapping (e.g. bytes
    # 250-255 folded in) would push the first symbols far above the rest.
    assert max(counts.values()) < 2300 and min(counts.values()) > 1700


@pytest.mark.parametrize("body_length", [1, 3, 10, 12, 15])
def test_packed_codes_are_fixed_width_valid_distinct_and_even(body_length):
    from collections import Counter

    from fairshare.core.codes import code_parse, codes_generate_packed

    count = max(5000, 50_000 // body_length)  # ≥ 2,000 expected per symbol: ±20 % is > 8σ
    packed = codes_generate_packed(body_length, count)
    width = body_length + 1
    assert len(packed) == width * count
    generated = [packed[i * width : (i + 1) * width].decode("ascii") for i in range(count)]
    # The check symbol follows the scheme (computed column-wise; the 12- and 15-symbol
    # bodies pass the point where the byte sums must be reduced modulo 25).
    assert all(code_parse(code, body_length) == code for code in generated)
    assert all(code[-1] == check_symbol(code[:-1]) for code in generated)
    if body_length >= 10:
        assert len(set(generated)) == count
    counts = Counter("".join(code[:-1] for code in generated))
    expected = body_length * count / len(ALPHABET)
    assert set(counts) == set(ALPHABET)
    assert max(counts.values()) < expected * 1.2 and min(counts.values()) > expected * 0.8
