"""Done when #2: no public page or export shows a full name, a phone or an ID number."""

from __future__ import annotations

import json
import re

import pytest
from reportlab.pdfgen.canvas import Canvas

from fairshare.community.models import Member
from fairshare.registration.models import Registration
from fairshare.transparency.services import notice_publish
from tests.factories import UserFactory
from tests.transparency.factories import board_world

pytestmark = pytest.mark.django_db

HEX64 = re.compile(r"[0-9a-f]{64}")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")


def _capture_pdf_text(monkeypatch) -> list[str]:
    drawn: list[str] = []
    for method in ("drawString", "drawRightString", "drawCentredString"):
        original = getattr(Canvas, method)

        def spy(self, x, y, text, *args, _orig=original, **kwargs):
            drawn.append(str(text))
            return _orig(self, x, y, text, *args, **kwargs)

        monkeypatch.setattr(Canvas, method, spy)
    return drawn


def _scan(label: str, text: str, names: set[str], phones: set[str]) -> None:
    text = HEX64.sub(" ", text)  # ledger hashes are hex; a digit run inside one is no phone
    assert not PHONE.findall(text), f"{label}: phone-like number"
    assert not ID_NUMBER.findall(text), f"{label}: ID-number-like digits"
    for phone in phones:
        assert phone not in text, f"{label}: a registered phone"
    for name in names:
        assert name not in text, f"{label}: full name {name}"


def test_every_public_page_and_export_is_free_of_personal_data(client, monkeypatch):
    world = board_world()
    # A registration whose name is also a member's name, and a non-Chinese name.
    reg = world.registrations[8]
    Registration.objects.filter(pk=reg.pk).update(name="Wang Xiaoming")
    staff = UserFactory(role="subdistrict", subdistrict=world.committee.subdistrict)
    notice_publish(
        actor=staff,
        subdistrict=world.committee.subdistrict,
        title="关于口罩价格和款式的说明",
        body="不同批次的口罩厂家和款式不同，价格以凭证所示为准。",
    )
    names = set(Registration.objects.values_list("name", flat=True)) | set(
        Member.objects.values_list("name", flat=True)
    )
    phones = set(Registration.objects.values_list("phone", flat=True))
    assert len(names) > 20 and len(phones) == len(world.registrations)

    r, c = world.round.pk, world.committee.code
    sub = world.committee.subdistrict.code
    pdf_text = _capture_pdf_text(monkeypatch)
    urls = [
        f"/public/rounds/{r}/",
        f"/public/rounds/{r}/?subdistrict={sub}",
        f"/public/rounds/{r}/committees/{c}/",
        f"/public/rounds/{r}/committees/{c}/?building=1&room=101",
        f"/public/rounds/{r}/committees/{c}/?building=1号&room=101&fields=phone&full=1",
        f"/public/rounds/{r}/committees/{c}/export.json",
        f"/public/rounds/{r}/committees/{c}/map/",
        f"/api/v1/public/rounds/{r}/committees/{c}/board",
        f"/api/v1/public/rounds/{r}/committees/{c}/board?building=2&fields=phone",
        f"/api/v1/public/rounds/{r}/committees/{c}/export",
        f"/api/v1/stats/rounds/{r}",
        f"/api/v1/stats/rounds/{r}?subdistrict={sub}",
        f"/api/v1/stats/rounds/{r}?committee={c}",
        f"/api/v1/public/notices?subdistrict={sub}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        _scan(url, response.content.decode(), names, phones)

    poster = client.get(f"/public/rounds/{r}/committees/{c}/poster.pdf")
    assert poster.status_code == 200 and poster.content.startswith(b"%PDF")
    joined = "\n".join(pdf_text)
    assert "*" in joined and world.committee.name in joined  # the list was really drawn
    _scan("poster.pdf", joined, names, phones)

    # The masked names are there (so the scan looked at real lists).
    board = client.get(f"/api/v1/public/rounds/{r}/committees/{c}/board").json()
    assert any(e["name"] == "W*** X*******" for e in board["entries"])
    export = client.get(f"/api/v1/public/rounds/{r}/committees/{c}/export").json()
    payload = json.loads(export["links"][0]["payload"])
    assert "*" in payload["name"]


def test_scanner_catches_leaks():
    """The scan itself is not vacuous: it flags a phone, an ID number and a name."""
    for text in ("call 13912345678", "ID 11010519491231002X", "张三丰"):
        with pytest.raises(AssertionError):
            _scan("probe", text, {"张三丰"}, set())
