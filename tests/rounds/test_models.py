from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import RoundFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "overrides",
    [
        {"offline_reserve_pct": 101},
        {"packs_per_household": 0},
        {"policy": "random"},
        {"status": "paused"},
        {"valid_until": timezone.localdate() - timedelta(days=30)},
        {"registration_closes_at": timezone.now() - timedelta(days=30)},
    ],
)
def test_round_constraints(overrides):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundFactory(**overrides)


def test_registration_window():
    round_ = RoundFactory()
    assert round_.registration_is_open()
    assert not round_.registration_is_open(at=round_.registration_closes_at)
    round_.status = "closed"
    assert not round_.registration_is_open()
