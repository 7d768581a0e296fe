"""The personal-data purge, proven complete by a scan.

Households register through every channel (online API with an SMS code and an
Idempotency-Key, desk page, phone batch, photo page with a real PNG, staff API), one
registration is voided with a note holding a name, a phone and an ID number (the note
also goes into the audit log), a voucher is bought by the committee and handed over to a
named neighbour; the file SMS backend writes under the data folder. Then the round is
closed, ``purge_personal_data`` runs, and every known name, phone (in its written and
normalised forms) and ID number, raw and as any unkeyed hash, is looked for in

1. every text/char/JSON/binary column of every table, the list read from the database's
   own catalogue (a new table is covered without editing this test);
2. on SQLite, the raw bytes of the database file and its -wal/-shm files;
3. every file under FAIRSHARE_DATA_DIR and the log files the service writes.

The one exclusion is the standing roster (``community_member.name`` and ``id_hash``): it
is the subdistrict's list of residents, kept between rounds, not a round's data (and
the test's roster holds none of the known values anyway; its id_hash is keyed).

``test_scan_finds_what_a_disabled_step_leaves`` is the negative control: with one purge
step switched off, the scan reports that step's table.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import zlib
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from stdnum.cn import ric

from fairshare.accounts import purge as accounts_purge
from fairshare.accounts.models import ApiToken
from fairshare.accounts.pii import id_number_hash
from fairshare.allocation.tokens import code_display
from fairshare.core.models import IdempotencyRecord, OutboxMessage
from fairshare.core.outbox import outbox_drain
from fairshare.core.sms import sms_log_purge, sms_render
from fairshare.pharmacy.models import Handover
from fairshare.registration.models import PhoneCode, Registration, RegistrationPhoto
from fairshare.rounds.models import Round
from tests.factories import (
    BuildingFactory,
    CommitteeFactory,
    HouseholdFactory,
    MemberFactory,
    RoundFactory,
    UserFactory,
    VoucherFactory,
)

ID_BASE = "11010519491231002"
ID_NUMBER = ID_BASE + ric.calc_check_digit(ID_BASE + "0")  # (ignores the last digit)
PASSPORT = "E98765432"
# (name, phone as typed) per channel; phones in several written forms.
PEOPLE = {
    "api": ("欧阳琪蔓", "13907712301"),
    "desk": ("司徒砚秋", "139 0771 2302"),
    "batch": ("上官雪棠", "+86 139-0771-2303"),
    "photo": ("慕容青梧", "13907712304"),
    "staff_api": ("皇甫澜汐", "8613907712305"),
    "voided": ("东方霁月", "13907712306"),
}
RECIPIENT = "公孙若岚"
NOTE_NAME, NOTE_PHONE = "令狐霄汉", "13907712399"
VOID_NOTE = f"冒名登记，真实户主{NOTE_NAME}电话{NOTE_PHONE}身份证{ID_NUMBER}护照{PASSPORT}"
# The roster: the only table the scan skips, and why (see the module docstring).
ROSTER_EXCLUDED = {("community_member", "name"), ("community_member", "id_hash")}


def _png(text: str) -> bytes:
    """A real 1×1 PNG whose tEXt chunk holds ``text`` (as a photo of an ID would)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00" + text.encode())
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def _phone_forms(typed: str) -> set[str]:
    digits = re.sub(r"\D", "", typed)[-11:]
    return {
        typed,
        digits,
        "+86" + digits,
        "86" + digits,
        f"{digits[:3]} {digits[3:7]} {digits[7:]}",
        f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
    }


