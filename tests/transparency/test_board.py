"""Public board, ledger export, search and 404s."""

from __future__ import annotations

import json

import pytest

from fairshare.core.masking import mask_name
from fairshare.registration.ledger import verify_chain
from fairshare.registration.models import QueueCounter
from fairshare.transparency.board import PUBLIC_FIELDS
from tests.factories import CommitteeFactory, RegistrationFactory, RoundFactory
from tests.transparency.factories import board_world
from tests.transparency.helpers import ledger_append_registered

pytestmark = pytest.mark.django_db


def _board_url(world, **kw):
    return f"/api/v1/public/rounds/{world.round.pk}/committees/{world.committee.code}/board"


def test_board_lists_masked_entries_with_statuses_and_head_hash(client):
    world = board_world()
    body = client.get(_board_url(world)).json()
    counter = QueueCounter.objects.get(round=world.round, committee=world.committee)
    assert body["round"] == world.round.pk
    assert body["committee"] == world.committee.code
    assert body["head_hash"] == counter.head_hash
    assert body["count"] == len(world.registrations) == 18
    by_q = {e["queue_number"]: e for e in body["entries"]}
    assert [e["queue_number"] for e in body["entries"]] == sorted(by_q)
    assert {by_q[q]["status"] for q in (1, 2, 3)} == {"bought"}
    assert {by_q[q]["status"] for q in (4, 5)} == {"voucher_issued"}
    assert by_q[6]["status"] == "void"
    assert by_q[7]["status"] == "waiting"
    reg = world.registrations[0]
    assert by_q[1]["name"] == mask_name(reg.name) != reg.name
    assert by_q[1]["building"] == reg.household.building.label
    assert by_q[1]["room"] == reg.household.room
    for e in body["entries"]:
        assert set(e) == set(PUBLIC_FIELDS)


def test_board_reflects_new_registration_and_redemption_despite_cache(client):
    world = board_world()
    first = client.get(_board_url(world)).json()
    extra = RegistrationFactory(household=world.households[-1], round=world.round)
    ledger_append_registered(extra)
    v = world.vouchers[4]
    v.status = "redeemed"
    from django.utils import timezone

    v.redeemed_at = timezone.now()
    v.save()
    second = client.get(_board_url(world)).json()
    assert second["count"] == first["count"] + 1
    assert second["head_hash"] != first["head_hash"]
    assert {e["queue_number"]: e["status"] for e in second["entries"]}[4] == "bought"


def test_extra_query_parameters_never_add_fields(client):
    world = board_world()
    body = client.get(
        _board_url(world),
        {"fields": "phone,name", "full": "1", "include": "phone", "staff": "true"},
    ).json()
    for e in body["entries"]:
        assert set(e) == set(PUBLIC_FIELDS)
    assert set(body) == {
        "round",
        "committee",
        "head_hash",
        "count",
        "policy",
        "labels",
        "entries",
        "export_url",
    }


def test_search_by_building_and_room(client):
    world = board_world()
    reg = world.registrations[7]
    label = reg.household.building.label  # e.g. "2号"
    body = client.get(
        _board_url(world), {"building": label.rstrip("号"), "room": reg.household.room}
    ).json()
    assert body["count"] == 1
    assert body["entries"][0]["queue_number"] == reg.queue_number
    page = client.get(
        f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/",
        {"building": label, "room": reg.household.room},
    )
    assert page.status_code == 200
    html = page.content.decode()
    cell = '<td data-label="序号">{}</td>'
    assert cell.format(reg.queue_number) in html
    other = world.registrations[8]
    assert cell.format(other.queue_number) not in html


def test_export_verifies_offline_and_matches_head(client):
    world = board_world()
    data = client.get(
        f"/api/v1/public/rounds/{world.round.pk}/committees/{world.committee.code}/export"
    ).json()
    assert set(data) == {"round", "committee", "head_hash", "links", "checkpoint"}
    assert data["round"] == world.round.pk and data["committee"] == world.committee.code
    head, broken = verify_chain(data["links"])
    assert broken is None
    assert head == data["head_hash"]
    assert len(data["links"]) == 19  # 18 registrations + 1 void correction
    download = client.get(
        f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/export.json"
    )
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    assert json.loads(download.content) == data
    # A tampered export (a name changed) no longer verifies.
    tampered = json.loads(download.content)
    tampered["links"][2]["payload"] = tampered["links"][2]["payload"].replace('"seq":3', '"seq":3 ')
    assert verify_chain(tampered["links"])[1] is not None


def test_board_page_shows_head_hash_and_instructions_in_chinese(client):
    world = board_world()
    page = client.get(f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/")
    html = page.content.decode()
    counter = QueueCounter.objects.get(round=world.round, committee=world.committee)
    assert counter.head_hash in html
    assert "verify_ledger" in html
    assert page["Content-Language"].startswith("zh")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/public/rounds/{r}/committees/NOPE/board",
        "/api/v1/public/rounds/999999/committees/{c}/board",
        "/api/v1/public/rounds/{r}/committees/NOPE/export",
        "/api/v1/stats/rounds/999999",
        "/api/v1/stats/rounds/{r}?committee=NOPE",
        "/api/v1/stats/rounds/{r}?subdistrict=NOPE",
        "/public/rounds/{r}/committees/NOPE/",
        "/public/rounds/999999/committees/{c}/",
        "/public/rounds/{r}/committees/NOPE/map/",
        "/public/rounds/{r}/committees/NOPE/poster.pdf",
        "/public/rounds/{r}/committees/NOPE/export.json",
    ],
)
def test_unknown_round_or_committee_is_404(client, path):
    world = board_world(households_per_building=3, buildings=1)
    response = client.get(path.format(r=world.round.pk, c=world.committee.code))
    assert response.status_code == 404


def test_committee_of_another_district_is_404(client):
    world = board_world(households_per_building=3, buildings=1)
    from tests.factories import DistrictFactory, SubdistrictFactory

    elsewhere = CommitteeFactory(
        subdistrict=SubdistrictFactory(district=DistrictFactory(code="HK"))
    )
    assert (
        client.get(
            f"/api/v1/public/rounds/{world.round.pk}/committees/{elsewhere.code}/board"
        ).status_code
        == 404
    )
    other_round = RoundFactory(district=elsewhere.subdistrict.district)
    assert (
        client.get(
            f"/api/v1/public/rounds/{other_round.pk}/committees/{world.committee.code}/board"
        ).status_code
        == 404
    )


def test_empty_board_has_genesis_head(client):
    world = board_world(households_per_building=3, buildings=1)
    empty = CommitteeFactory(subdistrict=world.committee.subdistrict)
    body = client.get(
        f"/api/v1/public/rounds/{world.round.pk}/committees/{empty.code}/board"
    ).json()
    assert body["count"] == 0 and body["head_hash"] == "0" * 64


def test_round_page_links_every_committee_board(client):
    world = board_world(households_per_building=3, buildings=1)
    html = client.get(f"/public/rounds/{world.round.pk}/").content.decode()
    assert f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/" in html
    sub = world.committee.subdistrict.code
    html = client.get(f"/public/rounds/{world.round.pk}/", {"subdistrict": sub}).content.decode()
    assert f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/map/" in html
    assert (
        client.get(f"/public/rounds/{world.round.pk}/", {"subdistrict": "NOPE"}).status_code == 404
    )
