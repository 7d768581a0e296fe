import pytest

from fairshare.accounts.pii import InvalidIdNumber, id_number_hash, id_number_normalize

VALID_RIC = "11010519491231002X"  # the standard sample resident ID (valid checksum)


def test_resident_id_is_validated_and_hashed_with_a_key(settings):
    digest = id_number_hash(VALID_RIC)
    assert len(digest) == 64 and VALID_RIC not in digest
    assert id_number_hash(" 110105 19491231 002x ") == digest  # normalized
    import hashlib

    assert digest != hashlib.sha256(VALID_RIC.encode()).hexdigest()  # keyed, not a bare hash
    settings.FAIRSHARE_PII_KEY = "another-key"
    assert id_number_hash(VALID_RIC) != digest


@pytest.mark.parametrize(
    "raw", ["110105194912310021", "11010519491331002X", "", "12345", "中文", "AB", "1234567890"]
)
def test_invalid_numbers_are_refused(raw):
    with pytest.raises(InvalidIdNumber):
        id_number_hash(raw)


def test_passport_numbers_are_accepted_loosely():
    assert id_number_normalize("e1234 5678") == "P:E12345678"
    assert id_number_hash("E12345678") == id_number_hash("e12345678")
    assert id_number_hash("E12345678") != id_number_hash(VALID_RIC)
