from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import CommitteeFactory, RoundFactory, UserFactory


@pytest.fixture
def pharmacy_setup(db):
    """One pharmacy serving three committees of one subdistrict, and an open round."""
    first = CommitteeFactory(code="A01")
    others = [
        CommitteeFactory(code=code, subdistrict=first.subdistrict, pharmacy=first.pharmacy)
        for code in ("A02", "A03")
    ]
    rnd = RoundFactory(district=first.subdistrict.district)
    return {
        "pharmacy": first.pharmacy,
        "committees": [first, *others],
        "round": rnd,
        "today": timezone.localdate(),
    }


@pytest.fixture
def subdistrict_user(pharmacy_setup):
    sub = pharmacy_setup["pharmacy"].subdistrict
    return UserFactory(role="subdistrict", subdistrict=sub)


@pytest.fixture(autouse=True)
def _morning(monkeypatch):
    """Allocation tests run as if it were 07:00 today, so today's pickup slots are all
    still ahead (the engine skips slots that end too soon; see its own test)."""
    from datetime import datetime, time

    from fairshare.allocation import engine

    moment = timezone.make_aware(datetime.combine(timezone.localdate(), time(7, 0)))
    monkeypatch.setattr(engine, "_local_now", lambda: moment)