def _needles() -> dict[str, set[str]]:
    """Each known value → the strings that must not appear anywhere."""
    raw: dict[str, set[str]] = {}
    for name, phone in [*PEOPLE.values(), (NOTE_NAME, NOTE_PHONE)]:
        raw[name] = {name}
        raw[phone] = _phone_forms(phone)
    raw[RECIPIENT] = {RECIPIENT}
    raw[ID_NUMBER] = {ID_NUMBER, ID_NUMBER.lower()}
    raw[PASSPORT] = {PASSPORT, "P:" + PASSPORT}
    needles: dict[str, set[str]] = {}
    for label, forms in raw.items():
        found = set(forms)
        for form in forms:
            escaped = json.dumps(form)[1:-1]  # JSON text with \\uXXXX escapes
            found |= {escaped, escaped.upper().replace("\\U", "\\u")}
            for algorithm in ("md5", "sha1", "sha256", "sha512"):
                digest = hashlib.new(algorithm, form.encode()).hexdigest()
                found |= {digest, digest.upper()}
        needles[label] = found
    return needles


def _hits_in(text: str, needles: dict[str, set[str]]) -> set[str]:
    return {label for label, forms in needles.items() if any(f in text for f in forms)}


def _columns() -> list[tuple[str, str]]:
    """(table, column) of every text-like or binary column, from the catalogue."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = [row[0] for row in cursor.fetchall()]
            found = []
            for table in tables:
                cursor.execute(f'PRAGMA table_info("{table}")')
                for _cid, column, kind, *_rest in cursor.fetchall():
                    kind = (kind or "").upper()
                    if not kind or any(t in kind for t in ("CHAR", "TEXT", "CLOB", "BLOB", "JSON")):
                        found.append((table, column))
            return found
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'bytea')"
        )
        return [(table, column) for table, column in cursor.fetchall()]


def _database_hits(needles: dict[str, set[str]]) -> set[tuple[str, str]]:
    hits = set()
    columns = _columns()
    assert ("registration_registration", "name") in columns  # the catalogue was read
    with connection.cursor() as cursor:
        for table, column in columns:
            if (table, column) in ROSTER_EXCLUDED:
                continue
            cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
            for (value,) in cursor.fetchall():
                if isinstance(value, memoryview | bytes):
                    text = bytes(value).decode("utf-8", "replace")
                else:
                    text = value if isinstance(value, str) else json.dumps(value)
                hits |= {(f"{table}.{column}", label) for label in _hits_in(text, needles)}
    return hits


def _file_hits(paths: list[Path], needles: dict[str, set[str]]) -> set[tuple[str, str]]:
    hits = set()
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        for label, forms in needles.items():
            if any(form.encode() in data for form in forms):
                hits.add((str(path), label))
    return hits


def _service_files() -> list[Path]:
    """Every file under the data folder, the SQLite files and the configured log files."""
    paths = [p for p in Path(settings.DATA_DIR).rglob("*") if p.is_file()]
    if connection.vendor == "sqlite":
        name = Path(connection.settings_dict["NAME"])
        paths += [name, Path(f"{name}-wal"), Path(f"{name}-shm")]
    for handler in settings.LOGGING.get("handlers", {}).values():
        if handler.get("filename"):
            paths.append(Path(handler["filename"]))
    return paths


def _bearer(user) -> dict[str, str]:
    raw = ApiToken.new_raw()
    ApiToken.objects.create(user=user, token_hash=ApiToken.hash(raw))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _register_everywhere() -> dict:
    """Registrations through every channel, a void, a hand-over; returns the world."""
    committee = CommitteeFactory(code="PG01")
    building = BuildingFactory(committee=committee, label="12")
    homes = {
        key: HouseholdFactory(building=building, room=f"30{i}") for i, key in enumerate(PEOPLE)
    }
    for home in homes.values():
        MemberFactory(household=home, name="花名册成员")  # roster names: not the known ones
    MemberFactory(household=homes["api"], name="持证人", id_hash=id_number_hash(ID_NUMBER))
    round_ = RoundFactory(district=committee.subdistrict.district, phone_verification=True)
    staff = UserFactory(role="committee", committee=committee)
    anon, desk = Client(), Client()
    desk.force_login(staff)
    entry = f"/r/{round_.pk}/{committee.code}/"

    name, phone = PEOPLE["api"]
    form = {"building": building.pk, "room": homes["api"].pk, "name": name, "phone": phone}
    assert anon.post(entry, {**form, "action": "send_code"}).status_code == 200
    text = sms_render(OutboxMessage.objects.get(household__isnull=True).payload)
    code = re.search(r"\d{6}", text).group(0)
    body = {"committee": committee.code, "building": "12", "room": homes["api"].room}
    body |= {"name": name, "phone": phone, "sms_code": code}
    api_url = f"/api/v1/rounds/{round_.pk}/registrations"
    for _ in range(2):  # a retry with the same key answers the stored record
        answer = anon.post(
            api_url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="i-1"
        )
        assert answer.status_code == 201, answer.content

    name, phone = PEOPLE["desk"]
    page = desk.post(
        f"/r/desk/{round_.pk}/{committee.code}/",
        {"household": homes["desk"].pk, "name": name, "phone": phone, "channel": "desk"},
    )
    assert page.status_code == 302, page.content.decode()[:300]

    name, phone = PEOPLE["batch"]
    sheet_time = timezone.localtime().strftime("%H:%M")  # inside the registration window
    row = f"12-{homes['batch'].room}，{name}，{phone}，{sheet_time}"
    page = desk.post(
        f"/r/desk/{round_.pk}/{committee.code}/batch/", {"channel": "phone", "rows": row}
    )
    assert Registration.objects.filter(channel="phone").exists(), page.content.decode()[-1500:]

    name, phone = PEOPLE["photo"]
    upload = io.BytesIO(_png(f"{name} {phone} {ID_NUMBER}"))
    upload.name = "id.png"
    form = {"building": building.pk, "room": homes["photo"].pk, "name": name, "phone": phone}
    # The round asks for the SMS code, so the resident photo channel does too.
    assert anon.post(entry + "photo/", {**form, "action": "send_code"}).status_code == 200
    sent = OutboxMessage.objects.filter(household__isnull=True).latest("id")
    form["sms_code"] = re.search(r"\d{6}", sms_render(sent.payload)).group(0)
    assert anon.post(entry + "photo/", {**form, "photo": upload}).status_code == 302

    bearer = _bearer(staff)
    for key in ("staff_api", "voided"):
        name, phone = PEOPLE[key]
        body = {"committee": committee.code, "building": "12", "room": homes[key].room}
        body |= {"name": name, "phone": phone, "channel": "desk"}
        answer = anon.post(
            api_url,
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"s-{key}",
            **bearer,
        )
        assert answer.status_code == 201, answer.content

    voided = Registration.objects.get(household=homes["voided"])
    page = desk.post(f"/r/review/{voided.pk}/void/", {"reason": "other", "note": VOID_NOTE})
    assert page.status_code == 302

    bought = VoucherFactory(registration=Registration.objects.get(household=homes["desk"]))
    proxy = anon.post(
        f"/api/v1/committees/{committee.code}/proxy-purchases",
        {"codes": [code_display(bought.code)]},
        content_type="application/json",
        **bearer,
    )
    assert proxy.status_code == 200 and proxy.json()["redeemed"] == 1
    handed = anon.post(
        f"/api/v1/vouchers/{bought.code}/handover",
        {"recipient_name": RECIPIENT},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="h-1",
        **bearer,
    )
    assert handed.status_code == 200, handed.content
    outbox_drain(limit=1000)  # the file backend writes every SMS to sms.log
    return {"round": round_, "photo": RegistrationPhoto.objects.get()}


@pytest.fixture
def world(settings, transactional_db):
    settings.SMS_BACKEND = "file"
    cache.clear()  # rate-limit counters of earlier tests (the database cache outlives flush)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert Path(settings.SMS_FILE_PATH).is_relative_to(settings.DATA_DIR)
    assert Path(settings.PRIVATE_MEDIA_ROOT).is_relative_to(settings.DATA_DIR)
    world = _register_everywhere()
    Round.objects.filter(pk=world["round"].pk).update(status=Round.Status.CLOSED)
    yield world
    # What a negative control left must not reach the next test's scan.
    world["photo"].file.storage.delete(world["photo"].file.name)
    sms_log_purge(start=world["round"].registration_opens_at, end=timezone.now() + timedelta(1))


def _scan() -> set[tuple[str, str]]:
    needles = _needles()
    return _database_hits(needles) | _file_hits(_service_files(), needles)


def test_purge_leaves_no_known_name_phone_or_id_anywhere(world):
    round_, photo = world["round"], world["photo"]
    photo_file = Path(photo.file.path)
    assert photo_file.is_file() and ID_NUMBER.encode() in photo_file.read_bytes()
    before = _scan()
    # The scan sees the data where it was put (and so can fail).
    for where in ("registration_registration.name", "pharmacy_handover.recipient_name"):
        assert any(w == where for w, _label in before), sorted(before)
    assert any(w.endswith("sms.log") for w, _label in before)
    assert any(w == str(photo_file) for w, _label in before)
    assert PhoneCode.objects.exists() and IdempotencyRecord.objects.count() == 4
    queue = list(Registration.objects.order_by("pk").values_list("queue_number", "status"))

    out = StringIO()
    call_command("purge_personal_data", "--round", str(round_.pk), stdout=out)

    assert "purged 6 registration(s), 1 file(s) deleted" in out.getvalue(), out.getvalue()
    assert not photo_file.exists() and not RegistrationPhoto.objects.exists()
    assert _scan() == set()
    assert queue == list(Registration.objects.order_by("pk").values_list("queue_number", "status"))
    assert Registration.objects.get(status="void").void_reason == "other"
    assert Handover.objects.get().kind == "pickup_point"
    call_command("verify_ledger", stdout=StringIO())  # exits non-zero on a broken link
    if connection.vendor == "sqlite":
        wal = Path(f"{connection.settings_dict['NAME']}-wal")
        assert not wal.exists() or wal.stat().st_size == 0


STEPS = {
    "pharmacy": ("pharmacy_personal_data_purge", "pharmacy_handover.recipient_name"),
    "core": ("core_personal_data_purge", "registration_phonecode.phone"),
    "registration": ("registration_personal_data_purge", "registration_registration.name"),
}


@pytest.mark.parametrize("step", sorted(STEPS))
def test_scan_finds_what_a_disabled_step_leaves(world, monkeypatch, step):
    function, where = STEPS[step]
    kept = [s for s in accounts_purge._steps if s.purge.__name__ != function]
    assert len(kept) == len(accounts_purge._steps) - 1
    monkeypatch.setattr(accounts_purge, "_steps", kept)
    call_command("purge_personal_data", "--round", str(world["round"].pk), stdout=StringIO())
    assert any(w == where for w, _label in _scan())


def test_an_sms_still_waiting_is_given_up_not_sent_after_the_purge(world):
    """A message of the round still pending at the purge (e.g. the SMS worker was down) is
    blanked and failed: it is never sent with a purged round's data."""
    round_ = world["round"]
    name, phone = PEOPLE["api"]
    household_id = Registration.objects.filter(round=round_).values_list("household", flat=True)[0]
    waiting = OutboxMessage.objects.create(
        kind="sms", payload={"phone": phone, "text": f"{name} 请取口罩"}, household_id=household_id
    )
    call_command("purge_personal_data", "--round", str(round_.pk), stdout=StringIO())
    waiting.refresh_from_db()
    assert waiting.status == OutboxMessage.Status.FAILED and waiting.last_error == "purged"
    assert waiting.payload == {"purged": True}
    assert outbox_drain(limit=10).get("sent", 0) == 0  # nothing left to send
    waiting.refresh_from_db()
    assert waiting.status == OutboxMessage.Status.FAILED
    assert _scan() == set()
