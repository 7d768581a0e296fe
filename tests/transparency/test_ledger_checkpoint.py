"""Signed ledger checkpoints (issue 18): ``fairshare ledger_checkpoint``, on demand by
staff (API and dashboard button), the public latest checkpoint, exports carrying it,
and the ledger key on the public round page and the poster."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.test import Client
from reportlab.pdfgen.canvas import Canvas

from fairshare.accounts.models import ApiToken
from fairshare.core.edkeys import b64url, key_fingerprint, public_key_b64
from fairshare.core.models import AuditLog
from fairshare.registration.checkpoint_format import checkpoint_check
from fairshare.registration.models import Registration
from fairshare.registration.services import registration_create
from fairshare.transparency.checkpoints import (
    checkpoint_take,
    export_with_checkpoint,
    ledger_key_info,
)
from fairshare.transparency.models import LedgerCheckpoint
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    RoundFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_ratelimit(settings):
    settings.RATELIMIT_ENABLED = False


@pytest.fixture
def place(db):
    committee = CommitteeFactory(code="KJ01", name="图们居委会")
    building = BuildingFactory(committee=committee, label="12号")
    return {
        "committee": committee,
        "building": building,
        "round": RoundFactory(district=committee.subdistrict.district),
    }


def _register(place, room: str) -> Registration:
    return registration_create(
        round=place["round"],
        household=HouseholdFactory(building=place["building"], room=room),
        name=f"住户{room}",
        phone=f"13812345{room}",
        channel="online",
    ).registration


@pytest.fixture
def registrations(place):
    return [_register(place, room) for room in ("401", "402", "403")]


def _checkpoint(*args: str) -> str:
    out = StringIO()
    call_command("ledger_checkpoint", *args, stdout=out)
    return out.getvalue()


def _export(place) -> dict:
    return export_with_checkpoint(round=place["round"], committee=place["committee"])


def test_checkpoint_records_every_head_in_the_audit_log_and_file(registrations, place, tmp_path):
    path = tmp_path / "checkpoints.jsonl"
    assert "1 chain(s) verified and signed" in _checkpoint("--file", str(path))
    _checkpoint("--file", str(path))
    board = _export(place)
    rows = AuditLog.objects.filter(action="ledger.checkpoint").order_by("id")
    assert rows.count() == 2
    assert rows[0].after["ok"] is True
    assert rows[0].after["chains"] == [
        {"round": place["round"].pk, "committee": "KJ01", "links": 3, "head": board["head_hash"]}
    ]
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert len(lines) == 2 and lines[1]["chains"][0]["head"] == board["head_hash"]
    assert lines[1]["signature"] and lines[1]["public_key"] == ledger_key_info()["public_key"]


def test_the_command_stores_a_signed_checkpoint_of_every_head(registrations, place):
    _checkpoint()
    checkpoint = LedgerCheckpoint.objects.get()
    head = _export(place)["head_hash"]
    assert checkpoint.chains == [
        {"round": place["round"].pk, "committee": "KJ01", "links": 3, "head": head}
    ]
    statement = json.loads(checkpoint.statement)
    assert statement["kind"] == "checkpoint" and statement["alg"] == "Ed25519"
    assert statement["chains"] == checkpoint.chains
    assert checkpoint.public_key == ledger_key_info()["public_key"]
    assert checkpoint.created_by is None


def test_a_broken_chain_is_recorded_not_signed_and_fails_the_run(registrations, tmp_path):
    Registration.objects.filter(pk=registrations[1].pk).update(queue_number=99)
    with pytest.raises(CommandError, match="seq 2") as exc:
        _checkpoint("--file", str(tmp_path / "c.jsonl"))
    assert exc.value.returncode == 1
    row = AuditLog.objects.get(action="ledger.checkpoint")
    assert row.after["ok"] is False and row.after["chains"][0]["broken_seq"] == 2
    assert "BROKEN" in row.note
    assert not LedgerCheckpoint.objects.exists()  # a broken ledger is never signed


def test_the_signature_verifies_and_a_tampered_statement_fails(registrations, place):
    checkpoint_take(actor=None)
    export = _export(place)
    part = export["checkpoint"]
    args = {"round": place["round"].pk, "committee": "KJ01", "links": export["links"]}
    report = checkpoint_check(part, **args, public_key=ledger_key_info()["public_key"])
    assert report.ok, report.reason
    assert report.chain == {"round": place["round"].pk, "committee": "KJ01", "links": 3,
                            "head": export["head_hash"]}  # fmt: skip
    # Negative controls: a changed statement, another key, a forged re-signature.
    tampered = dict(part, statement=part["statement"].replace('"links":3', '"links":2'))
    assert "signature does not match" in checkpoint_check(tampered, **args).reason
    other = Ed25519PrivateKey.generate()
    assert "another key" in checkpoint_check(part, **args, public_key=public_key_b64(other)).reason
    forged = dict(
        tampered,
        signature=b64url(other.sign(tampered["statement"].encode())),
        public_key=public_key_b64(other),
    )
    given = ledger_key_info()["public_key"]
    assert "another key" in checkpoint_check(forged, **args, public_key=given).reason


def test_a_rewritten_chain_no_longer_matches_the_signed_head(registrations, place):
    checkpoint_take(actor=None)
    export = _export(place)
    export["links"][2]["hash"] = "f" * 64
    report = checkpoint_check(
        export["checkpoint"], round=place["round"].pk, committee="KJ01", links=export["links"]
    )
    assert not report.ok and "link 3 is not the signed head" in report.reason


def test_the_export_carries_the_latest_checkpoint_and_this_chains_entry(
    registrations, place, client
):
    url = f"/api/v1/public/rounds/{place['round'].pk}/committees/KJ01/export"
    assert client.get(url).json()["checkpoint"] is None  # none taken yet
    checkpoint_take(actor=None)
    _register(place, "404")  # the chain grows after the checkpoint
    checkpoint_take(actor=None)
    latest = LedgerCheckpoint.objects.order_by("-id").first()
    body = client.get(url).json()
    assert len(body["links"]) == 4
    assert body["checkpoint"] == {
        "statement": latest.statement,
        "signature": latest.signature,
        "public_key": latest.public_key,
        "chain": {"round": place["round"].pk, "committee": "KJ01", "links": 4,
                  "head": body["head_hash"]},
    }  # fmt: skip
    download = client.get(f"/public/rounds/{place['round'].pk}/committees/KJ01/export.json")
    assert json.loads(download.content)["checkpoint"] == body["checkpoint"]


def test_a_chain_begun_after_the_checkpoint_has_no_entry(registrations, place):
    checkpoint_take(actor=None)
    other = CommitteeFactory(code="KJ02", subdistrict=place["committee"].subdistrict)
    HouseholdFactory(building=BuildingFactory(committee=other), room="101")
    export = export_with_checkpoint(round=place["round"], committee=other)
    assert export["checkpoint"]["chain"] is None


def _bearer(user) -> dict[str, str]:
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_area_staff_take_a_checkpoint_through_the_api_once_per_key(registrations, place):
    sub = UserFactory(role="subdistrict", subdistrict=place["committee"].subdistrict)
    client = Client()
    headers = {**_bearer(sub), "HTTP_IDEMPOTENCY_KEY": "cp-1"}
    first = client.post("/api/v1/ledger/checkpoints", content_type="application/json", **headers)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["chains"][0]["links"] == 3 and body["fingerprint"] == key_fingerprint(
        body["public_key"]
    )
    again = client.post("/api/v1/ledger/checkpoints", content_type="application/json", **headers)
    assert again.json() == body and LedgerCheckpoint.objects.count() == 1
    assert LedgerCheckpoint.objects.get().created_by == sub
    latest = Client().get("/api/v1/public/ledger/checkpoints/latest")
    assert latest.status_code == 200 and latest.json()["signature"] == body["signature"]


def test_committee_staff_may_not_take_a_checkpoint(registrations, place):
    staff = UserFactory(role="committee", committee=place["committee"])
    response = Client().post(
        "/api/v1/ledger/checkpoints", content_type="application/json", **_bearer(staff)
    )
    assert response.status_code == 403
    assert not LedgerCheckpoint.objects.exists()


def test_a_broken_ledger_answers_409_and_signs_nothing(registrations, place):
    Registration.objects.filter(pk=registrations[0].pk).update(queue_number=77)
    district = UserFactory(role="district", district=place["committee"].subdistrict.district)
    response = Client().post(
        "/api/v1/ledger/checkpoints", content_type="application/json", **_bearer(district)
    )
    assert response.status_code == 409 and response.json()["code"] == "ledger_broken"
    assert not LedgerCheckpoint.objects.exists()
    assert AuditLog.objects.filter(action="ledger.checkpoint").count() == 1


def test_no_checkpoint_yet_is_404():
    assert Client().get("/api/v1/public/ledger/checkpoints/latest").status_code == 404


def test_the_dashboard_button_signs_a_checkpoint(registrations, place, client):
    sub = UserFactory(role="subdistrict", subdistrict=place["committee"].subdistrict)
    client.force_login(sub)
    dashboard = f"/public/staff/rounds/{place['round'].pk}/dashboard/"
    page = client.get(dashboard).content.decode()
    assert 'action="/public/staff/ledger/checkpoints/"' in page
    response = client.post("/public/staff/ledger/checkpoints/", {"next": dashboard})
    assert response.status_code == 302 and response["Location"] == dashboard
    assert LedgerCheckpoint.objects.get().created_by == sub
    assert "账本检查点已签名" in client.get(dashboard).content.decode()


def test_committee_staff_see_no_button_and_are_refused(registrations, place, client):
    staff = UserFactory(role="committee", committee=place["committee"])
    client.force_login(staff)
    page = client.get(f"/public/staff/rounds/{place['round'].pk}/dashboard/").content.decode()
    assert "/public/staff/ledger/checkpoints/" not in page
    assert client.post("/public/staff/ledger/checkpoints/").status_code == 403
    assert not LedgerCheckpoint.objects.exists()


def test_the_public_round_page_shows_the_ledger_key(registrations, place):
    key = ledger_key_info()
    html = Client().get(f"/public/rounds/{place['round'].pk}/").content.decode()
    assert key["public_key"] in html and key["fingerprint"] in html


def test_the_poster_shows_the_ledger_key(registrations, place, monkeypatch):
    drawn: list[str] = []
    original = Canvas.drawString

    def spy(self, x, y, text, *args, **kwargs):
        drawn.append(str(text))
        return original(self, x, y, text, *args, **kwargs)

    monkeypatch.setattr(Canvas, "drawString", spy)
    response = Client().get(f"/public/rounds/{place['round'].pk}/committees/KJ01/poster.pdf")
    assert response.status_code == 200
    key = ledger_key_info()
    assert key["public_key"] in drawn and key["fingerprint"] in drawn


def test_the_ledger_key_is_kept_across_loads_and_taken_from_the_setting(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.FAIRSHARE_LEDGER_KEY = ""
    generated = ledger_key_info()["public_key"]
    assert (tmp_path / "ledger_signing_key").stat().st_mode & 0o777 == 0o600
    assert ledger_key_info()["public_key"] == generated
    given = Ed25519PrivateKey.generate()
    settings.FAIRSHARE_LEDGER_KEY = b64url(given.private_bytes_raw())
    assert ledger_key_info()["public_key"] == public_key_b64(given) != generated


def _doc_snippet() -> dict:
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ledger.md").read_text()
    section = doc.split("## Signed checkpoints", 1)[1]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict = {}
    exec(compile(code, "ledger.md", "exec"), namespace)
    return namespace


def test_the_documented_python_check_passes_and_fails_on_tampering(registrations, place):
    from cryptography.exceptions import InvalidSignature

    check = _doc_snippet()["check_checkpoint"]
    checkpoint_take(actor=None)
    export = json.loads(json.dumps(_export(place)))
    key = ledger_key_info()["public_key"]
    assert check(export, key) is True
    rewritten = json.loads(json.dumps(export))
    rewritten["links"][2]["hash"] = "0" * 64  # the signed head (the chain verifier: the rest)
    assert check(rewritten, key) is False
    forged = json.loads(json.dumps(export))
    forged["checkpoint"]["statement"] = forged["checkpoint"]["statement"].replace(
        '"links":3', '"links":1'
    )
    with pytest.raises(InvalidSignature):
        check(forged, key)
