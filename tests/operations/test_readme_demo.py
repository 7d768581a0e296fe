"""The README's demo households: the names it gives are the demo roster's, and they
behave as it says (verified at once; any other name pending review, then superseded).

The table is read from README.md itself, so an edit of either the README or the demo
seeder that makes them disagree fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from fairshare.community.models import Household
from fairshare.registration.models import Registration
from fairshare.rounds.models import Round

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| (\d+号) \| (\d+) \| ([^|]+) \| [^|]+ \|$")


def _readme_households() -> list[tuple[str, str, list[str]]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("**Demo households to try**", 1)[1].split("\n\n", 3)[1]
    rows = []
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match:
            building, room, names = match.groups()
            listed = [n.strip() for n in re.split(r"[,，]| or |\(or ", names.strip(" )"))]
            rows.append((building, room, [n for n in listed if n]))
    return rows


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", quiet=True)
    return Round.objects.get(status=Round.Status.OPEN)


def _register(client, round_id: int, building: str, room: str, name: str, phone: str):
    return client.post(
        f"/api/v1/rounds/{round_id}/registrations",
        {"committee": "KJ01", "building": building, "room": room, "name": name, "phone": phone},
        content_type="application/json",
    )


def test_readme_names_are_the_demo_roster(demo):
    rows = _readme_households()
    assert len(rows) == 4, rows
    for building, room, names in rows:
        household = Household.objects.get(
            committee__code="KJ01", building__label=building, room=room
        )
        roster = set(household.members.values_list("name", flat=True))
        assert names and set(names) <= roster, (building, room, names, roster)


def test_readme_walk_verified_pending_superseded(client, demo):
    (building, room, names), *others = _readme_households()
    answer = _register(client, demo.pk, building, room, names[0], "13800000001")
    assert answer.status_code == 201, answer.content
    assert answer.json()["status"] == Registration.Status.VERIFIED

    squat_building, squat_room, squat_names = others[0]
    squatter = _register(client, demo.pk, squat_building, squat_room, "王小明", "13800000002")
    assert squatter.status_code == 201, squatter.content
    assert squatter.json()["status"] == Registration.Status.PENDING_REVIEW

    real = _register(client, demo.pk, squat_building, squat_room, squat_names[0], "13800000003")
    assert real.status_code == 201, real.content
    assert real.json()["status"] == Registration.Status.VERIFIED
    superseded = Registration.objects.get(ticket=squatter.json()["ticket"])
    assert superseded.status == Registration.Status.VOID
    assert superseded.void_reason.startswith("superseded")
