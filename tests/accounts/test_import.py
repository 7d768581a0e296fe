"""The roster import (issue 19): XLSX and CSV, Chinese and English headers, all or nothing."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from fairshare.accounts.models import User
from fairshare.accounts.pii import id_number_hash
from fairshare.accounts.roster.errors import ImportRefused
from fairshare.accounts.roster.services import roster_import
from fairshare.community.models import Building, Committee, Household, Member, Pharmacy, Subdistrict
from fairshare.core.models import AuditLog, Job
from tests.accounts import roster_files as rf

pytestmark = pytest.mark.django_db


def _import(*named, **kwargs):
    kwargs.setdefault("district_name", "杨浦区")
    kwargs.setdefault("actor", None)
    return roster_import(files=rf.as_files(*named), **kwargs)


def _refused(*named, **kwargs):
    with pytest.raises(ImportRefused) as caught:
        _import(*named, **kwargs)
    return caught.value.errors.items


def _nothing_written():
    assert not Household.objects.exists()
    assert not Committee.objects.exists()
    assert not Subdistrict.objects.exists()
    assert not User.objects.exists()


def test_workbook_creates_places_households_and_staff():
    result = _import(("roster.xlsx", rf.standard_workbook()))
    sub = Subdistrict.objects.get()
    assert (sub.code, sub.district.name) == ("新华街道", "杨浦区")
    c1 = Committee.objects.get(code="XH01")
    assert (c1.name, c1.phone, c1.desk_hours, c1.pharmacy.code) == (
        "新华一村居委会",
        "021 6501 1234",
        "周一至周五 8:30-17:00",
        "XHP1",
    )
    pharmacy = Pharmacy.objects.get()
    assert (str(pharmacy.opens_at), str(pharmacy.closes_at), pharmacy.customers_per_slot) == (
        "08:30:00",
        "20:00:00",
        12,
    )
    assert Building.objects.get(committee=c1, label="12号").compound == "新华路61弄"
    h1 = Household.objects.get(external_id="H1")
    assert (h1.room, h1.members.count()) == ("301", 2)
    zhang = Member.objects.get(name="张伟")
    assert zhang.id_hash == id_number_hash(rf.IDS[0]) and zhang.phone == "13800138000"
    assert rf.IDS[0] not in str(list(Member.objects.values()))
    wang = Member.objects.get(name="王芳")
    assert wang.lives_alone and wang.mobility_impaired
    assert result.counts["households"]["created"] == 3
    assert result.counts["households"]["members"] == 4
    assert result.counts["committees"]["created"] == 2
    assert AuditLog.objects.filter(action="roster.import").count() == 1


def test_staff_get_roles_scopes_and_a_one_time_password(client):
    result = _import(("roster.xlsx", rf.standard_workbook()))
    desk = User.objects.get(username="xh-desk")
    assert desk.role == "committee" and desk.committee.code == "XH01"
    assert User.objects.get(username="xh-pharm").pharmacy.code == "XHP1"
    office = User.objects.get(username="xh-office")
    assert office.role == "subdistrict" and office.subdistrict.code == "新华街道"
    expires = timezone.localtime(User.objects.get(username="xh-pharm").access_expires_at)
    assert (expires.date().isoformat(), expires.hour) == ("2100-01-01", 0)  # end of 2099-12-31
    passwords = dict(result.passwords)
    assert set(passwords) == {"xh-desk", "xh-pharm", "xh-office"}
    assert desk.password_change_required and desk.check_password(passwords["xh-desk"])
    assert "passwords" not in result.summary()  # the audit log's record has none
    login = client.post(
        "/accounts/login/", {"username": "xh-desk", "password": passwords["xh-desk"]}
    )
    assert login.status_code == 302
    assert client.get("/accounts/")["Location"] == "/accounts/password/"  # to be changed first
    assert _import(("roster.xlsx", rf.standard_workbook())).passwords == []  # once only
    assert _import(("roster.xlsx", rf.standard_workbook()), dry_run=True).passwords == []


def test_english_headers_and_sheet_names():
    _import(("roster.xlsx", rf.standard_workbook(english=True)))
    assert Household.objects.count() == 3


def test_csv_files_recognised_by_headers_gb18030_and_utf8():
    _import(
        ("hh.csv", rf.csv_bytes(rf.HH_ZH, rf.HOUSEHOLDS, encoding="gb18030")),
        (
            "ph.csv",
            rf.csv_bytes(
                rf.PH_EN, [["XHP1", "新华大药房", "新华路1号", "8:30-20:00", "12", "XH01;XH02"]]
            ),
        ),
        ("staff.csv", rf.csv_bytes(rf.ST_ZH, rf.STAFF, encoding="utf-8")),
    )
    assert Household.objects.count() == 3
    assert Committee.objects.get(code="XH02").pharmacy.code == "XHP1"
    assert User.objects.count() == 3


def test_full_width_input_is_normalised():
    rows = [
        [
            "新华街道",
            "ＸＨ０１",
            "６１弄１２号",
            "３０１室",
            "张伟",
            "１１０１０１１９９００３０７４４７７",
            "１３８００１３８０００",
            "否",
            "否",
            "",
            "Ｈ１",
        ]
    ]
    _import(("roster.xlsx", rf.standard_workbook(rows, staff=False)))
    household = Household.objects.get()
    assert (
        household.committee.code,
        household.building.label,
        household.room,
        household.external_id,
    ) == ("XH01", "61弄12号", "301", "H1")
    member = household.members.get()
    assert member.phone == "13800138000" and member.id_hash == id_number_hash(rf.IDS[0])


def test_household_key_under_two_committees_is_refused():
    rows = [*rf.HOUSEHOLDS, ["新华街道", "XH02", "5号", "501", "赵六", "", "", "", "", "", "H1"]]
    errors = _refused(("roster.xlsx", rf.standard_workbook(rows)))
    assert [(e.sheet, e.row, e.column) for e in errors] == [("住户", 6, "户号")]
    _nothing_written()


def test_disagreeing_household_rows_are_refused():
    rows = [list(r) for r in rf.HOUSEHOLDS]
    rows[1][3] = "309"  # 李娜 is in household H1, which row 2 puts in room 301
    errors = _refused(("roster.xlsx", rf.standard_workbook(rows)))
    assert [(e.row, e.column) for e in errors] == [(3, "室号")]
    _nothing_written()


def test_bad_id_number_and_phone_are_per_row_errors():
    rows = [list(r) for r in rf.HOUSEHOLDS]
    rows[0][5] = "110101199003074478"  # wrong checksum
    rows[2][6] = "1234"
    errors = _refused(("roster.xlsx", rf.standard_workbook(rows)))
    assert [(e.row, e.column) for e in errors] == [(2, "证件号"), (4, "手机")]
    assert "身份证" in str(errors[0].message)  # the user's language (zh-hans)
    _nothing_written()


def test_errors_name_the_header_as_written_english():
    rows = [list(r) for r in rf.HOUSEHOLDS]
    rows[0][7] = "maybe"
    errors = _refused(("roster.xlsx", rf.standard_workbook(rows, english=True)))
    assert [(e.sheet, e.row, e.column) for e in errors] == [("households", 2, "lives_alone")]


def test_unknown_header_missing_column_and_formula_are_refused():
    book = rf.workbook(
        {"住户": (["居委会", "楼栋", "室号", "颜色"], [["XH01", "1号", "101", "=1+1"]])}
    )
    errors = _refused(("roster.xlsx", book))
    messages = {(e.row, e.column) for e in errors}
    assert (1, "颜色") in messages and (1, "姓名/name") in messages
    assert any(e.row == 2 for e in errors)  # the formula cell
    _nothing_written()


def test_committee_without_pharmacy_is_refused():
    rows = [*rf.HOUSEHOLDS, ["新华街道", "XH09", "1号", "101", "孙七", "", "", "", "", "", ""]]
    errors = _refused(("roster.xlsx", rf.standard_workbook(rows)))
    assert any("XH09" in str(e.message) for e in errors)
    _nothing_written()


def test_reimport_is_idempotent_and_updates_changed_rows():
    book = rf.standard_workbook()
    _import(("roster.xlsx", book))
    ids = dict(Household.objects.values_list("external_id", "pk"))
    members = list(Member.objects.values_list("pk", flat=True))
    again = _import(("roster.xlsx", book))
    assert again.counts["households"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "deactivated": 0,
        "members": 4,
        "buildings_created": 0,
    }
    assert again.counts["staff"]["unchanged"] == 3
    assert again.counts["committees"]["unchanged"] == 2
    assert list(Member.objects.values_list("pk", flat=True)) == members
    rows = [list(r) for r in rf.HOUSEHOLDS if r[10] != "H2"]  # H2 left
    rows[2][3] = "102"  # H3's room renamed
    changed = _import(("roster.xlsx", rf.standard_workbook(rows)))
    assert changed.counts["households"]["updated"] == 1
    assert changed.counts["households"]["unchanged"] == 1
    assert changed.counts["households"]["deactivated"] == 1
    h3 = Household.objects.get(external_id="H3")
    assert h3.pk == ids["H3"] and h3.room == "102"
    assert not Household.objects.get(external_id="H2").active  # kept, marked inactive


def test_dry_run_writes_nothing_but_counts():
    result = _import(("roster.xlsx", rf.standard_workbook()), dry_run=True)
    assert result.counts["households"]["created"] == 3
    assert result.counts["staff"]["created"] == 3
    _nothing_written()


@pytest.fixture
def office():
    from tests.factories import SubdistrictFactory, UserFactory

    sub = SubdistrictFactory(code="XHJD", name="新华街道")
    user = UserFactory(role="subdistrict", subdistrict=sub)
    return sub, user


def _upload(client, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("roster.xlsx", data)
    return client.post("/accounts/import/", {"action": "check", "upload": [upload]})


def _run_jobs():
    """What the outbox worker does: run the queued jobs, here and now."""
    from fairshare.core.outbox import outbox_drain

    return outbox_drain()


def _job_page(client, answer):
    assert answer.status_code == 302, answer.content[:2000]
    queued = client.get(answer["Location"])
    assert queued.status_code == 200 and b'data-state="queued"' in queued.content
    assert b'http-equiv="refresh"' in queued.content  # polls until the job ends
    _run_jobs()
    return client.get(answer["Location"])


def test_page_checks_then_confirms_within_the_own_subdistrict(client, office):
    sub, user = office
    client.force_login(user)
    preview = _job_page(client, _upload(client, rf.standard_workbook()))
    assert preview.status_code == 200 and preview.context["status"]["state"] == "done"
    assert b'http-equiv="refresh"' not in preview.content
    assert not Household.objects.exists()  # the check writes nothing
    job = preview.context["job"].pk
    status = client.get(f"/accounts/import/jobs/{job}/status/").json()
    assert status["state"] == "done" and status["percent"] == 100
    done = _job_page(client, client.post("/accounts/import/", {"action": "confirm", "job": job}))
    assert done.context["status"]["state"] == "done" and not done.context["dry_run"]
    assert Household.objects.filter(committee__subdistrict=sub).count() == 3
    shown = dict(done.context["passwords"])  # shown once (tests/accounts/test_import_passwords.py)
    assert set(shown) == {"xh-desk", "xh-pharm", "xh-office"}
    later = client.get(f"/accounts/import/jobs/{done.context['job'].pk}/")
    assert later.context["passwords"] == []
    entry = AuditLog.objects.get(action="roster.import")
    assert entry.actor_id == user.pk and entry.subdistrict_id == sub.pk
    again = client.post("/accounts/import/", {"action": "confirm", "job": job})
    assert again.status_code == 422  # the upload is gone after the import


def test_page_refuses_another_subdistrict_and_shows_errors(client, office):
    from tests.factories import SubdistrictFactory

    _sub, user = office
    SubdistrictFactory(code="OTHER", name="别的街道")
    rows = [["别的街道", *r[1:]] for r in rf.HOUSEHOLDS]
    client.force_login(user)
    answer = _job_page(client, _upload(client, rf.standard_workbook(rows)))
    assert answer.context["status"]["state"] == "failed"
    assert answer.context["errors"][0]["column"] == "街道"
    assert not Household.objects.exists() and not Committee.objects.exists()


def test_job_pages_are_the_uploaders_own(client, office):
    from tests.factories import UserFactory

    sub, user = office
    client.force_login(user)
    location = _upload(client, rf.standard_workbook())["Location"]
    client.force_login(UserFactory(role="subdistrict", subdistrict=sub))
    assert client.get(location).status_code == 404
    assert client.get(location + "status/").status_code == 404


def test_oversized_upload_is_refused_with_the_limit(client, office, monkeypatch):
    from fairshare.accounts.roster import views

    monkeypatch.setattr(views, "MAX_UPLOAD_BYTES", 1000)
    client.force_login(office[1])
    answer = _upload(client, rf.standard_workbook())
    assert answer.status_code == 422
    assert not Job.objects.exists()


def test_page_refuses_committee_staff(client):
    from tests.factories import CommitteeFactory, UserFactory

    user = UserFactory(role="committee", committee=CommitteeFactory())
    client.force_login(user)
    assert client.get("/accounts/import/").status_code == 403
    assert _upload(client, rf.standard_workbook()).status_code == 403
    assert not Household.objects.filter(external_id="H1").exists()


def test_roster_template_reads_back_without_error(tmp_path):
    from django.core.management import call_command
    from openpyxl import load_workbook

    out = tmp_path / "template.xlsx"
    call_command("roster_template", str(out), stdout=io.StringIO())
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["说明", "住户", "居委会", "药店", "人员"]
    headers = [c.value for c in next(book["住户"].iter_rows(max_row=1))]
    assert headers[:5] == ["街道", "居委会", "楼栋", "室号", "姓名"]
    book.close()
    with out.open("rb") as handle:
        result = roster_import(
            files=[("template.xlsx", handle)], actor=None, district_name="杨浦区"
        )
    assert result.counts["households"]["created"] == 0
    _nothing_written()


def _snapshot():
    households = {
        h["external_id"]: h
        for h in Household.objects.values(
            "pk", "external_id", "committee_id", "building_id", "room", "active"
        )
    }
    members = sorted(Member.objects.values_list("pk", "household_id", "name", "id_hash", "phone"))
    return households, members


def test_reimport_changes_exactly_the_removed_and_renamed_households(tmp_path):
    """Done-when of issue 19: one household removed, one room renamed (same 户号), through
    the command; every other row stays as it was and the registrations stay attached."""
    from django.core.management import call_command

    from tests.factories import RegistrationFactory

    first = tmp_path / "roster.xlsx"
    first.write_bytes(rf.standard_workbook())
    call_command(
        "import_roster",
        str(first),
        "--district",
        "杨浦区",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    h2, h3 = Household.objects.get(external_id="H2"), Household.objects.get(external_id="H3")
    renamed = RegistrationFactory(household=h3)
    left = RegistrationFactory(household=h2, round=renamed.round)
    before_households, before_members = _snapshot()
    rows = [list(r) for r in rf.HOUSEHOLDS if r[10] != "H2"]  # H2 left
    rows[2][3] = "102"  # H3's room renamed
    second = tmp_path / "roster2.xlsx"
    second.write_bytes(rf.standard_workbook(rows))
    err = io.StringIO()
    call_command("import_roster", str(second), stdout=io.StringIO(), stderr=err)
    after_households, after_members = _snapshot()
    changed = {k for k in before_households if before_households[k] != after_households.get(k)}
    assert changed == {"H2", "H3"}, err.getvalue()
    assert after_households["H3"] == {**before_households["H3"], "room": "102"}
    assert after_households["H2"] == {**before_households["H2"], "active": False}
    assert set(after_households) == set(before_households)  # nothing created or deleted
    assert after_members == before_members  # no member row rewritten
    renamed.refresh_from_db()
    left.refresh_from_db()
    assert renamed.household_id == h3.pk and renamed.household.room == "102"
    assert left.household_id == h2.pk  # the household that left is kept for its registration
