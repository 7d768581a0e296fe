"""Building map (public and staff, scoped) and the A4 poster."""

from __future__ import annotations

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from fairshare.transparency.board import building_map
from tests.factories import CommitteeFactory, UserFactory
from tests.transparency.factories import board_world

pytestmark = pytest.mark.django_db


def test_map_statuses_per_household():
    world = board_world()
    blocks = building_map(round=world.round, committee=world.committee)
    assert [b["label"] for b in blocks] == [b.label for b in world.buildings]
    cells = {
        c["household_id"]: c["status"] for b in blocks for f in b["floors"] for c in f["cells"]
    }
    assert len(cells) == len(world.households)
    regs = {r.queue_number: r for r in world.registrations}
    assert cells[regs[1].household_id] == "bought"
    assert cells[regs[4].household_id] == "voucher_issued"
    assert cells[regs[6].household_id] == "not_registered"  # its registration was voided
    assert cells[regs[7].household_id] == "waiting"
    unregistered = set(h.pk for h in world.households) - {
        r.household_id for r in world.registrations
    }
    assert all(cells[h] == "not_registered" for h in unregistered)
    total = sum(sum(b["counts"].values()) for b in blocks)
    assert total == len(world.households)


def test_public_map_has_text_legend_and_no_household_links(client):
    world = board_world()
    html = client.get(
        f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/map/"
    ).content.decode()
    assert "cell-bought" in html and "已购" in html  # colour class and a text label
    assert "未登记" in html and "待购" in html
    assert "/admin/" not in html
    assert 'style="' not in html


def test_staff_map_links_households_and_is_scoped(client):
    world = board_world()
    url = f"/public/staff/rounds/{world.round.pk}/committees/{world.committee.code}/map/"
    assert client.get(url).status_code == 302  # login required
    own = UserFactory(role="committee", committee=world.committee)
    client.force_login(own)
    html = client.get(url).content.decode()
    hh = world.households[0]
    assert f"/admin/community/household/{hh.pk}/change/" in html
    other = UserFactory(
        role="committee", committee=CommitteeFactory(subdistrict=world.committee.subdistrict)
    )
    client.force_login(other)
    assert client.get(url).status_code == 404


def test_poster_has_head_hash_date_qr_and_all_entries(client, monkeypatch):
    world = board_world(households_per_building=40, buildings=6)
    drawn: list[str] = []
    original = Canvas.drawString

    def spy(self, x, y, text, *args, **kwargs):
        drawn.append(str(text))
        return original(self, x, y, text, *args, **kwargs)

    monkeypatch.setattr(Canvas, "drawString", spy)
    response = client.get(
        f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/poster.pdf"
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    from fairshare.registration.models import QueueCounter

    head = QueueCounter.objects.get(round=world.round, committee=world.committee).head_hash
    assert head in drawn
    from django.utils import timezone

    assert any(timezone.localdate().isoformat() in t for t in drawn)
    assert any(
        f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/" in t for t in drawn
    )
    lines = [t for t in drawn if "*" in t]
    assert len(lines) == len(world.registrations)  # every entry, across pages
    assert (
        response.content.count(b"/Type /Page\n") + response.content.count(b"/Type /Page ") >= 2
        or len(world.registrations) > 100
    )


def test_poster_prints_every_text_at_12_pt_or_more(client, monkeypatch):
    """Elderly residents read the posted list on the notice board: no text below 12 pt,
    and every line inside the page (negative control: the spy sees the sizes drawn)."""
    world = board_world(households_per_building=10, buildings=2)
    sizes: list[tuple[float, float, str]] = []
    original = Canvas.drawString

    def spy(self, x, y, text, *args, **kwargs):
        width = pdfmetrics.stringWidth(str(text), self._fontname, self._fontsize)
        sizes.append((self._fontsize, x + width, str(text)))
        return original(self, x, y, text, *args, **kwargs)

    monkeypatch.setattr(Canvas, "drawString", spy)
    url = f"/public/rounds/{world.round.pk}/committees/{world.committee.code}/poster.pdf"
    assert client.get(url).status_code == 200
    assert len(sizes) > len(world.registrations)
    assert [s for s in sizes if s[0] < 12] == []
    assert [s for s in sizes if s[1] > A4[0]] == []
