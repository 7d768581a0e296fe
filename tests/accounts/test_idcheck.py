"""The import's fast ID-number check agrees with python-stdnum (the reference)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from fairshare.accounts.pii import InvalidIdNumber, id_number_hash, id_number_normalize
from fairshare.accounts.roster.idcheck import fast_id_hasher, fast_id_normalize


def _outcome(func, raw):
    try:
        return func(raw)
    except InvalidIdNumber:
        return "invalid"


def _agree(raw: str) -> None:
    assert _outcome(fast_id_normalize, raw) == _outcome(id_number_normalize, raw), raw


_regions = st.sampled_from(["310110", "110101", "440305", "999999", "000000", "310230", "510107"])


@st.composite
def resident_ids(draw, *, fix_check: bool):
    region = draw(_regions)
    year = draw(st.integers(1850, 2030))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    seq = draw(st.integers(0, 999))
    body = f"{region}{year:04d}{month:02d}{day:02d}{seq:03d}"
    last = ric.calc_check_digit(body + "0") if fix_check else draw(st.sampled_from("0123456789Xx"))
    return body + last


@settings(max_examples=400, deadline=None)
@given(resident_ids(fix_check=True))
def test_agrees_on_well_formed_numbers(raw):
    _agree(raw)


@settings(max_examples=400, deadline=None)
@given(resident_ids(fix_check=False))
def test_agrees_on_any_check_digit(raw):
    _agree(raw)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789Xx -ABCP０１２３\u3000", max_size=22))
def test_agrees_on_random_text(raw):
    _agree(raw)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_agrees_on_any_text(raw):
    _agree(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "310110194101010009",  # valid
        "310110194101010008",  # wrong check digit
        "310110194113010000",  # month 13
        "999999194101010000",  # unknown region
        "31011019410101000X",
        "３１０１１０１９４１０１０１０００９",  # full-width: stdnum maps it to ASCII
        "E12345678",
        "12345678",
    ],
)
def test_agrees_on_examples(raw):
    _agree(raw)


def test_fast_hasher_is_the_keyed_hash():
    hasher = fast_id_hasher()
    valid = "31011019410101000" + ric.calc_check_digit("310110194101010000")
    assert hasher(valid) == id_number_hash(valid)
    assert hasher("e1234567 8") == id_number_hash("e1234567 8")
    with pytest.raises(InvalidIdNumber):
        hasher("310110194101010008")
